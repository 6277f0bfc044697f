//! The clients: random string, key and expiry commands on a few keys, alone or pipelined, each recorded
//! in the history as an invocation and a completion.
//!
//! A client connects (retrying while the server is down), then sends batches of 1 to 5 commands: most
//! batches hold one command, the rest are pipelines written with one flush. Every command is recorded as
//! invoked just before the batch is sent, and completed when its reply arrives. When a reply does not
//! come within [`REPLY_TIMEOUT`] or the connection breaks, the batch's unanswered commands are recorded
//! as `info` (they may or may not have run, now or later: a clogged link delivers late), and the client
//! reconnects as a new process. A client node killed by the nemesis leaves its in-flight commands with no
//! completion at all, which the checker treats the same way; when the node restarts, the client carries on
//! with the operations it had left, under a new process number.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use keel_jepsen::{Op, OpKind, Value};
use madsim::rand::{thread_rng, Rng};

use crate::resp::{encode, Conn};
use crate::{now_us, server_addr, Shared};

/// How long a client waits for a reply before giving up on its connection.
pub const REPLY_TIMEOUT: Duration = Duration::from_millis(1000);

/// A random operation on one of `keys` keys.
pub fn random_op(keys: usize, shared: &Shared) -> Op {
    let mut rng = thread_rng();
    let key = format!("k{}", rng.gen_range(0..keys)).into_bytes();
    let unique = shared.next_value.fetch_add(1, Ordering::SeqCst);
    // Integers keep INCR succeeding; strings make it fail; both are unique so a stale read shows.
    let value = if rng.gen_bool(0.6) {
        unique.to_string().into_bytes()
    } else {
        format!("s{unique}").into_bytes()
    };
    let kind = match rng.gen_range(0..100) {
        0..=29 => OpKind::Get,
        30..=49 => OpKind::Set { value, px_ms: None },
        50..=57 => OpKind::Set {
            value,
            px_ms: Some(rng.gen_range(5..300)),
        },
        58..=72 => OpKind::Incr,
        73..=78 => OpKind::Del,
        79..=86 => OpKind::Append(if rng.gen_bool(0.5) {
            b"7".to_vec()
        } else {
            b"x".to_vec()
        }),
        87..=89 => OpKind::Expire(1),
        _ => OpKind::PExpire(rng.gen_range(5..300)),
    };
    Op { key, kind }
}

/// Client `index`'s main task (the node's init, run again after each restart).
pub async fn client(index: usize, shared: Arc<Shared>) {
    let remaining = &shared.remaining[index];
    while remaining.load(Ordering::SeqCst) > 0 {
        let mut conn = match Conn::connect(server_addr()).await {
            Ok(c) => c,
            Err(_) => {
                madsim::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let process = shared.next_process.fetch_add(1, Ordering::SeqCst);
        while remaining.load(Ordering::SeqCst) > 0 {
            let left = remaining.load(Ordering::SeqCst);
            let size = if thread_rng().gen_bool(0.7) {
                1
            } else {
                thread_rng().gen_range(2..=5)
            }
            .min(left);
            let ops: Vec<Op> = (0..size).map(|_| random_op(shared.config.keys, &shared)).collect();
            let ok = run_batch(&mut conn, process, ops, &shared).await;
            // Counted once the batch is over, so the run does not end with commands in flight (a client
            // killed mid-batch issues that many again after its restart).
            remaining.fetch_sub(size, Ordering::SeqCst);
            if !ok {
                break;
            }
            let pause = thread_rng().gen_range(0..20);
            madsim::time::sleep(Duration::from_millis(pause)).await;
        }
    }
}

/// Sends one batch and records it. Returns false when the connection must be abandoned.
async fn run_batch(conn: &mut Conn, process: u64, ops: Vec<Op>, shared: &Shared) -> bool {
    let mut bytes = Vec::new();
    {
        let mut history = shared.history();
        let now = now_us();
        for op in &ops {
            encode(&op.to_command(), &mut bytes);
            history.invoke(now, process, op.clone());
        }
    }
    let mut answered = 0;
    if conn.send(&bytes).await.is_ok() {
        while answered < ops.len() {
            match tokio::time::timeout(REPLY_TIMEOUT, conn.read()).await {
                Ok(Ok(value)) => {
                    record_reply(shared, process, value);
                    answered += 1;
                }
                _ => break,
            }
        }
    }
    if answered == ops.len() {
        return true;
    }
    let mut history = shared.history();
    let now = now_us();
    for _ in answered..ops.len() {
        history.info(now, process);
    }
    false
}

fn record_reply(shared: &Shared, process: u64, value: Value) {
    shared.history().ok(now_us(), process, value);
}
