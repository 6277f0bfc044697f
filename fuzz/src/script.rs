//! The `commands` fuzz target's input: a script of commands run against one [`Server`] by two clients, with
//! a clock that only moves forward and occasional `cron` calls; and the harness that runs it and checks
//! every reply.
//!
//! The input is decoded with `arbitrary` (derived impls), so libFuzzer's byte mutations become structural
//! mutations of the script: another command, another key, one more argument. Commands are drawn from the
//! registry of implemented commands (in the order of `spec_data::COMMANDS`, subcommands as registered),
//! arguments from small vocabularies of keys, option words, edge-case numbers and glob patterns, plus small
//! integers and short arbitrary byte strings. Numbers are kept small or picked from a list of edge cases
//! that does not include values which make a single command allocate hundreds of megabytes (such as a
//! `SETRANGE` offset of 536870911): those would be out-of-memory reports, not bugs.
//!
//! The [`Harness`] applies effects and handles blocked clients the way the network shell does (see
//! `net/src/conn.rs`), so the replies it checks are the replies a client would read.
//!
//! [`Encode`] writes the exact bytes that decode to a given script, so the seed corpus generator
//! (`examples/gen_corpus.rs`) can write meaningful inputs; it checks every seed decodes back to its script.

use std::sync::OnceLock;

use arbitrary::{Arbitrary, Unstructured};
use bytes::Bytes;
use keel_core::client::ReplyMode;
use keel_core::commands::{spec_data, Registry};
use keel_core::{ClientHandle, ClientId, ConnInfo, ConnKind, Effect, Flow, Protocol, Server};

use crate::resp_check;

/// Scripts longer than this are cut: longer runs cost time without reaching new states.
pub const MAX_STEPS: usize = 256;

/// Longest [`SmallBytes`] argument.
pub const MAX_BYTES: usize = 64;

/// Longest clock jump a `DEBUG SLEEP` effect causes (one day), so a huge sleep cannot overflow the clock.
const MAX_SLEEP_US: u64 = 86_400_000_000;

/// Key names. Few, so that commands collide on the same keys; the last ones exercise empty and binary
/// keys (echoed by some error replies).
pub const KEYS: &[&[u8]] = &[b"k0", b"k1", b"k2", b"k3", b"num", b"", b"a b\r\n\x00\xff"];

/// Option words, subcommand names, parameter names, section names and addresses the implemented commands
/// understand.
#[rustfmt::skip]
pub const WORDS: &[&str] = &[
    // SET / GETEX / EXPIRE / LCS / COPY / SCAN options.
    "EX", "PX", "EXAT", "PXAT", "NX", "XX", "GT", "LT", "KEEPTTL", "GET", "PERSIST", "COUNT", "MATCH", "TYPE",
    "string", "list", "hash", "set", "zset", "none", "LEN", "IDX", "MINMATCHLEN", "WITHMATCHLEN", "REPLACE",
    "DB", "ASYNC", "SYNC",
    // List, hash, set and sorted-set options and range bounds.
    "LEFT", "RIGHT", "BEFORE", "AFTER", "RANK", "MAXLEN", "WITHVALUES", "WITHSCORES", "BYSCORE", "BYLEX",
    "REV", "LIMIT", "INCR", "CH", "AGGREGATE", "SUM", "MIN", "MAX", "WEIGHTS", "-", "+", "[a", "(a", "[k",
    "(1.5",
    // CLIENT / HELLO / SHUTDOWN options.
    "ON", "OFF", "SKIP", "ID", "ADDR", "LADDR", "USER", "SKIPME", "MAXAGE", "yes", "no", "WRITE", "ALL", "AUTH",
    "SETNAME", "default", "NORMAL", "MASTER", "REPLICA", "PUBSUB", "SAVE", "NOSAVE", "NOW", "FORCE", "ABORT",
    "127.0.0.1:40001", "10.1.2.3:50002", "127.0.0.1:6379", "TIMEOUT", "ERROR",
    // COMMAND LIST / GETKEYS arguments.
    "FILTERBY", "MODULE", "ACLCAT", "PATTERN", "get", "client", "keyspace", "client|list",
    // DEBUG subcommands and DEBUG PROTOCOL types.
    "SLEEP", "SET-ACTIVE-EXPIRE", "OBJECT", "DIGEST", "DIGEST-VALUE", "PROTOCOL", "HELP", "integer", "double",
    "bignum", "null", "array", "map", "attrib", "push", "verbatim", "true", "false",
    // CONFIG parameters and values.
    "maxmemory-policy", "allkeys-lfu", "volatile-lru", "lfu-log-factor", "lfu-decay-time",
    "active-expire-effort", "hz", "maxmemory", "proto-max-bulk-len", "databases", "enable-debug-command",
    "*max*", "1mb", "local",
    // INFO sections.
    "server", "clients", "memory", "stats", "everything", "commandstats", "errorstats", "persistence",
    "replication", "cpu",
];

/// Numbers as text: boundaries, overflows and near-misses of the integer and float grammars.
#[rustfmt::skip]
pub const NUMBERS: &[&str] = &[
    "0", "1", "-1", "2", "3", "15", "16", "100", "1000000",
    "9223372036854775807", "-9223372036854775808", "9223372036854775806", "-9223372036854775807",
    "9223372036854775808", "-9223372036854775809", "18446744073709551615", "2147483647", "-2147483648",
    "4294967295", "4294967296",
    // Just over the 512 MB string limit: SETRANGE/APPEND must refuse these without allocating.
    "536870912", "17179869184",
    // Seconds that overflow when converted to milliseconds.
    "9223372036854775", "9223372036854776", "-9223372036854776", "9007199254740993",
    "1.5", "-1.5", "0.1", "1e3", "1e308", "-1e308", "1.7976931348623157e308", "5e-324", "3.0", "inf", "-inf",
    "+inf", "nan", "1e", "0x10", " 1", "1 ", "+1", "01", "-0", "00", "",
];

/// Glob patterns for KEYS, SCAN MATCH, CONFIG GET and COMMAND LIST FILTERBY PATTERN.
#[rustfmt::skip]
pub const PATTERNS: &[&[u8]] = &[
    b"*", b"k*", b"k?", b"*1", b"k[0-9]", b"k[^0]", b"k[2-0]", b"[a-z]*", b"\\k*", b"[", b"[a-", b"*[]*", b"?",
    b"", b"*k*k*k*k*k*k*", b"h?llo", b"[\\]]*", b"*\\",
];

/// A whole fuzz input.
#[derive(Arbitrary, Clone, Debug, PartialEq, Eq)]
pub struct Script {
    pub setup: Setup,
    pub steps: Vec<Step>,
}

/// How the server starts.
#[derive(Arbitrary, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Setup {
    /// `enable-debug-command` (client 0 is local, client 1 remote).
    pub debug_command: DebugCommand,
    /// Seed of the server's random generator (RANDOMKEY, active expiry sampling, LFU).
    pub seed: u8,
    /// Where the clock starts.
    pub start: Start,
}

/// Start times: an ordinary date, and the edges of the ranges that time stamps are stored in.
#[derive(Arbitrary, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// 2023-11-14T22:13:20Z.
    Recent,
    /// The Unix epoch.
    Epoch,
    /// A minute before Unix seconds overflow `i32` (2038-01-19).
    Y2038,
    /// A minute before Unix seconds overflow `u32` (2106-02-07).
    Y2106,
}

impl Start {
    /// The start time in Unix microseconds.
    pub fn micros(self) -> i64 {
        let seconds: i64 = match self {
            Start::Recent => 1_700_000_000,
            Start::Epoch => 0,
            Start::Y2038 => (1 << 31) - 60,
            Start::Y2106 => (1 << 32) - 60,
        };
        seconds * 1_000_000
    }
}

/// Values of `enable-debug-command`.
#[derive(Arbitrary, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DebugCommand {
    Yes,
    Local,
    No,
}

/// One step of a script.
#[derive(Arbitrary, Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Runs a command on client 0 (`second == false`) or client 1.
    Run { second: bool, name: Name, args: Vec<Arg> },
    /// Moves the clock forward.
    Advance(Delta),
    /// Runs the periodic task (active expiry).
    Cron,
    /// Closes a client's connection and connects a fresh one in its place.
    Reconnect { second: bool },
}

/// A command name.
#[derive(Arbitrary, Clone, Debug, PartialEq, Eq)]
pub enum Name {
    /// Entry `i % len` of [`vocabulary`]: a command and, for containers, its subcommand.
    Known(u16),
    /// Any bytes: unknown commands, odd case, over-long names.
    Raw(SmallBytes),
}

/// One argument.
#[derive(Arbitrary, Clone, Debug, PartialEq, Eq)]
pub enum Arg {
    /// [`KEYS`]`[i % len]`.
    Key(u8),
    /// [`WORDS`]`[i % len]`.
    Word(u8),
    /// A small integer in decimal, within ±1000.
    Int(i16),
    /// [`NUMBERS`]`[i % len]`.
    Number(u8),
    /// [`PATTERNS`]`[i % len]`.
    Pattern(u8),
    /// Arbitrary bytes.
    Bytes(SmallBytes),
}

/// How far the clock moves.
#[derive(Arbitrary, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delta {
    Micros(u16),
    Millis(u16),
    Seconds(u16),
}

impl Delta {
    /// The jump in microseconds.
    pub fn micros(self) -> i64 {
        match self {
            Delta::Micros(n) => i64::from(n),
            Delta::Millis(n) => i64::from(n) * 1_000,
            Delta::Seconds(n) => i64::from(n) * 1_000_000,
        }
    }
}

/// A byte string of at most [`MAX_BYTES`] bytes, encoded as a length byte and the bytes (a simpler and
/// more mutation-friendly layout than `Vec<u8>`'s, which takes its length from the end of the input).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SmallBytes(pub Vec<u8>);

impl<'a> Arbitrary<'a> for SmallBytes {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let len = usize::from(u8::arbitrary(u)?) % (MAX_BYTES + 1);
        let len = len.min(u.len());
        Ok(SmallBytes(u.bytes(len)?.to_vec()))
    }
}

/// The implemented commands a [`Name::Known`] picks from: `(name, subcommand)` pairs, upper case, in the
/// order of `spec_data::COMMANDS` and then of registration, so the order is the same in every process.
pub fn vocabulary() -> &'static [(&'static str, Option<&'static str>)] {
    static VOCABULARY: OnceLock<Vec<(&'static str, Option<&'static str>)>> = OnceLock::new();
    VOCABULARY.get_or_init(|| {
        let registry = Registry::new();
        let mut vocabulary = Vec::new();
        for spec in spec_data::COMMANDS {
            let Some(entry) = registry.get(spec.name.as_bytes()) else {
                continue;
            };
            let name: &'static str = upper(spec.name);
            if entry.handler.is_some() {
                vocabulary.push((name, None));
            }
            for (sub, _) in &entry.subcommands {
                let short = sub.name.rsplit('|').next().unwrap_or(sub.name);
                vocabulary.push((name, Some(upper(short))));
            }
        }
        assert!(
            !vocabulary.is_empty() && vocabulary.len() <= usize::from(u16::MAX) + 1,
            "Name::Known(u16) must reach every command"
        );
        vocabulary
    })
}

fn upper(name: &str) -> &'static str {
    Box::leak(name.to_ascii_uppercase().into_boxed_str())
}

fn pick<T: Copy>(list: &[T], i: u8) -> T {
    list[usize::from(i) % list.len()]
}

impl Name {
    /// The argument(s) naming the command: the name, and the subcommand for containers.
    fn push_argv(&self, argv: &mut Vec<Bytes>) {
        match self {
            Name::Known(i) => {
                let vocabulary = vocabulary();
                let (name, sub) = vocabulary[usize::from(*i) % vocabulary.len()];
                argv.push(Bytes::from_static(name.as_bytes()));
                if let Some(sub) = sub {
                    argv.push(Bytes::from_static(sub.as_bytes()));
                }
            }
            Name::Raw(bytes) => argv.push(Bytes::from(bytes.0.clone())),
        }
    }
}

impl Arg {
    /// The argument's bytes.
    pub fn to_bytes(&self) -> Bytes {
        match self {
            Arg::Key(i) => Bytes::from_static(pick(KEYS, *i)),
            Arg::Word(i) => Bytes::from_static(pick(WORDS, *i).as_bytes()),
            Arg::Int(n) => Bytes::from((i64::from(*n) % 1001).to_string()),
            Arg::Number(i) => Bytes::from_static(pick(NUMBERS, *i).as_bytes()),
            Arg::Pattern(i) => Bytes::from_static(pick(PATTERNS, *i)),
            Arg::Bytes(b) => Bytes::from(b.0.clone()),
        }
    }
}

/// The argument vector of a `Run` step.
pub fn argv(name: &Name, args: &[Arg]) -> Vec<Bytes> {
    let mut argv = Vec::with_capacity(args.len() + 2);
    name.push_argv(&mut argv);
    argv.extend(args.iter().map(Arg::to_bytes));
    argv
}

/// True for `CLIENT REPLY ...`.
fn is_client_reply(argv: &[Bytes]) -> bool {
    argv.len() >= 2 && argv[0].eq_ignore_ascii_case(b"client") && argv[1].eq_ignore_ascii_case(b"reply")
}

/// The connection facts of client slot `slot`: slot 0 is local (DEBUG allowed under `local`), slot 1 is
/// remote.
fn conn_info(slot: usize) -> ConnInfo {
    let (addr, fd) = if slot == 0 {
        ("127.0.0.1:40001", 8)
    } else {
        ("10.1.2.3:50002", 9)
    };
    ConnInfo {
        addr: addr.to_string(),
        laddr: "127.0.0.1:6379".to_string(),
        fd,
        kind: ConnKind::Tcp,
    }
}

/// A server, its two clients and the clock, driven the way the network shell drives them.
pub struct Harness {
    pub server: Server,
    pub clients: [ClientHandle; 2],
    /// Which clients wait in a blocking command (`BLPOP` with no data).
    pub blocked: [bool; 2],
    pub now_us: i64,
    /// False once `SHUTDOWN` ran.
    pub running: bool,
    /// When set, every command and its reply are printed (for `examples/show_script.rs`).
    pub trace: bool,
    out: Vec<u8>,
}

/// What a reply is checked against.
struct Expect {
    /// The command (for messages).
    what: String,
    /// A blocked client gets no reply (yet).
    blocked: bool,
    /// `CLIENT REPLY OFF/SKIP` around the command, or `SHUTDOWN`: no reply is fine.
    may_be_silent: bool,
}

impl Harness {
    /// A fresh server configured by `setup`, with two connected clients.
    pub fn new(setup: Setup) -> Harness {
        let mut config = keel_core::Config::default();
        let debug = match setup.debug_command {
            DebugCommand::Yes => "yes",
            DebugCommand::Local => "local",
            DebugCommand::No => "no",
        };
        config
            .set_startup("enable-debug-command", debug)
            .expect("valid startup setting");
        let now_us = setup.start.micros();
        let mut server = Server::new(config, u64::from(setup.seed), now_us / 1000, Default::default());
        let clients = [
            server.connect(conn_info(0), now_us / 1000),
            server.connect(conn_info(1), now_us / 1000),
        ];
        Harness {
            server,
            clients,
            blocked: [false; 2],
            now_us,
            running: true,
            trace: false,
            out: Vec::new(),
        }
    }

    /// Runs a whole script, checking after every step. Panics (the fuzzer's crash) on a malformed reply
    /// or a broken invariant. Stops early after `SHUTDOWN`.
    pub fn run_script(script: &Script) {
        let mut harness = Harness::new(script.setup);
        for step in script.steps.iter().take(MAX_STEPS) {
            if !harness.step(step) {
                break;
            }
        }
    }

    /// Runs one step and checks the server's invariants; false once the server has been shut down.
    pub fn step(&mut self, step: &Step) -> bool {
        match step {
            Step::Run { second, name, args } => self.run(usize::from(*second), &argv(name, args)),
            Step::Advance(delta) => self.now_us += delta.micros(),
            Step::Cron => {
                self.server.cron(self.now_us);
                let effects = self.server.take_effects();
                self.apply(effects);
            }
            Step::Reconnect { second } => self.reconnect(usize::from(*second)),
        }
        // Blocked clients whose deadline passed are timed out, as the shell's timer does.
        self.wake_timed_out();
        self.server.check_invariants();
        self.running
    }

    /// Runs `argv` for client `slot`, checks its reply, and applies the effects the way the network shell
    /// does. A blocked client runs nothing: the shell would leave the command unread, so it is dropped.
    pub fn run(&mut self, slot: usize, argv: &[Bytes]) {
        if self.blocked[slot] {
            self.record(slot, format!("(blocked, not sent) {}", show_argv(argv)));
            return;
        }
        let handle = self.clients[slot];
        if self.in_multi(handle) && is_client_reply(argv) {
            // Queued in MULTI, CLIENT REPLY OFF/SKIP drops its own slot of the EXEC reply array, so the
            // array holds fewer elements than announced: redis-server 7.0.15 sends exactly these
            // malformed bytes too, and keel matches it. Not sent, so the check stays strict elsewhere.
            self.record(slot, format!("(CLIENT REPLY in MULTI, not sent) {}", show_argv(argv)));
            return;
        }
        let mode_before = self.reply_mode(handle);
        self.out.clear();
        let flow = self.server.execute(handle, argv, self.now_us, &mut self.out);
        let effects = self.server.take_effects();
        let shutdown = effects.iter().any(|e| matches!(e, Effect::Shutdown { .. }));
        let expect = Expect {
            what: show_argv(argv),
            blocked: flow == Flow::Blocked,
            may_be_silent: shutdown || mode_before != ReplyMode::On,
        };
        self.after(slot, handle, flow, expect);
        self.apply(effects);
    }

    /// Collects the reply of blocked client `slot` (served, unblocked or timed out), if any.
    fn resume(&mut self, slot: usize) {
        let handle = self.clients[slot];
        let mode_before = self.reply_mode(handle);
        self.out.clear();
        let flow = self.server.resume(handle, self.now_us, &mut self.out);
        let expect = Expect {
            what: "(resumed after blocking)".to_string(),
            blocked: flow == Flow::Blocked,
            may_be_silent: mode_before != ReplyMode::On,
        };
        self.after(slot, handle, flow, expect);
    }

    /// Checks the reply in `out` and follows `flow` for the client in `slot`.
    fn after(&mut self, slot: usize, handle: ClientHandle, flow: Flow, mut expect: Expect) {
        let state = self
            .server
            .clients
            .get(handle.id)
            .expect("the client is still registered");
        let proto = state.proto;
        expect.may_be_silent |= state.reply_mode != ReplyMode::On;
        self.record(slot, format!("{}\n    {}", expect.what, show_bytes(&self.out)));
        self.check_reply(proto, &expect);
        self.blocked[slot] = flow == Flow::Blocked;
        // The connection closes after its reply (QUIT, killed by its own CLIENT KILL, SHUTDOWN).
        if flow == Flow::Close && self.clients[slot].id == handle.id {
            self.reconnect(slot);
        }
    }

    /// Carries out effects as the network shell does, including effects of the resumes they cause.
    fn apply(&mut self, mut effects: Vec<Effect>) {
        while !effects.is_empty() {
            for effect in effects {
                match effect {
                    Effect::KillClient(id) => {
                        if let Some(victim) = self.slot_of(id) {
                            self.reconnect(victim);
                        }
                    }
                    Effect::Sleep { micros } => self.now_us += micros.min(MAX_SLEEP_US) as i64,
                    Effect::Shutdown { .. } => self.running = false,
                    Effect::Unblocked(id) => {
                        if let Some(slot) = self.slot_of(id).filter(|&s| self.blocked[s]) {
                            self.resume(slot);
                        }
                    }
                    // Only the shell's own state changes (settings it caches, the pause gate).
                    _ => {}
                }
            }
            effects = self.server.take_effects();
        }
    }

    /// Resumes blocked clients whose deadline has passed.
    fn wake_timed_out(&mut self) {
        let now_ms = self.now_us.div_euclid(1000);
        for slot in 0..self.clients.len() {
            let due = self
                .server
                .block_deadline_ms(self.clients[slot])
                .is_some_and(|deadline| now_ms >= deadline);
            if self.blocked[slot] && due {
                self.resume(slot);
                let effects = self.server.take_effects();
                self.apply(effects);
            }
        }
    }

    fn in_multi(&self, handle: ClientHandle) -> bool {
        self.server.clients.get(handle.id).is_some_and(|c| c.multi.is_some())
    }

    fn slot_of(&self, id: ClientId) -> Option<usize> {
        self.clients.iter().position(|c| c.id == id)
    }

    fn record(&self, slot: usize, line: String) {
        if self.trace {
            println!("client {slot}> {line}");
        }
    }

    fn reply_mode(&self, handle: ClientHandle) -> ReplyMode {
        self.server
            .clients
            .get(handle.id)
            .expect("the client is registered")
            .reply_mode
    }

    /// The reply must be exactly one well-formed frame for the client's protocol (after the command:
    /// `HELLO 3` already answers in RESP3), besides any RESP3 push messages. No frame is expected from a
    /// command that blocked the client, and none is allowed when `CLIENT REPLY OFF/SKIP` was in force
    /// around the command or after `SHUTDOWN`, which closes without a reply.
    fn check_reply(&self, proto: Protocol, expect: &Expect) {
        let frames = resp_check::count_replies(&self.out, proto).unwrap_or_else(|e| {
            panic!(
                "malformed reply to {}: {e}\nreply: {}",
                expect.what,
                show_bytes(&self.out)
            )
        });
        let ok = if expect.blocked {
            frames == 0
        } else {
            frames == 1 || (frames == 0 && expect.may_be_silent)
        };
        assert!(
            ok,
            "{frames} reply frames (not counting pushes) to {} (blocked: {})\nreply: {}",
            expect.what,
            expect.blocked,
            show_bytes(&self.out)
        );
    }

    /// Disconnects client `slot` and connects a fresh client in its place.
    pub fn reconnect(&mut self, slot: usize) {
        self.server.disconnect(self.clients[slot]);
        self.clients[slot] = self.server.connect(conn_info(slot), self.now_us / 1000);
        self.blocked[slot] = false;
    }
}

/// Bytes as an escaped string, for failure messages.
pub fn show_bytes(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string()
}

/// An argument vector as `"SET" "k" "v"`, for failure messages.
pub fn show_argv(argv: &[Bytes]) -> String {
    argv.iter()
        .map(|a| format!("\"{}\"", show_bytes(a)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Writes the bytes that `arbitrary` decodes back into `self` (the layout of `arbitrary` 1.5's derived
/// impls: integers little-endian, `bool` as one byte, enum variants as a `u32` scaled onto the variant
/// count, collections as elements each preceded by a `1` byte and closed by a `0` byte).
pub trait Encode {
    fn encode(&self, out: &mut Vec<u8>);
}

/// Encodes variant `index` of an enum with `count` variants: derived impls pick
/// `(u64::from(x) * count) >> 32`, so the smallest `x` that maps to `index` is `ceil(index * 2^32 / count)`.
fn variant(out: &mut Vec<u8>, index: u64, count: u64) {
    let x = (index << 32).div_ceil(count);
    out.extend_from_slice(&(x as u32).to_le_bytes());
}

impl Encode for u8 {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(*self);
    }
}

impl Encode for u16 {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
}

impl Encode for i16 {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
}

impl Encode for bool {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }
}

impl<T: Encode> Encode for Vec<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        for item in self {
            out.push(1);
            item.encode(out);
        }
        out.push(0);
    }
}

impl Encode for SmallBytes {
    fn encode(&self, out: &mut Vec<u8>) {
        assert!(self.0.len() <= MAX_BYTES, "SmallBytes longer than {MAX_BYTES}");
        out.push(self.0.len() as u8);
        out.extend_from_slice(&self.0);
    }
}

impl Encode for Script {
    fn encode(&self, out: &mut Vec<u8>) {
        self.setup.encode(out);
        self.steps.encode(out);
    }
}

impl Encode for Setup {
    fn encode(&self, out: &mut Vec<u8>) {
        let index = match self.debug_command {
            DebugCommand::Yes => 0,
            DebugCommand::Local => 1,
            DebugCommand::No => 2,
        };
        variant(out, index, 3);
        self.seed.encode(out);
        let start = match self.start {
            Start::Recent => 0,
            Start::Epoch => 1,
            Start::Y2038 => 2,
            Start::Y2106 => 3,
        };
        variant(out, start, 4);
    }
}

impl Encode for Step {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Step::Run { second, name, args } => {
                variant(out, 0, 4);
                second.encode(out);
                name.encode(out);
                args.encode(out);
            }
            Step::Advance(delta) => {
                variant(out, 1, 4);
                delta.encode(out);
            }
            Step::Cron => variant(out, 2, 4),
            Step::Reconnect { second } => {
                variant(out, 3, 4);
                second.encode(out);
            }
        }
    }
}

impl Encode for Name {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Name::Known(i) => {
                variant(out, 0, 2);
                i.encode(out);
            }
            Name::Raw(bytes) => {
                variant(out, 1, 2);
                bytes.encode(out);
            }
        }
    }
}

impl Encode for Arg {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Arg::Key(i) => {
                variant(out, 0, 6);
                i.encode(out);
            }
            Arg::Word(i) => {
                variant(out, 1, 6);
                i.encode(out);
            }
            Arg::Int(n) => {
                variant(out, 2, 6);
                n.encode(out);
            }
            Arg::Number(i) => {
                variant(out, 3, 6);
                i.encode(out);
            }
            Arg::Pattern(i) => {
                variant(out, 4, 6);
                i.encode(out);
            }
            Arg::Bytes(b) => {
                variant(out, 5, 6);
                b.encode(out);
            }
        }
    }
}

impl Encode for Delta {
    fn encode(&self, out: &mut Vec<u8>) {
        let (index, n) = match *self {
            Delta::Micros(n) => (0, n),
            Delta::Millis(n) => (1, n),
            Delta::Seconds(n) => (2, n),
        };
        variant(out, index, 3);
        n.encode(out);
    }
}

/// Helpers to write scripts by name (used by the corpus generator and tests). They panic on names that
/// are not in the vocabularies, which is a mistake in the caller.
pub mod build {
    use super::*;

    /// The [`vocabulary`] index of `command` (`"GET"`, `"CLIENT LIST"`), if it is implemented.
    pub fn command_index(command: &str) -> Option<usize> {
        let mut words = command.split(' ');
        let name = words.next().expect("a command name").to_ascii_uppercase();
        let sub = words.next().map(str::to_ascii_uppercase);
        vocabulary()
            .iter()
            .position(|(n, s)| *n == name && s.map(str::to_string) == sub)
    }

    /// True when `command` (`"GET"`, `"CLIENT LIST"`) is implemented.
    pub fn implemented(command: &str) -> bool {
        command_index(command).is_some()
    }

    /// A `Run` step for client 0 (`second == false`) or 1. `command` is `"GET"` or `"CLIENT LIST"`.
    pub fn run(second: bool, command: &str, args: Vec<Arg>) -> Step {
        let index = command_index(command).unwrap_or_else(|| panic!("{command} is not an implemented command"));
        Step::Run {
            second,
            name: Name::Known(index as u16),
            args,
        }
    }

    /// A `Run` step for client 0.
    pub fn cmd(command: &str, args: Vec<Arg>) -> Step {
        run(false, command, args)
    }

    /// A `Run` step with a raw command name.
    pub fn raw(name: &[u8], args: Vec<Arg>) -> Step {
        Step::Run {
            second: false,
            name: Name::Raw(SmallBytes(name.to_vec())),
            args,
        }
    }

    fn index_of<T: PartialEq + ?Sized>(list: &[&T], item: &T, what: &str) -> u8 {
        list.iter()
            .position(|x| *x == item)
            .unwrap_or_else(|| panic!("{what} not in the vocabulary")) as u8
    }

    pub fn key(name: impl AsRef<[u8]>) -> Arg {
        let name = name.as_ref();
        Arg::Key(index_of(KEYS, name, &name.escape_ascii().to_string()))
    }

    pub fn word(word: &str) -> Arg {
        Arg::Word(index_of(WORDS, word, word))
    }

    pub fn num(text: &str) -> Arg {
        Arg::Number(index_of(NUMBERS, text, text))
    }

    pub fn pattern(text: &str) -> Arg {
        Arg::Pattern(index_of(PATTERNS, text.as_bytes(), text))
    }

    pub fn int(n: i16) -> Arg {
        assert!((-1000..=1000).contains(&n), "Arg::Int is reduced modulo 1001");
        Arg::Int(n)
    }

    pub fn bytes(b: &[u8]) -> Arg {
        Arg::Bytes(SmallBytes(b.to_vec()))
    }

    pub fn advance(delta: Delta) -> Step {
        Step::Advance(delta)
    }
}

#[cfg(test)]
mod tests {
    use super::build::*;
    use super::*;

    fn sample() -> Script {
        Script {
            setup: Setup {
                debug_command: DebugCommand::Local,
                seed: 7,
                start: Start::Y2106,
            },
            steps: vec![
                cmd("SET", vec![key("k0"), bytes(b"v"), word("PX"), int(5)]),
                advance(Delta::Millis(10)),
                Step::Cron,
                run(true, "CLIENT LIST", vec![]),
                raw(b"nosuch\r\n", vec![Arg::Bytes(SmallBytes(vec![0; MAX_BYTES]))]),
                Step::Reconnect { second: true },
                cmd("INCRBY", vec![key("num"), num("9223372036854775807")]),
                cmd("KEYS", vec![pattern("k*")]),
                advance(Delta::Seconds(65535)),
                advance(Delta::Micros(1)),
            ],
        }
    }

    #[test]
    fn encoding_round_trips() {
        let script = sample();
        let mut bytes = Vec::new();
        script.encode(&mut bytes);
        let decoded = Script::arbitrary_take_rest(Unstructured::new(&bytes)).unwrap();
        assert_eq!(decoded, script);
    }

    #[test]
    fn every_vocabulary_entry_is_implemented() {
        let registry = Registry::new();
        for (name, sub) in vocabulary() {
            let argv: Vec<Bytes> = std::iter::once(*name)
                .chain(*sub)
                .map(|s| Bytes::from_static(s.as_bytes()))
                .collect();
            assert!(
                !matches!(
                    registry.lookup(&argv),
                    keel_core::commands::Lookup::UnknownCommand | keel_core::commands::Lookup::UnknownSubcommand(_)
                ),
                "{name} {sub:?}"
            );
        }
    }

    #[test]
    fn sample_script_runs_clean() {
        Harness::run_script(&sample());
    }
}
