//! The string type: binary-safe bytes, with integers stored compactly.
//!
//! Owns the three encodings clients can observe through `OBJECT ENCODING`: `int` (a value that reads as a
//! 64-bit integer, kept as one), `embstr` (a short string written whole by SET-like commands) and `raw`
//! (long strings, and any string changed in place by APPEND or SETRANGE).

use super::inline_bytes::InlineBytes;
use super::number;

/// Strings up to this length written whole are reported as `embstr`.
pub const EMBSTR_MAX_LEN: usize = 44;

/// A string value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StringValue {
    /// An integer, rendered in decimal when read.
    Int(i64),
    /// Bytes written whole, at most [`EMBSTR_MAX_LEN`] long (inline in the value when short enough).
    Embstr(InlineBytes),
    /// Bytes that may grow in place. Boxed so that the common short strings keep `StringValue` (and so
    /// every key's entry) small; a raw string is long or appended to, so one more pointer is cheap.
    Raw(Box<Vec<u8>>),
}

impl StringValue {
    /// A raw (growable) string holding `bytes`.
    pub fn raw(bytes: Vec<u8>) -> StringValue {
        StringValue::Raw(Box::new(bytes))
    }

    /// The encoding a value written whole (by SET, MSET, GETSET, ...) gets.
    pub fn from_bytes(bytes: &[u8]) -> StringValue {
        if bytes.len() <= 20 {
            if let Some(n) = number::parse_i64(bytes) {
                return StringValue::Int(n);
            }
        }
        if bytes.len() <= EMBSTR_MAX_LEN {
            StringValue::Embstr(InlineBytes::new(bytes))
        } else {
            StringValue::Raw(Box::new(bytes.to_vec()))
        }
    }

    /// The encoding's name for `OBJECT ENCODING`.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            StringValue::Int(_) => "int",
            StringValue::Embstr(_) => "embstr",
            StringValue::Raw(_) => "raw",
        }
    }

    /// Length in bytes of the string's text.
    pub fn len(&self) -> usize {
        match self {
            StringValue::Int(n) => {
                let mut buf = [0u8; 20];
                number::format_i64(*n, &mut buf)
            }
            StringValue::Embstr(b) => b.len(),
            StringValue::Raw(v) => v.len(),
        }
    }

    /// True for the empty string.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Calls `f` with the string's bytes, rendering an integer on the stack.
    pub fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            StringValue::Int(n) => {
                let mut buf = [0u8; 20];
                let len = number::format_i64(*n, &mut buf);
                f(&buf[..len])
            }
            StringValue::Embstr(b) => f(b.as_slice()),
            StringValue::Raw(v) => f(v),
        }
    }

    /// The bytes as an owned vector.
    pub fn to_vec(&self) -> Vec<u8> {
        self.with_bytes(|b| b.to_vec())
    }

    /// Reads the value as an integer, as INCR and friends do.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            StringValue::Int(n) => Some(*n),
            StringValue::Embstr(b) => number::parse_i64(b.as_slice()),
            StringValue::Raw(v) => number::parse_i64(v),
        }
    }

    /// Turns the value into a growable buffer (APPEND, SETRANGE) and returns it.
    pub fn make_raw(&mut self) -> &mut Vec<u8> {
        if !matches!(self, StringValue::Raw(_)) {
            *self = StringValue::raw(self.to_vec());
        }
        match self {
            StringValue::Raw(v) => v,
            // Just converted above.
            _ => unreachable!("string was made raw"),
        }
    }

    /// Heap bytes owned.
    pub fn heap_size(&self) -> usize {
        match self {
            StringValue::Int(_) => 0,
            StringValue::Embstr(b) => b.heap_size(),
            StringValue::Raw(v) => v.capacity() + std::mem::size_of::<Vec<u8>>(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        assert_eq!(StringValue::from_bytes(b"123").encoding_name(), "int");
        assert_eq!(StringValue::from_bytes(b"0123").encoding_name(), "embstr");
        assert_eq!(StringValue::from_bytes(&[b'a'; 44]).encoding_name(), "embstr");
        assert_eq!(StringValue::from_bytes(&[b'a'; 45]).encoding_name(), "raw");
        let mut s = StringValue::from_bytes(b"12");
        s.make_raw().push(b'3');
        assert_eq!(s.encoding_name(), "raw");
        assert_eq!(s.as_i64(), Some(123));
    }
}
