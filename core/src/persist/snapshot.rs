//! Forkless point-in-time snapshots of every database, produced in bounded chunks.
//!
//! Owns the marking of the entries a snapshot still has to write, the pre-images saved when a command
//! changes such an entry first, and the order in which bytes leave the snapshot. It never decides the
//! byte format of an entry (a [`SnapshotFormat`] does) and never writes anything anywhere: the shell
//! pulls chunks with [`Snapshot::next_chunk`] under the core lock and does the I/O.
//!
//! How it works: [`Snapshot::begin`] sets one bit per live entry of each database (a bitmap over the
//! database's slot vector, whose entries never move). The saver walks the set bits in slot order and
//! serializes a bounded amount per call. Before any change to an entry whose bit is still set (every
//! mutating path of [`Db`] calls [`SnapshotMark::preserve`]), the entry's current state is serialized
//! into the database's side buffer and its bit cleared, so each entry is written exactly once, as it
//! was when the snapshot began. New keys never have a bit. Emptying a database while its walk is
//! unfinished moves its slot vector aside whole (no copy) and the walk continues there. Side buffers
//! are emptied into the stream at the start of every chunk, preceded by a database selector, which the
//! format allows anywhere.
//!
//! Memory bound: the bitmaps (one bit per slot at the start), plus the serialized pre-images of the
//! entries changed between two chunk pulls, plus one chunk; and after FLUSHDB/FLUSHALL during a
//! snapshot, the flushed entries not yet written (which a copy-on-write fork would hold too). With no
//! snapshot running a mutating path pays one predictable branch.

use std::sync::Arc;

use crate::keyspace::{Db, Entry, Slots};

/// The byte format of a snapshot stream (RDB in production, something simpler in unit tests).
/// Checksums are carried as a `u64` running state between calls.
pub trait SnapshotFormat: Send + Sync {
    /// The bytes that start the stream.
    fn header(&self, out: &mut Vec<u8>);
    /// Announces that the entries following belong to database `db`.
    fn select_db(&self, db: usize, out: &mut Vec<u8>);
    /// Serializes one entry with its key, value and expiry.
    fn entry(&self, entry: &Entry, expire_at: Option<i64>, out: &mut Vec<u8>);
    /// The initial checksum state.
    fn checksum_start(&self) -> u64 {
        0
    }
    /// The checksum state after `bytes`.
    fn checksum_update(&self, state: u64, _bytes: &[u8]) -> u64 {
        state
    }
    /// The bytes that end the stream, given the checksum state over everything before them.
    fn trailer(&self, checksum: u64, out: &mut Vec<u8>);
}

/// A database's part of a running snapshot: which of its entries are still to be written, and the
/// pre-images of those that changed first. Lives inside the [`Db`] so that the database's mutating
/// paths can reach it; moves with the database on SWAPDB (its `label` keeps the original index).
#[derive(Clone)]
pub struct SnapshotMark {
    /// The database index this content had when the snapshot began.
    label: usize,
    /// One bit per slot: set while the entry in that slot still has to be written.
    bits: Vec<u64>,
    /// Number of set bits.
    pending: usize,
    /// Where the walk continues (a slot number).
    cursor: usize,
    /// The slot vector as it was when the database was emptied mid-snapshot; the bits then refer to
    /// it and the live slots hold only keys created since.
    detached: Option<Slots>,
    /// Serialized pre-images not yet in the stream (entries only; the selector is added on output).
    side: Vec<u8>,
    /// Entries serialized so far (walked or preserved).
    written: u64,
    format: Arc<dyn SnapshotFormat>,
}

impl std::fmt::Debug for SnapshotMark {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnapshotMark")
            .field("label", &self.label)
            .field("pending", &self.pending)
            .field("cursor", &self.cursor)
            .field("side", &self.side.len())
            .finish()
    }
}

impl SnapshotMark {
    /// Marks every entry of `slots` that is live at `now_ms`; `None` when there is none.
    fn new(label: usize, slots: &Slots, now_ms: i64, format: Arc<dyn SnapshotFormat>) -> Option<Self> {
        let mut bits = vec![0u64; slots.len().div_ceil(64)];
        let mut pending = 0;
        for i in 0..slots.len() {
            if slots.is_live(i, now_ms) {
                bits[i / 64] |= 1 << (i % 64);
                pending += 1;
            }
        }
        (pending > 0).then(|| SnapshotMark {
            label,
            bits,
            pending,
            cursor: 0,
            detached: None,
            side: Vec::new(),
            written: 0,
            format,
        })
    }

    /// Clears `slot`'s bit, returning whether it was set.
    fn take_bit(&mut self, slot: usize) -> bool {
        let Some(word) = self.bits.get_mut(slot / 64) else {
            return false;
        };
        let bit = 1u64 << (slot % 64);
        if *word & bit == 0 {
            return false;
        }
        *word &= !bit;
        self.pending -= 1;
        true
    }

    /// Called by [`Db`] before the entry in `slot` of the live slot vector changes or goes away: if the
    /// snapshot still has to write it, writes it now (into the side buffer).
    pub(crate) fn preserve(&mut self, slot: u32, slots: &Slots) {
        if self.detached.is_some() || !self.take_bit(slot as usize) {
            return;
        }
        if let Some((entry, expire_at)) = slots.get(slot as usize) {
            self.format.entry(entry, expire_at, &mut self.side);
            self.written += 1;
        }
    }

    /// Called by [`Db`] when it is emptied: keeps the old slot vector for the walk to finish (the
    /// first time; later the live slots hold only entries created during the snapshot).
    pub(crate) fn detach(&mut self, slots: Slots) {
        if self.detached.is_none() {
            self.detached = Some(slots);
        }
    }

    /// Walks pending entries from the cursor, appending them to `out` until it holds `limit` bytes.
    fn walk(&mut self, live: &Slots, limit: usize, out: &mut Vec<u8>) {
        while self.pending > 0 && out.len() < limit {
            let word_index = self.cursor / 64;
            let Some(&word) = self.bits.get(word_index) else {
                break;
            };
            let masked = word & (u64::MAX << (self.cursor % 64));
            if masked == 0 {
                self.cursor = (word_index + 1) * 64;
                continue;
            }
            let slot = word_index * 64 + masked.trailing_zeros() as usize;
            self.cursor = slot + 1;
            self.take_bit(slot);
            match &mut self.detached {
                // Written once, so the detached copy can be freed as the walk goes.
                Some(old) => {
                    if let Some((e, expire_at)) = old.take(slot) {
                        self.format.entry(&e, expire_at, out);
                        self.written += 1;
                    }
                }
                None => {
                    if let Some((e, expire_at)) = live.get(slot) {
                        self.format.entry(e, expire_at, out);
                        self.written += 1;
                    }
                }
            }
        }
    }
}

/// Progress of a snapshot's stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Header,
    /// Walking the content that had this database index at the start.
    Walk(usize),
    Done,
}

/// A running snapshot: call [`Snapshot::next_chunk`] until it returns `None`. Only one runs at a time
/// (the marks live in the databases).
pub struct Snapshot {
    format: Arc<dyn SnapshotFormat>,
    phase: Phase,
    /// The database the stream's entries currently belong to.
    stream_db: Option<usize>,
    checksum: u64,
    databases: usize,
    /// Entries to write in all (`current_save_keys_total`).
    pub keys_total: u64,
    /// Entries already written from finished databases.
    written_done: u64,
}

impl Snapshot {
    /// Starts a snapshot of the entries of `dbs` live at `now_ms`.
    pub fn begin(dbs: &mut [Db], format: Arc<dyn SnapshotFormat>, now_ms: i64) -> Snapshot {
        let mut keys_total = 0;
        for (index, db) in dbs.iter_mut().enumerate() {
            let mark = SnapshotMark::new(index, db.slots(), now_ms, format.clone());
            keys_total += mark.as_ref().map_or(0, |m| m.pending as u64);
            db.snapshot = mark.map(Box::new);
        }
        Snapshot {
            checksum: format.checksum_start(),
            format,
            phase: Phase::Header,
            stream_db: None,
            databases: dbs.len(),
            keys_total,
            written_done: 0,
        }
    }

    /// Entries written so far (`current_save_keys_processed`).
    pub fn keys_processed(&self, dbs: &[Db]) -> u64 {
        self.written_done
            + dbs
                .iter()
                .filter_map(|d| d.snapshot.as_ref())
                .map(|m| m.written)
                .sum::<u64>()
    }

    /// The next bytes of the stream, about `limit` bytes (more when many pre-images accumulated, or one
    /// entry is larger); `None` once the stream is complete.
    pub fn next_chunk(&mut self, dbs: &mut [Db], limit: usize) -> Option<Vec<u8>> {
        if self.phase == Phase::Done {
            return None;
        }
        let mut out = Vec::new();
        if self.phase == Phase::Header {
            self.format.header(&mut out);
            self.phase = Phase::Walk(0);
        }
        // Pre-images first: they bound the memory held between pulls.
        for db in dbs.iter_mut() {
            if let Some(mark) = db.snapshot.as_deref_mut().filter(|m| !m.side.is_empty()) {
                if self.stream_db != Some(mark.label) {
                    self.format.select_db(mark.label, &mut out);
                    self.stream_db = Some(mark.label);
                }
                out.append(&mut mark.side);
            }
        }
        while let Phase::Walk(label) = self.phase {
            if out.len() >= limit {
                break;
            }
            if label >= self.databases {
                self.phase = Phase::Done;
                break;
            }
            let Some(db) = dbs
                .iter_mut()
                .find(|d| d.snapshot.as_ref().is_some_and(|m| m.label == label))
            else {
                self.phase = Phase::Walk(label + 1);
                continue;
            };
            let (mark, live) = db.snapshot_parts();
            let Some(mark) = mark.as_deref_mut() else {
                self.phase = Phase::Walk(label + 1);
                continue;
            };
            if mark.pending > 0 && self.stream_db != Some(label) {
                self.format.select_db(label, &mut out);
                self.stream_db = Some(label);
            }
            mark.walk(live, limit, &mut out);
            if mark.pending == 0 {
                // Nothing can reach the side buffer any more; it was emptied above or is empty.
                out.append(&mut mark.side);
                self.written_done += mark.written;
                db.snapshot = None;
                self.phase = Phase::Walk(label + 1);
            }
        }
        self.checksum = self.format.checksum_update(self.checksum, &out);
        if self.phase == Phase::Done {
            self.format.trailer(self.checksum, &mut out);
        }
        Some(out)
    }

    /// True once the stream is complete.
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// Abandons the snapshot, removing its marks from `dbs`.
    pub fn abort(self, dbs: &mut [Db]) {
        for db in dbs {
            db.snapshot = None;
        }
    }
}

#[cfg(test)]
mod tests;
