//! Command metadata: arity, flags, key positions, ACL categories, tips, key specs and subcommands.
//!
//! Owns the declarative description of every command, read by dispatch (arity), `COMMAND INFO`,
//! `COMMAND GETKEYS`, `COMMAND DOCS` and, later, ACL categories and cluster key extraction. The values
//! are recorded from the reference server's `COMMAND INFO` and `COMMAND DOCS` replies (see
//! `spec_data.rs`); nothing here executes a command.

/// Where a key spec's search for keys begins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BeginSearch {
    /// At a fixed argument index.
    Index(i32),
    /// After the first (or, with negative `start_from`, last) occurrence of a keyword.
    Keyword { keyword: &'static str, start_from: i32 },
    /// Decided by the command itself.
    Unknown,
}

/// How a key spec finds keys from where its search began.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FindKeys {
    /// A range: `last_key` relative index (negative counts from the end), `step`, `limit`.
    Range { last_key: i32, step: i32, limit: i32 },
    /// The number of keys is itself an argument.
    Keynum { keynum_idx: i32, first_key: i32, step: i32 },
    /// Decided by the command itself.
    Unknown,
}

/// One key spec of a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeySpec {
    /// Optional notes recorded with the spec (empty when none).
    pub notes: &'static str,
    /// Flags such as `RW`, `access`, `update`.
    pub flags: &'static [&'static str],
    pub begin_search: BeginSearch,
    pub find_keys: FindKeys,
}

/// A command or subcommand's static description.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandSpec {
    /// Lower-case name; subcommands are `container|sub`.
    pub name: &'static str,
    /// Arity: positive means exact, negative means at least `-arity` (the name counts).
    pub arity: i32,
    pub flags: &'static [&'static str],
    pub first_key: i32,
    pub last_key: i32,
    pub step: i32,
    /// ACL categories, with their `@`.
    pub acl_categories: &'static [&'static str],
    pub tips: &'static [&'static str],
    pub key_specs: &'static [KeySpec],
    pub subcommands: &'static [CommandSpec],
    /// `COMMAND DOCS` group (`string`, `generic`, ...).
    pub group: &'static str,
    /// `COMMAND DOCS` version the command appeared in.
    pub since: &'static str,
}

impl CommandSpec {
    /// True when `argc` (including the name) satisfies the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let argc = argc as i64;
        let arity = self.arity as i64;
        if arity >= 0 {
            argc == arity
        } else {
            argc >= -arity
        }
    }

    /// True when the spec carries `flag` (e.g. `write`, `readonly`, `noscript`).
    pub fn has_flag(&self, flag: &str) -> bool {
        self.flags.contains(&flag)
    }

    /// The subcommand named `sub` (case-insensitive), if any.
    pub fn subcommand(&self, sub: &[u8]) -> Option<&'static CommandSpec> {
        self.subcommands.iter().find(|s| {
            let short = s.name.rsplit('|').next().unwrap_or(s.name);
            short.as_bytes().eq_ignore_ascii_case(sub)
        })
    }
}
