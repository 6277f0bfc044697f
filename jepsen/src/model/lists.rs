//! Lists: LPUSH, RPUSH, LPOP, RPOP, LRANGE, LLEN on one key's slot. Never touches another key or the
//! clock.

use std::collections::VecDeque;

use super::{index_range, wrong_type, Data, Entry};
use crate::history::{OpKind, Value};

/// Applies a list command to a slot that has not expired (the caller removes a list left empty).
pub fn apply(slot: &mut Option<Entry>, kind: &OpKind) -> Value {
    let list = match slot {
        None => None,
        Some(Entry {
            data: Data::List(l), ..
        }) => Some(l),
        Some(_) => return wrong_type(),
    };
    match kind {
        OpKind::LPush(items) | OpKind::RPush(items) => {
            let list = match list {
                Some(l) => l,
                None => new_list(slot),
            };
            for item in items {
                if matches!(kind, OpKind::LPush(_)) {
                    list.push_front(item.clone());
                } else {
                    list.push_back(item.clone());
                }
            }
            Value::Int(list.len() as i64)
        }
        OpKind::LPop | OpKind::RPop => {
            let popped = list.and_then(|l| {
                if matches!(kind, OpKind::LPop) {
                    l.pop_front()
                } else {
                    l.pop_back()
                }
            });
            popped.map_or(Value::Nil, Value::Bulk)
        }
        OpKind::LRange(start, stop) => {
            let list = list.map(|l| &*l);
            let range = list.and_then(|l| Some((l, index_range(l.len(), *start, *stop)?)));
            Value::Array(match range {
                Some((l, (a, b))) => l.range(a..=b).cloned().map(Value::Bulk).collect(),
                None => Vec::new(),
            })
        }
        OpKind::LLen => Value::Int(list.map_or(0, |l| l.len() as i64)),
        other => unreachable!("not a list command: {other:?}"),
    }
}

fn new_list(slot: &mut Option<Entry>) -> &mut VecDeque<Vec<u8>> {
    let entry = slot.insert(Entry {
        data: Data::List(VecDeque::new()),
        deadline: None,
    });
    match &mut entry.data {
        Data::List(l) => l,
        _ => unreachable!("just inserted a list"),
    }
}
