//! Model test of the set family: random sequences of set commands run through `Server::execute`, each
//! reply compared with what a `BTreeSet` reference model, written here independently of the
//! implementation, predicts. Unordered replies are compared sorted; random picks and pops (SRANDMEMBER,
//! SPOP) are checked for their properties and the model follows what was popped. After every step the
//! server's invariants and every set's encoding invariants are checked, and `OBJECT ENCODING` is compared
//! with the model's account of the intset/hashtable rules.
//!
//! A small intset limit makes conversions frequent; the member pool mixes canonical integers,
//! non-canonical ones and text; a string key exercises the WRONGTYPE paths; the protocol switches
//! between RESP2 and RESP3 at random.

mod support;

use std::collections::BTreeSet;
use support::{parse, R};

use bytes::Bytes;
use keel_core::types::Value;
use keel_core::{ClientHandle, Config, ConnInfo, ConnKind, ProcessInfo, Server};
use proptest::prelude::*;

/// Set keys; index `KEYS.len()` is the string key.
const KEYS: &[&str] = &["s0", "s1", "s2", "s3"];
/// The key holding a string throughout.
const STRING_KEY: &str = "str";
/// Members: canonical integers, non-canonical integer-like text, and plain text.
const WORDS: &[&[u8]] = &[b"1", b"2", b"3", b"-5", b"10", b"01", b"a", b"b", b"", b"\x00\xff"];
/// The configured `set-max-intset-entries`.
const MAX_INTSET: usize = 4;
/// The reference server's wrong-type error.
const WRONGTYPE: &[u8] = b"WRONGTYPE Operation against a key holding the wrong kind of value";

/// One generated command.
#[derive(Clone, Debug)]
enum Op {
    /// SADD.
    Sadd { key: usize, members: Vec<usize> },
    /// SREM.
    Srem { key: usize, members: Vec<usize> },
    /// SCARD.
    Scard { key: usize },
    /// SISMEMBER.
    Sismember { key: usize, member: usize },
    /// SMISMEMBER.
    Smismember { key: usize, members: Vec<usize> },
    /// SMEMBERS.
    Smembers { key: usize },
    /// SRANDMEMBER with an optional count.
    Srandmember { key: usize, count: Option<i64> },
    /// SPOP with an optional count.
    Spop { key: usize, count: Option<i64> },
    /// SMOVE.
    Smove { src: usize, dst: usize, member: usize },
    /// SINTER (0), SUNION (1) or SDIFF (2).
    Algebra { which: u8, keys: Vec<usize> },
    /// SINTERSTORE (0), SUNIONSTORE (1) or SDIFFSTORE (2).
    Store { which: u8, dst: usize, keys: Vec<usize> },
    /// SINTERCARD with an optional LIMIT.
    Sintercard { keys: Vec<usize>, limit: Option<i64> },
    /// A whole SSCAN iteration with COUNT.
    Sscan { key: usize, count: usize },
    /// DEL.
    Del { key: usize },
    /// OBJECT ENCODING.
    Encoding { key: usize },
    /// HELLO 2 or 3.
    Proto { resp3: bool },
}

/// A key index, sometimes the string key.
fn key_strategy() -> impl Strategy<Value = usize> {
    prop_oneof![10 => 0..KEYS.len(), 1 => Just(KEYS.len())]
}

/// An index into [`WORDS`].
fn word() -> impl Strategy<Value = usize> {
    0..WORDS.len()
}

/// One to three key indexes, repeats allowed.
fn keys_strategy() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(key_strategy(), 1..4)
}

/// One random command, weighted towards writes.
fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (key_strategy(), prop::collection::vec(word(), 1..5)).prop_map(|(key, members)| Op::Sadd { key, members }),
        3 => (key_strategy(), prop::collection::vec(word(), 1..4)).prop_map(|(key, members)| Op::Srem { key, members }),
        1 => key_strategy().prop_map(|key| Op::Scard { key }),
        2 => (key_strategy(), word()).prop_map(|(key, member)| Op::Sismember { key, member }),
        1 => (key_strategy(), prop::collection::vec(word(), 1..4))
            .prop_map(|(key, members)| Op::Smismember { key, members }),
        2 => key_strategy().prop_map(|key| Op::Smembers { key }),
        2 => (key_strategy(), prop::option::of(-6i64..7)).prop_map(|(key, count)| Op::Srandmember { key, count }),
        2 => (key_strategy(), prop::option::of(0i64..7)).prop_map(|(key, count)| Op::Spop { key, count }),
        2 => (key_strategy(), key_strategy(), word()).prop_map(|(src, dst, member)| Op::Smove { src, dst, member }),
        3 => (0u8..3, keys_strategy()).prop_map(|(which, keys)| Op::Algebra { which, keys }),
        3 => (0u8..3, key_strategy(), keys_strategy()).prop_map(|(which, dst, keys)| Op::Store { which, dst, keys }),
        1 => (keys_strategy(), prop::option::of(0i64..4)).prop_map(|(keys, limit)| Op::Sintercard { keys, limit }),
        1 => (key_strategy(), 1usize..4).prop_map(|(key, count)| Op::Sscan { key, count }),
        1 => key_strategy().prop_map(|key| Op::Del { key }),
        2 => key_strategy().prop_map(|key| Op::Encoding { key }),
        1 => any::<bool>().prop_map(|resp3| Op::Proto { resp3 }),
    ]
}

/// The server under test and its client.
struct Harness {
    /// The server.
    server: Server,
    /// The one client.
    client: ClientHandle,
}

impl Harness {
    /// A fresh server with the small intset limit configured and the string key set.
    fn new() -> Harness {
        let mut server = Server::new(Config::default(), 13, 0, ProcessInfo::default());
        let info = ConnInfo {
            addr: "127.0.0.1:5000".into(),
            laddr: "127.0.0.1:6379".into(),
            fd: 8,
            kind: ConnKind::Tcp,
        };
        let client = server.connect(info, 0);
        let mut h = Harness { server, client };
        let max = MAX_INTSET.to_string();
        assert_eq!(
            h.run(&[b"CONFIG", b"SET", b"set-max-intset-entries", max.as_bytes()]),
            R::Simple(b"OK".to_vec())
        );
        assert_eq!(h.run(&[b"SET", STRING_KEY.as_bytes(), b"x"]), R::Simple(b"OK".to_vec()));
        h
    }

    /// Runs one command and parses its single reply.
    fn run(&mut self, argv: &[&[u8]]) -> R {
        let argv: Vec<Bytes> = argv.iter().map(|a| Bytes::copy_from_slice(a)).collect();
        let mut out = Vec::new();
        self.server.execute(self.client, &argv, 1_000_000, &mut out);
        let mut pos = 0;
        let r = parse(&out, &mut pos);
        assert_eq!(pos, out.len(), "exactly one reply");
        r
    }

    /// Checks the server's invariants and every set's encoding invariants.
    fn check(&self) {
        self.server.check_invariants();
        for e in self.server.dbs[0].iter(1_000) {
            if let Value::Set(s) = &e.value {
                s.check_invariants(MAX_INTSET);
                assert!(!s.is_empty(), "no empty set is stored");
            }
        }
    }
}

/// The encoding the model expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Enc {
    /// The compact encoding.
    Intset,
    /// The table encoding.
    Hashtable,
    /// After SDIFFSTORE, whose encoding depends on the algorithm the server picked.
    Unknown,
}

/// One key of the model.
#[derive(Clone, Debug)]
struct ModelSet {
    /// The members.
    members: BTreeSet<Vec<u8>>,
    /// The encoding the server must report.
    enc: Enc,
}

/// True for members in the strict 64-bit integer grammar.
fn is_int(m: &[u8]) -> bool {
    std::str::from_utf8(m)
        .ok()
        .and_then(|s| s.parse::<i64>().ok().map(|n| n.to_string() == s))
        .unwrap_or(false)
}

impl ModelSet {
    /// A new set whose first member is `first`, as the server creates it.
    fn new_for(first: &[u8]) -> ModelSet {
        ModelSet {
            members: BTreeSet::new(),
            enc: if is_int(first) { Enc::Intset } else { Enc::Hashtable },
        }
    }

    /// A set built from scratch by inserts (the algebra results).
    fn built(members: BTreeSet<Vec<u8>>) -> ModelSet {
        let mut s = ModelSet {
            members: BTreeSet::new(),
            enc: Enc::Intset,
        };
        for m in members {
            s.add(&m);
        }
        s
    }

    /// Adds a member as SADD does, tracking the conversion; true when new.
    fn add(&mut self, m: &[u8]) -> bool {
        let new = self.members.insert(m.to_vec());
        if !is_int(m) || self.members.len() > MAX_INTSET {
            self.enc = Enc::Hashtable;
        }
        new
    }
}

/// The reference model.
struct Model {
    /// Per key index, the set it holds.
    keys: Vec<Option<ModelSet>>,
    /// The protocol in use.
    resp3: bool,
}

/// The name of key index `key`.
fn key_name(key: usize) -> &'static [u8] {
    if key == KEYS.len() {
        STRING_KEY.as_bytes()
    } else {
        KEYS[key].as_bytes()
    }
}

/// A bulk reply.
fn bulk(b: &[u8]) -> R {
    R::Bulk(b.to_vec())
}

/// The bytes of a bulk reply.
fn unbulk(r: R) -> Vec<u8> {
    match r {
        R::Bulk(b) => b,
        other => panic!("bulk expected, got {other:?}"),
    }
}

/// The elements of an array or set reply.
fn elements(r: R) -> Vec<Vec<u8>> {
    match r {
        R::Arr(items) | R::Set(items) => items.into_iter().map(unbulk).collect(),
        other => panic!("array expected, got {other:?}"),
    }
}

/// `v` sorted.
fn sorted(mut v: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    v.sort();
    v
}

impl Model {
    /// The model of an empty database.
    fn new() -> Model {
        Model {
            keys: vec![None; KEYS.len()],
            resp3: false,
        }
    }

    /// True for the string key.
    fn wrong(key: usize) -> bool {
        key == KEYS.len()
    }

    /// The members of a key (empty when absent).
    fn members(&self, key: usize) -> BTreeSet<Vec<u8>> {
        self.keys[key].as_ref().map(|s| s.members.clone()).unwrap_or_default()
    }

    /// Forgets a key whose set became empty, as the server deletes it.
    fn drop_if_empty(&mut self, key: usize) {
        if self.keys[key].as_ref().is_some_and(|s| s.members.is_empty()) {
            self.keys[key] = None;
        }
    }

    /// Checks the shape of an unordered collection reply: a set on RESP3 (`set` true), else an array.
    fn check_kind(&self, r: &R, set: bool) {
        match r {
            R::Set(_) => assert!(set && self.resp3, "set reply only for set-typed replies on RESP3"),
            R::Arr(_) => assert!(!(set && self.resp3), "array reply"),
            other => panic!("collection expected, got {other:?}"),
        }
    }

    /// The result of an algebra operation (0 inter, 1 union, 2 diff) over present keys.
    fn algebra(&self, which: u8, keys: &[usize]) -> BTreeSet<Vec<u8>> {
        let sets: Vec<Option<BTreeSet<Vec<u8>>>> = keys
            .iter()
            .map(|&k| self.keys[k].as_ref().map(|s| s.members.clone()))
            .collect();
        match which {
            0 => {
                if sets.iter().any(|s| s.is_none()) {
                    return BTreeSet::new();
                }
                let mut it = sets.into_iter().flatten();
                let first = it.next().unwrap_or_default();
                it.fold(first, |acc, s| acc.intersection(&s).cloned().collect())
            }
            1 => sets.into_iter().flatten().flatten().collect(),
            _ => {
                let mut it = sets.into_iter();
                let first = it.next().flatten().unwrap_or_default();
                it.flatten().fold(first, |acc, s| acc.difference(&s).cloned().collect())
            }
        }
    }

    /// Runs `op` on the harness and checks the reply against the model, updating the model.
    fn step(&mut self, h: &mut Harness, op: &Op) {
        let wrongtype = R::Err(WRONGTYPE.to_vec());
        match op {
            Op::Proto { resp3 } => {
                let r = h.run(&[b"HELLO", if *resp3 { b"3" } else { b"2" }]);
                assert!(matches!(r, R::Map(_) | R::Arr(_)));
                self.resp3 = *resp3;
            }
            Op::Sadd { key, members } => {
                let mut argv: Vec<&[u8]> = vec![b"SADD", key_name(*key)];
                argv.extend(members.iter().map(|&m| WORDS[m]));
                let got = h.run(&argv);
                if Model::wrong(*key) {
                    assert_eq!(got, wrongtype);
                    return;
                }
                let s = self.keys[*key].get_or_insert_with(|| ModelSet::new_for(WORDS[members[0]]));
                let added = members.iter().filter(|&&m| s.add(WORDS[m])).count();
                assert_eq!(got, R::Int(added as i64));
            }
            Op::Srem { key, members } => {
                let mut argv: Vec<&[u8]> = vec![b"SREM", key_name(*key)];
                argv.extend(members.iter().map(|&m| WORDS[m]));
                let got = h.run(&argv);
                if Model::wrong(*key) {
                    assert_eq!(got, wrongtype);
                    return;
                }
                let removed = match self.keys[*key].as_mut() {
                    Some(s) => members.iter().filter(|&&m| s.members.remove(WORDS[m])).count(),
                    None => 0,
                };
                self.drop_if_empty(*key);
                assert_eq!(got, R::Int(removed as i64));
            }
            Op::Scard { key } => {
                let got = h.run(&[b"SCARD", key_name(*key)]);
                let want = if Model::wrong(*key) {
                    wrongtype
                } else {
                    R::Int(self.members(*key).len() as i64)
                };
                assert_eq!(got, want);
            }
            Op::Sismember { key, member } => {
                let got = h.run(&[b"SISMEMBER", key_name(*key), WORDS[*member]]);
                let want = if Model::wrong(*key) {
                    wrongtype
                } else {
                    R::Int(self.members(*key).contains(WORDS[*member]) as i64)
                };
                assert_eq!(got, want);
            }
            Op::Smismember { key, members } => {
                let mut argv: Vec<&[u8]> = vec![b"SMISMEMBER", key_name(*key)];
                argv.extend(members.iter().map(|&m| WORDS[m]));
                let got = h.run(&argv);
                let want = if Model::wrong(*key) {
                    wrongtype
                } else {
                    let set = self.members(*key);
                    R::Arr(members.iter().map(|&m| R::Int(set.contains(WORDS[m]) as i64)).collect())
                };
                assert_eq!(got, want);
            }
            Op::Smembers { key } => {
                let got = h.run(&[b"SMEMBERS", key_name(*key)]);
                if Model::wrong(*key) {
                    assert_eq!(got, wrongtype);
                    return;
                }
                self.check_kind(&got, true);
                let set = self.members(*key);
                let got = elements(got);
                assert_eq!(sorted(got.clone()), set.iter().cloned().collect::<Vec<_>>());
                if self.keys[*key].as_ref().is_some_and(|s| s.enc == Enc::Intset) {
                    // The intset replies in ascending numeric order.
                    let nums: Vec<i64> = got
                        .iter()
                        .map(|m| std::str::from_utf8(m).unwrap().parse().unwrap())
                        .collect();
                    assert!(nums.windows(2).all(|w| w[0] < w[1]));
                }
            }
            Op::Srandmember { key, count } => {
                let count_text = count.map(|c| c.to_string());
                let mut argv: Vec<&[u8]> = vec![b"SRANDMEMBER", key_name(*key)];
                if let Some(c) = &count_text {
                    argv.push(c.as_bytes());
                }
                let got = h.run(&argv);
                if Model::wrong(*key) {
                    assert_eq!(got, wrongtype);
                    return;
                }
                let set = self.members(*key);
                let Some(count) = count else {
                    match got {
                        R::Null => assert!(set.is_empty()),
                        R::Bulk(m) => assert!(set.contains(&m)),
                        other => panic!("unexpected {other:?}"),
                    }
                    return;
                };
                self.check_kind(&got, false);
                let picks = elements(got);
                let want_len = if set.is_empty() {
                    0
                } else if *count < 0 {
                    count.unsigned_abs() as usize
                } else {
                    (*count as usize).min(set.len())
                };
                assert_eq!(picks.len(), want_len);
                assert!(picks.iter().all(|m| set.contains(m)));
                if *count > 0 {
                    assert_eq!(
                        picks.iter().collect::<BTreeSet<_>>().len(),
                        picks.len(),
                        "distinct picks"
                    );
                }
            }
            Op::Spop { key, count } => {
                let count_text = count.map(|c| c.to_string());
                let mut argv: Vec<&[u8]> = vec![b"SPOP", key_name(*key)];
                if let Some(c) = &count_text {
                    argv.push(c.as_bytes());
                }
                let got = h.run(&argv);
                if Model::wrong(*key) {
                    assert_eq!(got, wrongtype);
                    return;
                }
                let before = self.members(*key);
                let popped: Vec<Vec<u8>> = match count {
                    None => match got {
                        R::Null => {
                            assert!(before.is_empty());
                            Vec::new()
                        }
                        R::Bulk(m) => vec![m],
                        other => panic!("unexpected {other:?}"),
                    },
                    Some(c) => {
                        self.check_kind(&got, true);
                        let popped = elements(got);
                        assert_eq!(popped.len(), (*c as usize).min(before.len()));
                        popped
                    }
                };
                assert_eq!(
                    popped.iter().collect::<BTreeSet<_>>().len(),
                    popped.len(),
                    "distinct pops"
                );
                if let Some(s) = self.keys[*key].as_mut() {
                    for m in &popped {
                        assert!(s.members.remove(m), "popped a member");
                    }
                    // Popping most of a set rebuilds it from the survivors.
                    let remaining = s.members.len();
                    if let Some(c) = count {
                        if remaining > 0 && remaining * 5 <= *c as usize {
                            *s = ModelSet::built(s.members.clone());
                            s.enc = if s.members.iter().all(|m| is_int(m)) && remaining <= MAX_INTSET {
                                Enc::Intset
                            } else {
                                Enc::Hashtable
                            };
                        }
                    }
                }
                self.drop_if_empty(*key);
            }
            Op::Smove { src, dst, member } => {
                let got = h.run(&[b"SMOVE", key_name(*src), key_name(*dst), WORDS[*member]]);
                let m = WORDS[*member];
                if self.keys.get(*src).is_some_and(|s| s.is_none()) && !Model::wrong(*src) {
                    assert_eq!(got, R::Int(0));
                    return;
                }
                if Model::wrong(*src) || Model::wrong(*dst) {
                    assert_eq!(got, wrongtype);
                    return;
                }
                let in_src = self.members(*src).contains(m);
                if src == dst || !in_src {
                    assert_eq!(got, R::Int(in_src as i64));
                    return;
                }
                if let Some(s) = self.keys[*src].as_mut() {
                    s.members.remove(m);
                }
                self.drop_if_empty(*src);
                self.keys[*dst].get_or_insert_with(|| ModelSet::new_for(m)).add(m);
                assert_eq!(got, R::Int(1));
            }
            Op::Algebra { which, keys } => {
                let name: &[u8] = match which {
                    0 => b"SINTER",
                    1 => b"SUNION",
                    _ => b"SDIFF",
                };
                let mut argv: Vec<&[u8]> = vec![name];
                argv.extend(keys.iter().map(|&k| key_name(k)));
                let got = h.run(&argv);
                if keys.iter().any(|&k| Model::wrong(k)) {
                    assert_eq!(got, wrongtype);
                    return;
                }
                self.check_kind(&got, true);
                let want: Vec<Vec<u8>> = self.algebra(*which, keys).into_iter().collect();
                assert_eq!(sorted(elements(got)), want);
            }
            Op::Store { which, dst, keys } => {
                let name: &[u8] = match which {
                    0 => b"SINTERSTORE",
                    1 => b"SUNIONSTORE",
                    _ => b"SDIFFSTORE",
                };
                let mut argv: Vec<&[u8]> = vec![name, key_name(*dst)];
                argv.extend(keys.iter().map(|&k| key_name(k)));
                let got = h.run(&argv);
                if keys.iter().any(|&k| Model::wrong(k)) {
                    assert_eq!(got, wrongtype);
                    return;
                }
                let result = self.algebra(*which, keys);
                assert_eq!(got, R::Int(result.len() as i64));
                if Model::wrong(*dst) {
                    // The string key was overwritten (or deleted): put it back as it was.
                    h.run(&[b"SET", STRING_KEY.as_bytes(), b"x"]);
                    return;
                }
                self.keys[*dst] = if result.is_empty() {
                    None
                } else {
                    let mut s = ModelSet::built(result);
                    if *which == 2 && s.enc == Enc::Intset {
                        s.enc = Enc::Unknown;
                    }
                    Some(s)
                };
            }
            Op::Sintercard { keys, limit } => {
                let n = keys.len().to_string();
                let limit_text = limit.map(|l| l.to_string());
                let mut argv: Vec<&[u8]> = vec![b"SINTERCARD", n.as_bytes()];
                argv.extend(keys.iter().map(|&k| key_name(k)));
                if let Some(l) = &limit_text {
                    argv.push(b"LIMIT");
                    argv.push(l.as_bytes());
                }
                let got = h.run(&argv);
                if keys.iter().any(|&k| Model::wrong(k)) {
                    assert_eq!(got, wrongtype);
                    return;
                }
                let card = self.algebra(0, keys).len();
                let want = match limit {
                    Some(l) if *l > 0 => card.min(*l as usize),
                    _ => card,
                };
                assert_eq!(got, R::Int(want as i64));
            }
            Op::Sscan { key, count } => {
                let count_text = count.to_string();
                let mut cursor = b"0".to_vec();
                let mut seen = BTreeSet::new();
                for _ in 0..100 {
                    let got = h.run(&[b"SSCAN", key_name(*key), &cursor, b"COUNT", count_text.as_bytes()]);
                    if Model::wrong(*key) {
                        assert_eq!(got, wrongtype);
                        return;
                    }
                    let R::Arr(mut parts) = got else {
                        panic!("array expected")
                    };
                    let items = elements(parts.pop().unwrap());
                    cursor = unbulk(parts.pop().unwrap());
                    seen.extend(items);
                    if cursor == b"0" {
                        break;
                    }
                }
                assert_eq!(cursor, b"0", "scan ends");
                assert_eq!(seen, self.members(*key));
            }
            Op::Del { key } => {
                let got = h.run(&[b"DEL", key_name(*key)]);
                if Model::wrong(*key) {
                    assert_eq!(got, R::Int(1));
                    h.run(&[b"SET", STRING_KEY.as_bytes(), b"x"]);
                    return;
                }
                let existed = self.keys[*key].take().is_some();
                assert_eq!(got, R::Int(existed as i64));
            }
            Op::Encoding { key } => {
                let got = h.run(&[b"OBJECT", b"ENCODING", key_name(*key)]);
                if Model::wrong(*key) {
                    assert_eq!(got, bulk(b"embstr"));
                    return;
                }
                match self.keys[*key].as_mut() {
                    None => assert_eq!(got, R::Null),
                    Some(s) => match s.enc {
                        Enc::Intset => assert_eq!(got, bulk(b"intset")),
                        Enc::Hashtable => assert_eq!(got, bulk(b"hashtable")),
                        Enc::Unknown => {
                            let got = unbulk(got);
                            assert!(got == b"intset" || got == b"hashtable");
                            s.enc = if got == b"intset" { Enc::Intset } else { Enc::Hashtable };
                        }
                    },
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn sets_match_the_model(ops in prop::collection::vec(op_strategy(), 1..80)) {
        let mut h = Harness::new();
        let mut model = Model::new();
        for op in &ops {
            model.step(&mut h, op);
            h.check();
        }
    }
}
