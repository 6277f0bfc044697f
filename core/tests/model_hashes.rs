//! Model test of the hash family: random sequences of hash commands run through `Server::execute`, each
//! reply compared with what a `BTreeMap` reference model, written here independently of the
//! implementation, predicts. Replies whose order is unspecified are compared sorted; random picks
//! (HRANDFIELD) are checked for their properties. After every step the server's invariants and every
//! hash's encoding invariants are checked, and `OBJECT ENCODING` is compared with the model's account
//! of the one-way conversion.
//!
//! Small encoding limits are configured so that conversions happen often; a string key exercises the
//! WRONGTYPE paths; the protocol switches between RESP2 and RESP3 at random.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use support::{parse, R};

use bytes::Bytes;
use keel_core::types::hash::HashLimits;
use keel_core::types::Value;
use keel_core::{ClientHandle, Config, ConnInfo, ConnKind, ProcessInfo, Server};
use proptest::prelude::*;

/// Hash keys; index `KEYS.len()` is the string key.
const KEYS: &[&str] = &["h0", "h1", "h2"];
/// The key holding a string throughout.
const STRING_KEY: &str = "str";
/// Fields and values: short ones, an empty one, a binary one and one longer than the value limit.
const WORDS: &[&[u8]] = &[
    b"a",
    b"b",
    b"c",
    b"d",
    b"e",
    b"",
    b"\x00\xff",
    b"12",
    b"-7",
    b"longer-than-six",
];
/// The configured `hash-max-listpack-entries`.
const MAX_ENTRIES: usize = 4;
/// The configured `hash-max-listpack-value`.
const MAX_VALUE: usize = 6;
/// The reference server's wrong-type error.
const WRONGTYPE: &[u8] = b"WRONGTYPE Operation against a key holding the wrong kind of value";

/// One generated command.
#[derive(Clone, Debug)]
enum Op {
    /// HSET, or HMSET.
    Hset {
        key: usize,
        pairs: Vec<(usize, usize)>,
        hmset: bool,
    },
    /// HSETNX.
    Hsetnx { key: usize, field: usize, value: usize },
    /// HGET.
    Hget { key: usize, field: usize },
    /// HMGET.
    Hmget { key: usize, fields: Vec<usize> },
    /// HDEL.
    Hdel { key: usize, fields: Vec<usize> },
    /// HLEN.
    Hlen { key: usize },
    /// HSTRLEN.
    Hstrlen { key: usize, field: usize },
    /// HEXISTS.
    Hexists { key: usize, field: usize },
    /// HKEYS (0), HVALS (1) or HGETALL (2).
    Whole { key: usize, which: u8 },
    /// HINCRBY.
    Hincrby { key: usize, field: usize, incr: i64 },
    /// HRANDFIELD with an optional count and WITHVALUES.
    Hrandfield {
        key: usize,
        count: Option<i64>,
        with_values: bool,
    },
    /// A whole HSCAN iteration with COUNT.
    Hscan { key: usize, count: usize },
    /// DEL.
    Del { key: usize },
    /// OBJECT ENCODING.
    Encoding { key: usize },
    /// HELLO 2 or 3.
    Proto { resp3: bool },
}

/// A key index, sometimes the string key.
fn key_strategy() -> impl Strategy<Value = usize> {
    prop_oneof![8 => 0..KEYS.len(), 1 => Just(KEYS.len())]
}

/// An index into [`WORDS`].
fn word() -> impl Strategy<Value = usize> {
    0..WORDS.len()
}

/// One random command, weighted towards writes.
fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (key_strategy(), prop::collection::vec((word(), word()), 1..4), any::<bool>())
            .prop_map(|(key, pairs, hmset)| Op::Hset { key, pairs, hmset }),
        2 => (key_strategy(), word(), word()).prop_map(|(key, field, value)| Op::Hsetnx { key, field, value }),
        2 => (key_strategy(), word()).prop_map(|(key, field)| Op::Hget { key, field }),
        1 => (key_strategy(), prop::collection::vec(word(), 1..4)).prop_map(|(key, fields)| Op::Hmget { key, fields }),
        3 => (key_strategy(), prop::collection::vec(word(), 1..4)).prop_map(|(key, fields)| Op::Hdel { key, fields }),
        1 => key_strategy().prop_map(|key| Op::Hlen { key }),
        1 => (key_strategy(), word()).prop_map(|(key, field)| Op::Hstrlen { key, field }),
        1 => (key_strategy(), word()).prop_map(|(key, field)| Op::Hexists { key, field }),
        2 => (key_strategy(), 0u8..3).prop_map(|(key, which)| Op::Whole { key, which }),
        2 => (key_strategy(), word(), prop_oneof![-3i64..4, Just(i64::MAX), Just(i64::MIN)])
            .prop_map(|(key, field, incr)| Op::Hincrby { key, field, incr }),
        2 => (key_strategy(), prop::option::of(-6i64..7), any::<bool>())
            .prop_map(|(key, count, with_values)| Op::Hrandfield { key, count, with_values }),
        1 => (key_strategy(), 1usize..4).prop_map(|(key, count)| Op::Hscan { key, count }),
        1 => key_strategy().prop_map(|key| Op::Del { key }),
        1 => key_strategy().prop_map(|key| Op::Encoding { key }),
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
    /// A fresh server with the small limits configured and the string key set.
    fn new() -> Harness {
        let mut server = Server::new(Config::default(), 11, 0, ProcessInfo::default());
        let info = ConnInfo {
            addr: "127.0.0.1:5000".into(),
            laddr: "127.0.0.1:6379".into(),
            fd: 8,
            kind: ConnKind::Tcp,
        };
        let client = server.connect(info, 0);
        let mut h = Harness { server, client };
        let entries = MAX_ENTRIES.to_string();
        let value = MAX_VALUE.to_string();
        for (name, v) in [
            ("hash-max-listpack-entries", &entries),
            ("hash-max-listpack-value", &value),
        ] {
            assert_eq!(
                h.run(&[b"CONFIG", b"SET", name.as_bytes(), v.as_bytes()]),
                R::Simple(b"OK".to_vec())
            );
        }
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

    /// Checks the server's invariants and every hash's encoding invariants.
    fn check(&self) {
        self.server.check_invariants();
        let limits = HashLimits {
            max_entries: MAX_ENTRIES,
            max_value: MAX_VALUE,
        };
        for e in self.server.dbs[0].iter(1_000) {
            if let Value::Hash(h) = &e.value {
                h.check_invariants(limits);
                assert!(!h.is_empty(), "no empty hash is stored");
            }
        }
    }
}

/// One key of the model: its map and whether it has converted to the table encoding.
#[derive(Default, Clone)]
struct ModelHash {
    /// Field to value.
    map: BTreeMap<Vec<u8>, Vec<u8>>,
    /// True once the hash must have converted to the table encoding.
    large: bool,
}

/// The reference model.
#[derive(Default)]
struct Model {
    /// Per key index, the hash it holds.
    keys: Vec<Option<ModelHash>>,
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

/// `items` sorted.
fn sorted(mut items: Vec<R>) -> Vec<R> {
    items.sort();
    items
}

impl Model {
    /// The model of an empty database.
    fn new() -> Model {
        Model {
            keys: vec![None; KEYS.len()],
            resp3: false,
        }
    }

    /// The null reply (parsed alike on both protocols).
    fn null(&self) -> R {
        R::Null
    }

    /// Sets a field the way the server must, tracking the conversion.
    fn set(h: &mut ModelHash, f: &[u8], v: &[u8]) -> bool {
        if f.len() > MAX_VALUE || v.len() > MAX_VALUE {
            h.large = true;
        }
        let new = h.map.insert(f.to_vec(), v.to_vec()).is_none();
        if h.map.len() > MAX_ENTRIES {
            h.large = true;
        }
        new
    }

    /// Forgets a key whose hash became empty, as the server deletes it.
    fn drop_if_empty(&mut self, key: usize) {
        if self.keys[key].as_ref().is_some_and(|h| h.map.is_empty()) {
            self.keys[key] = None;
        }
    }

    /// Runs `op` on the harness and checks the reply against the model, updating the model.
    fn step(&mut self, h: &mut Harness, op: &Op) {
        let wrong = |key: usize| key == KEYS.len();
        let wrongtype = R::Err(WRONGTYPE.to_vec());
        match op {
            Op::Proto { resp3 } => {
                let r = h.run(&[b"HELLO", if *resp3 { b"3" } else { b"2" }]);
                assert!(matches!(r, R::Map(_) | R::Arr(_)));
                self.resp3 = *resp3;
            }
            Op::Hset { key, pairs, hmset } => {
                let mut argv: Vec<&[u8]> = vec![if *hmset { b"HMSET" } else { b"HSET" }, key_name(*key)];
                for &(f, v) in pairs {
                    argv.push(WORDS[f]);
                    argv.push(WORDS[v]);
                }
                let got = h.run(&argv);
                if wrong(*key) {
                    assert_eq!(got, wrongtype);
                    return;
                }
                let m = self.keys[*key].get_or_insert_with(ModelHash::default);
                let mut added = 0;
                for &(f, v) in pairs {
                    added += Model::set(m, WORDS[f], WORDS[v]) as i64;
                }
                let want = if *hmset {
                    R::Simple(b"OK".to_vec())
                } else {
                    R::Int(added)
                };
                assert_eq!(got, want);
            }
            Op::Hsetnx { key, field, value } => {
                let got = h.run(&[b"HSETNX", key_name(*key), WORDS[*field], WORDS[*value]]);
                if wrong(*key) {
                    assert_eq!(got, wrongtype);
                    return;
                }
                let m = self.keys[*key].get_or_insert_with(ModelHash::default);
                let want = if m.map.contains_key(WORDS[*field]) {
                    0
                } else {
                    Model::set(m, WORDS[*field], WORDS[*value]);
                    1
                };
                assert_eq!(got, R::Int(want));
            }
            Op::Hget { key, field } => {
                let got = h.run(&[b"HGET", key_name(*key), WORDS[*field]]);
                let want = if wrong(*key) {
                    wrongtype
                } else {
                    match self.keys[*key].as_ref().and_then(|m| m.map.get(WORDS[*field])) {
                        Some(v) => bulk(v),
                        None => self.null(),
                    }
                };
                assert_eq!(got, want);
            }
            Op::Hmget { key, fields } => {
                let mut argv: Vec<&[u8]> = vec![b"HMGET", key_name(*key)];
                argv.extend(fields.iter().map(|&f| WORDS[f]));
                let got = h.run(&argv);
                let want = if wrong(*key) {
                    wrongtype
                } else {
                    let m = self.keys[*key].as_ref();
                    R::Arr(
                        fields
                            .iter()
                            .map(|&f| match m.and_then(|m| m.map.get(WORDS[f])) {
                                Some(v) => bulk(v),
                                None => R::Null,
                            })
                            .collect(),
                    )
                };
                assert_eq!(got, want);
            }
            Op::Hdel { key, fields } => {
                let mut argv: Vec<&[u8]> = vec![b"HDEL", key_name(*key)];
                argv.extend(fields.iter().map(|&f| WORDS[f]));
                let got = h.run(&argv);
                if wrong(*key) {
                    assert_eq!(got, wrongtype);
                    return;
                }
                let removed = match self.keys[*key].as_mut() {
                    Some(m) => fields.iter().filter(|&&f| m.map.remove(WORDS[f]).is_some()).count(),
                    None => 0,
                };
                self.drop_if_empty(*key);
                assert_eq!(got, R::Int(removed as i64));
            }
            Op::Hlen { key } => {
                let got = h.run(&[b"HLEN", key_name(*key)]);
                let want = if wrong(*key) {
                    wrongtype
                } else {
                    R::Int(self.keys[*key].as_ref().map_or(0, |m| m.map.len()) as i64)
                };
                assert_eq!(got, want);
            }
            Op::Hstrlen { key, field } => {
                let got = h.run(&[b"HSTRLEN", key_name(*key), WORDS[*field]]);
                let want = if wrong(*key) {
                    wrongtype
                } else {
                    let len = self.keys[*key]
                        .as_ref()
                        .and_then(|m| m.map.get(WORDS[*field]))
                        .map_or(0, |v| v.len());
                    R::Int(len as i64)
                };
                assert_eq!(got, want);
            }
            Op::Hexists { key, field } => {
                let got = h.run(&[b"HEXISTS", key_name(*key), WORDS[*field]]);
                let want = if wrong(*key) {
                    wrongtype
                } else {
                    R::Int(
                        self.keys[*key]
                            .as_ref()
                            .is_some_and(|m| m.map.contains_key(WORDS[*field])) as i64,
                    )
                };
                assert_eq!(got, want);
            }
            Op::Whole { key, which } => {
                let name: &[u8] = match which {
                    0 => b"HKEYS",
                    1 => b"HVALS",
                    _ => b"HGETALL",
                };
                let got = h.run(&[name, key_name(*key)]);
                if wrong(*key) {
                    assert_eq!(got, wrongtype);
                    return;
                }
                let empty = BTreeMap::new();
                let map = self.keys[*key].as_ref().map_or(&empty, |m| &m.map);
                match (which, got) {
                    (0, R::Arr(items)) => assert_eq!(sorted(items), map.keys().map(|k| bulk(k)).collect::<Vec<_>>()),
                    (1, R::Arr(items)) => {
                        assert_eq!(sorted(items), sorted(map.values().map(|v| bulk(v)).collect()))
                    }
                    (2, R::Map(pairs)) if self.resp3 => {
                        let mut pairs = pairs;
                        pairs.sort();
                        let want: Vec<(R, R)> = map.iter().map(|(k, v)| (bulk(k), bulk(v))).collect();
                        assert_eq!(pairs, want);
                    }
                    (2, R::Arr(flat)) if !self.resp3 => {
                        let mut pairs: Vec<(R, R)> = flat.chunks(2).map(|c| (c[0].clone(), c[1].clone())).collect();
                        pairs.sort();
                        let want: Vec<(R, R)> = map.iter().map(|(k, v)| (bulk(k), bulk(v))).collect();
                        assert_eq!(pairs, want);
                    }
                    (_, other) => panic!("unexpected reply shape {other:?}"),
                }
            }
            Op::Hincrby { key, field, incr } => {
                let incr_text = incr.to_string();
                let got = h.run(&[b"HINCRBY", key_name(*key), WORDS[*field], incr_text.as_bytes()]);
                if wrong(*key) {
                    assert_eq!(got, wrongtype);
                    return;
                }
                let m = self.keys[*key].get_or_insert_with(ModelHash::default);
                let current = m.map.get(WORDS[*field]).map(|v| {
                    std::str::from_utf8(v)
                        .ok()
                        .filter(|s| s.parse::<i64>().is_ok_and(|n| n.to_string() == *s))
                        .and_then(|s| s.parse::<i64>().ok())
                });
                let want = match current {
                    Some(None) => R::Err(b"ERR hash value is not an integer".to_vec()),
                    _ => {
                        let cur = current.flatten().unwrap_or(0);
                        match cur.checked_add(*incr) {
                            Some(next) => {
                                Model::set(m, WORDS[*field], next.to_string().as_bytes());
                                R::Int(next)
                            }
                            None => R::Err(b"ERR increment or decrement would overflow".to_vec()),
                        }
                    }
                };
                self.drop_if_empty(*key);
                assert_eq!(got, want);
            }
            Op::Hrandfield {
                key,
                count,
                with_values,
            } => {
                let count_text = count.map(|c| c.to_string());
                let mut argv: Vec<&[u8]> = vec![b"HRANDFIELD", key_name(*key)];
                if let Some(c) = &count_text {
                    argv.push(c.as_bytes());
                    if *with_values {
                        argv.push(b"WITHVALUES");
                    }
                }
                let got = h.run(&argv);
                if wrong(*key) {
                    assert_eq!(got, wrongtype);
                    return;
                }
                let with_values = *with_values && count.is_some();
                let map = self.keys[*key].as_ref().map(|m| &m.map);
                let Some(count) = count else {
                    match map {
                        None => assert_eq!(got, R::Null),
                        Some(map) => match got {
                            R::Bulk(f) => assert!(map.contains_key(&f)),
                            other => panic!("unexpected {other:?}"),
                        },
                    }
                    return;
                };
                let R::Arr(items) = got else { panic!("array expected") };
                // Normalise to (field, value) picks.
                let picks: Vec<(Vec<u8>, Option<Vec<u8>>)> = if !with_values {
                    items.into_iter().map(|r| (unbulk(r), None)).collect()
                } else if self.resp3 {
                    items
                        .into_iter()
                        .map(|r| match r {
                            R::Arr(mut p) if p.len() == 2 => {
                                let v = unbulk(p.pop().unwrap());
                                (unbulk(p.pop().unwrap()), Some(v))
                            }
                            other => panic!("pair expected, got {other:?}"),
                        })
                        .collect()
                } else {
                    assert_eq!(items.len() % 2, 0);
                    items
                        .chunks(2)
                        .map(|c| (unbulk(c[0].clone()), Some(unbulk(c[1].clone()))))
                        .collect()
                };
                let len = map.map_or(0, |m| m.len());
                let expected_len = match map {
                    None => 0,
                    Some(_) if *count < 0 => count.unsigned_abs() as usize,
                    Some(_) => (*count as usize).min(len),
                };
                assert_eq!(picks.len(), expected_len);
                for (f, v) in &picks {
                    let map = map.expect("picks only from an existing hash");
                    assert!(map.contains_key(f));
                    if let Some(v) = v {
                        assert_eq!(map.get(f), Some(v));
                    }
                }
                if *count > 0 {
                    let distinct: BTreeSet<&Vec<u8>> = picks.iter().map(|(f, _)| f).collect();
                    assert_eq!(distinct.len(), picks.len(), "positive counts pick distinct fields");
                }
            }
            Op::Hscan { key, count } => {
                let count_text = count.to_string();
                let mut cursor = b"0".to_vec();
                let mut seen = BTreeMap::new();
                for _ in 0..100 {
                    let got = h.run(&[b"HSCAN", key_name(*key), &cursor, b"COUNT", count_text.as_bytes()]);
                    if wrong(*key) {
                        assert_eq!(got, wrongtype);
                        return;
                    }
                    let R::Arr(mut parts) = got else {
                        panic!("array expected")
                    };
                    let R::Arr(items) = parts.pop().unwrap() else {
                        panic!("array expected")
                    };
                    cursor = unbulk(parts.pop().unwrap());
                    for c in items.chunks(2) {
                        seen.insert(unbulk(c[0].clone()), unbulk(c[1].clone()));
                    }
                    if cursor == b"0" {
                        break;
                    }
                }
                assert_eq!(cursor, b"0", "scan ends");
                let empty = BTreeMap::new();
                assert_eq!(&seen, self.keys[*key].as_ref().map_or(&empty, |m| &m.map));
            }
            Op::Del { key } => {
                let got = h.run(&[b"DEL", key_name(*key)]);
                if wrong(*key) {
                    // Keep the string key: recreate it.
                    assert_eq!(got, R::Int(1));
                    h.run(&[b"SET", STRING_KEY.as_bytes(), b"x"]);
                    return;
                }
                let existed = self.keys[*key].take().is_some();
                assert_eq!(got, R::Int(existed as i64));
            }
            Op::Encoding { key } => {
                let got = h.run(&[b"OBJECT", b"ENCODING", key_name(*key)]);
                let want = if wrong(*key) {
                    bulk(b"embstr")
                } else {
                    match &self.keys[*key] {
                        None => R::Null,
                        Some(m) => bulk(if m.large { b"hashtable" } else { b"listpack" }),
                    }
                };
                assert_eq!(got, want);
            }
        }
    }
}

/// The bytes of a bulk reply.
fn unbulk(r: R) -> Vec<u8> {
    match r {
        R::Bulk(b) => b,
        other => panic!("bulk expected, got {other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn hashes_match_the_model(ops in prop::collection::vec(op_strategy(), 1..80)) {
        let mut h = Harness::new();
        let mut model = Model::new();
        for op in &ops {
            model.step(&mut h, op);
            h.check();
        }
    }
}
