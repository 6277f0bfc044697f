//! The sequential specification: one key as a register with an optional expiry deadline.
//!
//! Each operation is a function of the register and of the instant it takes effect. That instant is
//! not known exactly: it lies somewhere in the operation's window (from its invocation to its
//! completion), and it cannot be earlier than the instant of the operation linearized before it. The
//! model keeps, besides the value:
//!
//! - `last_ms`, the earliest instant the previous operation can have taken effect. Choosing the
//!   earliest possible instant for every operation never loses a linearization, since every later
//!   operation is then constrained as little as possible;
//! - the expiry deadline as an interval `[lo, hi]` of server milliseconds. `SET k v PX 50` taking effect
//!   at an instant `t` in `[a, b]` sets the deadline `t + 50`, and since `t` is only known to be in
//!   `[a, b]` (with `t >= last_ms`), the deadline is in `[max(a, last_ms) + 50, b + 50]`. Observations
//!   narrow it: a read that sees the key alive at `t` proves the deadline is at least `t`.
//!
//! Like the reference server, a key with deadline `D` is gone once the server's clock (in whole
//! milliseconds) is past `D`. An operation whose window reaches past the lower end of a deadline
//! therefore has two possible outcomes — it took effect while the key was alive, or after it expired —
//! and [`step`] returns both. This makes the model slightly more permissive than the real server (it
//! forgets how a deadline correlates with the instants of later operations), never stricter: a
//! violation it reports is a real one.
//!
//! Times in histories are microseconds; the server's clock is read once per batch and compared in
//! milliseconds, so windows are converted with floor division, which keeps the server's instant inside.

use crate::history::{OpKind, Value};

/// The error INCR answers for a value that is not a 64-bit integer, or on overflow.
pub const NOT_AN_INTEGER: &[u8] = b"ERR value is not an integer or out of range";

/// A register's state, as far as a linearization has determined it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct State {
    /// The value, `None` when the key does not exist.
    pub value: Option<Vec<u8>>,
    /// Bounds `[lo, hi]` on the expiry deadline in server milliseconds, when the key has a TTL.
    pub deadline: Option<(i64, i64)>,
    /// The earliest instant (ms) at which the last linearized operation can have taken effect.
    pub last_ms: i64,
}

/// "Later than any time in a history", for operations without a completion.
pub const FOREVER_MS: i64 = i64::MAX / 4;

/// The possible outcomes of applying `op` to `state` at some instant of the window `[a_ms, b_ms]`:
/// each is the state afterwards and the reply the server would have given.
pub fn step(state: &State, op: &OpKind, a_ms: i64, b_ms: i64) -> Vec<(State, Value)> {
    let t = a_ms.max(state.last_ms);
    if t > b_ms {
        return Vec::new();
    }
    let mut starts = Vec::with_capacity(2);
    match state.deadline {
        None => starts.push((state.clone(), t)),
        Some((lo, hi)) => {
            if t <= hi {
                // Still alive at t: the deadline is at least t.
                let mut alive = state.clone();
                alive.deadline = Some((lo.max(t), hi));
                starts.push((alive, t));
            }
            let expired_at = t.max(lo + 1);
            if expired_at <= b_ms {
                starts.push((State::default(), expired_at));
            }
        }
    }
    starts
        .into_iter()
        .map(|(mut s, t)| {
            s.last_ms = t;
            let reply = apply(&mut s, op, t, b_ms);
            (s, reply)
        })
        .collect()
}

/// Applies `op` at instant `t` (at most `b_ms`) to a register that has not expired at `t`.
fn apply(s: &mut State, op: &OpKind, t: i64, b_ms: i64) -> Value {
    let deadline_after = |ms: u64| {
        let ms = i64::try_from(ms).unwrap_or(FOREVER_MS);
        Some((t.saturating_add(ms), b_ms.saturating_add(ms)))
    };
    match op {
        OpKind::Get => match &s.value {
            Some(v) => Value::Bulk(v.clone()),
            None => Value::Nil,
        },
        OpKind::Set { value, px_ms } => {
            s.value = Some(value.clone());
            s.deadline = px_ms.and_then(deadline_after);
            Value::Ok
        }
        OpKind::Incr => {
            let current = match &s.value {
                None => Some(0),
                Some(v) => parse_i64(v),
            };
            match current.and_then(|n| n.checked_add(1)) {
                Some(n) => {
                    s.value = Some(n.to_string().into_bytes());
                    Value::Int(n)
                }
                None => Value::Err(NOT_AN_INTEGER.to_vec()),
            }
        }
        OpKind::Del => {
            let existed = s.value.is_some();
            s.value = None;
            s.deadline = None;
            Value::Int(existed as i64)
        }
        OpKind::Append(tail) => {
            let v = s.value.get_or_insert_with(Vec::new);
            v.extend_from_slice(tail);
            Value::Int(v.len() as i64)
        }
        OpKind::Expire(_) | OpKind::PExpire(_) if s.value.is_none() => Value::Int(0),
        OpKind::Expire(secs) => {
            s.deadline = deadline_after(secs.saturating_mul(1000));
            Value::Int(1)
        }
        OpKind::PExpire(ms) => {
            s.deadline = deadline_after(*ms);
            Value::Int(1)
        }
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
    use super::*;

    fn set(v: &str, px: Option<u64>) -> OpKind {
        OpKind::Set {
            value: v.as_bytes().to_vec(),
            px_ms: px,
        }
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
        let (s, r) = step(&s, &OpKind::Incr, 0, 0).remove(0);
        assert_eq!(r, Value::Int(1));
        let (s, r) = step(&s, &OpKind::Append(b"0".to_vec()), 0, 0).remove(0);
        assert_eq!((r, s.value.as_deref()), (Value::Int(2), Some(&b"10"[..])));
        let (s, r) = step(&s, &OpKind::Append(b"x".to_vec()), 0, 0).remove(0);
        assert_eq!(r, Value::Int(3));
        let (s, r) = step(&s, &OpKind::Incr, 0, 0).remove(0);
        assert_eq!(r, Value::Err(NOT_AN_INTEGER.to_vec()));
        let (s, r) = step(&s, &OpKind::PExpire(5), 0, 0).remove(0);
        assert_eq!((r, s.deadline), (Value::Int(1), Some((5, 5))));
        let (s, r) = step(&s, &OpKind::Del, 0, 0).remove(0);
        assert_eq!((r, &s), (Value::Int(1), &State::default()));
        let (_, r) = step(&s, &OpKind::Expire(1), 0, 0).remove(0);
        assert_eq!(r, Value::Int(0));
    }

    #[test]
    fn expiry_is_uncertain_only_near_the_deadline() {
        let (s, _) = step(&State::default(), &set("v", Some(10)), 100, 102).remove(0);
        assert_eq!(s.deadline, Some((110, 112)));
        // Well before: alive. Well after: gone.
        let alive = step(&s, &OpKind::Get, 105, 106);
        assert_eq!(alive.len(), 1);
        assert_eq!(alive[0].1, Value::Bulk(b"v".to_vec()));
        let gone = step(&s, &OpKind::Get, 113, 114);
        assert_eq!(gone.len(), 1);
        assert_eq!(gone[0].1, Value::Nil);
        // A window that covers the deadline's bounds can see either.
        let either: Vec<Value> = step(&s, &OpKind::Get, 109, 111).into_iter().map(|x| x.1).collect();
        assert_eq!(either, vec![Value::Bulk(b"v".to_vec()), Value::Nil]);
        // The deadline is exactly the last live millisecond.
        let (s, _) = step(&State::default(), &set("v", Some(10)), 100, 100).remove(0);
        assert_eq!(step(&s, &OpKind::Get, 110, 110).len(), 1);
        assert_eq!(step(&s, &OpKind::Get, 111, 111)[0].1, Value::Nil);
    }

    #[test]
    fn windows_cannot_go_back_in_time() {
        let s = State {
            last_ms: 50,
            ..State::default()
        };
        assert!(step(&s, &OpKind::Get, 10, 40).is_empty());
        assert_eq!(step(&s, &OpKind::Get, 10, 60)[0].0.last_ms, 50);
    }
}
