//! The generic keyspace family: commands that work on keys whatever their type.
//!
//! Owns DEL, UNLINK, EXISTS, TYPE, KEYS, SCAN, RANDOMKEY, RENAME, RENAMENX, COPY, MOVE, TOUCH, DBSIZE,
//! FLUSHDB, FLUSHALL, SWAPDB and OBJECT. Storage and cursors belong to the keyspace; these handlers
//! only apply each command's rules.

use super::{CmdResult, CommandError, Ctx, Registry};
use crate::glob::glob_match;
use crate::keyspace::NO_EXPIRE;
use crate::types::{number, StringValue, Value};

/// Registers the family's handlers.
pub fn register(r: &mut Registry) {
    r.add("del", del);
    r.add("unlink", del);
    r.add("exists", exists);
    r.add("type", type_cmd);
    r.add("keys", keys);
    r.add("scan", scan);
    r.add("randomkey", randomkey);
    r.add("rename", rename);
    r.add("renamenx", renamenx);
    r.add("copy", copy);
    r.add("move", move_cmd);
    r.add("touch", touch);
    r.add("dbsize", dbsize);
    r.add("flushdb", flushdb);
    r.add("flushall", flushall);
    r.add("swapdb", swapdb);
    r.add("object|encoding", object_encoding);
    r.add("object|refcount", object_refcount);
    r.add("object|idletime", object_idletime);
    r.add("object|freq", object_freq);
    r.add("object|help", object_help);
}

const SAME_OBJECT: &str = "ERR source and destination objects are the same";

/// DEL key [key ...] and UNLINK key [key ...]
fn del(ctx: &mut Ctx<'_>) -> CmdResult {
    let now = ctx.now_ms;
    let db = ctx.client.db;
    let mut removed = 0;
    for key in &ctx.argv[1..] {
        if ctx.server.dbs[db].remove(key, now).is_some() {
            ctx.server.signal_modified(db, key);
            removed += 1;
        }
    }
    ctx.reply.integer(removed);
    Ok(())
}

/// EXISTS key [key ...] — a key named twice counts twice.
fn exists(ctx: &mut Ctx<'_>) -> CmdResult {
    let mut found = 0;
    for i in 1..ctx.argc() {
        if ctx
            .server
            .lookup_read(ctx.client.db, &ctx.argv[i], ctx.now_ms, false)
            .is_some()
        {
            found += 1;
        }
    }
    ctx.reply.integer(found);
    Ok(())
}

/// TOUCH key [key ...]
fn touch(ctx: &mut Ctx<'_>) -> CmdResult {
    let mut found = 0;
    for i in 1..ctx.argc() {
        if ctx
            .server
            .lookup_read(ctx.client.db, &ctx.argv[i], ctx.now_ms, true)
            .is_some()
        {
            found += 1;
        }
    }
    ctx.reply.integer(found);
    Ok(())
}

/// TYPE key
fn type_cmd(ctx: &mut Ctx<'_>) -> CmdResult {
    let touch = !ctx.client.no_touch;
    let name = match ctx.server.lookup_read(ctx.client.db, &ctx.argv[1], ctx.now_ms, touch) {
        Some(e) => e.value.type_name(),
        None => "none",
    };
    ctx.reply.simple(name.as_bytes());
    Ok(())
}

/// KEYS pattern
fn keys(ctx: &mut Ctx<'_>) -> CmdResult {
    let pattern = ctx.argv[1].clone();
    let all = pattern.as_ref() == b"*";
    let now = ctx.now_ms;
    let db = &ctx.server.dbs[ctx.client.db];
    let matched: Vec<&[u8]> = db
        .iter(now)
        .map(|e| e.key())
        .filter(|k| all || glob_match(&pattern, k, false))
        .collect();
    ctx.reply.array(matched.len());
    for k in matched {
        ctx.reply.bulk(k);
    }
    Ok(())
}

/// Parses the cursor of SCAN, SSCAN, HSCAN and ZSCAN as the reference does, with C's `strtoul`: an optional sign (a
/// negative number wraps around), decimal digits with leading zeros allowed, nothing after them, no
/// leading space, no overflow. An empty argument is cursor 0.
pub fn parse_cursor(arg: &[u8]) -> Result<u64, CommandError> {
    let invalid = || CommandError::err("ERR invalid cursor");
    if arg.is_empty() {
        return Ok(0);
    }
    let (negative, digits) = match arg[0] {
        b'-' => (true, &arg[1..]),
        b'+' => (false, &arg[1..]),
        _ => (false, arg),
    };
    if digits.is_empty() {
        return Err(invalid());
    }
    let mut value: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return Err(invalid());
        }
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add((d - b'0') as u64))
            .ok_or_else(invalid)?;
    }
    Ok(if negative { value.wrapping_neg() } else { value })
}

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
fn scan(ctx: &mut Ctx<'_>) -> CmdResult {
    let cursor = parse_cursor(ctx.arg(1))?;
    let mut count: i64 = 10;
    let mut pattern: Option<Vec<u8>> = None;
    let mut type_filter: Option<Vec<u8>> = None;
    let mut i = 2;
    while i < ctx.argc() {
        let remaining = ctx.argc() - i;
        let opt = ctx.arg(i).to_ascii_lowercase();
        match opt.as_slice() {
            b"count" if remaining >= 2 => {
                count = ctx.arg_i64(i + 1)?;
                if count < 1 {
                    return Err(CommandError::Syntax);
                }
            }
            b"match" if remaining >= 2 => pattern = Some(ctx.arg(i + 1).to_vec()),
            b"type" if remaining >= 2 => type_filter = Some(ctx.arg(i + 1).to_ascii_lowercase()),
            _ => return Err(CommandError::Syntax),
        }
        i += 2;
    }
    let now = ctx.now_ms;
    let db = &ctx.server.dbs[ctx.client.db];
    let mut found: Vec<Vec<u8>> = Vec::new();
    let next = db.scan(cursor, count.min(1 << 20) as usize, now, |e| {
        let type_ok = type_filter
            .as_deref()
            .is_none_or(|t| t == e.value.type_name().as_bytes());
        let match_ok = pattern.as_deref().is_none_or(|p| glob_match(p, e.key(), false));
        if type_ok && match_ok {
            found.push(e.key().to_vec());
        }
    });
    ctx.reply.array(2);
    let mut buf = [0u8; 20];
    let len = number::format_i64(next as i64, &mut buf);
    ctx.reply.bulk(&buf[..len]);
    ctx.reply.array(found.len());
    for k in &found {
        ctx.reply.bulk(k);
    }
    Ok(())
}

/// RANDOMKEY
fn randomkey(ctx: &mut Ctx<'_>) -> CmdResult {
    let now = ctx.now_ms;
    let db = ctx.client.db;
    match ctx.server.dbs[db].random_key(&mut ctx.server.rng, now) {
        Some(k) => ctx.reply.bulk(&k),
        None => ctx.reply.null(),
    }
    Ok(())
}

/// The shared body of RENAME and RENAMENX. Returns whether the key was renamed.
fn rename_generic(ctx: &mut Ctx<'_>, only_if_absent: bool) -> Result<bool, CommandError> {
    let (src, dst) = (ctx.argv[1].clone(), ctx.argv[2].clone());
    let now = ctx.now_ms;
    let db = ctx.client.db;
    if ctx.server.lookup_write(db, &src, now).is_none() {
        return Err(CommandError::NoSuchKey);
    }
    if src == dst {
        return Ok(!only_if_absent);
    }
    if only_if_absent && ctx.server.lookup_write(db, &dst, now).is_some() {
        return Ok(false);
    }
    let stamp = ctx.access_stamp();
    let Some((value, expire)) = ctx.server.dbs[db].take_entry(&src, now) else {
        return Err(CommandError::NoSuchKey);
    };
    let d = &mut ctx.server.dbs[db];
    d.remove(&dst, now);
    d.insert_new(&dst, value, expire.unwrap_or(NO_EXPIRE), stamp);
    ctx.server.signal_modified(db, &src);
    ctx.server.signal_modified(db, &dst);
    ctx.server.signal_key_ready(db, &dst);
    Ok(true)
}

/// RENAME key newkey
fn rename(ctx: &mut Ctx<'_>) -> CmdResult {
    rename_generic(ctx, false)?;
    ctx.reply.ok();
    Ok(())
}

/// RENAMENX key newkey
fn renamenx(ctx: &mut Ctx<'_>) -> CmdResult {
    let done = rename_generic(ctx, true)?;
    ctx.reply.integer(done as i64);
    Ok(())
}

/// Parses a database index argument and checks it exists.
fn db_index(ctx: &Ctx<'_>, arg: usize) -> Result<usize, CommandError> {
    let n = ctx.arg_i64(arg)?;
    if n < i32::MIN as i64 || n > i32::MAX as i64 {
        return Err(CommandError::NotInteger);
    }
    if n < 0 || n as usize >= ctx.server.dbs.len() {
        return Err(CommandError::DbIndexOutOfRange);
    }
    Ok(n as usize)
}

/// COPY source destination [DB destination-db] [REPLACE]
fn copy(ctx: &mut Ctx<'_>) -> CmdResult {
    let (src, dst) = (ctx.argv[1].clone(), ctx.argv[2].clone());
    let mut target_db = ctx.client.db;
    let mut replace = false;
    let mut i = 3;
    while i < ctx.argc() {
        let opt = ctx.arg(i).to_ascii_lowercase();
        match opt.as_slice() {
            b"replace" => replace = true,
            b"db" if i + 1 < ctx.argc() => {
                target_db = db_index(ctx, i + 1)?;
                i += 1;
            }
            _ => return Err(CommandError::Syntax),
        }
        i += 1;
    }
    if src == dst && target_db == ctx.client.db {
        return Err(CommandError::err(SAME_OBJECT));
    }
    let now = ctx.now_ms;
    let Some(entry) = ctx.server.lookup_write(ctx.client.db, &src, now) else {
        ctx.reply.integer(0);
        return Ok(());
    };
    let value = entry.value.clone();
    let expire = ctx.server.dbs[ctx.client.db].expire_at(&src).unwrap_or(NO_EXPIRE);
    if ctx.server.dbs[target_db].contains(&dst, now) {
        if !replace {
            ctx.reply.integer(0);
            return Ok(());
        }
        ctx.server.dbs[target_db].remove(&dst, now);
    }
    let stamp = ctx.access_stamp();
    ctx.server.dbs[target_db].insert_new(&dst, value, expire, stamp);
    ctx.server.signal_modified(target_db, &dst);
    ctx.server.signal_key_ready(target_db, &dst);
    ctx.reply.integer(1);
    Ok(())
}

/// MOVE key db
fn move_cmd(ctx: &mut Ctx<'_>) -> CmdResult {
    let n = ctx.arg_i64(2)?;
    if n < i32::MIN as i64 || n > i32::MAX as i64 {
        return Err(CommandError::NotInteger);
    }
    if n < 0 || n as usize >= ctx.server.dbs.len() {
        return Err(CommandError::DbIndexOutOfRange);
    }
    let target = n as usize;
    if target == ctx.client.db {
        return Err(CommandError::err(SAME_OBJECT));
    }
    let key = ctx.argv[1].clone();
    let now = ctx.now_ms;
    let src = ctx.client.db;
    if ctx.server.lookup_write(src, &key, now).is_none() || ctx.server.lookup_write(target, &key, now).is_some() {
        ctx.reply.integer(0);
        return Ok(());
    }
    let stamp = ctx.access_stamp();
    if let Some((value, expire)) = ctx.server.dbs[src].take_entry(&key, now) {
        ctx.server.dbs[target].insert_new(&key, value, expire.unwrap_or(NO_EXPIRE), stamp);
        ctx.server.signal_modified(src, &key);
        ctx.server.signal_modified(target, &key);
        ctx.server.signal_key_ready(target, &key);
    }
    ctx.reply.integer(1);
    Ok(())
}

/// DBSIZE
fn dbsize(ctx: &mut Ctx<'_>) -> CmdResult {
    let n = ctx.db().len();
    ctx.reply.integer(n as i64);
    Ok(())
}

/// Checks the optional ASYNC|SYNC argument of FLUSHDB/FLUSHALL. Freeing is immediate either way.
fn flush_mode(ctx: &Ctx<'_>) -> CmdResult {
    match ctx.argc() {
        1 => Ok(()),
        2 if ctx.arg(1).eq_ignore_ascii_case(b"async") || ctx.arg(1).eq_ignore_ascii_case(b"sync") => Ok(()),
        _ => Err(CommandError::Syntax),
    }
}

/// FLUSHDB [ASYNC|SYNC]
fn flushdb(ctx: &mut Ctx<'_>) -> CmdResult {
    flush_mode(ctx)?;
    ctx.server.signal_flush(ctx.client.db);
    ctx.db().clear();
    ctx.reply.ok();
    Ok(())
}

/// FLUSHALL [ASYNC|SYNC]
fn flushall(ctx: &mut Ctx<'_>) -> CmdResult {
    flush_mode(ctx)?;
    for db in 0..ctx.server.dbs.len() {
        ctx.server.signal_flush(db);
        ctx.server.dbs[db].clear();
    }
    super::persistence::after_flushall(ctx.server, ctx.now_ms);
    ctx.reply.ok();
    Ok(())
}

/// SWAPDB index1 index2
fn swapdb(ctx: &mut Ctx<'_>) -> CmdResult {
    let parse = |arg: &[u8], which: &'static str| -> Result<i64, CommandError> {
        number::parse_i64(arg)
            .filter(|n| *n >= i32::MIN as i64 && *n <= i32::MAX as i64)
            .ok_or(CommandError::err(which))
    };
    let a = parse(ctx.arg(1), "ERR invalid first DB index")?;
    let b = parse(ctx.arg(2), "ERR invalid second DB index")?;
    let count = ctx.server.dbs.len() as i64;
    if a < 0 || a >= count || b < 0 || b >= count {
        return Err(CommandError::DbIndexOutOfRange);
    }
    ctx.server.dbs.swap(a as usize, b as usize);
    ctx.server.signal_swapdb(a as usize, b as usize);
    ctx.reply.ok();
    Ok(())
}

/// Looks a key up for OBJECT without touching its access time; replies null when absent.
fn object_target<'c>(ctx: &'c mut Ctx<'_>) -> Option<&'c crate::keyspace::Entry> {
    let now = ctx.now_ms;
    let db = ctx.client.db;
    let key = ctx.argv[2].clone();
    let found = ctx.server.dbs[db].get(&key, now).is_some();
    if !found {
        ctx.reply.null();
        return None;
    }
    ctx.server.dbs[db].peek(&key, now)
}

/// OBJECT ENCODING key
fn object_encoding(ctx: &mut Ctx<'_>) -> CmdResult {
    if let Some(e) = object_target(ctx) {
        let name = e.value.encoding_name();
        ctx.reply.bulk(name.as_bytes());
    }
    Ok(())
}

/// OBJECT REFCOUNT key — small integers are shared objects in the reference server and report the
/// shared reference count; everything else reports 1.
fn object_refcount(ctx: &mut Ctx<'_>) -> CmdResult {
    if let Some(e) = object_target(ctx) {
        let shared = matches!(&e.value, Value::String(StringValue::Int(n)) if (0..10_000).contains(n));
        let refcount = if shared { i32::MAX as i64 } else { 1 };
        ctx.reply.integer(refcount);
    }
    Ok(())
}

fn lfu_policy(ctx: &Ctx<'_>) -> bool {
    ctx.server
        .config
        .get("maxmemory-policy")
        .is_some_and(|p| p.ends_with("lfu"))
}

/// OBJECT IDLETIME key
fn object_idletime(ctx: &mut Ctx<'_>) -> CmdResult {
    if lfu_policy(ctx) {
        return Err(CommandError::err("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."));
    }
    let now_s = (ctx.now_ms / 1000) as u32;
    if let Some(e) = object_target(ctx) {
        let idle = now_s.saturating_sub(e.access_s);
        ctx.reply.integer(idle as i64);
    }
    Ok(())
}

/// OBJECT FREQ key
fn object_freq(ctx: &mut Ctx<'_>) -> CmdResult {
    if !lfu_policy(ctx) {
        return Err(CommandError::err("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."));
    }
    let now = ctx.now_ms;
    let decay = ctx.server.config.get_i64("lfu-decay-time");
    if let Some(e) = object_target(ctx) {
        let counter = crate::keyspace::access::lfu_decayed(e.access_s, now, decay);
        ctx.reply.integer(counter as i64);
    }
    Ok(())
}

/// OBJECT HELP
fn object_help(ctx: &mut Ctx<'_>) -> CmdResult {
    // The layout follows the reference server's help replies; the wording is keel's own.
    let lines: &[&[u8]] = &[
        b"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        b"ENCODING <key>",
        b"    The internal representation of the value stored at <key>.",
        b"FREQ <key>",
        b"    The logarithmic access-frequency counter of <key> (LFU policies only).",
        b"IDLETIME <key>",
        b"    Seconds since <key> was last read or written (LRU policies only).",
        b"REFCOUNT <key>",
        b"    How many references the value stored at <key> has.",
        b"HELP",
        b"    Print this help.",
    ];
    ctx.reply.array(lines.len());
    for l in lines {
        ctx.reply.simple(l);
    }
    Ok(())
}
