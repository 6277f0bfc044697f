//! Loading many keys fast over one connection with pipelined RESP, for the memory figures.
//!
//! Owns the memory workloads (what keys and values each writes) and the pipelined writer. It sends a
//! bounded batch and reads all its replies before the next, so neither side buffers without bound.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// What to load.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// `SET key:N vNNNNNNNNNNNNNNN`: small string keys with a 16-byte value (not an integer, so no
    /// server can store it as a number).
    Strings,
    /// `HSET hash:N f0 v0 .. f9 v9`.
    Hashes,
    /// `SADD set:N m0 .. m9` (non-integer members).
    Sets,
    /// `ZADD zset:N 0 m0 .. 9 m9`.
    Zsets,
}

impl Workload {
    pub const ALL: [Workload; 4] = [Workload::Strings, Workload::Hashes, Workload::Sets, Workload::Zsets];

    /// A description for tables.
    pub fn describe(self) -> &'static str {
        match self {
            Workload::Strings => "string key `key:N` -> 16-byte value",
            Workload::Hashes => "hash of 10 fields",
            Workload::Sets => "set of 10 members",
            Workload::Zsets => "zset of 10 members",
        }
    }

    /// The command that creates key number `i`.
    pub fn command(self, i: u64) -> Vec<Vec<u8>> {
        let word = |s: String| s.into_bytes();
        match self {
            Workload::Strings => vec![b"SET".to_vec(), word(format!("key:{i}")), word(format!("v{i:015}"))],
            Workload::Hashes => {
                let mut c = vec![b"HSET".to_vec(), word(format!("hash:{i}"))];
                for f in 0..10 {
                    c.push(word(format!("f{f}")));
                    c.push(word(format!("v{f}")));
                }
                c
            }
            Workload::Sets => {
                let mut c = vec![b"SADD".to_vec(), word(format!("set:{i}"))];
                c.extend((0..10).map(|m| word(format!("m{m}"))));
                c
            }
            Workload::Zsets => {
                let mut c = vec![b"ZADD".to_vec(), word(format!("zset:{i}"))];
                for m in 0..10 {
                    c.push(word(m.to_string()));
                    c.push(word(format!("m{m}")));
                }
                c
            }
        }
    }
}

/// Commands per pipelined batch.
const BATCH: u64 = 1000;

/// Creates keys `0..count` of `workload` on the server at `addr`. Fails on the first error reply.
pub fn load(addr: &str, workload: Workload, count: u64) -> io::Result<()> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut req = Vec::new();
    let mut start = 0;
    while start < count {
        let end = (start + BATCH).min(count);
        req.clear();
        for i in start..end {
            encode(&workload.command(i), &mut req);
        }
        stream.write_all(&req)?;
        read_simple_replies(&mut stream, (end - start) as usize)?;
        start = end;
    }
    Ok(())
}

/// Appends `words` as a RESP multibulk request.
pub fn encode(words: &[Vec<u8>], out: &mut Vec<u8>) {
    out.extend_from_slice(format!("*{}\r\n", words.len()).as_bytes());
    for w in words {
        out.extend_from_slice(format!("${}\r\n", w.len()).as_bytes());
        out.extend_from_slice(w);
        out.extend_from_slice(b"\r\n");
    }
}

/// Reads `n` one-line replies (`+OK`, `:10`), failing on an error reply (`-...`).
fn read_simple_replies(stream: &mut TcpStream, n: usize) -> io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut seen = 0;
    let mut line_start = true;
    while seen < n {
        let got = stream.read(&mut buf)?;
        if got == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "server closed the connection",
            ));
        }
        for &b in &buf[..got] {
            if line_start && b == b'-' {
                return Err(io::Error::other("the server answered an error while loading"));
            }
            line_start = b == b'\n';
            seen += usize::from(line_start);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_well_formed() {
        let mut out = Vec::new();
        encode(&Workload::Strings.command(7), &mut out);
        assert_eq!(out, b"*3\r\n$3\r\nSET\r\n$5\r\nkey:7\r\n$16\r\nv000000000000007\r\n");
        assert_eq!(Workload::Hashes.command(1).len(), 22);
        assert_eq!(Workload::Sets.command(1).len(), 12);
        assert_eq!(Workload::Zsets.command(1)[2..4], [b"0".to_vec(), b"m0".to_vec()]);
    }
}
