//! The list family: LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LRANGE LINDEX LSET LINSERT LREM LTRIM LPOS
//! RPOPLPUSH LMOVE LMPOP.
//!
//! Owns these commands' argument rules, the order in which they check arguments, key type and existence
//! (which decides which error a client sees), their replies, and the rule that an emptied list deletes
//! its key. The representation belongs to `types::list`; blocking variants to the blocking commands.

use bytes::Bytes;

use super::{CmdResult, CommandError, Ctx, Registry};
use crate::client::ClientState;
use crate::keyspace::NO_EXPIRE;
use crate::server::Server;
use crate::types::list::{clamp_range, resolve_index, End};
use crate::types::{number, ListValue, Value};

/// Registers the family's handlers.
pub fn register(r: &mut Registry) {
    r.add("lpush", lpush);
    r.add("rpush", rpush);
    r.add("lpushx", lpushx);
    r.add("rpushx", rpushx);
    r.add("lpop", lpop);
    r.add("rpop", rpop);
    r.add("llen", llen);
    r.add("lrange", lrange);
    r.add("lindex", lindex);
    r.add("lset", lset);
    r.add("linsert", linsert);
    r.add("lrem", lrem);
    r.add("ltrim", ltrim);
    r.add("lpos", lpos);
    r.add("rpoplpush", rpoplpush);
    r.add("lmove", lmove);
    r.add("lmpop", lmpop);
}

/// Error text of a bad pop count.
const POP_COUNT_ERR: &str = "ERR value is out of range, must be positive";

/// Argument `i` of `argv` as a strict integer. (A free function so it can run while a key is borrowed.)
fn int_arg(argv: &[Bytes], i: usize) -> Result<i64, CommandError> {
    number::parse_i64(&argv[i]).ok_or(CommandError::NotInteger)
}

/// Argument `i` as an integer of at least `min`; anything else fails with `message`.
fn int_at_least(argv: &[Bytes], i: usize, min: i64, message: &'static str) -> Result<i64, CommandError> {
    match number::parse_i64(&argv[i]) {
        Some(n) if n >= min => Ok(n),
        _ => Err(CommandError::err(message)),
    }
}

/// Parses a LEFT/RIGHT argument.
fn parse_end(arg: &[u8]) -> Result<End, CommandError> {
    if arg.eq_ignore_ascii_case(b"left") {
        Ok(End::Head)
    } else if arg.eq_ignore_ascii_case(b"right") {
        Ok(End::Tail)
    } else {
        Err(CommandError::Syntax)
    }
}

/// The list at `key` for reading (counts a hit or miss): `Ok(None)` when absent, `WrongType` when the key
/// holds another type. Takes the server rather than the context so the reply can be written meanwhile.
fn read_list<'s>(
    server: &'s mut Server,
    client: &ClientState,
    now_ms: i64,
    key: &[u8],
) -> Result<Option<&'s mut ListValue>, CommandError> {
    match server.lookup_read(client.db, key, now_ms, !client.no_touch) {
        None => Ok(None),
        Some(entry) => match &mut entry.value {
            Value::List(l) => Ok(Some(l)),
            _ => Err(CommandError::WrongType),
        },
    }
}

/// The list at `key` for writing: `Ok(None)` when absent, `WrongType` when the key holds another type.
fn write_list<'s>(
    server: &'s mut Server,
    db: usize,
    now_ms: i64,
    key: &[u8],
) -> Result<Option<&'s mut ListValue>, CommandError> {
    match server.lookup_write(db, key, now_ms) {
        None => Ok(None),
        Some(entry) => match &mut entry.value {
            Value::List(l) => Ok(Some(l)),
            _ => Err(CommandError::WrongType),
        },
    }
}

/// An empty list whose nodes follow the current `list-max-listpack-size`.
pub fn new_list(server: &Server) -> ListValue {
    ListValue::with_fill(server.config.get_i64("list-max-listpack-size"))
}

/// Stores a new list under `key`, known to be absent, with no TTL.
fn store_new(ctx: &mut Ctx<'_>, key: &[u8], list: ListValue) {
    let stamp = ctx.access_stamp();
    ctx.db().insert_new(key, Value::List(list), NO_EXPIRE, stamp);
}

/// After a change: deletes the key if its list became empty, then tells the server it was modified.
fn finish_change(ctx: &mut Ctx<'_>, key: &[u8], now_empty: bool) {
    let db = ctx.client.db;
    if now_empty {
        let now = ctx.now_ms;
        ctx.db().remove(key, now);
    }
    ctx.server.signal_modified(db, key);
}

/// LPUSH/RPUSH/LPUSHX/RPUSHX: pushes every element argument at `end`; with `only_existing` a missing
/// key is left alone and the reply is 0.
fn push_generic(ctx: &mut Ctx<'_>, end: End, only_existing: bool) -> CmdResult {
    let argv = ctx.argv;
    let key = &argv[1][..];
    let len = match write_list(ctx.server, ctx.client.db, ctx.now_ms, key)? {
        Some(list) => {
            for item in &argv[2..] {
                list.push(end, item);
            }
            list.len()
        }
        None if only_existing => {
            ctx.reply.integer(0);
            return Ok(());
        }
        None => {
            let mut list = new_list(ctx.server);
            for item in &argv[2..] {
                list.push(end, item);
            }
            let len = list.len();
            store_new(ctx, key, list);
            len
        }
    };
    ctx.reply.integer(len as i64);
    let db = ctx.client.db;
    ctx.server.signal_modified(db, key);
    ctx.server.signal_key_ready(db, key);
    Ok(())
}

/// LPUSH key element [element ...]
fn lpush(ctx: &mut Ctx<'_>) -> CmdResult {
    push_generic(ctx, End::Head, false)
}

/// RPUSH key element [element ...]
fn rpush(ctx: &mut Ctx<'_>) -> CmdResult {
    push_generic(ctx, End::Tail, false)
}

/// LPUSHX key element [element ...]
fn lpushx(ctx: &mut Ctx<'_>) -> CmdResult {
    push_generic(ctx, End::Head, true)
}

/// RPUSHX key element [element ...]
fn rpushx(ctx: &mut Ctx<'_>) -> CmdResult {
    push_generic(ctx, End::Tail, true)
}

/// LPOP/RPOP key [count]: one element as a bulk string, or with a count an array of up to `count`.
fn pop_generic(ctx: &mut Ctx<'_>, end: End, name: &'static str) -> CmdResult {
    let count = match ctx.argc() {
        2 => None,
        3 => Some(int_at_least(ctx.argv, 2, 0, POP_COUNT_ERR)?),
        _ => return Err(CommandError::WrongArity(name)),
    };
    let argv = ctx.argv;
    let key = &argv[1][..];
    let now_empty = {
        let Some(list) = write_list(ctx.server, ctx.client.db, ctx.now_ms, key)? else {
            match count {
                Some(_) => ctx.reply.null_array(),
                None => ctx.reply.null(),
            }
            return Ok(());
        };
        match count {
            // Nothing to pop: no change, so no signal either.
            Some(0) => {
                ctx.reply.array(0);
                return Ok(());
            }
            Some(n) => {
                let n = list.len().min(usize::try_from(n).unwrap_or(usize::MAX));
                ctx.reply.array(n);
                for _ in 0..n {
                    list.pop_with(end, |item| ctx.reply.bulk(item));
                }
            }
            None => {
                if list.pop_with(end, |item| ctx.reply.bulk(item)).is_none() {
                    ctx.reply.null();
                }
            }
        }
        list.is_empty()
    };
    finish_change(ctx, key, now_empty);
    Ok(())
}

/// LPOP key [count]
fn lpop(ctx: &mut Ctx<'_>) -> CmdResult {
    pop_generic(ctx, End::Head, "lpop")
}

/// RPOP key [count]
fn rpop(ctx: &mut Ctx<'_>) -> CmdResult {
    pop_generic(ctx, End::Tail, "rpop")
}

/// LLEN key
fn llen(ctx: &mut Ctx<'_>) -> CmdResult {
    let argv = ctx.argv;
    let key = &argv[1][..];
    let len = read_list(ctx.server, ctx.client, ctx.now_ms, key)?.map_or(0, |l| l.len());
    ctx.reply.integer(len as i64);
    Ok(())
}

/// LRANGE key start stop
fn lrange(ctx: &mut Ctx<'_>) -> CmdResult {
    let start = int_arg(ctx.argv, 2)?;
    let stop = int_arg(ctx.argv, 3)?;
    let argv = ctx.argv;
    let key = &argv[1][..];
    let Some(list) = read_list(ctx.server, ctx.client, ctx.now_ms, key)? else {
        ctx.reply.array(0);
        return Ok(());
    };
    match clamp_range(start, stop, list.len()) {
        None => ctx.reply.array(0),
        Some((from, to)) => {
            ctx.reply.array(to - from + 1);
            list.for_each_in_range(from, to, |item| ctx.reply.bulk(item));
        }
    }
    Ok(())
}

/// LINDEX key index
fn lindex(ctx: &mut Ctx<'_>) -> CmdResult {
    let argv = ctx.argv;
    let key = &argv[1][..];
    // The key is looked up before the index is parsed: a missing key answers null whatever the index.
    let Some(list) = read_list(ctx.server, ctx.client, ctx.now_ms, key)? else {
        ctx.reply.null();
        return Ok(());
    };
    let index = int_arg(argv, 2)?;
    match resolve_index(index, list.len()).and_then(|i| list.get(i)) {
        Some(item) => ctx.reply.bulk(item),
        None => ctx.reply.null(),
    }
    Ok(())
}

/// LSET key index element
fn lset(ctx: &mut Ctx<'_>) -> CmdResult {
    let argv = ctx.argv;
    let key = &argv[1][..];
    let list = write_list(ctx.server, ctx.client.db, ctx.now_ms, key)?.ok_or(CommandError::NoSuchKey)?;
    let index = int_arg(argv, 2)?;
    let pos = resolve_index(index, list.len()).ok_or(CommandError::err("ERR index out of range"))?;
    list.set(pos, &argv[3]);
    ctx.reply.ok();
    finish_change(ctx, key, false);
    Ok(())
}

/// LINSERT key BEFORE|AFTER pivot element
fn linsert(ctx: &mut Ctx<'_>) -> CmdResult {
    let after = if ctx.arg(2).eq_ignore_ascii_case(b"after") {
        true
    } else if ctx.arg(2).eq_ignore_ascii_case(b"before") {
        false
    } else {
        return Err(CommandError::Syntax);
    };
    let argv = ctx.argv;
    let key = &argv[1][..];
    let Some(list) = write_list(ctx.server, ctx.client.db, ctx.now_ms, key)? else {
        ctx.reply.integer(0);
        return Ok(());
    };
    let Some(pos) = list.position(&argv[3]) else {
        ctx.reply.integer(-1);
        return Ok(());
    };
    list.insert(pos + after as usize, &argv[4]);
    let len = list.len();
    ctx.reply.integer(len as i64);
    finish_change(ctx, key, false);
    Ok(())
}

/// LREM key count element
fn lrem(ctx: &mut Ctx<'_>) -> CmdResult {
    let count = int_arg(ctx.argv, 2)?;
    let argv = ctx.argv;
    let key = &argv[1][..];
    let Some(list) = write_list(ctx.server, ctx.client.db, ctx.now_ms, key)? else {
        ctx.reply.integer(0);
        return Ok(());
    };
    let removed = list.remove_matching(&argv[3], count);
    let now_empty = list.is_empty();
    ctx.reply.integer(removed as i64);
    if removed > 0 {
        finish_change(ctx, key, now_empty);
    }
    Ok(())
}

/// LTRIM key start stop
fn ltrim(ctx: &mut Ctx<'_>) -> CmdResult {
    let start = int_arg(ctx.argv, 2)?;
    let stop = int_arg(ctx.argv, 3)?;
    let argv = ctx.argv;
    let key = &argv[1][..];
    let Some(list) = write_list(ctx.server, ctx.client.db, ctx.now_ms, key)? else {
        ctx.reply.ok();
        return Ok(());
    };
    list.trim(clamp_range(start, stop, list.len()));
    let now_empty = list.is_empty();
    ctx.reply.ok();
    finish_change(ctx, key, now_empty);
    Ok(())
}

/// LPOS's options.
struct LposOptions {
    /// Which match to start from: 1 the first from the head, -1 the first from the tail.
    rank: i64,
    /// `Some` when COUNT was given (0 means every match).
    count: Option<i64>,
    /// Elements to compare at most; 0 means no limit.
    maxlen: i64,
}

/// Parses LPOS's `[RANK rank] [COUNT num] [MAXLEN len]`, each of which may repeat (the last wins).
fn parse_lpos_options(argv: &[Bytes]) -> Result<LposOptions, CommandError> {
    let mut o = LposOptions {
        rank: 1,
        count: None,
        maxlen: 0,
    };
    let mut j = 3;
    while j < argv.len() {
        let opt = &argv[j][..];
        let more = j + 1 < argv.len();
        if opt.eq_ignore_ascii_case(b"rank") && more {
            j += 1;
            o.rank = int_arg(argv, j)?;
            if o.rank == 0 {
                return Err(CommandError::err(
                    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use \
                     negative to start from the end of the list",
                ));
            }
        } else if opt.eq_ignore_ascii_case(b"count") && more {
            j += 1;
            o.count = Some(int_at_least(argv, j, 0, "ERR COUNT can't be negative")?);
        } else if opt.eq_ignore_ascii_case(b"maxlen") && more {
            j += 1;
            o.maxlen = int_at_least(argv, j, 0, "ERR MAXLEN can't be negative")?;
        } else {
            return Err(CommandError::Syntax);
        }
        j += 1;
    }
    Ok(o)
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
fn lpos(ctx: &mut Ctx<'_>) -> CmdResult {
    let opts = parse_lpos_options(ctx.argv)?;
    let argv = ctx.argv;
    let key = &argv[1][..];
    let Some(list) = read_list(ctx.server, ctx.client, ctx.now_ms, key)? else {
        match opts.count {
            Some(_) => ctx.reply.array(0),
            None => ctx.reply.null(),
        }
        return Ok(());
    };
    let item = &argv[2][..];
    // A negative rank scans from the tail. The reference server negates with two's-complement wrap, so
    // the most negative rank stays negative and every match qualifies; the wrapping arithmetic below
    // reproduces that.
    let (from_tail, rank) = if opts.rank < 0 {
        (true, opts.rank.wrapping_neg())
    } else {
        (false, opts.rank)
    };
    let len = list.len();
    let scan_limit = if opts.maxlen == 0 {
        len
    } else {
        len.min(usize::try_from(opts.maxlen).unwrap_or(usize::MAX))
    };
    let mut matches: i64 = 0;
    let mut found: Vec<i64> = Vec::new();
    let mut first: Option<usize> = None;
    for scanned in 0..scan_limit {
        let pos = if from_tail { len - 1 - scanned } else { scanned };
        if list.get(pos) != Some(item) {
            continue;
        }
        matches += 1;
        if matches < rank {
            continue;
        }
        match opts.count {
            None => {
                first = Some(pos);
                break;
            }
            Some(count) => {
                found.push(pos as i64);
                if count != 0 && matches.wrapping_sub(rank).wrapping_add(1) >= count {
                    break;
                }
            }
        }
    }
    match opts.count {
        Some(_) => {
            ctx.reply.array(found.len());
            for pos in found {
                ctx.reply.integer(pos);
            }
        }
        None => match first {
            Some(pos) => ctx.reply.integer(pos as i64),
            None => ctx.reply.null(),
        },
    }
    Ok(())
}

/// RPOPLPUSH/LMOVE: pops at `from` of the source, pushes at `to` of the destination (which may be the
/// same key), replies with the element.
fn move_generic(ctx: &mut Ctx<'_>, from: End, to: End) -> CmdResult {
    let argv = ctx.argv;
    let (src, dst) = (&argv[1][..], &argv[2][..]);
    let same = src == dst;
    let (db, now) = (ctx.client.db, ctx.now_ms);
    if write_list(ctx.server, db, now, src)?.is_none() {
        ctx.reply.null();
        return Ok(());
    }
    // The destination's type is checked before anything moves.
    if !same {
        write_list(ctx.server, db, now, dst)?;
    }
    // A stored list is never empty, so the pop succeeds; a source that is also the destination gets the
    // element back below, so only a distinct source can end up empty.
    let popped = write_list(ctx.server, db, now, src)?.and_then(|l| l.pop(from).map(|item| (item, l.is_empty())));
    let Some((item, src_empty)) = popped else {
        ctx.reply.null();
        return Ok(());
    };
    ctx.reply.bulk(&item);
    match write_list(ctx.server, db, now, dst)? {
        Some(list) => list.push(to, &item),
        None => {
            let mut list = new_list(ctx.server);
            list.push(to, &item);
            store_new(ctx, dst, list);
        }
    }
    finish_change(ctx, src, src_empty && !same);
    ctx.server.signal_modified(db, dst);
    ctx.server.signal_key_ready(db, dst);
    Ok(())
}

/// RPOPLPUSH source destination
fn rpoplpush(ctx: &mut Ctx<'_>) -> CmdResult {
    move_generic(ctx, End::Tail, End::Head)
}

/// LMOVE source destination LEFT|RIGHT LEFT|RIGHT
fn lmove(ctx: &mut Ctx<'_>) -> CmdResult {
    let from = parse_end(ctx.arg(3))?;
    let to = parse_end(ctx.arg(4))?;
    move_generic(ctx, from, to)
}

/// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]
fn lmpop(ctx: &mut Ctx<'_>) -> CmdResult {
    let argv = ctx.argv;
    let numkeys = int_at_least(argv, 1, 1, "ERR numkeys should be greater than 0")?;
    let where_idx = usize::try_from(numkeys)
        .ok()
        .and_then(|n| n.checked_add(2))
        .filter(|&i| i < argv.len())
        .ok_or(CommandError::Syntax)?;
    let end = parse_end(&argv[where_idx])?;
    let mut count: Option<i64> = None;
    let mut j = where_idx + 1;
    while j < argv.len() {
        if count.is_none() && argv[j].eq_ignore_ascii_case(b"count") && j + 1 < argv.len() {
            j += 1;
            count = Some(int_at_least(argv, j, 1, "ERR count should be greater than 0")?);
        } else {
            return Err(CommandError::Syntax);
        }
        j += 1;
    }
    let count = usize::try_from(count.unwrap_or(1)).unwrap_or(usize::MAX);
    for key in &argv[2..where_idx] {
        let Some(list) = write_list(ctx.server, ctx.client.db, ctx.now_ms, key)? else {
            continue;
        };
        let n = list.len().min(count);
        ctx.reply.array(2);
        ctx.reply.bulk(key);
        ctx.reply.array(n);
        for _ in 0..n {
            list.pop_with(end, |item| ctx.reply.bulk(item));
        }
        let now_empty = list.is_empty();
        let name: &[u8] = if end == End::Head { b"LPOP" } else { b"RPOP" };
        let db = ctx.client.db;
        ctx.server
            .propagation
            .replace(db, crate::propagate::command(&[name, key, n.to_string().as_bytes()]));
        finish_change(ctx, key, now_empty);
        return Ok(());
    }
    ctx.reply.null_array();
    Ok(())
}
