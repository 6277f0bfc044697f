//! The transcript format: parsing `transcripts/<family>.txt`, quoting and escaping rules, and rewriting a
//! file's expected replies in place (for the recorder).
//!
//! See `compat-tests/README.md` for the format as a reviewer sees it. In short:
//!
//! ```text
//! # comment
//! === set-and-get
//! proto: 3
//! mask: regex ^:(\d+)
//! > SET k "a\x00b"
//! < +OK\r\n
//! > GET k
//! < $3\r\na\x00b\r\n
//! >raw "*1\r\n$4\r\nPING"
//! < (no reply)
//! ```
//!
//! A file is a list of lines; the parse keeps each case's line numbers so that the recorder can replace
//! only the `<` lines and leave everything a person wrote (comments, options, commands) untouched.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::mask::{Mask, Normalizer};
use crate::resp;

/// Marker for "the connection was closed by the server here".
pub const CLOSED: &str = "(closed)";
/// Marker for "the server sent nothing in reply".
pub const NO_REPLY: &str = "(no reply)";

/// The families, in the order the suite runs them.
pub const FAMILIES: &[&str] = &[
    "connection",
    "strings",
    "keys",
    "expiry",
    "server",
    "protocol",
    "lists",
    "hashes",
    "sets",
    "zsets",
    "sort",
    "transactions",
    "dump",
];

/// A problem in a transcript file, with its location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub path: PathBuf,
    /// 1-based line number.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path.display(), self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

/// What one step sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Send {
    /// A command, sent as a RESP multibulk of these arguments.
    Command(Vec<Vec<u8>>),
    /// Bytes sent exactly as given (inline commands, pipelines, malformed protocol).
    Raw(Vec<u8>),
}

impl Send {
    /// The bytes that go on the wire.
    pub fn wire_bytes(&self) -> Vec<u8> {
        match self {
            Send::Command(args) => resp::encode_command(args),
            Send::Raw(bytes) => bytes.clone(),
        }
    }
}

/// What the server did after a step's bytes were sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reply {
    /// The reply bytes (possibly masked / sorted, in the stored form).
    pub bytes: Vec<u8>,
    /// The server closed the connection after sending `bytes`. Empty `bytes` with `closed` false means
    /// the server sent nothing at all.
    pub closed: bool,
}

impl Reply {
    /// The transcript lines (`< ...`) for this reply.
    pub fn render(&self) -> Vec<String> {
        let mut out: Vec<String> = resp::split_lines(&self.bytes)
            .into_iter()
            .map(|l| format!("< {}{}", "  ".repeat(l.depth), escape_line(&l.bytes)))
            .collect();
        if self.closed {
            out.push(format!("< {CLOSED}"));
        } else if self.bytes.is_empty() {
            out.push(format!("< {NO_REPLY}"));
        }
        out
    }
}

/// One command (or raw write) and the reply it expects.
#[derive(Debug, Clone)]
pub struct Step {
    pub send: Send,
    /// The step's source text (the `>` line, without the newline), for reports.
    pub source: String,
    /// 0-based index of the `>` line in the file.
    pub line_index: usize,
    /// The recorded reply; `None` when the step has not been recorded yet.
    pub expected: Option<Reply>,
}

/// Per-case options.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Protocol version to switch to (with `HELLO 3`) before the first step; 2 when absent.
    pub proto: u8,
    /// Normalisation applied to expected and actual replies before comparing.
    pub normalizer: Normalizer,
}

/// One case: a name, options and steps, run on a fresh connection.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    /// 0-based index of the `===` line.
    pub line_index: usize,
    pub options: Options,
    pub steps: Vec<Step>,
}

impl Case {
    /// Configuration parameters that the case changes with `CONFIG SET` (lower-cased), so the runner can
    /// restore them afterwards.
    pub fn config_params_set(&self) -> Vec<Vec<u8>> {
        let mut params = Vec::new();
        for step in &self.steps {
            if let Send::Command(args) = &step.send {
                if args.len() >= 4 && args[0].eq_ignore_ascii_case(b"config") && args[1].eq_ignore_ascii_case(b"set") {
                    for p in args[2..].chunks(2) {
                        let p = p[0].to_ascii_lowercase();
                        if !params.contains(&p) {
                            params.push(p);
                        }
                    }
                }
            }
        }
        params
    }

    /// True when some step sends `CLIENT PAUSE`, so the runner unpauses the server afterwards.
    pub fn pauses_clients(&self) -> bool {
        self.steps.iter().any(|s| match &s.send {
            Send::Command(args) => {
                args.len() >= 2 && args[0].eq_ignore_ascii_case(b"client") && args[1].eq_ignore_ascii_case(b"pause")
            }
            Send::Raw(_) => false,
        })
    }
}

/// A parsed transcript file.
#[derive(Debug, Clone)]
pub struct Transcript {
    pub path: PathBuf,
    /// The family, taken from the file name.
    pub family: String,
    /// The file's lines, without their newlines.
    pub lines: Vec<String>,
    pub cases: Vec<Case>,
}

/// The directory holding the transcripts of this crate.
pub fn transcripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("transcripts")
}

/// Loads every family's transcript from `dir`, in [`FAMILIES`] order (then any other `.txt` files).
pub fn load_all(dir: &Path) -> Result<Vec<Transcript>, Box<dyn std::error::Error>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".txt").map(str::to_string))
        .collect();
    names.sort_by_key(|n| (FAMILIES.iter().position(|f| f == n).unwrap_or(usize::MAX), n.clone()));
    let mut out = Vec::new();
    for name in names {
        out.push(Transcript::load(&dir.join(format!("{name}.txt")))?);
    }
    Ok(out)
}

impl Transcript {
    /// Reads and parses one transcript file.
    pub fn load(path: &Path) -> Result<Transcript, Box<dyn std::error::Error>> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Ok(Transcript::parse(path, &text)?)
    }

    /// Parses transcript text; `path` is used for the family name and in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Transcript, ParseError> {
        let family = path.file_stem().and_then(|s| s.to_str()).unwrap_or("").to_string();
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        let err = |i: usize, message: String| ParseError {
            path: path.to_path_buf(),
            line: i + 1,
            message,
        };
        let mut cases: Vec<Case> = Vec::new();
        // Expected-reply lines collected for the current step.
        let mut pending: Option<Vec<&str>> = None;

        for (i, line) in lines.iter().enumerate() {
            let trimmed = line.trim();
            if let Some(reply_line) = line.strip_prefix('<') {
                let Some(case) = cases.last_mut() else {
                    return Err(err(i, "reply line outside a case".into()));
                };
                if case.steps.is_empty() {
                    return Err(err(i, "reply line before any command".into()));
                }
                pending.get_or_insert_with(Vec::new).push(reply_line);
                continue;
            }
            // Any other line ends the current step's reply block.
            if let Some(block) = pending.take() {
                finish_step(cases.last_mut(), &block).map_err(|m| err(i - 1, m))?;
            }
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            if let Some(name) = line.strip_prefix("===") {
                let name = name.trim();
                if name.is_empty() || name.contains(char::is_whitespace) {
                    return Err(err(i, format!("bad case name {name:?}")));
                }
                if cases.iter().any(|c| c.name == name) {
                    return Err(err(i, format!("duplicate case name {name}")));
                }
                cases.push(Case {
                    name: name.to_string(),
                    line_index: i,
                    options: Options {
                        proto: 2,
                        normalizer: Normalizer::default(),
                    },
                    steps: Vec::new(),
                });
                continue;
            }
            let Some(case) = cases.last_mut() else {
                return Err(err(i, "text outside a case (cases start with `=== name`)".into()));
            };
            if let Some(raw) = line.strip_prefix(">raw") {
                let parts = split_args(raw).map_err(|m| err(i, m))?;
                if parts.is_empty() {
                    return Err(err(i, ">raw needs at least one quoted string".into()));
                }
                case.steps.push(Step {
                    send: Send::Raw(parts.concat()),
                    source: line.clone(),
                    line_index: i,
                    expected: None,
                });
            } else if let Some(cmd) = line.strip_prefix('>') {
                let args = split_args(cmd).map_err(|m| err(i, m))?;
                if args.is_empty() {
                    return Err(err(i, "empty command".into()));
                }
                case.steps.push(Step {
                    send: Send::Command(args),
                    source: line.clone(),
                    line_index: i,
                    expected: None,
                });
            } else if let Some((key, value)) = line.split_once(':') {
                if !case.steps.is_empty() {
                    return Err(err(i, "options must come before the first command".into()));
                }
                parse_option(&mut case.options, key.trim(), value.trim()).map_err(|m| err(i, m))?;
            } else {
                return Err(err(i, format!("unrecognised line {line:?}")));
            }
        }
        if let Some(block) = pending.take() {
            finish_step(cases.last_mut(), &block).map_err(|m| err(lines.len() - 1, m))?;
        }
        Ok(Transcript {
            path: path.to_path_buf(),
            family,
            lines,
            cases,
        })
    }

    /// The file text with the expected replies of the cases in `replies` replaced (case name → one reply
    /// per step). Every other line is kept as it was.
    pub fn rewrite(&self, replies: &std::collections::HashMap<String, Vec<Reply>>) -> String {
        // For each line index of a `>` line whose reply is replaced: the new `<` lines.
        let mut new_blocks: std::collections::HashMap<usize, Vec<String>> = std::collections::HashMap::new();
        let mut replaced_steps: Vec<(usize, usize)> = Vec::new(); // (first line, end) of old `<` blocks
        for case in &self.cases {
            let Some(rs) = replies.get(&case.name) else {
                continue;
            };
            for (step, reply) in case.steps.iter().zip(rs) {
                new_blocks.insert(step.line_index, reply.render());
                let start = step.line_index + 1;
                let mut end = start;
                while end < self.lines.len() && self.lines[end].starts_with('<') {
                    end += 1;
                }
                replaced_steps.push((start, end));
            }
        }
        let mut out = String::new();
        for (i, line) in self.lines.iter().enumerate() {
            if replaced_steps.iter().any(|&(s, e)| i >= s && i < e) {
                continue;
            }
            out.push_str(line);
            out.push('\n');
            if let Some(block) = new_blocks.get(&i) {
                for l in block {
                    out.push_str(l);
                    out.push('\n');
                }
            }
        }
        out
    }
}

/// Attaches a collected block of `<` lines to the last step of `case`.
fn finish_step(case: Option<&mut Case>, block: &[&str]) -> Result<(), String> {
    let step = case
        .and_then(|c| c.steps.last_mut())
        .ok_or("reply lines without a command")?;
    if step.expected.is_some() {
        return Err("two reply blocks for one command".into());
    }
    let mut reply = Reply::default();
    let mut no_reply = false;
    for (n, raw) in block.iter().enumerate() {
        let content = raw.trim();
        let last = n + 1 == block.len();
        if content == CLOSED || content == NO_REPLY {
            if !last {
                return Err(format!("{content} must be the last reply line of its command"));
            }
            reply.closed = content == CLOSED;
            no_reply = content == NO_REPLY;
            continue;
        }
        if reply.closed || no_reply {
            return Err("reply bytes after a marker".into());
        }
        reply.bytes.extend(unescape_line(content)?);
    }
    if no_reply && !reply.bytes.is_empty() {
        return Err(format!("{NO_REPLY} after reply bytes"));
    }
    step.expected = Some(reply);
    Ok(())
}

/// Applies one `key: value` option line to `options`.
fn parse_option(options: &mut Options, key: &str, value: &str) -> Result<(), String> {
    match key {
        "proto" => match value {
            "2" => options.proto = 2,
            "3" => options.proto = 3,
            _ => return Err(format!("proto must be 2 or 3, not {value:?}")),
        },
        "mask" => {
            let mask = if value == "integer" {
                Mask::Integer
            } else if let Some(pattern) = value.strip_prefix("regex ") {
                Mask::regex(pattern.trim())?
            } else {
                return Err(format!(
                    "unknown mask {value:?} (use `mask: integer` or `mask: regex PATTERN`)"
                ));
            };
            options.normalizer.masks.push(mask);
        }
        "sort" => match value {
            "arrays" => options.normalizer.sort_arrays = true,
            _ => return Err(format!("unknown sort mode {value:?} (only `sort: arrays`)")),
        },
        _ => return Err(format!("unknown option {key:?}")),
    }
    Ok(())
}

/// Escapes reply bytes for one `<` line: printable ASCII stays as it is, `\` becomes `\\`, CR, LF and TAB
/// become `\r`, `\n`, `\t`, and every other byte `\xHH`. A leading or trailing space is written `\x20`
/// so that indentation and editors' whitespace trimming cannot change the bytes, and content that would
/// read as a marker gets its `(` escaped.
pub fn escape_line(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 8);
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\r' => out.push_str("\\r"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b' ' if i == 0 || i + 1 == bytes.len() => out.push_str("\\x20"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    if out == CLOSED || out == NO_REPLY {
        out.replace_range(0..1, "\\x28");
    }
    out
}

/// Reverses [`escape_line`] (also accepting `\"`).
pub fn unescape_line(s: &str) -> Result<Vec<u8>, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let (b, used) = unescape_at(bytes, i).ok_or_else(|| format!("bad escape in {s:?}"))?;
        out.push(b);
        i += used;
    }
    Ok(out)
}

/// Decodes the escape sequence at `bytes[i]` (a backslash): the byte and how many input bytes it used.
fn unescape_at(bytes: &[u8], i: usize) -> Option<(u8, usize)> {
    match *bytes.get(i + 1)? {
        b'\\' => Some((b'\\', 2)),
        b'"' => Some((b'"', 2)),
        b'\'' => Some((b'\'', 2)),
        b'r' => Some((b'\r', 2)),
        b'n' => Some((b'\n', 2)),
        b't' => Some((b'\t', 2)),
        b'a' => Some((7, 2)),
        b'b' => Some((8, 2)),
        b'x' => {
            let hex = std::str::from_utf8(bytes.get(i + 2..i + 4)?).ok()?;
            Some((u8::from_str_radix(hex, 16).ok()?, 4))
        }
        _ => None,
    }
}

/// Splits a command line into arguments the way redis-cli does: words separated by spaces; a double-quoted
/// word takes the escapes `\xHH \r \n \t \a \b \\ \" \'`; a single-quoted word takes only `\'`; a closing
/// quote must be followed by a space or the end of the line.
pub fn split_args(line: &str) -> Result<Vec<Vec<u8>>, String> {
    let bytes = line.as_bytes();
    let mut args = Vec::new();
    let mut i = 0;
    loop {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= bytes.len() {
            return Ok(args);
        }
        let mut arg = Vec::new();
        match bytes[i] {
            q @ (b'"' | b'\'') => {
                i += 1;
                loop {
                    let Some(&b) = bytes.get(i) else {
                        return Err(format!("unbalanced quotes in {line:?}"));
                    };
                    if b == q {
                        i += 1;
                        break;
                    }
                    if b == b'\\' && q == b'"' {
                        let (c, used) = unescape_at(bytes, i).ok_or_else(|| format!("bad escape in {line:?}"))?;
                        arg.push(c);
                        i += used;
                    } else if b == b'\\' && q == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
                        arg.push(b'\'');
                        i += 2;
                    } else {
                        arg.push(b);
                        i += 1;
                    }
                }
                if i < bytes.len() && !bytes[i].is_ascii_whitespace() {
                    return Err(format!("closing quote must be followed by a space in {line:?}"));
                }
            }
            _ => {
                while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
                    arg.push(bytes[i]);
                    i += 1;
                }
            }
        }
        args.push(arg);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_redis_cli() {
        let args = split_args(r#" SET "a b" 'c\'d' "\x00\r\n\"" x"#).unwrap();
        assert_eq!(
            args,
            vec![
                b"SET".to_vec(),
                b"a b".to_vec(),
                b"c'd".to_vec(),
                b"\x00\r\n\"".to_vec(),
                b"x".to_vec()
            ]
        );
        assert!(split_args(r#"SET "a"#).is_err());
        assert_eq!(split_args(r#"SET """#).unwrap()[1], b"");
    }

    #[test]
    fn escape_round_trips() {
        for sample in [&b"+OK\r\n"[..], b" lead", b"trail ", b"\x00\xff\\\t", b"(closed)"] {
            let escaped = escape_line(sample);
            assert_eq!(unescape_line(&escaped).unwrap(), sample, "{escaped}");
            assert_ne!(escaped.trim(), CLOSED);
        }
    }

    #[test]
    fn parses_and_rewrites() {
        let text = "# top\n=== a\nmask: integer\n> PING\n< +OLD\\r\\n\n\n=== b\n>raw \"PING\\r\\n\"\n";
        let t = Transcript::parse(Path::new("x/protocol.txt"), text).unwrap();
        assert_eq!(t.family, "protocol");
        assert_eq!(t.cases.len(), 2);
        assert_eq!(t.cases[0].steps[0].expected.as_ref().unwrap().bytes, b"+OLD\r\n");
        assert!(t.cases[1].steps[0].expected.is_none());
        let mut replies = std::collections::HashMap::new();
        replies.insert(
            "a".to_string(),
            vec![Reply {
                bytes: b"+PONG\r\n".to_vec(),
                ..Reply::default()
            }],
        );
        replies.insert(
            "b".to_string(),
            vec![Reply {
                bytes: b"+PONG\r\n".to_vec(),
                closed: true,
            }],
        );
        let out = t.rewrite(&replies);
        assert_eq!(
            out,
            "# top\n=== a\nmask: integer\n> PING\n< +PONG\\r\\n\n\n=== b\n>raw \"PING\\r\\n\"\n< +PONG\\r\\n\n< (closed)\n"
        );
    }
}
