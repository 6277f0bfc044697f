//! Write propagation: the stream of effective write commands, as RESP, that the append-only file (and
//! later replication) consumes.
//!
//! Owns the rules that turn what a client sent into what a replay must run to reach the same state:
//! relative or non-deterministic commands are rewritten to absolute, deterministic ones (EXPIRE becomes
//! PEXPIREAT, SET EX becomes SET PXAT, INCRBYFLOAT becomes SET KEEPTTL, SPOP becomes SREM, a blocking pop
//! becomes its non-blocking sibling, a key removed by expiry becomes DEL), commands that changed nothing
//! are dropped, the operations of one execution unit (a command, or a whole EXEC) are wrapped in
//! MULTI/EXEC when there are several, and SELECT is inserted when the database differs from the last one
//! propagated. It never performs I/O: the shell drains [`Propagation::take_stream`] after each batch.
//! When nothing consumes the stream it stays disabled and every entry point returns at once.

use bytes::Bytes;

use crate::keyspace::Db;
use crate::types::value::Value;

/// One operation to propagate: the database it applies to and its arguments.
pub type Op = (usize, Vec<Bytes>);

/// The propagation state of one server.
#[derive(Debug, Default)]
pub struct Propagation {
    enabled: bool,
    /// Encoded commands not yet taken by the shell.
    stream: Vec<u8>,
    /// The database the consumer has selected, as far as the stream has told it.
    selected_db: Option<usize>,
    /// Operations of the execution unit running now.
    unit: Vec<Op>,
    /// Operations a handler chose for the command running now, replacing the generic rule.
    replacement: Option<Vec<Op>>,
    /// Where in `stream` a rewrite started (the new incremental file's first byte).
    rewrite_mark: Option<usize>,
}

/// Builds an argument vector from byte strings.
pub fn command(parts: &[&[u8]]) -> Vec<Bytes> {
    parts.iter().map(|p| Bytes::copy_from_slice(p)).collect()
}

/// Appends `argv` to `out` as a RESP array of bulk strings.
pub fn encode(out: &mut Vec<u8>, argv: &[Bytes]) {
    out.push(b'*');
    out.extend_from_slice(argv.len().to_string().as_bytes());
    out.extend_from_slice(b"\r\n");
    for a in argv {
        out.push(b'$');
        out.extend_from_slice(a.len().to_string().as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

impl Propagation {
    /// True while something consumes the stream.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// Starts or stops producing the stream. Stopping drops whatever was not taken.
    pub fn set_enabled(&mut self, on: bool) {
        self.enabled = on;
        if !on {
            self.stream = Vec::new();
            self.unit.clear();
            self.replacement = None;
            self.selected_db = None;
        }
    }

    /// Makes the next operation start with SELECT (a new file or consumer knows no database yet).
    pub fn forget_selected_db(&mut self) {
        self.selected_db = None;
    }

    /// Takes the bytes produced so far.
    pub fn take_stream(&mut self) -> Vec<u8> {
        self.rewrite_mark = None;
        std::mem::take(&mut self.stream)
    }

    /// Takes the bytes produced so far, split where a rewrite started (see [`Propagation::mark_rewrite`]):
    /// the bytes for the old incremental file, and those for the new one if a rewrite started.
    pub fn take_stream_split(&mut self) -> (Vec<u8>, Option<Vec<u8>>) {
        let mut stream = std::mem::take(&mut self.stream);
        match self.rewrite_mark.take() {
            Some(at) => {
                let after = stream.split_off(at.min(stream.len()));
                (stream, Some(after))
            }
            None => (stream, None),
        }
    }

    /// A rewrite starts now: the bytes produced from here on belong to a new incremental file, which
    /// starts with SELECT. Called between execution units (BGREWRITEAOF is scheduled inside EXEC).
    pub fn mark_rewrite(&mut self) {
        if self.enabled {
            self.end_unit();
            self.rewrite_mark = Some(self.stream.len());
            self.selected_db = None;
        }
    }

    /// True when bytes (or a rewrite's mark) wait to be taken.
    pub fn has_stream(&self) -> bool {
        !self.stream.is_empty() || self.rewrite_mark.is_some()
    }

    /// For a handler: propagate `argv` on `db` for the command running now instead of what the generic
    /// rule would derive from its arguments. Several calls add several operations.
    pub fn replace(&mut self, db: usize, argv: Vec<Bytes>) {
        if self.enabled {
            self.replacement.get_or_insert_with(Vec::new).push((db, argv));
        }
    }

    /// Takes the operations a handler chose, if any.
    pub(crate) fn take_replacement(&mut self) -> Option<Vec<Op>> {
        self.replacement.take()
    }

    /// Ends a unit made of the operations a handler chose (a blocked client served after another
    /// client's command).
    pub(crate) fn end_replacement_unit(&mut self) {
        if let Some(ops) = self.replacement.take() {
            self.unit.extend(ops);
        }
        self.end_unit();
    }

    /// Adds an operation to the execution unit running now.
    pub(crate) fn push(&mut self, op: Op) {
        if self.enabled {
            self.unit.push(op);
        }
    }

    /// Writes an operation at once, outside any unit (a key removed by expiry).
    pub(crate) fn emit_now(&mut self, db: usize, argv: &[Bytes]) {
        if self.enabled {
            self.select(db);
            encode(&mut self.stream, argv);
        }
    }

    /// Ends the execution unit: its operations go to the stream, inside MULTI/EXEC when there are
    /// several (one command is atomic by itself).
    pub(crate) fn end_unit(&mut self) {
        if self.unit.is_empty() {
            return;
        }
        let unit = std::mem::take(&mut self.unit);
        let wrap = unit.len() > 1;
        if wrap {
            self.select(unit[0].0);
            encode(&mut self.stream, &command(&[b"MULTI"]));
        }
        for (db, argv) in &unit {
            self.select(*db);
            encode(&mut self.stream, argv);
        }
        if wrap {
            encode(&mut self.stream, &command(&[b"EXEC"]));
        }
        // Keep the allocation for the next unit.
        self.unit = unit;
        self.unit.clear();
    }

    fn select(&mut self, db: usize) {
        if self.selected_db != Some(db) {
            encode(&mut self.stream, &command(&[b"SELECT", db.to_string().as_bytes()]));
            self.selected_db = Some(db);
        }
    }
}

/// The operations that reproduce command `name` (lower-case) with arguments `argv`, run on `db` at
/// `now_ms` and known to have changed something, judged from its arguments and the state after it ran.
pub fn rewrite(name: &str, argv: &[Bytes], dbs: &[Db], db: usize, now_ms: i64) -> Vec<Op> {
    let single = |argv: Vec<Bytes>| vec![(db, argv)];
    let stored = |key: &[u8]| dbs[db].peek(key, now_ms);
    match name {
        "set" => match set_expiry(argv, 3, now_ms) {
            Some(Expiry::At(at)) => single(set_pxat(&argv[1], &argv[2], at)),
            _ => single(argv.to_vec()),
        },
        "setex" | "psetex" => {
            let unit = if name == "setex" { 1000 } else { 1 };
            let at = relative_at(&argv[2], unit, now_ms);
            single(set_pxat(&argv[1], &argv[3], at))
        }
        "expire" | "pexpire" | "expireat" | "pexpireat" => {
            if stored(&argv[1]).is_none() {
                return single(command(&[b"DEL", &argv[1]]));
            }
            let at = match name {
                "expire" => relative_at(&argv[2], 1000, now_ms),
                "pexpire" => relative_at(&argv[2], 1, now_ms),
                "expireat" => crate::types::number::parse_i64(&argv[2]).map_or(0, |s| s.saturating_mul(1000)),
                _ => return single(argv.to_vec()),
            };
            let mut out = command(&[b"PEXPIREAT", &argv[1], at.to_string().as_bytes()]);
            out.extend(argv[3..].iter().cloned());
            single(out)
        }
        "getex" => {
            if stored(&argv[1]).is_none() {
                return single(command(&[b"DEL", &argv[1]]));
            }
            match set_expiry(argv, 2, now_ms) {
                Some(Expiry::At(at)) | Some(Expiry::AlreadyAbsolute(at)) => {
                    single(command(&[b"PEXPIREAT", &argv[1], at.to_string().as_bytes()]))
                }
                Some(Expiry::Persist) => single(command(&[b"PERSIST", &argv[1]])),
                None => single(argv.to_vec()),
            }
        }
        "incrbyfloat" => match stored(&argv[1]).map(|e| &e.value) {
            Some(Value::String(s)) => s.with_bytes(|v| single(command(&[b"SET", &argv[1], v, b"KEEPTTL"]))),
            _ => single(argv.to_vec()),
        },
        "restore" => {
            if stored(&argv[1]).is_none() {
                return single(command(&[b"DEL", &argv[1]]));
            }
            let ttl = crate::types::number::parse_i64(&argv[2]).unwrap_or(0);
            let absolute = argv[4..].iter().any(|a| a.eq_ignore_ascii_case(b"absttl"));
            if ttl <= 0 || absolute {
                return single(argv.to_vec());
            }
            let mut out = argv.to_vec();
            out[2] = Bytes::from(ttl.saturating_add(now_ms).to_string());
            out.push(Bytes::from_static(b"ABSTTL"));
            single(out)
        }
        "hincrbyfloat" => match stored(&argv[1]).map(|e| &e.value) {
            Some(Value::Hash(h)) => match h.get(&argv[2]) {
                Some(v) => single(command(&[b"HSET", &argv[1], &argv[2], v])),
                None => single(argv.to_vec()),
            },
            _ => single(argv.to_vec()),
        },
        _ => single(argv.to_vec()),
    }
}

/// An expiry option found among SET/GETEX arguments.
enum Expiry {
    /// EX, PX or EXAT: the absolute Unix ms it stands for.
    At(i64),
    /// PXAT, already absolute.
    AlreadyAbsolute(i64),
    /// PERSIST (GETEX).
    Persist,
}

/// Finds the expiry option among `argv[from..]` (already validated by the handler).
fn set_expiry(argv: &[Bytes], from: usize, now_ms: i64) -> Option<Expiry> {
    let mut i = from;
    while i < argv.len() {
        let a = &argv[i];
        let next = argv.get(i + 1);
        if a.eq_ignore_ascii_case(b"ex") {
            return next.map(|n| Expiry::At(relative_at(n, 1000, now_ms)));
        } else if a.eq_ignore_ascii_case(b"px") {
            return next.map(|n| Expiry::At(relative_at(n, 1, now_ms)));
        } else if a.eq_ignore_ascii_case(b"exat") {
            let s = next.and_then(|n| crate::types::number::parse_i64(n)).unwrap_or(0);
            return Some(Expiry::At(s.saturating_mul(1000)));
        } else if a.eq_ignore_ascii_case(b"pxat") {
            let ms = next.and_then(|n| crate::types::number::parse_i64(n)).unwrap_or(0);
            return Some(Expiry::AlreadyAbsolute(ms));
        } else if a.eq_ignore_ascii_case(b"persist") {
            return Some(Expiry::Persist);
        }
        i += 1;
    }
    None
}

/// `now_ms` plus the argument in units of `unit_ms`.
fn relative_at(arg: &[u8], unit_ms: i64, now_ms: i64) -> i64 {
    crate::types::number::parse_i64(arg)
        .unwrap_or(0)
        .saturating_mul(unit_ms)
        .saturating_add(now_ms)
}

/// `SET key value PXAT at`.
fn set_pxat(key: &[u8], value: &[u8], at: i64) -> Vec<Bytes> {
    command(&[b"SET", key, value, b"PXAT", at.to_string().as_bytes()])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(stream: &[u8]) -> String {
        // One line per command: arguments joined by spaces.
        let s = String::from_utf8_lossy(stream).to_string();
        let mut lines = Vec::new();
        let mut current: Vec<String> = Vec::new();
        let mut parts = s.split("\r\n").peekable();
        while let Some(p) = parts.next() {
            if let Some(n) = p.strip_prefix('*') {
                if !current.is_empty() {
                    lines.push(current.join(" "));
                }
                current = Vec::with_capacity(n.parse().unwrap_or(0));
            } else if p.starts_with('$') {
                if let Some(arg) = parts.next() {
                    current.push(arg.to_string());
                }
            }
        }
        if !current.is_empty() {
            lines.push(current.join(" "));
        }
        lines.join("\n")
    }

    use crate::client::ClientHandle;
    use crate::config::Config;
    use crate::server::{Flow, ProcessInfo, Server};

    /// Now, in ms, for every command of these tests.
    const NOW: i64 = 1_700_000_000_000;

    fn propagating() -> (Server, ClientHandle) {
        let mut s = Server::new(Config::default(), 3, NOW, ProcessInfo::default());
        s.set_propagation(true);
        let c = crate::test_support::connect_loopback(&mut s);
        (s, c)
    }

    fn run_at(s: &mut Server, c: ClientHandle, line: &str, now_ms: i64) -> String {
        let argv: Vec<Bytes> = line.split(' ').map(|a| Bytes::copy_from_slice(a.as_bytes())).collect();
        let mut out = Vec::new();
        s.execute(c, &argv, now_ms * 1000, &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Runs `line`, returning its reply and what it propagated.
    fn run(s: &mut Server, c: ClientHandle, line: &str) -> (String, String) {
        let reply = run_at(s, c, line, NOW);
        (reply, text(&s.propagation.take_stream()))
    }

    #[test]
    fn relative_and_derived_writes_become_absolute() {
        let (mut s, c) = propagating();
        let at = |ms: i64| (NOW + ms).to_string();
        let cases: Vec<(&str, &str, String)> = vec![
            ("set a 1", "+OK\r\n", "SELECT 0\nset a 1".into()),
            ("set b 2 ex 100", "+OK\r\n", format!("SET b 2 PXAT {}", at(100_000))),
            (
                "set c 3 px 100000 get",
                "$-1\r\n",
                format!("SET c 3 PXAT {}", at(100_000)),
            ),
            (
                "set d 4 exat 99999999999 nx",
                "+OK\r\n",
                "SET d 4 PXAT 99999999999000".into(),
            ),
            (
                "set d 5 pxat 99999999999000 xx",
                "+OK\r\n",
                "set d 5 pxat 99999999999000 xx".into(),
            ),
            ("setex e 100 v", "+OK\r\n", format!("SET e v PXAT {}", at(100_000))),
            ("psetex f 100000 v", "+OK\r\n", format!("SET f v PXAT {}", at(100_000))),
            ("expire a 100", ":1\r\n", format!("PEXPIREAT a {}", at(100_000))),
            ("expire a 100 nx", ":0\r\n", String::new()),
            ("pexpire b 5000 gt", ":0\r\n", String::new()),
            (
                "pexpire b 500000 gt",
                ":1\r\n",
                format!("PEXPIREAT b {} gt", at(500_000)),
            ),
            ("expireat a 99999999999", ":1\r\n", "PEXPIREAT a 99999999999000".into()),
            ("expire a -1", ":1\r\n", "DEL a".into()),
            ("expire nokey 10", ":0\r\n", String::new()),
            ("incrbyfloat n 1.5", "$3\r\n1.5\r\n", "SET n 1.5 KEEPTTL".into()),
            ("hincrbyfloat h f 2.5", "$3\r\n2.5\r\n", "HSET h f 2.5".into()),
            ("getex b ex 50", "$1\r\n2\r\n", format!("PEXPIREAT b {}", at(50_000))),
            ("getex b persist", "$1\r\n2\r\n", "PERSIST b".into()),
            ("getex b persist", "$1\r\n2\r\n", String::new()),
            ("getex b exat 1", "$1\r\n2\r\n", "DEL b".into()),
            ("getex nokey ex 5", "$-1\r\n", String::new()),
            ("get f", "$1\r\nv\r\n", String::new()),
        ];
        for (line, reply, stream) in cases {
            assert_eq!(run(&mut s, c, line), (reply.to_string(), stream), "{line}");
        }
    }

    #[test]
    fn pops_become_deterministic() {
        let (mut s, c) = propagating();
        run(&mut s, c, "sadd s a");
        assert_eq!(run(&mut s, c, "spop s"), ("$1\r\na\r\n".into(), "SREM s a".into()));
        run(&mut s, c, "sadd s a b c d e f g h i j");
        let (_, stream) = run(&mut s, c, "spop s 2");
        let lines: Vec<&str> = stream.lines().collect();
        assert_eq!(lines.len(), 4, "{stream}");
        assert_eq!((lines[0], lines[3]), ("MULTI", "EXEC"));
        assert!(lines[1].starts_with("SREM s ") && lines[2].starts_with("SREM s "));
        // Few survivors take the other path; still one SREM per popped member.
        let (_, stream) = run(&mut s, c, "spop s 7");
        assert_eq!(stream.lines().filter(|l| l.starts_with("SREM s ")).count(), 7);
        assert_eq!(run(&mut s, c, "spop s 0"), ("*0\r\n".into(), String::new()));
        let (_, stream) = run(&mut s, c, "spop s 10");
        assert_eq!(stream, "DEL s");

        run(&mut s, c, "rpush l a b c");
        assert_eq!(run(&mut s, c, "blpop l 0").1, "LPOP l");
        assert_eq!(run(&mut s, c, "brpop l 0").1, "RPOP l");
        assert_eq!(run(&mut s, c, "lmpop 1 l left count 5").1, "LPOP l 1");
        run(&mut s, c, "rpush l x y");
        assert_eq!(run(&mut s, c, "blmpop 0 1 l right count 1").1, "RPOP l 1");
        assert_eq!(run(&mut s, c, "blmove l l2 left right 0").1, "LMOVE l l2 left right");
        run(&mut s, c, "rpush l z");
        assert_eq!(run(&mut s, c, "brpoplpush l l2 0").1, "RPOPLPUSH l l2");
        run(&mut s, c, "zadd z 1 a 2 b 3 c");
        assert_eq!(run(&mut s, c, "bzpopmin z 0").1, "ZPOPMIN z");
        assert_eq!(run(&mut s, c, "bzmpop 0 1 z max count 1").1, "ZPOPMAX z 1");
        assert_eq!(run(&mut s, c, "zmpop 1 z min").1, "ZPOPMIN z 1");
    }

    #[test]
    fn a_client_served_later_propagates_after_the_push() {
        let (mut s, c) = propagating();
        let waiter = crate::test_support::connect_loopback(&mut s);
        let mut out = Vec::new();
        let argv: Vec<Bytes> = ["blmpop", "0", "1", "w", "left", "count", "5"]
            .iter()
            .map(|a| Bytes::copy_from_slice(a.as_bytes()))
            .collect();
        assert_eq!(s.execute(waiter, &argv, NOW * 1000, &mut out), Flow::Blocked);
        assert_eq!(run(&mut s, c, "rpush w 1 2 3").1, "SELECT 0\nrpush w 1 2 3\nLPOP w 3");
    }

    #[test]
    fn transactions_and_expiry() {
        let (mut s, c) = propagating();
        run(&mut s, c, "multi");
        run(&mut s, c, "set m 1");
        run(&mut s, c, "incr m");
        run(&mut s, c, "get m");
        assert_eq!(run(&mut s, c, "exec").1, "SELECT 0\nMULTI\nset m 1\nincr m\nEXEC");
        run(&mut s, c, "multi");
        run(&mut s, c, "incr m");
        run(&mut s, c, "get m");
        assert_eq!(run(&mut s, c, "exec").1, "incr m", "one write needs no wrapping");
        run(&mut s, c, "multi");
        run(&mut s, c, "get m");
        assert_eq!(run(&mut s, c, "exec").1, "");
        run(&mut s, c, "multi");
        run(&mut s, c, "set q 1");
        run(&mut s, c, "select 2");
        run(&mut s, c, "set q 2");
        assert_eq!(run(&mut s, c, "exec").1, "MULTI\nset q 1\nSELECT 2\nset q 2\nEXEC");
        run(&mut s, c, "select 0");

        // A key expired on access is deleted first, outside the command's own unit.
        run(&mut s, c, "set t 1 px 10");
        assert_eq!(run_at(&mut s, c, "set t 5", NOW + 100), "+OK\r\n");
        assert_eq!(text(&s.propagation.take_stream()), "DEL t\nset t 5");
        // Active expiry too.
        run_at(&mut s, c, "set u 1 px 10", NOW + 100);
        s.propagation.take_stream();
        s.cron((NOW + 1000) * 1000);
        assert_eq!(text(&s.propagation.take_stream()), "DEL u");
        // Flushes propagate even when there is nothing to flush.
        assert_eq!(run(&mut s, c, "flushall").1, "flushall");
        assert_eq!(run(&mut s, c, "flushall").1, "flushall");
    }

    #[test]
    fn a_failed_aof_write_refuses_writes_with_misconf() {
        let (mut s, c) = propagating();
        s.aof.enabled = true;
        s.aof.last_write_error = Some("Input/output error".into());
        let misconf = "-MISCONF Errors writing to the AOF file: Input/output error\r\n";
        assert_eq!(run(&mut s, c, "set a 1").0, misconf);
        assert_eq!(run(&mut s, c, "ping").0, misconf);
        assert_eq!(run(&mut s, c, "get a").0, "$-1\r\n");
        run(&mut s, c, "multi");
        assert_eq!(run(&mut s, c, "get a").0, "+QUEUED\r\n");
        assert_eq!(run(&mut s, c, "exec").0, "*1\r\n$-1\r\n", "a read-only EXEC runs");
        run(&mut s, c, "multi");
        assert_eq!(run(&mut s, c, "set a 1").0, misconf);
        assert_eq!(
            run(&mut s, c, "exec").0,
            "-EXECABORT Transaction discarded because of previous errors.\r\n"
        );
        s.aof.last_write_error = None;
        assert_eq!(
            run(&mut s, c, "set a 1"),
            ("+OK\r\n".into(), "SELECT 0\nset a 1".into())
        );
    }

    #[test]
    fn restore_becomes_absolute_and_a_rewrite_splits_the_stream() {
        let (mut s, c) = propagating();
        run(&mut s, c, "set a 1");
        let exec = |s: &mut Server, argv: Vec<Bytes>| {
            let mut out = Vec::new();
            s.execute(c, &argv, NOW * 1000, &mut out);
            out
        };
        let dumped = exec(&mut s, command(&[b"DUMP", b"a"]));
        // `$<len>\r\n<payload>\r\n`
        let start = dumped.iter().position(|&b| b == b'\n').map_or(0, |p| p + 1);
        let payload = dumped[start..dumped.len() - 2].to_vec();
        s.propagation.take_stream();
        assert_eq!(
            exec(&mut s, command(&[b"RESTORE", b"b", b"5000", &payload])),
            b"+OK\r\n"
        );
        let mut expected = Vec::new();
        encode(
            &mut expected,
            &command(&[
                b"RESTORE",
                b"b",
                (NOW + 5000).to_string().as_bytes(),
                &payload,
                b"ABSTTL",
            ]),
        );
        assert_eq!(s.propagation.take_stream(), expected);

        run_at(&mut s, c, "set x 1", NOW);
        assert_eq!(
            run_at(&mut s, c, "bgrewriteaof", NOW),
            "+Background append only file rewriting started\r\n"
        );
        assert_eq!(s.persistence.kind, Some(crate::persist::save::SaveKind::AofRewrite));
        run_at(&mut s, c, "set y 2", NOW);
        let (before, after) = s.propagation.take_stream_split();
        assert_eq!(text(&before), "set x 1");
        assert_eq!(
            text(&after.unwrap_or_default()),
            "SELECT 0\nset y 2",
            "the new file starts with SELECT"
        );
        assert_eq!(
            run(&mut s, c, "bgrewriteaof").0,
            "-ERR Background append only file rewriting already in progress\r\n"
        );
    }

    #[test]
    fn the_file_rewrites_itself_when_it_doubled() {
        let (mut s, _) = propagating();
        s.aof.enabled = true;
        s.aof.base_size = 50 << 20;
        s.aof.current_size = 99 << 20;
        s.cron(NOW * 1000);
        assert!(!s.aof.rewrite_in_progress, "grown by less than 100%");
        s.aof.current_size = 100 << 20;
        s.cron(NOW * 1000);
        assert!(s.aof.rewrite_in_progress, "grown by 100% and over 64 MB");
    }

    #[test]
    fn units_wrap_several_operations_and_select_changes() {
        let mut p = Propagation::default();
        p.push((0, command(&[b"SET", b"a", b"1"])));
        p.end_unit();
        assert!(!p.has_stream(), "disabled: nothing is produced");
        p.set_enabled(true);
        p.push((0, command(&[b"SET", b"a", b"1"])));
        p.end_unit();
        p.push((0, command(&[b"SET", b"b", b"1"])));
        p.push((2, command(&[b"SET", b"b", b"2"])));
        p.end_unit();
        p.emit_now(2, &command(&[b"DEL", b"x"]));
        assert_eq!(
            text(&p.take_stream()),
            "SELECT 0\nSET a 1\nMULTI\nSET b 1\nSELECT 2\nSET b 2\nEXEC\nDEL x"
        );
        p.forget_selected_db();
        p.emit_now(2, &command(&[b"DEL", b"y"]));
        assert_eq!(
            p.take_stream(),
            b"*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n*2\r\n$3\r\nDEL\r\n$1\r\ny\r\n"
        );
    }
}
