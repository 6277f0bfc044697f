//! The ACL command: SETUSER, GETUSER, DELUSER, USERS, LIST, WHOAMI, CAT, GENPASS, LOG, SAVE, LOAD,
//! DRYRUN and HELP.
//!
//! Owns these subcommands' arguments, replies and errors. Users, rules and the log belong to `acl`;
//! `ACL SAVE`/`ACL LOAD` park the client and ask the shell to write or read the aclfile
//! ([`Effect::AclSave`], [`Effect::AclLoad`]); the outcome comes back through [`finish_save`] and
//! [`finish_load`].

use bytes::Bytes;
use rand::Rng;

use super::{CmdResult, CommandError, Ctx, Registry};
use crate::acl::{self, file, selector::Denial, table, user::valid_name, DEFAULT_USER};
use crate::client::ClientId;
use crate::server::{Effect, Server};

/// Registers the family's handlers.
pub fn register(r: &mut Registry) {
    r.add("acl|setuser", setuser);
    r.add("acl|getuser", getuser);
    r.add("acl|deluser", deluser);
    r.add("acl|users", users);
    r.add("acl|list", list);
    r.add("acl|whoami", whoami);
    r.add("acl|cat", cat);
    r.add("acl|genpass", genpass);
    r.add("acl|log", log);
    r.add("acl|save", save);
    r.add("acl|load", load);
    r.add("acl|dryrun", dryrun);
    r.add("acl|help", help);
}

/// The reply to `ACL SAVE`/`ACL LOAD` without an aclfile.
const NO_ACLFILE: &str = "ERR This Redis instance is not configured to use an ACL file. You may want to specify users \
                          via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis \
                          configuration file set) in order to store users in the Redis configuration.";

/// The bound on `ACL GENPASS` bits.
const GENPASS_MAX_BITS: i64 = 4096;

/// The reply for a subcommand called with arguments it does not accept.
fn syntax_error(ctx: &Ctx<'_>) -> CommandError {
    let sub = String::from_utf8_lossy(ctx.arg(1)).into_owned();
    CommandError::Other(
        format!("ERR unknown subcommand or wrong number of arguments for '{sub}'. Try ACL HELP.").into(),
    )
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// ACL SETUSER username [rule ...]
fn setuser(ctx: &mut Ctx<'_>) -> CmdResult {
    let name = ctx.argv[2].clone();
    if !valid_name(&name) {
        return Err(CommandError::err(
            "ERR Usernames can't contain spaces or null characters",
        ));
    }
    let args: Vec<&[u8]> = ctx.argv[3..].iter().map(|a| a.as_ref()).collect();
    let rules = acl::merge_selector_args(&args).map_err(|i| {
        CommandError::Other(
            format!(
                "ERR Unmatched parenthesis in acl selector starting at '{}'.",
                lossy(args[i])
            )
            .into(),
        )
    })?;
    let user = acl::apply_rules(ctx.server.acl.users().get(name.as_ref()), &name, &rules).map_err(|(rule, e)| {
        CommandError::Other(format!("ERR Error in ACL SETUSER modifier '{}': {}", lossy(&rule), e.text()).into())
    })?;
    ctx.server.acl.users_mut().insert(name.to_vec(), user);
    ctx.reply.ok();
    Ok(())
}

/// ACL GETUSER username
fn getuser(ctx: &mut Ctx<'_>) -> CmdResult {
    let Some(u) = ctx.server.acl.users().get(ctx.argv[2].as_ref()) else {
        ctx.reply.null();
        return Ok(());
    };
    let r = &mut ctx.reply;
    r.map(6);
    r.bulk(b"flags");
    let flags = u.flag_words();
    r.set(flags.len());
    for f in flags {
        r.bulk(f.as_bytes());
    }
    r.bulk(b"passwords");
    r.array(u.passwords.len());
    for p in &u.passwords {
        r.bulk(p.as_bytes());
    }
    let root = u.root();
    r.bulk(b"commands");
    r.bulk(&root.describe_commands());
    r.bulk(b"keys");
    r.bulk(&root.describe_keys());
    r.bulk(b"channels");
    r.bulk(&root.describe_channels());
    r.bulk(b"selectors");
    r.array(u.selectors.len() - 1);
    for s in &u.selectors[1..] {
        r.map(3);
        r.bulk(b"commands");
        r.bulk(&s.describe_commands());
        r.bulk(b"keys");
        r.bulk(&s.describe_keys());
        r.bulk(b"channels");
        r.bulk(&s.describe_channels());
    }
    Ok(())
}

/// ACL DELUSER username [username ...]: the users' connections are closed.
fn deluser(ctx: &mut Ctx<'_>) -> CmdResult {
    if ctx.argv[2..].iter().any(|n| n.as_ref() == DEFAULT_USER) {
        return Err(CommandError::err("ERR The 'default' user cannot be removed"));
    }
    let mut deleted = 0;
    for i in 2..ctx.argc() {
        let name = ctx.argv[i].clone();
        if ctx.server.acl.users_mut().remove(name.as_ref()).is_some() {
            deleted += 1;
            if acl::kill_clients_of(ctx.server, ctx.client, &name) {
                ctx.close_after_reply = true;
            }
        }
    }
    ctx.reply.integer(deleted);
    Ok(())
}

/// ACL USERS
fn users(ctx: &mut Ctx<'_>) -> CmdResult {
    ctx.reply.array(ctx.server.acl.users().len());
    for name in ctx.server.acl.users().keys() {
        ctx.reply.bulk(name);
    }
    Ok(())
}

/// ACL LIST
fn list(ctx: &mut Ctx<'_>) -> CmdResult {
    ctx.reply.array(ctx.server.acl.users().len());
    for u in ctx.server.acl.users().values() {
        ctx.reply.bulk(&u.list_line());
    }
    Ok(())
}

/// ACL WHOAMI
fn whoami(ctx: &mut Ctx<'_>) -> CmdResult {
    ctx.reply.bulk(ctx.client.user());
    Ok(())
}

/// ACL CAT [category]
fn cat(ctx: &mut Ctx<'_>) -> CmdResult {
    match ctx.argc() {
        2 => {
            ctx.reply.array(table::CATEGORIES.len());
            for c in table::CATEGORIES {
                ctx.reply.bulk(c.as_bytes());
            }
        }
        3 => {
            let name = ctx.arg(2);
            let cat = table::category_index(name).ok_or_else(|| {
                let shown: String = lossy(name).chars().take(128).collect();
                CommandError::Other(format!("ERR Unknown category '{shown}'").into())
            })?;
            let t = table::table();
            let names: Vec<&str> = t
                .entries
                .iter()
                .filter(|e| e.categories & (1 << cat) != 0)
                .map(|e| e.spec.name)
                .collect();
            ctx.reply.array(names.len());
            for n in names {
                ctx.reply.bulk(n.as_bytes());
            }
        }
        _ => return Err(syntax_error(ctx)),
    }
    Ok(())
}

/// ACL GENPASS [bits]: random hex digits from the server's generator.
fn genpass(ctx: &mut Ctx<'_>) -> CmdResult {
    let bits = match ctx.argc() {
        2 => 256,
        3 => ctx.arg_i64(2)?,
        _ => return Err(syntax_error(ctx)),
    };
    if bits <= 0 || bits > GENPASS_MAX_BITS {
        return Err(CommandError::Other(
            format!(
                "ERR ACL GENPASS argument must be the number of bits for the output password, a positive number \
                 up to {GENPASS_MAX_BITS}"
            )
            .into(),
        ));
    }
    let chars = ((bits + 3) / 4) as usize;
    let pass: String = (0..chars)
        .map(|_| char::from_digit(ctx.server.rng.random_range(0..16u32), 16).unwrap_or('0'))
        .collect();
    ctx.reply.bulk(pass.as_bytes());
    Ok(())
}

/// ACL LOG [count | RESET]
fn log(ctx: &mut Ctx<'_>) -> CmdResult {
    let mut count: i64 = 10;
    match ctx.argc() {
        2 => {}
        3 if ctx.arg(2).eq_ignore_ascii_case(b"reset") => {
            ctx.server.acl.log.reset();
            ctx.reply.ok();
            return Ok(());
        }
        3 => count = ctx.arg_i64(2)?.max(0),
        _ => return Err(syntax_error(ctx)),
    }
    let entries = &ctx.server.acl.log.entries;
    let count = (count as usize).min(entries.len());
    let r = &mut ctx.reply;
    r.array(count);
    for e in entries.iter().take(count) {
        r.map(7);
        r.bulk(b"count");
        r.integer(e.count as i64);
        r.bulk(b"reason");
        r.bulk(e.reason.word().as_bytes());
        r.bulk(b"context");
        r.bulk(e.context.word().as_bytes());
        r.bulk(b"object");
        r.bulk(&e.object);
        r.bulk(b"username");
        r.bulk(&e.username);
        r.bulk(b"age-seconds");
        r.double((ctx.now_ms - e.time_ms) as f64 / 1000.0);
        r.bulk(b"client-info");
        r.bulk(e.client_info.as_bytes());
    }
    Ok(())
}

/// The configured aclfile path, or the error for its absence.
fn aclfile(ctx: &Ctx<'_>) -> Result<String, CommandError> {
    match ctx.server.config.get("aclfile") {
        Some(p) if !p.is_empty() => Ok(p.to_string()),
        _ => Err(CommandError::err(NO_ACLFILE)),
    }
}

/// ACL SAVE: the shell writes the users to the aclfile atomically and reports back ([`finish_save`]).
fn save(ctx: &mut Ctx<'_>) -> CmdResult {
    let path = aclfile(ctx)?;
    let text = file::emit(ctx.server.acl.users());
    ctx.server.wait_for_io(ctx.client);
    ctx.server.effects.push(Effect::AclSave {
        client: ctx.client.id,
        path,
        text,
    });
    Ok(())
}

/// ACL LOAD: the shell reads the aclfile and hands its text back ([`finish_load`]).
fn load(ctx: &mut Ctx<'_>) -> CmdResult {
    let path = aclfile(ctx)?;
    ctx.server.wait_for_io(ctx.client);
    ctx.server.effects.push(Effect::AclLoad {
        client: ctx.client.id,
        path,
    });
    Ok(())
}

/// Ends an `ACL SAVE`: `ok` tells whether the file was written.
pub fn finish_save(server: &mut Server, client: ClientId, ok: bool) {
    server.finish_io(client, |r| {
        if ok {
            r.ok();
        } else {
            r.error(
                b"ERR There was an error trying to save the ACLs. Please check the server logs for more information",
            );
        }
    });
}

/// Ends an `ACL LOAD` with the file's text, or the reason it could not be read. The users are replaced
/// only when the whole file is valid; the connections of every replaced user other than `default` are
/// closed, as their user no longer exists in the same form.
pub fn finish_load(server: &mut Server, client: ClientId, path: &str, text: Result<String, String>) {
    let outcome = text
        .map_err(|e| format!("Error loading ACLs, opening file '{path}': {e}"))
        .and_then(|t| file::parse(path, &t));
    match outcome {
        Ok(users) => {
            replace_users(server, users);
            server.finish_io(client, |r| r.ok());
        }
        Err(e) => server.finish_io(client, |r| {
            let mut msg = b"ERR ".to_vec();
            msg.extend_from_slice(e.as_bytes());
            r.error(&msg);
        }),
    }
}

/// Installs a freshly loaded user set, closing the connections of every user except `default`.
pub fn replace_users(server: &mut Server, users: std::collections::BTreeMap<Vec<u8>, acl::user::User>) {
    *server.acl.users_mut() = users;
    for c in server.clients.iter_mut() {
        if !c.killed && c.user() != DEFAULT_USER {
            c.set_user(DEFAULT_USER);
            c.authenticated = false;
            c.killed = true;
            server.effects.push(Effect::KillClient(c.id));
        }
    }
}

/// ACL DRYRUN username command [arg ...]
fn dryrun(ctx: &mut Ctx<'_>) -> CmdResult {
    let name = ctx.arg(2);
    if !ctx.server.acl.users().contains_key(name) {
        return Err(CommandError::Other(
            format!("ERR User '{}' not found", lossy(name)).into(),
        ));
    }
    let cmd_argv: Vec<Bytes> = ctx.argv[3..].to_vec();
    let t = table::table();
    let spec = t.lookup(&cmd_argv[0]).map(|id| t.entries[id].spec).and_then(|spec| {
        if cmd_argv.len() == 1 || spec.subcommands.is_empty() {
            Some(spec)
        } else {
            spec.subcommand(&cmd_argv[1])
        }
    });
    let Some(spec) = spec else {
        return Err(CommandError::Other(
            format!("ERR Command '{}' not found", lossy(&cmd_argv[0])).into(),
        ));
    };
    if !spec.arity_ok(cmd_argv.len()) {
        return Err(CommandError::WrongArity(spec.name));
    }
    match ctx.server.acl.check(name, spec, &cmd_argv) {
        Ok(()) => ctx.reply.ok(),
        Err(Denial::Command) => ctx
            .reply
            .bulk(format!("This user has no permissions to run the '{}' command", spec.name).as_bytes()),
        Err(Denial::Key(i)) => {
            let mut msg = b"This user has no permissions to access the '".to_vec();
            msg.extend_from_slice(&cmd_argv[i]);
            msg.extend_from_slice(b"' key");
            ctx.reply.bulk(&msg);
        }
        Err(Denial::Channel(i)) => {
            let mut msg = b"This user has no permissions to access the '".to_vec();
            msg.extend_from_slice(&cmd_argv[i]);
            msg.extend_from_slice(b"' channel");
            ctx.reply.bulk(&msg);
        }
    }
    Ok(())
}

/// ACL HELP
fn help(ctx: &mut Ctx<'_>) -> CmdResult {
    const LINES: &[&str] = &[
        "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CAT [<category>]",
        "    List all commands that belong to <category>, or all command categories",
        "    when no category is specified.",
        "DELUSER <username> [<username> ...]",
        "    Delete a list of users.",
        "DRYRUN <username> <command> [<arg> ...]",
        "    Returns whether the user can execute the given command without executing the command.",
        "GETUSER <username>",
        "    Get the user's details.",
        "GENPASS [<bits>]",
        "    Generate a secure 256-bit user password. The optional `bits` argument can",
        "    be used to specify a different size.",
        "LIST",
        "    Show users details in config file format.",
        "LOAD",
        "    Reload users from the ACL file.",
        "LOG [<count> | RESET]",
        "    Show the ACL log entries.",
        "SAVE",
        "    Save the current config to the ACL file.",
        "SETUSER <username> <attribute> [<attribute> ...]",
        "    Create or modify a user with the specified attributes.",
        "USERS",
        "    List all the registered usernames.",
        "WHOAMI",
        "    Return the current connection username.",
        "HELP",
        "    Prints this help.",
    ];
    ctx.reply.array(LINES.len());
    for l in LINES {
        ctx.reply.simple(l.as_bytes());
    }
    Ok(())
}
