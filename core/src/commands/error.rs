//! Typed command errors and their reply texts.
//!
//! Owns the wording of every error a command can return; handlers return these values and dispatch turns
//! them into error replies (and error statistics) in one place.

use std::borrow::Cow;

/// Why a command failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommandError {
    WrongType,
    NotInteger,
    NotFloat,
    Syntax,
    Overflow,
    NoSuchKey,
    DbIndexOutOfRange,
    /// An invalid expire time for the named command (lower-case).
    InvalidExpireTime(&'static str),
    /// A string would exceed `proto-max-bulk-len`.
    StringTooLong,
    /// An offset argument out of range.
    OffsetOutOfRange,
    /// The float increment produced NaN or infinity.
    NanOrInfinity,
    /// Wrong number of arguments for the named command (full name, `container|sub` form).
    WrongArity(&'static str),
    /// Any other error, its text complete with the code word (`ERR ...`).
    Other(Cow<'static, str>),
    /// An error whose text echoes client bytes that need not be UTF-8 (unknown command names).
    Raw(Vec<u8>),
}

impl CommandError {
    /// A generic `ERR` error with a fixed text.
    pub fn err(text: &'static str) -> CommandError {
        CommandError::Other(Cow::Borrowed(text))
    }

    /// The full reply text, code word first, without `-` and CRLF.
    pub fn message(&self) -> Cow<'static, [u8]> {
        match self {
            CommandError::Raw(bytes) => Cow::Owned(bytes.clone()),
            other => match other.text() {
                Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
                Cow::Owned(s) => Cow::Owned(s.into_bytes()),
            },
        }
    }

    fn text(&self) -> Cow<'static, str> {
        Cow::Borrowed(match self {
            CommandError::WrongType => "WRONGTYPE Operation against a key holding the wrong kind of value",
            CommandError::NotInteger => "ERR value is not an integer or out of range",
            CommandError::NotFloat => "ERR value is not a valid float",
            CommandError::Syntax => "ERR syntax error",
            CommandError::Overflow => "ERR increment or decrement would overflow",
            CommandError::NoSuchKey => "ERR no such key",
            CommandError::DbIndexOutOfRange => "ERR DB index is out of range",
            CommandError::StringTooLong => "ERR string exceeds maximum allowed size (proto-max-bulk-len)",
            CommandError::OffsetOutOfRange => "ERR offset is out of range",
            CommandError::NanOrInfinity => "ERR increment would produce NaN or Infinity",
            CommandError::InvalidExpireTime(cmd) => {
                return Cow::Owned(format!("ERR invalid expire time in '{cmd}' command"));
            }
            CommandError::WrongArity(cmd) => {
                return Cow::Owned(format!("ERR wrong number of arguments for '{cmd}' command"));
            }
            CommandError::Other(text) => return text.clone(),
            CommandError::Raw(bytes) => return Cow::Owned(String::from_utf8_lossy(bytes).into_owned()),
        })
    }
}

/// The error code word of a reply text (`ERR`, `WRONGTYPE`, ...), as counted in `INFO errorstats`.
pub fn error_code(message: &[u8]) -> &[u8] {
    let end = message.iter().position(|&b| b == b' ').unwrap_or(message.len());
    &message[..end]
}
