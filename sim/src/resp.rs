//! A tiny RESP2 client: encodes commands as multibulk arrays and reads the replies the workload needs
//! (simple strings, errors, integers, bulk strings and nil).
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
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, format!("bad reply: {what}"));
    let Some(eol) = buf.windows(2).position(|w| w == b"\r\n") else {
        return Ok(None);
    };
    let line = &buf[1..eol];
    let text = std::str::from_utf8(line).map_err(|_| bad("header is not UTF-8"))?;
    let after = eol + 2;
    let value = match buf[0] {
        b'+' if line == b"OK" => Value::Ok,
        b'+' => return Err(bad("unexpected status")),
        b'-' => Value::Err(line.to_vec()),
        b':' => Value::Int(text.parse().map_err(|_| bad("integer"))?),
        b'$' if line == b"-1" => Value::Nil,
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
        let replies = b"+OK\r\n-ERR x y\r\n:-5\r\n$-1\r\n$3\r\na\r\n\r\n$2\r\nz";
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
                Value::Bulk(b"a\r\n".to_vec())
            ]
        );
        assert_eq!(&replies[at..], b"$2\r\nz");
    }
}
