//! A growable vector of optional entries stored in fixed-size chunks.
//!
//! Owns only the storage of the slot vector: indexing, pushing and popping at the end. Growing never
//! moves existing entries and never frees a large buffer: a flat `Vec` that doubles leaves its old
//! buffer (half the new size) dirty in the allocator, resident but unused when nothing else is allocated
//! afterwards (which is the case once keys and short values live inside the entries), and leaves up to
//! half of the new buffer as spare capacity. Chunks bound both to one chunk. It never interprets entries.

use std::ops::{Index, IndexMut};

/// Slots per chunk, as a power of two (4096 slots: 224 KiB of 56-byte entries).
const CHUNK_BITS: u32 = 12;
const CHUNK: usize = 1 << CHUNK_BITS;

/// Slots `0..len`, each `Option<T>`, in chunks of [`CHUNK`].
#[derive(Clone, Debug)]
pub struct SlotVec<T> {
    /// Every chunk but the last few is full; chunks past `len` are kept (empty) for reuse.
    chunks: Vec<Vec<Option<T>>>,
    len: usize,
}

impl<T> Default for SlotVec<T> {
    fn default() -> Self {
        SlotVec {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T> SlotVec<T> {
    /// Number of slots.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when there is no slot.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The slot at `i`, if `i < len`.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&Option<T>> {
        self.chunks.get(i >> CHUNK_BITS)?.get(i & (CHUNK - 1))
    }

    /// The slot at `i` for change, if `i < len`.
    #[inline]
    pub fn get_mut(&mut self, i: usize) -> Option<&mut Option<T>> {
        self.chunks.get_mut(i >> CHUNK_BITS)?.get_mut(i & (CHUNK - 1))
    }

    /// Appends a slot holding `value`.
    pub fn push(&mut self, value: Option<T>) {
        let chunk = self.len >> CHUNK_BITS;
        if chunk == self.chunks.len() {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        // Chunks before `chunk` are full and chunk `chunk` holds exactly `len % CHUNK` slots.
        self.chunks[chunk].push(value);
        self.len += 1;
    }

    /// Removes the last slot, returning its content.
    pub fn pop(&mut self) -> Option<Option<T>> {
        let last = self.len.checked_sub(1)?;
        let value = self.chunks.get_mut(last >> CHUNK_BITS)?.pop()?;
        self.len = last;
        Some(value)
    }

    /// Removes every slot (keeping the chunks' memory for reuse, as `Vec::clear` keeps capacity).
    pub fn clear(&mut self) {
        self.chunks.iter_mut().for_each(Vec::clear);
        self.len = 0;
    }

    /// The slots in order.
    pub fn iter(&self) -> impl Iterator<Item = &Option<T>> + '_ {
        self.chunks.iter().flatten()
    }
}

impl<T> Index<usize> for SlotVec<T> {
    type Output = Option<T>;

    /// The slot at `i`; panics when `i >= len`, like a slice (callers index with known slot numbers).
    #[inline]
    fn index(&self, i: usize) -> &Option<T> {
        &self.chunks[i >> CHUNK_BITS][i & (CHUNK - 1)]
    }
}

impl<T> IndexMut<usize> for SlotVec<T> {
    #[inline]
    fn index_mut(&mut self, i: usize) -> &mut Option<T> {
        &mut self.chunks[i >> CHUNK_BITS][i & (CHUNK - 1)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_like_a_vec_across_chunk_boundaries() {
        let mut slots = SlotVec::default();
        let mut model: Vec<Option<usize>> = Vec::new();
        // Grow past two chunk boundaries, shrink back across one, grow again, and compare throughout.
        let steps = (0..2 * CHUNK + 5)
            .map(Some)
            .chain((0..CHUNK + 10).map(|_| None))
            .chain((0..20).map(Some));
        for step in steps {
            match step {
                Some(i) => {
                    let v = (i % 3 != 0).then_some(i);
                    slots.push(v);
                    model.push(v);
                }
                None => assert_eq!(slots.pop(), model.pop()),
            }
            assert_eq!(slots.len(), model.len());
        }
        assert!(slots.iter().eq(model.iter()));
        for (i, v) in model.iter().enumerate() {
            assert_eq!(&slots[i], v);
            assert_eq!(slots.get(i), Some(v));
        }
        assert_eq!(slots.get(model.len()), None);
        slots[5] = Some(99);
        assert_eq!(slots.get_mut(5).and_then(|s| s.take()), Some(99));
        slots.clear();
        assert!(slots.is_empty());
        assert_eq!(slots.iter().count(), 0);
        assert_eq!(slots.pop(), None);
        slots.push(Some(1));
        assert_eq!(slots[0], Some(1));
    }
}
