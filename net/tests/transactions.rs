//! Transactions through real sockets with several connections: WATCH invalidated by another client's
//! write, by a flush from another client, and by a watched key expiring; EXEC running atomically with
//! respect to other clients.
//!
//! Every expected reply was checked against redis-server 7.0.15: set `KEEL_TEST_ADDR=host:port` to run
//! this file against another server (each test flushes it first; use `--test-threads=1`).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

mod support;

use support::Target;

impl Target {
    fn conn(&self) -> Conn {
        let s = TcpStream::connect(&self.addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        Conn { s }
    }
}

/// One connection speaking RESP2; replies are read whole by waiting for the expected length.
struct Conn {
    s: TcpStream,
}

impl Conn {
    /// Sends a command and reads its reply, which must be exactly `expected`.
    fn expect(&mut self, args: &[&str], expected: &str) {
        let got = self.call_len(args, expected.len());
        assert_eq!(got, expected, "reply to {args:?}");
    }

    fn call_len(&mut self, args: &[&str], len: usize) -> String {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
        }
        self.s.write_all(&out).expect("write");
        let mut buf = vec![0u8; len];
        self.s.read_exact(&mut buf).expect("read reply");
        String::from_utf8_lossy(&buf).into_owned()
    }

    fn call(&mut self, args: &[&str]) {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
        }
        self.s.write_all(&out).expect("write");
        let mut buf = [0u8; 64];
        let _ = self.s.read(&mut buf).expect("read reply");
    }
}

fn transaction(c: &mut Conn, expected_exec: &str) {
    c.expect(&["MULTI"], "+OK\r\n");
    c.expect(&["INCR", "counter"], "+QUEUED\r\n");
    c.expect(&["EXEC"], expected_exec);
}

#[test]
fn another_clients_write_fails_exec() {
    let t = Target::start();
    let (mut a, mut b) = (t.conn(), t.conn());
    a.expect(&["SET", "k", "1"], "+OK\r\n");
    a.expect(&["WATCH", "k"], "+OK\r\n");
    b.expect(&["SET", "k", "2"], "+OK\r\n");
    transaction(&mut a, "*-1\r\n");
    a.expect(&["GET", "counter"], "$-1\r\n");

    // Writes to other keys, reads and failed conditional writes of the key change nothing.
    a.expect(&["WATCH", "k"], "+OK\r\n");
    b.expect(&["SET", "other", "x"], "+OK\r\n");
    b.expect(&["GET", "k"], "$1\r\n2\r\n");
    b.expect(&["SET", "k", "3", "NX"], "$-1\r\n");
    transaction(&mut a, "*1\r\n:1\r\n");

    // A list push, a rename onto the key, an expire.
    for write in [
        &["RPUSH", "l", "x"][..],
        &["RENAME", "other", "l"][..],
        &["PEXPIRE", "l", "100000"][..],
    ] {
        a.expect(&["WATCH", "l"], "+OK\r\n");
        b.call(write);
        transaction(&mut a, "*-1\r\n");
    }
}

#[test]
fn another_clients_flush_fails_exec() {
    let t = Target::start();
    let (mut a, mut b) = (t.conn(), t.conn());
    a.expect(&["SET", "k", "1"], "+OK\r\n");
    a.expect(&["WATCH", "k"], "+OK\r\n");
    b.expect(&["FLUSHDB"], "+OK\r\n");
    transaction(&mut a, "*-1\r\n");
    a.expect(&["SET", "k", "1"], "+OK\r\n");
    a.expect(&["WATCH", "k"], "+OK\r\n");
    b.expect(&["SWAPDB", "0", "1"], "+OK\r\n");
    transaction(&mut a, "*-1\r\n");
    b.expect(&["FLUSHALL"], "+OK\r\n");
}

#[test]
fn expiry_of_a_watched_key_fails_exec() {
    let t = Target::start();
    let mut a = t.conn();
    // Expired but not yet removed at EXEC time.
    a.expect(&["SET", "k", "v", "PX", "100"], "+OK\r\n");
    a.expect(&["WATCH", "k"], "+OK\r\n");
    std::thread::sleep(Duration::from_millis(300));
    transaction(&mut a, "*-1\r\n");
    // Removed by a lazy read of another client in between.
    let mut b = t.conn();
    a.expect(&["SET", "k", "v", "PX", "100"], "+OK\r\n");
    a.expect(&["WATCH", "k"], "+OK\r\n");
    std::thread::sleep(Duration::from_millis(300));
    b.expect(&["GET", "k"], "$-1\r\n");
    transaction(&mut a, "*-1\r\n");
    // A key that never expires within the wait is fine.
    a.expect(&["SET", "k", "v", "PX", "100000"], "+OK\r\n");
    a.expect(&["WATCH", "k"], "+OK\r\n");
    transaction(&mut a, "*1\r\n:1\r\n");
}

#[test]
fn exec_is_atomic_for_other_clients() {
    let t = Target::start();
    let (mut a, mut b) = (t.conn(), t.conn());
    a.expect(&["MULTI"], "+OK\r\n");
    a.expect(&["SET", "x", "1"], "+QUEUED\r\n");
    // Queued commands have not run yet.
    b.expect(&["GET", "x"], "$-1\r\n");
    a.expect(&["SET", "y", "2"], "+QUEUED\r\n");
    a.expect(&["EXEC"], "*2\r\n+OK\r\n+OK\r\n");
    b.expect(&["MGET", "x", "y"], "*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
}
