//! Blocking commands: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP, and
//! CLIENT UNBLOCK.
//!
//! Owns their argument rules, their immediate replies, and how a waiting client is served. A command
//! that finds data answers at once like its non-blocking sibling. One that finds none records the client
//! in `Server::blocked` (keys, absolute deadline, what to do) and writes nothing; dispatch then reports
//! `Flow::Blocked` and the shell stops running that client's commands. After every command (and after
//! `EXEC` as a whole) [`serve_ready`] serves the clients waiting on keys that received data, first come
//! first served, and leaves their replies for their connections to collect. Inside a transaction a
//! blocking command never blocks: with no data it replies as if it had timed out.

use bytes::Bytes;

use super::{CmdResult, CommandError, Ctx, Registry};
use crate::blocking::{BlockOp, BlockedClient, End};
use crate::client::ReplyMode;
use crate::propagate;
use crate::resp::Reply;
use crate::server::{Effect, Server};
use crate::types::longdouble::{self, IncrError, Operand};
use crate::types::{ListValue, Value};

/// Registers the family's handlers.
pub fn register(r: &mut Registry) {
    r.add("blpop", blpop);
    r.add("brpop", brpop);
    r.add("blmove", blmove);
    r.add("brpoplpush", brpoplpush);
    r.add("blmpop", blmpop);
    r.add("bzpopmin", bzpopmin);
    r.add("bzpopmax", bzpopmax);
    r.add("bzmpop", bzmpop);
    r.add("client|unblock", client_unblock);
}

const NOT_FLOAT: &str = "ERR timeout is not a float or out of range";
const NEGATIVE: &str = "ERR timeout is negative";

/// Parses a timeout in seconds (fractions allowed) into an absolute deadline in Unix ms; `None` is
/// "wait forever" (0). The value is rounded up to whole milliseconds, and a value whose milliseconds do
/// not fit a 64-bit integer counts as negative, as on the reference server.
pub fn parse_timeout(arg: &[u8], now_ms: i64) -> Result<Option<i64>, CommandError> {
    // The float grammar (hex floats, exponents, no spaces) is the long double parser's.
    let text = match longdouble::incr(Operand::Int(0), arg) {
        Ok(text) => text,
        Err(IncrError::NotFloat) => return Err(CommandError::err(NOT_FLOAT)),
        Err(IncrError::NanOrInfinity) => return Err(CommandError::err(NEGATIVE)),
    };
    // Prefer the argument itself (keeps tiny values that the printed sum rounds to 0).
    let secs = std::str::from_utf8(arg)
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .or_else(|| std::str::from_utf8(&text).ok().and_then(|s| s.parse::<f64>().ok()))
        .ok_or(CommandError::err(NOT_FLOAT))?;
    let ms = (secs * 1000.0).ceil();
    let ms = if ms.is_finite() && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&ms) {
        ms as i64
    } else {
        i64::MIN
    };
    if ms < 0 {
        return Err(CommandError::err(NEGATIVE));
    }
    Ok((ms > 0).then(|| now_ms.saturating_add(ms)))
}

/// Parses LEFT|RIGHT.
fn parse_end(arg: &[u8]) -> Result<End, CommandError> {
    if arg.eq_ignore_ascii_case(b"left") {
        Ok(End::Left)
    } else if arg.eq_ignore_ascii_case(b"right") {
        Ok(End::Right)
    } else {
        Err(CommandError::Syntax)
    }
}

fn pop_list(l: &mut ListValue, end: End) -> Option<Vec<u8>> {
    match end {
        End::Left => l.pop_front(),
        End::Right => l.pop_back(),
    }
}

fn push_list(l: &mut ListValue, end: End, item: &[u8]) {
    match end {
        End::Left => l.push_front(item),
        End::Right => l.push_back(item),
    }
}

/// After popping from `key`: removes it if it became empty and signals the change.
fn popped(server: &mut Server, db: usize, key: &[u8], now_ms: i64) {
    let empty = match server.dbs[db].peek(key, now_ms).map(|e| &e.value) {
        Some(Value::List(l)) => l.is_empty(),
        Some(Value::ZSet(z)) => z.is_empty(),
        _ => false,
    };
    if empty {
        server.dbs[db].remove(key, now_ms);
    }
    server.signal_modified(db, key);
}

/// Serves `op` from `key` if it holds data of the right type, writing the reply. `Ok(false)`: the key
/// is absent (or empty). `Err(WrongType)`: the key (or BLMOVE's destination) holds another type.
fn try_serve(
    server: &mut Server,
    db: usize,
    key: &[u8],
    op: &BlockOp,
    now_ms: i64,
    reply: &mut Reply<'_>,
) -> Result<bool, CommandError> {
    let Some(entry) = server.lookup_write(db, key, now_ms) else {
        return Ok(false);
    };
    match (op, &mut entry.value) {
        (BlockOp::Pop(end), Value::List(l)) => {
            let Some(v) = pop_list(l, *end) else {
                return Ok(false);
            };
            reply.array(2);
            reply.bulk(key);
            reply.bulk(&v);
            let name: &[u8] = if *end == End::Left { b"LPOP" } else { b"RPOP" };
            server.propagation.replace(db, propagate::command(&[name, key]));
        }
        (BlockOp::MPop { end, count }, Value::List(l)) => {
            let n = (*count).min(l.len());
            let items: Vec<Vec<u8>> = (0..n).filter_map(|_| pop_list(l, *end)).collect();
            if items.is_empty() {
                return Ok(false);
            }
            reply.array(2);
            reply.bulk(key);
            reply.array(items.len());
            for v in &items {
                reply.bulk(v);
            }
            let name: &[u8] = if *end == End::Left { b"LPOP" } else { b"RPOP" };
            let n = items.len().to_string();
            server
                .propagation
                .replace(db, propagate::command(&[name, key, n.as_bytes()]));
        }
        (BlockOp::ZPop { min }, Value::ZSet(z)) => {
            let Some((member, score)) = (if *min { z.pop_min() } else { z.pop_max() }) else {
                return Ok(false);
            };
            reply.array(3);
            reply.bulk(key);
            reply.bulk(&member);
            reply.double(score);
            let name: &[u8] = if *min { b"ZPOPMIN" } else { b"ZPOPMAX" };
            server.propagation.replace(db, propagate::command(&[name, key]));
        }
        (BlockOp::ZMPop { min, count }, Value::ZSet(z)) => {
            let n = (*count).min(z.len());
            let items: Vec<(Vec<u8>, f64)> = (0..n)
                .filter_map(|_| if *min { z.pop_min() } else { z.pop_max() })
                .collect();
            if items.is_empty() {
                return Ok(false);
            }
            reply.array(2);
            reply.bulk(key);
            reply.array(items.len());
            for (m, s) in &items {
                reply.array(2);
                reply.bulk(m);
                reply.double(*s);
            }
            let name: &[u8] = if *min { b"ZPOPMIN" } else { b"ZPOPMAX" };
            let n = items.len().to_string();
            server
                .propagation
                .replace(db, propagate::command(&[name, key, n.as_bytes()]));
        }
        (
            BlockOp::Move {
                from,
                to,
                dst,
                rpoplpush,
            },
            Value::List(l),
        ) => {
            if l.is_empty() {
                return Ok(false);
            }
            // A move propagates as LMOVE, or RPOPLPUSH when that is what was asked.
            let side = |e: End| -> &'static [u8] {
                if e == End::Left {
                    b"left"
                } else {
                    b"right"
                }
            };
            let lmove = if *rpoplpush {
                propagate::command(&[b"RPOPLPUSH", key, dst])
            } else {
                propagate::command(&[b"LMOVE", key, dst, side(*from), side(*to)])
            };
            if dst.as_ref() == key {
                // Rotating a list onto itself.
                let Some(v) = pop_list(l, *from) else {
                    return Ok(false);
                };
                push_list(l, *to, &v);
                reply.bulk(&v);
                server.propagation.replace(db, lmove);
                server.signal_modified(db, key);
                server.signal_key_ready(db, key);
                return Ok(true);
            }
            match server
                .lookup_write(db, dst, now_ms)
                .map(|e| matches!(e.value, Value::List(_)))
            {
                Some(false) => return Err(CommandError::WrongType),
                Some(true) => {}
                None => {
                    let stamp = server.new_access_stamp(now_ms);
                    let list = super::lists::new_list(server);
                    server.dbs[db].insert_new(dst, Value::List(list), crate::keyspace::NO_EXPIRE, stamp);
                }
            }
            let v = match server.lookup_write(db, key, now_ms).map(|e| &mut e.value) {
                Some(Value::List(l)) => pop_list(l, *from),
                _ => None,
            };
            let Some(v) = v else {
                return Ok(false);
            };
            if let Some(Value::List(d)) = server.lookup_write(db, dst, now_ms).map(|e| &mut e.value) {
                push_list(d, *to, &v);
            }
            reply.bulk(&v);
            server.propagation.replace(db, lmove);
            popped(server, db, key, now_ms);
            server.signal_modified(db, dst);
            server.signal_key_ready(db, dst);
            return Ok(true);
        }
        _ => return Err(CommandError::WrongType),
    }
    popped(server, db, key, now_ms);
    Ok(true)
}

/// The reply of a blocking command that timed out (or was unblocked by `CLIENT UNBLOCK id TIMEOUT`):
/// the null array, whatever the command.
pub fn timeout_reply(reply: &mut Reply<'_>) {
    reply.null_array();
}

/// The reply of a blocking command that found no data inside a transaction: what its non-blocking
/// sibling answers (a null bulk string for BLMOVE/BRPOPLPUSH, a null array for the others).
fn no_data_in_exec_reply(op: &BlockOp, reply: &mut Reply<'_>) {
    if op.null_bulk_on_timeout() {
        reply.null();
    } else {
        reply.null_array();
    }
}

/// The common body: try each key in order; with no data, block (or, in a transaction, time out at once).
fn serve_or_block(ctx: &mut Ctx<'_>, keys: Vec<Bytes>, deadline_ms: Option<i64>, op: BlockOp) -> CmdResult {
    let db = ctx.client.db;
    for key in &keys {
        if try_serve(ctx.server, db, key, &op, ctx.now_ms, &mut ctx.reply)? {
            return Ok(());
        }
    }
    if ctx.client.in_exec {
        no_data_in_exec_reply(&op, &mut ctx.reply);
        return Ok(());
    }
    let blocked = BlockedClient {
        db,
        keys,
        deadline_ms,
        op,
        proto: ctx.client.proto,
        deferred: Vec::new(),
        silent: matches!(ctx.client.reply_mode, ReplyMode::Off | ReplyMode::Skipping),
    };
    ctx.server.blocked.block(ctx.client.id, blocked);
    Ok(())
}

/// BLPOP / BRPOP key [key ...] timeout
fn pop_generic(ctx: &mut Ctx<'_>, end: End) -> CmdResult {
    let last = ctx.argc() - 1;
    let deadline = parse_timeout(ctx.arg(last), ctx.now_ms)?;
    let keys = ctx.argv[1..last].to_vec();
    serve_or_block(ctx, keys, deadline, BlockOp::Pop(end))
}

/// BLPOP key [key ...] timeout
fn blpop(ctx: &mut Ctx<'_>) -> CmdResult {
    pop_generic(ctx, End::Left)
}

/// BRPOP key [key ...] timeout
fn brpop(ctx: &mut Ctx<'_>) -> CmdResult {
    pop_generic(ctx, End::Right)
}

/// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout
fn blmove(ctx: &mut Ctx<'_>) -> CmdResult {
    let from = parse_end(ctx.arg(3))?;
    let to = parse_end(ctx.arg(4))?;
    let deadline = parse_timeout(ctx.arg(5), ctx.now_ms)?;
    let op = BlockOp::Move {
        from,
        to,
        dst: ctx.argv[2].clone(),
        rpoplpush: false,
    };
    serve_or_block(ctx, vec![ctx.argv[1].clone()], deadline, op)
}

/// BRPOPLPUSH source destination timeout
fn brpoplpush(ctx: &mut Ctx<'_>) -> CmdResult {
    let deadline = parse_timeout(ctx.arg(3), ctx.now_ms)?;
    let op = BlockOp::Move {
        from: End::Right,
        to: End::Left,
        dst: ctx.argv[2].clone(),
        rpoplpush: true,
    };
    serve_or_block(ctx, vec![ctx.argv[1].clone()], deadline, op)
}

/// Parses `numkeys key [key ...] WHERE [COUNT count]` from argument 2 on; `parse_where` reads WHERE.
/// Returns the keys, the WHERE value and the count (1 when absent).
fn parse_mpop<W>(
    ctx: &Ctx<'_>,
    parse_where: impl Fn(&[u8]) -> Option<W>,
) -> Result<(Vec<Bytes>, W, usize), CommandError> {
    let numkeys_idx = 2;
    let numkeys = crate::types::number::parse_i64(ctx.arg(numkeys_idx))
        .filter(|n| *n > 0)
        .ok_or(CommandError::err("ERR numkeys should be greater than 0"))?;
    let available = (ctx.argc() - numkeys_idx - 1) as i64;
    if numkeys > available - 1 {
        return Err(CommandError::Syntax);
    }
    let first = numkeys_idx + 1;
    let where_idx = first + numkeys as usize;
    let keys = ctx.argv[first..where_idx].to_vec();
    let w = parse_where(ctx.arg(where_idx)).ok_or(CommandError::Syntax)?;
    let mut count: Option<usize> = None;
    let mut j = where_idx + 1;
    while j < ctx.argc() {
        let more = ctx.argc() - 1 - j;
        if count.is_none() && ctx.arg(j).eq_ignore_ascii_case(b"count") && more > 0 {
            j += 1;
            let n = crate::types::number::parse_i64(ctx.arg(j))
                .filter(|n| *n > 0)
                .ok_or(CommandError::err("ERR count should be greater than 0"))?;
            count = Some(usize::try_from(n).unwrap_or(usize::MAX));
        } else {
            return Err(CommandError::Syntax);
        }
        j += 1;
    }
    Ok((keys, w, count.unwrap_or(1)))
}

/// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]
fn blmpop(ctx: &mut Ctx<'_>) -> CmdResult {
    let (keys, end, count) = parse_mpop(ctx, |a| parse_end(a).ok())?;
    let deadline = parse_timeout(ctx.arg(1), ctx.now_ms)?;
    serve_or_block(ctx, keys, deadline, BlockOp::MPop { end, count })
}

/// BZPOPMIN / BZPOPMAX key [key ...] timeout
fn zpop_generic(ctx: &mut Ctx<'_>, min: bool) -> CmdResult {
    let last = ctx.argc() - 1;
    let deadline = parse_timeout(ctx.arg(last), ctx.now_ms)?;
    let keys = ctx.argv[1..last].to_vec();
    serve_or_block(ctx, keys, deadline, BlockOp::ZPop { min })
}

/// BZPOPMIN key [key ...] timeout
fn bzpopmin(ctx: &mut Ctx<'_>) -> CmdResult {
    zpop_generic(ctx, true)
}

/// BZPOPMAX key [key ...] timeout
fn bzpopmax(ctx: &mut Ctx<'_>) -> CmdResult {
    zpop_generic(ctx, false)
}

/// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]
fn bzmpop(ctx: &mut Ctx<'_>) -> CmdResult {
    let (keys, min, count) = parse_mpop(ctx, |a| {
        if a.eq_ignore_ascii_case(b"min") {
            Some(true)
        } else if a.eq_ignore_ascii_case(b"max") {
            Some(false)
        } else {
            None
        }
    })?;
    let deadline = parse_timeout(ctx.arg(1), ctx.now_ms)?;
    serve_or_block(ctx, keys, deadline, BlockOp::ZMPop { min, count })
}

/// The error a client unblocked by `CLIENT UNBLOCK id ERROR` receives.
pub const UNBLOCKED: &str = "UNBLOCKED client unblocked via CLIENT UNBLOCK";

/// CLIENT UNBLOCK client-id [TIMEOUT|ERROR]
fn client_unblock(ctx: &mut Ctx<'_>) -> CmdResult {
    let mut error = false;
    match ctx.argc() {
        3 => {}
        4 if ctx.arg(3).eq_ignore_ascii_case(b"timeout") => {}
        4 if ctx.arg(3).eq_ignore_ascii_case(b"error") => error = true,
        4 => {
            return Err(CommandError::err(
                "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR",
            ))
        }
        _ => {
            return Err(CommandError::err(
                "ERR unknown subcommand or wrong number of arguments for 'UNBLOCK'. Try CLIENT HELP.",
            ))
        }
    }
    let id = ctx.arg_i64(2)?;
    let Some(b) = u64::try_from(id)
        .ok()
        .and_then(|id| ctx.server.blocked.get(id).cloned())
        .filter(|b| b.op != BlockOp::Io)
    else {
        ctx.reply.integer(0);
        return Ok(());
    };
    let id = id as u64;
    let mut buf = Vec::new();
    let mut reply = Reply::new(&mut buf, b.proto);
    if error {
        reply.error(UNBLOCKED.as_bytes());
        ctx.server.count_error(UNBLOCKED.as_bytes());
    } else {
        timeout_reply(&mut reply);
    }
    ctx.server.blocked.finish(id, buf);
    ctx.server.effects.push(Effect::Unblocked(id));
    ctx.reply.integer(1);
    Ok(())
}

/// Serves clients blocked on keys that received data, key by key in the order they became ready and,
/// per key, in the order the clients blocked. A served client's reply waits in the registry and an
/// [`Effect::Unblocked`] tells the shell to collect it. Serving BLMOVE may make its destination ready in
/// turn, which this loop handles too.
pub fn serve_ready(server: &mut Server, now_ms: i64) {
    while let Some((db, key)) = server.blocked.pop_ready() {
        for id in server.blocked.waiters(db, &key) {
            let is_list = match server.dbs[db].peek(&key, now_ms).map(|e| &e.value) {
                Some(Value::List(_)) => true,
                Some(Value::ZSet(_)) => false,
                // Gone or of another type: nobody can be served from it.
                _ => break,
            };
            let Some(b) = server.blocked.get(id) else {
                continue;
            };
            if b.op.wants_list() != is_list {
                continue;
            }
            let (op, proto) = (b.op.clone(), b.proto);
            let mut buf = Vec::new();
            let mut reply = Reply::new(&mut buf, proto);
            match try_serve(server, db, &key, &op, now_ms, &mut reply) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    let message = e.message();
                    server.count_error(&message);
                    reply.error(&message);
                }
            }
            // Each client served is an execution unit of its own, after the one that made the key ready.
            server.propagation.end_replacement_unit();
            server.blocked.finish(id, buf);
            server.effects.push(Effect::Unblocked(id));
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::parse_timeout;
    use crate::client::ClientHandle;
    use crate::config::Config;
    use crate::server::{Effect, Flow, ProcessInfo, Server};

    fn connect(s: &mut Server) -> ClientHandle {
        crate::test_support::connect_loopback(s)
    }

    fn argv(line: &str) -> Vec<Bytes> {
        line.split(' ').map(|a| Bytes::copy_from_slice(a.as_bytes())).collect()
    }

    fn run_at(s: &mut Server, c: ClientHandle, line: &str, now_ms: i64) -> (Flow, String) {
        let mut out = Vec::new();
        let flow = s.execute(c, &argv(line), now_ms * 1000, &mut out);
        (flow, String::from_utf8_lossy(&out).into_owned())
    }

    fn run(s: &mut Server, c: ClientHandle, line: &str) -> String {
        run_at(s, c, line, 1_000).1
    }

    fn resume(s: &mut Server, c: ClientHandle, now_ms: i64) -> (Flow, String) {
        let mut out = Vec::new();
        let flow = s.resume(c, now_ms * 1000, &mut out);
        (flow, String::from_utf8_lossy(&out).into_owned())
    }

    fn server() -> Server {
        Server::new(Config::default(), 1, 0, ProcessInfo::default())
    }

    #[test]
    fn timeouts_parse_like_the_reference_server() {
        assert_eq!(parse_timeout(b"0", 1000), Ok(None));
        assert_eq!(parse_timeout(b"0.01", 1000), Ok(Some(1010)));
        assert_eq!(parse_timeout(b"1e-300", 1000), Ok(Some(1001)));
        assert_eq!(parse_timeout(b"-0.0009", 1000), Ok(None));
        assert_eq!(parse_timeout(b"0x10", 0), Ok(Some(16_000)));
        for bad in [&b"abc"[..], b"", b" 1", b"1 ", b"nan"] {
            assert_eq!(
                parse_timeout(bad, 0).map_err(|e| e.message().into_owned()),
                Err(b"ERR timeout is not a float or out of range".to_vec())
            );
        }
        for neg in [&b"-1"[..], b"-0.0015", b"inf", b"-inf", b"1e300"] {
            assert_eq!(
                parse_timeout(neg, 0).map_err(|e| e.message().into_owned()),
                Err(b"ERR timeout is negative".to_vec())
            );
        }
    }

    #[test]
    fn client_list_flags_blocked_clients() {
        let mut s = server();
        let (a, b) = (connect(&mut s), connect(&mut s));
        assert_eq!(run_at(&mut s, a, "BLPOP k 0", 1_000), (Flow::Blocked, String::new()));
        let list = run(&mut s, b, "CLIENT LIST");
        let line_a = list
            .lines()
            .find(|l| l.contains(&format!("id={} ", a.id)))
            .unwrap_or_default();
        assert!(line_a.contains(" flags=b "), "{list}");
        assert!(run(&mut s, b, "INFO clients").contains("blocked_clients:1\r\n"));
    }

    #[test]
    fn blocked_clients_are_served_in_order_and_run_deferred_commands() {
        let mut s = server();
        let (a, b, p) = (connect(&mut s), connect(&mut s), connect(&mut s));
        assert_eq!(run_at(&mut s, a, "BLPOP k 0", 1_000), (Flow::Blocked, String::new()));
        s.blocked.set_deferred(a.id, vec![argv("SET after 1")]);
        assert_eq!(run_at(&mut s, b, "BRPOP k 5", 1_000), (Flow::Blocked, String::new()));
        assert_eq!(s.block_deadline_ms(b), Some(6_000));
        // Nothing to collect yet.
        assert_eq!(resume(&mut s, a, 1_001), (Flow::Blocked, String::new()));
        assert_eq!(run(&mut s, p, "RPUSH k x y z"), ":3\r\n");
        assert_eq!(s.take_effects(), vec![Effect::Unblocked(a.id), Effect::Unblocked(b.id)]);
        assert_eq!(
            resume(&mut s, a, 1_002),
            (Flow::Continue, "*2\r\n$1\r\nk\r\n$1\r\nx\r\n+OK\r\n".to_string())
        );
        assert_eq!(
            resume(&mut s, b, 1_002),
            (Flow::Continue, "*2\r\n$1\r\nk\r\n$1\r\nz\r\n".to_string())
        );
        assert_eq!(run(&mut s, p, "LRANGE k 0 -1"), "*1\r\n$1\r\ny\r\n");
        assert_eq!(run(&mut s, p, "GET after"), "$1\r\n1\r\n");
        assert!(s.blocked.is_empty());
    }

    #[test]
    fn deadlines_unblock_and_disconnect_forgets() {
        let mut s = server();
        let (a, b, p) = (connect(&mut s), connect(&mut s), connect(&mut s));
        run_at(&mut s, a, "BZPOPMIN z 0.5", 1_000);
        assert_eq!(resume(&mut s, a, 1_499), (Flow::Blocked, String::new()));
        assert_eq!(resume(&mut s, a, 1_500), (Flow::Continue, "*-1\r\n".to_string()));
        run_at(&mut s, a, "BLPOP k 0", 2_000);
        s.disconnect(a);
        run_at(&mut s, b, "BLPOP k 0", 2_000);
        assert_eq!(run(&mut s, p, "CLIENT UNBLOCK 999"), ":0\r\n");
        assert_eq!(run(&mut s, p, &format!("CLIENT UNBLOCK {} ERROR", b.id)), ":1\r\n");
        assert_eq!(
            resume(&mut s, b, 2_001),
            (
                Flow::Continue,
                "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n".to_string()
            )
        );
        s.take_effects();
        // Nobody is left waiting: the element stays.
        assert_eq!(run(&mut s, p, "RPUSH k v"), ":1\r\n");
        assert!(s.take_effects().is_empty());
        assert_eq!(run(&mut s, p, "LLEN k"), ":1\r\n");
    }

    #[test]
    fn blocking_inside_exec_does_not_block() {
        let mut s = server();
        let c = connect(&mut s);
        run(&mut s, c, "MULTI");
        run(&mut s, c, "BLPOP k 0");
        run(&mut s, c, "BLMOVE k d LEFT LEFT 0");
        assert_eq!(
            run_at(&mut s, c, "EXEC", 1_000),
            (Flow::Continue, "*2\r\n*-1\r\n$-1\r\n".to_string())
        );
    }
}
