//! Sorted sets with integer scores: ZADD, ZINCRBY, ZREM, ZSCORE, ZRANGE WITHSCORES, ZCARD on one key's
//! slot. Never touches another key or the clock.
//!
//! Scores are integers so that their text form is exact: the server prints an integral double such as
//! `3.0` as `3`, which is what `i64::to_string` gives (for magnitudes below 2^53).

use std::collections::BTreeMap;

use super::{index_range, wrong_type, Data, Entry};
use crate::history::{OpKind, Value};

/// Applies a sorted-set command to a slot that has not expired (the caller removes a set left empty).
pub fn apply(slot: &mut Option<Entry>, kind: &OpKind) -> Value {
    let zset = match slot {
        None => None,
        Some(Entry {
            data: Data::ZSet(z), ..
        }) => Some(z),
        Some(_) => return wrong_type(),
    };
    let score = |n: i64| Value::Bulk(n.to_string().into_bytes());
    match kind {
        OpKind::ZAdd(pairs) => {
            let z = match zset {
                Some(z) => z,
                None => new_zset(slot),
            };
            let added = pairs.iter().filter(|(s, m)| z.insert(m.clone(), *s).is_none()).count();
            Value::Int(added as i64)
        }
        OpKind::ZIncrBy(by, m) => {
            let z = match zset {
                Some(z) => z,
                None => new_zset(slot),
            };
            let s = z.entry(m.clone()).or_insert(0);
            *s = s.saturating_add(*by);
            score(*s)
        }
        OpKind::ZRem(members) => {
            let removed = zset.map_or(0, |z| members.iter().filter(|m| z.remove(*m).is_some()).count());
            Value::Int(removed as i64)
        }
        OpKind::ZScore(m) => zset.and_then(|z| z.get(m)).map_or(Value::Nil, |s| score(*s)),
        OpKind::ZRangeWithScores(start, stop) => {
            let mut ordered: Vec<(i64, &Vec<u8>)> = zset
                .as_ref()
                .map(|z| z.iter().map(|(m, s)| (*s, m)).collect())
                .unwrap_or_default();
            ordered.sort();
            let items = match index_range(ordered.len(), *start, *stop) {
                Some((a, b)) => ordered[a..=b]
                    .iter()
                    .flat_map(|(s, m)| [Value::Bulk((*m).clone()), score(*s)])
                    .collect(),
                None => Vec::new(),
            };
            Value::Array(items)
        }
        OpKind::ZCard => Value::Int(zset.map_or(0, |z| z.len() as i64)),
        other => unreachable!("not a sorted-set command: {other:?}"),
    }
}

fn new_zset(slot: &mut Option<Entry>) -> &mut BTreeMap<Vec<u8>, i64> {
    let entry = slot.insert(Entry {
        data: Data::ZSet(BTreeMap::new()),
        deadline: None,
    });
    match &mut entry.data {
        Data::ZSet(z) => z,
        _ => unreachable!("just inserted a sorted set"),
    }
}
