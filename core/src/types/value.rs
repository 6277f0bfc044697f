//! The value held by one key.

use super::hash::HashValue;
use super::list::ListValue;
use super::set::SetValue;
use super::string::StringValue;
use super::zset::ZSetValue;

/// What a key holds. One variant per data type; each type's module owns its representation.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A string (binary-safe bytes, or an integer stored compactly).
    String(StringValue),
    /// A list of byte strings (one pointer: the list keeps its nodes behind its own box, so that every
    /// key's entry stays small whatever type it holds).
    List(ListValue),
    /// A map of fields to values.
    Hash(Box<HashValue>),
    /// A set of distinct byte strings.
    Set(Box<SetValue>),
    /// A set of members ordered by score.
    ZSet(Box<ZSetValue>),
}

impl Value {
    /// The name `TYPE` reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
        }
    }

    /// The name `OBJECT ENCODING` reports.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            Value::String(s) => s.encoding_name(),
            Value::List(l) => l.encoding_name(),
            Value::Hash(h) => h.encoding_name(),
            Value::Set(s) => s.encoding_name(),
            Value::ZSet(z) => z.encoding_name(),
        }
    }

    /// Approximate heap bytes owned, for memory accounting.
    pub fn heap_size(&self) -> usize {
        match self {
            Value::String(s) => s.heap_size(),
            Value::List(l) => l.heap_size(),
            Value::Hash(h) => h.heap_size(),
            Value::Set(s) => s.heap_size(),
            Value::ZSet(z) => z.heap_size(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_stay_small() {
        // Every key's entry embeds a Value: large collections live behind a pointer so that a string
        // key does not pay for a sorted set's inline size.
        assert!(
            std::mem::size_of::<Value>() <= 24,
            "Value is {} bytes",
            std::mem::size_of::<Value>()
        );
    }
}
