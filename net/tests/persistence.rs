//! Snapshots end to end: real keel servers over TCP, real files in a scratch directory, and a disk
//! that fails on demand (a `Storage` wrapping the real one).

#[path = "support/files.rs"]
mod files;

use files::Scratch;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use keel_net::storage::{OsStorage, Storage, StorageFile};
use keel_net::TestServer;

/// A reply, as text: `+OK`, `-ERR ...`, `:1`, `$value` (`$nil` for null), arrays as `[a, b]`.
fn read_reply(r: &mut BufReader<TcpStream>) -> String {
    let mut line = String::new();
    r.read_line(&mut line).expect("read reply");
    let line = line.trim_end_matches("\r\n").to_string();
    let (kind, rest) = line.split_at(1);
    match kind {
        "+" | "-" | ":" => line,
        "$" => {
            let len: i64 = rest.parse().expect("bulk length");
            if len < 0 {
                return "$nil".into();
            }
            let mut buf = vec![0u8; len as usize + 2];
            r.read_exact(&mut buf).expect("bulk body");
            format!("${}", String::from_utf8_lossy(&buf[..len as usize]))
        }
        "*" => {
            let n: i64 = rest.parse().expect("array length");
            let items: Vec<String> = (0..n.max(0)).map(|_| read_reply(r)).collect();
            format!("[{}]", items.join(", "))
        }
        _ => panic!("unexpected reply line {line:?}"),
    }
}

/// One client connection.
struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    fn connect(server: &TestServer) -> Client {
        let stream = TcpStream::connect(server.addr()).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        Client {
            reader: BufReader::new(stream.try_clone().unwrap()),
            writer: stream,
        }
    }

    fn send(&mut self, args: &[&str]) {
        let mut out = format!("*{}\r\n", args.len());
        for a in args {
            out.push_str(&format!("${}\r\n{a}\r\n", a.len()));
        }
        self.writer.write_all(out.as_bytes()).expect("send");
    }

    /// Sends every command in one write (one pipelined batch) and reads every reply.
    fn pipeline(&mut self, commands: &[Vec<String>]) -> Vec<String> {
        let mut out = String::new();
        for args in commands {
            out.push_str(&format!("*{}\r\n", args.len()));
            for a in args {
                out.push_str(&format!("${}\r\n{a}\r\n", a.len()));
            }
        }
        self.writer.write_all(out.as_bytes()).expect("send");
        commands.iter().map(|_| read_reply(&mut self.reader)).collect()
    }

    fn cmd(&mut self, args: &[&str]) -> String {
        self.send(args);
        read_reply(&mut self.reader)
    }

    /// The value of an `INFO persistence` field.
    fn info_field(&mut self, name: &str) -> String {
        let info = self.cmd(&["INFO", "persistence"]);
        info.split("\r\n")
            .find_map(|l| l.strip_prefix(&format!("{name}:")).map(String::from))
            .unwrap_or_else(|| panic!("no {name} in {info}"))
    }

    /// Waits until no background save runs.
    fn wait_for_bgsave(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.info_field("rdb_bgsave_in_progress") != "0" {
            assert!(Instant::now() < deadline, "background save never finished");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

fn start(dir: &Path, extra: &[&str]) -> io::Result<TestServer> {
    start_on(dir, extra, None)
}

fn start_on(dir: &Path, extra: &[&str], storage: Option<Arc<dyn Storage>>) -> io::Result<TestServer> {
    let dir = dir.to_str().unwrap().to_string();
    let mut args = vec!["--dir", dir.as_str(), "--enable-debug-command", "yes"];
    args.extend_from_slice(extra);
    TestServer::start_with_storage(&args, storage)
}

/// A disk whose writes, fsyncs or renames fail while the matching switch is on.
#[derive(Default)]
struct FlakyDisk {
    fail_writes: AtomicBool,
    fail_sync: AtomicBool,
    fail_rename: AtomicBool,
}

struct FlakyFile {
    inner: Box<dyn StorageFile>,
    disk: Arc<FlakyDisk>,
}

impl StorageFile for FlakyFile {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        if self.disk.fail_writes.load(Ordering::SeqCst) {
            return Err(io::Error::other("injected write failure (ENOSPC)"));
        }
        self.inner.write_all(buf)
    }

    fn sync(&mut self) -> io::Result<()> {
        if self.disk.fail_sync.load(Ordering::SeqCst) {
            return Err(io::Error::other("injected fsync failure (EIO)"));
        }
        self.inner.sync()
    }
}

struct FlakyStorage(Arc<FlakyDisk>);

impl Storage for FlakyStorage {
    fn create(&self, path: &Path) -> io::Result<Box<dyn StorageFile>> {
        Ok(Box::new(FlakyFile {
            inner: OsStorage.create(path)?,
            disk: self.0.clone(),
        }))
    }
    fn append(&self, path: &Path) -> io::Result<Box<dyn StorageFile>> {
        Ok(Box::new(FlakyFile {
            inner: OsStorage.append(path)?,
            disk: self.0.clone(),
        }))
    }
    fn open(&self, path: &Path) -> io::Result<Box<dyn Read + Send>> {
        OsStorage.open(path)
    }
    fn size(&self, path: &Path) -> io::Result<Option<u64>> {
        OsStorage.size(path)
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        if self.0.fail_rename.load(Ordering::SeqCst) {
            return Err(io::Error::other("injected rename failure (crash before the rename)"));
        }
        OsStorage.rename(from, to)
    }
    fn remove(&self, path: &Path) -> io::Result<()> {
        OsStorage.remove(path)
    }
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        OsStorage.create_dir_all(dir)
    }
    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        OsStorage.list(dir)
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        OsStorage.sync_dir(dir)
    }

    fn truncate(&self, path: &Path, len: u64) -> io::Result<()> {
        OsStorage.truncate(path, len)
    }
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

#[test]
fn save_then_restart_loads_every_type_and_ttl() {
    let scratch = Scratch::new("persist-restart");
    let dir = scratch.root().to_path_buf();
    {
        let server = start(&dir, &[]).unwrap();
        let mut c = Client::connect(&server);
        assert_eq!(c.cmd(&["SET", "plain", "value"]), "+OK");
        assert_eq!(c.cmd(&["SET", "number", "12345"]), "+OK");
        assert_eq!(c.cmd(&["SET", "ttl", "soon", "EX", "1000"]), "+OK");
        assert_eq!(c.cmd(&["RPUSH", "list", "a", "b", "c"]), ":3");
        assert_eq!(c.cmd(&["HSET", "hash", "f1", "v1", "f2", "v2"]), ":2");
        assert_eq!(c.cmd(&["SADD", "set", "x", "y", "1"]), ":3");
        assert_eq!(c.cmd(&["ZADD", "zset", "1.5", "m1", "-2", "m2"]), ":2");
        assert_eq!(c.cmd(&["SELECT", "3"]), "+OK");
        assert_eq!(c.cmd(&["SET", "in-db-3", "yes"]), "+OK");
        assert_eq!(c.info_field("rdb_changes_since_last_save"), "8");
        let before = c.cmd(&["LASTSAVE"]);
        assert_eq!(c.cmd(&["SAVE"]), "+OK");
        assert_eq!(c.info_field("rdb_changes_since_last_save"), "0");
        assert!(c.cmd(&["LASTSAVE"]) >= before);
    }
    let server = start(&dir, &[]).unwrap();
    let mut c = Client::connect(&server);
    assert_eq!(c.cmd(&["GET", "plain"]), "$value");
    assert_eq!(c.cmd(&["GET", "number"]), "$12345");
    let ttl: i64 = c.cmd(&["TTL", "ttl"])[1..].parse().unwrap();
    assert!((990..=1000).contains(&ttl), "TTL survives: {ttl}");
    assert_eq!(c.cmd(&["TTL", "plain"]), ":-1");
    assert_eq!(c.cmd(&["LRANGE", "list", "0", "-1"]), "[$a, $b, $c]");
    assert_eq!(c.cmd(&["HGET", "hash", "f2"]), "$v2");
    assert_eq!(c.cmd(&["SCARD", "set"]), ":3");
    assert_eq!(c.cmd(&["ZSCORE", "zset", "m1"]), "$1.5");
    assert_eq!(c.cmd(&["DBSIZE"]), ":7");
    assert_eq!(c.cmd(&["SELECT", "3"]), "+OK");
    assert_eq!(c.cmd(&["GET", "in-db-3"]), "$yes");
    assert_eq!(c.info_field("rdb_last_load_keys_loaded"), "8");
}

#[test]
fn bgsave_writes_the_point_in_time_state_while_writes_continue() {
    let scratch = Scratch::new("persist-bgsave");
    let dir = scratch.root().to_path_buf();
    let keys = 20_000;
    {
        let server = start(&dir, &[]).unwrap();
        let mut c = Client::connect(&server);
        let mset: Vec<String> = std::iter::once("MSET".to_string())
            .chain((0..keys).flat_map(|i| [format!("key:{i}"), format!("old-{i}")]))
            .collect();
        assert_eq!(c.pipeline(&[mset])[0], "+OK");
        assert_eq!(c.cmd(&["RPUSH", "list", "a"]), ":1");
        // The writes arrive in the same batch as BGSAVE, so they run before the saver's first chunk.
        let mut batch = vec![strings(&["BGSAVE"]), strings(&["BGSAVE"]), strings(&["SAVE"])];
        for i in (0..keys).step_by(3) {
            batch.push(strings(&["SET", &format!("key:{i}"), "new"]));
        }
        batch.push(strings(&["DEL", "key:1"]));
        batch.push(strings(&["RPUSH", "list", "b"]));
        batch.push(strings(&["SET", "created-later", "x"]));
        // The original database 0 moves to index 1 and is emptied while the snapshot still walks it.
        batch.push(strings(&["SWAPDB", "0", "1"]));
        batch.push(strings(&["SELECT", "1"]));
        batch.push(strings(&["FLUSHDB"]));
        batch.push(strings(&["SELECT", "0"]));
        let replies = c.pipeline(&batch);
        assert_eq!(replies[0], "+Background saving started");
        assert_eq!(replies[1], "-ERR Background save already in progress");
        assert_eq!(replies[2], "-ERR Background save already in progress");
        c.wait_for_bgsave();
        assert_eq!(c.info_field("rdb_last_bgsave_status"), "ok");
        assert_ne!(
            c.info_field("rdb_changes_since_last_save"),
            "0",
            "changes after the start stay unsaved"
        );
    }
    let server = start(&dir, &[]).unwrap();
    let mut c = Client::connect(&server);
    assert_eq!(c.cmd(&["DBSIZE"]), format!(":{}", keys + 1));
    for i in [0, 1, 2, 3, 9_999, keys - 1] {
        assert_eq!(c.cmd(&["GET", &format!("key:{i}")]), format!("$old-{i}"));
    }
    assert_eq!(c.cmd(&["LRANGE", "list", "0", "-1"]), "[$a]");
    assert_eq!(c.cmd(&["EXISTS", "created-later"]), ":0");
    assert_eq!(c.cmd(&["SELECT", "1"]), "+OK");
    assert_eq!(c.cmd(&["DBSIZE"]), ":0");
}

#[test]
fn failed_background_save_refuses_writes_until_a_save_succeeds() {
    let scratch = Scratch::new("persist-misconf");
    let dir = scratch.root().to_path_buf();
    let disk = Arc::new(FlakyDisk::default());
    let server = start_on(&dir, &["--save", "3600 1"], Some(Arc::new(FlakyStorage(disk.clone())))).unwrap();
    let mut c = Client::connect(&server);
    assert_eq!(c.cmd(&["SET", "k", "v"]), "+OK");
    disk.fail_sync.store(true, Ordering::SeqCst);
    assert_eq!(c.cmd(&["BGSAVE"]), "+Background saving started");
    c.wait_for_bgsave();
    assert_eq!(c.info_field("rdb_last_bgsave_status"), "err");
    let misconf = c.cmd(&["SET", "k", "w"]);
    assert!(
        misconf.starts_with("-MISCONF Redis is configured to save RDB snapshots"),
        "{misconf}"
    );
    assert!(c.cmd(&["PING"]).starts_with("-MISCONF"));
    assert_eq!(c.cmd(&["GET", "k"]), "$v", "reads are still served");
    assert_eq!(c.cmd(&["SAVE"]), "-ERR", "a foreground save fails too");
    assert_eq!(c.cmd(&["CONFIG", "SET", "stop-writes-on-bgsave-error", "no"]), "+OK");
    assert_eq!(c.cmd(&["SET", "k2", "v"]), "+OK");
    assert_eq!(c.cmd(&["CONFIG", "SET", "stop-writes-on-bgsave-error", "yes"]), "+OK");
    assert!(c.cmd(&["DEL", "k2"]).starts_with("-MISCONF"));
    // SHUTDOWN must not stop a server whose data it could not save.
    assert_eq!(c.cmd(&["SHUTDOWN"]), "-ERR Errors trying to SHUTDOWN. Check logs.");
    disk.fail_sync.store(false, Ordering::SeqCst);
    assert_eq!(c.cmd(&["BGSAVE"]), "+Background saving started");
    c.wait_for_bgsave();
    assert_eq!(c.info_field("rdb_last_bgsave_status"), "ok");
    assert_eq!(c.cmd(&["SET", "k", "w"]), "+OK");
    // Write failures count the same as fsync failures.
    disk.fail_writes.store(true, Ordering::SeqCst);
    assert_eq!(c.cmd(&["BGSAVE"]), "+Background saving started");
    c.wait_for_bgsave();
    assert_eq!(c.info_field("rdb_last_bgsave_status"), "err");
    assert!(c.cmd(&["SET", "k", "x"]).starts_with("-MISCONF"));
}

#[test]
fn an_interrupted_save_leaves_the_previous_snapshot() {
    let scratch = Scratch::new("persist-crash");
    let dir = scratch.root().to_path_buf();
    let disk = Arc::new(FlakyDisk::default());
    {
        let server = start_on(&dir, &[], Some(Arc::new(FlakyStorage(disk.clone())))).unwrap();
        let mut c = Client::connect(&server);
        assert_eq!(c.cmd(&["SET", "k", "first"]), "+OK");
        assert_eq!(c.cmd(&["SAVE"]), "+OK");
        assert_eq!(c.cmd(&["SET", "k", "second"]), "+OK");
        disk.fail_rename.store(true, Ordering::SeqCst);
        assert_eq!(c.cmd(&["SAVE"]), "-ERR");
        assert_eq!(c.info_field("rdb_changes_since_last_save"), "1");
    }
    let names = OsStorage.list(&dir).unwrap();
    assert_eq!(names, vec!["dump.rdb".to_string()], "no temporary file is left behind");
    let server = start(&dir, &[]).unwrap();
    let mut c = Client::connect(&server);
    assert_eq!(c.cmd(&["GET", "k"]), "$first");
}

#[test]
fn a_corrupt_file_stops_the_start_and_a_missing_one_does_not() {
    let scratch = Scratch::new("persist-corrupt");
    let dir = scratch.root().to_path_buf();
    {
        let server = start(&dir, &[]).unwrap();
        let mut c = Client::connect(&server);
        assert_eq!(c.cmd(&["DBSIZE"]), ":0", "no file: empty");
        assert_eq!(c.cmd(&["SET", "k", "some value to damage"]), "+OK");
        assert_eq!(c.cmd(&["SAVE"]), "+OK");
    }
    let path = dir.join("dump.rdb");
    let mut bytes = std::fs::read(&path).unwrap();
    let len = bytes.len();
    bytes[len - 12] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    let err = start(&dir, &[]).err().expect("a corrupt file refuses the start");
    let text = err.to_string();
    assert!(text.contains("byte offset"), "{text}");
    bytes.truncate(len - 20);
    std::fs::write(&path, &bytes).unwrap();
    let text = start(&dir, &[])
        .err()
        .expect("a truncated file refuses the start")
        .to_string();
    assert!(text.contains("byte offset"), "{text}");
}

#[test]
fn debug_reload_and_flushall_with_save_points() {
    let scratch = Scratch::new("persist-reload");
    let dir = scratch.root().to_path_buf();
    let server = start(&dir, &["--save", "3600 1"]).unwrap();
    let mut c = Client::connect(&server);
    assert_eq!(c.cmd(&["SET", "k", "v", "PX", "500000"]), "+OK");
    assert_eq!(c.cmd(&["HSET", "h", "f", "1"]), ":1");
    assert_eq!(c.cmd(&["DEBUG", "RELOAD"]), "+OK");
    assert_eq!(c.cmd(&["GET", "k"]), "$v");
    assert_eq!(c.cmd(&["HGET", "h", "f"]), "$1");
    assert_ne!(c.cmd(&["PTTL", "k"]), ":-1");
    assert_eq!(c.cmd(&["SET", "unsaved", "x"]), "+OK");
    assert_eq!(c.cmd(&["DEBUG", "RELOAD", "NOSAVE"]), "+OK");
    assert_eq!(c.cmd(&["EXISTS", "unsaved"]), ":0", "NOSAVE loads the file as it was");
    assert_eq!(
        c.cmd(&["DEBUG", "RELOAD", "x"]),
        "-ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options."
    );
    // FLUSHALL with save points replaces the snapshot with the empty dataset.
    assert_eq!(c.cmd(&["FLUSHALL"]), "+OK");
    c.wait_for_bgsave();
    assert_eq!(c.info_field("rdb_changes_since_last_save"), "0");
    assert_eq!(c.cmd(&["SET", "after", "x"]), "+OK");
    assert_eq!(c.cmd(&["DEBUG", "RELOAD", "NOSAVE"]), "+OK");
    assert_eq!(c.cmd(&["DBSIZE"]), ":0");
}

#[test]
fn shutdown_saves_when_save_points_exist() {
    let scratch = Scratch::new("persist-shutdown");
    let dir = scratch.root().to_path_buf();
    {
        let server = start(&dir, &["--save", "3600 1"]).unwrap();
        let mut c = Client::connect(&server);
        assert_eq!(c.cmd(&["SET", "k", "kept"]), "+OK");
        c.send(&["SHUTDOWN"]);
        let mut rest = Vec::new();
        // No reply: the connection closes once the snapshot is in place.
        let _ = c.reader.read_to_end(&mut rest);
        assert!(rest.is_empty());
        drop(server);
    }
    let server = start(&dir, &[]).unwrap();
    let mut c = Client::connect(&server);
    assert_eq!(c.cmd(&["GET", "k"]), "$kept");
    assert_eq!(c.cmd(&["SET", "k", "lost"]), "+OK");
    c.send(&["SHUTDOWN", "NOSAVE"]);
    let _ = c.reader.read_to_end(&mut Vec::new());
    drop(server);
    let server = start(&dir, &[]).unwrap();
    assert_eq!(Client::connect(&server).cmd(&["GET", "k"]), "$kept");
}

/// A `keel-server` child process on a free port.
struct Child {
    process: std::process::Child,
    port: u16,
}

impl Child {
    fn start(dir: &Path, extra: &[&str]) -> Child {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let process = std::process::Command::new(env!("CARGO_BIN_EXE_keel-server"))
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--dir",
                dir.to_str().unwrap(),
            ])
            .args(extra)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start keel-server");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "keel-server did not listen");
            std::thread::sleep(Duration::from_millis(10));
        }
        Child { process, port }
    }

    fn client(&self) -> Client {
        let stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        Client {
            reader: BufReader::new(stream.try_clone().unwrap()),
            writer: stream,
        }
    }

    fn sigterm(&self) {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.process.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// Waits up to `secs` for the process to exit; `None` if it is still running.
    fn wait_exit(&mut self, secs: u64) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if let Some(status) = self.process.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

#[test]
fn sigterm_saves_first_and_stays_up_when_it_cannot() {
    let scratch = Scratch::new("persist-sigterm");
    let dir = scratch.root().to_path_buf();
    {
        let mut server = Child::start(&dir, &["--save", "3600 1"]);
        assert_eq!(server.client().cmd(&["SET", "k", "v", "EX", "1000"]), "+OK");
        server.sigterm();
        assert!(server.wait_exit(20).expect("exits after saving").success());
    }
    let mut server = Child::start(&dir, &["--save", "3600 1"]);
    let mut c = server.client();
    assert_eq!(c.cmd(&["GET", "k"]), "$v");
    assert_ne!(c.cmd(&["TTL", "k"]), ":-1");
    // A directory where the file must go makes the final save fail: the server keeps running.
    std::fs::remove_file(dir.join("dump.rdb")).unwrap();
    std::fs::create_dir(dir.join("dump.rdb")).unwrap();
    let saves: u64 = c.info_field("rdb_saves").parse().unwrap();
    server.sigterm();
    // Wait for the final save to have been tried and finished; the server must then still serve.
    let deadline = Instant::now() + Duration::from_secs(20);
    while c.info_field("rdb_saves").parse::<u64>().unwrap() == saves || c.info_field("rdb_bgsave_in_progress") != "0" {
        assert!(Instant::now() < deadline, "the final save was never tried");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(c.cmd(&["GET", "k"]), "$v", "a failed final save keeps the server up");
    assert!(server.process.try_wait().unwrap().is_none());
    c.send(&["SHUTDOWN", "NOSAVE"]);
    assert!(server.wait_exit(20).is_some());
}
