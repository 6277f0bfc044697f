//! keel through real client libraries: each test starts an in-process keel on an ephemeral port and
//! runs one client suite against it as a subprocess, with the port in `KEEL_PORT`:
//!
//! * `python_redis_py`: `compat-tests/clients/python` (redis-py, pytest) with the venv's interpreter,
//!   `target/client-venv/bin/python`;
//! * `node_ioredis`: `compat-tests/clients/node/test.mjs` (ioredis, `node --test`).
//!
//! Both need the libraries that `scripts/setup-clients` installs; without them the tests fail and say
//! so. A failing suite fails its test with the suite's whole output.
//!
//! ```text
//! scripts/setup-clients
//! CARGO_TARGET_DIR=/work/target-clients cargo test -p keel-compat-tests --test clients
//! ```

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use keel_net::TestServer;

/// How long one client suite may run before it is killed (each takes a few seconds).
const SUITE_TIMEOUT: Duration = Duration::from_secs(300);

const SETUP_HINT: &str = "run scripts/setup-clients to install the client libraries";

/// The repository's root directory.
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("compat-tests lives inside the repository")
        .to_path_buf()
}

/// Fails the test because something that `scripts/setup-clients` installs is missing.
#[track_caller]
fn missing_setup(what: &str) -> ! {
    panic!("{what}: {SETUP_HINT}");
}

/// Runs `command` to completion, or kills it after [`SUITE_TIMEOUT`]. Returns its exit status (`None`
/// when it was killed) and its interleaved stdout and stderr.
fn run_with_timeout(name: &str, mut command: Command) -> (Option<ExitStatus>, String) {
    let log_path = std::env::temp_dir().join(format!("keel-client-suite-{name}-{}.log", std::process::id()));
    let log = File::create(&log_path).unwrap_or_else(|e| panic!("cannot create {}: {e}", log_path.display()));
    let log_err = log.try_clone().expect("duplicate the log file handle");
    command.stdin(Stdio::null()).stdout(log).stderr(log_err);

    let mut child = command
        .spawn()
        .unwrap_or_else(|e| missing_setup(&format!("cannot start the {name} suite ({command:?}): {e}")));
    let deadline = Instant::now() + SUITE_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => thread::sleep(Duration::from_millis(50)),
            Err(e) => panic!("waiting for the {name} suite: {e}"),
        }
    };

    let output = fs::read(&log_path)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_else(|e| format!("(cannot read the suite's output from {}: {e})", log_path.display()));
    let _ = fs::remove_file(&log_path);
    (status, output)
}

/// Starts a fresh keel, runs one client suite against it with `KEEL_PORT` set, and fails with the
/// suite's output unless it passes.
fn run_suite(name: &str, mut command: Command) {
    let server = TestServer::start(&[]).expect("start keel in-process");
    let port = server.port();
    command.env("KEEL_PORT", port.to_string());

    let (status, output) = run_with_timeout(name, command);
    drop(server);
    match status {
        Some(status) if status.success() => println!("{name} suite passed against keel:\n{output}"),
        Some(status) => panic!(
            "the {name} suite failed against keel on port {port} ({status}); its output:\n\n{output}\n\
             (if a module or package is missing, {SETUP_HINT})"
        ),
        None => panic!(
            "the {name} suite did not finish within {}s against keel on port {port}; its output:\n\n{output}",
            SUITE_TIMEOUT.as_secs()
        ),
    }
}

/// redis-py and pytest, from the venv that `scripts/setup-clients` creates.
#[test]
fn python_redis_py() {
    let root = repo_root();
    let python = root.join("target/client-venv/bin/python");
    if !python.is_file() {
        missing_setup(&format!(
            "the client venv is missing ({} does not exist)",
            python.display()
        ));
    }
    let probe = Command::new(&python)
        .args(["-c", "import redis, pytest"])
        .output()
        .unwrap_or_else(|e| missing_setup(&format!("cannot run {}: {e}", python.display())));
    if !probe.status.success() {
        missing_setup(&format!(
            "redis-py or pytest is not installed in the client venv ({})",
            String::from_utf8_lossy(&probe.stderr).trim()
        ));
    }

    let mut command = Command::new(&python);
    command
        .args([
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "compat-tests/clients/python",
        ])
        .current_dir(&root)
        // Leave no __pycache__ or .pytest_cache behind in the source tree.
        .env("PYTHONDONTWRITEBYTECODE", "1");
    run_suite("python (redis-py)", command);
}

/// ioredis with node's built-in test runner, from the node_modules that `scripts/setup-clients`
/// installs.
#[test]
fn node_ioredis() {
    let dir = repo_root().join("compat-tests/clients/node");
    let ioredis = dir.join("node_modules/ioredis/package.json");
    if !ioredis.is_file() {
        missing_setup(&format!(
            "ioredis is not installed ({} does not exist)",
            ioredis.display()
        ));
    }

    let mut command = Command::new("node");
    command.args(["--test", "test.mjs"]).current_dir(&dir);
    run_suite("node (ioredis)", command);
}
