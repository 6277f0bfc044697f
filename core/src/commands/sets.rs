//! The set family: membership, random picks and pops, moves, the algebra commands (SINTER, SUNION,
//! SDIFF and their STORE forms, SINTERCARD) and SSCAN. Also owns the pieces the hash family shares
//! with it: the random-count argument, distinct random positions, and the SCAN option parser.
//!
//! Owns these commands' argument rules, replies and errors. The representation and its encoding
//! conversions belong to `types::set`. An emptied set deletes its key; every successful change signals
//! the key as modified. Results built by the algebra commands go through the same inserts as SADD, so
//! stored results take the encoding the reference server gives them.

use crate::propagate;
use bytes::Bytes;
use rand::rngs::SmallRng;
use rand::Rng;

use super::{CmdResult, CommandError, Ctx, Registry};
use crate::client::ClientState;
use crate::config::ParamRef;
use crate::glob::glob_match;
use crate::keyspace::{Db, NO_EXPIRE};
use crate::resp::Reply;
use crate::server::Server;
use crate::types::{number, SetValue, Value};

/// Registers the family's handlers.
pub fn register(r: &mut Registry) {
    r.add("sadd", sadd);
    r.add("srem", srem);
    r.add("scard", scard);
    r.add("sismember", sismember);
    r.add("smismember", smismember);
    r.add("smembers", smembers);
    r.add("srandmember", srandmember);
    r.add("spop", spop);
    r.add("smove", smove);
    r.add("sinter", sinter);
    r.add("sintercard", sintercard);
    r.add("sinterstore", sinterstore);
    r.add("sunion", sunion);
    r.add("sunionstore", sunionstore);
    r.add("sdiff", sdiff);
    r.add("sdiffstore", sdiffstore);
    r.add("sscan", sscan);
}

// ---------------------------------------------------------------------------------------------------
// Shared with the hash family
// ---------------------------------------------------------------------------------------------------

/// Parses the count of SRANDMEMBER/HRANDFIELD: an integer whose magnitude fits (so `-count` does).
pub fn parse_random_count(arg: &[u8]) -> Result<i64, CommandError> {
    match number::parse_i64(arg) {
        None => Err(CommandError::NotInteger),
        Some(i64::MIN) => Err(CommandError::err(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        )),
        Some(n) => Ok(n),
    }
}

/// `count` distinct positions below `len` (`count < len`), uniformly chosen.
pub fn distinct_indices(len: usize, count: usize, rng: &mut SmallRng) -> Vec<usize> {
    if count.saturating_mul(4) >= len {
        // A partial shuffle of every position.
        let mut all: Vec<usize> = (0..len).collect();
        for i in 0..count.min(len) {
            let j = rng.random_range(i..len);
            all.swap(i, j);
        }
        all.truncate(count);
        all
    } else {
        // Few picks from many: draw until enough distinct ones (expected < 4/3 draws per pick).
        let mut chosen = hashbrown::HashSet::with_capacity(count);
        let mut out = Vec::with_capacity(count);
        while out.len() < count {
            let i = rng.random_range(0..len);
            if chosen.insert(i) {
                out.push(i);
            }
        }
        out
    }
}

/// The options of SSCAN and HSCAN.
pub struct ScanOptions<'a> {
    /// `COUNT`: how many elements the large encodings visit per call.
    pub count: usize,
    /// `MATCH`, unless absent or `*`.
    pub pattern: Option<&'a [u8]>,
}

impl<'a> ScanOptions<'a> {
    /// Parses `[MATCH pattern] [COUNT count]` in any order (options may repeat; the last wins).
    pub fn parse(args: &'a [Bytes]) -> Result<ScanOptions<'a>, CommandError> {
        let mut opts = ScanOptions {
            count: 10,
            pattern: None,
        };
        let mut i = 0;
        while i < args.len() {
            if args.len() - i < 2 {
                return Err(CommandError::Syntax);
            }
            let value = &args[i + 1];
            if args[i].eq_ignore_ascii_case(b"count") {
                let n = number::parse_i64(value).ok_or(CommandError::NotInteger)?;
                if n < 1 {
                    return Err(CommandError::Syntax);
                }
                opts.count = n.min(1 << 20) as usize;
            } else if args[i].eq_ignore_ascii_case(b"match") {
                opts.pattern = (value.as_ref() != b"*").then_some(value.as_ref());
            } else {
                return Err(CommandError::Syntax);
            }
            i += 2;
        }
        Ok(opts)
    }

    /// True when `element` passes the MATCH filter.
    pub fn matches(&self, element: &[u8]) -> bool {
        self.pattern.is_none_or(|p| glob_match(p, element, false))
    }

    /// The reply header of one scan step: the next cursor, then an array of `n` elements.
    pub fn reply_header(reply: &mut Reply<'_>, cursor: u64, n: usize) {
        reply.array(2);
        let mut buf = [0u8; 20];
        let len = number::format_i64(cursor as i64, &mut buf);
        reply.bulk(&buf[..len]);
        reply.array(n);
    }

    /// The reply for a scan of a missing key.
    pub fn reply_empty(ctx: &mut Ctx<'_>) {
        ScanOptions::reply_header(&mut ctx.reply, 0, 0);
    }
}

// ---------------------------------------------------------------------------------------------------
// Lookups
// ---------------------------------------------------------------------------------------------------

/// `set-max-intset-entries`.
fn max_intset(server: &Server) -> usize {
    static MAX_INTSET: ParamRef = ParamRef::new("set-max-intset-entries");
    server.config.get_i64_of(&MAX_INTSET).max(0) as usize
}

/// The set at `key` for reading: `Ok(None)` when absent, `WrongType` when it holds another type.
fn read_set<'s>(
    server: &'s mut Server,
    client: &ClientState,
    key: &[u8],
    now: i64,
) -> Result<Option<&'s SetValue>, CommandError> {
    match server.lookup_read(client.db, key, now, !client.no_touch) {
        None => Ok(None),
        Some(entry) => match &entry.value {
            Value::Set(s) => Ok(Some(s)),
            _ => Err(CommandError::WrongType),
        },
    }
}

/// The set at `key` for writing: `Ok(None)` when absent, `WrongType` when it holds another type.
fn write_set<'s>(
    server: &'s mut Server,
    db: usize,
    key: &[u8],
    now: i64,
) -> Result<Option<&'s mut SetValue>, CommandError> {
    match server.lookup_write(db, key, now) {
        None => Ok(None),
        Some(entry) => match &mut entry.value {
            Value::Set(s) => Ok(Some(s)),
            _ => Err(CommandError::WrongType),
        },
    }
}

/// Like [`write_set`], with the server's generator alongside (for commands that draw while they hold
/// the set).
fn write_set_with_rng<'s>(
    server: &'s mut Server,
    db: usize,
    key: &[u8],
    now: i64,
) -> Result<Option<(&'s mut SetValue, &'s mut SmallRng)>, CommandError> {
    if write_set(server, db, key, now)?.is_none() {
        return Ok(None);
    }
    let Server { dbs, rng, .. } = server;
    match dbs[db].get_mut(key, now).map(|e| &mut e.value) {
        Some(Value::Set(s)) => Ok(Some((s, rng))),
        _ => Ok(None),
    }
}

/// Removes `key` when its set became empty, and signals it as modified.
fn after_removal(ctx: &mut Ctx<'_>, key: &[u8], now_empty: bool) {
    let (db, now) = (ctx.client.db, ctx.now_ms);
    if now_empty {
        ctx.server.dbs[db].remove(key, now);
    }
    ctx.server.signal_modified(db, key);
}

// ---------------------------------------------------------------------------------------------------
// Single-set commands
// ---------------------------------------------------------------------------------------------------

/// SADD key member [member ...]
fn sadd(ctx: &mut Ctx<'_>) -> CmdResult {
    let argv = ctx.argv;
    let max = max_intset(ctx.server);
    let (db, now) = (ctx.client.db, ctx.now_ms);
    let seed = ctx.server.rng.random();
    let added = match write_set(ctx.server, db, &argv[1], now)? {
        Some(s) => argv[2..].iter().filter(|m| s.insert(m, max, seed)).count(),
        None => {
            let mut s = SetValue::new_for(&argv[2], seed);
            let added = argv[2..].iter().filter(|m| s.insert(m, max, seed)).count();
            let stamp = ctx.access_stamp();
            ctx.db().insert_new(&argv[1], Value::Set(Box::new(s)), NO_EXPIRE, stamp);
            added
        }
    };
    if added > 0 {
        ctx.server.signal_modified(db, &argv[1]);
    }
    ctx.reply.integer(added as i64);
    Ok(())
}

/// SREM key member [member ...]
fn srem(ctx: &mut Ctx<'_>) -> CmdResult {
    let argv = ctx.argv;
    let (db, now) = (ctx.client.db, ctx.now_ms);
    let Some(s) = write_set(ctx.server, db, &argv[1], now)? else {
        ctx.reply.integer(0);
        return Ok(());
    };
    let mut removed = 0;
    for m in &argv[2..] {
        if s.remove(m) {
            removed += 1;
            if s.is_empty() {
                break;
            }
        }
    }
    let empty = s.is_empty();
    if removed > 0 {
        after_removal(ctx, &argv[1], empty);
    }
    ctx.reply.integer(removed);
    Ok(())
}

/// SCARD key
fn scard(ctx: &mut Ctx<'_>) -> CmdResult {
    let argv = ctx.argv;
    let n = read_set(ctx.server, ctx.client, &argv[1], ctx.now_ms)?.map_or(0, |s| s.len());
    ctx.reply.integer(n as i64);
    Ok(())
}

/// SISMEMBER key member
fn sismember(ctx: &mut Ctx<'_>) -> CmdResult {
    let argv = ctx.argv;
    let found = read_set(ctx.server, ctx.client, &argv[1], ctx.now_ms)?.is_some_and(|s| s.contains(&argv[2]));
    ctx.reply.integer(found as i64);
    Ok(())
}

/// SMISMEMBER key member [member ...]
fn smismember(ctx: &mut Ctx<'_>) -> CmdResult {
    let argv = ctx.argv;
    let s = read_set(ctx.server, ctx.client, &argv[1], ctx.now_ms)?;
    ctx.reply.array(argv.len() - 2);
    for m in &argv[2..] {
        ctx.reply.integer(s.is_some_and(|s| s.contains(m)) as i64);
    }
    Ok(())
}

/// SMEMBERS key
fn smembers(ctx: &mut Ctx<'_>) -> CmdResult {
    let argv = ctx.argv;
    let s = read_set(ctx.server, ctx.client, &argv[1], ctx.now_ms)?;
    ctx.reply.set(s.map_or(0, |s| s.len()));
    for m in s.into_iter().flat_map(|s| s.iter()) {
        ctx.reply.bulk(m);
    }
    Ok(())
}

/// SRANDMEMBER key [count]
fn srandmember(ctx: &mut Ctx<'_>) -> CmdResult {
    let argv = ctx.argv;
    let count = match argv.len() {
        2 => None,
        3 => Some(parse_random_count(&argv[2])?),
        _ => return Err(CommandError::Syntax),
    };
    let (db, now) = (ctx.client.db, ctx.now_ms);
    // Looked up once through the server (statistics, access time, type check), then read alongside the
    // generator.
    read_set(ctx.server, ctx.client, &argv[1], now)?;
    let Server { dbs, rng, .. } = &mut *ctx.server;
    let reply = &mut ctx.reply;
    let s = match dbs[db].peek(&argv[1], now).map(|e| &e.value) {
        Some(Value::Set(s)) if !s.is_empty() => s,
        _ => {
            match count {
                None => reply.null(),
                Some(_) => reply.array(0),
            }
            return Ok(());
        }
    };
    let len = s.len();
    let Some(count) = count else {
        reply.bulk(s.at(rng.random_range(0..len)));
        return Ok(());
    };
    if count < 0 {
        let n = count.unsigned_abs() as usize;
        reply.array(n);
        for _ in 0..n {
            reply.bulk(s.at(rng.random_range(0..len)));
        }
        return Ok(());
    }
    let count = count as usize;
    if count >= len {
        reply.array(len);
        for m in s.iter() {
            reply.bulk(m);
        }
        return Ok(());
    }
    let picks = distinct_indices(len, count, rng);
    reply.array(picks.len());
    for i in picks {
        reply.bulk(s.at(i));
    }
    Ok(())
}

/// SPOP key [count]
fn spop(ctx: &mut Ctx<'_>) -> CmdResult {
    let argv = ctx.argv;
    let count = match argv.len() {
        2 => None,
        3 => {
            let n = number::parse_i64(&argv[2])
                .filter(|&n| n >= 0)
                .ok_or(CommandError::err("ERR value is out of range, must be positive"))?;
            Some(n as u64)
        }
        _ => return Err(CommandError::Syntax),
    };
    let max = max_intset(ctx.server);
    let (db, now) = (ctx.client.db, ctx.now_ms);
    // Popped members are kept only when the pop must propagate (as one SREM per member).
    let propagating = ctx.server.propagation.is_enabled();
    let mut popped_all: Vec<Vec<u8>> = Vec::new();
    let Some((s, rng)) = write_set_with_rng(ctx.server, db, &argv[1], now)? else {
        match count {
            None => ctx.reply.null(),
            Some(_) => ctx.reply.set(0),
        }
        return Ok(());
    };
    let len = s.len();
    if len == 0 {
        // Never stored empty; answered like a missing key rather than drawing from an empty range.
        match count {
            None => ctx.reply.null(),
            Some(_) => ctx.reply.set(0),
        }
        return Ok(());
    }
    let Some(count) = count else {
        let popped = s.remove_at(rng.random_range(0..len));
        let empty = s.is_empty();
        ctx.reply.bulk(&popped);
        ctx.server
            .propagation
            .replace(db, propagate::command(&[b"SREM", &argv[1], &popped]));
        after_removal(ctx, &argv[1], empty);
        return Ok(());
    };
    if count == 0 {
        ctx.reply.set(0);
        return Ok(());
    }
    if count >= len as u64 {
        // Everything goes: reply with the whole set and delete the key.
        ctx.reply.set(len);
        for m in s.iter() {
            ctx.reply.bulk(m);
        }
        ctx.server
            .propagation
            .replace(db, propagate::command(&[b"DEL", &argv[1]]));
        after_removal(ctx, &argv[1], true);
        return Ok(());
    }
    let count = count as usize;
    let remaining = len - count;
    ctx.reply.set(count);
    if remaining * 5 > count {
        // Pop one random member at a time.
        for _ in 0..count {
            let i = rng.random_range(0..s.len());
            let popped = s.remove_at(i);
            ctx.reply.bulk(&popped);
            if propagating {
                popped_all.push(popped.to_vec());
            }
        }
    } else {
        // Few remain: build a fresh set of the survivors (which may take the compact encoding again,
        // as in the reference) and reply with everything else.
        let mut keep = distinct_indices(len, remaining, rng);
        keep.sort_unstable();
        // `remaining` is at least 1 here (count < len), so there is a first survivor.
        let first = keep.first().map_or(&b""[..], |&i| s.at(i));
        let seed = rng.random();
        let mut fresh = SetValue::new_for(first, seed);
        for &i in &keep {
            fresh.insert(s.at(i), max, seed);
        }
        let mut next_keep = keep.iter().peekable();
        for (i, m) in s.iter().enumerate() {
            if next_keep.peek() == Some(&&i) {
                next_keep.next();
            } else {
                ctx.reply.bulk(m);
                if propagating {
                    popped_all.push(m.to_vec());
                }
            }
        }
        *s = fresh;
    }
    for m in &popped_all {
        ctx.server
            .propagation
            .replace(db, propagate::command(&[b"SREM", &argv[1], m]));
    }
    after_removal(ctx, &argv[1], false);
    Ok(())
}

/// SMOVE source destination member
fn smove(ctx: &mut Ctx<'_>) -> CmdResult {
    let argv = ctx.argv;
    let (src, dst, member) = (&argv[1], &argv[2], &argv[3]);
    let max = max_intset(ctx.server);
    let (db, now) = (ctx.client.db, ctx.now_ms);
    let Some(s) = write_set(ctx.server, db, src, now)? else {
        ctx.reply.integer(0);
        return Ok(());
    };
    let in_src = s.contains(member);
    match ctx.server.lookup_write(db, dst, now) {
        Some(e) if !matches!(e.value, Value::Set(_)) => return Err(CommandError::WrongType),
        _ => {}
    }
    if src == dst {
        ctx.reply.integer(in_src as i64);
        return Ok(());
    }
    let Some(s) = write_set(ctx.server, db, src, now)? else {
        ctx.reply.integer(0);
        return Ok(());
    };
    if !s.remove(member) {
        ctx.reply.integer(0);
        return Ok(());
    }
    let empty = s.is_empty();
    after_removal(ctx, src, empty);
    let seed = ctx.server.rng.random();
    let added = match write_set(ctx.server, db, dst, now)? {
        Some(d) => d.insert(member, max, seed),
        None => {
            let mut d = SetValue::new_for(member, seed);
            d.insert(member, max, seed);
            let stamp = ctx.access_stamp();
            ctx.db().insert_new(dst, Value::Set(Box::new(d)), NO_EXPIRE, stamp);
            true
        }
    };
    if added {
        ctx.server.signal_modified(db, dst);
    }
    ctx.reply.integer(1);
    Ok(())
}

// ---------------------------------------------------------------------------------------------------
// Set algebra
// ---------------------------------------------------------------------------------------------------

/// Looks up every key of an algebra command (expiring, counting and touching them as the reference
/// does: STORE forms look up for writing), failing with `WrongType` if any holds another type.
fn check_sets(ctx: &mut Ctx<'_>, keys: &[Bytes], store: bool) -> CmdResult {
    let (db, now, touch) = (ctx.client.db, ctx.now_ms, !ctx.client.no_touch);
    for key in keys {
        let entry = if store {
            ctx.server.lookup_write(db, key, now)
        } else {
            ctx.server.lookup_read(db, key, now, touch)
        };
        if entry.is_some_and(|e| !matches!(e.value, Value::Set(_))) {
            return Err(CommandError::WrongType);
        }
    }
    Ok(())
}

/// The sets named by `keys` (after [`check_sets`]), `None` for missing keys.
fn gather<'s>(db: &'s Db, keys: &[Bytes], now: i64) -> Vec<Option<&'s SetValue>> {
    keys.iter()
        .map(|k| match db.peek(k, now).map(|e| &e.value) {
            Some(Value::Set(s)) => Some(&**s),
            _ => None,
        })
        .collect()
}

/// The members of the intersection of `sets`, in the iteration order of the smallest set, stopping
/// after `limit` members (0: no limit). Empty if any set is missing.
fn intersection<'s>(sets: &[Option<&'s SetValue>], limit: usize) -> Vec<&'s [u8]> {
    let mut present: Vec<&SetValue> = Vec::with_capacity(sets.len());
    for s in sets {
        match s {
            Some(s) => present.push(s),
            None => return Vec::new(),
        }
    }
    present.sort_by_key(|s| s.len());
    let Some((first, rest)) = present.split_first() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for m in first.iter() {
        if rest.iter().all(|s| s.contains(m)) {
            out.push(m);
            if limit != 0 && out.len() >= limit {
                break;
            }
        }
    }
    out
}

/// Which algebra operation.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Diff,
}

/// Builds the union or difference of `sets` as a new set, inserting members the way the reference
/// builds its result (so the result's encoding matches).
fn combine(sets: &[Option<&SetValue>], op: SetOp, max: usize, seed: u64) -> SetValue {
    let mut out = SetValue::default();
    match op {
        SetOp::Union => {
            for s in sets.iter().flatten() {
                for m in s.iter() {
                    out.insert(m, max, seed);
                }
            }
        }
        SetOp::Diff => {
            let Some(Some(first)) = sets.first() else {
                return out;
            };
            let others: Vec<&SetValue> = sets[1..].iter().flatten().copied().collect();
            // The reference picks between testing each member of the first set against the others and
            // copying the first set then removing the others' members, by estimated work; the second
            // way can leave a table encoding behind, so the choice is mirrored.
            let one_work = first.len() * (others.len() + 1) / 2;
            let two_work = first.len() + others.iter().map(|s| s.len()).sum::<usize>();
            if one_work <= two_work {
                for m in first.iter() {
                    if !others.iter().any(|s| s.contains(m)) {
                        out.insert(m, max, seed);
                    }
                }
            } else {
                for m in first.iter() {
                    out.insert(m, max, seed);
                }
                for s in &others {
                    if out.is_empty() {
                        break;
                    }
                    for m in s.iter() {
                        out.remove(m);
                    }
                }
            }
        }
    }
    out
}

/// Stores `result` at `dst` (replacing whatever was there, TTL cleared), or deletes `dst` when the
/// result is empty; replies with the result's size.
fn store_result(ctx: &mut Ctx<'_>, dst: &[u8], result: SetValue) {
    let (db, now) = (ctx.client.db, ctx.now_ms);
    let n = result.len();
    if n == 0 {
        if ctx.server.dbs[db].remove(dst, now).is_some() {
            ctx.server.signal_modified(db, dst);
        }
    } else {
        let stamp = ctx.access_stamp();
        ctx.server.dbs[db].set(dst, Value::Set(Box::new(result)), false, now, stamp);
        ctx.server.signal_modified(db, dst);
    }
    ctx.reply.integer(n as i64);
}

/// SINTER key [key ...]
fn sinter(ctx: &mut Ctx<'_>) -> CmdResult {
    let keys = &ctx.argv[1..];
    check_sets(ctx, keys, false)?;
    let sets = gather(&ctx.server.dbs[ctx.client.db], keys, ctx.now_ms);
    let members = intersection(&sets, 0);
    ctx.reply.set(members.len());
    for m in members {
        ctx.reply.bulk(m);
    }
    Ok(())
}

/// SINTERSTORE destination key [key ...]
fn sinterstore(ctx: &mut Ctx<'_>) -> CmdResult {
    let argv = ctx.argv;
    let keys = &argv[2..];
    check_sets(ctx, keys, true)?;
    let max = max_intset(ctx.server);
    let (db, now) = (ctx.client.db, ctx.now_ms);
    let seed = ctx.server.rng.random();
    let sets = gather(&ctx.server.dbs[db], keys, now);
    let mut result = SetValue::default();
    for m in intersection(&sets, 0) {
        result.insert(m, max, seed);
    }
    store_result(ctx, &argv[1], result);
    Ok(())
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit]
fn sintercard(ctx: &mut Ctx<'_>) -> CmdResult {
    let argv = ctx.argv;
    let numkeys = number::parse_i64(&argv[1])
        .filter(|&n| n > 0)
        .ok_or(CommandError::err("ERR numkeys should be greater than 0"))? as u64;
    if numkeys > (argv.len() - 2) as u64 {
        return Err(CommandError::err(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    let keys_end = 2 + numkeys as usize;
    let mut limit = 0usize;
    let mut i = keys_end;
    while i < argv.len() {
        if argv[i].eq_ignore_ascii_case(b"limit") && i + 1 < argv.len() {
            let n = number::parse_i64(&argv[i + 1])
                .filter(|&n| n >= 0)
                .ok_or(CommandError::err("ERR LIMIT can't be negative"))?;
            limit = usize::try_from(n).unwrap_or(usize::MAX);
            i += 2;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    let keys = &argv[2..keys_end];
    check_sets(ctx, keys, false)?;
    let sets = gather(&ctx.server.dbs[ctx.client.db], keys, ctx.now_ms);
    let n = intersection(&sets, limit).len();
    ctx.reply.integer(n as i64);
    Ok(())
}

/// The shared body of SUNION, SDIFF and their STORE forms.
fn union_diff(ctx: &mut Ctx<'_>, op: SetOp, store: bool) -> CmdResult {
    let argv = ctx.argv;
    let keys = if store { &argv[2..] } else { &argv[1..] };
    check_sets(ctx, keys, store)?;
    let max = max_intset(ctx.server);
    let (db, now) = (ctx.client.db, ctx.now_ms);
    let seed = ctx.server.rng.random();
    let sets = gather(&ctx.server.dbs[db], keys, now);
    let result = combine(&sets, op, max, seed);
    if store {
        store_result(ctx, &argv[1], result);
    } else {
        ctx.reply.set(result.len());
        for m in result.iter() {
            ctx.reply.bulk(m);
        }
    }
    Ok(())
}

/// SUNION key [key ...]
fn sunion(ctx: &mut Ctx<'_>) -> CmdResult {
    union_diff(ctx, SetOp::Union, false)
}

/// SUNIONSTORE destination key [key ...]
fn sunionstore(ctx: &mut Ctx<'_>) -> CmdResult {
    union_diff(ctx, SetOp::Union, true)
}

/// SDIFF key [key ...]
fn sdiff(ctx: &mut Ctx<'_>) -> CmdResult {
    union_diff(ctx, SetOp::Diff, false)
}

/// SDIFFSTORE destination key [key ...]
fn sdiffstore(ctx: &mut Ctx<'_>) -> CmdResult {
    union_diff(ctx, SetOp::Diff, true)
}

/// SSCAN key cursor [MATCH pattern] [COUNT count]
fn sscan(ctx: &mut Ctx<'_>) -> CmdResult {
    let argv = ctx.argv;
    let cursor = super::keys::parse_cursor(&argv[2])?;
    let Some(s) = read_set(ctx.server, ctx.client, &argv[1], ctx.now_ms)? else {
        ScanOptions::reply_empty(ctx);
        return Ok(());
    };
    let opts = ScanOptions::parse(&argv[3..])?;
    let mut found: Vec<&[u8]> = Vec::new();
    let next = s.scan(cursor, opts.count, |m| {
        if opts.matches(m) {
            found.push(m);
        }
    });
    ScanOptions::reply_header(&mut ctx.reply, next, found.len());
    for m in found {
        ctx.reply.bulk(m);
    }
    Ok(())
}
