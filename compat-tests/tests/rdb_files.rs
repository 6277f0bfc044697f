//! Snapshot files end to end between keel and the reference server (a real `redis-server` 7.0):
//!
//! (a) keel `BGSAVE` while writes continue → `redis-server` started on that file holds exactly the
//!     dataset as it was when the save began (every key, value, encoding-independent content and TTL);
//! (b) `redis-server` `SAVE` → keel started on that file holds the same dataset.
//!
//! Codec-level interop (every encoding, DUMP payloads) lives in `rdb_interop.rs`; these tests go
//! through the servers' own save and load paths and real files.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use keel_compat_tests::reference::ReferenceServer;
use keel_net::TestServer;
use redis::Connection;

/// Everything observable about one key: type, content in a canonical order, absolute expiry (-1: none).
type State = BTreeMap<(i64, Vec<u8>), (String, Vec<Vec<u8>>, i64)>;

/// Databases the dataset uses.
const DBS: [i64; 3] = [0, 2, 15];

fn connect(addr: &str) -> Connection {
    redis::Client::open(format!("redis://{addr}/"))
        .and_then(|c| c.get_connection())
        .unwrap_or_else(|e| panic!("connect to {addr}: {e}"))
}

fn cmd<T: redis::FromRedisValue>(con: &mut Connection, args: &[&str]) -> T {
    let mut c = redis::Cmd::new();
    for a in args {
        c.arg(*a);
    }
    c.query(con).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn run(con: &mut Connection, args: &[&str]) {
    let _: redis::Value = cmd(con, args);
}

/// Every type, small and large encodings, TTLs, in several databases.
fn populate(con: &mut Connection) {
    let far = "4102444800000"; // 2100-01-01, absolute ms
    for db in DBS {
        run(con, &["SELECT", &db.to_string()]);
        for i in 0..300 {
            run(con, &["SET", &format!("key:{i}"), &format!("value-{i}")]);
        }
        run(con, &["SET", "int", "-42"]);
        run(con, &["SET", "long", &"compress me ".repeat(100)]);
        run(con, &["SET", "ttl", "x"]);
        run(con, &["PEXPIREAT", "ttl", far]);
        run(con, &["RPUSH", "list:small", "a", "1", "b"]);
        let many: Vec<String> = (0..2000).map(|i| format!("item-{i}")).collect();
        let mut args = vec!["RPUSH", "list:big"];
        args.extend(many.iter().map(String::as_str));
        run(con, &args);
        run(con, &["HSET", "hash:small", "f", "v", "n", "7"]);
        let mut args = vec!["HSET".to_string(), "hash:big".to_string()];
        for i in 0..600 {
            args.push(format!("f{i}"));
            args.push(format!("v{i}"));
        }
        run(con, &args.iter().map(String::as_str).collect::<Vec<_>>());
        run(con, &["SADD", "set:ints", "1", "2", "-3", "70000"]);
        run(con, &["SADD", "set:strs", "a", "b", "c"]);
        run(con, &["PEXPIREAT", "set:strs", far]);
        let mut args = vec!["ZADD".to_string(), "zset:big".to_string()];
        for i in 0..300 {
            args.push(format!("{}", i as f64 / 3.0));
            args.push(format!("m{i}"));
        }
        run(con, &args.iter().map(String::as_str).collect::<Vec<_>>());
        run(con, &["ZADD", "zset:small", "1.5", "a", "-inf", "b"]);
    }
    run(con, &["SELECT", "0"]);
}

/// Reads every key of the dataset's databases.
fn state(con: &mut Connection) -> State {
    let mut out = State::new();
    for db in DBS {
        run(con, &["SELECT", &db.to_string()]);
        let keys: Vec<Vec<u8>> = cmd(con, &["KEYS", "*"]);
        for key in keys {
            let k = String::from_utf8(key.clone()).expect("utf-8 keys");
            let kind: String = cmd(con, &["TYPE", &k]);
            let mut content: Vec<Vec<u8>> = match kind.as_str() {
                "string" => vec![cmd(con, &["GET", &k])],
                "list" => cmd(con, &["LRANGE", &k, "0", "-1"]),
                "hash" => cmd(con, &["HGETALL", &k]),
                "set" => cmd(con, &["SMEMBERS", &k]),
                "zset" => cmd(con, &["ZRANGE", &k, "0", "-1", "WITHSCORES"]),
                other => panic!("unexpected type {other}"),
            };
            if kind == "hash" {
                // Field-value pairs in field order.
                let mut pairs: Vec<Vec<Vec<u8>>> = content.chunks(2).map(|c| c.to_vec()).collect();
                pairs.sort();
                content = pairs.concat();
            } else if kind == "set" {
                content.sort();
            }
            let expire: i64 = cmd(con, &["PEXPIRETIME", &k]);
            out.insert((db, key), (kind, content, expire));
        }
    }
    run(con, &["SELECT", "0"]);
    out
}

struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new(name: &str) -> ScratchDir {
        let dir = std::env::temp_dir().join(format!("keel-rdb-files-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        ScratchDir(dir)
    }

    fn arg(&self) -> String {
        self.0.to_string_lossy().into_owned()
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn keel_background_save_loads_into_the_reference_as_of_its_start() {
    let dir = ScratchDir::new("keel-to-ref");
    let keel = TestServer::start(&["--dir", &dir.arg()]).expect("start keel");
    let mut k = connect(&keel.addr());
    populate(&mut k);
    let expected = state(&mut k);
    assert!(expected.len() > 900, "dataset present");
    // BGSAVE and the writes go out in one pipeline: the writes run while the snapshot is being
    // written, before its first chunk.
    let mut pipe = redis::pipe();
    pipe.cmd("BGSAVE");
    for i in 0..300 {
        pipe.cmd("SET").arg(format!("key:{i}")).arg("changed");
    }
    pipe.cmd("DEL").arg("list:big");
    pipe.cmd("HSET").arg("hash:small").arg("new").arg("field");
    pipe.cmd("PERSIST").arg("ttl");
    pipe.cmd("SET").arg("created-during-save").arg("1");
    pipe.cmd("FLUSHDB");
    let replies: Vec<redis::Value> = pipe.query(&mut k).expect("pipeline");
    assert_eq!(
        replies[0],
        redis::Value::SimpleString("Background saving started".into())
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let info: String = cmd(&mut k, &["INFO", "persistence"]);
        if info.contains("rdb_bgsave_in_progress:0") {
            assert!(info.contains("rdb_last_bgsave_status:ok"), "{info}");
            break;
        }
        assert!(Instant::now() < deadline, "background save never finished");
        std::thread::sleep(Duration::from_millis(10));
    }
    let reference =
        ReferenceServer::start_with(&["--dir", &dir.arg(), "--dbfilename", "dump.rdb"]).expect("start redis-server");
    let mut r = connect(&reference.addr());
    assert_eq!(state(&mut r), expected);
}

#[test]
fn reference_save_loads_into_keel() {
    let reference = ReferenceServer::start().expect("start redis-server");
    let mut r = connect(&reference.addr());
    populate(&mut r);
    let expected = state(&mut r);
    run(&mut r, &["SAVE"]);
    let dir = ScratchDir::new("ref-to-keel");
    std::fs::copy(reference.dir().join("dump.rdb"), dir.0.join("dump.rdb")).expect("copy the reference's file");
    let keel = TestServer::start(&["--dir", &dir.arg()]).expect("start keel on the reference's file");
    let mut k = connect(&keel.addr());
    assert_eq!(state(&mut k), expected);
    let info: String = cmd(&mut k, &["INFO", "persistence"]);
    assert!(
        info.contains(&format!("rdb_last_load_keys_loaded:{}", expected.len())),
        "{info}"
    );
}
