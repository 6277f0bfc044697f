//! Writes the committed seed corpora under `fuzz/corpus/<target>/`:
//!
//! ```sh
//! CARGO_TARGET_DIR=/work/target-fuzz cargo run --manifest-path fuzz/Cargo.toml --example gen_corpus
//! ```
//!
//! Seeds are small meaningful inputs: real RESP pipelines and malformed headers for `resp_parser`, quoted
//! inline lines for `inline_split`, and command scripts for `commands` (encoded so that `arbitrary` decodes
//! them back to the script; every seed is checked). Files are named after what they contain and rewritten
//! in place; inputs the fuzzer found and someone copied in by hand are left alone. Re-run it after the
//! vocabularies in `src/script.rs` or the set of implemented commands change, since `commands` seeds refer
//! to commands by their index in that vocabulary.

use std::fs;
use std::path::{Path, PathBuf};

use arbitrary::{Arbitrary, Unstructured};
use keel_fuzz::script::build::*;
use keel_fuzz::script::{Arg, DebugCommand, Delta, Encode, Script, Setup, Start, Step};

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let written = resp_parser(&root.join("resp_parser"))
        + inline_split(&root.join("inline_split"))
        + commands(&root.join("commands"));
    println!("wrote {written} seeds under {}", root.display());
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> usize {
    fs::create_dir_all(dir).expect("create corpus directory");
    fs::write(dir.join(name), bytes).expect("write seed");
    1
}

/// Request streams, each written with a few feeding plans (see the header layout in
/// `fuzz_targets/resp_parser.rs`).
fn resp_parser(dir: &Path) -> usize {
    let streams: &[(&str, &[u8])] = &[
        ("get", b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"),
        (
            "pipeline",
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n*1\r\n$4\r\nPING\r\n",
        ),
        ("binary-bulk", b"*2\r\n$4\r\nECHO\r\n$6\r\n\r\n\x00\xff\r\n\r\n"),
        ("empty-bulk", b"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n"),
        ("inline", b"PING\r\nset a \"b c\"\nGET 'it\\'s'\r\n"),
        ("inline-escapes", b"SET \"\\x41\\n\\r\\t\\\\\" '\\''\r\n"),
        ("blank-lines", b"\r\n\n \r\nPING\n"),
        ("mixed", b"PING\r\n*1\r\n$4\r\nPING\r\nECHO x\n*2\r\n$4\r\nECHO\r\n$1\r\ny\r\n"),
        ("empty-and-null-multibulk", b"*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n"),
        ("partial", b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\nhel"),
        ("partial-header", b"*2\r\n$3\r\nGET\r\n$1"),
        ("cr-only", b"*1\r"),
        ("unchecked-crlf", b"*1\r\n$3\r\nfooXY*1\rx$4\rPING\r\n"),
        ("lf-headers", b"*1\n$4\nPING\n"),
        ("bad-count", b"*x\r\n"),
        ("bad-count-zero-padded", b"*01\r\n$4\r\nPING\r\n"),
        ("negative-bulk", b"*1\r\n$-1\r\n"),
        ("plus-bulk", b"*1\r\n$+4\r\nPING\r\n"),
        ("expected-dollar", b"*1\r\nfoo\r\n"),
        ("expected-dollar-incomplete", b"*2\r\n$4\r\nECHO\r\n:1\r"),
        ("too-big-count", b"*2147483648\r\n"),
        ("max-count", b"*2147483647\r\n$4\r\nPING\r\n"),
        ("too-big-bulk", b"*1\r\n$536870913\r\n"),
        ("small-limits", b"*9\r\n$17\r\n12345678901234567\r\n"),
        ("unbalanced-double", b"set a \"b\n"),
        ("quote-then-text", b"set a \"b\"c\n"),
        ("unbalanced-single", b"set a 'b\r\n"),
        ("dollar-inline", b"$3\r\nfoo\r\n"),
    ];
    // (limits selector, chunk sizes)
    let plans: &[(&str, u8, &[u8])] = &[
        ("whole", 0, &[]),
        ("bytewise", 0, &[1]),
        ("uneven", 0, &[3, 1, 0, 7]),
        ("tiny-limits-bytewise", 1, &[1]),
        ("minimal-limits", 2, &[2]),
    ];
    let mut count = 0;
    for (i, (name, stream)) in streams.iter().enumerate() {
        // Every stream byte by byte (the feeding most likely to expose state kept between calls), and
        // once more with a rotating other plan.
        let other = [0, 2, 3, 4][i % 4];
        for &(plan, limits, sizes) in [plans[1], plans[other]].iter() {
            let mut bytes = vec![limits, sizes.len() as u8];
            bytes.extend_from_slice(sizes);
            bytes.extend_from_slice(stream);
            count += write(dir, &format!("{name}.{plan}"), &bytes);
        }
    }
    // One bulk larger than a read, fed in uneven chunks.
    let mut big = vec![0, 2, 100, 7];
    big.extend_from_slice(b"*2\r\n$4\r\nECHO\r\n$300\r\n");
    big.extend(std::iter::repeat_n(b'x', 300));
    big.extend_from_slice(b"\r\n");
    count + write(dir, "large-bulk.uneven", &big)
}

/// Inline request lines.
fn inline_split(dir: &Path) -> usize {
    let lines: &[(&str, &[u8])] = &[
        ("plain", b"SET k v"),
        ("double-quoted", b"set a \"b c\""),
        ("hex-escapes", b"\"\\x41\\x42\\x7f\\xFF\" x"),
        ("bad-hex", b"\"\\xzz\" \"\\x4\""),
        ("named-escapes", b"\"\\n\\r\\t\\b\\a\\\\\\\"\\q\""),
        ("single-quoted", b"'it\\'s' 'a\\b'"),
        ("empty-args", b"\"\" '' \"\""),
        ("quote-mid-word", b"a\"b c\"d"),
        ("text-after-quote", b"\"x\"y"),
        ("unterminated-double", b"\"unterminated"),
        ("unterminated-single", b"'abc"),
        ("escaped-closing", b"\"abc\\\""),
        ("spaces", b"   leading   and\ttrailing \t "),
        ("vertical-space", b"\x0bGET\x0ck\x0b"),
        ("nul", b"a\x00b\x00\x00c"),
        ("crlf", b"GET k\r\n"),
        ("tabs-between-quotes", b"\"a\"\t\"b\"\r'c'"),
        ("binary", b"\xff\xfe \x80\x81"),
        ("only-space", b" \t "),
        ("empty", b""),
        ("hex-in-single", b"'\\x41'"),
        ("lone-backslash", b"\"\\\""),
        ("backslash-end", b"\"abc\\"),
        ("redis-cli", b"SET greeting \"hello\\x20world\\n\" EX 10"),
    ];
    lines.iter().map(|(name, line)| write(dir, name, line)).sum()
}

fn script(debug_command: DebugCommand, steps: Vec<Step>) -> Script {
    script_at(Start::Recent, debug_command, steps)
}

fn script_at(start: Start, debug_command: DebugCommand, steps: Vec<Step>) -> Script {
    Script {
        setup: Setup {
            debug_command,
            seed: 1,
            start,
        },
        steps,
    }
}

/// Command scripts, one theme each.
fn commands(dir: &Path) -> usize {
    use DebugCommand::{Local, No, Yes};
    let k0 = || key("k0");
    let k1 = || key("k1");
    let v = |s: &str| bytes(s.as_bytes());
    let mut scripts: Vec<(&str, Script)> = vec![
        (
            "set-get",
            script(
                No,
                vec![
                    cmd("SET", vec![k0(), v("hello")]),
                    cmd("GET", vec![k0()]),
                    cmd("SET", vec![k0(), v("world"), word("XX"), word("GET")]),
                    cmd("SET", vec![k1(), v("x"), word("NX")]),
                    cmd("SET", vec![k1(), v("y"), word("NX"), word("XX")]),
                    cmd("GETSET", vec![k1(), v("z")]),
                    cmd("GETDEL", vec![k1()]),
                    cmd("SETNX", vec![k1(), v("again")]),
                    cmd("MSET", vec![key("k2"), v("a"), key("k3"), v("b")]),
                    cmd("MGET", vec![k0(), k1(), key("k2"), key("k3")]),
                    cmd("MSETNX", vec![k0(), v("c"), key("num"), v("d")]),
                ],
            ),
        ),
        (
            "set-expiry-options",
            script(
                No,
                vec![
                    cmd("SET", vec![k0(), v("v"), word("EX"), int(10)]),
                    cmd("TTL", vec![k0()]),
                    cmd("SET", vec![k0(), v("v"), word("KEEPTTL")]),
                    cmd("PTTL", vec![k0()]),
                    cmd("SET", vec![k0(), v("v"), word("PX"), int(0)]),
                    cmd("SET", vec![k0(), v("v"), word("EX"), num("9223372036854775807")]),
                    cmd("SET", vec![k0(), v("v"), word("EXAT"), num("9223372036854775")]),
                    cmd("SET", vec![k0(), v("v"), word("PXAT"), num("-1")]),
                    cmd("SET", vec![k0(), v("v"), word("EX"), int(5), word("PX"), int(5)]),
                    cmd("SETEX", vec![k1(), int(100), v("x")]),
                    cmd("PSETEX", vec![k1(), num("0"), v("x")]),
                    cmd("GETEX", vec![k1(), word("PERSIST")]),
                    cmd("GETEX", vec![k1(), word("EXAT"), num("4294967296")]),
                    cmd("EXPIRETIME", vec![k1()]),
                ],
            ),
        ),
        (
            "lazy-expiry",
            script(
                No,
                vec![
                    cmd("SET", vec![k0(), v("v"), word("PX"), int(100)]),
                    cmd("SET", vec![k1(), v("v"), word("EX"), int(1)]),
                    advance(Delta::Millis(150)),
                    cmd("GET", vec![k0()]),
                    cmd("EXISTS", vec![k0(), k1()]),
                    advance(Delta::Seconds(2)),
                    cmd("TTL", vec![k1()]),
                    cmd("DBSIZE", vec![]),
                    cmd("INFO", vec![word("stats")]),
                ],
            ),
        ),
        (
            "active-expiry",
            script(
                Yes,
                vec![
                    cmd("SET", vec![k0(), v("a"), word("PX"), int(1)]),
                    cmd("SET", vec![k1(), v("b"), word("PX"), int(2)]),
                    cmd("SET", vec![key("k2"), v("c"), word("PX"), int(3)]),
                    cmd("SET", vec![key("k3"), v("d"), word("EX"), int(1000)]),
                    advance(Delta::Millis(10)),
                    Step::Cron,
                    cmd("DBSIZE", vec![]),
                    cmd("DEBUG", vec![word("SET-ACTIVE-EXPIRE"), int(0)]),
                    cmd("SET", vec![k0(), v("a"), word("PX"), int(1)]),
                    advance(Delta::Millis(5)),
                    Step::Cron,
                    cmd("DEBUG", vec![word("OBJECT"), k0()]),
                    cmd("DBSIZE", vec![]),
                    cmd("DEBUG", vec![word("SET-ACTIVE-EXPIRE"), int(1)]),
                    Step::Cron,
                ],
            ),
        ),
        (
            "expire-commands",
            script(
                No,
                vec![
                    cmd("SET", vec![k0(), v("v")]),
                    cmd("EXPIRE", vec![k0(), int(100), word("NX")]),
                    cmd("EXPIRE", vec![k0(), int(50), word("GT")]),
                    cmd("EXPIRE", vec![k0(), int(50), word("LT")]),
                    cmd("EXPIRE", vec![k0(), int(10), word("XX"), word("NX")]),
                    cmd("PEXPIRE", vec![k0(), num("9223372036854775807")]),
                    cmd("EXPIRE", vec![k0(), num("9223372036854776")]),
                    cmd("EXPIREAT", vec![k0(), num("-9223372036854775808")]),
                    cmd("PEXPIREAT", vec![k1(), int(1)]),
                    cmd("PERSIST", vec![k0()]),
                    cmd("PEXPIRETIME", vec![k0()]),
                    cmd("EXPIRE", vec![k0(), int(-1)]),
                    cmd("EXISTS", vec![k0()]),
                ],
            ),
        ),
        (
            "counters",
            script(
                No,
                vec![
                    cmd("INCR", vec![key("num")]),
                    cmd("INCRBY", vec![key("num"), num("9223372036854775806")]),
                    cmd("INCR", vec![key("num")]),
                    cmd("DECRBY", vec![key("num"), num("-9223372036854775808")]),
                    cmd("DECR", vec![key("num")]),
                    cmd("SET", vec![k0(), num(" 1")]),
                    cmd("INCR", vec![k0()]),
                    cmd("SET", vec![k1(), num("01")]),
                    cmd("INCRBY", vec![k1(), int(1)]),
                    cmd("INCRBY", vec![k1(), num("+1")]),
                ],
            ),
        ),
        (
            "incrbyfloat",
            script(
                No,
                vec![
                    cmd("INCRBYFLOAT", vec![key("num"), num("1.5")]),
                    cmd("INCRBYFLOAT", vec![key("num"), num("1e308")]),
                    cmd("INCRBYFLOAT", vec![key("num"), num("1.7976931348623157e308")]),
                    cmd("INCRBYFLOAT", vec![key("num"), num("inf")]),
                    cmd("INCRBYFLOAT", vec![key("num"), num("nan")]),
                    cmd("INCRBYFLOAT", vec![key("num"), num("5e-324")]),
                    cmd("INCRBYFLOAT", vec![key("num"), num("-1e308")]),
                    cmd("SET", vec![k0(), num("3.0")]),
                    cmd("INCRBYFLOAT", vec![k0(), num("0.1")]),
                    cmd("INCR", vec![k0()]),
                ],
            ),
        ),
        (
            "string-ranges",
            script(
                No,
                vec![
                    cmd("APPEND", vec![k0(), v("hello")]),
                    cmd("APPEND", vec![k0(), v(" world")]),
                    cmd("STRLEN", vec![k0()]),
                    cmd("GETRANGE", vec![k0(), int(-5), int(-1)]),
                    cmd(
                        "GETRANGE",
                        vec![k0(), num("-9223372036854775808"), num("9223372036854775807")],
                    ),
                    cmd("SUBSTR", vec![k0(), int(3), int(1)]),
                    cmd("SETRANGE", vec![k0(), int(20), v("x")]),
                    cmd("SETRANGE", vec![k1(), int(0), v("")]),
                    cmd("SETRANGE", vec![k1(), num("536870912"), v("x")]),
                    cmd("SETRANGE", vec![k1(), int(-1), v("x")]),
                    cmd("GET", vec![k0()]),
                ],
            ),
        ),
        (
            "lcs",
            script(
                No,
                vec![
                    cmd("MSET", vec![k0(), v("ohmytext"), k1(), v("mynewtext")]),
                    cmd("LCS", vec![k0(), k1()]),
                    cmd("LCS", vec![k0(), k1(), word("LEN")]),
                    cmd("LCS", vec![k0(), k1(), word("IDX")]),
                    cmd(
                        "LCS",
                        vec![
                            k0(),
                            k1(),
                            word("IDX"),
                            word("MINMATCHLEN"),
                            int(4),
                            word("WITHMATCHLEN"),
                        ],
                    ),
                    cmd("LCS", vec![k0(), k1(), word("LEN"), word("IDX")]),
                    cmd("LCS", vec![k0(), key("k2")]),
                    cmd("HELLO", vec![int(3)]),
                    cmd("LCS", vec![k0(), k1(), word("IDX"), word("WITHMATCHLEN")]),
                ],
            ),
        ),
        (
            "keys-and-scan",
            script(
                No,
                vec![
                    cmd(
                        "MSET",
                        vec![k0(), v("a"), k1(), v("b"), key("k2"), v("c"), key("num"), v("1")],
                    ),
                    cmd("KEYS", vec![pattern("*")]),
                    cmd("KEYS", vec![pattern("k[0-9]")]),
                    cmd("KEYS", vec![pattern("k[^0]")]),
                    cmd("KEYS", vec![pattern("*k*k*k*k*k*k*")]),
                    cmd("KEYS", vec![pattern("[a-")]),
                    cmd("SCAN", vec![int(0)]),
                    cmd(
                        "SCAN",
                        vec![int(0), word("MATCH"), pattern("k?"), word("COUNT"), int(2)],
                    ),
                    cmd("SCAN", vec![int(0), word("TYPE"), word("string")]),
                    cmd("SCAN", vec![num("18446744073709551615")]),
                    cmd("SCAN", vec![int(0), word("COUNT"), int(0)]),
                    cmd("RANDOMKEY", vec![]),
                    cmd("TYPE", vec![k0()]),
                    cmd("TYPE", vec![key("k3")]),
                ],
            ),
        ),
        (
            "rename-copy-move",
            script(
                No,
                vec![
                    cmd("SET", vec![k0(), v("a"), word("EX"), int(100)]),
                    cmd("RENAME", vec![k0(), k1()]),
                    cmd("RENAME", vec![k1(), k1()]),
                    cmd("RENAMENX", vec![k1(), key("k2")]),
                    cmd("COPY", vec![key("k2"), key("k3")]),
                    cmd("COPY", vec![key("k2"), key("k3"), word("REPLACE")]),
                    cmd("COPY", vec![key("k2"), key("k3"), word("DB"), int(5)]),
                    cmd("MOVE", vec![key("k3"), int(1)]),
                    cmd("SELECT", vec![int(1)]),
                    cmd("TTL", vec![key("k3")]),
                    cmd("SWAPDB", vec![int(0), int(1)]),
                    cmd("DBSIZE", vec![]),
                    cmd("SELECT", vec![int(16)]),
                    cmd("MOVE", vec![key("k3"), int(1)]),
                ],
            ),
        ),
        (
            "delete-and-flush",
            script(
                No,
                vec![
                    cmd("MSET", vec![k0(), v("a"), k1(), v("b"), key(""), v("empty key")]),
                    cmd("DEL", vec![k0(), k0(), key("k3")]),
                    cmd("UNLINK", vec![k1()]),
                    cmd("TOUCH", vec![key(""), k0()]),
                    cmd("FLUSHDB", vec![word("ASYNC")]),
                    cmd("SET", vec![key(b"a b\r\n\x00\xff"), v("b")]),
                    cmd("FLUSHALL", vec![word("SYNC")]),
                    cmd("FLUSHALL", vec![word("NX")]),
                    cmd("DBSIZE", vec![]),
                ],
            ),
        ),
        (
            "object",
            script(
                No,
                vec![
                    cmd("SET", vec![k0(), int(12)]),
                    cmd(
                        "SET",
                        vec![k1(), v("a string that is longer than forty-four bytes, raw")],
                    ),
                    cmd("OBJECT ENCODING", vec![k0()]),
                    cmd("OBJECT ENCODING", vec![k1()]),
                    cmd("OBJECT REFCOUNT", vec![k0()]),
                    advance(Delta::Seconds(30)),
                    cmd("OBJECT IDLETIME", vec![k0()]),
                    cmd("OBJECT FREQ", vec![k0()]),
                    cmd("FLUSHALL", vec![]),
                    cmd("CONFIG SET", vec![word("maxmemory-policy"), word("allkeys-lfu")]),
                    cmd("SET", vec![k0(), int(12)]),
                    cmd("GET", vec![k0()]),
                    cmd("OBJECT FREQ", vec![k0()]),
                    cmd("OBJECT IDLETIME", vec![k0()]),
                    advance(Delta::Seconds(600)),
                    cmd("OBJECT FREQ", vec![k0()]),
                    cmd("CONFIG SET", vec![word("maxmemory-policy"), word("volatile-lru")]),
                    cmd("OBJECT IDLETIME", vec![k0()]),
                    cmd("OBJECT HELP", vec![]),
                ],
            ),
        ),
        (
            // Regression: an access under an LFU policy to a key stamped under LRU (reported: the LFU
            // decay in core/src/keyspace/access.rs underflows on a Unix-seconds stamp).
            "regression-lfu-after-lru-stamp",
            script(
                No,
                vec![
                    cmd("SET", vec![k0(), v("v")]),
                    cmd("CONFIG SET", vec![word("maxmemory-policy"), word("allkeys-lfu")]),
                    cmd("GET", vec![k0()]),
                ],
            ),
        ),
        (
            // Regression: active expiry sums the TTLs it samples; two samples of a key expiring at
            // i64::MAX overflow the sum (reported: core/src/keyspace/db.rs, Db::expire_sample).
            "regression-active-expiry-ttl-sum",
            script(
                No,
                vec![
                    cmd("SET", vec![k0(), v("v")]),
                    cmd("PEXPIREAT", vec![k0(), num("9223372036854775807")]),
                    Step::Cron,
                ],
            ),
        ),
        (
            "resp3",
            script(
                Yes,
                vec![
                    cmd("HELLO", vec![int(3)]),
                    cmd("SET", vec![k0(), v("v")]),
                    cmd("GET", vec![k1()]),
                    cmd("MGET", vec![k0(), k1()]),
                    cmd("CONFIG GET", vec![pattern("*")]),
                    cmd("COMMAND INFO", vec![word("get")]),
                    cmd("DEBUG", vec![word("PROTOCOL"), word("map")]),
                    cmd("DEBUG", vec![word("PROTOCOL"), word("attrib")]),
                    cmd("DEBUG", vec![word("PROTOCOL"), word("bignum")]),
                    cmd("DEBUG", vec![word("PROTOCOL"), word("verbatim")]),
                    cmd("DEBUG", vec![word("PROTOCOL"), word("double")]),
                    cmd("DEBUG", vec![word("PROTOCOL"), word("null")]),
                    cmd("DEBUG", vec![word("PROTOCOL"), word("push")]),
                    cmd("INCRBYFLOAT", vec![key("num"), num("1.5")]),
                    cmd("HELLO", vec![int(2)]),
                    cmd("DEBUG", vec![word("PROTOCOL"), word("set")]),
                ],
            ),
        ),
        (
            "debug-protocol-resp2",
            script(
                Local,
                vec![
                    cmd("DEBUG", vec![word("PROTOCOL"), word("map")]),
                    cmd("DEBUG", vec![word("PROTOCOL"), word("attrib")]),
                    cmd("DEBUG", vec![word("PROTOCOL"), word("true")]),
                    cmd("DEBUG", vec![word("PROTOCOL"), word("bignum")]),
                    cmd("DEBUG", vec![word("PROTOCOL"), word("verbatim")]),
                    run(true, "DEBUG", vec![word("PROTOCOL"), word("map")]),
                    cmd("DEBUG", vec![word("HELP")]),
                    cmd("DEBUG", vec![word("DIGEST")]),
                    cmd("SET", vec![k0(), v("v")]),
                    cmd("DEBUG", vec![word("DIGEST-VALUE"), k0(), k1()]),
                    cmd("DEBUG", vec![word("SLEEP"), num("0.1")]),
                    cmd("DEBUG", vec![word("SLEEP"), num("1e308")]),
                ],
            ),
        ),
        (
            "hello-and-reset",
            script(
                No,
                vec![
                    cmd("HELLO", vec![]),
                    cmd("HELLO", vec![int(3), word("SETNAME"), v("fuzzer")]),
                    cmd("HELLO", vec![int(4)]),
                    cmd("HELLO", vec![int(3), word("AUTH"), word("default"), v("pw")]),
                    cmd("CLIENT GETNAME", vec![]),
                    cmd("SELECT", vec![int(3)]),
                    cmd("RESET", vec![]),
                    cmd("CLIENT INFO", vec![]),
                    cmd("PING", vec![]),
                    cmd("PING", vec![v("hi")]),
                    cmd("ECHO", vec![v("\r\n")]),
                ],
            ),
        ),
        (
            "client-admin",
            script(
                No,
                vec![
                    cmd("CLIENT ID", vec![]),
                    run(true, "CLIENT SETNAME", vec![v("other")]),
                    cmd("CLIENT SETNAME", vec![v("has space")]),
                    cmd("CLIENT LIST", vec![]),
                    cmd("CLIENT LIST", vec![word("TYPE"), word("NORMAL")]),
                    cmd("CLIENT LIST", vec![word("ID"), int(1), int(2)]),
                    cmd("CLIENT NO-EVICT", vec![word("ON")]),
                    cmd("CLIENT KILL", vec![word("ID"), int(2)]),
                    run(true, "CLIENT INFO", vec![]),
                    cmd("CLIENT KILL", vec![word("ADDR"), word("10.1.2.3:50002")]),
                    cmd("CLIENT KILL", vec![word("10.1.2.3:50002")]),
                    cmd("CLIENT KILL", vec![word("SKIPME"), word("no"), word("ID"), int(1)]),
                    cmd("PING", vec![]),
                    cmd("CLIENT HELP", vec![]),
                ],
            ),
        ),
        (
            "client-reply",
            script(
                No,
                vec![
                    cmd("CLIENT REPLY", vec![word("OFF")]),
                    cmd("SET", vec![k0(), v("silent")]),
                    cmd("CLIENT REPLY", vec![word("ON")]),
                    cmd("CLIENT REPLY", vec![word("SKIP")]),
                    cmd("GET", vec![k0()]),
                    cmd("GET", vec![k0()]),
                    cmd("CLIENT REPLY", vec![word("SKIP")]),
                    cmd("CLIENT REPLY", vec![word("ON")]),
                    cmd("CLIENT REPLY", vec![word("OFF")]),
                    cmd("RESET", vec![]),
                    cmd("GET", vec![k0()]),
                ],
            ),
        ),
        (
            "client-pause",
            script(
                No,
                vec![
                    cmd("CLIENT PAUSE", vec![int(100), word("WRITE")]),
                    cmd("CLIENT PAUSE", vec![int(-1)]),
                    run(true, "SET", vec![k0(), v("v")]),
                    advance(Delta::Millis(200)),
                    cmd("CLIENT PAUSE", vec![int(100), word("ALL")]),
                    cmd("CLIENT UNPAUSE", vec![]),
                ],
            ),
        ),
        (
            "quit-and-reconnect",
            script(
                No,
                vec![
                    cmd("SELECT", vec![int(2)]),
                    cmd("SET", vec![k0(), v("v")]),
                    cmd("QUIT", vec![]),
                    cmd("GET", vec![k0()]),
                    Step::Reconnect { second: true },
                    run(true, "CLIENT LIST", vec![]),
                    run(true, "SELECT", vec![int(2)]),
                    run(true, "GET", vec![k0()]),
                ],
            ),
        ),
        (
            "info-and-stats",
            script(
                No,
                vec![
                    raw(b"NOSUCH", vec![]),
                    cmd("GET", vec![]),
                    cmd("INFO", vec![]),
                    cmd("INFO", vec![word("everything")]),
                    cmd("INFO", vec![word("server"), word("clients"), word("memory")]),
                    cmd("INFO", vec![word("commandstats"), word("errorstats")]),
                    cmd("INFO", vec![word("keyspace")]),
                    cmd("CONFIG RESETSTAT", vec![]),
                    cmd("INFO", vec![word("stats")]),
                    cmd("TIME", vec![]),
                ],
            ),
        ),
        (
            "config",
            script(
                No,
                vec![
                    cmd("CONFIG GET", vec![pattern("*")]),
                    cmd("CONFIG GET", vec![word("*max*"), word("hz")]),
                    cmd("CONFIG SET", vec![word("hz"), int(100)]),
                    cmd("CONFIG SET", vec![word("active-expire-effort"), int(10)]),
                    cmd("CONFIG SET", vec![word("active-expire-effort"), int(11)]),
                    cmd("CONFIG SET", vec![word("maxmemory"), word("1mb")]),
                    cmd("CONFIG SET", vec![word("databases"), int(1)]),
                    cmd("CONFIG SET", vec![word("enable-debug-command"), word("yes")]),
                    cmd(
                        "CONFIG SET",
                        vec![word("proto-max-bulk-len"), num("9223372036854775807")],
                    ),
                    cmd(
                        "CONFIG SET",
                        vec![word("lfu-log-factor"), int(0), word("lfu-decay-time"), int(0)],
                    ),
                    cmd("CONFIG SET", vec![word("hz"), int(1), word("hz"), int(2)]),
                    cmd("CONFIG HELP", vec![]),
                ],
            ),
        ),
        (
            "command-introspection",
            script(
                No,
                vec![
                    cmd("COMMAND COUNT", vec![]),
                    cmd("COMMAND INFO", vec![word("get"), word("set"), v("nosuch")]),
                    cmd("COMMAND LIST", vec![word("FILTERBY"), word("PATTERN"), pattern("k*")]),
                    cmd("COMMAND LIST", vec![word("FILTERBY"), word("ACLCAT"), word("keyspace")]),
                    cmd("COMMAND LIST", vec![word("FILTERBY"), word("MODULE"), v("x")]),
                    cmd("COMMAND DOCS", vec![word("get")]),
                    cmd("COMMAND GETKEYS", vec![word("set"), k0(), v("v")]),
                    cmd("COMMAND GETKEYSANDFLAGS", vec![word("get"), k0()]),
                    cmd("COMMAND GETKEYS", vec![word("get")]),
                    cmd("COMMAND HELP", vec![]),
                    cmd("FUNCTION FLUSH", vec![]),
                    cmd("SCRIPT FLUSH", vec![word("ASYNC")]),
                ],
            ),
        ),
        (
            "errors",
            script(
                No,
                vec![
                    raw(b"", vec![]),
                    raw(b"nosuch\r\ncommand", vec![v("a\r\nb"), bytes(&[0, 1, 2])]),
                    raw(b"gEt", vec![k0()]),
                    raw(b"CLIENT", vec![v("NOSUCH")]),
                    raw(b"CONFIG", vec![]),
                    cmd("SET", vec![k0()]),
                    cmd("SET", vec![k0(), v("v"), v("BOGUS")]),
                    cmd("GET", vec![k0(), k1()]),
                    cmd("SELECT", vec![num("-1")]),
                    cmd("SELECT", vec![v("x")]),
                    cmd("INCR", vec![key(b"a b\r\n\x00\xff")]),
                    cmd("EXPIRE", vec![k0(), num("1.5")]),
                    cmd("INFO", vec![word("errorstats")]),
                ],
            ),
        ),
        (
            "two-clients",
            script(
                No,
                vec![
                    cmd("SET", vec![k0(), v("from 0")]),
                    run(true, "GET", vec![k0()]),
                    run(true, "SELECT", vec![int(1)]),
                    run(true, "SET", vec![k0(), v("from 1")]),
                    cmd("GET", vec![k0()]),
                    run(true, "SWAPDB", vec![int(0), int(1)]),
                    cmd("GET", vec![k0()]),
                    run(true, "HELLO", vec![int(3)]),
                    run(true, "GET", vec![k0()]),
                    advance(Delta::Seconds(10)),
                    cmd("CLIENT LIST", vec![]),
                ],
            ),
        ),
        (
            "shutdown",
            script(
                No,
                vec![
                    cmd("SET", vec![k0(), v("v")]),
                    cmd("SHUTDOWN", vec![word("ABORT")]),
                    cmd("SHUTDOWN", vec![word("SAVE"), word("NOSAVE")]),
                    cmd("SHUTDOWN", vec![word("NOSAVE"), word("NOW")]),
                    cmd("GET", vec![k0()]),
                ],
            ),
        ),
        (
            "debug-denied",
            script(
                Local,
                vec![
                    run(true, "DEBUG", vec![word("DIGEST")]),
                    cmd("DEBUG", vec![word("DIGEST")]),
                    cmd("DEBUG", vec![v("nosuch")]),
                    cmd("DEBUG", vec![word("OBJECT"), k0()]),
                ],
            ),
        ),
        (
            "clock-jumps",
            script(
                No,
                vec![
                    cmd("SET", vec![k0(), v("v"), word("EX"), int(1000)]),
                    cmd("SET", vec![k1(), v("v"), word("PX"), int(1)]),
                    advance(Delta::Micros(999)),
                    cmd("PTTL", vec![k1()]),
                    advance(Delta::Micros(1)),
                    cmd("PTTL", vec![k1()]),
                    advance(Delta::Seconds(999)),
                    cmd("TTL", vec![k0()]),
                    advance(Delta::Seconds(1)),
                    Step::Cron,
                    cmd("TTL", vec![k0()]),
                    advance(Delta::Seconds(65535)),
                    cmd("OBJECT IDLETIME", vec![key("k2")]),
                    cmd("TIME", vec![]),
                ],
            ),
        ),
    ];
    scripts.extend(collections());
    // Some themes again with the clock starting at the edges of the ranges time stamps are kept in.
    for (name, base, start) in [
        ("clock-jumps-2106", "clock-jumps", Start::Y2106),
        ("expire-commands-epoch", "expire-commands", Start::Epoch),
        ("object-2038", "object", Start::Y2038),
        ("lazy-expiry-2038", "lazy-expiry", Start::Y2038),
    ] {
        let mut script = scripts.iter().find(|(n, _)| *n == base).expect("base theme").1.clone();
        script.setup.start = start;
        scripts.push((name, script));
    }
    let mut count = 0;
    for (name, script) in &scripts {
        let mut bytes = Vec::new();
        script.encode(&mut bytes);
        let decoded = Script::arbitrary_take_rest(Unstructured::new(&bytes)).expect("seed decodes");
        assert_eq!(&decoded, script, "seed {name} does not decode to its script");
        count += write(dir, name, &bytes);
    }
    count
}

/// A step of a script for commands that may not be implemented yet.
enum Planned {
    /// A command for client 0 or 1 (`second`), left out if it is not implemented.
    Cmd(bool, &'static str, Vec<Arg>),
    /// Any other step, always kept.
    Other(Step),
}

/// Scripts for the families added after the first ones (lists, hashes, sets, sorted sets, blocking
/// commands, transactions). Commands that are not implemented (yet) are left out, so the generator runs
/// whatever the registry holds.
fn collections() -> Vec<(&'static str, Script)> {
    let v = |s: &str| bytes(s.as_bytes());
    let c = |command: &'static str, args: Vec<Arg>| Planned::Cmd(false, command, args);
    let c1 = |command: &'static str, args: Vec<Arg>| Planned::Cmd(true, command, args);
    let other = Planned::Other;
    let themes: Vec<(&str, Vec<Planned>)> = vec![
        (
            "lists",
            vec![
                c("LPUSH", vec![key("k0"), v("a"), v("b"), v("c")]),
                c("RPUSH", vec![key("k0"), v("d"), int(7)]),
                c("LRANGE", vec![key("k0"), int(0), int(-1)]),
                c("LINDEX", vec![key("k0"), num("-9223372036854775808")]),
                c("LINSERT", vec![key("k0"), word("BEFORE"), v("b"), v("x")]),
                c(
                    "LPOS",
                    vec![key("k0"), v("c"), word("RANK"), int(-1), word("MAXLEN"), int(0)],
                ),
                c("LSET", vec![key("k0"), int(0), v("z")]),
                c("LREM", vec![key("k0"), int(-2), v("x")]),
                c("LTRIM", vec![key("k0"), int(1), int(-2)]),
                c("LMOVE", vec![key("k0"), key("k1"), word("LEFT"), word("RIGHT")]),
                c(
                    "LMPOP",
                    vec![int(2), key("k0"), key("k1"), word("LEFT"), word("COUNT"), int(2)],
                ),
                c("LPOP", vec![key("k0"), word("COUNT"), int(0)]),
                c("RPOPLPUSH", vec![key("k1"), key("k1")]),
                c("TYPE", vec![key("k1")]),
                c("GET", vec![key("k1")]),
                c("OBJECT ENCODING", vec![key("k1")]),
                c("LLEN", vec![key("k1")]),
            ],
        ),
        (
            "hashes",
            vec![
                c("HSET", vec![key("k2"), v("f"), v("v"), v("n"), int(1)]),
                c("HINCRBY", vec![key("k2"), v("n"), num("9223372036854775807")]),
                c("HINCRBYFLOAT", vec![key("k2"), v("n"), num("1.5")]),
                c("HINCRBYFLOAT", vec![key("k2"), v("g"), num("1e308")]),
                c("HSETNX", vec![key("k2"), v("f"), v("w")]),
                c("HMGET", vec![key("k2"), v("f"), v("missing")]),
                c("HRANDFIELD", vec![key("k2"), int(-5), word("WITHVALUES")]),
                c(
                    "HSCAN",
                    vec![key("k2"), int(0), word("MATCH"), pattern("*"), word("COUNT"), int(1)],
                ),
                c("HSTRLEN", vec![key("k2"), v("f")]),
                c("HELLO", vec![int(3)]),
                c("HGETALL", vec![key("k2")]),
                c("HRANDFIELD", vec![key("k2"), int(2), word("WITHVALUES")]),
                c("HDEL", vec![key("k2"), v("f"), v("n"), v("g")]),
                c("EXISTS", vec![key("k2")]),
            ],
        ),
        (
            "sets",
            vec![
                c("SADD", vec![key("k3"), v("a"), v("b"), v("c"), int(1), int(2), int(3)]),
                c("SADD", vec![key("k1"), v("b"), v("c"), v("d")]),
                c("SINTER", vec![key("k3"), key("k1")]),
                c("SINTERCARD", vec![int(2), key("k3"), key("k1"), word("LIMIT"), int(1)]),
                c("SDIFFSTORE", vec![key("k0"), key("k3"), key("k1")]),
                c("SUNIONSTORE", vec![key("k0"), key("k0"), key("k2")]),
                c("SRANDMEMBER", vec![key("k3"), int(-5)]),
                c("SPOP", vec![key("k3"), int(2)]),
                c("SMOVE", vec![key("k3"), key("k1"), v("a")]),
                c("SMISMEMBER", vec![key("k1"), v("a"), v("z")]),
                c("SSCAN", vec![key("k1"), int(0), word("COUNT"), int(1)]),
                c("OBJECT ENCODING", vec![key("k0")]),
                c("HELLO", vec![int(3)]),
                c("SMEMBERS", vec![key("k1")]),
                c("SCARD", vec![key("k1")]),
            ],
        ),
        (
            "zsets",
            vec![
                c(
                    "ZADD",
                    vec![key("k0"), int(1), v("a"), num("1.5"), v("b"), num("inf"), v("c")],
                ),
                c("ZADD", vec![key("k0"), word("NX"), word("GT"), int(1), v("a")]),
                c(
                    "ZADD",
                    vec![key("k0"), word("XX"), word("CH"), word("INCR"), num("-inf"), v("c")],
                ),
                c("ZADD", vec![key("k0"), num("nan"), v("d")]),
                c("ZRANGE", vec![key("k0"), int(0), int(-1), word("WITHSCORES")]),
                c(
                    "ZRANGE",
                    vec![
                        key("k0"),
                        word("(1.5"),
                        num("+inf"),
                        word("BYSCORE"),
                        word("LIMIT"),
                        int(0),
                        int(1),
                    ],
                ),
                c("ZRANGEBYLEX", vec![key("k0"), word("-"), word("+")]),
                c(
                    "ZRANGE",
                    vec![key("k0"), word("[a"), word("(a"), word("BYLEX"), word("REV")],
                ),
                c(
                    "ZUNIONSTORE",
                    vec![
                        key("k1"),
                        int(2),
                        key("k0"),
                        key("k3"),
                        word("WEIGHTS"),
                        int(2),
                        int(3),
                        word("AGGREGATE"),
                        word("MAX"),
                    ],
                ),
                c("ZINCRBY", vec![key("k1"), num("1e308"), v("a")]),
                c("ZRANK", vec![key("k1"), v("a")]),
                c("ZMPOP", vec![int(1), key("k0"), word("MIN"), word("COUNT"), int(2)]),
                c("ZRANDMEMBER", vec![key("k1"), int(-3), word("WITHSCORES")]),
                c("ZREMRANGEBYSCORE", vec![key("k1"), num("-inf"), word("(1.5")]),
                c("HELLO", vec![int(3)]),
                c("ZSCORE", vec![key("k1"), v("a")]),
                c("ZPOPMAX", vec![key("k1"), int(2)]),
                c("ZRANGE", vec![key("k1"), int(0), int(-1), word("WITHSCORES")]),
            ],
        ),
        (
            "collections-expiry",
            vec![
                c("RPUSH", vec![key("k0"), v("a")]),
                c("HSET", vec![key("k1"), v("f"), v("v")]),
                c("SADD", vec![key("k2"), v("m")]),
                c("ZADD", vec![key("k3"), int(1), v("m")]),
                c("PEXPIRE", vec![key("k0"), int(5)]),
                c("PEXPIRE", vec![key("k1"), int(5)]),
                c("COPY", vec![key("k2"), key("num")]),
                c("RENAME", vec![key("k3"), key("k2")]),
                c("SET", vec![key("k1"), v("overwrites"), word("KEEPTTL")]),
                c("SCAN", vec![int(0), word("TYPE"), word("zset")]),
                c("DEBUG", vec![word("DIGEST")]),
                other(advance(Delta::Millis(10))),
                other(Step::Cron),
                c("DBSIZE", vec![]),
            ],
        ),
        (
            "blocking",
            vec![
                c1("BLPOP", vec![key("k0"), int(0)]),
                c1("PING", vec![]),
                c("RPUSH", vec![key("k0"), v("a"), v("b")]),
                c1("BRPOP", vec![key("k1"), key("k0"), num("0.1")]),
                c1("BRPOP", vec![key("k1"), num("0.1")]),
                other(advance(Delta::Millis(200))),
                c1(
                    "BLMOVE",
                    vec![key("k2"), key("k3"), word("LEFT"), word("RIGHT"), int(0)],
                ),
                c("LPUSH", vec![key("k2"), v("x")]),
                c1(
                    "BLMPOP",
                    vec![
                        int(0),
                        int(2),
                        key("k2"),
                        key("k3"),
                        word("RIGHT"),
                        word("COUNT"),
                        int(5),
                    ],
                ),
                c1("BZPOPMIN", vec![key("num"), num("1.5")]),
                c("ZADD", vec![key("num"), int(1), v("m")]),
                c1("BZMPOP", vec![int(1), int(1), key("k1"), word("MAX")]),
                c("CLIENT UNBLOCK", vec![int(2), word("ERROR")]),
                c1("HELLO", vec![int(3)]),
                c1("BLPOP", vec![key("k1"), num("-1")]),
                c1("BLPOP", vec![key("k1"), num("1e308")]),
                c("CLIENT UNBLOCK", vec![int(2), word("TIMEOUT")]),
                c1("BRPOPLPUSH", vec![key("k1"), key("k1"), num("0.1")]),
                c("CLIENT KILL", vec![word("ID"), int(2)]),
                c1("BLPOP", vec![key("k1"), int(1)]),
                c("MULTI", vec![]),
                c("RPUSH", vec![key("k1"), v("y")]),
                c("DEL", vec![key("k1")]),
                c("EXEC", vec![]),
                other(advance(Delta::Seconds(2))),
                c1("LLEN", vec![key("k1")]),
            ],
        ),
        (
            "transactions",
            vec![
                c("MULTI", vec![]),
                c("SET", vec![key("k0"), v("v")]),
                c("INCR", vec![key("k0")]),
                c("BLPOP", vec![key("k1"), int(0)]),
                c("EXEC", vec![]),
                c("WATCH", vec![key("k1")]),
                c1("SET", vec![key("k1"), v("changed")]),
                c("MULTI", vec![]),
                c("GET", vec![key("k1")]),
                c("EXEC", vec![]),
                c("DISCARD", vec![]),
                c("MULTI", vec![]),
                c("MULTI", vec![]),
                c("GET", vec![]),
                c("EXEC", vec![]),
                c("WATCH", vec![key("k2")]),
                other(Step::Reconnect { second: false }),
                c("WATCH", vec![key("k2"), key("k3")]),
                c("UNWATCH", vec![]),
                c("MULTI", vec![]),
                c("WATCH", vec![key("k2")]),
                c("CLIENT ID", vec![]),
                c("HELLO", vec![int(3)]),
                c("EXEC", vec![]),
            ],
        ),
    ];
    themes
        .into_iter()
        .filter_map(|(name, planned)| {
            let steps: Vec<Step> = planned
                .into_iter()
                .filter_map(|p| match p {
                    Planned::Cmd(second, command, args) => implemented(command).then(|| run(second, command, args)),
                    Planned::Other(step) => Some(step),
                })
                .collect();
            steps
                .iter()
                .any(|s| matches!(s, Step::Run { .. }))
                .then(|| (name, script(DebugCommand::Yes, steps)))
        })
        .collect()
}
