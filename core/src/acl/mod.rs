//! Authentication and authorization: the users, the gate every command passes before it runs, and the
//! ACL log.
//!
//! Owns who a connection is (`AUTH`, `HELLO ... AUTH`, `requirepass`), whether a command may run for that
//! user (commands, keys, channels), the `-NOAUTH`/`-NOPERM` replies, the denial counters and log entries.
//! The rule grammar lives in `selector` and `user`, the aclfile format in `file`, the command table in
//! `table`. Nothing here reads files: `ACL SAVE`/`ACL LOAD` hand text to and from the shell.

pub mod file;
pub mod log;
pub mod selector;
pub mod table;
pub mod user;

use std::collections::BTreeMap;

use bytes::Bytes;

use crate::client::ClientState;
use crate::commands::spec::CommandSpec;
use crate::commands::CommandError;
use crate::server::{Effect, Server};
use selector::{Denial, Request, RuleError, KEY_READ, KEY_WRITE};
use user::User;

/// The reply to a command sent before authenticating.
pub const NOAUTH: &str = "NOAUTH Authentication required.";

/// The reply to a failed AUTH or HELLO AUTH.
pub const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";

/// The name of the user every connection starts as.
pub const DEFAULT_USER: &[u8] = b"default";

/// The users and the ACL log.
#[derive(Clone, Debug)]
pub struct Acl {
    /// Users by name, in byte order (the order `ACL LIST` and `ACL USERS` show). Private so every change
    /// goes through [`Acl::users_mut`], which bumps `generation`.
    users: BTreeMap<Vec<u8>, User>,
    /// Bumped on every (possible) change to `users`; clients cache permission answers under it. Starts at
    /// 1 so a client's 0 never matches.
    generation: u64,
    pub log: log::Log,
}

impl Default for Acl {
    fn default() -> Acl {
        Acl::new()
    }
}

impl Acl {
    /// Only the `default` user: on, no password, everything allowed.
    pub fn new() -> Acl {
        let mut users = BTreeMap::new();
        users.insert(DEFAULT_USER.to_vec(), User::new_default());
        Acl {
            users,
            generation: 1,
            log: log::Log::default(),
        }
    }

    /// The users by name, in byte order.
    pub fn users(&self) -> &BTreeMap<Vec<u8>, User> {
        &self.users
    }

    /// The users, for changing: invalidates every client's cached permissions.
    pub fn users_mut(&mut self) -> &mut BTreeMap<Vec<u8>, User> {
        self.generation += 1;
        &mut self.users
    }

    /// The current generation of the users table (see [`ClientState::set_user`]).
    #[inline]
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// True when `username` exists and may run every command on every key and channel.
    pub fn unrestricted(&self, username: &[u8]) -> bool {
        self.users.get(username).is_some_and(|u| u.root().allows_everything())
    }

    /// The `default` user (always present).
    pub fn default_user(&self) -> Option<&User> {
        self.users.get(DEFAULT_USER)
    }

    /// True when a connection that has not authenticated must do so before running commands: the
    /// default user has a password or is off.
    pub fn auth_required(&self, client: &ClientState) -> bool {
        !client.authenticated && self.default_user().is_none_or(|u| !u.nopass || !u.enabled)
    }

    /// True when a new connection starts authenticated (the default user is on and has no password).
    pub fn new_connection_authenticated(&self) -> bool {
        self.default_user().is_some_and(|u| u.nopass && u.enabled)
    }

    /// `requirepass`: replaces the default user's passwords with `password`, or makes it password-less
    /// when `password` is empty.
    pub fn set_requirepass(&mut self, password: &str) {
        if let Some(u) = self.users_mut().get_mut(DEFAULT_USER) {
            let _ = u.apply(b"resetpass");
            if password.is_empty() {
                let _ = u.apply(b"nopass");
            } else {
                let mut rule = b">".to_vec();
                rule.extend_from_slice(password.as_bytes());
                let _ = u.apply(&rule);
            }
        }
    }

    /// Checks `username`/`password`; the user must exist and be on.
    pub fn credentials_ok(&self, username: &[u8], password: &[u8]) -> bool {
        self.users.get(username).is_some_and(|u| u.check_password(password))
    }

    /// Checks whether `username` may run `spec` with `argv` (the name first).
    pub fn check(&self, username: &[u8], spec: &CommandSpec, argv: &[Bytes]) -> Result<(), Denial> {
        let Some(user) = self.users.get(username) else {
            return Err(Denial::Command);
        };
        if user.root().allows_everything() {
            return Ok(());
        }
        let Some(id) = table::table().id_of(spec) else {
            return Err(Denial::Command);
        };
        let keys = command_keys(spec, argv);
        let channels = command_channels(spec, argv);
        let req = Request {
            id,
            no_auth: spec.has_flag("no_auth"),
            argv,
            keys: &keys,
            channels: &channels,
        };
        let mut worst: Option<Denial> = None;
        for s in &user.selectors {
            match s.check(&req) {
                Ok(()) => return Ok(()),
                Err(d) => worst = Some(worst.map_or(d, |w| w.most_relevant(d))),
            }
        }
        Err(worst.unwrap_or(Denial::Command))
    }
}

/// The keys of a command line with the access each needs (read and/or write bits), from the command's
/// key specs as `COMMAND GETKEYSANDFLAGS` finds them.
pub fn command_keys(spec: &CommandSpec, argv: &[Bytes]) -> Vec<(usize, u8)> {
    if !crate::commands::server_cmds::has_key_args(spec) {
        return Vec::new();
    }
    crate::commands::server_cmds::command_keys(spec, argv)
        .into_iter()
        .filter(|(pos, _)| *pos < argv.len())
        .map(|(pos, flags)| {
            let mut need = 0;
            if flags.contains(&"access") {
                need |= KEY_READ;
            }
            if flags.iter().any(|f| matches!(*f, "insert" | "delete" | "update")) {
                need |= KEY_WRITE;
            }
            (pos, need)
        })
        .collect()
}

/// The channels of a Pub/Sub command line, with whether they are compared literally (patterns given to
/// PSUBSCRIBE must appear as such in the user's channel list).
fn command_channels(spec: &CommandSpec, argv: &[Bytes]) -> Vec<(usize, bool)> {
    match spec.name {
        "publish" | "spublish" if argv.len() > 1 => vec![(1, false)],
        "subscribe" | "ssubscribe" => (1..argv.len()).map(|i| (i, false)).collect(),
        "psubscribe" => (1..argv.len()).map(|i| (i, true)).collect(),
        _ => Vec::new(),
    }
}

/// Where a command is checked: at the top level, queued in `MULTI`, or run by `EXEC`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Toplevel,
    Queued,
    Exec,
}

/// The gate every command found by dispatch passes before it is queued or run: authentication first,
/// then the user's permissions. A refusal is counted, logged, and returned as the error to reply.
///
/// The common case (an authenticated client whose user was found unrestricted under the current
/// rules) is a few compares, inlined into dispatch; everything else goes through [`gate_checked`].
#[inline]
pub fn gate(
    server: &mut Server,
    client: &mut ClientState,
    spec: &'static CommandSpec,
    argv: &[Bytes],
    stage: Stage,
    now_ms: i64,
) -> Result<(), CommandError> {
    if client.internal || (client.authenticated && client.acl_unrestricted_gen == server.acl.generation()) {
        return Ok(());
    }
    gate_checked(server, client, spec, argv, stage, now_ms)
}

/// [`gate`] in full: authentication, then the user's permissions (caching an unrestricted user).
fn gate_checked(
    server: &mut Server,
    client: &mut ClientState,
    spec: &'static CommandSpec,
    argv: &[Bytes],
    stage: Stage,
    now_ms: i64,
) -> Result<(), CommandError> {
    if client.internal {
        return Ok(());
    }
    if stage != Stage::Exec && server.acl.auth_required(client) && !spec.has_flag("no_auth") {
        return Err(CommandError::err(NOAUTH));
    }
    let generation = server.acl.generation();
    if client.acl_unrestricted_gen == generation {
        return Ok(());
    }
    if server.acl.unrestricted(client.user()) {
        client.acl_unrestricted_gen = generation;
        return Ok(());
    }
    let Err(denial) = server.acl.check(client.user(), spec, argv) else {
        return Ok(());
    };
    let context = if stage == Stage::Toplevel {
        log::Context::Toplevel
    } else {
        log::Context::Multi
    };
    let (reason, object) = match denial {
        Denial::Command => (log::Reason::Command, spec.name.as_bytes().to_vec()),
        Denial::Key(pos) => (log::Reason::Key, argv[pos].to_vec()),
        Denial::Channel(pos) => (log::Reason::Channel, argv[pos].to_vec()),
    };
    record_denial(
        server,
        client,
        Some(argv),
        reason,
        context,
        object,
        client.user().to_vec(),
        now_ms,
    );
    let text = if stage == Stage::Exec {
        let why = match denial {
            Denial::Command => "no permission to execute the command or subcommand",
            Denial::Key(_) => "no permission to touch the specified keys",
            Denial::Channel(_) => "no permission to access one of the channels used as arguments",
        };
        format!(
            "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. \
             This command is no longer allowed for the following reason: {why}"
        )
    } else {
        match denial {
            Denial::Command => format!("NOPERM this user has no permissions to run the '{}' command", spec.name),
            Denial::Key(_) => "NOPERM this user has no permissions to access one of the keys used as arguments".into(),
            Denial::Channel(_) => {
                "NOPERM this user has no permissions to access one of the channels used as arguments".into()
            }
        }
    };
    Err(CommandError::Other(text.into()))
}

/// Counts a denial in `INFO stats` and adds it to the ACL log.
#[allow(clippy::too_many_arguments)]
pub fn record_denial(
    server: &mut Server,
    client: &ClientState,
    argv: Option<&[Bytes]>,
    reason: log::Reason,
    context: log::Context,
    object: Vec<u8>,
    username: Vec<u8>,
    now_ms: i64,
) {
    let counter = match reason {
        log::Reason::Auth => &mut server.stats.acl_denied_auth,
        log::Reason::Command => &mut server.stats.acl_denied_cmd,
        log::Reason::Key => &mut server.stats.acl_denied_key,
        log::Reason::Channel => &mut server.stats.acl_denied_channel,
    };
    *counter += 1;
    let client_info = crate::commands::connection::client_info_line(client, argv, now_ms);
    let max_len = server.config.get_i64("acllog-max-len").max(0) as usize;
    server.acl.log.add(
        log::Entry {
            count: 1,
            reason,
            context,
            object,
            username,
            time_ms: now_ms,
            client_info,
        },
        max_len,
    );
}

/// Authenticates `client` as `username` with `password` (AUTH, HELLO AUTH). A failure is counted and
/// logged with `argv[0]` as the object, and answered with WRONGPASS.
pub fn authenticate(
    server: &mut Server,
    client: &mut ClientState,
    username: &[u8],
    password: &[u8],
    argv: &[Bytes],
    now_ms: i64,
) -> Result<(), CommandError> {
    if server.acl.credentials_ok(username, password) {
        client.set_user(username);
        client.authenticated = true;
        return Ok(());
    }
    let context = if client.multi.is_some() || client.in_exec {
        log::Context::Multi
    } else {
        log::Context::Toplevel
    };
    record_denial(
        server,
        client,
        Some(argv),
        log::Reason::Auth,
        context,
        argv[0].to_vec(),
        username.to_vec(),
        now_ms,
    );
    Err(CommandError::err(WRONGPASS))
}

/// Disconnects every client authenticated as `username` (the user was deleted or replaced): they fall
/// back to the unauthenticated default user and their connections close. Returns true when `current`
/// (the client running the command) is among them; it closes after its reply.
pub fn kill_clients_of(server: &mut Server, current: &mut ClientState, username: &[u8]) -> bool {
    for c in server.clients.iter_mut() {
        if !c.killed && c.user() == username {
            c.set_user(DEFAULT_USER);
            c.authenticated = false;
            c.killed = true;
            server.effects.push(Effect::KillClient(c.id));
        }
    }
    if current.user() == username {
        current.set_user(DEFAULT_USER);
        current.authenticated = false;
        return true;
    }
    false
}

/// Joins `ACL SETUSER` / aclfile arguments so that a selector split over several arguments (`(+get`,
/// `~k)`) becomes one rule. On an unclosed `(`, returns the index of the argument that opened it.
pub fn merge_selector_args(args: &[&[u8]]) -> Result<Vec<Vec<u8>>, usize> {
    let mut merged = Vec::new();
    let mut open: Option<(usize, Vec<u8>)> = None;
    for (i, op) in args.iter().enumerate() {
        if let Some((_, current)) = open.as_mut() {
            current.push(b' ');
            current.extend_from_slice(op);
            if op.last() == Some(&b')') {
                if let Some((_, done)) = open.take() {
                    merged.push(done);
                }
            }
            continue;
        }
        if op.first() == Some(&b'(') && op.last() != Some(&b')') {
            open = Some((i, op.to_vec()));
            continue;
        }
        merged.push(op.to_vec());
    }
    match open {
        Some((i, _)) => Err(i),
        None => Ok(merged),
    }
}

/// Applies `rules` to a copy of `base` (or a new user) and returns it; the first failing rule and its
/// error otherwise.
pub fn apply_rules(base: Option<&User>, name: &[u8], rules: &[Vec<u8>]) -> Result<User, (Vec<u8>, RuleError)> {
    let mut u = base.cloned().unwrap_or_else(|| User::new(name));
    for r in rules {
        u.apply(r).map_err(|e| (r.clone(), e))?;
    }
    Ok(u)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::Server;
    use crate::{Config, ProcessInfo};

    fn run(s: &mut Server, h: crate::ClientHandle, line: &str) -> String {
        let argv: Vec<Bytes> = line.split(' ').map(|a| Bytes::copy_from_slice(a.as_bytes())).collect();
        let mut out = Vec::new();
        s.execute(h, &argv, 5_000_000, &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    fn info_line(s: &mut Server, h: crate::ClientHandle, field: &str) -> String {
        let info = run(s, h, "INFO stats");
        info.split("\r\n")
            .find(|l| l.starts_with(field))
            .unwrap_or_default()
            .to_string()
    }

    #[test]
    fn cached_permissions_follow_rule_and_user_changes() {
        let mut s = Server::new(Config::default(), 1, 0, ProcessInfo::default());
        let admin = crate::test_support::connect_loopback(&mut s);
        let c = crate::test_support::connect_loopback(&mut s);
        // Fills c's cache: the default user allows everything.
        assert_eq!(run(&mut s, c, "SET a v"), "+OK\r\n");
        assert_eq!(run(&mut s, c, "SET a v"), "+OK\r\n");
        // Another client narrows the default user: c's next command must see it at once.
        assert_eq!(run(&mut s, admin, "ACL SETUSER default -set"), "+OK\r\n");
        assert_eq!(
            run(&mut s, c, "SET a v"),
            "-NOPERM this user has no permissions to run the 'set' command\r\n"
        );
        assert_eq!(run(&mut s, admin, "ACL SETUSER default +set"), "+OK\r\n");
        assert_eq!(run(&mut s, c, "SET a v"), "+OK\r\n");
        // Switching to a restricted user drops the cached answer of the previous one.
        assert_eq!(run(&mut s, admin, "ACL SETUSER u on >pw +get +auth ~*"), "+OK\r\n");
        assert_eq!(run(&mut s, c, "AUTH u pw"), "+OK\r\n");
        assert_eq!(
            run(&mut s, c, "SET a v"),
            "-NOPERM this user has no permissions to run the 'set' command\r\n"
        );
        assert_eq!(run(&mut s, c, "GET a"), "$1\r\nv\r\n");
    }

    #[test]
    fn denials_are_counted_by_reason() {
        let mut s = Server::new(Config::default(), 1, 0, ProcessInfo::default());
        let admin = crate::test_support::connect_loopback(&mut s);
        let user = crate::test_support::connect_loopback(&mut s);
        assert_eq!(run(&mut s, admin, "ACL SETUSER u on >pw +get ~a"), "+OK\r\n");
        assert_eq!(run(&mut s, user, "AUTH u nope"), format!("-{WRONGPASS}\r\n"));
        assert_eq!(run(&mut s, user, "AUTH nobody nope"), format!("-{WRONGPASS}\r\n"));
        assert_eq!(run(&mut s, user, "AUTH u pw"), "+OK\r\n");
        assert_eq!(
            run(&mut s, user, "SET a v"),
            "-NOPERM this user has no permissions to run the 'set' command\r\n"
        );
        assert_eq!(
            run(&mut s, user, "GET b"),
            "-NOPERM this user has no permissions to access one of the keys used as arguments\r\n"
        );
        assert_eq!(run(&mut s, user, "GET b"), run(&mut s, user, "GET c"));
        assert_eq!(run(&mut s, user, "GET a"), "$-1\r\n");
        assert_eq!(
            info_line(&mut s, admin, "acl_access_denied_auth"),
            "acl_access_denied_auth:2"
        );
        assert_eq!(
            info_line(&mut s, admin, "acl_access_denied_cmd"),
            "acl_access_denied_cmd:1"
        );
        assert_eq!(
            info_line(&mut s, admin, "acl_access_denied_key"),
            "acl_access_denied_key:3"
        );
        assert_eq!(
            info_line(&mut s, admin, "acl_access_denied_channel"),
            "acl_access_denied_channel:0"
        );
        // Entries: key b (x2, folded), key c, command set, auth nobody, auth u.
        assert_eq!(s.acl.log.entries.len(), 5);
        assert_eq!(s.acl.log.entries[1].count, 2);
        assert_eq!(run(&mut s, admin, "CONFIG RESETSTAT"), "+OK\r\n");
        assert_eq!(
            info_line(&mut s, admin, "acl_access_denied_key"),
            "acl_access_denied_key:0"
        );
    }

    #[test]
    fn a_connection_opened_under_a_password_stays_unauthenticated() {
        let mut s = Server::new(Config::default(), 1, 0, ProcessInfo::default());
        let admin = crate::test_support::connect_loopback(&mut s);
        assert_eq!(run(&mut s, admin, "CONFIG SET requirepass sec"), "+OK\r\n");
        let late = crate::test_support::connect_loopback(&mut s);
        assert_eq!(run(&mut s, late, "PING"), format!("-{NOAUTH}\r\n"));
        assert_eq!(run(&mut s, admin, "CONFIG SET requirepass "), "+OK\r\n");
        // Commands run again once the default user needs no password, but HELLO still wants the
        // connection itself authenticated, as on the reference server.
        assert_eq!(run(&mut s, late, "PING"), "+PONG\r\n");
        assert!(run(&mut s, late, "HELLO 2").starts_with("-NOAUTH HELLO must be called"));
        assert_eq!(run(&mut s, late, "AUTH default x"), "+OK\r\n");
        assert!(run(&mut s, late, "HELLO 2").starts_with("*14\r\n"));
    }

    #[test]
    fn log_folds_repeats_within_a_minute_and_is_bounded() {
        let mut log = log::Log::default();
        let entry = |object: &str, time_ms: i64| log::Entry {
            count: 1,
            reason: log::Reason::Key,
            context: log::Context::Toplevel,
            object: object.as_bytes().to_vec(),
            username: b"u".to_vec(),
            time_ms,
            client_info: String::new(),
        };
        log.add(entry("a", 0), 3);
        log.add(entry("a", 60_000), 3);
        assert_eq!(log.entries.len(), 1);
        assert_eq!(log.entries[0].count, 2);
        log.add(entry("a", 120_001), 3);
        assert_eq!(log.entries.len(), 2, "more than a minute after the last occurrence");
        for (i, o) in ["b", "c", "d"].iter().enumerate() {
            log.add(entry(o, 200_000 + i as i64), 3);
        }
        let objects: Vec<&[u8]> = log.entries.iter().map(|e| e.object.as_slice()).collect();
        assert_eq!(objects, [b"d".as_slice(), b"c", b"b"]);
    }

    #[test]
    fn aclfile_round_trips_and_reports_every_bad_line() {
        let mut acl = Acl::new();
        acl.users_mut().insert(
            b"alice".to_vec(),
            apply_rules(
                None,
                b"alice",
                &[b"on".to_vec(), b">pw".to_vec(), b"~a:*".to_vec(), b"(+set ~x)".to_vec()],
            )
            .expect("rules"),
        );
        let text = String::from_utf8(file::emit(acl.users())).expect("ascii");
        let parsed = file::parse("f.acl", &text).expect("parses");
        assert_eq!(&parsed, acl.users());
        let err = file::parse("f.acl", "user a on\nnope\nuser a off\nuser b +nosuch bogus\n").expect_err("bad");
        assert_eq!(
            err,
            "f.acl:2 should start with user keyword followed by the username. WARNING: Duplicate user 'a' found on \
             line 3. f.acl:4: Unknown command or category name in ACL. f.acl:4: Syntax error. WARNING: ACL errors \
             detected, no change to the previously active ACL rules was performed"
        );
        let only_alice = file::parse("f.acl", "user alice on nopass\n").expect("parses");
        assert_eq!(
            only_alice.get(DEFAULT_USER),
            Some(&user::User::new_default()),
            "default is recreated"
        );
    }

    #[test]
    fn passwords_are_stored_hashed_and_checked() {
        let u = apply_rules(None, b"u", &[b"on".to_vec(), b">secret".to_vec()]).expect("rules");
        assert_eq!(
            u.passwords,
            ["2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"]
        );
        assert!(u.check_password(b"secret"));
        assert!(!u.check_password(b"secreT"));
        let off = apply_rules(Some(&u), b"u", &[b"off".to_vec()]).expect("rules");
        assert!(!off.check_password(b"secret"), "a disabled user cannot authenticate");
    }
}
