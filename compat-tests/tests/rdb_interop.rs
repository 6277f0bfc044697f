//! RDB interoperability with the reference server, through real servers, a real client and real files:
//!
//! (a) every type and encoding created in redis-server, DUMPed, RESTOREd into keel (over TCP);
//! (b) the reverse, plus byte-identical DUMP payloads for every encoding whose layout is deterministic;
//! (c) a snapshot file written by keel's writer, loaded by redis-server at start-up;
//! (d) a file saved by redis-server (`SAVE`), read by keel's streaming reader.
//!
//! Each direction compares the full contents (type, encoding, elements, expiry) of both sides.

use std::collections::BTreeMap;
use std::path::PathBuf;

use keel_compat_tests::reference::ReferenceServer;
use keel_core::config::Config;
use keel_core::keyspace::{Db, NO_EXPIRE};
use keel_core::persist::rdb::file::{write_snapshot, FileItem, HeaderInfo};
use keel_core::persist::rdb::{payload, LoadParams, RdbReader};
use keel_core::types::Value;
use keel_net::TestServer;
use redis::Connection;

/// Databases the dataset uses.
const DBS: [i64; 2] = [0, 3];

/// A key's observable state.
#[derive(Clone, Debug, PartialEq)]
struct KeyState {
    kind: String,
    encoding: String,
    content: Content,
    /// Absolute expiry in Unix ms (-1: none).
    expire_ms: i64,
}

/// A value's elements in a canonical order.
#[derive(Clone, Debug, PartialEq)]
enum Content {
    Str(Vec<u8>),
    List(Vec<Vec<u8>>),
    Hash(Vec<(Vec<u8>, Vec<u8>)>),
    Set(Vec<Vec<u8>>),
    ZSet(Vec<(Vec<u8>, f64)>),
}

/// Everything in a server: (db, &key) → state.
type Snapshot = BTreeMap<(i64, Vec<u8>), KeyState>;

fn connect(addr: &str) -> Connection {
    redis::Client::open(format!("redis://{addr}/"))
        .and_then(|c| c.get_connection())
        .unwrap_or_else(|e| panic!("connect to {addr}: {e}"))
}

/// Runs one command (arguments of any argument type) and converts its reply.
macro_rules! q {
    ($con:expr, $($arg:expr),+) => {{
        let mut cmd = redis::Cmd::new();
        $(cmd.arg($arg);)+
        cmd.query($con).unwrap_or_else(|e| panic!("{}: {e}", stringify!($($arg),+)))
    }};
}

/// Runs one command whose reply does not matter (but must not be an error).
fn run(con: &mut Connection, args: &[&str]) {
    let mut cmd = redis::Cmd::new();
    for a in args {
        cmd.arg(*a);
    }
    let _: redis::Value = cmd.query(con).unwrap_or_else(|e| panic!("{args:?}: {e}"));
}

/// Creates the dataset: every type in every encoding, in two databases, some keys with a TTL.
fn populate(con: &mut Connection) {
    let far = "4102444800000"; // 2100-01-01, absolute ms
    for db in DBS {
        run(con, &["SELECT", &db.to_string()]);
        // Strings: int, embstr, raw, compressible, binary, longer than a listpack entry.
        run(con, &["SET", "s:int", "12345"]);
        run(con, &["SET", "s:i64", "-9223372036854775808"]);
        run(con, &["SET", "s:embstr", "hello world"]);
        run(con, &["SET", "s:zero-lead", "0123"]);
        run(con, &["SET", "s:compressible", &"abc".repeat(200)]);
        run(con, &["SET", "s:raw", "ab"]);
        run(con, &["APPEND", "s:raw", "cd"]);
        let binary: Vec<u8> = (0..3000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
            .collect();
        let _: () = q!(con, "SET", "s:binary", &binary);
        run(con, &["SET", "s:ttl", "expiring"]);
        run(con, &["PEXPIREAT", "s:ttl", far]);
        // Lists: small, many nodes, big elements, integers of every width.
        run(
            con,
            &["RPUSH", "l:small", "a", "b", "1", "-5", "70000", "9223372036854775807"],
        );
        let many: Vec<String> = (0..3000)
            .map(|i| format!("element-{i}-{}", "p".repeat(i % 40)))
            .collect();
        let mut args: Vec<&str> = vec!["RPUSH", "l:many"];
        args.extend(many.iter().map(String::as_str));
        run(con, &args);
        let big = "B".repeat(9000);
        run(con, &["RPUSH", "l:big", "x", &big, "y", &big]);
        run(con, &["RPUSH", "l:ttl", "1"]);
        run(con, &["PEXPIREAT", "l:ttl", far]);
        // Hashes: listpack, hashtable by count, hashtable by value length.
        run(con, &["HSET", "h:small", "f", "v", "n", "12", "neg", "-3", "e", ""]);
        let mut args: Vec<String> = vec!["HSET".into(), "h:many".into()];
        for i in 0..300 {
            args.push(format!("field:{i}"));
            args.push(format!("value:{}", i * 7));
        }
        run(con, &args.iter().map(String::as_str).collect::<Vec<_>>());
        run(con, &["HSET", "h:long", "f", &"v".repeat(100)]);
        // Sets: intset (16, 32 and 64-bit), hashtable by strings and by count.
        run(con, &["SADD", "set:int16", "1", "2", "300", "-7"]);
        run(con, &["SADD", "set:int32", "70000", "1"]);
        run(
            con,
            &["SADD", "set:int64", "9223372036854775807", "-9223372036854775808", "0"],
        );
        run(con, &["SADD", "set:strings", "a", "b", "c", "1"]);
        let ints: Vec<String> = (0..600).map(|i| (i * 3).to_string()).collect();
        let mut args: Vec<&str> = vec!["SADD", "set:many-ints"];
        args.extend(ints.iter().map(String::as_str));
        run(con, &args);
        // Sorted sets: listpack, skiplist by count, skiplist by member length, awkward scores.
        run(
            con,
            &[
                "ZADD", "z:small", "1.5", "a", "2", "b", "0.1", "c", "-inf", "d", "+inf", "e", "1e300", "f", "-0", "g",
            ],
        );
        let mut args: Vec<String> = vec!["ZADD".into(), "z:many".into()];
        for i in 0..300 {
            args.push(format!("{}", i as f64 / 7.0 - 20.0));
            args.push(format!("member:{i}"));
        }
        run(con, &args.iter().map(String::as_str).collect::<Vec<_>>());
        run(con, &["ZADD", "z:long", "1", &"m".repeat(80), "2", "short"]);
    }
    run(con, &["SELECT", "0"]);
}

/// Reads every key of the dataset's databases.
fn snapshot(con: &mut Connection) -> Snapshot {
    let mut out = Snapshot::new();
    for db in DBS {
        run(con, &["SELECT", &db.to_string()]);
        let keys: Vec<Vec<u8>> = q!(con, "KEYS", "*");
        for key in keys {
            let kind: String = q!(con, "TYPE", &key);
            let encoding: String = q!(con, "OBJECT", "ENCODING", &key);
            let content = match kind.as_str() {
                "string" => Content::Str(q!(con, "GET", &key)),
                "list" => Content::List(q!(con, "LRANGE", &key, 0, -1)),
                "hash" => {
                    let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = q!(con, "HGETALL", &key);
                    pairs.sort();
                    Content::Hash(pairs)
                }
                "set" => {
                    let mut members: Vec<Vec<u8>> = q!(con, "SMEMBERS", &key);
                    members.sort();
                    Content::Set(members)
                }
                "zset" => {
                    let flat: Vec<(Vec<u8>, String)> = q!(con, "ZRANGE", &key, 0, -1, "WITHSCORES");
                    Content::ZSet(flat.into_iter().map(|(m, s)| (m, parse_score(&s))).collect())
                }
                other => panic!("unexpected type {other}"),
            };
            let expire_ms: i64 = q!(con, "PEXPIRETIME", &key);
            out.insert(
                (db, key),
                KeyState {
                    kind,
                    encoding,
                    content,
                    expire_ms,
                },
            );
        }
    }
    run(con, &["SELECT", "0"]);
    assert!(out.len() > 40, "dataset present ({} keys)", out.len());
    out
}

/// The state as a load leaves it: a load stores every short string whole, so a string made `raw` by
/// APPEND comes back `embstr` (on the reference server as on keel).
fn as_loaded(mut snap: Snapshot) -> Snapshot {
    for state in snap.values_mut() {
        if let Content::Str(s) = &state.content {
            if state.encoding == "raw" && s.len() <= 44 {
                state.encoding = "embstr".into();
            }
        }
    }
    snap
}

fn parse_score(s: &str) -> f64 {
    s.parse().unwrap_or_else(|_| panic!("score {s}"))
}

/// Moves every key from `src` to `dst` with DUMP and RESTORE (keeping absolute expiry times), and
/// returns the payloads by (db, &key).
fn transfer(src: &mut Connection, dst: &mut Connection) -> BTreeMap<(i64, Vec<u8>), Vec<u8>> {
    let mut payloads = BTreeMap::new();
    for db in DBS {
        run(src, &["SELECT", &db.to_string()]);
        run(dst, &["SELECT", &db.to_string()]);
        let keys: Vec<Vec<u8>> = q!(src, "KEYS", "*");
        for key in keys {
            let dumped: Vec<u8> = q!(src, "DUMP", &key);
            let expire: i64 = q!(src, "PEXPIRETIME", &key);
            let ttl = expire.max(0);
            let _: () = q!(dst, "RESTORE", &key, ttl, &dumped, "ABSTTL");
            payloads.insert((db, key), dumped);
        }
    }
    run(src, &["SELECT", "0"]);
    run(dst, &["SELECT", "0"]);
    payloads
}

fn start_keel() -> (TestServer, Connection) {
    let keel = TestServer::start(&[]).expect("start keel");
    let con = connect(&keel.addr());
    (keel, con)
}

fn start_reference(extra: &[&str]) -> (ReferenceServer, Connection) {
    let server = ReferenceServer::start_with(extra).expect("start redis-server");
    let con = connect(&server.addr());
    (server, con)
}

#[test]
fn reference_dumps_restore_into_keel() {
    let (_redis, mut r) = start_reference(&[]);
    let (_keel, mut k) = start_keel();
    populate(&mut r);
    transfer(&mut r, &mut k);
    assert_eq!(snapshot(&mut k), as_loaded(snapshot(&mut r)));
}

#[test]
fn keel_dumps_restore_into_the_reference_byte_for_byte() {
    let (_keel, mut k) = start_keel();
    let (_redis, mut r) = start_reference(&[]);
    populate(&mut k);
    let keel_payloads = transfer(&mut k, &mut r);
    let state = snapshot(&mut k);
    assert_eq!(snapshot(&mut r), as_loaded(state.clone()));
    // Built by the same commands, each key has the same encoding on both servers; every encoding but
    // the hash tables (whose order is each server's own) must then DUMP to the same bytes.
    let (_other, mut fresh) = start_reference(&[]);
    populate(&mut fresh);
    let mut compared = 0;
    for ((db, key), bytes) in &keel_payloads {
        if state[&(*db, key.clone())].encoding == "hashtable" {
            continue;
        }
        run(&mut fresh, &["SELECT", &db.to_string()]);
        let reference: Vec<u8> = q!(&mut fresh, "DUMP", key);
        assert_eq!(bytes, &reference, "DUMP of {} in db {db}", String::from_utf8_lossy(key));
        compared += 1;
    }
    assert!(compared > 30, "{compared} payloads compared");
}

/// A scratch directory removed on drop.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new(name: &str) -> ScratchDir {
        let dir = std::env::temp_dir().join(format!("keel-rdb-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        ScratchDir(dir)
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[test]
fn keel_written_file_loads_into_the_reference() {
    // keel's databases, rebuilt in-process from keel's own DUMP payloads.
    let (_keel, mut k) = start_keel();
    populate(&mut k);
    let config = Config::default();
    let mut params = LoadParams::from_config(&config, 42);
    let mut dbs: Vec<Db> = (0..16).map(Db::new).collect();
    for db in DBS {
        run(&mut k, &["SELECT", &db.to_string()]);
        let keys: Vec<Vec<u8>> = q!(&mut k, "KEYS", "*");
        for key in keys {
            let dumped: Vec<u8> = q!(&mut k, "DUMP", &key);
            let expire: i64 = q!(&mut k, "PEXPIRETIME", &key);
            let value: Value = payload::restore(&dumped, &mut params)
                .expect("decodes")
                .expect("not empty");
            let expire = if expire < 0 { NO_EXPIRE } else { expire };
            dbs[db as usize].insert_new(&key, value, expire, 0);
        }
    }
    run(&mut k, &["SELECT", "0"]);
    let mut file = Vec::new();
    let info = HeaderInfo {
        ctime_s: now_ms() / 1000,
        used_mem: 1 << 20,
        aof_base: false,
    };
    write_snapshot(&mut file, &dbs, &config, &info, now_ms(), true);
    let dir = ScratchDir::new("load");
    std::fs::write(dir.0.join("keel.rdb"), &file).expect("write file");
    let dir_arg = dir.0.to_string_lossy().into_owned();
    let (_redis, mut r) = start_reference(&["--dir", &dir_arg, "--dbfilename", "keel.rdb"]);
    assert_eq!(snapshot(&mut r), as_loaded(snapshot(&mut k)));
}

/// Reads a file with keel's reader into (db, &key) → state, checking the checksum on the way.
fn read_with_keel(path: &std::path::Path) -> (Snapshot, Vec<FileItem>) {
    let file = std::fs::File::open(path).expect("open saved file");
    let mut reader = RdbReader::new(
        std::io::BufReader::new(file),
        LoadParams::from_config(&Config::default(), 7),
    )
    .expect("header");
    assert_eq!(reader.version(), 10);
    let mut db = 0i64;
    let mut out = Snapshot::new();
    let mut others = Vec::new();
    loop {
        match reader
            .next_item()
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
        {
            FileItem::End => break,
            FileItem::SelectDb(n) => db = n as i64,
            FileItem::Entry(e) => {
                let content = match &e.value {
                    Value::String(s) => Content::Str(s.to_vec()),
                    Value::List(l) => Content::List(l.iter().map(<[u8]>::to_vec).collect()),
                    Value::Hash(h) => {
                        let mut pairs: Vec<_> = h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
                        pairs.sort();
                        Content::Hash(pairs)
                    }
                    Value::Set(s) => {
                        let mut members: Vec<_> = s.iter().map(<[u8]>::to_vec).collect();
                        members.sort();
                        Content::Set(members)
                    }
                    Value::ZSet(z) => Content::ZSet(z.iter().map(|(m, s)| (m.to_vec(), s)).collect()),
                };
                let state = KeyState {
                    kind: e.value.type_name().to_string(),
                    encoding: e.value.encoding_name().to_string(),
                    content,
                    expire_ms: e.expire_ms.unwrap_or(-1),
                };
                others.push(FileItem::Entry(e.clone()));
                out.insert((db, e.key), state);
            }
            other => others.push(other),
        }
    }
    (out, others)
}

#[test]
fn reference_saved_file_reads_with_keel() {
    let (redis, mut r) = start_reference(&[]);
    populate(&mut r);
    run(&mut r, &["SAVE"]);
    let (loaded, items) = read_with_keel(&redis.dir().join("dump.rdb"));
    let live = snapshot(&mut r);
    assert_eq!(loaded, as_loaded(live.clone()));
    let aux = |name: &[u8]| {
        items.iter().find_map(|i| match i {
            FileItem::Aux { key, value } if key == name => Some(value.clone()),
            _ => None,
        })
    };
    assert_eq!(aux(b"redis-ver").as_deref(), Some(&b"7.0.15"[..]));
    let in_db0 = live.keys().filter(|(db, _)| *db == 0).count() as u64;
    let volatile = live.iter().filter(|((db, _), s)| *db == 0 && s.expire_ms >= 0).count() as u64;
    assert!(
        items.contains(&FileItem::ResizeDb { keys: in_db0, volatile }),
        "{:?}",
        &items[..8]
    );

    // Under LRU and LFU policies each key carries its idle time or its counter.
    for (policy, check) in [("allkeys-lru", true), ("allkeys-lfu", false)] {
        run(&mut r, &["CONFIG", "SET", "maxmemory-policy", policy]);
        run(&mut r, &["SAVE"]);
        let (again, items) = read_with_keel(&redis.dir().join("dump.rdb"));
        assert_eq!(again, loaded);
        for item in items {
            if let FileItem::Entry(e) = item {
                assert_eq!(e.idle_s.is_some(), check, "{policy}");
                assert_eq!(e.freq.is_some(), !check, "{policy}");
            }
        }
    }
}
