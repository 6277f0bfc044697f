//! Strings: GET, SET [PX], INCR, APPEND on one key's slot (DEL and EXPIRE, which apply to every type,
//! are in the parent module). Never touches another key or the clock.

use super::{wrong_type, Data, Entry, Instant};
use crate::history::{OpKind, Value};

/// The error INCR answers for a value that is not a 64-bit integer, or on overflow.
pub const NOT_AN_INTEGER: &[u8] = b"ERR value is not an integer or out of range";

/// Applies a string command at `at` to a slot that has not expired.
pub fn apply(slot: &mut Option<Entry>, kind: &OpKind, at: Instant) -> Value {
    if let OpKind::Set { value, px_ms } = kind {
        // SET replaces a value of any type, and its TTL.
        *slot = Some(Entry {
            data: Data::Str(value.clone()),
            deadline: px_ms.and_then(|ms| at.deadline_after(ms)),
        });
        return Value::Ok;
    }
    let current = match slot {
        None => None,
        Some(Entry { data: Data::Str(v), .. }) => Some(v),
        Some(_) => return wrong_type(),
    };
    match kind {
        OpKind::Get => current.map_or(Value::Nil, |v| Value::Bulk(v.clone())),
        OpKind::Incr => {
            let n = match &current {
                None => Some(0),
                Some(v) => parse_i64(v),
            };
            match n.and_then(|n| n.checked_add(1)) {
                Some(n) => {
                    let text = n.to_string().into_bytes();
                    match current {
                        // INCR keeps the TTL.
                        Some(v) => *v = text,
                        None => {
                            *slot = Some(Entry {
                                data: Data::Str(text),
                                deadline: None,
                            })
                        }
                    }
                    Value::Int(n)
                }
                None => Value::Err(NOT_AN_INTEGER.to_vec()),
            }
        }
        OpKind::Append(tail) => match current {
            Some(v) => {
                v.extend_from_slice(tail);
                Value::Int(v.len() as i64)
            }
            None => {
                *slot = Some(Entry {
                    data: Data::Str(tail.clone()),
                    deadline: None,
                });
                Value::Int(tail.len() as i64)
            }
        },
        other => unreachable!("not a string command: {other:?}"),
    }
}

/// Parses a string the way the reference server's `string2ll` does: optional `-`, no `+`, no leading
/// zeros (except `0` itself), no spaces, within the range of i64.
pub fn parse_i64(v: &[u8]) -> Option<i64> {
    let digits = v.strip_prefix(b"-").unwrap_or(v);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if digits[0] == b'0' && v.len() > 1 {
        return None;
    }
    std::str::from_utf8(v).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::super::{Keyspace, Model, State};
    use super::*;
    use crate::history::{Command, Op};

    fn op(kind: OpKind) -> Op {
        Op::One(Command::new("k", kind))
    }

    fn set(v: &str, px: Option<u64>) -> Op {
        op(OpKind::Set {
            value: v.as_bytes().to_vec(),
            px_ms: px,
        })
    }

    fn step(s: &State, o: &Op, a: i64, b: i64) -> Vec<(State, Value)> {
        Keyspace.step(s, o, a, b)
    }

    fn value(s: &State) -> Option<&[u8]> {
        match s.entries.get(&b"k"[..]).map(|e| &e.data) {
            Some(Data::Str(v)) => Some(v),
            _ => None,
        }
    }

    fn deadline(s: &State) -> Option<(i64, i64)> {
        s.entries.get(&b"k"[..]).and_then(|e| e.deadline)
    }

    #[test]
    fn integers_are_parsed_strictly() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-12"), Some(-12));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        for bad in [
            &b""[..],
            b"-",
            b"-0",
            b"01",
            b"+1",
            b" 1",
            b"1a",
            b"9223372036854775808",
        ] {
            assert_eq!(parse_i64(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn commands_on_a_live_register() {
        let s = State::default();
        let (s, r) = step(&s, &op(OpKind::Incr), 0, 0).remove(0);
        assert_eq!(r, Value::Int(1));
        let (s, r) = step(&s, &op(OpKind::Append(b"0".to_vec())), 0, 0).remove(0);
        assert_eq!((r, value(&s)), (Value::Int(2), Some(&b"10"[..])));
        let (s, r) = step(&s, &op(OpKind::Append(b"x".to_vec())), 0, 0).remove(0);
        assert_eq!(r, Value::Int(3));
        let (s, r) = step(&s, &op(OpKind::Incr), 0, 0).remove(0);
        assert_eq!(r, Value::Err(NOT_AN_INTEGER.to_vec()));
        let (s, r) = step(&s, &op(OpKind::PExpire(5)), 0, 0).remove(0);
        assert_eq!((r, deadline(&s)), (Value::Int(1), Some((5, 5))));
        let (s, r) = step(&s, &op(OpKind::Del), 0, 0).remove(0);
        assert_eq!((r, s.entries.is_empty()), (Value::Int(1), true));
        let (_, r) = step(&s, &op(OpKind::Expire(1)), 0, 0).remove(0);
        assert_eq!(r, Value::Int(0));
    }

    #[test]
    fn string_commands_on_other_types_are_wrongtype() {
        let (s, _) = step(&State::default(), &op(OpKind::SAdd(vec![b"m".to_vec()])), 0, 0).remove(0);
        for kind in [OpKind::Get, OpKind::Incr, OpKind::Append(b"x".to_vec())] {
            assert_eq!(step(&s, &op(kind), 0, 0)[0].1, wrong_type());
        }
        // SET replaces a value of any type.
        let (s, r) = step(&s, &set("v", None), 0, 0).remove(0);
        assert_eq!((r, value(&s)), (Value::Ok, Some(&b"v"[..])));
    }

    #[test]
    fn expiry_is_uncertain_only_near_the_deadline() {
        let (s, _) = step(&State::default(), &set("v", Some(10)), 100, 102).remove(0);
        assert_eq!(deadline(&s), Some((110, 112)));
        // Well before: alive. Well after: gone.
        let alive = step(&s, &op(OpKind::Get), 105, 106);
        assert_eq!(alive.len(), 1);
        assert_eq!(alive[0].1, Value::Bulk(b"v".to_vec()));
        let gone = step(&s, &op(OpKind::Get), 113, 114);
        assert_eq!(gone.len(), 1);
        assert_eq!(gone[0].1, Value::Nil);
        // A window that covers the deadline's bounds can see either.
        let either: Vec<Value> = step(&s, &op(OpKind::Get), 109, 111).into_iter().map(|x| x.1).collect();
        assert_eq!(either, vec![Value::Bulk(b"v".to_vec()), Value::Nil]);
        // The deadline is exactly the last live millisecond.
        let (s, _) = step(&State::default(), &set("v", Some(10)), 100, 100).remove(0);
        assert_eq!(step(&s, &op(OpKind::Get), 110, 110).len(), 1);
        assert_eq!(step(&s, &op(OpKind::Get), 111, 111)[0].1, Value::Nil);
    }

    #[test]
    fn windows_cannot_go_back_in_time() {
        let s = State {
            last_ms: 50,
            ..State::default()
        };
        assert!(step(&s, &op(OpKind::Get), 10, 40).is_empty());
        assert_eq!(step(&s, &op(OpKind::Get), 10, 60)[0].0.last_ms, 50);
    }
}
