//! keel-sim: deterministic simulation of keel under [madsim](https://docs.rs/madsim).
//!
//! Built only with `RUSTFLAGS="--cfg madsim"` (`scripts/sim`); a normal build compiles nothing here.
//! Under that flag `tokio` (keel-net's `madsim-tokio` dependency) is the simulator: tasks, timers, TCP
//! and the wall clock are simulated and every random choice comes from one seed, so a run is a pure
//! function of its seed.
//!
//! A [`run`] starts the real keel server (keel-net's [`keel_net::Bound`] and its connection loop, over
//! keel-core) on one simulated node and [`SimConfig::clients`] client nodes that speak RESP
//! ([`resp`]) over simulated TCP. Each client issues random commands of one workload ([`workload`]:
//! strings and expiry, lists/hashes/sets/sorted sets, or all of them with MULTI/EXEC and WATCH), alone
//! or pipelined, and records every invocation and completion in a [`keel_jepsen::History`]. Meanwhile a
//! nemesis ([`faults`]) clogs links, partitions the server, makes the network lossy and slow, kills and
//! restarts clients, crashes and restarts the server, and jumps the clock forward so keys expire. The
//! history is then checked for linearizability with [`keel_jepsen::check`].
//!
//! The fault model and how to replay a seed are in `docs/testing.md`, "Simulation and history checking".

#![cfg(madsim)]

pub mod disk;
pub mod faults;
pub mod resp;
pub mod workload;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use keel_jepsen::{CheckResult, History};
use madsim::runtime::Handle;
use workload::Workload;

/// The server node's address.
pub const SERVER_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
/// The port keel listens on.
pub const SERVER_PORT: u16 = 6379;

/// Which workload the clients run (see [`workload`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mix {
    /// Strings, keys and expiry on `k0`..`k2` ([`workload::Strings`]).
    Strings,
    /// Lists, hashes, sets and sorted sets, two keys each ([`workload::Types`]).
    Types,
    /// Every type, MULTI/EXEC and WATCH on six keys ([`workload::Transactions`]).
    Transactions,
}

impl Mix {
    /// The workload.
    pub fn workload(self) -> Arc<dyn Workload> {
        match self {
            Mix::Strings => Arc::new(workload::Strings { keys: 3 }),
            Mix::Types => Arc::new(workload::Types { keys_per_type: 2 }),
            Mix::Transactions => Arc::new(workload::Transactions),
        }
    }
}

/// The shape of one simulated run.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Number of client nodes.
    pub clients: usize,
    /// What the clients send.
    pub mix: Mix,
    /// Steps (commands or transactions) each client issues, in total, across its reconnections and
    /// restarts.
    pub ops_per_client: usize,
    /// Whether the nemesis injects faults.
    pub faults: bool,
}

impl Default for SimConfig {
    /// The strings workload with faults.
    fn default() -> SimConfig {
        SimConfig {
            clients: 5,
            mix: Mix::Strings,
            ops_per_client: 200,
            faults: true,
        }
    }
}

impl SimConfig {
    /// The default shape with workload `mix`. The transaction workload issues fewer steps per client:
    /// its transactions join every key into one group, which the checker searches as a whole.
    pub fn with_mix(mix: Mix) -> SimConfig {
        SimConfig {
            mix,
            ops_per_client: if mix == Mix::Transactions { 100 } else { 200 },
            ..SimConfig::default()
        }
    }
}

/// What a run produced.
#[derive(Debug)]
pub struct Outcome {
    pub seed: u64,
    /// The workload's name.
    pub workload: &'static str,
    pub history: History,
    pub verdict: CheckResult,
    /// The faults injected, in order, one line each (for the failure report).
    pub faults: Vec<String>,
}

impl Outcome {
    /// One line: seed, operations, how many stayed indeterminate, restarts, faults, simulated duration.
    pub fn summary(&self) -> String {
        let ops = self.history.operations().unwrap_or_default();
        let indeterminate = ops.iter().filter(|o| o.is_indeterminate()).count();
        let restarts = self
            .history
            .events
            .iter()
            .filter(|e| e.kind == keel_jepsen::EventKind::Restart)
            .count();
        let span = match (self.history.events.first(), self.history.events.last()) {
            (Some(a), Some(b)) => (b.time - a.time) / 1000,
            _ => 0,
        };
        format!(
            "seed {} ({}): {} operations ({indeterminate} indeterminate), {} faults ({restarts} server crashes), {span} ms simulated",
            self.seed,
            self.workload,
            ops.len(),
            self.faults.len()
        )
    }
}

/// Simulated wall-clock time in microseconds (the clock keel's server reads).
pub fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// State shared by the test driver, the clients and the nemesis. It lives outside the simulated nodes,
/// so it survives their crashes — it is the observer's notebook, not part of the system under test.
pub struct Shared {
    pub config: SimConfig,
    /// What the clients send.
    pub workload: Arc<dyn Workload>,
    pub history: Mutex<History>,
    /// Operations each client still has to issue.
    pub remaining: Vec<AtomicUsize>,
    /// The next process (connection) number.
    pub next_process: AtomicU64,
    /// Counter making SET values unique.
    pub next_value: AtomicU64,
}

impl Shared {
    /// Locks the history.
    pub fn history(&self) -> std::sync::MutexGuard<'_, History> {
        self.history.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// True once every client has issued all its operations.
    pub fn finished(&self) -> bool {
        self.remaining.iter().all(|r| r.load(Ordering::SeqCst) == 0)
    }
}

/// The server node's start-up: the same configuration parsing, binding and serving as `keel-server`.
/// Clients run on other simulated hosts and no password is set, so protected mode is off, as in any
/// deployment reached over a network without authentication. Snapshots are off: these workloads check
/// the in-memory state, and the server's storage here is the real file system.
async fn serve() {
    let config = server_config(&[]);
    let bound = keel_net::Bound::bind(config, None)
        .await
        .expect("the simulated server binds its port");
    bound.run().await;
}

/// The simulated server's configuration: port 6379 on every address, a fast cron, protected mode off
/// (clients are on other simulated hosts and no password is set), snapshots off, then `extra` options
/// (`--name value ...`), parsed exactly as `keel-server` parses its command line.
pub fn server_config(extra: &[&str]) -> keel_core::Config {
    let base = [
        "--port",
        "6379",
        "--bind",
        "0.0.0.0",
        "--hz",
        "50",
        "--protected-mode",
        "no",
        "--save",
        "",
    ];
    let args: Vec<String> = base.iter().chain(extra).map(|s| s.to_string()).collect();
    let (config, _) = keel_net::config_file::load(&args).expect("the simulated server's configuration is valid");
    config
}

/// Runs one simulated scenario in the current madsim runtime and checks its history.
pub async fn run(config: SimConfig) -> Outcome {
    let handle = Handle::current();
    let seed = handle.seed();
    let shared = Arc::new(Shared {
        remaining: (0..config.clients)
            .map(|_| AtomicUsize::new(config.ops_per_client))
            .collect(),
        workload: config.mix.workload(),
        config: config.clone(),
        history: Mutex::new(History::new()),
        next_process: AtomicU64::new(1),
        next_value: AtomicU64::new(1),
    });
    let server = handle.create_node().name("keel").ip(SERVER_IP).init(serve).build();
    // Let the server bind before the clients start (they retry anyway).
    madsim::time::sleep(Duration::from_millis(10)).await;
    let mut clients = Vec::new();
    for i in 0..config.clients {
        let shared = shared.clone();
        let node = handle
            .create_node()
            .name(format!("client{i}"))
            .ip(IpAddr::V4(Ipv4Addr::new(10, 0, 1, i as u8 + 1)))
            .init(move || workload::client(i, shared.clone()))
            .build();
        clients.push(node.id());
    }
    let mut nemesis = faults::Nemesis::new(server.id(), clients);
    let deadline = madsim::time::Instant::now() + Duration::from_secs(600);
    while !shared.finished() {
        if madsim::time::Instant::now() > deadline {
            panic!("seed {seed}: the workload did not finish within 600 simulated seconds");
        }
        if config.faults {
            nemesis.step(&shared).await;
        } else {
            madsim::time::sleep(Duration::from_millis(50)).await;
        }
    }
    nemesis.heal();
    let history = shared.history().clone();
    let verdict = keel_jepsen::check(&history).expect("the simulator writes well-formed histories");
    Outcome {
        seed,
        workload: shared.workload.name(),
        history,
        verdict,
        faults: nemesis.log,
    }
}

/// The server's address.
pub fn server_addr() -> SocketAddr {
    SocketAddr::new(SERVER_IP, SERVER_PORT)
}

/// The command that replays `seed` for the test named `test`.
pub fn replay_command(seed: u64, test: &str) -> String {
    format!(
        "MADSIM_TEST_SEED={seed} RUSTFLAGS=\"--cfg madsim\" CARGO_TARGET_DIR=target/sim cargo test -p keel-sim --test {test}"
    )
}

/// Saves the history of a run (with the faults as trailing comments) under `dir` as
/// `keel-sim-seed-<seed><tag>.history`, and returns the file's path.
pub fn save_history(dir: &str, outcome: &Outcome, tag: &str) -> String {
    let path = format!("{dir}/keel-sim-seed-{}{tag}.history", outcome.seed);
    let mut text = outcome.history.to_text();
    text.push_str("# faults injected:\n");
    for f in &outcome.faults {
        text.push_str(&format!("#   {f}\n"));
    }
    match std::fs::write(&path, text) {
        Ok(()) => path,
        Err(e) => format!("(could not write {path}: {e})"),
    }
}

/// Panics with the seed, the violation, the saved history and the replay command unless `outcome` is
/// linearizable. `Unknown` (the checker's search budget ran out) is reported as a failure too, since a
/// run that cannot be checked proves nothing.
///
/// With `KEEL_SIM_SAVE` set in the environment, every run's history is saved (and its path printed),
/// not only failing ones.
pub fn assert_linearizable(outcome: &Outcome, dir: &str, test: &str) {
    if std::env::var_os("KEEL_SIM_SAVE").is_some() {
        eprintln!(
            "history saved: {}",
            save_history(dir, outcome, &format!("-{}", outcome.workload))
        );
    }
    let why = match &outcome.verdict {
        CheckResult::Linearizable => return,
        CheckResult::Violation(v) => v.to_string(),
        CheckResult::Unknown { keys, epoch } => format!(
            "the checker's search budget ran out on keys {:?} in epoch {epoch}",
            keys.iter().map(|k| String::from_utf8_lossy(k)).collect::<Vec<_>>()
        ),
    };
    let path = save_history(dir, outcome, "");
    panic!(
        "seed {seed}: {why}\nhistory: {path}\nfaults: {faults:?}\nreplay: {cmd}",
        seed = outcome.seed,
        faults = outcome.faults,
        cmd = replay_command(outcome.seed, test)
    );
}
