//! Value types stored in the keyspace, and the number grammar shared by commands.
//!
//! Owns the in-memory representation of each data type. Nothing here knows about clients or replies.

pub mod longdouble;
pub mod number;
pub mod string;
pub mod value;

pub use string::StringValue;
pub use value::Value;
