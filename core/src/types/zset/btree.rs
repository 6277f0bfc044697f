//! The large zset encoding: a B+tree with subtree counts over (score, member) keys, a slab that owns
//! the members, and a member → slab slot hash index.
//!
//! Owns the structure and its invariants (see [`Tree::check`]); knows nothing about commands, replies
//! or the compact encoding, and never compares members other than by their bytes.
//!
//! # Layout
//!
//! * **Slab** (`slots`): one [`Slot`] per member — its bytes (boxed once, when the member is added, and
//!   never re-allocated by a score change) and its score. A free slot has a NaN score (scores never are
//!   NaN). A member keeps its slot for as long as it is present, which gives `ZSCAN` a stable cursor.
//! * **Index**: member hash → slot, for O(1) `ZSCORE` and for finding a member's key before a descent.
//! * **Tree**: leaves hold up to [`CAP`] keys `(score, slot)` sorted by (score, member bytes), in two
//!   parallel arrays, and are chained both ways for range walks. Inner nodes hold, per child, the
//!   child's smallest key, its number of members and its node id. Every non-root node holds at least
//!   [`MIN`] entries, so the height is O(log n) with a base of at least 8.
//!
//! Comparisons read the scores inside the node (the binary search of a node touches a few cache lines)
//! and only follow a slot to the member bytes when scores tie. A descent visits `height + 1` nodes,
//! 3–4 for 100k members, where the treap this replaced visited ~25 scattered nodes per pass and made
//! six passes (split and merge) per score update.
//!
//! Removal rebalances top-down: before descending into a child with [`MIN`] or fewer entries, it is
//! merged with or refilled from a sibling, so the path needs no fixing afterwards except the smallest-key
//! copies when a leaf's first key changes.

use std::hash::BuildHasher;

use foldhash::fast::FixedState;
use hashbrown::HashTable;

use super::count_visits;

/// No node or slot.
const NIL: u32 = u32::MAX;

/// Most entries a node holds: a leaf's keys are 64 × 12 bytes.
const CAP: usize = 64;

/// A non-root node holds at least this many entries.
const MIN: usize = CAP / 8;

/// Entries per node when building a tree from sorted members: room left for inserts.
const FILL: usize = CAP * 7 / 8;

/// A member's home in the slab.
#[derive(Clone, Debug)]
pub(super) struct Slot {
    /// The member bytes (empty in a free slot).
    pub member: Box<[u8]>,
    /// The score; NaN marks a free slot.
    pub score: f64,
}

/// Keys of a node in order: a copy of each score and the slot of its member.
#[derive(Clone, Debug)]
struct Keys {
    /// Number of entries used.
    len: u32,
    /// Scores of the entries.
    scores: [f64; CAP],
    /// Slots of the entries' members.
    slots: [u32; CAP],
}

impl Keys {
    /// No keys.
    fn new() -> Keys {
        Keys {
            len: 0,
            scores: [0.0; CAP],
            slots: [NIL; CAP],
        }
    }

    /// Number of leading entries for which `pred(score, slot)` holds (it must hold for a prefix).
    fn partition(&self, pred: impl Fn(f64, u32) -> bool) -> usize {
        let (mut lo, mut hi) = (0, self.len as usize);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if pred(self.scores[mid], self.slots[mid]) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// The entry at `i`.
    fn get(&self, i: usize) -> (f64, u32) {
        (self.scores[i], self.slots[i])
    }

    /// Sets the entry at `i`.
    fn set(&mut self, i: usize, (score, slot): (f64, u32)) {
        self.scores[i] = score;
        self.slots[i] = slot;
    }
}

/// Inserts `v` at `pos` of the first `len` elements of `a`.
fn insert_at<T: Copy>(a: &mut [T; CAP], len: usize, pos: usize, v: T) {
    a.copy_within(pos..len, pos + 1);
    a[pos] = v;
}

/// Removes the element at `pos` of the first `len` elements of `a`.
fn remove_at<T: Copy>(a: &mut [T; CAP], len: usize, pos: usize) {
    a.copy_within(pos + 1..len, pos);
}

/// Moves `src[from..src_len]` to the front of `dst` (whose `dst_len` elements shift right).
fn move_tail<T: Copy>(src: &[T; CAP], src_len: usize, from: usize, dst: &mut [T; CAP], dst_len: usize) {
    let n = src_len - from;
    dst.copy_within(0..dst_len, n);
    dst[..n].copy_from_slice(&src[from..src_len]);
}

/// Moves `src[..n]` to the end of `dst` (after its `dst_len` elements); `src` shifts left.
fn move_head<T: Copy>(src: &mut [T; CAP], src_len: usize, n: usize, dst: &mut [T; CAP], dst_len: usize) {
    dst[dst_len..dst_len + n].copy_from_slice(&src[..n]);
    src.copy_within(n..src_len, 0);
}

/// A leaf: keys, and its neighbours in key order.
#[derive(Clone, Debug)]
struct Leaf {
    /// The keys.
    keys: Keys,
    /// The previous leaf, or `NIL`.
    prev: u32,
    /// The next leaf, or `NIL`.
    next: u32,
}

/// An inner node: per child, its smallest key, its member count and its id.
#[derive(Clone, Debug)]
struct Inner {
    /// Smallest key of each child's subtree.
    keys: Keys,
    /// Members in each child's subtree.
    counts: [u32; CAP],
    /// The children: leaves when the node's height is 1, inner nodes above.
    children: [u32; CAP],
}

/// What leaves and inner nodes share: entries that move between siblings.
trait Node: Clone {
    /// The keys.
    fn keys(&self) -> &Keys;
    /// Members under this node.
    fn weight(&self) -> u32;
    /// Moves entries `from..` to the front of `dst`.
    fn move_tail_to(&mut self, from: usize, dst: &mut Self);
    /// Moves the first `n` entries to the end of `dst`.
    fn move_head_to(&mut self, n: usize, dst: &mut Self);
}

impl Node for Leaf {
    fn keys(&self) -> &Keys {
        &self.keys
    }
    fn weight(&self) -> u32 {
        self.keys.len
    }
    fn move_tail_to(&mut self, from: usize, dst: &mut Self) {
        let (sl, dl) = (self.keys.len as usize, dst.keys.len as usize);
        move_tail(&self.keys.scores, sl, from, &mut dst.keys.scores, dl);
        move_tail(&self.keys.slots, sl, from, &mut dst.keys.slots, dl);
        self.keys.len = from as u32;
        dst.keys.len = (dl + sl - from) as u32;
    }
    fn move_head_to(&mut self, n: usize, dst: &mut Self) {
        let (sl, dl) = (self.keys.len as usize, dst.keys.len as usize);
        move_head(&mut self.keys.scores, sl, n, &mut dst.keys.scores, dl);
        move_head(&mut self.keys.slots, sl, n, &mut dst.keys.slots, dl);
        self.keys.len = (sl - n) as u32;
        dst.keys.len = (dl + n) as u32;
    }
}

impl Node for Inner {
    fn keys(&self) -> &Keys {
        &self.keys
    }
    fn weight(&self) -> u32 {
        self.counts[..self.keys.len as usize].iter().sum()
    }
    fn move_tail_to(&mut self, from: usize, dst: &mut Self) {
        let (sl, dl) = (self.keys.len as usize, dst.keys.len as usize);
        move_tail(&self.keys.scores, sl, from, &mut dst.keys.scores, dl);
        move_tail(&self.keys.slots, sl, from, &mut dst.keys.slots, dl);
        move_tail(&self.counts, sl, from, &mut dst.counts, dl);
        move_tail(&self.children, sl, from, &mut dst.children, dl);
        self.keys.len = from as u32;
        dst.keys.len = (dl + sl - from) as u32;
    }
    fn move_head_to(&mut self, n: usize, dst: &mut Self) {
        let (sl, dl) = (self.keys.len as usize, dst.keys.len as usize);
        move_head(&mut self.keys.scores, sl, n, &mut dst.keys.scores, dl);
        move_head(&mut self.keys.slots, sl, n, &mut dst.keys.slots, dl);
        move_head(&mut self.counts, sl, n, &mut dst.counts, dl);
        move_head(&mut self.children, sl, n, &mut dst.children, dl);
        self.keys.len = (sl - n) as u32;
        dst.keys.len = (dl + n) as u32;
    }
}

impl Leaf {
    /// An empty, unlinked leaf.
    fn new() -> Leaf {
        Leaf {
            keys: Keys::new(),
            prev: NIL,
            next: NIL,
        }
    }
}

impl Inner {
    /// An empty inner node.
    fn new() -> Inner {
        Inner {
            keys: Keys::new(),
            counts: [0; CAP],
            children: [NIL; CAP],
        }
    }

    /// Inserts a child (its smallest key, count and id) at `pos`.
    fn insert_child(&mut self, pos: usize, key: (f64, u32), count: u32, child: u32) {
        let len = self.keys.len as usize;
        insert_at(&mut self.keys.scores, len, pos, key.0);
        insert_at(&mut self.keys.slots, len, pos, key.1);
        insert_at(&mut self.counts, len, pos, count);
        insert_at(&mut self.children, len, pos, child);
        self.keys.len += 1;
    }

    /// Removes the child at `pos`.
    fn remove_child(&mut self, pos: usize) {
        let len = self.keys.len as usize;
        remove_at(&mut self.keys.scores, len, pos);
        remove_at(&mut self.keys.slots, len, pos);
        remove_at(&mut self.counts, len, pos);
        remove_at(&mut self.children, len, pos);
        self.keys.len -= 1;
    }

    /// Index of the child holding rank `k` of this subtree, and the members before that child.
    fn child_of_rank(&self, k: usize) -> (usize, usize) {
        let mut before = 0;
        let last = self.keys.len as usize - 1;
        for i in 0..last {
            let c = self.counts[i] as usize;
            if k < before + c {
                return (i, before);
            }
            before += c;
        }
        (last, before)
    }

    /// Members in the children before `i`.
    fn count_before(&self, i: usize) -> usize {
        self.counts[..i].iter().map(|&c| c as usize).sum()
    }
}

/// Where a full node splits when an entry is to go in at `pos`: in the middle, except that an entry
/// at either end leaves the other part nearly full. Members added in score order (timestamps,
/// counters, a sorted load) then fill leaves to 7/8 instead of 1/2.
fn split_point(pos: usize) -> usize {
    if pos == CAP {
        CAP - MIN
    } else if pos == 0 {
        MIN
    } else {
        CAP / 2
    }
}

/// Mutable references to two distinct elements of `v`.
fn two_mut<T>(v: &mut [T], a: usize, b: usize) -> (&mut T, &mut T) {
    if a < b {
        let (x, y) = v.split_at_mut(b);
        (&mut x[a], &mut y[0])
    } else {
        let (x, y) = v.split_at_mut(a);
        (&mut y[0], &mut x[b])
    }
}

/// Stores `node` in a free slot of `arena` or at its end; returns its id.
fn alloc<N>(arena: &mut Vec<N>, free: &mut Vec<u32>, node: N) -> u32 {
    match free.pop() {
        Some(id) => {
            arena[id as usize] = node;
            id
        }
        None => {
            arena.push(node);
            (arena.len() - 1) as u32
        }
    }
}

/// The large encoding. Ranks are 0-based positions in (score, member) order.
#[derive(Clone, Debug)]
pub(super) struct Tree {
    /// Members and scores by slot.
    slots: Vec<Slot>,
    /// Free slots, reused last-freed first.
    free_slots: Vec<u32>,
    /// Leaf arena.
    leaves: Vec<Leaf>,
    /// Free leaf ids.
    free_leaves: Vec<u32>,
    /// Inner node arena.
    inners: Vec<Inner>,
    /// Free inner node ids.
    free_inners: Vec<u32>,
    /// The root: a leaf when `height` is 0, else an inner node; `NIL` when empty.
    root: u32,
    /// Inner levels above the leaves.
    height: u32,
    /// Number of members.
    len: usize,
    /// Member hash → slot.
    index: HashTable<u32>,
    /// The index's hash function, keyed per set.
    hasher: FixedState,
    /// Scratch descent path (node, child index), kept to avoid an allocation per update.
    path: Vec<(u32, u32)>,
}

impl Tree {
    /// An empty tree whose index is keyed by `seed`.
    pub fn new(seed: u64) -> Tree {
        Tree {
            slots: Vec::new(),
            free_slots: Vec::new(),
            leaves: Vec::new(),
            free_leaves: Vec::new(),
            inners: Vec::new(),
            free_inners: Vec::new(),
            root: NIL,
            height: 0,
            len: 0,
            index: HashTable::new(),
            hasher: FixedState::with_seed(seed),
            path: Vec::new(),
        }
    }

    /// A tree of `items` (distinct members, sorted), built bottom-up in O(n).
    pub fn from_sorted<'a>(items: impl Iterator<Item = (&'a [u8], f64)>, seed: u64) -> Tree {
        let mut tree = Tree::new(seed);
        let order: Vec<u32> = items.map(|(m, s)| tree.new_slot(m, s)).collect();
        tree.build(&order);
        tree
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.len
    }

    /// The member and score in `slot`.
    pub fn slot(&self, slot: u32) -> &Slot {
        &self.slots[slot as usize]
    }

    /// The slot holding `member`.
    pub fn find(&self, member: &[u8]) -> Option<u32> {
        let hash = self.hasher.hash_one(member);
        let slots = &self.slots;
        self.index
            .find(hash, |&i| &*slots[i as usize].member == member)
            .copied()
    }

    /// Approximate heap bytes owned.
    pub fn heap_size(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Slot>()
            + self.slots.iter().map(|s| s.member.len()).sum::<usize>()
            + self.leaves.capacity() * std::mem::size_of::<Leaf>()
            + self.inners.capacity() * std::mem::size_of::<Inner>()
            + (self.free_slots.capacity() + self.free_leaves.capacity() + self.free_inners.capacity()) * 4
            + self.index.capacity() * 5
            + self.path.capacity() * 8
    }

    /// True when the key (score, member) sorts before the entry (`s2`, `slot2`).
    fn key_less(&self, score: f64, member: &[u8], s2: f64, slot2: u32) -> bool {
        score < s2 || (score == s2 && member < &*self.slots[slot2 as usize].member)
    }

    /// True when the entry (`s1`, `slot1`) sorts before the key (score, member).
    fn entry_less(&self, s1: f64, slot1: u32, score: f64, member: &[u8]) -> bool {
        s1 < score || (s1 == score && &*self.slots[slot1 as usize].member < member)
    }

    /// Puts `member` with `score` in a new slot and indexes it (it is not in the tree yet).
    fn new_slot(&mut self, member: &[u8], score: f64) -> u32 {
        let slot = Slot {
            member: member.into(),
            score,
        };
        let id = alloc(&mut self.slots, &mut self.free_slots, slot);
        let hash = self.hasher.hash_one(member);
        let (slots, hasher) = (&self.slots, &self.hasher);
        self.index
            .insert_unique(hash, id, |&i| hasher.hash_one(&*slots[i as usize].member));
        id
    }

    /// Frees `slot` (already out of the tree) and drops it from the index; returns its contents.
    fn release(&mut self, slot: u32) -> (Vec<u8>, f64) {
        let hash = self.hasher.hash_one(&*self.slots[slot as usize].member);
        if let Ok(entry) = self.index.find_entry(hash, |&i| i == slot) {
            entry.remove();
        }
        let s = &mut self.slots[slot as usize];
        let member = std::mem::take(&mut s.member).into_vec();
        let score = std::mem::replace(&mut s.score, f64::NAN);
        self.free_slots.push(slot);
        (member, score)
    }

    /// Adds a member known to be absent.
    pub fn insert(&mut self, member: &[u8], score: f64) {
        let slot = self.new_slot(member, score);
        self.link(slot);
    }

    /// Removes the member in `slot`; returns its bytes and score.
    pub fn remove(&mut self, slot: u32) -> (Vec<u8>, f64) {
        self.unlink(slot, None);
        self.release(slot)
    }

    /// Gives the member in `slot` a new score, keeping its slot and its bytes.
    pub fn rescore(&mut self, slot: u32, score: f64) {
        if !self.unlink(slot, Some(score)) {
            self.slots[slot as usize].score = score;
            self.link(slot);
        }
    }

    /// Links the indexed `slot` into the tree at its key's position.
    fn link(&mut self, slot: u32) {
        self.len += 1;
        let score = self.slots[slot as usize].score;
        if self.root == NIL {
            let mut leaf = Leaf::new();
            leaf.keys.set(0, (score, slot));
            leaf.keys.len = 1;
            self.root = alloc(&mut self.leaves, &mut self.free_leaves, leaf);
            self.height = 0;
            count_visits(1);
            return;
        }
        let mut path = std::mem::take(&mut self.path);
        path.clear();
        let member = &*self.slots[slot as usize].member;
        let mut node = self.root;
        for _ in 0..self.height {
            let inner = &self.inners[node as usize];
            let below = inner.keys.partition(|s, sl| self.entry_less(s, sl, score, member));
            let i = below.saturating_sub(1);
            path.push((node, i as u32));
            node = inner.children[i];
        }
        count_visits(path.len() as u64 + 1);
        for &(p, i) in &path {
            self.inners[p as usize].counts[i as usize] += 1;
        }
        let leaf = &self.leaves[node as usize];
        let pos = leaf.keys.partition(|s, sl| self.entry_less(s, sl, score, member));
        let len = leaf.keys.len as usize;
        // Split a full leaf first; then the key goes into the part that covers its position.
        let mut split = None;
        let (target, tpos) = if len == CAP {
            let at = split_point(pos);
            let right = self.split_leaf(node, at);
            split = Some(right);
            if pos <= at {
                (node, pos)
            } else {
                (right, pos - at)
            }
        } else {
            (node, pos)
        };
        let keys = &mut self.leaves[target as usize].keys;
        let tlen = keys.len as usize;
        insert_at(&mut keys.scores, tlen, tpos, score);
        insert_at(&mut keys.slots, tlen, tpos, slot);
        keys.len += 1;
        if pos == 0 {
            self.propagate_min(&path, (score, slot));
        }
        if let Some(right) = split {
            let new = (
                self.leaves[right as usize].keys.get(0),
                self.leaves[right as usize].keys.len,
                right,
            );
            let left_weight = self.leaves[node as usize].keys.len;
            self.add_child(&path, left_weight, new);
        }
        self.path = path;
    }

    /// Splits the full leaf `id` before entry `at`; returns the new right part, linked after it.
    fn split_leaf(&mut self, id: u32, at: usize) -> u32 {
        let mut right = Leaf::new();
        let left = &mut self.leaves[id as usize];
        left.move_tail_to(at, &mut right);
        right.prev = id;
        right.next = left.next;
        let next = left.next;
        let rid = alloc(&mut self.leaves, &mut self.free_leaves, right);
        self.leaves[id as usize].next = rid;
        if next != NIL {
            self.leaves[next as usize].prev = rid;
        }
        rid
    }

    /// Sets the smallest-key copies of the path's last node to `key`, and above it while that node is
    /// its parent's first child.
    fn propagate_min(&mut self, path: &[(u32, u32)], key: (f64, u32)) {
        for &(p, i) in path.iter().rev() {
            self.inners[p as usize].keys.set(i as usize, key);
            if i != 0 {
                break;
            }
        }
    }

    /// After the child at the bottom of `path` split: records its new weight `left_weight` and inserts
    /// `new` = (smallest key, weight, id) after it, splitting full ancestors up to a new root.
    fn add_child(&mut self, path: &[(u32, u32)], mut left_weight: u32, mut new: ((f64, u32), u32, u32)) {
        let old_root = self.root;
        for &(p, i) in path.iter().rev() {
            let (p, i) = (p as usize, i as usize);
            self.inners[p].counts[i] = left_weight;
            if (self.inners[p].keys.len as usize) < CAP {
                self.inners[p].insert_child(i + 1, new.0, new.1, new.2);
                return;
            }
            let mut right = Inner::new();
            let at = split_point(i + 1);
            self.inners[p].move_tail_to(at, &mut right);
            if i < at {
                self.inners[p].insert_child(i + 1, new.0, new.1, new.2);
            } else {
                right.insert_child(i + 1 - at, new.0, new.1, new.2);
            }
            let key = right.keys.get(0);
            let weight = right.weight();
            let rid = alloc(&mut self.inners, &mut self.free_inners, right);
            left_weight = self.inners[p].weight();
            new = (key, weight, rid);
        }
        // The root split: a new root over the two halves.
        let mut root = Inner::new();
        let root_key = if self.height == 0 {
            self.leaves[old_root as usize].keys.get(0)
        } else {
            self.inners[old_root as usize].keys.get(0)
        };
        root.insert_child(0, root_key, left_weight, old_root);
        root.insert_child(1, new.0, new.1, new.2);
        self.root = alloc(&mut self.inners, &mut self.free_inners, root);
        self.height += 1;
    }

    /// Unlinks `slot` from the tree (it stays in the slab and the index). With a `rescore`, when the
    /// new score keeps the member between its two neighbours in its leaf, writes it there instead
    /// (ZINCRBY by a small step: one descent, nothing moves) and returns true.
    fn unlink(&mut self, slot: u32, rescore: Option<f64>) -> bool {
        let score = self.slots[slot as usize].score;
        let mut path = std::mem::take(&mut self.path);
        path.clear();
        let mut node = self.root;
        let mut level = self.height;
        let mut visits = 1;
        while level > 0 {
            visits += 1;
            let member = &*self.slots[slot as usize].member;
            let upto = self.inners[node as usize]
                .keys
                .partition(|s, sl| !self.key_less(score, member, s, sl));
            let mut i = upto.saturating_sub(1);
            let child = self.inners[node as usize].children[i];
            let child_len = if level == 1 {
                self.leaves[child as usize].keys.len
            } else {
                self.inners[child as usize].keys.len
            } as usize;
            if child_len <= MIN && self.inners[node as usize].keys.len > 1 {
                if level == 1 {
                    self.refill(node, i, true);
                } else {
                    self.refill(node, i, false);
                }
                if node == self.root && self.inners[node as usize].keys.len == 1 {
                    // The root's last two children merged: the child becomes the root.
                    let only = self.inners[node as usize].children[0];
                    self.free_inners.push(node);
                    self.root = only;
                    self.height -= 1;
                    node = only;
                    level -= 1;
                    continue;
                }
                let member = &*self.slots[slot as usize].member;
                let upto = self.inners[node as usize]
                    .keys
                    .partition(|s, sl| !self.key_less(score, member, s, sl));
                i = upto.saturating_sub(1);
            }
            path.push((node, i as u32));
            node = self.inners[node as usize].children[i];
            level -= 1;
        }
        count_visits(visits);
        let member = &*self.slots[slot as usize].member;
        let keys = &self.leaves[node as usize].keys;
        let pos = keys.partition(|s, sl| self.entry_less(s, sl, score, member));
        debug_assert_eq!(keys.slots[pos], slot, "the key is where its order puts it");
        if let Some(new) = rescore {
            let len = keys.len as usize;
            let fits = pos > 0
                && pos + 1 < len
                && self.entry_less(keys.scores[pos - 1], keys.slots[pos - 1], new, member)
                && self.key_less(new, member, keys.scores[pos + 1], keys.slots[pos + 1]);
            if fits {
                self.leaves[node as usize].keys.scores[pos] = new;
                self.slots[slot as usize].score = new;
                self.path = path;
                return true;
            }
        }
        self.len -= 1;
        for &(p, i) in &path {
            self.inners[p as usize].counts[i as usize] -= 1;
        }
        let keys = &mut self.leaves[node as usize].keys;
        let len = keys.len as usize;
        remove_at(&mut keys.scores, len, pos);
        remove_at(&mut keys.slots, len, pos);
        keys.len -= 1;
        if keys.len == 0 {
            // Only the root leaf can empty: every other node held more than MIN before this removal.
            self.free_leaves.push(node);
            self.root = NIL;
            self.height = 0;
        } else if pos == 0 {
            let key = keys.get(0);
            self.propagate_min(&path, key);
        }
        self.path = path;
        false
    }

    /// Brings child `i` of inner node `p` (which has a sibling) above [`MIN`] entries: merges it with a
    /// sibling when both fit in one node, else moves entries over from the sibling.
    fn refill(&mut self, p: u32, i: usize, leaves: bool) {
        let parent = &self.inners[p as usize];
        let (l, r) = if i + 1 < parent.keys.len as usize {
            (i, i + 1)
        } else {
            (i - 1, i)
        };
        let (lid, rid) = (parent.children[l], parent.children[r]);
        let merged = if leaves {
            self.balance(lid, rid, Arena::Leaves)
        } else {
            self.balance(lid, rid, Arena::Inners)
        };
        let parent = &mut self.inners[p as usize];
        match merged {
            Balanced::Merged => {
                parent.counts[l] += parent.counts[r];
                parent.remove_child(r);
            }
            Balanced::Moved { left, right, right_min } => {
                parent.counts[l] = left;
                parent.counts[r] = right;
                parent.keys.set(r, right_min);
            }
        }
    }

    /// Merges sibling `rid` into `lid` (freeing `rid`) when they fit in one node, else evens them out.
    fn balance(&mut self, lid: u32, rid: u32, arena: Arena) -> Balanced {
        match arena {
            Arena::Leaves => {
                let (left, right) = two_mut(&mut self.leaves, lid as usize, rid as usize);
                let result = balance_pair(left, right);
                if let Balanced::Merged = result {
                    let next = right.next;
                    left.next = next;
                    if next != NIL {
                        self.leaves[next as usize].prev = lid;
                    }
                    self.free_leaves.push(rid);
                }
                result
            }
            Arena::Inners => {
                let (left, right) = two_mut(&mut self.inners, lid as usize, rid as usize);
                let result = balance_pair(left, right);
                if let Balanced::Merged = result {
                    self.free_inners.push(rid);
                }
                result
            }
        }
    }

    /// The leaf and position of rank `k` (< len).
    fn locate(&self, mut k: usize) -> (u32, usize) {
        let mut node = self.root;
        for _ in 0..self.height {
            let (i, before) = self.inners[node as usize].child_of_rank(k);
            k -= before;
            node = self.inners[node as usize].children[i];
        }
        count_visits(u64::from(self.height) + 1);
        (node, k)
    }

    /// The slot of rank `k`.
    pub fn select(&self, k: usize) -> Option<u32> {
        if k >= self.len {
            return None;
        }
        let (leaf, pos) = self.locate(k);
        Some(self.leaves[leaf as usize].keys.slots[pos])
    }

    /// Number of leading members (in key order) for which `pred(score, member)` holds; `pred` must
    /// hold for a prefix.
    pub fn count_prefix(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        if self.root == NIL {
            return 0;
        }
        let test = |s: f64, sl: u32| pred(s, &self.slots[sl as usize].member);
        let (mut node, mut n) = (self.root, 0);
        for _ in 0..self.height {
            let inner = &self.inners[node as usize];
            let i = inner.keys.partition(test).saturating_sub(1);
            n += inner.count_before(i);
            node = inner.children[i];
        }
        count_visits(u64::from(self.height) + 1);
        n + self.leaves[node as usize].keys.partition(test)
    }

    /// Rank of the member in `slot`.
    pub fn rank_of(&self, slot: u32) -> usize {
        let s = &self.slots[slot as usize];
        let (score, member) = (s.score, &*s.member);
        self.count_prefix(|ns, nm| ns < score || (ns == score && nm < member))
    }

    /// A walk from rank `start`, ascending, or descending (`rev`) from `start` clamped to the last rank.
    pub fn iter_from(&self, start: usize, rev: bool) -> TreeIter<'_> {
        let (leaf, pos) = if self.len == 0 || (!rev && start >= self.len) {
            (NIL, 0)
        } else {
            self.locate(start.min(self.len - 1))
        };
        TreeIter {
            tree: self,
            leaf,
            pos,
            rev,
        }
    }

    /// Removes the members of ranks `start..end` (`end` ≤ len). Removing more than an eighth of the
    /// set rebuilds the tree from the rest in O(n) = O(removed); fewer are removed one descent each.
    pub fn remove_ranks(&mut self, start: usize, end: usize) {
        let m = end - start;
        if m * 8 < self.len {
            for _ in 0..m {
                if let Some(slot) = self.select(start) {
                    self.remove(slot);
                }
            }
            return;
        }
        let order: Vec<u32> = {
            let mut order = Vec::with_capacity(self.len);
            let mut leaf = if self.root == NIL { NIL } else { self.locate(0).0 };
            while leaf != NIL {
                let l = &self.leaves[leaf as usize];
                order.extend_from_slice(&l.keys.slots[..l.keys.len as usize]);
                leaf = l.next;
            }
            order
        };
        count_visits(order.len() as u64);
        for &slot in &order[start..end] {
            self.release(slot);
        }
        let kept: Vec<u32> = order[..start].iter().chain(&order[end..]).copied().collect();
        self.build(&kept);
    }

    /// Replaces the tree by one over `order` (slots in key order), built bottom-up with nodes [`FILL`]ed.
    fn build(&mut self, order: &[u32]) {
        self.leaves.clear();
        self.free_leaves.clear();
        self.inners.clear();
        self.free_inners.clear();
        self.root = NIL;
        self.height = 0;
        self.len = order.len();
        if order.is_empty() {
            return;
        }
        // Children of the level being built: (smallest key, weight, id).
        let mut level: Vec<((f64, u32), u32, u32)> = Vec::new();
        let chunks = order.len().div_ceil(FILL);
        let mut at = 0;
        for c in 0..chunks {
            let take = (order.len() - at) / (chunks - c);
            let mut leaf = Leaf::new();
            for (j, &slot) in order[at..at + take].iter().enumerate() {
                leaf.keys.set(j, (self.slots[slot as usize].score, slot));
            }
            leaf.keys.len = take as u32;
            leaf.prev = if c == 0 { NIL } else { self.leaves.len() as u32 - 1 };
            leaf.next = if c + 1 == chunks {
                NIL
            } else {
                self.leaves.len() as u32 + 1
            };
            level.push((leaf.keys.get(0), take as u32, self.leaves.len() as u32));
            self.leaves.push(leaf);
            at += take;
        }
        while level.len() > 1 {
            let chunks = level.len().div_ceil(FILL);
            let mut at = 0;
            let mut next = Vec::with_capacity(chunks);
            for c in 0..chunks {
                let take = (level.len() - at) / (chunks - c);
                let mut inner = Inner::new();
                for (j, &(key, weight, id)) in level[at..at + take].iter().enumerate() {
                    inner.insert_child(j, key, weight, id);
                }
                next.push((inner.keys.get(0), inner.weight(), self.inners.len() as u32));
                self.inners.push(inner);
                at += take;
            }
            level = next;
            self.height += 1;
        }
        self.root = level[0].2;
    }

    /// One step of `ZSCAN` over the slab from slot `cursor`: visits up to `count` members (examining at
    /// most ten slots per member asked for) and returns the next cursor, 0 when done.
    pub fn scan(&self, cursor: u64, count: usize, mut visit: impl FnMut(&[u8], f64)) -> u64 {
        let mut i = usize::try_from(cursor).unwrap_or(usize::MAX);
        let mut seen = 0;
        let stop = i.saturating_add(count.saturating_mul(10));
        while i < self.slots.len() && seen < count && i < stop {
            let s = &self.slots[i];
            if !s.score.is_nan() {
                visit(&s.member, s.score);
                seen += 1;
            }
            i += 1;
        }
        if i >= self.slots.len() {
            0
        } else {
            i as u64
        }
    }

    /// Checks order, counts, smallest-key copies, fill, leaf links, the slab and the index; panics on a
    /// violation.
    pub fn check(&self) {
        let live = self.slots.iter().filter(|s| !s.score.is_nan()).count();
        assert_eq!(live, self.len, "every live slot is a member");
        assert_eq!(self.index.len(), live, "index covers every live slot");
        assert_eq!(live + self.free_slots.len(), self.slots.len(), "slots are live or free");
        for (i, s) in self.slots.iter().enumerate() {
            if !s.score.is_nan() {
                assert_eq!(self.find(&s.member), Some(i as u32), "member is findable");
            }
        }
        if self.root == NIL {
            assert_eq!(self.len, 0, "an empty tree has no members");
            return;
        }
        let mut leaves = Vec::new();
        let total = self.check_node(self.root, self.height, true, &mut leaves);
        assert_eq!(total, self.len, "root count");
        let mut prev = NIL;
        for &l in &leaves {
            assert_eq!(self.leaves[l as usize].prev, prev, "leaf back link");
            if prev != NIL {
                assert_eq!(self.leaves[prev as usize].next, l, "leaf forward link");
            }
            prev = l;
        }
        assert_eq!(self.leaves[prev as usize].next, NIL, "last leaf ends the chain");
        let keys: Vec<(f64, u32)> = leaves
            .iter()
            .flat_map(|&l| {
                let k = &self.leaves[l as usize].keys;
                (0..k.len as usize).map(move |j| k.get(j))
            })
            .collect();
        assert_eq!(keys.len(), self.len, "every member is in a leaf");
        for &(s, sl) in &keys {
            assert_eq!(self.slots[sl as usize].score.to_bits(), s.to_bits(), "score copy");
        }
        for w in keys.windows(2) {
            let m = &self.slots[w[1].1 as usize].member;
            assert!(self.entry_less(w[0].0, w[0].1, w[1].0, m), "ordered");
        }
        assert_eq!(
            self.leaves.len() - self.free_leaves.len(),
            leaves.len(),
            "leaves are linked or free"
        );
    }

    /// Checks the subtree `id` of `height`; returns its member count and collects its leaves in order.
    fn check_node(&self, id: u32, height: u32, root: bool, leaves: &mut Vec<u32>) -> usize {
        if height == 0 {
            let k = &self.leaves[id as usize].keys;
            assert!(root || k.len as usize >= MIN, "leaf fill");
            leaves.push(id);
            return k.len as usize;
        }
        let inner = &self.inners[id as usize];
        let len = inner.keys.len as usize;
        assert!(len >= 2, "inner node with one child");
        assert!(root || len >= MIN, "inner fill");
        let mut total = 0;
        for i in 0..len {
            let child = inner.children[i];
            let n = self.check_node(child, height - 1, false, leaves);
            assert_eq!(n, inner.counts[i] as usize, "subtree count");
            let min = if height == 1 {
                self.leaves[child as usize].keys.get(0)
            } else {
                self.inners[child as usize].keys.get(0)
            };
            assert_eq!(inner.keys.slots[i], min.1, "smallest-key copy");
            assert_eq!(inner.keys.scores[i].to_bits(), min.0.to_bits(), "smallest-key score");
            total += n;
        }
        total
    }
}

/// Which arena a pair of siblings lives in.
#[derive(Clone, Copy)]
enum Arena {
    /// Leaves.
    Leaves,
    /// Inner nodes.
    Inners,
}

/// What [`balance_pair`] did.
enum Balanced {
    /// The right node's entries moved into the left one; the right one is empty.
    Merged,
    /// Entries moved between them: their new weights and the right one's new smallest key.
    Moved {
        left: u32,
        right: u32,
        right_min: (f64, u32),
    },
}

/// Merges `right` into `left` when both fit in one node, else splits their entries evenly.
fn balance_pair<N: Node>(left: &mut N, right: &mut N) -> Balanced {
    let (a, b) = (left.keys().len as usize, right.keys().len as usize);
    if a + b <= CAP {
        right.move_head_to(b, left);
        return Balanced::Merged;
    }
    let half = (a + b) / 2;
    if a > half {
        left.move_tail_to(half, right);
    } else {
        right.move_head_to(half - a, left);
    }
    Balanced::Moved {
        left: left.weight(),
        right: right.weight(),
        right_min: right.keys().get(0),
    }
}

/// Walk over a [`Tree`]'s leaves from a rank, in either direction.
pub(super) struct TreeIter<'a> {
    /// The tree walked.
    tree: &'a Tree,
    /// The current leaf, or `NIL` when done.
    leaf: u32,
    /// Position of the next entry in `leaf`.
    pos: usize,
    /// Walking towards rank 0.
    rev: bool,
}

impl<'a> Iterator for TreeIter<'a> {
    type Item = (&'a [u8], f64);

    /// The next member and score.
    fn next(&mut self) -> Option<Self::Item> {
        if self.leaf == NIL {
            return None;
        }
        let tree = self.tree;
        let leaf = &tree.leaves[self.leaf as usize];
        let (score, slot) = leaf.keys.get(self.pos);
        if self.rev {
            if self.pos == 0 {
                self.leaf = leaf.prev;
                if self.leaf != NIL {
                    count_visits(1);
                    self.pos = tree.leaves[self.leaf as usize].keys.len as usize - 1;
                }
            } else {
                self.pos -= 1;
            }
        } else {
            self.pos += 1;
            if self.pos == leaf.keys.len as usize {
                self.leaf = leaf.next;
                self.pos = 0;
                if self.leaf != NIL {
                    count_visits(1);
                }
            }
        }
        Some((&tree.slots[slot as usize].member, score))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// A total order on (score, member) for the model: scores are never NaN.
    #[derive(Clone, Debug, PartialEq)]
    struct Key(f64, Vec<u8>);
    impl Eq for Key {}
    impl PartialOrd for Key {
        fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(o))
        }
    }
    impl Ord for Key {
        fn cmp(&self, o: &Self) -> std::cmp::Ordering {
            self.0.total_cmp(&o.0).then_with(|| self.1.cmp(&o.1))
        }
    }

    /// splitmix64, for a repeatable operation sequence.
    fn rand(state: &mut u64) -> u64 {
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Compares the tree with the model: order, ranks, selection, prefix counts and both walks.
    fn agree(t: &Tree, model: &BTreeMap<Key, ()>, state: &mut u64) {
        t.check();
        assert_eq!(t.len(), model.len());
        let keys: Vec<&Key> = model.keys().collect();
        assert!(t
            .iter_from(0, false)
            .map(|(m, s)| Key(s, m.to_vec()))
            .eq(keys.iter().map(|k| (*k).clone())));
        if keys.is_empty() {
            assert_eq!(t.iter_from(0, true).count(), 0);
            return;
        }
        for _ in 0..20 {
            let r = (rand(state) % keys.len() as u64) as usize;
            let slot = t.select(r).expect("rank in range");
            assert_eq!(t.slot(slot).member, keys[r].1.clone().into_boxed_slice());
            assert_eq!(t.rank_of(slot), r);
            let Key(s, _) = keys[r];
            assert_eq!(
                t.count_prefix(|ns, _| ns < *s),
                keys.iter().filter(|k| k.0 < *s).count()
            );
            let back: Vec<f64> = t.iter_from(r, true).map(|(_, s)| s).collect();
            assert_eq!(back.len(), r + 1);
            assert!(back.iter().copied().eq(keys[..=r].iter().rev().map(|k| k.0)));
        }
        assert_eq!(t.iter_from(usize::MAX, true).count(), keys.len());
        assert_eq!(t.iter_from(keys.len(), false).count(), 0);
    }

    #[test]
    fn random_operations_match_an_ordered_map() {
        let mut state = 3;
        let mut t = Tree::new(9);
        let mut model: BTreeMap<Key, ()> = BTreeMap::new();
        let mut scores: std::collections::HashMap<Vec<u8>, f64> = Default::default();
        // Grow past two inner levels (64 × 64 / 2 members), churn, then shrink to empty.
        for phase in 0..3 {
            let (target, ops) = match phase {
                0 => (6000, 9000),
                1 => (6000, 12000),
                _ => (0, 9000),
            };
            for op in 0..ops {
                let grow = scores.len() < target;
                let member = format!("m{}", rand(&mut state) % 8000).into_bytes();
                // Few distinct scores, so ties are ordered by member bytes.
                let score = (rand(&mut state) % 50) as f64 - 25.0;
                match (scores.get(&member).copied(), rand(&mut state) % 3) {
                    (Some(old), 0) if !grow || phase == 1 => {
                        let slot = t.find(&member).expect("present");
                        t.rescore(slot, score);
                        model.remove(&Key(old, member.clone()));
                        model.insert(Key(score, member.clone()), ());
                        scores.insert(member, score);
                    }
                    (Some(old), _) if !grow => {
                        let slot = t.find(&member).expect("present");
                        assert_eq!(t.remove(slot), (member.clone(), old));
                        model.remove(&Key(old, member.clone()));
                        scores.remove(&member);
                    }
                    (None, _) if grow || phase == 1 => {
                        t.insert(&member, score);
                        model.insert(Key(score, member.clone()), ());
                        scores.insert(member, score);
                    }
                    _ => {}
                }
                if op % 1500 == 0 {
                    agree(&t, &model, &mut state);
                }
            }
            agree(&t, &model, &mut state);
            if phase == 0 {
                assert!(t.height >= 2, "two inner levels exercised");
            }
        }
        // Rank-range removals, small (one descent each) and large (rebuild).
        for i in 0..5000 {
            t.insert(format!("r{i}").as_bytes(), f64::from(i % 100));
            model.insert(Key(f64::from(i % 100), format!("r{i}").into_bytes()), ());
        }
        for (start, end) in [(10, 20), (0, 1), (100, 2000), (3000, 2990 + 10), (0, 2900)] {
            let end = end.min(t.len());
            t.remove_ranks(start, end);
            let gone: Vec<Key> = model.keys().skip(start).take(end - start).cloned().collect();
            for k in gone {
                model.remove(&k);
            }
            agree(&t, &model, &mut state);
        }
        let len = t.len();
        t.remove_ranks(0, len);
        agree(&t, &model.clone().into_iter().take(0).collect(), &mut state);
        t.insert(b"again", 1.0);
        t.check();
    }

    #[test]
    fn small_score_steps_rewrite_in_place_and_stay_ordered() {
        let mut t = Tree::new(1);
        for i in 0..5000 {
            t.insert(format!("m{i}").as_bytes(), f64::from(i) * 10.0);
        }
        let mut state = 5;
        for _ in 0..20_000 {
            let i = rand(&mut state) % 5000;
            let slot = t.find(format!("m{i}").as_bytes()).expect("present");
            // Mostly steps inside the gap to the neighbours (in place), sometimes past them (moved).
            let step = (rand(&mut state) % 40) as f64 - 20.0;
            let score = t.slot(slot).score + step;
            t.rescore(slot, score);
            assert_eq!(t.slot(slot).score, score);
        }
        t.check();
        assert_eq!(t.len(), 5000);
    }

    #[test]
    fn members_added_in_order_fill_their_leaves() {
        for rev in [false, true] {
            let mut t = Tree::new(1);
            for i in 0..10_000 {
                let score = if rev { -f64::from(i) } else { f64::from(i) };
                t.insert(format!("m{i}").as_bytes(), score);
            }
            t.check();
            let leaves = t.leaves.len() - t.free_leaves.len();
            assert!(leaves * (CAP - 2 * MIN) <= 10_000, "{leaves} leaves for 10,000 members");
        }
    }

    #[test]
    fn built_trees_are_filled_and_linked() {
        for n in [0, 1, 63, 64, 65, 1000, 4000, 70_000] {
            let members: Vec<Vec<u8>> = (0..n).map(|i| format!("{i:08}").into_bytes()).collect();
            let t = Tree::from_sorted(members.iter().map(|m| (&m[..], 1.0)), 1);
            t.check();
            assert!(t.iter_from(0, false).map(|(m, _)| m).eq(members.iter().map(|m| &m[..])));
        }
    }
}
