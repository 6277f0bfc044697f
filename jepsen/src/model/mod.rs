//! The sequential specification: a keyspace of typed values with expiry deadlines, and the [`Model`]
//! trait the checker searches with.
//!
//! Each operation is a function of the keyspace and of the instant it takes effect. That instant is
//! not known exactly: it lies somewhere in the operation's window (from its invocation to its
//! completion), and it cannot be earlier than the instant of the operation linearized before it. The
//! state keeps, besides the values:
//!
//! - `last_ms`, the earliest instant the previous operation can have taken effect. Choosing the
//!   earliest possible instant for every operation never loses a linearization, since every later
//!   operation is then constrained as little as possible;
//! - per key, the expiry deadline as an interval `[lo, hi]` of server milliseconds. `SET k v PX 50`
//!   taking effect at an instant `t` in `[a, b]` sets the deadline `t + 50`, and since `t` is only known
//!   to be in `[a, b]` (with `t >= last_ms`), the deadline is in `[max(a, last_ms) + 50, b + 50]`.
//!   Observations narrow it: an operation that sees the key alive at `t` proves the deadline is at
//!   least `t`.
//!
//! Like the reference server, a key with deadline `D` is gone once the server's clock (in whole
//! milliseconds) is past `D`. An operation whose window reaches past the lower end of a deadline of a
//! key it touches therefore has two possible outcomes for that key — it took effect while the key was
//! alive, or after it expired — and [`Keyspace`]'s `step` returns both (for a transaction over several
//! such keys, every combination). This makes the model slightly more permissive than the real server
//! (it forgets how a deadline correlates with the instants of later operations), never stricter: a
//! violation it reports is a real one.
//!
//! The commands of each type are specified in their own module ([`strings`], [`lists`], [`hashes`],
//! [`sets`], [`zsets`]), as functions of one key's slot; this module adds expiry, dispatch and
//! transactions (all commands of a MULTI/EXEC at one instant, guarded by the reads made after WATCH).
//!
//! Times in histories are microseconds; the server's clock is read once per batch and compared in
//! milliseconds, so windows are converted with floor division, which keeps the server's instant inside.

pub mod hashes;
pub mod lists;
pub mod sets;
pub mod strings;
pub mod zsets;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::{self, Write as _};
use std::hash::Hash;

use crate::history::{Command, Op, OpKind, Token, Txn, Value, ValueDisplay};

pub use strings::{parse_i64, NOT_AN_INTEGER};

/// The reply to a command on a key holding another type.
pub const WRONG_TYPE: &[u8] = b"WRONGTYPE Operation against a key holding the wrong kind of value";

/// "Later than any time in a history", for operations without a completion.
pub const FOREVER_MS: i64 = i64::MAX / 4;

/// A sequential specification the checker can search with: a state, and what an operation may do to
/// it at some instant of a window.
pub trait Model {
    /// What a linearization has determined so far; the checker memoizes on it, so equal states must
    /// behave the same.
    type State: Clone + Eq + Hash + fmt::Debug;

    /// The state before the first operation (of an epoch).
    fn initial(&self) -> Self::State;

    /// The possible outcomes of `op` taking effect at some instant of `[a_ms, b_ms]` (server
    /// milliseconds; `b_ms` is [`FOREVER_MS`] for an operation that never completed), each the state
    /// afterwards and the reply the server would have given. Empty when the operation cannot take
    /// effect in that window from `state`.
    fn step(&self, state: &Self::State, op: &Op, a_ms: i64, b_ms: i64) -> Vec<(Self::State, Value)>;

    /// A short human-readable description of a state, for violation reports.
    fn describe(&self, state: &Self::State) -> String;
}

/// The keyspace model: every command of [`OpKind`] on typed values with expiry, and transactions.
#[derive(Clone, Copy, Debug, Default)]
pub struct Keyspace;

/// A keyspace, as far as a linearization has determined it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct State {
    /// The live keys.
    pub entries: BTreeMap<Vec<u8>, Entry>,
    /// The earliest instant (ms) at which the last linearized operation can have taken effect.
    pub last_ms: i64,
}

/// One key's value and TTL.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Entry {
    pub data: Data,
    /// Bounds `[lo, hi]` on the expiry deadline in server milliseconds, when the key has a TTL.
    pub deadline: Option<(i64, i64)>,
}

/// A typed value. Aggregates are never empty: a command that empties one removes the key, as the
/// server does.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Data {
    Str(Vec<u8>),
    List(VecDeque<Vec<u8>>),
    Hash(BTreeMap<Vec<u8>, Vec<u8>>),
    Set(BTreeSet<Vec<u8>>),
    /// Member to (integer) score.
    ZSet(BTreeMap<Vec<u8>, i64>),
}

impl Data {
    fn is_empty(&self) -> bool {
        match self {
            Data::Str(_) => false,
            Data::List(l) => l.is_empty(),
            Data::Hash(h) => h.is_empty(),
            Data::Set(s) => s.is_empty(),
            Data::ZSet(z) => z.is_empty(),
        }
    }
}

/// When a command takes effect: at `t`, which is known only to be at most `b` (a deadline set at `t`
/// is therefore known only up to `b`).
#[derive(Clone, Copy, Debug)]
pub struct Instant {
    pub t: i64,
    pub b: i64,
}

impl Instant {
    /// Bounds on the deadline of a TTL of `ms` set at this instant.
    pub fn deadline_after(&self, ms: u64) -> Option<(i64, i64)> {
        let ms = i64::try_from(ms).unwrap_or(FOREVER_MS);
        Some((self.t.saturating_add(ms), self.b.saturating_add(ms)))
    }
}

/// The error reply for a key of the wrong type.
pub fn wrong_type() -> Value {
    Value::Err(WRONG_TYPE.to_vec())
}

/// Applies one command at `at` to its key's slot (`None` when the key does not exist), which has not
/// expired at `at.t`. Removes the key when the command leaves an aggregate empty.
pub fn apply(slot: &mut Option<Entry>, kind: &OpKind, at: Instant) -> Value {
    use OpKind::*;
    let reply = match kind {
        Get | Set { .. } | Incr | Append(_) => strings::apply(slot, kind, at),
        Del => {
            let existed = slot.take().is_some();
            Value::Int(existed as i64)
        }
        Expire(_) | PExpire(_) => match slot {
            None => Value::Int(0),
            Some(entry) => {
                let ms = match kind {
                    Expire(secs) => secs.saturating_mul(1000),
                    PExpire(ms) => *ms,
                    _ => unreachable!("matched above"),
                };
                entry.deadline = at.deadline_after(ms);
                Value::Int(1)
            }
        },
        LPush(_) | RPush(_) | LPop | RPop | LRange(..) | LLen => lists::apply(slot, kind),
        HSet(_) | HDel(_) | HGet(_) | HGetAll | HIncrBy(..) => hashes::apply(slot, kind),
        SAdd(_) | SRem(_) | SIsMember(_) | SMembers | SCard => sets::apply(slot, kind),
        ZAdd(_) | ZIncrBy(..) | ZRem(_) | ZScore(_) | ZRangeWithScores(..) | ZCard => zsets::apply(slot, kind),
    };
    if slot.as_ref().is_some_and(|e| e.data.is_empty()) {
        *slot = None;
    }
    reply
}

/// Applies `command` to `state` at `at` (the command's key has not expired at `at.t`).
fn apply_to(state: &mut State, command: &Command, at: Instant) -> Value {
    let mut slot = state.entries.remove(&command.key);
    let reply = apply(&mut slot, &command.kind, at);
    if let Some(entry) = slot {
        state.entries.insert(command.key.clone(), entry);
    }
    reply
}

/// The normalized index range `[start, stop]` (inclusive) of LRANGE/ZRANGE over `len` elements, or
/// `None` when it selects nothing.
pub fn index_range(len: usize, start: i64, stop: i64) -> Option<(usize, usize)> {
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    let start = if start < 0 {
        len.saturating_add(start).max(0)
    } else {
        start
    };
    let stop = if stop < 0 {
        len.saturating_add(stop)
    } else {
        stop.min(len - 1)
    };
    if start > stop || start >= len {
        return None;
    }
    Some((start as usize, stop as usize))
}

impl Keyspace {
    /// Every way the keys `op` touches can have expired or not by the instant it takes effect: the
    /// state (with narrowed deadlines or expired keys removed) and the instant, at least `t`.
    fn expiry_branches(state: &State, op: &Op, t: i64, b_ms: i64) -> Vec<(State, i64)> {
        let mut branches = vec![(state.clone(), t)];
        for key in op.keys() {
            let mut next = Vec::with_capacity(branches.len());
            for (mut s, t) in branches {
                let Some((lo, hi)) = s.entries.get(key).and_then(|e| e.deadline) else {
                    next.push((s, t));
                    continue;
                };
                let expired_at = t.max(lo.saturating_add(1));
                let expired = (expired_at <= b_ms).then(|| {
                    let mut gone = s.clone();
                    gone.entries.remove(key);
                    (gone, expired_at)
                });
                if t <= hi {
                    // Still alive at t: the deadline is at least t.
                    if let Some(e) = s.entries.get_mut(key) {
                        e.deadline = Some((lo.max(t), hi));
                    }
                    next.push((s, t));
                }
                next.extend(expired);
            }
            branches = next;
        }
        branches
    }

    fn run_txn(s: &State, txn: &Txn, at: Instant) -> Vec<(State, Value)> {
        let mut outcomes = Vec::with_capacity(2);
        if !txn.guards.is_empty() {
            // A watched key was touched: EXEC aborts and nothing happens.
            outcomes.push((s.clone(), Value::Nil));
        }
        let mut s = s.clone();
        for (read, expected) in &txn.guards {
            if apply_to(&mut s, read, at) != *expected {
                return outcomes;
            }
        }
        let replies = txn.commands.iter().map(|c| apply_to(&mut s, c, at)).collect();
        outcomes.push((s, Value::Array(replies)));
        outcomes
    }
}

impl Model for Keyspace {
    type State = State;

    fn initial(&self) -> State {
        State::default()
    }

    fn step(&self, state: &State, op: &Op, a_ms: i64, b_ms: i64) -> Vec<(State, Value)> {
        let t = a_ms.max(state.last_ms);
        if t > b_ms {
            return Vec::new();
        }
        let mut outcomes = Vec::new();
        for (mut s, t) in Keyspace::expiry_branches(state, op, t, b_ms) {
            s.last_ms = t;
            let at = Instant { t, b: b_ms };
            match op {
                Op::One(c) => {
                    let reply = apply_to(&mut s, c, at);
                    outcomes.push((s, reply));
                }
                Op::Txn(txn) => outcomes.extend(Keyspace::run_txn(&s, txn, at)),
            }
        }
        outcomes
    }

    fn describe(&self, state: &State) -> String {
        let mut out = String::new();
        for (key, e) in &state.entries {
            let _ = write!(out, "{} = ", Token(key));
            let bulks = |items: &mut dyn Iterator<Item = &Vec<u8>>| -> String {
                items.map(|b| Token(b).to_string()).collect::<Vec<_>>().join(" ")
            };
            let _ = match &e.data {
                Data::Str(v) => write!(out, "{}", ValueDisplay(&Value::Bulk(v.clone()))),
                Data::List(l) => write!(out, "list [{}]", bulks(&mut l.iter())),
                Data::Set(m) => write!(out, "set {{{}}}", bulks(&mut m.iter())),
                Data::Hash(h) => write!(
                    out,
                    "hash {{{}}}",
                    h.iter()
                        .map(|(f, v)| format!("{}: {}", Token(f), Token(v)))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                Data::ZSet(z) => write!(
                    out,
                    "zset {{{}}}",
                    z.iter()
                        .map(|(m, s)| format!("{}: {s}", Token(m)))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            if let Some((lo, hi)) = e.deadline {
                let _ = write!(out, " (deadline in [{lo}, {hi}] ms)");
            }
            out.push_str("; ");
        }
        if state.entries.is_empty() {
            out.push_str("empty; ");
        }
        let _ = write!(out, "at or after {} ms", state.last_ms);
        out
    }
}
