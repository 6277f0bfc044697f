//! The expiry family: setting, reading and clearing key time-to-live.
//!
//! Owns EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (with NX, XX, GT, LT), TTL, PTTL, EXPIRETIME, PEXPIRETIME and
//! PERSIST. When keys actually expire (lazily on access, actively by sampling) is the keyspace's and the
//! server cron's business.

use super::{CmdResult, CommandError, Ctx, Registry};
use crate::keyspace::NO_EXPIRE;

/// Registers the family's handlers.
pub fn register(r: &mut Registry) {
    r.add("expire", expire);
    r.add("pexpire", pexpire);
    r.add("expireat", expireat);
    r.add("pexpireat", pexpireat);
    r.add("ttl", ttl);
    r.add("pttl", pttl);
    r.add("expiretime", expiretime);
    r.add("pexpiretime", pexpiretime);
    r.add("persist", persist);
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Unit {
    Seconds,
    Millis,
}

/// The conditions NX, XX, GT and LT.
#[derive(Default)]
struct Conditions {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

fn parse_conditions(ctx: &Ctx<'_>) -> Result<Conditions, CommandError> {
    let mut c = Conditions::default();
    for arg in &ctx.argv[3..] {
        match arg.to_ascii_lowercase().as_slice() {
            b"nx" => c.nx = true,
            b"xx" => c.xx = true,
            b"gt" => c.gt = true,
            b"lt" => c.lt = true,
            _ => {
                return Err(CommandError::Other(
                    format!("ERR Unsupported option {}", String::from_utf8_lossy(arg)).into(),
                ))
            }
        }
    }
    if c.nx && (c.xx || c.gt || c.lt) {
        return Err(CommandError::err(
            "ERR NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if c.gt && c.lt {
        return Err(CommandError::err(
            "ERR GT and LT options at the same time are not compatible",
        ));
    }
    Ok(c)
}

/// The shared body of the four EXPIRE commands. `relative` adds the current time to the argument.
fn expire_generic(ctx: &mut Ctx<'_>, unit: Unit, relative: bool, cmd: &'static str) -> CmdResult {
    let cond = parse_conditions(ctx)?;
    let mut when = ctx.arg_i64(2)?;
    // Negative times are allowed (the key is deleted); only overflow is an error.
    if unit == Unit::Seconds {
        when = when.checked_mul(1000).ok_or(CommandError::InvalidExpireTime(cmd))?;
    }
    if relative {
        when = when
            .checked_add(ctx.now_ms)
            .ok_or(CommandError::InvalidExpireTime(cmd))?;
    }
    let key = ctx.argv[1].clone();
    let now = ctx.now_ms;
    let db = ctx.client.db;
    if ctx.server.lookup_write(db, &key, now).is_none() {
        ctx.reply.integer(0);
        return Ok(());
    }
    let current = ctx.server.dbs[db].expire_at(&key);
    let refused = (cond.nx && current.is_some())
        || (cond.xx && current.is_none())
        || (cond.gt && current.is_none_or(|c| when <= c))
        || (cond.lt && current.is_some_and(|c| when >= c));
    if refused {
        ctx.reply.integer(0);
        return Ok(());
    }
    if when <= now {
        ctx.server.dbs[db].remove(&key, now);
    } else {
        ctx.server.dbs[db].set_expire(&key, when);
    }
    ctx.server.signal_modified(db, &key);
    ctx.reply.integer(1);
    Ok(())
}

/// EXPIRE key seconds [NX|XX|GT|LT]
fn expire(ctx: &mut Ctx<'_>) -> CmdResult {
    expire_generic(ctx, Unit::Seconds, true, "expire")
}

/// PEXPIRE key milliseconds [NX|XX|GT|LT]
fn pexpire(ctx: &mut Ctx<'_>) -> CmdResult {
    expire_generic(ctx, Unit::Millis, true, "pexpire")
}

/// EXPIREAT key unix-time-seconds [NX|XX|GT|LT]
fn expireat(ctx: &mut Ctx<'_>) -> CmdResult {
    expire_generic(ctx, Unit::Seconds, false, "expireat")
}

/// PEXPIREAT key unix-time-milliseconds [NX|XX|GT|LT]
fn pexpireat(ctx: &mut Ctx<'_>) -> CmdResult {
    expire_generic(ctx, Unit::Millis, false, "pexpireat")
}

/// Looks up a key's expiry for the TTL family: `None` if the key is absent, `Some(None)` if it has no TTL.
fn current_expire(ctx: &mut Ctx<'_>) -> Option<Option<i64>> {
    let key = ctx.argv[1].clone();
    let db = ctx.client.db;
    ctx.server.lookup_read(db, &key, ctx.now_ms, false)?;
    Some(ctx.server.dbs[db].expire_at(&key))
}

fn ttl_generic(ctx: &mut Ctx<'_>, unit: Unit) -> CmdResult {
    let now = ctx.now_ms;
    let reply = match current_expire(ctx) {
        None => -2,
        Some(None) => -1,
        Some(Some(at)) => {
            let left = (at - now).max(0);
            match unit {
                Unit::Millis => left,
                Unit::Seconds => (left + 500) / 1000,
            }
        }
    };
    ctx.reply.integer(reply);
    Ok(())
}

/// TTL key
fn ttl(ctx: &mut Ctx<'_>) -> CmdResult {
    ttl_generic(ctx, Unit::Seconds)
}

/// PTTL key
fn pttl(ctx: &mut Ctx<'_>) -> CmdResult {
    ttl_generic(ctx, Unit::Millis)
}

fn expiretime_generic(ctx: &mut Ctx<'_>, unit: Unit) -> CmdResult {
    let reply = match current_expire(ctx) {
        None => -2,
        Some(None) => -1,
        Some(Some(at)) => match unit {
            Unit::Millis => at,
            Unit::Seconds => at / 1000,
        },
    };
    ctx.reply.integer(reply);
    Ok(())
}

/// EXPIRETIME key
fn expiretime(ctx: &mut Ctx<'_>) -> CmdResult {
    expiretime_generic(ctx, Unit::Seconds)
}

/// PEXPIRETIME key
fn pexpiretime(ctx: &mut Ctx<'_>) -> CmdResult {
    expiretime_generic(ctx, Unit::Millis)
}

/// PERSIST key
fn persist(ctx: &mut Ctx<'_>) -> CmdResult {
    let key = ctx.argv[1].clone();
    let now = ctx.now_ms;
    let db = ctx.client.db;
    let had_ttl = ctx.server.lookup_write(db, &key, now).is_some_and(|e| e.has_expire());
    if had_ttl {
        ctx.server.dbs[db].set_expire(&key, NO_EXPIRE);
        ctx.server.signal_modified(db, &key);
    }
    ctx.reply.integer(had_ttl as i64);
    Ok(())
}
