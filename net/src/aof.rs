//! The append-only file: the reference server's 7.0 multi-part layout (a directory with a base file,
//! incremental files and a manifest), written from core's propagation stream and replayed at start-up.
//!
//! Owns the files (through `shared.storage` only), the fsync policy (`always`: the bytes of a batch are
//! written and fsynced before its replies go out; `everysec`: a background fsync once a second; `no`:
//! the OS decides), recovery from failed writes (the torn part is truncated away, the bytes are kept
//! and retried, and core refuses writes with MISCONF until a write succeeds), and loading (a torn last
//! command is dropped when `aof-load-truncated` allows it; anything else malformed stops start-up with
//! the file and offset). It never interprets commands: core encodes and replays them.
//!
//! Lock order: the core lock, then the file lock. The background fsync takes the file lock alone.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use keel_core::persist::aof_format::{self, ReplayError};
use keel_core::persist::aof_manifest::{base_name, manifest_name, AofFile, FileKind, Manifest};
use keel_core::persist::rdb_snapshot::RdbFormat;
use keel_core::persist::snapshot::Snapshot;
use keel_core::{Config, Server};

use crate::storage::{read_all, write_atomically, Storage, StorageFile};

/// When written bytes are made durable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FsyncPolicy {
    Always,
    EverySec,
    No,
}

impl FsyncPolicy {
    fn from_config(config: &Config) -> FsyncPolicy {
        match config.get("appendfsync") {
            Some("always") => FsyncPolicy::Always,
            Some("no") => FsyncPolicy::No,
            _ => FsyncPolicy::EverySec,
        }
    }
}

/// The open append-only file.
struct OpenAof {
    dir: PathBuf,
    prefix: String,
    manifest: Manifest,
    /// The incremental file being appended to.
    incr_path: PathBuf,
    file: Option<Box<dyn StorageFile>>,
    /// Bytes of the incremental file known to hold only complete writes.
    incr_len: u64,
    /// Propagated bytes not yet written (kept across failures to be retried in order).
    pending: Vec<u8>,
    /// Bytes written since the last successful fsync.
    unsynced: bool,
    /// The last write failed part-way: the file must be cut back to `incr_len` before writing again.
    torn: bool,
    /// The background fsync failed: the next write retries it, and only its success clears the error.
    sync_failed: bool,
    /// While a rewrite runs: the sequence number of the incremental file opened at its instant (it and
    /// later ones continue the new base).
    rewrite_from_incr: Option<u64>,
}

/// The append-only file of one server, shared by connection tasks and the background fsync.
pub struct Aof {
    /// Replaceable before start-up (the simulator's disk), like the shared state's.
    storage: RwLock<Arc<dyn Storage>>,
    state: Mutex<Option<OpenAof>>,
    policy: Mutex<FsyncPolicy>,
}

/// The text the reference server prints for a system error (`strerror`), without Rust's suffix.
pub fn error_text(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// The directory holding the append-only files, from `dir` and `appenddirname`.
pub fn aof_dir(config: &Config) -> PathBuf {
    let dir = config.get("dir").filter(|d| !d.is_empty()).unwrap_or(".");
    Path::new(dir).join(config.get("appenddirname").unwrap_or("appendonlydir"))
}

/// The file-name prefix of the append-only files (`appendfilename`).
fn aof_prefix(config: &Config) -> String {
    config.get("appendfilename").unwrap_or("appendonly.aof").to_string()
}

impl Aof {
    /// The manifest in `dir` for `prefix`, if one exists and parses.
    fn read_manifest(&self, dir: &Path, prefix: &str) -> Option<Manifest> {
        let text = read_all(&*self.storage(), &dir.join(manifest_name(prefix))).ok()?;
        Manifest::parse(&text).ok()
    }

    /// The storage the files go through.
    fn storage(&self) -> Arc<dyn Storage> {
        self.storage.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Replaces the storage (before start-up).
    pub fn set_storage(&self, storage: Arc<dyn Storage>) {
        *self.storage.write().unwrap_or_else(|p| p.into_inner()) = storage;
    }

    /// An append-only file handler over `storage`, closed.
    pub fn new(storage: Arc<dyn Storage>) -> Aof {
        Aof {
            storage: RwLock::new(storage),
            state: Mutex::new(None),
            policy: Mutex::new(FsyncPolicy::EverySec),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Option<OpenAof>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The fsync policy in force.
    pub fn policy(&self) -> FsyncPolicy {
        *self.policy.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// At start-up with `appendonly yes`: loads the files the manifest lists into `core` (or creates an
    /// empty base, a first incremental file and the manifest when there are none), then opens the last
    /// incremental file for appending and turns propagation on. An error names the file and the reason;
    /// the server must not start then.
    pub fn load_and_open(&self, core: &mut Server, now_us: i64) -> Result<(), String> {
        *self.policy.lock().unwrap_or_else(|p| p.into_inner()) = FsyncPolicy::from_config(&core.config);
        let dir = aof_dir(&core.config);
        let prefix = aof_prefix(&core.config);
        let s = self.storage();
        let s = &*s;
        let manifest_path = dir.join(manifest_name(&prefix));
        let manifest = match s
            .size(&manifest_path)
            .map_err(|e| format!("{}: {e}", manifest_path.display()))?
        {
            Some(_) => {
                let text = read_all(s, &manifest_path).map_err(|e| format!("{}: {e}", manifest_path.display()))?;
                let m = Manifest::parse(&text).map_err(|e| format!("{}: {e}", manifest_path.display()))?;
                self.load_files(core, &dir, &m, now_us)?;
                m
            }
            None => self
                .create_fresh(core, &dir, &prefix, now_us)
                .map_err(|e| format!("{}: {e}", dir.display()))?,
        };
        let mut manifest = manifest;
        let fresh_incr = manifest.incrs.is_empty();
        if fresh_incr {
            manifest.add_incr(&prefix);
            write_atomically(self.storage().clone(), &manifest_path, manifest.format().as_bytes())
                .map_err(|e| format!("{}: {e}", manifest_path.display()))?;
        }
        let incr = manifest.incrs.last().map(|f| f.name.clone()).unwrap_or_default();
        let incr_path = dir.join(&incr);
        let incr_len = s
            .size(&incr_path)
            .map_err(|e| format!("{}: {e}", incr_path.display()))?
            .unwrap_or(0);
        let file = s
            .append(&incr_path)
            .map_err(|e| format!("{}: {e}", incr_path.display()))?;
        // As on the reference server, the sizes count what was loaded; a fresh directory starts at 0.
        let total = if fresh_incr {
            0
        } else {
            self.total_size(&dir, &manifest)
        };
        core.aof.enabled = true;
        core.aof.current_size = total;
        core.aof.base_size = total;
        core.set_propagation(true);
        core.propagation.forget_selected_db();
        *self.lock() = Some(OpenAof {
            dir,
            prefix,
            manifest,
            incr_path,
            file: Some(file),
            incr_len,
            pending: Vec::new(),
            unsynced: false,
            torn: false,
            sync_failed: false,
            rewrite_from_incr: None,
        });
        Ok(())
    }

    /// Creates the directory with a base file of the current data (empty: nothing was loaded) and the
    /// manifest listing it: an RDB-preamble base with `aof-use-rdb-preamble yes`, else an empty
    /// command stream.
    fn create_fresh(&self, core: &mut Server, dir: &Path, prefix: &str, now_us: i64) -> io::Result<Manifest> {
        let s = self.storage();
        let s = &s;
        s.create_dir_all(dir)?;
        let rdb = core.config.get("aof-use-rdb-preamble") == Some("yes");
        let mut bytes = Vec::new();
        if rdb {
            let now_ms = now_us.div_euclid(1000);
            let format = RdbFormat::new(&core.config, now_ms, core.memory.used_memory, true);
            let mut snapshot = Snapshot::begin(&mut core.dbs, format, now_ms);
            while let Some(chunk) = snapshot.next_chunk(&mut core.dbs, 1 << 20) {
                bytes.extend_from_slice(&chunk);
            }
        }
        let base = AofFile {
            name: base_name(prefix, 1, rdb),
            seq: 1,
            kind: FileKind::Base,
        };
        write_atomically(s.clone(), &dir.join(&base.name), &bytes)?;
        tracing::info!("Creating AOF base file {} on server start", base.name);
        Ok(Manifest {
            base: Some(base),
            history: Vec::new(),
            incrs: Vec::new(),
        })
    }

    /// Replays the base and the incremental files into `core`.
    fn load_files(&self, core: &mut Server, dir: &Path, m: &Manifest, now_us: i64) -> Result<(), String> {
        let allow_torn = core.config.get("aof-load-truncated") == Some("yes");
        let files: Vec<&AofFile> = m.base.iter().chain(&m.incrs).collect();
        for (i, f) in files.iter().enumerate() {
            let path = dir.join(&f.name);
            if f.kind == FileKind::Base && f.name.ends_with(".rdb") {
                let source = self
                    .storage()
                    .open(&path)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                core.load_rdb(source, now_us.div_euclid(1000))
                    .map_err(|e| format!("Bad file format reading the append only file {}: {e}", path.display()))?;
                tracing::info!("DB loaded from base file {}", f.name);
                continue;
            }
            let bytes = match read_all(&*self.storage(), &path) {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::NotFound && f.kind == FileKind::Incr => Vec::new(),
                Err(e) => return Err(format!("{}: {e}", path.display())),
            };
            // Only the last file can have been cut short by a crash.
            let last = i + 1 == files.len();
            match aof_format::replay(core, &bytes, now_us, allow_torn && last) {
                Ok(report) => {
                    if let Some(dropped) = report.dropped_tail {
                        tracing::warn!(
                            "!!! Warning: short read while loading the AOF file {}!!! Dropping {dropped} bytes \
                             of an incomplete command after offset {}",
                            f.name,
                            report.valid_len
                        );
                        self.storage()
                            .truncate(&path, report.valid_len as u64)
                            .map_err(|e| format!("{}: cannot truncate the torn tail: {e}", path.display()))?;
                    }
                    tracing::info!("DB loaded from {} file: {}", if f.kind == FileKind::Base { "base" } else { "incr" }, f.name);
                }
                Err(ReplayError::Format(aof_format::FormatError::Truncated { valid_len })) => {
                    return Err(format!(
                        "Unexpected end of file reading the append only file {} at offset {valid_len}. \
                         You can: 1) Make a backup of your AOF file, then use ./keel-check-aof --fix <filename.manifest>. \
                         2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.",
                        path.display()
                    ))
                }
                Err(e) => return Err(format!("Bad file format reading the append only file {}: {e}", path.display())),
            }
        }
        Ok(())
    }

    fn total_size(&self, dir: &Path, m: &Manifest) -> u64 {
        m.base
            .iter()
            .chain(&m.incrs)
            .filter_map(|f| self.storage().size(&dir.join(&f.name)).ok().flatten())
            .sum()
    }

    /// After a batch, under the core lock: writes what the batch propagated (and anything an earlier
    /// failure left), fsyncing first under `always`. Returns false when the batch's writes are not in
    /// the file as the policy requires: its replies must not be sent (the client is disconnected instead).
    pub fn after_batch(&self, core: &mut Server) -> bool {
        if !core.aof.enabled {
            return true;
        }
        let (bytes, after_rewrite) = core.propagation.take_stream_split();
        let mut guard = self.lock();
        let Some(aof) = guard.as_mut() else {
            return true;
        };
        aof.pending.extend_from_slice(&bytes);
        let mut propagated = !bytes.is_empty();
        if let Some(after) = after_rewrite {
            propagated |= !after.is_empty();
            // The rewrite's instant: what came before goes to the old file, the rest to a new one.
            let policy = self.policy();
            let switched = self.write_pending(aof, policy).and_then(|written| {
                core.aof.current_size += written;
                self.open_next_incr(aof, true)
            });
            if let Err(e) = switched {
                // The old incremental file stays current; the rewrite will not be installed.
                tracing::warn!("Can't open a new AOF incr file for the rewrite: {}", error_text(&e));
                aof.rewrite_from_incr = Some(u64::MAX);
            }
            aof.pending.extend_from_slice(&after);
        }
        if aof.pending.is_empty() && !aof.torn && !aof.sync_failed {
            // Nothing to retry: an error reported meanwhile (by the background fsync, since
            // recovered) no longer holds.
            if core.aof.last_write_error.take().is_some() {
                tracing::warn!("AOF write error looks solved, Redis can write again.");
            }
            return true;
        }
        let policy = self.policy();
        match self.write_pending(aof, policy) {
            Ok(written) => {
                core.aof.current_size += written;
                if core.aof.last_write_error.take().is_some() {
                    tracing::warn!("AOF write error looks solved, Redis can write again.");
                }
                true
            }
            Err(e) => {
                let text = error_text(&e);
                if core.aof.last_write_error.is_none() {
                    tracing::warn!("Error writing to the AOF file: {text}");
                }
                core.aof.last_write_error = Some(text);
                // Under `always` a batch whose own writes are not durable must not be acknowledged.
                policy != FsyncPolicy::Always || !propagated
            }
        }
    }

    /// Opens the next incremental file, lists it in the manifest (written atomically) and makes it the
    /// one appended to; remembers it as the first file after the running rewrite's base.
    fn open_next_incr(&self, aof: &mut OpenAof, persist_manifest: bool) -> io::Result<()> {
        let mut manifest = aof.manifest.clone();
        let name = manifest.add_incr(&aof.prefix);
        let path = aof.dir.join(&name);
        let file = self.storage().create(&path)?;
        if persist_manifest {
            write_atomically(
                self.storage().clone(),
                &aof.dir.join(manifest_name(&aof.prefix)),
                manifest.format().as_bytes(),
            )?;
        }
        tracing::info!("Creating AOF incr file {name} on background rewrite");
        if let Some(mut old) = aof.file.take() {
            // Best effort: the old file's bytes were written; under everysec they were not all fsynced.
            let _ = old.sync();
        }
        aof.rewrite_from_incr = Some(manifest.incr_seq());
        aof.manifest = manifest;
        aof.file = Some(file);
        aof.incr_path = path;
        aof.incr_len = 0;
        aof.unsynced = false;
        Ok(())
    }

    /// The path the running rewrite writes its base to (the directory is created if missing).
    pub fn rewrite_base_path(&self, config: &Config) -> io::Result<PathBuf> {
        let guard = self.lock();
        let (dir, prefix, seq) = match guard.as_ref() {
            Some(a) => (a.dir.clone(), a.prefix.clone(), a.manifest.base_seq() + 1),
            None => {
                let dir = aof_dir(config);
                let prefix = aof_prefix(config);
                let seq = self.read_manifest(&dir, &prefix).map_or(1, |m| m.base_seq() + 1);
                (dir, prefix, seq)
            }
        };
        self.storage().create_dir_all(&dir)?;
        Ok(dir.join(base_name(&prefix, seq, true)))
    }

    /// The rewrite's base is durable at `base` (`ok`), or the rewrite failed: installs the new base in
    /// the manifest and deletes the files it replaces, then reports to core.
    pub fn rewrite_finished(&self, core: &mut Server, ok: bool, base: &Path, now_us: i64) {
        let ok = ok
            && self
                .install(core, base)
                .map_err(|e| tracing::warn!("AOF rewrite failed: {e}"))
                .is_ok();
        if !ok {
            let _ = self.storage().remove(base);
        }
        keel_core::commands::aof::rewrite_finished(core, ok, now_us.div_euclid(1000));
        if ok {
            tracing::info!("Background AOF rewrite finished successfully");
        }
    }

    fn install(&self, core: &mut Server, base: &Path) -> Result<(), String> {
        let name = base
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or("no base file name")?;
        let seq = name
            .split('.')
            .rev()
            .nth(2)
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or("unexpected base file name")?;
        let new_base = AofFile {
            name,
            seq,
            kind: FileKind::Base,
        };
        let base_size = self.storage().size(base).ok().flatten().unwrap_or(0);
        let mut guard = self.lock();
        let (dir, prefix, old, manifest) = match guard.as_mut() {
            Some(aof) => {
                let from = aof.rewrite_from_incr.take().ok_or("no rewrite was running")?;
                if from == u64::MAX {
                    return Err("the new incr file could not be opened at the rewrite's start".into());
                }
                let mut m = aof.manifest.clone();
                let keep = m.incrs.iter().filter(|f| f.seq >= from).count();
                let gone = m.install_base(new_base, keep);
                (aof.dir.clone(), aof.prefix.clone(), gone, m)
            }
            None => {
                let dir = aof_dir(&core.config);
                let prefix = aof_prefix(&core.config);
                let old = self
                    .read_manifest(&dir, &prefix)
                    .map(|m| m.base.into_iter().chain(m.history).chain(m.incrs).collect())
                    .unwrap_or_default();
                let m = Manifest {
                    base: Some(new_base),
                    history: Vec::new(),
                    incrs: Vec::new(),
                };
                (dir, prefix, old, m)
            }
        };
        write_atomically(
            self.storage().clone(),
            &dir.join(manifest_name(&prefix)),
            manifest.format().as_bytes(),
        )
        .map_err(|e| format!("cannot write the manifest: {e}"))?;
        for f in old {
            tracing::info!("Removing the history file {} in the background", f.name);
            let _ = self.storage().remove(&dir.join(&f.name));
        }
        if let Some(aof) = guard.as_mut() {
            aof.manifest = manifest;
            core.aof.base_size = base_size;
            core.aof.current_size = base_size + aof.incr_len;
        }
        Ok(())
    }

    /// Writes the pending bytes (cutting a torn earlier write away first) and, under `always`, fsyncs.
    /// Returns the bytes written.
    fn write_pending(&self, aof: &mut OpenAof, policy: FsyncPolicy) -> io::Result<u64> {
        if aof.torn {
            aof.file = None;
            self.storage().truncate(&aof.incr_path, aof.incr_len)?;
            aof.file = Some(self.storage().append(&aof.incr_path)?);
            aof.torn = false;
        }
        let file = match aof.file.as_mut() {
            Some(f) => f,
            None => aof.file.insert(self.storage().append(&aof.incr_path)?),
        };
        let n = aof.pending.len() as u64;
        if n > 0 {
            if let Err(e) = file.write_all(&aof.pending) {
                aof.torn = true;
                return Err(e);
            }
            aof.incr_len += n;
            aof.pending.clear();
            aof.unsynced = true;
        }
        if (policy == FsyncPolicy::Always || aof.sync_failed) && aof.unsynced {
            if let Err(e) = file.sync() {
                aof.sync_failed = true;
                return Err(e);
            }
            aof.unsynced = false;
            aof.sync_failed = false;
        }
        Ok(n)
    }

    /// The background fsync of `everysec` (and the retry of failed writes): call about once a second.
    /// Returns the error to report in core, if the fsync failed.
    pub fn fsync_if_due(&self) -> Option<io::Error> {
        let mut guard = self.lock();
        let aof = guard.as_mut()?;
        if !aof.unsynced || aof.torn {
            return None;
        }
        let file = aof.file.as_mut()?;
        match file.sync() {
            Ok(()) => {
                aof.unsynced = false;
                None
            }
            Err(e) => {
                aof.sync_failed = true;
                Some(e)
            }
        }
    }

    /// Periodic work under the core lock: retries a failed write (so writes are accepted again once the
    /// disk recovers), applies `appendfsync` and `appendonly` changes.
    pub fn cron(&self, core: &mut Server, now_us: i64) {
        let on = core.config.get("appendonly") == Some("yes");
        *self.policy.lock().unwrap_or_else(|p| p.into_inner()) = FsyncPolicy::from_config(&core.config);
        if on && !core.aof.enabled {
            self.start_at_runtime(core, now_us);
        } else if !on && core.aof.enabled {
            self.stop(core);
        } else if core.aof.enabled && (core.aof.last_write_error.is_some() || core.propagation.has_stream()) {
            self.after_batch(core);
        }
    }

    /// `CONFIG SET appendonly yes` on a running server: opens a new incremental file and starts a
    /// rewrite at the same instant, so the new base (a point-in-time snapshot) and the file together
    /// hold every write. The manifest on disk changes only when the rewrite is installed. While a
    /// snapshot is being written this waits (cron retries), since only one snapshot runs at a time.
    fn start_at_runtime(&self, core: &mut Server, now_us: i64) {
        if core.persistence.in_progress() {
            return;
        }
        *self.policy.lock().unwrap_or_else(|p| p.into_inner()) = FsyncPolicy::from_config(&core.config);
        let dir = aof_dir(&core.config);
        let prefix = aof_prefix(&core.config);
        let manifest = self.read_manifest(&dir, &prefix).unwrap_or_default();
        let mut aof = OpenAof {
            dir: dir.clone(),
            prefix,
            manifest,
            incr_path: PathBuf::new(),
            file: None,
            incr_len: 0,
            pending: Vec::new(),
            unsynced: false,
            torn: false,
            sync_failed: false,
            rewrite_from_incr: None,
        };
        let opened = self
            .storage()
            .create_dir_all(&dir)
            .and_then(|()| self.open_next_incr(&mut aof, false));
        if let Err(e) = opened {
            tracing::warn!("Could not turn the AOF on: {}", error_text(&e));
            let _ = core.config.set_startup("appendonly", "no");
            return;
        }
        core.aof.enabled = true;
        core.aof.current_size = 0;
        core.set_propagation(true);
        core.propagation.forget_selected_db();
        if !keel_core::commands::aof::start_rewrite(core, now_us.div_euclid(1000)) {
            let _ = core.config.set_startup("appendonly", "no");
            core.aof.enabled = false;
            core.set_propagation(false);
            return;
        }
        // The rewrite's mark is this very instant: the file just opened is the new one.
        let _ = core.propagation.take_stream_split();
        *self.lock() = Some(aof);
    }

    /// `CONFIG SET appendonly no`: flushes, fsyncs and closes the file; propagation stops.
    pub fn stop(&self, core: &mut Server) {
        self.after_batch(core);
        if let Some(mut aof) = self.lock().take() {
            if let Some(f) = aof.file.as_mut() {
                let _ = f.sync();
            }
        }
        core.set_propagation(false);
        core.aof.enabled = false;
        core.aof.last_write_error = None;
    }

    /// At shutdown: writes what is pending and fsyncs.
    pub fn flush_at_exit(&self, core: &mut Server) {
        if !core.aof.enabled {
            return;
        }
        self.after_batch(core);
        if let Some(aof) = self.lock().as_mut() {
            if let Some(f) = aof.file.as_mut() {
                let _ = f.sync();
            }
        }
    }

    /// The directory, file-name prefix and manifest text, while open.
    pub fn location(&self) -> Option<(PathBuf, String, String)> {
        self.lock()
            .as_ref()
            .map(|a| (a.dir.clone(), a.prefix.clone(), a.manifest.format()))
    }
}
