//! Command dispatch: the registry of handlers, the per-command context, and the one place where typed
//! command errors become error replies.
//!
//! Owns name lookup, arity checks, unknown-command and unknown-subcommand replies, and the handler
//! signature. Each family module (`strings`, `keys`, ...) registers its handlers and owns their behaviour.
//! Nothing here performs I/O; handlers write replies into the output buffer and push effects.

pub mod acl;
pub mod aof;
pub mod blocking;
pub mod connection;
pub mod debug;
pub mod dump;
pub mod error;
pub mod expiry;
pub mod hashes;
pub mod keys;
pub mod lists;
pub mod module;
pub mod persistence;
pub mod server_cmds;
pub mod sets;
pub mod sort;
pub mod spec;
pub mod spec_data;
pub mod strings;
pub mod transactions;
pub mod zsets;

use std::cell::Cell;
use std::hash::{BuildHasherDefault, Hash, Hasher};

use bytes::Bytes;
use hashbrown::{Equivalent, HashMap};

use crate::client::ClientState;
use crate::resp::Reply;
use crate::server::Server;
pub use error::CommandError;
use spec::CommandSpec;

/// The result of one handler.
pub type CmdResult = Result<(), CommandError>;

/// A command handler.
pub type Handler = fn(&mut Ctx<'_>) -> CmdResult;

/// Everything a handler may touch while it runs.
pub struct Ctx<'a> {
    /// The server state (databases, config, stats, other clients).
    pub server: &'a mut Server,
    /// The client whose command runs.
    pub client: &'a mut ClientState,
    /// Where the reply goes.
    pub reply: Reply<'a>,
    /// The command's arguments, the name first.
    pub argv: &'a [Bytes],
    /// Current Unix time in milliseconds and microseconds (an input, never read from a clock here).
    pub now_ms: i64,
    pub now_us: i64,
    /// Set by commands that end the connection once their reply is written (QUIT).
    pub close_after_reply: bool,
}

impl Ctx<'_> {
    /// Argument `i` (0 is the command name).
    pub fn arg(&self, i: usize) -> &[u8] {
        &self.argv[i]
    }

    /// Number of arguments including the name.
    pub fn argc(&self) -> usize {
        self.argv.len()
    }

    /// The database the client has selected.
    pub fn db(&mut self) -> &mut crate::keyspace::Db {
        &mut self.server.dbs[self.client.db]
    }

    /// Argument `i` parsed as a strict integer.
    pub fn arg_i64(&self, i: usize) -> Result<i64, CommandError> {
        crate::types::number::parse_i64(self.arg(i)).ok_or(CommandError::NotInteger)
    }

    /// The access stamp for an entry created now (LRU second or LFU counter, by policy).
    pub fn access_stamp(&self) -> u32 {
        self.server.new_access_stamp(self.now_ms)
    }
}

/// A registered command: its spec and handler, and its subcommands if it is a container.
pub struct Entry {
    pub spec: &'static CommandSpec,
    pub handler: Option<Handler>,
    pub subcommands: Vec<(&'static CommandSpec, Handler)>,
}

/// Name → command, for the commands keel implements.
#[derive(Default)]
pub struct Registry {
    /// Keyed by lower-case name: the recorded one, or the one `rename-command` gave. Every command
    /// looks its name up here, so names are packed into integers ([`NameKey`]) and hashed with
    /// [`NameHasher`] rather than compared and hashed as byte strings.
    commands: HashMap<NameKey, Entry, BuildHasherDefault<NameHasher>>,
    /// The last plain command (no subcommands) [`Registry::lookup`] resolved. Clients mostly repeat a
    /// command (pipelines of SET, of GET...), so a hit costs two compares instead of a hash and a
    /// probe. Only `&self` methods read it; every `&mut self` method that changes `commands` clears it.
    last: Cell<Option<LastHit>>,
}

/// A cached [`Registry::lookup`] result: the packed lower-case name and what it resolves to.
#[derive(Clone, Copy)]
struct LastHit {
    name: u128,
    len: u8,
    spec: &'static CommandSpec,
    handler: Handler,
}

/// Longest name packed into a [`NameKey::Short`]; every recorded command name fits.
const SHORT_NAME: usize = 16;

/// A lower-case command name as a map key: up to [`SHORT_NAME`] bytes packed (zero-padded,
/// little-endian) with their length, longer ones (only renamed commands) as bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
enum NameKey {
    Short(u128, u8),
    Long(Box<[u8]>),
}

/// The borrowed form of [`NameKey`] a lookup builds without allocating; hashes identically.
enum NameRef<'a> {
    Short(u128, u8),
    Long(&'a [u8]),
}

impl NameKey {
    /// The key of `name`, lower-cased.
    fn of(name: &[u8]) -> NameKey {
        match NameRef::lowered(name, &mut Vec::new()) {
            NameRef::Short(w, n) => NameKey::Short(w, n),
            NameRef::Long(bytes) => NameKey::Long(bytes.into()),
        }
    }
}

impl<'a> NameRef<'a> {
    /// The lower-cased key of `name`; a long name is lower-cased into `scratch`.
    fn lowered(name: &[u8], scratch: &'a mut Vec<u8>) -> NameRef<'a> {
        if name.len() > SHORT_NAME {
            scratch.clear();
            scratch.extend(name.iter().map(u8::to_ascii_lowercase));
            return NameRef::Long(scratch);
        }
        let (packed, len) = pack_short(name);
        NameRef::Short(packed, len)
    }
}

/// A name of at most [`SHORT_NAME`] bytes, lower-cased and packed (zero-padded, little-endian), with its
/// length.
#[inline]
fn pack_short(name: &[u8]) -> (u128, u8) {
    let mut packed = [0u8; SHORT_NAME];
    for (d, s) in packed.iter_mut().zip(name) {
        *d = s.to_ascii_lowercase();
    }
    (u128::from_le_bytes(packed), name.len() as u8)
}

impl Hash for NameKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            NameKey::Short(w, n) => NameRef::Short(*w, *n).hash(state),
            NameKey::Long(bytes) => NameRef::Long(bytes).hash(state),
        }
    }
}

impl Hash for NameRef<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            NameRef::Short(w, n) => {
                state.write_u64(*w as u64 ^ u64::from(*n));
                state.write_u64((*w >> 64) as u64);
            }
            NameRef::Long(bytes) => state.write(bytes),
        }
    }
}

impl Equivalent<NameKey> for NameRef<'_> {
    fn equivalent(&self, key: &NameKey) -> bool {
        match (self, key) {
            (NameRef::Short(w, n), NameKey::Short(kw, kn)) => w == kw && n == kn,
            (NameRef::Long(bytes), NameKey::Long(k)) => *bytes == &**k,
            _ => false,
        }
    }
}

/// Builds [`NameHasher`]s (for maps keyed by short names known at start-up).
pub type NameHashBuilder = BuildHasherDefault<NameHasher>;

/// A hasher for command names: multiply-rotate over 8-byte words (names are short, known at start-up
/// or renamed by the operator, so flooding resistance is not needed, and this costs a few instructions
/// per name instead of a keyed hash's setup and rounds).
#[derive(Default)]
pub struct NameHasher(u64);

impl NameHasher {
    const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(Self::SEED);
    }
}

impl Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        self.add(u64::from_le_bytes(w) ^ bytes.len() as u64);
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// What dispatch found for an argument vector.
pub enum Lookup {
    Found(&'static CommandSpec, Handler),
    UnknownCommand,
    UnknownSubcommand(&'static CommandSpec),
    WrongArity(&'static CommandSpec),
}

/// The spec of command `name` (`container|sub` for subcommands) in the recorded table.
pub fn find_spec(name: &str) -> Option<&'static CommandSpec> {
    match name.split_once('|') {
        None => spec_data::COMMANDS.iter().find(|c| c.name == name),
        Some((container, _)) => spec_data::COMMANDS
            .iter()
            .find(|c| c.name == container)?
            .subcommands
            .iter()
            .find(|s| s.name == name),
    }
}

impl Registry {
    /// The registry with every family's handlers.
    pub fn new() -> Registry {
        let mut r = Registry::default();
        connection::register(&mut r);
        strings::register(&mut r);
        keys::register(&mut r);
        expiry::register(&mut r);
        server_cmds::register(&mut r);
        lists::register(&mut r);
        hashes::register(&mut r);
        sets::register(&mut r);
        zsets::register(&mut r);
        sort::register(&mut r);
        transactions::register(&mut r);
        blocking::register(&mut r);
        debug::register(&mut r);
        module::register(&mut r);
        acl::register(&mut r);
        aof::register(&mut r);
        persistence::register(&mut r);
        dump::register(&mut r);
        r
    }

    /// Registers `handler` for command `name` (`container|sub` for a subcommand). Panics at start-up if the
    /// name is not in the recorded table: that is a programming error, not input.
    pub fn add(&mut self, name: &'static str, handler: Handler) {
        self.last.set(None);
        let spec = find_spec(name).unwrap_or_else(|| panic!("no recorded spec for command {name}"));
        match name.split_once('|') {
            None => {
                self.commands
                    .entry(NameKey::of(spec.name.as_bytes()))
                    .or_insert_with(|| Entry {
                        spec,
                        handler: None,
                        subcommands: Vec::new(),
                    })
                    .handler = Some(handler);
            }
            Some((container, _)) => {
                let parent = find_spec(container).unwrap_or_else(|| panic!("no spec for {container}"));
                self.commands
                    .entry(NameKey::of(parent.name.as_bytes()))
                    .or_insert_with(|| Entry {
                        spec: parent,
                        handler: None,
                        subcommands: Vec::new(),
                    })
                    .subcommands
                    .push((spec, handler));
            }
        }
    }

    /// The entry for a command name, case-insensitively.
    pub fn get(&self, name: &[u8]) -> Option<&Entry> {
        if name.len() > SHORT_NAME {
            return self.get_long(name);
        }
        self.commands.get(&NameRef::lowered(name, &mut Vec::new()))
    }

    /// [`Registry::get`] for names too long to pack (only renamed commands have such names).
    #[cold]
    fn get_long(&self, name: &[u8]) -> Option<&Entry> {
        let mut scratch = Vec::new();
        self.commands.get(&NameRef::lowered(name, &mut scratch))
    }

    /// Moves command `from` to the name `to`, or removes it when `to` is empty (`rename-command`).
    pub fn rename(&mut self, from: &str, to: &str) -> Result<(), crate::netsec::RenameError> {
        use crate::netsec::RenameError;
        self.last.set(None);
        let from = NameKey::of(from.as_bytes());
        let to_key = NameKey::of(to.as_bytes());
        if !self.commands.contains_key(&from) {
            return Err(RenameError::NoSuchCommand);
        }
        if !to.is_empty() && to_key != from && self.commands.contains_key(&to_key) {
            return Err(RenameError::TargetExists);
        }
        if let Some(entry) = self.commands.remove(&from) {
            if !to.is_empty() {
                self.commands.insert(to_key, entry);
            }
        }
        Ok(())
    }

    /// Every implemented command, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.commands.values()
    }

    /// Number of implemented top-level commands.
    pub fn len(&self) -> usize {
        self.commands.len()
    }

    /// True when nothing is registered.
    pub fn is_empty(&self) -> bool {
        self.commands.is_empty()
    }

    /// Resolves an argument vector to a spec and handler, or the reason it cannot run.
    pub fn lookup(&self, argv: &[Bytes]) -> Lookup {
        let name = &argv[0];
        let entry = if name.len() > SHORT_NAME {
            self.get_long(name)
        } else {
            let (packed, len) = pack_short(name);
            if let Some(hit) = self.last.get().filter(|h| h.name == packed && h.len == len) {
                return if hit.spec.arity_ok(argv.len()) {
                    Lookup::Found(hit.spec, hit.handler)
                } else {
                    Lookup::WrongArity(hit.spec)
                };
            }
            let entry = self.commands.get(&NameRef::Short(packed, len));
            if let Some(e) = entry.filter(|e| e.subcommands.is_empty() && e.spec.subcommands.is_empty()) {
                if let Some(handler) = e.handler {
                    self.last.set(Some(LastHit {
                        name: packed,
                        len,
                        spec: e.spec,
                        handler,
                    }));
                }
            }
            entry
        };
        let Some(entry) = entry else {
            return Lookup::UnknownCommand;
        };
        if !entry.subcommands.is_empty() || !entry.spec.subcommands.is_empty() {
            if argv.len() < 2 {
                // A container with a handler of its own (COMMAND) also runs without a subcommand.
                if let Some(h) = entry.handler.filter(|_| entry.spec.arity_ok(argv.len())) {
                    return Lookup::Found(entry.spec, h);
                }
                return Lookup::WrongArity(entry.spec);
            }
            let found = entry.subcommands.iter().find(|(spec, _)| {
                let short = spec.name.rsplit('|').next().unwrap_or(spec.name);
                short.as_bytes().eq_ignore_ascii_case(&argv[1])
            });
            return match found {
                Some((spec, handler)) if spec.arity_ok(argv.len()) => Lookup::Found(spec, *handler),
                Some((spec, _)) => Lookup::WrongArity(spec),
                None => Lookup::UnknownSubcommand(entry.spec),
            };
        }
        match entry.handler {
            Some(h) if entry.spec.arity_ok(argv.len()) => Lookup::Found(entry.spec, h),
            Some(_) => Lookup::WrongArity(entry.spec),
            None => Lookup::UnknownCommand,
        }
    }
}

/// The reply for an unknown command: its name and up to 128 bytes of its arguments, quoted.
pub fn unknown_command_message(argv: &[Bytes]) -> Vec<u8> {
    let mut args: Vec<u8> = Vec::new();
    for a in &argv[1..] {
        if args.len() >= 128 {
            break;
        }
        let room = 128 - args.len();
        args.push(b'\'');
        args.extend_from_slice(&c_str(a)[..c_str(a).len().min(room)]);
        args.extend_from_slice(b"' ");
    }
    let name = c_str(&argv[0]);
    let mut msg = b"ERR unknown command '".to_vec();
    msg.extend_from_slice(&name[..name.len().min(128)]);
    msg.extend_from_slice(b"', with args beginning with: ");
    msg.extend_from_slice(&args);
    msg
}

/// The reply for an unknown subcommand of `container`.
pub fn unknown_subcommand_message(container: &CommandSpec, sub: &[u8]) -> Vec<u8> {
    let sub = c_str(sub);
    let mut msg = b"ERR unknown subcommand '".to_vec();
    msg.extend_from_slice(&sub[..sub.len().min(128)]);
    msg.extend_from_slice(b"'. Try ");
    msg.extend_from_slice(container.name.to_ascii_uppercase().as_bytes());
    msg.extend_from_slice(b" HELP.");
    msg
}

/// Arguments are echoed in errors as C strings: up to the first NUL byte.
fn c_str(bytes: &[u8]) -> &[u8] {
    match bytes.iter().position(|&b| b == 0) {
        Some(p) => &bytes[..p],
        None => bytes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name_of(r: &Registry, name: &[u8]) -> Option<&'static str> {
        r.get(name).map(|e| e.spec.name)
    }

    #[test]
    fn names_match_case_insensitively_and_exactly() {
        let r = Registry::new();
        assert_eq!(name_of(&r, b"GET"), Some("get"));
        assert_eq!(name_of(&r, b"gEt"), Some("get"));
        assert_eq!(name_of(&r, b"ZRANGEBYSCORE"), Some("zrangebyscore"));
        // Padding, prefixes and non-ASCII never match a shorter or longer name.
        assert_eq!(name_of(&r, b"get\0"), None);
        assert_eq!(name_of(&r, b"ge"), None);
        assert_eq!(name_of(&r, b""), None);
        assert_eq!(name_of(&r, b"g\xc3\x89t"), None);
        assert_eq!(name_of(&r, &[b'x'; 40]), None);
    }

    #[test]
    fn renamed_commands_of_any_length_are_found() {
        let mut r = Registry::new();
        let long = "a-renamed-command-name-longer-than-thirty-two-bytes";
        r.rename("get", long).unwrap();
        assert_eq!(name_of(&r, b"get"), None);
        assert_eq!(name_of(&r, long.to_ascii_uppercase().as_bytes()), Some("get"));
        r.rename("set", "sixteen-bytes-ok").unwrap();
        assert_eq!(name_of(&r, b"SIXTEEN-BYTES-OK"), Some("set"));
        assert_eq!(
            r.rename("sixteen-bytes-ok", long),
            Err(crate::netsec::RenameError::TargetExists)
        );
        r.rename("del", "").unwrap();
        assert_eq!(name_of(&r, b"del"), None);
        assert_eq!(r.rename("del", "x"), Err(crate::netsec::RenameError::NoSuchCommand));
    }
}
