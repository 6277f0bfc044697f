//! The append-only file's command: BGREWRITEAOF, and starting a rewrite that was scheduled.
//!
//! Owns the command's replies and error texts (recorded from the reference server) and the rewrite
//! instant: the point-in-time snapshot that becomes the new base starts under the same lock that marks
//! the propagation stream, so every write after the snapshot's instant goes to the new incremental file
//! and none before it does. The shell writes the files; nothing here touches one.

use super::{CmdResult, CommandError, Ctx, Registry};
use crate::persist::rdb_snapshot::RdbFormat;
use crate::persist::save::SaveKind;
use crate::Server;

/// Registers the family's handlers.
pub fn register(r: &mut Registry) {
    r.add("bgrewriteaof", bgrewriteaof);
}

/// BGREWRITEAOF
fn bgrewriteaof(ctx: &mut Ctx<'_>) -> CmdResult {
    if ctx.server.aof.rewrite_in_progress {
        return Err(CommandError::err(
            "ERR Background append only file rewriting already in progress",
        ));
    }
    // Inside EXEC, or while a snapshot is being written, the rewrite starts later (from cron).
    if ctx.client.in_exec || ctx.server.persistence.in_progress() {
        ctx.server.aof.rewrite_scheduled = true;
        ctx.reply.simple(b"Background append only file rewriting scheduled");
        return Ok(());
    }
    if !start_rewrite(ctx.server, ctx.now_ms) {
        return Err(CommandError::err(
            "ERR Can't execute an AOF background rewriting. Please check the server logs for more information.",
        ));
    }
    ctx.reply.simple(b"Background append only file rewriting started");
    Ok(())
}

/// Starts a rewrite now: a point-in-time snapshot in RDB format (the new base) and, when the file is
/// on, a mark in the propagation stream where the next incremental file begins. False while another
/// snapshot runs.
pub fn start_rewrite(server: &mut Server, now_ms: i64) -> bool {
    let format = RdbFormat::new(&server.config, now_ms, server.memory.used_memory, true);
    if !server.start_snapshot(SaveKind::AofRewrite, format, now_ms) {
        return false;
    }
    server.aof.rewrite_in_progress = true;
    server.aof.rewrite_scheduled = false;
    server.aof.rewrite_started_ms = Some(now_ms);
    server.propagation.mark_rewrite();
    true
}

/// Cron's part: starts a scheduled rewrite once no snapshot runs, or an automatic one when the file
/// grew by `auto-aof-rewrite-percentage` over its size after the last rewrite (or load) and is larger
/// than `auto-aof-rewrite-min-size`.
pub(crate) fn cron(server: &mut Server, now_ms: i64) {
    if server.aof.rewrite_in_progress || server.persistence.in_progress() {
        return;
    }
    if server.aof.rewrite_scheduled || auto_rewrite_due(server) {
        start_rewrite(server, now_ms);
    }
}

/// True when the file is on and has grown enough for an automatic rewrite.
fn auto_rewrite_due(server: &Server) -> bool {
    let a = &server.aof;
    if !a.enabled {
        return false;
    }
    let percent = server.config.get_i64("auto-aof-rewrite-percentage");
    let min_size = server.config.get_i64("auto-aof-rewrite-min-size").max(0) as u64;
    if percent <= 0 || a.current_size <= min_size {
        return false;
    }
    let base = a.base_size.max(1);
    let growth = (a.current_size.saturating_mul(100) / base) as i64 - 100;
    growth >= percent
}

/// The shell reports the end of a rewrite at `now_ms`: updates the figures INFO reports.
pub fn rewrite_finished(server: &mut Server, ok: bool, now_ms: i64) {
    let a = &mut server.aof;
    a.rewrite_in_progress = false;
    if let Some(start) = a.rewrite_started_ms.take() {
        a.last_rewrite_time_sec = (now_ms - start).max(0).div_euclid(1000);
    }
    a.last_bgrewrite_ok = ok;
    if ok {
        a.rewrites += 1;
        a.rewrites_consecutive_failures = 0;
    } else {
        a.rewrites_consecutive_failures += 1;
    }
}
