//! The list type: an ordered sequence of byte strings with cheap access at both ends.
//!
//! Owns the in-memory representation of list values and the index arithmetic the list commands share
//! (negative indexes, clamped ranges). Knows nothing of clients, replies or the configuration table: the
//! node size rule comes in as `list-max-listpack-size`'s value when a list is created.
//!
//! Representation (like the reference server's quicklist): a ring buffer (`VecDeque`) of nodes, each node
//! one byte buffer of packed entries (see [`super::packed`]: a length header, the bytes, then the header
//! mirrored as a trailer so the buffer can be walked from either end).
//! - A node holds as many entries as `list-max-listpack-size` allows: a negative value caps its bytes
//!   (-1..-5 = 4, 8, 16, 32, 64 KiB), a positive one its entry count (and then 8 KiB of bytes). One entry
//!   too large for any node gets a node of its own.
//! - An 8-byte element costs 10 bytes plus a share of its node's 40-byte slot, against a 16-byte ring
//!   slot plus a separate allocation per element in a flat ring.
//! - Pushes and pops at either end are O(1) amortised: live bytes sit at `buf[head..]`; pushes at the
//!   tail append, pushes at the head fill spare room kept before `head` (grown by doubling, like a
//!   vector's tail), pops move `head` or truncate. A node that stops being an end node is trimmed to its
//!   exact size.
//! - Indexing walks nodes by their counts from the nearer end, then entries within one node: O(n/node).
//!   Middle inserts and replacements splice one node and split it when it outgrows the limit; LREM
//!   repacks the whole list (it is O(n) anyway); LTRIM drops whole nodes, then single entries.
//!
//! `OBJECT ENCODING` reports "quicklist" for every list, as the reference server (7.0) does.

use super::packed::{entry_len, push_entry, read_entry, read_entry_back, write_entry};
use std::collections::VecDeque;

/// `list-max-listpack-size`'s default: nodes of at most 8 KiB.
pub const DEFAULT_FILL: i64 = -2;

/// Node byte limits for negative `list-max-listpack-size` (-1 to -5; smaller values mean -5).
const SIZE_LEVELS: [usize; 5] = [4096, 8192, 16_384, 32_768, 65_536];

/// Bytes a count-limited node does not grow beyond (one entry alone may).
const SAFETY_LIMIT: usize = 8192;

/// Header bytes below this are a whole 1-byte header: the string's length (see [`super::packed`]).
const SHORT_HEADER_LIMIT: u8 = 64;

/// Spare room a node allocates at least when it has to grow.
const MIN_GROWTH: usize = 32;

/// How full a node may get, from `list-max-listpack-size`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct NodeLimit {
    /// Most live bytes in a node holding more than one entry.
    bytes: usize,
    /// Most entries in a node.
    count: usize,
}

impl NodeLimit {
    /// The limit `list-max-listpack-size` = `fill` sets.
    fn from_fill(fill: i64) -> NodeLimit {
        if fill < 0 {
            let level = usize::try_from(fill.unsigned_abs() - 1).unwrap_or(usize::MAX);
            NodeLimit {
                bytes: SIZE_LEVELS[level.min(SIZE_LEVELS.len() - 1)],
                count: usize::MAX,
            }
        } else {
            NodeLimit {
                bytes: SAFETY_LIMIT,
                // 0 behaves as 1: every entry in its own node.
                count: usize::try_from(fill).unwrap_or(usize::MAX).max(1),
            }
        }
    }
}

/// One node: a run of entries packed in one buffer.
#[derive(Clone, Debug, Default)]
struct Node {
    /// Entries live at `buf[head..]`; `buf[..head]` is spare room for pushes at the head.
    buf: Vec<u8>,
    /// Offset of the first entry's header.
    head: usize,
    /// Number of entries.
    count: usize,
}

impl Node {
    /// Bytes of live entries.
    fn live(&self) -> usize {
        self.buf.len() - self.head
    }

    /// True when one more entry of `need` bytes may join this node.
    fn fits(&self, need: usize, limit: NodeLimit) -> bool {
        self.count == 0 || (self.count < limit.count && self.live() + need <= limit.bytes)
    }

    /// True when the node holds more than `limit` allows and can be split.
    fn overfull(&self, limit: NodeLimit) -> bool {
        self.count > 1 && (self.count > limit.count || self.live() > limit.bytes)
    }

    /// Makes room for `need` more bytes at the tail, growing by doubling up to the node's byte limit.
    fn grow_back(&mut self, need: usize, limit: NodeLimit) {
        if self.head > 0 && self.head >= self.live() {
            // Mostly spare room at the head (a queue: pushes here, pops there): slide down rather than grow.
            self.buf.drain(..self.head);
            self.head = 0;
            if self.buf.capacity() - self.buf.len() >= need {
                return;
            }
        }
        let len = self.buf.len();
        let target = (self.buf.capacity() * 2)
            .max(MIN_GROWTH)
            .min(limit.bytes + self.head)
            .max(len + need);
        self.buf.reserve_exact(target - len);
    }

    /// Appends `s` at the tail.
    fn push_back(&mut self, s: &[u8], need: usize, limit: NodeLimit) {
        if self.buf.capacity() - self.buf.len() < need {
            self.grow_back(need, limit);
        }
        push_entry(&mut self.buf, s);
        self.count += 1;
    }

    /// Inserts `s` at the head, first making room before the entries when there is too little.
    fn push_front(&mut self, s: &[u8], need: usize, limit: NodeLimit) {
        if self.head < need {
            let live = self.live();
            let room = live.max(MIN_GROWTH).min(limit.bytes.saturating_sub(live)).max(need);
            let mut buf = Vec::with_capacity(room + live);
            buf.resize(room, 0);
            buf.extend_from_slice(&self.buf[self.head..]);
            self.buf = buf;
            self.head = room;
        }
        let start = self.head - need;
        write_entry(&mut self.buf[start..self.head], s);
        self.head = start;
        self.count += 1;
    }

    /// Removes the head entry, handing it to `f` first. The node must not be empty.
    fn pop_front_with<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> R {
        let (s, next) = read_entry(&self.buf, self.head);
        let r = f(s);
        self.head = next;
        self.count -= 1;
        if self.head >= 1024 && self.head > 3 * self.live() {
            // Drained far more than is left: give the room back.
            self.compact();
        }
        r
    }

    /// Removes the tail entry, handing it to `f` first. The node must not be empty.
    fn pop_back_with<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> R {
        let (s, start) = read_entry_back(&self.buf, self.buf.len());
        let r = f(s);
        self.buf.truncate(start);
        self.count -= 1;
        if self.buf.capacity() >= 1024 && self.buf.capacity() > 4 * self.live() {
            self.compact();
        }
        r
    }

    /// Moves the entries into an exact-size buffer with no spare room.
    fn compact(&mut self) {
        self.buf = self.buf[self.head..].to_vec();
        self.head = 0;
    }

    /// Trims spare room once the node is no longer at an end of the list (it will not grow by pushes).
    fn seal(&mut self) {
        if self.head > 0 || self.buf.capacity() > self.buf.len() + self.buf.len() / 8 {
            self.compact();
        }
    }

    /// Byte offset of entry `i` (`i < count`), walking from the nearer end of the node.
    fn offset_of(&self, i: usize) -> usize {
        if i < self.count / 2 {
            (0..i).fold(self.head, |at, _| read_entry(&self.buf, at).1)
        } else {
            (i..self.count).fold(self.buf.len(), |end, _| read_entry_back(&self.buf, end).1)
        }
    }

    /// Replaces the bytes `at..end` (whole entries, or nothing) with `s` as one entry.
    fn splice(&mut self, at: usize, end: usize, s: &[u8]) {
        let mut entry = Vec::with_capacity(entry_len(s.len()));
        push_entry(&mut entry, s);
        self.buf.splice(at..end, entry);
    }

    /// Splits off the entries from about the middle byte on into a new node (both keep at least one
    /// entry; the node must hold two or more).
    fn split(&mut self) -> Node {
        let half = self.live() / 2;
        let (mut at, mut kept) = (self.head, 0);
        while kept == 0 || (kept < self.count - 1 && at - self.head < half) {
            at = read_entry(&self.buf, at).1;
            kept += 1;
        }
        let tail = Node {
            buf: self.buf[at..].to_vec(),
            head: 0,
            count: self.count - kept,
        };
        self.buf.truncate(at);
        self.count = kept;
        self.compact();
        tail
    }
}

/// The nodes and their bookkeeping, boxed in [`ListValue`] so that a list costs one pointer in a key's
/// entry.
#[derive(Clone, Debug)]
struct Quick {
    /// Nodes from head to tail; none is empty.
    nodes: VecDeque<Node>,
    /// Total entries over all nodes.
    len: usize,
    /// How full a node may get (fixed when the list is created, as in the reference server).
    limit: NodeLimit,
}

impl Quick {
    /// The node holding element `index` and the byte offset of its entry there; `None` past the end.
    fn locate(&self, index: usize) -> Option<(usize, usize)> {
        let q = self;
        if index >= q.len {
            return None;
        }
        if index < q.len / 2 {
            let mut i = index;
            for (ni, n) in q.nodes.iter().enumerate() {
                if i < n.count {
                    return Some((ni, n.offset_of(i)));
                }
                i -= n.count;
            }
        } else {
            let mut from_end = q.len - 1 - index;
            for (ni, n) in q.nodes.iter().enumerate().rev() {
                if from_end < n.count {
                    return Some((ni, n.offset_of(n.count - 1 - from_end)));
                }
                from_end -= n.count;
            }
        }
        None
    }
}

/// A list value. An empty list is never stored: the commands remove its key.
#[derive(Clone, Debug)]
pub struct ListValue {
    /// The nodes.
    q: Box<Quick>,
}

impl Default for ListValue {
    /// An empty list with the default node size.
    fn default() -> Self {
        ListValue::new()
    }
}

impl PartialEq for ListValue {
    /// Same elements in the same order, however they are split into nodes.
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
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
    /// An empty list with the default node size (`list-max-listpack-size` -2).
    pub fn new() -> ListValue {
        ListValue::with_fill(DEFAULT_FILL)
    }

    /// An empty list whose nodes follow `list-max-listpack-size` = `fill`.
    pub fn with_fill(fill: i64) -> ListValue {
        ListValue {
            q: Box::new(Quick {
                nodes: VecDeque::new(),
                len: 0,
                limit: NodeLimit::from_fill(fill),
            }),
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.q.len
    }

    /// True when empty (an empty list is never stored: its key is removed).
    pub fn is_empty(&self) -> bool {
        self.q.len == 0
    }

    /// The name `OBJECT ENCODING` reports.
    pub fn encoding_name(&self) -> &'static str {
        "quicklist"
    }

    /// Number of nodes the elements are packed into.
    pub fn node_count(&self) -> usize {
        self.q.nodes.len()
    }

    /// Approximate heap bytes owned: the box, the node slots and every node's buffer. O(nodes).
    pub fn heap_size(&self) -> usize {
        std::mem::size_of::<Quick>()
            + self.q.nodes.capacity() * std::mem::size_of::<Node>()
            + self.q.nodes.iter().map(|n| n.buf.capacity()).sum::<usize>()
    }

    /// Every element, head to tail.
    pub fn iter(&self) -> Iter<'_> {
        let q = &*self.q;
        Iter {
            q,
            front: 0,
            cur: q.nodes.front().map_or(&[][..], |n| &n.buf[..]),
            at: q.nodes.front().map_or(0, |n| n.head),
            back: q.nodes.back().map(|n| (q.nodes.len() - 1, n.buf.len())),
            back_index: q.len.wrapping_sub(1),
            left: q.len,
        }
    }

    /// The elements at positions `start..=stop` (both within the list), head to tail.
    pub fn range(&self, start: usize, stop: usize) -> Iter<'_> {
        let q = &*self.q;
        let located = if start <= stop { q.locate(start) } else { None };
        let Some((front, at)) = located else {
            return Iter {
                q,
                front: 0,
                cur: &[],
                at: 0,
                back: None,
                back_index: 0,
                left: 0,
            };
        };
        Iter {
            q,
            front,
            cur: &q.nodes[front].buf,
            at,
            // Found only if iterated from the back: LRANGE reads forwards and should not pay for it.
            back: None,
            back_index: stop,
            left: stop.min(q.len - 1) - start + 1,
        }
    }

    /// Calls `f` with the elements at positions `start..=stop` (both within the list), head to tail: what
    /// [`ListValue::range`] yields, walked node by node in a tight loop (LRANGE's path).
    pub fn for_each_in_range<'a>(&'a self, start: usize, stop: usize, mut f: impl FnMut(&'a [u8])) {
        let q = &*self.q;
        let Some((mut ni, mut at)) = (if start <= stop { q.locate(start) } else { None }) else {
            return;
        };
        let mut left = stop.min(q.len - 1) - start + 1;
        while left > 0 {
            let Some(node) = q.nodes.get(ni) else { return };
            let buf = &node.buf[..];
            while left > 0 && at < buf.len() {
                let first = buf[at];
                let (s, next) = if first < SHORT_HEADER_LIMIT {
                    let begin = at + 1;
                    let end = begin + first as usize;
                    (&buf[begin..end], end + 1)
                } else {
                    read_entry(buf, at)
                };
                f(s);
                at = next;
                left -= 1;
            }
            ni += 1;
            at = q.nodes.get(ni).map_or(0, |n| n.head);
        }
    }

    /// The element at `index` (0 is the head).
    pub fn get(&self, index: usize) -> Option<&[u8]> {
        let (ni, at) = self.q.locate(index)?;
        Some(read_entry(&self.q.nodes[ni].buf, at).0)
    }

    /// Replaces the element at `index`; false (and no change) when out of range.
    pub fn set(&mut self, index: usize, item: &[u8]) -> bool {
        let Some((ni, at)) = self.q.locate(index) else {
            return false;
        };
        let node = &mut self.q.nodes[ni];
        let end = read_entry(&node.buf, at).1;
        node.splice(at, end, item);
        self.split_overfull(ni);
        true
    }

    /// Inserts an element so that it ends up at `index` (at most `len`).
    pub fn insert(&mut self, index: usize, item: &[u8]) {
        if index == 0 {
            return self.push_front(item);
        }
        let Some((ni, at)) = self.q.locate(index) else {
            return self.push_back(item);
        };
        let node = &mut self.q.nodes[ni];
        node.splice(at, at, item);
        node.count += 1;
        self.q.len += 1;
        self.split_overfull(ni);
    }

    /// Splits node `ni` (after a middle edit) until every piece is within the node limit or holds a
    /// single entry.
    fn split_overfull(&mut self, ni: usize) {
        let q = &mut *self.q;
        let (mut i, mut end) = (ni, ni + 1);
        while i < end {
            if q.nodes[i].overfull(q.limit) {
                let tail = q.nodes[i].split();
                q.nodes.insert(i + 1, tail);
                end += 1;
            } else {
                i += 1;
            }
        }
    }

    /// The position of the first element equal to `item`, from the head.
    pub fn position(&self, item: &[u8]) -> Option<usize> {
        self.iter().position(|i| i == item)
    }

    /// Adds an element at the head.
    pub fn push_front(&mut self, item: &[u8]) {
        let q = &mut *self.q;
        let need = entry_len(item.len());
        let full = q.nodes.front().is_none_or(|n| !n.fits(need, q.limit));
        if full {
            if let Some(old) = q.nodes.front_mut() {
                old.seal();
            }
            // Most lists stay within one node: no room for four node slots up front.
            if q.nodes.capacity() == 0 {
                q.nodes.reserve_exact(1);
            }
            q.nodes.push_front(Node::default());
        }
        if let Some(node) = q.nodes.front_mut() {
            node.push_front(item, need, q.limit);
            q.len += 1;
        }
    }

    /// Adds an element at the tail.
    pub fn push_back(&mut self, item: &[u8]) {
        let q = &mut *self.q;
        let need = entry_len(item.len());
        let full = q.nodes.back().is_none_or(|n| !n.fits(need, q.limit));
        if full {
            if let Some(old) = q.nodes.back_mut() {
                old.seal();
            }
            // Most lists stay within one node: no room for four node slots up front.
            if q.nodes.capacity() == 0 {
                q.nodes.reserve_exact(1);
            }
            q.nodes.push_back(Node::default());
        }
        if let Some(node) = q.nodes.back_mut() {
            node.push_back(item, need, q.limit);
            q.len += 1;
        }
    }

    /// Adds an element at `end`.
    pub fn push(&mut self, end: End, item: &[u8]) {
        match end {
            End::Head => self.push_front(item),
            End::Tail => self.push_back(item),
        }
    }

    /// Removes the element at `end`, handing it to `f` (which may copy or reply with it) without an
    /// intermediate allocation.
    pub fn pop_with<R>(&mut self, end: End, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        let q = &mut *self.q;
        let r = match end {
            End::Head => {
                let node = q.nodes.front_mut()?;
                let r = node.pop_front_with(f);
                if node.count == 0 {
                    q.nodes.pop_front();
                }
                r
            }
            End::Tail => {
                let node = q.nodes.back_mut()?;
                let r = node.pop_back_with(f);
                if node.count == 0 {
                    q.nodes.pop_back();
                }
                r
            }
        };
        q.len -= 1;
        Some(r)
    }

    /// Removes and returns the head element.
    pub fn pop_front(&mut self) -> Option<Vec<u8>> {
        self.pop_with(End::Head, <[u8]>::to_vec)
    }

    /// Removes and returns the tail element.
    pub fn pop_back(&mut self) -> Option<Vec<u8>> {
        self.pop_with(End::Tail, <[u8]>::to_vec)
    }

    /// Removes and returns the element at `end`.
    pub fn pop(&mut self, end: End) -> Option<Vec<u8>> {
        self.pop_with(end, <[u8]>::to_vec)
    }

    /// Removes elements equal to `item`: the first `count` from the head when `count > 0`, the last
    /// `-count` from the tail when `count < 0`, all of them when `count == 0`. Returns how many went.
    pub fn remove_matching(&mut self, item: &[u8], count: i64) -> usize {
        let matches = self.iter().filter(|i| *i == item).count();
        if matches == 0 {
            return 0;
        }
        let limit = if count == 0 {
            usize::MAX
        } else {
            usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX)
        };
        // Matches to keep before removal starts: none from the head; from the tail, all but the last `limit`.
        let skip = if count < 0 { matches.saturating_sub(limit) } else { 0 };
        let (mut seen, mut removed) = (0usize, 0usize);
        // Repack the survivors: O(n) like the scan itself, and it leaves every node full.
        let mut kept = ListValue {
            q: Box::new(Quick {
                nodes: VecDeque::new(),
                len: 0,
                limit: self.q.limit,
            }),
        };
        for i in self.iter() {
            if i != item || removed == limit {
                kept.push_back(i);
                continue;
            }
            seen += 1;
            if seen <= skip {
                kept.push_back(i);
                continue;
            }
            removed += 1;
        }
        if let Some(last) = kept.q.nodes.back_mut() {
            last.seal();
        }
        *self = kept;
        removed
    }

    /// Removes `n` elements from `end` (at most all of them), whole nodes at a time where possible.
    fn drop_from(&mut self, end: End, mut n: usize) {
        let q = &mut *self.q;
        while n > 0 {
            let node = match end {
                End::Head => q.nodes.front_mut(),
                End::Tail => q.nodes.back_mut(),
            };
            let Some(node) = node else { break };
            if node.count <= n {
                n -= node.count;
                q.len -= node.count;
                match end {
                    End::Head => q.nodes.pop_front(),
                    End::Tail => q.nodes.pop_back(),
                };
                continue;
            }
            for _ in 0..n {
                match end {
                    End::Head => node.pop_front_with(|_| ()),
                    End::Tail => node.pop_back_with(|_| ()),
                }
            }
            node.seal();
            q.len -= n;
            n = 0;
        }
    }

    /// Keeps only the elements at positions `start..=stop`; `None` empties the list.
    pub fn trim(&mut self, keep: Option<(usize, usize)>) {
        match keep {
            None => {
                self.q.nodes.clear();
                self.q.len = 0;
            }
            Some((start, stop)) => {
                let tail = self.len().saturating_sub(stop.saturating_add(1));
                self.drop_from(End::Tail, tail);
                self.drop_from(End::Head, start);
            }
        }
    }

    /// Checks the bookkeeping: counts add up, no node is empty, every node parses into exactly its
    /// entries and (holding more than one) keeps within the node limit.
    pub fn check_invariants(&self) {
        let q = &*self.q;
        let mut total = 0;
        for n in &q.nodes {
            assert!(n.count > 0, "no empty node");
            assert!(!n.overfull(q.limit), "node within its limit");
            let mut at = n.head;
            for _ in 0..n.count {
                at = read_entry(&n.buf, at).1;
            }
            assert_eq!(at, n.buf.len(), "entries end at the buffer's end");
            total += n.count;
        }
        assert_eq!(total, q.len, "node counts add up to the length");
    }
}

/// Elements of a list (or a range of it) in order, from either end.
pub struct Iter<'a> {
    /// The list.
    q: &'a Quick,
    /// Node of the next element from the front.
    front: usize,
    /// That node's buffer.
    cur: &'a [u8],
    /// Offset of that element's entry in `cur`.
    at: usize,
    /// Node of the next element from the back and the offset just past its entry; `None` until first
    /// needed (then found from `back_index`).
    back: Option<(usize, usize)>,
    /// Position in the list of the next element from the back.
    back_index: usize,
    /// Elements not yet yielded from either end.
    left: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];

    #[inline(always)]
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.left == 0 {
            return None;
        }
        if self.at >= self.cur.len() {
            self.front += 1;
            let node = self.q.nodes.get(self.front)?;
            self.cur = &node.buf;
            self.at = node.head;
        }
        // Short strings (1-byte header and trailer) are the common case: decode them inline.
        let first = *self.cur.get(self.at)?;
        let (s, next) = if first < SHORT_HEADER_LIMIT {
            let start = self.at + 1;
            let end = start + first as usize;
            (self.cur.get(start..end)?, end + 1)
        } else {
            read_entry(self.cur, self.at)
        };
        self.at = next;
        self.left -= 1;
        Some(s)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        let (mut back, mut end) = match self.back {
            Some(b) => b,
            None => {
                let (ni, at) = self.q.locate(self.back_index)?;
                (ni, read_entry(&self.q.nodes.get(ni)?.buf, at).1)
            }
        };
        let mut node = self.q.nodes.get(back)?;
        if end <= node.head {
            back = back.checked_sub(1)?;
            node = self.q.nodes.get(back)?;
            end = node.buf.len();
        }
        let (s, start) = read_entry_back(&node.buf, end);
        self.back = Some((back, start));
        self.back_index = self.back_index.wrapping_sub(1);
        self.left -= 1;
        Some(s)
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl FromIterator<Vec<u8>> for ListValue {
    fn from_iter<I: IntoIterator<Item = Vec<u8>>>(iter: I) -> ListValue {
        let mut list = ListValue::new();
        for item in iter {
            list.push_back(&item);
        }
        list
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
        l.insert(1, b"x");
        l.insert(99, b"z");
        assert!(l.set(0, b"B"));
        assert!(!l.set(10, b"no"));
        assert_eq!(items(&l), ["B", "x", "c", "d", "z"]);
        assert_eq!(l.position(b"c"), Some(2));
        l.push(End::Head, b"h");
        assert_eq!(l.pop(End::Tail), Some(b"z".to_vec()));
        assert_eq!(l.pop_front(), Some(b"h".to_vec()));
        l.trim(None);
        assert!(l.is_empty());
        assert_eq!(l.pop_back(), None);
    }

    /// One list operation for the model test; indexes are taken modulo the length.
    #[derive(Clone, Debug)]
    enum Op {
        Push(End, Vec<u8>),
        Pop(End),
        Insert(usize, Vec<u8>),
        Set(usize, Vec<u8>),
        Remove(Vec<u8>, i64),
        Trim(i64, i64),
    }

    /// Elements: mostly from a tiny pool (so LREM finds matches), some up to 3000 bytes (so byte limits
    /// split nodes).
    fn elem() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        prop_oneof![
            4 => prop::sample::select(vec![b"a".to_vec(), b"b".to_vec(), Vec::new()]),
            1 => (0usize..3000, any::<u8>()).prop_map(|(n, b)| vec![b; n]),
        ]
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        let end = prop_oneof![Just(End::Head), Just(End::Tail)];
        prop_oneof![
            6 => (end.clone(), elem()).prop_map(|(e, v)| Op::Push(e, v)),
            3 => end.prop_map(Op::Pop),
            2 => (any::<usize>(), elem()).prop_map(|(i, v)| Op::Insert(i, v)),
            2 => (any::<usize>(), elem()).prop_map(|(i, v)| Op::Set(i, v)),
            1 => (elem(), -3i64..4).prop_map(|(v, c)| Op::Remove(v, c)),
            1 => (-30i64..30, -30i64..30).prop_map(|(a, b)| Op::Trim(a, b)),
        ]
    }

    proptest::proptest! {
        /// Random operations agree with a plain `VecDeque`, whatever the node limit, and every read path
        /// (iteration both ways, ranges, indexing) sees the same elements.
        #[test]
        fn matches_a_flat_model(
            ops in proptest::collection::vec(op(), 1..200),
            fill in proptest::sample::select(vec![-2i64, -1, 0, 1, 2, 3, 7]),
        ) {
            let mut l = ListValue::with_fill(fill);
            let mut m: VecDeque<Vec<u8>> = VecDeque::new();
            for op in ops {
                match op {
                    Op::Push(End::Head, v) => { l.push_front(&v); m.push_front(v); }
                    Op::Push(End::Tail, v) => { l.push_back(&v); m.push_back(v); }
                    Op::Pop(End::Head) => assert_eq!(l.pop_front(), m.pop_front()),
                    Op::Pop(End::Tail) => assert_eq!(l.pop_back(), m.pop_back()),
                    Op::Insert(i, v) => {
                        let i = i % (m.len() + 1);
                        l.insert(i, &v);
                        m.insert(i, v);
                    }
                    Op::Set(i, v) => {
                        if !m.is_empty() {
                            let i = i % m.len();
                            assert!(l.set(i, &v));
                            m[i] = v;
                        }
                        assert!(!l.set(m.len(), b"x"));
                    }
                    Op::Remove(v, c) => {
                        let limit = if c == 0 { usize::MAX } else { c.unsigned_abs() as usize };
                        let mut gone = 0;
                        let mut idx: Vec<usize> = (0..m.len()).filter(|&i| m[i] == v).collect();
                        if c < 0 { idx.reverse(); }
                        idx.truncate(limit);
                        idx.sort_unstable();
                        for &i in idx.iter().rev() { m.remove(i); gone += 1; }
                        assert_eq!(l.remove_matching(&v, c), gone);
                    }
                    Op::Trim(a, b) => {
                        let keep = clamp_range(a, b, m.len());
                        l.trim(keep);
                        match keep {
                            None => m.clear(),
                            Some((s, e)) => { m.truncate(e + 1); m.drain(..s); }
                        }
                    }
                }
                l.check_invariants();
                assert_eq!(l.len(), m.len());
                assert!(l.iter().eq(m.iter().map(|v| &v[..])));
                assert!(l.iter().rev().eq(m.iter().rev().map(|v| &v[..])));
                for (i, v) in m.iter().enumerate() {
                    assert_eq!(l.get(i), Some(&v[..]));
                }
                assert_eq!(l.get(m.len()), None);
                if !m.is_empty() {
                    let (a, b) = (m.len() / 3, m.len() - 1 - m.len() / 4);
                    if a <= b {
                        assert!(l.range(a, b).eq(m.range(a..=b).map(|v| &v[..])));
                        let mut walked: Vec<&[u8]> = Vec::new();
                        l.for_each_in_range(a, b, |e| walked.push(e));
                        assert!(walked.into_iter().eq(m.range(a..=b).map(|v| &v[..])));
                        assert!(l.range(a, b).rev().eq(m.range(a..=b).rev().map(|v| &v[..])));
                        let mut it = l.range(a, b);
                        let mut want = m.range(a..=b);
                        // Meet in the middle from both ends.
                        loop {
                            let (x, y) = (it.next(), want.next().map(|v| &v[..]));
                            assert_eq!(x, y);
                            let (x, y) = (it.next_back(), want.next_back().map(|v| &v[..]));
                            assert_eq!(x, y);
                            if y.is_none() { break; }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn small_elements_pack_tightly() {
        // 100k 8-byte elements at the default fill: 10 bytes each plus a share of a node slot.
        let mut l = ListValue::new();
        for i in 0..100_000u32 {
            l.push_back(format!("e{i:07}").as_bytes());
        }
        l.check_invariants();
        let per = l.heap_size() as f64 / 100_000.0;
        assert!(per < 10.5, "{per} bytes per element");
        assert_eq!(l.node_count(), 100_000usize.div_ceil(8192 / 10));
        // The same from the head.
        let mut h = ListValue::new();
        for i in 0..100_000u32 {
            h.push_front(format!("e{i:07}").as_bytes());
        }
        h.check_invariants();
        assert!(h.iter().eq(l.iter().rev()));
        assert!((h.heap_size() as f64 / 100_000.0) < 10.5);
    }

    #[test]
    fn a_queue_reuses_its_node() {
        // Push at the tail, pop at the head, a few elements in flight: one node, bounded room.
        let mut l = ListValue::new();
        for i in 0..100_000u32 {
            l.push_back(&i.to_le_bytes());
            if l.len() > 3 {
                assert_eq!(l.pop_front(), Some((i - 3).to_le_bytes().to_vec()));
            }
        }
        assert_eq!(l.node_count(), 1);
        assert!(l.heap_size() < 512, "{}", l.heap_size());
    }
}
