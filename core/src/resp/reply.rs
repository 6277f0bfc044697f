//! Reply encoding for RESP2 and RESP3.
//!
//! Owns: the byte layout of every reply type and how RESP3-only types degrade on a RESP2 connection
//! (maps become flat arrays, doubles become bulk strings, nulls become `$-1`/`*-1`, ...). Handlers write
//! through [`Reply`] straight into the connection's output buffer; nothing here allocates per reply beyond
//! that buffer's growth.

use crate::types::number;

/// The protocol a connection speaks, chosen by `HELLO`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Protocol {
    #[default]
    Resp2,
    Resp3,
}

impl Protocol {
    /// The number `HELLO` reports.
    pub fn version(self) -> i64 {
        match self {
            Protocol::Resp2 => 2,
            Protocol::Resp3 => 3,
        }
    }
}

/// A writer of replies onto an output buffer, for one connection's protocol.
pub struct Reply<'a> {
    out: &'a mut Vec<u8>,
    proto: Protocol,
}

impl<'a> Reply<'a> {
    /// Writes replies for a `proto` connection onto `out`.
    pub fn new(out: &'a mut Vec<u8>, proto: Protocol) -> Self {
        Reply { out, proto }
    }

    /// The protocol in use.
    pub fn protocol(&self) -> Protocol {
        self.proto
    }

    /// Switches protocol mid-batch (after `HELLO`).
    pub fn set_protocol(&mut self, proto: Protocol) {
        self.proto = proto;
    }

    /// Bytes written so far, to let a caller roll a reply back.
    pub fn len(&self) -> usize {
        self.out.len()
    }

    /// True when nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.out.is_empty()
    }

    /// Drops everything written after `len`.
    pub fn truncate(&mut self, len: usize) {
        self.out.truncate(len);
    }

    /// Writes raw bytes.
    pub fn raw(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    /// Writes `tag`, `n` in decimal and CRLF with one append: the line is built right to left in a
    /// stack buffer sized for the longest one (tag, sign, 19 digits, CRLF).
    fn header(&mut self, tag: u8, n: i64) {
        // Short lengths and small integers, the common case, are fixed-size appends.
        match n {
            0..=9 => return self.out.extend_from_slice(&[tag, b'0' + n as u8, b'\r', b'\n']),
            10..=99 => {
                let (tens, ones) = (n as u8 / 10, n as u8 % 10);
                return self
                    .out
                    .extend_from_slice(&[tag, b'0' + tens, b'0' + ones, b'\r', b'\n']);
            }
            _ => {}
        }
        let mut line = [0u8; 24];
        let mut i = line.len() - 2;
        line[i..].copy_from_slice(b"\r\n");
        let mut v = n.unsigned_abs();
        loop {
            i -= 1;
            line[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        if n < 0 {
            i -= 1;
            line[i] = b'-';
        }
        i -= 1;
        line[i] = tag;
        self.out.extend_from_slice(&line[i..]);
    }

    /// `+OK`.
    pub fn ok(&mut self) {
        self.out.extend_from_slice(b"+OK\r\n");
    }

    /// A status reply; CR and LF in `text` become spaces so the reply cannot be split.
    pub fn simple(&mut self, text: &[u8]) {
        self.out.push(b'+');
        self.sanitized(text);
        self.out.extend_from_slice(b"\r\n");
    }

    /// An error reply. `text` starts with its code (`ERR ...`, `WRONGTYPE ...`). CR and LF become
    /// spaces.
    pub fn error(&mut self, text: &[u8]) {
        self.out.push(b'-');
        self.sanitized(text.strip_prefix(b"-").unwrap_or(text));
        self.out.extend_from_slice(b"\r\n");
    }

    fn sanitized(&mut self, text: &[u8]) {
        self.out
            .extend(text.iter().map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }));
    }

    /// An integer reply.
    pub fn integer(&mut self, n: i64) {
        self.header(b':', n);
    }

    /// A bulk string.
    pub fn bulk(&mut self, data: &[u8]) {
        // One capacity check for the whole reply (header, data, CRLF).
        self.out.reserve(data.len() + 26);
        self.header(b'$', data.len() as i64);
        self.out.extend_from_slice(data);
        self.out.extend_from_slice(b"\r\n");
    }

    /// An integer sent as a bulk string (as `GET` of an integer-encoded value is).
    pub fn bulk_i64(&mut self, n: i64) {
        let mut buf = [0u8; 20];
        let len = number::format_i64(n, &mut buf);
        self.bulk(&buf[..len]);
    }

    /// The null bulk string (`$-1` / `_`).
    pub fn null(&mut self) {
        match self.proto {
            Protocol::Resp2 => self.out.extend_from_slice(b"$-1\r\n"),
            Protocol::Resp3 => self.out.extend_from_slice(b"_\r\n"),
        }
    }

    /// The null array (`*-1` / `_`).
    pub fn null_array(&mut self) {
        match self.proto {
            Protocol::Resp2 => self.out.extend_from_slice(b"*-1\r\n"),
            Protocol::Resp3 => self.out.extend_from_slice(b"_\r\n"),
        }
    }

    /// An array header of `n` elements.
    pub fn array(&mut self, n: usize) {
        self.header(b'*', n as i64);
    }

    /// A map header of `n` key/value pairs (a flat array of `2n` in RESP2).
    pub fn map(&mut self, n: usize) {
        match self.proto {
            Protocol::Resp2 => self.header(b'*', 2 * n as i64),
            Protocol::Resp3 => self.header(b'%', n as i64),
        }
    }

    /// A set header of `n` elements (an array in RESP2).
    pub fn set(&mut self, n: usize) {
        match self.proto {
            Protocol::Resp2 => self.header(b'*', n as i64),
            Protocol::Resp3 => self.header(b'~', n as i64),
        }
    }

    /// A push header of `n` elements (an array in RESP2).
    pub fn push(&mut self, n: usize) {
        match self.proto {
            Protocol::Resp2 => self.header(b'*', n as i64),
            Protocol::Resp3 => self.header(b'>', n as i64),
        }
    }

    /// An attribute header of `n` pairs. RESP2 has no attributes; callers only send them on RESP3.
    pub fn attribute(&mut self, n: usize) {
        self.header(b'|', n as i64);
    }

    /// A double, formatted as `%.17g` (a bulk string in RESP2).
    pub fn double(&mut self, d: f64) {
        let mut buf = [0u8; 40];
        let len = number::format_double_g17(d, &mut buf);
        match self.proto {
            Protocol::Resp2 => self.bulk(&buf[..len]),
            Protocol::Resp3 => {
                self.out.push(b',');
                self.out.extend_from_slice(&buf[..len]);
                self.out.extend_from_slice(b"\r\n");
            }
        }
    }

    /// A boolean (`#t`/`#f`; the integers 1/0 in RESP2).
    pub fn boolean(&mut self, b: bool) {
        match self.proto {
            Protocol::Resp2 => self.integer(b as i64),
            Protocol::Resp3 => self.out.extend_from_slice(if b { b"#t\r\n" } else { b"#f\r\n" }),
        }
    }

    /// A big number given as decimal digits (a bulk string in RESP2).
    pub fn big_number(&mut self, digits: &[u8]) {
        match self.proto {
            Protocol::Resp2 => self.bulk(digits),
            Protocol::Resp3 => {
                self.out.push(b'(');
                self.out.extend_from_slice(digits);
                self.out.extend_from_slice(b"\r\n");
            }
        }
    }

    /// A verbatim string with a three-letter format such as `txt` (a bulk string in RESP2).
    pub fn verbatim(&mut self, format: &[u8; 3], text: &[u8]) {
        match self.proto {
            Protocol::Resp2 => self.bulk(text),
            Protocol::Resp3 => {
                self.header(b'=', text.len() as i64 + 4);
                self.out.extend_from_slice(format);
                self.out.push(b':');
                self.out.extend_from_slice(text);
                self.out.extend_from_slice(b"\r\n");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(proto: Protocol, f: impl FnOnce(&mut Reply)) -> Vec<u8> {
        let mut out = Vec::new();
        f(&mut Reply::new(&mut out, proto));
        out
    }

    #[test]
    fn resp2_degrades_resp3_types() {
        assert_eq!(with(Protocol::Resp2, |r| r.null()), b"$-1\r\n");
        assert_eq!(with(Protocol::Resp2, |r| r.map(2)), b"*4\r\n");
        assert_eq!(with(Protocol::Resp2, |r| r.double(1.5)), b"$3\r\n1.5\r\n");
        assert_eq!(with(Protocol::Resp2, |r| r.boolean(true)), b":1\r\n");
        assert_eq!(with(Protocol::Resp2, |r| r.verbatim(b"txt", b"hi")), b"$2\r\nhi\r\n");
    }

    #[test]
    fn headers_cover_the_whole_integer_range() {
        for n in [0, 7, -7, 9, 10, 42, 99, 100, 1_000_000, i64::MAX, i64::MIN] {
            assert_eq!(with(Protocol::Resp2, |r| r.integer(n)), format!(":{n}\r\n").as_bytes());
        }
        assert_eq!(with(Protocol::Resp2, |r| r.bulk(b"")), b"$0\r\n\r\n");
        assert_eq!(with(Protocol::Resp2, |r| r.bulk_i64(-42)), b"$3\r\n-42\r\n");
    }

    #[test]
    fn resp3_types() {
        assert_eq!(with(Protocol::Resp3, |r| r.null()), b"_\r\n");
        assert_eq!(with(Protocol::Resp3, |r| r.map(2)), b"%2\r\n");
        assert_eq!(with(Protocol::Resp3, |r| r.set(1)), b"~1\r\n");
        assert_eq!(with(Protocol::Resp3, |r| r.double(f64::INFINITY)), b",inf\r\n");
        assert_eq!(with(Protocol::Resp3, |r| r.boolean(false)), b"#f\r\n");
        assert_eq!(with(Protocol::Resp3, |r| r.big_number(b"123")), b"(123\r\n");
        assert_eq!(
            with(Protocol::Resp3, |r| r.verbatim(b"txt", b"hi")),
            b"=6\r\ntxt:hi\r\n"
        );
        assert_eq!(with(Protocol::Resp3, |r| r.push(2)), b">2\r\n");
    }

    #[test]
    fn errors_cannot_break_framing() {
        assert_eq!(with(Protocol::Resp2, |r| r.error(b"ERR a\r\nb")), b"-ERR a  b\r\n");
    }
}
