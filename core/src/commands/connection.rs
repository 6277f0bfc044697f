//! The connection family: PING, ECHO, QUIT, SELECT, RESET, HELLO, AUTH and the CLIENT subcommands ID, SETNAME,
//! GETNAME, LIST, INFO, KILL, NO-EVICT, PAUSE, UNPAUSE, REPLY and HELP.
//!
//! Owns these commands' argument rules, replies and errors, and the `CLIENT LIST`/`CLIENT INFO` line
//! format, and AUTH. Per-connection state lives in `client`; closing another connection and pausing are
//! [`Effect`]s the shell carries out; credentials are checked by `acl`. keel has no replication or
//! pub/sub state yet: every client is a `normal` client.

use std::borrow::Cow;
use std::fmt::Write as _;

use super::{CmdResult, CommandError, Ctx, Registry};
use crate::client::{ClientId, ClientState, ConnKind, ReplyMode};
use crate::resp::Protocol;
use crate::server::{Effect, Pause};
use crate::types::number;

/// Registers the family's handlers.
pub fn register(r: &mut Registry) {
    r.add("ping", ping);
    r.add("echo", echo);
    r.add("quit", quit);
    r.add("select", select);
    r.add("reset", reset);
    r.add("hello", hello);
    r.add("auth", auth);
    r.add("client|id", client_id);
    r.add("client|setname", client_setname);
    r.add("client|getname", client_getname);
    r.add("client|list", client_list);
    r.add("client|info", client_info);
    r.add("client|kill", client_kill);
    r.add("client|no-evict", client_no_evict);
    r.add("client|pause", client_pause);
    r.add("client|unpause", client_unpause);
    r.add("client|reply", client_reply);
    r.add("client|help", client_help);
}

/// Query-buffer size reported for a client whose buffer is allocated (`CLIENT LIST qbuf-free=`).
const QUERY_BUF_SIZE: usize = 20474;

/// Reply-buffer size reported by `CLIENT LIST rbs=`.
const REPLY_BUF_SIZE: usize = 1024;

/// Fixed per-client overhead (structures plus the reply buffer) counted in `CLIENT LIST tot-mem=`.
const CLIENT_BASE_MEM: usize = 1800;

/// True when `arg` equals the ASCII keyword `word`, ignoring case.
fn is(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}

/// An argument cut at its first NUL byte, as the reference server sees it (a C string).
fn c_text_bytes(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    &bytes[..end]
}

/// An argument as the reference server echoes it in an error: a C string (up to the first NUL byte).
fn c_text(bytes: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(c_text_bytes(bytes))
}

/// The reply for a subcommand the container knows but called with arguments it does not accept.
fn subcommand_syntax_error(ctx: &Ctx<'_>) -> CommandError {
    let sub = c_text(ctx.arg(1));
    let sub: String = sub.chars().take(128).collect();
    let container = c_text(ctx.arg(0)).to_ascii_uppercase();
    CommandError::Other(
        format!("ERR unknown subcommand or wrong number of arguments for '{sub}'. Try {container} HELP.").into(),
    )
}

/// Switches the connection's protocol, for this reply and the following ones.
fn set_protocol(ctx: &mut Ctx<'_>, proto: Protocol) {
    ctx.client.proto = proto;
    ctx.reply.set_protocol(proto);
}

/// Sets (or, given an empty name, clears) the client name after checking its charset, so that
/// `CLIENT LIST` lines always split on spaces. Shared by `CLIENT SETNAME` and `HELLO ... SETNAME`.
fn set_name(client: &mut ClientState, name: &[u8]) -> CmdResult {
    if name.is_empty() {
        client.name = None;
        return Ok(());
    }
    if name.iter().any(|&b| !(b'!'..=b'~').contains(&b)) {
        return Err(CommandError::err(
            "ERR Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    client.name = Some(name.into());
    Ok(())
}

/// PING [message]
fn ping(ctx: &mut Ctx<'_>) -> CmdResult {
    match ctx.argc() {
        1 => ctx.reply.simple(b"PONG"),
        2 => ctx.reply.bulk(&ctx.argv[1]),
        _ => return Err(CommandError::WrongArity("ping")),
    }
    Ok(())
}

/// ECHO message
fn echo(ctx: &mut Ctx<'_>) -> CmdResult {
    ctx.reply.bulk(&ctx.argv[1]);
    Ok(())
}

/// QUIT: replies `+OK` (whatever the arguments), then the connection closes.
fn quit(ctx: &mut Ctx<'_>) -> CmdResult {
    ctx.reply.ok();
    ctx.close_after_reply = true;
    Ok(())
}

/// SELECT index
fn select(ctx: &mut Ctx<'_>) -> CmdResult {
    let index = ctx.arg_i64(1)?;
    let index = i32::try_from(index)
        .map_err(|_| CommandError::err("ERR value is out of range, value must between -2147483648 and 2147483647"))?;
    match usize::try_from(index) {
        Ok(db) if db < ctx.server.dbs.len() => {
            ctx.client.db = db;
            ctx.reply.ok();
            Ok(())
        }
        _ => Err(CommandError::DbIndexOutOfRange),
    }
}

/// RESET: back to database 0, RESP2, no name and replies on. Like the reference server (7.0), it
/// leaves `CLIENT NO-EVICT` as it was, and a pending `CLIENT REPLY SKIP` still swallows this reply.
fn reset(ctx: &mut Ctx<'_>) -> CmdResult {
    ctx.client.db = 0;
    set_protocol(ctx, Protocol::Resp2);
    ctx.client.name = None;
    // Back to the default user, authenticated only if that user needs no password.
    ctx.client.set_user(crate::acl::DEFAULT_USER);
    ctx.client.authenticated = ctx.server.acl.new_connection_authenticated();
    // NO-TOUCH cannot be set through 7.0's command set; clearing it keeps later versions' RESET meaning.
    ctx.client.no_touch = false;
    if matches!(ctx.client.reply_mode, ReplyMode::Off | ReplyMode::SkipNext) {
        ctx.client.reply_mode = ReplyMode::On;
    }
    ctx.reply.simple(b"RESET");
    Ok(())
}

/// HELLO [protover [AUTH username password] [SETNAME clientname]]
///
/// Options take effect in order as they are parsed, as in the reference server: a `SETNAME` before a
/// failing option sticks, and the protocol switches only once every option was accepted.
fn hello(ctx: &mut Ctx<'_>) -> CmdResult {
    let mut proto = None;
    let mut j = 1;
    if ctx.argc() >= 2 {
        let version = number::parse_i64(ctx.arg(1)).ok_or(CommandError::err(
            "ERR Protocol version is not an integer or out of range",
        ))?;
        proto = match version {
            2 => Some(Protocol::Resp2),
            3 => Some(Protocol::Resp3),
            _ => return Err(CommandError::err("NOPROTO unsupported protocol version")),
        };
        j = 2;
    }
    while j < ctx.argc() {
        let more = ctx.argc() - 1 - j;
        let opt = ctx.arg(j);
        if is(opt, "auth") && more >= 2 {
            let (user, pass) = (ctx.argv[j + 1].clone(), ctx.argv[j + 2].clone());
            crate::acl::authenticate(ctx.server, ctx.client, &user, &pass, ctx.argv, ctx.now_ms)?;
            j += 3;
        } else if is(opt, "setname") && more >= 1 {
            set_name(ctx.client, &ctx.argv[j + 1])?;
            j += 2;
        } else {
            return Err(CommandError::Other(
                format!("ERR Syntax error in HELLO option '{}'", c_text(opt)).into(),
            ));
        }
    }
    if !ctx.client.authenticated {
        return Err(CommandError::err(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH \
             <user> <pass> option can be used to authenticate the client and select the RESP protocol \
             version at the same time",
        ));
    }
    if let Some(p) = proto {
        set_protocol(ctx, p);
    }
    let (proto, id) = (ctx.client.proto.version(), ctx.client.id as i64);
    let r = &mut ctx.reply;
    r.map(7);
    r.bulk(b"server");
    r.bulk(b"redis");
    r.bulk(b"version");
    r.bulk(crate::COMPAT_VERSION.as_bytes());
    r.bulk(b"proto");
    r.integer(proto);
    r.bulk(b"id");
    r.integer(id);
    r.bulk(b"mode");
    r.bulk(b"standalone");
    r.bulk(b"role");
    r.bulk(b"master");
    r.bulk(b"modules");
    r.array(0);
    Ok(())
}

/// AUTH [username] password
///
/// The one-argument form authenticates the default user, and is refused while that user has no
/// password.
fn auth(ctx: &mut Ctx<'_>) -> CmdResult {
    if ctx.argc() > 3 {
        return Err(CommandError::Syntax);
    }
    let (user, pass) = if ctx.argc() == 2 {
        if ctx.server.acl.default_user().is_none_or(|u| u.nopass) {
            return Err(CommandError::err(
                "ERR AUTH <password> called without any password configured for the default user. Are you \
                 sure your configuration is correct?",
            ));
        }
        (bytes::Bytes::from_static(crate::acl::DEFAULT_USER), ctx.argv[1].clone())
    } else {
        (ctx.argv[1].clone(), ctx.argv[2].clone())
    };
    crate::acl::authenticate(ctx.server, ctx.client, &user, &pass, ctx.argv, ctx.now_ms)?;
    ctx.reply.ok();
    Ok(())
}

/// CLIENT ID
fn client_id(ctx: &mut Ctx<'_>) -> CmdResult {
    ctx.reply.integer(ctx.client.id as i64);
    Ok(())
}

/// CLIENT SETNAME connection-name
fn client_setname(ctx: &mut Ctx<'_>) -> CmdResult {
    set_name(ctx.client, &ctx.argv[2])?;
    ctx.reply.ok();
    Ok(())
}

/// CLIENT GETNAME
fn client_getname(ctx: &mut Ctx<'_>) -> CmdResult {
    match &ctx.client.name {
        Some(name) => ctx.reply.bulk(name),
        None => ctx.reply.null(),
    }
    Ok(())
}

/// The kinds of client `CLIENT LIST TYPE` and `CLIENT KILL TYPE` select.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ClientType {
    Normal,
    Replica,
    Pubsub,
    Master,
}

/// Parses a client type name (`replica` and `slave` are the same), with the reference server's error.
fn parse_client_type(name: &[u8]) -> Result<ClientType, CommandError> {
    match name.to_ascii_lowercase().as_slice() {
        b"normal" => Ok(ClientType::Normal),
        b"slave" | b"replica" => Ok(ClientType::Replica),
        b"pubsub" => Ok(ClientType::Pubsub),
        b"master" => Ok(ClientType::Master),
        _ => Err(CommandError::Other(
            format!("ERR Unknown client type '{}'", c_text(name)).into(),
        )),
    }
}

/// A client's type. keel has neither replication links nor subscriptions yet, so every client is normal.
fn client_type(_client: &ClientState) -> ClientType {
    ClientType::Normal
}

/// Appends one `CLIENT LIST` line (with its trailing newline) for `c`. `argv` is the running command's
/// arguments when `c` is the client running it. Memory figures are plausible estimates, not measurements.
fn write_client_info(out: &mut String, c: &ClientState, argv: Option<&[bytes::Bytes]>, now_ms: i64, blocked: bool) {
    let now_s = now_ms.div_euclid(1000);
    let age = now_s - c.created_ms.div_euclid(1000);
    let idle = now_s - c.last_interaction_ms.div_euclid(1000);
    let mut flags = String::new();
    if c.multi.is_some() {
        flags.push('x');
    }
    if blocked {
        flags.push('b');
    }
    if c.info.kind == ConnKind::Unix {
        flags.push('U');
    }
    if c.no_evict {
        flags.push('e');
    }
    if flags.is_empty() {
        flags.push('N');
    }
    let name = c.name.as_deref().map(String::from_utf8_lossy).unwrap_or_default();
    let qbuf = c.query_buf_len;
    let argv_mem: usize = argv.map_or(0, |a| a.iter().map(|x| x.len()).sum());
    // An idle client's query buffer is released; the running one's holds its command.
    let qbuf_free = if qbuf > 0 || argv.is_some() {
        QUERY_BUF_SIZE.saturating_sub(qbuf)
    } else {
        0
    };
    let tot_mem = CLIENT_BASE_MEM + qbuf + qbuf_free + argv_mem;
    let _ = writeln!(
        out,
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub=0 psub=0 ssub=0 multi={} \
         qbuf={} qbuf-free={} argv-mem={} multi-mem=0 rbs={} rbp=0 obl=0 oll=0 omem=0 tot-mem={} events=r \
         cmd={} user={} redir=-1 resp={}",
        c.id,
        c.info.addr,
        c.info.laddr,
        c.info.fd,
        name,
        age,
        idle,
        flags,
        c.db,
        c.multi.as_ref().map_or(-1, |queued| queued.len() as i64),
        qbuf,
        qbuf_free,
        argv_mem,
        REPLY_BUF_SIZE,
        tot_mem,
        c.last_cmd,
        String::from_utf8_lossy(c.user()),
        c.proto.version(),
    );
}

/// The `CLIENT LIST` line of `c` without its newline (for the ACL log); `argv` as for
/// `write_client_info`.
pub(crate) fn client_info_line(c: &ClientState, argv: Option<&[bytes::Bytes]>, now_ms: i64) -> String {
    let mut line = String::new();
    write_client_info(&mut line, c, argv, now_ms, false);
    line.pop();
    line
}

/// Appends the `CLIENT LIST` line of the connected client `id` (the running one included), if any.
fn write_info_by_id(ctx: &Ctx<'_>, out: &mut String, id: ClientId) {
    if id == ctx.client.id {
        write_client_info(out, ctx.client, Some(ctx.argv), ctx.now_ms, false);
    } else if let Some(c) = ctx.server.clients.get(id).filter(|c| !c.killed) {
        write_client_info(out, c, None, ctx.now_ms, ctx.server.blocked.is_blocked(c.id));
    }
}

/// Every live client (the running one merged in), in id order. Killed clients are gone for commands,
/// though the shell may not have closed their connections yet.
fn live_clients<'c>(ctx: &'c Ctx<'_>) -> Vec<&'c ClientState> {
    let mut all: Vec<&ClientState> = ctx.server.clients.iter().filter(|c| !c.killed).collect();
    all.push(&*ctx.client);
    all.sort_by_key(|c| c.id);
    all
}

/// CLIENT LIST [TYPE normal|master|replica|pubsub] [ID client-id ...]
fn client_list(ctx: &mut Ctx<'_>) -> CmdResult {
    let argc = ctx.argc();
    let mut out = String::new();
    if argc == 4 && is(ctx.arg(2), "type") {
        let wanted = parse_client_type(ctx.arg(3))?;
        for c in live_clients(ctx) {
            if client_type(c) == wanted {
                let argv = (c.id == ctx.client.id).then_some(ctx.argv);
                write_client_info(&mut out, c, argv, ctx.now_ms, ctx.server.blocked.is_blocked(c.id));
            }
        }
    } else if argc > 3 && is(ctx.arg(2), "id") {
        // Listed in the order given, repeats included; unknown ids are skipped.
        for j in 3..argc {
            let id = number::parse_i64(ctx.arg(j)).ok_or(CommandError::err("ERR Invalid client ID"))?;
            if let Ok(id) = ClientId::try_from(id) {
                write_info_by_id(ctx, &mut out, id);
            }
        }
    } else if argc != 2 {
        return Err(CommandError::Syntax);
    } else {
        for c in live_clients(ctx) {
            let argv = (c.id == ctx.client.id).then_some(ctx.argv);
            write_client_info(&mut out, c, argv, ctx.now_ms, ctx.server.blocked.is_blocked(c.id));
        }
    }
    ctx.reply.verbatim(b"txt", out.as_bytes());
    Ok(())
}

/// CLIENT INFO
fn client_info(ctx: &mut Ctx<'_>) -> CmdResult {
    let mut out = String::new();
    write_client_info(&mut out, ctx.client, Some(ctx.argv), ctx.now_ms, false);
    ctx.reply.verbatim(b"txt", out.as_bytes());
    Ok(())
}

/// The filters of one `CLIENT KILL`.
struct KillFilter {
    addr: Option<Vec<u8>>,
    laddr: Option<Vec<u8>>,
    user: Option<Vec<u8>>,
    id: Option<ClientId>,
    kind: Option<ClientType>,
    skip_me: bool,
}

impl KillFilter {
    /// True when `c` matches every filter given (`me` tells whether `c` runs the command).
    fn matches(&self, c: &ClientState, me: bool) -> bool {
        self.addr.as_deref().is_none_or(|a| c.info.addr.as_bytes() == a)
            && self.laddr.as_deref().is_none_or(|a| c.info.laddr.as_bytes() == a)
            && self.kind.is_none_or(|k| client_type(c) == k)
            && self.id.is_none_or(|id| c.id == id)
            && self.user.as_deref().is_none_or(|u| c.user() == u)
            && !(me && self.skip_me)
    }
}

/// Parses `CLIENT KILL`'s arguments: the old `addr` form (which may kill the caller) or option pairs.
fn parse_kill_filter(ctx: &Ctx<'_>) -> Result<KillFilter, CommandError> {
    let mut f = KillFilter {
        addr: None,
        laddr: None,
        user: None,
        id: None,
        kind: None,
        skip_me: true,
    };
    if ctx.argc() == 3 {
        f.addr = Some(c_text_bytes(ctx.arg(2)).to_vec());
        f.skip_me = false;
        return Ok(f);
    }
    let mut i = 2;
    while i < ctx.argc() {
        let opt = ctx.arg(i);
        let Some(value) = ctx.argv.get(i + 1) else {
            return Err(CommandError::Syntax);
        };
        if is(opt, "id") {
            let id = number::parse_i64(value)
                .filter(|&n| n >= 1)
                .ok_or(CommandError::err("ERR client-id should be greater than 0"))?;
            f.id = Some(id as ClientId);
        } else if is(opt, "type") {
            f.kind = Some(parse_client_type(value)?);
        } else if is(opt, "addr") {
            f.addr = Some(c_text_bytes(value).to_vec());
        } else if is(opt, "laddr") {
            f.laddr = Some(c_text_bytes(value).to_vec());
        } else if is(opt, "user") {
            if !ctx.server.acl.users().contains_key(value.as_ref()) {
                return Err(CommandError::Other(
                    format!("ERR No such user '{}'", c_text(value)).into(),
                ));
            }
            f.user = Some(value.to_vec());
        } else if is(opt, "skipme") {
            f.skip_me = if is(value, "yes") {
                true
            } else if is(value, "no") {
                false
            } else {
                return Err(CommandError::Syntax);
            };
        } else {
            return Err(CommandError::Syntax);
        }
        i += 2;
    }
    Ok(f)
}

/// CLIENT KILL ip:port | CLIENT KILL [ID id] [TYPE type] [USER user] [ADDR ip:port] [LADDR ip:port]
/// [SKIPME yes|no]
///
/// Other matching clients are flagged killed and their connections closed by the shell; the caller, if it
/// matches, closes once this reply is written.
fn client_kill(ctx: &mut Ctx<'_>) -> CmdResult {
    let filter = parse_kill_filter(ctx)?;
    let mut killed: i64 = 0;
    for c in ctx.server.clients.iter_mut() {
        if !c.killed && filter.matches(c, false) {
            c.killed = true;
            ctx.server.effects.push(Effect::KillClient(c.id));
            killed += 1;
        }
    }
    if filter.matches(ctx.client, true) {
        ctx.close_after_reply = true;
        killed += 1;
    }
    if ctx.argc() == 3 {
        if killed == 0 {
            return Err(CommandError::err("ERR No such client"));
        }
        ctx.reply.ok();
    } else {
        ctx.reply.integer(killed);
    }
    Ok(())
}

/// CLIENT NO-EVICT on|off
fn client_no_evict(ctx: &mut Ctx<'_>) -> CmdResult {
    let arg = ctx.arg(2);
    ctx.client.no_evict = if is(arg, "on") {
        true
    } else if is(arg, "off") {
        false
    } else {
        return Err(CommandError::Syntax);
    };
    ctx.reply.ok();
    Ok(())
}

/// CLIENT PAUSE timeout [WRITE|ALL]
///
/// A pause already in effect is extended, never shortened or weakened: the later end time and the
/// stronger mode win, as in the reference server. Like it, an end time that overflows wraps into the past.
fn client_pause(ctx: &mut Ctx<'_>) -> CmdResult {
    if ctx.argc() > 4 {
        return Err(subcommand_syntax_error(ctx));
    }
    let mut write_only = false;
    if ctx.argc() == 4 {
        let mode = ctx.arg(3);
        if is(mode, "write") {
            write_only = true;
        } else if !is(mode, "all") {
            return Err(CommandError::err("ERR CLIENT PAUSE mode must be WRITE or ALL"));
        }
    }
    let timeout =
        number::parse_i64(ctx.arg(2)).ok_or(CommandError::err("ERR timeout is not an integer or out of range"))?;
    if timeout < 0 {
        return Err(CommandError::err("ERR timeout is negative"));
    }
    let now = ctx.now_ms;
    let until_ms = if timeout > 0 { timeout.wrapping_add(now) } else { 0 };
    let pause = match ctx.server.paused(now) {
        Some(p) => Pause {
            until_ms: p.until_ms.max(until_ms),
            write_only: p.write_only && write_only,
        },
        None => Pause { until_ms, write_only },
    };
    ctx.server.pause = (pause.until_ms > now).then_some(pause);
    ctx.server.effects.push(Effect::PauseChanged);
    ctx.reply.ok();
    Ok(())
}

/// CLIENT UNPAUSE
fn client_unpause(ctx: &mut Ctx<'_>) -> CmdResult {
    ctx.server.pause = None;
    ctx.server.effects.push(Effect::PauseChanged);
    ctx.reply.ok();
    Ok(())
}

/// CLIENT REPLY ON|OFF|SKIP
///
/// Dispatch applies the mode after the command: OFF drops every reply from this one on, SKIP drops the
/// next command's reply (SKIP is ignored while replies are OFF), ON answers `+OK`.
fn client_reply(ctx: &mut Ctx<'_>) -> CmdResult {
    let arg = ctx.arg(2);
    if is(arg, "on") {
        ctx.client.reply_mode = ReplyMode::On;
        ctx.reply.ok();
    } else if is(arg, "off") {
        ctx.client.reply_mode = ReplyMode::Off;
    } else if is(arg, "skip") {
        if ctx.client.reply_mode != ReplyMode::Off {
            ctx.client.reply_mode = ReplyMode::SkipNext;
        }
    } else {
        return Err(CommandError::Syntax);
    }
    Ok(())
}

/// The body of `CLIENT HELP`: the reference server's layout (syntax line, indented description), in
/// keel's own words, for the subcommands keel implements.
const CLIENT_HELP: &[&str] = &[
    "GETNAME",
    "    The name of this connection, or null.",
    "ID",
    "    The unique id of this connection.",
    "INFO",
    "    One CLIENT LIST line describing this connection.",
    "KILL <ip:port>",
    "    Close the connection from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Close every connection matching all the filters:",
    "    * ID <client-id>",
    "    * ADDR (<ip:port>|<unixsocket>:0)     peer address",
    "    * LADDR (<ip:port>|<unixsocket>:0)    local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "    * USER <username>",
    "    * SKIPME (YES|NO)    spare the calling connection (default: yes)",
    "LIST [TYPE (NORMAL|MASTER|REPLICA|PUBSUB)] [ID <client-id> ...]",
    "    One line per connection, optionally filtered.",
    "NO-EVICT (ON|OFF)",
    "    Exempt this connection from client eviction.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Hold commands from every client (ALL) or write commands only (WRITE) for <timeout> ms.",
    "UNPAUSE",
    "    End a pause early.",
    "REPLY (ON|OFF|SKIP)",
    "    Turn replies to this connection on or off, or skip the next one.",
    "SETNAME <name>",
    "    Name this connection (no spaces or newlines).",
];

/// CLIENT HELP
fn client_help(ctx: &mut Ctx<'_>) -> CmdResult {
    let header = format!(
        "{} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        c_text(ctx.arg(0)).to_ascii_uppercase()
    );
    ctx.reply.array(CLIENT_HELP.len() + 3);
    ctx.reply.simple(header.as_bytes());
    for line in CLIENT_HELP {
        ctx.reply.simple(line.as_bytes());
    }
    ctx.reply.simple(b"HELP");
    ctx.reply.simple(b"    Prints this help.");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{ClientHandle, ConnInfo};
    use crate::config::Config;
    use crate::server::{Flow, ProcessInfo, Server};
    use bytes::Bytes;

    /// When the test clients connect, in Unix ms.
    const T0: i64 = 1_000_000;

    fn server() -> Server {
        Server::new(Config::default(), 1, 0, ProcessInfo::default())
    }

    fn tcp(port: u16) -> ConnInfo {
        ConnInfo {
            addr: format!("127.0.0.1:{port}"),
            laddr: "127.0.0.1:6379".to_string(),
            fd: port as i64 - 5000 + 7,
            kind: ConnKind::Tcp,
        }
    }

    fn connect(s: &mut Server, port: u16) -> ClientHandle {
        s.connect(tcp(port), T0)
    }

    /// Runs one command given as its arguments at `now_ms`; returns the reply bytes and the flow.
    fn exec_at(s: &mut Server, h: ClientHandle, args: &[&[u8]], now_ms: i64) -> (Vec<u8>, Flow) {
        let argv: Vec<Bytes> = args.iter().map(|a| Bytes::copy_from_slice(a)).collect();
        let mut out = Vec::new();
        let flow = s.execute(h, &argv, now_ms * 1000, &mut out);
        (out, flow)
    }

    /// Runs a space-separated command at `T0` and returns the reply as text.
    fn run(s: &mut Server, h: ClientHandle, line: &str) -> String {
        run_at(s, h, line, T0)
    }

    fn run_at(s: &mut Server, h: ClientHandle, line: &str, now_ms: i64) -> String {
        let args: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        String::from_utf8(exec_at(s, h, &args, now_ms).0).expect("test replies are UTF-8")
    }

    /// A bulk string reply for `text`.
    fn bulk(text: &str) -> String {
        format!("${}\r\n{}\r\n", text.len(), text)
    }

    #[test]
    fn ping_echo_quit() {
        let mut s = server();
        let c = connect(&mut s, 5001);
        assert_eq!(run(&mut s, c, "PING"), "+PONG\r\n");
        assert_eq!(run(&mut s, c, "ping hi"), "$2\r\nhi\r\n");
        assert_eq!(
            run(&mut s, c, "PING a b"),
            "-ERR wrong number of arguments for 'ping' command\r\n"
        );
        assert_eq!(run(&mut s, c, "ECHO x"), "$1\r\nx\r\n");
        assert_eq!(
            run(&mut s, c, "ECHO"),
            "-ERR wrong number of arguments for 'echo' command\r\n"
        );
        assert_eq!(
            exec_at(&mut s, c, &[b"QUIT", b"a"], T0),
            (b"+OK\r\n".to_vec(), Flow::Close)
        );
    }

    #[test]
    fn select_checks_range_and_integer() {
        let mut s = server();
        let c = connect(&mut s, 5001);
        assert_eq!(run(&mut s, c, "SELECT 3"), "+OK\r\n");
        assert!(run(&mut s, c, "CLIENT INFO").contains(" db=3 "));
        assert_eq!(run(&mut s, c, "SELECT 16"), "-ERR DB index is out of range\r\n");
        assert_eq!(run(&mut s, c, "SELECT -1"), "-ERR DB index is out of range\r\n");
        assert_eq!(
            run(&mut s, c, "SELECT abc"),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(
            run(&mut s, c, "SELECT 015"),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(
            run(&mut s, c, "SELECT 2147483648"),
            "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n"
        );
        assert!(run(&mut s, c, "CLIENT INFO").contains(" db=3 "));
    }

    /// The HELLO reply map's body after its header, for protocol `proto` and client `id`.
    fn hello_body(proto: i64, id: u64) -> String {
        format!(
            "$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:{proto}\r\n$2\r\nid\r\n\
             :{id}\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"
        )
    }

    #[test]
    fn hello_switches_protocol() {
        let mut s = server();
        let c = connect(&mut s, 5001);
        assert_eq!(run(&mut s, c, "HELLO"), format!("*14\r\n{}", hello_body(2, 1)));
        assert_eq!(run(&mut s, c, "HELLO 3"), format!("%7\r\n{}", hello_body(3, 1)));
        assert_eq!(run(&mut s, c, "CLIENT GETNAME"), "_\r\n");
        assert_eq!(run(&mut s, c, "HELLO"), format!("%7\r\n{}", hello_body(3, 1)));
        assert_eq!(run(&mut s, c, "HELLO 2"), format!("*14\r\n{}", hello_body(2, 1)));
        assert_eq!(run(&mut s, c, "CLIENT GETNAME"), "$-1\r\n");
    }

    #[test]
    fn hello_errors() {
        let mut s = server();
        let c = connect(&mut s, 5001);
        for bad in ["HELLO 4", "HELLO 1", "HELLO -1"] {
            assert_eq!(run(&mut s, c, bad), "-NOPROTO unsupported protocol version\r\n");
        }
        for bad in ["HELLO abc", "HELLO 2.0", "HELLO 02"] {
            assert_eq!(
                run(&mut s, c, bad),
                "-ERR Protocol version is not an integer or out of range\r\n"
            );
        }
        assert_eq!(
            run(&mut s, c, "HELLO 3 SETNAME"),
            "-ERR Syntax error in HELLO option 'SETNAME'\r\n"
        );
        assert_eq!(
            run(&mut s, c, "HELLO 3 FOO"),
            "-ERR Syntax error in HELLO option 'FOO'\r\n"
        );
        assert_eq!(
            run(&mut s, c, "HELLO 3 AUTH default"),
            "-ERR Syntax error in HELLO option 'AUTH'\r\n"
        );
        let (out, _) = exec_at(&mut s, c, &[b"HELLO", b"3", b"a\0b"], T0);
        assert_eq!(out, b"-ERR Syntax error in HELLO option 'a'\r\n");
        let wrongpass = "-WRONGPASS invalid username-password pair or user is disabled.\r\n";
        assert_eq!(run(&mut s, c, "HELLO 3 AUTH DEFAULT pw"), wrongpass);
        assert_eq!(run(&mut s, c, "HELLO 3 AUTH nobody pw"), wrongpass);
        let (out, _) = exec_at(&mut s, c, &[b"HELLO", b"2", b"SETNAME", b"a b"], T0);
        assert_eq!(
            out,
            b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
        );
        // No error switched the protocol.
        assert_eq!(run(&mut s, c, "CLIENT GETNAME"), "$-1\r\n");
    }

    #[test]
    fn hello_options_apply_in_order() {
        let mut s = server();
        let c = connect(&mut s, 5001);
        assert_eq!(
            run(&mut s, c, "HELLO 3 SETNAME a b"),
            "-ERR Syntax error in HELLO option 'b'\r\n"
        );
        assert_eq!(run(&mut s, c, "CLIENT GETNAME"), bulk("a"));
        assert_eq!(
            run(&mut s, c, "HELLO 3 SETNAME yy AUTH nobody pw"),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
        );
        assert_eq!(run(&mut s, c, "CLIENT GETNAME"), bulk("yy"));
        assert_eq!(
            run(&mut s, c, "HELLO 3 AUTH default pw SETNAME x setname q"),
            format!("%7\r\n{}", hello_body(3, 1))
        );
        assert_eq!(run(&mut s, c, "CLIENT GETNAME"), bulk("q"));
        assert_eq!(
            exec_at(&mut s, c, &[b"HELLO", b"3", b"SETNAME", b""], T0).1,
            Flow::Continue
        );
        assert_eq!(run(&mut s, c, "CLIENT GETNAME"), "_\r\n");
    }

    #[test]
    fn client_id_and_names() {
        let mut s = server();
        let a = connect(&mut s, 5001);
        let b = connect(&mut s, 5002);
        assert_eq!(run(&mut s, a, "CLIENT ID"), ":1\r\n");
        assert_eq!(run(&mut s, b, "client id"), ":2\r\n");
        assert_eq!(run(&mut s, a, "CLIENT GETNAME"), "$-1\r\n");
        assert_eq!(run(&mut s, a, "CLIENT SETNAME ~!@#$%^&*()"), "+OK\r\n");
        assert_eq!(run(&mut s, a, "CLIENT GETNAME"), bulk("~!@#$%^&*()"));
        let invalid = b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n";
        for name in [&b"a b"[..], b"a\nb", b"a\x7fb", b"a\x01b", b"a\xc3\xa9"] {
            assert_eq!(exec_at(&mut s, a, &[b"CLIENT", b"SETNAME", name], T0).0, invalid);
        }
        assert_eq!(run(&mut s, a, "CLIENT GETNAME"), bulk("~!@#$%^&*()"));
        assert_eq!(exec_at(&mut s, a, &[b"CLIENT", b"SETNAME", b""], T0).0, b"+OK\r\n");
        assert_eq!(run(&mut s, a, "CLIENT GETNAME"), "$-1\r\n");
        assert_eq!(
            run(&mut s, a, "CLIENT SETNAME a b"),
            "-ERR wrong number of arguments for 'client|setname' command\r\n"
        );
    }

    #[test]
    fn client_info_line() {
        let mut s = server();
        let c = connect(&mut s, 5001);
        let line = "id=1 addr=127.0.0.1:5001 laddr=127.0.0.1:6379 fd=8 name= age=3 idle=0 flags=N db=0 sub=0 \
                    psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=20474 argv-mem=10 multi-mem=0 rbs=1024 rbp=0 obl=0 \
                    oll=0 omem=0 tot-mem=22284 events=r cmd=client|info user=default redir=-1 resp=2\n";
        assert_eq!(run_at(&mut s, c, "CLIENT INFO", T0 + 3500), bulk(line));
        run(&mut s, c, "HELLO 3");
        let resp3 = run_at(&mut s, c, "CLIENT INFO", T0 + 3500);
        assert!(
            resp3.starts_with(&format!("={}\r\ntxt:id=1 ", line.len() + 4)),
            "{resp3}"
        );
        assert!(resp3.ends_with(" resp=3\n\r\n"));
        assert_eq!(
            run(&mut s, c, "CLIENT INFO x"),
            "-ERR wrong number of arguments for 'client|info' command\r\n"
        );
    }

    #[test]
    fn client_list_merges_the_caller_in_id_order() {
        let mut s = server();
        let a = connect(&mut s, 5001);
        let b = connect(&mut s, 5002);
        let unix = s.connect(
            ConnInfo {
                addr: "/tmp/k.sock:0".into(),
                laddr: "/tmp/k.sock:0".into(),
                fd: 12,
                kind: ConnKind::Unix,
            },
            T0,
        );
        let _idle = connect(&mut s, 5004);
        run(&mut s, a, "SELECT 2");
        run(&mut s, a, "CLIENT SETNAME alpha");
        run(&mut s, a, "CLIENT NO-EVICT on");
        let idle = "id=4 addr=127.0.0.1:5004 laddr=127.0.0.1:6379 fd=11 name= age=5 idle=5 flags=N db=0 sub=0 \
                      psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=1024 rbp=0 obl=0 oll=0 \
                      omem=0 tot-mem=1800 events=r cmd=NULL user=default redir=-1 resp=2\n";
        let list = run_at(&mut s, b, "CLIENT LIST", T0 + 5000);
        let body = list.split("\r\n").nth(1).unwrap_or_default().to_string();
        let lines: Vec<&str> = body.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("id=1 addr=127.0.0.1:5001 laddr=127.0.0.1:6379 fd=8 name=alpha age=5 idle=5 "));
        assert!(lines[0].contains(" flags=e db=2 ") && lines[0].contains(" cmd=client|no-evict "));
        assert!(
            lines[1].starts_with("id=2 ") && lines[1].contains(" idle=0 ") && lines[1].contains(" cmd=client|list ")
        );
        assert!(lines[2].starts_with("id=3 addr=/tmp/k.sock:0 laddr=/tmp/k.sock:0 fd=12 "));
        assert!(lines[2].contains(" flags=U "));
        // A client that has never run a command.
        assert_eq!(lines[3], idle.trim_end());
        assert_eq!(run_at(&mut s, a, "CLIENT LIST ID 4", T0 + 5000), bulk(idle));
        assert_eq!(
            run_at(&mut s, unix, "CLIENT LIST TYPE normal", T0 + 5000)
                .matches("\nid=")
                .count(),
            4
        );
        for t in ["master", "replica", "slave", "pubsub", "MASTER"] {
            assert_eq!(run(&mut s, a, &format!("CLIENT LIST TYPE {t}")), "$0\r\n\r\n");
        }
    }

    #[test]
    fn client_list_arguments() {
        let mut s = server();
        let a = connect(&mut s, 5001);
        let _b = connect(&mut s, 5002);
        let ids = |out: &str| -> Vec<String> {
            out.split("id=")
                .skip(1)
                .filter_map(|p| p.split(' ').next())
                .map(String::from)
                .collect()
        };
        // Ids in the order given, repeats kept, unknown ones skipped.
        assert_eq!(ids(&run(&mut s, a, "CLIENT LIST ID 2 1 2 99 0 -1")), ["2", "1", "2"]);
        assert_eq!(run(&mut s, a, "CLIENT LIST ID 999"), "$0\r\n\r\n");
        assert_eq!(run(&mut s, a, "CLIENT LIST ID abc"), "-ERR Invalid client ID\r\n");
        assert_eq!(
            run(&mut s, a, "CLIENT LIST id 2 TYPE normal"),
            "-ERR Invalid client ID\r\n"
        );
        assert_eq!(
            run(&mut s, a, "CLIENT LIST TYPE foo"),
            "-ERR Unknown client type 'foo'\r\n"
        );
        for bad in [
            "CLIENT LIST x",
            "CLIENT LIST TYPE",
            "CLIENT LIST ID",
            "CLIENT LIST TYPE normal extra",
        ] {
            assert_eq!(run(&mut s, a, bad), "-ERR syntax error\r\n");
        }
        run(&mut s, a, "HELLO 3");
        assert_eq!(run(&mut s, a, "CLIENT LIST TYPE master"), "=4\r\ntxt:\r\n");
    }

    #[test]
    fn client_kill_filters_and_errors() {
        let mut s = server();
        let a = connect(&mut s, 5001);
        let b = connect(&mut s, 5002);
        let c = connect(&mut s, 5003);
        assert_eq!(run(&mut s, a, "CLIENT KILL 1.2.3.4:5"), "-ERR No such client\r\n");
        assert_eq!(run(&mut s, a, "CLIENT KILL SKIPME"), "-ERR No such client\r\n");
        for bad in ["ID 0", "ID -5", "ID abc", "ID 99999999999999999999"] {
            assert_eq!(
                run(&mut s, a, &format!("CLIENT KILL {bad}")),
                "-ERR client-id should be greater than 0\r\n"
            );
        }
        assert_eq!(
            run(&mut s, a, "CLIENT KILL TYPE foo"),
            "-ERR Unknown client type 'foo'\r\n"
        );
        assert_eq!(run(&mut s, a, "CLIENT KILL USER bob"), "-ERR No such user 'bob'\r\n");
        for bad in ["USER default SKIPME maybe", "ID 5 SKIPME", "FOO bar", "MAXAGE 5"] {
            assert_eq!(run(&mut s, a, &format!("CLIENT KILL {bad}")), "-ERR syntax error\r\n");
        }
        assert_eq!(run(&mut s, a, "CLIENT KILL ID 999"), ":0\r\n");
        assert_eq!(run(&mut s, a, "CLIENT KILL ADDR 1.2.3.4:5"), ":0\r\n");
        assert_eq!(run(&mut s, a, "CLIENT KILL LADDR 127.0.0.1:6379 TYPE master"), ":0\r\n");
        // The caller is skipped by default.
        assert_eq!(run(&mut s, a, "CLIENT KILL ID 1"), ":0\r\n");
        assert!(s.take_effects().is_empty());

        assert_eq!(run(&mut s, a, "CLIENT KILL ID 2"), ":1\r\n");
        assert_eq!(s.take_effects(), [Effect::KillClient(2)]);
        assert!(s.clients.is_killed(b));
        assert_eq!(exec_at(&mut s, b, &[b"PING"], T0).1, Flow::Close);
        // A killed client is gone for later commands even before the shell closes it.
        assert_eq!(run(&mut s, a, "CLIENT KILL ID 2"), ":0\r\n");
        assert_eq!(run(&mut s, a, "CLIENT LIST ID 2"), "$0\r\n\r\n");

        assert_eq!(run(&mut s, a, "CLIENT KILL addr 127.0.0.1:5003"), ":1\r\n");
        assert_eq!(s.take_effects(), [Effect::KillClient(3)]);
        assert!(s.clients.is_killed(c));
    }

    #[test]
    fn client_kill_self() {
        let mut s = server();
        let a = connect(&mut s, 5001);
        let b = connect(&mut s, 5002);
        assert_eq!(
            exec_at(
                &mut s,
                a,
                &[b"CLIENT", b"KILL", b"USER", b"default", b"SKIPME", b"no"],
                T0
            ),
            (b":2\r\n".to_vec(), Flow::Close)
        );
        assert_eq!(s.take_effects(), [Effect::KillClient(2)]);
        assert!(s.clients.is_killed(b));

        let c = connect(&mut s, 5003);
        // The old form may name the caller.
        assert_eq!(
            exec_at(&mut s, c, &[b"CLIENT", b"KILL", b"127.0.0.1:5003"], T0),
            (b"+OK\r\n".to_vec(), Flow::Close)
        );
        assert!(s.take_effects().is_empty());
    }

    #[test]
    fn client_pause_and_unpause() {
        let mut s = server();
        let c = connect(&mut s, 5001);
        assert_eq!(
            run(&mut s, c, "CLIENT PAUSE abc"),
            "-ERR timeout is not an integer or out of range\r\n"
        );
        assert_eq!(
            run(&mut s, c, "CLIENT PAUSE 1.5"),
            "-ERR timeout is not an integer or out of range\r\n"
        );
        assert_eq!(run(&mut s, c, "CLIENT PAUSE -1"), "-ERR timeout is negative\r\n");
        // The mode is checked before the timeout.
        assert_eq!(
            run(&mut s, c, "CLIENT PAUSE abc FOO"),
            "-ERR CLIENT PAUSE mode must be WRITE or ALL\r\n"
        );
        assert_eq!(
            run(&mut s, c, "client Pause 10 write x"),
            "-ERR unknown subcommand or wrong number of arguments for 'Pause'. Try CLIENT HELP.\r\n"
        );
        assert!(s.pause.is_none() && s.take_effects().is_empty());

        assert_eq!(run(&mut s, c, "CLIENT PAUSE 600 write"), "+OK\r\n");
        assert_eq!(s.take_effects(), [Effect::PauseChanged]);
        assert_eq!(
            s.pause,
            Some(Pause {
                until_ms: T0 + 600,
                write_only: true
            })
        );
        // A shorter pause does not shorten it, a stronger mode strengthens it.
        run_at(&mut s, c, "CLIENT PAUSE 10 ALL", T0 + 100);
        assert_eq!(
            s.pause,
            Some(Pause {
                until_ms: T0 + 600,
                write_only: false
            })
        );
        run_at(&mut s, c, "CLIENT PAUSE 0 WRITE", T0 + 100);
        assert_eq!(
            s.pause,
            Some(Pause {
                until_ms: T0 + 600,
                write_only: false
            })
        );
        assert_eq!(run(&mut s, c, "CLIENT UNPAUSE"), "+OK\r\n");
        assert_eq!(s.pause, None);
        // An expired pause is forgotten before merging.
        run(&mut s, c, "CLIENT PAUSE 10 ALL");
        run_at(&mut s, c, "CLIENT PAUSE 100 WRITE", T0 + 50);
        assert_eq!(
            s.pause,
            Some(Pause {
                until_ms: T0 + 150,
                write_only: true
            })
        );
        run(&mut s, c, "CLIENT UNPAUSE");
        // An end time past i64::MAX wraps into the past: no pause, as in the reference server.
        assert_eq!(run(&mut s, c, "CLIENT PAUSE 9223372036854775807 WRITE"), "+OK\r\n");
        assert_eq!(s.pause, None);
        assert_eq!(run(&mut s, c, "CLIENT PAUSE 0"), "+OK\r\n");
        assert_eq!(s.pause, None);
    }

    #[test]
    fn client_reply_modes() {
        let mut s = server();
        let c = connect(&mut s, 5001);
        // (command, reply) pairs recorded from the reference server, in order on one connection.
        let script = [
            ("CLIENT REPLY ON", "+OK\r\n"),
            ("CLIENT REPLY SKIP", ""),
            ("PING", ""),
            ("PING", "+PONG\r\n"),
            ("CLIENT REPLY OFF", ""),
            ("PING", ""),
            ("CLIENT REPLY SKIP", ""),
            ("PING", ""),
            ("CLIENT REPLY ON", "+OK\r\n"),
            ("CLIENT REPLY SKIP", ""),
            ("CLIENT REPLY ON", "+OK\r\n"),
            ("CLIENT REPLY skip", ""),
            ("CLIENT REPLY off", ""),
            ("PING", ""),
            ("CLIENT REPLY on", "+OK\r\n"),
            ("CLIENT REPLY SKIP", ""),
            ("CLIENT REPLY SKIP", ""),
            ("PING", ""),
            ("PING", "+PONG\r\n"),
            ("CLIENT REPLY OFF", ""),
            ("FOO", ""),
            ("CLIENT REPLY ON", "+OK\r\n"),
            ("CLIENT REPLY foo", "-ERR syntax error\r\n"),
        ];
        for (cmd, want) in script {
            assert_eq!(run(&mut s, c, cmd), want, "{cmd}");
        }
    }

    #[test]
    fn reset_restores_defaults() {
        let mut s = server();
        let c = connect(&mut s, 5001);
        run(&mut s, c, "CLIENT NO-EVICT on");
        run(&mut s, c, "CLIENT SETNAME nm");
        run(&mut s, c, "SELECT 4");
        run(&mut s, c, "HELLO 3");
        assert_eq!(run(&mut s, c, "RESET"), "+RESET\r\n");
        let info = run(&mut s, c, "CLIENT INFO");
        // NO-EVICT survives RESET in 7.0.
        assert!(info.contains(" name= ") && info.contains(" flags=e db=0 ") && info.ends_with(" resp=2\n\r\n"));
        // RESET turns replies back on, but a pending SKIP still swallows its own reply.
        run(&mut s, c, "CLIENT REPLY OFF");
        assert_eq!(run(&mut s, c, "RESET"), "+RESET\r\n");
        run(&mut s, c, "CLIENT REPLY SKIP");
        assert_eq!(run(&mut s, c, "RESET"), "");
        assert_eq!(run(&mut s, c, "PING"), "+PONG\r\n");
        assert_eq!(
            run(&mut s, c, "RESET x"),
            "-ERR wrong number of arguments for 'reset' command\r\n"
        );
    }

    #[test]
    fn client_no_evict_and_missing_subcommands() {
        let mut s = server();
        let c = connect(&mut s, 5001);
        assert_eq!(run(&mut s, c, "CLIENT NO-EVICT maybe"), "-ERR syntax error\r\n");
        assert_eq!(run(&mut s, c, "CLIENT NO-EVICT ON"), "+OK\r\n");
        assert!(run(&mut s, c, "CLIENT INFO").contains(" flags=e "));
        assert_eq!(run(&mut s, c, "CLIENT NO-EVICT Off"), "+OK\r\n");
        assert!(run(&mut s, c, "CLIENT INFO").contains(" flags=N "));
        // 7.0 has no CLIENT NO-TOUCH.
        assert_eq!(
            run(&mut s, c, "CLIENT NO-TOUCH on"),
            "-ERR unknown subcommand 'NO-TOUCH'. Try CLIENT HELP.\r\n"
        );
        assert_eq!(
            run(&mut s, c, "CLIENT"),
            "-ERR wrong number of arguments for 'client' command\r\n"
        );
    }

    #[test]
    fn client_help_text() {
        let mut s = server();
        let c = connect(&mut s, 5001);
        let help = run(&mut s, c, "CLIENT HELP");
        let lines = CLIENT_HELP.len() + 3;
        assert!(help.starts_with(&format!(
            "*{lines}\r\n+CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n"
        )));
        assert!(help.ends_with("+HELP\r\n+    Prints this help.\r\n"));
        assert_eq!(help.matches("\r\n").count(), lines + 1);
    }
}
