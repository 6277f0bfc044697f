//! The sorted set type: members with scores, ordered by (score, member bytes), in two encodings, plus the
//! score and range grammar the zset commands share.
//!
//! Owns the representation and its invariants. Nothing here knows about clients or replies.
//!
//! # Encodings
//!
//! * **listpack** (`Small`, [`Packed`]): the (member, score) elements packed back to back, sorted, in one
//!   exact-fit byte buffer: a varint length, the member bytes and a 1- to 9-byte score each, so ten short
//!   members cost a few dozen bytes in one allocation rather than one allocation per member. Lookups by
//!   member are linear, which is what the reference's listpack does too; it is only used while the set
//!   holds at most `zset-max-listpack-entries` members, each at most `zset-max-listpack-value` bytes.
//! * **skiplist** (`Large`, [`btree`]): a B+tree with subtree counts over (score, member) keys, a slab
//!   owning the members and a member → slot hash index. Conversion is one-way, as in the reference: a
//!   set that outgrew the compact form stays large when it shrinks.
//!
//! # Why a B+tree with counts
//!
//! Ranks (`ZRANK`), positional ranges (`ZRANGE 1000 1010`), score/lex ranges and their counts, and
//! positional removals must all be O(log n). Each needs "how many members sort before this key" and
//! "the k-th member", so the ordered index carries subtree sizes. The first large encoding was a treap
//! over an arena (a binary tree with sizes): small and simple, but a score update took six root-to-leaf
//! passes (split and merge by rank) over ~25 scattered 48-byte nodes each. A skiplist with spans (the
//! reference's) walks ~log₄ n levels of four hops, each hop a cache miss, plus one allocation per node
//! for its level array. A B+tree whose leaves hold 64 `(score, slot)` keys in parallel arrays finds a
//! key with 3–4 node visits at 100k members, a binary search of a few cache lines each, and compares
//! member bytes only when scores tie. Measured on the `versus` ZADD workload (a random member of a
//! 100k-member zset gets a random score; `benches/examples/zadd_loop.rs` under callgrind), a ZADD
//! took 13,500 instructions in `Server::execute` with the treap and 5,200 with this tree (3,400 with
//! the command-side changes that came with it); criterion's `cmd/ZADD_100k_random_x64` went from
//! 272 to 154 ns per ZADD. Memory per member is no worse: a 24-byte slot and a 12-byte leaf key
//! (leaves 7/8 full when members arrive in score order, ~2/3 in random order) against the treap's
//! 48-byte node — 78.6 against 80.4 B per member in `scripts/mem-per-element`'s 1M-member zset.
//! Members live in a slab and keep their slot (and their one allocation) across score updates, which
//! also gives `ZSCAN` a stable cursor: the slot number.
//!
//! | operation | small | large |
//! |---|---|---|
//! | score of member | O(n) | O(1) |
//! | add / update / remove member | O(n) | O(log n) |
//! | rank of member, k-th member, count in score/lex range | O(n) | O(log n) |
//! | range of m members from a rank | O(n) | O(log n + m) |
//! | remove m members by rank range | O(n) | O(m log n) below n/8 members, else an O(n) rebuild |

mod btree;

use std::cell::Cell;
use std::os::raw::c_char;

use btree::{Tree, TreeIter};

thread_local! {
    /// Tree nodes visited by this thread's zset operations (see [`node_visits`]).
    static VISITS: Cell<u64> = const { Cell::new(0) };
}

/// Number of tree nodes visited by zset operations on this thread so far. Tests use the difference
/// across an operation to check that ranks and ranges touch O(log n + m) nodes.
pub fn node_visits() -> u64 {
    VISITS.with(|v| v.get())
}

/// Adds `n` to this thread's visit counter.
fn count_visits(n: u64) {
    VISITS.with(|v| v.set(v.get() + n));
}

/// The encoding thresholds and the hash seed a zset is built with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    /// `zset-max-listpack-entries`.
    pub max_entries: usize,
    /// `zset-max-listpack-value`.
    pub max_value: usize,
    /// Seed for the member index of a large set.
    pub seed: u64,
}

/// The score as the compact encoding keeps it: the reference stores integral scores there as integers,
/// so a negative zero reads back as zero.
fn compact_score(score: f64) -> f64 {
    if score == 0.0 {
        0.0
    } else {
        score
    }
}

/// True when (s1, m1) sorts before (s2, m2): by score, then by member bytes.
fn key_less(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> bool {
    s1 < s2 || (s1 == s2 && m1 < m2)
}

/// The compact encoding: every element packed back to back in one exact-fit byte buffer.
///
/// An element is `varint(member length) · member bytes · score`, where the score is `varint(tag)`
/// optionally followed by eight bytes: an even tag is an integral score `i` with `|i| ≤ 2^53`
/// (zigzag-coded, so `tag = zigzag(i) << 1`), the tag `1` is followed by the score as a little-endian
/// `f64`. Varints are LEB128: 7 bits a byte, low bits first. So a member of up to 127 bytes costs one
/// header byte, and a small integral score (the common case: ranks, timestamps, counters) one to four
/// bytes; any other score costs nine bytes, exactly, where the reference keeps its shortest decimal text
/// (up to 24 bytes). Storing integers as integers also matches the reference's observable behaviour: a
/// negative zero reads back as zero (see [`compact_score`]).
///
/// Elements are kept sorted by (score, member); every operation walks the buffer from the front, at most
/// `zset-max-listpack-entries` elements. A descending walk first records the offsets it will visit.
#[derive(Clone, Debug, Default)]
struct Packed {
    /// The encoded elements; capacity is kept at (or near) the length.
    buf: Vec<u8>,
    /// Number of elements in `buf`.
    count: u32,
}

/// Tag of a score stored as eight bytes.
const SCORE_F64: u64 = 1;

/// Largest integral score stored as an integer: every integer up to 2^53 is exact in an `f64`.
const MAX_INT_SCORE: f64 = 9_007_199_254_740_992.0;

/// Writes `v` as LEB128 into `out`; returns the bytes used (at most 10).
fn put_varint(mut v: u64, out: &mut [u8; 10]) -> usize {
    let mut n = 0;
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out[n] = byte;
            return n + 1;
        }
        out[n] = byte | 0x80;
        n += 1;
    }
}

/// Reads a LEB128 varint at `*pos` of `buf`, advancing `*pos`.
fn get_varint(buf: &[u8], pos: &mut usize) -> u64 {
    let (mut v, mut shift) = (0u64, 0);
    loop {
        let byte = buf[*pos];
        *pos += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return v;
        }
        shift += 7;
    }
}

/// One element's encoded header and score: what goes around the member bytes.
struct EncodedEntry {
    /// The member length varint.
    head: [u8; 10],
    /// Bytes of `head` used.
    head_len: usize,
    /// The score's tag varint and, for [`SCORE_F64`], the eight score bytes.
    score: [u8; 18],
    /// Bytes of `score` used.
    score_len: usize,
}

impl EncodedEntry {
    /// Encodes the header for a `member_len`-byte member and the (compact) `score`.
    fn new(member_len: usize, score: f64) -> EncodedEntry {
        let mut head = [0; 10];
        let head_len = put_varint(member_len as u64, &mut head);
        let mut tag = [0; 10];
        let mut score_bytes = [0; 18];
        let score_len = if score.fract() == 0.0 && score.abs() <= MAX_INT_SCORE {
            // Integral and exact: `as` is lossless here (and -0.0 never reaches this point).
            let i = score as i64;
            let zigzag = ((i << 1) ^ (i >> 63)) as u64;
            let n = put_varint(zigzag << 1, &mut tag);
            score_bytes[..n].copy_from_slice(&tag[..n]);
            n
        } else {
            score_bytes[0] = SCORE_F64 as u8;
            score_bytes[1..9].copy_from_slice(&score.to_le_bytes());
            9
        };
        EncodedEntry {
            head,
            head_len,
            score: score_bytes,
            score_len,
        }
    }

    /// Total encoded size of the element with a `member_len`-byte member.
    fn size(&self, member_len: usize) -> usize {
        self.head_len + member_len + self.score_len
    }
}

/// Encoding, decoding and splicing of the packed elements.
impl Packed {
    /// Packs `items` (sorted, distinct) into an exact-fit buffer.
    fn from_sorted(items: &[(Vec<u8>, f64)]) -> Packed {
        let encoded: Vec<EncodedEntry> = items.iter().map(|(m, s)| EncodedEntry::new(m.len(), *s)).collect();
        let total = items.iter().zip(&encoded).map(|((m, _), e)| e.size(m.len())).sum();
        let mut buf = Vec::with_capacity(total);
        for ((m, _), e) in items.iter().zip(&encoded) {
            buf.extend_from_slice(&e.head[..e.head_len]);
            buf.extend_from_slice(m);
            buf.extend_from_slice(&e.score[..e.score_len]);
        }
        Packed {
            buf,
            count: items.len() as u32,
        }
    }

    /// Number of elements.
    fn len(&self) -> usize {
        self.count as usize
    }

    /// The element at byte offset `pos` (which must start one): its member, score and end offset.
    fn entry_at(&self, pos: usize) -> (&[u8], f64, usize) {
        decode_entry(&self.buf, pos)
    }

    /// Walks the elements in order: (start offset, member, score, end offset).
    fn entries(&self) -> PackedIter<'_> {
        PackedIter { buf: &self.buf, pos: 0 }
    }

    /// Byte offset of the element of rank `rank` (the buffer's length when `rank >= len`).
    fn offset_of_rank(&self, rank: usize) -> usize {
        self.entries().nth(rank).map_or(self.buf.len(), |e| e.0)
    }

    /// The element holding `member`: (rank, start offset, end offset, score).
    fn find(&self, member: &[u8]) -> Option<(usize, usize, usize, f64)> {
        self.entries()
            .enumerate()
            .find(|(_, (_, m, _, _))| *m == member)
            .map(|(rank, (start, _, score, end))| (rank, start, end, score))
    }

    /// Offset and rank where (score, member) belongs: after every element that sorts before it.
    fn insert_point(&self, score: f64, member: &[u8]) -> (usize, usize) {
        let mut rank = 0;
        for (start, m, s, _) in self.entries() {
            if !key_less(s, m, score, member) {
                return (start, rank);
            }
            rank += 1;
        }
        (self.buf.len(), rank)
    }

    /// Inserts the element (member, score) at byte offset `pos`, growing the buffer by exactly its size.
    fn insert_at(&mut self, pos: usize, member: &[u8], score: f64) {
        let e = EncodedEntry::new(member.len(), score);
        let size = e.size(member.len());
        let old = self.buf.len();
        self.buf.reserve_exact(size);
        self.buf.resize(old + size, 0);
        self.buf.copy_within(pos..old, pos + size);
        let mut at = pos;
        for part in [&e.head[..e.head_len], member, &e.score[..e.score_len]] {
            self.buf[at..at + part.len()].copy_from_slice(part);
            at += part.len();
        }
        self.count += 1;
    }

    /// Inserts an absent member at its sorted position.
    fn insert(&mut self, member: &[u8], score: f64) {
        let (pos, _) = self.insert_point(score, member);
        self.insert_at(pos, member, score);
    }

    /// Removes the bytes `start..end`, which hold `n` whole elements; does not shrink the buffer.
    fn cut(&mut self, start: usize, end: usize, n: usize) {
        self.buf.drain(start..end);
        self.count -= n as u32;
    }

    /// Gives back spare capacity left by removals, so a shrunken value costs what it holds.
    fn shrink(&mut self) {
        self.buf.shrink_to_fit();
    }
}

/// Decodes the element at byte offset `pos` of `buf`: its member, score and end offset.
fn decode_entry(buf: &[u8], pos: usize) -> (&[u8], f64, usize) {
    let mut p = pos;
    let len = get_varint(buf, &mut p) as usize;
    let member = &buf[p..p + len];
    p += len;
    let tag = get_varint(buf, &mut p);
    let score = if tag == SCORE_F64 {
        let mut bytes = [0; 8];
        bytes.copy_from_slice(&buf[p..p + 8]);
        p += 8;
        f64::from_le_bytes(bytes)
    } else {
        let zigzag = tag >> 1;
        let i = ((zigzag >> 1) as i64) ^ -((zigzag & 1) as i64);
        i as f64
    };
    (member, score, p)
}

/// In-order walk over a [`Packed`] buffer: (start offset, member, score, end offset).
struct PackedIter<'a> {
    /// The encoded elements.
    buf: &'a [u8],
    /// Offset of the next element.
    pos: usize,
}

impl<'a> Iterator for PackedIter<'a> {
    type Item = (usize, &'a [u8], f64, usize);

    /// The next element with its byte range.
    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.buf.len() {
            return None;
        }
        let start = self.pos;
        let (m, s, end) = decode_entry(self.buf, start);
        self.pos = end;
        Some((start, m, s, end))
    }
}

/// A zset's encoding.
#[derive(Clone, Debug)]
enum Repr {
    /// The compact encoding: packed, sorted by (score, member).
    Small(Packed),
    /// The large encoding, boxed so that a compact zset does not carry the tree's inline size.
    Large(Box<Tree>),
}

/// Where [`ZSetValue::lookup`] found a member: only valid until the zset next changes.
#[derive(Clone, Copy, Debug)]
pub struct Found(FoundAt);

/// The position behind [`Found`], per encoding.
#[derive(Clone, Copy, Debug)]
enum FoundAt {
    /// The element's byte range in the compact buffer.
    Small {
        /// Offset of the element.
        start: usize,
        /// Offset after the element.
        end: usize,
    },
    /// The member's slot in the large encoding.
    Large(u32),
}

/// A zset value.
#[derive(Clone, Debug)]
pub struct ZSetValue {
    /// The current encoding and its data.
    repr: Repr,
}

/// An empty zset in the compact encoding.
impl Default for ZSetValue {
    /// An empty compact zset.
    fn default() -> Self {
        ZSetValue {
            repr: Repr::Small(Packed::default()),
        }
    }
}

/// Equal when the same members have the same scores, whatever the encodings.
impl PartialEq for ZSetValue {
    /// Compares members and scores in order.
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

/// An iterator over a zset's members from a rank, in either direction.
pub struct RangeIter<'a> {
    /// The encoding's iterator.
    inner: RangeInner<'a>,
}

/// The per-encoding iterator behind [`RangeIter`].
enum RangeInner<'a> {
    /// Compact encoding, ascending.
    Fwd(PackedIter<'a>),
    /// Compact encoding, descending: the buffer and the start offsets still to visit (last is next).
    Rev(&'a [u8], Vec<usize>),
    /// Large encoding, either direction.
    Tree(TreeIter<'a>),
}

impl<'a> Iterator for RangeIter<'a> {
    type Item = (&'a [u8], f64);

    /// The next member and score.
    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.inner {
            RangeInner::Fwd(i) => i.next().map(|(_, m, s, _)| (m, s)),
            RangeInner::Rev(buf, offsets) => offsets.pop().map(|p| {
                let (m, s, _) = decode_entry(buf, p);
                (m, s)
            }),
            RangeInner::Tree(i) => i.next(),
        }
    }
}

/// Construction, lookups, updates and range walks, in either encoding.
impl ZSetValue {
    /// An empty zset in the encoding the reference creates for a first member of `member_len` bytes.
    pub fn new_for(member_len: usize, params: Params) -> ZSetValue {
        if params.max_entries == 0 || member_len > params.max_value {
            ZSetValue {
                repr: Repr::Large(Box::new(Tree::new(params.seed))),
            }
        } else {
            ZSetValue::default()
        }
    }

    /// A zset of `items` (distinct members, sorted by score then member), compact if the thresholds allow.
    pub fn from_sorted(items: Vec<(Vec<u8>, f64)>, params: Params) -> ZSetValue {
        let small = items.len() <= params.max_entries && items.iter().all(|(m, _)| m.len() <= params.max_value);
        if small {
            return ZSetValue {
                repr: Repr::Small(Packed::from_sorted(&items)),
            };
        }
        let tree = Tree::from_sorted(items.iter().map(|(m, s)| (&m[..], *s)), params.seed);
        ZSetValue {
            repr: Repr::Large(Box::new(tree)),
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Small(p) => p.len(),
            Repr::Large(t) => t.len(),
        }
    }

    /// True when empty (an empty zset is never stored: its key is removed).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True in the compact (listpack) encoding.
    pub fn is_compact(&self) -> bool {
        matches!(self.repr, Repr::Small(_))
    }

    /// The name `OBJECT ENCODING` reports.
    pub fn encoding_name(&self) -> &'static str {
        match &self.repr {
            Repr::Small(_) => "listpack",
            Repr::Large(_) => "skiplist",
        }
    }

    /// Approximate heap bytes owned.
    pub fn heap_size(&self) -> usize {
        match &self.repr {
            Repr::Small(p) => p.buf.capacity(),
            Repr::Large(t) => std::mem::size_of::<Tree>() + t.heap_size(),
        }
    }

    /// Every element, in score order (ties by member bytes).
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], f64)> + '_ {
        self.iter_from(0, false)
    }

    /// Elements from rank `start` (0 = lowest), ascending, or descending towards rank 0 when `rev`.
    pub fn iter_from(&self, start: usize, rev: bool) -> RangeIter<'_> {
        let inner = match &self.repr {
            Repr::Small(p) => {
                if rev {
                    let offsets = p.entries().take(start.saturating_add(1)).map(|e| e.0).collect();
                    RangeInner::Rev(&p.buf, offsets)
                } else {
                    let pos = p.offset_of_rank(start);
                    RangeInner::Fwd(PackedIter { buf: &p.buf, pos })
                }
            }
            Repr::Large(t) => RangeInner::Tree(t.iter_from(start, rev)),
        };
        RangeIter { inner }
    }

    /// The element of rank `rank`.
    pub fn get(&self, rank: usize) -> Option<(&[u8], f64)> {
        match &self.repr {
            Repr::Small(p) => p.entries().nth(rank).map(|(_, m, s, _)| (m, s)),
            Repr::Large(t) => t.select(rank).map(|i| {
                let n = t.slot(i);
                (&*n.member, n.score)
            }),
        }
    }

    /// The score of `member`.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match &self.repr {
            Repr::Small(p) => p.find(member).map(|f| f.3),
            Repr::Large(t) => t.find(member).map(|i| t.slot(i).score),
        }
    }

    /// The rank (0 = lowest score) of `member`.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        match &self.repr {
            Repr::Small(p) => p.find(member).map(|f| f.0),
            Repr::Large(t) => t.find(member).map(|i| t.rank_of(i)),
        }
    }

    /// Number of leading elements (in order) for which `pred(score, member)` holds. `pred` must hold
    /// for a prefix of the order (a lower or upper bound on the key).
    pub fn count_prefix(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        match &self.repr {
            Repr::Small(p) => p.entries().take_while(|(_, m, s, _)| pred(*s, m)).count(),
            Repr::Large(t) => t.count_prefix(pred),
        }
    }

    /// Converts to the large encoding.
    fn convert(&mut self, seed: u64) {
        if let Repr::Small(p) = &self.repr {
            let tree = Tree::from_sorted(p.entries().map(|(_, m, s, _)| (m, s)), seed);
            self.repr = Repr::Large(Box::new(tree));
        }
    }

    /// Adds `member`, which must be absent, converting to the large encoding first when the compact one
    /// would exceed the thresholds.
    /// A zset already in the large encoding ignores `params`.
    pub fn insert_new(&mut self, member: &[u8], score: f64, params: Params) {
        if let Repr::Small(p) = &self.repr {
            if p.len() + 1 > params.max_entries || member.len() > params.max_value {
                self.convert(params.seed);
            }
        }
        match &mut self.repr {
            Repr::Small(p) => p.insert(member, compact_score(score)),
            Repr::Large(t) => t.insert(member, score),
        }
    }

    /// Finds `member` for a later [`ZSetValue::rescore_found`]: where it is, and its score. Saves the
    /// second member lookup (a hash and a probe) of a read-then-update such as `ZADD` of a member
    /// that is present.
    pub fn lookup(&self, member: &[u8]) -> Option<(Found, f64)> {
        match &self.repr {
            Repr::Small(p) => p
                .find(member)
                .map(|(_, start, end, score)| (Found(FoundAt::Small { start, end }), score)),
            Repr::Large(t) => t.find(member).map(|i| (Found(FoundAt::Large(i)), t.slot(i).score)),
        }
    }

    /// Gives the member `found` by [`ZSetValue::lookup`] (with no change to the zset since) a new score.
    pub fn rescore_found(&mut self, found: Found, member: &[u8], score: f64) {
        match (&mut self.repr, found.0) {
            (Repr::Small(p), FoundAt::Small { start, end }) => {
                p.cut(start, end, 1);
                p.insert(member, compact_score(score));
            }
            (Repr::Large(t), FoundAt::Large(i)) => t.rescore(i, score),
            // A position from the other encoding: the zset changed since; find the member again.
            _ => {
                self.update_score(member, score);
            }
        }
    }

    /// Changes the score of a present `member`. Returns false if it is absent.
    pub fn update_score(&mut self, member: &[u8], score: f64) -> bool {
        match &mut self.repr {
            Repr::Small(p) => {
                let Some((_, start, end, _)) = p.find(member) else {
                    return false;
                };
                // Cut and re-insert without shrinking in between: the buffer is reused when the new
                // score encodes in as many bytes or fewer.
                p.cut(start, end, 1);
                p.insert(member, compact_score(score));
                true
            }
            Repr::Large(t) => {
                let Some(idx) = t.find(member) else {
                    return false;
                };
                t.rescore(idx, score);
                true
            }
        }
    }

    /// Removes `member`; true if it was present.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Small(p) => match p.find(member) {
                Some((_, start, end, _)) => {
                    p.cut(start, end, 1);
                    p.shrink();
                    true
                }
                None => false,
            },
            Repr::Large(t) => match t.find(member) {
                Some(idx) => {
                    t.remove(idx);
                    true
                }
                None => false,
            },
        }
    }

    /// Removes the elements of ranks `start..end` (clamped to the length). Returns how many were removed.
    pub fn remove_ranks(&mut self, start: usize, end: usize) -> usize {
        let end = end.min(self.len());
        if start >= end {
            return 0;
        }
        match &mut self.repr {
            Repr::Small(p) => {
                let from = p.offset_of_rank(start);
                let to = p.offset_of_rank(end);
                p.cut(from, to, end - start);
                p.shrink();
            }
            Repr::Large(t) => t.remove_ranks(start, end),
        }
        end - start
    }

    /// Removes and returns the element of rank `rank`.
    fn take_rank(&mut self, rank: usize) -> Option<(Vec<u8>, f64)> {
        if rank >= self.len() {
            return None;
        }
        match &mut self.repr {
            Repr::Small(p) => {
                let start = p.offset_of_rank(rank);
                let (m, s, end) = p.entry_at(start);
                let taken = (m.to_vec(), s);
                p.cut(start, end, 1);
                p.shrink();
                Some(taken)
            }
            Repr::Large(t) => {
                let idx = t.select(rank)?;
                Some(t.remove(idx))
            }
        }
    }

    /// Removes and returns the member with the lowest score (ties: lowest member bytes).
    pub fn pop_min(&mut self) -> Option<(Vec<u8>, f64)> {
        self.take_rank(0)
    }

    /// Removes and returns the member with the highest score (ties: highest member bytes).
    pub fn pop_max(&mut self) -> Option<(Vec<u8>, f64)> {
        let len = self.len();
        self.take_rank(len.checked_sub(1)?)
    }

    /// One step of `ZSCAN`: visits up to about `count` elements from `cursor` and returns the next cursor
    /// (0 when done). The compact encoding is returned whole in one step, as the reference does. For the
    /// large one the cursor is an arena slot: members present for the whole scan are visited exactly once.
    pub fn scan(&self, cursor: u64, count: usize, mut visit: impl FnMut(&[u8], f64)) -> u64 {
        match &self.repr {
            Repr::Small(p) => {
                for (_, m, s, _) in p.entries() {
                    visit(m, s);
                }
                0
            }
            Repr::Large(t) => t.scan(cursor, count, visit),
        }
    }

    /// Checks the representation's invariants (tests, fuzzers); panics on a violation.
    pub fn check_invariants(&self) {
        match &self.repr {
            Repr::Small(p) => {
                let items: Vec<(&[u8], f64)> = p.entries().map(|(_, m, s, _)| (m, s)).collect();
                assert_eq!(items.len(), p.len(), "element count matches the buffer");
                for w in items.windows(2) {
                    assert!(key_less(w[0].1, w[0].0, w[1].1, w[1].0), "compact form is sorted");
                }
                assert!(items.iter().all(|(_, s)| !s.is_nan()), "no NaN score");
                let mut members: Vec<&[u8]> = items.iter().map(|(m, _)| *m).collect();
                members.sort();
                members.dedup();
                assert_eq!(members.len(), items.len(), "members are distinct");
            }
            Repr::Large(t) => t.check(),
        }
    }
}

// The C library's float parser, which the reference server uses for scores and range ends.
unsafe extern "C" {
    /// `strtod(3)`.
    fn strtod(nptr: *const c_char, endptr: *mut *mut c_char) -> f64;
}

/// Runs the C library's `strtod` on `text` (NUL-terminated copy): the value and the bytes consumed.
/// The C library's grammar is the reference's (hex floats, `inf`, `infinity`, `nan`, leading spaces).
fn c_strtod(text: &[u8]) -> (f64, usize) {
    // Scores are short: copy them to the stack rather than allocating for every ZADD argument.
    let mut stack = [0u8; 64];
    let mut heap = Vec::new();
    let buf: &[u8] = if text.len() < stack.len() {
        stack[..text.len()].copy_from_slice(text);
        &stack[..=text.len()]
    } else {
        heap.reserve_exact(text.len() + 1);
        heap.extend_from_slice(text);
        heap.push(0);
        &heap
    };
    let mut end: *mut c_char = std::ptr::null_mut();
    // SAFETY: `buf` is NUL-terminated and outlives the call; strtod reads up to that NUL and stores a
    // pointer into `buf` (or its start) in `end`, which is only used for its address below.
    let value = unsafe { strtod(buf.as_ptr().cast(), &mut end) };
    let consumed = (end as usize).wrapping_sub(buf.as_ptr() as usize).min(text.len());
    (value, consumed)
}

/// C's `isspace` in the C locale.
fn c_isspace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// True when `text` (a complete strtod number) has a non-zero digit in its mantissa.
fn nonzero_mantissa(text: &[u8]) -> bool {
    let t = text.iter().position(|&b| !c_isspace(b)).map_or(&[][..], |p| &text[p..]);
    let t = t.strip_prefix(b"-").or_else(|| t.strip_prefix(b"+")).unwrap_or(t);
    if t.len() > 1 && t[0] == b'0' && (t[1] == b'x' || t[1] == b'X') {
        t[2..]
            .iter()
            .take_while(|&&b| b != b'p' && b != b'P')
            .any(|&b| b.is_ascii_hexdigit() && b != b'0')
    } else {
        t.iter()
            .take_while(|&&b| b != b'e' && b != b'E')
            .any(|&b| (b'1'..=b'9').contains(&b))
    }
}

/// The value of `text` when it is a plain decimal integer (an optional `-`, then 1 to 15 digits): such
/// an integer is exact in an `f64`, so this is what `strtod` returns for it (`-0` included), without
/// the C call. Scores in benchmarks and most applications (timestamps, counters) take this path.
fn parse_small_integer(text: &[u8]) -> Option<f64> {
    let (negative, digits) = match text.strip_prefix(b"-") {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    if digits.is_empty() || digits.len() > 15 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = digits.iter().fold(0i64, |n, &d| n * 10 + i64::from(d - b'0'));
    let v = n as f64;
    Some(if negative { -v } else { v })
}

/// Parses a score or weight as the reference does for values it stores: the whole text must be a C
/// float (no leading space), not NaN, and not out of range (a literal `inf` is fine, an overflow is not;
/// an underflow to zero is refused, a denormal result accepted).
pub fn parse_score(text: &[u8]) -> Option<f64> {
    if let Some(v) = parse_small_integer(text) {
        return Some(v);
    }
    if text.is_empty() || c_isspace(text[0]) {
        return None;
    }
    let (v, used) = c_strtod(text);
    if used != text.len() || v.is_nan() {
        return None;
    }
    if v.is_infinite() {
        let t = text
            .strip_prefix(b"-")
            .or_else(|| text.strip_prefix(b"+"))
            .unwrap_or(text);
        if !matches!(t.first(), Some(b'i' | b'I')) {
            return None;
        }
    }
    if v == 0.0 && nonzero_mantissa(text) {
        return None;
    }
    Some(v)
}

/// One end of a score range.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoreBound {
    /// The score.
    pub value: f64,
    /// True for an exclusive (`(`) bound.
    pub exclusive: bool,
}

/// Parses a score range end as the reference does: `(` makes it exclusive, the rest is read by
/// `strtod` up to a NUL byte (so leading spaces, an empty text and overflows to infinity are accepted),
/// NaN is refused.
pub fn parse_score_bound(text: &[u8]) -> Option<ScoreBound> {
    let (exclusive, num) = match text.strip_prefix(b"(") {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (v, used) = c_strtod(num);
    let ended = used == num.len() || num[used] == 0;
    if !ended || v.is_nan() {
        return None;
    }
    Some(ScoreBound { value: v, exclusive })
}

/// A score range `[min, max]` with exclusive ends as flagged.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoreRange {
    /// The lower end.
    pub min: ScoreBound,
    /// The upper end.
    pub max: ScoreBound,
}

/// Membership tests and rank bounds of a score range.
impl ScoreRange {
    /// True when `score` is at or above the lower end.
    pub fn above_min(&self, score: f64) -> bool {
        if self.min.exclusive {
            score > self.min.value
        } else {
            score >= self.min.value
        }
    }

    /// True when `score` is at or below the upper end.
    pub fn below_max(&self, score: f64) -> bool {
        if self.max.exclusive {
            score < self.max.value
        } else {
            score <= self.max.value
        }
    }

    /// The ranks `lo..hi` of the elements of `z` in the range (empty when `lo >= hi`).
    pub fn ranks(&self, z: &ZSetValue) -> (usize, usize) {
        let empty = self.min.value > self.max.value
            || (self.min.value == self.max.value && (self.min.exclusive || self.max.exclusive));
        if empty {
            return (0, 0);
        }
        let lo = z.count_prefix(|s, _| !self.above_min(s));
        let hi = z.count_prefix(|s, _| self.below_max(s));
        (lo, hi.max(lo))
    }
}

/// One end of a lexicographic range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LexBound {
    /// `-`: below every member.
    Min,
    /// `+`: above every member.
    Max,
    /// `[member`.
    Inclusive(Vec<u8>),
    /// `(member`.
    Exclusive(Vec<u8>),
}

/// Parses a lexicographic range end: `-`, `+`, `[member` or `(member`.
pub fn parse_lex_bound(text: &[u8]) -> Option<LexBound> {
    match text.first()? {
        b'+' if text.len() == 1 => Some(LexBound::Max),
        b'-' if text.len() == 1 => Some(LexBound::Min),
        b'[' => Some(LexBound::Inclusive(text[1..].to_vec())),
        b'(' => Some(LexBound::Exclusive(text[1..].to_vec())),
        _ => None,
    }
}

/// A lexicographic range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexRange {
    /// The lower end.
    pub min: LexBound,
    /// The upper end.
    pub max: LexBound,
}

/// Position of a bound on the member line: (class, bytes) where Min < any member < Max.
fn lex_cmp(member: &[u8], bound: &LexBound) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match bound {
        LexBound::Min => Ordering::Greater,
        LexBound::Max => Ordering::Less,
        LexBound::Inclusive(b) | LexBound::Exclusive(b) => member.cmp(b),
    }
}

/// Membership tests and rank bounds of a lexicographic range.
impl LexRange {
    /// True when `member` is at or above the lower end.
    pub fn above_min(&self, member: &[u8]) -> bool {
        let c = lex_cmp(member, &self.min);
        match self.min {
            LexBound::Inclusive(_) => c.is_ge(),
            _ => c.is_gt(),
        }
    }

    /// True when `member` is at or below the upper end.
    pub fn below_max(&self, member: &[u8]) -> bool {
        let c = lex_cmp(member, &self.max);
        match self.max {
            LexBound::Inclusive(_) => c.is_le(),
            _ => c.is_lt(),
        }
    }

    /// True when no member can be in the range.
    fn is_empty(&self) -> bool {
        use std::cmp::Ordering;
        let rank = |b: &LexBound| match b {
            LexBound::Min => 0,
            LexBound::Inclusive(_) | LexBound::Exclusive(_) => 1,
            LexBound::Max => 2,
        };
        let ord = match (&self.min, &self.max) {
            (LexBound::Inclusive(a) | LexBound::Exclusive(a), LexBound::Inclusive(b) | LexBound::Exclusive(b)) => {
                a.cmp(b)
            }
            (a, b) => rank(a).cmp(&rank(b)),
        };
        let exclusive = !matches!(self.min, LexBound::Inclusive(_)) || !matches!(self.max, LexBound::Inclusive(_));
        ord == Ordering::Greater || (ord == Ordering::Equal && exclusive)
    }

    /// The ranks `lo..hi` of the elements of `z` in the range, assuming (as the reference does) that
    /// all scores are equal so members are in byte order.
    pub fn ranks(&self, z: &ZSetValue) -> (usize, usize) {
        if self.is_empty() {
            return (0, 0);
        }
        let lo = z.count_prefix(|_, m| !self.above_min(m));
        let hi = z.count_prefix(|_, m| self.below_max(m));
        (lo, hi.max(lo))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Thresholds with `max_entries` entries.
    fn params(max_entries: usize) -> Params {
        Params {
            max_entries,
            max_value: 64,
            seed: 1,
        }
    }

    /// Encoded size of an element with a `len`-byte member and a one-byte score tag.
    fn varint_len(v: usize) -> usize {
        match v {
            0..=127 => 1,
            128..=16383 => 2,
            _ => 3,
        }
    }

    #[test]
    fn packed_members_round_trip_at_header_boundaries() {
        let p = Params {
            max_entries: 128,
            max_value: 1 << 20,
            seed: 1,
        };
        let mut z = ZSetValue::new_for(0, p);
        let lengths = [0usize, 1, 63, 64, 127, 128, 16383, 16384, 70000];
        let mut expected_bytes = 0;
        for (i, &len) in lengths.iter().enumerate() {
            // Binary data: every byte value, including NUL and 0x80 (a varint continuation bit).
            let member: Vec<u8> = (0..len).map(|j| ((j * 7 + i) % 256) as u8).collect();
            z.insert_new(&member, i as f64, p);
            expected_bytes += varint_len(len) + len + 1;
        }
        assert_eq!(z.encoding_name(), "listpack");
        z.check_invariants();
        assert_eq!(z.len(), lengths.len());
        let Repr::Small(packed) = &z.repr else { unreachable!() };
        assert_eq!(packed.buf.len(), expected_bytes, "one header byte per 7 bits of length");
        for (i, &len) in lengths.iter().enumerate() {
            let member: Vec<u8> = (0..len).map(|j| ((j * 7 + i) % 256) as u8).collect();
            assert_eq!(z.score(&member), Some(i as f64));
            assert_eq!(z.rank(&member), Some(i));
            assert_eq!(z.get(i), Some((&member[..], i as f64)));
        }
        let back: Vec<usize> = z.iter_from(lengths.len(), true).map(|(m, _)| m.len()).collect();
        assert_eq!(back, lengths.iter().rev().copied().collect::<Vec<_>>());
    }

    #[test]
    fn packed_scores_round_trip_exactly() {
        let p = params(128);
        let scores = [
            0.0,
            1.0,
            -1.0,
            63.0,
            64.0,
            -65.0,
            1e15,
            9_007_199_254_740_992.0,
            -9_007_199_254_740_992.0,
            9_007_199_254_740_994.0,
            1.5,
            -0.1,
            f64::MIN_POSITIVE,
            5e-324,
            1e300,
            f64::MAX,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        let mut z = ZSetValue::new_for(1, p);
        for (i, s) in scores.iter().enumerate() {
            z.insert_new(format!("m{i}").as_bytes(), *s, p);
        }
        z.check_invariants();
        for (i, s) in scores.iter().enumerate() {
            let got = z.score(format!("m{i}").as_bytes()).unwrap();
            assert_eq!(got.to_bits(), s.to_bits(), "score {s} reads back bit-exact");
        }
        // A negative zero reads back as zero, as in the reference's compact encoding.
        z.insert_new(b"nz", -0.0, p);
        assert_eq!(z.score(b"nz").map(f64::to_bits), Some(0.0f64.to_bits()));
    }

    #[test]
    fn packed_removal_and_rescoring_keep_the_buffer_exact() {
        let p = params(128);
        let mut z = ZSetValue::new_for(1, p);
        for (m, s) in [("a", 1.0), ("b", 2.0), ("c", 3.0), ("d", 4.0)] {
            z.insert_new(m.as_bytes(), s, p);
        }
        let size_of = |z: &ZSetValue| match &z.repr {
            Repr::Small(packed) => packed.buf.len(),
            Repr::Large(_) => unreachable!(),
        };
        assert_eq!(size_of(&z), 4 * 3);
        // Longer score encoding, then a move to the front, then a shorter one again.
        assert!(z.update_score(b"b", 2.5));
        assert_eq!(size_of(&z), 3 * 3 + 11);
        assert!(z.update_score(b"c", -7.0));
        assert!(z.iter().map(|(m, _)| m).eq([&b"c"[..], b"a", b"b", b"d"]));
        assert!(z.update_score(b"b", 2.0));
        assert_eq!(size_of(&z), 4 * 3);
        z.check_invariants();
        // Removal in the middle closes the gap and gives the capacity back.
        assert!(z.remove(b"a"));
        assert!(!z.remove(b"a"));
        assert!(z.iter().eq([(&b"c"[..], -7.0), (&b"b"[..], 2.0), (&b"d"[..], 4.0)]));
        assert_eq!(z.heap_size(), size_of(&z));
        assert_eq!(z.remove_ranks(1, 2), 1);
        assert!(z.iter().eq([(&b"c"[..], -7.0), (&b"d"[..], 4.0)]));
        assert_eq!(z.pop_max(), Some((b"d".to_vec(), 4.0)));
        assert_eq!(z.pop_min(), Some((b"c".to_vec(), -7.0)));
        assert!(z.is_empty());
        assert_eq!(z.heap_size(), 0);
    }

    #[test]
    fn small_zsets_cost_about_their_bytes() {
        let p = params(128);
        // The `versus` memory workload: members m0..m9 with scores 0..9, added one by one.
        let mut z = ZSetValue::new_for(2, p);
        for i in 0..10 {
            z.insert_new(format!("m{i}").as_bytes(), f64::from(i), p);
        }
        // Each element is a length byte, two member bytes and a one-byte score.
        assert_eq!(z.len(), 10);
        assert!(z.heap_size() <= 48, "heap_size {}", z.heap_size());
        let loaded = ZSetValue::from_sorted(
            (0..10).map(|i| (format!("m{i}").into_bytes(), f64::from(i))).collect(),
            p,
        );
        assert_eq!(loaded, z);
        assert!(loaded.heap_size() <= 48, "heap_size {}", loaded.heap_size());
        // The value itself (behind the `Value::ZSet` box) does not carry the large encoding inline.
        assert!(
            std::mem::size_of::<ZSetValue>() <= 32,
            "{}",
            std::mem::size_of::<ZSetValue>()
        );
    }

    #[test]
    fn scores_parse_like_strtod() {
        assert_eq!(parse_score(b"1.5"), Some(1.5));
        assert_eq!(parse_score(b"inf"), Some(f64::INFINITY));
        assert_eq!(parse_score(b"-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_score(b"0x10"), Some(16.0));
        assert_eq!(parse_score(b"1e400"), None);
        assert_eq!(parse_score(b"1e-400"), None);
        assert_eq!(parse_score(b"0e-400"), Some(0.0));
        assert_eq!(parse_score(b"nan"), None);
        assert_eq!(parse_score(b" 1"), None);
        assert_eq!(parse_score(b"1 "), None);
        assert_eq!(parse_score(b""), None);
        assert_eq!(parse_score(b"1\x002"), None);
        // The integer fast path agrees with strtod bit for bit.
        for t in [
            "0",
            "-0",
            "7",
            "-42",
            "000123",
            "999999999999999",
            "-999999999999999",
            "1234567890123456",
        ] {
            let (v, used) = c_strtod(t.as_bytes());
            assert_eq!(used, t.len());
            assert_eq!(parse_score(t.as_bytes()).map(f64::to_bits), Some(v.to_bits()), "{t}");
        }
        assert_eq!(parse_score(b"-"), None);
        assert_eq!(parse_score(b"+5"), Some(5.0));
        let b = parse_score_bound(b"(1e400").unwrap();
        assert!(b.exclusive && b.value.is_infinite());
        assert_eq!(parse_score_bound(b"").map(|b| b.value), Some(0.0));
        assert_eq!(parse_score_bound(b"1x"), None);
    }

    #[test]
    fn both_encodings_agree() {
        let mut small = ZSetValue::new_for(1, params(1000));
        let mut large = ZSetValue::new_for(1, params(0));
        assert_eq!(large.encoding_name(), "skiplist");
        for i in 0..300u32 {
            let m = format!("m{}", (i * 7919) % 300);
            let s = f64::from(i % 17);
            for z in [&mut small, &mut large] {
                if z.score(m.as_bytes()).is_some() {
                    z.update_score(m.as_bytes(), s);
                } else {
                    z.insert_new(
                        m.as_bytes(),
                        s,
                        if z.encoding_name() == "listpack" {
                            params(1000)
                        } else {
                            params(0)
                        },
                    );
                }
            }
        }
        for i in 0..100u32 {
            let m = format!("m{}", i * 3);
            assert_eq!(small.remove(m.as_bytes()), large.remove(m.as_bytes()));
        }
        small.check_invariants();
        large.check_invariants();
        assert!(small.iter().eq(large.iter()));
        for r in 0..small.len() {
            assert_eq!(small.get(r), large.get(r));
            let (m, _) = small.get(r).unwrap();
            assert_eq!(large.rank(m), Some(r));
            assert!(small.iter_from(r, true).eq(large.iter_from(r, true)));
        }
        assert_eq!(small.remove_ranks(10, 50), large.remove_ranks(10, 50));
        large.check_invariants();
        assert!(small.iter().eq(large.iter()));
        assert_eq!(small.pop_max(), large.pop_max());
        assert_eq!(small.pop_min(), large.pop_min());
        let mut seen = Vec::new();
        let mut cursor = 0;
        loop {
            cursor = large.scan(cursor, 7, |m, _| seen.push(m.to_vec()));
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), large.len());
    }

    #[test]
    fn scan_returns_members_present_throughout() {
        let p = params(0);
        let mut z = ZSetValue::new_for(1, p);
        for i in 0..1000 {
            z.insert_new(format!("k{i}").as_bytes(), f64::from(i % 13), p);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        let mut round = 0;
        loop {
            cursor = z.scan(cursor, 17, |m, _| {
                seen.insert(m.to_vec());
            });
            // Churn between calls: remove members >= 500, add new ones, re-score the stable ones.
            round += 1;
            z.remove(format!("k{}", 500 + round).as_bytes());
            z.insert_new(format!("new{round}").as_bytes(), 1.0, p);
            z.update_score(format!("k{}", round % 500).as_bytes(), -f64::from(round));
            if cursor == 0 {
                break;
            }
        }
        z.check_invariants();
        for i in 0..500 {
            assert!(
                seen.contains(format!("k{i}").as_bytes()),
                "k{i} present throughout was returned"
            );
        }
    }
}
