//! RDB objects back to values, for every object type of versions 9 to 11 except streams and modules.
//!
//! Loaded values take the encoding keel would give them (a listpack hash with too many fields becomes a
//! hashtable, a set of strings becomes a hashtable, ...), by building them through the types' own
//! constructors with the configured thresholds. Duplicate members or fields and NaN scores are corruption,
//! as they are for the reference server.

use std::collections::HashSet;
use std::io::Read;

use super::error::{ErrorKind, Result};
use super::input::Input;
use super::length::read_len;
use super::string::read_string;
use super::{container, intset, listpack, types, ziplist, zipmap};
use crate::config::Config;
use crate::types::hash::HashLimits;
use crate::types::number;
use crate::types::zset::{self, Params as ZSetParams};
use crate::types::{HashValue, ListValue, SetValue, StringValue, Value, ZSetValue};

/// What the loader needs from the configuration, and the source of hash seeds for large encodings.
#[derive(Clone, Copy, Debug)]
pub struct LoadParams {
    /// `hash-max-listpack-*`.
    pub hash: HashLimits,
    /// `set-max-intset-entries`.
    pub set_max_intset: usize,
    /// `zset-max-listpack-entries`.
    pub zset_max_entries: usize,
    /// `zset-max-listpack-value`.
    pub zset_max_value: usize,
    /// State of the seed sequence (each large value gets its own hasher seed).
    pub seed: u64,
}

impl LoadParams {
    /// The thresholds in `config`, seeds derived from `seed`.
    pub fn from_config(config: &Config, seed: u64) -> LoadParams {
        let get = |name: &str| config.get_i64(name).max(0) as usize;
        LoadParams {
            hash: HashLimits {
                max_entries: get("hash-max-listpack-entries"),
                max_value: get("hash-max-listpack-value"),
            },
            set_max_intset: get("set-max-intset-entries"),
            zset_max_entries: get("zset-max-listpack-entries"),
            zset_max_value: get("zset-max-listpack-value"),
            seed,
        }
    }

    /// The next hasher seed (splitmix64 over the state).
    pub fn next_seed(&mut self) -> u64 {
        self.seed = self.seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Reads the object of RDB type `kind`. `Ok(None)` for an empty collection (the key is dropped, as the
/// reference does).
pub fn read_object<R: Read>(input: &mut Input<R>, kind: u8, params: &mut LoadParams) -> Result<Option<Value>> {
    let value = match kind {
        types::STRING => return Ok(Some(Value::String(StringValue::from_bytes(&read_string(input)?)))),
        types::LIST => {
            let n = read_len(input)?;
            let mut items = Vec::new();
            for _ in 0..n {
                items.push(read_string(input)?);
            }
            list(items)
        }
        types::LIST_ZIPLIST => {
            let blob = read_string(input)?;
            list(ziplist::parse(&blob).map_err(|e| input.corrupt(e))?)
        }
        types::LIST_QUICKLIST | types::LIST_QUICKLIST_2 => {
            let nodes = read_len(input)?;
            let mut items = Vec::new();
            for _ in 0..nodes {
                let packing = if kind == types::LIST_QUICKLIST_2 {
                    read_len(input)?
                } else {
                    container::PACKED
                };
                let blob = read_string(input)?;
                match packing {
                    container::PLAIN => items.push(blob),
                    container::PACKED if kind == types::LIST_QUICKLIST => {
                        items.extend(ziplist::parse(&blob).map_err(|e| input.corrupt(e))?)
                    }
                    container::PACKED => items.extend(listpack::parse(&blob).map_err(|e| input.corrupt(e))?),
                    _ => return Err(input.corrupt("unknown quicklist node container")),
                }
            }
            list(items)
        }
        types::SET => {
            let n = read_len(input)?;
            let mut members = Vec::new();
            for _ in 0..n {
                members.push(read_string(input)?);
            }
            set(input, members, params)?
        }
        types::SET_INTSET => {
            let blob = read_string(input)?;
            let values = intset::parse(&blob).map_err(|e| input.corrupt(e))?;
            set(input, values.into_iter().map(int_text).collect(), params)?
        }
        types::SET_LISTPACK => {
            let blob = read_string(input)?;
            let members = listpack::parse(&blob).map_err(|e| input.corrupt(e))?;
            set(input, members, params)?
        }
        types::ZSET | types::ZSET_2 => {
            let n = read_len(input)?;
            let mut items = Vec::new();
            for _ in 0..n {
                let member = read_string(input)?;
                let score = if kind == types::ZSET_2 {
                    f64::from_le_bytes(input.array()?)
                } else {
                    read_text_double(input)?
                };
                items.push((member, score));
            }
            sorted_set(input, items, params)?
        }
        types::ZSET_ZIPLIST | types::ZSET_LISTPACK => {
            let blob = read_string(input)?;
            let flat = if kind == types::ZSET_ZIPLIST {
                ziplist::parse(&blob)
            } else {
                listpack::parse(&blob)
            }
            .map_err(|e| input.corrupt(e))?;
            let items = pairs(input, flat)?
                .into_iter()
                .map(|(m, s)| zset::parse_score(&s).map(|s| (m, s)))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| input.corrupt("invalid sorted set score"))?;
            sorted_set(input, items, params)?
        }
        types::HASH => {
            let n = read_len(input)?;
            let mut items = Vec::new();
            for _ in 0..n {
                let field = read_string(input)?;
                let value = read_string(input)?;
                items.push((field, value));
            }
            hash(input, items, params)?
        }
        types::HASH_ZIPMAP => {
            let blob = read_string(input)?;
            let items = zipmap::parse(&blob).map_err(|e| input.corrupt(e))?;
            hash(input, items, params)?
        }
        types::HASH_ZIPLIST | types::HASH_LISTPACK => {
            let blob = read_string(input)?;
            let flat = if kind == types::HASH_ZIPLIST {
                ziplist::parse(&blob)
            } else {
                listpack::parse(&blob)
            }
            .map_err(|e| input.corrupt(e))?;
            let items = pairs(input, flat)?;
            hash(input, items, params)?
        }
        types::STREAM_LISTPACKS | types::STREAM_LISTPACKS_2 | types::STREAM_LISTPACKS_3 => {
            return Err(input.error(ErrorKind::Unsupported("stream values are not supported")));
        }
        types::MODULE_PRE_GA | types::MODULE_2 => {
            return Err(input.error(ErrorKind::Unsupported("module values are not supported")));
        }
        other => return Err(input.error(ErrorKind::UnknownType(other))),
    };
    Ok(value)
}

/// A score in the old text form: a length byte (253 NaN, 254 +inf, 255 -inf) and the digits.
fn read_text_double<R: Read>(input: &mut Input<R>) -> Result<f64> {
    match input.u8()? {
        253 => Ok(f64::NAN),
        254 => Ok(f64::INFINITY),
        255 => Ok(f64::NEG_INFINITY),
        len => {
            let text = input.bytes(len as u64)?;
            zset::parse_score(&text).ok_or_else(|| input.corrupt("invalid sorted set score"))
        }
    }
}

/// Consecutive elements as pairs (an odd count is corruption).
fn pairs<R: Read>(input: &Input<R>, flat: Vec<Vec<u8>>) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    if !flat.len().is_multiple_of(2) {
        return Err(input.corrupt("odd number of elements in a pair blob"));
    }
    let mut it = flat.into_iter();
    let mut out = Vec::new();
    while let (Some(a), Some(b)) = (it.next(), it.next()) {
        out.push((a, b));
    }
    Ok(out)
}

/// A list value, or `None` when empty.
fn list(items: Vec<Vec<u8>>) -> Option<Value> {
    (!items.is_empty()).then(|| Value::List(items.into_iter().collect::<ListValue>()))
}

/// A set value in keel's encoding for these members, or `None` when empty.
fn set<R: Read>(input: &Input<R>, members: Vec<Vec<u8>>, params: &mut LoadParams) -> Result<Option<Value>> {
    let Some(first) = members.first() else {
        return Ok(None);
    };
    let seed = params.next_seed();
    // More members than the intset allows start as a table, as the reference does.
    let mut s = if members.len() > params.set_max_intset {
        SetValue::new_for(b"-", seed)
    } else {
        SetValue::new_for(first, seed)
    };
    for m in &members {
        if !s.insert(m, params.set_max_intset, seed) {
            return Err(input.corrupt("duplicate set member"));
        }
    }
    Ok(Some(Value::Set(Box::new(s))))
}

/// A hash value in keel's encoding for these pairs, or `None` when empty.
fn hash<R: Read>(input: &Input<R>, items: Vec<(Vec<u8>, Vec<u8>)>, params: &mut LoadParams) -> Result<Option<Value>> {
    if items.is_empty() {
        return Ok(None);
    }
    let seed = params.next_seed();
    let mut h = HashValue::new();
    let mut limits = params.hash;
    if items.len() > limits.max_entries {
        // Straight to the table, as the reference does for a long hash.
        limits.max_entries = 0;
    }
    for (f, v) in &items {
        if !h.set(f, v, limits, seed) {
            return Err(input.corrupt("duplicate hash field"));
        }
    }
    Ok(Some(Value::Hash(Box::new(h))))
}

/// A sorted set in keel's encoding for these members, or `None` when empty.
fn sorted_set<R: Read>(
    input: &Input<R>,
    mut items: Vec<(Vec<u8>, f64)>,
    params: &mut LoadParams,
) -> Result<Option<Value>> {
    if items.is_empty() {
        return Ok(None);
    }
    if items.iter().any(|(_, s)| s.is_nan()) {
        return Err(input.corrupt("NaN score in a sorted set"));
    }
    let mut seen = HashSet::with_capacity(items.len().min(1 << 16));
    if !items.iter().all(|(m, _)| seen.insert(m.as_slice())) {
        return Err(input.corrupt("duplicate sorted set member"));
    }
    // Scores are not NaN here; -0 and 0 tie, as in the sorted set's own order.
    items.sort_by(|(ma, sa), (mb, sb)| {
        sa.partial_cmp(sb)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| ma.cmp(mb))
    });
    let zparams = ZSetParams {
        max_entries: params.zset_max_entries,
        max_value: params.zset_max_value,
        seed: params.next_seed(),
    };
    Ok(Some(Value::ZSet(Box::new(ZSetValue::from_sorted(items, zparams)))))
}

/// The decimal text of an intset member.
fn int_text(v: i64) -> Vec<u8> {
    let mut buf = [0u8; 20];
    let len = number::format_i64(v, &mut buf);
    buf[..len].to_vec()
}
