//! The set type: a collection of distinct byte strings.
//!
//! Owns the two encodings `OBJECT ENCODING` reports for sets (Redis 7.0 has no listpack sets) and the
//! one-way conversion between them:
//! - `intset`: members that are all integers in the strict 64-bit grammar, at most
//!   `set-max-intset-entries` of them, kept sorted by value in a `Vec`. Each slot holds the value and
//!   its decimal text inline (32 bytes, no per-member allocation): membership is a binary search, replies
//!   come out in ascending order as the reference server's do, and [`SetValue::iter`] can lend the text
//!   without formatting on every call.
//! - `hashtable`: a [`DenseTable`] (shared with the hash type) with unit values: O(1) membership,
//!   insert, remove and uniform random picks (SPOP, SRANDMEMBER), and a SCAN that never misses a member
//!   present for the whole scan.
//!
//! A set converts to `hashtable` when a non-integer member arrives or it grows past the limit; it never
//! converts back (SPOP's rebuild of a mostly-popped set starts a fresh set, as the reference does).

use super::hash::DenseTable;
use super::number;

/// One intset member: its value and its decimal text.
#[derive(Clone, Copy, Debug)]
struct IntMember {
    /// The value (the sort key).
    value: i64,
    /// Length of the text.
    len: u8,
    /// The decimal text, in the first `len` bytes.
    text: [u8; 20],
}

impl IntMember {
    /// The member for `value`.
    fn new(value: i64) -> IntMember {
        let mut text = [0u8; 20];
        let len = number::format_i64(value, &mut text) as u8;
        IntMember { value, len, text }
    }

    /// The decimal text.
    fn text(&self) -> &[u8] {
        &self.text[..self.len as usize]
    }
}

/// The two encodings.
#[derive(Clone, Debug)]
enum Repr {
    /// Integers sorted ascending.
    Intset(Vec<IntMember>),
    /// The large encoding.
    Table(DenseTable<()>),
}

/// A set value.
#[derive(Clone, Debug)]
pub struct SetValue {
    /// The current encoding and its data.
    repr: Repr,
}

impl Default for SetValue {
    /// An empty set in the intset encoding.
    fn default() -> Self {
        SetValue {
            repr: Repr::Intset(Vec::new()),
        }
    }
}

impl PartialEq for SetValue {
    /// Same members, whatever the encodings.
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|m| other.contains(m))
    }
}

impl SetValue {
    /// An empty set in the encoding the reference picks for a set whose first member is `first`: the
    /// intset when it is an integer, else the table (its hasher keyed by `seed`).
    pub fn new_for(first: &[u8], seed: u64) -> SetValue {
        if number::parse_i64(first).is_some() {
            SetValue::default()
        } else {
            SetValue {
                repr: Repr::Table(DenseTable::with_capacity(1, seed)),
            }
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Intset(v) => v.len(),
            Repr::Table(t) => t.len(),
        }
    }

    /// True when empty (an empty set is never stored: its key is removed).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name `OBJECT ENCODING` reports.
    pub fn encoding_name(&self) -> &'static str {
        match &self.repr {
            Repr::Intset(_) => "intset",
            Repr::Table(_) => "hashtable",
        }
    }

    /// True in the compact encoding (whose SCAN returns everything at once).
    pub fn is_compact(&self) -> bool {
        matches!(self.repr, Repr::Intset(_))
    }

    /// Approximate heap bytes owned.
    pub fn heap_size(&self) -> usize {
        match &self.repr {
            Repr::Intset(v) => v.capacity() * std::mem::size_of::<IntMember>(),
            Repr::Table(t) => t.table_heap_size(),
        }
    }

    /// Every element, in the order the type defines (ascending for the intset).
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let (ints, table) = match &self.repr {
            Repr::Intset(v) => (Some(v.iter().map(IntMember::text)), None),
            Repr::Table(t) => (None, Some(t.iter().map(|(k, _)| k))),
        };
        ints.into_iter().flatten().chain(table.into_iter().flatten())
    }

    /// True when `member` is in the set.
    pub fn contains(&self, member: &[u8]) -> bool {
        match &self.repr {
            Repr::Intset(v) => {
                number::parse_i64(member).is_some_and(|n| v.binary_search_by_key(&n, |m| m.value).is_ok())
            }
            Repr::Table(t) => t.position(member).is_some(),
        }
    }

    /// The member at position `i` (`i < len`), for random picks.
    pub fn at(&self, i: usize) -> &[u8] {
        match &self.repr {
            Repr::Intset(v) => v[i].text(),
            Repr::Table(t) => t.at(i).0,
        }
    }

    /// Converts to the table encoding, its hasher keyed by `seed`.
    fn convert(&mut self, seed: u64) {
        if let Repr::Intset(ints) = &self.repr {
            let mut table = DenseTable::with_capacity(ints.len() + 1, seed);
            for m in ints {
                table.insert_new(m.text().into(), ());
            }
            self.repr = Repr::Table(table);
        }
    }

    /// Adds `member`, converting when it is not an integer or the intset grows past `max_intset` (a
    /// conversion keys the table's hasher with `seed`). Returns true when it was new.
    pub fn insert(&mut self, member: &[u8], max_intset: usize, seed: u64) -> bool {
        if let Repr::Intset(ints) = &mut self.repr {
            match number::parse_i64(member) {
                Some(n) => {
                    let Err(at) = ints.binary_search_by_key(&n, |m| m.value) else {
                        return false;
                    };
                    ints.insert(at, IntMember::new(n));
                    if ints.len() > max_intset {
                        self.convert(seed);
                    }
                    return true;
                }
                None => self.convert(seed),
            }
        }
        match &mut self.repr {
            Repr::Table(t) => t.get_or_insert_with(member, || ()).1,
            // Unreachable: converted above.
            Repr::Intset(_) => false,
        }
    }

    /// Removes `member`; true when it was present.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Intset(ints) => {
                let Some(n) = number::parse_i64(member) else {
                    return false;
                };
                match ints.binary_search_by_key(&n, |m| m.value) {
                    Ok(i) => {
                        ints.remove(i);
                        true
                    }
                    Err(_) => false,
                }
            }
            Repr::Table(t) => t.remove(member).is_some(),
        }
    }

    /// Removes and returns the member at position `i` (`i < len`).
    pub fn remove_at(&mut self, i: usize) -> Vec<u8> {
        match &mut self.repr {
            Repr::Intset(ints) => ints.remove(i).text().to_vec(),
            Repr::Table(t) => t.remove_at(i).0.into_vec(),
        }
    }

    /// One SSCAN step: the intset visits everything and returns cursor 0; the table visits up to `count`
    /// members (see [`DenseTable::scan`]).
    pub fn scan<'a>(&'a self, cursor: u64, count: usize, mut visit: impl FnMut(&'a [u8])) -> u64 {
        match &self.repr {
            Repr::Intset(ints) => {
                for m in ints {
                    visit(m.text());
                }
                0
            }
            Repr::Table(t) => t.scan(cursor, count, |k, _| visit(k)),
        }
    }

    /// Checks the encoding's invariants against `max_intset` (tests and fuzzers).
    pub fn check_invariants(&self, max_intset: usize) {
        match &self.repr {
            Repr::Intset(ints) => {
                assert!(ints.len() <= max_intset, "intset within the entry limit");
                assert!(
                    ints.windows(2).all(|w| w[0].value < w[1].value),
                    "intset sorted and distinct"
                );
                for m in ints {
                    assert_eq!(number::parse_i64(m.text()), Some(m.value), "intset text matches value");
                }
            }
            Repr::Table(t) => t.check_invariants(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intset_until_limit_or_text() {
        let mut s = SetValue::new_for(b"5", 9);
        for m in [&b"5"[..], b"-3", b"10", b"5"] {
            s.insert(m, 3, 9);
        }
        assert_eq!(s.encoding_name(), "intset");
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![&b"-3"[..], b"5", b"10"]);
        assert!(!s.contains(b"05"));
        s.insert(b"11", 3, 9);
        assert_eq!(s.encoding_name(), "hashtable");
        assert!(s.contains(b"-3") && s.contains(b"11"));
        s.check_invariants(3);
        let mut t = SetValue::new_for(b"1", 9);
        t.insert(b"1", 512, 9);
        t.insert(b"x", 512, 9);
        assert_eq!(t.encoding_name(), "hashtable");
        assert!(t.remove(b"1") && !t.remove(b"1"));
        assert_eq!(t.len(), 1);
    }
}
