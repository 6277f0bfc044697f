//! The aclfile text format (`user <name> <rules...>` per line) and `user` directives of the config file:
//! parsing into a complete set of users, and writing the current users back.
//!
//! Owns the line syntax and the reference server's error texts, each naming the file and line. Parsing
//! is all-or-nothing: the caller replaces its users only with a set that parsed without any error. Never
//! touches the file system; the shell reads and writes the text.

use std::collections::BTreeMap;

use super::user::{valid_name, User};
use super::{merge_selector_args, DEFAULT_USER};

/// Parses an aclfile's `text` (`filename` only names it in errors). On success, the users it defines,
/// with a fresh `default` user added when the file has none. On failure, every problem found, followed
/// by the reference's closing warning.
pub fn parse(filename: &str, text: &str) -> Result<BTreeMap<Vec<u8>, User>, String> {
    let mut users: BTreeMap<Vec<u8>, User> = BTreeMap::new();
    let mut errors = String::new();
    for (i, raw) in text.split('\n').enumerate() {
        let linenum = i + 1;
        let line = raw.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
        if line.is_empty() {
            continue;
        }
        // Words are separated by single spaces; quotes have no meaning here.
        let words: Vec<&[u8]> = line.as_bytes().split(|&b| b == b' ').collect();
        if words[0] != b"user" || words.len() < 2 {
            errors.push_str(&format!(
                "{filename}:{linenum} should start with user keyword followed by the username. "
            ));
            continue;
        }
        let name = words[1];
        if !valid_name(name) {
            errors.push_str(&format!(
                "'{filename}:{linenum}: username '{}' contains invalid characters. ",
                String::from_utf8_lossy(name)
            ));
            continue;
        }
        if users.contains_key(name) {
            errors.push_str(&format!(
                "WARNING: Duplicate user '{}' found on line {linenum}. ",
                String::from_utf8_lossy(name)
            ));
            continue;
        }
        let mut user = User::new(name);
        match merge_selector_args(&words[2..]) {
            Err(_) => errors.push_str(&format!(
                "{filename}:{linenum}: Unmatched parenthesis in selector definition."
            )),
            Ok(rules) => {
                for rule in rules {
                    let rule: &[u8] = trim_bytes(&rule);
                    if let Err(e) = user.apply(rule) {
                        errors.push_str(&format!("{filename}:{linenum}: {}. ", e.text()));
                    }
                }
            }
        }
        users.insert(name.to_vec(), user);
    }
    if !errors.is_empty() {
        errors.push_str("WARNING: ACL errors detected, no change to the previously active ACL rules was performed");
        return Err(errors);
    }
    users.entry(DEFAULT_USER.to_vec()).or_insert_with(User::new_default);
    Ok(users)
}

/// Tabs, CRs and LFs trimmed from both ends of a rule.
fn trim_bytes(rule: &[u8]) -> &[u8] {
    let strip = |b: &u8| matches!(*b, b'\t' | b'\r' | b'\n');
    let start = rule.iter().position(|b| !strip(b)).unwrap_or(rule.len());
    let end = rule.iter().rposition(|b| !strip(b)).map_or(start, |e| e + 1);
    &rule[start..end]
}

/// The aclfile text for `users`: one `user <name> <rules>` line each, in name order.
pub fn emit(users: &BTreeMap<Vec<u8>, User>) -> Vec<u8> {
    let mut out = Vec::new();
    for u in users.values() {
        out.extend_from_slice(&u.list_line());
        out.push(b'\n');
    }
    out
}

/// Applies the `user` directives of the config file (each: name, then rules) to `users`. A directive for
/// `default` resets that user first. Errors name the directive, like the reference's start-up check.
pub fn apply_config_users(users: &mut BTreeMap<Vec<u8>, User>, lines: &[Vec<String>]) -> Result<(), String> {
    let mut seen: Vec<&str> = Vec::new();
    for words in lines {
        let Some((name, rules)) = words.split_first() else {
            continue;
        };
        if seen.contains(&name.as_str()) {
            return Err(format!(
                "Error in user declaration '{name}': {}",
                super::selector::RuleError::Duplicate.text()
            ));
        }
        seen.push(name);
        if !valid_name(name.as_bytes()) {
            return Err("Spaces not allowed in ACL usernames".into());
        }
        let rule_refs: Vec<&[u8]> = rules.iter().map(|r| r.as_bytes()).collect();
        let merged = merge_selector_args(&rule_refs).map_err(|i| {
            format!(
                "Error in user declaration '{}': Unmatched parenthesis in acl selector starting at '{}'.",
                name, rules[i]
            )
        })?;
        let mut user = if name.as_bytes() == DEFAULT_USER {
            let mut d = users.get(DEFAULT_USER).cloned().unwrap_or_else(User::new_default);
            let _ = d.apply(b"reset");
            d
        } else {
            User::new(name.as_bytes())
        };
        for rule in &merged {
            user.apply(rule).map_err(|e| {
                format!(
                    "Error loading ACL rule '{}' for the user named '{name}': {}",
                    String::from_utf8_lossy(rule),
                    e.text()
                )
            })?;
        }
        users.insert(name.as_bytes().to_vec(), user);
    }
    Ok(())
}
