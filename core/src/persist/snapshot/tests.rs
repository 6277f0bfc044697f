//! Snapshot tests with a simple self-describing format: whatever mix of changes runs between chunk
//! pulls, the stream holds exactly the entries live when the snapshot began, each once, as they were.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use proptest::prelude::*;
use rand::{rngs::SmallRng, SeedableRng};

use super::{Snapshot, SnapshotFormat};
use crate::keyspace::{Db, Entry, NO_EXPIRE};
use crate::types::{StringValue, Value};

/// Entries as (key, value index, expiry); values are kept aside by index.
struct TestFormat {
    values: Mutex<Vec<Value>>,
}

const SELECT: u8 = 0xFE;
const ENTRY: u8 = 0x01;
const END: u8 = 0xFF;

impl SnapshotFormat for TestFormat {
    fn header(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"SNAP");
    }
    fn select_db(&self, db: usize, out: &mut Vec<u8>) {
        out.push(SELECT);
        out.extend_from_slice(&(db as u32).to_le_bytes());
    }
    fn entry(&self, entry: &Entry, expire_at: Option<i64>, out: &mut Vec<u8>) {
        let mut values = self.values.lock().unwrap();
        out.push(ENTRY);
        out.extend_from_slice(&(entry.key().len() as u32).to_le_bytes());
        out.extend_from_slice(entry.key());
        out.extend_from_slice(&expire_at.unwrap_or(NO_EXPIRE).to_le_bytes());
        out.extend_from_slice(&(values.len() as u32).to_le_bytes());
        values.push(entry.value.clone());
    }
    fn checksum_update(&self, state: u64, bytes: &[u8]) -> u64 {
        bytes
            .iter()
            .fold(state, |s, &b| s.wrapping_mul(31).wrapping_add(b as u64))
    }
    fn trailer(&self, checksum: u64, out: &mut Vec<u8>) {
        out.push(END);
        out.extend_from_slice(&checksum.to_le_bytes());
    }
}

/// (db, key) → (value, expiry).
type Contents = HashMap<(usize, Vec<u8>), (Value, i64)>;

/// Decodes a complete stream, failing on duplicates, a bad checksum or trailing bytes.
fn decode(format: &TestFormat, stream: &[u8]) -> Contents {
    let values = format.values.lock().unwrap();
    assert_eq!(&stream[..4], b"SNAP");
    let mut at = 4;
    let mut db = None;
    let mut out = Contents::new();
    let u32_at = |at: usize| u32::from_le_bytes(stream[at..at + 4].try_into().unwrap()) as usize;
    loop {
        match stream[at] {
            SELECT => {
                db = Some(u32_at(at + 1));
                at += 5;
            }
            ENTRY => {
                let len = u32_at(at + 1);
                let key = stream[at + 5..at + 5 + len].to_vec();
                at += 5 + len;
                let expire = i64::from_le_bytes(stream[at..at + 8].try_into().unwrap());
                let index = u32_at(at + 8);
                at += 12;
                let db = db.expect("an entry after a database selector");
                let previous = out.insert((db, key.clone()), (values[index].clone(), expire));
                assert!(previous.is_none(), "entry {key:?} of db {db} written twice");
            }
            END => {
                let sum = format.checksum_update(0, &stream[..at]);
                assert_eq!(
                    stream[at + 1..].to_vec(),
                    sum.to_le_bytes().to_vec(),
                    "checksum and end"
                );
                return out;
            }
            other => panic!("unexpected byte {other} at {at}"),
        }
    }
}

/// What the databases hold at `now_ms`.
fn contents(dbs: &[Db], now_ms: i64) -> Contents {
    let mut out = Contents::new();
    for (i, db) in dbs.iter().enumerate() {
        for e in db.iter(now_ms) {
            out.insert(
                (i, e.key().to_vec()),
                (e.value.clone(), db.expire_of(e).unwrap_or(NO_EXPIRE)),
            );
        }
    }
    out
}

fn s(v: &[u8]) -> Value {
    Value::String(StringValue::from_bytes(v))
}

fn format() -> Arc<TestFormat> {
    Arc::new(TestFormat {
        values: Mutex::new(Vec::new()),
    })
}

/// Pulls every remaining chunk with `limit`.
fn drain(snap: &mut Snapshot, dbs: &mut [Db], limit: usize, stream: &mut Vec<u8>) {
    while let Some(chunk) = snap.next_chunk(dbs, limit) {
        stream.extend_from_slice(&chunk);
    }
}

#[test]
fn untouched_keyspace_is_written_in_bounded_chunks() {
    let mut dbs: Vec<Db> = (0..3).map(Db::new).collect();
    for i in 0..500 {
        dbs[i % 3].set(format!("k{i}").as_bytes(), s(b"value"), false, 0, 0);
    }
    dbs[2].set_expire(b"k2", 5_000);
    dbs[1].insert_new(b"gone", s(b"x"), 10, 0);
    let expected = contents(&dbs, 100);
    let f = format();
    let mut snap = Snapshot::begin(&mut dbs, f.clone(), 100);
    assert_eq!(snap.keys_total, 500, "the key expired at the start is not included");
    let mut stream = Vec::new();
    let mut chunks = 0;
    while let Some(chunk) = snap.next_chunk(&mut dbs, 256) {
        assert!(chunk.len() < 256 + 64, "a chunk stays near its limit: {}", chunk.len());
        stream.extend_from_slice(&chunk);
        chunks += 1;
    }
    assert!(chunks > 10);
    assert_eq!(decode(&f, &stream), expected);
    assert_eq!(snap.keys_processed(&dbs), 500);
    assert!(dbs.iter().all(|d| d.snapshot.is_none()), "marks are gone at the end");
}

#[test]
fn changes_during_the_walk_do_not_reach_the_stream() {
    let mut dbs: Vec<Db> = (0..2).map(Db::new).collect();
    for i in 0..200 {
        dbs[0].set(format!("k{i}").as_bytes(), s(b"old"), false, 0, 0);
    }
    dbs[1].set(b"other", s(b"old"), false, 0, 0);
    let expected = contents(&dbs, 0);
    let f = format();
    let mut snap = Snapshot::begin(&mut dbs, f.clone(), 0);
    let mut stream = snap.next_chunk(&mut dbs, 100).unwrap();
    for i in 0..200 {
        dbs[0].set(format!("k{i}").as_bytes(), s(b"new"), false, 0, 0);
    }
    dbs[0].remove(b"k7", 0);
    dbs[0].set(b"fresh", s(b"new"), false, 0, 0);
    dbs.swap(0, 1);
    dbs[0].clear();
    dbs[0].set(b"after-flush", s(b"new"), false, 0, 0);
    drain(&mut snap, &mut dbs, 100, &mut stream);
    assert_eq!(decode(&f, &stream), expected);
    dbs[1].check_invariants();
}

#[test]
fn no_snapshot_leaves_no_trace() {
    let mut dbs = vec![Db::new(1)];
    let f = format();
    let mut snap = Snapshot::begin(&mut dbs, f.clone(), 0);
    let mut stream = Vec::new();
    drain(&mut snap, &mut dbs, 10, &mut stream);
    assert!(decode(&f, &stream).is_empty());
    assert!(snap.next_chunk(&mut dbs, 10).is_none());
}

/// One change a command could make, on the database API.
#[derive(Clone, Debug)]
enum Op {
    Set {
        db: usize,
        key: u8,
        val: u8,
    },
    SetKeepTtl {
        db: usize,
        key: u8,
        val: u8,
    },
    Append {
        db: usize,
        key: u8,
    },
    Remove {
        db: usize,
        key: u8,
    },
    Expire {
        db: usize,
        key: u8,
        at: i64,
    },
    Persist {
        db: usize,
        key: u8,
    },
    Move {
        from: usize,
        to: usize,
        key: u8,
    },
    Read {
        db: usize,
        key: u8,
    },
    Flush {
        db: usize,
    },
    Swap {
        a: usize,
        b: usize,
    },
    /// Time passes and the active cycle samples.
    Tick {
        ms: i64,
    },
    Chunk {
        limit: usize,
    },
}

const DBS: usize = 3;

fn op() -> impl Strategy<Value = Op> {
    let db = 0..DBS;
    let key = 0u8..40;
    prop_oneof![
        4 => (db.clone(), key.clone(), any::<u8>()).prop_map(|(db, key, val)| Op::Set { db, key, val }),
        1 => (db.clone(), key.clone(), any::<u8>()).prop_map(|(db, key, val)| Op::SetKeepTtl { db, key, val }),
        2 => (db.clone(), key.clone()).prop_map(|(db, key)| Op::Append { db, key }),
        2 => (db.clone(), key.clone()).prop_map(|(db, key)| Op::Remove { db, key }),
        2 => (db.clone(), key.clone(), 0i64..400).prop_map(|(db, key, at)| Op::Expire { db, key, at }),
        1 => (db.clone(), key.clone()).prop_map(|(db, key)| Op::Persist { db, key }),
        1 => (db.clone(), db.clone(), key.clone()).prop_map(|(from, to, key)| Op::Move { from, to, key }),
        2 => (db.clone(), key.clone()).prop_map(|(db, key)| Op::Read { db, key }),
        1 => db.clone().prop_map(|db| Op::Flush { db }),
        1 => (db.clone(), db).prop_map(|(a, b)| Op::Swap { a, b }),
        1 => (1i64..50).prop_map(|ms| Op::Tick { ms }),
        3 => (1usize..200).prop_map(|limit| Op::Chunk { limit }),
    ]
}

fn apply(dbs: &mut [Db], op: &Op, now: &mut i64, rng: &mut SmallRng) {
    let k = |key: &u8| format!("key:{key}").into_bytes();
    match op {
        Op::Set { db, key, val } => {
            dbs[*db].set(&k(key), s(&[*val]), false, *now, 0);
        }
        Op::SetKeepTtl { db, key, val } => {
            dbs[*db].set(&k(key), s(&[*val, *val]), true, *now, 0);
        }
        Op::Append { db, key } => {
            if let Some(e) = dbs[*db].get_mut(&k(key), *now) {
                if let Value::String(v) = &mut e.value {
                    let mut bytes = v.to_vec();
                    bytes.push(b'+');
                    *v = StringValue::from_bytes(&bytes);
                }
            }
        }
        Op::Remove { db, key } => {
            dbs[*db].remove(&k(key), *now);
        }
        Op::Expire { db, key, at } => {
            if dbs[*db].contains(&k(key), *now) {
                dbs[*db].set_expire(&k(key), *at);
            }
        }
        Op::Persist { db, key } => {
            if dbs[*db].contains(&k(key), *now) {
                dbs[*db].set_expire(&k(key), NO_EXPIRE);
            }
        }
        Op::Move { from, to, key } => {
            if from != to && !dbs[*to].contains(&k(key), *now) {
                if let Some((value, expire)) = dbs[*from].take_entry(&k(key), *now) {
                    dbs[*to].insert_new(&k(key), value, expire.unwrap_or(NO_EXPIRE), 0);
                }
            }
        }
        Op::Read { db, key } => {
            dbs[*db].get(&k(key), *now);
        }
        Op::Flush { db } => dbs[*db].clear(),
        Op::Swap { a, b } => dbs.swap(*a, *b),
        Op::Tick { ms } => {
            *now += ms;
            for db in dbs.iter_mut() {
                db.expire_sample(rng, 10, *now);
            }
        }
        Op::Chunk { .. } => {}
    }
}

/// A keyspace after the `before` operations, with the random source and clock they left behind.
fn keyspace_after(before: &[Op], seed: u64) -> (Vec<Db>, SmallRng, i64) {
    let mut dbs: Vec<Db> = (0..DBS as u64).map(Db::new).collect();
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut now = 100;
    for op in before {
        apply(&mut dbs, op, &mut now, &mut rng);
    }
    (dbs, rng, now)
}

/// Runs `during` against a keyspace with `snap` in progress (an `Op::Chunk` takes the next chunk, every
/// other operation changes the keyspace, whose invariants are checked after each step), then drains the
/// snapshot: the whole stream.
fn stream_during(snap: &mut Snapshot, dbs: &mut [Db], during: &[Op], now: &mut i64, rng: &mut SmallRng) -> Vec<u8> {
    let mut stream = Vec::new();
    for op in during {
        if let Op::Chunk { limit } = op {
            if let Some(chunk) = snap.next_chunk(dbs, *limit) {
                stream.extend_from_slice(&chunk);
            }
        } else {
            apply(dbs, op, now, rng);
        }
        for db in dbs.iter() {
            db.check_invariants();
        }
    }
    drain(snap, dbs, 64, &mut stream);
    stream
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn the_stream_is_the_keyspace_at_the_start(
        before in proptest::collection::vec(op(), 0..120),
        during in proptest::collection::vec(op(), 0..200),
        seed in any::<u64>(),
    ) {
        let (mut dbs, mut rng, mut now) = keyspace_after(&before, seed);
        let expected = contents(&dbs, now);
        let f = format();
        let mut snap = Snapshot::begin(&mut dbs, f.clone(), now);
        let stream = stream_during(&mut snap, &mut dbs, &during, &mut now, &mut rng);
        prop_assert_eq!(decode(&f, &stream), expected);
        prop_assert!(dbs.iter().all(|d| d.snapshot.is_none()));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The same, through the real format and loader: an RDB stream loaded into a fresh server is the
    /// keyspace at the start, TTLs included.
    #[test]
    fn an_rdb_snapshot_loads_back_as_the_keyspace_at_the_start(
        before in proptest::collection::vec(op(), 0..150),
        during in proptest::collection::vec(op(), 0..150),
        seed in any::<u64>(),
    ) {
        use crate::persist::rdb_snapshot::RdbFormat;
        use crate::{Config, ProcessInfo, Server};
        let (mut dbs, mut rng, mut now) = keyspace_after(&before, seed);
        let expected = contents(&dbs, now);
        let start = now;
        let mut snap = Snapshot::begin(&mut dbs, RdbFormat::new(&Config::default(), start, 0, false), start);
        let stream = stream_during(&mut snap, &mut dbs, &during, &mut now, &mut rng);
        let mut loaded = Server::new(Config::default(), seed, start, ProcessInfo::default());
        let stats = loaded.load_rdb(&stream[..], start).expect("the stream loads");
        prop_assert_eq!(stats.keys_loaded as usize, expected.len());
        prop_assert_eq!(contents(&loaded.dbs[..DBS], start), expected);
    }
}
