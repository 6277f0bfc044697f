//! The clients and what they send: workloads of random commands on a few keys, alone, pipelined, or in
//! MULTI/EXEC transactions (optionally guarded by WATCH), each recorded in the history as an invocation
//! and a completion. Never injects faults (that is [`crate::faults`]) and never judges a history.
//!
//! A [`Workload`] only decides *what* to send: each call to [`Workload::batch`] returns the [`Step`]s a
//! client writes at once. The client loop ([`client`]) owns the connection and the recording: it
//! connects (retrying while the server is down), sends each batch with one flush, and records every step
//! as invoked just before the batch is sent and completed when its reply arrives. When a reply does not
//! come within [`REPLY_TIMEOUT`] or the connection breaks, the batch's unanswered steps are recorded as
//! `info` (they may or may not have run, now or later: a clogged link delivers late), and the client
//! reconnects as a new process. A client node killed by the nemesis leaves its in-flight steps with no
//! completion at all, which the checker treats the same way; when the node restarts, the client carries
//! on with the steps it had left, under a new process number.
//!
//! New kinds of checks (for instance durability once keel persists data) plug in as further
//! [`Workload`]s; the recording, faults and checking stay as they are.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use keel_jepsen::{Command, Op, OpKind, Txn, Value};
use madsim::rand::{thread_rng, Rng};

use crate::resp::{encode, Conn};
use crate::{now_us, server_addr, Shared};

/// How long a client waits for a reply before giving up on its connection.
pub const REPLY_TIMEOUT: Duration = Duration::from_millis(1000);

/// What a client sends as one unit of a batch.
#[derive(Clone, Debug)]
pub enum Step {
    /// One command.
    One(Command),
    /// MULTI, the commands, EXEC: recorded as one operation.
    Multi(Vec<Command>),
    /// WATCH the keys of `reads`, send `reads` (each recorded as its own operation), then MULTI,
    /// `commands`, EXEC, recorded as one operation guarded by the reads' replies. Always alone in its
    /// batch, since the transaction is sent only once the reads are answered.
    Watch {
        reads: Vec<Command>,
        commands: Vec<Command>,
    },
}

/// A source of random batches.
pub trait Workload: Send + Sync {
    /// A short name for reports.
    fn name(&self) -> &'static str;
    /// The next batch: one or more steps, written together (a [`Step::Watch`] is always alone).
    fn batch(&self, shared: &Shared) -> Vec<Step>;
}

/// GET/SET [PX]/INCR/DEL/APPEND/EXPIRE/PEXPIRE on string keys `k0`, `k1`, ...
pub struct Strings {
    pub keys: usize,
}

/// Lists, hashes, sets and sorted sets: `keys_per_type` keys of each (`l0`, `h0`, `s0`, `z0`, ...), and
/// now and then a command of one type on a key of another (WRONGTYPE).
pub struct Types {
    pub keys_per_type: usize,
}

/// Every type on a handful of keys, with MULTI/EXEC transactions over several keys and WATCH-guarded
/// read-modify-write transactions.
///
/// The keys form two groups, `k0 l0 h0` and `k1 s0 z0`, and a transaction stays within one: the checker
/// must search each connected key group as a whole, and its search grows exponentially with the number
/// of concurrent and indeterminate operations in a group, so two groups of three keys keep it to well
/// under a second where one group of six could take minutes. No TTLs here either (the strings workload covers expiry): transactions join all keys into one group that
/// the checker searches as a whole, and an indeterminate PEXPIRE leaves a deadline known only to lie
/// somewhere in an unbounded interval, so every later command on that key could see it alive or
/// expired, which multiplies with the interleavings of every other key's commands. It also means a
/// watched key never expires between its read and the EXEC.
pub struct Transactions;

/// Batch sizes: mostly one step, otherwise a pipeline of 2 to `max`.
fn batch_size(max: usize) -> usize {
    if thread_rng().gen_bool(0.7) {
        1
    } else {
        thread_rng().gen_range(2..=max)
    }
}

impl Workload for Strings {
    fn name(&self) -> &'static str {
        "strings"
    }

    fn batch(&self, shared: &Shared) -> Vec<Step> {
        (0..batch_size(5))
            .map(|_| {
                let key = format!("k{}", thread_rng().gen_range(0..self.keys));
                Step::One(string_command(key, shared, true))
            })
            .collect()
    }
}

impl Workload for Types {
    fn name(&self) -> &'static str {
        "types"
    }

    fn batch(&self, shared: &Shared) -> Vec<Step> {
        (0..batch_size(5))
            .map(|_| {
                let mut rng = thread_rng();
                let family = ['l', 'h', 's', 'z'][rng.gen_range(0..4)];
                let key = format!("{family}{}", rng.gen_range(0..self.keys_per_type));
                // 3%: a command of another type on this key.
                let as_family = if rng.gen_range(0..100) < 3 {
                    ['k', 'l', 'h', 's', 'z'][rng.gen_range(0..5)]
                } else {
                    family
                };
                // TTLs only on string keys.
                let ttl = key.starts_with('k');
                Step::One(command_for(as_family, key, shared, ttl))
            })
            .collect()
    }
}

/// The key groups of [`Transactions`]; the first key of each is a string, the others may be watched.
const TXN_GROUPS: [[&str; 3]; 2] = [["k0", "l0", "h0"], ["k1", "s0", "z0"]];

impl Workload for Transactions {
    fn name(&self) -> &'static str {
        "transactions"
    }

    fn batch(&self, shared: &Shared) -> Vec<Step> {
        let mut rng = thread_rng();
        let random_command = |group: &[&str; 3], shared: &Shared| {
            let key = group[thread_rng().gen_range(0..group.len())];
            command_for(key.as_bytes()[0] as char, key.to_string(), shared, false)
        };
        let group = &TXN_GROUPS[rng.gen_range(0..TXN_GROUPS.len())];
        if rng.gen_range(0..100) < 15 {
            let watchable = &group[1..];
            let mut watched: Vec<&str> = vec![watchable[rng.gen_range(0..watchable.len())]];
            if rng.gen_bool(0.4) {
                watched = watchable.to_vec();
            }
            let reads = watched
                .iter()
                .map(|k| read_command(k.as_bytes()[0] as char, k.to_string()))
                .collect();
            // Writes on the watched keys, and sometimes on another key of the group.
            let mut commands: Vec<Command> = (0..rng.gen_range(1..=2))
                .map(|_| {
                    let k = watched[thread_rng().gen_range(0..watched.len())];
                    write_command(k.as_bytes()[0] as char, k.to_string(), shared)
                })
                .collect();
            if rng.gen_bool(0.5) {
                commands.push(random_command(group, shared));
            }
            return vec![Step::Watch { reads, commands }];
        }
        (0..batch_size(3))
            .map(|_| {
                let group = &TXN_GROUPS[thread_rng().gen_range(0..TXN_GROUPS.len())];
                if thread_rng().gen_range(0..100) < 35 {
                    let n = thread_rng().gen_range(2..=3);
                    Step::Multi((0..n).map(|_| random_command(group, shared)).collect())
                } else {
                    Step::One(random_command(group, shared))
                }
            })
            .collect()
    }
}

/// A fresh value no other command writes, so that a stale read shows.
fn unique(shared: &Shared) -> u64 {
    shared.next_value.fetch_add(1, Ordering::SeqCst)
}

/// A random command of the type `family` stands for (`k` string, `l` list, `h` hash, `s` set, `z`
/// sorted set) on `key`; string commands set TTLs only with `ttl`.
fn command_for(family: char, key: String, shared: &Shared, ttl: bool) -> Command {
    match family {
        'k' => string_command(key, shared, ttl),
        f if thread_rng().gen_range(0..100) < 40 => read_command(f, key),
        f => write_command(f, key, shared),
    }
}

/// A random string or key command; with `ttl`, also SET PX, EXPIRE and PEXPIRE.
fn string_command(key: String, shared: &Shared, ttl: bool) -> Command {
    let mut rng = thread_rng();
    let n = unique(shared);
    // Integers keep INCR succeeding; strings make it fail; both are unique so a stale read shows.
    let value = if rng.gen_bool(0.6) {
        n.to_string().into_bytes()
    } else {
        format!("s{n}").into_bytes()
    };
    let kind = match rng.gen_range(0..100) {
        0..=29 => OpKind::Get,
        30..=49 => OpKind::Set { value, px_ms: None },
        50..=57 if ttl => OpKind::Set {
            value,
            px_ms: Some(rng.gen_range(5..300)),
        },
        50..=72 => OpKind::Incr,
        73..=78 => OpKind::Del,
        79..=86 => OpKind::Append(if rng.gen_bool(0.5) {
            b"7".to_vec()
        } else {
            b"x".to_vec()
        }),
        87..=89 if ttl => OpKind::Expire(1),
        90..=99 if ttl => OpKind::PExpire(rng.gen_range(5..300)),
        _ => OpKind::Get,
    };
    Command::new(key, kind)
}

/// A random read-only command of the type `family` stands for.
fn read_command(family: char, key: String) -> Command {
    let mut rng = thread_rng();
    let member = format!("m{}", rng.gen_range(0..5)).into_bytes();
    // Mostly the whole range, sometimes a random window (negative indices included).
    let (start, stop) = if rng.gen_bool(0.6) {
        (0, -1)
    } else {
        (rng.gen_range(-4..3), rng.gen_range(-3..4))
    };
    let kind = match (family, rng.gen_range(0..3)) {
        ('l', 0 | 1) => OpKind::LRange(start, stop),
        ('l', _) => OpKind::LLen,
        ('h', 0) => OpKind::HGet(format!("f{}", rng.gen_range(0..5)).into_bytes()),
        ('h', _) => OpKind::HGetAll,
        ('s', 0) => OpKind::SIsMember(member),
        ('s', 1) => OpKind::SMembers,
        ('s', _) => OpKind::SCard,
        ('z', 0) => OpKind::ZScore(member),
        ('z', 1) => OpKind::ZRangeWithScores(start, stop),
        ('z', _) => OpKind::ZCard,
        _ => OpKind::Get,
    };
    Command::new(key, kind)
}

/// A random command of the type `family` stands for that may change the key.
fn write_command(family: char, key: String, shared: &Shared) -> Command {
    let mut rng = thread_rng();
    let count = if rng.gen_bool(0.7) { 1 } else { 2 };
    let small = |n: u32| thread_rng().gen_range(0..n);
    let kind = match (family, rng.gen_range(0..10)) {
        (_, 0) => OpKind::Del,
        ('l', 1..=2) => OpKind::LPush((0..count).map(|_| unique(shared).to_string().into_bytes()).collect()),
        ('l', 3..=4) => OpKind::RPush((0..count).map(|_| unique(shared).to_string().into_bytes()).collect()),
        ('l', 5..=7) => OpKind::LPop,
        ('l', _) => OpKind::RPop,
        ('h', 1..=4) => OpKind::HSet(
            (0..count)
                .map(|_| {
                    let n = unique(shared);
                    let v = if thread_rng().gen_bool(0.7) {
                        (n % 100).to_string()
                    } else {
                        format!("v{n}")
                    };
                    (format!("f{}", small(5)).into_bytes(), v.into_bytes())
                })
                .collect(),
        ),
        ('h', 5..=6) => OpKind::HDel((0..count).map(|_| format!("f{}", small(5)).into_bytes()).collect()),
        ('h', _) => OpKind::HIncrBy(format!("f{}", small(5)).into_bytes(), rng.gen_range(-3..10)),
        ('s', 1..=5) => OpKind::SAdd((0..count).map(|_| format!("m{}", small(6)).into_bytes()).collect()),
        ('s', _) => OpKind::SRem((0..count).map(|_| format!("m{}", small(6)).into_bytes()).collect()),
        ('z', 1..=4) => OpKind::ZAdd(
            (0..count)
                .map(|_| (thread_rng().gen_range(-5..20), format!("m{}", small(5)).into_bytes()))
                .collect(),
        ),
        ('z', 5..=7) => OpKind::ZIncrBy(rng.gen_range(-3..6), format!("m{}", small(5)).into_bytes()),
        ('z', _) => OpKind::ZRem((0..count).map(|_| format!("m{}", small(5)).into_bytes()).collect()),
        _ => return string_command(key, shared, false),
    };
    Command::new(key, kind)
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
            let mut steps = shared.workload.batch(&shared);
            steps.truncate(left);
            let size = steps.len();
            let ok = match steps.as_slice() {
                [Step::Watch { reads, commands }] => run_watch(&mut conn, process, reads, commands, &shared).await,
                _ => run_batch(&mut conn, process, steps, &shared).await,
            };
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

/// Encodes MULTI, `commands`, EXEC.
fn encode_multi(commands: &[Command], out: &mut Vec<u8>) {
    encode(&[b"MULTI".to_vec()], out);
    for c in commands {
        encode(&c.to_command(), out);
    }
    encode(&[b"EXEC".to_vec()], out);
}

/// Reads one reply, or `None` on timeout or a broken connection.
async fn read_reply(conn: &mut Conn) -> Option<Value> {
    match tokio::time::timeout(REPLY_TIMEOUT, conn.read()).await {
        Ok(Ok(value)) => Some(value),
        _ => None,
    }
}

/// Reads the replies to MULTI, the queued commands and EXEC, and returns EXEC's, normalized. A
/// MULTI or queueing reply other than the expected one becomes an error reply the model never gives,
/// so the checker reports it.
async fn read_exec(conn: &mut Conn, commands: &[Command]) -> Option<Value> {
    let mut problem = None;
    let multi = read_reply(conn).await?;
    if multi != Value::Ok {
        problem = Some(format!("MULTI answered {multi:?}"));
    }
    for _ in commands {
        let queued = read_reply(conn).await?;
        if queued != Value::Status(b"QUEUED".to_vec()) && problem.is_none() {
            problem = Some(format!("a queued command answered {queued:?}"));
        }
    }
    let exec = read_reply(conn).await?;
    if let Some(p) = problem {
        return Some(Value::Err(
            format!("keel-sim: {p}; EXEC answered {exec:?}").into_bytes(),
        ));
    }
    Some(match exec {
        Value::Array(items) if items.len() == commands.len() => {
            Value::Array(commands.iter().zip(items).map(|(c, v)| c.normalize(v)).collect())
        }
        other => other,
    })
}

/// Sends one batch and records it. Returns false when the connection must be abandoned.
async fn run_batch(conn: &mut Conn, process: u64, steps: Vec<Step>, shared: &Shared) -> bool {
    let mut bytes = Vec::new();
    {
        let mut history = shared.history();
        let now = now_us();
        for step in &steps {
            let op = match step {
                Step::One(c) => {
                    encode(&c.to_command(), &mut bytes);
                    Op::One(c.clone())
                }
                Step::Multi(commands) => {
                    encode_multi(commands, &mut bytes);
                    Op::Txn(Txn {
                        guards: Vec::new(),
                        commands: commands.clone(),
                    })
                }
                Step::Watch { .. } => unreachable!("a WATCH step is sent by run_watch"),
            };
            history.invoke(now, process, op);
        }
    }
    let mut answered = 0;
    if conn.send(&bytes).await.is_ok() {
        for step in &steps {
            let reply = match step {
                Step::One(c) => read_reply(conn).await.map(|v| c.normalize(v)),
                Step::Multi(commands) => read_exec(conn, commands).await,
                Step::Watch { .. } => None,
            };
            match reply {
                Some(v) => {
                    shared.history().ok(now_us(), process, v);
                    answered += 1;
                }
                None => break,
            }
        }
    }
    record_lost(shared, process, steps.len() - answered)
}

/// Records `lost` unanswered operations as indeterminate; true when there were none.
fn record_lost(shared: &Shared, process: u64, lost: usize) -> bool {
    if lost == 0 {
        return true;
    }
    let mut history = shared.history();
    let now = now_us();
    for _ in 0..lost {
        history.info(now, process);
    }
    false
}

/// WATCHes the keys of `reads`, reads them, then runs `commands` in a transaction guarded by what the
/// reads returned. Returns false when the connection must be abandoned.
async fn run_watch(conn: &mut Conn, process: u64, reads: &[Command], commands: &[Command], shared: &Shared) -> bool {
    let mut watch = vec![b"WATCH".to_vec()];
    for r in reads {
        if !watch[1..].contains(&r.key) {
            watch.push(r.key.clone());
        }
    }
    let mut bytes = Vec::new();
    encode(&watch, &mut bytes);
    {
        // WATCH itself changes nothing and is not recorded; the reads are ordinary operations.
        let mut history = shared.history();
        let now = now_us();
        for r in reads {
            encode(&r.to_command(), &mut bytes);
            history.invoke(now, process, Op::One(r.clone()));
        }
    }
    if conn.send(&bytes).await.is_err() {
        return record_lost(shared, process, reads.len());
    }
    match read_reply(conn).await {
        Some(Value::Ok) => {}
        Some(other) => panic!("keel-sim: WATCH answered {other:?}"),
        None => return record_lost(shared, process, reads.len()),
    }
    let mut guards = Vec::with_capacity(reads.len());
    for (i, r) in reads.iter().enumerate() {
        match read_reply(conn).await {
            Some(v) => {
                let v = r.normalize(v);
                shared.history().ok(now_us(), process, v.clone());
                guards.push((r.clone(), v));
            }
            None => return record_lost(shared, process, reads.len() - i),
        }
    }
    let mut bytes = Vec::new();
    encode_multi(commands, &mut bytes);
    let op = Op::Txn(Txn {
        guards,
        commands: commands.to_vec(),
    });
    shared.history().invoke(now_us(), process, op);
    if conn.send(&bytes).await.is_err() {
        return record_lost(shared, process, 1);
    }
    match read_exec(conn, commands).await {
        Some(v) => {
            shared.history().ok(now_us(), process, v);
            true
        }
        None => record_lost(shared, process, 1),
    }
}
