//! One logical database: keys, their values, their expiry times.
//!
//! Owns the key → entry mapping and the index of keys that carry a TTL (with their expiry times, so the
//! entries of the many keys without one do not pay for a time). Entries live in a chunked slot vector and
//! never move while they exist; a hash table maps keys to slot numbers. That gives what the commands need
//! beyond lookups:
//! - SCAN cursors are slot numbers, so every key present for a whole scan is returned (freed slots are
//!   reused by later inserts, which SCAN is allowed to miss or return);
//! - RANDOMKEY and the active expiry cycle sample uniformly in O(1).
//!
//! It never reads a clock: every call that may expire a key takes `now_ms`.

use foldhash::fast::FixedState;
use hashbrown::HashTable;
use rand::Rng;
use std::hash::BuildHasher;

use super::slot_vec::SlotVec;
use crate::persist::snapshot::SnapshotMark;
use crate::types::inline_bytes::InlineBytes;
use crate::types::Value;

/// No expiry. (Not `i64::MAX`: that is a valid expiry time clients can set.)
pub const NO_EXPIRE: i64 = i64::MIN;

/// `Entry::volatile_pos` of a key without a TTL.
const NOT_VOLATILE: u32 = u32::MAX;

/// One key's entry: 56 bytes, with keys and `embstr` values up to 22 bytes stored inside it, so a small
/// string key costs no allocation at all. Its expiry lives in the database's volatile index (most keys
/// have none), found through `volatile_pos`.
#[derive(Clone, Debug)]
pub struct Entry {
    key: InlineBytes,
    /// The value.
    pub value: Value,
    /// Position in the volatile index (which holds the expiry time), or [`NOT_VOLATILE`].
    volatile_pos: u32,
    /// Last access, in Unix seconds (truncated), for `OBJECT IDLETIME`.
    pub access_s: u32,
}

impl Entry {
    /// The key's bytes.
    #[inline]
    pub fn key(&self) -> &[u8] {
        self.key.as_slice()
    }

    /// True when the key has a TTL (its time is in the database's volatile index: [`Db::expire_of`]).
    #[inline]
    pub fn has_expire(&self) -> bool {
        self.volatile_pos != NOT_VOLATILE
    }
}

/// One key with a TTL: its slot and absolute expiry in Unix milliseconds.
#[derive(Clone, Copy, Debug)]
struct Volatile {
    slot: u32,
    expire_at: i64,
}

/// The entries by slot number (`None` for free slots) and the expiry times of those with a TTL: what a
/// snapshot reads, and what it keeps whole when the database is emptied under it.
#[derive(Clone, Debug, Default)]
pub struct Slots {
    entries: SlotVec<Entry>,
    volatile: Vec<Volatile>,
}

impl Slots {
    /// Number of slots (used or free).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there is no slot.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The expiry time of an entry held here, if it has one.
    #[inline]
    pub fn expire_of(&self, entry: &Entry) -> Option<i64> {
        if entry.volatile_pos == NOT_VOLATILE {
            return None;
        }
        self.volatile.get(entry.volatile_pos as usize).map(|v| v.expire_at)
    }

    /// The entry in `slot` with its expiry time.
    pub fn get(&self, slot: usize) -> Option<(&Entry, Option<i64>)> {
        let entry = self.entries.get(slot)?.as_ref()?;
        Some((entry, self.expire_of(entry)))
    }

    /// Takes the entry out of `slot` with its expiry time, leaving the slot free (for a snapshot's walk
    /// over a detached copy; the volatile index is left as it was, so the other entries still find
    /// their expiry).
    pub fn take(&mut self, slot: usize) -> Option<(Entry, Option<i64>)> {
        let entry = self.entries.get_mut(slot)?.take()?;
        let expire = self.expire_of(&entry);
        Some((entry, expire))
    }

    /// The expiry of the entry in `slot`, [`NO_EXPIRE`] when none (or no entry).
    #[inline]
    fn expire_at(&self, slot: u32) -> i64 {
        self.entries[slot as usize]
            .as_ref()
            .and_then(|e| self.expire_of(e))
            .unwrap_or(NO_EXPIRE)
    }

    /// True when `slot` holds an entry whose TTL has not passed at `now_ms`.
    pub fn is_live(&self, slot: usize, now_ms: i64) -> bool {
        self.get(slot)
            .is_some_and(|(_, at)| !is_expired(at.unwrap_or(NO_EXPIRE), now_ms))
    }
}

/// A database of keys.
#[derive(Clone, Debug)]
pub struct Db {
    index: HashTable<u32>,
    slots: Slots,
    free: Vec<u32>,
    hasher: FixedState,
    len: usize,
    /// Keys removed because their TTL had passed (lazily or by the active cycle), for `INFO stats`.
    pub expired_count: u64,
    /// Estimated mean remaining TTL in ms of keys with a TTL, from active-expiry samples (`INFO keyspace`).
    pub avg_ttl: i64,
    /// When set, the names of keys removed by expiry are collected in `expired_keys` (for WATCH).
    pub track_expired: bool,
    /// Keys removed by expiry since the server last took them (only while `track_expired`).
    pub expired_keys: Vec<Box<[u8]>>,
    /// This database's part of a running snapshot (see `persist::snapshot`): every path below that
    /// changes or removes an entry calls [`Db::preserve`] first.
    pub(crate) snapshot: Option<Box<SnapshotMark>>,
}

/// Whether an entry's expiry has passed: a key expires once the clock is past its time.
fn is_expired(expire_at: i64, now_ms: i64) -> bool {
    expire_at != NO_EXPIRE && now_ms > expire_at
}

impl Db {
    /// An empty database whose hash function is keyed by `seed` (so clients cannot aim collisions).
    pub fn new(seed: u64) -> Db {
        Db {
            index: HashTable::new(),
            slots: Slots::default(),
            free: Vec::new(),
            hasher: FixedState::with_seed(seed),
            len: 0,
            expired_count: 0,
            avg_ttl: 0,
            track_expired: false,
            expired_keys: Vec::new(),
            snapshot: None,
        }
    }

    /// Lets a running snapshot save the entry in `slot` before it changes. One branch when none runs.
    #[inline]
    fn preserve(&mut self, slot: u32) {
        if let Some(mark) = self.snapshot.as_deref_mut() {
            mark.preserve(slot, &self.slots);
        }
    }

    /// The slots (entries by slot number, with their expiry times).
    pub(crate) fn slots(&self) -> &Slots {
        &self.slots
    }

    /// The snapshot mark and the slots it refers to, borrowed together for the snapshot's walk.
    pub(crate) fn snapshot_parts(&mut self) -> (&mut Option<Box<SnapshotMark>>, &Slots) {
        (&mut self.snapshot, &self.slots)
    }

    /// Number of keys, including expired ones not yet removed (as `DBSIZE` reports).
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the database holds no keys.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of keys with a TTL.
    pub fn volatile_len(&self) -> usize {
        self.slots.volatile.len()
    }

    /// The expiry time of an entry of this database, if it has one.
    #[inline]
    pub fn expire_of(&self, entry: &Entry) -> Option<i64> {
        self.slots.expire_of(entry)
    }

    /// The stored expiry time of `key`, if it is stored and has one (nothing is expired or touched).
    pub fn expire_at(&self, key: &[u8]) -> Option<i64> {
        let slot = self.find_slot(key)?;
        self.expire_of(self.slots.entries[slot as usize].as_ref()?)
    }

    fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    fn find_slot(&self, key: &[u8]) -> Option<u32> {
        let entries = &self.slots.entries;
        self.index
            .find(self.hash(key), |&s| {
                entries[s as usize].as_ref().is_some_and(|e| e.key() == key)
            })
            .copied()
    }

    /// True when the entry in `slot` has a TTL that has passed at `now_ms`.
    #[inline]
    fn slot_expired(&self, slot: u32, now_ms: i64) -> bool {
        is_expired(self.slots.expire_at(slot), now_ms)
    }

    /// The live entry for `key`, removing it first if it has expired. Does not update access time.
    pub fn get_mut(&mut self, key: &[u8], now_ms: i64) -> Option<&mut Entry> {
        let slot = self.find_slot(key)?;
        if self.slot_expired(slot, now_ms) {
            self.expire_slot(slot);
            return None;
        }
        // The caller may change the entry through the reference.
        self.preserve(slot);
        self.slots.entries[slot as usize].as_mut()
    }

    /// Like [`Db::get_mut`] for reading.
    pub fn get(&mut self, key: &[u8], now_ms: i64) -> Option<&Entry> {
        let slot = self.find_slot(key)?;
        if self.slot_expired(slot, now_ms) {
            self.expire_slot(slot);
            return None;
        }
        self.slots.entries[slot as usize].as_ref()
    }

    /// Reads an entry without expiring it or touching anything (for introspection that must not change
    /// state). Expired entries are reported as absent.
    pub fn peek(&self, key: &[u8], now_ms: i64) -> Option<&Entry> {
        let slot = self.find_slot(key)?;
        if self.slot_expired(slot, now_ms) {
            return None;
        }
        self.slots.entries[slot as usize].as_ref()
    }

    /// True when `key` is stored, live or expired but not yet removed (nothing is expired or touched).
    pub fn is_stored(&self, key: &[u8]) -> bool {
        self.find_slot(key).is_some()
    }

    /// True when `key` exists (expiring it lazily).
    pub fn contains(&mut self, key: &[u8], now_ms: i64) -> bool {
        self.get_mut(key, now_ms).is_some()
    }

    /// Stores `value` under `key`, replacing any old value; the TTL is cleared unless `keep_ttl`.
    /// Returns the previous live value.
    pub fn set(&mut self, key: &[u8], value: Value, keep_ttl: bool, now_ms: i64, access_s: u32) -> Option<Value> {
        if let Some(slot) = self.find_slot(key) {
            if !self.slot_expired(slot, now_ms) {
                self.preserve(slot);
                if !keep_ttl {
                    self.set_expire_slot(slot, NO_EXPIRE);
                }
                let entry = self.slots.entries[slot as usize].as_mut()?;
                entry.access_s = access_s;
                return Some(std::mem::replace(&mut entry.value, value));
            }
            self.expire_slot(slot);
        }
        self.insert_new(key, value, NO_EXPIRE, access_s);
        None
    }

    /// Inserts a key known to be absent, with an expiry.
    pub fn insert_new(&mut self, key: &[u8], value: Value, expire_at: i64, access_s: u32) {
        let entry = Entry {
            key: InlineBytes::new(key),
            value,
            volatile_pos: NOT_VOLATILE,
            access_s,
        };
        let entries = &mut self.slots.entries;
        let slot = match self.free.pop() {
            Some(s) => {
                entries[s as usize] = Some(entry);
                s
            }
            None => {
                entries.push(Some(entry));
                (entries.len() - 1) as u32
            }
        };
        let hash = self.hash(key);
        let entries = &self.slots.entries;
        let hasher = &self.hasher;
        self.index.insert_unique(hash, slot, |&s| {
            hasher.hash_one(entries[s as usize].as_ref().map(Entry::key).unwrap_or(&[]))
        });
        self.len += 1;
        if expire_at != NO_EXPIRE {
            self.set_expire_slot(slot, expire_at);
        }
    }

    /// Removes `key`, returning its live value (an expired key is removed but reported absent).
    pub fn remove(&mut self, key: &[u8], now_ms: i64) -> Option<Value> {
        self.take_entry(key, now_ms).map(|(value, _)| value)
    }

    /// Removes a whole entry by key, returning it with its key and expiry (RENAME, MOVE).
    pub fn take_entry(&mut self, key: &[u8], now_ms: i64) -> Option<(Value, Option<i64>)> {
        let slot = self.find_slot(key)?;
        // Read the expiry before removal clears it.
        let expire_at = self.slots.expire_at(slot);
        let entry = self.remove_slot(slot)?;
        if is_expired(expire_at, now_ms) {
            self.note_expired(entry.key);
            return None;
        }
        Some((entry.value, (expire_at != NO_EXPIRE).then_some(expire_at)))
    }

    fn expire_slot(&mut self, slot: u32) {
        if let Some(entry) = self.remove_slot(slot) {
            self.note_expired(entry.key);
        }
    }

    /// Counts a key removed by expiry and, while tracking, remembers its name.
    fn note_expired(&mut self, key: InlineBytes) {
        self.expired_count += 1;
        if self.track_expired {
            self.expired_keys.push(key.into_boxed());
        }
    }

    fn remove_slot(&mut self, slot: u32) -> Option<Entry> {
        self.preserve(slot);
        let hash = self.hash(self.slots.entries[slot as usize].as_ref()?.key());
        if let Ok(found) = self.index.find_entry(hash, |&s| s == slot) {
            found.remove();
        }
        self.set_expire_slot(slot, NO_EXPIRE);
        let entries = &mut self.slots.entries;
        let entry = entries[slot as usize].take()?;
        self.len -= 1;
        if slot as usize == entries.len() - 1 {
            entries.pop();
            // Trailing free slots are trimmed lazily on the next full shrink.
        } else {
            self.free.push(slot);
        }
        if self.len == 0 {
            self.slots.entries.clear();
            self.free.clear();
        }
        Some(entry)
    }

    /// Sets or clears (`NO_EXPIRE`) the expiry of a live key. Returns false if the key is absent.
    pub fn set_expire(&mut self, key: &[u8], expire_at: i64) -> bool {
        match self.find_slot(key) {
            Some(slot) => {
                self.preserve(slot);
                self.set_expire_slot(slot, expire_at);
                true
            }
            None => false,
        }
    }

    fn set_expire_slot(&mut self, slot: u32, expire_at: i64) {
        let Slots { entries, volatile } = &mut self.slots;
        let Some(entry) = entries[slot as usize].as_mut() else {
            return;
        };
        let was = entry.volatile_pos != NOT_VOLATILE;
        let will = expire_at != NO_EXPIRE;
        match (was, will) {
            (false, true) => {
                entry.volatile_pos = volatile.len() as u32;
                volatile.push(Volatile { slot, expire_at });
            }
            (true, true) => {
                if let Some(v) = volatile.get_mut(entry.volatile_pos as usize) {
                    v.expire_at = expire_at;
                }
            }
            (true, false) => {
                let pos = entry.volatile_pos as usize;
                entry.volatile_pos = NOT_VOLATILE;
                volatile.swap_remove(pos);
                if let Some(moved) = volatile.get(pos) {
                    if let Some(m) = entries[moved.slot as usize].as_mut() {
                        m.volatile_pos = pos as u32;
                    }
                }
            }
            (false, false) => {}
        }
    }

    /// Removes every key.
    pub fn clear(&mut self) {
        self.avg_ttl = 0;
        self.index.clear();
        match self.snapshot.as_deref_mut() {
            // A running snapshot still needs the old entries: hand them over instead of freeing them.
            Some(mark) => mark.detach(std::mem::take(&mut self.slots)),
            None => {
                self.slots.entries.clear();
                self.slots.volatile.clear();
            }
        }
        self.free.clear();
        self.len = 0;
    }

    /// A uniformly chosen key, skipping (and removing) expired ones; `None` when empty.
    pub fn random_key(&mut self, rng: &mut impl Rng, now_ms: i64) -> Option<Vec<u8>> {
        // Bounded attempts: when every key is volatile and expired the loop ends with the database empty.
        for _ in 0..100 + self.len {
            if self.len == 0 {
                return None;
            }
            let slot = rng.random_range(0..self.slots.entries.len()) as u32;
            let Some((entry, expire_at)) = self.slots.get(slot as usize) else {
                continue;
            };
            if is_expired(expire_at.unwrap_or(NO_EXPIRE), now_ms) {
                self.expire_slot(slot);
                continue;
            }
            return Some(entry.key().to_vec());
        }
        self.iter(now_ms).next().map(|e| e.key().to_vec())
    }

    /// Live entries in slot order.
    pub fn iter(&self, now_ms: i64) -> impl Iterator<Item = &Entry> + '_ {
        let slots = &self.slots;
        slots
            .entries
            .iter()
            .flatten()
            .filter(move |e| !is_expired(slots.expire_of(e).unwrap_or(NO_EXPIRE), now_ms))
    }

    /// One SCAN step: visits slots from `cursor` until `count` slots holding keys were seen, calling
    /// `visit` for each live entry. Returns the next cursor, 0 when the scan is complete.
    pub fn scan(&self, cursor: u64, count: usize, now_ms: i64, mut visit: impl FnMut(&Entry)) -> u64 {
        let entries = &self.slots.entries;
        let mut slot = cursor as usize;
        let mut seen = 0;
        while slot < entries.len() && seen < count.max(1) {
            if let Some(e) = &entries[slot] {
                seen += 1;
                if !is_expired(self.slots.expire_of(e).unwrap_or(NO_EXPIRE), now_ms) {
                    visit(e);
                }
            }
            slot += 1;
        }
        if slot >= entries.len() {
            0
        } else {
            slot as u64
        }
    }

    /// One round of active expiry: samples up to `samples` volatile keys and removes the expired ones.
    /// Returns (sampled, expired).
    pub fn expire_sample(&mut self, rng: &mut impl Rng, samples: usize, now_ms: i64) -> (usize, usize) {
        let mut sampled = 0;
        let mut expired = 0;
        // Summed wide: TTLs near i64::MAX are valid, and sampling may pick a key twice.
        let (mut ttl_sum, mut ttl_count) = (0i128, 0i128);
        while sampled < samples && !self.slots.volatile.is_empty() {
            let pos = rng.random_range(0..self.slots.volatile.len());
            let Volatile { slot, expire_at } = self.slots.volatile[pos];
            sampled += 1;
            if is_expired(expire_at, now_ms) {
                self.expire_slot(slot);
                expired += 1;
            } else {
                ttl_sum += (expire_at as i128) - (now_ms as i128);
                ttl_count += 1;
            }
        }
        if ttl_count > 0 {
            // A running estimate, as `INFO keyspace` reports it: each round weighs 1/50.
            let round = (ttl_sum / ttl_count).clamp(0, i64::MAX as i128) as i64;
            self.avg_ttl = if self.avg_ttl == 0 {
                round
            } else {
                self.avg_ttl / 50 * 49 + round / 50
            };
        }
        (sampled, expired)
    }

    /// Checks the structure's invariants; used by tests, fuzzers and the simulator.
    pub fn check_invariants(&self) {
        let entries = &self.slots.entries;
        let volatile = &self.slots.volatile;
        let live = entries.iter().flatten().count();
        assert_eq!(live, self.len, "len matches live slots");
        assert_eq!(self.index.len(), self.len, "index matches live slots");
        let with_ttl = entries.iter().flatten().filter(|e| e.has_expire()).count();
        assert_eq!(with_ttl, volatile.len(), "volatile index matches keys with a TTL");
        for (pos, v) in volatile.iter().enumerate() {
            let e = entries[v.slot as usize].as_ref();
            assert!(
                e.is_some_and(|e| e.volatile_pos as usize == pos),
                "volatile back-pointer"
            );
            assert_ne!(v.expire_at, NO_EXPIRE, "a volatile key has an expiry time");
        }
        for &slot in &self.free {
            assert!(
                entries.get(slot as usize).is_some_and(|s| s.is_none()),
                "free slot is empty"
            );
        }
        for e in entries.iter().flatten() {
            assert!(self.find_slot(e.key()).is_some(), "every key is findable");
            if let Value::List(l) = &e.value {
                assert!(!l.is_empty(), "no empty list is stored");
                l.check_invariants();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::StringValue;
    use rand::{rngs::SmallRng, SeedableRng};

    fn s(v: &[u8]) -> Value {
        Value::String(StringValue::from_bytes(v))
    }

    #[test]
    fn set_get_remove_expire() {
        let mut db = Db::new(1);
        db.set(b"a", s(b"1"), false, 0, 0);
        db.set(b"b", s(b"2"), false, 0, 0);
        db.set_expire(b"b", 100);
        db.check_invariants();
        assert!(db.get(b"b", 100).is_some());
        assert!(db.get(b"b", 101).is_none());
        db.check_invariants();
        assert_eq!(db.len(), 1);
        assert_eq!(db.remove(b"a", 0), Some(s(b"1")));
        assert!(db.is_empty());
        db.check_invariants();
    }

    #[test]
    fn scan_returns_every_stable_key_despite_deletes() {
        let mut db = Db::new(7);
        for i in 0..1000 {
            db.set(format!("k{i}").as_bytes(), s(b"v"), false, 0, 0);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        let mut round = 0;
        loop {
            let mut batch = Vec::new();
            cursor = db.scan(cursor, 10, 0, |e| batch.push(e.key().to_vec()));
            seen.extend(batch);
            // Delete odd keys while scanning; even keys must all be seen.
            let victim = format!("k{}", round * 2 + 1);
            db.remove(victim.as_bytes(), 0);
            round += 1;
            if cursor == 0 {
                break;
            }
        }
        for i in (0..1000).step_by(2) {
            assert!(seen.contains(format!("k{i}").as_bytes()));
        }
        db.check_invariants();
    }

    #[test]
    fn take_entry_keeps_the_expiry() {
        let mut db = Db::new(5);
        db.insert_new(b"k", s(b"v"), 500, 0);
        assert_eq!(db.take_entry(b"k", 100), Some((s(b"v"), Some(500))));
        db.insert_new(b"k", s(b"v"), 500, 0);
        assert_eq!(db.take_entry(b"k", 501), None);
        assert_eq!(db.expired_count, 1);
        db.insert_new(b"k", s(b"v"), 500, 0);
        assert_eq!(db.remove(b"k", 501), None);
        assert_eq!(db.expired_count, 2);
        db.check_invariants();
    }

    #[test]
    fn active_expiry_samples_only_volatile_keys() {
        let mut db = Db::new(3);
        let mut rng = SmallRng::seed_from_u64(1);
        for i in 0..100 {
            db.insert_new(
                format!("k{i}").as_bytes(),
                s(b"v"),
                if i % 2 == 0 { 10 } else { NO_EXPIRE },
                0,
            );
        }
        let mut total = 0;
        while db.volatile_len() > 0 {
            total += db.expire_sample(&mut rng, 20, 11).1;
        }
        assert_eq!(total, 50);
        assert_eq!(db.len(), 50);
        db.check_invariants();
    }
}
