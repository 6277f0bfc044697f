//! The recorder: runs transcript cases against a real `redis-server` and rewrites their expected replies
//! in place, keeping everything else (comments, options, commands) as written.
//!
//! ```text
//! cargo run -p keel-compat-tests --bin record -- [--family F] [--case NAME] [--target HOST:PORT]
//! ```
//!
//! Without `--target` it starts its own server (see `keel_compat_tests::reference`); the binary can be
//! chosen with `KEEL_COMPAT_REDIS_SERVER`. Replies are stored in their normalised form (after the case's
//! `sort:` and `mask:` rules), so re-recording an unchanged server leaves the files unchanged.

use std::collections::HashMap;
use std::process::ExitCode;

use keel_compat_tests::reference::ReferenceServer;
use keel_compat_tests::runner::{Mode, Runner};
use keel_compat_tests::transcript::{self, Reply};
use keel_compat_tests::Filter;

/// Command-line options.
struct Args {
    filter: Filter,
    target: Option<String>,
}

/// Parses the command line.
fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        filter: Filter::default(),
        target: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--family" => args.filter.family = Some(value("--family")?),
            "--case" => args.filter.case = Some(value("--case")?),
            "--target" => args.target = Some(value("--target")?),
            "-h" | "--help" => return Err("usage: record [--family F] [--case NAME] [--target HOST:PORT]".to_string()),
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    Ok(args)
}

/// Records the selected cases; returns the number of cases recorded.
fn record(args: &Args) -> Result<usize, Box<dyn std::error::Error>> {
    let transcripts = transcript::load_all(&transcript::transcripts_dir())?;
    if let Some(f) = &args.filter.family {
        if !transcripts.iter().any(|t| &t.family == f) {
            return Err(format!("no transcript for family {f:?}").into());
        }
    }
    let server = match &args.target {
        Some(_) => None,
        None => Some(ReferenceServer::start()?),
    };
    let addr = match (&args.target, &server) {
        (Some(t), _) => t.clone(),
        (None, Some(s)) => s.addr(),
        (None, None) => return Err("no server".into()),
    };
    let mut runner = Runner::new(&addr, Mode::Record);
    let mut total = 0;
    let mut problems = Vec::new();
    for t in &transcripts {
        let mut replies: HashMap<String, Vec<Reply>> = HashMap::new();
        let mut changed = 0;
        for case in t.cases.iter().filter(|c| args.filter.selects(&t.family, c)) {
            let run = runner.run_case(case)?;
            if let Some(err) = run.setup_error.or(run.harness_error) {
                problems.push(format!("{} case {}: {err}", t.family, case.name));
                continue;
            }
            let norm = &case.options.normalizer;
            let mut stored = Vec::new();
            for (step, obs) in case.steps.iter().zip(&run.observed) {
                if obs.timed_out {
                    problems.push(format!(
                        "{} case {}: {}: incomplete reply",
                        t.family, case.name, step.source
                    ));
                }
                let bytes = norm.apply(&obs.reply.bytes);
                if norm.apply(&bytes) != bytes {
                    problems.push(format!(
                        "{} case {}: {}: mask rules are not idempotent (masking the masked reply changes it)",
                        t.family, case.name, step.source
                    ));
                }
                stored.push(Reply {
                    bytes,
                    closed: obs.reply.closed,
                });
            }
            let before: Vec<Option<Reply>> = case.steps.iter().map(|s| s.expected.clone()).collect();
            if before != stored.iter().cloned().map(Some).collect::<Vec<_>>() {
                changed += 1;
                println!("  changed: {} {}", t.family, case.name);
            }
            replies.insert(case.name.clone(), stored);
            total += 1;
        }
        if replies.is_empty() {
            continue;
        }
        let text = t.rewrite(&replies);
        let old = std::fs::read_to_string(&t.path)?;
        if text != old {
            std::fs::write(&t.path, text)?;
        }
        println!("{}: recorded {} cases, {changed} changed", t.family, replies.len());
    }
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("problem: {p}");
        }
        return Err(format!("{} problems while recording", problems.len()).into());
    }
    Ok(total)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match record(&args) {
        Ok(0) => {
            eprintln!("no case matched");
            ExitCode::FAILURE
        }
        Ok(n) => {
            println!("recorded {n} cases");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("record: {e}");
            ExitCode::FAILURE
        }
    }
}
