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
//! - `op` is one command — `get K`, `set K V`, `set K V px MS`, `incr K`, `del K`, `append K V`,
//!   `expire K S`, `pexpire K MS`; `lpush K V...`, `rpush K V...`, `lpop K`, `rpop K`, `lrange K A B`,
//!   `llen K`; `hset K F V [F V ...]`, `hdel K F...`, `hget K F`, `hgetall K`, `hincrby K F N`;
//!   `sadd K M...`, `srem K M...`, `sismember K M`, `smembers K`, `scard K`; `zadd K S M [S M ...]`,
//!   `zincrby K N M`, `zrem K M...`, `zscore K M`, `zrange K A B withscores`, `zcard K` — or a
//!   transaction, `multi` followed by its parts separated by ` | `: first any `watch <value> <command>`
//!   guards (a read made after WATCH, and its reply), then the queued commands
//!   (`multi watch int 2 llen l0 | lpop l0 | sadd s0 a`).
//! - `value` (the reply) is `nil`, `ok` (`+OK`), `status V` (another simple string), `int N`, `bulk V`,
//!   `err V`, or `arr N` followed by its N elements (`arr 2 bulk a arr 0`). A transaction's reply is
//!   EXEC's. SMEMBERS and HGETALL replies are recorded sorted ([`Command::normalize`]).
//! - `fail` means the operation certainly did not take effect (for instance the connection could not be
//!   opened before it was sent); `info` means it may or may not have taken effect (timeout, broken
//!   connection). An invocation that never gets a completion line is treated as `info`. A process must
//!   not invoke again after an `info` (its earlier command may still be executing): clients continue
//!   under a new process number.
//! - `restart` marks a server crash and restart without persistence: operations invoked after it run
//!   against an empty keyspace (a new epoch).
//!
//! Keys and values (`K`, `V`) are byte strings written as tokens: bytes `!`..`~` stand for themselves,
//! except `\`, `"` and `|`, which like every other byte are written `\xHH`; the empty string is `""`.

use std::fmt::{self, Write as _};

/// Microseconds of (simulated) wall-clock time.
pub type Time = i64;

/// What one command does (to the key of its [`Command`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum OpKind {
    // Strings and keys.
    /// `GET key`.
    Get,
    /// `SET key value [PX ms]` (without `PX`, a SET also removes any TTL).
    Set { value: Vec<u8>, px_ms: Option<u64> },
    /// `INCR key`.
    Incr,
    /// `DEL key` (any type).
    Del,
    /// `APPEND key value`.
    Append(Vec<u8>),
    /// `EXPIRE key seconds` (any type).
    Expire(u64),
    /// `PEXPIRE key ms` (any type).
    PExpire(u64),
    // Lists.
    /// `LPUSH key element...`.
    LPush(Vec<Vec<u8>>),
    /// `RPUSH key element...`.
    RPush(Vec<Vec<u8>>),
    /// `LPOP key`.
    LPop,
    /// `RPOP key`.
    RPop,
    /// `LRANGE key start stop`.
    LRange(i64, i64),
    /// `LLEN key`.
    LLen,
    // Hashes.
    /// `HSET key field value [field value ...]`.
    HSet(Vec<(Vec<u8>, Vec<u8>)>),
    /// `HDEL key field...`.
    HDel(Vec<Vec<u8>>),
    /// `HGET key field`.
    HGet(Vec<u8>),
    /// `HGETALL key` (the reply is recorded with its pairs sorted by field, see [`Command::normalize`]).
    HGetAll,
    /// `HINCRBY key field increment`.
    HIncrBy(Vec<u8>, i64),
    // Sets.
    /// `SADD key member...`.
    SAdd(Vec<Vec<u8>>),
    /// `SREM key member...`.
    SRem(Vec<Vec<u8>>),
    /// `SISMEMBER key member`.
    SIsMember(Vec<u8>),
    /// `SMEMBERS key` (the reply is recorded sorted, see [`Command::normalize`]).
    SMembers,
    /// `SCARD key`.
    SCard,
    // Sorted sets; scores are integers (so their text form is exact).
    /// `ZADD key score member [score member ...]`.
    ZAdd(Vec<(i64, Vec<u8>)>),
    /// `ZINCRBY key increment member`.
    ZIncrBy(i64, Vec<u8>),
    /// `ZREM key member...`.
    ZRem(Vec<Vec<u8>>),
    /// `ZSCORE key member`.
    ZScore(Vec<u8>),
    /// `ZRANGE key start stop WITHSCORES`.
    ZRangeWithScores(i64, i64),
    /// `ZCARD key`.
    ZCard,
}

impl OpKind {
    /// True when the command never changes the keyspace.
    pub fn is_read_only(&self) -> bool {
        use OpKind::*;
        matches!(
            self,
            Get | LRange(..)
                | LLen
                | HGet(_)
                | HGetAll
                | SIsMember(_)
                | SMembers
                | SCard
                | ZScore(_)
                | ZRangeWithScores(..)
                | ZCard
        )
    }
}

/// One command on one key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Command {
    pub key: Vec<u8>,
    pub kind: OpKind,
}

impl Command {
    /// A command on `key`.
    pub fn new(key: impl Into<Vec<u8>>, kind: OpKind) -> Command {
        Command { key: key.into(), kind }
    }

    /// True when the command never changes the keyspace.
    pub fn is_read_only(&self) -> bool {
        self.kind.is_read_only()
    }

    /// The command's arguments as sent over RESP (`["SET", "k", "v", "PX", "50"]`).
    pub fn to_command(&self) -> Vec<Vec<u8>> {
        fn num(n: impl ToString) -> Vec<u8> {
            n.to_string().into_bytes()
        }
        let name: &[u8] = match &self.kind {
            OpKind::Get => b"GET",
            OpKind::Set { .. } => b"SET",
            OpKind::Incr => b"INCR",
            OpKind::Del => b"DEL",
            OpKind::Append(_) => b"APPEND",
            OpKind::Expire(_) => b"EXPIRE",
            OpKind::PExpire(_) => b"PEXPIRE",
            OpKind::LPush(_) => b"LPUSH",
            OpKind::RPush(_) => b"RPUSH",
            OpKind::LPop => b"LPOP",
            OpKind::RPop => b"RPOP",
            OpKind::LRange(..) => b"LRANGE",
            OpKind::LLen => b"LLEN",
            OpKind::HSet(_) => b"HSET",
            OpKind::HDel(_) => b"HDEL",
            OpKind::HGet(_) => b"HGET",
            OpKind::HGetAll => b"HGETALL",
            OpKind::HIncrBy(..) => b"HINCRBY",
            OpKind::SAdd(_) => b"SADD",
            OpKind::SRem(_) => b"SREM",
            OpKind::SIsMember(_) => b"SISMEMBER",
            OpKind::SMembers => b"SMEMBERS",
            OpKind::SCard => b"SCARD",
            OpKind::ZAdd(_) => b"ZADD",
            OpKind::ZIncrBy(..) => b"ZINCRBY",
            OpKind::ZRem(_) => b"ZREM",
            OpKind::ZScore(_) => b"ZSCORE",
            OpKind::ZRangeWithScores(..) => b"ZRANGE",
            OpKind::ZCard => b"ZCARD",
        };
        let mut args = vec![name.to_vec(), self.key.clone()];
        match &self.kind {
            OpKind::Get
            | OpKind::Incr
            | OpKind::Del
            | OpKind::LPop
            | OpKind::RPop
            | OpKind::LLen
            | OpKind::HGetAll
            | OpKind::SMembers
            | OpKind::SCard
            | OpKind::ZCard => {}
            OpKind::Set { value, px_ms } => {
                args.push(value.clone());
                if let Some(ms) = px_ms {
                    args.extend([b"PX".to_vec(), num(ms)]);
                }
            }
            OpKind::Append(v) | OpKind::HGet(v) | OpKind::SIsMember(v) | OpKind::ZScore(v) => args.push(v.clone()),
            OpKind::Expire(n) | OpKind::PExpire(n) => args.push(num(n)),
            OpKind::LPush(vs)
            | OpKind::RPush(vs)
            | OpKind::HDel(vs)
            | OpKind::SAdd(vs)
            | OpKind::SRem(vs)
            | OpKind::ZRem(vs) => args.extend(vs.iter().cloned()),
            OpKind::LRange(a, b) => args.extend([num(a), num(b)]),
            OpKind::ZRangeWithScores(a, b) => args.extend([num(a), num(b), b"WITHSCORES".to_vec()]),
            OpKind::HSet(pairs) => {
                for (f, v) in pairs {
                    args.extend([f.clone(), v.clone()]);
                }
            }
            OpKind::HIncrBy(f, n) => args.extend([f.clone(), num(n)]),
            OpKind::ZAdd(pairs) => {
                for (s, m) in pairs {
                    args.extend([num(s), m.clone()]);
                }
            }
            OpKind::ZIncrBy(n, m) => args.extend([num(n), m.clone()]),
        }
        args
    }

    /// Puts a reply whose order the server does not define into the one order the model produces:
    /// SMEMBERS elements sorted, HGETALL field–value pairs sorted by field. Other replies are unchanged.
    pub fn normalize(&self, reply: Value) -> Value {
        match (&self.kind, reply) {
            (OpKind::SMembers, Value::Array(mut items)) => {
                items.sort();
                Value::Array(items)
            }
            (OpKind::HGetAll, Value::Array(items)) if items.len().is_multiple_of(2) => {
                let mut pairs: Vec<(Value, Value)> = Vec::with_capacity(items.len() / 2);
                let mut it = items.into_iter();
                while let (Some(f), Some(v)) = (it.next(), it.next()) {
                    pairs.push((f, v));
                }
                pairs.sort();
                Value::Array(pairs.into_iter().flat_map(|(f, v)| [f, v]).collect())
            }
            (_, reply) => reply,
        }
    }
}

/// A MULTI/EXEC transaction: its commands run as one atomic operation.
///
/// With WATCH, the client first watched some keys and read them; `guards` holds those reads and their
/// replies. The server runs the transaction only if no watched key was modified since the WATCH, so a
/// transaction that ran (EXEC answered an array) saw every guard's key as the client read it: at the
/// transaction's instant, each guard command still gives its recorded reply. (The converse does not
/// hold — a key changed and changed back aborts the transaction — so an EXEC that answers nil is
/// allowed whatever the keyspace; such a transaction had no effect.)
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Txn {
    /// Read commands on the watched keys and their replies, read after the WATCH.
    pub guards: Vec<(Command, Value)>,
    /// The queued commands.
    pub commands: Vec<Command>,
}

/// What a process invokes: one command, or one transaction.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// One command; the reply is the command's.
    One(Command),
    /// MULTI, the commands, EXEC; the reply is EXEC's (an array of the commands' replies, or nil when
    /// a watched key was modified).
    Txn(Txn),
}

impl From<Command> for Op {
    fn from(c: Command) -> Op {
        Op::One(c)
    }
}

impl Op {
    /// True when the operation never changes the keyspace (its indeterminate instances can be ignored).
    pub fn is_read_only(&self) -> bool {
        match self {
            Op::One(c) => c.is_read_only(),
            Op::Txn(t) => t.commands.iter().all(Command::is_read_only),
        }
    }

    /// The keys the operation reads or writes, without repetitions, in order of first appearance.
    pub fn keys(&self) -> Vec<&[u8]> {
        let mut keys: Vec<&[u8]> = Vec::new();
        let commands: Vec<&Command> = match self {
            Op::One(c) => vec![c],
            Op::Txn(t) => t.guards.iter().map(|(c, _)| c).chain(&t.commands).collect(),
        };
        for c in commands {
            if !keys.contains(&&c.key[..]) {
                keys.push(&c.key);
            }
        }
        keys
    }
}

/// A reply.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Value {
    /// The null bulk string (or null array).
    Nil,
    /// `+OK`.
    Ok,
    /// Any other simple string (`+QUEUED`).
    Status(Vec<u8>),
    /// An integer reply.
    Int(i64),
    /// A bulk string.
    Bulk(Vec<u8>),
    /// An error reply, without the leading `-`.
    Err(Vec<u8>),
    /// An array.
    Array(Vec<Value>),
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

/// Writes an operation in the text format (`set k v px 50`, `multi incr a | get b`).
pub struct OpDisplay<'a>(pub &'a Op);

impl fmt::Display for OpDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Op::One(c) => write!(f, "{}", CommandDisplay(c)),
            Op::Txn(t) => {
                f.write_str("multi")?;
                let mut sep = " ";
                for (c, v) in &t.guards {
                    write!(f, "{sep}watch {} {}", ValueDisplay(v), CommandDisplay(c))?;
                    sep = " | ";
                }
                for c in &t.commands {
                    write!(f, "{sep}{}", CommandDisplay(c))?;
                    sep = " | ";
                }
                Ok(())
            }
        }
    }
}

/// Writes one command in the text format (`lpush l0 a b`).
pub struct CommandDisplay<'a>(pub &'a Command);

impl fmt::Display for CommandDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let args = self.0.to_command();
        // The RESP form with the command name and keywords in lower case.
        write!(f, "{}", String::from_utf8_lossy(&args[0]).to_ascii_lowercase())?;
        for (i, a) in args[1..].iter().enumerate() {
            let keyword = match (&self.0.kind, i) {
                (OpKind::Set { .. }, 2) => Some("px"),
                (OpKind::ZRangeWithScores(..), 3) => Some("withscores"),
                _ => None,
            };
            match keyword {
                Some(k) => write!(f, " {k}")?,
                None => write!(f, " {}", Token(a))?,
            }
        }
        Ok(())
    }
}

/// Writes a reply in the text format (`int 3`, `bulk abc`, `arr 2 bulk a nil`).
pub struct ValueDisplay<'a>(pub &'a Value);

impl fmt::Display for ValueDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Value::Nil => write!(f, "nil"),
            Value::Ok => write!(f, "ok"),
            Value::Status(s) => write!(f, "status {}", Token(s)),
            Value::Int(n) => write!(f, "int {n}"),
            Value::Bulk(b) => write!(f, "bulk {}", Token(b)),
            Value::Err(e) => write!(f, "err {}", Token(e)),
            Value::Array(items) => {
                write!(f, "arr {}", items.len())?;
                for v in items {
                    write!(f, " {}", ValueDisplay(v))?;
                }
                Ok(())
            }
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
            if (b'!'..=b'~').contains(&b) && !matches!(b, b'\\' | b'"' | b'|') {
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
    let Some((&"multi", rest)) = fields.split_first() else {
        return parse_command(fields).map(Op::One);
    };
    let mut txn = Txn {
        guards: Vec::new(),
        commands: Vec::new(),
    };
    if rest.is_empty() {
        return Some(Op::Txn(txn));
    }
    for group in rest.split(|&f| f == "|") {
        if let Some((&"watch", guard)) = group.split_first() {
            if !txn.commands.is_empty() {
                return None;
            }
            let mut at = 0;
            let value = parse_value_at(guard, &mut at)?;
            txn.guards.push((parse_command(&guard[at..])?, value));
        } else {
            txn.commands.push(parse_command(group)?);
        }
    }
    Some(Op::Txn(txn))
}

fn parse_command(fields: &[&str]) -> Option<Command> {
    let (&name, rest) = fields.split_first()?;
    let (&key, args) = rest.split_first()?;
    let key = parse_token(key)?;
    let tokens = |args: &[&str]| -> Option<Vec<Vec<u8>>> {
        if args.is_empty() {
            return None;
        }
        args.iter().map(|a| parse_token(a)).collect()
    };
    let pairs = |args: &[&str]| -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
        if args.is_empty() || !args.len().is_multiple_of(2) {
            return None;
        }
        args.chunks(2)
            .map(|p| Some((parse_token(p[0])?, parse_token(p[1])?)))
            .collect()
    };
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
        ("lpush", vs) => OpKind::LPush(tokens(vs)?),
        ("rpush", vs) => OpKind::RPush(tokens(vs)?),
        ("lpop", []) => OpKind::LPop,
        ("rpop", []) => OpKind::RPop,
        ("lrange", [a, b]) => OpKind::LRange(a.parse().ok()?, b.parse().ok()?),
        ("llen", []) => OpKind::LLen,
        ("hset", fvs) => OpKind::HSet(pairs(fvs)?),
        ("hdel", fs) => OpKind::HDel(tokens(fs)?),
        ("hget", [f]) => OpKind::HGet(parse_token(f)?),
        ("hgetall", []) => OpKind::HGetAll,
        ("hincrby", [f, n]) => OpKind::HIncrBy(parse_token(f)?, n.parse().ok()?),
        ("sadd", ms) => OpKind::SAdd(tokens(ms)?),
        ("srem", ms) => OpKind::SRem(tokens(ms)?),
        ("sismember", [m]) => OpKind::SIsMember(parse_token(m)?),
        ("smembers", []) => OpKind::SMembers,
        ("scard", []) => OpKind::SCard,
        ("zadd", sms) => OpKind::ZAdd(
            pairs(sms)?
                .into_iter()
                .map(|(s, m)| Some((std::str::from_utf8(&s).ok()?.parse().ok()?, m)))
                .collect::<Option<_>>()?,
        ),
        ("zincrby", [n, m]) => OpKind::ZIncrBy(n.parse().ok()?, parse_token(m)?),
        ("zrem", ms) => OpKind::ZRem(tokens(ms)?),
        ("zscore", [m]) => OpKind::ZScore(parse_token(m)?),
        ("zrange", [a, b, "withscores"]) => OpKind::ZRangeWithScores(a.parse().ok()?, b.parse().ok()?),
        ("zcard", []) => OpKind::ZCard,
        _ => return None,
    };
    Some(Command { key, kind })
}

/// Reads a whole field list as one reply.
fn parse_value(fields: &[&str]) -> Option<Value> {
    let mut at = 0;
    let v = parse_value_at(fields, &mut at)?;
    (at == fields.len()).then_some(v)
}

/// Reads one reply starting at `fields[*at]`, advancing `at` past it.
fn parse_value_at(fields: &[&str], at: &mut usize) -> Option<Value> {
    let kind = *fields.get(*at)?;
    *at += 1;
    if matches!(kind, "nil" | "ok") {
        return Some(if kind == "nil" { Value::Nil } else { Value::Ok });
    }
    let arg = *fields.get(*at)?;
    *at += 1;
    Some(match kind {
        "status" => Value::Status(parse_token(arg)?),
        "int" => Value::Int(arg.parse().ok()?),
        "bulk" => Value::Bulk(parse_token(arg)?),
        "err" => Value::Err(parse_token(arg)?),
        "arr" => {
            let n: usize = arg.parse().ok()?;
            // Every element takes at least one field: a bound on hostile lengths.
            if n > fields.len() {
                return None;
            }
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push(parse_value_at(fields, at)?);
            }
            Value::Array(items)
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(key: &str, kind: OpKind) -> Op {
        Op::One(Command::new(key, kind))
    }

    fn c(key: &str, kind: OpKind) -> Command {
        Command::new(key, kind)
    }

    fn b(s: &str) -> Vec<u8> {
        s.as_bytes().to_vec()
    }

    #[test]
    fn every_command_and_transactions_round_trip() {
        let kinds = vec![
            OpKind::LPush(vec![b("a"), b("|")]),
            OpKind::RPush(vec![b("b")]),
            OpKind::LPop,
            OpKind::RPop,
            OpKind::LRange(0, -1),
            OpKind::LLen,
            OpKind::HSet(vec![(b("f"), b("1")), (b("g"), b("x y"))]),
            OpKind::HDel(vec![b("f"), b("g")]),
            OpKind::HGet(b("f")),
            OpKind::HGetAll,
            OpKind::HIncrBy(b("f"), -3),
            OpKind::SAdd(vec![b("m")]),
            OpKind::SRem(vec![b("m"), b("n")]),
            OpKind::SIsMember(b("m")),
            OpKind::SMembers,
            OpKind::SCard,
            OpKind::ZAdd(vec![(-2, b("m")), (7, b("n"))]),
            OpKind::ZIncrBy(5, b("m")),
            OpKind::ZRem(vec![b("m")]),
            OpKind::ZScore(b("m")),
            OpKind::ZRangeWithScores(1, -2),
            OpKind::ZCard,
        ];
        let mut h = History::new();
        for (i, kind) in kinds.iter().enumerate() {
            h.invoke(i as i64, 1, op("k", kind.clone()));
            h.ok(i as i64, 1, Value::Int(i as i64));
        }
        let txn = Op::Txn(Txn {
            guards: vec![
                (c("l", OpKind::LLen), Value::Int(2)),
                (c("h", OpKind::HGetAll), Value::Array(vec![])),
            ],
            commands: vec![c("l", OpKind::LPop), c("z", OpKind::ZRangeWithScores(0, -1))],
        });
        h.invoke(100, 2, txn);
        let nested = Value::Array(vec![
            Value::Bulk(b("a")),
            Value::Array(vec![Value::Bulk(b("m")), Value::Bulk(b("7"))]),
            Value::Status(b("QUEUED")),
            Value::Nil,
        ]);
        h.ok(101, 2, nested);
        h.invoke(
            102,
            3,
            Op::Txn(Txn {
                guards: vec![],
                commands: vec![],
            }),
        );
        let text = h.to_text();
        assert!(text.contains("invoke lpush k a \\x7c\n"), "{text}");
        assert!(text.contains("invoke zrange k 1 -2 withscores\n"), "{text}");
        assert!(
            text.contains(
                "invoke multi watch int 2 llen l | watch arr 0 hgetall h | lpop l | zrange z 0 -1 withscores\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("ok arr 4 bulk a arr 2 bulk m bulk 7 status QUEUED nil\n"),
            "{text}"
        );
        assert_eq!(History::parse(&text).unwrap(), h);
        // Wire form of a few.
        assert_eq!(
            c("z", OpKind::ZAdd(vec![(-2, b("m"))])).to_command(),
            vec![b("ZADD"), b("z"), b("-2"), b("m")]
        );
        assert_eq!(
            c("h", OpKind::HIncrBy(b("f"), 3)).to_command(),
            vec![b("HINCRBY"), b("h"), b("f"), b("3")]
        );
    }

    #[test]
    fn unordered_replies_are_normalized() {
        let smembers = c("s", OpKind::SMembers);
        let reply = Value::Array(vec![Value::Bulk(b("b")), Value::Bulk(b("a"))]);
        assert_eq!(
            smembers.normalize(reply),
            Value::Array(vec![Value::Bulk(b("a")), Value::Bulk(b("b"))])
        );
        let hgetall = c("h", OpKind::HGetAll);
        let reply = Value::Array(["g", "1", "f", "2"].iter().map(|x| Value::Bulk(b(x))).collect());
        assert_eq!(
            hgetall.normalize(reply),
            Value::Array(["f", "2", "g", "1"].iter().map(|x| Value::Bulk(b(x))).collect())
        );
        // Ordered replies stay as they are.
        let lrange = c("l", OpKind::LRange(0, -1));
        let reply = Value::Array(vec![Value::Bulk(b("b")), Value::Bulk(b("a"))]);
        assert_eq!(lrange.normalize(reply.clone()), reply);
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
        assert!(History::parse("1 1 ok arr 3 int 1\n").is_err());
        assert!(History::parse("1 1 ok arr 99999999999 int 1\n").is_err());
        assert!(History::parse("1 1 invoke lpush k\n").is_err());
        assert!(History::parse("1 1 invoke hset k f\n").is_err());
        assert!(History::parse("1 1 invoke multi get a | watch nil get b\n").is_err());
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
