//! End-to-end tests through a real client library: the `redis` crate (async, tokio) talks to an
//! in-process keel ([`keel_net::TestServer`] on an ephemeral port) over real TCP sockets.
//!
//! Every test starts its own server, so tests are independent and run in parallel. To check the
//! expectations themselves against another server (say a real redis-server), set
//! `KEEL_TEST_ADDR=host:port`; each test then flushes that server first, so run with
//! `--test-threads=1`.

use std::collections::HashSet;
use std::future::Future;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

mod support;

use redis::aio::MultiplexedConnection;
use redis::{cmd, AsyncCommands, RedisError, RedisResult, Value};
use support::Target;

/// Runs one async test body against a fresh [`Target`]. The server is started outside the tokio
/// runtime (it builds its own), and the body gets the server's `host:port`.
fn run<F, Fut>(body: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = RedisResult<()>>,
{
    let target = Target::start();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    if let Err(e) = runtime.block_on(body(target.addr.clone())) {
        panic!("unexpected redis error: {e:?}");
    }
}

/// Opens a multiplexed connection with the given URL suffix (`""`, `"3"` for database 3,
/// `"?protocol=resp3"`, ...).
async fn connect_with(addr: &str, suffix: &str) -> RedisResult<MultiplexedConnection> {
    redis::Client::open(format!("redis://{addr}/{suffix}"))?
        .get_multiplexed_async_connection()
        .await
}

/// Opens a RESP2 connection on database 0.
async fn connect(addr: &str) -> RedisResult<MultiplexedConnection> {
    connect_with(addr, "").await
}

/// Asserts that `result` is a server error with exactly this code and detail text.
#[track_caller]
fn assert_server_error<T: std::fmt::Debug>(result: RedisResult<T>, code: &str, detail: &str) {
    let err: RedisError = match result {
        Ok(v) => panic!("expected -{code} {detail}, got Ok({v:?})"),
        Err(e) => e,
    };
    assert_eq!(err.code(), Some(code), "error code of {err:?}");
    assert_eq!(err.detail(), Some(detail), "error detail of {err:?}");
}

#[test]
fn set_and_get_with_options() {
    run(|addr| async move {
        let mut c = connect(&addr).await?;
        let ok: Value = cmd("SET").arg("k").arg("v1").query_async(&mut c).await?;
        assert_eq!(ok, Value::Okay);
        let v: Option<String> = c.get("k").await?;
        assert_eq!(v.as_deref(), Some("v1"));

        // NX refuses an existing key, XX a missing one; both answer nil.
        let r: Value = cmd("SET").arg("k").arg("v2").arg("NX").query_async(&mut c).await?;
        assert_eq!(r, Value::Nil);
        let r: Value = cmd("SET").arg("missing").arg("v").arg("XX").query_async(&mut c).await?;
        assert_eq!(r, Value::Nil);
        let r: Value = cmd("SET").arg("k").arg("v2").arg("XX").query_async(&mut c).await?;
        assert_eq!(r, Value::Okay);

        // GET returns the previous value.
        let old: Option<String> = cmd("SET").arg("k").arg("v3").arg("GET").query_async(&mut c).await?;
        assert_eq!(old.as_deref(), Some("v2"));
        let old: Option<String> = cmd("SET").arg("fresh").arg("x").arg("GET").query_async(&mut c).await?;
        assert_eq!(old, None);

        // EX / PX set a TTL, KEEPTTL keeps it, a plain SET clears it.
        let _: () = cmd("SET")
            .arg("k")
            .arg("v")
            .arg("EX")
            .arg(100)
            .query_async(&mut c)
            .await?;
        let ttl: i64 = c.ttl("k").await?;
        assert!((99..=100).contains(&ttl), "ttl after EX 100: {ttl}");
        let _: () = cmd("SET")
            .arg("k")
            .arg("v")
            .arg("PX")
            .arg(200_000)
            .query_async(&mut c)
            .await?;
        let pttl: i64 = c.pttl("k").await?;
        assert!(pttl > 100_000 && pttl <= 200_000, "pttl after PX 200000: {pttl}");
        let _: () = cmd("SET").arg("k").arg("w").arg("KEEPTTL").query_async(&mut c).await?;
        let pttl: i64 = c.pttl("k").await?;
        assert!(pttl > 100_000, "KEEPTTL kept the ttl: {pttl}");
        let _: () = c.set("k", "z").await?;
        let ttl: i64 = c.ttl("k").await?;
        assert_eq!(ttl, -1);

        assert_server_error(
            cmd("SET")
                .arg("k")
                .arg("v")
                .arg("NX")
                .arg("XX")
                .query_async::<Value>(&mut c)
                .await,
            "ERR",
            "syntax error",
        );
        assert_server_error(
            cmd("SET")
                .arg("k")
                .arg("v")
                .arg("EX")
                .arg(0)
                .query_async::<Value>(&mut c)
                .await,
            "ERR",
            "invalid expire time in 'set' command",
        );

        // Values are binary safe.
        let blob: Vec<u8> = vec![0, b'\r', b'\n', 255, b'$', b'*', 0];
        let _: () = c.set("bin", blob.as_slice()).await?;
        let back: Vec<u8> = c.get("bin").await?;
        assert_eq!(back, blob);
        Ok(())
    });
}

#[test]
fn mset_mget_append_and_ranges() {
    run(|addr| async move {
        let mut c = connect(&addr).await?;
        let _: () = cmd("MSET")
            .arg("a")
            .arg("1")
            .arg("b")
            .arg("2")
            .arg("c")
            .arg("3")
            .query_async(&mut c)
            .await?;
        let got: Vec<Option<String>> = cmd("MGET")
            .arg("a")
            .arg("nokey")
            .arg("c")
            .arg("b")
            .query_async(&mut c)
            .await?;
        assert_eq!(got, vec![Some("1".into()), None, Some("3".into()), Some("2".into())]);
        assert_server_error(
            cmd("MSET")
                .arg("a")
                .arg("1")
                .arg("b")
                .query_async::<Value>(&mut c)
                .await,
            "ERR",
            "wrong number of arguments for 'mset' command",
        );

        let len: i64 = c.append("greeting", "Hello").await?;
        assert_eq!(len, 5);
        let len: i64 = c.append("greeting", " World").await?;
        assert_eq!(len, 11);
        let len: i64 = cmd("STRLEN").arg("greeting").query_async(&mut c).await?;
        assert_eq!(len, 11);

        let _: () = c.set("s", "This is a string").await?;
        for (start, end, want) in [
            (0, 3, "This"),
            (-3, -1, "ing"),
            (0, -1, "This is a string"),
            (10, 100, "string"),
        ] {
            let got: String = cmd("GETRANGE").arg("s").arg(start).arg(end).query_async(&mut c).await?;
            assert_eq!(got, want, "GETRANGE s {start} {end}");
        }
        let got: String = cmd("GETRANGE").arg("nokey").arg(0).arg(-1).query_async(&mut c).await?;
        assert_eq!(got, "");

        let len: i64 = c.setrange("greeting", 6, "Redis").await?;
        assert_eq!(len, 11);
        let v: String = c.get("greeting").await?;
        assert_eq!(v, "Hello Redis");
        // SETRANGE past the end of a missing key pads with zero bytes.
        let len: i64 = c.setrange("padded", 5, "Redis").await?;
        assert_eq!(len, 10);
        let v: Vec<u8> = c.get("padded").await?;
        assert_eq!(v, b"\0\0\0\0\0Redis");
        Ok(())
    });
}

#[test]
fn counters() {
    run(|addr| async move {
        let mut c = connect(&addr).await?;
        let n: i64 = c.incr("n", 1).await?;
        assert_eq!(n, 1);
        let n: i64 = cmd("INCR").arg("n").query_async(&mut c).await?;
        assert_eq!(n, 2);
        let n: i64 = cmd("INCRBY").arg("n").arg(40).query_async(&mut c).await?;
        assert_eq!(n, 42);
        let n: i64 = cmd("DECRBY").arg("n").arg(50).query_async(&mut c).await?;
        assert_eq!(n, -8);
        let n: i64 = cmd("DECR").arg("n").query_async(&mut c).await?;
        assert_eq!(n, -9);

        let _: () = c.set("f", "10.50").await?;
        let f: String = cmd("INCRBYFLOAT").arg("f").arg("0.1").query_async(&mut c).await?;
        assert_eq!(f, "10.6");
        let f: String = cmd("INCRBYFLOAT").arg("f").arg("-5").query_async(&mut c).await?;
        assert_eq!(f, "5.6");
        let _: () = c.set("f", "5.0e3").await?;
        let f: String = cmd("INCRBYFLOAT").arg("f").arg("2.0e2").query_async(&mut c).await?;
        assert_eq!(f, "5200");

        let _: () = c.set("max", i64::MAX).await?;
        assert_server_error(
            cmd("INCR").arg("max").query_async::<i64>(&mut c).await,
            "ERR",
            "increment or decrement would overflow",
        );
        Ok(())
    });
}

#[test]
fn errors_surface_as_redis_errors_and_the_connection_survives() {
    run(|addr| async move {
        let mut c = connect(&addr).await?;
        let _: () = c.set("s", "abc").await?;
        assert_server_error(
            cmd("INCR").arg("s").query_async::<i64>(&mut c).await,
            "ERR",
            "value is not an integer or out of range",
        );
        assert_server_error(
            cmd("INCRBYFLOAT").arg("s").arg(1).query_async::<String>(&mut c).await,
            "ERR",
            "value is not a valid float",
        );
        assert_server_error(
            cmd("GET").query_async::<Value>(&mut c).await,
            "ERR",
            "wrong number of arguments for 'get' command",
        );
        assert_server_error(
            cmd("NOSUCHCMD").arg("x").arg("y").query_async::<Value>(&mut c).await,
            "ERR",
            "unknown command 'NOSUCHCMD', with args beginning with: 'x' 'y' ",
        );
        // The failed commands changed nothing and the connection still works.
        let v: String = c.get("s").await?;
        assert_eq!(v, "abc");
        Ok(())
    });
}

#[test]
fn key_commands() {
    run(|addr| async move {
        let mut c = connect(&addr).await?;
        let _: () = cmd("MSET")
            .arg("k1")
            .arg("a")
            .arg("k2")
            .arg("b")
            .arg("k3")
            .arg("c")
            .query_async(&mut c)
            .await?;
        let n: i64 = cmd("EXISTS")
            .arg("k1")
            .arg("k1")
            .arg("nokey")
            .arg("k2")
            .query_async(&mut c)
            .await?;
        assert_eq!(n, 3, "EXISTS counts repeated keys");
        let n: i64 = cmd("DEL").arg("k1").arg("nokey").arg("k2").query_async(&mut c).await?;
        assert_eq!(n, 2);
        let n: i64 = cmd("EXISTS").arg("k1").arg("k2").arg("k3").query_async(&mut c).await?;
        assert_eq!(n, 1);

        let t: String = cmd("TYPE").arg("k3").query_async(&mut c).await?;
        assert_eq!(t, "string");
        let t: String = cmd("TYPE").arg("nokey").query_async(&mut c).await?;
        assert_eq!(t, "none");

        let _: () = cmd("RENAME").arg("k3").arg("renamed").query_async(&mut c).await?;
        let v: Option<String> = c.get("k3").await?;
        assert_eq!(v, None);
        let v: Option<String> = c.get("renamed").await?;
        assert_eq!(v.as_deref(), Some("c"));
        assert_server_error(
            cmd("RENAME").arg("nokey").arg("x").query_async::<Value>(&mut c).await,
            "ERR",
            "no such key",
        );
        let n: i64 = cmd("DBSIZE").query_async(&mut c).await?;
        assert_eq!(n, 1);
        Ok(())
    });
}

#[test]
fn rename_and_move_keep_the_ttl() {
    run(|addr| async move {
        let mut c = connect(&addr).await?;
        let _: () = cmd("SET")
            .arg("a")
            .arg("1")
            .arg("EX")
            .arg(100)
            .query_async(&mut c)
            .await?;
        let _: () = cmd("RENAME").arg("a").arg("b").query_async(&mut c).await?;
        let ttl: i64 = c.ttl("b").await?;
        assert!((99..=100).contains(&ttl), "RENAME keeps the ttl, got {ttl}");

        let n: i64 = cmd("RENAMENX").arg("b").arg("c").query_async(&mut c).await?;
        assert_eq!(n, 1);
        let ttl: i64 = c.ttl("c").await?;
        assert!((99..=100).contains(&ttl), "RENAMENX keeps the ttl, got {ttl}");

        let n: i64 = cmd("MOVE").arg("c").arg(1).query_async(&mut c).await?;
        assert_eq!(n, 1);
        let _: () = cmd("SELECT").arg(1).query_async(&mut c).await?;
        let ttl: i64 = c.ttl("c").await?;
        assert!((99..=100).contains(&ttl), "MOVE keeps the ttl, got {ttl}");
        Ok(())
    });
}

#[test]
fn keys_with_glob_patterns() {
    run(|addr| async move {
        let mut c = connect(&addr).await?;
        for k in ["hello", "hallo", "hxllo", "hllo", "heeeello", "h*llo"] {
            let _: () = c.set(k, 1).await?;
        }
        let cases: &[(&str, &[&str])] = &[
            ("h?llo", &["h*llo", "hallo", "hello", "hxllo"]),
            ("h*llo", &["h*llo", "hallo", "heeeello", "hello", "hllo", "hxllo"]),
            ("h[ae]llo", &["hallo", "hello"]),
            ("h[^e]llo", &["h*llo", "hallo", "hxllo"]),
            ("h[a-b]llo", &["hallo"]),
            ("h\\*llo", &["h*llo"]),
            ("nomatch*", &[]),
        ];
        for (pattern, want) in cases {
            let mut got: Vec<String> = cmd("KEYS").arg(*pattern).query_async(&mut c).await?;
            got.sort();
            assert_eq!(got, *want, "KEYS {pattern}");
        }
        let all: Vec<String> = cmd("KEYS").arg("*").query_async(&mut c).await?;
        assert_eq!(all.len(), 6);
        Ok(())
    });
}

#[test]
fn scan_visits_every_key_of_a_1000_key_database() {
    run(|addr| async move {
        let mut c = connect(&addr).await?;
        let expected: HashSet<String> = (0..1000).map(|i| format!("key:{i}")).collect();
        let mut mset = cmd("MSET");
        for k in &expected {
            mset.arg(k).arg("v");
        }
        let _: () = mset.query_async(&mut c).await?;
        let n: i64 = cmd("DBSIZE").query_async(&mut c).await?;
        assert_eq!(n, 1000);

        // Manual cursor loop: every key is returned at least once, and the walk terminates.
        let mut seen = HashSet::new();
        let mut cursor: u64 = 0;
        let mut rounds = 0;
        loop {
            let (next, batch): (u64, Vec<String>) =
                cmd("SCAN").arg(cursor).arg("COUNT").arg(37).query_async(&mut c).await?;
            seen.extend(batch);
            rounds += 1;
            assert!(rounds < 10_000, "SCAN did not terminate");
            if next == 0 {
                break;
            }
            cursor = next;
        }
        assert_eq!(seen, expected);
        assert!(rounds > 1, "COUNT 37 over 1000 keys should take several calls");

        // MATCH filters; the crate's iterator drives the cursor.
        let mut iter = c.scan_match::<_, String>("key:1*").await?;
        let mut matched = HashSet::new();
        while let Some(item) = iter.next_item().await {
            matched.insert(item?);
        }
        drop(iter);
        let want: HashSet<String> = expected.iter().filter(|k| k.starts_with("key:1")).cloned().collect();
        assert_eq!(want.len(), 111);
        assert_eq!(matched, want);

        // TYPE filters by value type.
        let (_, none): (u64, Vec<String>) = cmd("SCAN")
            .arg(0)
            .arg("COUNT")
            .arg(2000)
            .arg("TYPE")
            .arg("list")
            .query_async(&mut c)
            .await?;
        assert!(none.is_empty());
        Ok(())
    });
}

#[test]
fn expire_ttl_persist() {
    run(|addr| async move {
        let mut c = connect(&addr).await?;
        let _: () = c.set("k", "v").await?;
        let ttl: i64 = c.ttl("k").await?;
        assert_eq!(ttl, -1, "no ttl yet");
        let ttl: i64 = c.ttl("nokey").await?;
        assert_eq!(ttl, -2, "missing key");
        let set: i64 = cmd("EXPIRE").arg("k").arg(100).query_async(&mut c).await?;
        assert_eq!(set, 1);
        let ttl: i64 = c.ttl("k").await?;
        assert!((99..=100).contains(&ttl), "ttl {ttl}");
        let pttl: i64 = c.pttl("k").await?;
        assert!(pttl > 98_000 && pttl <= 100_000, "pttl {pttl}");
        let set: i64 = cmd("EXPIRE").arg("nokey").arg(100).query_async(&mut c).await?;
        assert_eq!(set, 0);

        let n: i64 = cmd("PERSIST").arg("k").query_async(&mut c).await?;
        assert_eq!(n, 1);
        let ttl: i64 = c.ttl("k").await?;
        assert_eq!(ttl, -1);
        let n: i64 = cmd("PERSIST").arg("k").query_async(&mut c).await?;
        assert_eq!(n, 0, "PERSIST without a ttl");

        // A non-positive ttl deletes the key at once.
        let n: i64 = cmd("EXPIRE").arg("k").arg(-1).query_async(&mut c).await?;
        assert_eq!(n, 1);
        let n: i64 = cmd("EXISTS").arg("k").query_async(&mut c).await?;
        assert_eq!(n, 0);
        Ok(())
    });
}

#[test]
fn pexpired_key_is_gone_after_its_time() {
    run(|addr| async move {
        let mut c = connect(&addr).await?;
        let _: () = c.set("short", "v").await?;
        let n: i64 = cmd("PEXPIRE").arg("short").arg(50).query_async(&mut c).await?;
        assert_eq!(n, 1);
        tokio::time::sleep(Duration::from_millis(120)).await;
        let v: Option<String> = c.get("short").await?;
        assert_eq!(v, None);
        let n: i64 = cmd("EXISTS").arg("short").query_async(&mut c).await?;
        assert_eq!(n, 0);
        let ttl: i64 = c.ttl("short").await?;
        assert_eq!(ttl, -2);
        Ok(())
    });
}

#[test]
fn active_expiry_removes_keys_nobody_reads() {
    run(|addr| async move {
        let mut c = connect(&addr).await?;
        for i in 0..20 {
            let _: () = cmd("SET")
                .arg(format!("tmp:{i}"))
                .arg("v")
                .arg("PX")
                .arg(30)
                .query_async(&mut c)
                .await?;
        }
        let _: () = c.set("keep", "v").await?;
        // Only the cron can remove them: nothing touches the keys again. DBSIZE counts keys that are
        // logically expired but not yet removed, so it drops only when active expiry ran.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let n: i64 = cmd("DBSIZE").query_async(&mut c).await?;
            if n == 1 {
                break;
            }
            assert!(Instant::now() < deadline, "active expiry left {n} keys after 10 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    });
}

#[test]
fn a_100_command_pipeline_answers_in_order() {
    run(|addr| async move {
        let mut c = connect(&addr).await?;
        let mut pipe = redis::pipe();
        for i in 0..25 {
            pipe.cmd("SET").arg(format!("p:{i}")).arg(format!("value-{i}"));
            pipe.cmd("INCR").arg("p:counter");
            pipe.cmd("GET").arg(format!("p:{i}"));
            pipe.cmd("APPEND").arg("p:log").arg(format!("{i},"));
        }
        assert_eq!(pipe.len(), 100);
        let replies: Vec<Value> = pipe.query_async(&mut c).await?;
        assert_eq!(replies.len(), 100);
        let mut log_len = 0;
        for i in 0..25 {
            let r = &replies[i * 4..i * 4 + 4];
            assert_eq!(r[0], Value::Okay, "SET #{i}");
            assert_eq!(r[1], Value::Int(i as i64 + 1), "INCR #{i}");
            assert_eq!(r[2], Value::BulkString(format!("value-{i}").into_bytes()), "GET #{i}");
            log_len += format!("{i},").len() as i64;
            assert_eq!(r[3], Value::Int(log_len), "APPEND #{i}");
        }

        // An error in the middle of a pipeline only fails its own command.
        let mut pipe = redis::pipe();
        pipe.cmd("SET").arg("x").arg("notanumber");
        pipe.cmd("INCR").arg("x");
        pipe.cmd("GET").arg("x");
        let replies: Vec<RedisResult<Value>> = pipe.ignore_errors().query_async(&mut c).await?;
        assert_eq!(replies.len(), 3);
        assert_eq!(replies[0].as_ref().ok(), Some(&Value::Okay));
        assert_eq!(
            replies[1].as_ref().err().and_then(|e| e.detail()),
            Some("value is not an integer or out of range")
        );
        assert_eq!(
            replies[2].as_ref().ok(),
            Some(&Value::BulkString(b"notanumber".to_vec()))
        );
        Ok(())
    });
}

#[test]
fn select_isolates_databases() {
    run(|addr| async move {
        let mut db0 = connect(&addr).await?;
        let mut db3 = connect_with(&addr, "3").await?; // the crate sends SELECT 3 on connect
        let _: () = db3.set("where", "three").await?;
        let _: () = db0.set("where", "zero").await?;
        let v: String = db3.get("where").await?;
        assert_eq!(v, "three");
        let v: String = db0.get("where").await?;
        assert_eq!(v, "zero");
        let n: i64 = cmd("DBSIZE").query_async(&mut db3).await?;
        assert_eq!(n, 1);

        // SELECT on the same connection switches its database.
        let _: () = cmd("SELECT").arg(3).query_async(&mut db0).await?;
        let v: String = db0.get("where").await?;
        assert_eq!(v, "three");
        let _: () = cmd("SELECT").arg(15).query_async(&mut db0).await?;
        let v: Option<String> = db0.get("where").await?;
        assert_eq!(v, None);

        assert_server_error(
            cmd("SELECT").arg(16).query_async::<Value>(&mut db0).await,
            "ERR",
            "DB index is out of range",
        );
        assert_server_error(
            cmd("SELECT").arg(-1).query_async::<Value>(&mut db0).await,
            "ERR",
            "DB index is out of range",
        );
        assert_server_error(
            cmd("SELECT").arg("abc").query_async::<Value>(&mut db0).await,
            "ERR",
            "value is not an integer or out of range",
        );
        // A failed SELECT leaves the database unchanged.
        let n: i64 = cmd("DBSIZE").query_async(&mut db0).await?;
        assert_eq!(n, 0, "still on database 15");
        Ok(())
    });
}

#[test]
fn resp3_through_the_crate() {
    run(|addr| async move {
        // The crate sends HELLO 3 during connection setup and fails the connection if it is refused.
        let mut c = connect_with(&addr, "?protocol=resp3").await?;
        let hello: Value = cmd("HELLO").arg(3).query_async(&mut c).await?;
        let Value::Map(fields) = hello else {
            panic!("HELLO 3 must answer a RESP3 map, got {hello:?}");
        };
        let get = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| *k == Value::BulkString(name.as_bytes().to_vec()))
                .map(|(_, v)| v.clone())
        };
        let names: Vec<Value> = fields.iter().map(|(k, _)| k.clone()).collect();
        let want: Vec<Value> = ["server", "version", "proto", "id", "mode", "role", "modules"]
            .iter()
            .map(|n| Value::BulkString(n.as_bytes().to_vec()))
            .collect();
        assert_eq!(names, want);
        assert_eq!(get("proto"), Some(Value::Int(3)));
        assert_eq!(get("mode"), Some(Value::BulkString(b"standalone".to_vec())));
        assert_eq!(get("role"), Some(Value::BulkString(b"master".to_vec())));
        assert_eq!(get("modules"), Some(Value::Array(vec![])));

        let v: Value = cmd("GET").arg("nokey").query_async(&mut c).await?;
        assert_eq!(v, Value::Nil);
        let _: () = c.set("k", "v").await?;
        let v: Value = cmd("GET").arg("k").query_async(&mut c).await?;
        assert_eq!(v, Value::BulkString(b"v".to_vec()));
        assert_server_error(
            cmd("HELLO").arg(4).query_async::<Value>(&mut c).await,
            "NOPROTO",
            "unsupported protocol version",
        );
        Ok(())
    });
}

/// Sends `request` on `stream` and reads until the bytes received end with `suffix` (or the server
/// stays silent for 5 s).
fn exchange(stream: &mut TcpStream, request: &[u8], suffix: &[u8]) -> Vec<u8> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    stream.write_all(request).unwrap();
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    while !got.ends_with(suffix) {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&chunk[..n]),
        }
    }
    got
}

/// Replaces the digits of the `id` field in a HELLO reply with `N`, since ids differ per connection.
fn mask_hello_id(reply: &[u8]) -> Vec<u8> {
    let marker = b"$2\r\nid\r\n:";
    let Some(pos) = reply.windows(marker.len()).position(|w| w == marker) else {
        return reply.to_vec();
    };
    let start = pos + marker.len();
    let end = start + reply[start..].iter().take_while(|b| b.is_ascii_digit()).count();
    [&reply[..start], b"N", &reply[end..]].concat()
}

#[test]
fn hello_3_over_a_raw_socket() {
    let target = Target::start();
    let mut s = TcpStream::connect(&target.addr).unwrap();
    // Recorded from redis-server 7.0.15 (id masked; keel reports itself as redis 7.0.15 for compatibility).
    let hello3: &[u8] = b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n\
$2\r\nid\r\n:N\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n";
    let hello2: &[u8] = b"*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:2\r\n\
$2\r\nid\r\n:N\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n";

    let hello_end: &[u8] = b"$7\r\nmodules\r\n*0\r\n";
    let got = exchange(&mut s, b"HELLO 3\r\n", hello_end);
    assert_eq!(
        String::from_utf8_lossy(&mask_hello_id(&got)),
        String::from_utf8_lossy(hello3)
    );

    // In RESP3 a missing key is the null type `_`.
    assert_eq!(exchange(&mut s, b"GET nokey\r\n", b"\r\n"), b"_\r\n");
    assert_eq!(
        exchange(&mut s, b"HELLO 4\r\n", b"\r\n"),
        b"-NOPROTO unsupported protocol version\r\n"
    );

    // Back to RESP2: the same fields as a flat array, and nil as `$-1`.
    let got = exchange(&mut s, b"HELLO 2\r\n", hello_end);
    assert_eq!(
        String::from_utf8_lossy(&mask_hello_id(&got)),
        String::from_utf8_lossy(hello2)
    );
    assert_eq!(exchange(&mut s, b"GET nokey\r\n", b"\r\n"), b"$-1\r\n");
}

#[test]
fn client_setname_getname_id() {
    run(|addr| async move {
        let mut a = connect(&addr).await?;
        let mut b = connect(&addr).await?;
        let name: Option<String> = cmd("CLIENT").arg("GETNAME").query_async(&mut a).await?;
        assert_eq!(name, None);
        let ok: Value = cmd("CLIENT").arg("SETNAME").arg("itest-a").query_async(&mut a).await?;
        assert_eq!(ok, Value::Okay);
        let name: Option<String> = cmd("CLIENT").arg("GETNAME").query_async(&mut a).await?;
        assert_eq!(name.as_deref(), Some("itest-a"));
        let name: Option<String> = cmd("CLIENT").arg("GETNAME").query_async(&mut b).await?;
        assert_eq!(name, None, "names are per connection");

        assert_server_error(
            cmd("CLIENT")
                .arg("SETNAME")
                .arg("has space")
                .query_async::<Value>(&mut a)
                .await,
            "ERR",
            "Client names cannot contain spaces, newlines or special characters.",
        );
        // An empty name clears it.
        let _: () = cmd("CLIENT").arg("SETNAME").arg("").query_async(&mut a).await?;
        let name: Option<String> = cmd("CLIENT").arg("GETNAME").query_async(&mut a).await?;
        assert_eq!(name, None);

        let id_a: i64 = cmd("CLIENT").arg("ID").query_async(&mut a).await?;
        let id_b: i64 = cmd("CLIENT").arg("ID").query_async(&mut b).await?;
        assert!(id_a > 0 && id_b > 0);
        assert!(id_b > id_a, "ids grow with each connection: {id_a} then {id_b}");
        let again: i64 = cmd("CLIENT").arg("ID").query_async(&mut a).await?;
        assert_eq!(again, id_a, "an id is stable for the connection's life");
        Ok(())
    });
}

#[test]
fn atomic_pipelines_and_data_types() {
    run(|addr| async move {
        let mut c = connect(&addr).await?;
        // `atomic()` wraps the pipeline in MULTI/EXEC; the crate unpacks the EXEC array.
        let (count, len, added, score): (i64, i64, i64, f64) = redis::pipe()
            .atomic()
            .cmd("INCR")
            .arg("tx:n")
            .cmd("RPUSH")
            .arg("tx:l")
            .arg("a")
            .arg("b")
            .cmd("SADD")
            .arg("tx:s")
            .arg("x")
            .cmd("ZINCRBY")
            .arg("tx:z")
            .arg(2.5)
            .arg("m")
            .query_async(&mut c)
            .await?;
        assert_eq!((count, len, added, score), (1, 2, 1, 2.5));
        let items: Vec<String> = c.lrange("tx:l", 0, -1).await?;
        assert_eq!(items, ["a", "b"]);
        c.hset::<_, _, _, ()>("tx:h", "f", "v").await?;
        let field: String = c.hget("tx:h", "f").await?;
        assert_eq!(field, "v");
        Ok(())
    });
}
