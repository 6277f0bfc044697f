//! Typed errors of the RDB readers, each naming the byte offset where the problem was found.
//!
//! Owns the wording of load failures. Writers cannot fail (they append to memory); readers return these.

use std::fmt;

/// What went wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input ended inside an item.
    UnexpectedEof,
    /// The source failed (message of the underlying I/O error).
    Io(String),
    /// The file does not start with `REDIS` and four digits.
    BadMagic,
    /// A version keel does not read.
    UnsupportedVersion(u32),
    /// A byte that is neither an opcode nor a known object type.
    UnknownType(u8),
    /// A well-formed item keel refuses (streams, modules, functions), with the reason.
    Unsupported(&'static str),
    /// The bytes violate the format, with what was wrong.
    Corrupt(&'static str),
    /// The trailing CRC64 does not match the content.
    ChecksumMismatch { expected: u64, computed: u64 },
}

/// A load failure at a byte offset of the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RdbError {
    /// Offset of the byte being read when the problem was detected (from the start of the input).
    pub offset: u64,
    /// What was wrong.
    pub kind: ErrorKind,
}

impl RdbError {
    /// An error of `kind` at `offset`.
    pub fn new(offset: u64, kind: ErrorKind) -> RdbError {
        RdbError { offset, kind }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::UnexpectedEof => write!(f, "unexpected end of input"),
            ErrorKind::Io(msg) => write!(f, "read error: {msg}"),
            ErrorKind::BadMagic => write!(f, "wrong signature, not an RDB file"),
            ErrorKind::UnsupportedVersion(v) => write!(f, "can't handle RDB format version {v}"),
            ErrorKind::UnknownType(t) => write!(f, "unknown RDB type or opcode {t}"),
            ErrorKind::Unsupported(what) => write!(f, "{what}"),
            ErrorKind::Corrupt(what) => write!(f, "corrupt data: {what}"),
            ErrorKind::ChecksumMismatch { expected, computed } => {
                write!(f, "wrong RDB checksum: expected {expected:016x}, got {computed:016x}")
            }
        }
    }
}

impl fmt::Display for RdbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte offset {}", self.kind, self.offset)
    }
}

impl std::error::Error for RdbError {}

/// Result of a reader step.
pub type Result<T> = std::result::Result<T, RdbError>;
