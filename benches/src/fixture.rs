//! Fixtures for the criterion micro-benchmarks: a core [`Server`] with one connected client, and helpers
//! to build argument vectors and run commands.
//!
//! Owns nothing but set-up code; it must never hide work inside a measured closure (every helper here
//! runs before measurement starts, or is the measured operation itself).

use bytes::Bytes;
use keel_core::{ClientHandle, Config, ConnInfo, ConnKind, ProcessInfo, Server};

/// The fixed "current time" benchmarks run at, in Unix microseconds (2026-01-01). Core takes time as an
/// argument, so a constant keeps every run identical.
pub const NOW_US: i64 = 1_767_225_600_000_000;

/// True when the benchmark binary runs as a real benchmark (`cargo bench`), false when it runs in test
/// mode (`cargo test --all-targets` runs each benchmark once, to prove it works).
pub fn measuring() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// `full` when measuring, `test` in test mode: large data sets make the measurement representative but
/// would make every `cargo test` slow to set up.
pub fn size(full: usize, test: usize) -> usize {
    if measuring() {
        full
    } else {
        test
    }
}

/// A server with the default configuration and one TCP client connected from loopback.
pub fn server_with_client() -> (Server, ClientHandle) {
    let mut server = Server::new(Config::default(), 42, NOW_US / 1000, ProcessInfo::default());
    let info = ConnInfo {
        addr: "127.0.0.1:50000".into(),
        laddr: "127.0.0.1:6379".into(),
        fd: 8,
        kind: ConnKind::Tcp,
    };
    let client = server.connect(info, NOW_US / 1000);
    (server, client)
}

/// An argument vector from words.
pub fn argv(words: &[&[u8]]) -> Vec<Bytes> {
    words.iter().map(|w| Bytes::copy_from_slice(w)).collect()
}

/// Runs one command and returns its reply bytes. For set-up: panics (failing the benchmark) when the
/// reply is an error, so a benchmark never silently measures an error path.
pub fn run(server: &mut Server, client: ClientHandle, words: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    server.execute(client, &argv(words), NOW_US, &mut out);
    assert!(
        !out.starts_with(b"-"),
        "set-up command {:?} failed: {}",
        words.iter().map(|w| String::from_utf8_lossy(w)).collect::<Vec<_>>(),
        String::from_utf8_lossy(&out)
    );
    out
}

/// Encodes `words` as one RESP multibulk request, as a client sends it.
pub fn encode_request(words: &[&[u8]], out: &mut Vec<u8>) {
    out.extend_from_slice(format!("*{}\r\n", words.len()).as_bytes());
    for w in words {
        out.extend_from_slice(format!("${}\r\n", w.len()).as_bytes());
        out.extend_from_slice(w);
        out.extend_from_slice(b"\r\n");
    }
}
