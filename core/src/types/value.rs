//! The value held by one key.

use super::string::StringValue;

/// What a key holds. One variant per data type; each type's module owns its representation.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A string (binary-safe bytes, or an integer stored compactly).
    String(StringValue),
}

impl Value {
    /// The name `TYPE` reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::String(_) => "string",
        }
    }

    /// The name `OBJECT ENCODING` reports.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            Value::String(s) => s.encoding_name(),
        }
    }

    /// Approximate heap bytes owned, for memory accounting.
    pub fn heap_size(&self) -> usize {
        match self {
            Value::String(s) => s.heap_size(),
        }
    }
}
