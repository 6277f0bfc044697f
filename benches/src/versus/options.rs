//! The `versus` command line.
//!
//! Owns option names, defaults and the `--quick` reductions; parsing is clap's (derive), which gives
//! `--help`, typed values, lists and error messages without hand-written code.

use std::path::PathBuf;

use clap::Parser;

use super::benchmark::TESTS;

/// Compare keel-server with redis-server under redis-benchmark: throughput (-P 1 and -P 16), server CPU
/// per request and RSS per key, as keel/redis ratios from alternating runs.
#[derive(Clone, Debug, Parser)]
#[command(name = "versus", version)]
pub struct Options {
    /// keel-server binary (default: $CARGO_TARGET_DIR/release/keel-server, else target/release/keel-server).
    #[arg(long)]
    pub keel: Option<PathBuf>,
    /// redis-server binary.
    #[arg(long, default_value = "redis-server")]
    pub redis: PathBuf,
    /// redis-benchmark binary.
    #[arg(long, default_value = "redis-benchmark")]
    pub redis_benchmark: PathBuf,
    /// Rounds; each round runs every server once, alternating their order.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Requests per redis-benchmark run (-n).
    #[arg(short = 'n', long, default_value_t = 200_000)]
    pub requests: u64,
    /// Parallel connections (-c).
    #[arg(short = 'c', long, default_value_t = 50)]
    pub clients: u32,
    /// Random keyspace size (-r).
    #[arg(short = 'r', long, default_value_t = 100_000)]
    pub keyspace: u64,
    /// Pipeline depths (-P), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,16")]
    pub pipelines: Vec<u32>,
    /// Tests, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "set,get,incr,lpush,lpop,sadd,hset,zadd,mset",
          value_parser = clap::builder::PossibleValuesParser::new(TESTS))]
    pub tests: Vec<String>,
    /// keel runtime thread counts to measure, comma-separated (keel-server --threads N).
    #[arg(long, value_delimiter = ',', default_value = "1")]
    pub threads: Vec<usize>,
    /// String keys loaded for the RSS-per-key figure.
    #[arg(long, default_value_t = 1_000_000)]
    pub mem_keys: u64,
    /// Hashes, sets and zsets (10 elements each) loaded for the RSS-per-key figures.
    #[arg(long, default_value_t = 100_000)]
    pub mem_collections: u64,
    /// Seconds to wait after loading before reading RSS (the reference server's allocator returns freed
    /// pages a few seconds after a load).
    #[arg(long, default_value_t = 10)]
    pub settle: u64,
    /// Skip the memory measurements.
    #[arg(long)]
    pub no_memory: bool,
    /// Smoke mode: one round, 20,000 requests, 50,000 keys / 5,000 collections, 1 s settling.
    #[arg(long)]
    pub quick: bool,
}

impl Options {
    /// Applies `--quick`.
    pub fn effective(mut self) -> Options {
        if self.quick {
            self.rounds = 1;
            self.requests = self.requests.min(20_000);
            self.mem_keys = self.mem_keys.min(50_000);
            self.mem_collections = self.mem_collections.min(5_000);
            self.settle = self.settle.min(1);
        }
        self
    }

    /// The keel-server binary to run.
    pub fn keel_binary(&self) -> PathBuf {
        if let Some(p) = &self.keel {
            return p.clone();
        }
        let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| PathBuf::from("target"), PathBuf::from);
        target.join("release").join("keel-server")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_lists() {
        let o = Options::try_parse_from(["versus", "--threads", "1,2", "--pipelines", "16"]).unwrap();
        assert_eq!(o.threads, [1, 2]);
        assert_eq!(o.pipelines, [16]);
        assert_eq!(o.tests.len(), 9);
        assert_eq!(o.rounds, 3);
        let q = Options::try_parse_from(["versus", "--quick"]).unwrap().effective();
        assert_eq!((q.rounds, q.requests, q.settle), (1, 20_000, 1));
        assert!(Options::try_parse_from(["versus", "--tests", "set,nope"]).is_err());
    }
}
