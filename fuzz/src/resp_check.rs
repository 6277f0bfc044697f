//! A strict reader of RESP2/RESP3 reply frames, used to check that every reply keel writes is well formed.
//!
//! It is deliberately independent of keel's own codec (it does not call `keel_core::types::number` or
//! `keel_core::resp`), so a mistake there cannot hide a mistake in the replies. It is stricter than a
//! client needs to be:
//!
//! - every line ends in CRLF, and no lone CR or LF appears inside a simple string, error or header;
//! - integers and lengths are canonical (`0`, `-5`, `42`; never `+1`, `01`, `-0` or ` 1`);
//! - bulk payloads are exactly as long as announced and followed by CRLF;
//! - RESP3-only types (`_ , # ! = ( % ~ > |`) appear only on a RESP3 connection, and the RESP2 nulls
//!   (`$-1`, `*-1`) only on a RESP2 one;
//! - error replies are not empty, verbatim strings carry a `xxx:` format prefix, booleans are `t`/`f`,
//!   doubles and big numbers parse.

use std::fmt;

use keel_core::Protocol;

/// Frames nest deeper than this only if something is badly wrong; the limit keeps the reader's
/// recursion bounded on garbage.
const MAX_DEPTH: usize = 64;

/// Why the bytes are not a sequence of well-formed frames.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameError {
    /// Byte offset where the problem was found.
    pub offset: usize,
    /// What was wrong.
    pub reason: &'static str,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.reason, self.offset)
    }
}

/// Reads `buf` as a sequence of complete frames for a `proto` connection and returns how many of them are
/// replies, that is, not RESP3 push messages (`>`), which are out-of-band (`DEBUG PROTOCOL push` sends
/// one before its reply). Fails unless every byte belongs to a well-formed frame.
pub fn count_replies(buf: &[u8], proto: Protocol) -> Result<usize, FrameError> {
    let mut reader = Reader { buf, pos: 0, proto };
    let mut replies = 0;
    while reader.pos < buf.len() {
        let push = buf[reader.pos] == b'>';
        reader.frame(0)?;
        if !push {
            replies += 1;
        }
    }
    Ok(replies)
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    proto: Protocol,
}

impl<'a> Reader<'a> {
    fn fail<T>(&self, reason: &'static str) -> Result<T, FrameError> {
        Err(FrameError {
            offset: self.pos,
            reason,
        })
    }

    /// Reads one complete frame (with its children) starting at the current position.
    fn frame(&mut self, depth: usize) -> Result<(), FrameError> {
        if depth > MAX_DEPTH {
            return self.fail("frames nested too deeply");
        }
        let Some(&tag) = self.buf.get(self.pos) else {
            return self.fail("truncated: frame expected");
        };
        let resp3 = self.proto == Protocol::Resp3;
        if !resp3 && !matches!(tag, b'+' | b'-' | b':' | b'$' | b'*') {
            return self.fail("not a RESP2 frame type on a RESP2 connection");
        }
        self.pos += 1;
        match tag {
            b'+' => {
                self.line()?;
            }
            b'-' => {
                if self.line()?.is_empty() {
                    return self.fail("empty error reply");
                }
            }
            b':' => {
                self.integer()?;
            }
            b'$' => {
                let len = self.integer()?;
                if len == -1 {
                    if resp3 {
                        return self.fail("RESP2 null bulk ($-1) on a RESP3 connection");
                    }
                } else {
                    self.blob(len)?;
                }
            }
            b'*' => {
                let n = self.integer()?;
                if n == -1 {
                    if resp3 {
                        return self.fail("RESP2 null array (*-1) on a RESP3 connection");
                    }
                } else {
                    self.children(n, 1, depth)?;
                }
            }
            b'~' | b'>' => {
                let n = self.integer()?;
                self.children(n, 1, depth)?;
            }
            b'%' => {
                let n = self.integer()?;
                self.children(n, 2, depth)?;
            }
            b'|' => {
                // An attribute map, then the value it annotates.
                let n = self.integer()?;
                self.children(n, 2, depth)?;
                self.frame(depth + 1)?;
            }
            b'_' => {
                if !self.line()?.is_empty() {
                    return self.fail("null with a payload");
                }
            }
            b'#' => {
                if !matches!(self.line()?, b"t" | b"f") {
                    return self.fail("boolean other than t or f");
                }
            }
            b',' => {
                let text = self.line()?;
                if !is_double(text) {
                    return self.fail("malformed double");
                }
            }
            b'(' => {
                let text = self.line()?;
                let digits = text.strip_prefix(b"-").unwrap_or(text);
                if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                    return self.fail("malformed big number");
                }
            }
            b'!' => {
                let len = self.integer()?;
                if self.blob(len)?.is_empty() {
                    return self.fail("empty blob error");
                }
            }
            b'=' => {
                let len = self.integer()?;
                let payload = self.blob(len)?;
                if payload.len() < 4 || payload[3] != b':' || !payload[..3].iter().all(u8::is_ascii_alphanumeric) {
                    return self.fail("verbatim string without a xxx: format prefix");
                }
            }
            _ => {
                self.pos -= 1;
                return self.fail("unknown frame type byte");
            }
        }
        Ok(())
    }

    /// Reads `n * per_item` child frames; `n` must not be negative.
    fn children(&mut self, n: i64, per_item: i64, depth: usize) -> Result<(), FrameError> {
        if n < 0 {
            return self.fail("negative aggregate length");
        }
        for _ in 0..n * per_item {
            self.frame(depth + 1)?;
        }
        Ok(())
    }

    /// Reads a line through its CRLF and returns it without the CRLF. No CR or LF may appear inside.
    fn line(&mut self) -> Result<&'a [u8], FrameError> {
        let rest = &self.buf[self.pos..];
        let Some(end) = rest.iter().position(|&b| b == b'\r' || b == b'\n') else {
            return self.fail("truncated: line without CRLF");
        };
        if rest[end] != b'\r' || rest.get(end + 1) != Some(&b'\n') {
            self.pos += end;
            return self.fail("bare CR or LF inside a line");
        }
        self.pos += end + 2;
        Ok(&rest[..end])
    }

    /// Reads a line holding a canonical signed 64-bit integer.
    fn integer(&mut self) -> Result<i64, FrameError> {
        let start = self.pos;
        let text = self.line()?;
        match std::str::from_utf8(text).ok().and_then(|s| s.parse::<i64>().ok()) {
            // `parse` accepts `+1` and `007`; only the canonical spelling is allowed.
            Some(n) if n.to_string().as_bytes() == text => Ok(n),
            _ => {
                self.pos = start;
                self.fail("malformed or non-canonical integer")
            }
        }
    }

    /// Reads a `len`-byte payload followed by CRLF.
    fn blob(&mut self, len: i64) -> Result<&'a [u8], FrameError> {
        if len < 0 {
            return self.fail("negative bulk length");
        }
        let len = len as usize;
        let rest = &self.buf[self.pos..];
        if rest.len() < len.saturating_add(2) {
            return self.fail("truncated: bulk payload shorter than announced");
        }
        if &rest[len..len + 2] != b"\r\n" {
            self.pos += len;
            return self.fail("bulk payload not followed by CRLF");
        }
        self.pos += len + 2;
        Ok(&rest[..len])
    }
}

/// True for the spellings a RESP3 double may take: `inf`, `-inf`, `nan`, or a decimal/exponent number.
fn is_double(text: &[u8]) -> bool {
    if matches!(text, b"inf" | b"-inf" | b"nan" | b"-nan") {
        return true;
    }
    !text.is_empty()
        && text.iter().all(|b| b"0123456789.eE+-".contains(b))
        && std::str::from_utf8(text).is_ok_and(|s| s.parse::<f64>().is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two(buf: &[u8]) -> Result<usize, FrameError> {
        count_replies(buf, Protocol::Resp2)
    }

    fn three(buf: &[u8]) -> Result<usize, FrameError> {
        count_replies(buf, Protocol::Resp3)
    }

    #[test]
    fn accepts_well_formed_frames() {
        assert_eq!(two(b""), Ok(0));
        assert_eq!(two(b"+OK\r\n"), Ok(1));
        assert_eq!(two(b"-ERR no\r\n:0\r\n:-12\r\n"), Ok(3));
        assert_eq!(two(b"$0\r\n\r\n$-1\r\n*-1\r\n"), Ok(3));
        assert_eq!(two(b"*2\r\n$1\r\n\r\r\n*1\r\n:1\r\n"), Ok(1));
        assert_eq!(three(b"%1\r\n+a\r\n_\r\n"), Ok(1));
        assert_eq!(three(b"~2\r\n#t\r\n,1.5e+300\r\n"), Ok(1));
        assert_eq!(three(b",inf\r\n,-inf\r\n,nan\r\n(-123\r\n"), Ok(4));
        assert_eq!(three(b"=6\r\ntxt:hi\r\n!3\r\nERR\r\n"), Ok(2));
        assert_eq!(three(b"|1\r\n+k\r\n:1\r\n+value\r\n"), Ok(1));
        assert_eq!(three(b">2\r\n+a\r\n:1\r\n+reply\r\n>0\r\n"), Ok(1));
    }

    #[test]
    fn rejects_malformed_frames() {
        for bad in [
            &b"+OK"[..],
            b"+O\nK\r\n",
            b"+OK\r",
            b"-\r\n",
            b":01\r\n",
            b":+1\r\n",
            b":-0\r\n",
            b":1.0\r\n",
            b"$3\r\nab\r\n",
            b"$1\r\nab\r\n",
            b"$-2\r\n",
            b"*2\r\n:1\r\n",
            b"*-2\r\n",
            b"x\r\n",
            b"_\r\n",
            b"%1\r\n+a\r\n+b\r\n",
            b">0\r\n",
        ] {
            assert!(two(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        for bad in [
            &b"$-1\r\n"[..],
            b"*-1\r\n",
            b"_x\r\n",
            b"#x\r\n",
            b",1.5x\r\n",
            b",\r\n",
            b"(12a\r\n",
            b"=2\r\nhi\r\n",
            b"%1\r\n+a\r\n",
            b"|1\r\n+k\r\n:1\r\n",
        ] {
            assert!(three(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
