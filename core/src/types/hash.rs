//! The hash type: a map of fields to values, and the dense hash table the large set encoding shares.
//!
//! Owns the two encodings `OBJECT ENCODING` reports for hashes and the one-way conversion between them:
//! - `listpack`: one byte buffer of (field, value) pairs in insertion order, each string behind a 1-, 2-
//!   or 5-byte length header (see `Packed` and `super::packed`). Small hashes (at most `hash-max-listpack-entries` pairs,
//!   every field and value at most `hash-max-listpack-value` bytes) are scanned linearly, which for a few
//!   dozen short entries beats hashing, costs one exact-fit allocation for the whole hash, and gives the
//!   reference server's reply order (insertion order).
//! - `hashtable`: a [`DenseTable`]: entries in a dense `Vec` plus a `hashbrown` index of positions, keyed
//!   by a hasher seeded from the server's generator (so clients cannot aim collisions and runs stay
//!   deterministic). The dense vector gives O(1) uniform random picks (HRANDFIELD) and a SCAN cursor that
//!   never misses an entry present for the whole scan (see [`DenseTable::scan`]).
//!
//! A hash converts to `hashtable` when an insert makes it too long or brings a too-long string; it never
//! converts back, as in the reference server.

use super::packed::{header, packed_len, push_string, read_string};
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

    /// The value of `key`, inserting `key` with `make()` first when absent; true when it was inserted.
    /// One hash and one probe either way (a lookup followed by [`DenseTable::insert_new`] costs two).
    pub fn get_or_insert_with(&mut self, key: &[u8], make: impl FnOnce() -> V) -> (&mut V, bool) {
        let hash = self.hasher.hash_one(key);
        let (entries, hasher) = (&self.entries, &self.hasher);
        let pos = match self.index.entry(
            hash,
            |&p| &*entries[p as usize].0 == key,
            |&p| hasher.hash_one(&*entries[p as usize].0),
        ) {
            hashbrown::hash_table::Entry::Occupied(found) => *found.get() as usize,
            hashbrown::hash_table::Entry::Vacant(slot) => {
                let pos = entries.len();
                slot.insert(pos as u32);
                self.entries.push((key.into(), make()));
                return (&mut self.entries[pos].1, true);
            }
        };
        (&mut self.entries[pos].1, false)
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

/// The longest string the packed hash keeps (at most four length bytes, as the listpack it stands for);
/// a longer one converts the hash to the table whatever `hash-max-listpack-value` says.
const MAX_PACKED_STRING: usize = u32::MAX as usize;

/// The compact encoding: (field, value) pairs in insertion order, packed back to back in one buffer, each
/// string behind a 1-, 2- or 5-byte length header (see [`header`]).
///
/// A 10-field hash of short strings costs one allocation of about (2 + field + value) bytes per pair,
/// against two boxed strings plus a 32-byte pair slot each before. Operations scan linearly, which the
/// entry limit keeps short. The buffer is kept at its exact size: growth reserves exactly what an insert
/// needs and removals give the slack back, so small values never carry doubling headroom.
#[derive(Clone, Debug, Default)]
struct Packed {
    /// The pairs, field then value, each string header-prefixed.
    buf: Vec<u8>,
    /// Number of pairs.
    count: usize,
}

/// Where one pair sits in a [`Packed`] buffer.
struct Slot {
    /// Offset of the field's header.
    start: usize,
    /// Offset of the value's header.
    value: usize,
    /// Offset just past the value.
    end: usize,
}

impl Packed {
    /// Every pair, in insertion order.
    fn iter(&self) -> PackedIter<'_> {
        PackedIter { buf: &self.buf, at: 0 }
    }

    /// Where `field`'s pair sits, if present.
    fn find(&self, field: &[u8]) -> Option<Slot> {
        let mut at = 0;
        while at < self.buf.len() {
            let (f, value) = read_string(&self.buf, at);
            let (_, end) = read_string(&self.buf, value);
            if f == field {
                return Some(Slot { start: at, value, end });
            }
            at = end;
        }
        None
    }

    /// The value of `field`.
    fn get(&self, field: &[u8]) -> Option<&[u8]> {
        self.find(field).map(|slot| read_string(&self.buf, slot.value).0)
    }

    /// Sets `field` to `value`; true when the field is new (appended at the end).
    fn set(&mut self, field: &[u8], value: &[u8]) -> bool {
        match self.find(field) {
            Some(slot) => {
                let new_len = packed_len(value);
                if new_len == slot.end - slot.value {
                    // Same size, so the same header: overwrite in place.
                    let (h, n) = header(value.len());
                    self.buf[slot.value..slot.value + n].copy_from_slice(&h[..n]);
                    self.buf[slot.value + n..slot.end].copy_from_slice(value);
                    return false;
                }
                // Rebuild at the exact new size: one allocation and one copy, as a grow or shrink in
                // place would cost anyway.
                let mut buf = Vec::with_capacity(self.buf.len() - (slot.end - slot.value) + new_len);
                buf.extend_from_slice(&self.buf[..slot.value]);
                push_string(&mut buf, value);
                buf.extend_from_slice(&self.buf[slot.end..]);
                self.buf = buf;
                false
            }
            None => {
                self.buf.reserve_exact(packed_len(field) + packed_len(value));
                push_string(&mut self.buf, field);
                push_string(&mut self.buf, value);
                self.count += 1;
                true
            }
        }
    }
}

impl Packed {
    /// Removes `field`'s pair; true when it existed. Gives the freed bytes back to the allocator.
    fn remove(&mut self, field: &[u8]) -> bool {
        let Some(slot) = self.find(field) else {
            return false;
        };
        self.buf.drain(slot.start..slot.end);
        self.buf.shrink_to_fit();
        self.count -= 1;
        true
    }

    /// Checks the buffer parses into `count` pairs that end exactly at its end, within `limits`, with
    /// distinct fields.
    fn check_invariants(&self, limits: HashLimits) {
        assert!(self.count <= limits.max_entries, "listpack within the entry limit");
        let mut at = 0;
        let mut fields: Vec<&[u8]> = Vec::new();
        while at < self.buf.len() {
            let (f, value) = read_string(&self.buf, at);
            let (v, end) = read_string(&self.buf, value);
            assert!(
                f.len() <= limits.max_value && v.len() <= limits.max_value,
                "listpack strings short"
            );
            assert!(!fields.contains(&f), "listpack fields distinct");
            fields.push(f);
            at = end;
        }
        assert_eq!(at, self.buf.len(), "pairs end at the buffer's end");
        assert_eq!(fields.len(), self.count, "pair count matches the buffer");
    }
}

/// The pairs of a [`Packed`] buffer, in order.
struct PackedIter<'a> {
    /// The packed buffer.
    buf: &'a [u8],
    /// Offset of the next pair's field header.
    at: usize,
}

impl<'a> Iterator for PackedIter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.at >= self.buf.len() {
            return None;
        }
        let (f, value) = read_string(self.buf, self.at);
        let (v, end) = read_string(self.buf, value);
        self.at = end;
        Some((f, v))
    }
}

/// A table entry: field and value.
type TableEntry = (Box<[u8]>, Box<[u8]>);

/// The pairs of a hash in either encoding.
enum Iter<'a> {
    /// The compact encoding's buffer.
    Packed(PackedIter<'a>),
    /// The table's entries.
    Table(std::slice::Iter<'a, TableEntry>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Packed(it) => it.next(),
            Iter::Table(it) => it.next().map(|(f, v)| (&**f, &**v)),
        }
    }
}

/// The two encodings.
#[derive(Clone, Debug)]
enum Repr {
    /// (field, value) pairs in insertion order, packed in one buffer.
    Listpack(Packed),
    /// The large encoding, boxed so that the small one sets the size of every hash's allocation.
    Table(Box<DenseTable<Box<[u8]>>>),
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
            repr: Repr::Listpack(Packed::default()),
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Listpack(p) => p.count,
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
            Repr::Listpack(p) => p.buf.capacity(),
            Repr::Table(t) => t.table_heap_size() + t.iter().map(|(_, v)| v.len()).sum::<usize>(),
        }
    }

    /// Every element, in the order the type defines (insertion order for the compact encoding).
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        match &self.repr {
            Repr::Listpack(p) => Iter::Packed(p.iter()),
            Repr::Table(t) => Iter::Table(t.entries.iter()),
        }
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match &self.repr {
            Repr::Listpack(p) => p.get(field),
            Repr::Table(t) => t.get(field).map(|v| &**v),
        }
    }

    /// True when `field` exists.
    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// The pair at position `i` (`i < len`), for random picks. The compact encoding walks to it, so
    /// many picks from one hash are cheaper through [`HashValue::iter`].
    pub fn at(&self, i: usize) -> (&[u8], &[u8]) {
        match &self.repr {
            Repr::Listpack(p) => p.iter().nth(i).unwrap_or((&[], &[])),
            Repr::Table(t) => {
                let (f, v) = t.at(i);
                (f, v)
            }
        }
    }

    /// Converts to the table encoding, its hasher keyed by `seed`.
    fn convert(&mut self, seed: u64) {
        if let Repr::Listpack(p) = &self.repr {
            let mut table = DenseTable::with_capacity(p.count + 1, seed);
            for (f, v) in p.iter() {
                table.insert_new(f.into(), v.into());
            }
            self.repr = Repr::Table(Box::new(table));
        }
    }

    /// Sets `field` to `value`, converting the encoding when the limits require it (a too-long string
    /// before the insert, too many entries after it); a conversion keys the table's hasher with `seed`
    /// (the caller draws it from the server's generator). Returns true when the field is new.
    pub fn set(&mut self, field: &[u8], value: &[u8], limits: HashLimits, seed: u64) -> bool {
        let max = limits.max_value.min(MAX_PACKED_STRING);
        if matches!(self.repr, Repr::Listpack(_)) && (field.len() > max || value.len() > max) {
            self.convert(seed);
        }
        let added = match &mut self.repr {
            Repr::Listpack(p) => p.set(field, value),
            Repr::Table(t) => {
                let (v, added) = t.get_or_insert_with(field, || value.into());
                if !added {
                    if v.len() == value.len() {
                        // Same length: overwrite in place, sparing an allocation and a free.
                        v.copy_from_slice(value);
                    } else {
                        *v = value.into();
                    }
                }
                added
            }
        };
        if matches!(&self.repr, Repr::Listpack(p) if p.count > limits.max_entries) {
            self.convert(seed);
        }
        added
    }

    /// Removes `field`; true when it existed.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Listpack(p) => p.remove(field),
            Repr::Table(t) => t.remove(field).is_some(),
        }
    }

    /// One HSCAN step: the compact encoding visits everything and returns cursor 0; the table visits up
    /// to `count` entries (see [`DenseTable::scan`]).
    pub fn scan<'a>(&'a self, cursor: u64, count: usize, mut visit: impl FnMut(&'a [u8], &'a [u8])) -> u64 {
        match &self.repr {
            Repr::Listpack(p) => {
                for (f, v) in p.iter() {
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
            Repr::Listpack(p) => p.check_invariants(limits),
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

    /// Limits wide enough to keep every string below in the packed encoding.
    const WIDE: HashLimits = HashLimits {
        max_entries: 128,
        max_value: 1 << 20,
    };

    /// Bytes `0, 1, 2...` (wrapping), `len` of them: binary data including NUL and 0xff.
    fn bytes(len: usize, salt: u8) -> Vec<u8> {
        (0..len).map(|i| (i as u8).wrapping_add(salt)).collect()
    }

    #[test]
    fn strings_at_every_header_boundary() {
        // The header encoding itself is tested in `types::packed`; here, a hash built of strings at
        // every header boundary.
        let lens = [0usize, 1, 63, 64, 65, 16383, 16384, 16385, 70000];
        let mut h = HashValue::new();
        for (k, &len) in lens.iter().enumerate() {
            assert!(h.set(&bytes(len, k as u8), &bytes(lens[lens.len() - 1 - k], 3), WIDE, 7));
        }
        assert_eq!(h.encoding_name(), "listpack");
        h.check_invariants(WIDE);
        for (k, &len) in lens.iter().enumerate() {
            assert_eq!(
                h.get(&bytes(len, k as u8)),
                Some(&bytes(lens[lens.len() - 1 - k], 3)[..])
            );
        }
        let order: Vec<Vec<u8>> = h.iter().map(|(f, _)| f.to_vec()).collect();
        let expect: Vec<Vec<u8>> = lens.iter().enumerate().map(|(k, &l)| bytes(l, k as u8)).collect();
        assert_eq!(order, expect, "insertion order kept");
    }

    #[test]
    fn packed_remove_in_the_middle_and_replace() {
        let mut h = HashValue::new();
        for i in 0..10u8 {
            h.set(&[b'f', i, 0, 0xff], &bytes(i as usize * 10, i), WIDE, 7);
        }
        assert!(h.remove(&[b'f', 4, 0, 0xff]));
        assert!(!h.remove(&[b'f', 4, 0, 0xff]));
        assert!(!h.remove(b"f"));
        assert_eq!(h.len(), 9);
        // Longer (crossing the 1-byte header), shorter, same length, empty.
        assert!(!h.set(&[b'f', 2, 0, 0xff], &bytes(300, 1), WIDE, 7));
        assert!(!h.set(&[b'f', 8, 0, 0xff], b"x", WIDE, 7));
        assert!(!h.set(&[b'f', 5, 0, 0xff], &bytes(50, 9), WIDE, 7));
        assert!(!h.set(&[b'f', 0, 0, 0xff], b"", WIDE, 7));
        h.check_invariants(WIDE);
        let got: Vec<(Vec<u8>, Vec<u8>)> = h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
        let mut want = Vec::new();
        for i in (0..10u8).filter(|&i| i != 4) {
            let v = match i {
                0 => Vec::new(),
                2 => bytes(300, 1),
                5 => bytes(50, 9),
                8 => b"x".to_vec(),
                _ => bytes(i as usize * 10, i),
            };
            want.push((vec![b'f', i, 0, 0xff], v));
        }
        assert_eq!(got, want);
        for (i, (f, v)) in want.iter().enumerate() {
            assert_eq!(h.at(i), (&f[..], &v[..]));
        }
        // Removing the first and the last entries too.
        assert!(h.remove(&[b'f', 0, 0, 0xff]));
        assert!(h.remove(&[b'f', 9, 0, 0xff]));
        h.check_invariants(WIDE);
        assert_eq!(h.len(), 7);
        assert_eq!(h.iter().count(), 7);
    }

    #[test]
    fn packed_heap_size_is_exact_fit() {
        let mut h = HashValue::new();
        let mut payload = 0;
        for i in 0..10u32 {
            let (f, v) = (format!("f{i:07}"), format!("v{i:07}"));
            payload += f.len() + v.len();
            h.set(f.as_bytes(), v.as_bytes(), WIDE, 7);
        }
        // Two 1-byte headers per pair and no growth slack: 180 bytes for what took 10 pairs of boxes.
        assert_eq!(h.heap_size(), payload + 2 * 10);
        h.remove(b"f0000003");
        assert_eq!(h.heap_size(), payload - 16 + 2 * 9);
        h.set(b"f0000001", b"longer value", WIDE, 7);
        assert_eq!(h.heap_size(), payload - 16 + 2 * 9 + 4);
        // The value itself (boxed in `Value`) is no larger than the buffer's handle and count.
        assert_eq!(std::mem::size_of::<HashValue>(), 32);
    }
}
