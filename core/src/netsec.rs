//! Network-side security decisions the shell asks core about: whether protected mode refuses a new
//! connection, and the hook through which the shell applies settings it owns (TLS certificates) when
//! `CONFIG SET` changes them, and command renaming from the configuration file.
//!
//! Never does I/O itself: the shell's hook reads files and reports back; here only the decisions and
//! the wire texts live.

use crate::client::{ConnInfo, ConnKind};
use crate::commands::server_cmds::is_local_client;
use crate::config::Config;
use crate::server::Server;

/// Applies configuration the shell acts on, after `CONFIG SET` stored new values. Given the current
/// configuration and the names of the parameters set (changed or not); an error names the parameter to blame
/// and the reason, and makes `CONFIG SET` restore the previous values.
pub type ConfigApplier = Box<dyn FnMut(&Config, &[&'static str]) -> Result<(), (&'static str, String)> + Send>;

/// The reply to a connection protected mode refuses, sent before closing it. It is the reference
/// server's exact wire text: clients and operators match on it.
pub const PROTECTED_MODE_DENIED: &str = "-DENIED Redis is running in protected mode because protected mode is enabled \
and no password is set for the default user. In this mode connections are only accepted from the loopback interface. \
If you want to connect from external computers to Redis you may adopt one of the following solutions: \
1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by \
connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible \
from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable \
the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then \
restarting the server. 3) If you started the server manually just for testing, restart it with the \
'--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to \
do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/// Why a `rename-command` line was refused, in the reference server's words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RenameError {
    NoSuchCommand,
    TargetExists,
}

impl RenameError {
    /// The reason the config loader prints.
    pub fn reason(&self) -> &'static str {
        match self {
            RenameError::NoSuchCommand => "No such command in rename-command",
            RenameError::TargetExists => "Target command name already exists",
        }
    }
}

impl Server {
    /// True when protected mode refuses a new connection: it is on, no password is set, and the peer is
    /// a TCP client whose address is not exactly the IPv4 or IPv6 loopback address.
    pub fn protected_mode_denies(&self, info: &ConnInfo) -> bool {
        // As the reference: what matters is whether the default user needs no password (`requirepass`
        // or `ACL SETUSER default >...` both give it one).
        let password_set = !self.acl.default_user().is_some_and(|u| u.nopass);
        self.config.get_bool("protected-mode") && !password_set && info.kind == ConnKind::Tcp && !is_local_client(info)
    }

    /// Renames command `from` to `to` (`to` empty: the command is removed), as the configuration
    /// file's `rename-command` does. Names are case-insensitive.
    pub fn rename_command(&mut self, from: &str, to: &str) -> Result<(), RenameError> {
        self.registry.rename(from, to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::ProcessInfo;

    fn server(config: Config) -> Server {
        Server::new(config, 1, 0, ProcessInfo::default())
    }

    fn tcp(addr: &str) -> ConnInfo {
        ConnInfo {
            addr: addr.into(),
            laddr: "0.0.0.0:6379".into(),
            fd: 8,
            kind: ConnKind::Tcp,
        }
    }

    #[test]
    fn protected_mode_refuses_only_remote_peers_without_password() {
        let s = server(Config::default());
        assert!(s.protected_mode_denies(&tcp("10.1.2.3:5000")));
        assert!(s.protected_mode_denies(&tcp("127.0.0.2:5000")));
        assert!(!s.protected_mode_denies(&tcp("127.0.0.1:5000")));
        assert!(!s.protected_mode_denies(&tcp("[::1]:5000")));
        let mut unix = tcp("/tmp/keel.sock:0");
        unix.kind = ConnKind::Unix;
        assert!(!s.protected_mode_denies(&unix));

        let mut c = Config::default();
        c.set_startup("requirepass", "secret").unwrap();
        assert!(!server(c).protected_mode_denies(&tcp("10.1.2.3:5000")));
        let mut c = Config::default();
        c.set_startup("protected-mode", "no").unwrap();
        assert!(!server(c).protected_mode_denies(&tcp("10.1.2.3:5000")));
    }

    #[test]
    fn rename_and_disable() {
        let mut s = server(Config::default());
        assert_eq!(s.rename_command("nosuch", "x"), Err(RenameError::NoSuchCommand));
        assert_eq!(s.rename_command("GET", "set"), Err(RenameError::TargetExists));
        s.rename_command("DBSIZE", "mydbsize").unwrap();
        assert!(s.registry.get(b"dbsize").is_none());
        assert_eq!(s.registry.get(b"MYDBSIZE").map(|e| e.spec.name), Some("dbsize"));
        s.rename_command("flushall", "").unwrap();
        assert!(s.registry.get(b"flushall").is_none());
        assert_eq!(s.rename_command("flushall", "x"), Err(RenameError::NoSuchCommand));
    }
}
