//! DEBUG: the reference server's debugging command, gated by `enable-debug-command`.
//!
//! Owns the subcommands keel implements: SLEEP, SET-ACTIVE-EXPIRE, OBJECT, DIGEST, DIGEST-VALUE,
//! PROTOCOL and HELP, with the reference server's replies and errors (HELP lists keel's subcommands in
//! keel's own words). Owns the dataset digest (the reference's SHA1-based algorithm, so digests of the
//! same data match across both servers). `DEBUG OBJECT`'s RDB size comes from the real serializer
//! ([`crate::persist::rdb`]). Other subcommands answer the reference server's unknown-subcommand error.

use sha1::{Digest, Sha1};

use super::server_cmds::{hex, is, protected_action_allowed, reply_help, subcommand_syntax_error, LRU_CLOCK_MAX};
use super::{CmdResult, CommandError, Ctx, Registry};
use crate::persist::rdb;
use crate::server::{Effect, Server};
use crate::types::{number, StringValue, Value};

/// Registers the family's handlers.
pub fn register(r: &mut Registry) {
    r.add("debug", debug);
}

/// The refusal when `enable-debug-command` does not allow this connection.
const NOT_ALLOWED: &str = "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", \
you can run it from a local connection, otherwise you need to set this option in the configuration file, and then \
restart the server.";

/// A time before any expiry: databases read at this time report every stored key, including those whose
/// TTL has passed but that were not removed yet (DEBUG looks at what is stored, as the reference does).
const BEFORE_ANY_EXPIRY: i64 = i64::MIN;

/// `DEBUG HELP`'s lines: the subcommands keel implements, in keel's words.
const DEBUG_HELP: &[&str] = &[
    "DIGEST",
    "    A hex digest of every key and value in every database (all zeros when there are none).",
    "DIGEST-VALUE [<key> ...]",
    "    A hex digest of each key's value (all zeros for a missing key).",
    "OBJECT <key>",
    "    Internal details of the value at <key>: encoding, refcount, size in an RDB snapshot, LRU clock.",
    "PROTOCOL <type>",
    "    A sample reply of one RESP type: string, integer, double, bignum, null, array, set, map,",
    "    attrib, push, verbatim, true or false.",
    "RELOAD [NOSAVE]",
    "    Save the dataset to the snapshot file (unless NOSAVE), empty the databases and load the file back.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    0 stops removing expired keys in the background (they still expire when read); 1 resumes.",
    "SLEEP <seconds>",
    "    Block the server for <seconds>, fractions allowed.",
];

/// DEBUG subcommand [argument ...]
fn debug(ctx: &mut Ctx<'_>) -> CmdResult {
    let setting = ctx.server.config.get("enable-debug-command");
    if !protected_action_allowed(setting, &ctx.client.info) {
        return Err(CommandError::err(NOT_ALLOWED));
    }
    let sub = ctx.arg(1);
    let argc = ctx.argc();
    if is(sub, "help") && argc == 2 {
        reply_help(ctx, DEBUG_HELP);
        Ok(())
    } else if is(sub, "sleep") && argc == 3 {
        sleep(ctx)
    } else if is(sub, "set-active-expire") && argc == 3 {
        ctx.server.active_expire_enabled = c_atoi(ctx.arg(2)) != 0;
        ctx.reply.ok();
        Ok(())
    } else if is(sub, "object") && argc == 3 {
        object(ctx)
    } else if is(sub, "digest") && argc == 2 {
        let digest = dataset_digest(ctx.server);
        ctx.reply.simple(hex(&digest).as_bytes());
        Ok(())
    } else if is(sub, "digest-value") {
        digest_value(ctx);
        Ok(())
    } else if is(sub, "protocol") && argc == 3 {
        protocol(ctx)
    } else if is(sub, "reload") {
        super::persistence::debug_reload(ctx)
    } else {
        Err(subcommand_syntax_error(ctx))
    }
}

/// DEBUG SLEEP seconds: the argument is read like C's `strtod` (a numeric prefix, anything else is 0);
/// zero, negative or unrepresentable durations do not sleep.
fn sleep(ctx: &mut Ctx<'_>) -> CmdResult {
    let micros = c_strtod(ctx.arg(2)) * 1_000_000.0;
    // Converting to a 64-bit integer truncates; values from 2^63 (`i64::MAX as f64`) up, and NaN, make
    // the reference's nanosleep fail at once.
    if (1.0..i64::MAX as f64).contains(&micros) {
        ctx.server.effects.push(Effect::Sleep { micros: micros as u64 });
    }
    ctx.reply.ok();
    Ok(())
}

/// C's `isspace` in the "C" locale.
fn c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// C's `atoi`: leading spaces, an optional sign, then digits; saturates like `strtol` and keeps the low
/// 32 bits like the conversion to `int`.
fn c_atoi(s: &[u8]) -> i32 {
    let mut i = s.iter().position(|&b| !c_space(b)).unwrap_or(s.len());
    let negative = s.get(i) == Some(&b'-');
    if matches!(s.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let mut n: i64 = 0;
    for &b in s[i..].iter().take_while(|b| b.is_ascii_digit()) {
        let d = (b - b'0') as i64;
        n = if negative {
            n.saturating_mul(10).saturating_sub(d)
        } else {
            n.saturating_mul(10).saturating_add(d)
        };
    }
    n as i32
}

/// C's `strtod` on a byte string: the longest numeric prefix after leading spaces (decimal with an
/// optional exponent, hexadecimal with an optional binary exponent, `inf`, `infinity`, `nan`), 0 when
/// there is none.
fn c_strtod(s: &[u8]) -> f64 {
    let mut i = s.iter().position(|&b| !c_space(b)).unwrap_or(s.len());
    let negative = s.get(i) == Some(&b'-');
    if matches!(s.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let rest = &s[i..];
    let starts = |word: &str| rest.len() >= word.len() && rest[..word.len()].eq_ignore_ascii_case(word.as_bytes());
    let magnitude = if starts("inf") {
        f64::INFINITY
    } else if starts("nan") {
        f64::NAN
    } else if (starts("0x")) && rest.get(2).is_some_and(|b| b.is_ascii_hexdigit() || *b == b'.') {
        hex_float_prefix(&rest[2..]).unwrap_or(0.0)
    } else {
        decimal_prefix(rest)
    };
    if negative {
        -magnitude
    } else {
        magnitude
    }
}

/// The value of the longest decimal floating-point prefix of `s` (no sign), 0 when there is none.
fn decimal_prefix(s: &[u8]) -> f64 {
    let digits = |from: usize| s[from..].iter().take_while(|b| b.is_ascii_digit()).count();
    let int = digits(0);
    let mut end = int;
    let mut frac = 0;
    if s.get(end) == Some(&b'.') {
        frac = digits(end + 1);
        if int + frac > 0 {
            end += 1 + frac;
        }
    }
    if int + frac == 0 {
        return 0.0;
    }
    if matches!(s.get(end), Some(b'e' | b'E')) {
        let mut j = end + 1;
        if matches!(s.get(j), Some(b'-' | b'+')) {
            j += 1;
        }
        let exp = digits(j);
        if exp > 0 {
            end = j + exp;
        }
    }
    std::str::from_utf8(&s[..end])
        .ok()
        .and_then(|t| t.parse::<f64>().ok())
        .unwrap_or(0.0)
}

/// The value of a hexadecimal floating-point prefix (after `0x`), if it has at least one digit.
fn hex_float_prefix(s: &[u8]) -> Option<f64> {
    let mut value = 0.0f64;
    let mut any = false;
    let mut i = 0;
    while let Some(d) = s.get(i).and_then(|b| (*b as char).to_digit(16)) {
        value = value * 16.0 + d as f64;
        any = true;
        i += 1;
    }
    if s.get(i) == Some(&b'.') {
        i += 1;
        let mut scale = 1.0 / 16.0;
        while let Some(d) = s.get(i).and_then(|b| (*b as char).to_digit(16)) {
            value += d as f64 * scale;
            scale /= 16.0;
            any = true;
            i += 1;
        }
    }
    if !any {
        return None;
    }
    if matches!(s.get(i), Some(b'p' | b'P')) {
        let mut j = i + 1;
        let negative = s.get(j) == Some(&b'-');
        if matches!(s.get(j), Some(b'-' | b'+')) {
            j += 1;
        }
        let exp_digits: Vec<u8> = s[j..].iter().copied().take_while(u8::is_ascii_digit).collect();
        if !exp_digits.is_empty() {
            let exp = exp_digits
                .iter()
                .fold(0i32, |e, d| e.saturating_mul(10).saturating_add((d - b'0') as i32));
            value *= 2f64.powi(if negative { -exp } else { exp });
        }
    }
    Some(value)
}

// ---------------------------------------------------------------------------------------------------
// DEBUG OBJECT
// ---------------------------------------------------------------------------------------------------

/// The reference server's shared integer objects: values below this are one object, referenced forever.
const SHARED_INTEGERS: i64 = 10_000;

/// The reference count the reference server reports for a shared object.
const SHARED_REFCOUNT: i64 = i32::MAX as i64;

/// Whether the reference server would store this value as one of its shared integers (it does not
/// when an LRU or LFU eviction policy needs per-key access data).
fn is_shared_integer(server: &Server, value: &Value) -> bool {
    let Value::String(StringValue::Int(n)) = value else {
        return false;
    };
    let policy = server.config.get("maxmemory-policy").unwrap_or("");
    let per_key_lru = policy.ends_with("-lru") || policy.ends_with("-lfu");
    (0..SHARED_INTEGERS).contains(n) && (server.config.get_i64("maxmemory") == 0 || !per_key_lru)
}

/// DEBUG OBJECT key: `Value at:<addr> refcount:<n> encoding:<enc> serializedlength:<rdb bytes>
/// lru:<clock> lru_seconds_idle:<s>`.
fn object(ctx: &mut Ctx<'_>) -> CmdResult {
    let now_s = ctx.now_ms.div_euclid(1000);
    let server = &*ctx.server;
    let Some(entry) = server.dbs[ctx.client.db].peek(ctx.arg(2), BEFORE_ANY_EXPIRY) else {
        return Err(CommandError::NoSuchKey);
    };
    let refcount = if is_shared_integer(server, &entry.value) {
        SHARED_REFCOUNT
    } else {
        1
    };
    let lru = entry.access_s as i64 & LRU_CLOCK_MAX;
    let clock = now_s & LRU_CLOCK_MAX;
    let idle = if clock >= lru {
        clock - lru
    } else {
        clock + (LRU_CLOCK_MAX - lru)
    };
    let line = format!(
        "Value at:{:p} refcount:{refcount} encoding:{} serializedlength:{} lru:{lru} lru_seconds_idle:{idle}",
        &entry.value,
        entry.value.encoding_name(),
        serialized_len(&entry.value, &server.config),
    );
    ctx.reply.simple(line.as_bytes());
    Ok(())
}

/// The bytes the value's object takes in an RDB snapshot (as `rdbcompression` says), from the real
/// serializer: the same figure as the reference's for the same value and encoding.
fn serialized_len(value: &Value, config: &crate::config::Config) -> usize {
    rdb::encode::object_len(value, &rdb::SaveParams::from_config(config))
}

// ---------------------------------------------------------------------------------------------------
// DEBUG DIGEST / DIGEST-VALUE
// ---------------------------------------------------------------------------------------------------

/// A 20-byte digest.
type Digest20 = [u8; 20];

/// XORs SHA1(`data`) into `digest` (order-independent accumulation).
fn xor_digest(digest: &mut Digest20, data: &[u8]) {
    let hash = Sha1::digest(data);
    for (d, h) in digest.iter_mut().zip(hash) {
        *d ^= h;
    }
}

/// Mixes `data` into `digest` order-dependently: XOR its SHA1 in, then replace the digest by its own
/// SHA1.
fn mix_digest(digest: &mut Digest20, data: &[u8]) {
    xor_digest(digest, data);
    let hash = Sha1::digest(&digest[..]);
    digest.copy_from_slice(&hash);
}

/// The reference server's type code of a value (`OBJ_STRING` = 0, `OBJ_LIST` = 1, `OBJ_SET` = 2,
/// `OBJ_ZSET` = 3, `OBJ_HASH` = 4, `OBJ_STREAM` = 6).
fn type_code(value: &Value) -> u32 {
    match value {
        Value::String(_) => 0,
        Value::List(_) => 1,
        Value::Set(_) => 2,
        Value::ZSet(_) => 3,
        Value::Hash(_) => 4,
    }
}

/// Folds a value (and whether its key has a TTL) into `digest`, as the reference's `xorObjectDigest`.
/// Each new type adds a match arm here with the reference's element walk.
fn value_digest(digest: &mut Digest20, value: &Value, has_ttl: bool) {
    mix_digest(digest, &type_code(value).to_be_bytes());
    match value {
        Value::String(s) => s.with_bytes(|b| mix_digest(digest, b)),
        // Lists are ordered: each element is mixed in turn.
        Value::List(l) => l.iter().for_each(|e| mix_digest(digest, e)),
        // Sets are unordered: each member's hash is XORed in.
        Value::Set(s) => s.iter().for_each(|m| xor_digest(digest, m)),
        // Hashes and sorted sets: each pair gets its own digest, XORed in so order does not matter.
        Value::Hash(h) => h.iter().for_each(|(f, v)| {
            let mut pair = [0u8; 20];
            mix_digest(&mut pair, f);
            mix_digest(&mut pair, v);
            xor_digest(digest, &pair);
        }),
        Value::ZSet(z) => z.iter().for_each(|(m, score)| {
            let mut pair = [0u8; 20];
            mix_digest(&mut pair, m);
            mix_digest(&mut pair, number::format_g(score, 17).as_bytes());
            xor_digest(digest, &pair);
        }),
    }
    if has_ttl {
        xor_digest(digest, b"!!expire!!");
    }
}

/// The digest of every database: per non-empty database its index is mixed in, then each key's own
/// digest (key name mixed with its value) is XORed in, so key order does not matter. All zeros when
/// there are no keys.
fn dataset_digest(server: &Server) -> Digest20 {
    let mut total = [0u8; 20];
    for (index, db) in server.dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        mix_digest(&mut total, &(index as u32).to_be_bytes());
        for entry in db.iter(BEFORE_ANY_EXPIRY) {
            let mut key_digest = [0u8; 20];
            mix_digest(&mut key_digest, entry.key());
            value_digest(&mut key_digest, &entry.value, entry.has_expire());
            xor_digest(&mut total, &key_digest);
        }
    }
    total
}

/// DEBUG DIGEST-VALUE [key ...]: each key's value digest (all zeros for a missing key).
fn digest_value(ctx: &mut Ctx<'_>) {
    let argv = ctx.argv;
    let db = &ctx.server.dbs[ctx.client.db];
    let digests: Vec<Digest20> = argv[2..]
        .iter()
        .map(|key| {
            let mut digest = [0u8; 20];
            if let Some(entry) = db.peek(key, BEFORE_ANY_EXPIRY) {
                value_digest(&mut digest, &entry.value, entry.has_expire());
            }
            digest
        })
        .collect();
    ctx.reply.array(digests.len());
    for d in &digests {
        ctx.reply.simple(hex(d).as_bytes());
    }
}

// ---------------------------------------------------------------------------------------------------
// DEBUG PROTOCOL
// ---------------------------------------------------------------------------------------------------

/// DEBUG PROTOCOL type: a sample reply of each RESP type.
fn protocol(ctx: &mut Ctx<'_>) -> CmdResult {
    let name = ctx.arg(2).to_vec();
    let resp3 = ctx.reply.protocol() == crate::resp::Protocol::Resp3;
    let r = &mut ctx.reply;
    match name.to_ascii_lowercase().as_slice() {
        b"string" => r.bulk(b"Hello World"),
        b"integer" => r.integer(12345),
        // The reference's sample value, not an approximation of pi.
        #[allow(clippy::approx_constant)]
        b"double" => r.double(3.141),
        b"bignum" => r.big_number(b"1234567999999999999999999999999999999"),
        b"null" => r.null(),
        b"array" => {
            r.array(3);
            (0..3).for_each(|j| r.integer(j));
        }
        b"set" => {
            r.set(3);
            (0..3).for_each(|j| r.integer(j));
        }
        b"map" => {
            r.map(3);
            for j in 0..3 {
                r.integer(j);
                r.boolean(j == 1);
            }
        }
        b"attrib" => {
            if resp3 {
                r.attribute(1);
                r.bulk(b"key-popularity");
                r.array(2);
                r.bulk(b"key:123");
                r.integer(90);
            }
            r.bulk(b"Some real reply following the attribute");
        }
        b"push" => {
            if !resp3 {
                return Err(CommandError::err("ERR RESP2 is not supported by this command"));
            }
            r.push(2);
            r.bulk(b"server-cpu-usage");
            r.integer(42);
            r.bulk(b"Some real reply following the push reply");
        }
        b"true" => r.boolean(true),
        b"false" => r.boolean(false),
        b"verbatim" => r.verbatim(b"txt", b"This is a verbatim\nstring"),
        _ => {
            return Err(CommandError::err(
                "ERR Wrong protocol type name. Please use one of the following: \
                 string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false",
            ))
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{ClientHandle, ConnInfo, ConnKind};
    use crate::config::Config;
    use crate::server::{ProcessInfo, Server};
    use bytes::Bytes;

    /// When the test clients connect, in Unix ms.
    const T0: i64 = 1_700_000_000_000;

    fn tcp(addr: &str) -> ConnInfo {
        ConnInfo {
            addr: addr.to_string(),
            laddr: "127.0.0.1:6379".to_string(),
            fd: 8,
            kind: ConnKind::Tcp,
        }
    }

    /// A server with `enable-debug-command` set to `setting`.
    fn server_with(setting: &str) -> Server {
        let mut config = Config::default();
        config.set_startup("enable-debug-command", setting).unwrap();
        Server::new(config, 1, T0, ProcessInfo::default())
    }

    fn server() -> (Server, ClientHandle) {
        let mut s = server_with("yes");
        let c = s.connect(tcp("10.1.2.3:5000"), T0);
        (s, c)
    }

    fn exec_at(s: &mut Server, h: ClientHandle, args: &[&[u8]], now_ms: i64) -> String {
        let argv: Vec<Bytes> = args.iter().map(|a| Bytes::copy_from_slice(a)).collect();
        let mut out = Vec::new();
        s.execute(h, &argv, now_ms * 1000, &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Runs a space-separated command at `T0` and returns the reply as text.
    fn run(s: &mut Server, h: ClientHandle, line: &str) -> String {
        let args: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        exec_at(s, h, &args, T0)
    }

    #[test]
    fn refused_unless_enabled_for_this_connection() {
        let refused = format!("-{NOT_ALLOWED}\r\n");
        let mut s = server_with("no");
        let c = s.connect(tcp("127.0.0.1:5000"), T0);
        assert_eq!(run(&mut s, c, "DEBUG HELP"), refused);
        // Arity is checked first, as by the reference server.
        assert_eq!(
            run(&mut s, c, "DEBUG"),
            "-ERR wrong number of arguments for 'debug' command\r\n"
        );

        let mut s = server_with("local");
        let local = s.connect(tcp("127.0.0.1:5000"), T0);
        let local6 = s.connect(tcp("[::1]:5000"), T0);
        let unix = s.connect(
            ConnInfo {
                kind: ConnKind::Unix,
                ..tcp("/tmp/keel.sock")
            },
            T0,
        );
        let other = s.connect(tcp("127.0.0.2:5000"), T0);
        for c in [local, local6, unix] {
            assert_eq!(run(&mut s, c, "DEBUG SET-ACTIVE-EXPIRE 1"), "+OK\r\n");
        }
        assert_eq!(run(&mut s, other, "DEBUG SET-ACTIVE-EXPIRE 1"), refused);
        assert!(NOT_ALLOWED.contains("option is set to \"local\", you can run it from a local connection, otherwise"));
    }

    #[test]
    fn help_and_unknown_subcommands() {
        let (mut s, c) = server();
        let help = run(&mut s, c, "debug help");
        let mut expected = format!("*{}\r\n", DEBUG_HELP.len() + 3);
        expected.push_str("+DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n");
        for line in DEBUG_HELP {
            expected.push_str(&format!("+{line}\r\n"));
        }
        expected.push_str("+HELP\r\n+    Prints this help.\r\n");
        assert_eq!(help, expected);
        // The help documents exactly the subcommands `debug` dispatches, each followed by a description.
        let documented: Vec<&str> = DEBUG_HELP
            .iter()
            .filter(|l| !l.starts_with(' '))
            .map(|l| l.split(' ').next().unwrap_or_default())
            .collect();
        assert_eq!(
            documented,
            [
                "DIGEST",
                "DIGEST-VALUE",
                "OBJECT",
                "PROTOCOL",
                "RELOAD",
                "SET-ACTIVE-EXPIRE",
                "SLEEP"
            ]
        );
        for (i, syntax) in DEBUG_HELP.iter().enumerate().filter(|(_, l)| !l.starts_with(' ')) {
            let description = DEBUG_HELP.get(i + 1).copied().unwrap_or_default();
            assert!(description.starts_with("    "), "{syntax}");
        }
        for (line, sub) in [
            ("DEBUG foo", "foo"),
            ("DEBUG sleep", "sleep"),
            ("DEBUG SET-ACTIVE-EXPIRE 1 2", "SET-ACTIVE-EXPIRE"),
            ("debug digest x", "digest"),
            ("debug object a b", "object"),
            ("DEBUG PROTOCOL", "PROTOCOL"),
            ("DEBUG help x", "help"),
        ] {
            assert_eq!(
                run(&mut s, c, line),
                format!("-ERR unknown subcommand or wrong number of arguments for '{sub}'. Try DEBUG HELP.\r\n"),
                "{line}"
            );
        }
    }

    #[test]
    fn sleep_and_active_expire() {
        let (mut s, c) = server();
        for (arg, micros) in [
            ("0.01", Some(10_000)),
            ("1e-3", Some(1_000)),
            (" 2", Some(2_000_000)),
            ("0x10", Some(16_000_000)),
        ] {
            assert_eq!(exec_at(&mut s, c, &[b"DEBUG", b"SLEEP", arg.as_bytes()], T0), "+OK\r\n");
            assert_eq!(
                s.take_effects(),
                micros
                    .map(|m| Effect::Sleep { micros: m })
                    .into_iter()
                    .collect::<Vec<_>>()
            );
        }
        for arg in ["abc", "-1", "0", "inf", "nan"] {
            assert_eq!(run(&mut s, c, &format!("DEBUG SLEEP {arg}")), "+OK\r\n");
            assert!(s.take_effects().is_empty(), "{arg}");
        }
        for (arg, enabled) in [
            ("0", false),
            ("1", true),
            ("x", false),
            ("2", true),
            ("  -3z", true),
            ("4294967296", false),
        ] {
            assert_eq!(
                exec_at(&mut s, c, &[b"DEBUG", b"set-active-expire", arg.as_bytes()], T0),
                "+OK\r\n"
            );
            assert_eq!(s.active_expire_enabled, enabled, "{arg}");
        }
    }

    #[test]
    fn c_number_parsing() {
        assert_eq!(c_strtod(b"1.5xyz"), 1.5);
        assert_eq!(c_strtod(b"  -2.5e1"), -25.0);
        assert_eq!(c_strtod(b".5"), 0.5);
        assert_eq!(c_strtod(b"5."), 5.0);
        assert_eq!(c_strtod(b"1e"), 1.0);
        assert_eq!(c_strtod(b"."), 0.0);
        assert_eq!(c_strtod(b"0x1p4"), 16.0);
        assert_eq!(c_strtod(b"0xg"), 0.0);
        assert_eq!(c_strtod(b"Infinity"), f64::INFINITY);
        assert_eq!(c_atoi(b"  +42abc"), 42);
        assert_eq!(c_atoi(b"99999999999999999999"), -1);
        assert_eq!(c_atoi(b""), 0);
    }

    #[test]
    fn digests_match_the_reference() {
        let (mut s, c) = server();
        let zeros = "0".repeat(40);
        assert_eq!(run(&mut s, c, "DEBUG DIGEST"), format!("+{zeros}\r\n"));
        assert_eq!(
            run(&mut s, c, "DEBUG DIGEST-VALUE nokey"),
            format!("*1\r\n+{zeros}\r\n")
        );
        assert_eq!(run(&mut s, c, "DEBUG DIGEST-VALUE"), "*0\r\n");
        run(&mut s, c, "SET a 1");
        // Recorded from the reference server for the same data.
        assert_eq!(
            run(&mut s, c, "DEBUG DIGEST"),
            "+943d800368fb9c0e951138f1bc0e313ac769d91f\r\n"
        );
        assert_eq!(
            run(&mut s, c, "DEBUG DIGEST-VALUE a nokey"),
            format!("*2\r\n+b4fc66738120fba0b5aa500ab5c2bf89cea1c5da\r\n+{zeros}\r\n")
        );
        run(&mut s, c, "SET b hello");
        assert_eq!(
            run(&mut s, c, "DEBUG DIGEST"),
            "+2539797405e828ad7a3aa48c536b3eaf2803a421\r\n"
        );
        run(&mut s, c, &format!("SET c {}", "x".repeat(100)));
        assert_eq!(
            run(&mut s, c, "DEBUG DIGEST"),
            "+8c9caeb1d4d8c42c245e3351f0cf8cc62cdcc36e\r\n"
        );
        s.dbs[0].set_expire(b"b", 99_999_999_999_999);
        assert_eq!(
            run(&mut s, c, "DEBUG DIGEST"),
            "+cf3810508d31f56ce64aeb2317aa16cb8b569e4d\r\n"
        );
        assert_eq!(
            run(&mut s, c, "DEBUG DIGEST-VALUE b"),
            "*1\r\n+d037c4eb8a8b36b602fbced4000daeab0714c1e3\r\n"
        );
        run(&mut s, c, "SELECT 5");
        run(&mut s, c, "SET z -42");
        assert_eq!(
            run(&mut s, c, "DEBUG DIGEST"),
            "+a92f88ec287449e8e87133461c0af61c7fada2ac\r\n"
        );

        // The same key in another database digests differently.
        let (mut s, c) = server();
        run(&mut s, c, "SELECT 1");
        run(&mut s, c, "SET k v");
        assert_eq!(
            run(&mut s, c, "DEBUG DIGEST"),
            "+3efb24844f90383a755c8c3b3dd4be484730a360\r\n"
        );
    }

    #[test]
    fn digest_sees_keys_whose_ttl_passed() {
        let (mut s, c) = server();
        run(&mut s, c, "SET a 1");
        s.dbs[0].set_expire(b"a", T0 + 10);
        let before = run(&mut s, c, "DEBUG DIGEST");
        assert_ne!(before, format!("+{}\r\n", "0".repeat(40)));
        let later = exec_at(&mut s, c, &[b"DEBUG", b"DIGEST"], T0 + 1_000);
        assert_eq!(before, later);
        assert!(exec_at(&mut s, c, &[b"DEBUG", b"OBJECT", b"a"], T0 + 1_000).starts_with("+Value at:0x"));
    }

    /// The fields of a DEBUG OBJECT reply after the address.
    fn object_fields(s: &mut Server, c: ClientHandle, key: &str) -> String {
        let reply = run(s, c, &format!("DEBUG OBJECT {key}"));
        let rest = reply.strip_prefix("+Value at:0x").expect("status reply");
        rest.split_once(' ').map(|(_, r)| r.to_string()).unwrap_or_default()
    }

    #[test]
    fn object_reports_encoding_and_rdb_size() {
        let (mut s, c) = server();
        // (value, refcount, encoding, serializedlength) recorded from the reference server.
        let cases: [(String, u64, &str, usize); 12] = [
            ("123".into(), 2_147_483_647, "int", 2),
            ("12345678901".into(), 1, "int", 12),
            ("-5".into(), 1, "int", 2),
            ("9999".into(), 2_147_483_647, "int", 3),
            ("10000".into(), 1, "int", 3),
            ("hello".into(), 1, "embstr", 6),
            ("x".repeat(44), 1, "embstr", 12),
            ("x".repeat(45), 1, "raw", 12),
            ("ab".repeat(30), 1, "raw", 13),
            ("0123".into(), 1, "embstr", 5),
            ("1".repeat(20), 1, "embstr", 21),
            ("abc".repeat(100), 1, "raw", 18),
        ];
        for (i, (value, refcount, encoding, len)) in cases.iter().enumerate() {
            run(&mut s, c, &format!("SET k{i} {value}"));
            assert_eq!(
                object_fields(&mut s, c, &format!("k{i}")),
                format!(
                    "refcount:{refcount} encoding:{encoding} serializedlength:{len} lru:5501184 lru_seconds_idle:0\r\n"
                ),
                "{value}"
            );
        }
        let later = exec_at(&mut s, c, &[b"DEBUG", b"OBJECT", b"k5"], T0 + 42_000);
        assert!(later.ends_with(" lru:5501184 lru_seconds_idle:42\r\n"), "{later}");
        assert_eq!(run(&mut s, c, "DEBUG OBJECT nokey"), "-ERR no such key\r\n");
    }

    #[test]
    fn long_strings_are_sized_lzf_compressed() {
        // Deterministic inputs and the reference server's serialized length for each: stored verbatim
        // when LZF cannot save 4 bytes, compressed (with the reference's exact LZF output) otherwise.
        let cyc = |n: usize, mul: usize, modulo: usize| -> Vec<u8> {
            (0..n).map(|i| (i * mul % modulo) as u8 + b'a').collect()
        };
        let lcg = |n: usize, seed: u64| -> Vec<u8> {
            let mut x = seed;
            (0..n)
                .map(|_| {
                    x = (x * 1_103_515_245 + 12_345) % (1 << 31);
                    (x >> 16) as u8
                })
                .collect()
        };
        let cases: Vec<(Vec<u8>, usize)> = vec![
            (vec![b'x'; 21], 9),
            (vec![b'x'; 25], 12),
            (vec![b'x'; 100], 13),
            (vec![b'x'; 300], 16),
            (vec![b'x'; 1000], 22),
            (vec![b'x'; 5000], 67),
            (cyc(50, 7, 26), 37),
            (cyc(200, 7, 26), 38),
            (cyc(1000, 7, 26), 47),
            (cyc(20000, 7, 26), 267),
            (cyc(300, 3, 11), 26),
            (lcg(24, 24), 25),
            (lcg(100, 100), 102),
            (lcg(500, 500), 502),
            (lcg(3000, 3000), 3002),
            (b"hello world ".repeat(10), 24),
        ];
        let config = crate::config::Config::default();
        for (input, reference) in cases {
            let value = Value::String(StringValue::from_bytes(&input));
            assert_eq!(serialized_len(&value, &config), reference, "{} bytes", input.len());
        }
        // Up to 20 bytes nothing is compressed, however repetitive.
        let twenty = Value::String(StringValue::from_bytes(&[b'x'; 20]));
        assert_eq!(serialized_len(&twenty, &config), 21);
    }

    #[test]
    fn protocol_samples_in_both_protocols() {
        let (mut s, c) = server();
        let c3 = s.connect(tcp("10.1.2.3:5001"), T0);
        run(&mut s, c3, "HELLO 3");
        let cases = [
            ("string", "$11\r\nHello World\r\n", "$11\r\nHello World\r\n"),
            ("integer", ":12345\r\n", ":12345\r\n"),
            ("double", "$5\r\n3.141\r\n", ",3.141\r\n"),
            (
                "bignum",
                "$37\r\n1234567999999999999999999999999999999\r\n",
                "(1234567999999999999999999999999999999\r\n",
            ),
            ("null", "$-1\r\n", "_\r\n"),
            ("array", "*3\r\n:0\r\n:1\r\n:2\r\n", "*3\r\n:0\r\n:1\r\n:2\r\n"),
            ("set", "*3\r\n:0\r\n:1\r\n:2\r\n", "~3\r\n:0\r\n:1\r\n:2\r\n"),
            (
                "map",
                "*6\r\n:0\r\n:0\r\n:1\r\n:1\r\n:2\r\n:0\r\n",
                "%3\r\n:0\r\n#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n",
            ),
            (
                "attrib",
                "$39\r\nSome real reply following the attribute\r\n",
                "|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n$39\r\nSome real reply following the attribute\r\n",
            ),
            (
                "push",
                "-ERR RESP2 is not supported by this command\r\n",
                ">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n$40\r\nSome real reply following the push reply\r\n",
            ),
            (
                "verbatim",
                "$25\r\nThis is a verbatim\nstring\r\n",
                "=29\r\ntxt:This is a verbatim\nstring\r\n",
            ),
            ("true", ":1\r\n", "#t\r\n"),
            ("false", ":0\r\n", "#f\r\n"),
            ("STRING", "$11\r\nHello World\r\n", "$11\r\nHello World\r\n"),
        ];
        for (name, resp2, resp3) in cases {
            assert_eq!(run(&mut s, c, &format!("DEBUG PROTOCOL {name}")), resp2, "{name}");
            assert_eq!(run(&mut s, c3, &format!("DEBUG PROTOCOL {name}")), resp3, "{name}");
        }
        assert_eq!(
            run(&mut s, c, "DEBUG PROTOCOL foo"),
            "-ERR Wrong protocol type name. Please use one of the following: \
             string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false\r\n"
        );
    }
}
