//! MODULE: keel loads no extension modules, but answers the command as the reference server does with
//! none loaded, including the `enable-module-command` gate on loading and unloading.
//!
//! Owns only those replies; keel never loads code at run time.

use super::server_cmds::{protected_action_allowed, reply_help};
use super::{CmdResult, CommandError, Ctx, Registry};

/// Registers the family's handlers.
pub fn register(r: &mut Registry) {
    r.add("module|list", list);
    r.add("module|help", help);
    r.add("module|load", load);
    r.add("module|loadex", load);
    r.add("module|unload", unload);
}

/// The refusal when `enable-module-command` does not allow this connection (the reference's text).
const NOT_ALLOWED: &str = "ERR MODULE command not allowed. If the enable-module-command option is set to \"local\", \
you can run it from a local connection, otherwise you need to set this option in the configuration file, and then \
restart the server.";

/// `MODULE HELP`'s lines, in keel's words.
const MODULE_HELP: &[&str] = &[
    "LIST",
    "    The loaded modules (keel loads none: always empty).",
    "LOAD <path> [<arg> ...]",
    "    Refused: keel does not load extension modules.",
    "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
    "    Refused: keel does not load extension modules.",
    "UNLOAD <name>",
    "    Refused: no module is ever loaded.",
];

/// Checks the `enable-module-command` gate for this connection.
fn gate(ctx: &Ctx<'_>) -> CmdResult {
    if protected_action_allowed(ctx.server.config.get("enable-module-command"), &ctx.client.info) {
        Ok(())
    } else {
        Err(CommandError::err(NOT_ALLOWED))
    }
}

/// MODULE LIST
fn list(ctx: &mut Ctx<'_>) -> CmdResult {
    ctx.reply.array(0);
    Ok(())
}

/// MODULE HELP
fn help(ctx: &mut Ctx<'_>) -> CmdResult {
    reply_help(ctx, MODULE_HELP);
    Ok(())
}

/// MODULE LOAD / LOADEX: gated, then the reference's failure reply (nothing can be loaded).
fn load(ctx: &mut Ctx<'_>) -> CmdResult {
    gate(ctx)?;
    Err(CommandError::err(
        "ERR Error loading the extension. Please check the server logs.",
    ))
}

/// MODULE UNLOAD: gated, then the reference's reply for a module that is not loaded.
fn unload(ctx: &mut Ctx<'_>) -> CmdResult {
    gate(ctx)?;
    Err(CommandError::err(
        "ERR Error unloading module: no such module with that name",
    ))
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::server::{ProcessInfo, Server};
    use crate::test_support::connect_loopback;
    use bytes::Bytes;

    fn run(server: &mut Server, client: crate::client::ClientHandle, args: &[&str]) -> Vec<u8> {
        let argv: Vec<Bytes> = args.iter().map(|a| Bytes::copy_from_slice(a.as_bytes())).collect();
        let mut out = Vec::new();
        server.execute(client, &argv, 0, &mut out);
        out
    }

    #[test]
    fn gated_load_and_empty_list() {
        let mut server = Server::new(Config::default(), 1, 0, ProcessInfo::default());
        let client = connect_loopback(&mut server);
        assert_eq!(run(&mut server, client, &["MODULE", "LIST"]), b"*0\r\n");
        let refused = run(&mut server, client, &["MODULE", "LOAD", "/x.so"]);
        assert!(refused.starts_with(b"-ERR MODULE command not allowed. If the enable-module-command"));
        assert_eq!(
            run(&mut server, client, &["MODULE", "LOAD"]),
            b"-ERR wrong number of arguments for 'module|load' command\r\n"
        );
        let mut config = Config::default();
        config.set_startup("enable-module-command", "local").unwrap();
        let mut server = Server::new(config, 1, 0, ProcessInfo::default());
        let client = connect_loopback(&mut server);
        assert_eq!(
            run(&mut server, client, &["MODULE", "UNLOAD", "x"]),
            b"-ERR Error unloading module: no such module with that name\r\n"
        );
    }
}
