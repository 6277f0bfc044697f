//! keel-core: the sans-IO heart of keel.
//!
//! Owns the RESP codec, the command table and handlers, the keyspace, expiry and configuration. It never
//! touches sockets, files, threads, clocks or OS randomness: the shell (`keel-net` in production,
//! `keel-sim` under simulation, plain loops in tests) passes the current time and a seed in, and takes
//! reply bytes and [`server::Effect`]s out. That is what lets every line run deterministically in tests,
//! fuzzers and the simulator.

pub mod acl;
pub mod blocking;
pub mod client;
pub mod commands;
pub mod config;
pub mod glob;
pub mod keyspace;
pub mod netsec;
pub mod persist;
pub mod propagate;
pub mod resp;
pub mod server;
pub mod types;

#[cfg(test)]
mod test_support;

pub use client::{ClientHandle, ClientId, ConnInfo, ConnKind};
pub use config::Config;
pub use resp::{CommandBatch, Limits, Parser, Protocol, ProtocolError};
pub use server::{Effect, Flow, MemoryFigures, ProcessInfo, Server};

/// The version keel reports as `redis_version` and in `HELLO`: the reference server's, whose behaviour
/// keel matches, so that clients enable the features they would for it.
pub const COMPAT_VERSION: &str = "7.0.15";

/// keel's own version.
pub const KEEL_VERSION: &str = env!("CARGO_PKG_VERSION");
