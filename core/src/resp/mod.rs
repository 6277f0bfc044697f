//! The RESP wire protocol: request parsing ([`parser`]) and reply encoding ([`reply`]).
//!
//! Owns bytes-to-commands and replies-to-bytes only; it knows nothing of commands' meaning.

pub mod parser;
pub mod reply;

pub use parser::{CommandBatch, Limits, Parser, ProtocolError};
pub use reply::{Protocol, Reply};
