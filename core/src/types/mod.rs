//! Value types stored in the keyspace, and the number grammar shared by commands.
//!
//! Owns the in-memory representation of each data type. Nothing here knows about clients or replies.

pub mod hash;
pub mod inline_bytes;
pub mod list;
pub mod longdouble;
pub mod number;
pub mod packed;
pub mod set;
pub mod string;
pub mod value;
pub mod zset;

pub use hash::HashValue;
pub use list::ListValue;
pub use set::SetValue;
pub use string::StringValue;
pub use value::Value;
pub use zset::ZSetValue;
