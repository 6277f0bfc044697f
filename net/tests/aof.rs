//! The append-only file with real files: persistence across restarts, the directory layout and manifest
//! the reference server writes, torn tails (accepted or refused by `aof-load-truncated`), corruption
//! refused with the file and offset, `appendfsync always` making a write durable before its reply, and
//! interoperability with redis-server (it loads keel's directory, keel loads its).

#[path = "support/files.rs"]
mod files;

use files::Scratch;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use keel_net::TestServer;
use redis::Commands;

impl Scratch {
    /// A file of the append-only directory.
    fn aof(&self, name: &str) -> PathBuf {
        self.path("appendonlydir").join(name)
    }
}

fn start(dir: &Scratch, extra: &[&str]) -> std::io::Result<TestServer> {
    let mut args = vec!["--dir", dir.dir(), "--appendonly", "yes"];
    args.extend_from_slice(extra);
    TestServer::start(&args)
}

fn conn(server: &TestServer) -> redis::Connection {
    redis::Client::open(format!("redis://{}/", server.addr()))
        .and_then(|c| c.get_connection())
        .expect("connect")
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Writes of several types and databases, with and without TTLs.
fn write_sample(c: &mut redis::Connection) {
    let _: () = c.set("s", "v").unwrap();
    let _: () = redis::cmd("SET")
        .arg("ttl")
        .arg("x")
        .arg("EX")
        .arg(1000)
        .query(c)
        .unwrap();
    let _: () = c.rpush("l", &["a", "b", "c"]).unwrap();
    let _: () = c.hset("h", "f", "1").unwrap();
    let _: f64 = redis::cmd("INCRBYFLOAT").arg("f").arg("1.5").query(c).unwrap();
    let _: () = c.sadd("set", &["x", "y", "z"]).unwrap();
    let _: Option<String> = c.spop("set").unwrap();
    let _: () = c.zadd("z", "m", 2).unwrap();
    let _: () = redis::cmd("SELECT").arg(3).query(c).unwrap();
    let _: () = c.set("in3", "yes").unwrap();
    let _: () = redis::cmd("SELECT").arg(0).query(c).unwrap();
}

fn check_sample(c: &mut redis::Connection) {
    assert_eq!(c.get::<_, String>("s").unwrap(), "v");
    let ttl: i64 = c.ttl("ttl").unwrap();
    assert!((900..=1000).contains(&ttl), "ttl {ttl}");
    assert_eq!(c.lrange::<_, Vec<String>>("l", 0, -1).unwrap(), ["a", "b", "c"]);
    assert_eq!(c.hget::<_, _, String>("h", "f").unwrap(), "1");
    assert_eq!(c.get::<_, String>("f").unwrap(), "1.5");
    assert_eq!(c.scard::<_, usize>("set").unwrap(), 2);
    assert_eq!(c.zscore::<_, _, f64>("z", "m").unwrap(), 2.0);
    let _: () = redis::cmd("SELECT").arg(3).query(c).unwrap();
    assert_eq!(c.get::<_, String>("in3").unwrap(), "yes");
    let _: () = redis::cmd("SELECT").arg(0).query(c).unwrap();
}

#[test]
fn data_survives_a_restart_in_the_reference_layout() {
    let dir = Scratch::new("aof-restart");
    {
        let server = start(&dir, &["--aof-use-rdb-preamble", "no"]).unwrap();
        write_sample(&mut conn(&server));
    }
    assert_eq!(
        listing(&dir.path("appendonlydir")),
        [
            "appendonly.aof.1.base.aof",
            "appendonly.aof.1.incr.aof",
            "appendonly.aof.manifest"
        ]
    );
    assert_eq!(
        std::fs::read_to_string(dir.aof("appendonly.aof.manifest")).unwrap(),
        "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
    );
    let server = start(&dir, &[]).unwrap();
    let mut c = conn(&server);
    check_sample(&mut c);
    // The restarted server appends to the same incremental file.
    let _: () = c.set("after", "restart").unwrap();
    drop(server);
    let server = start(&dir, &[]).unwrap();
    assert_eq!(conn(&server).get::<_, String>("after").unwrap(), "restart");
}

#[test]
fn always_makes_a_write_durable_before_its_reply() {
    let dir = Scratch::new("aof-always");
    let server = start(&dir, &["--appendfsync", "always"]).unwrap();
    let mut c = conn(&server);
    let _: () = c.set("k", "durable").unwrap();
    // The reply came back: the bytes are already in the file (and were fsynced before it was sent).
    let incr = std::fs::read(dir.aof("appendonly.aof.1.incr.aof")).unwrap();
    assert_eq!(
        incr,
        b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$7\r\ndurable\r\n"
    );
    let info: String = redis::cmd("INFO").arg("persistence").query(&mut c).unwrap();
    assert!(info.contains("aof_enabled:1\r\n"), "{info}");
    assert!(info.contains("aof_last_write_status:ok\r\n"), "{info}");
    assert!(info.contains(&format!("aof_current_size:{}\r\n", incr.len())), "{info}");
}

/// Starts once to create the files, writes `a` and `b`, then appends `tail` to the incremental file.
fn with_tail(name: &str, tail: &[u8]) -> Scratch {
    let dir = Scratch::new(name);
    {
        let server = start(&dir, &["--appendfsync", "always"]).unwrap();
        let mut c = conn(&server);
        let _: () = c.set("a", "1").unwrap();
        let _: () = c.set("b", "2").unwrap();
    }
    let path = dir.aof("appendonly.aof.1.incr.aof");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(tail);
    std::fs::write(&path, bytes).unwrap();
    dir
}

#[test]
fn a_torn_tail_is_dropped_only_when_allowed() {
    let torn = b"*3\r\n$3\r\nset\r\n$1\r\nc\r\n$2\r\n3";
    let dir = with_tail("torn-no", torn);
    let err = start(&dir, &["--aof-load-truncated", "no"]).err().expect("refused");
    assert!(
        err.to_string().contains("appendonly.aof.1.incr.aof") && err.to_string().contains("Unexpected end of file"),
        "{err}"
    );

    let dir = with_tail("torn-yes", torn);
    let path = dir.aof("appendonly.aof.1.incr.aof");
    let full = std::fs::metadata(&path).unwrap().len();
    let server = start(&dir, &["--aof-load-truncated", "yes"]).unwrap();
    let mut c = conn(&server);
    assert_eq!(c.get::<_, String>("b").unwrap(), "2");
    assert_eq!(c.get::<_, Option<String>>("c").unwrap(), None);
    assert_eq!(
        std::fs::metadata(&path).unwrap().len(),
        full - torn.len() as u64,
        "the file is cut back to its last complete command"
    );
    // New writes follow the last complete command, so the file stays loadable.
    let _: () = c.set("c", "again").unwrap();
    drop(server);
    let server = start(&dir, &["--aof-load-truncated", "no"]).unwrap();
    assert_eq!(conn(&server).get::<_, String>("c").unwrap(), "again");
}

#[test]
fn a_corrupt_middle_is_refused_with_file_and_offset() {
    let dir = with_tail("corrupt", b"");
    let path = dir.aof("appendonly.aof.1.incr.aof");
    let mut bytes = std::fs::read(&path).unwrap();
    let good = bytes.len();
    bytes.extend_from_slice(b"*3\r\n$3\r\nset\r\n#1\r\nc\r\n$1\r\n3\r\n*1\r\n$4\r\nPING\r\n");
    std::fs::write(&path, bytes).unwrap();
    let err = start(&dir, &["--aof-load-truncated", "yes"]).err().expect("refused");
    let text = err.to_string();
    assert!(text.contains("Bad file format"), "{text}");
    assert!(text.contains("appendonly.aof.1.incr.aof"), "{text}");
    assert!(text.contains(&format!("offset {}", good + 13)), "{text}");
}

/// A redis-server on a free port over `dir`, killed when dropped.
struct Reference(Child, u16);

impl Reference {
    fn start(dir: &Scratch, extra: &[&str]) -> Option<Reference> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--dir", dir.dir()])
            .args(["--save", "", "--appendonly", "yes"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let r = Reference(child, port);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(mut c) =
                redis::Client::open(format!("redis://127.0.0.1:{port}/")).and_then(|c| c.get_connection())
            {
                if redis::cmd("PING").query::<String>(&mut c).is_ok() {
                    return Some(r);
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    fn conn(&self) -> redis::Connection {
        redis::Client::open(format!("redis://127.0.0.1:{}/", self.1))
            .and_then(|c| c.get_connection())
            .expect("connect to redis-server")
    }
}

impl Drop for Reference {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn have_reference() -> bool {
    Command::new("redis-server").arg("--version").output().is_ok()
}

#[test]
fn interoperates_with_the_reference_server() {
    if !have_reference() {
        eprintln!("redis-server not installed: interop not checked");
        return;
    }
    // The reference server writes the same layout keel does (command-stream base).
    let theirs = Scratch::new("aof-ref-layout");
    {
        let r = Reference::start(&theirs, &["--aof-use-rdb-preamble", "no", "--appendfsync", "always"])
            .expect("redis-server");
        write_sample(&mut r.conn());
    }
    assert_eq!(
        listing(&theirs.path("appendonlydir")),
        [
            "appendonly.aof.1.base.aof",
            "appendonly.aof.1.incr.aof",
            "appendonly.aof.manifest"
        ]
    );
    // keel loads the reference server's directory...
    {
        let server = start(&theirs, &[]).unwrap();
        check_sample(&mut conn(&server));
    }
    // ...and the reference server loads keel's.
    let ours = Scratch::new("aof-ours");
    {
        let server = start(&ours, &["--aof-use-rdb-preamble", "no"]).unwrap();
        write_sample(&mut conn(&server));
    }
    assert_eq!(
        std::fs::read(ours.aof("appendonly.aof.manifest")).unwrap(),
        std::fs::read(theirs.aof("appendonly.aof.manifest")).unwrap()
    );
    let r = Reference::start(&ours, &["--aof-use-rdb-preamble", "no"]).expect("redis-server");
    check_sample(&mut r.conn());
}

/// Polls INFO persistence until no rewrite runs and `aof_rewrites` reached `n`.
fn wait_for_rewrites(c: &mut redis::Connection, n: u64) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let info: String = redis::cmd("INFO").arg("persistence").query(c).unwrap();
        if info.contains("aof_rewrite_in_progress:0\r\n") && info.contains(&format!("aof_rewrites:{n}\r\n")) {
            return info;
        }
        assert!(Instant::now() < deadline, "rewrite did not finish: {info}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn bgrewriteaof_while_writing_keeps_every_write() {
    let dir = Scratch::new("aof-rewrite");
    let server = start(&dir, &["--appendfsync", "always"]).unwrap();
    let addr = server.addr();
    let mut c = conn(&server);
    for i in 0..2000 {
        let _: () = c.hset("big", format!("f{i}"), i).unwrap();
    }
    // A writer keeps incrementing while the rewrite runs; every acknowledged INCR must survive.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut w = redis::Client::open(format!("redis://{addr}/"))
                .unwrap()
                .get_connection()
                .unwrap();
            let mut acked = 0u64;
            while !stop.load(Ordering::Relaxed) || acked < 50 {
                let _: i64 = w.incr("counter", 1).unwrap();
                acked += 1;
            }
            acked
        })
    };
    std::thread::sleep(Duration::from_millis(20));
    let started: String = redis::cmd("BGREWRITEAOF").query(&mut c).unwrap();
    assert_eq!(started, "Background append only file rewriting started");
    wait_for_rewrites(&mut c, 1);
    stop.store(true, Ordering::Relaxed);
    let acked = writer.join().unwrap();
    let _: () = c.set("after", "rewrite").unwrap();
    drop(server);
    assert_eq!(
        listing(&dir.path("appendonlydir")),
        [
            "appendonly.aof.2.base.rdb",
            "appendonly.aof.2.incr.aof",
            "appendonly.aof.manifest"
        ]
    );
    assert_eq!(
        std::fs::read_to_string(dir.aof("appendonly.aof.manifest")).unwrap(),
        "file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n"
    );
    let server = start(&dir, &[]).unwrap();
    let mut c = conn(&server);
    assert_eq!(c.get::<_, u64>("counter").unwrap(), acked);
    assert_eq!(c.hlen::<_, usize>("big").unwrap(), 2000);
    assert_eq!(c.get::<_, String>("after").unwrap(), "rewrite");
    drop(server);
    // The reference server loads the rewritten directory (RDB-preamble base and incr file) too.
    if have_reference() {
        let r = Reference::start(&dir, &[]).expect("redis-server");
        let mut c = r.conn();
        assert_eq!(c.get::<_, u64>("counter").unwrap(), acked);
        assert_eq!(c.hlen::<_, usize>("big").unwrap(), 2000);
        assert_eq!(c.get::<_, String>("after").unwrap(), "rewrite");
    }
}

#[test]
fn a_fresh_directory_has_an_rdb_preamble_base_like_the_reference() {
    let dir = Scratch::new("aof-fresh-rdb");
    {
        let server = start(&dir, &[]).unwrap();
        let _: () = conn(&server).set("k", "v").unwrap();
    }
    assert_eq!(
        std::fs::read_to_string(dir.aof("appendonly.aof.manifest")).unwrap(),
        "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
    );
    assert!(std::fs::read(dir.aof("appendonly.aof.1.base.rdb"))
        .unwrap()
        .starts_with(b"REDIS"));
    let server = start(&dir, &[]).unwrap();
    assert_eq!(conn(&server).get::<_, String>("k").unwrap(), "v");
}

#[test]
fn config_set_appendonly_yes_writes_a_base_of_the_current_data() {
    let dir = Scratch::new("aof-runtime-on");
    {
        let server = TestServer::start(&["--dir", dir.dir(), "--appendonly", "no"]).unwrap();
        let mut c = conn(&server);
        write_sample(&mut c);
        let _: () = redis::cmd("CONFIG")
            .arg("SET")
            .arg("appendonly")
            .arg("yes")
            .query(&mut c)
            .unwrap();
        wait_for_rewrites(&mut c, 1);
        let _: () = c.set("later", "too").unwrap();
    }
    assert_eq!(
        std::fs::read_to_string(dir.aof("appendonly.aof.manifest")).unwrap(),
        "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
    );
    let server = start(&dir, &[]).unwrap();
    let mut c = conn(&server);
    check_sample(&mut c);
    assert_eq!(c.get::<_, String>("later").unwrap(), "too");
}

#[test]
fn a_rewrite_scheduled_inside_exec_runs_from_cron() {
    let dir = Scratch::new("aof-scheduled");
    let server = start(&dir, &[]).unwrap();
    let mut c = conn(&server);
    let _: () = c.set("a", "1").unwrap();
    let replies: Vec<String> = redis::pipe().atomic().cmd("BGREWRITEAOF").query(&mut c).unwrap();
    assert_eq!(replies, ["Background append only file rewriting scheduled"]);
    wait_for_rewrites(&mut c, 1);
    drop(server);
    assert_eq!(
        std::fs::read_to_string(dir.aof("appendonly.aof.manifest")).unwrap(),
        "file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n"
    );
    let server = start(&dir, &[]).unwrap();
    assert_eq!(conn(&server).get::<_, String>("a").unwrap(), "1");
}
