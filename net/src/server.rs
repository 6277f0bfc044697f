//! The running server: listeners, the shared core, the cron timer and shutdown.
//!
//! Owns the tokio side of keel. One `keel_core::Server` lives behind a mutex; connection tasks (on one
//! thread, or in parallel with `--threads N`) read and parse requests, then take the lock once per batch of
//! pipelined commands to execute them, and write all the batch's replies with one write. Everything that
//! needs a clock, a socket or OS randomness happens here and is handed to core as input.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use keel_core::{ClientId, Config, Effect, Limits, MemoryFigures, ProcessInfo, Server};
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::{watch, Notify};

use crate::alloc;
use crate::aof::Aof;
use crate::conn;
use crate::storage::{AtomicWriter, OsStorage, Storage};
use crate::tls::{self, TlsState};
use std::io::Read as _;
use std::path::Path;

/// Current Unix time in microseconds.
pub fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// Settings connection tasks read on every batch, refreshed when `CONFIG SET` changes them.
#[derive(Debug, Default)]
pub struct LiveSettings {
    pub timeout_s: AtomicU64,
    pub maxclients: AtomicUsize,
    pub max_bulk_len: AtomicU64,
    pub query_buffer_limit: AtomicU64,
    /// The `normal` class of `client-output-buffer-limit`: bytes (0 = none) and seconds.
    pub output_hard_limit: AtomicU64,
    pub output_soft_limit: AtomicU64,
    pub output_soft_seconds: AtomicU64,
}

impl LiveSettings {
    fn refresh(&self, config: &Config) {
        self.timeout_s
            .store(config.get_i64("timeout").max(0) as u64, Ordering::Relaxed);
        self.maxclients
            .store(config.get_i64("maxclients").max(1) as usize, Ordering::Relaxed);
        self.max_bulk_len
            .store(config.get_i64("proto-max-bulk-len").max(0) as u64, Ordering::Relaxed);
        self.query_buffer_limit.store(
            config.get_i64("client-query-buffer-limit").max(0) as u64,
            Ordering::Relaxed,
        );
        // keel has only normal clients (no replicas, no pub/sub yet): the other classes are stored only.
        let [normal, _, _] = config.output_buffer_limits();
        self.output_hard_limit.store(normal.hard, Ordering::Relaxed);
        self.output_soft_limit.store(normal.soft, Ordering::Relaxed);
        self.output_soft_seconds.store(normal.soft_seconds, Ordering::Relaxed);
    }

    /// The protocol limits for a parser.
    pub fn limits(&self) -> Limits {
        Limits {
            max_bulk_len: self.max_bulk_len.load(Ordering::Relaxed),
            ..Limits::default()
        }
    }
}

/// How a connection learns that another client killed it: the flag is read between batches (a client
/// that keeps its socket busy never waits), the notification wakes it while it waits.
#[derive(Debug, Default)]
pub struct KillSwitch {
    killed: AtomicBool,
    /// Keeps a permit when the connection is not waiting, so the kill is not lost.
    pub notify: Notify,
}

impl KillSwitch {
    /// Marks the connection killed and wakes it.
    pub fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        self.notify.notify_one();
    }

    /// True once [`KillSwitch::kill`] was called.
    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::Acquire)
    }
}

/// State shared by every task of one server.
pub struct Shared {
    core: Mutex<Server>,
    /// How connections killed by another client learn of it.
    kills: Mutex<HashMap<ClientId, Arc<KillSwitch>>>,
    /// Wake-ups for blocked connections that were served, timed out or unblocked by another client.
    unblocks: Mutex<HashMap<ClientId, Arc<Notify>>>,
    pub settings: LiveSettings,
    pub connections: AtomicUsize,
    /// TLS handshakes under way (not yet counted in `connections`).
    pub handshakes: AtomicUsize,
    /// The acceptor state of the TLS listeners (None while TLS is off), the port they listen on, and
    /// their generation: TLS accept loops stop when it changes (`CONFIG SET tls-port`).
    tls: Mutex<Option<Arc<TlsState>>>,
    tls_port: AtomicU16,
    tls_generation: watch::Sender<u64>,
    /// Set to true once shutdown begins.
    shutdown: watch::Sender<bool>,
    /// The same as `shutdown`, as a flag connections check between batches without registering a waiter.
    stopping: AtomicBool,
    /// Wakes clients waiting on a CLIENT PAUSE.
    pub unpaused: Notify,
    /// Set when a CLIENT PAUSE may be in force, so connections only consult the core when it is.
    pub pause_requested: std::sync::atomic::AtomicBool,
    /// Where data files are read and written (the real file system, or the simulator's faulty disk).
    storage: std::sync::RwLock<Arc<dyn Storage>>,
    /// Outcomes of file work done for clients parked with `wait_for_io`, handed to core when they wake.
    io_done: Mutex<Vec<IoDone>>,
    /// Wakes the persistence task (a snapshot started, a reload was requested).
    pub persistence_wakeup: Notify,
    /// Clients whose `DEBUG RELOAD NOSAVE` waits for the persistence task.
    pub reload_requests: Mutex<Vec<ClientId>>,
    /// The id and outcome of the last snapshot the persistence task finished.
    pub save_done: watch::Sender<(u64, bool)>,
    /// The append-only file (closed unless `appendonly yes`).
    pub aof: Aof,
    /// Set when `appendonly` or `appendfsync` changed: the next batch applies it.
    aof_reconfigure: AtomicBool,
    /// Set once the data files were loaded (see [`Bound::load`]).
    loaded: AtomicBool,
}

/// The outcome of file work done on a client's behalf.
enum IoDone {
    AclSave {
        client: ClientId,
        ok: bool,
    },
    AclLoad {
        client: ClientId,
        path: String,
        text: Result<String, String>,
    },
}

/// An I/O error in the reference server's words (the C library's message, without Rust's suffix).
fn os_message(e: &io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

impl Shared {
    /// Locks the core. A poisoned lock means a handler panicked mid-command; the state is still used
    /// because every handler validates before it mutates, and refusing all clients would be worse.
    pub fn core(&self) -> MutexGuard<'_, Server> {
        self.core.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The storage data files go through.
    pub fn storage(&self) -> Arc<dyn Storage> {
        self.storage.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Registers a connection's kill switch.
    pub fn register_kill(&self, id: ClientId) -> Arc<KillSwitch> {
        let n = Arc::new(KillSwitch::default());
        self.kills
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, n.clone());
        n
    }

    /// Forgets a connection's kill switch.
    pub fn unregister_kill(&self, id: ClientId) {
        self.kills.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
    }

    /// Registers a connection's unblock notifier (see `Effect::Unblocked`).
    pub fn register_unblock(&self, id: ClientId) -> Arc<Notify> {
        let n = Arc::new(Notify::new());
        self.unblocks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, n.clone());
        n
    }

    /// Forgets a connection's unblock notifier.
    pub fn unregister_unblock(&self, id: ClientId) {
        self.unblocks.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
    }

    /// A receiver that turns true when the server shuts down.
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// The TLS port listened on now (0 while TLS is off).
    pub fn tls_port(&self) -> u16 {
        self.tls_port.load(Ordering::Relaxed)
    }

    fn tls_state(&self) -> Option<Arc<TlsState>> {
        self.tls.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Applies `CONFIG SET tls-port`: builds the TLS configuration and binds the new port first, and
    /// only if both work stops the old listeners (established connections stay) and serves the new
    /// port. Port 0 turns TLS off. Errors are the reference's `CONFIG SET` reasons (details logged).
    fn move_tls_port(self: &Arc<Self>, config: &Config) -> Result<(), String> {
        let port = config.get_i64("tls-port") as u16;
        if port != 0 && port == self.tls_port() {
            return match self.tls_state() {
                Some(state) => state.reload(config).map_err(|e| {
                    tracing::warn!(error = %e, "Failed applying new TLS configuration; the previous one stays");
                    tls::RELOAD_FAILED.to_string()
                }),
                None => Ok(()),
            };
        }
        let (state, listeners) = if port == 0 {
            (None, Vec::new())
        } else {
            let state = TlsState::new(config).map_err(|e| {
                tracing::warn!(error = %e, "Failed applying new TLS configuration; the previous one stays");
                tls::RELOAD_FAILED.to_string()
            })?;
            let listeners = bind_now(config, port).map_err(|e| {
                tracing::warn!(error = %e, port, "Could not create TLS listening socket");
                "Unable to listen on this port. Check server logs.".to_string()
            })?;
            (Some(Arc::new(state)), listeners)
        };
        self.tls_generation.send_modify(|g| *g += 1);
        *self.tls.lock().unwrap_or_else(|p| p.into_inner()) = state.clone();
        self.tls_port
            .store(if state.is_some() { port } else { 0 }, Ordering::Relaxed);
        if let Some(state) = state {
            for listener in listeners {
                let generation = self.tls_generation.subscribe();
                tokio::spawn(accept_tcp(listener, self.clone(), Some((state.clone(), generation))));
            }
        }
        Ok(())
    }

    /// Starts shutting down.
    pub fn begin_shutdown(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.shutdown.send_replace(true);
    }

    /// True once shutdown began (see [`Shared::shutdown_signal`] for waiting on it).
    pub fn stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    /// Records finished file work and wakes the client waiting for it.
    fn io_finished(&self, done: IoDone) {
        let client = match &done {
            IoDone::AclSave { client, .. } | IoDone::AclLoad { client, .. } => *client,
        };
        self.io_done.lock().unwrap_or_else(|p| p.into_inner()).push(done);
        if let Some(n) = self.unblocks.lock().unwrap_or_else(|p| p.into_inner()).get(&client) {
            n.notify_one();
        }
    }

    /// Hands finished file work to core (each waiting client gets its reply through `resume`). Called
    /// with the core locked by a connection that woke up.
    pub fn deliver_io(&self, core: &mut Server) {
        let done = std::mem::take(&mut *self.io_done.lock().unwrap_or_else(|p| p.into_inner()));
        for d in done {
            match d {
                IoDone::AclSave { client, ok } => keel_core::commands::acl::finish_save(core, client, ok),
                IoDone::AclLoad { client, path, text } => {
                    keel_core::commands::acl::finish_load(core, client, &path, text)
                }
            }
        }
    }

    /// After a batch (or any other change to the data) under the core lock: hands what it propagated to
    /// the append-only file. False when the batch's writes are not durable as `appendfsync always`
    /// requires: its replies must not be sent.
    pub fn persist_batch(&self, core: &mut Server) -> bool {
        if self.aof_reconfigure.swap(false, Ordering::Relaxed) {
            self.aof.cron(core, now_us());
            // Turning the file on starts a rewrite: wake the task that writes snapshots.
            let effects = core.take_effects();
            if !effects.is_empty() {
                self.apply_effects(effects, core);
            }
        }
        if !core.aof.enabled {
            return true;
        }
        self.aof.after_batch(core)
    }

    /// Carries out effects produced by a batch. Returns how long the issuing client must wait before its
    /// replies are sent (DEBUG SLEEP).
    pub fn apply_effects(&self, effects: Vec<Effect>, core: &Server) -> Duration {
        let mut sleep = Duration::ZERO;
        for effect in effects {
            match effect {
                Effect::KillClient(id) => {
                    if let Some(k) = self.kills.lock().unwrap_or_else(|p| p.into_inner()).get(&id) {
                        k.kill();
                    }
                }
                Effect::Shutdown { save } => {
                    tracing::warn!(save, "User requested shutdown...");
                    self.begin_shutdown();
                }
                Effect::Sleep { micros } => sleep += Duration::from_micros(micros),
                Effect::ConfigChanged(name) => {
                    tracing::info!(parameter = name, "configuration changed");
                    if matches!(name, "appendonly" | "appendfsync") {
                        self.aof_reconfigure.store(true, Ordering::Relaxed);
                    }
                    self.settings.refresh(&core.config);
                }
                Effect::PauseChanged => {
                    self.pause_requested.store(core.pause.is_some(), Ordering::Relaxed);
                    self.unpaused.notify_waiters();
                }
                Effect::AclSave { client, path, text } => {
                    let written = AtomicWriter::begin(self.storage(), Path::new(&path)).and_then(|mut w| {
                        w.write_all(&text)?;
                        w.commit()
                    });
                    if let Err(e) = &written {
                        tracing::warn!(path, error = %e, "ACL SAVE failed");
                    }
                    self.io_finished(IoDone::AclSave {
                        client,
                        ok: written.is_ok(),
                    });
                }
                Effect::AclLoad { client, path } => {
                    let text = self
                        .storage()
                        .open(Path::new(&path))
                        .and_then(|mut f| {
                            let mut t = String::new();
                            f.read_to_string(&mut t)?;
                            Ok(t)
                        })
                        .map_err(|e| os_message(&e));
                    self.io_finished(IoDone::AclLoad { client, path, text });
                }
                Effect::SnapshotStarted => self.persistence_wakeup.notify_one(),
                Effect::LoadSnapshot(id) => {
                    self.reload_requests.lock().unwrap_or_else(|p| p.into_inner()).push(id);
                    self.persistence_wakeup.notify_one();
                }
                Effect::Unblocked(id) => {
                    // notify_one keeps a permit if the connection is not waiting yet, so no wake-up is lost.
                    if let Some(n) = self.unblocks.lock().unwrap_or_else(|p| p.into_inner()).get(&id) {
                        n.notify_one();
                    }
                }
            }
        }
        sleep
    }
}

/// Checks the configured users before start-up, like the reference server: `user` directives and an
/// `aclfile` together are refused, a bad directive is refused, and an `aclfile` must load completely.
/// Returns the aclfile's users, if one is set.
fn startup_users(
    config: &Config,
) -> io::Result<Option<std::collections::BTreeMap<Vec<u8>, keel_core::acl::user::User>>> {
    let invalid = |msg: String| io::Error::new(io::ErrorKind::InvalidInput, msg);
    let aclfile = config.get("aclfile").unwrap_or("").to_string();
    if !aclfile.is_empty() && !config.users.is_empty() {
        return Err(invalid(
            "Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is \
             invalid. This setup is very likely to lead to configuration errors and security holes, please \
             define either an ACL file or declare users directly in your redis.conf, but not both."
                .into(),
        ));
    }
    let mut scratch = keel_core::acl::Acl::new().users().clone();
    keel_core::acl::file::apply_config_users(&mut scratch, &config.users).map_err(invalid)?;
    if aclfile.is_empty() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&aclfile)
        .map_err(|e| format!("Error loading ACLs, opening file '{aclfile}': {}", os_message(&e)))
        .and_then(|t| keel_core::acl::file::parse(&aclfile, &t))
        .map_err(|e| invalid(format!("Aborting Redis startup because of ACL errors: {e}")))?;
    Ok(Some(text))
}

/// A bound, not yet running server.
pub struct Bound {
    shared: Arc<Shared>,
    tcp: Vec<TcpListener>,
    /// Listeners on `tls-port` (their acceptor state is in `Shared`).
    tls: Vec<TcpListener>,
    unix: Option<(UnixListener, String)>,
}

/// Reads this process's resident set size from /proc, in bytes.
fn rss_bytes() -> u64 {
    if cfg!(madsim) {
        // The host process's RSS means nothing for a simulated node and would vary between runs.
        return 0;
    }
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|p| p.parse::<u64>().ok()))
        .map(|pages| pages * 4096)
        .unwrap_or(0)
}

#[cfg(not(madsim))]
fn seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    // The standard library's RandomState is seeded from OS randomness; mixing in the time covers
    // platforms where it is not.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_i64(now_us());
    h.write_u32(std::process::id());
    h.finish()
}

/// Under the simulator the seed comes from the simulated clock, so a run is reproducible from the
/// simulation's seed (and a restarted server gets a different one).
#[cfg(madsim)]
fn seed() -> u64 {
    (now_us() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

impl Bound {
    /// Binds the listeners `config` asks for. Addresses prefixed with `-` are optional: failing to bind
    /// them (say, no IPv6) is not an error. `port 0` disables TCP.
    pub async fn bind(config: Config, config_file: Option<String>) -> io::Result<Bound> {
        Self::bind_with(config, config_file, false).await
    }

    /// Like [`Bound::bind`], but with `ephemeral_tcp` a `port` of 0 means "any free port" instead of "no
    /// TCP" (for tests and embedding).
    pub async fn bind_with(mut config: Config, config_file: Option<String>, ephemeral_tcp: bool) -> io::Result<Bound> {
        let port = config.get_i64("port") as u16;
        let mut tcp = Vec::new();
        if port != 0 || ephemeral_tcp {
            tcp = bind_all(&config, port).await?;
        }
        let tls_port = config.get_i64("tls-port") as u16;
        let (tls, tls_state) = if tls_port != 0 {
            let state = TlsState::new(&config).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
            (bind_all(&config, tls_port).await?, Some(Arc::new(state)))
        } else {
            (Vec::new(), None)
        };
        let unix = match config.get("unixsocket") {
            Some(path) if !path.is_empty() => {
                let _ = std::fs::remove_file(path);
                let listener = UnixListener::bind(path)?;
                // Written in octal, like file modes.
                let perm = config
                    .get("unixsocketperm")
                    .and_then(|p| i64::from_str_radix(p, 8).ok())
                    .unwrap_or(0);
                if perm != 0 {
                    use std::os::unix::fs::PermissionsExt;
                    std::fs::set_permissions(path, std::fs::Permissions::from_mode(perm as u32))?;
                }
                Some((listener, path.to_string()))
            }
            _ => None,
        };
        let tcp_port = tcp.first().and_then(|l| l.local_addr().ok()).map_or(0, |a| a.port());
        if ephemeral_tcp && port == 0 {
            // `CONFIG GET port` reports the port actually chosen, as `INFO` does.
            let _ = config.set_startup("port", &tcp_port.to_string());
        }
        let process = ProcessInfo {
            pid: std::process::id(),
            executable: std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            config_file: config_file.unwrap_or_default(),
            os: os_description(),
            tcp_port,
        };
        let settings = LiveSettings::default();
        settings.refresh(&config);
        let acl_users = startup_users(&config)?;
        let mut core = Server::new(config, seed(), now_us() / 1000, process);
        if let Some(users) = acl_users {
            keel_core::commands::acl::replace_users(&mut core, users);
        }
        let (shutdown, _) = watch::channel(false);
        let tls_port = tls.first().and_then(|l| l.local_addr().ok()).map_or(0, |a| a.port());
        Ok(Bound {
            shared: Arc::new_cyclic(|weak| {
                core.config_applier = Some(config_applier(weak.clone()));
                Shared {
                    core: Mutex::new(core),
                    kills: Mutex::new(HashMap::new()),
                    stopping: AtomicBool::new(false),
                    unblocks: Mutex::new(HashMap::new()),
                    settings,
                    connections: AtomicUsize::new(0),
                    handshakes: AtomicUsize::new(0),
                    tls: Mutex::new(tls_state),
                    tls_port: AtomicU16::new(tls_port),
                    tls_generation: watch::channel(0).0,
                    shutdown,
                    unpaused: Notify::new(),
                    pause_requested: std::sync::atomic::AtomicBool::new(false),
                    storage: std::sync::RwLock::new(Arc::new(OsStorage)),
                    io_done: Mutex::new(Vec::new()),
                    persistence_wakeup: Notify::new(),
                    reload_requests: Mutex::new(Vec::new()),
                    save_done: watch::channel((0, true)).0,
                    aof: Aof::new(Arc::new(OsStorage)),
                    aof_reconfigure: AtomicBool::new(false),
                    loaded: AtomicBool::new(false),
                }
            }),
            tcp,
            tls,
            unix,
        })
    }

    /// Replaces the storage data files go through (the simulator's faulty disk). Call before
    /// [`Bound::run`], so that start-up loading already reads through it.
    pub fn with_storage(self, storage: Arc<dyn Storage>) -> Bound {
        self.shared.aof.set_storage(storage.clone());
        *self.shared.storage.write().unwrap_or_else(|p| p.into_inner()) = storage;
        self
    }

    /// The TLS port actually bound (0 when TLS is off).
    pub fn tls_port(&self) -> u16 {
        self.tls
            .first()
            .and_then(|l| l.local_addr().ok())
            .map_or(0, |a| a.port())
    }

    /// The TCP port actually bound (0 when TCP is disabled).
    pub fn port(&self) -> u16 {
        self.tcp
            .first()
            .and_then(|l| l.local_addr().ok())
            .map_or(0, |a| a.port())
    }

    /// Loads the data files into the databases; call after [`Bound::with_storage`] and before
    /// [`Bound::run`] (which calls it if the embedder did not). With `appendonly yes` the append-only
    /// file takes precedence (created when missing); otherwise the snapshot file (`dir`/`dbfilename`).
    /// A missing file is fine; a damaged one is an error naming the file and byte offset, and the
    /// server must not start.
    pub fn load(&self) -> Result<(), String> {
        if self.shared.loaded.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let aof = self.shared.core().config.get("appendonly") == Some("yes");
        if aof {
            let mut core = self.shared.core();
            return self.shared.aof.load_and_open(&mut core, now_us());
        }
        crate::persistence::load_at_startup(&self.shared)
    }

    /// The shared state, to trigger shutdown from outside.
    pub fn shared(&self) -> Arc<Shared> {
        self.shared.clone()
    }

    /// Serves until shutdown is requested (by SHUTDOWN or [`Shared::begin_shutdown`]).
    pub async fn run(self) {
        if let Err(e) = self.load() {
            tracing::error!("{e}");
            return;
        }
        let Bound { shared, tcp, tls, unix } = self;
        for listener in tcp {
            tokio::spawn(accept_tcp(listener, shared.clone(), None));
        }
        if let Some(state) = shared.tls_state() {
            for listener in tls {
                let generation = shared.tls_generation.subscribe();
                tokio::spawn(accept_tcp(listener, shared.clone(), Some((state.clone(), generation))));
            }
        }
        let unix_path = unix.as_ref().map(|(_, p)| p.clone());
        if let Some((listener, _)) = unix {
            tokio::spawn(accept_unix(listener, shared.clone()));
        }
        tokio::spawn(cron(shared.clone()));
        tokio::spawn(crate::persistence::run(shared.clone()));
        tokio::spawn(aof_fsync(shared.clone()));
        let mut stop = shared.shutdown_signal();
        while !*stop.borrow() {
            if stop.changed().await.is_err() {
                break;
            }
        }
        if let Some(p) = unix_path {
            let _ = std::fs::remove_file(p);
        }
        {
            let mut core = shared.core();
            shared.aof.flush_at_exit(&mut core);
        }
        tracing::info!("keel is now ready to exit, bye bye...");
    }
}

/// Binds `port` on every `bind` address. Addresses prefixed with `-` are optional; with port 0 every
/// address shares the port the first one was given.
async fn bind_all(config: &Config, port: u16) -> io::Result<Vec<TcpListener>> {
    let mut tcp = Vec::new();
    let binds: Vec<String> = config
        .get("bind")
        .unwrap_or("")
        .split_whitespace()
        .map(String::from)
        .collect();
    let mut chosen_port = port;
    for b in binds {
        let (optional, host) = match b.strip_prefix('-') {
            Some(h) => (true, h.to_string()),
            None => (false, b.clone()),
        };
        let host = if host == "*" { "0.0.0.0".to_string() } else { host };
        let addr: SocketAddr = match host.parse::<std::net::IpAddr>() {
            Ok(ip) => SocketAddr::new(ip, chosen_port),
            Err(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("Invalid bind address '{b}'"),
                ))
            }
        };
        match bind_tcp(addr).await {
            Ok(l) => {
                // With port 0 every address shares the port the first one was given.
                chosen_port = l.local_addr()?.port();
                tcp.push(l);
            }
            Err(e) if optional => tracing::debug!(%addr, error = %e, "optional bind address skipped"),
            Err(e) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("Could not create server TCP listening socket {addr}: {e}"),
                ))
            }
        }
    }
    Ok(tcp)
}

/// Binds `port` (not 0) on every `bind` address right away, from inside the runtime (`CONFIG SET
/// tls-port`). Optional (`-`) addresses that fail are skipped.
#[cfg(not(madsim))]
fn bind_now(config: &Config, port: u16) -> io::Result<Vec<TcpListener>> {
    let mut listeners = Vec::new();
    for b in config.get("bind").unwrap_or("").split_whitespace() {
        let (optional, host) = match b.strip_prefix('-') {
            Some(h) => (true, h),
            None => (false, b),
        };
        let host = if host == "*" { "0.0.0.0" } else { host };
        let ip: std::net::IpAddr = host
            .parse()
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, format!("Invalid bind address '{b}'")))?;
        let bound = std::net::TcpListener::bind(SocketAddr::new(ip, port))
            .and_then(|l| l.set_nonblocking(true).map(|_| l))
            .and_then(TcpListener::from_std);
        match bound {
            Ok(l) => listeners.push(l),
            Err(_) if optional => {}
            Err(e) => return Err(e),
        }
    }
    Ok(listeners)
}

/// The simulator cannot turn a standard listener into a simulated one: moving `tls-port` at run time is
/// refused there.
#[cfg(madsim)]
fn bind_now(_config: &Config, _port: u16) -> io::Result<Vec<TcpListener>> {
    Err(io::Error::other("moving tls-port at run time is not simulated"))
}

/// The hook `CONFIG SET` calls for `tls-*` parameters: moves the TLS port when `tls-port` was set, else
/// reloads the TLS configuration if TLS is on (with TLS off the values are only stored).
fn config_applier(shared: Weak<Shared>) -> keel_core::netsec::ConfigApplier {
    Box::new(move |config, names| {
        let Some(first_tls) = names.iter().find(|n| n.starts_with("tls-")) else {
            return Ok(());
        };
        let Some(shared) = shared.upgrade() else {
            return Ok(());
        };
        if names.contains(&"tls-port") {
            return shared.move_tls_port(config).map_err(|e| ("tls-port", e));
        }
        let Some(state) = shared.tls_state() else {
            return Ok(());
        };
        state.reload(config).map_err(|e| {
            tracing::warn!(error = %e, "Failed applying new TLS configuration; the previous one stays");
            (*first_tls, tls::RELOAD_FAILED.to_string())
        })
    })
}

#[cfg(not(madsim))]
async fn bind_tcp(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(511)
}

/// Under the simulator (keel-sim) there is no `TcpSocket`; a simulated listener has no address reuse or
/// backlog to set.
#[cfg(madsim)]
async fn bind_tcp(addr: SocketAddr) -> io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

/// `uname -srm`, as `INFO server` reports it (`Linux 6.1.0 x86_64`).
fn os_description() -> String {
    let read = |name: &str| std::fs::read_to_string(format!("/proc/sys/kernel/{name}")).unwrap_or_default();
    format!(
        "{} {} {}",
        read("ostype").trim(),
        read("osrelease").trim(),
        std::env::consts::ARCH
    )
}

/// The socket's descriptor, for `CLIENT LIST`.
#[cfg(not(madsim))]
fn tcp_fd(stream: &tokio::net::TcpStream) -> i64 {
    std::os::fd::AsRawFd::as_raw_fd(stream) as i64
}

/// Simulated sockets have no descriptor (asking for one panics); report the reference server's "none".
#[cfg(madsim)]
fn tcp_fd(_stream: &tokio::net::TcpStream) -> i64 {
    -1
}

/// Accepts connections on one listener; with `tls` each one first completes a TLS handshake, and the
/// loop ends when the TLS generation changes (the port moved).
async fn accept_tcp(listener: TcpListener, shared: Arc<Shared>, tls: Option<(Arc<TlsState>, watch::Receiver<u64>)>) {
    let mut stop = shared.shutdown_signal();
    let (tls, mut generation) = match tls {
        Some((state, generation)) => (Some(state), Some(generation)),
        None => (None, None),
    };
    loop {
        tokio::select! {
            _ = async { match generation.as_mut() { Some(g) => g.changed().await, None => std::future::pending().await } } => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let local = stream.local_addr().map(|a| a.to_string()).unwrap_or_default();
                    let fd = tcp_fd(&stream);
                    let info = keel_core::ConnInfo { addr: peer.to_string(), laddr: local, fd, kind: keel_core::ConnKind::Tcp };
                    match &tls {
                        None => {
                            tokio::spawn(conn::serve(stream, info, shared.clone()));
                        }
                        Some(state) => {
                            tokio::spawn(serve_tls(stream, info, shared.clone(), state.acceptor()));
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    // Out of descriptors and similar: back off instead of spinning.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
            _ = stop.changed() => return,
        }
    }
}

/// Completes a TLS handshake within its deadline, then serves the connection. Handshakes under way are
/// bounded by `maxclients` too, so a flood of clients that never finish one holds little.
async fn serve_tls(
    stream: tokio::net::TcpStream,
    info: keel_core::ConnInfo,
    shared: Arc<Shared>,
    acceptor: tokio_rustls::TlsAcceptor,
) {
    let pending = shared.handshakes.fetch_add(1, Ordering::SeqCst) + 1;
    let result = if pending > shared.settings.maxclients.load(Ordering::Relaxed) {
        Err("too many TLS handshakes under way".to_string())
    } else {
        let limit = tls::handshake_timeout(shared.settings.timeout_s.load(Ordering::Relaxed));
        match tokio::time::timeout(limit, acceptor.accept(stream)).await {
            Ok(Ok(tls_stream)) => Ok(tls_stream),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("TLS handshake timed out".to_string()),
        }
    };
    shared.handshakes.fetch_sub(1, Ordering::SeqCst);
    match result {
        Ok(tls_stream) => conn::serve(tls_stream, info, shared).await,
        Err(e) => tracing::debug!(client = %info.addr, error = %e, "Error accepting a client connection"),
    }
}

async fn accept_unix(listener: UnixListener, shared: Arc<Shared>) {
    let mut stop = shared.shutdown_signal();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    #[cfg(not(madsim))]
                    let path = stream.local_addr().ok().and_then(|a| a.as_pathname().map(|p| p.display().to_string())).unwrap_or_default();
                    // The simulator has no Unix sockets (binding one panics); this only keeps the code compiling.
                    #[cfg(madsim)]
                    let path = String::new();
                    let fd = std::os::fd::AsRawFd::as_raw_fd(&stream) as i64;
                    let info = keel_core::ConnInfo { addr: format!("{path}:0"), laddr: format!("{path}:0"), fd, kind: keel_core::ConnKind::Unix };
                    tokio::spawn(conn::serve(stream, info, shared.clone()));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
            _ = stop.changed() => return,
        }
    }
}

/// Periodic work: active expiry and memory figures, `hz` times a second.
async fn cron(shared: Arc<Shared>) {
    let mut stop = shared.shutdown_signal();
    loop {
        let hz = shared.core().config.get_i64("hz").clamp(1, 500) as u64;
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(1000 / hz)) => {}
            _ = stop.changed() => return,
        }
        let rss = rss_bytes();
        let used = alloc::allocated_bytes();
        let mut core = shared.core();
        let peak = core.memory.peak.max(used);
        core.memory = MemoryFigures {
            used_memory: used,
            rss,
            peak,
        };
        core.cron(now_us());
        // Keys the cron expired propagate as DELs; a failed append-only write is retried; an
        // `appendonly yes` that had to wait for a running snapshot starts.
        shared.aof.cron(&mut core, now_us());
        // Snapshots started by cron (save points, a scheduled rewrite) wake the persistence task.
        let effects = core.take_effects();
        if !effects.is_empty() {
            shared.apply_effects(effects, &core);
        }
    }
}

/// The `appendfsync everysec` fsync, once a second, outside the core lock.
async fn aof_fsync(shared: Arc<Shared>) {
    let mut stop = shared.shutdown_signal();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = stop.changed() => return,
        }
        if shared.aof.policy() != crate::aof::FsyncPolicy::EverySec {
            continue;
        }
        if let Some(e) = shared.aof.fsync_if_due() {
            let text = crate::aof::error_text(&e);
            tracing::warn!("Can't persist AOF for fsync error when the AOF fsync policy is 'everysec': {text}");
            shared.core().aof.last_write_error = Some(text);
        }
    }
}
