//! One client connection: read, parse, execute in batches, write.
//!
//! Owns the socket, the query buffer and the output buffer of one client. Every complete command in a
//! read is parsed outside the core lock, executed under one lock acquisition, and all replies go out in
//! one write. It enforces the per-connection limits: `maxclients` at accept, the query buffer limit,
//! the idle `timeout`, and protocol errors (answered, then the connection is closed).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use keel_core::{CommandBatch, ConnInfo, Flow, Parser};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::server::{now_us, Shared};

/// Reads are made with at least this much free buffer space.
const READ_CHUNK: usize = 16 * 1024;

/// The idle wait when `timeout` is 0 (no limit).
#[cfg(not(madsim))]
const NO_IDLE_LIMIT: Duration = Duration::MAX;
/// The simulator's clock overflows on `Duration::MAX`; ten years is as good as never there.
#[cfg(madsim)]
const NO_IDLE_LIMIT: Duration = Duration::from_secs(10 * 365 * 86_400);

/// Serves one connection until the client leaves, is killed, or the server shuts down.
pub async fn serve<S>(mut stream: S, info: ConnInfo, shared: Arc<Shared>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let count = shared.connections.fetch_add(1, Ordering::SeqCst) + 1;
    if count > shared.settings.maxclients.load(Ordering::Relaxed) {
        shared.connections.fetch_sub(1, Ordering::SeqCst);
        shared.core().stats.rejected_connections += 1;
        let _ = stream.write_all(b"-ERR max number of clients reached\r\n").await;
        let _ = stream.flush().await;
        return;
    }
    let handle = shared.core().connect(info, now_us() / 1000);
    let killed = shared.register_kill(handle.id);
    let unblocked = shared.register_unblock(handle.id);
    // Set while the client waits in a blocking command (BLPOP...): none of its commands run meanwhile.
    let mut blocked = false;
    // Set when commands that arrived while blocked wait in `buf`: they run before the next read.
    let mut pending_input = false;
    let mut stop = shared.shutdown_signal();
    let mut parser = Parser::new(shared.settings.limits());
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    let mut batch = CommandBatch::new();
    let mut out: Vec<u8> = Vec::with_capacity(READ_CHUNK);
    let mut unaccounted_input: u64 = 0;

    loop {
        if buf.capacity() - buf.len() < READ_CHUNK / 4 {
            // Doubling keeps a large argument arriving in small pieces linear in its size.
            buf.reserve(READ_CHUNK.max(buf.len()));
        }
        if blocked {
            // The socket is still read, so a disconnect is noticed and later commands wait in `buf`.
            let wait = match shared.core().block_deadline_ms(handle) {
                Some(d) => Duration::from_micros(d.saturating_mul(1000).saturating_sub(now_us()).max(0) as u64),
                None => NO_IDLE_LIMIT,
            };
            let mut resume = false;
            tokio::select! {
                r = stream.read_buf(&mut buf) => match r {
                    Ok(0) | Err(_) => break,
                    Ok(n) => unaccounted_input += n as u64,
                },
                _ = unblocked.notified() => resume = true,
                _ = tokio::time::sleep(wait) => resume = true,
                _ = killed.notified() => break,
                _ = stop.changed() => break,
            }
            if buf.len() as u64 > shared.settings.query_buffer_limit.load(Ordering::Relaxed) {
                tracing::warn!(
                    client = handle.id,
                    "closing client that reached max query buffer length"
                );
                break;
            }
            if !resume {
                continue;
            }
            let flow = {
                let mut core = shared.core();
                let mut flow = core.resume(handle, now_us(), &mut out);
                let effects = core.take_effects();
                if !effects.is_empty() {
                    shared.apply_effects(effects, &core);
                }
                if !shared.persist_batch(&mut core) {
                    // Not durable under `appendfsync always`: never acknowledged.
                    out.clear();
                    flow = Flow::Close;
                }
                flow
            };
            if !out.is_empty() {
                if stream.write_all(&out).await.is_err() || stream.flush().await.is_err() {
                    break;
                }
                out.clear();
            }
            if flow == Flow::Close {
                break;
            }
            blocked = flow == Flow::Blocked;
            pending_input = !blocked && !buf.is_empty();
            continue;
        }
        let timeout_s = shared.settings.timeout_s.load(Ordering::Relaxed);
        let idle_limit = if timeout_s == 0 {
            NO_IDLE_LIMIT
        } else {
            Duration::from_secs(timeout_s)
        };
        let read = if std::mem::take(&mut pending_input) {
            // Commands that arrived while the client was blocked run without waiting for a read.
            None
        } else {
            Some(tokio::select! {
                r = stream.read_buf(&mut buf) => r,
                _ = killed.notified() => break,
                _ = stop.changed() => break,
                _ = tokio::time::sleep(idle_limit) => {
                    tracing::debug!(client = handle.id, "closing idle client");
                    break;
                }
            })
        };
        match read {
            None => {}
            Some(Ok(0) | Err(_)) => break,
            Some(Ok(n)) => unaccounted_input += n as u64,
        }
        if buf.len() as u64 > shared.settings.query_buffer_limit.load(Ordering::Relaxed) {
            tracing::warn!(
                client = handle.id,
                "closing client that reached max query buffer length"
            );
            break;
        }
        parser.set_limits(shared.settings.limits());
        let parsed = parser.parse(&mut buf, &mut batch);
        let mut flow = Flow::Continue;
        if !batch.is_empty() {
            if shared.pause_requested.load(Ordering::Relaxed) {
                wait_while_paused(&shared, &batch).await;
            }
            // The core lock is held in this block only, so the future stays `Send`.
            #[cfg_attr(not(madsim), allow(unused_variables))]
            let sleep = {
                let mut core = shared.core();
                // Input bytes are counted under the lock the batch takes anyway.
                core.stats.net_input_bytes += std::mem::take(&mut unaccounted_input);
                core.clients_query_buf(handle, buf.len());
                #[cfg(not(feature = "planted-stale-read"))]
                {
                    flow = core.execute_batch(handle, &batch, now_us(), &mut out);
                }
                #[cfg(feature = "planted-stale-read")]
                {
                    flow = planted::execute_batch(&mut core, handle, &batch, now_us(), &mut out);
                }
                let effects = core.take_effects();
                let sleep = if effects.is_empty() {
                    Duration::ZERO
                } else {
                    shared.apply_effects(effects, &core)
                };
                if !shared.persist_batch(&mut core) {
                    // Not durable under `appendfsync always`: never acknowledged.
                    out.clear();
                    flow = Flow::Close;
                }
                #[cfg(not(madsim))]
                if !sleep.is_zero() {
                    // DEBUG SLEEP stalls the whole server, as the reference server's single thread does.
                    tokio::task::block_in_place(|| std::thread::sleep(sleep));
                }
                sleep
            };
            // The simulator has no `block_in_place` (and a blocking sleep would not move simulated
            // time): there DEBUG SLEEP only delays this client's replies.
            #[cfg(madsim)]
            if !sleep.is_zero() {
                tokio::time::sleep(sleep).await;
            }
            batch.clear();
        }
        if let Err(e) = parsed {
            if flow == Flow::Continue {
                shared.core().protocol_error(handle, &e.message(), &mut out);
            }
            flow = Flow::Close;
        }
        if !out.is_empty() {
            // Flushing is free on a plain socket; buffered streams (the simulator's TCP) send on flush.
            if stream.write_all(&out).await.is_err() || stream.flush().await.is_err() {
                break;
            }
            out.clear();
            if out.capacity() > 4 * READ_CHUNK {
                out.shrink_to(READ_CHUNK);
            }
        }
        if flow == Flow::Close {
            let _ = stream.flush().await;
            break;
        }
        blocked = flow == Flow::Blocked;
    }
    let _ = stream.shutdown().await;
    shared.unregister_kill(handle.id);
    shared.unregister_unblock(handle.id);
    let mut core = shared.core();
    core.stats.net_input_bytes += unaccounted_input;
    core.disconnect(handle);
    drop(core);
    shared.connections.fetch_sub(1, Ordering::SeqCst);
}

/// Holds a batch while `CLIENT PAUSE` is in force for it: every command under `ALL`, write commands
/// under `WRITE`.
async fn wait_while_paused(shared: &Shared, batch: &CommandBatch) {
    loop {
        let wait = {
            let mut core = shared.core();
            let now_ms = now_us() / 1000;
            let paused = core.paused(now_ms);
            if paused.is_none() {
                shared.pause_requested.store(false, Ordering::Relaxed);
            }
            match paused {
                Some(p) if !p.write_only || batch.iter().any(|argv| core.may_write(argv)) => {
                    Some(Duration::from_millis((p.until_ms - now_ms).max(1) as u64))
                }
                _ => None,
            }
        };
        match wait {
            None => return,
            Some(d) => {
                tokio::select! {
                    _ = tokio::time::sleep(d) => {}
                    _ = shared.unpaused.notified() => {}
                }
            }
        }
    }
}

/// A deliberately planted bug, compiled only with the `planted-stale-read` feature, so that keel-sim can
/// prove its checker catches a real consistency violation (`planted_bug_is_caught`). Never enable it in
/// a build that serves anyone.
///
/// Before each `SET key ...` the reply a `GET key` would have given is remembered; now and then (1 in 64,
/// drawn from the core's seeded generator) a `GET key` answers that remembered reply instead of
/// running: the value from before the previous SET on that key, a stale read.
#[cfg(feature = "planted-stale-read")]
mod planted {
    use std::cell::RefCell;
    use std::collections::HashMap;

    use bytes::Bytes;
    use keel_core::{ClientHandle, CommandBatch, Flow, Server};
    use rand::Rng;

    thread_local! {
        /// Per key, the GET reply from just before the last SET. Thread-local, not global: the simulator
        /// runs each seed on a fresh thread, so runs stay independent and reproducible.
        static BEFORE_LAST_SET: RefCell<HashMap<Vec<u8>, Vec<u8>>> = RefCell::new(HashMap::new());
    }

    /// [`Server::execute_batch`] with the planted bug.
    pub fn execute_batch(
        core: &mut Server,
        handle: ClientHandle,
        batch: &CommandBatch,
        now_us: i64,
        out: &mut Vec<u8>,
    ) -> Flow {
        for argv in batch.iter() {
            if argv.len() >= 3 && argv[0].eq_ignore_ascii_case(b"SET") {
                let get = [Bytes::from_static(b"GET"), argv[1].clone()];
                let mut before = Vec::new();
                core.execute(handle, &get, now_us, &mut before);
                BEFORE_LAST_SET.with(|m| m.borrow_mut().insert(argv[1].to_vec(), before));
            } else if argv.len() == 2 && argv[0].eq_ignore_ascii_case(b"GET") && core.rng.random_ratio(1, 64) {
                if let Some(stale) = BEFORE_LAST_SET.with(|m| m.borrow().get(&argv[1][..]).cloned()) {
                    out.extend_from_slice(&stale);
                    continue;
                }
            }
            // Any other flow ends the batch. The simulated workload sends no blocking commands, so
            // unlike the real `execute_batch` this does not keep the rest of a batch for later.
            match core.execute(handle, argv, now_us, out) {
                Flow::Continue => {}
                other => return other,
            }
        }
        Flow::Continue
    }
}
