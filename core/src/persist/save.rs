//! Bookkeeping of snapshots saved to disk: the running snapshot and who waits for it, save points,
//! the outcome of the last save (`INFO persistence`, `LASTSAVE`, MISCONF) and what loading reported.
//!
//! Owns the decisions (may a save start, is one due, are writes refused) but no bytes and no I/O: the
//! shell pulls the snapshot's chunks through [`crate::Server::snapshot_chunk`], writes them, and
//! reports the outcome with [`crate::Server::snapshot_finished`].

use crate::client::ClientId;
use crate::persist::snapshot::Snapshot;

/// Seconds after a failed background save before a save point may start another (as the reference
/// server waits).
pub const RETRY_DELAY_MS: i64 = 5_000;

/// The reply to write commands while saving is failing and `stop-writes-on-bgsave-error` is set.
pub const MISCONF: &str = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist \
to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors \
during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for \
details about the RDB error.";

/// Why a snapshot runs, which decides what happens when it ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SaveKind {
    /// `BGSAVE`, a save point: nobody waits; the outcome decides MISCONF.
    Background,
    /// A save the reference makes synchronously with nobody waiting (FLUSHALL with save points, the
    /// final save at a signal): only success changes the status.
    Synchronous,
    /// `SAVE`: the client waits for the outcome ("OK" or "ERR").
    Foreground(ClientId),
    /// `SHUTDOWN` with a save: on success the server stops; on failure the client gets an error.
    Shutdown(ClientId),
    /// `DEBUG RELOAD`: on success the shell loads the file back, then answers the client.
    Reload(ClientId),
    /// `BGREWRITEAOF`: the snapshot is the append-only file's new base; the RDB status is untouched.
    AofRewrite,
}

/// What [`crate::Server::snapshot_chunk`] gives the shell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SnapshotPull {
    /// The next bytes of the stream.
    Bytes(Vec<u8>),
    /// The stream is complete: make it durable, then report with `snapshot_finished`.
    Complete,
    /// This snapshot was abandoned (FLUSHALL, SHUTDOWN) or replaced: discard what was written.
    Abandoned,
}

/// What the shell should do after reporting the end of a snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AfterSave {
    /// Nothing more.
    Nothing,
    /// Load the file just written into the (emptied) databases, then call
    /// [`crate::Server::reload_finished`] for this client.
    Reload(ClientId),
}

/// The save side of persistence, as `INFO persistence` reports it.
#[derive(Default)]
pub struct SaveState {
    /// The snapshot being written, if any.
    pub snapshot: Option<Snapshot>,
    /// Identifies the current (or last) snapshot: each start takes the next number.
    pub snapshot_id: u64,
    /// Why it runs.
    pub kind: Option<SaveKind>,
    /// When it started (Unix ms).
    pub started_ms: i64,
    /// `Server::dirty` when it started: what a successful save makes clean.
    pub dirty_at_start: u64,
    /// Unix ms of the last successful save (`LASTSAVE`), the start time before any.
    pub last_save_ms: i64,
    /// Outcome of the last save of any kind (`rdb_last_bgsave_status`).
    pub last_ok: bool,
    /// When the last save failed (for the retry delay of save points).
    pub last_failure_ms: i64,
    /// Duration of the last background save in seconds, -1 before any.
    pub last_bgsave_secs: i64,
    /// A `BGSAVE` inside a transaction waits for the next cron run.
    pub scheduled: bool,
    /// Saves attempted (`rdb_saves`).
    pub saves: u64,
    /// Set while the databases are being loaded.
    pub loading: bool,
    /// Keys loaded and keys skipped as expired by the last load.
    pub last_load_keys_loaded: u64,
    pub last_load_keys_expired: u64,
}

impl SaveState {
    /// The state at start-up at `now_ms`.
    pub fn new(now_ms: i64) -> SaveState {
        SaveState {
            last_save_ms: now_ms,
            last_ok: true,
            last_bgsave_secs: -1,
            ..SaveState::default()
        }
    }

    /// True while a snapshot is being written.
    pub fn in_progress(&self) -> bool {
        self.snapshot.is_some()
    }

    /// True when write commands must be refused with [`MISCONF`].
    pub fn refuses_writes(&self, stop_writes_on_error: bool, save_points: &str) -> bool {
        !self.last_ok && stop_writes_on_error && !save_points.trim().is_empty()
    }

    /// True when a save point is due at `now_ms` with `dirty` changes.
    pub fn save_point_due(&self, save_points: &str, dirty: u64, now_ms: i64) -> bool {
        if self.in_progress() {
            return false;
        }
        if !self.last_ok && now_ms - self.last_failure_ms <= RETRY_DELAY_MS {
            return false;
        }
        parse_save_points(save_points)
            .unwrap_or_default()
            .iter()
            .any(|&(secs, changes)| dirty >= changes && now_ms - self.last_save_ms > secs.saturating_mul(1000))
    }
}

/// Parses the `save` parameter: pairs of seconds and changes (`3600 1 300 100`). The empty string
/// means no save points. `None` when it is not a valid list.
pub fn parse_save_points(text: &str) -> Option<Vec<(i64, u64)>> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if text.is_empty() {
        return Some(Vec::new());
    }
    if words.is_empty() || !words.len().is_multiple_of(2) {
        return None;
    }
    words
        .chunks(2)
        .map(|pair| {
            let secs = crate::types::number::parse_i64(pair[0].as_bytes()).filter(|n| *n >= 0)?;
            let changes = crate::types::number::parse_i64(pair[1].as_bytes()).filter(|n| *n >= 0)?;
            Some((secs, changes as u64))
        })
        .collect()
}

impl crate::Server {
    /// True when `spec` must be refused with [`MISCONF`] now: a write command (or PING, which the
    /// reference refuses too) while the last save failed and `stop-writes-on-bgsave-error` is set.
    #[inline]
    pub(crate) fn refuses_write(&self, spec: &crate::commands::spec::CommandSpec) -> bool {
        // The common case costs one branch.
        if self.persistence.last_ok {
            return false;
        }
        (spec.has_flag("write") || spec.name == "ping")
            && self.persistence.refuses_writes(
                self.config.get_bool("stop-writes-on-bgsave-error"),
                self.config.get("save").unwrap_or(""),
            )
    }

    /// True when `client`'s queued transaction holds a write command that must be refused with
    /// [`MISCONF`] now (its EXEC is then aborted, as on the reference server).
    pub(crate) fn refuses_queued_writes(&self, client: &crate::client::ClientState) -> bool {
        if self.persistence.last_ok {
            return false;
        }
        let Some(queued) = &client.multi else {
            return false;
        };
        queued.iter().any(|argv| match self.registry.lookup(argv) {
            crate::commands::Lookup::Found(spec, _) => self.refuses_write(spec) && spec.name != "ping",
            _ => false,
        })
    }

    /// Starts a point-in-time snapshot of every database in `format`, for `kind`. Returns false (and
    /// starts nothing) while another runs. The shell is told with [`Effect::SnapshotStarted`].
    pub fn start_snapshot(
        &mut self,
        kind: SaveKind,
        format: std::sync::Arc<dyn crate::persist::snapshot::SnapshotFormat>,
        now_ms: i64,
    ) -> bool {
        if self.persistence.in_progress() {
            return false;
        }
        let snapshot = Snapshot::begin(&mut self.dbs, format, now_ms);
        let p = &mut self.persistence;
        p.snapshot = Some(snapshot);
        p.snapshot_id += 1;
        p.kind = Some(kind);
        p.started_ms = now_ms;
        p.dirty_at_start = self.dirty;
        if !matches!(p.kind, Some(SaveKind::AofRewrite)) {
            p.saves += 1;
        }
        self.effects.push(crate::Effect::SnapshotStarted);
        true
    }

    /// Cron's part: starts a background save when a save point is due or a BGSAVE was scheduled.
    pub(crate) fn check_save_points(&mut self, now_ms: i64) {
        let due = {
            let points = self.config.get("save").unwrap_or("");
            self.persistence.scheduled && !self.persistence.in_progress()
                || self.persistence.save_point_due(points, self.dirty, now_ms)
        };
        if due {
            self.persistence.scheduled = false;
            crate::commands::persistence::start_rdb_snapshot(self, SaveKind::Background, now_ms);
        }
    }

    /// The id of the running snapshot, if one runs.
    pub fn running_snapshot(&self) -> Option<u64> {
        self.persistence.in_progress().then_some(self.persistence.snapshot_id)
    }

    /// The next bytes of snapshot `id`, about `limit` of them. Call under the same lock as the
    /// commands, so each chunk is consistent.
    pub fn snapshot_chunk(&mut self, id: u64, limit: usize) -> SnapshotPull {
        if id != self.persistence.snapshot_id {
            return SnapshotPull::Abandoned;
        }
        match self.persistence.snapshot.as_mut() {
            None => SnapshotPull::Abandoned,
            Some(s) => match s.next_chunk(&mut self.dbs, limit) {
                Some(bytes) => SnapshotPull::Bytes(bytes),
                None => SnapshotPull::Complete,
            },
        }
    }

    /// Abandons a running background snapshot (FLUSHALL and SHUTDOWN do, like the reference kills its
    /// saving child). Snapshots a client waits for are left to finish.
    pub fn abort_background_snapshot(&mut self) {
        if matches!(
            self.persistence.kind,
            Some(SaveKind::Background | SaveKind::Synchronous)
        ) {
            if let Some(s) = self.persistence.snapshot.take() {
                s.abort(&mut self.dbs);
            }
            self.persistence.kind = None;
        }
    }

    /// The shell reports the end of snapshot `id` at `now_ms`: `ok` when every byte is durable
    /// in place. Updates the save state, answers the client that waited, and says what else to do.
    pub fn snapshot_finished(&mut self, id: u64, ok: bool, now_ms: i64) -> AfterSave {
        if id != self.persistence.snapshot_id {
            return AfterSave::Nothing;
        }
        let Some(snapshot) = self.persistence.snapshot.take() else {
            return AfterSave::Nothing;
        };
        // An unfinished snapshot still has marks in the databases.
        snapshot.abort(&mut self.dbs);
        let kind = self.persistence.kind.take();
        if kind == Some(SaveKind::AofRewrite) {
            // The shell finishes the rewrite (`commands::aof::rewrite_finished`).
            return AfterSave::Nothing;
        }
        let p = &mut self.persistence;
        // Only background saves record a failure in the status (and so cause MISCONF); any success
        // clears it.
        if ok || matches!(kind, Some(SaveKind::Background) | None) {
            p.last_ok = ok;
        }
        if ok {
            p.last_save_ms = now_ms;
            self.dirty = self.dirty.saturating_sub(p.dirty_at_start);
        } else {
            p.last_failure_ms = now_ms;
        }
        match kind {
            Some(SaveKind::Background) | None => {
                p.last_bgsave_secs = (now_ms - p.started_ms).div_euclid(1000);
                AfterSave::Nothing
            }
            Some(SaveKind::Synchronous | SaveKind::AofRewrite) => AfterSave::Nothing,
            Some(SaveKind::Foreground(id)) => {
                self.finish_io(id, |r| if ok { r.ok() } else { r.error(b"ERR") });
                AfterSave::Nothing
            }
            Some(SaveKind::Shutdown(id)) => {
                if ok {
                    self.effects.push(crate::Effect::Shutdown { save: false });
                } else {
                    self.finish_io(id, |r| r.error(b"ERR Errors trying to SHUTDOWN. Check logs."));
                }
                AfterSave::Nothing
            }
            Some(SaveKind::Reload(id)) => {
                if ok {
                    AfterSave::Reload(id)
                } else {
                    self.finish_io(id, |r| r.error(b"ERR"));
                    AfterSave::Nothing
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_points_parse_like_the_reference() {
        assert_eq!(parse_save_points(""), Some(vec![]));
        assert_eq!(parse_save_points("3600 1 300 100"), Some(vec![(3600, 1), (300, 100)]));
        assert_eq!(parse_save_points("1 2 3"), None);
        assert_eq!(parse_save_points("a b"), None);
        assert_eq!(parse_save_points(" "), None);
    }

    #[test]
    fn save_points_fire_after_time_and_changes() {
        let mut s = SaveState::new(0);
        assert!(!s.save_point_due("60 2", 1, 61_000), "too few changes");
        assert!(!s.save_point_due("60 2", 2, 60_000), "too early");
        assert!(s.save_point_due("60 2", 2, 60_001));
        assert!(!s.save_point_due("", 100, 1_000_000), "no save points");
        s.last_ok = false;
        s.last_failure_ms = 60_000;
        assert!(!s.save_point_due("60 2", 2, 64_000), "retry delay after a failure");
        assert!(s.save_point_due("60 2", 2, 65_001));
        assert!(s.refuses_writes(true, "60 2"));
        assert!(!s.refuses_writes(false, "60 2"));
        assert!(!s.refuses_writes(true, ""));
    }

    use crate::test_support::run_at as run;

    /// Drives the running snapshot to its end as the shell would, reporting `ok`.
    fn finish(server: &mut crate::Server, ok: bool, now_ms: i64) {
        let id = server.running_snapshot().expect("a snapshot runs");
        while let SnapshotPull::Bytes(_) = server.snapshot_chunk(id, 4096) {}
        server.snapshot_finished(id, ok, now_ms);
    }

    #[test]
    fn cron_saves_at_save_points_and_a_failure_refuses_writes() {
        let mut config = crate::Config::default();
        config.set_startup("save", "10 2").unwrap();
        let mut s = crate::Server::new(config, 1, 0, crate::ProcessInfo::default());
        let c = crate::test_support::connect_loopback(&mut s);
        run(&mut s, c, &["SET", "a", "1"], 1_000);
        s.cron(20_000_000);
        assert!(s.running_snapshot().is_none(), "one change is not enough");
        run(&mut s, c, &["SET", "b", "1"], 1_000);
        s.cron(9_000_000);
        assert!(s.running_snapshot().is_none(), "ten seconds have not passed");
        s.take_effects();
        s.cron(10_001_000);
        assert_eq!(s.take_effects(), [crate::Effect::SnapshotStarted]);
        let queued = crate::test_support::connect_loopback(&mut s);
        run(&mut s, queued, &["MULTI"], 10_001);
        assert_eq!(run(&mut s, queued, &["SET", "q", "1"], 10_001), "+QUEUED\r\n");
        finish(&mut s, false, 10_002);
        assert_eq!(
            run(&mut s, queued, &["EXEC"], 10_003),
            format!("-EXECABORT Transaction discarded because of: {MISCONF}\r\n")
        );
        assert_eq!(run(&mut s, queued, &["EXEC"], 10_003), "-ERR EXEC without MULTI\r\n");
        assert!(run(&mut s, c, &["SET", "a", "2"], 10_003).starts_with("-MISCONF "));
        assert_eq!(run(&mut s, c, &["GET", "a"], 10_003), "$1\r\n1\r\n");
        // A transaction that writes is aborted at EXEC; one that only reads runs.
        let other = crate::test_support::connect_loopback(&mut s);
        run(&mut s, other, &["MULTI"], 10_003);
        run(&mut s, other, &["GET", "a"], 10_003);
        assert_eq!(run(&mut s, other, &["EXEC"], 10_003), "*1\r\n$1\r\n1\r\n");
        s.cron(12_000_000);
        assert!(s.running_snapshot().is_none(), "no retry within the delay");
        s.cron(15_003_000);
        assert!(s.running_snapshot().is_some(), "retried after the delay");
        finish(&mut s, true, 15_004);
        assert_eq!(run(&mut s, c, &["SET", "a", "2"], 15_005), "+OK\r\n");
        assert_eq!(s.dirty, 1, "the saved changes are clean");
        assert_eq!(run(&mut s, c, &["LASTSAVE"], 15_005), ":15\r\n");
    }
}
