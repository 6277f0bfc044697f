//! The persistence family: SAVE, BGSAVE, LASTSAVE, and the snapshot parts of FLUSHALL, SHUTDOWN and
//! DEBUG RELOAD.
//!
//! Owns these commands' argument rules, replies and error texts (recorded from the reference server).
//! Saving itself is a snapshot the shell writes (`persist::snapshot`, `persist::save`); a client that
//! must wait for the outcome is parked with `Server::wait_for_io`. Nothing here touches a file.

use std::sync::Arc;

use super::{CmdResult, CommandError, Ctx, Registry};
use crate::persist::rdb_snapshot::RdbFormat;
use crate::persist::save::SaveKind;
use crate::persist::snapshot::SnapshotFormat;
use crate::server::Effect;
use crate::Server;

/// The refusal while a snapshot is being written.
const IN_PROGRESS: &str = "ERR Background save already in progress";

/// Registers the family's handlers.
pub fn register(r: &mut Registry) {
    r.add("save", save);
    r.add("bgsave", bgsave);
    r.add("lastsave", lastsave);
}

fn is(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}

/// The RDB format the configuration asks for, for a file created at `now_ms`.
pub fn rdb_format(server: &Server, now_ms: i64) -> Arc<dyn SnapshotFormat> {
    RdbFormat::new(&server.config, now_ms, server.memory.used_memory, false)
}

/// Starts a snapshot of `kind` in the configured RDB format; false while one runs.
pub fn start_rdb_snapshot(server: &mut Server, kind: SaveKind, now_ms: i64) -> bool {
    let format = rdb_format(server, now_ms);
    server.start_snapshot(kind, format, now_ms)
}

/// SAVE: the client waits until the snapshot is durable in place ("OK") or failed ("ERR").
fn save(ctx: &mut Ctx<'_>) -> CmdResult {
    if ctx.server.persistence.in_progress() {
        return Err(CommandError::err(IN_PROGRESS));
    }
    let id = ctx.client.id;
    start_rdb_snapshot(ctx.server, SaveKind::Foreground(id), ctx.now_ms);
    ctx.server.wait_for_io(ctx.client);
    Ok(())
}

/// BGSAVE [SCHEDULE]
fn bgsave(ctx: &mut Ctx<'_>) -> CmdResult {
    match ctx.argc() {
        1 => {}
        2 if is(ctx.arg(1), "schedule") => {}
        _ => return Err(CommandError::Syntax),
    }
    if ctx.server.persistence.in_progress() {
        return Err(CommandError::err(IN_PROGRESS));
    }
    if ctx.client.in_exec {
        // The reference never forks inside a transaction; the save starts at the next cron run.
        ctx.server.persistence.scheduled = true;
        ctx.reply.simple(b"Background saving scheduled");
        return Ok(());
    }
    start_rdb_snapshot(ctx.server, SaveKind::Background, ctx.now_ms);
    ctx.reply.simple(b"Background saving started");
    Ok(())
}

/// LASTSAVE: Unix time of the last successful save.
fn lastsave(ctx: &mut Ctx<'_>) -> CmdResult {
    let secs = ctx.server.persistence.last_save_ms.div_euclid(1000);
    ctx.reply.integer(secs);
    Ok(())
}

/// After FLUSHALL: with save points configured the reference replaces its snapshot with the empty
/// dataset (abandoning a background save in progress).
pub fn after_flushall(server: &mut Server, now_ms: i64) {
    if server.config.get("save").is_some_and(|v| !v.is_empty()) {
        server.abort_background_snapshot();
        if start_rdb_snapshot(server, SaveKind::Synchronous, now_ms) {
            // A save made for a flush does not count in `rdb_saves`.
            server.persistence.saves = server.persistence.saves.saturating_sub(1);
        }
    }
}

/// SHUTDOWN with a final save: the client waits; on success the server stops without replying, on
/// failure it gets the reference's refusal and the server keeps running.
pub fn shutdown_with_save(ctx: &mut Ctx<'_>) -> CmdResult {
    ctx.server.abort_background_snapshot();
    let id = ctx.client.id;
    if !start_rdb_snapshot(ctx.server, SaveKind::Shutdown(id), ctx.now_ms) {
        // A SAVE another client waits for is running; the reference would not be in this state.
        return Err(CommandError::err("ERR Errors trying to SHUTDOWN. Check logs."));
    }
    ctx.server.wait_for_io(ctx.client);
    Ok(())
}

/// DEBUG RELOAD [NOSAVE]: saves (unless NOSAVE), empties the databases and loads the file back; the
/// client waits for the shell to do both.
pub fn debug_reload(ctx: &mut Ctx<'_>) -> CmdResult {
    let mut nosave = false;
    for arg in &ctx.argv[2..] {
        if is(arg, "nosave") {
            nosave = true;
        } else if is(arg, "merge") || is(arg, "noflush") {
            return Err(CommandError::err(
                "ERR DEBUG RELOAD NOFLUSH and MERGE are not supported by keel",
            ));
        } else {
            return Err(CommandError::err(
                "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.",
            ));
        }
    }
    if ctx.client.in_exec {
        return Err(CommandError::err(
            "ERR DEBUG RELOAD inside MULTI is not supported by keel",
        ));
    }
    let id = ctx.client.id;
    if nosave {
        ctx.server.effects.push(Effect::LoadSnapshot(id));
    } else {
        ctx.server.abort_background_snapshot();
        if !start_rdb_snapshot(ctx.server, SaveKind::Reload(id), ctx.now_ms) {
            return Err(CommandError::err("ERR"));
        }
    }
    ctx.server.wait_for_io(ctx.client);
    Ok(())
}
