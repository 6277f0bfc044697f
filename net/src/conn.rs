//! One client connection: read, parse, execute in batches, write.
//!
//! Owns the socket, the query buffer and the output buffer of one client. Every complete command in a
//! read is parsed outside the core lock, executed under one lock acquisition, and all replies go out in
//! one write. It enforces the per-connection limits: `maxclients` and protected mode at accept, the
//! query buffer limit, the idle `timeout`, the output buffer limits, and protocol errors (answered,
//! then the connection is closed).
//!
//! Pending output is bounded however a client behaves: a batch runs in slices, each written before the
//! next slice runs, so a client that pipelines without reading stalls its own batch instead of growing
//! a buffer. A slice ends after the reply that takes it past [`OUTPUT_SLICE`] bytes or, when the normal
//! class of `client-output-buffer-limit` sets limits, past the larger limit: like the reference
//! server, keel lets replies pile up to the limits, then pending bytes above the hard limit close the
//! connection at once, and above the soft limit for longer than its seconds too.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use keel_core::{CommandBatch, ConnInfo, Flow, Parser};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

use crate::server::{now_us, KillSwitch, Shared};

/// Reads are made with at least this much free buffer space.
const READ_CHUNK: usize = 16 * 1024;

/// A batch stops running once this many reply bytes wait, and resumes after they are written.
pub const OUTPUT_SLICE: usize = 64 * 1024;

/// Why writing replies ended the connection.
#[derive(Debug, PartialEq, Eq)]
enum WriteEnd {
    /// The peer is gone, the client was killed, or the server is shutting down.
    Gone,
    /// The client's pending output passed its limit.
    OverLimit,
}

/// The idle wait when `timeout` is 0 (no limit).
#[cfg(not(madsim))]
const NO_IDLE_LIMIT: Duration = Duration::MAX;
/// The simulator's clock overflows on `Duration::MAX`; ten years is as good as never there.
#[cfg(madsim)]
const NO_IDLE_LIMIT: Duration = Duration::from_secs(10 * 365 * 86_400);

/// A client stream's direct write path: plain sockets write without the `AsyncWrite` machinery when
/// the socket takes the bytes at once (almost always), and have nothing to flush. Streams without
/// such a path (TLS, which encrypts and sends on flush; the simulator's TCP) keep the defaults and
/// take the generic async path.
pub trait DirectWrite {
    /// Writes what the stream takes now without waiting; `None` when the stream has no direct path.
    /// `Err` of kind `WouldBlock` means the caller must wait through the async path.
    fn try_write_now(&mut self, _bytes: &[u8]) -> Option<std::io::Result<usize>> {
        None
    }

    /// Whether flushing does nothing, so a flush need not be awaited.
    fn flush_is_noop(&self) -> bool {
        false
    }
}

#[cfg(not(madsim))]
impl DirectWrite for tokio::net::TcpStream {
    fn try_write_now(&mut self, bytes: &[u8]) -> Option<std::io::Result<usize>> {
        Some(self.try_write(bytes))
    }

    fn flush_is_noop(&self) -> bool {
        true
    }
}

#[cfg(not(madsim))]
impl DirectWrite for tokio::net::UnixStream {
    fn try_write_now(&mut self, bytes: &[u8]) -> Option<std::io::Result<usize>> {
        Some(self.try_write(bytes))
    }

    fn flush_is_noop(&self) -> bool {
        true
    }
}

/// The simulator's streams have no `try_write`: they take the async path.
#[cfg(madsim)]
impl DirectWrite for tokio::net::TcpStream {}

#[cfg(madsim)]
impl DirectWrite for tokio::net::UnixStream {}

/// TLS encrypts into its own buffer and sends on flush: always the async path.
impl<S> DirectWrite for tokio_rustls::server::TlsStream<S> {}

/// Serves one connection until the client leaves, is killed, or the server shuts down.
pub async fn serve<S>(mut stream: S, info: ConnInfo, shared: Arc<Shared>)
where
    S: AsyncRead + AsyncWrite + DirectWrite + Unpin,
{
    let count = shared.connections.fetch_add(1, Ordering::SeqCst) + 1;
    if count > shared.settings.maxclients.load(Ordering::Relaxed) {
        shared.connections.fetch_sub(1, Ordering::SeqCst);
        shared.core().stats.rejected_connections += 1;
        let _ = stream.write_all(b"-ERR max number of clients reached\r\n").await;
        let _ = stream.flush().await;
        return;
    }
    let admitted = {
        let mut core = shared.core();
        if core.protected_mode_denies(&info) {
            core.stats.rejected_connections += 1;
            None
        } else {
            Some(core.connect(info.clone(), now_us() / 1000))
        }
    };
    let Some(handle) = admitted else {
        shared.connections.fetch_sub(1, Ordering::SeqCst);
        tracing::debug!(client = %info.addr, "protected mode refused a remote client");
        let _ = stream
            .write_all(keel_core::netsec::PROTECTED_MODE_DENIED.as_bytes())
            .await;
        let _ = stream.flush().await;
        let _ = stream.shutdown().await;
        return;
    };
    let kill = shared.register_kill(handle.id);
    let unblocked = shared.register_unblock(handle.id);
    // Set while the client waits in a blocking command (BLPOP...): none of its commands run meanwhile.
    let mut blocked = false;
    // Set when commands that arrived while blocked wait in `buf`: they run before the next read.
    let mut pending_input = false;
    let mut stop = shared.shutdown_signal();
    // Ends when the client is killed or the server shuts down. Made once per connection: a wake-up
    // future made per request registered and dropped a waiter every time. Once it ended the connection
    // ends, so it is never polled again.
    let wake = async {
        tokio::select! {
            _ = kill.notify.notified() => {}
            _ = stop.changed() => {}
        }
    };
    tokio::pin!(wake);
    let mut cancel = Cancel {
        shared: &shared,
        kill: &kill,
        wake,
        registered: None,
    };
    let mut cancel = Pin::new(&mut cancel);
    // The idle `timeout`, armed lazily: the timer is set once and only moved when it fires early (the
    // client was active meanwhile) or the setting changed, not once per request.
    let idle = tokio::time::sleep(NO_IDLE_LIMIT);
    tokio::pin!(idle);
    // The `timeout` (seconds) the idle timer was last set for, and when the current wait for input began.
    let mut idle_armed_s: u64 = 0;
    let mut idle_since = Instant::now();
    let mut parser = Parser::new(shared.settings.limits());
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    let mut batch = CommandBatch::new();
    let mut out: Vec<u8> = Vec::with_capacity(READ_CHUNK);
    let mut unaccounted_input: u64 = 0;
    // When the client's pending output went above the soft limit (reset when it drops back).
    let mut soft_since: Option<Instant> = None;

    loop {
        // Flags, not only wake-ups: a client whose reads and writes never wait still stops here.
        if kill.is_killed() || shared.stopping() {
            break;
        }
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
                _ = &mut cancel => break,
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
                shared.deliver_io(&mut core);
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
                let mut w = Writer {
                    shared: &shared,
                    cancel: cancel.as_mut(),
                    client: handle.id,
                    soft_since: &mut soft_since,
                };
                if w.write(&mut stream, &mut out, 0).await.is_err() {
                    break;
                }
            }
            if flow == Flow::Close {
                break;
            }
            blocked = flow == Flow::Blocked;
            pending_input = !blocked && !buf.is_empty();
            continue;
        }
        let timeout_s = shared.settings.timeout_s.load(Ordering::Relaxed);
        let read = if std::mem::take(&mut pending_input) {
            // Commands that arrived while the client was blocked run without waiting for a read.
            None
        } else {
            if timeout_s != 0 {
                idle_since = Instant::now();
                if timeout_s != idle_armed_s {
                    idle.as_mut().reset(idle_deadline(idle_since, timeout_s));
                    idle_armed_s = timeout_s;
                }
            }
            // Biased, the read first: when input is there, nothing else is polled (the loop's top checks
            // the kill and shutdown flags instead).
            let read = loop {
                tokio::select! {
                    biased;
                    r = stream.read_buf(&mut buf) => break Some(r),
                    _ = &mut cancel => break None,
                    _ = &mut idle, if timeout_s != 0 => {
                        let deadline = idle_deadline(idle_since, timeout_s);
                        if Instant::now() >= deadline {
                            tracing::debug!(client = handle.id, "closing idle client");
                            break None;
                        }
                        // It was set during an earlier wait: the client was active since.
                        idle.as_mut().reset(deadline);
                    }
                }
            };
            match read {
                Some(r) => Some(r),
                None => break,
            }
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
        let mut gone = false;
        if !batch.is_empty() {
            if shared.pause_requested.load(Ordering::Relaxed) {
                wait_while_paused(&shared, &batch).await;
            }
            // The batch runs in slices so that pending replies stay bounded (see the module comment).
            let (slice, keep) = output_slice(&shared);
            let mut next = 0;
            while next < batch.len() {
                // The core lock is held in this block only, so the future stays `Send`.
                #[cfg_attr(not(madsim), allow(unused_variables))]
                let sleep = {
                    let mut core = shared.core();
                    // Input bytes are counted under the lock the batch takes anyway.
                    core.stats.net_input_bytes += std::mem::take(&mut unaccounted_input);
                    core.clients_query_buf(handle, buf.len());
                    #[cfg(not(feature = "planted-stale-read"))]
                    {
                        (flow, next) = core.execute_batch_bounded(handle, &batch, next, now_us(), &mut out, slice);
                    }
                    #[cfg(feature = "planted-stale-read")]
                    {
                        flow = planted::execute_batch(&mut core, handle, &batch, now_us(), &mut out);
                        next = batch.len();
                    }
                    let effects = core.take_effects();
                    let sleep = if effects.is_empty() {
                        Duration::ZERO
                    } else {
                        shared.apply_effects(effects, &core)
                    };
                    // The slice's writes reach the append-only file before any of its replies leave.
                    if !shared.persist_batch(&mut core) {
                        // Not durable under `appendfsync always`: never acknowledged.
                        out.clear();
                        flow = Flow::Close;
                        next = batch.len();
                    }
                    #[cfg(not(madsim))]
                    if !sleep.is_zero() {
                        // DEBUG SLEEP stalls the whole server, as the reference server's single thread does
                        // (on the single-threaded runtime this thread is the whole server already).
                        let multi_thread = tokio::runtime::Handle::current().runtime_flavor()
                            == tokio::runtime::RuntimeFlavor::MultiThread;
                        if multi_thread {
                            tokio::task::block_in_place(|| std::thread::sleep(sleep));
                        } else {
                            std::thread::sleep(sleep);
                        }
                    }
                    sleep
                };
                // The simulator has no `block_in_place` (and a blocking sleep would not move simulated
                // time): there DEBUG SLEEP only delays this client's replies.
                #[cfg(madsim)]
                if !sleep.is_zero() {
                    tokio::time::sleep(sleep).await;
                }
                if next < batch.len() {
                    // Written down to what the limits allow to wait, so a client that does not read
                    // reaches them (with no limits: written in full).
                    let mut w = Writer {
                        shared: &shared,
                        cancel: cancel.as_mut(),
                        client: handle.id,
                        soft_since: &mut soft_since,
                    };
                    if w.write(&mut stream, &mut out, keep).await.is_err() {
                        gone = true;
                        break;
                    }
                }
            }
            batch.clear();
        }
        if gone {
            break;
        }
        if let Err(e) = parsed {
            if flow == Flow::Continue {
                shared.core().protocol_error(handle, &e.message(), &mut out);
            }
            flow = Flow::Close;
        }
        if !out.is_empty() && !write_at_once(&mut stream, &mut out, &shared, &mut soft_since) {
            let mut w = Writer {
                shared: &shared,
                cancel: cancel.as_mut(),
                client: handle.id,
                soft_since: &mut soft_since,
            };
            if w.write(&mut stream, &mut out, 0).await.is_err() {
                break;
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

/// A connection's wait for being killed or for shutdown, cheap to poll again and again (it is polled
/// each time a read or write waits). The first poll registers the waiters (`wake`); later polls by the
/// same task only read the two flags, which are always set before those waiters are woken.
struct Cancel<'a, F> {
    shared: &'a Shared,
    kill: &'a KillSwitch,
    wake: Pin<&'a mut F>,
    /// The waker `wake` was last polled with: while the task's waker stays the same, it is registered.
    registered: Option<Waker>,
}

impl<F: Future<Output = ()>> Future for Cancel<'_, F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.kill.is_killed() || this.shared.stopping() {
            return Poll::Ready(());
        }
        if this.registered.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            return Poll::Pending;
        }
        match this.wake.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(()),
            Poll::Pending => {
                this.registered = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// When a client waiting for input since `since` has been idle for `timeout_s` seconds.
/// Timeouts are capped at ten years, so the deadline cannot overflow a clock (the simulator's either).
fn idle_deadline(since: Instant, timeout_s: u64) -> Instant {
    since + Duration::from_secs(timeout_s.min(10 * 365 * 86_400))
}

/// How many reply bytes a batch slice may gather before they are written, and how many may stay
/// unwritten when the next slice runs: [`OUTPUT_SLICE`] and none without limits; with limits, just past
/// the larger one and that limit, so a client that does not read reaches it (see the module comment).
fn output_slice(shared: &Shared) -> (usize, usize) {
    let hard = shared.settings.output_hard_limit.load(Ordering::Relaxed);
    let soft = shared.settings.output_soft_limit.load(Ordering::Relaxed);
    let limit = usize::try_from(hard.max(soft)).unwrap_or(usize::MAX);
    if limit == 0 {
        (OUTPUT_SLICE, 0)
    } else {
        (limit.saturating_add(1).max(OUTPUT_SLICE), limit)
    }
}

/// The common case of writing a batch's replies, without the [`Writer`]: the replies are within the
/// output buffer limits and the socket takes all of them at once. Returns whether `out` was written
/// in full (then it is cleared); otherwise nothing or a part was written (and removed from `out`), and
/// the [`Writer`] goes on from there, limits included. Errors are left to the [`Writer`] to meet again.
fn write_at_once<S: DirectWrite>(
    stream: &mut S,
    out: &mut Vec<u8>,
    shared: &Shared,
    soft_since: &mut Option<Instant>,
) -> bool {
    let len = out.len() as u64;
    let hard = shared.settings.output_hard_limit.load(Ordering::Relaxed);
    let soft = shared.settings.output_soft_limit.load(Ordering::Relaxed);
    if (hard > 0 && len > hard) || (soft > 0 && len > soft) {
        return false;
    }
    match stream.try_write_now(out) {
        Some(Ok(n)) if n == out.len() => {
            out.clear();
            if out.capacity() > 4 * READ_CHUNK {
                out.shrink_to(READ_CHUNK);
            }
            // Nothing waits now, so the client is not above the soft limit either.
            *soft_since = None;
            true
        }
        Some(Ok(n)) => {
            out.drain(..n);
            false
        }
        Some(Err(_)) | None => false,
    }
}

/// Writes a connection's replies, enforcing its output buffer limits.
struct Writer<'a, C> {
    shared: &'a Shared,
    /// The connection's kill-or-shutdown future (see `serve`).
    cancel: Pin<&'a mut C>,
    client: keel_core::ClientId,
    /// When pending output went above the soft limit; kept across calls while it stays above.
    soft_since: &'a mut Option<Instant>,
}

impl<C: Future<Output = ()>> Writer<'_, C> {
    /// Writes `out` until at most `keep` bytes of it are left (removing what was written), flushing
    /// when all of it went out (free on a plain socket; TLS and the simulator's TCP send on flush).
    /// While the client does not read, pending bytes above the hard limit end the connection at once,
    /// above the soft limit for longer than its seconds too. Also ends when the client is killed or
    /// the server shuts down, so a client that never reads cannot hold its task.
    async fn write<S>(&mut self, stream: &mut S, out: &mut Vec<u8>, keep: usize) -> Result<(), WriteEnd>
    where
        S: AsyncWrite + DirectWrite + Unpin,
    {
        let mut written = 0;
        let result = self.write_from(stream, out, &mut written, keep).await;
        out.drain(..written);
        if out.capacity() > 4 * READ_CHUNK && out.len() < READ_CHUNK {
            out.shrink_to(READ_CHUNK);
        }
        result
    }

    async fn write_from<S>(
        &mut self,
        stream: &mut S,
        out: &[u8],
        written: &mut usize,
        keep: usize,
    ) -> Result<(), WriteEnd>
    where
        S: AsyncWrite + DirectWrite + Unpin,
    {
        let settings = &self.shared.settings;
        loop {
            let pending = (out.len() - *written) as u64;
            let hard = settings.output_hard_limit.load(Ordering::Relaxed);
            let soft = settings.output_soft_limit.load(Ordering::Relaxed);
            let client = self.client;
            let over_limit = || {
                tracing::warn!(client, pending, "Client closed for overcoming of output buffer limits.");
                WriteEnd::OverLimit
            };
            if hard > 0 && pending > hard {
                return Err(over_limit());
            }
            // How long the client may still stay above the soft limit.
            let soft_wait = if soft > 0 && pending > soft {
                let since = *self.soft_since.get_or_insert_with(Instant::now);
                let allowed = Duration::from_secs(settings.output_soft_seconds.load(Ordering::Relaxed));
                match allowed.checked_sub(since.elapsed()) {
                    Some(left) => Some(left),
                    None => return Err(over_limit()),
                }
            } else {
                *self.soft_since = None;
                None
            };
            if pending == 0 {
                if stream.flush_is_noop() {
                    return Ok(());
                }
                // Biased: a kill or shutdown only cuts a write short that cannot proceed, so the
                // replies of a batch that killed its own client (CLIENT KILL) still go out.
                return tokio::select! {
                    biased;
                    r = stream.flush() => r.map_err(|_| WriteEnd::Gone),
                    _ = self.cancel.as_mut() => Err(WriteEnd::Gone),
                };
            }
            if pending <= keep as u64 {
                return Ok(());
            }
            // The direct path first: the socket almost always takes the bytes at once, and a write that
            // does not wait needs neither the timer nor the kill-or-shutdown wait below.
            match stream.try_write_now(&out[*written..]) {
                Some(Ok(0)) => return Err(WriteEnd::Gone),
                Some(Ok(n)) => {
                    *written += n;
                    continue;
                }
                Some(Err(e)) if e.kind() != std::io::ErrorKind::WouldBlock => return Err(WriteEnd::Gone),
                // Would block, or no direct path: the async write below waits for the socket.
                Some(Err(_)) | None => {}
            }
            // A timer only while above the soft limit; made only if the write has to wait.
            let soft_timer = async {
                match soft_wait {
                    Some(left) => tokio::time::sleep(left).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                r = stream.write(&out[*written..]) => match r {
                    Ok(0) | Err(_) => return Err(WriteEnd::Gone),
                    Ok(n) => *written += n,
                },
                _ = soft_timer => return Err(over_limit()),
                _ = self.cancel.as_mut() => return Err(WriteEnd::Gone),
            }
        }
    }
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
