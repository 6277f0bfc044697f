//! The measurement plan: rounds of throughput runs alternating the servers, then the memory runs.
//!
//! Owns ordering and bookkeeping: which server runs when, CPU readings around each redis-benchmark run,
//! RSS readings around each load. Progress goes to stderr, results into [`Results`].

use std::io;
use std::path::Path;
use std::time::Duration;

use super::benchmark::{self, Load};
use super::loader::{self, Workload};
use super::options::Options;
use super::procfs;
use super::report::{MemorySample, Results, Sample};
use super::servers::{Binaries, Flavor, ServerProcess};

/// The servers of one round, in the order they run: the reference first in even rounds and last in odd
/// ones, so that a drift in machine load does not favour one side.
pub fn round_order(round: usize, threads: &[usize]) -> Vec<Flavor> {
    let mut order: Vec<Flavor> = threads.iter().map(|&t| Flavor::Keel { threads: t }).collect();
    if round % 2 == 0 {
        order.insert(0, Flavor::Redis);
    } else {
        order.push(Flavor::Redis);
    }
    order
}

/// Runs every throughput round and, unless disabled, the memory measurements.
pub fn run(options: &Options, scratch: &Path) -> io::Result<Results> {
    let binaries = Binaries {
        keel: options.keel_binary(),
        redis: options.redis.clone(),
    };
    let ticks = procfs::ticks_per_second() as f64;
    let mut results = Results::default();
    for round in 0..options.rounds {
        for flavor in round_order(round, &options.threads) {
            eprintln!("round {}/{}: {flavor}", round + 1, options.rounds);
            let server = ServerProcess::start(&flavor, &binaries, scratch)?;
            for &pipeline in &options.pipelines {
                let load = Load {
                    requests: options.requests,
                    clients: options.clients,
                    pipeline,
                    keyspace: options.keyspace,
                };
                for test in &options.tests {
                    let before = procfs::cpu_ticks(server.pid())?;
                    let rps = benchmark::run(&options.redis_benchmark, server.port, test, &load)?;
                    let after = procfs::cpu_ticks(server.pid())?;
                    eprintln!("  -P {pipeline:>2} {test:<6} {rps:>12.0} ops/s");
                    results.samples.push(Sample {
                        server: flavor.label(),
                        pipeline,
                        test: test.clone(),
                        round,
                        rps,
                        cpu_seconds: after.saturating_sub(before) as f64 / ticks,
                        requests: options.requests,
                    });
                }
            }
        }
    }
    if !options.no_memory {
        // Memory does not depend on the runtime's thread count: keel runs with the first one given.
        let keel = Flavor::Keel {
            threads: options.threads.first().copied().unwrap_or(1),
        };
        for workload in Workload::ALL {
            let keys = match workload {
                Workload::Strings => options.mem_keys,
                _ => options.mem_collections,
            };
            for flavor in [keel.clone(), Flavor::Redis] {
                let sample = measure_memory(&flavor, &binaries, scratch, workload, keys, options.settle)?;
                eprintln!(
                    "memory {flavor}: {} {:.1} B/key",
                    workload.describe(),
                    sample.bytes_per_key()
                );
                results.memory.push(sample);
            }
        }
    }
    Ok(results)
}

/// Starts a fresh server, loads `keys` keys of `workload`, checks they are all there, waits `settle`
/// seconds and returns the RSS before and after.
fn measure_memory(
    flavor: &Flavor,
    binaries: &Binaries,
    scratch: &Path,
    workload: Workload,
    keys: u64,
    settle: u64,
) -> io::Result<MemorySample> {
    let server = ServerProcess::start(flavor, binaries, scratch)?;
    std::thread::sleep(Duration::from_millis(500));
    let rss_before = procfs::rss_bytes(server.pid())?;
    loader::load(&server.addr(), workload, keys)?;
    let dbsize = server.command(&["DBSIZE"])?;
    if dbsize != format!(":{keys}") {
        return Err(io::Error::other(format!(
            "{flavor}: expected {keys} keys after loading, DBSIZE answered {dbsize}"
        )));
    }
    std::thread::sleep(Duration::from_secs(settle));
    let rss_after = procfs::rss_bytes(server.pid())?;
    Ok(MemorySample {
        server: flavor.label(),
        workload,
        keys,
        rss_before,
        rss_after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_alternate_the_reference() {
        assert_eq!(
            round_order(0, &[1, 2]),
            [Flavor::Redis, Flavor::Keel { threads: 1 }, Flavor::Keel { threads: 2 }]
        );
        assert_eq!(round_order(1, &[1]), [Flavor::Keel { threads: 1 }, Flavor::Redis]);
    }
}
