//! Server configuration: every parameter's name, aliases, type, bounds, default and current value.
//!
//! Owns the one table that the config file loader, `--name value` overrides, `CONFIG GET` and
//! `CONFIG SET` all read, so a parameter behaves the same whichever way it is set. Values that the shell
//! acts on (ports, socket paths, timeouts) live here too; the shell reads them, core never acts on them.

use crate::glob::glob_match;

/// The shape of a parameter's value.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// `yes` / `no`.
    Bool,
    /// An integer written in octal (file permissions), at most `max`.
    Octal { max: i64 },
    /// An integer within bounds.
    Int { min: i64, max: i64 },
    /// A byte count with optional unit (`1gb`, `512mb`, `64k`), within bounds.
    Memory { min: i64, max: i64 },
    /// One of a fixed set of words.
    Enum(&'static [&'static str]),
    /// Free text.
    Str,
    /// Several space-separated words (`bind`, `save`), kept as one normalized string.
    List,
    /// `client-output-buffer-limit`: `<class> <hard> <soft> <soft-seconds>` groups; a value names some
    /// classes and the others keep their limits.
    OutputBufferLimits,
}

/// A parameter's description.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    pub name: &'static str,
    pub alias: Option<&'static str>,
    pub kind: Kind,
    pub default: &'static str,
    /// False when the value can only be set at start-up.
    pub mutable: bool,
    /// True for parameters `CONFIG SET` refuses unless protected configs are enabled.
    pub protected: bool,
}

const fn p(name: &'static str, kind: Kind, default: &'static str) -> Param {
    Param {
        name,
        alias: None,
        kind,
        default,
        mutable: true,
        protected: false,
    }
}

const fn immutable(mut param: Param) -> Param {
    param.mutable = false;
    param
}

const fn protected(mut param: Param) -> Param {
    param.protected = true;
    param
}

const fn alias(mut param: Param, alias: &'static str) -> Param {
    param.alias = Some(alias);
    param
}

const YES_NO_LOCAL: &[&str] = &["no", "yes", "local"];
const INT_MAX: i64 = i32::MAX as i64;
const INT_MIN: i64 = i32::MIN as i64;
const LONG_MAX: i64 = i64::MAX;

/// Every parameter keel implements, in the order `CONFIG GET *` lists them.
pub static PARAMS: &[Param] = &[
    immutable(p("bind", Kind::List, "127.0.0.1 -::1")),
    p("port", Kind::Int { min: 0, max: 65535 }, "6379"),
    immutable(p("unixsocket", Kind::Str, "")),
    immutable(p("unixsocketperm", Kind::Octal { max: 0o777 }, "0")),
    p("timeout", Kind::Int { min: 0, max: INT_MAX }, "0"),
    p("tcp-keepalive", Kind::Int { min: 0, max: INT_MAX }, "300"),
    immutable(p("tcp-backlog", Kind::Int { min: 0, max: INT_MAX }, "511")),
    p(
        "maxclients",
        Kind::Int {
            min: 1,
            max: u32::MAX as i64,
        },
        "10000",
    ),
    immutable(p("databases", Kind::Int { min: 1, max: INT_MAX }, "16")),
    p("protected-mode", Kind::Bool, "yes"),
    immutable(p("enable-debug-command", Kind::Enum(YES_NO_LOCAL), "no")),
    immutable(p("enable-protected-configs", Kind::Enum(YES_NO_LOCAL), "no")),
    p(
        "proto-max-bulk-len",
        Kind::Memory {
            min: 1024 * 1024,
            max: LONG_MAX,
        },
        "536870912",
    ),
    p(
        "client-query-buffer-limit",
        Kind::Memory {
            min: 1024 * 1024,
            max: LONG_MAX,
        },
        "1073741824",
    ),
    p("hz", Kind::Int { min: 0, max: INT_MAX }, "10"),
    p("dynamic-hz", Kind::Bool, "yes"),
    p("active-expire-effort", Kind::Int { min: 1, max: 10 }, "1"),
    p("maxmemory", Kind::Memory { min: 0, max: LONG_MAX }, "0"),
    p(
        "maxmemory-policy",
        Kind::Enum(&[
            "volatile-lru",
            "volatile-lfu",
            "volatile-random",
            "volatile-ttl",
            "allkeys-lru",
            "allkeys-lfu",
            "allkeys-random",
            "noeviction",
        ]),
        "noeviction",
    ),
    p("maxmemory-clients", Kind::Memory { min: 0, max: LONG_MAX }, "0"),
    p("maxmemory-samples", Kind::Int { min: 1, max: 64 }, "5"),
    p("maxmemory-eviction-tenacity", Kind::Int { min: 0, max: 100 }, "10"),
    p("lfu-log-factor", Kind::Int { min: 0, max: INT_MAX }, "10"),
    p("lfu-decay-time", Kind::Int { min: 0, max: INT_MAX }, "1"),
    alias(
        p(
            "list-max-listpack-size",
            Kind::Int {
                min: INT_MIN,
                max: INT_MAX,
            },
            "-2",
        ),
        "list-max-ziplist-size",
    ),
    p("list-compress-depth", Kind::Int { min: 0, max: INT_MAX }, "0"),
    alias(
        p("hash-max-listpack-entries", Kind::Int { min: 0, max: LONG_MAX }, "512"),
        "hash-max-ziplist-entries",
    ),
    alias(
        p("hash-max-listpack-value", Kind::Memory { min: 0, max: LONG_MAX }, "64"),
        "hash-max-ziplist-value",
    ),
    p("set-max-intset-entries", Kind::Int { min: 0, max: LONG_MAX }, "512"),
    alias(
        p("zset-max-listpack-entries", Kind::Int { min: 0, max: LONG_MAX }, "128"),
        "zset-max-ziplist-entries",
    ),
    alias(
        p("zset-max-listpack-value", Kind::Memory { min: 0, max: LONG_MAX }, "64"),
        "zset-max-ziplist-value",
    ),
    p("lazyfree-lazy-user-del", Kind::Bool, "no"),
    p("lazyfree-lazy-user-flush", Kind::Bool, "no"),
    protected(p("dir", Kind::Str, "")),
    protected(p("dbfilename", Kind::Str, "dump.rdb")),
    // snapshot
    p("save", Kind::List, "3600 1 300 100 60 10000"),
    p("rdbcompression", Kind::Bool, "yes"),
    immutable(p("rdbchecksum", Kind::Bool, "yes")),
    p("stop-writes-on-bgsave-error", Kind::Bool, "yes"),
    immutable(p("logfile", Kind::Str, "")),
    p(
        "loglevel",
        Kind::Enum(&["debug", "verbose", "notice", "warning"]),
        "notice",
    ),
    immutable(p("daemonize", Kind::Bool, "no")),
    immutable(p("pidfile", Kind::Str, "")),
    alias(p("replica-read-only", Kind::Bool, "yes"), "slave-read-only"),
    immutable(p("io-threads", Kind::Int { min: 1, max: 128 }, "1")),
    p("latency-tracking", Kind::Bool, "yes"),
    // netsec: TLS, MODULE gating and client output limits. The shell acts on these (net/src/tls.rs,
    // net/src/conn.rs).
    immutable(p("enable-module-command", Kind::Enum(YES_NO_LOCAL), "no")),
    p(
        "client-output-buffer-limit",
        Kind::OutputBufferLimits,
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
    ),
    p("tls-port", Kind::Int { min: 0, max: 65535 }, "0"),
    p("tls-cert-file", Kind::Str, ""),
    p("tls-key-file", Kind::Str, ""),
    p("tls-key-file-pass", Kind::Str, ""),
    p("tls-client-cert-file", Kind::Str, ""),
    p("tls-client-key-file", Kind::Str, ""),
    p("tls-client-key-file-pass", Kind::Str, ""),
    p("tls-dh-params-file", Kind::Str, ""),
    p("tls-ca-cert-file", Kind::Str, ""),
    p("tls-ca-cert-dir", Kind::Str, ""),
    p("tls-auth-clients", Kind::Enum(&["no", "yes", "optional"]), "yes"),
    p("tls-protocols", Kind::Str, ""),
    p("tls-ciphers", Kind::Str, ""),
    p("tls-ciphersuites", Kind::Str, ""),
    p("tls-prefer-server-ciphers", Kind::Bool, "no"),
    p("tls-session-caching", Kind::Bool, "yes"),
    p("tls-session-cache-size", Kind::Int { min: 0, max: INT_MAX }, "20480"),
    p("tls-session-cache-timeout", Kind::Int { min: 0, max: INT_MAX }, "300"),
    p("tls-replication", Kind::Bool, "no"),
    p("tls-cluster", Kind::Bool, "no"),
    // acl
    p("requirepass", Kind::Str, ""),
    immutable(p("aclfile", Kind::Str, "")),
    p("acllog-max-len", Kind::Int { min: 0, max: LONG_MAX }, "128"),
    // aof
    p("appendonly", Kind::Bool, "no"),
    immutable(p("appendfilename", Kind::Str, "appendonly.aof")),
    immutable(p("appenddirname", Kind::Str, "appendonlydir")),
    p("appendfsync", Kind::Enum(&["always", "everysec", "no"]), "everysec"),
    p("aof-load-truncated", Kind::Bool, "yes"),
    p("aof-use-rdb-preamble", Kind::Bool, "yes"),
    p("aof-timestamp-enabled", Kind::Bool, "no"),
    p("aof-rewrite-incremental-fsync", Kind::Bool, "yes"),
    p("aof-disable-auto-gc", Kind::Bool, "no"),
    p("no-appendfsync-on-rewrite", Kind::Bool, "no"),
    p("auto-aof-rewrite-percentage", Kind::Int { min: 0, max: INT_MAX }, "100"),
    p(
        "auto-aof-rewrite-min-size",
        Kind::Memory { min: 0, max: LONG_MAX },
        "67108864",
    ),
];

/// The client classes `client-output-buffer-limit` knows, in the order it lists them.
pub const OUTPUT_BUFFER_CLASSES: [&str; 3] = ["normal", "slave", "pubsub"];

/// One class's output buffer limits, in bytes and seconds (0 = no limit).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutputBufferLimit {
    pub hard: u64,
    pub soft: u64,
    pub soft_seconds: u64,
}

/// Parses `client-output-buffer-limit` groups into (class index, limit) pairs, with the reference
/// server's reasons for refusing a value. `replica` names the `slave` class.
pub fn parse_output_buffer_limits(value: &str) -> Result<Vec<(usize, OutputBufferLimit)>, ConfigError> {
    let words: Vec<&str> = value.split_whitespace().collect();
    if !words.len().is_multiple_of(4) {
        return Err(ConfigError::Invalid(
            "Wrong number of arguments in buffer limit configuration.".into(),
        ));
    }
    let mut out = Vec::new();
    for group in words.chunks(4) {
        let class = match group[0].to_ascii_lowercase().as_str() {
            "normal" => 0,
            "slave" | "replica" => 1,
            "pubsub" => 2,
            _ => {
                return Err(ConfigError::Invalid(
                    "Invalid client class specified in buffer limit configuration.".into(),
                ))
            }
        };
        let bad = || {
            ConfigError::Invalid("Error in hard, soft or soft_seconds setting in buffer limit configuration.".into())
        };
        let hard = parse_memory(group[1]).filter(|n| *n >= 0).ok_or_else(bad)?;
        let soft = parse_memory(group[2]).filter(|n| *n >= 0).ok_or_else(bad)?;
        let soft_seconds = crate::types::number::parse_i64(group[3].as_bytes())
            .filter(|n| *n >= 0)
            .ok_or_else(bad)?;
        out.push((
            class,
            OutputBufferLimit {
                hard: hard as u64,
                soft: soft as u64,
                soft_seconds: soft_seconds as u64,
            },
        ));
    }
    Ok(out)
}

/// Why a value was refused, in the words `CONFIG SET` and the config loader use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// No such parameter.
    Unknown,
    /// The parameter can only be set at start-up.
    Immutable,
    /// A protected parameter while protected configs are disabled.
    Protected,
    /// The value does not fit the parameter; carries the reason.
    Invalid(String),
}

impl ConfigError {
    /// The reason as the reference server words it after `- `.
    pub fn reason(&self) -> String {
        match self {
            ConfigError::Unknown => "Unknown option".into(),
            ConfigError::Immutable => "can't set immutable config".into(),
            ConfigError::Protected => "can't set protected config".into(),
            ConfigError::Invalid(r) => r.clone(),
        }
    }
}

/// Parameter names and aliases exactly as recorded → their index (the first one, as the scan finds).
fn exact_names() -> &'static hashbrown::HashMap<&'static str, usize, crate::commands::NameHashBuilder> {
    static NAMES: std::sync::OnceLock<hashbrown::HashMap<&'static str, usize, crate::commands::NameHashBuilder>> =
        std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names = hashbrown::HashMap::default();
        for (i, p) in PARAMS.iter().enumerate() {
            names.entry(p.name).or_insert(i);
            if let Some(a) = p.alias {
                names.entry(a).or_insert(i);
            }
        }
        names
    })
}

/// A parameter a hot path reads by name: its index is found once, then each read is an array access
/// (see [`Config::get_i64_of`]).
pub struct ParamRef {
    name: &'static str,
    index: std::sync::OnceLock<Option<usize>>,
}

impl ParamRef {
    /// A reference to the parameter called `name`.
    pub const fn new(name: &'static str) -> ParamRef {
        ParamRef {
            name,
            index: std::sync::OnceLock::new(),
        }
    }

    fn index(&self) -> Option<usize> {
        *self.index.get_or_init(|| Config::lookup(self.name))
    }
}

/// The live configuration.
#[derive(Clone, Debug)]
pub struct Config {
    values: Vec<String>,
    /// Each value parsed as an integer (0 when it is not one), kept in step with `values` by `store`.
    ints: Vec<i64>,
    /// Cached from `maxmemory-policy`: true for the LFU policies (read on every key access).
    lfu_policy: bool,
    /// `rename-command FROM TO` lines of the configuration file, in order (`TO` empty: removed). Not a
    /// parameter: `CONFIG GET` does not show them. The server applies them when it starts.
    pub command_renames: Vec<(String, String)>,
    /// `user <name> <rules...>` directives of the config file, in order (a directive that may repeat).
    pub users: Vec<Vec<String>>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            values: PARAMS.iter().map(|p| p.default.to_string()).collect(),
            ints: PARAMS.iter().map(|p| p.default.parse().unwrap_or(0)).collect(),
            lfu_policy: false,
            command_renames: Vec::new(),
            users: Vec::new(),
        }
    }
}

/// Parses a memory value: digits with an optional unit (`k`=1000, `kb`=1024, `m`, `mb`, `g`, `gb`),
/// case-insensitive. Returns `None` if it is not one.
pub fn parse_memory(text: &str) -> Option<i64> {
    let lower = text.to_ascii_lowercase();
    let units: [(&str, i64); 6] = [
        ("kb", 1024),
        ("mb", 1024 * 1024),
        ("gb", 1024 * 1024 * 1024),
        ("k", 1000),
        ("m", 1000 * 1000),
        ("g", 1000 * 1000 * 1000),
    ];
    let (digits, mul) = units
        .iter()
        .find_map(|(u, m)| lower.strip_suffix(u).map(|d| (d, *m)))
        .unwrap_or((lower.as_str(), 1));
    let n: i64 = crate::types::number::parse_i64(digits.as_bytes())?;
    n.checked_mul(mul)
}

impl Config {
    /// The index of the parameter called `name` (or by its alias), case-insensitive.
    pub fn lookup(name: &str) -> Option<usize> {
        // Handlers read parameters by their exact names on hot paths (HSET reads two per call): a
        // hash lookup first, the case-insensitive scan only for other spellings.
        if let Some(&i) = exact_names().get(name) {
            return Some(i);
        }
        PARAMS
            .iter()
            .position(|p| p.name.eq_ignore_ascii_case(name) || p.alias.is_some_and(|a| a.eq_ignore_ascii_case(name)))
    }

    /// Validates and normalizes `value` for parameter `index`.
    pub fn validate(index: usize, value: &str) -> Result<String, ConfigError> {
        let param = &PARAMS[index];
        match param.kind {
            Kind::Bool => match value.to_ascii_lowercase().as_str() {
                "yes" => Ok("yes".into()),
                "no" => Ok("no".into()),
                _ => Err(ConfigError::Invalid("argument must be 'yes' or 'no'".into())),
            },
            Kind::Int { min, max } => {
                let n = crate::types::number::parse_i64(value.as_bytes())
                    .ok_or_else(|| ConfigError::Invalid("argument couldn't be parsed into an integer".into()))?;
                if n < min || n > max {
                    return Err(ConfigError::Invalid(format!(
                        "argument must be between {min} and {max} inclusive"
                    )));
                }
                Ok(n.to_string())
            }
            Kind::Octal { max } => match i64::from_str_radix(value, 8) {
                Ok(n) if (0..=max).contains(&n) && !value.starts_with(['+', '-']) => Ok(format!("{n:o}")),
                Ok(_) => Err(ConfigError::Invalid(format!(
                    "argument must be between 0 and {max:o} inclusive"
                ))),
                Err(_) => Err(ConfigError::Invalid(
                    "argument couldn't be parsed into an integer".into(),
                )),
            },
            Kind::Memory { min, max } => {
                let n = parse_memory(value)
                    .ok_or_else(|| ConfigError::Invalid("argument must be a memory value".into()))?;
                if n < min || n > max {
                    return Err(ConfigError::Invalid(format!(
                        "argument must be between {min} and {max} inclusive"
                    )));
                }
                Ok(n.to_string())
            }
            Kind::Enum(words) => {
                let lower = value.to_ascii_lowercase();
                if words.contains(&lower.as_str()) {
                    Ok(lower)
                } else {
                    Err(ConfigError::Invalid(format!(
                        "argument(s) must be one of the following: {}",
                        words.join(", ")
                    )))
                }
            }
            Kind::Str => Ok(value.to_string()),
            Kind::List if param.name == "save" && crate::persist::save::parse_save_points(value).is_none() => {
                Err(ConfigError::Invalid("Invalid save parameters".into()))
            }
            Kind::List => Ok(value.split_whitespace().collect::<Vec<_>>().join(" ")),
            Kind::OutputBufferLimits => {
                // Normalized to the groups given (merged with the other classes when stored).
                let groups = parse_output_buffer_limits(value)?;
                Ok(groups
                    .iter()
                    .map(|(c, l)| format!("{} {} {} {}", OUTPUT_BUFFER_CLASSES[*c], l.hard, l.soft, l.soft_seconds))
                    .collect::<Vec<_>>()
                    .join(" "))
            }
        }
    }

    /// Sets a parameter from the config file or the command line (immutable ones allowed).
    pub fn set_startup(&mut self, name: &str, value: &str) -> Result<(), ConfigError> {
        let index = Self::lookup(name).ok_or(ConfigError::Unknown)?;
        self.store(index, Self::validate(index, value)?);
        Ok(())
    }

    fn store(&mut self, index: usize, value: String) {
        self.store_text(index, value);
        self.ints[index] = self.values[index].parse().unwrap_or(0);
    }

    fn store_text(&mut self, index: usize, value: String) {
        if PARAMS[index].name == "maxmemory-policy" {
            self.lfu_policy = value.ends_with("lfu");
        }
        if let Kind::OutputBufferLimits = PARAMS[index].kind {
            // The classes not named keep their limits.
            let mut all = self.output_buffer_limits();
            for (class, limit) in parse_output_buffer_limits(&value).unwrap_or_default() {
                all[class] = limit;
            }
            self.values[index] = all
                .iter()
                .zip(OUTPUT_BUFFER_CLASSES)
                .map(|(l, c)| format!("{c} {} {} {}", l.hard, l.soft, l.soft_seconds))
                .collect::<Vec<_>>()
                .join(" ");
            return;
        }
        self.values[index] = value;
    }

    /// The output buffer limits of each class, in [`OUTPUT_BUFFER_CLASSES`] order.
    pub fn output_buffer_limits(&self) -> [OutputBufferLimit; 3] {
        let mut all = [OutputBufferLimit::default(); 3];
        let current = self.get("client-output-buffer-limit").unwrap_or("");
        for (class, limit) in parse_output_buffer_limits(current).unwrap_or_default() {
            all[class] = limit;
        }
        all
    }

    /// True when an LFU eviction policy is configured (keys then track access frequency, not recency).
    pub fn lfu_policy(&self) -> bool {
        self.lfu_policy
    }

    /// Sets a parameter at run time (`CONFIG SET`).
    pub fn set_runtime(&mut self, name: &str, value: &str, protected_allowed: bool) -> Result<(), ConfigError> {
        let index = Self::lookup(name).ok_or(ConfigError::Unknown)?;
        let param = &PARAMS[index];
        if !param.mutable {
            return Err(ConfigError::Immutable);
        }
        if param.protected && !protected_allowed {
            return Err(ConfigError::Protected);
        }
        self.store(index, Self::validate(index, value)?);
        Ok(())
    }

    /// The current value of a parameter by name, as `CONFIG GET` shows it.
    pub fn get(&self, name: &str) -> Option<&str> {
        Self::lookup(name).map(|i| self.values[i].as_str())
    }

    /// An integer or memory parameter's value (0 if it is not numeric).
    pub fn get_i64(&self, name: &str) -> i64 {
        self.get(name).and_then(|v| v.parse().ok()).unwrap_or(0)
    }

    /// [`Config::get_i64`] for a parameter named once in a `static`: no name lookup per read.
    pub fn get_i64_of(&self, param: &ParamRef) -> i64 {
        param.index().map_or(0, |i| self.ints[i])
    }

    /// A boolean parameter's value.
    pub fn get_bool(&self, name: &str) -> bool {
        self.get(name) == Some("yes")
    }

    /// Every (name, value) pair whose name or alias matches the glob `pattern`, without duplicates.
    pub fn matching(&self, pattern: &[u8]) -> Vec<(&'static str, &str)> {
        let mut out = Vec::new();
        for (i, p) in PARAMS.iter().enumerate() {
            if glob_match(pattern, p.name.as_bytes(), true) {
                out.push((p.name, self.values[i].as_str()));
            }
            if let Some(a) = p.alias {
                if glob_match(pattern, a.as_bytes(), true) {
                    out.push((a, self.values[i].as_str()));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_reads_by_reference_follow_every_change() {
        static ENTRIES: ParamRef = ParamRef::new("hash-max-listpack-entries");
        static MEMORY: ParamRef = ParamRef::new("maxmemory");
        static UNKNOWN: ParamRef = ParamRef::new("no-such-parameter");
        let mut c = Config::default();
        assert_eq!(c.get_i64_of(&ENTRIES), c.get_i64("hash-max-listpack-entries"));
        c.set_runtime("HASH-MAX-LISTPACK-ENTRIES", "7", false).unwrap();
        assert_eq!(c.get_i64_of(&ENTRIES), 7);
        c.set_startup("hash-max-ziplist-entries", "9").unwrap();
        assert_eq!(c.get_i64_of(&ENTRIES), 9);
        c.set_runtime("maxmemory", "1mb", false).unwrap();
        assert_eq!(c.get_i64_of(&MEMORY), c.get_i64("maxmemory"));
        assert_eq!(c.get_i64_of(&UNKNOWN), 0);
    }

    #[test]
    fn memory_units() {
        assert_eq!(parse_memory("1gb"), Some(1 << 30));
        assert_eq!(parse_memory("64k"), Some(64000));
        assert_eq!(parse_memory("512MB"), Some(512 << 20));
        assert_eq!(parse_memory("x"), None);
    }

    #[test]
    fn set_and_get() {
        let mut c = Config::default();
        c.set_runtime("PORT", "7000", false).unwrap();
        assert_eq!(c.get("port"), Some("7000"));
        assert_eq!(c.set_runtime("databases", "3", false), Err(ConfigError::Immutable));
        assert!(matches!(
            c.set_runtime("port", "x", false),
            Err(ConfigError::Invalid(_))
        ));
        c.set_startup("unixsocketperm", "770").unwrap();
        assert_eq!(c.get("unixsocketperm"), Some("770"));
        assert!(c.set_startup("unixsocketperm", "778").is_err());
        c.set_runtime("slave-read-only", "no", false).unwrap();
        c.set_runtime("client-output-buffer-limit", "NORMAL 1kb 2 3 replica 4 5 6", false)
            .unwrap();
        assert_eq!(
            c.get("client-output-buffer-limit"),
            Some("normal 1024 2 3 slave 4 5 6 pubsub 33554432 8388608 60")
        );
        assert_eq!(
            c.set_runtime("client-output-buffer-limit", "normal 1 2", false),
            Err(ConfigError::Invalid(
                "Wrong number of arguments in buffer limit configuration.".into()
            ))
        );
        assert!(c
            .set_runtime("client-output-buffer-limit", "master 1 2 3", false)
            .is_err());
        assert!(c
            .set_runtime("client-output-buffer-limit", "normal -1 2 3", false)
            .is_err());
        assert_eq!(c.get("replica-read-only"), Some("no"));
        assert_eq!(c.matching(b"*read-only").len(), 2);
    }
}
