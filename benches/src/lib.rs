//! keel-benches: performance measurement of keel.
//!
//! Owns two things: [`fixture`], the small helpers the criterion micro-benchmarks in `benches/` share
//! (a core `Server` with one client, argument vectors, data set sizes), and [`versus`], the driver behind
//! the `versus` binary that runs `redis-benchmark` against keel-server and redis-server and reports their
//! ratios. Nothing here changes keel's behaviour; it only drives keel through its public interfaces.

pub mod fixture;
pub mod versus;
