//! A selector: one set of command, key and channel permissions of a user, the rules that change it, and
//! its description in rule form.
//!
//! Owns the rule grammar for commands (`+cmd`, `-@cat`, `+cmd|first-arg`, `allcommands`...), keys (`~p`,
//! `%R~p`, `allkeys`...) and channels (`&p`, `allchannels`...), the permission check of one command
//! against one selector, and the rule string `ACL LIST` shows, derived from the permission bits the way
//! the reference server derives it. Users (passwords, flags, several selectors) live in `user`.

use super::table::{table, Table, CATEGORIES};
use crate::glob::glob_match;

/// Why a rule could not be applied; the texts are the reference server's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleError {
    /// An unknown command or category.
    UnknownName,
    /// A malformed rule.
    Syntax,
    /// A key pattern after `allkeys`.
    AfterAllKeys,
    /// A channel pattern after `allchannels`.
    AfterAllChannels,
    /// `<pass` or `!hash` naming a password the user does not have.
    NoSuchPassword,
    /// `#hash` / `!hash` not 64 lower-case hex digits.
    BadHash,
    /// A user defined twice in a configuration source.
    Duplicate,
    /// `+container|sub|arg`.
    SubcommandFirstArg,
}

impl RuleError {
    /// The explanation the reference server gives.
    pub fn text(self) -> &'static str {
        match self {
            RuleError::UnknownName => "Unknown command or category name in ACL",
            RuleError::Syntax => "Syntax error",
            RuleError::AfterAllKeys => {
                "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have \
                 any effect. Try 'resetkeys' to start with an empty list of patterns"
            }
            RuleError::AfterAllChannels => {
                "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not \
                 have any effect. Try 'resetchannels' to start with an empty list of channels"
            }
            RuleError::NoSuchPassword => "The password you are trying to remove from the user does not exist",
            RuleError::BadHash => {
                "The password hash must be exactly 64 characters and contain only lowercase hexadecimal \
                 characters"
            }
            RuleError::Duplicate => "Duplicate user found. A user can only be defined once in config files",
            RuleError::SubcommandFirstArg => "Allowing first-arg of a subcommand is not supported",
        }
    }
}

/// Read permission on a key pattern.
pub const KEY_READ: u8 = 1;
/// Write permission on a key pattern.
pub const KEY_WRITE: u8 = 2;
/// Both.
pub const KEY_ALL: u8 = KEY_READ | KEY_WRITE;

/// A key pattern with the access it grants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPattern {
    pub flags: u8,
    pub pattern: Vec<u8>,
}

impl KeyPattern {
    /// The pattern in rule form: `~p`, `%R~p` or `%W~p`.
    pub fn describe(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(match self.flags {
            KEY_READ => b"%R~".as_slice(),
            KEY_WRITE => b"%W~",
            _ => b"~",
        });
        out.extend_from_slice(&self.pattern);
    }
}

/// Why a command was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Denial {
    /// The command itself (ranked lowest when selectors disagree).
    Command,
    /// The key at this argument index.
    Key(usize),
    /// The channel at this argument index.
    Channel(usize),
}

impl Denial {
    /// Rank used to pick one denial among several selectors' (reference order: command < key < channel).
    fn rank(self) -> (u8, usize) {
        match self {
            Denial::Command => (1, 0),
            Denial::Key(i) => (2, i),
            Denial::Channel(i) => (4, i),
        }
    }

    /// The more relevant of two denials.
    pub fn most_relevant(self, other: Denial) -> Denial {
        let (a, b) = (self.rank(), other.rank());
        if b.0 > a.0 || (b.0 == a.0 && b.1 > a.1) {
            other
        } else {
            self
        }
    }
}

/// What a command needs checked: its table id, whether it runs without authentication, the positions and
/// access of its keys, and its channels.
pub struct Request<'a> {
    pub id: usize,
    pub no_auth: bool,
    pub argv: &'a [bytes::Bytes],
    /// `(argument index, needs read, needs write)` for every key.
    pub keys: &'a [(usize, u8)],
    /// `(argument index, literal)` for every channel (`literal` for pattern subscriptions).
    pub channels: &'a [(usize, bool)],
}

/// One selector of a user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selector {
    /// One bit per command id of the table.
    allowed: Vec<u64>,
    /// Set only by `+@all`: commands added in the future are allowed too.
    future: bool,
    /// Set by `+@all` and cleared by any removal: skips the per-command check.
    all_commands: bool,
    /// First arguments allowed for commands otherwise denied (`+select|0`), by command id.
    firstargs: Vec<(usize, Vec<Vec<u8>>)>,
    pub keys: Vec<KeyPattern>,
    pub all_keys: bool,
    pub channels: Vec<Vec<u8>>,
    pub all_channels: bool,
}

impl Default for Selector {
    fn default() -> Selector {
        Selector::new()
    }
}

impl Selector {
    /// A selector that allows nothing.
    pub fn new() -> Selector {
        Selector {
            allowed: vec![0; table().len().div_ceil(64)],
            future: false,
            all_commands: false,
            firstargs: Vec::new(),
            keys: Vec::new(),
            all_keys: false,
            channels: Vec::new(),
            all_channels: false,
        }
    }

    /// True when the selector allows every command, key and channel (the default user's usual state).
    pub fn allows_everything(&self) -> bool {
        self.all_commands && self.all_keys && self.all_channels
    }

    fn bit(&self, id: usize) -> bool {
        self.allowed[id / 64] & (1 << (id % 64)) != 0
    }

    fn set_bit(&mut self, id: usize, on: bool) {
        if on {
            self.allowed[id / 64] |= 1 << (id % 64);
        } else {
            self.allowed[id / 64] &= !(1 << (id % 64));
            self.all_commands = false;
        }
    }

    /// Allows or denies a command and, for a container, all its subcommands.
    fn change_perm(&mut self, t: &Table, id: usize, allow: bool) {
        self.set_bit(id, allow);
        self.firstargs.retain(|(c, _)| *c != id);
        for &sub in &t.entries[id].children {
            self.set_bit(sub, allow);
        }
    }

    /// Allows or denies every command (and subcommand) in category `cat`.
    fn change_category(&mut self, t: &Table, cat: usize, allow: bool) {
        for id in 0..t.len() {
            if t.entries[id].categories & (1 << cat) != 0 {
                self.change_perm(t, id, allow);
            }
        }
    }

    fn set_all(&mut self, allow: bool) {
        let fill = if allow { u64::MAX } else { 0 };
        self.allowed.iter_mut().for_each(|w| *w = fill);
        self.future = allow;
        self.all_commands = allow;
        self.firstargs.clear();
    }

    /// Applies one rule.
    pub fn apply(&mut self, op: &[u8]) -> Result<(), RuleError> {
        let t = table();
        let is = |word: &str| op.eq_ignore_ascii_case(word.as_bytes());
        if is("allkeys") || op == b"~*" {
            self.all_keys = true;
            self.keys.clear();
        } else if is("resetkeys") {
            self.all_keys = false;
            self.keys.clear();
        } else if is("allchannels") || op == b"&*" {
            self.all_channels = true;
            self.channels.clear();
        } else if is("resetchannels") {
            self.all_channels = false;
            self.channels.clear();
        } else if is("allcommands") || is("+@all") {
            self.set_all(true);
        } else if is("nocommands") || is("-@all") {
            self.set_all(false);
        } else if op.first() == Some(&b'~') || op.first() == Some(&b'%') {
            self.add_key_pattern(op)?;
        } else if op.first() == Some(&b'&') {
            if self.all_channels {
                return Err(RuleError::AfterAllChannels);
            }
            let pattern = &op[1..];
            if has_spaces(pattern) {
                return Err(RuleError::Syntax);
            }
            if !self.channels.iter().any(|c| c == pattern) {
                self.channels.push(pattern.to_vec());
            }
            self.all_channels = false;
        } else if op.len() >= 2 && (op[0] == b'+' || op[0] == b'-') && op[1] == b'@' {
            let cat = super::table::category_index(&op[2..]).ok_or(RuleError::UnknownName)?;
            self.change_category(t, cat, op[0] == b'+');
        } else if op.first() == Some(&b'+') {
            self.allow_command(t, &op[1..])?;
        } else if op.first() == Some(&b'-') {
            let id = t.lookup(&op[1..]).ok_or(RuleError::UnknownName)?;
            self.change_perm(t, id, false);
        } else {
            return Err(RuleError::Syntax);
        }
        Ok(())
    }

    /// `+name`, `+container|sub` or `+command|first-arg`.
    fn allow_command(&mut self, t: &Table, name: &[u8]) -> Result<(), RuleError> {
        let Some(bar) = name.iter().rposition(|&b| b == b'|') else {
            let id = t.lookup(name).ok_or(RuleError::UnknownName)?;
            self.change_perm(t, id, true);
            return Ok(());
        };
        let (base, sub) = (&name[..bar], &name[bar + 1..]);
        let id = t.lookup(base).ok_or(RuleError::UnknownName)?;
        if t.entries[id].parent.is_some() {
            return Err(RuleError::SubcommandFirstArg);
        }
        if sub.is_empty() {
            return Err(RuleError::Syntax);
        }
        if !t.entries[id].children.is_empty() {
            let sub_id = t.lookup(name).ok_or(RuleError::UnknownName)?;
            self.change_perm(t, sub_id, true);
        } else {
            match self.firstargs.iter_mut().find(|(c, _)| *c == id) {
                Some((_, args)) => {
                    if !args.iter().any(|a| a.eq_ignore_ascii_case(sub)) {
                        args.push(sub.to_vec());
                    }
                }
                None => self.firstargs.push((id, vec![sub.to_vec()])),
            }
        }
        Ok(())
    }

    /// `~pattern`, `%R~pattern`, `%W~pattern`, `%RW~pattern`.
    fn add_key_pattern(&mut self, op: &[u8]) -> Result<(), RuleError> {
        if self.all_keys {
            return Err(RuleError::AfterAllKeys);
        }
        let mut flags = 0;
        let mut offset = 1;
        if op[0] == b'%' {
            loop {
                match op.get(offset).map(u8::to_ascii_uppercase) {
                    Some(b'R') if flags & KEY_READ == 0 => flags |= KEY_READ,
                    Some(b'W') if flags & KEY_WRITE == 0 => flags |= KEY_WRITE,
                    Some(b'~') => {
                        offset += 1;
                        break;
                    }
                    // The reference stops at the end of the rule without a `~` and takes what follows
                    // (nothing) as the pattern.
                    None => break,
                    Some(_) => return Err(RuleError::Syntax),
                }
                offset += 1;
            }
            if flags == 0 {
                return Err(RuleError::Syntax);
            }
        } else {
            flags = KEY_ALL;
        }
        let pattern = &op[offset.min(op.len())..];
        if has_spaces(pattern) {
            return Err(RuleError::Syntax);
        }
        match self.keys.iter_mut().find(|k| k.pattern == pattern) {
            Some(existing) => existing.flags |= flags,
            None => self.keys.push(KeyPattern {
                flags,
                pattern: pattern.to_vec(),
            }),
        }
        self.all_keys = false;
        Ok(())
    }

    /// Checks one command against this selector.
    pub fn check(&self, req: &Request<'_>) -> Result<(), Denial> {
        if !self.all_commands && !req.no_auth && !self.bit(req.id) {
            let t = table();
            let idx = if t.entries[req.id].parent.is_some() { 2 } else { 1 };
            let allowed_arg = self
                .firstargs
                .iter()
                .find(|(c, _)| *c == req.id)
                .zip(req.argv.get(idx))
                .is_some_and(|((_, args), arg)| args.iter().any(|a| a.eq_ignore_ascii_case(arg)));
            if !allowed_arg {
                return Err(Denial::Command);
            }
        }
        if !self.all_keys {
            for &(pos, need) in req.keys {
                if !self.key_allowed(&req.argv[pos], need) {
                    return Err(Denial::Key(pos));
                }
            }
        }
        if !self.all_channels {
            for &(pos, literal) in req.channels {
                if !self.channel_allowed(&req.argv[pos], literal) {
                    return Err(Denial::Channel(pos));
                }
            }
        }
        Ok(())
    }

    /// True when a key pattern grants `need` (read/write bits) on `key`.
    pub fn key_allowed(&self, key: &[u8], need: u8) -> bool {
        self.all_keys
            || self
                .keys
                .iter()
                .any(|p| p.flags & need == need && glob_match(&p.pattern, key, false))
    }

    /// True when a channel pattern grants `channel` (`literal`: compared as is, for pattern subscribes).
    pub fn channel_allowed(&self, channel: &[u8], literal: bool) -> bool {
        self.all_channels
            || self.channels.iter().any(|p| {
                if literal {
                    p == channel
                } else {
                    glob_match(p, channel, false)
                }
            })
    }

    /// The command rules in the reference server's form: `+@all` or `-@all`, then the categories that
    /// best approximate the permission bits (greedily, in category order), then single commands and
    /// first arguments fixing the difference.
    pub fn describe_commands(&self) -> Vec<u8> {
        let t = table();
        let additive = !self.future;
        let mut rules: Vec<u8> = if additive {
            b"-@all ".to_vec()
        } else {
            b"+@all ".to_vec()
        };
        let mut fake = Selector::new();
        fake.set_all(!additive);
        let mut temp = self.clone();
        let mut applied = [false; CATEGORIES.len()];
        loop {
            let mut best = None;
            let (mut min_diff, mut max_same) = (usize::MAX, 0);
            for (j, done) in applied.iter().enumerate() {
                if *done {
                    continue;
                }
                let (on, off) = temp.count_category(t, j);
                let (diff, same) = if additive { (off, on) } else { (on, off) };
                if same > diff && (diff < min_diff || (diff == min_diff && same > max_same)) {
                    best = Some(j);
                    min_diff = diff;
                    max_same = same;
                }
            }
            let Some(j) = best else { break };
            fake.change_category(t, j, additive);
            temp.change_category(t, j, !additive);
            rules.push(if additive { b'+' } else { b'-' });
            rules.push(b'@');
            rules.extend_from_slice(CATEGORIES[j].as_bytes());
            rules.push(b' ');
            applied[j] = true;
        }
        for top in t.top_level() {
            self.describe_single(t, &mut fake, &mut rules, top);
            for &sub in &t.entries[top].children {
                self.describe_single(t, &mut fake, &mut rules, sub);
            }
        }
        rules.pop();
        rules
    }

    /// Emits the rule for one command whose bit differs between this selector and `fake`, and its
    /// allowed first arguments.
    fn describe_single(&self, t: &Table, fake: &mut Selector, rules: &mut Vec<u8>, id: usize) {
        let mine = self.bit(id);
        if mine != fake.bit(id) {
            rules.push(if mine { b'+' } else { b'-' });
            rules.extend_from_slice(t.entries[id].spec.name.as_bytes());
            rules.push(b' ');
            fake.change_perm(t, id, mine);
        }
        if !mine {
            if let Some((_, args)) = self.firstargs.iter().find(|(c, _)| *c == id) {
                for a in args {
                    rules.push(b'+');
                    rules.extend_from_slice(t.entries[id].spec.name.as_bytes());
                    rules.push(b'|');
                    rules.extend_from_slice(a);
                    rules.push(b' ');
                }
            }
        }
    }

    /// (allowed, denied) commands of category `cat`.
    fn count_category(&self, t: &Table, cat: usize) -> (usize, usize) {
        let (mut on, mut off) = (0, 0);
        for id in 0..t.len() {
            if t.entries[id].categories & (1 << cat) != 0 {
                if self.bit(id) {
                    on += 1;
                } else {
                    off += 1;
                }
            }
        }
        (on, off)
    }

    /// The key patterns as `ACL GETUSER` shows them: `~*`, or the patterns separated by spaces.
    pub fn describe_keys(&self) -> Vec<u8> {
        if self.all_keys {
            return b"~*".to_vec();
        }
        let mut out = Vec::new();
        for (i, k) in self.keys.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            k.describe(&mut out);
        }
        out
    }

    /// The channel patterns as `ACL GETUSER` shows them: `&*`, or `&p` separated by spaces.
    pub fn describe_channels(&self) -> Vec<u8> {
        if self.all_channels {
            return b"&*".to_vec();
        }
        let mut out = Vec::new();
        for (i, c) in self.channels.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            out.push(b'&');
            out.extend_from_slice(c);
        }
        out
    }

    /// The whole selector in rule form, as in `ACL LIST`: keys, channels, commands.
    pub fn describe(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if self.all_keys {
            out.extend_from_slice(b"~* ");
        } else {
            for k in &self.keys {
                k.describe(&mut out);
                out.push(b' ');
            }
        }
        if self.all_channels {
            out.extend_from_slice(b"&* ");
        } else {
            out.extend_from_slice(b"resetchannels ");
            for c in &self.channels {
                out.push(b'&');
                out.extend_from_slice(c);
                out.push(b' ');
            }
        }
        out.extend_from_slice(&self.describe_commands());
        out
    }
}

/// True when a pattern or name holds whitespace or NUL, which rules cannot carry.
pub fn has_spaces(s: &[u8]) -> bool {
    s.iter().any(|&b| b.is_ascii_whitespace() || b == 0 || b == 0x0b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Applies space-separated rules to a new selector.
    fn selector(rules: &str) -> Selector {
        let mut s = Selector::new();
        for r in rules.split(' ').filter(|r| !r.is_empty()) {
            s.apply(r.as_bytes()).unwrap_or_else(|e| panic!("rule {r}: {e:?}"));
        }
        s
    }

    /// What a selector permits, ignoring the `all_commands` shortcut (which only `+@all` sets).
    fn permissions(s: &Selector) -> Selector {
        let mut p = s.clone();
        p.all_commands = false;
        // First arguments of an allowed command never matter: the bit can only be cleared by rules that
        // also drop them.
        p.firstargs.retain(|(id, _)| !s.bit(*id));
        p.firstargs.sort();
        p
    }

    #[test]
    fn descriptions_follow_the_reference() {
        assert_eq!(selector("+@all ~* &*").describe(), b"~* &* +@all");
        assert_eq!(selector("-get").describe(), b"resetchannels -@all");
        assert_eq!(selector("+@read -get +get").describe_commands(), b"-@all +@read");
        assert_eq!(selector("+get +@read").describe_commands(), b"-@all +@read");
        assert_eq!(selector("+@all -@dangerous").describe_commands(), b"+@all -@dangerous");
        assert_eq!(
            selector("+client -client|list").describe_commands(),
            b"-@all +client -client|list"
        );
        assert_eq!(
            selector("+select|0 +select|1").describe_commands(),
            b"-@all +select|0 +select|1"
        );
        assert_eq!(selector("%R~a %W~a %W~b ~c").describe_keys(), b"~a %W~b ~c");
    }

    #[test]
    fn key_permissions_follow_the_pattern_flags() {
        let s = selector("%R~r:* %W~w:* ~b:*");
        assert!(s.key_allowed(b"r:1", KEY_READ));
        assert!(!s.key_allowed(b"r:1", KEY_WRITE));
        assert!(s.key_allowed(b"w:1", KEY_WRITE));
        assert!(!s.key_allowed(b"w:1", KEY_READ | KEY_WRITE));
        assert!(s.key_allowed(b"b:1", KEY_READ | KEY_WRITE));
        assert!(!s.key_allowed(b"x", 0), "no pattern matches");
    }

    /// Rules that always apply (valid in any order, no `~`/`&` after `allkeys`/`allchannels` since
    /// those are preceded by a reset here).
    fn rule() -> impl Strategy<Value = String> {
        const COMMANDS: &[&str] = &[
            "get",
            "set",
            "client",
            "client|list",
            "config|get",
            "select",
            "acl|whoami",
            "del",
            "hset",
        ];
        const CATEGORY_NAMES: &[&str] = &[
            "read",
            "write",
            "string",
            "hash",
            "admin",
            "dangerous",
            "fast",
            "slow",
            "keyspace",
        ];
        prop_oneof![
            (any::<bool>(), proptest::sample::select(COMMANDS))
                .prop_map(|(plus, c)| format!("{}{c}", if plus { '+' } else { '-' })),
            (any::<bool>(), proptest::sample::select(CATEGORY_NAMES))
                .prop_map(|(plus, c)| format!("{}@{c}", if plus { '+' } else { '-' })),
            Just("+@all".to_string()),
            Just("-@all".to_string()),
            Just("+select|0".to_string()),
            Just("+select|9".to_string()),
            Just("resetkeys ~k:*".to_string()),
            Just("resetkeys %R~r:* %W~w:*".to_string()),
            Just("allkeys".to_string()),
            Just("resetchannels &c".to_string()),
            Just("allchannels".to_string()),
        ]
    }

    proptest! {
        /// rules -> description -> rules gives the same permissions, and describing again gives the same
        /// text.
        #[test]
        fn description_round_trips(rules in proptest::collection::vec(rule(), 0..12)) {
            let original = selector(&rules.join(" "));
            let text = original.describe();
            let text = String::from_utf8(text).expect("ascii rules");
            let again = selector(&format!("resetkeys resetchannels {text}"));
            prop_assert_eq!(permissions(&again), permissions(&original), "rules {:?} described as {}", rules, text);
            prop_assert_eq!(String::from_utf8(again.describe()).expect("ascii"), text);
        }
    }
}
