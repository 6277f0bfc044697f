//! The hash family: HSET and friends, counters, whole-hash reads, HRANDFIELD and HSCAN.
//!
//! Owns these commands' argument rules, replies and errors. The representation and its encoding
//! conversions belong to `types::hash`; handlers pass in the configured limits and a seed drawn from the
//! server's generator (for a conversion's table). An emptied hash deletes its key; every successful
//! change signals the key as modified.

use bytes::Bytes;
use rand::Rng;

use super::keys::parse_cursor;
use super::sets::{distinct_indices, parse_random_count, ScanOptions};
use super::{CmdResult, CommandError, Ctx, Registry};
use crate::client::ClientState;
use crate::config::ParamRef;
use crate::keyspace::NO_EXPIRE;
use crate::resp::{Protocol, Reply};
use crate::server::Server;
use crate::types::hash::HashLimits;
use crate::types::longdouble::{self, IncrError, Operand};
use crate::types::{number, HashValue, Value};

/// Registers the family's handlers.
pub fn register(r: &mut Registry) {
    r.add("hset", hset);
    r.add("hmset", hmset);
    r.add("hsetnx", hsetnx);
    r.add("hget", hget);
    r.add("hmget", hmget);
    r.add("hdel", hdel);
    r.add("hlen", hlen);
    r.add("hstrlen", hstrlen);
    r.add("hexists", hexists);
    r.add("hkeys", hkeys);
    r.add("hvals", hvals);
    r.add("hgetall", hgetall);
    r.add("hincrby", hincrby);
    r.add("hincrbyfloat", hincrbyfloat);
    r.add("hrandfield", hrandfield);
    r.add("hscan", hscan);
}

/// The configured limits of the compact encoding.
pub fn limits(server: &Server) -> HashLimits {
    static MAX_ENTRIES: ParamRef = ParamRef::new("hash-max-listpack-entries");
    static MAX_VALUE: ParamRef = ParamRef::new("hash-max-listpack-value");
    HashLimits {
        max_entries: server.config.get_i64_of(&MAX_ENTRIES).max(0) as usize,
        max_value: server.config.get_i64_of(&MAX_VALUE).max(0) as usize,
    }
}

/// The hash at `key` for reading: `Ok(None)` when absent, `WrongType` when it holds another type.
fn read_hash<'s>(
    server: &'s mut Server,
    client: &ClientState,
    key: &[u8],
    now: i64,
) -> Result<Option<&'s HashValue>, CommandError> {
    match server.lookup_read(client.db, key, now, !client.no_touch) {
        None => Ok(None),
        Some(entry) => match &entry.value {
            Value::Hash(h) => Ok(Some(h)),
            _ => Err(CommandError::WrongType),
        },
    }
}

/// The hash at `key` for writing: `Ok(None)` when absent, `WrongType` when it holds another type.
fn write_hash<'s>(
    server: &'s mut Server,
    db: usize,
    key: &[u8],
    now: i64,
) -> Result<Option<&'s mut HashValue>, CommandError> {
    match server.lookup_write(db, key, now) {
        None => Ok(None),
        Some(entry) => match &mut entry.value {
            Value::Hash(h) => Ok(Some(h)),
            _ => Err(CommandError::WrongType),
        },
    }
}

/// Applies `f` to the hash at `key`, creating an empty one first when the key is absent; the key is
/// stored only if the hash ends up non-empty. Signals the key as modified when `f` reports a change.
/// `f` gets the limits and a seed from the server's generator for a conversion's table.
fn modify_or_create<T>(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    f: impl FnOnce(&mut HashValue, HashLimits, u64) -> Result<(T, bool), CommandError>,
) -> Result<T, CommandError> {
    let lim = limits(ctx.server);
    let seed = ctx.server.rng.random();
    let (db, now) = (ctx.client.db, ctx.now_ms);
    let (out, changed) = match write_hash(ctx.server, db, key, now)? {
        Some(h) => f(h, lim, seed)?,
        None => {
            let mut h = HashValue::new();
            let (out, changed) = f(&mut h, lim, seed)?;
            if !h.is_empty() {
                let stamp = ctx.access_stamp();
                ctx.db().insert_new(key, Value::Hash(Box::new(h)), NO_EXPIRE, stamp);
            }
            (out, changed)
        }
    };
    if changed {
        ctx.server.signal_modified(db, key);
    }
    Ok(out)
}

/// Sets every (field, value) pair of `pairs`, returning how many fields were new.
fn set_pairs(ctx: &mut Ctx<'_>, cmd: &'static str) -> Result<i64, CommandError> {
    if !ctx.argc().is_multiple_of(2) {
        return Err(CommandError::WrongArity(cmd));
    }
    let argv = ctx.argv;
    modify_or_create(ctx, &argv[1], |h, lim, seed| {
        let mut added = 0;
        for pair in argv[2..].chunks_exact(2) {
            added += h.set(&pair[0], &pair[1], lim, seed) as i64;
        }
        Ok((added, true))
    })
}

/// HSET key field value [field value ...]
fn hset(ctx: &mut Ctx<'_>) -> CmdResult {
    let added = set_pairs(ctx, "hset")?;
    ctx.reply.integer(added);
    Ok(())
}

/// HMSET key field value [field value ...]
fn hmset(ctx: &mut Ctx<'_>) -> CmdResult {
    set_pairs(ctx, "hmset")?;
    ctx.reply.ok();
    Ok(())
}

/// HSETNX key field value
fn hsetnx(ctx: &mut Ctx<'_>) -> CmdResult {
    let argv = ctx.argv;
    let added = modify_or_create(ctx, &argv[1], |h, lim, seed| {
        if h.contains(&argv[2]) {
            return Ok((false, false));
        }
        h.set(&argv[2], &argv[3], lim, seed);
        Ok((true, true))
    })?;
    ctx.reply.integer(added as i64);
    Ok(())
}

/// HGET key field
fn hget(ctx: &mut Ctx<'_>) -> CmdResult {
    let argv = ctx.argv;
    match read_hash(ctx.server, ctx.client, &argv[1], ctx.now_ms)?.and_then(|h| h.get(&argv[2])) {
        Some(v) => ctx.reply.bulk(v),
        None => ctx.reply.null(),
    }
    Ok(())
}

/// HMGET key field [field ...]
fn hmget(ctx: &mut Ctx<'_>) -> CmdResult {
    let argv = ctx.argv;
    let h = read_hash(ctx.server, ctx.client, &argv[1], ctx.now_ms)?;
    ctx.reply.array(argv.len() - 2);
    for field in &argv[2..] {
        match h.and_then(|h| h.get(field)) {
            Some(v) => ctx.reply.bulk(v),
            None => ctx.reply.null(),
        }
    }
    Ok(())
}

/// HDEL key field [field ...]
fn hdel(ctx: &mut Ctx<'_>) -> CmdResult {
    let argv = ctx.argv;
    let (db, now) = (ctx.client.db, ctx.now_ms);
    let Some(h) = write_hash(ctx.server, db, &argv[1], now)? else {
        ctx.reply.integer(0);
        return Ok(());
    };
    let mut removed = 0;
    for field in &argv[2..] {
        if h.remove(field) {
            removed += 1;
            if h.is_empty() {
                break;
            }
        }
    }
    if h.is_empty() {
        ctx.db().remove(&argv[1], now);
    }
    if removed > 0 {
        ctx.server.signal_modified(db, &argv[1]);
    }
    ctx.reply.integer(removed);
    Ok(())
}

/// HLEN key
fn hlen(ctx: &mut Ctx<'_>) -> CmdResult {
    let argv = ctx.argv;
    let n = read_hash(ctx.server, ctx.client, &argv[1], ctx.now_ms)?.map_or(0, |h| h.len());
    ctx.reply.integer(n as i64);
    Ok(())
}

/// HSTRLEN key field
fn hstrlen(ctx: &mut Ctx<'_>) -> CmdResult {
    let argv = ctx.argv;
    let n = read_hash(ctx.server, ctx.client, &argv[1], ctx.now_ms)?
        .and_then(|h| h.get(&argv[2]))
        .map_or(0, |v| v.len());
    ctx.reply.integer(n as i64);
    Ok(())
}

/// HEXISTS key field
fn hexists(ctx: &mut Ctx<'_>) -> CmdResult {
    let argv = ctx.argv;
    let found = read_hash(ctx.server, ctx.client, &argv[1], ctx.now_ms)?.is_some_and(|h| h.contains(&argv[2]));
    ctx.reply.integer(found as i64);
    Ok(())
}

/// What a whole-hash read replies with.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Fields,
    Values,
    Both,
}

/// HKEYS, HVALS and HGETALL.
fn whole(ctx: &mut Ctx<'_>, part: Part) -> CmdResult {
    let argv = ctx.argv;
    let h = read_hash(ctx.server, ctx.client, &argv[1], ctx.now_ms)?;
    let len = h.map_or(0, |h| h.len());
    if part == Part::Both {
        ctx.reply.map(len);
    } else {
        ctx.reply.array(len);
    }
    for (f, v) in h.into_iter().flat_map(|h| h.iter()) {
        if part != Part::Values {
            ctx.reply.bulk(f);
        }
        if part != Part::Fields {
            ctx.reply.bulk(v);
        }
    }
    Ok(())
}

/// HKEYS key
fn hkeys(ctx: &mut Ctx<'_>) -> CmdResult {
    whole(ctx, Part::Fields)
}

/// HVALS key
fn hvals(ctx: &mut Ctx<'_>) -> CmdResult {
    whole(ctx, Part::Values)
}

/// HGETALL key
fn hgetall(ctx: &mut Ctx<'_>) -> CmdResult {
    whole(ctx, Part::Both)
}

/// HINCRBY key field increment
fn hincrby(ctx: &mut Ctx<'_>) -> CmdResult {
    let incr = ctx.arg_i64(3)?;
    let argv = ctx.argv;
    let next = modify_or_create(ctx, &argv[1], |h, lim, seed| {
        let current = match h.get(&argv[2]) {
            Some(v) => number::parse_i64(v).ok_or(CommandError::err("ERR hash value is not an integer"))?,
            None => 0,
        };
        let next = current.checked_add(incr).ok_or(CommandError::Overflow)?;
        let mut buf = [0u8; 20];
        let len = number::format_i64(next, &mut buf);
        h.set(&argv[2], &buf[..len], lim, seed);
        Ok((next, true))
    })?;
    ctx.reply.integer(next);
    Ok(())
}

/// HINCRBYFLOAT key field increment
fn hincrbyfloat(ctx: &mut Ctx<'_>) -> CmdResult {
    let argv = ctx.argv;
    // The increment is checked on its own first: its errors come before any look at the key.
    let from_zero = longdouble::incr(Operand::Int(0), &argv[3]).map_err(|e| match e {
        IncrError::NotFloat => CommandError::NotFloat,
        IncrError::NanOrInfinity => CommandError::err("ERR value is NaN or Infinity"),
    })?;
    let text = modify_or_create(ctx, &argv[1], |h, lim, seed| {
        let text = match h.get(&argv[2]) {
            None => from_zero,
            Some(v) => longdouble::incr(Operand::Text(v), &argv[3]).map_err(|e| match e {
                IncrError::NotFloat => CommandError::err("ERR hash value is not a float"),
                IncrError::NanOrInfinity => CommandError::NanOrInfinity,
            })?,
        };
        h.set(&argv[2], &text, lim, seed);
        Ok((text, true))
    })?;
    ctx.reply.bulk(&text);
    Ok(())
}

/// Writes one HRANDFIELD element: the field, or with values a pair (nested on RESP3).
fn reply_pick(reply: &mut Reply<'_>, field: &[u8], value: &[u8], with_values: bool) {
    if with_values && reply.protocol() == Protocol::Resp3 {
        reply.array(2);
    }
    reply.bulk(field);
    if with_values {
        reply.bulk(value);
    }
}

/// HRANDFIELD key [count [WITHVALUES]]
fn hrandfield(ctx: &mut Ctx<'_>) -> CmdResult {
    let argv: &[Bytes] = ctx.argv;
    let mut count = None;
    let mut with_values = false;
    if argv.len() > 2 {
        let n = parse_random_count(&argv[2])?;
        with_values = match argv.len() {
            3 => false,
            4 if argv[3].eq_ignore_ascii_case(b"withvalues") => true,
            _ => return Err(CommandError::Syntax),
        };
        if with_values && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&n) {
            return Err(CommandError::err("ERR value is out of range"));
        }
        count = Some(n);
    }
    let (db, now) = (ctx.client.db, ctx.now_ms);
    // Looked up once through the server (statistics, access time, type check), then read alongside the
    // generator.
    read_hash(ctx.server, ctx.client, &argv[1], now)?;
    let Server { dbs, rng, .. } = &mut *ctx.server;
    let reply = &mut ctx.reply;
    let h = match dbs[db].peek(&argv[1], now).map(|e| &e.value) {
        Some(Value::Hash(h)) if !h.is_empty() => h,
        _ => {
            match count {
                None => reply.null(),
                Some(_) => reply.array(0),
            }
            return Ok(());
        }
    };
    let len = h.len();
    let Some(count) = count else {
        reply.bulk(h.at(rng.random_range(0..len)).0);
        return Ok(());
    };
    let per = if with_values && reply.protocol() == Protocol::Resp2 {
        2
    } else {
        1
    };
    if count < 0 {
        let n = count.unsigned_abs() as usize;
        reply.array(n * per);
        // The compact encoding walks to a position, so its pairs are gathered once (at most 128 or so).
        let pairs: Vec<(&[u8], &[u8])> = if h.is_compact() { h.iter().collect() } else { Vec::new() };
        for _ in 0..n {
            let i = rng.random_range(0..len);
            let (f, v) = pairs.get(i).copied().unwrap_or_else(|| h.at(i));
            reply_pick(reply, f, v, with_values);
        }
        return Ok(());
    }
    let count = count as usize;
    if count >= len {
        reply.array(len * per);
        for (f, v) in h.iter() {
            reply_pick(reply, f, v, with_values);
        }
        return Ok(());
    }
    let picks = distinct_indices(len, count, rng);
    reply.array(picks.len() * per);
    for i in picks {
        let (f, v) = h.at(i);
        reply_pick(reply, f, v, with_values);
    }
    Ok(())
}

/// HSCAN key cursor [MATCH pattern] [COUNT count]
fn hscan(ctx: &mut Ctx<'_>) -> CmdResult {
    let argv = ctx.argv;
    let cursor = parse_cursor(&argv[2])?;
    let Some(h) = read_hash(ctx.server, ctx.client, &argv[1], ctx.now_ms)? else {
        ScanOptions::reply_empty(ctx);
        return Ok(());
    };
    let opts = ScanOptions::parse(&argv[3..])?;
    let mut found: Vec<(&[u8], &[u8])> = Vec::new();
    let next = h.scan(cursor, opts.count, |f, v| {
        if opts.matches(f) {
            found.push((f, v));
        }
    });
    ScanOptions::reply_header(&mut ctx.reply, next, found.len() * 2);
    for (f, v) in found {
        ctx.reply.bulk(f);
        ctx.reply.bulk(v);
    }
    Ok(())
}
