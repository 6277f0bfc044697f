//! The linearizability checker: Wing & Gong's search with Lowe's memoization, per key and per epoch.
//!
//! For one key in one epoch, the search builds a linearization one operation at a time. An operation
//! may come next if it was invoked before every not-yet-linearized completed operation returned (it is
//! *minimal* in the real-time order); the model ([`crate::model::step`]) then says which states and
//! replies are possible, and the operation is taken if its observed reply is among them (any reply,
//! for an indeterminate operation). The search backtracks when stuck, and remembers every
//! (set of linearized operations, model state) configuration it has already explored — Lowe's
//! memoization — so each configuration is expanded once. It succeeds once every completed operation is
//! linearized: indeterminate operations may be left out (they never took effect).
//!
//! Operations that `fail`ed are dropped; indeterminate reads are dropped too, since they cannot change
//! the register.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use crate::history::{History, Operation, ParseError, Value, ValueDisplay};
use crate::model::{self, State, FOREVER_MS};

/// How many configurations one key may explore before the checker gives up with
/// [`CheckResult::Unknown`].
pub const DEFAULT_BUDGET: usize = 2_000_000;

/// The verdict on a history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckResult {
    /// Every key in every epoch has a linearization.
    Linearizable,
    /// Some key in some epoch has none.
    Violation(Box<Violation>),
    /// The search for this key exceeded its budget (not a verdict).
    Unknown { key: Vec<u8>, epoch: usize },
}

impl CheckResult {
    /// True for [`CheckResult::Violation`].
    pub fn is_violation(&self) -> bool {
        matches!(self, CheckResult::Violation(_))
    }
}

/// A key whose operations cannot be linearized, with what the search got furthest with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub key: Vec<u8>,
    pub epoch: usize,
    /// Every operation on the key in the epoch, in invocation order.
    pub operations: Vec<Operation>,
    /// The longest linearizable prefix found (indices into `operations`, in linearization order).
    pub longest_prefix: Vec<usize>,
    /// The model's state after that prefix.
    pub state_after_prefix: State,
    /// The operations that could have come next after the prefix, none of which fits.
    pub stuck_on: Vec<usize>,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = crate::history::Token(&self.key);
        writeln!(
            f,
            "not linearizable: key {key}, epoch {} ({} operations)",
            self.epoch,
            self.operations.len()
        )?;
        writeln!(
            f,
            "longest linearizable prefix ({} operations):",
            self.longest_prefix.len()
        )?;
        let shown = self.longest_prefix.len().saturating_sub(12);
        if shown > 0 {
            writeln!(f, "  ... {shown} earlier operations")?;
        }
        for &i in &self.longest_prefix[shown..] {
            writeln!(f, "  {}", self.operations[i])?;
        }
        let s = &self.state_after_prefix;
        let value = match &s.value {
            Some(v) => format!("{}", ValueDisplay(&Value::Bulk(v.clone()))),
            None => "absent".into(),
        };
        writeln!(
            f,
            "register after it: {value}, deadline {:?}, at or after {} ms",
            s.deadline, s.last_ms
        )?;
        writeln!(f, "none of these can come next:")?;
        for &i in &self.stuck_on {
            let op = &self.operations[i];
            let (a, b) = window(op);
            let expected: Vec<String> = model::step(s, &op.op.kind, a, b)
                .iter()
                .map(|(_, v)| ValueDisplay(v).to_string())
                .collect();
            writeln!(f, "  {op}   (the model allows: {})", expected.join(" | "))?;
        }
        Ok(())
    }
}

/// Checks `history` with [`DEFAULT_BUDGET`].
pub fn check(history: &History) -> Result<CheckResult, ParseError> {
    check_with_budget(history, DEFAULT_BUDGET)
}

/// Checks `history`, exploring at most `budget` configurations per key and epoch.
pub fn check_with_budget(history: &History, budget: usize) -> Result<CheckResult, ParseError> {
    let mut groups: BTreeMap<(usize, Vec<u8>), Vec<Operation>> = BTreeMap::new();
    for op in history.operations()? {
        if op.failed() || (op.is_indeterminate() && op.op.is_read_only()) {
            continue;
        }
        groups.entry((op.epoch, op.op.key.clone())).or_default().push(op);
    }
    for ((epoch, key), ops) in groups {
        let mut search = Search::new(&ops, budget);
        match search.run() {
            Some(true) => {}
            Some(false) => {
                return Ok(CheckResult::Violation(Box::new(Violation {
                    key,
                    epoch,
                    longest_prefix: search.best_path.clone(),
                    state_after_prefix: search.best_state.clone(),
                    stuck_on: search.candidates(&search.best_done()),
                    operations: ops,
                })))
            }
            None => return Ok(CheckResult::Unknown { key, epoch }),
        }
    }
    Ok(CheckResult::Linearizable)
}

/// The window of server milliseconds in which `op` took effect.
fn window(op: &Operation) -> (i64, i64) {
    let a = op.invoke_time.div_euclid(1000);
    let b = match (&op.completion, op.is_indeterminate()) {
        (Some((_, t, _)), false) => t.div_euclid(1000),
        _ => FOREVER_MS,
    };
    (a, b)
}

/// A set of operation indices.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct BitSet(Vec<u64>);

impl BitSet {
    fn new(n: usize) -> BitSet {
        BitSet(vec![0; n.div_ceil(64)])
    }
    fn contains(&self, i: usize) -> bool {
        self.0[i / 64] & (1 << (i % 64)) != 0
    }
    fn flip(&mut self, i: usize) {
        self.0[i / 64] ^= 1 << (i % 64);
    }
}

struct Search<'a> {
    ops: &'a [Operation],
    /// Completion event index per operation (`usize::MAX` when indeterminate).
    ret: Vec<usize>,
    windows: Vec<(i64, i64)>,
    completed: usize,
    visited: HashSet<(BitSet, State)>,
    budget: usize,
    path: Vec<usize>,
    best_path: Vec<usize>,
    best_state: State,
}

impl<'a> Search<'a> {
    fn new(ops: &'a [Operation], budget: usize) -> Search<'a> {
        let ret: Vec<usize> = ops
            .iter()
            .map(|o| match &o.completion {
                Some((i, _, _)) if !o.is_indeterminate() => *i,
                _ => usize::MAX,
            })
            .collect();
        Search {
            ops,
            completed: ret.iter().filter(|&&r| r != usize::MAX).count(),
            windows: ops.iter().map(window).collect(),
            ret,
            visited: HashSet::new(),
            budget,
            path: Vec::new(),
            best_path: Vec::new(),
            best_state: State::default(),
        }
    }

    /// `Some(true)` when a linearization exists, `Some(false)` when none does, `None` over budget.
    fn run(&mut self) -> Option<bool> {
        let done = BitSet::new(self.ops.len());
        self.dfs(State::default(), done, 0)
    }

    fn best_done(&self) -> BitSet {
        let mut done = BitSet::new(self.ops.len());
        for &i in &self.best_path {
            done.flip(i);
        }
        done
    }

    /// The operations that may be linearized next: not yet linearized and invoked before the earliest
    /// completion among the not yet linearized.
    fn candidates(&self, done: &BitSet) -> Vec<usize> {
        let min_ret = (0..self.ops.len())
            .filter(|&i| !done.contains(i))
            .map(|i| self.ret[i])
            .min()
            .unwrap_or(usize::MAX);
        (0..self.ops.len())
            .filter(|&i| !done.contains(i) && self.ops[i].invoke_index < min_ret)
            .collect()
    }

    fn dfs(&mut self, state: State, mut done: BitSet, completed_done: usize) -> Option<bool> {
        if completed_done == self.completed {
            return Some(true);
        }
        if self.path.len() > self.best_path.len() || self.best_path.is_empty() {
            self.best_path = self.path.clone();
            self.best_state = state.clone();
        }
        if self.visited.len() >= self.budget {
            return None;
        }
        if !self.visited.insert((done.clone(), state.clone())) {
            return Some(false);
        }
        for i in self.candidates(&done) {
            let op = &self.ops[i];
            let (a, b) = self.windows[i];
            let observed = op.value().cloned();
            let indeterminate = op.is_indeterminate();
            for (next, reply) in model::step(&state, &op.op.kind, a, b) {
                if !indeterminate && observed.as_ref() != Some(&reply) {
                    continue;
                }
                done.flip(i);
                self.path.push(i);
                let found = self.dfs(next, done.clone(), completed_done + usize::from(!indeterminate));
                self.path.pop();
                done.flip(i);
                match found {
                    Some(false) => {}
                    other => return other,
                }
            }
        }
        Some(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(text: &str) -> CheckResult {
        check(&History::parse(text).unwrap()).unwrap()
    }

    fn assert_linearizable(text: &str) {
        let v = verdict(text);
        if let CheckResult::Violation(v) = &v {
            panic!("expected linearizable:\n{text}\n{v}");
        }
        assert_eq!(v, CheckResult::Linearizable, "{text}");
    }

    fn assert_violation(text: &str) -> Box<Violation> {
        match verdict(text) {
            CheckResult::Violation(v) => v,
            other => panic!("expected a violation, got {other:?}:\n{text}"),
        }
    }

    #[test]
    fn sequential_history_is_linearizable() {
        assert_linearizable(
            "1000 1 invoke set k 5\n2000 1 ok ok\n3000 1 invoke incr k\n4000 1 ok int 6\n\
             5000 1 invoke append k x\n6000 1 ok int 2\n7000 1 invoke get k\n8000 1 ok bulk 6x\n\
             9000 1 invoke incr k\n10000 1 ok err ERR\\x20value\\x20is\\x20not\\x20an\\x20integer\\x20or\\x20out\\x20of\\x20range\n\
             11000 1 invoke del k\n12000 1 ok int 1\n13000 1 invoke get k\n14000 1 ok nil\n",
        );
    }

    #[test]
    fn concurrent_operations_may_take_effect_in_either_order() {
        // The read overlaps the write: it may see the old or the new value.
        let base = "1000 1 invoke set k a\n2000 1 ok ok\n3000 1 invoke set k b\n3100 2 invoke get k\n";
        assert_linearizable(&format!("{base}3200 2 ok bulk a\n4000 1 ok ok\n"));
        assert_linearizable(&format!("{base}3200 2 ok bulk b\n4000 1 ok ok\n"));
        // Two concurrent increments that both saw 1 would be a lost update.
        let incrs = "1000 1 invoke incr k\n1000 2 invoke incr k\n2000 1 ok int 1\n2000 2 ok int 2\n";
        assert_linearizable(incrs);
    }

    #[test]
    fn stale_read_is_a_violation() {
        let v = assert_violation(
            "1000 1 invoke set k a\n2000 1 ok ok\n3000 1 invoke set k b\n4000 1 ok ok\n\
             5000 2 invoke get k\n6000 2 ok bulk a\n",
        );
        assert_eq!(v.key, b"k");
        assert_eq!(v.longest_prefix, vec![0, 1]);
        let report = v.to_string();
        assert!(report.contains("p2 get k @5000 -> bulk a @6000"), "{report}");
        assert!(report.contains("the model allows: bulk b"), "{report}");
    }

    #[test]
    fn lost_update_is_a_violation() {
        assert_violation("1000 1 invoke incr k\n1000 2 invoke incr k\n2000 1 ok int 1\n2000 2 ok int 1\n");
        // Two appends each reporting length 1: one overwrote the other.
        assert_violation("1000 1 invoke append k a\n1000 2 invoke append k b\n2000 1 ok int 1\n2000 2 ok int 1\n");
    }

    #[test]
    fn read_of_a_never_written_value_is_a_violation() {
        assert_violation("1000 1 invoke set k a\n1000 2 invoke get k\n2000 1 ok ok\n2000 2 ok bulk zzz\n");
        assert_violation("1000 1 invoke get k\n2000 1 ok bulk a\n");
    }

    #[test]
    fn indeterminate_writes_may_or_may_not_take_effect() {
        // A SET that timed out may show up later, even much later...
        let pending = "1000 1 invoke set k a\n1500 1 info\n";
        assert_linearizable(&format!("{pending}9000 2 invoke get k\n9100 2 ok bulk a\n"));
        // ...or never.
        assert_linearizable(&format!("{pending}9000 2 invoke get k\n9100 2 ok nil\n"));
        // A crashed client never completes its operation at all.
        assert_linearizable("1000 1 invoke set k a\n9000 2 invoke get k\n9100 2 ok bulk a\n");
        // But it cannot take effect before it was invoked.
        assert_violation("1000 2 invoke get k\n1100 2 ok bulk a\n2000 1 invoke set k a\n");
        // And once it is observed, it cannot be undone without another write.
        assert_violation(
            "1000 1 invoke set k a\n2000 2 invoke get k\n2100 2 ok bulk a\n\
             3000 2 invoke get k\n3100 2 ok nil\n",
        );
        // A failed operation never took effect.
        assert_violation("1000 1 invoke set k a\n1500 1 fail\n2000 2 invoke get k\n2100 2 ok bulk a\n");
    }

    #[test]
    fn keys_expire_at_their_deadline() {
        let set = "1000000 1 invoke set k v px 100\n1000500 1 ok ok\n";
        // Read well within the TTL: the value; well after it: nothing.
        assert_linearizable(&format!("{set}1050000 2 invoke get k\n1050100 2 ok bulk v\n"));
        assert_linearizable(&format!("{set}1200000 2 invoke get k\n1200100 2 ok nil\n"));
        assert_violation(&format!("{set}1050000 2 invoke get k\n1050100 2 ok nil\n"));
        assert_violation(&format!("{set}1200000 2 invoke get k\n1200100 2 ok bulk v\n"));
        // Near the deadline either is possible, but not alive again after expiring.
        assert_linearizable(&format!("{set}1100000 2 invoke get k\n1101300 2 ok nil\n"));
        assert_linearizable(&format!("{set}1100000 2 invoke get k\n1101300 2 ok bulk v\n"));
        assert_violation(&format!(
            "{set}1100000 2 invoke get k\n1101300 2 ok nil\n1101400 3 invoke get k\n1101450 3 ok bulk v\n"
        ));
        // PEXPIRE on a live key sets a deadline; SET without PX clears it.
        assert_violation(
            "1000000 1 invoke set k v\n1000100 1 ok ok\n1000200 1 invoke pexpire k 10\n1000300 1 ok int 1\n\
             1100000 1 invoke get k\n1100100 1 ok bulk v\n",
        );
        assert_linearizable(
            "1000000 1 invoke set k v px 10\n1000100 1 ok ok\n1000200 1 invoke set k w\n1000300 1 ok ok\n\
             1100000 1 invoke get k\n1100100 1 ok bulk w\n",
        );
        // EXPIRE on a missing key answers 0; INCR keeps the TTL.
        assert_linearizable(
            "1000000 1 invoke expire k 1\n1000100 1 ok int 0\n1000200 1 invoke set k 1 px 1000\n1000300 1 ok ok\n\
             1000400 1 invoke incr k\n1000500 1 ok int 2\n2500000 1 invoke get k\n2500100 1 ok nil\n",
        );
    }

    #[test]
    fn restart_starts_an_empty_epoch() {
        let before = "1000 1 invoke set k a\n2000 1 ok ok\n";
        assert_linearizable(&format!("{before}3000 - restart\n4000 2 invoke get k\n5000 2 ok nil\n"));
        // Without the restart, losing the value is a violation.
        assert_violation(&format!("{before}4000 2 invoke get k\n5000 2 ok nil\n"));
        // Epochs are checked separately, so a violation after a restart is still found.
        let v = assert_violation(&format!(
            "{before}3000 - restart\n4000 2 invoke set k b\n4500 2 ok ok\n5000 2 invoke get k\n5500 2 ok bulk a\n"
        ));
        assert_eq!(v.epoch, 1);
    }

    #[test]
    fn keys_are_independent() {
        assert_linearizable(
            "1000 1 invoke set a 1\n1000 2 invoke set b 2\n2000 1 ok ok\n2000 2 ok ok\n\
             3000 1 invoke get b\n3000 2 invoke get a\n4000 1 ok bulk 2\n4000 2 ok bulk 1\n",
        );
    }

    #[test]
    fn many_concurrent_writers_stay_tractable() {
        // 8 processes each write then read their own unique values, fully overlapping, 40 rounds.
        let mut h = History::new();
        let mut t = 0;
        for round in 0..40 {
            for p in 0..8u64 {
                let v = format!("{round}-{p}").into_bytes();
                h.invoke(
                    t,
                    p,
                    crate::Op {
                        key: b"k".to_vec(),
                        kind: crate::OpKind::Set { value: v, px_ms: None },
                    },
                );
                t += 1;
            }
            for p in 0..8u64 {
                h.ok(t, p, Value::Ok);
                t += 1;
            }
            let last = format!("{round}-7").into_bytes();
            h.invoke(
                t,
                100,
                crate::Op {
                    key: b"k".to_vec(),
                    kind: crate::OpKind::Get,
                },
            );
            h.ok(t + 1, 100, Value::Bulk(last));
            t += 2;
        }
        assert_eq!(check(&h).unwrap(), CheckResult::Linearizable);
    }

    #[test]
    fn budget_exhaustion_is_unknown_not_a_verdict() {
        let text = "1000 1 invoke incr k\n1000 2 invoke incr k\n2000 1 ok int 1\n2000 2 ok int 1\n";
        let h = History::parse(text).unwrap();
        assert_eq!(
            check_with_budget(&h, 1).unwrap(),
            CheckResult::Unknown {
                key: b"k".to_vec(),
                epoch: 0
            }
        );
    }
}
