//! The replayer: runs every transcript case against keel and fails with a readable diff of every case
//! whose replies differ from the recorded ones.
//!
//! By default keel is started in-process (`keel_net::TestServer`). Environment variables:
//!
//! * `KEEL_COMPAT_TARGET=host:port` replays against an already running server instead (a real
//!   `redis-server`, to check the transcripts themselves, or a keel started by hand);
//! * `KEEL_COMPAT_FAMILY=strings` and/or `KEEL_COMPAT_CASE=set-ex` narrow the run.
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-compat cargo test -p keel-compat-tests --test replay
//! ```

use keel_compat_tests::transcript::{self, Transcript};
use keel_compat_tests::{replay, Filter};

/// Reads an optional, non-empty environment variable.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

#[test]
fn transcripts_replay_against_keel() {
    let transcripts: Vec<Transcript> =
        transcript::load_all(&transcript::transcripts_dir()).unwrap_or_else(|e| panic!("cannot load transcripts: {e}"));
    let filter = Filter {
        family: env("KEEL_COMPAT_FAMILY"),
        case: env("KEEL_COMPAT_CASE"),
    };

    // Keep the in-process server alive for the whole run.
    let (addr, _server) = match env("KEEL_COMPAT_TARGET") {
        Some(target) => (target, None),
        None => {
            let server =
                keel_net::TestServer::start(&["--enable-debug-command", "yes"]).expect("start keel in-process");
            (format!("127.0.0.1:{}", server.port()), Some(server))
        }
    };

    let summary = replay(&addr, &transcripts, &filter);
    assert!(summary.cases_run() > 0, "no case matched the filter {filter:?}");

    let counts: Vec<String> = summary.per_family.iter().map(|(f, n)| format!("{f}: {n}")).collect();
    println!(
        "replayed {} cases against {addr} ({})",
        summary.cases_run(),
        counts.join(", ")
    );
    if summary.failures.is_empty() && summary.aborted.is_none() {
        return;
    }

    let mut report = String::new();
    for f in &summary.failures {
        report.push_str(&f.detail);
        report.push('\n');
    }
    report.push_str(&format!(
        "{} of {} cases failed:\n",
        summary.failures.len(),
        summary.cases_run()
    ));
    for f in &summary.failures {
        report.push_str(&format!("  {} {} ({}): {}\n", f.family, f.case, f.location, f.summary));
    }
    if let Some(why) = &summary.aborted {
        report.push_str(&format!("run aborted: {why}\n"));
    }
    panic!("compatibility failures against {addr}\n\n{report}");
}

#[test]
fn transcripts_are_well_formed_and_recorded() {
    let transcripts =
        transcript::load_all(&transcript::transcripts_dir()).unwrap_or_else(|e| panic!("cannot load transcripts: {e}"));
    let families: Vec<&str> = transcripts.iter().map(|t| t.family.as_str()).collect();
    assert_eq!(families, transcript::FAMILIES, "one transcript per family");
    let mut unrecorded = Vec::new();
    for t in &transcripts {
        assert!(!t.cases.is_empty(), "{} has no cases", t.family);
        for case in &t.cases {
            assert!(!case.steps.is_empty(), "{} {} has no commands", t.family, case.name);
            for step in &case.steps {
                if step.expected.is_none() {
                    unrecorded.push(format!("{} {}: {}", t.family, case.name, step.source));
                }
            }
        }
    }
    assert!(
        unrecorded.is_empty(),
        "steps without recorded replies (run the recorder):\n{}",
        unrecorded.join("\n")
    );
}
