//! Sets: SADD, SREM, SISMEMBER, SMEMBERS (sorted, as recorded), SCARD on one key's slot. Never touches
//! another key or the clock.

use std::collections::BTreeSet;

use super::{wrong_type, Data, Entry};
use crate::history::{OpKind, Value};

/// Applies a set command to a slot that has not expired (the caller removes a set left empty).
pub fn apply(slot: &mut Option<Entry>, kind: &OpKind) -> Value {
    let set = match slot {
        None => None,
        Some(Entry { data: Data::Set(s), .. }) => Some(s),
        Some(_) => return wrong_type(),
    };
    match kind {
        OpKind::SAdd(members) => {
            let set = match set {
                Some(s) => s,
                None => {
                    let entry = slot.insert(Entry {
                        data: Data::Set(BTreeSet::new()),
                        deadline: None,
                    });
                    match &mut entry.data {
                        Data::Set(s) => s,
                        _ => unreachable!("just inserted a set"),
                    }
                }
            };
            let added = members.iter().filter(|m| set.insert((*m).clone())).count();
            Value::Int(added as i64)
        }
        OpKind::SRem(members) => {
            let removed = set.map_or(0, |s| members.iter().filter(|m| s.remove(*m)).count());
            Value::Int(removed as i64)
        }
        OpKind::SIsMember(m) => Value::Int(set.is_some_and(|s| s.contains(m)) as i64),
        OpKind::SMembers => Value::Array(
            set.map(|s| s.iter().cloned().map(Value::Bulk).collect())
                .unwrap_or_default(),
        ),
        OpKind::SCard => Value::Int(set.map_or(0, |s| s.len() as i64)),
        other => unreachable!("not a set command: {other:?}"),
    }
}
