//! The serialization family: DUMP and RESTORE, which move one key's value between servers as an RDB
//! payload.
//!
//! Owns the commands' argument rules and replies; the payload format itself belongs to
//! [`crate::persist::rdb`]. Never trusts a payload: anything that fails the checksum or does not decode
//! completely is refused without touching the keyspace.

use super::{CmdResult, CommandError, Ctx, Registry};
use crate::keyspace::{access, NO_EXPIRE};
use crate::persist::rdb::{payload, LoadParams, SaveParams};
use crate::types::Value;

/// Registers the family's handlers.
pub fn register(r: &mut Registry) {
    r.add("dump", dump);
    r.add("restore", restore);
}

/// DUMP key: the value's payload, or null.
fn dump(ctx: &mut Ctx<'_>) -> CmdResult {
    let touch = !ctx.client.no_touch;
    let params = SaveParams::from_config(&ctx.server.config);
    match ctx.server.lookup_read(ctx.client.db, &ctx.argv[1], ctx.now_ms, touch) {
        Some(entry) => {
            let bytes = payload::dump(&entry.value, &params);
            ctx.reply.bulk(&bytes);
        }
        None => ctx.reply.null(),
    }
    Ok(())
}

/// RESTORE's options.
struct RestoreOptions {
    /// Replace an existing key.
    replace: bool,
    /// The TTL argument is an absolute Unix time in ms.
    absttl: bool,
    /// IDLETIME seconds.
    idle_s: Option<i64>,
    /// FREQ counter.
    freq: Option<i64>,
}

/// Parses the options after the payload, with the reference's checks and errors in its order.
fn restore_options(ctx: &Ctx<'_>) -> Result<RestoreOptions, CommandError> {
    let mut opts = RestoreOptions {
        replace: false,
        absttl: false,
        idle_s: None,
        freq: None,
    };
    let mut i = 4;
    while i < ctx.argc() {
        let more = i + 1 < ctx.argc();
        let opt = ctx.arg(i).to_ascii_lowercase();
        match opt.as_slice() {
            b"replace" => opts.replace = true,
            b"absttl" => opts.absttl = true,
            // IDLETIME and FREQ exclude each other: the second one is a syntax error.
            b"idletime" if more && opts.freq.is_none() => {
                let idle = ctx.arg_i64(i + 1)?;
                if idle < 0 {
                    return Err(CommandError::err("ERR Invalid IDLETIME value, must be >= 0"));
                }
                opts.idle_s = Some(idle);
                i += 1;
            }
            b"freq" if more && opts.idle_s.is_none() => {
                let freq = ctx.arg_i64(i + 1)?;
                if !(0..=255).contains(&freq) {
                    return Err(CommandError::err("ERR Invalid FREQ value, must be >= 0 and <= 255"));
                }
                opts.freq = Some(freq);
                i += 1;
            }
            _ => return Err(CommandError::Syntax),
        }
        i += 1;
    }
    Ok(opts)
}

/// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
fn restore(ctx: &mut Ctx<'_>) -> CmdResult {
    let opts = restore_options(ctx)?;
    let key = ctx.argv[1].clone();
    let (db, now) = (ctx.client.db, ctx.now_ms);
    if !opts.replace && ctx.server.lookup_write(db, &key, now).is_some() {
        return Err(CommandError::err("BUSYKEY Target key name already exists."));
    }
    let ttl = ctx.arg_i64(2)?;
    if ttl < 0 {
        return Err(CommandError::err("ERR Invalid TTL value, must be >= 0"));
    }
    let bytes = ctx.argv[3].clone();
    if !payload::verify(&bytes) {
        return Err(CommandError::err("ERR DUMP payload version or checksum are wrong"));
    }
    let mut params = LoadParams::from_config(&ctx.server.config, rand::Rng::random(&mut ctx.server.rng));
    let value: Value = match payload::restore(&bytes, &mut params) {
        Ok(Some(value)) => value,
        _ => return Err(CommandError::err("ERR Bad data format")),
    };
    let deleted = opts.replace && ctx.server.dbs[db].remove(&key, now).is_some();
    // A relative TTL is added to the current time the way the reference adds it (wrapping on overflow,
    // which makes an absurd TTL read as already expired).
    let expire_at = match ttl {
        0 => None,
        t if opts.absttl => Some(t),
        t => Some(t.wrapping_add(now)),
    };
    if expire_at.is_some_and(|at| at <= now) {
        if deleted {
            ctx.server.signal_modified(db, &key);
        }
        ctx.reply.ok();
        return Ok(());
    }
    let config = &ctx.server.config;
    let stamp = if config.lfu_policy() {
        match opts.freq {
            Some(f) => (access::lfu_new(now) & !0xFF) | f as u32,
            None => access::lfu_new(now),
        }
    } else {
        let idle = opts.idle_s.unwrap_or(0).min(u32::MAX as i64) as u32;
        access::lru_stamp(now).saturating_sub(idle)
    };
    ctx.server.dbs[db].insert_new(&key, value, expire_at.unwrap_or(NO_EXPIRE), stamp);
    ctx.server.signal_modified(db, &key);
    ctx.server.signal_key_ready(db, &key);
    ctx.reply.ok();
    Ok(())
}
