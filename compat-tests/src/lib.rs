//! keel's Redis compatibility suite.
//!
//! Transcripts under `compat-tests/transcripts/` hold commands and the exact reply bytes a real Redis
//! 7.0 server sent for them (see `README.md` for the format). Three tools work on them:
//!
//! * the recorder (`src/bin/record.rs`) runs the cases against a real `redis-server` and rewrites the
//!   expected replies in place;
//! * the replayer (`tests/replay.rs`) runs them against keel and fails with a readable diff;
//! * the coverage generator (`src/bin/coverage.rs`) writes `docs/compatibility.md`.
//!
//! The library is the shared machinery: the format ([`transcript`]), RESP framing ([`resp`]), masks and
//! sorting ([`mask`]), connections ([`conn`]), running cases ([`runner`]), reporting ([`report`]) and the
//! reference server ([`reference`]).

pub mod conn;
pub mod mask;
pub mod reference;
pub mod report;
pub mod resp;
pub mod runner;
pub mod transcript;

use report::Failure;
use runner::{Mode, Runner};
use transcript::{Case, Transcript};

/// Which cases to run: all, one family, and/or one case by name.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub family: Option<String>,
    pub case: Option<String>,
}

impl Filter {
    /// True when the case of `family` named `case` is selected.
    pub fn selects(&self, family: &str, case: &Case) -> bool {
        self.family.as_deref().is_none_or(|f| f == family) && self.case.as_deref().is_none_or(|c| c == case.name)
    }
}

/// The outcome of replaying a set of transcripts.
#[derive(Debug, Clone, Default)]
pub struct ReplaySummary {
    /// Cases run, per family, in run order.
    pub per_family: Vec<(String, usize)>,
    pub failures: Vec<Failure>,
    /// Set when the run stopped early because the server could not be reached any more.
    pub aborted: Option<String>,
}

impl ReplaySummary {
    /// Number of cases run.
    pub fn cases_run(&self) -> usize {
        self.per_family.iter().map(|(_, n)| n).sum()
    }
}

/// Replays the selected cases of `transcripts` against the server at `addr`, collecting every failure.
/// If the server stops answering, the run ends early with [`ReplaySummary::aborted`] set.
pub fn replay(addr: &str, transcripts: &[Transcript], filter: &Filter) -> ReplaySummary {
    let mut runner = Runner::new(addr, Mode::Replay);
    let mut summary = ReplaySummary::default();
    for t in transcripts {
        let mut count = 0;
        for case in t.cases.iter().filter(|c| filter.selects(&t.family, c)) {
            count += 1;
            let run = match runner.run_case(case) {
                Ok(run) => run,
                Err(e) => {
                    // The server is gone: report what was found so far and why the run stopped.
                    summary.per_family.push((t.family.clone(), count));
                    summary.aborted = Some(format!("stopped at case {}: {e}", case.name));
                    return summary;
                }
            };
            if let Some(f) = report::check_case(t, case, &run) {
                summary.failures.push(f);
            }
        }
        if count > 0 {
            summary.per_family.push((t.family.clone(), count));
        }
    }
    summary
}
