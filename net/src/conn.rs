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
        return;
    }
    let handle = shared.core().connect(info, now_us() / 1000);
    let killed = shared.register_kill(handle.id);
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
        let timeout_s = shared.settings.timeout_s.load(Ordering::Relaxed);
        let idle_limit = if timeout_s == 0 {
            Duration::MAX
        } else {
            Duration::from_secs(timeout_s)
        };
        let read = tokio::select! {
            r = stream.read_buf(&mut buf) => r,
            _ = killed.notified() => break,
            _ = stop.changed() => break,
            _ = tokio::time::sleep(idle_limit) => {
                tracing::debug!(client = handle.id, "closing idle client");
                break;
            }
        };
        match read {
            Ok(0) | Err(_) => break,
            Ok(n) => unaccounted_input += n as u64,
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
            let mut core = shared.core();
            // Input bytes are counted under the lock the batch takes anyway.
            core.stats.net_input_bytes += std::mem::take(&mut unaccounted_input);
            core.clients_query_buf(handle, buf.len());
            flow = core.execute_batch(handle, &batch, now_us(), &mut out);
            let effects = core.take_effects();
            let sleep = if effects.is_empty() {
                Duration::ZERO
            } else {
                shared.apply_effects(effects, &core)
            };
            if !sleep.is_zero() {
                // DEBUG SLEEP stalls the whole server, as the reference server's single thread does.
                tokio::task::block_in_place(|| std::thread::sleep(sleep));
            }
            drop(core);
            batch.clear();
        }
        if let Err(e) = parsed {
            if flow == Flow::Continue {
                shared.core().protocol_error(handle, &e.message(), &mut out);
            }
            flow = Flow::Close;
        }
        if !out.is_empty() {
            if stream.write_all(&out).await.is_err() {
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
    }
    let _ = stream.shutdown().await;
    shared.unregister_kill(handle.id);
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
