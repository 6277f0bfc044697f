//! Hashes: HSET, HDEL, HGET, HGETALL (sorted by field, as recorded), HINCRBY on one key's slot. Never
//! touches another key or the clock.

use std::collections::BTreeMap;

use super::{parse_i64, wrong_type, Data, Entry};
use crate::history::{OpKind, Value};

/// HINCRBY's reply for a field that does not hold an integer.
pub const HASH_NOT_AN_INTEGER: &[u8] = b"ERR hash value is not an integer";
/// HINCRBY's reply when the sum overflows.
pub const OVERFLOW: &[u8] = b"ERR increment or decrement would overflow";

/// Applies a hash command to a slot that has not expired (the caller removes a hash left empty).
pub fn apply(slot: &mut Option<Entry>, kind: &OpKind) -> Value {
    let hash = match slot {
        None => None,
        Some(Entry {
            data: Data::Hash(h), ..
        }) => Some(h),
        Some(_) => return wrong_type(),
    };
    match kind {
        OpKind::HSet(pairs) => {
            let h = match hash {
                Some(h) => h,
                None => new_hash(slot),
            };
            let added = pairs
                .iter()
                .filter(|(f, v)| h.insert(f.clone(), v.clone()).is_none())
                .count();
            Value::Int(added as i64)
        }
        OpKind::HDel(fields) => {
            let removed = hash.map_or(0, |h| fields.iter().filter(|f| h.remove(*f).is_some()).count());
            Value::Int(removed as i64)
        }
        OpKind::HGet(f) => hash
            .and_then(|h| h.get(f))
            .map_or(Value::Nil, |v| Value::Bulk(v.clone())),
        OpKind::HGetAll => Value::Array(
            hash.map(|h| {
                h.iter()
                    .flat_map(|(f, v)| [Value::Bulk(f.clone()), Value::Bulk(v.clone())])
                    .collect()
            })
            .unwrap_or_default(),
        ),
        OpKind::HIncrBy(f, by) => {
            let current = match hash.as_ref().and_then(|h| h.get(f)) {
                None => 0,
                Some(v) => match parse_i64(v) {
                    Some(n) => n,
                    None => return Value::Err(HASH_NOT_AN_INTEGER.to_vec()),
                },
            };
            let Some(n) = current.checked_add(*by) else {
                return Value::Err(OVERFLOW.to_vec());
            };
            let h = match hash {
                Some(h) => h,
                None => new_hash(slot),
            };
            h.insert(f.clone(), n.to_string().into_bytes());
            Value::Int(n)
        }
        other => unreachable!("not a hash command: {other:?}"),
    }
}

fn new_hash(slot: &mut Option<Entry>) -> &mut BTreeMap<Vec<u8>, Vec<u8>> {
    let entry = slot.insert(Entry {
        data: Data::Hash(BTreeMap::new()),
        deadline: None,
    });
    match &mut entry.data {
        Data::Hash(h) => h,
        _ => unreachable!("just inserted a hash"),
    }
}
