//! The linearizability checker: Wing & Gong's search with Lowe's memoization, per group of keys and
//! per epoch, generic over the sequential specification ([`Model`]).
//!
//! # Partitioning: connected key groups
//!
//! Linearizability is P-compositional (Herlihy and Wing): a history of single-key operations is
//! linearizable if and only if its restriction to each key is, so each key can be searched on its own,
//! which keeps the search small. A MULTI/EXEC transaction is one operation over several keys, and then
//! the restriction to one key is no longer a history of whole operations. The checker therefore
//! partitions the operations of an epoch into *connected key groups*: two keys are in the same group
//! when some operation touches both (a transaction's commands, or its WATCH guards), transitively. No
//! operation spans two groups, so the groups are independent objects and compositionality applies to
//! them: the history is linearizable if and only if every group's sub-history is. A history without
//! transactions is checked key by key exactly as before; a workload whose transactions touch every key
//! is checked as one whole history (the model is the whole keyspace).
//!
//! # The search
//!
//! For one group in one epoch, the search builds a linearization one operation at a time. An operation
//! may come next if it was invoked before every not-yet-linearized completed operation returned (it is
//! *minimal* in the real-time order); the model ([`Model::step`]) then says which states and replies
//! are possible, and the operation is taken if its observed reply is among them (any reply, for an
//! indeterminate operation). The search backtracks when stuck, and remembers every (set of linearized
//! operations, model state) configuration it has already explored — Lowe's memoization — so each
//! configuration is expanded once. It succeeds once every completed operation is linearized:
//! indeterminate operations may be left out (they never took effect).
//!
//! Dropped before the search, since they cannot change the keyspace: operations that `fail`ed,
//! indeterminate read-only operations, and watched transactions whose EXEC answered nil (aborted).

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use crate::history::{History, Op, Operation, ParseError, Token, Value, ValueDisplay};
use crate::model::{Keyspace, Model, FOREVER_MS};

/// How many configurations one group of keys may explore before the checker gives up with
/// [`CheckResult::Unknown`].
pub const DEFAULT_BUDGET: usize = 2_000_000;

/// The verdict on a history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckResult {
    /// Every key group in every epoch has a linearization.
    Linearizable,
    /// Some key group in some epoch has none.
    Violation(Box<Violation>),
    /// The search for this key group exceeded its budget (not a verdict).
    Unknown { keys: Vec<Vec<u8>>, epoch: usize },
}

impl CheckResult {
    /// True for [`CheckResult::Violation`].
    pub fn is_violation(&self) -> bool {
        matches!(self, CheckResult::Violation(_))
    }
}

/// A key group whose operations cannot be linearized, with what the search got furthest with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The group's keys, sorted.
    pub keys: Vec<Vec<u8>>,
    pub epoch: usize,
    /// Every operation on the group in the epoch, in invocation order.
    pub operations: Vec<Operation>,
    /// The longest linearizable prefix found (indices into `operations`, in linearization order).
    pub longest_prefix: Vec<usize>,
    /// The model's state after that prefix, described.
    pub state_after_prefix: String,
    /// The operations that could have come next after the prefix, none of which fits, each with the
    /// replies the model allows for it there.
    pub stuck_on: Vec<(usize, Vec<Value>)>,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<String> = self.keys.iter().map(|k| Token(k).to_string()).collect();
        writeln!(
            f,
            "not linearizable: key{} {}, epoch {} ({} operations)",
            if keys.len() == 1 { "" } else { "s" },
            keys.join(" "),
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
        writeln!(f, "keyspace after it: {}", self.state_after_prefix)?;
        writeln!(f, "none of these can come next:")?;
        for (i, allowed) in &self.stuck_on {
            let allowed: Vec<String> = allowed.iter().map(|v| ValueDisplay(v).to_string()).collect();
            let allowed = if allowed.is_empty() {
                "nothing: its window is over".to_string()
            } else {
                allowed.join(" | ")
            };
            writeln!(f, "  {}   (the model allows: {allowed})", self.operations[*i])?;
        }
        Ok(())
    }
}

/// Checks `history` against the [`Keyspace`] model with [`DEFAULT_BUDGET`].
pub fn check(history: &History) -> Result<CheckResult, ParseError> {
    check_with_budget(history, DEFAULT_BUDGET)
}

/// Checks `history` against the [`Keyspace`] model, exploring at most `budget` configurations per key
/// group and epoch.
pub fn check_with_budget(history: &History, budget: usize) -> Result<CheckResult, ParseError> {
    check_model(&Keyspace, history, budget)
}

/// Checks `history` against `model`, exploring at most `budget` configurations per key group and epoch.
pub fn check_model<M: Model>(model: &M, history: &History, budget: usize) -> Result<CheckResult, ParseError> {
    let ops = history.operations()?.into_iter().filter(|op| {
        let aborted = matches!(&op.op, Op::Txn(t) if !t.guards.is_empty()) && op.value() == Some(&Value::Nil);
        !(op.failed() || (op.is_indeterminate() && op.op.is_read_only()) || aborted || op.op.keys().is_empty())
    });
    for (epoch, keys, ops) in key_groups(ops) {
        let mut search = Search::new(model, &ops, budget);
        match search.run() {
            Some(true) => {}
            Some(false) => {
                let state = &search.best_state;
                let stuck_on = search
                    .candidates(&search.best_done())
                    .into_iter()
                    .map(|i| {
                        let (a, b) = search.windows[i];
                        let allowed = model
                            .step(state, &ops[i].op, a, b)
                            .into_iter()
                            .map(|(_, v)| v)
                            .collect();
                        (i, allowed)
                    })
                    .collect();
                return Ok(CheckResult::Violation(Box::new(Violation {
                    keys,
                    epoch,
                    longest_prefix: search.best_path.clone(),
                    state_after_prefix: model.describe(state),
                    stuck_on,
                    operations: ops,
                })));
            }
            None => return Ok(CheckResult::Unknown { keys, epoch }),
        }
    }
    Ok(CheckResult::Linearizable)
}

/// Splits operations into (epoch, connected key group) sub-histories, each with its sorted keys and
/// its operations in invocation order. Groups come in order of epoch, then of first operation.
fn key_groups(ops: impl Iterator<Item = Operation>) -> Vec<(usize, Vec<Vec<u8>>, Vec<Operation>)> {
    let mut by_epoch: BTreeMap<usize, Vec<Operation>> = BTreeMap::new();
    for op in ops {
        by_epoch.entry(op.epoch).or_default().push(op);
    }
    let mut groups = Vec::new();
    for (epoch, ops) in by_epoch {
        // Union-find over the epoch's keys.
        let mut index: BTreeMap<Vec<u8>, usize> = BTreeMap::new();
        let mut parent: Vec<usize> = Vec::new();
        fn root(parent: &mut [usize], mut i: usize) -> usize {
            while parent[i] != i {
                parent[i] = parent[parent[i]];
                i = parent[i];
            }
            i
        }
        for op in &ops {
            let mut first = None;
            for key in op.op.keys() {
                let next = index.len();
                let k = *index.entry(key.to_vec()).or_insert(next);
                if k == parent.len() {
                    parent.push(k);
                }
                match first {
                    None => first = Some(k),
                    Some(f) => {
                        let (a, b) = (root(&mut parent, f), root(&mut parent, k));
                        parent[b] = a;
                    }
                }
            }
        }
        // Group id: the root's position among roots in order of first operation.
        let mut order: BTreeMap<usize, usize> = BTreeMap::new();
        let mut members: Vec<(Vec<Vec<u8>>, Vec<Operation>)> = Vec::new();
        for op in ops {
            let Some(first) = op.op.keys().first().map(|k| index[*k]) else {
                continue;
            };
            let r = root(&mut parent, first);
            let next = order.len();
            let g = *order.entry(r).or_insert(next);
            if g == members.len() {
                members.push((Vec::new(), Vec::new()));
            }
            members[g].1.push(op);
        }
        for (key, &k) in &index {
            let r = root(&mut parent, k);
            if let Some(&g) = order.get(&r) {
                members[g].0.push(key.clone());
            }
        }
        groups.extend(members.into_iter().map(|(keys, ops)| (epoch, keys, ops)));
    }
    groups
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

struct Search<'a, M: Model> {
    model: &'a M,
    ops: &'a [Operation],
    /// Completion event index per operation (`usize::MAX` when indeterminate).
    ret: Vec<usize>,
    windows: Vec<(i64, i64)>,
    completed: usize,
    visited: HashSet<(BitSet, M::State)>,
    budget: usize,
    path: Vec<usize>,
    best_path: Vec<usize>,
    best_state: M::State,
}

impl<'a, M: Model> Search<'a, M> {
    fn new(model: &'a M, ops: &'a [Operation], budget: usize) -> Search<'a, M> {
        let ret: Vec<usize> = ops
            .iter()
            .map(|o| match &o.completion {
                Some((i, _, _)) if !o.is_indeterminate() => *i,
                _ => usize::MAX,
            })
            .collect();
        Search {
            model,
            ops,
            completed: ret.iter().filter(|&&r| r != usize::MAX).count(),
            windows: ops.iter().map(window).collect(),
            ret,
            visited: HashSet::new(),
            budget,
            path: Vec::new(),
            best_path: Vec::new(),
            best_state: model.initial(),
        }
    }

    /// `Some(true)` when a linearization exists, `Some(false)` when none does, `None` over budget.
    fn run(&mut self) -> Option<bool> {
        let done = BitSet::new(self.ops.len());
        self.dfs(self.model.initial(), done, 0)
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

    fn dfs(&mut self, state: M::State, mut done: BitSet, completed_done: usize) -> Option<bool> {
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
            for (next, reply) in self.model.step(&state, &op.op, a, b) {
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
        assert_eq!(v.keys, vec![b"k".to_vec()]);
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
                    crate::Command::new("k", crate::OpKind::Set { value: v, px_ms: None }).into(),
                );
                t += 1;
            }
            for p in 0..8u64 {
                h.ok(t, p, Value::Ok);
                t += 1;
            }
            let last = format!("{round}-7").into_bytes();
            h.invoke(t, 100, crate::Command::new("k", crate::OpKind::Get).into());
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
                keys: vec![b"k".to_vec()],
                epoch: 0
            }
        );
    }

    /// A sequential history from `(command, reply)` lines, one process, 1 ms apart.
    fn sequential(lines: &[(&str, &str)]) -> String {
        let mut out = String::new();
        for (i, (op, reply)) in lines.iter().enumerate() {
            let t = 1000 * (2 * i as i64 + 1);
            out.push_str(&format!("{t} 1 invoke {op}\n{} 1 ok {reply}\n", t + 500));
        }
        out
    }

    #[test]
    fn lists() {
        assert_linearizable(&sequential(&[
            ("rpush l a b", "int 2"),
            ("lpush l c", "int 3"),
            ("lrange l 0 -1", "arr 3 bulk c bulk a bulk b"),
            ("lrange l -2 10", "arr 2 bulk a bulk b"),
            ("lrange l 5 9", "arr 0"),
            ("rpop l", "bulk b"),
            ("lpop l", "bulk c"),
            ("llen l", "int 1"),
            ("lpop l", "bulk a"),
            ("lpop l", "nil"),
            ("llen l", "int 0"),
            ("get l", "nil"),
            ("rpush l x", "int 1"),
            ("get l", "err WRONGTYPE\\x20Operation\\x20against\\x20a\\x20key\\x20holding\\x20the\\x20wrong\\x20kind\\x20of\\x20value"),
        ]));
        // Popping from the wrong end, or an element pushed later.
        assert_violation(&sequential(&[("rpush l a b", "int 2"), ("lpop l", "bulk b")]));
        assert_violation(&sequential(&[
            ("lpush l a b", "int 2"),
            ("lrange l 0 -1", "arr 2 bulk a bulk b"),
        ]));
        // Two concurrent pops cannot both take the same element.
        let pops = "1000 1 invoke rpush l a b\n1500 1 ok int 2\n2000 2 invoke lpop l\n2000 3 invoke lpop l\n";
        assert_linearizable(&format!("{pops}2500 2 ok bulk b\n2500 3 ok bulk a\n"));
        assert_violation(&format!("{pops}2500 2 ok bulk a\n2500 3 ok bulk a\n"));
    }

    #[test]
    fn hashes() {
        assert_linearizable(&sequential(&[
            ("hset h f 1 g x", "int 2"),
            ("hset h f 5", "int 0"),
            ("hincrby h f 2", "int 7"),
            ("hincrby h n -1", "int -1"),
            (
                "hincrby h g 1",
                "err ERR\\x20hash\\x20value\\x20is\\x20not\\x20an\\x20integer",
            ),
            ("hgetall h", "arr 6 bulk f bulk 7 bulk g bulk x bulk n bulk -1"),
            ("hget h g", "bulk x"),
            ("hdel h f g zz", "int 2"),
            ("hget h f", "nil"),
            ("hdel h n", "int 1"),
            ("hgetall h", "arr 0"),
        ]));
        // HGETALL pairs are compared in field order (the recorder sorts them) ...
        assert_violation(&sequential(&[
            ("hset h b 1 a 2", "int 2"),
            ("hgetall h", "arr 4 bulk b bulk 1 bulk a bulk 2"),
        ]));
        // ... a deleted field does not come back, and increments are not lost.
        assert_violation(&sequential(&[
            ("hset h f 1", "int 1"),
            ("hdel h f", "int 1"),
            ("hget h f", "bulk 1"),
        ]));
        assert_violation(
            "1000 1 invoke hincrby h f 1\n1000 2 invoke hincrby h f 1\n2000 1 ok int 1\n2000 2 ok int 1\n",
        );
    }

    #[test]
    fn sets() {
        assert_linearizable(&sequential(&[
            ("sadd s b a b", "int 2"),
            ("sadd s a c", "int 1"),
            ("smembers s", "arr 3 bulk a bulk b bulk c"),
            ("sismember s c", "int 1"),
            ("srem s c z", "int 1"),
            ("sismember s c", "int 0"),
            ("scard s", "int 2"),
            ("srem s a b", "int 2"),
            ("smembers s", "arr 0"),
            ("scard s", "int 0"),
        ]));
        // Only one of two concurrent SADDs of the same member adds it.
        let adds = "1000 1 invoke sadd s m\n1000 2 invoke sadd s m\n";
        assert_linearizable(&format!("{adds}2000 1 ok int 0\n2000 2 ok int 1\n"));
        assert_violation(&format!("{adds}2000 1 ok int 1\n2000 2 ok int 1\n"));
        assert_violation(&sequential(&[
            ("sadd s a", "int 1"),
            ("srem s a", "int 1"),
            ("scard s", "int 1"),
        ]));
    }

    #[test]
    fn sorted_sets() {
        assert_linearizable(&sequential(&[
            ("zadd z 3 a 2 b 2 c", "int 3"),
            (
                "zrange z 0 -1 withscores",
                "arr 6 bulk b bulk 2 bulk c bulk 2 bulk a bulk 3",
            ),
            ("zincrby z -5 a", "bulk -2"),
            ("zincrby z 4 d", "bulk 4"),
            ("zadd z 9 b", "int 0"),
            ("zrange z 0 1 withscores", "arr 4 bulk a bulk -2 bulk c bulk 2"),
            ("zscore z b", "bulk 9"),
            ("zrem z b c q", "int 2"),
            ("zscore z b", "nil"),
            ("zcard z", "int 2"),
            ("zrem z a d", "int 2"),
            ("zcard z", "int 0"),
        ]));
        // Members are ordered by score, then by member.
        assert_violation(&sequential(&[
            ("zadd z 2 a 1 b", "int 2"),
            ("zrange z 0 -1 withscores", "arr 4 bulk a bulk 2 bulk b bulk 1"),
        ]));
        assert_violation(
            "1000 1 invoke zincrby z 1 m\n1000 2 invoke zincrby z 1 m\n2000 1 ok bulk 1\n2000 2 ok bulk 1\n",
        );
    }

    #[test]
    fn transactions_are_atomic() {
        let txn = "1000 1 invoke multi set a 1 | set b 1\n";
        // A reader sees both writes or neither.
        assert_linearizable(&format!(
            "{txn}2000 2 invoke get a\n2100 2 ok bulk 1\n2200 2 invoke get b\n2300 2 ok bulk 1\n9000 1 ok arr 2 ok ok\n"
        ));
        assert_linearizable(&format!(
            "{txn}2000 2 invoke get b\n2100 2 ok nil\n2200 2 invoke get a\n2300 2 ok nil\n9000 1 ok arr 2 ok ok\n"
        ));
        // Seeing the first write and then not the second is a non-atomic EXEC. Each key on its own is
        // linearizable, so only checking the keys together finds it.
        let v = assert_violation(&format!(
            "{txn}2000 2 invoke get a\n2100 2 ok bulk 1\n2200 2 invoke get b\n2300 2 ok nil\n9000 1 ok arr 2 ok ok\n"
        ));
        assert_eq!(v.keys, vec![b"a".to_vec(), b"b".to_vec()]);
        // The same history with two separate SETs is fine.
        assert_linearizable(
            "1000 1 invoke set a 1\n1000 3 invoke set b 1\n2000 2 invoke get a\n2100 2 ok bulk 1\n\
             2200 2 invoke get b\n2300 2 ok nil\n9000 1 ok ok\n9000 3 ok ok\n",
        );
        // Replies inside EXEC come from one state, and errors do not stop the rest.
        assert_linearizable(&sequential(&[
            ("sadd s x", "int 1"),
            ("multi incr a | sadd a y | incr s | scard s | get a", "arr 5 int 1 err WRONGTYPE\\x20Operation\\x20against\\x20a\\x20key\\x20holding\\x20the\\x20wrong\\x20kind\\x20of\\x20value err WRONGTYPE\\x20Operation\\x20against\\x20a\\x20key\\x20holding\\x20the\\x20wrong\\x20kind\\x20of\\x20value int 1 bulk 1"),
        ]));
        // An indeterminate transaction takes effect entirely or not at all.
        let lost = "1000 1 invoke multi incr a | incr b\n1500 1 info\n";
        assert_linearizable(&format!(
            "{lost}3000 2 invoke multi get a | get b\n3100 2 ok arr 2 bulk 1 bulk 1\n"
        ));
        assert_linearizable(&format!(
            "{lost}3000 2 invoke multi get a | get b\n3100 2 ok arr 2 nil nil\n"
        ));
        assert_violation(&format!(
            "{lost}3000 2 invoke multi get a | get b\n3100 2 ok arr 2 bulk 1 nil\n"
        ));
    }

    #[test]
    fn watched_transactions_run_only_on_what_was_read() {
        // p1 read LLEN 0 after WATCH; p2's push completed before p1's EXEC was sent.
        let base = "1000 1 invoke llen l\n1100 1 ok int 0\n2000 2 invoke rpush l x\n2100 2 ok int 1\n\
                    3000 1 invoke multi watch int 0 llen l | rpush l y\n";
        // EXEC must abort...
        assert_linearizable(&format!("{base}3100 1 ok nil\n"));
        // ...running it anyway is a lost WATCH.
        assert_violation(&format!("{base}3100 1 ok arr 1 int 2\n"));
        // Without the interfering push it may run (or abort, which is never checked).
        let alone = "1000 1 invoke llen l\n1100 1 ok int 0\n3000 1 invoke multi watch int 0 llen l | rpush l y\n";
        assert_linearizable(&format!("{alone}3100 1 ok arr 1 int 1\n"));
        assert_linearizable(&format!("{alone}3100 1 ok nil\n"));
    }

    #[test]
    fn key_groups_are_checked_separately() {
        let ops: Vec<Operation> = History::parse(
            "1 1 invoke get c\n2 1 ok nil\n3 1 invoke multi incr a | incr b\n4 1 ok arr 2 int 1 int 1\n\
             5 1 invoke multi incr b | incr d\n6 1 ok arr 2 int 2 int 1\n7 1 invoke get e\n8 1 ok nil\n",
        )
        .unwrap()
        .operations()
        .unwrap();
        let groups: Vec<(usize, Vec<Vec<u8>>, usize)> = key_groups(ops.into_iter())
            .into_iter()
            .map(|(e, keys, ops)| (e, keys, ops.len()))
            .collect();
        let k = |s: &str| s.as_bytes().to_vec();
        assert_eq!(
            groups,
            vec![
                (0, vec![k("c")], 1),
                (0, vec![k("a"), k("b"), k("d")], 2),
                (0, vec![k("e")], 1)
            ]
        );
    }

    /// The search works with any [`Model`]: here a single counter shared by every key, which only
    /// knows INCR and GET and ignores time.
    #[test]
    fn any_model_can_be_searched() {
        struct Counter;
        impl Model for Counter {
            type State = i64;
            fn initial(&self) -> i64 {
                0
            }
            fn step(&self, n: &i64, op: &Op, _: i64, _: i64) -> Vec<(i64, Value)> {
                match op {
                    Op::One(c) if c.kind == crate::OpKind::Incr => vec![(n + 1, Value::Int(n + 1))],
                    Op::One(c) if c.kind == crate::OpKind::Get => vec![(*n, Value::Bulk(n.to_string().into_bytes()))],
                    _ => Vec::new(),
                }
            }
            fn describe(&self, n: &i64) -> String {
                n.to_string()
            }
        }
        // The model's state is per key group: INCR on `b` starts again from the initial state.
        let h = History::parse("1 1 invoke incr a\n2 1 ok int 1\n3 1 invoke incr b\n4 1 ok int 1\n").unwrap();
        assert_eq!(check_model(&Counter, &h, 1000).unwrap(), CheckResult::Linearizable);
        let h = History::parse("1 1 invoke incr a\n2 1 ok int 1\n3 1 invoke get a\n4 1 ok bulk 2\n").unwrap();
        let v = match check_model(&Counter, &h, 1000).unwrap() {
            CheckResult::Violation(v) => v,
            other => panic!("{other:?}"),
        };
        assert_eq!(v.state_after_prefix, "1");
        assert_eq!(v.stuck_on, vec![(1, vec![Value::Bulk(b"1".to_vec())])]);
    }
}
