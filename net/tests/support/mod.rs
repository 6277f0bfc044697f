//! The server an integration test talks to, shared by the test files.

use std::io::{Read, Write};
use std::net::TcpStream;

use keel_net::TestServer;

/// An in-process keel, or an external server named by `KEEL_TEST_ADDR` (to check that a test's
/// expectations hold on the reference server too).
pub struct Target {
    _server: Option<TestServer>,
    /// `host:port` to connect to.
    pub addr: String,
}

impl Target {
    /// Starts a fresh keel, or flushes the external server when `KEEL_TEST_ADDR` is set.
    pub fn start() -> Target {
        match std::env::var("KEEL_TEST_ADDR") {
            Ok(addr) => {
                let mut s = TcpStream::connect(&addr).expect("connect to KEEL_TEST_ADDR");
                s.write_all(b"FLUSHALL\r\n").expect("send FLUSHALL");
                let mut reply = [0u8; 5];
                s.read_exact(&mut reply).expect("FLUSHALL reply");
                assert_eq!(&reply, b"+OK\r\n", "FLUSHALL on the external server");
                Target { _server: None, addr }
            }
            Err(_) => {
                let server = TestServer::start(&[]).expect("start keel");
                let addr = server.addr();
                Target {
                    _server: Some(server),
                    addr,
                }
            }
        }
    }
}
