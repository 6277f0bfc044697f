//! Start-up configuration: a redis.conf-style file plus `--name value` command-line overrides.
//!
//! Owns reading the file, splitting its lines into directives (with the same quoting rules as inline
//! requests) and reporting a bad line by number and text. Validation of each value belongs to
//! `keel_core::config`, so a parameter accepts the same values here as through `CONFIG SET`.

use keel_core::config::ConfigError;
use keel_core::Config;
use std::fmt;

/// A configuration problem, naming where it was found.
#[derive(Debug)]
pub struct LoadError {
    /// 1-based line number in the combined text (file lines first, then command-line options).
    pub line: usize,
    /// The offending line as written.
    pub text: String,
    /// Why it was refused.
    pub reason: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "*** FATAL CONFIG FILE ERROR (keel {}) ***", keel_core::KEEL_VERSION)?;
        writeln!(f, "Reading the configuration file, at line {}", self.line)?;
        writeln!(f, ">>> '{}'", self.text)?;
        write!(f, "{}", self.reason)
    }
}

/// What the command line asked for.
#[derive(Debug, Default)]
pub struct StartupArgs {
    /// Path of the config file, if one was given.
    pub config_file: Option<String>,
    /// Directives from the file and the `--name value` options, as text in redis.conf syntax.
    pub text: String,
}

/// Splits `keel-server [config-file] [--name value ...]` into a file path and override directives.
/// A `--name` option takes every following word up to the next `--option` as its value.
pub fn parse_args(args: &[String]) -> Result<StartupArgs, String> {
    let mut out = StartupArgs::default();
    let mut rest = args;
    if let Some(first) = rest.first() {
        if !first.starts_with("--") {
            out.config_file = Some(first.clone());
            rest = &rest[1..];
        }
    }
    let mut directive = String::new();
    for arg in rest {
        if let Some(name) = arg.strip_prefix("--") {
            if !directive.is_empty() {
                out.text.push_str(&directive);
                out.text.push('\n');
            }
            directive = name.to_string();
        } else if directive.is_empty() {
            return Err(format!("Invalid argument '{arg}': options start with --"));
        } else {
            directive.push(' ');
            directive.push_str(&quote(arg));
        }
    }
    if !directive.is_empty() {
        out.text.push_str(&directive);
        out.text.push('\n');
    }
    Ok(out)
}

/// Quotes a command-line value so that the directive splitter reads it back as one word.
fn quote(value: &str) -> String {
    if !value.is_empty() && !value.contains([' ', '"', '\'', '\\', '\t']) {
        return value.to_string();
    }
    let mut q = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

/// Applies every directive in `text` to `config`. Lines are `name value...`; `#` starts a comment line.
pub fn apply(config: &mut Config, text: &str) -> Result<(), LoadError> {
    let mut seen_save = false;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fail = |reason: String| LoadError {
            line: n + 1,
            text: line.to_string(),
            reason,
        };
        let words = keel_core::resp::parser::split_inline(line.as_bytes())
            .ok_or_else(|| fail("Unbalanced quotes in configuration line".into()))?;
        let words: Vec<String> = words.iter().map(|w| String::from_utf8_lossy(w).into_owned()).collect();
        let Some((name, values)) = words.split_first() else {
            continue;
        };
        if values.is_empty() {
            return Err(fail("wrong number of arguments".into()));
        }
        if name.eq_ignore_ascii_case("rename-command") {
            rename_command(config, values).map_err(fail)?;
            continue;
        }
        if name.eq_ignore_ascii_case("user") {
            // May repeat: every `user` line defines one ACL user (name, then rules).
            config.users.push(values.to_vec());
            continue;
        }
        let mut value = values.join(" ");
        // `save` lines accumulate (`save 900 1` then `save 300 10`), as in the reference's files: the
        // first one in a text replaces the default, later ones add save points.
        if name.eq_ignore_ascii_case("save") {
            let current = config.get("save").unwrap_or("");
            if seen_save && !value.is_empty() && !current.is_empty() {
                value = format!("{current} {value}");
            }
            seen_save = true;
        }
        match config.set_startup(startup_name(name), &value) {
            Ok(()) => {}
            Err(ConfigError::Unknown) => return Err(fail("Bad directive or wrong number of arguments".into())),
            Err(e) => return Err(fail(e.reason())),
        }
    }
    Ok(())
}

/// `rename-command FROM TO`: checked against the commands as renamed so far (the reference's errors),
/// then recorded for the server to apply at start-up.
fn rename_command(config: &mut Config, values: &[String]) -> Result<(), String> {
    let [from, to] = values else {
        return Err("Bad directive or wrong number of arguments".into());
    };
    let mut registry = keel_core::commands::Registry::new();
    for (f, t) in &config.command_renames {
        let _ = registry.rename(f, t);
    }
    registry.rename(from, to).map_err(|e| e.reason().to_string())?;
    config.command_renames.push((from.clone(), to.clone()));
    Ok(())
}

/// The parameter a start-up directive sets. `threads` (`--threads N`) is keel's start-up name for
/// `io-threads`, the runtime's worker count. It is resolved here rather than as a parameter alias in
/// core's table, so that `CONFIG GET *` lists exactly the reference server's names.
fn startup_name(name: &str) -> &str {
    if name.eq_ignore_ascii_case("threads") {
        "io-threads"
    } else {
        name
    }
}

/// Builds the configuration from the command line: the file first, then the overrides.
pub fn load(args: &[String]) -> Result<(Config, Option<String>), String> {
    let startup = parse_args(args)?;
    let mut config = Config::default();
    if let Some(path) = &startup.config_file {
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("Fatal error, can't open config file '{path}': {e}"))?;
        apply(&mut config, &text).map_err(|e| e.to_string())?;
    }
    apply(&mut config, &startup.text).map_err(|e| e.to_string())?;
    Ok((config, startup.config_file))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn file_then_overrides() {
        let s = parse_args(&args(&["keel.conf", "--port", "7000", "--bind", "127.0.0.1", "::1"])).unwrap();
        assert_eq!(s.config_file.as_deref(), Some("keel.conf"));
        let mut c = Config::default();
        apply(&mut c, &s.text).unwrap();
        assert_eq!(c.get("port"), Some("7000"));
        assert_eq!(c.get("bind"), Some("127.0.0.1 ::1"));
    }

    #[test]
    fn bad_line_is_named() {
        let mut c = Config::default();
        let e = apply(&mut c, "# comment\nport 6380\nport abc\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert_eq!(e.text, "port abc");
        assert!(e.reason.contains("integer"));
        let e = apply(&mut c, "no-such-thing yes\n").unwrap_err();
        assert_eq!(e.reason, "Bad directive or wrong number of arguments");
    }

    #[test]
    fn rename_command_lines() {
        let mut c = Config::default();
        apply(&mut c, "rename-command FLUSHALL \"\"\nrename-command dbsize mydbsize\n").unwrap();
        assert_eq!(c.command_renames.len(), 2);
        let e = apply(&mut c, "rename-command flushall x\n").unwrap_err();
        assert_eq!(e.reason, "No such command in rename-command");
        let e = apply(&mut c, "rename-command get set\n").unwrap_err();
        assert_eq!(e.reason, "Target command name already exists");
        let e = apply(&mut c, "rename-command get\n").unwrap_err();
        assert_eq!(e.reason, "Bad directive or wrong number of arguments");
    }

    #[test]
    fn save_lines_accumulate() {
        let mut c = Config::default();
        apply(&mut c, "save 900 1\nsave 300 10\n").unwrap();
        assert_eq!(c.get("save"), Some("900 1 300 10"));
        apply(&mut c, "save \"\"\n").unwrap();
        assert_eq!(c.get("save"), Some(""));
        apply(&mut c, "save 60 5\n").unwrap();
        assert_eq!(c.get("save"), Some("60 5"), "a new text replaces");
    }

    #[test]
    fn threads_sets_io_threads() {
        let s = parse_args(&args(&["--threads", "4"])).unwrap();
        let mut c = Config::default();
        apply(&mut c, &s.text).unwrap();
        assert_eq!(c.get("io-threads"), Some("4"));
        let e = apply(&mut c, "threads 0\n").unwrap_err();
        assert!(e.reason.contains("must be between 1 and 128"), "{}", e.reason);
    }

    #[test]
    fn empty_value_is_kept() {
        let s = parse_args(&args(&["--unixsocket", ""])).unwrap();
        let mut c = Config::default();
        apply(&mut c, &s.text).unwrap();
        assert_eq!(c.get("unixsocket"), Some(""));
    }
}
