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
