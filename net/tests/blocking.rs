//! Blocking commands through real sockets, with several connections: first-come first-served wake-ups,
//! wake-ups by plain pushes, by `MULTI`/`EXEC` and by `RENAME`, timeouts, disconnects while blocked,
//! `CLIENT UNBLOCK`, keys deleted or changing type while clients wait, and pipelined commands held
//! behind a blocking one.
//!
//! Every expected reply was checked against redis-server 7.0.15: set `KEEL_TEST_ADDR=host:port` to run
//! this file against another server (each test flushes it first; use `--test-threads=1`).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread::sleep;
use std::time::{Duration, Instant};

mod support;

use support::Target;

/// Time given to a command sent on one connection to take effect before another connection acts.
const SETTLE: Duration = Duration::from_millis(100);

impl Target {
    fn conn(&self) -> Conn {
        let s = TcpStream::connect(&self.addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        Conn { s, buf: Vec::new() }
    }
}

/// One connection speaking RESP2.
struct Conn {
    s: TcpStream,
    buf: Vec<u8>,
}

fn encode(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
    out
}

/// The length of the first complete RESP value in `b`, if it is complete.
fn complete(b: &[u8]) -> Option<usize> {
    let line_end = b.windows(2).position(|w| w == b"\r\n")?;
    let head = std::str::from_utf8(&b[1..line_end]).ok()?;
    let after = line_end + 2;
    match b[0] {
        b'+' | b'-' | b':' | b'_' | b',' => Some(after),
        b'$' => {
            let n: i64 = head.parse().ok()?;
            if n < 0 {
                return Some(after);
            }
            let end = after + n as usize + 2;
            (b.len() >= end).then_some(end)
        }
        b'*' | b'%' | b'~' => {
            let n: i64 = head.parse().ok()?;
            let n = if b[0] == b'%' { 2 * n } else { n };
            let mut at = after;
            for _ in 0..n.max(0) {
                at += complete(&b[at..])?;
            }
            Some(at)
        }
        _ => None,
    }
}

impl Conn {
    fn send(&mut self, args: &[&str]) {
        self.s.write_all(&encode(args)).expect("write");
    }

    /// Reads one complete reply.
    fn read(&mut self) -> Vec<u8> {
        loop {
            if let Some(n) = complete(&self.buf) {
                return self.buf.drain(..n).collect();
            }
            let mut chunk = [0u8; 4096];
            let n = self.s.read(&mut chunk).expect("read reply");
            assert!(n > 0, "connection closed");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    fn call(&mut self, args: &[&str]) -> Vec<u8> {
        self.send(args);
        self.read()
    }

    /// Asserts nothing arrives for a while (the connection is blocked).
    fn assert_silent(&mut self) {
        self.s
            .set_read_timeout(Some(Duration::from_millis(150)))
            .expect("timeout");
        let mut chunk = [0u8; 64];
        match self.s.read(&mut chunk) {
            Ok(0) => panic!("connection closed"),
            Ok(n) => panic!("unexpected reply {:?}", String::from_utf8_lossy(&chunk[..n])),
            Err(_) => {}
        }
        self.s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    }

    fn id(&mut self) -> String {
        let r = self.call(&["CLIENT", "ID"]);
        String::from_utf8_lossy(&r[1..r.len() - 2]).into_owned()
    }
}

fn s(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn first_blocked_is_first_served() {
    let t = Target::start();
    let mut waiters: Vec<Conn> = (0..3).map(|_| t.conn()).collect();
    for w in &mut waiters {
        w.send(&["BLPOP", "k", "0"]);
        sleep(SETTLE);
    }
    let mut p = t.conn();
    assert_eq!(s(&p.call(&["RPUSH", "k", "a", "b", "c", "d"])), ":4\r\n");
    for (w, v) in waiters.iter_mut().zip(["a", "b", "c"]) {
        assert_eq!(s(&w.read()), format!("*2\r\n$1\r\nk\r\n$1\r\n{v}\r\n"));
    }
    assert_eq!(s(&p.call(&["LRANGE", "k", "0", "-1"])), "*1\r\n$1\r\nd\r\n");
}

#[test]
fn push_wakes_a_client_blocked_on_several_keys() {
    let t = Target::start();
    let mut w = t.conn();
    w.send(&["BRPOP", "a", "b", "0"]);
    sleep(SETTLE);
    w.assert_silent();
    let mut p = t.conn();
    assert_eq!(s(&p.call(&["LPUSH", "b", "x", "y"])), ":2\r\n");
    assert_eq!(s(&w.read()), "*2\r\n$1\r\nb\r\n$1\r\nx\r\n");
    // The connection goes on normally afterwards.
    assert_eq!(s(&w.call(&["PING"])), "+PONG\r\n");
    assert_eq!(s(&p.call(&["LRANGE", "b", "0", "-1"])), "*1\r\n$1\r\ny\r\n");
}

#[test]
fn exec_wakes_after_the_whole_transaction() {
    let t = Target::start();
    let (mut w1, mut w2) = (t.conn(), t.conn());
    w1.send(&["BLPOP", "k", "0"]);
    sleep(SETTLE);
    w2.send(&["BLPOP", "k", "0"]);
    sleep(SETTLE);
    let mut p = t.conn();
    assert_eq!(s(&p.call(&["MULTI"])), "+OK\r\n");
    assert_eq!(s(&p.call(&["RPUSH", "k", "1", "2", "3"])), "+QUEUED\r\n");
    w1.assert_silent();
    assert_eq!(s(&p.call(&["LPOP", "k"])), "+QUEUED\r\n");
    // Only what is left once EXEC finished is served.
    assert_eq!(s(&p.call(&["EXEC"])), "*2\r\n:3\r\n$1\r\n1\r\n");
    assert_eq!(s(&w1.read()), "*2\r\n$1\r\nk\r\n$1\r\n2\r\n");
    assert_eq!(s(&w2.read()), "*2\r\n$1\r\nk\r\n$1\r\n3\r\n");
    assert_eq!(s(&p.call(&["EXISTS", "k"])), ":0\r\n");
}

#[test]
fn timeouts_expire_and_the_connection_goes_on() {
    let t = Target::start();
    let mut w = t.conn();
    let start = Instant::now();
    assert_eq!(s(&w.call(&["BLPOP", "k", "0.2"])), "*-1\r\n");
    assert!(start.elapsed() >= Duration::from_millis(190), "{:?}", start.elapsed());
    assert_eq!(s(&w.call(&["BLMOVE", "k", "d", "LEFT", "LEFT", "0.05"])), "*-1\r\n");
    assert_eq!(s(&w.call(&["BZPOPMIN", "z", "0.05"])), "*-1\r\n");
    assert_eq!(s(&w.call(&["HELLO", "3"]))[..1], *"%");
    assert_eq!(s(&w.call(&["BZMPOP", "0.05", "1", "z", "MIN"])), "_\r\n");
    assert_eq!(s(&w.call(&["PING"])), "+PONG\r\n");
}

#[test]
fn pipelined_commands_wait_behind_a_blocked_one() {
    let t = Target::start();
    let mut w = t.conn();
    let mut both = encode(&["BLPOP", "k", "0"]);
    both.extend_from_slice(&encode(&["SET", "after", "1"]));
    w.s.write_all(&both).expect("write");
    sleep(SETTLE);
    let mut p = t.conn();
    assert_eq!(s(&p.call(&["GET", "after"])), "$-1\r\n");
    assert_eq!(s(&p.call(&["RPUSH", "k", "v"])), ":1\r\n");
    assert_eq!(s(&w.read()), "*2\r\n$1\r\nk\r\n$1\r\nv\r\n");
    assert_eq!(s(&w.read()), "+OK\r\n");
    assert_eq!(s(&p.call(&["GET", "after"])), "$1\r\n1\r\n");
}

#[test]
fn disconnected_waiter_is_forgotten() {
    let t = Target::start();
    let mut gone = t.conn();
    gone.send(&["BLPOP", "k", "0"]);
    sleep(SETTLE);
    drop(gone);
    sleep(SETTLE);
    let mut w = t.conn();
    w.send(&["BLPOP", "k", "0"]);
    sleep(SETTLE);
    let mut p = t.conn();
    assert_eq!(s(&p.call(&["RPUSH", "k", "v"])), ":1\r\n");
    assert_eq!(s(&w.read()), "*2\r\n$1\r\nk\r\n$1\r\nv\r\n");
    // With nobody left waiting a push stays in the list.
    assert_eq!(s(&p.call(&["RPUSH", "k", "v2"])), ":1\r\n");
    assert_eq!(s(&p.call(&["LLEN", "k"])), ":1\r\n");
}

#[test]
fn client_unblock_times_out_or_fails_the_waiter() {
    let t = Target::start();
    let mut w = t.conn();
    let id = w.id();
    let mut p = t.conn();
    assert_eq!(s(&p.call(&["CLIENT", "UNBLOCK", &id])), ":0\r\n");
    w.send(&["BLPOP", "k", "0"]);
    sleep(SETTLE);
    assert_eq!(s(&p.call(&["CLIENT", "UNBLOCK", &id])), ":1\r\n");
    assert_eq!(s(&w.read()), "*-1\r\n");
    w.send(&["BLMOVE", "k", "d", "LEFT", "RIGHT", "0"]);
    sleep(SETTLE);
    assert_eq!(s(&p.call(&["CLIENT", "UNBLOCK", &id, "TIMEOUT"])), ":1\r\n");
    assert_eq!(s(&w.read()), "*-1\r\n");
    w.send(&["BZPOPMAX", "z", "0"]);
    sleep(SETTLE);
    assert_eq!(s(&p.call(&["CLIENT", "UNBLOCK", &id, "ERROR"])), ":1\r\n");
    assert_eq!(s(&w.read()), "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n");
    assert_eq!(s(&p.call(&["CLIENT", "UNBLOCK", &id, "ERROR"])), ":0\r\n");
    assert_eq!(s(&w.call(&["PING"])), "+PONG\r\n");
}

#[test]
fn deleted_or_retyped_key_keeps_clients_waiting() {
    let t = Target::start();
    let mut w = t.conn();
    w.send(&["BLPOP", "k", "0"]);
    sleep(SETTLE);
    let mut p = t.conn();
    assert_eq!(s(&p.call(&["SET", "k", "str"])), "+OK\r\n");
    assert_eq!(s(&p.call(&["DEL", "k"])), ":1\r\n");
    assert_eq!(s(&p.call(&["ZADD", "k", "1", "m"])), ":1\r\n");
    w.assert_silent();
    assert_eq!(s(&p.call(&["DEL", "k"])), ":1\r\n");
    assert_eq!(s(&p.call(&["RPUSH", "k", "v1", "v2"])), ":2\r\n");
    assert_eq!(s(&w.read()), "*2\r\n$1\r\nk\r\n$2\r\nv1\r\n");

    // A sorted-set waiter is not served by a list, then is by a sorted set.
    assert_eq!(s(&p.call(&["DEL", "k"])), ":1\r\n");
    w.send(&["BZPOPMIN", "k", "0"]);
    sleep(SETTLE);
    assert_eq!(s(&p.call(&["RPUSH", "k", "v3"])), ":1\r\n");
    w.assert_silent();
    assert_eq!(s(&p.call(&["DEL", "k"])), ":1\r\n");
    assert_eq!(s(&p.call(&["ZADD", "k", "2.5", "m"])), ":1\r\n");
    assert_eq!(s(&w.read()), "*3\r\n$1\r\nk\r\n$1\r\nm\r\n$3\r\n2.5\r\n");
}

#[test]
fn rename_onto_a_waited_key_serves() {
    let t = Target::start();
    let mut w = t.conn();
    w.send(&["BLPOP", "k", "0"]);
    sleep(SETTLE);
    let mut p = t.conn();
    assert_eq!(s(&p.call(&["RPUSH", "tmp", "v"])), ":1\r\n");
    assert_eq!(s(&p.call(&["RENAME", "tmp", "k"])), "+OK\r\n");
    assert_eq!(s(&w.read()), "*2\r\n$1\r\nk\r\n$1\r\nv\r\n");
}

#[test]
fn blmove_chains_to_the_next_waiter() {
    let t = Target::start();
    let (mut mover, mut popper) = (t.conn(), t.conn());
    mover.send(&["BLMOVE", "a", "b", "RIGHT", "LEFT", "0"]);
    sleep(SETTLE);
    popper.send(&["BRPOP", "b", "0"]);
    sleep(SETTLE);
    let mut p = t.conn();
    assert_eq!(s(&p.call(&["RPUSH", "a", "x"])), ":1\r\n");
    assert_eq!(s(&mover.read()), "$1\r\nx\r\n");
    assert_eq!(s(&popper.read()), "*2\r\n$1\r\nb\r\n$1\r\nx\r\n");
    assert_eq!(s(&p.call(&["EXISTS", "a", "b"])), ":0\r\n");

    // A destination of the wrong type fails the waiter and leaves the element in the source.
    mover.send(&["BLMOVE", "a", "s", "LEFT", "RIGHT", "0"]);
    sleep(SETTLE);
    assert_eq!(s(&p.call(&["SET", "s", "str"])), "+OK\r\n");
    assert_eq!(s(&p.call(&["RPUSH", "a", "e"])), ":1\r\n");
    assert_eq!(
        s(&mover.read()),
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    );
    assert_eq!(s(&p.call(&["LRANGE", "a", "0", "-1"])), "*1\r\n$1\r\ne\r\n");
}

#[test]
fn blmpop_and_bzmpop_are_served_with_counts() {
    let t = Target::start();
    let (mut l, mut z) = (t.conn(), t.conn());
    l.send(&["BLMPOP", "0", "2", "l1", "l2", "LEFT", "COUNT", "2"]);
    z.send(&["BZMPOP", "0", "1", "z", "MAX", "COUNT", "5"]);
    sleep(SETTLE);
    let mut p = t.conn();
    assert_eq!(s(&p.call(&["RPUSH", "l2", "a", "b", "c"])), ":3\r\n");
    assert_eq!(s(&l.read()), "*2\r\n$2\r\nl2\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n");
    assert_eq!(s(&p.call(&["ZADD", "z", "1", "m", "2", "n"])), ":2\r\n");
    assert_eq!(
        s(&z.read()),
        "*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\nn\r\n$1\r\n2\r\n*2\r\n$1\r\nm\r\n$1\r\n1\r\n"
    );
    assert_eq!(s(&p.call(&["EXISTS", "z"])), ":0\r\n");
}
