//! A blocking TCP connection to the server under test, with deadline-based reads that never hang the
//! suite: every read either completes, sees the server close, or gives up after a stated time.

use std::io::{self, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::resp;

/// How a read ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The wanted bytes arrived.
    Complete,
    /// The server closed the connection (or reset it) first.
    Closed,
    /// The deadline passed first.
    TimedOut,
    /// The bytes received cannot be RESP, so no amount of waiting completes the reply.
    Malformed,
}

/// A client connection with its own read buffer.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    eof: bool,
}

impl Conn {
    /// Connects to `addr` (`host:port`).
    pub fn connect(addr: &str) -> io::Result<Conn> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        stream.set_write_timeout(Some(Duration::from_secs(10)))?;
        Ok(Conn {
            stream,
            buf: Vec::new(),
            eof: false,
        })
    }

    /// Writes all of `bytes`. A write to a connection the server already closed reports `Ok(false)`.
    pub fn send(&mut self, bytes: &[u8]) -> io::Result<bool> {
        match self.stream.write_all(bytes) {
            Ok(()) => Ok(true),
            Err(e) if is_disconnect(&e) => {
                self.eof = true;
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// True once the server has closed the connection.
    pub fn is_closed(&self) -> bool {
        self.eof
    }

    /// Reads more bytes into the buffer, waiting at most until `deadline`. Returns `Ok(false)` when the
    /// deadline passed with nothing new, and marks the connection closed on EOF or reset.
    fn fill(&mut self, deadline: Instant) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(false);
        }
        let wait = (deadline - now).max(Duration::from_millis(1));
        self.stream.set_read_timeout(Some(wait))?;
        let mut chunk = [0u8; 16 * 1024];
        match self.stream.read(&mut chunk) {
            Ok(0) => {
                self.eof = true;
                Ok(false)
            }
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(true)
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Ok(false),
            Err(e) if e.kind() == ErrorKind::Interrupted => Ok(true),
            Err(e) if is_disconnect(&e) => {
                self.eof = true;
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// Takes `n` bytes (or fewer, if fewer are buffered) off the front of the buffer.
    fn take(&mut self, n: usize) -> Vec<u8> {
        let n = n.min(self.buf.len());
        self.buf.drain(..n).collect()
    }

    /// Reads `count` complete RESP elements, waiting at most `timeout` for each. On a timeout, close or
    /// malformed bytes, returns whatever was received.
    pub fn read_elements(&mut self, count: usize, timeout: Duration) -> io::Result<(Vec<u8>, End)> {
        let mut out = Vec::new();
        for _ in 0..count {
            let deadline = Instant::now() + timeout;
            loop {
                match resp::element_end(&self.buf, 0) {
                    Ok(Some(end)) => {
                        out.extend(self.take(end));
                        break;
                    }
                    Err(_) => {
                        // Not RESP: give back everything that arrives promptly, for the report.
                        let short = Instant::now() + Duration::from_millis(50);
                        while self.fill(short)? {}
                        out.extend(self.take(usize::MAX));
                        return Ok((out, End::Malformed));
                    }
                    Ok(None) => {}
                }
                if !self.fill(deadline)? {
                    let end = if self.eof { End::Closed } else { End::TimedOut };
                    if end == End::Closed || Instant::now() >= deadline {
                        out.extend(self.take(usize::MAX));
                        return Ok((out, end));
                    }
                }
            }
        }
        Ok((out, End::Complete))
    }

    /// Reads exactly `len` bytes, waiting at most `timeout` in all.
    pub fn read_len(&mut self, len: usize, timeout: Duration) -> io::Result<(Vec<u8>, End)> {
        let deadline = Instant::now() + timeout;
        while self.buf.len() < len {
            if !self.fill(deadline)? && (self.eof || Instant::now() >= deadline) {
                let end = if self.eof { End::Closed } else { End::TimedOut };
                return Ok((self.take(usize::MAX), end));
            }
        }
        Ok((self.take(len), End::Complete))
    }

    /// Collects everything the server sends until it closes the connection or stays silent for `idle`
    /// (measured from the last byte received, or from the call when nothing arrives).
    pub fn read_until_idle(&mut self, idle: Duration) -> io::Result<(Vec<u8>, End)> {
        loop {
            let before = self.buf.len();
            let deadline = Instant::now() + idle;
            while self.buf.len() == before && !self.eof && Instant::now() < deadline {
                self.fill(deadline)?;
            }
            if self.eof {
                return Ok((self.take(usize::MAX), End::Closed));
            }
            if self.buf.len() == before {
                return Ok((self.take(usize::MAX), End::TimedOut));
            }
        }
    }

    /// Waits up to `timeout` for the server to close the connection, returning any bytes that arrive
    /// meanwhile and whether it closed.
    pub fn wait_closed(&mut self, timeout: Duration) -> io::Result<(Vec<u8>, bool)> {
        let deadline = Instant::now() + timeout;
        while !self.eof && Instant::now() < deadline {
            self.fill(deadline)?;
        }
        Ok((self.take(usize::MAX), self.eof))
    }
}

/// True for the errors that mean the peer went away.
fn is_disconnect(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe | ErrorKind::UnexpectedEof
    )
}
