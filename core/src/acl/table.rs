//! The command table ACL rules refer to: every command and subcommand of the recorded reference table
//! (implemented by keel or not), each with a numeric id, and the ACL categories.
//!
//! Owns name → id lookup, category membership and the category list in the reference server's order.
//! Built once from `commands::spec_data`; it never changes at run time and never runs a command.

use std::sync::OnceLock;

use crate::commands::spec::CommandSpec;
use crate::commands::spec_data::COMMANDS;

/// The ACL categories, in the order `ACL CAT` lists them and rule descriptions try them.
pub const CATEGORIES: &[&str] = &[
    "keyspace",
    "read",
    "write",
    "set",
    "sortedset",
    "list",
    "hash",
    "string",
    "bitmap",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "admin",
    "fast",
    "slow",
    "blocking",
    "dangerous",
    "connection",
    "transaction",
    "scripting",
];

/// The index of a category name (without `@`, any case) in [`CATEGORIES`].
pub fn category_index(name: &[u8]) -> Option<usize> {
    CATEGORIES.iter().position(|c| c.as_bytes().eq_ignore_ascii_case(name))
}

/// One command or subcommand of the table.
pub struct TableEntry {
    pub spec: &'static CommandSpec,
    /// The container's id, for a subcommand.
    pub parent: Option<usize>,
    /// The subcommands' ids, for a container.
    pub children: Vec<usize>,
    /// Bit `i` set when the command is in `CATEGORIES[i]`.
    pub categories: u32,
}

/// Every command and subcommand, a container followed by its subcommands, in recorded order. A
/// command's id is its index.
pub struct Table {
    pub entries: Vec<TableEntry>,
    /// Full lower-case name (`container|sub` for subcommands) → id.
    by_name: hashbrown::HashMap<&'static str, usize>,
}

impl Table {
    fn build() -> Table {
        let mut entries = Vec::new();
        for spec in COMMANDS {
            let id = entries.len();
            entries.push(TableEntry {
                spec,
                parent: None,
                children: Vec::new(),
                categories: categories_of(spec),
            });
            for sub in spec.subcommands {
                let sub_id = entries.len();
                entries.push(TableEntry {
                    spec: sub,
                    parent: Some(id),
                    children: Vec::new(),
                    categories: categories_of(sub),
                });
                entries[id].children.push(sub_id);
            }
        }
        let by_name = entries.iter().enumerate().map(|(i, e)| (e.spec.name, i)).collect();
        Table { entries, by_name }
    }

    /// Number of commands and subcommands.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the table is empty (never, with a recorded table).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The id of a command by name, any case: `name` or `container|sub`. More than one `|`, or a
    /// subcommand of a command without subcommands, finds nothing.
    pub fn lookup(&self, name: &[u8]) -> Option<usize> {
        let mut parts = name.split(|&b| b == b'|');
        let first = parts.next()?;
        let second = parts.next();
        if parts.next().is_some() {
            return None;
        }
        let top = self.find_top(first)?;
        match second {
            None => Some(top),
            Some(sub) => self.entries[top].children.iter().copied().find(|&c| {
                let full = self.entries[c].spec.name;
                let short = full.rsplit('|').next().unwrap_or(full);
                short.as_bytes().eq_ignore_ascii_case(sub)
            }),
        }
    }

    /// The id of a top-level command by name, any case.
    fn find_top(&self, name: &[u8]) -> Option<usize> {
        let lower = std::str::from_utf8(name).ok()?.to_ascii_lowercase();
        self.by_name
            .get(lower.as_str())
            .copied()
            .filter(|&i| self.entries[i].parent.is_none())
    }

    /// The id of a spec found by dispatch.
    pub fn id_of(&self, spec: &CommandSpec) -> Option<usize> {
        self.by_name.get(spec.name).copied()
    }

    /// The ids of the top-level commands.
    pub fn top_level(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.entries.len()).filter(|&i| self.entries[i].parent.is_none())
    }
}

/// The category bits of a recorded spec.
fn categories_of(spec: &CommandSpec) -> u32 {
    spec.acl_categories
        .iter()
        .filter_map(|c| category_index(c.trim_start_matches('@').as_bytes()))
        .fold(0, |bits, i| bits | (1 << i))
}

/// The table, built on first use.
pub fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(Table::build)
}
