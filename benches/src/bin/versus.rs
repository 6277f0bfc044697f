//! `versus`: keel-server against redis-server under redis-benchmark. See `keel_benches::versus`.
//!
//! Usage: `cargo run -p keel-benches --release --bin versus -- [--quick] [--threads 1,2] ...`
//! (build keel-server first: `cargo build --release -p keel-net`).

use std::process::ExitCode;

use clap::Parser;
use keel_benches::versus::{options::Options, report, run};

fn main() -> ExitCode {
    let options = Options::parse().effective();
    let scratch = std::env::temp_dir().join(format!("keel-versus-{}", std::process::id()));
    let outcome = run::run(&options, &scratch);
    let _ = std::fs::remove_dir_all(&scratch);
    let results = match outcome {
        Ok(r) => r,
        Err(e) => {
            eprintln!("versus: {e}");
            return ExitCode::FAILURE;
        }
    };
    let keels: Vec<String> = options.threads.iter().map(|t| format!("keel-t{t}")).collect();
    println!(
        "## Throughput (median of {} round(s), -n {} -c {} -r {})\n",
        options.rounds, options.requests, options.clients, options.keyspace
    );
    println!(
        "{}",
        report::throughput_table(&results, &keels, &options.pipelines, &options.tests)
    );
    let mut servers = vec!["redis".to_string()];
    servers.extend(keels.iter().cloned());
    println!("## Every round\n");
    println!(
        "{}",
        report::rounds_table(&results, &servers, &options.pipelines, &options.tests)
    );
    let cpu_tests: Vec<String> = options
        .tests
        .iter()
        .filter(|t| *t == "set" || *t == "get")
        .cloned()
        .collect();
    if !cpu_tests.is_empty() {
        println!("## Server CPU time (user + system) per million requests\n");
        println!(
            "{}",
            report::cpu_table(&results, &keels, &options.pipelines, &cpu_tests)
        );
    }
    if let (false, Some(keel)) = (results.memory.is_empty(), keels.first()) {
        println!("## RSS growth per key (settled {} s after loading)\n", options.settle);
        println!("{}", report::memory_table(&results, keel));
    }
    ExitCode::SUCCESS
}
