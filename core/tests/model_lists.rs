//! Model test of the list family: random sequences of list commands run through `Server::execute`, and
//! every reply is compared byte for byte with the reply a plain `VecDeque` reference model, written here
//! independently of the implementation, predicts. The server's invariants are checked after every step.
//!
//! The key pool includes a string key, so WRONGTYPE paths are exercised, and the protocol switches
//! between RESP2 and RESP3 at random, so the null shapes of both are compared.

use std::collections::{HashMap, VecDeque};

use bytes::Bytes;
use keel_core::{ClientHandle, Config, ConnInfo, ConnKind, ProcessInfo, Server};
use proptest::prelude::*;

/// The list keys; `s` (not in this pool) always holds a string.
const KEYS: &[&str] = &["k0", "k1", "k2"];
/// The key that holds a string throughout.
const STRING_KEY: &str = "s";
/// The element pool: small, so that LREM/LPOS/LINSERT find matches; one empty, one binary.
const ELEMS: &[&[u8]] = &[b"a", b"b", b"c", b"", b"\x00\xff\r\n"];
/// The reference server's wrong-type error.
const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

/// A list end, as LEFT/RIGHT arguments name it.
#[derive(Clone, Copy, Debug)]
enum Side {
    /// The head.
    Left,
    /// The tail.
    Right,
}

impl Side {
    /// The argument word.
    fn word(self) -> &'static str {
        match self {
            Side::Left => "LEFT",
            Side::Right => "RIGHT",
        }
    }
}

/// One generated command.
#[derive(Clone, Debug)]
enum Op {
    /// LPUSH/RPUSH, or with `only_existing` LPUSHX/RPUSHX.
    Push {
        side: Side,
        only_existing: bool,
        key: usize,
        elems: Vec<usize>,
    },
    /// LPOP/RPOP with an optional count.
    Pop { side: Side, key: usize, count: Option<i64> },
    /// LLEN.
    Llen { key: usize },
    /// LRANGE.
    Lrange { key: usize, start: i64, stop: i64 },
    /// LINDEX.
    Lindex { key: usize, index: i64 },
    /// LSET.
    Lset { key: usize, index: i64, elem: usize },
    /// LINSERT BEFORE/AFTER.
    Linsert {
        key: usize,
        after: bool,
        pivot: usize,
        elem: usize,
    },
    /// LREM.
    Lrem { key: usize, count: i64, elem: usize },
    /// LTRIM.
    Ltrim { key: usize, start: i64, stop: i64 },
    /// LPOS with optional RANK, COUNT, MAXLEN.
    Lpos {
        key: usize,
        elem: usize,
        rank: Option<i64>,
        count: Option<i64>,
        maxlen: Option<i64>,
    },
    /// LMOVE, or RPOPLPUSH (which ignores the sides).
    Lmove {
        src: usize,
        dst: usize,
        from: Side,
        to: Side,
        rpoplpush: bool,
    },
    /// LMPOP with an optional COUNT.
    Lmpop {
        keys: Vec<usize>,
        side: Side,
        count: Option<i64>,
    },
    /// EXISTS, to check emptied keys are gone.
    Exists { key: usize },
    /// HELLO 2/3, to compare both protocols' null shapes.
    Proto { resp3: bool },
}

/// Key index `KEYS.len()` stands for the string key.
fn key_strategy() -> impl Strategy<Value = usize> {
    prop_oneof![8 => 0..KEYS.len(), 1 => Just(KEYS.len())]
}

/// Either end.
fn side_strategy() -> impl Strategy<Value = Side> {
    prop_oneof![Just(Side::Left), Just(Side::Right)]
}

/// Indexes around a short list, and the extremes.
fn index_strategy() -> impl Strategy<Value = i64> {
    prop_oneof![8 => -7i64..7, 1 => Just(i64::MIN), 1 => Just(i64::MAX)]
}

/// An index into [`ELEMS`].
fn elem_strategy() -> impl Strategy<Value = usize> {
    0..ELEMS.len()
}

/// One command, weighted towards pushes so lists grow.
fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (
            side_strategy(),
            proptest::bool::weighted(0.2),
            key_strategy(),
            prop::collection::vec(elem_strategy(), 1..5)
        )
            .prop_map(|(side, only_existing, key, elems)| Op::Push { side, only_existing, key, elems }),
        3 => (side_strategy(), key_strategy(), proptest::option::of(0i64..5))
            .prop_map(|(side, key, count)| Op::Pop { side, key, count }),
        1 => key_strategy().prop_map(|key| Op::Llen { key }),
        2 => (key_strategy(), index_strategy(), index_strategy())
            .prop_map(|(key, start, stop)| Op::Lrange { key, start, stop }),
        1 => (key_strategy(), index_strategy()).prop_map(|(key, index)| Op::Lindex { key, index }),
        1 => (key_strategy(), index_strategy(), elem_strategy())
            .prop_map(|(key, index, elem)| Op::Lset { key, index, elem }),
        1 => (key_strategy(), any::<bool>(), elem_strategy(), elem_strategy())
            .prop_map(|(key, after, pivot, elem)| Op::Linsert { key, after, pivot, elem }),
        1 => (key_strategy(), -3i64..4, elem_strategy()).prop_map(|(key, count, elem)| Op::Lrem { key, count, elem }),
        1 => (key_strategy(), index_strategy(), index_strategy())
            .prop_map(|(key, start, stop)| Op::Ltrim { key, start, stop }),
        2 => (
            key_strategy(),
            elem_strategy(),
            proptest::option::of(prop_oneof![-4i64..0, 1i64..5]),
            proptest::option::of(0i64..4),
            proptest::option::of(0i64..6)
        )
            .prop_map(|(key, elem, rank, count, maxlen)| Op::Lpos { key, elem, rank, count, maxlen }),
        2 => (key_strategy(), key_strategy(), side_strategy(), side_strategy(), any::<bool>())
            .prop_map(|(src, dst, from, to, rpoplpush)| Op::Lmove { src, dst, from, to, rpoplpush }),
        2 => (prop::collection::vec(key_strategy(), 1..4), side_strategy(), proptest::option::of(1i64..4))
            .prop_map(|(keys, side, count)| Op::Lmpop { keys, side, count }),
        1 => key_strategy().prop_map(|key| Op::Exists { key }),
        1 => any::<bool>().prop_map(|resp3| Op::Proto { resp3 }),
    ]
}

/// An expected reply.
#[derive(Clone, Debug)]
enum R {
    /// `+OK`.
    Ok,
    /// An integer.
    Int(i64),
    /// A bulk string.
    Bulk(Vec<u8>),
    /// The null bulk string.
    Null,
    /// The null array.
    NullArray,
    /// An array.
    Array(Vec<R>),
    /// An error, its code word first.
    Err(String),
}

/// Encodes an expected reply as the server would for the protocol in use.
fn encode(r: &R, resp3: bool, out: &mut Vec<u8>) {
    match r {
        R::Ok => out.extend_from_slice(b"+OK\r\n"),
        R::Int(n) => out.extend_from_slice(format!(":{n}\r\n").as_bytes()),
        R::Bulk(b) => {
            out.extend_from_slice(format!("${}\r\n", b.len()).as_bytes());
            out.extend_from_slice(b);
            out.extend_from_slice(b"\r\n");
        }
        R::Null if resp3 => out.extend_from_slice(b"_\r\n"),
        R::Null => out.extend_from_slice(b"$-1\r\n"),
        R::NullArray if resp3 => out.extend_from_slice(b"_\r\n"),
        R::NullArray => out.extend_from_slice(b"*-1\r\n"),
        R::Array(items) => {
            out.extend_from_slice(format!("*{}\r\n", items.len()).as_bytes());
            items.iter().for_each(|i| encode(i, resp3, out));
        }
        R::Err(e) => out.extend_from_slice(format!("-{e}\r\n").as_bytes()),
    }
}

/// The reference model: list keys and their elements; the string key is implicit.
#[derive(Default)]
struct Model {
    lists: HashMap<usize, VecDeque<Vec<u8>>>,
}

/// Index from either end, or `None` outside the list.
fn model_index(index: i64, len: usize) -> Option<usize> {
    let len = len as i128;
    let i = index as i128;
    let i = if i < 0 { i + len } else { i };
    (0 <= i && i < len).then_some(i as usize)
}

/// The positions an inclusive range with negative indexes selects.
fn model_range(start: i64, stop: i64, len: usize) -> Vec<usize> {
    let len = len as i128;
    let mut s = start as i128;
    let mut e = stop as i128;
    if s < 0 {
        s += len;
    }
    if e < 0 {
        e += len;
    }
    let s = s.max(0);
    let e = e.min(len - 1);
    (s..=e).filter(|&i| i >= 0 && i < len).map(|i| i as usize).collect()
}

/// An array of bulk strings.
fn bulks(items: impl IntoIterator<Item = Vec<u8>>) -> R {
    R::Array(items.into_iter().map(R::Bulk).collect())
}

impl Model {
    /// True for the string key's index.
    fn is_string(key: usize) -> bool {
        key == KEYS.len()
    }

    /// Pops at `side`.
    fn pop(list: &mut VecDeque<Vec<u8>>, side: Side) -> Option<Vec<u8>> {
        match side {
            Side::Left => list.pop_front(),
            Side::Right => list.pop_back(),
        }
    }

    /// Pushes at `side`.
    fn push(list: &mut VecDeque<Vec<u8>>, side: Side, item: Vec<u8>) {
        match side {
            Side::Left => list.push_front(item),
            Side::Right => list.push_back(item),
        }
    }

    /// Removes an emptied list, as the server deletes its key.
    fn drop_if_empty(&mut self, key: usize) {
        if self.lists.get(&key).is_some_and(|l| l.is_empty()) {
            self.lists.remove(&key);
        }
    }

    /// Applies `op` and returns the reply the reference server gives.
    fn apply(&mut self, op: &Op) -> R {
        let wrongtype = R::Err(WRONGTYPE.into());
        match op {
            Op::Push {
                side,
                only_existing,
                key,
                elems,
            } => {
                if Self::is_string(*key) {
                    return wrongtype;
                }
                if *only_existing && !self.lists.contains_key(key) {
                    return R::Int(0);
                }
                let list = self.lists.entry(*key).or_default();
                for &e in elems {
                    Self::push(list, *side, ELEMS[e].to_vec());
                }
                R::Int(list.len() as i64)
            }
            Op::Pop { side, key, count } => {
                if Self::is_string(*key) {
                    return wrongtype;
                }
                let Some(list) = self.lists.get_mut(key) else {
                    return if count.is_some() { R::NullArray } else { R::Null };
                };
                let reply = match count {
                    None => R::Bulk(Self::pop(list, *side).unwrap_or_default()),
                    Some(n) => {
                        let mut out = Vec::new();
                        for _ in 0..*n {
                            match Self::pop(list, *side) {
                                Some(i) => out.push(i),
                                None => break,
                            }
                        }
                        bulks(out)
                    }
                };
                self.drop_if_empty(*key);
                reply
            }
            Op::Llen { key } => {
                if Self::is_string(*key) {
                    return wrongtype;
                }
                R::Int(self.lists.get(key).map_or(0, |l| l.len()) as i64)
            }
            Op::Lrange { key, start, stop } => {
                if Self::is_string(*key) {
                    return wrongtype;
                }
                let Some(list) = self.lists.get(key) else {
                    return R::Array(Vec::new());
                };
                bulks(
                    model_range(*start, *stop, list.len())
                        .into_iter()
                        .map(|i| list[i].clone()),
                )
            }
            Op::Lindex { key, index } => {
                if Self::is_string(*key) {
                    return wrongtype;
                }
                match self
                    .lists
                    .get(key)
                    .and_then(|l| model_index(*index, l.len()).map(|i| l[i].clone()))
                {
                    Some(v) => R::Bulk(v),
                    None => R::Null,
                }
            }
            Op::Lset { key, index, elem } => {
                if Self::is_string(*key) {
                    return wrongtype;
                }
                let Some(list) = self.lists.get_mut(key) else {
                    return R::Err("ERR no such key".into());
                };
                match model_index(*index, list.len()) {
                    Some(i) => {
                        list[i] = ELEMS[*elem].to_vec();
                        R::Ok
                    }
                    None => R::Err("ERR index out of range".into()),
                }
            }
            Op::Linsert {
                key,
                after,
                pivot,
                elem,
            } => {
                if Self::is_string(*key) {
                    return wrongtype;
                }
                let Some(list) = self.lists.get_mut(key) else {
                    return R::Int(0);
                };
                match list.iter().position(|i| i.as_slice() == ELEMS[*pivot]) {
                    None => R::Int(-1),
                    Some(p) => {
                        list.insert(if *after { p + 1 } else { p }, ELEMS[*elem].to_vec());
                        R::Int(list.len() as i64)
                    }
                }
            }
            Op::Lrem { key, count, elem } => {
                if Self::is_string(*key) {
                    return wrongtype;
                }
                let Some(list) = self.lists.get_mut(key) else {
                    return R::Int(0);
                };
                let target = ELEMS[*elem];
                let mut removed = 0i64;
                let limit = if *count == 0 { i64::MAX } else { count.abs() };
                if *count >= 0 {
                    let mut i = 0;
                    while i < list.len() {
                        if removed < limit && list[i] == target {
                            list.remove(i);
                            removed += 1;
                        } else {
                            i += 1;
                        }
                    }
                } else {
                    let mut i = list.len();
                    while i > 0 {
                        i -= 1;
                        if removed < limit && list[i] == target {
                            list.remove(i);
                            removed += 1;
                        }
                    }
                }
                self.drop_if_empty(*key);
                R::Int(removed)
            }
            Op::Ltrim { key, start, stop } => {
                if Self::is_string(*key) {
                    return wrongtype;
                }
                if let Some(list) = self.lists.get_mut(key) {
                    let keep = model_range(*start, *stop, list.len());
                    *list = keep.into_iter().map(|i| list[i].clone()).collect();
                }
                self.drop_if_empty(*key);
                R::Ok
            }
            Op::Lpos {
                key,
                elem,
                rank,
                count,
                maxlen,
            } => {
                if Self::is_string(*key) {
                    return wrongtype;
                }
                let Some(list) = self.lists.get(key) else {
                    return if count.is_some() { R::Array(Vec::new()) } else { R::Null };
                };
                let rank = rank.unwrap_or(1);
                let scan: Vec<usize> = if rank > 0 {
                    (0..list.len()).collect()
                } else {
                    (0..list.len()).rev().collect()
                };
                let limit = match maxlen {
                    Some(m) if *m > 0 => *m as usize,
                    _ => usize::MAX,
                };
                let hits: Vec<i64> = scan
                    .into_iter()
                    .take(limit)
                    .filter(|&i| list[i] == ELEMS[*elem])
                    .skip(rank.unsigned_abs() as usize - 1)
                    .map(|i| i as i64)
                    .collect();
                match count {
                    None => hits.first().map_or(R::Null, |&i| R::Int(i)),
                    Some(0) => R::Array(hits.into_iter().map(R::Int).collect()),
                    Some(n) => R::Array(hits.into_iter().take(*n as usize).map(R::Int).collect()),
                }
            }
            Op::Lmove {
                src,
                dst,
                from,
                to,
                rpoplpush,
            } => {
                let (from, to) = if *rpoplpush {
                    (&Side::Right, &Side::Left)
                } else {
                    (from, to)
                };
                if Self::is_string(*src) {
                    return wrongtype;
                }
                if !self.lists.contains_key(src) {
                    return R::Null;
                }
                if Self::is_string(*dst) {
                    return wrongtype;
                }
                let item = self
                    .lists
                    .get_mut(src)
                    .and_then(|l| Self::pop(l, *from))
                    .unwrap_or_default();
                Self::push(self.lists.entry(*dst).or_default(), *to, item.clone());
                self.drop_if_empty(*src);
                R::Bulk(item)
            }
            Op::Lmpop { keys, side, count } => {
                for &key in keys {
                    if Self::is_string(key) {
                        return wrongtype;
                    }
                    let Some(list) = self.lists.get_mut(&key) else {
                        continue;
                    };
                    let mut out = Vec::new();
                    for _ in 0..count.unwrap_or(1) {
                        match Self::pop(list, *side) {
                            Some(i) => out.push(i),
                            None => break,
                        }
                    }
                    self.drop_if_empty(key);
                    return R::Array(vec![R::Bulk(key_name(key).into()), bulks(out)]);
                }
                R::NullArray
            }
            Op::Exists { key } => R::Int((Self::is_string(*key) || self.lists.contains_key(key)) as i64),
            Op::Proto { .. } => R::Ok,
        }
    }
}

/// The key name of a key index.
fn key_name(key: usize) -> &'static str {
    KEYS.get(key).copied().unwrap_or(STRING_KEY)
}

/// The argument vector `op` sends.
fn argv(op: &Op) -> Vec<Vec<u8>> {
    let mut a: Vec<Vec<u8>> = Vec::new();
    let mut word = |s: &str| a.push(s.as_bytes().to_vec());
    match op {
        Op::Push {
            side,
            only_existing,
            key,
            ..
        } => {
            let name = match (side, only_existing) {
                (Side::Left, false) => "LPUSH",
                (Side::Right, false) => "RPUSH",
                (Side::Left, true) => "LPUSHX",
                (Side::Right, true) => "RPUSHX",
            };
            word(name);
            word(key_name(*key));
        }
        Op::Pop { side, key, count } => {
            word(if matches!(side, Side::Left) { "LPOP" } else { "RPOP" });
            word(key_name(*key));
            if let Some(c) = count {
                word(&c.to_string());
            }
        }
        Op::Llen { key } => {
            word("LLEN");
            word(key_name(*key));
        }
        Op::Lrange { key, start, stop } | Op::Ltrim { key, start, stop } => {
            word(if matches!(op, Op::Lrange { .. }) {
                "LRANGE"
            } else {
                "LTRIM"
            });
            word(key_name(*key));
            word(&start.to_string());
            word(&stop.to_string());
        }
        Op::Lindex { key, index } => {
            word("LINDEX");
            word(key_name(*key));
            word(&index.to_string());
        }
        Op::Lset { key, index, .. } => {
            word("LSET");
            word(key_name(*key));
            word(&index.to_string());
        }
        Op::Linsert { key, after, .. } => {
            word("LINSERT");
            word(key_name(*key));
            word(if *after { "AFTER" } else { "BEFORE" });
        }
        Op::Lrem { key, count, .. } => {
            word("LREM");
            word(key_name(*key));
            word(&count.to_string());
        }
        Op::Lpos { key, .. } => {
            word("LPOS");
            word(key_name(*key));
        }
        Op::Lmove {
            src,
            dst,
            from,
            to,
            rpoplpush,
        } => {
            word(if *rpoplpush { "RPOPLPUSH" } else { "LMOVE" });
            word(key_name(*src));
            word(key_name(*dst));
            if !*rpoplpush {
                word(from.word());
                word(to.word());
            }
        }
        Op::Lmpop { keys, side, count } => {
            word("LMPOP");
            word(&keys.len().to_string());
            for &k in keys {
                word(key_name(k));
            }
            word(side.word());
            if let Some(c) = count {
                word("COUNT");
                word(&c.to_string());
            }
        }
        Op::Exists { key } => {
            word("EXISTS");
            word(key_name(*key));
        }
        Op::Proto { resp3 } => {
            word("HELLO");
            word(if *resp3 { "3" } else { "2" });
        }
    }
    // Element arguments follow the words above.
    match op {
        Op::Push { elems, .. } => a.extend(elems.iter().map(|&e| ELEMS[e].to_vec())),
        Op::Lset { elem, .. } | Op::Lrem { elem, .. } => a.push(ELEMS[*elem].to_vec()),
        Op::Linsert { pivot, elem, .. } => {
            a.push(ELEMS[*pivot].to_vec());
            a.push(ELEMS[*elem].to_vec());
        }
        Op::Lpos {
            elem,
            rank,
            count,
            maxlen,
            ..
        } => {
            a.push(ELEMS[*elem].to_vec());
            for (name, v) in [("RANK", rank), ("COUNT", count), ("MAXLEN", maxlen)] {
                if let Some(v) = v {
                    a.push(name.as_bytes().to_vec());
                    a.push(v.to_string().into_bytes());
                }
            }
        }
        _ => {}
    }
    a
}

/// A server with one connected client and the string key in place; its
/// `list-max-listpack-size` is `fill`, so that small fills spread short lists over many nodes.
fn setup(fill: i64) -> (Server, ClientHandle) {
    let mut server = Server::new(Config::default(), 11, 0, ProcessInfo::default());
    let info = ConnInfo {
        addr: "127.0.0.1:5000".into(),
        laddr: "127.0.0.1:6379".into(),
        fd: 8,
        kind: ConnKind::Tcp,
    };
    let handle = server.connect(info, 0);
    run(
        &mut server,
        handle,
        &[b"SET".to_vec(), STRING_KEY.as_bytes().to_vec(), b"v".to_vec()],
    );
    let fill = fill.to_string().into_bytes();
    let reply = run(
        &mut server,
        handle,
        &[
            b"CONFIG".to_vec(),
            b"SET".to_vec(),
            b"list-max-listpack-size".to_vec(),
            fill,
        ],
    );
    assert_eq!(reply, b"+OK\r\n");
    (server, handle)
}

/// Runs one command, returning its reply bytes.
fn run(server: &mut Server, handle: ClientHandle, argv: &[Vec<u8>]) -> Vec<u8> {
    let argv: Vec<Bytes> = argv.iter().map(|a| Bytes::copy_from_slice(a)).collect();
    let mut out = Vec::new();
    server.execute(handle, &argv, 1_000_000, &mut out);
    out
}

/// Reply bytes made readable in assertion messages.
fn show(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).replace('\r', "\\r").replace('\n', "\\n")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Every reply matches the model's, the keyspace stays consistent, and the final contents agree.
    #[test]
    fn list_commands_match_the_model(
        ops in prop::collection::vec(op_strategy(), 1..80),
        fill in prop::sample::select(vec![-2i64, -1, 0, 1, 2, 3, 5]),
    ) {
        let (mut server, handle) = setup(fill);
        let mut model = Model::default();
        let mut resp3 = false;
        for op in &ops {
            let args = argv(op);
            let got = run(&mut server, handle, &args);
            server.check_invariants();
            if let Op::Proto { resp3: r } = op {
                // HELLO's reply is the connection family's business; only the protocol matters here.
                resp3 = *r;
                continue;
            }
            let mut want = Vec::new();
            encode(&model.apply(op), resp3, &mut want);
            let shown: Vec<String> = args.iter().map(|a| show(a)).collect();
            prop_assert_eq!(show(&got), show(&want), "command {:?}", shown);
        }
        // Final state: every key holds exactly the model's list, and nothing else exists.
        for (i, name) in KEYS.iter().enumerate() {
            let lrange = [b"LRANGE".to_vec(), name.as_bytes().to_vec(), b"0".to_vec(), b"-1".to_vec()];
            let got = run(&mut server, handle, &lrange);
            let want_items = model.lists.get(&i).cloned().unwrap_or_default();
            let mut want = Vec::new();
            encode(&bulks(want_items), resp3, &mut want);
            prop_assert_eq!(show(&got), show(&want));
        }
        let dbsize = run(&mut server, handle, &[b"DBSIZE".to_vec()]);
        prop_assert_eq!(show(&dbsize), format!(":{}\\r\\n", model.lists.len() + 1));
    }
}
