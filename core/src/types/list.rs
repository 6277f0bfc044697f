//! The list type: an ordered sequence of byte strings with cheap access at both ends.
//!
//! Owns the in-memory representation of list values and the index arithmetic the list commands share
//! (negative indexes, clamped ranges).
//!
//! Representation: a ring buffer (`VecDeque`) of boxed byte slices, one per element.
//! - Both ends are O(1) amortised, which is what the hot commands (pushes, pops, LMOVE, the blocking
//!   pops) need.
//! - Every slot is a 16-byte fat pointer (no spare capacity per element, unlike `Vec<u8>`'s 24 bytes),
//!   so middle insertions and removals move 16 bytes per shifted element, and the ring shifts the
//!   shorter side.
//! - Indexing is O(1), better than the reference server's node walk, so LINDEX/LSET/LRANGE with an
//!   offset cost nothing extra.
//!
//! A chunked layout (packed nodes as in the reference server's quicklist) would save the per-element
//! allocation header for very small elements, at the price of re-packing on every middle edit and
//! O(n/chunk) indexing; the flat ring keeps every operation simple and allocation-free apart from the
//! element itself. `OBJECT ENCODING` reports "quicklist" for every list, as Redis 7.0 does.

use std::collections::VecDeque;

/// A list value. An empty list is never stored: the commands remove its key.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListValue {
    /// Elements from head to tail.
    items: VecDeque<Box<[u8]>>,
}

/// Which end of a list an operation works on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// The head (LEFT, index 0).
    Head,
    /// The tail (RIGHT, index -1).
    Tail,
}

/// Resolves a possibly negative index (`-1` is the last element) against a list of `len` elements;
/// `None` when it falls outside the list.
pub fn resolve_index(index: i64, len: usize) -> Option<usize> {
    let len = len as i64;
    let i = if index < 0 { index.checked_add(len)? } else { index };
    (0..len).contains(&i).then_some(i as usize)
}

/// Clamps an inclusive `start..=stop` range with negative indexes to a list of `len` elements, as LRANGE
/// and LTRIM do; `None` when the range selects nothing.
pub fn clamp_range(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    // `len` fits comfortably, so adding it to a negative index cannot overflow.
    let start = if start < 0 { (start + len).max(0) } else { start };
    let stop = if stop < 0 { stop + len } else { stop };
    if start > stop || start >= len {
        return None;
    }
    let stop = stop.min(len - 1);
    Some((start as usize, stop as usize))
}

impl ListValue {
    /// An empty list.
    pub fn new() -> ListValue {
        ListValue::default()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when empty (an empty list is never stored: its key is removed).
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The name `OBJECT ENCODING` reports.
    pub fn encoding_name(&self) -> &'static str {
        "quicklist"
    }

    /// Approximate heap bytes owned: the ring's slots plus every element's bytes. O(n).
    pub fn heap_size(&self) -> usize {
        self.items.capacity() * std::mem::size_of::<Box<[u8]>>() + self.items.iter().map(|i| i.len()).sum::<usize>()
    }

    /// Every element, head to tail.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &[u8]> + ExactSizeIterator + '_ {
        self.items.iter().map(|i| &**i)
    }

    /// The elements at positions `start..=stop` (both within the list), head to tail.
    pub fn range(&self, start: usize, stop: usize) -> impl DoubleEndedIterator<Item = &[u8]> + '_ {
        self.items.range(start..=stop).map(|i| &**i)
    }

    /// The element at `index` (0 is the head).
    pub fn get(&self, index: usize) -> Option<&[u8]> {
        self.items.get(index).map(|i| &**i)
    }

    /// Replaces the element at `index`; false (and no change) when out of range.
    pub fn set(&mut self, index: usize, item: Vec<u8>) -> bool {
        match self.items.get_mut(index) {
            Some(slot) => {
                *slot = item.into_boxed_slice();
                true
            }
            None => false,
        }
    }

    /// Inserts an element so that it ends up at `index` (at most `len`).
    pub fn insert(&mut self, index: usize, item: Vec<u8>) {
        self.items.insert(index.min(self.items.len()), item.into_boxed_slice());
    }

    /// The position of the first element equal to `item`, from the head.
    pub fn position(&self, item: &[u8]) -> Option<usize> {
        self.items.iter().position(|i| **i == *item)
    }

    /// Adds an element at the head.
    pub fn push_front(&mut self, item: Vec<u8>) {
        self.items.push_front(item.into_boxed_slice());
    }

    /// Adds an element at the tail.
    pub fn push_back(&mut self, item: Vec<u8>) {
        self.items.push_back(item.into_boxed_slice());
    }

    /// Adds an element at `end`.
    pub fn push(&mut self, end: End, item: Vec<u8>) {
        match end {
            End::Head => self.push_front(item),
            End::Tail => self.push_back(item),
        }
    }

    /// Removes and returns the head element.
    pub fn pop_front(&mut self) -> Option<Vec<u8>> {
        self.items.pop_front().map(Vec::from)
    }

    /// Removes and returns the tail element.
    pub fn pop_back(&mut self) -> Option<Vec<u8>> {
        self.items.pop_back().map(Vec::from)
    }

    /// Removes and returns the element at `end`.
    pub fn pop(&mut self, end: End) -> Option<Vec<u8>> {
        match end {
            End::Head => self.pop_front(),
            End::Tail => self.pop_back(),
        }
    }

    /// Removes elements equal to `item`: the first `count` from the head when `count > 0`, the last
    /// `-count` from the tail when `count < 0`, all of them when `count == 0`. Returns how many went.
    pub fn remove_matching(&mut self, item: &[u8], count: i64) -> usize {
        let limit = if count == 0 {
            usize::MAX
        } else {
            usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX)
        };
        // Matches to keep before removal starts: none from the head; from the tail, all but the last `limit`.
        let skip = if count < 0 {
            self.items
                .iter()
                .filter(|i| ***i == *item)
                .count()
                .saturating_sub(limit)
        } else {
            0
        };
        let (mut seen, mut removed) = (0usize, 0usize);
        self.items.retain(|i| {
            if **i != *item || removed == limit {
                return true;
            }
            seen += 1;
            if seen <= skip {
                return true;
            }
            removed += 1;
            false
        });
        removed
    }

    /// Keeps only the elements at positions `start..=stop`; `None` empties the list.
    pub fn trim(&mut self, keep: Option<(usize, usize)>) {
        match keep {
            None => self.items.clear(),
            Some((start, stop)) => {
                self.items.truncate(stop.saturating_add(1));
                self.items.drain(..start.min(self.items.len()));
            }
        }
    }
}

impl FromIterator<Vec<u8>> for ListValue {
    fn from_iter<I: IntoIterator<Item = Vec<u8>>>(iter: I) -> ListValue {
        ListValue {
            items: iter.into_iter().map(Vec::into_boxed_slice).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> ListValue {
        items.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    fn items(l: &ListValue) -> Vec<String> {
        l.iter().map(|i| String::from_utf8_lossy(i).into_owned()).collect()
    }

    #[test]
    fn indexes_resolve_from_either_end() {
        assert_eq!(resolve_index(0, 3), Some(0));
        assert_eq!(resolve_index(-1, 3), Some(2));
        assert_eq!(resolve_index(-3, 3), Some(0));
        assert_eq!(resolve_index(-4, 3), None);
        assert_eq!(resolve_index(3, 3), None);
        assert_eq!(resolve_index(i64::MIN, 3), None);
        assert_eq!(resolve_index(i64::MAX, 3), None);
        assert_eq!(resolve_index(0, 0), None);
    }

    #[test]
    fn ranges_clamp_like_lrange() {
        assert_eq!(clamp_range(0, -1, 5), Some((0, 4)));
        assert_eq!(clamp_range(-100, 100, 5), Some((0, 4)));
        assert_eq!(clamp_range(3, 1, 5), None);
        assert_eq!(clamp_range(5, 10, 5), None);
        assert_eq!(clamp_range(0, -6, 5), None);
        assert_eq!(clamp_range(-6, 0, 5), Some((0, 0)));
        assert_eq!(clamp_range(i64::MIN, i64::MAX, 2), Some((0, 1)));
        assert_eq!(clamp_range(i64::MAX, i64::MIN, 2), None);
        assert_eq!(clamp_range(0, -1, 0), None);
    }

    #[test]
    fn remove_matching_from_each_end() {
        let mut l = list(&["a", "b", "a", "c", "a"]);
        assert_eq!(l.remove_matching(b"a", 2), 2);
        assert_eq!(items(&l), ["b", "c", "a"]);
        let mut l = list(&["a", "b", "a", "c", "a"]);
        assert_eq!(l.remove_matching(b"a", -2), 2);
        assert_eq!(items(&l), ["a", "b", "c"]);
        let mut l = list(&["a", "b", "a", "c", "a"]);
        assert_eq!(l.remove_matching(b"a", 0), 3);
        assert_eq!(items(&l), ["b", "c"]);
        assert_eq!(l.remove_matching(b"z", i64::MIN), 0);
        assert_eq!(l.remove_matching(b"b", i64::MIN), 1);
        assert_eq!(items(&l), ["c"]);
    }

    #[test]
    fn trim_insert_set_and_ends() {
        let mut l = list(&["a", "b", "c", "d", "e"]);
        l.trim(clamp_range(1, -2, l.len()));
        assert_eq!(items(&l), ["b", "c", "d"]);
        l.insert(1, b"x".to_vec());
        l.insert(99, b"z".to_vec());
        assert!(l.set(0, b"B".to_vec()));
        assert!(!l.set(10, b"no".to_vec()));
        assert_eq!(items(&l), ["B", "x", "c", "d", "z"]);
        assert_eq!(l.position(b"c"), Some(2));
        l.push(End::Head, b"h".to_vec());
        assert_eq!(l.pop(End::Tail), Some(b"z".to_vec()));
        assert_eq!(l.pop_front(), Some(b"h".to_vec()));
        l.trim(None);
        assert!(l.is_empty());
        assert_eq!(l.pop_back(), None);
    }
}
