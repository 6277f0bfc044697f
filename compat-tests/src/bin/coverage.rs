//! The coverage generator: writes `docs/compatibility.md`, listing every Redis 7.0 command (from the
//! recorded command table `keel_core::commands::spec_data::COMMANDS`) with keel's status (present in
//! `keel_core::commands::Registry::new()` or missing) and the number of transcript cases that use it.
//!
//! ```text
//! cargo run -p keel-compat-tests --bin coverage            # rewrite docs/compatibility.md
//! cargo run -p keel-compat-tests --bin coverage -- --check # fail if it is out of date
//! ```

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use keel_compat_tests::resp;
use keel_compat_tests::transcript::{self, Send, Transcript};
use keel_core::commands::spec::CommandSpec;
use keel_core::commands::spec_data::COMMANDS;
use keel_core::commands::Registry;

/// One row of the report: a command or a subcommand.
struct Row {
    /// Display name, upper case (`GET`, `CLIENT ID`).
    display: String,
    group: &'static str,
    since: &'static str,
    implemented: bool,
    cases: usize,
    /// True for a subcommand row.
    sub: bool,
}

/// The argument vectors that a step sends (a raw step may hold several requests, or none that parse).
fn step_commands(send: &Send) -> Vec<Vec<Vec<u8>>> {
    match send {
        Send::Command(args) => vec![args.clone()],
        Send::Raw(bytes) => raw_commands(bytes),
    }
}

/// Best-effort split of raw request bytes into commands: multibulk requests, then inline lines.
fn raw_commands(mut bytes: &[u8]) -> Vec<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        if bytes[0] == b'*' {
            match resp::element_end(bytes, 0) {
                Ok(Some(end)) => {
                    if let Some(args) = resp::bulk_strings(&bytes[..end]) {
                        if !args.is_empty() {
                            out.push(args);
                        }
                    }
                    bytes = &bytes[end..];
                }
                _ => break,
            }
        } else {
            let end = bytes.iter().position(|&b| b == b'\n').map_or(bytes.len(), |p| p + 1);
            let line = String::from_utf8_lossy(&bytes[..end]);
            if let Ok(args) = transcript::split_args(&line) {
                if !args.is_empty() {
                    out.push(args);
                }
            }
            bytes = &bytes[end..];
        }
    }
    out
}

/// The spec name (`get`, `client|id`) that an argument vector runs, if it is a known command.
fn spec_name(args: &[Vec<u8>]) -> Option<String> {
    let name = String::from_utf8_lossy(args.first()?).to_ascii_lowercase();
    let spec = COMMANDS.iter().find(|c| c.name == name)?;
    if spec.subcommands.is_empty() {
        return Some(spec.name.to_string());
    }
    match args.get(1).and_then(|sub| spec.subcommand(sub)) {
        Some(sub) => Some(sub.name.to_string()),
        None => Some(spec.name.to_string()),
    }
}

/// Number of cases that use each spec name, over all transcripts.
fn case_counts(transcripts: &[Transcript]) -> HashMap<String, usize> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for t in transcripts {
        for case in &t.cases {
            let names: HashSet<String> = case
                .steps
                .iter()
                .flat_map(|s| step_commands(&s.send))
                .filter_map(|args| spec_name(&args))
                .collect();
            for n in names {
                *counts.entry(n).or_default() += 1;
            }
        }
    }
    counts
}

/// The rows for every command and subcommand in the recorded table.
fn rows(registry: &Registry, counts: &HashMap<String, usize>) -> Vec<Row> {
    let display = |spec: &CommandSpec| spec.name.replace('|', " ").to_ascii_uppercase();
    let mut rows = Vec::new();
    for spec in COMMANDS {
        let entry = registry.get(spec.name.as_bytes());
        rows.push(Row {
            display: display(spec),
            group: spec.group,
            since: spec.since,
            implemented: entry.is_some_and(|e| e.handler.is_some() || !e.subcommands.is_empty()),
            cases: counts.get(spec.name).copied().unwrap_or(0),
            sub: false,
        });
        let mut subs: Vec<&CommandSpec> = spec.subcommands.iter().collect();
        subs.sort_by_key(|s| s.name);
        for sub in subs {
            let implemented = entry.is_some_and(|e| e.subcommands.iter().any(|(s, _)| s.name == sub.name));
            rows.push(Row {
                display: display(sub),
                group: spec.group,
                since: sub.since,
                implemented,
                cases: counts.get(sub.name).copied().unwrap_or(0),
                sub: true,
            });
        }
    }
    rows
}

/// Renders the whole document.
fn render(rows: &[Row], transcripts: &[Transcript]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Redis 7.0 command compatibility\n");
    let _ = writeln!(
        out,
        "Generated by `cargo run -p keel-compat-tests --bin coverage`; do not edit by hand. Every command \
         of Redis 7.0 (the table recorded from the reference server in \
         `core/src/commands/spec_data.rs`) with its status in keel (**implemented**: registered in \
         `keel_core::commands::Registry::new()`; **missing**: not registered) and the number of \
         compatibility-suite cases (`compat-tests/transcripts/`) that send it. A case counts once per \
         command it uses, however often it sends it.\n"
    );

    let (top, subs): (Vec<&Row>, Vec<&Row>) = rows.iter().partition(|r| !r.sub);
    let summarize = |rs: &[&Row]| {
        (
            rs.len(),
            rs.iter().filter(|r| r.implemented).count(),
            rs.iter().filter(|r| r.cases > 0).count(),
        )
    };
    let (t_all, t_impl, t_cases) = summarize(&top);
    let (s_all, s_impl, s_cases) = summarize(&subs);
    let total_cases: usize = transcripts.iter().map(|t| t.cases.len()).sum();
    let _ = writeln!(out, "## Totals\n");
    let _ = writeln!(
        out,
        "| | in Redis 7.0 | implemented | missing | with transcript cases |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|");
    let _ = writeln!(
        out,
        "| commands | {t_all} | {t_impl} | {} | {t_cases} |",
        t_all - t_impl
    );
    let _ = writeln!(
        out,
        "| subcommands | {s_all} | {s_impl} | {} | {s_cases} |",
        s_all - s_impl
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Transcript cases: {total_cases} ({}).\n",
        transcripts
            .iter()
            .map(|t| format!("{} {}", t.family, t.cases.len()))
            .collect::<Vec<_>>()
            .join(", ")
    );

    let mut groups: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    for r in rows {
        groups.entry(r.group).or_default().push(r);
    }
    let _ = writeln!(out, "## Commands by group\n");
    for (group, rs) in &groups {
        let implemented = rs.iter().filter(|r| r.implemented).count();
        let _ = writeln!(out, "### {group} ({implemented} of {} implemented)\n", rs.len());
        let _ = writeln!(out, "| command | since | status | cases |");
        let _ = writeln!(out, "|---|---|---|---:|");
        let mut sorted: Vec<&&Row> = rs.iter().collect();
        sorted.sort_by(|a, b| a.display.cmp(&b.display));
        for r in sorted {
            let status = if r.implemented { "implemented" } else { "missing" };
            let _ = writeln!(out, "| `{}` | {} | {status} | {} |", r.display, r.since, r.cases);
        }
        let _ = writeln!(out);
    }

    let _ = writeln!(out, "## How to re-record\n");
    let _ = writeln!(
        out,
        "The expected replies in the transcripts come from a real Redis 7.0 server, never from keel and \
         never typed by hand. After adding or changing cases (see `compat-tests/README.md` for the \
         format), record them (needs `redis-server` 7.0 on `PATH`, or `KEEL_COMPAT_REDIS_SERVER=/path`):\n"
    );
    let _ = writeln!(out, "```sh");
    let _ = writeln!(
        out,
        "cargo run -p keel-compat-tests --bin record                       # every case"
    );
    let _ = writeln!(
        out,
        "cargo run -p keel-compat-tests --bin record -- --family strings   # one family"
    );
    let _ = writeln!(
        out,
        "cargo run -p keel-compat-tests --bin record -- --case set-ex      # one case"
    );
    let _ = writeln!(
        out,
        "cargo test -p keel-compat-tests --test replay                     # replay against keel"
    );
    let _ = writeln!(
        out,
        "cargo run -p keel-compat-tests --bin coverage                     # regenerate this file"
    );
    let _ = writeln!(out, "```\n");
    let _ = writeln!(
        out,
        "Review the transcript diff before committing: every changed `<` line is a change in what the \
         reference server does for that case."
    );
    out
}

/// Where the report goes: `docs/compatibility.md` at the workspace root.
fn output_path() -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    crate_dir
        .parent()
        .unwrap_or(crate_dir)
        .join("docs")
        .join("compatibility.md")
}

/// Builds the report and writes (or, with `check`, compares) it.
fn run(check: bool) -> Result<(), Box<dyn std::error::Error>> {
    let transcripts = transcript::load_all(&transcript::transcripts_dir())?;
    let registry = Registry::new();
    let counts = case_counts(&transcripts);
    let text = render(&rows(&registry, &counts), &transcripts);
    let path = output_path();
    if check {
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if current != text {
            return Err(format!(
                "{} is out of date: run `cargo run -p keel-compat-tests --bin coverage`",
                path.display()
            )
            .into());
        }
        println!("{} is up to date", path.display());
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&path, text)?;
    println!("wrote {}", path.display());
    Ok(())
}

fn main() -> ExitCode {
    let mut check = false;
    for a in std::env::args().skip(1) {
        match a.as_str() {
            "--check" => check = true,
            other => {
                eprintln!("unknown argument {other:?} (usage: coverage [--check])");
                return ExitCode::from(2);
            }
        }
    }
    match run(check) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("coverage: {e}");
            ExitCode::FAILURE
        }
    }
}
