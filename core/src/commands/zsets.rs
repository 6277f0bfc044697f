//! The sorted set family: ZADD and ZINCRBY, removals, lookups by member and rank, the ZRANGE family and
//! ZRANGESTORE, range counts and removals, pops (ZPOPMIN, ZPOPMAX, ZMPOP), ZRANDMEMBER, the set
//! operations (ZUNION, ZINTER, ZDIFF, their STORE forms, ZINTERCARD) and ZSCAN.
//!
//! Owns these commands' argument rules, replies and errors. The representation, its encodings and the
//! score/range grammar belong to `types::zset`. The blocking pops (BZPOPMIN, BZPOPMAX, BZMPOP) live with
//! the blocking machinery; they use [`ZSetValue::pop_min`] and [`ZSetValue::pop_max`].

use foldhash::fast::FixedState;
use hashbrown::HashMap;
use rand::Rng;

use super::{keys, CmdResult, CommandError, Ctx, Registry};
use crate::client::ClientState;
use crate::glob::glob_match;
use crate::keyspace::NO_EXPIRE;
use crate::resp::{Protocol, Reply};
use crate::server::Server;
use crate::types::number;
use crate::types::zset::{self, LexRange, Params, ScoreRange, ZSetValue};
use crate::types::{SetValue, Value};

/// Registers the family's handlers.
pub fn register(r: &mut Registry) {
    r.add("zadd", zadd);
    r.add("zincrby", zincrby);
    r.add("zrem", zrem);
    r.add("zcard", zcard);
    r.add("zscore", zscore);
    r.add("zmscore", zmscore);
    r.add("zrank", zrank);
    r.add("zrevrank", zrevrank);
    r.add("zcount", zcount);
    r.add("zlexcount", zlexcount);
    r.add("zrange", zrange);
    r.add("zrangestore", zrangestore);
    r.add("zrevrange", zrevrange);
    r.add("zrangebyscore", zrangebyscore);
    r.add("zrevrangebyscore", zrevrangebyscore);
    r.add("zrangebylex", zrangebylex);
    r.add("zrevrangebylex", zrevrangebylex);
    r.add("zremrangebyrank", zremrangebyrank);
    r.add("zremrangebyscore", zremrangebyscore);
    r.add("zremrangebylex", zremrangebylex);
    r.add("zpopmin", zpopmin);
    r.add("zpopmax", zpopmax);
    r.add("zmpop", zmpop);
    r.add("zrandmember", zrandmember);
    r.add("zunion", zunion);
    r.add("zunionstore", zunionstore);
    r.add("zinter", zinter);
    r.add("zinterstore", zinterstore);
    r.add("zintercard", zintercard);
    r.add("zdiff", zdiff);
    r.add("zdiffstore", zdiffstore);
    r.add("zscan", zscan);
}

/// The error for a score range end that is not a float.
const RANGE_NOT_FLOAT: &str = "ERR min or max is not a float";
/// The error for a lexicographic range end that is malformed.
const RANGE_NOT_LEX: &str = "ERR min or max not valid string range item";
/// The error when an increment makes a score NaN.
const NAN_SCORE: &str = "ERR resulting score is not a number (NaN)";

/// The encoding thresholds from the configuration, with a fresh hash seed.
fn params(server: &mut Server) -> Params {
    Params {
        max_entries: server.config.get_i64("zset-max-listpack-entries").max(0) as usize,
        max_value: server.config.get_i64("zset-max-listpack-value").max(0) as usize,
        seed: server.rng.random(),
    }
}

/// What [`ZSetValue::insert_new`] is given for a zset already in the large encoding, which ignores it.
const LARGE_ZSET_PARAMS: Params = Params {
    max_entries: 0,
    max_value: 0,
    seed: 0,
};

/// Reads a zset key: `Ok(None)` when absent, `WrongType` when it holds another type. Counts a hit or miss.
fn zread<'s>(
    server: &'s mut Server,
    client: &ClientState,
    key: &[u8],
    now: i64,
) -> Result<Option<&'s mut ZSetValue>, CommandError> {
    match server.lookup_read(client.db, key, now, !client.no_touch) {
        None => Ok(None),
        Some(entry) => match &mut entry.value {
            Value::ZSet(z) => Ok(Some(z)),
            _ => Err(CommandError::WrongType),
        },
    }
}

/// Looks a zset key up for writing: `Ok(None)` when absent, `WrongType` when it holds another type.
fn zwrite<'s>(
    server: &'s mut Server,
    db: usize,
    key: &[u8],
    now: i64,
) -> Result<Option<&'s mut ZSetValue>, CommandError> {
    match server.lookup_write(db, key, now) {
        None => Ok(None),
        Some(entry) => match &mut entry.value {
            Value::ZSet(z) => Ok(Some(z)),
            _ => Err(CommandError::WrongType),
        },
    }
}

/// A zset key already looked up by this command, without touching its access time again.
fn zagain<'s>(server: &'s mut Server, db: usize, key: &[u8], now: i64) -> Result<&'s mut ZSetValue, CommandError> {
    match server.dbs[db].get_mut(key, now).map(|e| &mut e.value) {
        Some(Value::ZSet(z)) => Ok(z),
        Some(_) => Err(CommandError::WrongType),
        None => Err(CommandError::NoSuchKey),
    }
}

/// Removes `key` if its zset became empty.
fn delete_if_empty(ctx: &mut Ctx<'_>, key: &[u8]) {
    let (db, now) = (ctx.client.db, ctx.now_ms);
    let empty = matches!(ctx.server.dbs[db].peek(key, now).map(|e| &e.value), Some(Value::ZSet(z)) if z.is_empty());
    if empty {
        ctx.server.dbs[db].remove(key, now);
    }
}

/// Writes `count` elements as a range reply: members only, or with scores (a flat array in RESP2, an
/// array of [member, score] pairs in RESP3).
fn reply_elements<'z>(
    reply: &mut Reply<'_>,
    items: impl Iterator<Item = (&'z [u8], f64)>,
    count: usize,
    withscores: bool,
) {
    let nested = withscores && reply.protocol() == Protocol::Resp3;
    reply.array(if withscores && !nested { count * 2 } else { count });
    for (m, s) in items.take(count) {
        if nested {
            reply.array(2);
        }
        reply.bulk(m);
        if withscores {
            reply.double(s);
        }
    }
}

/// Stores `items` (sorted by score then member) at `dst` as a STORE command does: an empty result
/// deletes `dst`. Replies with the stored length.
fn store_result(ctx: &mut Ctx<'_>, dst: &[u8], items: Vec<(Vec<u8>, f64)>) {
    let (db, now) = (ctx.client.db, ctx.now_ms);
    let len = items.len();
    if items.is_empty() {
        if ctx.server.dbs[db].remove(dst, now).is_some() {
            ctx.server.signal_modified(db, dst);
        }
    } else {
        let value = ZSetValue::from_sorted(items, params(ctx.server));
        let stamp = ctx.access_stamp();
        ctx.server.dbs[db].set(dst, Value::ZSet(Box::new(value)), false, now, stamp);
        ctx.server.signal_modified(db, dst);
        ctx.server.signal_key_ready(db, dst);
    }
    ctx.reply.integer(len as i64);
}

/// Sorts result elements by score, then member.
fn sort_items(items: &mut [(Vec<u8>, f64)]) {
    items.sort_by(|a, b| {
        a.1.partial_cmp(&b.1)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.0.cmp(&b.0))
    });
}

/// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
fn zadd(ctx: &mut Ctx<'_>) -> CmdResult {
    zadd_generic(ctx, false)
}

/// ZINCRBY key increment member
fn zincrby(ctx: &mut Ctx<'_>) -> CmdResult {
    zadd_generic(ctx, true)
}

/// ZADD and ZINCRBY: options, then score/member pairs.
fn zadd_generic(ctx: &mut Ctx<'_>, mut incr: bool) -> CmdResult {
    let argv = ctx.argv;
    let key = &argv[1];
    let (mut nx, mut xx, mut gt, mut lt, mut ch) = (false, false, false, false, false);
    let mut idx = 2;
    while idx < argv.len() {
        match argv[idx].to_ascii_lowercase().as_slice() {
            b"nx" => nx = true,
            b"xx" => xx = true,
            b"gt" => gt = true,
            b"lt" => lt = true,
            b"ch" => ch = true,
            b"incr" => incr = true,
            _ => break,
        }
        idx += 1;
    }
    let elements = argv.len() - idx;
    if elements == 0 || elements % 2 == 1 {
        return Err(CommandError::Syntax);
    }
    if nx && xx {
        return Err(CommandError::err(
            "ERR XX and NX options at the same time are not compatible",
        ));
    }
    if (nx && (gt || lt)) || (gt && lt) {
        return Err(CommandError::err(
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if incr && elements > 2 {
        return Err(CommandError::err(
            "ERR INCR option supports a single increment-element pair",
        ));
    }
    let scores = (idx..argv.len())
        .step_by(2)
        .map(|i| zset::parse_score(&argv[i]).ok_or(CommandError::NotFloat))
        .collect::<Result<Vec<f64>, _>>()?;
    let (db, now) = (ctx.client.db, ctx.now_ms);
    // A large zset is used as found: one keyspace lookup, and no configuration look-ups by name (the
    // thresholds only matter to a new or compact zset; a large one never converts back).
    let (exists, large) = match zwrite(ctx.server, db, key, now)? {
        Some(z) if !z.is_compact() => (true, Some(z)),
        found => (found.is_some(), None),
    };
    let (mut added, mut updated, mut processed) = (0i64, 0i64, 0i64);
    let mut last = 0.0;
    if exists || !xx {
        let (z, params) = match large {
            Some(z) => (z, LARGE_ZSET_PARAMS),
            None => {
                let params = params(ctx.server);
                if !exists {
                    let value = ZSetValue::new_for(argv[idx + 1].len(), params);
                    let stamp = ctx.access_stamp();
                    ctx.server.dbs[db].insert_new(key, Value::ZSet(Box::new(value)), NO_EXPIRE, stamp);
                }
                (zagain(ctx.server, db, key, now)?, params)
            }
        };
        let mut failure = None;
        for (j, &given) in scores.iter().enumerate() {
            let member = &argv[idx + 1 + 2 * j];
            let mut score = given;
            match z.lookup(member) {
                Some((found, current)) => {
                    if nx {
                        continue;
                    }
                    if incr {
                        score += current;
                        if score.is_nan() {
                            failure = Some(CommandError::err(NAN_SCORE));
                            break;
                        }
                    }
                    if (lt && score >= current) || (gt && score <= current) {
                        continue;
                    }
                    processed += 1;
                    last = score;
                    if score != current {
                        z.rescore_found(found, member, score);
                        updated += 1;
                    }
                }
                None => {
                    if xx {
                        continue;
                    }
                    z.insert_new(member, score, params);
                    added += 1;
                    processed += 1;
                    last = score;
                }
            }
        }
        if added > 0 || updated > 0 {
            ctx.server.signal_modified(db, key);
        }
        if added > 0 {
            ctx.server.signal_key_ready(db, key);
        }
        if let Some(e) = failure {
            return Err(e);
        }
    }
    if incr {
        if processed > 0 {
            ctx.reply.double(last);
        } else {
            ctx.reply.null();
        }
    } else {
        ctx.reply.integer(if ch { added + updated } else { added });
    }
    Ok(())
}

/// ZREM key member [member ...]
fn zrem(ctx: &mut Ctx<'_>) -> CmdResult {
    let argv = ctx.argv;
    let key = &argv[1];
    let (db, now) = (ctx.client.db, ctx.now_ms);
    let Some(z) = zwrite(ctx.server, db, key, now)? else {
        ctx.reply.integer(0);
        return Ok(());
    };
    let mut deleted = 0;
    for m in &argv[2..] {
        if z.remove(m) {
            deleted += 1;
            if z.is_empty() {
                break;
            }
        }
    }
    if deleted > 0 {
        delete_if_empty(ctx, key);
        ctx.server.signal_modified(db, key);
    }
    ctx.reply.integer(deleted);
    Ok(())
}

/// ZCARD key
fn zcard(ctx: &mut Ctx<'_>) -> CmdResult {
    let len = zread(ctx.server, ctx.client, &ctx.argv[1], ctx.now_ms)?.map_or(0, |z| z.len());
    ctx.reply.integer(len as i64);
    Ok(())
}

/// ZSCORE key member
fn zscore(ctx: &mut Ctx<'_>) -> CmdResult {
    let argv = ctx.argv;
    let score = zread(ctx.server, ctx.client, &argv[1], ctx.now_ms)?.and_then(|z| z.score(&argv[2]));
    match score {
        Some(s) => ctx.reply.double(s),
        None => ctx.reply.null(),
    }
    Ok(())
}

/// ZMSCORE key member [member ...]
fn zmscore(ctx: &mut Ctx<'_>) -> CmdResult {
    let argv = ctx.argv;
    let z = zread(ctx.server, ctx.client, &argv[1], ctx.now_ms)?;
    ctx.reply.array(argv.len() - 2);
    for m in &argv[2..] {
        match z.as_ref().and_then(|z| z.score(m)) {
            Some(s) => ctx.reply.double(s),
            None => ctx.reply.null(),
        }
    }
    Ok(())
}

/// ZRANK and ZREVRANK.
fn rank_generic(ctx: &mut Ctx<'_>, rev: bool) -> CmdResult {
    let argv = ctx.argv;
    let rank = zread(ctx.server, ctx.client, &argv[1], ctx.now_ms)?
        .and_then(|z| z.rank(&argv[2]).map(|r| if rev { z.len() - 1 - r } else { r }));
    match rank {
        Some(r) => ctx.reply.integer(r as i64),
        None => ctx.reply.null(),
    }
    Ok(())
}

/// ZRANK key member
fn zrank(ctx: &mut Ctx<'_>) -> CmdResult {
    rank_generic(ctx, false)
}

/// ZREVRANK key member
fn zrevrank(ctx: &mut Ctx<'_>) -> CmdResult {
    rank_generic(ctx, true)
}

/// Parses a score range from two arguments.
fn score_range(min: &[u8], max: &[u8]) -> Result<ScoreRange, CommandError> {
    match (zset::parse_score_bound(min), zset::parse_score_bound(max)) {
        (Some(min), Some(max)) => Ok(ScoreRange { min, max }),
        _ => Err(CommandError::err(RANGE_NOT_FLOAT)),
    }
}

/// Parses a lexicographic range from two arguments.
fn lex_range(min: &[u8], max: &[u8]) -> Result<LexRange, CommandError> {
    match (zset::parse_lex_bound(min), zset::parse_lex_bound(max)) {
        (Some(min), Some(max)) => Ok(LexRange { min, max }),
        _ => Err(CommandError::err(RANGE_NOT_LEX)),
    }
}

/// ZCOUNT key min max
fn zcount(ctx: &mut Ctx<'_>) -> CmdResult {
    let argv = ctx.argv;
    let range = score_range(&argv[2], &argv[3])?;
    let n = zread(ctx.server, ctx.client, &argv[1], ctx.now_ms)?.map_or(0, |z| {
        let (lo, hi) = range.ranks(z);
        hi - lo
    });
    ctx.reply.integer(n as i64);
    Ok(())
}

/// ZLEXCOUNT key min max
fn zlexcount(ctx: &mut Ctx<'_>) -> CmdResult {
    let argv = ctx.argv;
    let range = lex_range(&argv[2], &argv[3])?;
    let n = zread(ctx.server, ctx.client, &argv[1], ctx.now_ms)?.map_or(0, |z| {
        let (lo, hi) = range.ranks(z);
        hi - lo
    });
    ctx.reply.integer(n as i64);
    Ok(())
}

/// How a ZRANGE-family command selects elements.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Not given yet (ZRANGE, ZRANGESTORE before their options are read).
    Auto,
    /// By position.
    Rank,
    /// By score.
    Score,
    /// By member bytes.
    Lex,
}

/// Sanitizes a rank range `start..=end` (negative counts from the end) for a set of `len` elements:
/// `None` when empty, else the first rank and the count.
fn rank_window(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut start = if start < 0 { start.saturating_add(len) } else { start };
    let mut end = if end < 0 { end.saturating_add(len) } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= len {
        return None;
    }
    if end >= len {
        end = len - 1;
    }
    Some((start as usize, (end - start + 1) as usize))
}

/// Applies LIMIT to the ranks `lo..hi`: the first rank to emit and the count, walking down from the top
/// when `rev`. A negative offset selects nothing and a negative count means no limit, as in the reference.
fn limit_window(lo: usize, hi: usize, offset: i64, limit: i64, rev: bool) -> (usize, usize) {
    let n = hi.saturating_sub(lo);
    if offset < 0 {
        return (lo, 0);
    }
    let offset = usize::try_from(offset).unwrap_or(usize::MAX);
    let avail = n.saturating_sub(offset);
    let count = if limit < 0 {
        avail
    } else {
        avail.min(usize::try_from(limit).unwrap_or(usize::MAX))
    };
    if count == 0 {
        return (lo, 0);
    }
    let first = if rev { hi - 1 - offset } else { lo + offset };
    (first, count)
}

/// The ZRANGE family. `base` is the index of the source key; `store` is set for ZRANGESTORE (whose
/// destination is argument 1); `kind` and `rev` are fixed by the older commands and `None`/`Auto` for
/// ZRANGE and ZRANGESTORE, which take them as options.
fn zrange_generic(ctx: &mut Ctx<'_>, base: usize, store: bool, mut kind: Kind, mut rev: Option<bool>) -> CmdResult {
    let argv = ctx.argv;
    let key = &argv[base];
    let (mut min_idx, mut max_idx) = (base + 1, base + 2);
    let mut withscores = false;
    let (mut offset, mut limit) = (0i64, -1i64);
    let mut j = base + 3;
    while j < argv.len() {
        let left = argv.len() - j - 1;
        match argv[j].to_ascii_lowercase().as_slice() {
            b"withscores" if !store => withscores = true,
            b"limit" if left >= 2 => {
                offset = ctx.arg_i64(j + 1)?;
                limit = ctx.arg_i64(j + 2)?;
                j += 2;
            }
            b"rev" if rev.is_none() => rev = Some(true),
            b"bylex" if kind == Kind::Auto => kind = Kind::Lex,
            b"byscore" if kind == Kind::Auto => kind = Kind::Score,
            _ => return Err(CommandError::Syntax),
        }
        j += 1;
    }
    let rev = rev.unwrap_or(false);
    if kind == Kind::Auto {
        kind = Kind::Rank;
    }
    if limit != -1 && kind == Kind::Rank {
        return Err(CommandError::err(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && kind == Kind::Lex {
        return Err(CommandError::err(
            "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    if rev && kind != Kind::Rank {
        std::mem::swap(&mut min_idx, &mut max_idx);
    }
    /// The parsed range.
    enum Range {
        /// Start and stop positions.
        Rank(i64, i64),
        /// A score range.
        Score(ScoreRange),
        /// A lexicographic range.
        Lex(LexRange),
    }
    let range = match kind {
        Kind::Score => Range::Score(score_range(&argv[min_idx], &argv[max_idx])?),
        Kind::Lex => Range::Lex(lex_range(&argv[min_idx], &argv[max_idx])?),
        _ => Range::Rank(ctx.arg_i64(min_idx)?, ctx.arg_i64(max_idx)?),
    };
    let Some(z) = zread(ctx.server, ctx.client, key, ctx.now_ms)? else {
        if store {
            store_result(ctx, &argv[1], Vec::new());
        } else {
            ctx.reply.array(0);
        }
        return Ok(());
    };
    let (first, count) = match &range {
        Range::Rank(start, end) => match rank_window(*start, *end, z.len()) {
            Some((start, count)) => (if rev { z.len() - 1 - start } else { start }, count),
            None => (0, 0),
        },
        Range::Score(r) => {
            let (lo, hi) = r.ranks(z);
            limit_window(lo, hi, offset, limit, rev)
        }
        Range::Lex(r) => {
            let (lo, hi) = r.ranks(z);
            limit_window(lo, hi, offset, limit, rev)
        }
    };
    if store {
        let mut items: Vec<(Vec<u8>, f64)> = if count == 0 {
            Vec::new()
        } else {
            z.iter_from(first, rev)
                .take(count)
                .map(|(m, s)| (m.to_vec(), s))
                .collect()
        };
        if rev {
            items.reverse();
        }
        store_result(ctx, &argv[1], items);
        return Ok(());
    }
    if count == 0 {
        ctx.reply.array(0);
    } else {
        reply_elements(&mut ctx.reply, z.iter_from(first, rev), count, withscores);
    }
    Ok(())
}

/// ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
fn zrange(ctx: &mut Ctx<'_>) -> CmdResult {
    zrange_generic(ctx, 1, false, Kind::Auto, None)
}

/// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]
fn zrangestore(ctx: &mut Ctx<'_>) -> CmdResult {
    zrange_generic(ctx, 2, true, Kind::Auto, None)
}

/// ZREVRANGE key start stop [WITHSCORES]
fn zrevrange(ctx: &mut Ctx<'_>) -> CmdResult {
    zrange_generic(ctx, 1, false, Kind::Rank, Some(true))
}

/// ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]
fn zrangebyscore(ctx: &mut Ctx<'_>) -> CmdResult {
    zrange_generic(ctx, 1, false, Kind::Score, Some(false))
}

/// ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]
fn zrevrangebyscore(ctx: &mut Ctx<'_>) -> CmdResult {
    zrange_generic(ctx, 1, false, Kind::Score, Some(true))
}

/// ZRANGEBYLEX key min max [LIMIT offset count]
fn zrangebylex(ctx: &mut Ctx<'_>) -> CmdResult {
    zrange_generic(ctx, 1, false, Kind::Lex, Some(false))
}

/// ZREVRANGEBYLEX key max min [LIMIT offset count]
fn zrevrangebylex(ctx: &mut Ctx<'_>) -> CmdResult {
    zrange_generic(ctx, 1, false, Kind::Lex, Some(true))
}

/// ZREMRANGEBYRANK, ZREMRANGEBYSCORE and ZREMRANGEBYLEX: the range is parsed first, then the key read.
fn zremrange_generic(ctx: &mut Ctx<'_>, kind: Kind) -> CmdResult {
    let argv = ctx.argv;
    let key = &argv[1];
    /// The parsed range.
    enum Range {
        /// Start and stop positions.
        Rank(i64, i64),
        /// A score range.
        Score(ScoreRange),
        /// A lexicographic range.
        Lex(LexRange),
    }
    let range = match kind {
        Kind::Score => Range::Score(score_range(&argv[2], &argv[3])?),
        Kind::Lex => Range::Lex(lex_range(&argv[2], &argv[3])?),
        _ => Range::Rank(ctx.arg_i64(2)?, ctx.arg_i64(3)?),
    };
    let (db, now) = (ctx.client.db, ctx.now_ms);
    let Some(z) = zwrite(ctx.server, db, key, now)? else {
        ctx.reply.integer(0);
        return Ok(());
    };
    let (lo, hi) = match &range {
        Range::Rank(start, end) => match rank_window(*start, *end, z.len()) {
            Some((start, count)) => (start, start + count),
            None => (0, 0),
        },
        Range::Score(r) => r.ranks(z),
        Range::Lex(r) => r.ranks(z),
    };
    let removed = z.remove_ranks(lo, hi);
    if removed > 0 {
        delete_if_empty(ctx, key);
        ctx.server.signal_modified(db, key);
    }
    ctx.reply.integer(removed as i64);
    Ok(())
}

/// ZREMRANGEBYRANK key start stop
fn zremrangebyrank(ctx: &mut Ctx<'_>) -> CmdResult {
    zremrange_generic(ctx, Kind::Rank)
}

/// ZREMRANGEBYSCORE key min max
fn zremrangebyscore(ctx: &mut Ctx<'_>) -> CmdResult {
    zremrange_generic(ctx, Kind::Score)
}

/// ZREMRANGEBYLEX key min max
fn zremrangebylex(ctx: &mut Ctx<'_>) -> CmdResult {
    zremrange_generic(ctx, Kind::Lex)
}

/// How a pop replies.
#[derive(Clone, Copy)]
struct PopStyle {
    /// Reply `[key, [pairs]]` (ZMPOP) instead of the elements alone.
    emit_key: bool,
    /// Each element as a [member, score] array.
    nested: bool,
    /// Reply a null array, not an empty one, when no key holds elements.
    null_when_empty: bool,
}

/// Pops up to `count` (`None`: one, flat) elements from the first non-empty key of `keys`, from the
/// low end or (`max`) the high end.
fn pop_generic(ctx: &mut Ctx<'_>, keys: &[bytes::Bytes], max: bool, count: Option<i64>, style: PopStyle) -> CmdResult {
    let (db, now) = (ctx.client.db, ctx.now_ms);
    let mut found = None;
    for key in keys {
        if zwrite(ctx.server, db, key, now)?.is_some() {
            found = Some(key);
            break;
        }
    }
    let Some(key) = found else {
        if style.null_when_empty {
            ctx.reply.null_array();
        } else {
            ctx.reply.array(0);
        }
        return Ok(());
    };
    if count == Some(0) {
        ctx.reply.array(0);
        return Ok(());
    }
    let z = zagain(ctx.server, db, key, now)?;
    let wanted = usize::try_from(count.unwrap_or(1)).unwrap_or(usize::MAX);
    let n = wanted.min(z.len());
    if style.emit_key {
        ctx.reply.array(2);
        ctx.reply.bulk(key);
        ctx.reply.array(n);
    } else if style.nested {
        ctx.reply.array(n);
    } else {
        ctx.reply.array(n * 2);
    }
    for _ in 0..n {
        let popped = if max { z.pop_max() } else { z.pop_min() };
        let Some((m, s)) = popped else {
            break;
        };
        if style.nested {
            ctx.reply.array(2);
        }
        ctx.reply.bulk(&m);
        ctx.reply.double(s);
    }
    if style.emit_key {
        // ZMPOP propagates as the plain pop of what it took.
        let name: &[u8] = if max { b"ZPOPMAX" } else { b"ZPOPMIN" };
        let op = crate::propagate::command(&[name, key, n.to_string().as_bytes()]);
        ctx.server.propagation.replace(db, op);
    }
    delete_if_empty(ctx, key);
    ctx.server.signal_modified(db, key);
    Ok(())
}

/// ZPOPMIN and ZPOPMAX: `key [count]`.
fn zpop(ctx: &mut Ctx<'_>, max: bool) -> CmdResult {
    if ctx.argc() > 3 {
        return Err(CommandError::Syntax);
    }
    let count = if ctx.argc() == 3 {
        match number::parse_i64(ctx.arg(2)) {
            Some(n) if n >= 0 => Some(n),
            _ => return Err(CommandError::err("ERR value is out of range, must be positive")),
        }
    } else {
        None
    };
    let style = PopStyle {
        emit_key: false,
        nested: count.is_some() && ctx.reply.protocol() == Protocol::Resp3,
        null_when_empty: false,
    };
    let argv = ctx.argv;
    pop_generic(ctx, &argv[1..2], max, count, style)
}

/// ZPOPMIN key [count]
fn zpopmin(ctx: &mut Ctx<'_>) -> CmdResult {
    zpop(ctx, false)
}

/// ZPOPMAX key [count]
fn zpopmax(ctx: &mut Ctx<'_>) -> CmdResult {
    zpop(ctx, true)
}

/// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]
fn zmpop(ctx: &mut Ctx<'_>) -> CmdResult {
    let argv = ctx.argv;
    let numkeys = match number::parse_i64(&argv[1]) {
        Some(n) if n >= 1 => n as u64,
        _ => return Err(CommandError::err("ERR numkeys should be greater than 0")),
    };
    let where_idx = match usize::try_from(numkeys).ok().and_then(|n| n.checked_add(2)) {
        Some(i) if i < argv.len() => i,
        _ => return Err(CommandError::Syntax),
    };
    let max = match argv[where_idx].to_ascii_lowercase().as_slice() {
        b"min" => false,
        b"max" => true,
        _ => return Err(CommandError::Syntax),
    };
    let mut count: Option<i64> = None;
    let mut j = where_idx + 1;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        if count.is_none() && argv[j].eq_ignore_ascii_case(b"count") && more > 0 {
            j += 1;
            match number::parse_i64(&argv[j]) {
                Some(n) if n >= 1 => count = Some(n),
                _ => return Err(CommandError::err("ERR count should be greater than 0")),
            }
        } else {
            return Err(CommandError::Syntax);
        }
        j += 1;
    }
    let style = PopStyle {
        emit_key: true,
        nested: true,
        null_when_empty: true,
    };
    pop_generic(ctx, &argv[2..where_idx], max, Some(count.unwrap_or(1)), style)
}

/// ZRANDMEMBER key [count [WITHSCORES]]
fn zrandmember(ctx: &mut Ctx<'_>) -> CmdResult {
    let argv = ctx.argv;
    if argv.len() == 2 {
        if zread(ctx.server, ctx.client, &argv[1], ctx.now_ms)?.is_none() {
            ctx.reply.null();
            return Ok(());
        }
        let server = &mut *ctx.server;
        let Some(Value::ZSet(z)) = server.dbs[ctx.client.db].peek(&argv[1], ctx.now_ms).map(|e| &e.value) else {
            ctx.reply.null();
            return Ok(());
        };
        let pick = server.rng.random_range(0..z.len().max(1));
        match z.get(pick) {
            Some((m, _)) => ctx.reply.bulk(m),
            None => ctx.reply.null(),
        }
        return Ok(());
    }
    let l = ctx.arg_i64(2)?;
    if l == i64::MIN {
        return Err(CommandError::err(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        ));
    }
    let withscores = match argv.len() {
        3 => false,
        4 if argv[3].eq_ignore_ascii_case(b"withscores") => true,
        _ => return Err(CommandError::Syntax),
    };
    if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
        return Err(CommandError::err("ERR value is out of range"));
    }
    if zread(ctx.server, ctx.client, &argv[1], ctx.now_ms)?.is_none() {
        ctx.reply.array(0);
        return Ok(());
    }
    let server = &mut *ctx.server;
    let Some(Value::ZSet(z)) = server.dbs[ctx.client.db].peek(&argv[1], ctx.now_ms).map(|e| &e.value) else {
        ctx.reply.array(0);
        return Ok(());
    };
    let count = l.unsigned_abs() as usize;
    let size = z.len();
    if count == 0 || size == 0 {
        ctx.reply.array(0);
        return Ok(());
    }
    let rng = &mut server.rng;
    if l < 0 || count == 1 {
        // With repetitions, in random order.
        let picks = (0..count).map(|_| z.get(rng.random_range(0..size)).unwrap_or((&[][..], 0.0)));
        reply_elements(&mut ctx.reply, picks, count, withscores);
    } else if count >= size {
        // The whole set, highest rank first (the reference's order for this case).
        reply_elements(&mut ctx.reply, z.iter_from(size - 1, true), size, withscores);
    } else {
        // Distinct members: a partial Fisher-Yates shuffle of the ranks.
        let mut ranks: Vec<usize> = (0..size).collect();
        for i in 0..count {
            let k = rng.random_range(i..size);
            ranks.swap(i, k);
        }
        let picks = ranks[..count].iter().map(|&r| z.get(r).unwrap_or((&[][..], 0.0)));
        reply_elements(&mut ctx.reply, picks, count, withscores);
    }
    Ok(())
}

/// The operation of a ZUNION/ZINTER/ZDIFF-family command.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    /// Members of any input.
    Union,
    /// Members of every input.
    Inter,
    /// Members of the first input only.
    Diff,
}

/// How scores of the same member from several inputs combine.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    /// Add the weighted scores.
    Sum,
    /// Keep the lowest.
    Min,
    /// Keep the highest.
    Max,
}

/// Folds `value` into `target` as the reference does (a SUM that gives NaN, inf + -inf, gives 0).
fn aggregate(target: &mut f64, value: f64, how: Aggregate) {
    match how {
        Aggregate::Sum => {
            *target += value;
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggregate::Min => {
            if value < *target {
                *target = value;
            }
        }
        Aggregate::Max => {
            if value > *target {
                *target = value;
            }
        }
    }
}

/// One input of a set operation: a zset, a set (every member scores 1), or a missing key.
enum Source<'a> {
    /// An absent key: no members.
    Missing,
    /// A sorted set.
    ZSet(&'a ZSetValue),
    /// A set.
    Set(&'a SetValue),
}

/// Uniform access to the inputs.
impl<'a> Source<'a> {
    /// Number of members.
    fn len(&self) -> usize {
        match self {
            Source::Missing => 0,
            Source::ZSet(z) => z.len(),
            Source::Set(s) => s.len(),
        }
    }

    /// Members with their scores (1 for a set member).
    fn members(&self) -> Box<dyn Iterator<Item = (&'a [u8], f64)> + 'a> {
        match self {
            Source::Missing => Box::new(std::iter::empty()),
            Source::ZSet(z) => Box::new(z.iter()),
            Source::Set(s) => Box::new(s.iter().map(|m| (m, 1.0))),
        }
    }

    /// The score of `member`, if present.
    fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            Source::Missing => None,
            Source::ZSet(z) => z.score(member),
            Source::Set(s) => s.contains(member).then_some(1.0),
        }
    }
}

/// ZUNION, ZINTER, ZDIFF, ZINTERCARD and the STORE forms. `numkeys_idx` is the index of `numkeys`;
/// `dst` is set for the STORE forms (argument 1).
fn setop_generic(ctx: &mut Ctx<'_>, numkeys_idx: usize, store: bool, op: SetOp, card_only: bool) -> CmdResult {
    let argv = ctx.argv;
    let name = ctx.argv[0].to_ascii_lowercase();
    let setnum = ctx.arg_i64(numkeys_idx)?;
    if setnum < 1 {
        return Err(CommandError::Other(
            format!(
                "ERR at least 1 input key is needed for '{}' command",
                String::from_utf8_lossy(&name)
            )
            .into(),
        ));
    }
    let first_key = numkeys_idx + 1;
    if setnum > (argv.len() - first_key) as i64 {
        return Err(CommandError::Syntax);
    }
    let setnum = setnum as usize;
    let keys = &argv[first_key..first_key + setnum];
    let (db, now) = (ctx.client.db, ctx.now_ms);
    for key in keys {
        let entry = if store {
            ctx.server.lookup_write(db, key, now)
        } else {
            ctx.server.lookup_read(db, key, now, !ctx.client.no_touch)
        };
        if let Some(e) = entry {
            if !matches!(e.value, Value::ZSet(_) | Value::Set(_)) {
                return Err(CommandError::WrongType);
            }
        }
    }
    let mut weights = vec![1.0f64; setnum];
    let mut how = Aggregate::Sum;
    let mut withscores = false;
    let mut limit: u64 = 0;
    let mut j = first_key + setnum;
    while j < argv.len() {
        let remaining = argv.len() - j;
        let opt = argv[j].to_ascii_lowercase();
        if op != SetOp::Diff && !card_only && remaining > setnum && opt == b"weights" {
            j += 1;
            for w in weights.iter_mut() {
                *w = zset::parse_score(&argv[j]).ok_or(CommandError::err("ERR weight value is not a float"))?;
                j += 1;
            }
        } else if op != SetOp::Diff && !card_only && remaining >= 2 && opt == b"aggregate" {
            how = match argv[j + 1].to_ascii_lowercase().as_slice() {
                b"sum" => Aggregate::Sum,
                b"min" => Aggregate::Min,
                b"max" => Aggregate::Max,
                _ => return Err(CommandError::Syntax),
            };
            j += 2;
        } else if !store && !card_only && opt == b"withscores" {
            withscores = true;
            j += 1;
        } else if card_only && remaining >= 2 && opt == b"limit" {
            match number::parse_i64(&argv[j + 1]) {
                Some(n) if n >= 0 => limit = n as u64,
                _ => return Err(CommandError::err("ERR LIMIT can't be negative")),
            }
            j += 2;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    // Seeded from the server's generator: no OS randomness, and clients cannot aim collisions.
    let seed: u64 = ctx.server.rng.random();
    let dbref = &ctx.server.dbs[db];
    let mut sources: Vec<(Source<'_>, f64)> = keys
        .iter()
        .zip(&weights)
        .map(|(key, &w)| {
            let src = match dbref.peek(key, now).map(|e| &e.value) {
                Some(Value::ZSet(z)) => Source::ZSet(z),
                Some(Value::Set(s)) => Source::Set(s),
                _ => Source::Missing,
            };
            (src, w)
        })
        .collect();
    if op != SetOp::Diff {
        // Smallest first (a stable sort, as the reference's merge sort is).
        sources.sort_by_key(|(s, _)| s.len());
    }
    let mut items: Vec<(Vec<u8>, f64)> = Vec::new();
    let mut cardinality: u64 = 0;
    match op {
        SetOp::Inter => {
            if sources[0].0.len() > 0 {
                for (m, s) in sources[0].0.members() {
                    let mut score = sources[0].1 * s;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    let mut all = true;
                    for (src, w) in &sources[1..] {
                        match src.score(m) {
                            Some(v) => aggregate(&mut score, v * w, how),
                            None => {
                                all = false;
                                break;
                            }
                        }
                    }
                    if !all {
                        continue;
                    }
                    if card_only {
                        cardinality += 1;
                        if limit > 0 && cardinality >= limit {
                            break;
                        }
                    } else {
                        items.push((m.to_vec(), score));
                    }
                }
            }
        }
        SetOp::Union => {
            let mut acc: HashMap<&[u8], f64, FixedState> = HashMap::with_hasher(FixedState::with_seed(seed));
            for (src, w) in &sources {
                for (m, s) in src.members() {
                    let mut score = w * s;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    match acc.get_mut(m) {
                        Some(t) => aggregate(t, score, how),
                        None => {
                            acc.insert(m, score);
                        }
                    }
                }
            }
            items = acc.into_iter().map(|(m, s)| (m.to_vec(), s)).collect();
        }
        SetOp::Diff => {
            for (m, s) in sources[0].0.members() {
                if sources[1..].iter().all(|(src, _)| src.score(m).is_none()) {
                    items.push((m.to_vec(), s));
                }
            }
        }
    }
    drop(sources);
    if card_only {
        ctx.reply.integer(cardinality as i64);
        return Ok(());
    }
    sort_items(&mut items);
    if store {
        store_result(ctx, &argv[1], items);
        return Ok(());
    }
    let count = items.len();
    reply_elements(
        &mut ctx.reply,
        items.iter().map(|(m, s)| (m.as_slice(), *s)),
        count,
        withscores,
    );
    Ok(())
}

/// ZUNION numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
fn zunion(ctx: &mut Ctx<'_>) -> CmdResult {
    setop_generic(ctx, 1, false, SetOp::Union, false)
}

/// ZUNIONSTORE dst numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX]
fn zunionstore(ctx: &mut Ctx<'_>) -> CmdResult {
    setop_generic(ctx, 2, true, SetOp::Union, false)
}

/// ZINTER numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
fn zinter(ctx: &mut Ctx<'_>) -> CmdResult {
    setop_generic(ctx, 1, false, SetOp::Inter, false)
}

/// ZINTERSTORE dst numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX]
fn zinterstore(ctx: &mut Ctx<'_>) -> CmdResult {
    setop_generic(ctx, 2, true, SetOp::Inter, false)
}

/// ZINTERCARD numkeys key [key ...] [LIMIT limit]
fn zintercard(ctx: &mut Ctx<'_>) -> CmdResult {
    setop_generic(ctx, 1, false, SetOp::Inter, true)
}

/// ZDIFF numkeys key [key ...] [WITHSCORES]
fn zdiff(ctx: &mut Ctx<'_>) -> CmdResult {
    setop_generic(ctx, 1, false, SetOp::Diff, false)
}

/// ZDIFFSTORE dst numkeys key [key ...]
fn zdiffstore(ctx: &mut Ctx<'_>) -> CmdResult {
    setop_generic(ctx, 2, true, SetOp::Diff, false)
}

/// ZSCAN key cursor [MATCH pattern] [COUNT count]
fn zscan(ctx: &mut Ctx<'_>) -> CmdResult {
    let argv = ctx.argv;
    let cursor = keys::parse_cursor(&argv[2])?;
    let Some(z) = zread(ctx.server, ctx.client, &argv[1], ctx.now_ms)? else {
        ctx.reply.array(2);
        ctx.reply.bulk(b"0");
        ctx.reply.array(0);
        return Ok(());
    };
    let mut count: i64 = 10;
    let mut pattern: Option<&[u8]> = None;
    let mut i = 3;
    while i < argv.len() {
        let remaining = argv.len() - i;
        match argv[i].to_ascii_lowercase().as_slice() {
            b"count" if remaining >= 2 => {
                count = number::parse_i64(&argv[i + 1]).ok_or(CommandError::NotInteger)?;
                if count < 1 {
                    return Err(CommandError::Syntax);
                }
            }
            b"match" if remaining >= 2 => pattern = Some(&argv[i + 1]),
            _ => return Err(CommandError::Syntax),
        }
        i += 2;
    }
    let mut found: Vec<(Vec<u8>, f64)> = Vec::new();
    let next = z.scan(cursor, count.min(1 << 20) as usize, |m, s| {
        if pattern.is_none_or(|p| glob_match(p, m, false)) {
            found.push((m.to_vec(), s));
        }
    });
    ctx.reply.array(2);
    let mut buf = [0u8; 20];
    let len = number::format_i64(next as i64, &mut buf);
    ctx.reply.bulk(&buf[..len]);
    ctx.reply.array(found.len() * 2);
    for (m, s) in &found {
        ctx.reply.bulk(m);
        ctx.reply.bulk(number::format_g(*s, 17).as_bytes());
    }
    Ok(())
}
