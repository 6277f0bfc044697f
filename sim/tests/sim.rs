//! Simulation tests: the real keel server under random workloads and faults, histories checked for
//! linearizability. Run with `scripts/sim` (or the command it prints); see docs/testing.md.
//!
//! - `random_workload_is_linearizable` (the strings workload) runs one seed per `MADSIM_TEST_NUM` (from `MADSIM_TEST_SEED`, or
//!   the current time when unset); a violation panics with the seed, the offending key's operations, the
//!   saved history and the command that replays it.
//! - `types_workload_is_linearizable` and `transactions_workload_is_linearizable` do the same for the
//!   other workloads; `fault_free_workloads_are_linearizable` runs one of the three (by seed) without
//!   faults.
//! - `same_seed_same_history` runs one seed of each workload twice and compares the histories byte for
//!   byte.
//! - `tampered_histories_are_caught` changes a count reply and a WATCH guard of real types and
//!   transaction histories to impossible values and expects violations.
//! - `planted_bug_is_caught`, built with `--features planted-stale-read`, runs seeds 1..=PLANTED_SEEDS
//!   until one shows a violation (all of them with `KEEL_SIM_PLANTED_ALL=1`, to print the catch rate),
//!   and fails if none does. Without the feature it checks
//!   nothing (the other tests cover the correct server).

#![cfg(madsim)]

use keel_sim::{assert_linearizable, run, Mix, SimConfig};

/// Where failing histories are saved.
const DIR: &str = env!("CARGO_TARGET_TMPDIR");

#[madsim::test]
async fn random_workload_is_linearizable() {
    let outcome = run(SimConfig::default()).await;
    eprintln!("{}", outcome.summary());
    assert_linearizable(&outcome, DIR, "sim random_workload_is_linearizable");
}

#[madsim::test]
async fn types_workload_is_linearizable() {
    let outcome = run(SimConfig::with_mix(Mix::Types)).await;
    eprintln!("{}", outcome.summary());
    assert_linearizable(&outcome, DIR, "sim types_workload_is_linearizable");
}

#[madsim::test]
async fn transactions_workload_is_linearizable() {
    let outcome = run(SimConfig::with_mix(Mix::Transactions)).await;
    eprintln!("{}", outcome.summary());
    assert_linearizable(&outcome, DIR, "sim transactions_workload_is_linearizable");
}

/// Without faults; the seed picks the workload (seed modulo 3: strings, types, transactions), since one
/// simulation can run only one server node.
#[madsim::test]
async fn fault_free_workloads_are_linearizable() {
    let mixes = [Mix::Strings, Mix::Types, Mix::Transactions];
    let mix = mixes[(madsim::runtime::Handle::current().seed() % 3) as usize];
    let config = SimConfig {
        faults: false,
        ..SimConfig::with_mix(mix)
    };
    let outcome = run(config).await;
    eprintln!("{}", outcome.summary());
    assert_linearizable(&outcome, DIR, "sim fault_free_workloads_are_linearizable");
}

/// Runs `seed` in a fresh simulation on its own thread (as madsim's test runner does).
fn run_seed(seed: u64, config: SimConfig) -> keel_sim::Outcome {
    std::thread::spawn(move || {
        let rt = madsim::runtime::Runtime::with_seed_and_config(seed, madsim::Config::default());
        rt.block_on(run(config))
    })
    .join()
    .unwrap_or_else(|e| {
        eprintln!(
            "seed {seed} panicked; replay: {}",
            keel_sim::replay_command(seed, "sim random_workload_is_linearizable")
        );
        std::panic::resume_unwind(e)
    })
}

#[test]
fn same_seed_same_history() {
    let seed = std::env::var("MADSIM_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(7);
    for mix in [Mix::Strings, Mix::Types, Mix::Transactions] {
        let first = run_seed(seed, SimConfig::with_mix(mix));
        let second = run_seed(seed, SimConfig::with_mix(mix));
        let (a, b) = (first.history.to_text(), second.history.to_text());
        assert!(a.lines().count() > 100, "the run did something: {a}");
        if a != b {
            let line = a.lines().zip(b.lines()).position(|(x, y)| x != y);
            panic!(
                "seed {seed} ({mix:?}) is not deterministic: histories differ from line {line:?}\nfirst saved at {}\nsecond saved at {}\nreplay: {}",
                keel_sim::save_history(DIR, &first, "-first"),
                keel_sim::save_history(DIR, &second, "-second"),
                keel_sim::replay_command(seed, "sim same_seed_same_history")
            );
        }
        assert_eq!(first.faults, second.faults);
    }
}

/// The planted bug must be caught within this many seeds (1, 2, ...).
const PLANTED_SEEDS: u64 = 50;

#[test]
fn planted_bug_is_caught() {
    if !cfg!(feature = "planted-stale-read") {
        eprintln!("built without --features planted-stale-read: nothing to check");
        return;
    }
    // Stop at the first catch, unless asked for the catch rate over the whole budget (proving that a
    // history has no linearization is the slow part of a check: about 1 s a seed).
    let all = std::env::var_os("KEEL_SIM_PLANTED_ALL").is_some();
    let mut caught = Vec::new();
    for seed in 1..=PLANTED_SEEDS {
        if !caught.is_empty() && !all {
            break;
        }
        let outcome = run_seed(seed, SimConfig::default());
        if let keel_jepsen::CheckResult::Violation(v) = &outcome.verdict {
            if caught.is_empty() {
                eprintln!("first catch, seed {seed}:\n{v}");
            }
            caught.push(seed);
        }
    }
    if all {
        eprintln!(
            "the planted stale read was caught by {} of {PLANTED_SEEDS} seeds: {caught:?}",
            caught.len()
        );
    }
    assert!(
        !caught.is_empty(),
        "the planted stale-read bug was not caught in {PLANTED_SEEDS} seeds"
    );
}

/// True for commands whose reply is a count no run can reach a million of.
fn is_count(c: &keel_jepsen::Command) -> bool {
    use keel_jepsen::OpKind::*;
    matches!(c.kind, LLen | SCard | ZCard)
}

/// Real histories of the types and transaction workloads go through the type-aware checks: a count
/// reply (LLEN/SCARD/ZCARD) or a WATCH guard changed to an impossible value makes them violations.
#[test]
fn tampered_histories_are_caught() {
    use keel_jepsen::{CheckResult, EventKind, Op, Value};
    let impossible = Value::Int(1_000_000);

    let outcome = run_seed(3, SimConfig::with_mix(Mix::Types));
    assert_eq!(outcome.verdict, CheckResult::Linearizable);
    let mut history = outcome.history.clone();
    let ops = history.operations().expect("well-formed");
    let count = ops
        .iter()
        .find(|o| matches!(&o.op, Op::One(c) if is_count(c)) && o.value().is_some())
        .expect("the types workload reads counts");
    let (at, _, _) = count.completion.clone().expect("completed");
    history.events[at].kind = EventKind::Ok(impossible.clone());
    assert!(keel_jepsen::check(&history).expect("well-formed").is_violation());

    let outcome = run_seed(3, SimConfig::with_mix(Mix::Transactions));
    assert_eq!(outcome.verdict, CheckResult::Linearizable);
    let mut history = outcome.history.clone();
    let ops = history.operations().expect("well-formed");
    let guarded = ops
        .iter()
        .find(|o| {
            matches!(&o.op, Op::Txn(t) if t.guards.iter().any(|(c, _)| is_count(c)))
                && matches!(o.value(), Some(Value::Array(_)))
        })
        .expect("the transaction workload commits WATCH transactions guarded by a count");
    let EventKind::Invoke(Op::Txn(txn)) = &mut history.events[guarded.invoke_index].kind else {
        unreachable!("an invocation of a transaction");
    };
    for (c, v) in &mut txn.guards {
        if is_count(c) {
            *v = impossible.clone();
        }
    }
    assert!(keel_jepsen::check(&history).expect("well-formed").is_violation());
}
