//! The string family: GET, SET and its variants, multi-key MGET/MSET, counters, ranges, APPEND and LCS.
//!
//! Owns these commands' argument rules, replies and errors. Storage and encodings belong to
//! `types::string`; expiry bookkeeping to the keyspace.

use super::{CmdResult, CommandError, Ctx, Registry};
use crate::keyspace::NO_EXPIRE;
use crate::types::{StringValue, Value};

/// Registers the family's handlers.
pub fn register(r: &mut Registry) {
    r.add("get", get);
    r.add("set", set);
    r.add("setnx", setnx);
    r.add("setex", setex);
    r.add("psetex", psetex);
    r.add("getset", getset);
    r.add("getdel", getdel);
    r.add("getex", getex);
    r.add("mget", mget);
    r.add("mset", mset);
    r.add("msetnx", msetnx);
    r.add("append", append);
    r.add("strlen", strlen);
    r.add("incr", incr);
    r.add("decr", decr);
    r.add("incrby", incrby);
    r.add("decrby", decrby);
    r.add("incrbyfloat", incrbyfloat);
    r.add("getrange", getrange);
    r.add("substr", getrange);
    r.add("setrange", setrange);
    r.add("lcs", lcs);
}

/// Reads a string key: `Ok(None)` when absent, `WrongType` when it holds another type.
fn read_string<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> Result<Option<&'c mut StringValue>, CommandError> {
    let touch = !ctx.client.no_touch;
    match ctx.server.lookup_read(ctx.client.db, key, ctx.now_ms, touch) {
        None => Ok(None),
        Some(entry) => match &mut entry.value {
            Value::String(s) => Ok(Some(s)),
            _ => Err(CommandError::WrongType),
        },
    }
}

/// Replies with a string key's value, or null. Shared by GET and the GET option of SET.
fn reply_value(ctx: &mut Ctx<'_>, key: &[u8]) -> CmdResult {
    let touch = !ctx.client.no_touch;
    match ctx.server.lookup_read(ctx.client.db, key, ctx.now_ms, touch) {
        None => ctx.reply.null(),
        Some(entry) => match &entry.value {
            Value::String(StringValue::Int(n)) => ctx.reply.bulk_i64(*n),
            Value::String(StringValue::Embstr(b)) => ctx.reply.bulk(b),
            Value::String(StringValue::Raw(b)) => ctx.reply.bulk(b),
            _ => return Err(CommandError::WrongType),
        },
    }
    Ok(())
}

/// Stores a string value, clearing the TTL unless `keep_ttl`.
fn store(ctx: &mut Ctx<'_>, key: &[u8], value: StringValue, keep_ttl: bool) {
    let stamp = ctx.access_stamp();
    let now = ctx.now_ms;
    ctx.db().set(key, Value::String(value), keep_ttl, now, stamp);
    ctx.server.signal_modified(ctx.client.db, key);
}

/// GET key
fn get(ctx: &mut Ctx<'_>) -> CmdResult {
    let argv = ctx.argv;
    let key = &argv[1];
    reply_value(ctx, key)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Condition {
    Always,
    IfAbsent,
    IfPresent,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ExpireUnit {
    Seconds,
    Millis,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ExpireKind {
    None,
    Relative(ExpireUnit),
    Absolute(ExpireUnit),
    KeepTtl,
    Persist,
}

/// Options shared by SET and GETEX.
struct SetOptions {
    condition: Condition,
    get: bool,
    expire: ExpireKind,
    expire_arg: usize,
}

/// Parses SET's (or, with `getex`, GETEX's) options starting at argument `from`.
fn parse_set_options(ctx: &Ctx<'_>, from: usize, getex: bool) -> Result<SetOptions, CommandError> {
    let mut o = SetOptions {
        condition: Condition::Always,
        get: false,
        expire: ExpireKind::None,
        expire_arg: 0,
    };
    let mut j = from;
    while j < ctx.argc() {
        let opt = ctx.arg(j);
        let has_next = j + 1 < ctx.argc();
        let timed = matches!(o.expire, ExpireKind::Relative(_) | ExpireKind::Absolute(_));
        let lower = opt.to_ascii_lowercase();
        let set_only = !getex;
        match lower.as_slice() {
            b"nx" if set_only && o.condition != Condition::IfPresent => o.condition = Condition::IfAbsent,
            b"xx" if set_only && o.condition != Condition::IfAbsent => o.condition = Condition::IfPresent,
            b"get" if set_only => o.get = true,
            b"keepttl" if set_only && !timed && o.expire != ExpireKind::Persist => o.expire = ExpireKind::KeepTtl,
            b"persist" if getex && !timed && o.expire != ExpireKind::KeepTtl => o.expire = ExpireKind::Persist,
            b"ex" | b"px" | b"exat" | b"pxat" if has_next => {
                let kind = match lower.as_slice() {
                    b"ex" => ExpireKind::Relative(ExpireUnit::Seconds),
                    b"px" => ExpireKind::Relative(ExpireUnit::Millis),
                    b"exat" => ExpireKind::Absolute(ExpireUnit::Seconds),
                    _ => ExpireKind::Absolute(ExpireUnit::Millis),
                };
                // The same option may repeat (the last wins); two different ones conflict.
                if o.expire != ExpireKind::None && o.expire != kind {
                    return Err(CommandError::Syntax);
                }
                o.expire = kind;
                o.expire_arg = j + 1;
                j += 1;
            }
            _ => return Err(CommandError::Syntax),
        }
        j += 1;
    }
    Ok(o)
}

/// Turns an expire argument into an absolute Unix-ms time, with the checks and error texts of the
/// reference server.
fn expire_at(ctx: &Ctx<'_>, kind: ExpireKind, arg: usize, cmd: &'static str) -> Result<i64, CommandError> {
    let n = ctx.arg_i64(arg)?;
    let unit = match kind {
        ExpireKind::Relative(u) | ExpireKind::Absolute(u) => u,
        _ => return Ok(NO_EXPIRE),
    };
    if n <= 0 || (unit == ExpireUnit::Seconds && n > i64::MAX / 1000) {
        return Err(CommandError::InvalidExpireTime(cmd));
    }
    let ms = if unit == ExpireUnit::Seconds { n * 1000 } else { n };
    let at = match kind {
        ExpireKind::Relative(_) => ms.checked_add(ctx.now_ms).ok_or(CommandError::InvalidExpireTime(cmd))?,
        _ => ms,
    };
    Ok(at)
}

/// The common tail of SET, SETNX, SETEX, PSETEX: condition check, optional GET, store, expiry.
fn set_generic(
    ctx: &mut Ctx<'_>,
    opts: &SetOptions,
    value_arg: usize,
    cmd: &'static str,
    reply_int: bool,
) -> CmdResult {
    let when = match opts.expire {
        ExpireKind::Relative(_) | ExpireKind::Absolute(_) => Some(expire_at(ctx, opts.expire, opts.expire_arg, cmd)?),
        _ => None,
    };
    // The arguments outlive the context's borrows: no reference-count update for the key.
    let argv = ctx.argv;
    let key = &argv[1];
    if opts.get {
        // The old value must be a string even if the SET itself is then skipped.
        read_string(ctx, key)?;
    }
    let now = ctx.now_ms;
    // A plain SET needs no existence check: storing expires a stale old value the same way.
    let found = opts.condition != Condition::Always && ctx.db().contains(key, now);
    if (opts.condition == Condition::IfAbsent && found) || (opts.condition == Condition::IfPresent && !found) {
        if opts.get {
            reply_value(ctx, key)?;
        } else if reply_int {
            ctx.reply.integer(0);
        } else {
            ctx.reply.null();
        }
        return Ok(());
    }
    if opts.get {
        reply_value(ctx, key)?;
    }
    let value = StringValue::from_bytes(&ctx.argv[value_arg]);
    store(ctx, key, value, opts.expire == ExpireKind::KeepTtl);
    if let Some(at) = when {
        ctx.db().set_expire(key, at);
    }
    if !opts.get {
        if reply_int {
            ctx.reply.integer(1);
        } else {
            ctx.reply.ok();
        }
    }
    Ok(())
}

/// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ts-ms|KEEPTTL]
fn set(ctx: &mut Ctx<'_>) -> CmdResult {
    let opts = parse_set_options(ctx, 3, false)?;
    set_generic(ctx, &opts, 2, "set", false)
}

/// SETNX key value
fn setnx(ctx: &mut Ctx<'_>) -> CmdResult {
    let opts = SetOptions {
        condition: Condition::IfAbsent,
        get: false,
        expire: ExpireKind::None,
        expire_arg: 0,
    };
    set_generic(ctx, &opts, 2, "setnx", true)
}

fn set_with_ttl(ctx: &mut Ctx<'_>, unit: ExpireUnit, cmd: &'static str) -> CmdResult {
    let opts = SetOptions {
        condition: Condition::Always,
        get: false,
        expire: ExpireKind::Relative(unit),
        expire_arg: 2,
    };
    set_generic(ctx, &opts, 3, cmd, false)
}

/// SETEX key seconds value
fn setex(ctx: &mut Ctx<'_>) -> CmdResult {
    set_with_ttl(ctx, ExpireUnit::Seconds, "setex")
}

/// PSETEX key milliseconds value
fn psetex(ctx: &mut Ctx<'_>) -> CmdResult {
    set_with_ttl(ctx, ExpireUnit::Millis, "psetex")
}

/// GETSET key value
fn getset(ctx: &mut Ctx<'_>) -> CmdResult {
    let key = ctx.argv[1].clone();
    read_string(ctx, &key)?;
    reply_value(ctx, &key)?;
    let value = StringValue::from_bytes(&ctx.argv[2]);
    store(ctx, &key, value, false);
    Ok(())
}

/// GETDEL key
fn getdel(ctx: &mut Ctx<'_>) -> CmdResult {
    let key = ctx.argv[1].clone();
    if read_string(ctx, &key)?.is_none() {
        ctx.reply.null();
        return Ok(());
    }
    reply_value(ctx, &key)?;
    let now = ctx.now_ms;
    ctx.db().remove(&key, now);
    ctx.server.signal_modified(ctx.client.db, &key);
    Ok(())
}

/// GETEX key [EX s|PX ms|EXAT ts|PXAT ts-ms|PERSIST]
fn getex(ctx: &mut Ctx<'_>) -> CmdResult {
    let opts = parse_set_options(ctx, 2, true)?;
    let key = ctx.argv[1].clone();
    if read_string(ctx, &key)?.is_none() {
        ctx.reply.null();
        return Ok(());
    }
    let when = match opts.expire {
        ExpireKind::Relative(_) | ExpireKind::Absolute(_) => {
            Some(expire_at(ctx, opts.expire, opts.expire_arg, "getex")?)
        }
        _ => None,
    };
    reply_value(ctx, &key)?;
    let now = ctx.now_ms;
    match (opts.expire, when) {
        (ExpireKind::Absolute(_), Some(at)) if at <= now => {
            ctx.db().remove(&key, now);
        }
        (_, Some(at)) => {
            ctx.db().set_expire(&key, at);
        }
        (ExpireKind::Persist, _) => {
            let had_ttl = ctx.db().peek(&key, now).is_some_and(|e| e.has_expire());
            ctx.db().set_expire(&key, NO_EXPIRE);
            if !had_ttl {
                return Ok(());
            }
        }
        _ => return Ok(()),
    }
    ctx.server.signal_modified(ctx.client.db, &key);
    Ok(())
}

/// MGET key [key ...]
fn mget(ctx: &mut Ctx<'_>) -> CmdResult {
    ctx.reply.array(ctx.argc() - 1);
    let touch = !ctx.client.no_touch;
    for i in 1..ctx.argc() {
        match ctx.server.lookup_read(ctx.client.db, &ctx.argv[i], ctx.now_ms, touch) {
            Some(entry) => match &entry.value {
                Value::String(s) => s.with_bytes(|b| ctx.reply.bulk(b)),
                _ => ctx.reply.null(),
            },
            None => ctx.reply.null(),
        }
    }
    Ok(())
}

fn check_pairs(ctx: &Ctx<'_>, cmd: &'static str) -> CmdResult {
    if ctx.argc().is_multiple_of(2) {
        return Err(CommandError::WrongArity(cmd));
    }
    Ok(())
}

fn store_pairs(ctx: &mut Ctx<'_>) {
    for i in (1..ctx.argc()).step_by(2) {
        let key = ctx.argv[i].clone();
        let value = StringValue::from_bytes(&ctx.argv[i + 1]);
        store(ctx, &key, value, false);
    }
}

/// MSET key value [key value ...]
fn mset(ctx: &mut Ctx<'_>) -> CmdResult {
    check_pairs(ctx, "mset")?;
    store_pairs(ctx);
    ctx.reply.ok();
    Ok(())
}

/// MSETNX key value [key value ...]
fn msetnx(ctx: &mut Ctx<'_>) -> CmdResult {
    check_pairs(ctx, "msetnx")?;
    let now = ctx.now_ms;
    for i in (1..ctx.argc()).step_by(2) {
        let key = ctx.argv[i].clone();
        if ctx.db().contains(&key, now) {
            ctx.reply.integer(0);
            return Ok(());
        }
    }
    store_pairs(ctx);
    ctx.reply.integer(1);
    Ok(())
}

/// Refuses a string that would grow past `proto-max-bulk-len`.
fn check_length(ctx: &Ctx<'_>, size: u64, append: u64) -> CmdResult {
    let max = ctx.server.config.get_i64("proto-max-bulk-len") as u64;
    match size.checked_add(append) {
        Some(total) if total <= max => Ok(()),
        _ => Err(CommandError::StringTooLong),
    }
}

/// APPEND key value
fn append(ctx: &mut Ctx<'_>) -> CmdResult {
    let key = ctx.argv[1].clone();
    let value = ctx.argv[2].clone();
    let now = ctx.now_ms;
    let db = ctx.client.db;
    let len = match ctx.server.lookup_write(db, &key, now) {
        None => {
            let stamp = ctx.access_stamp();
            // A new key is stored as SET stores it (so "123" becomes an integer).
            ctx.db()
                .set(&key, Value::String(StringValue::from_bytes(&value)), false, now, stamp);
            value.len()
        }
        Some(entry) => {
            let Value::String(s) = &entry.value else {
                return Err(CommandError::WrongType);
            };
            let current = s.len() as u64;
            check_length(ctx, current, value.len() as u64)?;
            let Some(entry) = ctx.server.lookup_write(db, &key, now) else {
                return Err(CommandError::NoSuchKey);
            };
            let Value::String(s) = &mut entry.value else {
                return Err(CommandError::WrongType);
            };
            let raw = s.make_raw();
            raw.extend_from_slice(&value);
            raw.len()
        }
    };
    ctx.server.signal_modified(db, &key);
    ctx.reply.integer(len as i64);
    Ok(())
}

/// STRLEN key
fn strlen(ctx: &mut Ctx<'_>) -> CmdResult {
    let key = ctx.argv[1].clone();
    let len = read_string(ctx, &key)?.map_or(0, |s| s.len());
    ctx.reply.integer(len as i64);
    Ok(())
}

/// Adds `delta` to the integer at `key` (created as 0), replying with the new value.
fn incr_by(ctx: &mut Ctx<'_>, delta: i64) -> CmdResult {
    // The arguments outlive the context's borrows: no reference-count update for the key.
    let argv = ctx.argv;
    let key = &argv[1];
    let now = ctx.now_ms;
    let db = ctx.client.db;
    let current = match ctx.server.lookup_write(db, key, now) {
        None => 0,
        Some(entry) => {
            let Value::String(s) = &entry.value else {
                return Err(CommandError::WrongType);
            };
            s.as_i64().ok_or(CommandError::NotInteger)?
        }
    };
    let next = current.checked_add(delta).ok_or(CommandError::Overflow)?;
    store(ctx, key, StringValue::Int(next), true);
    ctx.reply.integer(next);
    Ok(())
}

/// INCR key
fn incr(ctx: &mut Ctx<'_>) -> CmdResult {
    incr_by(ctx, 1)
}

/// DECR key
fn decr(ctx: &mut Ctx<'_>) -> CmdResult {
    incr_by(ctx, -1)
}

/// INCRBY key increment
fn incrby(ctx: &mut Ctx<'_>) -> CmdResult {
    let delta = ctx.arg_i64(2)?;
    incr_by(ctx, delta)
}

/// DECRBY key decrement
fn decrby(ctx: &mut Ctx<'_>) -> CmdResult {
    let delta = ctx.arg_i64(2)?;
    if delta == i64::MIN {
        return Err(CommandError::err("ERR decrement would overflow"));
    }
    incr_by(ctx, -delta)
}

/// INCRBYFLOAT key increment
fn incrbyfloat(ctx: &mut Ctx<'_>) -> CmdResult {
    use crate::types::longdouble::{self, IncrError, Operand};
    // The arguments outlive the context's borrows: no reference-count update for the key.
    let argv = ctx.argv;
    let key = &argv[1];
    let now = ctx.now_ms;
    let db = ctx.client.db;
    let current = match ctx.server.lookup_write(db, key, now) {
        None => Ok(longdouble::incr(Operand::Int(0), ctx.arg(2))),
        Some(entry) => match &entry.value {
            Value::String(StringValue::Int(n)) => Ok(longdouble::incr(Operand::Int(*n), &ctx.argv[2])),
            Value::String(s) => Ok(s.with_bytes(|b| longdouble::incr(Operand::Text(b), &ctx.argv[2]))),
            _ => Err(CommandError::WrongType),
        },
    }?;
    let text = current.map_err(|e| match e {
        IncrError::NotFloat => CommandError::NotFloat,
        IncrError::NanOrInfinity => CommandError::NanOrInfinity,
    })?;
    // The result is stored as the text it replies with, never as an integer.
    let value = if text.len() <= crate::types::string::EMBSTR_MAX_LEN {
        StringValue::Embstr(text.as_slice().into())
    } else {
        StringValue::raw(text.clone())
    };
    store(ctx, key, value, true);
    ctx.reply.bulk(&text);
    Ok(())
}

/// GETRANGE key start end (and its old name SUBSTR)
fn getrange(ctx: &mut Ctx<'_>) -> CmdResult {
    let mut start = ctx.arg_i64(2)?;
    let mut end = ctx.arg_i64(3)?;
    let key = ctx.argv[1].clone();
    let Some(s) = read_string(ctx, &key)? else {
        ctx.reply.bulk(b"");
        return Ok(());
    };
    let bytes = s.to_vec();
    let len = bytes.len() as i64;
    if start < 0 && end < 0 && start > end {
        ctx.reply.bulk(b"");
        return Ok(());
    }
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        ctx.reply.bulk(b"");
    } else {
        ctx.reply.bulk(&bytes[start as usize..=end as usize]);
    }
    Ok(())
}

/// SETRANGE key offset value
fn setrange(ctx: &mut Ctx<'_>) -> CmdResult {
    let offset = ctx.arg_i64(2)?;
    if offset < 0 {
        return Err(CommandError::OffsetOutOfRange);
    }
    let key = ctx.argv[1].clone();
    let value = ctx.argv[2 + 1].clone();
    let now = ctx.now_ms;
    let db = ctx.client.db;
    let current_len = match ctx.server.lookup_write(db, &key, now) {
        None => None,
        Some(entry) => {
            let Value::String(s) = &entry.value else {
                return Err(CommandError::WrongType);
            };
            Some(s.len())
        }
    };
    if value.is_empty() {
        ctx.reply.integer(current_len.unwrap_or(0) as i64);
        return Ok(());
    }
    check_length(ctx, offset as u64, value.len() as u64)?;
    let offset = offset as usize;
    let new_len = match current_len {
        None => {
            let mut buf = vec![0u8; offset + value.len()];
            buf[offset..].copy_from_slice(&value);
            let len = buf.len();
            let stamp = ctx.access_stamp();
            ctx.db()
                .set(&key, Value::String(StringValue::raw(buf)), false, now, stamp);
            len
        }
        Some(_) => {
            let Some(entry) = ctx.server.lookup_write(db, &key, now) else {
                return Err(CommandError::NoSuchKey);
            };
            let Value::String(s) = &mut entry.value else {
                return Err(CommandError::WrongType);
            };
            let raw = s.make_raw();
            if raw.len() < offset + value.len() {
                raw.resize(offset + value.len(), 0);
            }
            raw[offset..offset + value.len()].copy_from_slice(&value);
            raw.len()
        }
    };
    ctx.server.signal_modified(db, &key);
    ctx.reply.integer(new_len as i64);
    Ok(())
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]
fn lcs(ctx: &mut Ctx<'_>) -> CmdResult {
    let (ka, kb) = (ctx.argv[1].clone(), ctx.argv[2].clone());
    let not_string = CommandError::err("ERR The specified keys must contain string values");
    let a = read_string(ctx, &ka)
        .map_err(|_| not_string.clone())?
        .map(|s| s.to_vec())
        .unwrap_or_default();
    let b = read_string(ctx, &kb)
        .map_err(|_| not_string.clone())?
        .map(|s| s.to_vec())
        .unwrap_or_default();
    let (mut want_idx, mut want_len, mut with_match_len) = (false, false, false);
    let mut min_match_len: i64 = 0;
    let mut j = 3;
    while j < ctx.argc() {
        let opt = ctx.arg(j).to_ascii_lowercase();
        let more = ctx.argc() - 1 - j;
        match opt.as_slice() {
            b"idx" => want_idx = true,
            b"len" => want_len = true,
            b"withmatchlen" => with_match_len = true,
            b"minmatchlen" if more > 0 => {
                min_match_len = ctx.arg_i64(j + 1)?.max(0);
                j += 1;
            }
            _ => return Err(CommandError::Syntax),
        }
        j += 1;
    }
    if want_idx && want_len {
        return Err(CommandError::err(
            "ERR If you want both the length and indexes, please just use IDX.",
        ));
    }
    // The dynamic-programming table is transient memory bounded like a bulk string.
    let cells = (a.len() as u64 + 1) * (b.len() as u64 + 1);
    if cells.saturating_mul(4) > ctx.server.config.get_i64("proto-max-bulk-len") as u64 {
        return Err(CommandError::err(
            "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
        ));
    }
    let width = b.len() + 1;
    let mut table = vec![0u32; cells as usize];
    for i in 1..=a.len() {
        for k in 1..=b.len() {
            table[i * width + k] = if a[i - 1] == b[k - 1] {
                table[(i - 1) * width + k - 1] + 1
            } else {
                table[(i - 1) * width + k].max(table[i * width + k - 1])
            };
        }
    }
    let total = table[a.len() * width + b.len()];
    if want_len {
        ctx.reply.integer(total as i64);
        return Ok(());
    }
    // Walk back from the end, collecting the common subsequence and its contiguous ranges, most recent
    // (rightmost) range first.
    let mut result = vec![0u8; total as usize];
    let mut remaining = total as usize;
    let mut ranges: Vec<([usize; 2], [usize; 2])> = Vec::new();
    let mut current: Option<([usize; 2], [usize; 2])> = None;
    let (mut i, mut k) = (a.len(), b.len());
    while i > 0 && k > 0 {
        let mut emit = false;
        if a[i - 1] == b[k - 1] {
            result[remaining - 1] = a[i - 1];
            match &mut current {
                None => current = Some(([i - 1, i - 1], [k - 1, k - 1])),
                Some((ra, rb)) if ra[0] == i && rb[0] == k => {
                    ra[0] -= 1;
                    rb[0] -= 1;
                }
                Some(_) => emit = true,
            }
            if let Some((ra, rb)) = current {
                if ra[0] == 0 || rb[0] == 0 {
                    emit = true;
                }
            }
            remaining -= 1;
            i -= 1;
            k -= 1;
        } else {
            if table[(i - 1) * width + k] > table[i * width + k - 1] {
                i -= 1;
            } else {
                k -= 1;
            }
            if current.is_some() {
                emit = true;
            }
        }
        if emit {
            if let Some((ra, rb)) = current.take() {
                let match_len = ra[1] - ra[0] + 1;
                if min_match_len == 0 || match_len as i64 >= min_match_len {
                    ranges.push((ra, rb));
                }
            }
        }
    }
    if !want_idx {
        ctx.reply.bulk(&result);
        return Ok(());
    }
    ctx.reply.map(2);
    ctx.reply.bulk(b"matches");
    ctx.reply.array(ranges.len());
    for (ra, rb) in &ranges {
        ctx.reply.array(2 + with_match_len as usize);
        ctx.reply.array(2);
        ctx.reply.integer(ra[0] as i64);
        ctx.reply.integer(ra[1] as i64);
        ctx.reply.array(2);
        ctx.reply.integer(rb[0] as i64);
        ctx.reply.integer(rb[1] as i64);
        if with_match_len {
            ctx.reply.integer((ra[1] - ra[0] + 1) as i64);
        }
    }
    ctx.reply.bulk(b"len");
    ctx.reply.integer(total as i64);
    Ok(())
}
