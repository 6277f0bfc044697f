//! A user: name, on/off, passwords (SHA-256 only), payload-sanitizing flag and selectors, with the user
//! rules that change them and the user's description in `ACL LIST` / aclfile form.
//!
//! Owns password hashing and constant-time comparison; permission rules themselves belong to
//! `selector`. Never stores a clear-text password.

use sha2::{Digest, Sha256};

use super::selector::{has_spaces, RuleError, Selector};

/// `sanitize-payload` / `skip-sanitize-payload` (neither on a new user).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sanitize {
    Unset,
    Sanitize,
    Skip,
}

/// One ACL user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub name: Vec<u8>,
    pub enabled: bool,
    pub nopass: bool,
    pub sanitize: Sanitize,
    /// SHA-256 digests as 64 lower-case hex digits, in the order they were added.
    pub passwords: Vec<String>,
    /// The root selector first, then the selectors added with `(...)`.
    pub selectors: Vec<Selector>,
}

impl User {
    /// A new user as `ACL SETUSER` creates it: off, no passwords, no permissions.
    pub fn new(name: &[u8]) -> User {
        User {
            name: name.to_vec(),
            enabled: false,
            nopass: false,
            sanitize: Sanitize::Unset,
            passwords: Vec::new(),
            selectors: vec![Selector::new()],
        }
    }

    /// The `default` user of a fresh server: on, no password, everything allowed.
    pub fn new_default() -> User {
        let mut u = User::new(b"default");
        for rule in ["+@all", "~*", "&*", "on", "nopass"] {
            let _ = u.apply(rule.as_bytes());
        }
        u
    }

    /// The root selector.
    pub fn root(&self) -> &Selector {
        &self.selectors[0]
    }

    /// Applies one user rule (an empty rule does nothing).
    pub fn apply(&mut self, op: &[u8]) -> Result<(), RuleError> {
        if op.is_empty() {
            return Ok(());
        }
        let is = |word: &str| op.eq_ignore_ascii_case(word.as_bytes());
        if is("on") {
            self.enabled = true;
        } else if is("off") {
            self.enabled = false;
        } else if is("skip-sanitize-payload") {
            self.sanitize = Sanitize::Skip;
        } else if is("sanitize-payload") {
            self.sanitize = Sanitize::Sanitize;
        } else if is("nopass") {
            self.nopass = true;
            self.passwords.clear();
        } else if is("resetpass") {
            self.nopass = false;
            self.passwords.clear();
        } else if op[0] == b'>' || op[0] == b'#' {
            let hash = if op[0] == b'>' {
                hash_password(&op[1..])
            } else {
                check_hash(&op[1..])?
            };
            if !self.passwords.contains(&hash) {
                self.passwords.push(hash);
            }
            self.nopass = false;
        } else if op[0] == b'<' || op[0] == b'!' {
            let hash = if op[0] == b'<' {
                hash_password(&op[1..])
            } else {
                check_hash(&op[1..])?
            };
            let at = self
                .passwords
                .iter()
                .position(|p| *p == hash)
                .ok_or(RuleError::NoSuchPassword)?;
            self.passwords.remove(at);
        } else if op[0] == b'(' && op[op.len() - 1] == b')' {
            let mut selector = Selector::new();
            let inner = &op[1..op.len() - 1];
            // Unbalanced quotes give an empty selector, as on the reference server.
            let rules = crate::resp::parser::split_inline(inner).unwrap_or_default();
            for rule in rules {
                selector.apply(&rule)?;
            }
            self.selectors.push(selector);
        } else if is("clearselectors") {
            self.selectors.truncate(1);
        } else if is("reset") {
            for rule in [
                "resetpass",
                "resetkeys",
                "resetchannels",
                "off",
                "sanitize-payload",
                "clearselectors",
                "-@all",
            ] {
                self.apply(rule.as_bytes())?;
            }
        } else {
            self.selectors[0].apply(op)?;
        }
        Ok(())
    }

    /// True when `password` opens this user (on, and `nopass` or a matching digest). The digest
    /// comparison takes the same time wherever the digests differ.
    pub fn check_password(&self, password: &[u8]) -> bool {
        if !self.enabled {
            return false;
        }
        if self.nopass {
            return true;
        }
        let hashed = hash_password(password);
        // Compare against every stored digest, without stopping early, so timing reveals nothing.
        let mut found = false;
        for p in &self.passwords {
            found |= constant_time_eq(p.as_bytes(), hashed.as_bytes());
        }
        found
    }

    /// The flag words, in the reference's order.
    pub fn flag_words(&self) -> Vec<&'static str> {
        let mut flags = vec![if self.enabled { "on" } else { "off" }];
        if self.nopass {
            flags.push("nopass");
        }
        match self.sanitize {
            Sanitize::Skip => flags.push("skip-sanitize-payload"),
            Sanitize::Sanitize => flags.push("sanitize-payload"),
            Sanitize::Unset => {}
        }
        flags
    }

    /// The user's rules as `ACL LIST` shows them after `user <name> `.
    pub fn describe(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for f in self.flag_words() {
            out.extend_from_slice(f.as_bytes());
            out.push(b' ');
        }
        for p in &self.passwords {
            out.push(b'#');
            out.extend_from_slice(p.as_bytes());
            out.push(b' ');
        }
        out.extend_from_slice(&self.selectors[0].describe());
        for s in &self.selectors[1..] {
            out.extend_from_slice(b" (");
            out.extend_from_slice(&s.describe());
            out.push(b')');
        }
        out
    }

    /// The `ACL LIST` line: `user <name> <rules>`.
    pub fn list_line(&self) -> Vec<u8> {
        let mut line = b"user ".to_vec();
        line.extend_from_slice(&self.name);
        line.push(b' ');
        line.extend_from_slice(&self.describe());
        line
    }
}

/// True when a user name can be used (no whitespace, no NUL).
pub fn valid_name(name: &[u8]) -> bool {
    !has_spaces(name)
}

/// The SHA-256 digest of a password as 64 lower-case hex digits.
pub fn hash_password(password: &[u8]) -> String {
    let digest = Sha256::digest(password);
    let mut hex = String::with_capacity(64);
    for b in digest {
        hex.push(char::from_digit((b >> 4) as u32, 16).unwrap_or('0'));
        hex.push(char::from_digit((b & 15) as u32, 16).unwrap_or('0'));
    }
    hex
}

/// A `#hash` argument checked to be 64 lower-case hex digits.
fn check_hash(hash: &[u8]) -> Result<String, RuleError> {
    if hash.len() != 64 || !hash.iter().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b)) {
        return Err(RuleError::BadHash);
    }
    Ok(String::from_utf8_lossy(hash).into_owned())
}

/// Equality whose running time depends only on the lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
