//! A tiny RESP2 client: encodes commands as multibulk arrays and reads the replies the workloads need
//! (simple strings, errors, integers, bulk strings, nil, and arrays of those).
//!
//! It is independent of keel-core's codec on purpose: the simulator must not share a bug with the
//! server it tests.

use std::io;

use keel_jepsen::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Appends `args` as a RESP multibulk command to `out`.
pub fn encode(args: &[Vec<u8>], out: &mut Vec<u8>) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// Parses one reply from the front of `buf`: `Ok(Some((value, length)))` when complete, `Ok(None)` when
/// more bytes are needed.
pub fn parse(buf: &[u8]) -> io::Result<Option<(Value, usize)>> {
    parse_at(buf, 0, 0)
}

/// Deepest array nesting accepted (the workload's replies nest at most twice: EXEC of LRANGE).
const MAX_DEPTH: usize = 8;

fn parse_at(buf: &[u8], start: usize, depth: usize) -> io::Result<Option<(Value, usize)>> {
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, format!("bad reply: {what}"));
    let rest = &buf[start..];
    let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") else {
        return Ok(None);
    };
    let line = &rest[1..eol];
    let text = std::str::from_utf8(line).map_err(|_| bad("header is not UTF-8"))?;
    let after = start + eol + 2;
    let value = match rest[0] {
        b'+' if line == b"OK" => Value::Ok,
        b'+' => Value::Status(line.to_vec()),
        b'-' => Value::Err(line.to_vec()),
        b':' => Value::Int(text.parse().map_err(|_| bad("integer"))?),
        b'$' | b'*' if line == b"-1" => Value::Nil,
        b'$' => {
            let len: usize = text.parse().map_err(|_| bad("bulk length"))?;
            if buf.len() < after + len + 2 {
                return Ok(None);
            }
            if &buf[after + len..after + len + 2] != b"\r\n" {
                return Err(bad("bulk terminator"));
            }
            return Ok(Some((Value::Bulk(buf[after..after + len].to_vec()), after + len + 2)));
        }
        b'*' => {
            let len: usize = text.parse().map_err(|_| bad("array length"))?;
            if depth >= MAX_DEPTH {
                return Err(bad("arrays nested too deep"));
            }
            let mut items = Vec::new();
            let mut at = after;
            for _ in 0..len {
                match parse_at(buf, at, depth + 1)? {
                    Some((v, end)) => {
                        items.push(v);
                        at = end;
                    }
                    None => return Ok(None),
                }
            }
            return Ok(Some((Value::Array(items), at)));
        }
        _ => return Err(bad("unexpected type")),
    };
    Ok(Some((value, after)))
}

/// A connection to the server.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    /// Connects to `addr`.
    pub async fn connect(addr: std::net::SocketAddr) -> io::Result<Conn> {
        Ok(Conn {
            stream: TcpStream::connect(addr).await?,
            buf: Vec::new(),
        })
    }

    /// Sends already encoded commands (the simulated socket sends on flush).
    pub async fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes).await?;
        self.stream.flush().await
    }

    /// Reads the next reply.
    pub async fn read(&mut self) -> io::Result<Value> {
        loop {
            if let Some((value, used)) = parse(&self.buf)? {
                self.buf.drain(..used);
                return Ok(value);
            }
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk).await?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "server closed the connection",
                ));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_and_parses() {
        let mut out = Vec::new();
        encode(&[b"SET".to_vec(), b"k".to_vec(), Vec::new()], &mut out);
        assert_eq!(out, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
        let replies = b"+OK\r\n-ERR x y\r\n:-5\r\n$-1\r\n$3\r\na\r\n\r\n+QUEUED\r\n*2\r\n*1\r\n$1\r\nb\r\n*-1\r\n*0\r\n*2\r\n:1\r\n$2\r\nz";
        let mut at = 0;
        let mut got = Vec::new();
        while let Some((v, n)) = parse(&replies[at..]).unwrap() {
            got.push(v);
            at += n;
        }
        assert_eq!(
            got,
            vec![
                Value::Ok,
                Value::Err(b"ERR x y".to_vec()),
                Value::Int(-5),
                Value::Nil,
                Value::Bulk(b"a\r\n".to_vec()),
                Value::Status(b"QUEUED".to_vec()),
                Value::Array(vec![Value::Array(vec![Value::Bulk(b"b".to_vec())]), Value::Nil]),
                Value::Array(vec![]),
            ]
        );
        // An array is complete only once all its elements are.
        assert_eq!(&replies[at..], b"*2\r\n:1\r\n$2\r\nz");
    }
}
