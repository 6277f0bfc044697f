//! Fixtures shared by core's unit tests (compiled only for tests).

use crate::client::{ClientHandle, ConnInfo, ConnKind};
use crate::server::Server;

/// Connects a TCP client from 127.0.0.1:5000 at time 0.
pub(crate) fn connect_loopback(server: &mut Server) -> ClientHandle {
    let info = ConnInfo {
        addr: "127.0.0.1:5000".into(),
        laddr: "127.0.0.1:6379".into(),
        fd: 8,
        kind: ConnKind::Tcp,
    };
    server.connect(info, 0)
}

/// Runs one command given as separate arguments for `handle` at `now_ms` and returns its reply as text.
pub(crate) fn run_at(server: &mut Server, handle: ClientHandle, args: &[&str], now_ms: i64) -> String {
    let argv: Vec<bytes::Bytes> = args
        .iter()
        .map(|a| bytes::Bytes::copy_from_slice(a.as_bytes()))
        .collect();
    let mut out = Vec::new();
    server.execute(handle, &argv, now_ms * 1000, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}
