//! Comparing a case's run with its transcript, and describing the differences for a person.

use std::fmt::Write as _;

use crate::runner::{CaseRun, Observed};
use crate::transcript::{Case, Reply, Transcript};

/// One case that did not behave as recorded.
#[derive(Debug, Clone)]
pub struct Failure {
    /// `path:line` of the case header.
    pub location: String,
    pub family: String,
    pub case: String,
    /// A short reason on one line, for summaries.
    pub summary: String,
    /// The full readable diff.
    pub detail: String,
}

/// Compares `run` with the expectations of `case`. `None` when they match.
pub fn check_case(transcript: &Transcript, case: &Case, run: &CaseRun) -> Option<Failure> {
    let file = transcript
        .path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let location = format!("{file}:{}", case.line_index + 1);
    let mut detail = format!("FAIL {location} case `{}`\n", case.name);
    let mut summary: Option<String> = None;

    if let Some(err) = &run.setup_error {
        let _ = writeln!(detail, "  setup: {err}");
        summary = Some(format!("setup: {err}"));
    }
    if let Some(err) = &run.harness_error {
        let _ = writeln!(detail, "  {err}");
        summary = Some(err.clone());
    }
    for (i, step) in case.steps.iter().enumerate() {
        let Some(observed) = run.observed.get(i) else {
            break;
        };
        let Some(expected) = &step.expected else {
            let _ = writeln!(
                detail,
                "  step {}: {}\n    not recorded yet (run the recorder)",
                i + 1,
                step.source
            );
            summary.get_or_insert_with(|| format!("{}: not recorded", step.source));
            continue;
        };
        let norm = &case.options.normalizer;
        let want = Reply {
            bytes: norm.apply(&expected.bytes),
            closed: expected.closed,
        };
        let got = Reply {
            bytes: norm.apply(&observed.reply.bytes),
            closed: observed.reply.closed,
        };
        if want == got && !observed.timed_out {
            continue;
        }
        let _ = writeln!(detail, "  step {}: {}", i + 1, step.source);
        let _ = writeln!(detail, "    expected:");
        for l in want.render() {
            let _ = writeln!(detail, "      {l}");
        }
        let _ = writeln!(detail, "    actual:");
        for l in render_observed(&got, observed) {
            let _ = writeln!(detail, "      {l}");
        }
        if !norm.is_identity() && got.bytes != observed.reply.bytes {
            let _ = writeln!(detail, "    actual before masking/sorting:");
            for l in render_observed(&observed.reply, observed) {
                let _ = writeln!(detail, "      {l}");
            }
        }
        summary.get_or_insert_with(|| {
            format!(
                "{}: expected {} got {}",
                step.source.trim_start_matches('>').trim(),
                one_line(&want.render()),
                one_line(&render_observed(&got, observed))
            )
        });
    }
    summary.map(|summary| Failure {
        location,
        family: transcript.family.clone(),
        case: case.name.clone(),
        summary,
        detail,
    })
}

/// The transcript lines for an observed reply, marking a time-out.
fn render_observed(reply: &Reply, observed: &Observed) -> Vec<String> {
    if observed.timed_out {
        let mut lines = Reply {
            bytes: reply.bytes.clone(),
            closed: true,
        }
        .render();
        lines.pop();
        lines.push("< (timed out waiting for the rest)".into());
        lines
    } else {
        reply.render()
    }
}

/// Joins rendered reply lines into one short line for summaries.
fn one_line(lines: &[String]) -> String {
    let joined: String = lines
        .iter()
        .map(|l| l.trim_start_matches('<').trim())
        .collect::<Vec<_>>()
        .join("");
    if joined.len() > 100 {
        let mut cut = 100;
        while !joined.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}...", &joined[..cut])
    } else {
        joined
    }
}
