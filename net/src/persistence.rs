//! Snapshot files on disk: writing the snapshots core produces, loading at start-up and on
//! `DEBUG RELOAD`, and the final save at shutdown by signal.
//!
//! Owns the one task that drives a running snapshot (so its chunks reach exactly one file, in order):
//! it takes a bounded chunk under the core lock, releases the lock, writes the chunk through an
//! [`AtomicWriter`], and reports the outcome to core, which answers waiting clients. A save succeeds
//! only once the file is fsynced, renamed over the old one and the directory fsynced; any error
//! before that leaves the previous file in place. All file access goes through [`Storage`].
//!
//! Data files live at `dir`/`dbfilename`. `dir` is a base path keel joins to file names (the reference
//! server changes its working directory instead; keel never does, so a relative `dir` stays relative
//! to the directory keel was started in).

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use keel_core::persist::save::{AfterSave, SaveKind, SnapshotPull};
use keel_core::{ClientId, Config, Server};

use crate::server::{now_us, Shared};
use crate::storage::{AtomicWriter, Storage};

/// Bytes taken from the snapshot per lock acquisition.
pub const CHUNK_BYTES: usize = 256 * 1024;

/// The path of the snapshot file `config` names.
pub fn rdb_path(config: &Config) -> PathBuf {
    let dir = config.get("dir").unwrap_or("");
    let name = config.get("dbfilename").unwrap_or("dump.rdb");
    if dir.is_empty() {
        PathBuf::from(name)
    } else {
        PathBuf::from(dir).join(name)
    }
}

/// How a load at start-up went.
#[derive(Debug, PartialEq, Eq)]
pub enum Loaded {
    /// There was no file: the databases start empty.
    NoFile,
    /// This many keys were loaded (and this many skipped as expired).
    Keys { loaded: u64, expired: u64 },
}

/// Loads the snapshot file into `core` (whose databases are empty). A missing file is not an error;
/// anything unreadable or corrupt is, with a message naming the byte offset.
pub fn load_file(core: &mut Server, storage: &dyn Storage, now_ms: i64) -> Result<Loaded, String> {
    let path = rdb_path(&core.config);
    match storage.size(&path) {
        Ok(None) => return Ok(Loaded::NoFile),
        Ok(Some(_)) => {}
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    }
    let source = storage
        .open(&path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    match core.load_rdb(source, now_ms) {
        Ok(stats) => Ok(Loaded::Keys {
            loaded: stats.keys_loaded,
            expired: stats.keys_expired,
        }),
        Err(e) => Err(format!("the snapshot file {} is not valid: {e}", path.display())),
    }
}

/// Loads the snapshot file before the server accepts connections, logging what was loaded.
pub fn load_at_startup(shared: &Shared) -> Result<(), String> {
    let started = Instant::now();
    let mut core = shared.core();
    match load_file(&mut core, shared.storage().as_ref(), now_us() / 1000)? {
        Loaded::NoFile => tracing::info!("no snapshot file, starting with empty databases"),
        Loaded::Keys { loaded, expired } => tracing::info!(
            keys = loaded,
            expired,
            seconds = started.elapsed().as_secs_f64(),
            "DB loaded from disk"
        ),
    }
    Ok(())
}

/// Writes snapshot `id` to `path`: chunk by chunk, each taken under the core lock, then made durable
/// and put in place. `Ok(false)` when the snapshot was abandoned (the old file stays).
async fn write_snapshot(shared: &Shared, id: u64, path: &std::path::Path) -> io::Result<bool> {
    let mut writer = AtomicWriter::begin(shared.storage(), path)?;
    loop {
        let pull = shared.core().snapshot_chunk(id, CHUNK_BYTES);
        match pull {
            SnapshotPull::Bytes(bytes) => writer.write_all(&bytes)?,
            SnapshotPull::Complete => break,
            // Dropping the writer removes the temporary file.
            SnapshotPull::Abandoned => return Ok(false),
        }
        // Let connections take the lock between chunks.
        tokio::task::yield_now().await;
    }
    commit(writer).await?;
    Ok(true)
}

/// Makes the file durable and puts it in place. The fsync blocks, so it runs on the runtime's blocking
/// pool: clients are still served meanwhile, also on the single-threaded runtime.
#[cfg(not(madsim))]
async fn commit(writer: AtomicWriter) -> io::Result<()> {
    tokio::task::spawn_blocking(move || writer.commit())
        .await
        .map_err(io::Error::other)?
}

/// The simulator's storage is in memory and has no blocking pool.
#[cfg(madsim)]
async fn commit(writer: AtomicWriter) -> io::Result<()> {
    writer.commit()
}

/// The persistence task: runs every snapshot core starts ([`keel_core::Effect::SnapshotStarted`]) to
/// its end, and the reloads `DEBUG RELOAD` asks for. Runs until the server stops.
pub async fn run(shared: Arc<Shared>) {
    let mut stop = shared.shutdown_signal();
    loop {
        let reloads = std::mem::take(&mut *shared.reload_requests.lock().unwrap_or_else(|p| p.into_inner()));
        for id in reloads {
            reload(&shared, id);
        }
        let (running, path, aof_rewrite) = {
            let core = shared.core();
            let aof_rewrite = core.persistence.kind == Some(SaveKind::AofRewrite);
            let path = if aof_rewrite {
                // A BGREWRITEAOF: the snapshot is the append-only file's new base.
                match shared.aof.rewrite_base_path(&core.config) {
                    Ok(p) => p,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot create the append-only file directory");
                        PathBuf::from("/nonexistent/aof-rewrite")
                    }
                }
            } else {
                rdb_path(&core.config)
            };
            (core.running_snapshot(), path, aof_rewrite)
        };
        let Some(id) = running else {
            tokio::select! {
                _ = shared.persistence_wakeup.notified() => {}
                _ = stop.changed() => return,
            }
            continue;
        };
        let started = Instant::now();
        let result = write_snapshot(&shared, id, &path).await;
        let ok = match result {
            Ok(true) => {
                tracing::info!(file = %path.display(), seconds = started.elapsed().as_secs_f64(), "DB saved on disk");
                true
            }
            // Abandoned: nothing to report; a replacing snapshot is picked up on the next round.
            Ok(false) => continue,
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "Background saving error");
                false
            }
        };
        let after = {
            let mut core = shared.core();
            let after = core.snapshot_finished(id, ok, now_us() / 1000);
            if aof_rewrite {
                shared.aof.rewrite_finished(&mut core, ok, &path, now_us());
            }
            let effects = core.take_effects();
            shared.apply_effects(effects, &core);
            after
        };
        shared.save_done.send_replace((id, ok));
        if let AfterSave::Reload(client) = after {
            reload(&shared, client);
        }
    }
}

/// `DEBUG RELOAD`: empties the databases, loads the file back and answers client `id`.
fn reload(shared: &Shared, id: ClientId) {
    let mut core = shared.core();
    core.empty_for_reload();
    let loaded = match load_file(&mut core, shared.storage().as_ref(), now_us() / 1000) {
        Ok(_) => true,
        Err(e) => {
            tracing::warn!(error = %e, "DEBUG RELOAD could not load the snapshot");
            false
        }
    };
    core.reload_finished(id, loaded);
    let effects = core.take_effects();
    shared.apply_effects(effects, &core);
}

/// The final save before stopping on a signal, when save points are configured: true when the server
/// may exit (saved, or nothing to do).
pub async fn final_save(shared: &Shared) -> bool {
    let mut done = shared.save_done.subscribe();
    let id = {
        let mut core = shared.core();
        if core.config.get("save").is_none_or(|v| v.is_empty()) {
            return true;
        }
        tracing::info!("Saving the final RDB snapshot before exiting.");
        core.abort_background_snapshot();
        let now_ms = now_us() / 1000;
        if !keel_core::commands::persistence::start_rdb_snapshot(&mut core, SaveKind::Synchronous, now_ms) {
            tracing::warn!("a save a client waits for is running; not exiting");
            return false;
        }
        let effects = core.take_effects();
        shared.apply_effects(effects, &core);
        core.running_snapshot()
    };
    loop {
        let (finished, ok) = *done.borrow_and_update();
        if Some(finished) == id {
            if !ok {
                tracing::warn!("Error trying to save the DB, can't exit.");
            }
            return ok;
        }
        if done.changed().await.is_err() {
            return false;
        }
    }
}
