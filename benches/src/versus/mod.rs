//! The `versus` driver: runs `redis-benchmark` against keel-server and redis-server started side by side
//! with equivalent configurations, alternating them round by round, and reports keel's ratios to the
//! reference server (throughput, server CPU per request, RSS per key).
//!
//! Owns process start-up and measurement only. It builds nothing: the keel-server binary is given.
//! Modules: [`options`] (command line), [`servers`] (starting and stopping servers), [`benchmark`]
//! (running `redis-benchmark`, parsing its CSV), [`procfs`] (CPU time and RSS of a process),
//! [`loader`] (pipelined data loading for the memory figures), [`report`] (statistics and tables),
//! [`run`] (the measurement plan).

pub mod benchmark;
pub mod loader;
pub mod options;
pub mod procfs;
pub mod report;
pub mod run;
pub mod servers;
