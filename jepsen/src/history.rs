//! Histories: the events clients observed, and their plain-text form.
//!
//! # Text format
//!
//! One event per line, fields separated by one space; `#` starts a comment line, blank lines are ignored:
//!
//! ```text
//! # keel-jepsen history v1
//! <time_us> <process> invoke <op>
//! <time_us> <process> ok <value>
//! <time_us> <process> fail
//! <time_us> <process> info
//! <time_us> - restart
//! ```
//!
//! - `time_us` is the (simulated) wall-clock time in microseconds when the client sent the command
//!   (`invoke`) or saw its outcome. Lines are in the order the events happened, so times never decrease.
//! - `process` is a client connection, a non-negative integer. A process may pipeline: it may invoke
//!   several operations before the first completes, and its completions match its outstanding
//!   invocations first-in first-out (replies on one connection arrive in order).
//! - `op` is one of `get K`, `set K V`, `set K V px MS`, `incr K`, `del K`, `append K V`, `expire K S`,
//!   `pexpire K MS`.
//! - `value` (the reply) is `nil`, `ok` (`+OK`), `int N`, `bulk V` or `err V`.
//! - `fail` means the operation certainly did not take effect (for instance the connection could not be
//!   opened before it was sent); `info` means it may or may not have taken effect (timeout, broken
//!   connection). An invocation that never gets a completion line is treated as `info`. A process must
//!   not invoke again after an `info` (its earlier command may still be executing): clients continue
//!   under a new process number.
//! - `restart` marks a server crash and restart without persistence: operations invoked after it run
//!   against an empty keyspace (a new epoch).
//!
//! Keys and values (`K`, `V`) are byte strings written as tokens: bytes `!`..`~` stand for themselves,
//! except `\` and `"`, which like every other byte are written `\xHH`; the empty string is `""`.

use std::fmt::{self, Write as _};

/// Microseconds of (simulated) wall-clock time.
pub type Time = i64;

/// What an operation does.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum OpKind {
    /// `GET key`.
    Get,
    /// `SET key value [PX ms]` (without `PX`, a SET also removes any TTL).
    Set { value: Vec<u8>, px_ms: Option<u64> },
    /// `INCR key`.
    Incr,
    /// `DEL key`.
    Del,
    /// `APPEND key value`.
    Append(Vec<u8>),
    /// `EXPIRE key seconds`.
    Expire(u64),
    /// `PEXPIRE key ms`.
    PExpire(u64),
}

/// One operation on one key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Op {
    pub key: Vec<u8>,
    pub kind: OpKind,
}

impl Op {
    /// True when the operation never changes the register (its indeterminate instances can be ignored).
    pub fn is_read_only(&self) -> bool {
        matches!(self.kind, OpKind::Get)
    }

    /// The command's arguments as sent over RESP (`["SET", "k", "v", "PX", "50"]`).
    pub fn to_command(&self) -> Vec<Vec<u8>> {
        let key = self.key.clone();
        match &self.kind {
            OpKind::Get => vec![b"GET".to_vec(), key],
            OpKind::Set { value, px_ms: None } => vec![b"SET".to_vec(), key, value.clone()],
            OpKind::Set { value, px_ms: Some(ms) } => vec![
                b"SET".to_vec(),
                key,
                value.clone(),
                b"PX".to_vec(),
                ms.to_string().into_bytes(),
            ],
            OpKind::Incr => vec![b"INCR".to_vec(), key],
            OpKind::Del => vec![b"DEL".to_vec(), key],
            OpKind::Append(v) => vec![b"APPEND".to_vec(), key, v.clone()],
            OpKind::Expire(s) => vec![b"EXPIRE".to_vec(), key, s.to_string().into_bytes()],
            OpKind::PExpire(ms) => vec![b"PEXPIRE".to_vec(), key, ms.to_string().into_bytes()],
        }
    }
}

/// A reply.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Value {
    /// The null bulk string.
    Nil,
    /// `+OK`.
    Ok,
    /// An integer reply.
    Int(i64),
    /// A bulk string.
    Bulk(Vec<u8>),
    /// An error reply, without the leading `-`.
    Err(Vec<u8>),
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// The process sent `Op`.
    Invoke(Op),
    /// The process's oldest outstanding operation completed with this reply.
    Ok(Value),
    /// The process's oldest outstanding operation certainly did not take effect.
    Fail,
    /// The process's oldest outstanding operation may or may not have taken effect.
    Info,
    /// The server crashed and restarted with an empty keyspace.
    Restart,
}

/// One line of a history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub time: Time,
    /// The client connection (`None` only for `Restart`).
    pub process: Option<u64>,
    pub kind: EventKind,
}

/// A sequence of events in the order they happened.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    pub events: Vec<Event>,
}

/// An invocation paired with its completion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation {
    pub process: u64,
    pub op: Op,
    /// Index of the invocation event in the history.
    pub invoke_index: usize,
    pub invoke_time: Time,
    /// Index and time of the completion event, and its kind; `None` when the history ends without one.
    pub completion: Option<(usize, Time, EventKind)>,
    /// Number of `restart` events before the invocation.
    pub epoch: usize,
}

impl Operation {
    /// The reply, when the operation completed with one.
    pub fn value(&self) -> Option<&Value> {
        match &self.completion {
            Some((_, _, EventKind::Ok(v))) => Some(v),
            _ => None,
        }
    }

    /// True when it is unknown whether the operation took effect (`info`, or no completion).
    pub fn is_indeterminate(&self) -> bool {
        matches!(self.completion, None | Some((_, _, EventKind::Info)))
    }

    /// True when the operation certainly did not take effect.
    pub fn failed(&self) -> bool {
        matches!(self.completion, Some((_, _, EventKind::Fail)))
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "p{} {} @{}", self.process, OpDisplay(&self.op), self.invoke_time)?;
        match &self.completion {
            Some((_, t, EventKind::Ok(v))) => write!(f, " -> {} @{t}", ValueDisplay(v)),
            Some((_, t, EventKind::Fail)) => write!(f, " -> fail @{t}"),
            Some((_, t, _)) => write!(f, " -> info @{t}"),
            None => write!(f, " -> (no completion)"),
        }
    }
}

/// A history that cannot be read or paired up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line number; for errors found by [`History::operations`], the 1-based position of the
    /// offending event in [`History::events`] (comment lines are not counted).
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "history line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

impl History {
    /// An empty history.
    pub fn new() -> History {
        History::default()
    }

    /// Records that `process` sent `op` at `time`.
    pub fn invoke(&mut self, time: Time, process: u64, op: Op) {
        self.push(time, Some(process), EventKind::Invoke(op));
    }

    /// Records a reply to `process`'s oldest outstanding operation.
    pub fn ok(&mut self, time: Time, process: u64, value: Value) {
        self.push(time, Some(process), EventKind::Ok(value));
    }

    /// Records that `process`'s oldest outstanding operation certainly did not take effect.
    pub fn fail(&mut self, time: Time, process: u64) {
        self.push(time, Some(process), EventKind::Fail);
    }

    /// Records that `process`'s oldest outstanding operation may or may not have taken effect.
    pub fn info(&mut self, time: Time, process: u64) {
        self.push(time, Some(process), EventKind::Info);
    }

    /// Records a server restart (the keyspace is empty afterwards).
    pub fn restart(&mut self, time: Time) {
        self.push(time, None, EventKind::Restart);
    }

    fn push(&mut self, time: Time, process: Option<u64>, kind: EventKind) {
        self.events.push(Event { time, process, kind });
    }

    /// Pairs invocations with completions, in invocation order.
    pub fn operations(&self) -> Result<Vec<Operation>, ParseError> {
        use std::collections::{HashMap, HashSet, VecDeque};
        let mut ops: Vec<Operation> = Vec::new();
        let mut outstanding: HashMap<u64, VecDeque<usize>> = HashMap::new();
        let mut crashed: HashSet<u64> = HashSet::new();
        let mut epoch = 0;
        let mut last_time = Time::MIN;
        for (i, e) in self.events.iter().enumerate() {
            let err = |message: String| ParseError { line: i + 1, message };
            if e.time < last_time {
                return Err(err(format!("time {} goes back from {last_time}", e.time)));
            }
            last_time = e.time;
            epoch += usize::from(e.kind == EventKind::Restart);
            let Some(p) = e.process else {
                if e.kind != EventKind::Restart {
                    return Err(err("event without a process".into()));
                }
                continue;
            };
            match &e.kind {
                EventKind::Restart => return Err(err("restart with a process".into())),
                EventKind::Invoke(op) => {
                    if crashed.contains(&p) {
                        return Err(err(format!("process {p} invokes again after an info")));
                    }
                    outstanding.entry(p).or_default().push_back(ops.len());
                    ops.push(Operation {
                        process: p,
                        op: op.clone(),
                        invoke_index: i,
                        invoke_time: e.time,
                        completion: None,
                        epoch,
                    });
                }
                kind => {
                    let Some(index) = outstanding.get_mut(&p).and_then(|q| q.pop_front()) else {
                        return Err(err(format!(
                            "completion for process {p}, which has nothing outstanding"
                        )));
                    };
                    if *kind == EventKind::Info {
                        crashed.insert(p);
                    }
                    ops[index].completion = Some((i, e.time, kind.clone()));
                }
            }
        }
        Ok(ops)
    }

    /// The history in the text format (one event per line, with a header comment).
    pub fn to_text(&self) -> String {
        self.to_string()
    }

    /// Reads the text format.
    pub fn parse(text: &str) -> Result<History, ParseError> {
        let mut history = History::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let err = |message: &str| ParseError {
                line: n + 1,
                message: format!("{message}: {line:?}"),
            };
            let fields: Vec<&str> = line.split(' ').collect();
            if fields.len() < 3 {
                return Err(err("expected <time> <process> <event>"));
            }
            let time: Time = fields[0].parse().map_err(|_| err("bad time"))?;
            let process = match fields[1] {
                "-" => None,
                p => Some(p.parse::<u64>().map_err(|_| err("bad process"))?),
            };
            let rest = &fields[3..];
            let kind = match (fields[2], rest) {
                ("invoke", _) => EventKind::Invoke(parse_op(rest).ok_or_else(|| err("bad operation"))?),
                ("ok", _) => EventKind::Ok(parse_value(rest).ok_or_else(|| err("bad value"))?),
                ("fail", []) => EventKind::Fail,
                ("info", []) => EventKind::Info,
                ("restart", []) => EventKind::Restart,
                _ => return Err(err("unknown event")),
            };
            if (kind == EventKind::Restart) != process.is_none() {
                return Err(err("restart events, and only they, have process -"));
            }
            history.push(time, process, kind);
        }
        Ok(history)
    }
}

impl fmt::Display for History {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "# keel-jepsen history v1")?;
        for e in &self.events {
            match e.process {
                Some(p) => write!(f, "{} {p} ", e.time)?,
                None => write!(f, "{} - ", e.time)?,
            }
            match &e.kind {
                EventKind::Invoke(op) => writeln!(f, "invoke {}", OpDisplay(op))?,
                EventKind::Ok(v) => writeln!(f, "ok {}", ValueDisplay(v))?,
                EventKind::Fail => writeln!(f, "fail")?,
                EventKind::Info => writeln!(f, "info")?,
                EventKind::Restart => writeln!(f, "restart")?,
            }
        }
        Ok(())
    }
}

/// Writes an operation in the text format (`set k v px 50`).
pub struct OpDisplay<'a>(pub &'a Op);

impl fmt::Display for OpDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = Token(&self.0.key);
        match &self.0.kind {
            OpKind::Get => write!(f, "get {key}"),
            OpKind::Set { value, px_ms: None } => write!(f, "set {key} {}", Token(value)),
            OpKind::Set { value, px_ms: Some(ms) } => write!(f, "set {key} {} px {ms}", Token(value)),
            OpKind::Incr => write!(f, "incr {key}"),
            OpKind::Del => write!(f, "del {key}"),
            OpKind::Append(v) => write!(f, "append {key} {}", Token(v)),
            OpKind::Expire(s) => write!(f, "expire {key} {s}"),
            OpKind::PExpire(ms) => write!(f, "pexpire {key} {ms}"),
        }
    }
}

/// Writes a reply in the text format (`int 3`, `bulk abc`).
pub struct ValueDisplay<'a>(pub &'a Value);

impl fmt::Display for ValueDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Value::Nil => write!(f, "nil"),
            Value::Ok => write!(f, "ok"),
            Value::Int(n) => write!(f, "int {n}"),
            Value::Bulk(b) => write!(f, "bulk {}", Token(b)),
            Value::Err(e) => write!(f, "err {}", Token(e)),
        }
    }
}

/// Writes bytes as a token (see the module documentation).
pub struct Token<'a>(pub &'a [u8]);

impl fmt::Display for Token<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("\"\"");
        }
        for &b in self.0 {
            if (b'!'..=b'~').contains(&b) && b != b'\\' && b != b'"' {
                f.write_char(b as char)?;
            } else {
                write!(f, "\\x{b:02x}")?;
            }
        }
        Ok(())
    }
}

/// Reads a token written by [`Token`].
pub fn parse_token(s: &str) -> Option<Vec<u8>> {
    if s == "\"\"" {
        return Some(Vec::new());
    }
    if s.is_empty() {
        return None;
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => {
                if bytes.get(i + 1) != Some(&b'x') {
                    return None;
                }
                let hex = s.get(i + 2..i + 4)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 4;
            }
            b'"' => return None,
            b if (b'!'..=b'~').contains(&b) => {
                out.push(b);
                i += 1;
            }
            _ => return None,
        }
    }
    Some(out)
}

fn parse_op(fields: &[&str]) -> Option<Op> {
    let (&name, rest) = fields.split_first()?;
    let (&key, args) = rest.split_first()?;
    let key = parse_token(key)?;
    let kind = match (name, args) {
        ("get", []) => OpKind::Get,
        ("set", [v]) => OpKind::Set {
            value: parse_token(v)?,
            px_ms: None,
        },
        ("set", [v, "px", ms]) => OpKind::Set {
            value: parse_token(v)?,
            px_ms: Some(ms.parse().ok()?),
        },
        ("incr", []) => OpKind::Incr,
        ("del", []) => OpKind::Del,
        ("append", [v]) => OpKind::Append(parse_token(v)?),
        ("expire", [s]) => OpKind::Expire(s.parse().ok()?),
        ("pexpire", [ms]) => OpKind::PExpire(ms.parse().ok()?),
        _ => return None,
    };
    Some(Op { key, kind })
}

fn parse_value(fields: &[&str]) -> Option<Value> {
    Some(match fields {
        ["nil"] => Value::Nil,
        ["ok"] => Value::Ok,
        ["int", n] => Value::Int(n.parse().ok()?),
        ["bulk", b] => Value::Bulk(parse_token(b)?),
        ["err", e] => Value::Err(parse_token(e)?),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(key: &str, kind: OpKind) -> Op {
        Op {
            key: key.as_bytes().to_vec(),
            kind,
        }
    }

    #[test]
    fn text_round_trips() {
        let mut h = History::new();
        h.invoke(10, 1, op("k", OpKind::Get));
        h.invoke(
            11,
            2,
            op(
                "a b",
                OpKind::Set {
                    value: b"\x00\\\"\xff".to_vec(),
                    px_ms: Some(50),
                },
            ),
        );
        h.invoke(11, 2, op("", OpKind::Append(Vec::new())));
        h.ok(12, 1, Value::Nil);
        h.ok(13, 2, Value::Ok);
        h.info(13, 2);
        h.restart(20);
        h.invoke(21, 3, op("k", OpKind::Incr));
        h.ok(
            22,
            3,
            Value::Err(b"ERR value is not an integer or out of range".to_vec()),
        );
        h.invoke(23, 4, op("k", OpKind::Expire(1)));
        h.fail(24, 4);
        h.invoke(25, 5, op("k", OpKind::PExpire(7)));
        h.ok(26, 5, Value::Int(-3));
        h.invoke(27, 6, op("k", OpKind::Del));
        h.ok(28, 6, Value::Bulk(b"x".to_vec()));
        let text = h.to_text();
        assert!(
            text.contains("11 2 invoke set a\\x20b \\x00\\x5c\\x22\\xff px 50\n"),
            "{text}"
        );
        assert!(text.contains("11 2 invoke append \"\" \"\"\n"), "{text}");
        assert_eq!(History::parse(&text).unwrap(), h);
    }

    #[test]
    fn pairs_fifo_per_process_and_counts_epochs() {
        let text = "1 1 invoke get a\n2 1 invoke get b\n3 1 ok nil\n4 - restart\n5 1 ok bulk x\n6 2 invoke del a\n";
        let ops = History::parse(text).unwrap().operations().unwrap();
        assert_eq!(ops.len(), 3);
        assert_eq!(ops[0].value(), Some(&Value::Nil));
        assert_eq!(ops[1].value(), Some(&Value::Bulk(b"x".to_vec())));
        assert_eq!((ops[1].epoch, ops[2].epoch), (0, 1));
        assert!(ops[2].is_indeterminate());
    }

    #[test]
    fn rejects_malformed_histories() {
        assert!(History::parse("1 1 invoke frob k\n").is_err());
        assert!(History::parse("1 1 ok bulk a b\n").is_err());
        assert!(History::parse("1 1 restart\n").is_err());
        assert!(History::parse("x 1 info\n").is_err());
        let unmatched = History::parse("1 1 ok nil\n").unwrap();
        assert_eq!(unmatched.operations().unwrap_err().line, 1);
        let reused = History::parse("1 1 invoke get a\n2 1 info\n3 1 invoke get a\n").unwrap();
        assert!(reused.operations().is_err());
        let backwards = History::parse("5 1 invoke get a\n4 1 ok nil\n").unwrap();
        assert!(backwards.operations().is_err());
    }
}
