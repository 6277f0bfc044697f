//! The hash type: a map of fields to values, and the dense hash table the large set encoding shares.
//!
//! Owns the two encodings `OBJECT ENCODING` reports for hashes and the one-way conversion between them:
//! - `listpack`: a `Vec` of (field, value) pairs in insertion order. Small hashes (at most
//!   `hash-max-listpack-entries` pairs, every field and value at most `hash-max-listpack-value` bytes)
//!   are scanned linearly, which for a few dozen short entries beats hashing, keeps one allocation per
//!   string and no table overhead, and gives the reference server's reply order (insertion order).
//! - `hashtable`: a [`DenseTable`]: entries in a dense `Vec` plus a `hashbrown` index of positions, keyed
//!   by a hasher seeded from the server's generator (so clients cannot aim collisions and runs stay
//!   deterministic). The dense vector gives O(1) uniform random picks (HRANDFIELD) and a SCAN cursor that
//!   never misses an entry present for the whole scan (see [`DenseTable::scan`]).
//!
//! A hash converts to `hashtable` when an insert makes it too long or brings a too-long string; it never
//! converts back, as in the reference server.

use foldhash::fast::FixedState;
use hashbrown::HashTable;
use std::hash::BuildHasher;

/// The size limits of the compact encoding, read from the configuration by the caller.
#[derive(Clone, Copy, Debug)]
pub struct HashLimits {
    /// `hash-max-listpack-entries`.
    pub max_entries: usize,
    /// `hash-max-listpack-value`.
    pub max_value: usize,
}

/// A map from byte-string keys to values with O(1) lookup, insert, remove and uniform random access.
///
/// Entries live densely in insertion order; removal moves the last entry into the hole. The index maps a
/// key's hash to the entry's position.
#[derive(Clone, Debug)]
pub struct DenseTable<V> {
    /// Entries, densely, in insertion order (disturbed by removals).
    entries: Vec<(Box<[u8]>, V)>,
    /// Positions in `entries`, keyed by the hash of the entry's key.
    index: HashTable<u32>,
    /// The seeded hasher of keys.
    hasher: FixedState,
}

impl<V> DenseTable<V> {
    /// An empty table with room for `capacity` entries, hashing with `seed`.
    pub fn with_capacity(capacity: usize, seed: u64) -> DenseTable<V> {
        DenseTable {
            entries: Vec::with_capacity(capacity),
            index: HashTable::with_capacity(capacity),
            hasher: FixedState::with_seed(seed),
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The position of `key`, if present.
    pub fn position(&self, key: &[u8]) -> Option<usize> {
        let entries = &self.entries;
        self.index
            .find(self.hasher.hash_one(key), |&p| &*entries[p as usize].0 == key)
            .map(|&p| p as usize)
    }

    /// The value of `key`.
    pub fn get(&self, key: &[u8]) -> Option<&V> {
        self.position(key).map(|p| &self.entries[p].1)
    }

    /// The value of `key`, mutably.
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        let p = self.position(key)?;
        Some(&mut self.entries[p].1)
    }

    /// Inserts `key` (which must be absent) with `value`.
    pub fn insert_new(&mut self, key: Box<[u8]>, value: V) {
        let pos = self.entries.len() as u32;
        let hash = self.hasher.hash_one(&*key);
        self.entries.push((key, value));
        let (entries, hasher) = (&self.entries, &self.hasher);
        self.index
            .insert_unique(hash, pos, |&p| hasher.hash_one(&*entries[p as usize].0));
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &[u8]) -> Option<V> {
        let pos = self.position(key)?;
        Some(self.remove_at(pos).1)
    }

    /// Removes the entry at `pos` (moving the last entry into its place), returning it.
    pub fn remove_at(&mut self, pos: usize) -> (Box<[u8]>, V) {
        let hash = self.hasher.hash_one(&*self.entries[pos].0);
        if let Ok(found) = self.index.find_entry(hash, |&p| p as usize == pos) {
            found.remove();
        }
        let last = self.entries.len() - 1;
        if pos != last {
            let moved_hash = self.hasher.hash_one(&*self.entries[last].0);
            if let Some(slot) = self.index.find_mut(moved_hash, |&p| p as usize == last) {
                *slot = pos as u32;
            }
        }
        let removed = self.entries.swap_remove(pos);
        // Give memory back once the table is mostly empty, as the reference server's resize does.
        if self.entries.capacity() > 64 && self.entries.len() < self.entries.capacity() / 8 {
            self.entries.shrink_to(self.entries.len() * 2);
            let (entries, hasher) = (&self.entries, &self.hasher);
            self.index.shrink_to(0, |&p| hasher.hash_one(&*entries[p as usize].0));
        }
        removed
    }

    /// The entry at `pos` (`pos < len`).
    pub fn at(&self, pos: usize) -> (&[u8], &V) {
        let (k, v) = &self.entries[pos];
        (k, v)
    }

    /// Every entry, in position order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &V)> + '_ {
        self.entries.iter().map(|(k, v)| (&**k, v))
    }

    /// Consumes the table, yielding its entries in position order.
    pub fn into_entries(self) -> Vec<(Box<[u8]>, V)> {
        self.entries
    }

    /// One SCAN step. Positions are visited from the top down: a cursor `c` (0 meaning "start") says
    /// positions `0..c` are still to visit. Removal only moves the last entry down into a hole, and inserts
    /// append above every unvisited position, so an entry present for the whole scan is always visited
    /// (possibly twice). Visits up to `count` entries and returns the next cursor, 0 when done.
    pub fn scan<'a>(&'a self, cursor: u64, count: usize, mut visit: impl FnMut(&'a [u8], &'a V)) -> u64 {
        let len = self.entries.len();
        let mut top = if cursor == 0 {
            len
        } else {
            (cursor.min(len as u64)) as usize
        };
        let mut seen = 0;
        while top > 0 && seen < count.max(1) {
            top -= 1;
            let (k, v) = &self.entries[top];
            visit(k, v);
            seen += 1;
        }
        top as u64
    }

    /// Approximate heap bytes used by the table itself (not the values' own heap).
    pub fn table_heap_size(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<(Box<[u8]>, V)>()
            + self.index.capacity() * (std::mem::size_of::<u32>() + 1)
            + self.entries.iter().map(|(k, _)| k.len()).sum::<usize>()
    }

    /// Checks that every entry is indexed at its own position.
    pub fn check_invariants(&self) {
        assert_eq!(self.index.len(), self.entries.len(), "index size matches entries");
        for (pos, (k, _)) in self.entries.iter().enumerate() {
            assert_eq!(self.position(k), Some(pos), "entry is indexed at its position");
        }
    }
}

/// A (field, value) pair.
type Pair = (Box<[u8]>, Box<[u8]>);

/// The two encodings.
#[derive(Clone, Debug)]
enum Repr {
    /// (field, value) pairs in insertion order.
    Listpack(Vec<Pair>),
    /// The large encoding.
    Table(DenseTable<Box<[u8]>>),
}

/// A hash value.
#[derive(Clone, Debug)]
pub struct HashValue {
    /// The current encoding and its data.
    repr: Repr,
}

impl Default for HashValue {
    /// An empty hash in the compact encoding.
    fn default() -> Self {
        HashValue::new()
    }
}

impl PartialEq for HashValue {
    /// Same fields with the same values, whatever the encodings.
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(f, v)| other.get(f) == Some(v))
    }
}

impl HashValue {
    /// An empty hash in the compact encoding.
    pub fn new() -> HashValue {
        HashValue {
            repr: Repr::Listpack(Vec::new()),
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Listpack(v) => v.len(),
            Repr::Table(t) => t.len(),
        }
    }

    /// True when empty (an empty hash is never stored: its key is removed).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name `OBJECT ENCODING` reports.
    pub fn encoding_name(&self) -> &'static str {
        match &self.repr {
            Repr::Listpack(_) => "listpack",
            Repr::Table(_) => "hashtable",
        }
    }

    /// True in the compact encoding (whose SCAN returns everything at once).
    pub fn is_compact(&self) -> bool {
        matches!(self.repr, Repr::Listpack(_))
    }

    /// Approximate heap bytes owned.
    pub fn heap_size(&self) -> usize {
        match &self.repr {
            Repr::Listpack(v) => {
                v.capacity() * std::mem::size_of::<Pair>() + v.iter().map(|(f, v)| f.len() + v.len()).sum::<usize>()
            }
            Repr::Table(t) => t.table_heap_size() + t.iter().map(|(_, v)| v.len()).sum::<usize>(),
        }
    }

    /// Every element, in the order the type defines (insertion order for the compact encoding).
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        let pairs = match &self.repr {
            Repr::Listpack(v) => v.as_slice(),
            Repr::Table(t) => t.entries.as_slice(),
        };
        pairs.iter().map(|(f, v)| (&**f, &**v))
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match &self.repr {
            Repr::Listpack(v) => v.iter().find(|(f, _)| &**f == field).map(|(_, v)| &**v),
            Repr::Table(t) => t.get(field).map(|v| &**v),
        }
    }

    /// True when `field` exists.
    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// The pair at position `i` (`i < len`), for random picks.
    pub fn at(&self, i: usize) -> (&[u8], &[u8]) {
        match &self.repr {
            Repr::Listpack(v) => (&v[i].0, &v[i].1),
            Repr::Table(t) => {
                let (f, v) = t.at(i);
                (f, v)
            }
        }
    }

    /// Converts to the table encoding, its hasher keyed by `seed`.
    fn convert(&mut self, seed: u64) {
        if let Repr::Listpack(pairs) = &mut self.repr {
            let pairs = std::mem::take(pairs);
            let mut table = DenseTable::with_capacity(pairs.len() + 1, seed);
            for (f, v) in pairs {
                table.insert_new(f, v);
            }
            self.repr = Repr::Table(table);
        }
    }

    /// Sets `field` to `value`, converting the encoding when the limits require it (a too-long string
    /// before the insert, too many entries after it); a conversion keys the table's hasher with `seed`
    /// (the caller draws it from the server's generator). Returns true when the field is new.
    pub fn set(&mut self, field: &[u8], value: &[u8], limits: HashLimits, seed: u64) -> bool {
        if matches!(self.repr, Repr::Listpack(_)) && (field.len() > limits.max_value || value.len() > limits.max_value)
        {
            self.convert(seed);
        }
        let added = match &mut self.repr {
            Repr::Listpack(pairs) => match pairs.iter_mut().find(|(f, _)| &**f == field) {
                Some((_, v)) => {
                    *v = value.into();
                    false
                }
                None => {
                    pairs.push((field.into(), value.into()));
                    true
                }
            },
            Repr::Table(t) => match t.get_mut(field) {
                Some(v) => {
                    *v = value.into();
                    false
                }
                None => {
                    t.insert_new(field.into(), value.into());
                    true
                }
            },
        };
        if matches!(&self.repr, Repr::Listpack(p) if p.len() > limits.max_entries) {
            self.convert(seed);
        }
        added
    }

    /// Removes `field`; true when it existed.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Listpack(pairs) => match pairs.iter().position(|(f, _)| &**f == field) {
                Some(i) => {
                    pairs.remove(i);
                    true
                }
                None => false,
            },
            Repr::Table(t) => t.remove(field).is_some(),
        }
    }

    /// One HSCAN step: the compact encoding visits everything and returns cursor 0; the table visits up
    /// to `count` entries (see [`DenseTable::scan`]).
    pub fn scan<'a>(&'a self, cursor: u64, count: usize, mut visit: impl FnMut(&'a [u8], &'a [u8])) -> u64 {
        match &self.repr {
            Repr::Listpack(pairs) => {
                for (f, v) in pairs {
                    visit(f, v);
                }
                0
            }
            Repr::Table(t) => t.scan(cursor, count, |f, v| visit(f, v)),
        }
    }

    /// Checks the encoding's invariants against `limits` (tests and fuzzers).
    pub fn check_invariants(&self, limits: HashLimits) {
        match &self.repr {
            Repr::Listpack(pairs) => {
                assert!(pairs.len() <= limits.max_entries, "listpack within the entry limit");
                for (i, (f, v)) in pairs.iter().enumerate() {
                    assert!(
                        f.len() <= limits.max_value && v.len() <= limits.max_value,
                        "listpack strings short"
                    );
                    assert!(pairs[..i].iter().all(|(g, _)| g != f), "listpack fields distinct");
                }
            }
            Repr::Table(t) => t.check_invariants(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small limits so that conversions are easy to reach.
    const LIMITS: HashLimits = HashLimits {
        max_entries: 4,
        max_value: 8,
    };

    #[test]
    fn converts_on_count_and_length() {
        let mut h = HashValue::new();
        for i in 0..4u8 {
            assert!(h.set(&[b'f', i], b"v", LIMITS, 7));
        }
        assert_eq!(h.encoding_name(), "listpack");
        assert!(!h.set(&[b'f', 0], b"w", LIMITS, 7));
        assert_eq!(h.encoding_name(), "listpack");
        assert!(h.set(b"f9", b"v", LIMITS, 7));
        assert_eq!(h.encoding_name(), "hashtable");
        assert_eq!(h.get(&[b'f', 0]), Some(&b"w"[..]));
        h.check_invariants(LIMITS);
        let mut g = HashValue::new();
        g.set(b"f", b"123456789", LIMITS, 7);
        assert_eq!(g.encoding_name(), "hashtable");
    }

    #[test]
    fn table_remove_and_scan_cover_everything() {
        let mut h = HashValue::new();
        for i in 0..100u32 {
            h.set(i.to_string().as_bytes(), b"v", LIMITS, 7);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        let mut round = 0u32;
        loop {
            cursor = h.scan(cursor, 7, |f, _| {
                seen.insert(f.to_vec());
            });
            // Remove odd fields while scanning; even ones must all be seen.
            h.remove((round * 2 + 1).to_string().as_bytes());
            round += 1;
            h.check_invariants(LIMITS);
            if cursor == 0 {
                break;
            }
        }
        for i in (0..100u32).step_by(2) {
            assert!(seen.contains(i.to_string().as_bytes()));
        }
    }

    #[test]
    fn table_shrinks_and_stays_consistent() {
        let mut t: DenseTable<u32> = DenseTable::with_capacity(0, 5);
        for i in 0..1000u32 {
            t.insert_new(i.to_string().into_bytes().into(), i);
        }
        for i in 0..990u32 {
            assert_eq!(t.remove(i.to_string().as_bytes()), Some(i));
        }
        t.check_invariants();
        assert_eq!(t.len(), 10);
        for i in 990..1000u32 {
            assert_eq!(t.get(i.to_string().as_bytes()), Some(&i));
        }
        assert!(t.entries.capacity() < 100);
    }
}
