//! DEBUG: the reference server's debugging command, gated by `enable-debug-command`.
//!
//! Owns the subcommands keel implements: SLEEP, SET-ACTIVE-EXPIRE, OBJECT, DIGEST, DIGEST-VALUE,
//! PROTOCOL and HELP, with the reference server's replies and errors. Owns the dataset digest (the
//! reference's SHA1-based algorithm, so digests of the same data match across both servers) and the
//! RDB size estimate `DEBUG OBJECT` reports (including its LZF compression). Other subcommands answer
//! the reference server's unknown-subcommand error.

use sha1::{Digest, Sha1};

use super::server_cmds::{hex, is, protected_action_allowed, reply_help, subcommand_syntax_error, LRU_CLOCK_MAX};
use super::{CmdResult, CommandError, Ctx, Registry};
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

const DEBUG_HELP: &[&str] = &[
    "AOF-FLUSH-SLEEP <microsec>",
    "    Server will sleep before flushing the AOF, this is used for testing.",
    "ASSERT",
    "    Crash by assertion failed.",
    "CHANGE-REPL-ID",
    "    Change the replication IDs of the instance.",
    "    Dangerous: should be used only for testing the replication subsystem.",
    "CONFIG-REWRITE-FORCE-ALL",
    "    Like CONFIG REWRITE but writes all configuration options, including",
    "    keywords not listed in original configuration file or default values.",
    "CRASH-AND-RECOVER [<milliseconds>]",
    "    Hard crash and restart after a <milliseconds> delay (default 0).",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "LEAK <string>",
    "    Create a memory leak of the input string.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "HTSTATS <dbid>",
    "    Return hash table statistics of the specified Redis database.",
    "HTSTATS-KEY <key>",
    "    Like HTSTATS but for the hash table stored at <key>'s value.",
    "LOADAOF",
    "    Flush the AOF buffers on disk and reload the AOF in memory.",
    "REPLICATE <string>",
    "    Replicates the provided string to replicas, allowing data divergence.",
    "MALLCTL <key> [<val>]",
    "    Get or set a malloc tuning integer.",
    "MALLCTL-STR <key> [<val>]",
    "    Get or set a malloc tuning string.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "DROP-CLUSTER-PACKET-FILTER <packet-type>",
    "    Drop all packets that match the filtered type. Set to -1 allow all packets.",
    "OOM",
    "    Crash the server simulating an out-of-memory error.",
    "PANIC",
    "    Crash the server simulating a panic.",
    "POPULATE <count> [<prefix>] [<size>]",
    "    Create <count> string keys named key:<num>. If <prefix> is specified then",
    "    it is used instead of the 'key' prefix. These are not propagated to",
    "    replicas. Cluster slots are not respected so keys not belonging to the",
    "    current node can be created in cluster mode.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: conflicting keys will be loaded from RDB.",
    "    * NOFLUSH: the existing database will not be removed before load, but",
    "      conflicting keys will generate an exception and kill the server.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    "      file to the database.",
    "RESTART [<milliseconds>]",
    "    Graceful restart: save config, db, restart after a <milliseconds> delay (default 0).",
    "SDSLEN <key>",
    "    Show low level SDS string info representing `key` and value.",
    "SEGFAULT",
    "    Crash the server with sigsegv.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "QUICKLIST-PACKED-THRESHOLD <size>",
    "    Sets the threshold for elements to be inserted as plain vs packed nodes",
    "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
    "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
    "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "STRINGMATCH-TEST",
    "    Run a fuzz tester against the stringmatchlen() function.",
    "STRUCTSIZE",
    "    Return the size of different Redis core C structures.",
    "LISTPACK <key>",
    "    Show low level info about the listpack encoding of <key>.",
    "QUICKLIST <key> [<0|1>]",
    "    Show low level info about the quicklist encoding of <key>.",
    "    The optional argument (0 by default) sets the level of detail",
    "CLIENT-EVICTION",
    "    Show low level client eviction pools info (maxmemory-clients).",
    "PAUSE-CRON <0|1>",
    "    Stop periodic cron job processing.",
    "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
    "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
    "    In case NEVER is provided the last observed peak will never be reset",
    "    In case RESET is provided the peak reset time will be restored to the default value",
    "REPLYBUFFER RESIZING <0|1>",
    "    Enable or disable the reply buffer resize cron job",
    "CLUSTERLINK KILL <to|from|all> <node-id>",
    "    Kills the link based on the direction to/from (both) with the provided node.",
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
    } else {
        Err(subcommand_syntax_error(ctx))
    }
}

/// DEBUG SLEEP seconds: the argument is read like C's `strtod` (a numeric prefix, anything else is 0);
/// zero, negative or unrepresentable durations do not sleep.
fn sleep(ctx: &mut Ctx<'_>) -> CmdResult {
    let micros = c_strtod(ctx.arg(2)) * 1_000_000.0;
    // Converting to a 64-bit integer truncates; out-of-range values (and NaN) make the reference's
    // nanosleep fail at once.
    if micros.is_finite() && micros >= 1.0 && micros < 9.223_372_036_854_775_807e18 {
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
        serialized_len(&entry.value),
    );
    ctx.reply.simple(line.as_bytes());
    Ok(())
}

/// The bytes the value takes in an RDB snapshot (compression on, as by default).
fn serialized_len(value: &Value) -> usize {
    match value {
        Value::String(StringValue::Int(n)) => rdb_int_len(*n).unwrap_or_else(|| {
            let digits = n.to_string().len();
            rdb_len_len(digits) + digits
        }),
        Value::String(StringValue::Embstr(b)) => rdb_string_len(b),
        Value::String(StringValue::Raw(b)) => rdb_string_len(b),
    }
}

/// Size of an RDB length prefix.
fn rdb_len_len(len: usize) -> usize {
    match len {
        0..=63 => 1,
        64..=16_383 => 2,
        _ if len as u64 <= u32::MAX as u64 => 5,
        _ => 9,
    }
}

/// Size of an integer in the RDB's compact integer encodings, if it fits one (8, 16 or 32 bits).
fn rdb_int_len(n: i64) -> Option<usize> {
    if (i8::MIN as i64..=i8::MAX as i64).contains(&n) {
        Some(2)
    } else if (i16::MIN as i64..=i16::MAX as i64).contains(&n) {
        Some(3)
    } else if (i32::MIN as i64..=i32::MAX as i64).contains(&n) {
        Some(5)
    } else {
        None
    }
}

/// Size of a string in an RDB: as an integer when it reads as one, LZF-compressed when longer than 20
/// bytes and compression saves at least 4, verbatim otherwise.
fn rdb_string_len(s: &[u8]) -> usize {
    let len = s.len();
    if len <= 11 {
        if let Some(size) = number::parse_i64(s).and_then(rdb_int_len) {
            return size;
        }
    }
    if len > 20 {
        if let Some(compressed) = lzf_compress_len(s, len - 4) {
            return 1 + rdb_len_len(compressed) + rdb_len_len(len) + compressed;
        }
    }
    rdb_len_len(len) + len
}

/// The length LZF (liblzf 3.6 as the reference server builds it: 2^16 hash slots, "very fast" mode)
/// compresses `input` to, or `None` when the result would not fit in `out_len` bytes.
fn lzf_compress_len(input: &[u8], out_len: usize) -> Option<usize> {
    const HLOG: u32 = 16;
    const HSIZE: usize = 1 << HLOG;
    const MAX_LIT: usize = 1 << 5;
    const MAX_OFF: usize = 1 << 13;
    const MAX_REF: usize = (1 << 8) + (1 << 3);
    let in_len = input.len();
    if in_len == 0 || out_len == 0 {
        return None;
    }
    let at = |i: usize| input.get(i).copied().map_or(0, u32::from);
    let idx = |h: u32| ((h >> (3 * 8 - HLOG)).wrapping_sub(h.wrapping_mul(5)) as usize) & (HSIZE - 1);
    let first = |p: usize| (at(p) << 8) | at(p + 1);
    let next = |v: u32, p: usize| (v << 8) | at(p + 2);
    let same = |a: usize, b: usize| a < in_len && b < in_len && input[a] == input[b];
    // Slot value 0 means "no earlier position": position 0 never qualifies as a match anyway.
    let mut htab = vec![0usize; HSIZE];
    // Room past `out_len` so that writes the C code makes just beyond its limit stay in bounds here.
    let mut out = vec![0u8; out_len + 8];
    let (mut ip, mut op) = (0usize, 1usize);
    let mut lit = 0usize;
    let mut hval = first(0);
    while ip + 2 < in_len {
        hval = next(hval, ip);
        let slot = idx(hval);
        let r = htab[slot];
        htab[slot] = ip;
        let off = ip.wrapping_sub(r).wrapping_sub(1);
        if off < MAX_OFF && r > 0 && same(r, ip) && same(r + 1, ip + 1) && same(r + 2, ip + 2) {
            let mut len = 2;
            let maxlen = (in_len - ip - len).min(MAX_REF);
            if op - usize::from(lit == 0) + 3 + 1 >= out_len {
                return None;
            }
            out[op - lit - 1] = (lit as u8).wrapping_sub(1);
            if lit == 0 {
                op -= 1;
            }
            'matching: {
                if maxlen > 16 {
                    for _ in 0..16 {
                        len += 1;
                        if !same(r + len, ip + len) {
                            break 'matching;
                        }
                    }
                }
                loop {
                    len += 1;
                    if !(len < maxlen && same(r + len, ip + len)) {
                        break;
                    }
                }
            }
            len -= 2;
            ip += 1;
            if len < 7 {
                out[op] = ((off >> 8) + (len << 5)) as u8;
                op += 1;
            } else {
                out[op] = ((off >> 8) + (7 << 5)) as u8;
                out[op + 1] = (len - 7) as u8;
                op += 2;
            }
            out[op] = off as u8;
            op += 2;
            lit = 0;
            ip += len + 1;
            if ip + 2 >= in_len {
                break;
            }
            ip -= 2;
            hval = first(ip);
            hval = next(hval, ip);
            htab[idx(hval)] = ip;
            ip += 1;
            hval = next(hval, ip);
            htab[idx(hval)] = ip;
            ip += 1;
        } else {
            if op >= out_len {
                return None;
            }
            lit += 1;
            out[op] = input[ip];
            op += 1;
            ip += 1;
            if lit == MAX_LIT {
                out[op - lit - 1] = (lit - 1) as u8;
                lit = 0;
                op += 1;
            }
        }
    }
    if op + 3 > out_len {
        return None;
    }
    while ip < in_len {
        lit += 1;
        out[op] = input[ip];
        op += 1;
        ip += 1;
        if lit == MAX_LIT {
            out[op - lit - 1] = (lit - 1) as u8;
            lit = 0;
            op += 1;
        }
    }
    out[op - lit - 1] = (lit as u8).wrapping_sub(1);
    if lit == 0 {
        op -= 1;
    }
    Some(op)
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
    }
}

/// Folds a value (and whether its key has a TTL) into `digest`, as the reference's `xorObjectDigest`.
/// Each new type adds a match arm here with the reference's element walk.
fn value_digest(digest: &mut Digest20, value: &Value, has_ttl: bool) {
    mix_digest(digest, &type_code(value).to_be_bytes());
    match value {
        Value::String(s) => s.with_bytes(|b| mix_digest(digest, b)),
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
            value_digest(&mut key_digest, &entry.value, entry.expire_at().is_some());
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
                value_digest(&mut digest, &entry.value, entry.expire_at().is_some());
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
