//! Values to RDB objects: the type byte and object bytes the reference server writes for the same value
//! in the same encoding.
//!
//! | keel encoding | RDB type |
//! |---|---|
//! | string (int / embstr / raw) | 0, integer-encoded or LZF-compressed as the reference would |
//! | list | 18 (quicklist of listpack nodes, split as the reference fills nodes on RPUSH) |
//! | hash listpack / hashtable | 16 / 4 |
//! | set intset / hashtable | 11 / 2 |
//! | zset listpack / skiplist | 17 / 5 (binary scores, highest first) |

use super::container;
use super::intset;
use super::length::write_len;
use super::listpack::ListpackBuilder;
use super::string::{write_int_string, write_string};
use super::types;
use crate::config::Config;
use crate::types::number;
use crate::types::{StringValue, Value};

/// Node size limits by negative `list-max-listpack-size` (-1 to -5).
const NODE_SIZE_LEVELS: [usize; 5] = [4096, 8192, 16_384, 32_768, 65_536];
/// Node size a count-limited node never exceeds.
const NODE_SAFETY_LIMIT: usize = 8192;
/// Bytes an entry is assumed to add beyond its data when deciding whether it fits a node.
const NODE_ENTRY_OVERHEAD: usize = 8;

/// What the writer needs from the configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SaveParams {
    /// `rdbcompression`: LZF-compress strings longer than 20 bytes when it pays.
    pub compress: bool,
    /// `list-max-listpack-size`: negative selects a node size limit, positive an entry count.
    pub list_fill: i64,
}

impl Default for SaveParams {
    /// The reference's defaults.
    fn default() -> Self {
        SaveParams {
            compress: true,
            list_fill: -2,
        }
    }
}

impl SaveParams {
    /// The parameters in `config` (`rdbcompression` defaults to on when the parameter is not defined).
    pub fn from_config(config: &Config) -> SaveParams {
        SaveParams {
            compress: config.get("rdbcompression").is_none_or(|v| v == "yes"),
            list_fill: config.get_i64("list-max-listpack-size"),
        }
    }

    /// True when a node holding `count` entries in `size` bytes can take one more of `len` bytes.
    fn node_takes(&self, size: usize, count: usize, len: usize) -> bool {
        let new_size = size + len + NODE_ENTRY_OVERHEAD;
        if self.list_fill < 0 {
            let level = (-self.list_fill - 1).min(NODE_SIZE_LEVELS.len() as i64 - 1) as usize;
            return new_size <= NODE_SIZE_LEVELS[level];
        }
        new_size <= NODE_SAFETY_LIMIT && (count as i64) < self.list_fill
    }
}

/// The RDB type byte `value` is written with.
pub fn object_type(value: &Value) -> u8 {
    match value {
        Value::String(_) => types::STRING,
        Value::List(_) => types::LIST_QUICKLIST_2,
        Value::Hash(h) if h.is_compact() => types::HASH_LISTPACK,
        Value::Hash(_) => types::HASH,
        Value::Set(s) if s.is_compact() => types::SET_INTSET,
        Value::Set(_) => types::SET,
        Value::ZSet(z) if z.encoding_name() == "listpack" => types::ZSET_LISTPACK,
        Value::ZSet(_) => types::ZSET_2,
    }
}

/// Appends the type byte and the object.
pub fn write_value(out: &mut Vec<u8>, value: &Value, params: &SaveParams) {
    out.push(object_type(value));
    write_object(out, value, params);
}

/// Appends the object bytes of `value` (without its type byte).
pub fn write_object(out: &mut Vec<u8>, value: &Value, params: &SaveParams) {
    match value {
        Value::String(StringValue::Int(n)) => write_int_string(out, *n),
        Value::String(s) => s.with_bytes(|b| write_string(out, b, params.compress)),
        Value::List(list) => {
            let mut nodes: Vec<Vec<u8>> = Vec::new();
            let mut node = ListpackBuilder::new();
            for item in list.iter() {
                if node.count() > 0 && !params.node_takes(node.size(), node.count(), item.len()) {
                    nodes.push(std::mem::take(&mut node).finish());
                }
                node.push(item);
            }
            if node.count() > 0 {
                nodes.push(node.finish());
            }
            write_len(out, nodes.len() as u64);
            for blob in nodes {
                write_len(out, container::PACKED);
                write_string(out, &blob, params.compress);
            }
        }
        Value::Hash(h) if h.is_compact() => {
            let mut lp = ListpackBuilder::new();
            for (f, v) in h.iter() {
                lp.push(f);
                lp.push(v);
            }
            write_string(out, &lp.finish(), params.compress);
        }
        Value::Hash(h) => {
            write_len(out, h.len() as u64);
            for (f, v) in h.iter() {
                write_string(out, f, params.compress);
                write_string(out, v, params.compress);
            }
        }
        Value::Set(s) if s.is_compact() => {
            let values: Vec<i64> = s.iter().filter_map(number::parse_i64).collect();
            write_string(out, &intset::build(&values), params.compress);
        }
        Value::Set(s) => {
            write_len(out, s.len() as u64);
            for m in s.iter() {
                write_string(out, m, params.compress);
            }
        }
        Value::ZSet(z) if z.encoding_name() == "listpack" => {
            let mut lp = ListpackBuilder::new();
            for (m, score) in z.iter() {
                lp.push(m);
                lp.push(number::format_g(score, 17).as_bytes());
            }
            write_string(out, &lp.finish(), params.compress);
        }
        Value::ZSet(z) => {
            write_len(out, z.len() as u64);
            // Highest first, so that a loader inserting in order always adds at the head.
            for (m, score) in z.iter_from(z.len().saturating_sub(1), true) {
                write_string(out, m, params.compress);
                out.extend_from_slice(&score.to_le_bytes());
            }
        }
    }
}

/// The size of `value`'s object bytes (DEBUG OBJECT's `serializedlength`).
pub fn object_len(value: &Value, params: &SaveParams) -> usize {
    let mut out = Vec::new();
    write_object(&mut out, value, params);
    out.len()
}
