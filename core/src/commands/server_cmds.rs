//! The server family: INFO, TIME, CONFIG (GET, SET, RESETSTAT, HELP), COMMAND and its subcommands,
//! SHUTDOWN, FUNCTION FLUSH/HELP and SCRIPT FLUSH/HELP.
//!
//! Owns these commands' argument rules, reply layouts and error texts (recorded from the reference
//! server; the HELP texts are keel's own, listing only what keel implements), the INFO section texts, and command introspection over the registry: only what keel
//! implements is reported. Also owns helpers other administrative commands share: help replies, the
//! subcommand syntax error and the "local connection" test behind `enable-*-command` and protected
//! configs.

use std::fmt::Write as _;

use bytes::Bytes;
use sha1::{Digest, Sha1};

use super::spec::{BeginSearch, CommandSpec, FindKeys, KeySpec};
use super::{CmdResult, CommandError, Ctx, Entry, Registry};
use crate::client::{ConnInfo, ConnKind};
use crate::config::{Config, ConfigError, PARAMS};
use crate::glob::glob_match;
use crate::resp::Reply;
use crate::server::Effect;

/// Registers the family's handlers.
pub fn register(r: &mut Registry) {
    r.add("info", info);
    r.add("time", time);
    r.add("config|get", config_get);
    r.add("config|set", config_set);
    r.add("config|resetstat", config_resetstat);
    r.add("config|help", config_help);
    r.add("command", command);
    r.add("command|count", command_count);
    r.add("command|info", command_info);
    r.add("command|list", command_list);
    r.add("command|docs", command_docs);
    r.add("command|getkeys", command_getkeys);
    r.add("command|getkeysandflags", command_getkeysandflags);
    r.add("command|help", command_help);
    r.add("shutdown", shutdown);
    r.add("function|flush", function_flush);
    r.add("function|help", function_help);
    r.add("script|flush", script_flush);
    r.add("script|help", script_help);
}

// ---------------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------------

/// True when `arg` equals the ASCII keyword `word`, ignoring case.
pub(crate) fn is(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}

/// An argument as the reference server echoes it in a reply: a C string (up to the first NUL byte),
/// decoded lossily.
pub(crate) fn c_text(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// Replies with a help text laid out like the reference server's: a header naming the command, the
/// given lines, then the `HELP` entry, each line a status reply in one array (in RESP3 too).
pub(crate) fn reply_help(ctx: &mut Ctx<'_>, lines: &[&str]) {
    let name = c_text(ctx.arg(0)).to_ascii_uppercase();
    ctx.reply.array(lines.len() + 3);
    ctx.reply
        .simple(format!("{name} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:").as_bytes());
    for line in lines {
        ctx.reply.simple(line.as_bytes());
    }
    ctx.reply.simple(b"HELP");
    ctx.reply.simple(b"    Prints this help.");
}

/// The error for a known subcommand called with arguments it does not accept (or, for commands that
/// parse their own subcommands like DEBUG, an unknown one).
pub(crate) fn subcommand_syntax_error(ctx: &Ctx<'_>) -> CommandError {
    let raw = ctx.arg(1);
    let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len()).min(128);
    let sub = String::from_utf8_lossy(&raw[..end]);
    let container = c_text(ctx.arg(0)).to_ascii_uppercase();
    CommandError::Other(
        format!("ERR unknown subcommand or wrong number of arguments for '{sub}'. Try {container} HELP.").into(),
    )
}

/// True for connections the reference server treats as local: Unix sockets, and TCP peers whose
/// address is exactly `127.0.0.1` or `::1` (other 127.x addresses are not local there either).
pub(crate) fn is_local_client(info: &ConnInfo) -> bool {
    if info.kind == ConnKind::Unix {
        return true;
    }
    let addr = info.addr.as_str();
    let host = match addr.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => addr.rsplit_once(':').map_or(addr, |(h, _)| h),
    };
    host == "127.0.0.1" || host == "::1"
}

/// Whether a `no|yes|local` setting (`enable-debug-command`, `enable-protected-configs`) lets this
/// connection perform the action.
pub(crate) fn protected_action_allowed(setting: Option<&str>, info: &ConnInfo) -> bool {
    match setting {
        Some("yes") => true,
        Some("local") => is_local_client(info),
        _ => false,
    }
}

/// Lower-case hex of a byte string.
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

// ---------------------------------------------------------------------------------------------------
// INFO
// ---------------------------------------------------------------------------------------------------

/// The sections `INFO` (and `INFO default`) reports.
const DEFAULT_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "module_list",
    "errorstats",
    "cluster",
    "keyspace",
];

/// The sections one `INFO` call asked for.
struct Sections {
    /// `all` or `everything` was given.
    all: bool,
    /// Section names, lower-case, without repeats.
    names: Vec<String>,
}

impl Sections {
    /// Reads INFO's arguments (after the command name).
    fn parse(args: &[Bytes]) -> Sections {
        let mut s = Sections {
            all: false,
            names: Vec::new(),
        };
        if args.is_empty() {
            s.add_defaults();
        }
        for arg in args {
            if is(arg, "default") {
                s.add_defaults();
            } else if is(arg, "all") || is(arg, "everything") {
                // `everything` adds modules' own sections to `all`; keel has no modules.
                s.all = true;
            } else {
                s.add(&String::from_utf8_lossy(arg).to_ascii_lowercase());
            }
        }
        s
    }

    /// Adds the default sections.
    fn add_defaults(&mut self) {
        for name in DEFAULT_SECTIONS {
            self.add(name);
        }
    }

    /// Adds one section, once.
    fn add(&mut self, name: &str) {
        if !self.names.iter().any(|n| n == name) {
            self.names.push(name.to_string());
        }
    }

    /// Whether section `name` is reported.
    fn wants(&self, name: &str) -> bool {
        self.all || self.names.iter().any(|n| n == name)
    }
}

/// `INFO`'s rendering of a byte count: `B`, then `K`, `M`, `G`, `T`, `P` with two decimals.
fn bytes_to_human(n: u64) -> String {
    const UNITS: [(u64, &str); 5] = [
        (1 << 10, "K"),
        (1 << 20, "M"),
        (1 << 30, "G"),
        (1 << 40, "T"),
        (1 << 50, "P"),
    ];
    if !(1024..1 << 60).contains(&n) {
        return format!("{n}B");
    }
    let (div, unit) = UNITS
        .iter()
        .rev()
        .find(|(d, _)| n >= *d)
        .copied()
        .unwrap_or((1 << 10, "K"));
    format!("{:.2}{unit}", n as f64 / div as f64)
}

/// `a / b` in single precision as the reference server computes its memory ratios, 0 when `b` is 0.
fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        (a as f32 / b as f32) as f64
    }
}

/// `a * 100 / b` in single precision, 0 when `b` is 0.
fn percent(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        (a as f32 * 100.0 / b as f32) as f64
    }
}

/// The event-loop API the reference server would use on this OS, as `INFO` names it.
fn multiplexing_api(os: &str) -> &'static str {
    let kernel = os.split_whitespace().next().unwrap_or("");
    match kernel {
        "Darwin" | "FreeBSD" | "OpenBSD" | "NetBSD" | "DragonFly" => "kqueue",
        "SunOS" => "evport",
        _ => "epoll",
    }
}

/// The server's event-loop frequency: `hz` clamped to 1..=500, doubled while there are more than 200
/// clients per tick when `dynamic-hz` is on (as the reference server's cron does).
fn effective_hz(config: &Config, clients: usize) -> (i64, i64) {
    let configured = config.get_i64("hz").clamp(1, 500);
    let mut hz = configured;
    if config.get_bool("dynamic-hz") {
        while clients as i64 / hz > 200 {
            hz *= 2;
            if hz > 500 {
                hz = 500;
                break;
            }
        }
    }
    (hz, configured)
}

/// The replication id reported by `INFO replication`: stable for the process, derived from the run id.
fn master_replid(run_id: &str) -> String {
    let mut h = Sha1::new();
    h.update(b"keel-replid:");
    h.update(run_id.as_bytes());
    hex(&h.finalize())
}

/// `# Server`: version, process and clock facts, plus keel's own version.
fn info_server(ctx: &Ctx<'_>, out: &mut String) {
    let s = &*ctx.server;
    let now_s = ctx.now_ms.div_euclid(1000);
    let uptime = now_s - s.started_ms.div_euclid(1000);
    let (hz, configured_hz) = effective_hz(&s.config, s.clients.len());
    let port = match s.config.get_i64("port") {
        0 => s.process.tcp_port as i64,
        p => p,
    };
    let _ = write!(
        out,
        "# Server\r\n\
         redis_version:{}\r\n\
         redis_git_sha1:00000000\r\n\
         redis_git_dirty:0\r\n\
         redis_build_id:0\r\n\
         redis_mode:standalone\r\n\
         os:{}\r\n\
         arch_bits:{}\r\n\
         monotonic_clock:POSIX clock_gettime\r\n\
         multiplexing_api:{}\r\n\
         atomicvar_api:c11-builtin\r\n\
         gcc_version:0.0.0\r\n\
         process_id:{}\r\n\
         process_supervised:no\r\n\
         run_id:{}\r\n\
         tcp_port:{}\r\n\
         server_time_usec:{}\r\n\
         uptime_in_seconds:{}\r\n\
         uptime_in_days:{}\r\n\
         hz:{}\r\n\
         configured_hz:{}\r\n\
         lru_clock:{}\r\n\
         executable:{}\r\n\
         config_file:{}\r\n\
         io_threads_active:0\r\n\
         keel_version:{}\r\n",
        crate::COMPAT_VERSION,
        s.process.os,
        usize::BITS,
        multiplexing_api(&s.process.os),
        s.process.pid,
        s.run_id,
        port,
        ctx.now_us,
        uptime,
        uptime / 86_400,
        hz,
        configured_hz,
        now_s & LRU_CLOCK_MAX,
        s.process.executable,
        s.process.config_file,
        crate::KEEL_VERSION,
    );
}

/// The reference server's LRU clock: Unix seconds modulo 2^24.
pub(crate) const LRU_CLOCK_MAX: i64 = (1 << 24) - 1;

/// `# Clients`.
fn info_clients(ctx: &Ctx<'_>, out: &mut String) {
    let s = &*ctx.server;
    let max_input = s
        .clients
        .iter()
        .map(|c| c.query_buf_len)
        .chain(std::iter::once(ctx.client.query_buf_len))
        .max()
        .unwrap_or(0);
    let _ = write!(
        out,
        "# Clients\r\n\
         connected_clients:{}\r\n\
         cluster_connections:0\r\n\
         maxclients:{}\r\n\
         client_recent_max_input_buffer:{}\r\n\
         client_recent_max_output_buffer:0\r\n\
         blocked_clients:{}\r\n\
         tracking_clients:0\r\n\
         clients_in_timeout_table:{}\r\n",
        s.clients.len(),
        s.config.get_i64("maxclients"),
        max_input,
        s.blocked.len(),
        s.blocked.len(),
    );
}

/// `# Memory`, from the figures the shell measures; what keel does not measure reads 0.
fn info_memory(ctx: &Ctx<'_>, out: &mut String) {
    let s = &*ctx.server;
    let m = s.memory;
    let used = m.used_memory;
    let rss = m.rss;
    let peak = m.peak.max(used);
    let maxmemory = s.config.get_i64("maxmemory").max(0) as u64;
    // keel's figures are an allocator counter and the RSS; the allocator's own view is that counter.
    let (allocated, active, resident) = (used, used, rss);
    let _ = write!(
        out,
        "# Memory\r\n\
         used_memory:{used}\r\n\
         used_memory_human:{}\r\n\
         used_memory_rss:{rss}\r\n\
         used_memory_rss_human:{}\r\n\
         used_memory_peak:{peak}\r\n\
         used_memory_peak_human:{}\r\n\
         used_memory_peak_perc:{:.2}%\r\n\
         used_memory_overhead:0\r\n\
         used_memory_startup:0\r\n\
         used_memory_dataset:{used}\r\n\
         used_memory_dataset_perc:{:.2}%\r\n\
         allocator_allocated:{allocated}\r\n\
         allocator_active:{active}\r\n\
         allocator_resident:{resident}\r\n\
         total_system_memory:0\r\n\
         total_system_memory_human:0B\r\n\
         used_memory_lua:0\r\n\
         used_memory_vm_eval:0\r\n\
         used_memory_lua_human:0B\r\n\
         used_memory_scripts_eval:0\r\n\
         number_of_cached_scripts:0\r\n\
         number_of_functions:0\r\n\
         number_of_libraries:0\r\n\
         used_memory_vm_functions:0\r\n\
         used_memory_vm_total:0\r\n\
         used_memory_vm_total_human:0B\r\n\
         used_memory_functions:0\r\n\
         used_memory_scripts:0\r\n\
         used_memory_scripts_human:0B\r\n\
         maxmemory:{maxmemory}\r\n\
         maxmemory_human:{}\r\n\
         maxmemory_policy:{}\r\n\
         allocator_frag_ratio:{:.2}\r\n\
         allocator_frag_bytes:{}\r\n\
         allocator_rss_ratio:{:.2}\r\n\
         allocator_rss_bytes:{}\r\n\
         rss_overhead_ratio:{:.2}\r\n\
         rss_overhead_bytes:{}\r\n\
         mem_fragmentation_ratio:{:.2}\r\n\
         mem_fragmentation_bytes:{}\r\n\
         mem_not_counted_for_evict:0\r\n\
         mem_replication_backlog:0\r\n\
         mem_total_replication_buffers:0\r\n\
         mem_clients_slaves:0\r\n\
         mem_clients_normal:0\r\n\
         mem_cluster_links:0\r\n\
         mem_aof_buffer:0\r\n\
         mem_allocator:libc\r\n\
         active_defrag_running:0\r\n\
         lazyfree_pending_objects:0\r\n\
         lazyfreed_objects:0\r\n",
        bytes_to_human(used),
        bytes_to_human(rss),
        bytes_to_human(peak),
        percent(used, peak),
        // Net of start-up memory (none counted), as the reference server divides.
        if used == 0 { 0.0 } else { percent(used, used) },
        bytes_to_human(maxmemory),
        s.config.get("maxmemory-policy").unwrap_or("noeviction"),
        ratio(active, allocated),
        active as i64 - allocated as i64,
        ratio(resident, active),
        resident as i64 - active as i64,
        ratio(rss, resident),
        rss as i64 - resident as i64,
        ratio(rss, used),
        rss as i64 - used as i64,
    );
}

/// `# Persistence`.
fn info_persistence(ctx: &Ctx<'_>, out: &mut String) {
    let s = &*ctx.server;
    let p = &s.persistence;
    let now_ms = ctx.now_ms;
    let (current_secs, processed, total) = match &p.snapshot {
        Some(snap) => (
            (now_ms - p.started_ms).div_euclid(1000),
            snap.keys_processed(&s.dbs),
            snap.keys_total,
        ),
        None => (-1, 0, 0),
    };
    // keel saves without forking, so the copy-on-write figures stay 0.
    let _ = write!(
        out,
        "# Persistence\r\n\
         loading:{}\r\n\
         async_loading:0\r\n\
         current_cow_peak:0\r\n\
         current_cow_size:0\r\n\
         current_cow_size_age:0\r\n\
         current_fork_perc:0.00\r\n\
         current_save_keys_processed:{processed}\r\n\
         current_save_keys_total:{total}\r\n\
         rdb_changes_since_last_save:{}\r\n\
         rdb_bgsave_in_progress:{}\r\n\
         rdb_last_save_time:{}\r\n\
         rdb_last_bgsave_status:{}\r\n\
         rdb_last_bgsave_time_sec:{}\r\n\
         rdb_current_bgsave_time_sec:{current_secs}\r\n\
         rdb_saves:{}\r\n\
         rdb_last_cow_size:0\r\n\
         rdb_last_load_keys_expired:{}\r\n\
         rdb_last_load_keys_loaded:{}\r\n\
         {}\
         module_fork_in_progress:0\r\n\
         module_fork_last_cow_size:0\r\n\
         {}",
        p.loading as u8,
        s.dirty,
        p.in_progress() as u8,
        p.last_save_ms.div_euclid(1000),
        if p.last_ok { "ok" } else { "err" },
        p.last_bgsave_secs,
        p.saves,
        p.last_load_keys_expired,
        p.last_load_keys_loaded,
        ctx.server.aof.info_lines(ctx.now_ms),
        ctx.server.aof.enabled_lines(),
    );
}

/// `# Stats`.
fn info_stats(ctx: &Ctx<'_>, out: &mut String) {
    let s = &*ctx.server;
    let st = &s.stats;
    // Dispatch counts a command before running it; the reference server counts it once it has run, so
    // the INFO call itself is not in its own figure.
    let commands = st.commands_processed.saturating_sub(1);
    let _ = write!(
        out,
        "# Stats\r\n\
         total_connections_received:{}\r\n\
         total_commands_processed:{commands}\r\n\
         instantaneous_ops_per_sec:0\r\n\
         total_net_input_bytes:{}\r\n\
         total_net_output_bytes:{}\r\n\
         total_net_repl_input_bytes:0\r\n\
         total_net_repl_output_bytes:0\r\n\
         instantaneous_input_kbps:0.00\r\n\
         instantaneous_output_kbps:0.00\r\n\
         instantaneous_input_repl_kbps:0.00\r\n\
         instantaneous_output_repl_kbps:0.00\r\n\
         rejected_connections:{}\r\n\
         sync_full:0\r\n\
         sync_partial_ok:0\r\n\
         sync_partial_err:0\r\n\
         expired_keys:{}\r\n\
         expired_stale_perc:0.00\r\n\
         expired_time_cap_reached_count:0\r\n\
         expire_cycle_cpu_milliseconds:0\r\n\
         evicted_keys:0\r\n\
         evicted_clients:0\r\n\
         total_eviction_exceeded_time:0\r\n\
         current_eviction_exceeded_time:0\r\n\
         keyspace_hits:{}\r\n\
         keyspace_misses:{}\r\n\
         pubsub_channels:0\r\n\
         pubsub_patterns:0\r\n\
         pubsubshard_channels:0\r\n\
         latest_fork_usec:0\r\n\
         total_forks:0\r\n\
         migrate_cached_sockets:0\r\n\
         slave_expires_tracked_keys:0\r\n\
         active_defrag_hits:0\r\n\
         active_defrag_misses:0\r\n\
         active_defrag_key_hits:0\r\n\
         active_defrag_key_misses:0\r\n\
         total_active_defrag_time:0\r\n\
         current_active_defrag_time:0\r\n\
         tracking_total_keys:0\r\n\
         tracking_total_items:0\r\n\
         tracking_total_prefixes:0\r\n\
         unexpected_error_replies:{}\r\n\
         total_error_replies:{}\r\n\
         dump_payload_sanitizations:0\r\n\
         total_reads_processed:0\r\n\
         total_writes_processed:0\r\n\
         io_threaded_reads_processed:0\r\n\
         io_threaded_writes_processed:0\r\n\
         reply_buffer_shrinks:0\r\n\
         reply_buffer_expands:0\r\n\
         acl_access_denied_auth:{}\r\n\
         acl_access_denied_cmd:{}\r\n\
         acl_access_denied_key:{}\r\n\
         acl_access_denied_channel:{}\r\n",
        s.clients.total_connections,
        st.net_input_bytes,
        st.net_output_bytes,
        st.rejected_connections,
        s.expired_keys(),
        st.keyspace_hits,
        st.keyspace_misses,
        st.unexpected_error_replies,
        st.total_error_replies,
        st.acl_denied_auth,
        st.acl_denied_cmd,
        st.acl_denied_key,
        st.acl_denied_channel,
    );
}

/// `# Replication`: always a master without replicas.
fn info_replication(ctx: &Ctx<'_>, out: &mut String) {
    let _ = write!(
        out,
        "# Replication\r\n\
         role:master\r\n\
         connected_slaves:0\r\n\
         master_failover_state:no-failover\r\n\
         master_replid:{}\r\n\
         master_replid2:0000000000000000000000000000000000000000\r\n\
         master_repl_offset:0\r\n\
         second_repl_offset:-1\r\n\
         repl_backlog_active:0\r\n\
         repl_backlog_size:1048576\r\n\
         repl_backlog_first_byte_offset:0\r\n\
         repl_backlog_histlen:0\r\n",
        master_replid(&ctx.server.run_id),
    );
}

/// `# CPU`.
fn info_cpu(out: &mut String) {
    // The shell does not measure CPU time yet.
    out.push_str(
        "# CPU\r\n\
         used_cpu_sys:0.000000\r\n\
         used_cpu_user:0.000000\r\n\
         used_cpu_sys_children:0.000000\r\n\
         used_cpu_user_children:0.000000\r\n\
         used_cpu_sys_main_thread:0.000000\r\n\
         used_cpu_user_main_thread:0.000000\r\n",
    );
}

/// `# Errorstats`: error replies by code.
fn info_errorstats(ctx: &Ctx<'_>, out: &mut String) {
    out.push_str("# Errorstats\r\n");
    // The reference server keeps them in a radix tree: listed in byte order of the code.
    let mut codes: Vec<&(Vec<u8>, u64)> = ctx.server.stats.errors_by_code.iter().collect();
    codes.sort_by(|a, b| a.0.cmp(&b.0));
    for (code, count) in codes {
        // Characters that would break the `name:value` layout are replaced, as the reference does.
        let safe: String = String::from_utf8_lossy(code)
            .chars()
            .map(|c| if matches!(c, '#' | ':' | '\r' | '\n') { '_' } else { c })
            .collect();
        let _ = write!(out, "errorstat_{safe}:count={count}\r\n");
    }
}

/// `# Keyspace`: one line per database holding keys.
fn info_keyspace(ctx: &Ctx<'_>, out: &mut String) {
    out.push_str("# Keyspace\r\n");
    for (i, db) in ctx.server.dbs.iter().enumerate() {
        let (keys, expires) = (db.len(), db.volatile_len());
        if keys > 0 || expires > 0 {
            // An estimate from active-expiry samples, as the reference server reports it.
            let avg_ttl = if expires == 0 { 0 } else { db.avg_ttl };
            let _ = write!(out, "db{i}:keys={keys},expires={expires},avg_ttl={avg_ttl}\r\n");
        }
    }
}

/// The text of `INFO` for the given arguments (after the command name).
fn info_text(ctx: &Ctx<'_>, args: &[Bytes]) -> String {
    let want = Sections::parse(args);
    let mut out = String::new();
    let section = |out: &mut String, name: &str, write: &dyn Fn(&mut String)| {
        if want.wants(name) {
            if !out.is_empty() {
                out.push_str("\r\n");
            }
            write(out);
        }
    };
    section(&mut out, "server", &|o| info_server(ctx, o));
    section(&mut out, "clients", &|o| info_clients(ctx, o));
    section(&mut out, "memory", &|o| info_memory(ctx, o));
    section(&mut out, "persistence", &|o| info_persistence(ctx, o));
    section(&mut out, "stats", &|o| info_stats(ctx, o));
    section(&mut out, "replication", &|o| info_replication(ctx, o));
    section(&mut out, "cpu", &|o| info_cpu(o));
    let modules = want.wants("module_list") || want.wants("modules");
    if modules {
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        out.push_str("# Modules\r\n");
    }
    // Commandstats and Latencystats come here in the reference server; keel does not track per-command
    // calls or latencies yet, so those sections are left out rather than shown empty.
    section(&mut out, "errorstats", &|o| info_errorstats(ctx, o));
    section(&mut out, "cluster", &|o| {
        o.push_str("# Cluster\r\ncluster_enabled:0\r\n")
    });
    section(&mut out, "keyspace", &|o| info_keyspace(ctx, o));
    out
}

/// INFO [section ...]
fn info(ctx: &mut Ctx<'_>) -> CmdResult {
    let args = &ctx.argv[1..];
    let text = info_text(ctx, args);
    ctx.reply.verbatim(b"txt", text.as_bytes());
    Ok(())
}

/// TIME
fn time(ctx: &mut Ctx<'_>) -> CmdResult {
    ctx.reply.array(2);
    ctx.reply.bulk_i64(ctx.now_us.div_euclid(1_000_000));
    ctx.reply.bulk_i64(ctx.now_us.rem_euclid(1_000_000));
    Ok(())
}

// ---------------------------------------------------------------------------------------------------
// CONFIG
// ---------------------------------------------------------------------------------------------------

/// `CONFIG HELP`'s lines: the subcommands keel implements, in keel's words.
const CONFIG_HELP: &[&str] = &[
    "GET <pattern> [<pattern> ...]",
    "    Every parameter whose name or alias matches a glob <pattern>, with its value.",
    "RESETSTAT",
    "    Zero the counters INFO reports.",
    "SET <parameter> <value> [<parameter> <value> ...]",
    "    Change parameters at run time: all values are checked first, and none changes if one is refused.",
];

/// CONFIG GET parameter [parameter ...]
///
/// A name without glob characters is looked up directly (aliases included) and echoed as given; a
/// pattern matches names and aliases. A name already in the reply, in any case, is not repeated.
fn config_get(ctx: &mut Ctx<'_>) -> CmdResult {
    let mut found: Vec<(Vec<u8>, String)> = Vec::new();
    let seen = |found: &[(Vec<u8>, String)], name: &[u8]| found.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    for pattern in &ctx.argv[2..] {
        if !pattern.iter().any(|b| matches!(b, b'[' | b'*' | b'?')) {
            if seen(&found, pattern) {
                continue;
            }
            let value = std::str::from_utf8(pattern).ok().and_then(|n| ctx.server.config.get(n));
            if let Some(v) = value {
                found.push((pattern.to_vec(), v.to_string()));
            }
            continue;
        }
        for (name, value) in ctx.server.config.matching(pattern) {
            if !seen(&found, name.as_bytes()) {
                found.push((name.as_bytes().to_vec(), value.to_string()));
            }
        }
    }
    ctx.reply.map(found.len());
    for (name, value) in &found {
        ctx.reply.bulk(name);
        ctx.reply.bulk(value.as_bytes());
    }
    Ok(())
}

/// One parameter of a CONFIG SET call, resolved.
struct SetTarget {
    /// Index in [`PARAMS`].
    index: usize,
    /// The name the reference server reports in errors: the parameter's or the alias used.
    name: &'static str,
    value: String,
}

/// CONFIG SET parameter value [parameter value ...]
///
/// All or nothing, checked in the reference server's order: every name first (unknown, immutable,
/// protected, repeated: the first problem wins), then every value. Only then is anything changed.
fn config_set(ctx: &mut Ctx<'_>) -> CmdResult {
    if ctx.argc() % 2 == 1 {
        return Err(CommandError::Syntax);
    }
    let protected_ok = protected_action_allowed(ctx.server.config.get("enable-protected-configs"), &ctx.client.info);
    let mut targets: Vec<SetTarget> = Vec::new();
    let mut problem: Option<CommandError> = None;
    for pair in ctx.argv[2..].chunks(2) {
        let given = &pair[0];
        let index = std::str::from_utf8(given).ok().and_then(Config::lookup);
        let Some(index) = index else {
            if problem.is_none() {
                problem = Some(CommandError::Other(
                    format!(
                        "ERR Unknown option or number of arguments for CONFIG SET - '{}'",
                        c_text(given)
                    )
                    .into(),
                ));
            }
            continue;
        };
        if problem.is_some() {
            continue;
        }
        let param = &PARAMS[index];
        let failed = |reason: &str| {
            CommandError::Other(
                format!(
                    "ERR CONFIG SET failed (possibly related to argument '{}') - {reason}",
                    c_text(given)
                )
                .into(),
            )
        };
        if !param.mutable {
            problem = Some(failed(&ConfigError::Immutable.reason()));
            continue;
        }
        if param.protected && !protected_ok {
            problem = Some(failed(&ConfigError::Protected.reason()));
            continue;
        }
        // An alias is a parameter of its own to the reference server: setting a name and its alias in
        // one call is not a repeat.
        let name = match param.alias {
            Some(a) if !param.name.as_bytes().eq_ignore_ascii_case(given) => a,
            _ => param.name,
        };
        if targets.iter().any(|t| t.index == index && t.name == name) {
            problem = Some(failed("duplicate parameter"));
            continue;
        }
        targets.push(SetTarget {
            index,
            name,
            value: String::from_utf8_lossy(&pair[1]).into_owned(),
        });
    }
    if let Some(e) = problem {
        return Err(e);
    }
    for t in &mut targets {
        let mut value = Config::validate(t.index, &t.value).map_err(|e| {
            CommandError::Other(
                format!(
                    "ERR CONFIG SET failed (possibly related to argument '{}') - {}",
                    t.name,
                    e.reason()
                )
                .into(),
            )
        })?;
        if PARAMS[t.index].name == "hz" {
            // Applied clamped to the frequencies the server can run at, and reported so.
            value = value.parse::<i64>().map_or(value, |hz| hz.clamp(1, 500).to_string());
        }
        t.value = value;
    }
    let mut previous: Vec<(&'static str, String)> = Vec::new();
    let mut changed: Vec<&'static str> = Vec::new();
    for t in &targets {
        let param = PARAMS[t.index].name;
        let before = ctx.server.config.get(param).unwrap_or("").to_string();
        ctx.server
            .config
            .set_runtime(param, &t.value, true)
            .map_err(|e| CommandError::Other(format!("ERR CONFIG SET failed - {}", e.reason()).into()))?;
        if ctx.server.config.get(param) != Some(before.as_str()) && !changed.contains(&param) {
            changed.push(param);
        }
        previous.push((param, before));
    }
    // Settings the shell applies itself (TLS certificates) can still fail; then nothing changes.
    // The hook sees every parameter set, changed or not: setting a certificate path again reloads it.
    if let Some(mut apply) = ctx.server.config_applier.take() {
        let set: Vec<&'static str> = previous.iter().map(|(name, _)| *name).collect();
        let result = apply(&ctx.server.config, &set);
        ctx.server.config_applier = Some(apply);
        if let Err((param, reason)) = result {
            for (name, before) in previous.iter().rev() {
                let _ = ctx.server.config.set_startup(name, before);
            }
            return Err(CommandError::Other(
                format!("ERR CONFIG SET failed (possibly related to argument '{param}') - {reason}").into(),
            ));
        }
    }
    for param in changed {
        if param == "requirepass" {
            let pass = ctx.server.config.get(param).unwrap_or("").to_string();
            ctx.server.acl.set_requirepass(&pass);
        }
        let effect = Effect::ConfigChanged(param);
        if !ctx.server.effects.contains(&effect) {
            ctx.server.effects.push(effect);
        }
    }
    ctx.reply.ok();
    Ok(())
}

/// CONFIG RESETSTAT
fn config_resetstat(ctx: &mut Ctx<'_>) -> CmdResult {
    let s = &mut *ctx.server;
    s.stats = Default::default();
    // The reference server counts this command after the reset; dispatch counted it before.
    s.stats.commands_processed = 1;
    s.clients.total_connections = 0;
    for db in &mut s.dbs {
        db.expired_count = 0;
    }
    ctx.reply.ok();
    Ok(())
}

/// CONFIG HELP
fn config_help(ctx: &mut Ctx<'_>) -> CmdResult {
    reply_help(ctx, CONFIG_HELP);
    Ok(())
}

// ---------------------------------------------------------------------------------------------------
// COMMAND
// ---------------------------------------------------------------------------------------------------

/// `COMMAND HELP`'s lines: the subcommands keel implements, in keel's words.
const COMMAND_HELP: &[&str] = &[
    "(without a subcommand)",
    "    Details of every command keel implements.",
    "COUNT",
    "    How many commands keel implements.",
    "DOCS [<command-name> ...]",
    "    Documentation of the named commands (unknown names are left out), or of all of them.",
    "GETKEYS <command> [<arg> ...]",
    "    Which arguments of the given command line are keys.",
    "GETKEYSANDFLAGS <command> [<arg> ...]",
    "    Like GETKEYS, with the access flags of each key.",
    "INFO [<command-name> ...]",
    "    Details of the named commands (null for unknown names), or of all of them.",
    "LIST [FILTERBY (MODULE <name>|ACLCAT <category>|PATTERN <glob>)]",
    "    Names of the commands and subcommands keel implements, optionally filtered.",
];

/// A command or subcommand as introspection reports it: its spec and, for a container, the
/// subcommands keel registers, in the recorded table's order.
struct Listed {
    /// The command's spec.
    spec: &'static CommandSpec,
    /// Its registered subcommands.
    subs: Vec<&'static CommandSpec>,
}

impl Listed {
    /// A registered command with its registered subcommands.
    fn of_entry(e: &Entry) -> Listed {
        let subs = e
            .spec
            .subcommands
            .iter()
            .filter(|s| e.subcommands.iter().any(|(r, _)| r.name == s.name))
            .collect();
        Listed { spec: e.spec, subs }
    }

    /// A subcommand.
    fn leaf(spec: &'static CommandSpec) -> Listed {
        Listed { spec, subs: Vec::new() }
    }
}

/// Every implemented command, by name (the reference server's order is its hash table's).
fn all_commands(registry: &Registry) -> Vec<Listed> {
    let mut all: Vec<Listed> = registry.iter().map(Listed::of_entry).collect();
    all.sort_by_key(|l| l.spec.name);
    all
}

/// The subcommand `sub` among an entry's registered ones, case-insensitively.
fn registered_sub(entry: &Entry, sub: &[u8]) -> Option<&'static CommandSpec> {
    entry.subcommands.iter().map(|(spec, _)| *spec).find(|spec| {
        spec.name
            .rsplit('|')
            .next()
            .is_some_and(|s| s.as_bytes().eq_ignore_ascii_case(sub))
    })
}

/// Resolves `name` or `container|sub` the way COMMAND INFO and COMMAND DOCS do (exactly one level).
fn find_by_fullname(registry: &Registry, name: &[u8]) -> Option<Listed> {
    let parts: Vec<&[u8]> = name.split(|&b| b == b'|').collect();
    let entry = registry.get(parts.first()?)?;
    match parts.len() {
        1 => Some(Listed::of_entry(entry)),
        2 if !entry.subcommands.is_empty() => registered_sub(entry, parts[1]).map(Listed::leaf),
        _ => None,
    }
}

/// Writes a set of status strings (flags, ACL categories).
fn write_status_set(reply: &mut Reply<'_>, items: &[&str]) {
    reply.set(items.len());
    for item in items {
        reply.simple(item.as_bytes());
    }
}

/// Writes one key spec as `COMMAND INFO` lays it out.
fn write_key_spec(reply: &mut Reply<'_>, ks: &KeySpec) {
    reply.map(3 + usize::from(!ks.notes.is_empty()));
    if !ks.notes.is_empty() {
        reply.bulk(b"notes");
        reply.bulk(ks.notes.as_bytes());
    }
    reply.bulk(b"flags");
    write_status_set(reply, ks.flags);
    reply.bulk(b"begin_search");
    reply.map(2);
    reply.bulk(b"type");
    match ks.begin_search {
        BeginSearch::Index(pos) => {
            reply.bulk(b"index");
            reply.bulk(b"spec");
            reply.map(1);
            reply.bulk(b"index");
            reply.integer(pos as i64);
        }
        BeginSearch::Keyword { keyword, start_from } => {
            reply.bulk(b"keyword");
            reply.bulk(b"spec");
            reply.map(2);
            reply.bulk(b"keyword");
            reply.bulk(keyword.as_bytes());
            reply.bulk(b"startfrom");
            reply.integer(start_from as i64);
        }
        BeginSearch::Unknown => {
            reply.bulk(b"unknown");
            reply.bulk(b"spec");
            reply.map(0);
        }
    }
    reply.bulk(b"find_keys");
    reply.map(2);
    reply.bulk(b"type");
    match ks.find_keys {
        FindKeys::Range { last_key, step, limit } => {
            reply.bulk(b"range");
            reply.bulk(b"spec");
            reply.map(3);
            reply.bulk(b"lastkey");
            reply.integer(last_key as i64);
            reply.bulk(b"keystep");
            reply.integer(step as i64);
            reply.bulk(b"limit");
            reply.integer(limit as i64);
        }
        FindKeys::Keynum {
            keynum_idx,
            first_key,
            step,
        } => {
            reply.bulk(b"keynum");
            reply.bulk(b"spec");
            reply.map(3);
            reply.bulk(b"keynumidx");
            reply.integer(keynum_idx as i64);
            reply.bulk(b"firstkey");
            reply.integer(first_key as i64);
            reply.bulk(b"keystep");
            reply.integer(step as i64);
        }
        FindKeys::Unknown => {
            reply.bulk(b"unknown");
            reply.bulk(b"spec");
            reply.map(0);
        }
    }
}

/// Writes one command's `COMMAND INFO` entry: ten fields, subcommands last (an empty set when there are
/// none, an array of their own entries otherwise).
fn write_command_info(reply: &mut Reply<'_>, spec: &CommandSpec, subs: &[&'static CommandSpec]) {
    reply.array(10);
    reply.bulk(spec.name.as_bytes());
    reply.integer(spec.arity as i64);
    write_status_set(reply, spec.flags);
    reply.integer(spec.first_key as i64);
    reply.integer(spec.last_key as i64);
    reply.integer(spec.step as i64);
    write_status_set(reply, spec.acl_categories);
    reply.set(spec.tips.len());
    for tip in spec.tips {
        reply.bulk(tip.as_bytes());
    }
    reply.set(spec.key_specs.len());
    for ks in spec.key_specs {
        write_key_spec(reply, ks);
    }
    if subs.is_empty() {
        reply.set(0);
    } else {
        reply.array(subs.len());
        for sub in subs {
            write_command_info(reply, sub, &[]);
        }
    }
}

/// Writes one command's `COMMAND DOCS` entry. keel records only the group and the version a command
/// appeared in (no summary, complexity, history or arguments), so only those fields are reported.
fn write_command_docs(reply: &mut Reply<'_>, spec: &CommandSpec, subs: &[&'static CommandSpec]) {
    let has_since = !spec.since.is_empty();
    reply.map(1 + usize::from(has_since) + usize::from(!subs.is_empty()));
    if has_since {
        reply.bulk(b"since");
        reply.bulk(spec.since.as_bytes());
    }
    reply.bulk(b"group");
    reply.bulk(spec.group.as_bytes());
    if !subs.is_empty() {
        reply.bulk(b"subcommands");
        reply.map(subs.len());
        for sub in subs {
            reply.bulk(sub.name.as_bytes());
            write_command_docs(reply, sub, &[]);
        }
    }
}

/// COMMAND (no subcommand): every implemented command's info.
fn command(ctx: &mut Ctx<'_>) -> CmdResult {
    let all = all_commands(&ctx.server.registry);
    ctx.reply.array(all.len());
    for l in &all {
        write_command_info(&mut ctx.reply, l.spec, &l.subs);
    }
    Ok(())
}

/// COMMAND COUNT
fn command_count(ctx: &mut Ctx<'_>) -> CmdResult {
    ctx.reply.integer(ctx.server.registry.len() as i64);
    Ok(())
}

/// COMMAND INFO [command-name ...]: unknown names give a null entry.
fn command_info(ctx: &mut Ctx<'_>) -> CmdResult {
    if ctx.argc() == 2 {
        return command(ctx);
    }
    ctx.reply.array(ctx.argc() - 2);
    for name in &ctx.argv[2..] {
        match find_by_fullname(&ctx.server.registry, name) {
            Some(l) => write_command_info(&mut ctx.reply, l.spec, &l.subs),
            None => ctx.reply.null(),
        }
    }
    Ok(())
}

/// COMMAND DOCS [command-name ...]: unknown names are left out.
fn command_docs(ctx: &mut Ctx<'_>) -> CmdResult {
    let found: Vec<Listed> = if ctx.argc() == 2 {
        all_commands(&ctx.server.registry)
    } else {
        ctx.argv[2..]
            .iter()
            .filter_map(|n| find_by_fullname(&ctx.server.registry, n))
            .collect()
    };
    ctx.reply.map(found.len());
    for l in &found {
        ctx.reply.bulk(l.spec.name.as_bytes());
        write_command_docs(&mut ctx.reply, l.spec, &l.subs);
    }
    Ok(())
}

/// The filter of `COMMAND LIST FILTERBY`.
enum ListFilter {
    /// Every command.
    None,
    /// Commands of a module (there are none).
    Module,
    /// Commands in an ACL category (named without `@`).
    AclCat(Vec<u8>),
    /// Names matching a glob pattern, case-insensitively.
    Pattern(Vec<u8>),
}

impl ListFilter {
    /// Whether the command or subcommand is listed.
    fn keeps(&self, spec: &CommandSpec) -> bool {
        match self {
            ListFilter::None => true,
            // keel loads no modules.
            ListFilter::Module => false,
            ListFilter::AclCat(cat) => spec.acl_categories.iter().any(|c| {
                c.strip_prefix('@')
                    .is_some_and(|c| c.as_bytes().eq_ignore_ascii_case(cat))
            }),
            ListFilter::Pattern(p) => glob_match(p, spec.name.as_bytes(), true),
        }
    }
}

/// COMMAND LIST [FILTERBY MODULE name|ACLCAT category|PATTERN pattern]
fn command_list(ctx: &mut Ctx<'_>) -> CmdResult {
    let mut filter = ListFilter::None;
    let mut i = 2;
    while i < ctx.argc() {
        if !(is(ctx.arg(i), "filterby") && ctx.argc() - 1 - i == 2) {
            return Err(CommandError::Syntax);
        }
        let arg = ctx.arg(i + 2).to_vec();
        let kind = ctx.arg(i + 1);
        filter = if is(kind, "module") {
            ListFilter::Module
        } else if is(kind, "aclcat") {
            ListFilter::AclCat(arg)
        } else if is(kind, "pattern") {
            ListFilter::Pattern(arg)
        } else {
            return Err(CommandError::Syntax);
        };
        i += 3;
    }
    let mut names: Vec<&'static str> = Vec::new();
    for l in all_commands(&ctx.server.registry) {
        for spec in std::iter::once(l.spec).chain(l.subs.iter().copied()) {
            if filter.keeps(spec) {
                names.push(spec.name);
            }
        }
    }
    ctx.reply.array(names.len());
    for n in names {
        ctx.reply.bulk(n.as_bytes());
    }
    Ok(())
}

/// Key positions found in a command's arguments, each with its key-spec flags.
pub(crate) type KeyRefs = Vec<(usize, &'static [&'static str])>;

/// A key that is read.
const RO_ACCESS: &[&str] = &["RO", "access"];
/// A key that is read and modified.
const RW_ACCESS_UPDATE: &[&str] = &["RW", "access", "update"];
/// A key that is read and deleted.
const RW_ACCESS_DELETE: &[&str] = &["RW", "access", "delete"];
/// A key that is overwritten.
const OW_UPDATE: &[&str] = &["OW", "update"];

/// Keys found by walking the key specs, as the reference server's `getKeysUsingKeySpecs` does; `None`
/// when a spec cannot be followed (unknown, incomplete, or arguments out of range).
fn keys_from_specs(spec: &CommandSpec, args: &[Bytes]) -> Option<KeyRefs> {
    let argc = args.len() as i64;
    let mut keys = KeyRefs::new();
    for ks in spec.key_specs {
        if ks.flags.contains(&"not_key") {
            continue;
        }
        let first = match ks.begin_search {
            BeginSearch::Index(pos) => pos as i64,
            BeginSearch::Keyword { keyword, start_from } => {
                let start_from = start_from as i64;
                let (start, end) = if start_from > 0 {
                    (start_from, argc - 1)
                } else {
                    (argc + start_from, 0)
                };
                let mut found = 0;
                let mut i = start;
                while i != end {
                    if i >= argc || i < 1 {
                        break;
                    }
                    if is(&args[i as usize], keyword) {
                        found = i + 1;
                        break;
                    }
                    i = if start <= end { i + 1 } else { i - 1 };
                }
                if found == 0 {
                    continue;
                }
                found
            }
            BeginSearch::Unknown => return None,
        };
        let (first, last, step) = match ks.find_keys {
            FindKeys::Range { last_key, step, limit } => {
                let (last_key, limit) = (last_key as i64, limit as i64);
                let last = if last_key >= 0 {
                    first + last_key
                } else if limit == 0 {
                    argc + last_key
                } else {
                    first + ((argc - first) / limit + last_key)
                };
                (first, last, step as i64)
            }
            FindKeys::Keynum {
                keynum_idx,
                first_key,
                step,
            } => {
                let at = first + keynum_idx as i64;
                if at >= argc {
                    return None;
                }
                let numkeys = crate::types::number::parse_i64(&args[at as usize]).filter(|n| *n >= 0)?;
                let first = first + first_key as i64;
                (first, first.saturating_add(numkeys) - 1, step as i64)
            }
            FindKeys::Unknown => return None,
        };
        if last >= argc || last < first || first >= argc || step < 1 {
            return None;
        }
        let mut i = first;
        while i <= last {
            keys.push((i as usize, ks.flags));
            i += step;
        }
        if ks.flags.contains(&"incomplete") {
            return None;
        }
    }
    Some(keys)
}

/// Commands whose keys the reference server finds with a procedure of its own (their key specs are
/// incomplete or their flags depend on the arguments). Commands not listed here that fall back to a
/// procedure find no keys.
fn keys_from_procedure(name: &str, args: &[Bytes]) -> Option<KeyRefs> {
    let argc = args.len();
    match name {
        "set" => {
            let get = args.iter().skip(3).any(|a| is(a, "get"));
            Some(vec![(1, if get { RW_ACCESS_UPDATE } else { OW_UPDATE })])
        }
        "bitfield" => {
            let mut readonly = true;
            let mut i = 2;
            while i < argc {
                let remaining = argc - i - 1;
                let arg = &args[i];
                if is(arg, "get") && remaining >= 2 {
                    i += 2;
                } else if (is(arg, "set") || is(arg, "incrby")) && remaining >= 3 {
                    readonly = false;
                    break;
                } else if is(arg, "overflow") && remaining >= 1 {
                    i += 1;
                } else {
                    readonly = false;
                    break;
                }
                i += 1;
            }
            Some(vec![(1, if readonly { RO_ACCESS } else { RW_ACCESS_UPDATE })])
        }
        "sort" => {
            let mut keys = vec![(1, RO_ACCESS)];
            let mut store = None;
            let mut i = 2;
            while i < argc {
                let arg = &args[i];
                if is(arg, "limit") {
                    i += 2;
                } else if is(arg, "store") && i + 1 < argc {
                    // The last STORE wins, as in SORT itself.
                    store = Some(i + 1);
                } else if is(arg, "get") || is(arg, "by") {
                    i += 1;
                }
                i += 1;
            }
            keys.extend(store.map(|pos| (pos, OW_UPDATE)));
            Some(keys)
        }
        "sort_ro" => Some(vec![(1, RO_ACCESS)]),
        "migrate" => {
            let (mut first, mut num) = (3, 1);
            let mut i = 6;
            while i < argc {
                let arg = &args[i];
                if is(arg, "keys") {
                    if !args[3].is_empty() {
                        return Some(Vec::new());
                    }
                    first = i + 1;
                    num = argc - first;
                    break;
                } else if is(arg, "auth") {
                    i += 1;
                } else if is(arg, "auth2") {
                    i += 2;
                }
                i += 1;
            }
            Some((first..first + num).map(|pos| (pos, RW_ACCESS_DELETE)).collect())
        }
        _ => None,
    }
}

/// True when the command takes key arguments at all.
pub(crate) fn has_key_args(spec: &CommandSpec) -> bool {
    let has_procedure = spec.has_flag("movablekeys") || matches!(spec.name, "set" | "bitfield");
    has_procedure || spec.key_specs.iter().any(|ks| !ks.flags.contains(&"not_key"))
}

/// The keys of a full command line `args` (its name first), as `COMMAND GETKEYS` reports them.
pub(crate) fn command_keys(spec: &CommandSpec, args: &[Bytes]) -> KeyRefs {
    let usable = spec.key_specs.iter().any(|ks| !ks.flags.contains(&"not_key"));
    let variable = spec.key_specs.iter().any(|ks| ks.flags.contains(&"variable_flags"));
    if usable && !variable {
        if let Some(keys) = keys_from_specs(spec, args) {
            return keys;
        }
    }
    keys_from_procedure(spec.name, args).unwrap_or_default()
}

/// Resolves the command of a full command line the way dispatch would (a container needs a registered
/// subcommand).
fn find_for_getkeys(registry: &Registry, args: &[Bytes]) -> Option<&'static CommandSpec> {
    let entry = registry.get(&args[0])?;
    if args.len() == 1 || entry.subcommands.is_empty() {
        return Some(entry.spec);
    }
    registered_sub(entry, &args[1])
}

/// The shared body of COMMAND GETKEYS and COMMAND GETKEYSANDFLAGS.
fn getkeys(ctx: &mut Ctx<'_>, with_flags: bool) -> CmdResult {
    let argv = ctx.argv;
    let args = &argv[2..];
    let spec =
        find_for_getkeys(&ctx.server.registry, args).ok_or(CommandError::err("ERR Invalid command specified"))?;
    if !has_key_args(spec) {
        return Err(CommandError::err("ERR The command has no key arguments"));
    }
    if !spec.arity_ok(args.len()) {
        return Err(CommandError::err(
            "ERR Invalid number of arguments specified for command",
        ));
    }
    let keys = command_keys(spec, args);
    if keys.is_empty() && !spec.has_flag("no_mandatory_keys") {
        return Err(CommandError::err("ERR Invalid arguments specified for command"));
    }
    ctx.reply.array(keys.len());
    for (pos, flags) in keys {
        if with_flags {
            ctx.reply.array(2);
            ctx.reply.bulk(&args[pos]);
            write_status_set(&mut ctx.reply, flags);
        } else {
            ctx.reply.bulk(&args[pos]);
        }
    }
    Ok(())
}

/// COMMAND GETKEYS command [arg ...]
fn command_getkeys(ctx: &mut Ctx<'_>) -> CmdResult {
    getkeys(ctx, false)
}

/// COMMAND GETKEYSANDFLAGS command [arg ...]
fn command_getkeysandflags(ctx: &mut Ctx<'_>) -> CmdResult {
    getkeys(ctx, true)
}

/// COMMAND HELP
fn command_help(ctx: &mut Ctx<'_>) -> CmdResult {
    reply_help(ctx, COMMAND_HELP);
    Ok(())
}

// ---------------------------------------------------------------------------------------------------
// SHUTDOWN, FUNCTION, SCRIPT
// ---------------------------------------------------------------------------------------------------

/// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]
///
/// On success nothing is replied: the shell stops the server and the connection closes.
fn shutdown(ctx: &mut Ctx<'_>) -> CmdResult {
    let (mut nosave, mut save, mut other, mut abort) = (false, false, false, false);
    for arg in &ctx.argv[1..] {
        if is(arg, "nosave") {
            nosave = true;
        } else if is(arg, "save") {
            save = true;
        } else if is(arg, "now") || is(arg, "force") {
            // No replicas to wait for and no snapshot that could fail: nothing for them to change.
            other = true;
        } else if is(arg, "abort") {
            abort = true;
        } else {
            return Err(CommandError::Syntax);
        }
    }
    if (abort && (nosave || save || other)) || (nosave && save) {
        return Err(CommandError::Syntax);
    }
    if abort {
        // A shutdown is never left in progress: it happens as soon as the command runs.
        return Err(CommandError::err("ERR No shutdown in progress."));
    }
    let save_points = ctx.server.config.get("save").is_some_and(|v| !v.is_empty());
    let save = save || (save_points && !nosave);
    if save {
        return super::persistence::shutdown_with_save(ctx);
    }
    ctx.server.effects.push(Effect::Shutdown { save });
    ctx.close_after_reply = true;
    Ok(())
}

/// `FUNCTION HELP`'s lines: the subcommands keel implements, in keel's words.
const FUNCTION_HELP: &[&str] = &[
    "FLUSH [ASYNC|SYNC]",
    "    Remove every function library (keel has no way to load one yet, so there is none).",
];

/// `SCRIPT HELP`'s lines: the subcommands keel implements, in keel's words.
const SCRIPT_HELP: &[&str] = &[
    "FLUSH [ASYNC|SYNC]",
    "    Empty the script cache (keel does not cache scripts yet, so it is always empty).",
];

/// True when argument `i` is `SYNC` or `ASYNC`.
fn flush_mode_ok(ctx: &Ctx<'_>, i: usize) -> bool {
    is(ctx.arg(i), "sync") || is(ctx.arg(i), "async")
}

/// FUNCTION FLUSH [ASYNC|SYNC]: no libraries can be loaded yet, so there is nothing to delete.
fn function_flush(ctx: &mut Ctx<'_>) -> CmdResult {
    if ctx.argc() > 3 {
        return Err(subcommand_syntax_error(ctx));
    }
    if ctx.argc() == 3 && !flush_mode_ok(ctx, 2) {
        return Err(CommandError::err("ERR FUNCTION FLUSH only supports SYNC|ASYNC option"));
    }
    ctx.reply.ok();
    Ok(())
}

/// FUNCTION HELP
fn function_help(ctx: &mut Ctx<'_>) -> CmdResult {
    reply_help(ctx, FUNCTION_HELP);
    Ok(())
}

/// SCRIPT FLUSH [ASYNC|SYNC]: no scripts can be cached yet, so there is nothing to flush.
fn script_flush(ctx: &mut Ctx<'_>) -> CmdResult {
    if ctx.argc() > 3 || (ctx.argc() == 3 && !flush_mode_ok(ctx, 2)) {
        return Err(CommandError::err("ERR SCRIPT FLUSH only support SYNC|ASYNC option"));
    }
    ctx.reply.ok();
    Ok(())
}

/// SCRIPT HELP
fn script_help(ctx: &mut Ctx<'_>) -> CmdResult {
    reply_help(ctx, SCRIPT_HELP);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{ClientHandle, ConnInfo};
    use crate::server::{Flow, ProcessInfo, Server};

    /// When the test clients connect, in Unix ms.
    const T0: i64 = 1_700_000_000_000;

    fn server() -> Server {
        Server::new(Config::default(), 1, T0, ProcessInfo::default())
    }

    fn tcp(addr: &str) -> ConnInfo {
        ConnInfo {
            addr: addr.to_string(),
            laddr: "127.0.0.1:6379".to_string(),
            fd: 8,
            kind: ConnKind::Tcp,
        }
    }

    fn connect(s: &mut Server) -> ClientHandle {
        s.connect(tcp("127.0.0.1:50000"), T0)
    }

    /// Runs one command given as its arguments; returns the reply bytes and the flow.
    fn exec(s: &mut Server, h: ClientHandle, args: &[&[u8]]) -> (Vec<u8>, Flow) {
        let argv: Vec<Bytes> = args.iter().map(|a| Bytes::copy_from_slice(a)).collect();
        let mut out = Vec::new();
        let flow = s.execute(h, &argv, T0 * 1000 + 123_456, &mut out);
        (out, flow)
    }

    /// Runs a space-separated command and returns the reply as text.
    fn run(s: &mut Server, h: ClientHandle, line: &str) -> String {
        let args: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        String::from_utf8_lossy(&exec(s, h, &args).0).into_owned()
    }

    fn resp3(s: &mut Server) -> ClientHandle {
        let h = connect(s);
        run(s, h, "HELLO 3");
        h
    }

    /// The section headers of an INFO reply, in order.
    fn headers(reply: &str) -> Vec<&str> {
        reply.split("\r\n").filter_map(|l| l.strip_prefix("# ")).collect()
    }

    #[test]
    fn info_sections_follow_default_all_and_case_rules() {
        let mut s = server();
        let c = connect(&mut s);
        let default = [
            "Server",
            "Clients",
            "Memory",
            "Persistence",
            "Stats",
            "Replication",
            "CPU",
            "Modules",
            "Errorstats",
            "Cluster",
            "Keyspace",
        ];
        assert_eq!(headers(&run(&mut s, c, "INFO")), default);
        assert_eq!(headers(&run(&mut s, c, "INFO default")), default);
        assert_eq!(headers(&run(&mut s, c, "INFO ALL")), default);
        assert_eq!(headers(&run(&mut s, c, "INFO everything")), default);
        assert_eq!(headers(&run(&mut s, c, "INFO CPU server")), ["Server", "CPU"]);
        assert_eq!(headers(&run(&mut s, c, "INFO cpu cpu")), ["CPU"]);
        assert_eq!(headers(&run(&mut s, c, "INFO module_list")), ["Modules"]);
        assert_eq!(run(&mut s, c, "INFO foo"), "$0\r\n\r\n");
        assert_eq!(run(&mut s, c, "INFO modules"), "$11\r\n# Modules\r\n\r\n");
        assert_eq!(
            run(&mut s, c, "INFO Cluster keyspace"),
            "$44\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n# Keyspace\r\n\r\n"
        );
        let c3 = resp3(&mut s);
        assert_eq!(run(&mut s, c3, "INFO foo"), "=4\r\ntxt:\r\n");
        assert_eq!(
            run(&mut s, c3, "INFO cluster"),
            "=34\r\ntxt:# Cluster\r\ncluster_enabled:0\r\n\r\n"
        );
    }

    #[test]
    fn info_reports_real_figures() {
        let mut s = Server::new(
            Config::default(),
            1,
            T0 - 90_000_000,
            ProcessInfo {
                pid: 4242,
                executable: "/usr/bin/keel-server".into(),
                config_file: "/etc/keel.conf".into(),
                os: "Linux 6.1.0 x86_64".into(),
                tcp_port: 6379,
            },
        );
        let c = connect(&mut s);
        run(&mut s, c, "SET a 1");
        run(&mut s, c, "SET b hello");
        s.dbs[0].set_expire(b"b", T0 + 100_000);
        run(&mut s, c, "SELECT 3");
        run(&mut s, c, "SET z 1");
        run(&mut s, c, "GET z");
        run(&mut s, c, "GET nope");
        run(&mut s, c, "NOSUCHCOMMAND");
        run(&mut s, c, "SET z 1 XX NX");
        s.stats.errors_by_code.push((b"WRONGTYPE".to_vec(), 2));
        s.stats.errors_by_code.push((b"BAD:CODE".to_vec(), 1));
        s.memory.used_memory = 1152;
        s.memory.rss = 3 << 20;
        let info = run(&mut s, c, "INFO everything");
        for line in [
            "redis_version:7.0.15\r\n",
            "os:Linux 6.1.0 x86_64\r\narch_bits:64\r\n",
            "multiplexing_api:epoll\r\n",
            "gcc_version:0.0.0\r\nprocess_id:4242\r\nprocess_supervised:no\r\n",
            &format!("run_id:{}\r\ntcp_port:6379\r\n", s.run_id),
            "server_time_usec:1700000000123456\r\nuptime_in_seconds:90000\r\nuptime_in_days:1\r\n",
            "hz:10\r\nconfigured_hz:10\r\nlru_clock:5501184\r\n",
            "executable:/usr/bin/keel-server\r\nconfig_file:/etc/keel.conf\r\nio_threads_active:0\r\n",
            &format!("keel_version:{}\r\n\r\n# Clients\r\n", crate::KEEL_VERSION),
            "connected_clients:1\r\n",
            "used_memory:1152\r\nused_memory_human:1.12K\r\nused_memory_rss:3145728\r\nused_memory_rss_human:3.00M\r\n",
            "used_memory_peak_perc:100.00%\r\n",
            "maxmemory:0\r\nmaxmemory_human:0B\r\nmaxmemory_policy:noeviction\r\n",
            "rdb_last_save_time:1699910000\r\n",
            // Seven commands ran before INFO (the unknown one does not count).
            "total_connections_received:1\r\ntotal_commands_processed:7\r\n",
            "keyspace_hits:1\r\nkeyspace_misses:1\r\n",
            "total_error_replies:2\r\n",
            "# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_failover_state:no-failover\r\n",
            "used_cpu_sys:0.000000\r\n",
            "# Errorstats\r\nerrorstat_BAD_CODE:count=1\r\nerrorstat_ERR:count=2\r\nerrorstat_WRONGTYPE:count=2\r\n",
            "# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=0\r\ndb3:keys=1,expires=0,avg_ttl=0\r\n",
        ] {
            assert!(info.contains(line), "missing {line:?} in {info}");
        }
        assert!(info.ends_with("avg_ttl=0\r\n\r\n"));
        let replid = master_replid(&s.run_id);
        assert_eq!(replid.len(), 40);
        assert!(info.contains(&format!("master_replid:{replid}\r\n")));
        // The bulk length covers the text exactly.
        let (len, body) = info.split_once("\r\n").unwrap();
        assert_eq!(len[1..].parse::<usize>().unwrap(), body.len() - 2);
    }

    #[test]
    fn human_sizes_match_the_reference_rounding() {
        assert_eq!(bytes_to_human(0), "0B");
        assert_eq!(bytes_to_human(1023), "1023B");
        assert_eq!(bytes_to_human(1152), "1.12K");
        assert_eq!(bytes_to_human(916_424), "894.95K");
        assert_eq!(bytes_to_human(6_705_152), "6.39M");
        assert_eq!(bytes_to_human(25_276_502_016), "23.54G");
        assert_eq!(format!("{:.2}", percent(916_424, 894_000)), "102.51");
    }

    #[test]
    fn time_reports_seconds_and_microseconds() {
        let mut s = server();
        let c = connect(&mut s);
        assert_eq!(run(&mut s, c, "TIME"), "*2\r\n$10\r\n1700000000\r\n$6\r\n123456\r\n");
        assert_eq!(
            run(&mut s, c, "TIME x"),
            "-ERR wrong number of arguments for 'time' command\r\n"
        );
    }

    #[test]
    fn config_get_dedups_and_echoes_names() {
        let mut s = server();
        let c = connect(&mut s);
        assert_eq!(run(&mut s, c, "CONFIG GET HZ hz h?"), "*2\r\n$2\r\nHZ\r\n$2\r\n10\r\n");
        assert_eq!(run(&mut s, c, "CONFIG GET HZ*"), "*2\r\n$2\r\nhz\r\n$2\r\n10\r\n");
        assert_eq!(
            run(&mut s, c, "CONFIG GET Slave-Read-Only"),
            "*2\r\n$15\r\nSlave-Read-Only\r\n$3\r\nyes\r\n"
        );
        assert_eq!(run(&mut s, c, "CONFIG GET *read-only*").matches("read-only").count(), 2);
        assert_eq!(run(&mut s, c, "CONFIG GET nonexist"), "*0\r\n");
        assert_eq!(
            run(&mut s, c, "CONFIG GET"),
            "-ERR wrong number of arguments for 'config|get' command\r\n"
        );
        let c3 = resp3(&mut s);
        assert_eq!(run(&mut s, c3, "CONFIG GET hz"), "%1\r\n$2\r\nhz\r\n$2\r\n10\r\n");
        assert_eq!(run(&mut s, c3, "CONFIG GET zzz"), "%0\r\n");
    }

    #[test]
    fn config_set_errors_match_the_reference() {
        let mut s = server();
        let c = connect(&mut s);
        let failed =
            |arg: &str, why: &str| format!("-ERR CONFIG SET failed (possibly related to argument '{arg}') - {why}\r\n");
        let cases = [
            (
                "CONFIG SET foo bar",
                "-ERR Unknown option or number of arguments for CONFIG SET - 'foo'\r\n".to_string(),
            ),
            (
                "CONFIG SET port abc",
                failed("port", "argument couldn't be parsed into an integer"),
            ),
            (
                "CONFIG SET port 99999",
                failed("port", "argument must be between 0 and 65535 inclusive"),
            ),
            (
                "CONFIG SET HZ x",
                failed("hz", "argument couldn't be parsed into an integer"),
            ),
            (
                "CONFIG SET SLAVE-read-only x",
                failed("slave-read-only", "argument must be 'yes' or 'no'"),
            ),
            (
                "CONFIG SET databases 3",
                failed("databases", "can't set immutable config"),
            ),
            ("CONFIG SET dir /tmp", failed("dir", "can't set protected config")),
            (
                "CONFIG SET maxmemory abc",
                failed("maxmemory", "argument must be a memory value"),
            ),
            ("CONFIG SET hz 5 hz 6", failed("hz", "duplicate parameter")),
            ("CONFIG SET hz 5 HZ 6", failed("HZ", "duplicate parameter")),
            ("CONFIG SET hz x hz 6", failed("hz", "duplicate parameter")),
            ("CONFIG SET hz 5 timeout", "-ERR syntax error\r\n".to_string()),
            (
                "CONFIG SET hz 5 foo 1",
                "-ERR Unknown option or number of arguments for CONFIG SET - 'foo'\r\n".to_string(),
            ),
            (
                "CONFIG SET databases 3 foo 1",
                failed("databases", "can't set immutable config"),
            ),
            (
                "CONFIG SET foo 1 databases 3",
                "-ERR Unknown option or number of arguments for CONFIG SET - 'foo'\r\n".to_string(),
            ),
            (
                "CONFIG SET hz 5 databases 3 hz 6",
                failed("databases", "can't set immutable config"),
            ),
            (
                "CONFIG SET port x hz y",
                failed("port", "argument couldn't be parsed into an integer"),
            ),
            (
                "CONFIG SET hz",
                "-ERR wrong number of arguments for 'config|set' command\r\n".to_string(),
            ),
        ];
        for (line, want) in cases {
            assert_eq!(run(&mut s, c, line), want, "{line}");
        }
        // Nothing was changed by the failed calls, and no effect announced.
        assert_eq!(s.config.get("hz"), Some("10"));
        assert!(s.take_effects().is_empty());
    }

    #[test]
    fn config_set_is_all_or_nothing_and_announces_changes() {
        let mut s = server();
        let c = connect(&mut s);
        assert!(run(&mut s, c, "CONFIG SET hz 20 port abc").starts_with("-ERR"));
        assert_eq!(s.config.get("hz"), Some("10"));
        assert_eq!(run(&mut s, c, "CONFIG SET hz 20 maxmemory 1gb timeout 0"), "+OK\r\n");
        assert_eq!(s.config.get("maxmemory"), Some("1073741824"));
        assert_eq!(
            s.take_effects(),
            [Effect::ConfigChanged("hz"), Effect::ConfigChanged("maxmemory")]
        );
        // A name and its alias are different parameters to the reference server: no duplicate error.
        assert_eq!(
            run(&mut s, c, "CONFIG SET replica-read-only no slave-read-only yes"),
            "+OK\r\n"
        );
        assert_eq!(s.config.get("replica-read-only"), Some("yes"));
        // hz is clamped to what the server can run at.
        assert_eq!(run(&mut s, c, "CONFIG SET hz 1000"), "+OK\r\n");
        assert_eq!(run(&mut s, c, "CONFIG GET hz"), "*2\r\n$2\r\nhz\r\n$3\r\n500\r\n");
        run(&mut s, c, "CONFIG SET hz 0");
        assert_eq!(s.config.get("hz"), Some("1"));
    }

    #[test]
    fn protected_configs_follow_the_setting_and_the_peer() {
        let mut config = Config::default();
        config.set_startup("enable-protected-configs", "local").unwrap();
        let mut s = Server::new(config, 1, T0, ProcessInfo::default());
        let local = s.connect(tcp("127.0.0.1:4000"), T0);
        let other = s.connect(tcp("127.0.0.2:4000"), T0);
        assert_eq!(run(&mut s, local, "CONFIG SET dir /data"), "+OK\r\n");
        assert!(run(&mut s, other, "CONFIG SET dir /x").contains("can't set protected config"));
        assert_eq!(s.config.get("dir"), Some("/data"));
    }

    #[test]
    fn local_clients() {
        let unix = ConnInfo {
            addr: "/tmp/keel.sock:0".into(),
            kind: ConnKind::Unix,
            ..tcp("")
        };
        assert!(is_local_client(&unix));
        assert!(is_local_client(&tcp("127.0.0.1:5000")));
        assert!(is_local_client(&tcp("[::1]:5000")));
        assert!(!is_local_client(&tcp("127.0.0.2:5000")));
        assert!(!is_local_client(&tcp("[::ffff:127.0.0.1]:5000")));
        assert!(!is_local_client(&tcp("10.0.0.1:5000")));
        assert!(protected_action_allowed(Some("yes"), &tcp("10.0.0.1:1")));
        assert!(!protected_action_allowed(Some("no"), &tcp("127.0.0.1:1")));
        assert!(!protected_action_allowed(None, &tcp("127.0.0.1:1")));
    }

    #[test]
    fn config_resetstat_clears_counters() {
        let mut s = server();
        let c = connect(&mut s);
        run(&mut s, c, "GET x");
        run(&mut s, c, "FOO");
        assert_eq!(run(&mut s, c, "CONFIG RESETSTAT"), "+OK\r\n");
        let stats = run(&mut s, c, "INFO stats");
        for line in [
            "total_connections_received:0\r\n",
            "total_commands_processed:1\r\n",
            "keyspace_misses:0\r\n",
            "total_error_replies:0\r\n",
            "total_net_output_bytes:5\r\n",
        ] {
            assert!(stats.contains(line), "{line:?} in {stats}");
        }
        assert_eq!(run(&mut s, c, "INFO errorstats"), "$14\r\n# Errorstats\r\n\r\n");
    }

    /// Checks a HELP reply's layout: one array of status lines, the header naming `cmd`, then `lines`,
    /// then the `HELP` entry.
    fn assert_help_layout(reply: &str, cmd: &str, lines: &[&str]) {
        let mut parts: Vec<&str> = reply.split("\r\n").collect();
        assert_eq!(parts.pop(), Some(""), "{reply}");
        assert_eq!(parts[0], format!("*{}", lines.len() + 3), "{reply}");
        let status: Vec<&str> = parts[1..]
            .iter()
            .map(|p| p.strip_prefix('+').expect("status line"))
            .collect();
        assert_eq!(
            status[0],
            format!("{cmd} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
        );
        assert_eq!(&status[1..status.len() - 2], lines);
        assert_eq!(&status[status.len() - 2..], ["HELP", "    Prints this help."]);
    }

    /// The subcommands a help text documents: the first word of each syntax (unindented) line.
    fn documented(lines: &[&str]) -> Vec<String> {
        lines
            .iter()
            .filter(|l| !l.starts_with(' ') && !l.starts_with('('))
            .map(|l| l.split(' ').next().unwrap_or_default().to_ascii_lowercase())
            .collect()
    }

    #[test]
    fn help_replies() {
        let mut s = server();
        let c = connect(&mut s);
        for (line, cmd, lines) in [
            ("config help", "CONFIG", CONFIG_HELP),
            ("COMMAND HELP", "COMMAND", COMMAND_HELP),
            ("FUNCTION help", "FUNCTION", FUNCTION_HELP),
            ("SCRIPT HELP", "SCRIPT", SCRIPT_HELP),
        ] {
            assert_help_layout(&run(&mut s, c, line), cmd, lines);
            // Exactly the subcommands keel registers (HELP itself is the trailing entry), each once.
            let mut registered: Vec<String> = s
                .registry
                .get(cmd.as_bytes())
                .expect("registered")
                .subcommands
                .iter()
                .filter_map(|(spec, _)| spec.name.split_once('|').map(|(_, sub)| sub.to_string()))
                .filter(|sub| sub != "help")
                .collect();
            registered.sort();
            let mut listed = documented(lines);
            listed.sort();
            assert_eq!(listed, registered, "{cmd}");
            // Descriptions are indented, and there is one after every syntax line.
            for (i, syntax) in lines.iter().enumerate().filter(|(_, l)| !l.starts_with(' ')) {
                let description = lines.get(i + 1).copied().unwrap_or_default();
                assert!(description.starts_with("    "), "{cmd}: {syntax}");
            }
        }
        // COMMAND runs without a subcommand too, and its help says so first.
        assert!(COMMAND_HELP[0].starts_with('('));
        assert_eq!(
            run(&mut s, c, "CONFIG help x"),
            "-ERR wrong number of arguments for 'config|help' command\r\n"
        );
        assert_eq!(
            run(&mut s, c, "CONFIG FOO"),
            "-ERR unknown subcommand 'FOO'. Try CONFIG HELP.\r\n"
        );
    }

    /// `COMMAND INFO get`, recorded from the reference server.
    const GET_INFO_RESP2: &str = "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n\
        +@read\r\n+@string\r\n+@fast\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n\
        *4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n\
        $5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n";

    const GET_INFO_RESP3: &str = "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n~3\r\n\
        +@read\r\n+@string\r\n+@fast\r\n~0\r\n~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n\
        %2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n\
        $5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n~0\r\n";

    /// `COMMAND INFO config|get`, recorded from the reference server.
    const CONFIG_GET_INFO_RESP3: &str = "*1\r\n*10\r\n$10\r\nconfig|get\r\n:-3\r\n~4\r\n+admin\r\n+noscript\r\n\
        +loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n~3\r\n+@admin\r\n+@slow\r\n+@dangerous\r\n~0\r\n~0\r\n~0\r\n";

    #[test]
    fn command_info_layout_matches_the_reference() {
        let mut s = server();
        let c = connect(&mut s);
        assert_eq!(run(&mut s, c, "COMMAND INFO get"), GET_INFO_RESP2);
        assert_eq!(run(&mut s, c, "COMMAND INFO GET|x nosuch"), "*2\r\n$-1\r\n$-1\r\n");
        let set = run(&mut s, c, "COMMAND INFO set");
        assert!(set.contains(
            "*1\r\n*8\r\n$5\r\nnotes\r\n$48\r\nRW and ACCESS due to the optional `GET` argument\r\n$5\r\nflags\r\n\
             *4\r\n+RW\r\n+access\r\n+update\r\n+variable_flags\r\n"
        ));
        let c3 = resp3(&mut s);
        assert_eq!(run(&mut s, c3, "COMMAND INFO get"), GET_INFO_RESP3);
        assert_eq!(run(&mut s, c3, "COMMAND INFO CONFIG|GET"), CONFIG_GET_INFO_RESP3);
        assert_eq!(run(&mut s, c3, "COMMAND INFO config| x|y|z"), "*2\r\n_\r\n_\r\n");
        // A container lists its registered subcommands as an array of entries.
        let config = run(&mut s, c3, "COMMAND INFO config");
        assert!(config.starts_with(
            "*1\r\n*10\r\n$6\r\nconfig\r\n:-2\r\n~0\r\n:0\r\n:0\r\n:0\r\n~1\r\n+@slow\r\n~0\r\n~0\r\n*4\r\n"
        ));
    }

    #[test]
    fn command_lists_and_counts_only_implemented_commands() {
        let mut s = server();
        let c = connect(&mut s);
        let count = s.registry.len();
        assert_eq!(run(&mut s, c, "COMMAND COUNT"), format!(":{count}\r\n"));
        // Bare COMMAND runs even though COMMAND has subcommands.
        assert!(run(&mut s, c, "COMMAND").starts_with(&format!("*{count}\r\n*10\r\n")));
        assert!(run(&mut s, c, "COMMAND INFO").starts_with(&format!("*{count}\r\n")));
        assert_eq!(
            run(&mut s, c, "COMMAND LIST FILTERBY PATTERN conf*"),
            "*5\r\n$6\r\nconfig\r\n$11\r\nconfig|help\r\n$10\r\nconfig|get\r\n$16\r\nconfig|resetstat\r\n$10\r\nconfig|set\r\n"
        );
        assert!(run(&mut s, c, "COMMAND LIST FILTERBY ACLCAT CONNECTION").contains("$12\r\ncommand|list\r\n"));
        assert_eq!(run(&mut s, c, "COMMAND LIST FILTERBY ACLCAT nosuchcat"), "*0\r\n");
        assert_eq!(run(&mut s, c, "COMMAND LIST FILTERBY MODULE x"), "*0\r\n");
        for bad in [
            "COMMAND LIST foo",
            "COMMAND LIST FILTERBY",
            "COMMAND LIST FILTERBY foo x",
            "COMMAND LIST FILTERBY PATTERN a b",
        ] {
            assert_eq!(run(&mut s, c, bad), "-ERR syntax error\r\n", "{bad}");
        }
        let all = run(&mut s, c, "COMMAND LIST");
        assert!(all.contains("$4\r\ninfo\r\n") && all.contains("$13\r\ncommand|count\r\n"));
        assert!(!all.contains("$7\r\nmonitor\r\n"));
    }

    #[test]
    fn command_docs_report_group_and_since() {
        let mut s = server();
        let c = connect(&mut s);
        let get = "$3\r\nget\r\n*4\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n";
        assert_eq!(
            run(&mut s, c, "COMMAND DOCS get nosuch get"),
            format!("*4\r\n{get}{get}")
        );
        assert_eq!(run(&mut s, c, "COMMAND DOCS nosuch"), "*0\r\n");
        let c3 = resp3(&mut s);
        assert_eq!(
            run(&mut s, c3, "COMMAND DOCS config|get"),
            "%1\r\n$10\r\nconfig|get\r\n%2\r\n$5\r\nsince\r\n$5\r\n2.0.0\r\n$5\r\ngroup\r\n$6\r\nserver\r\n"
        );
        assert!(run(&mut s, c3, "COMMAND DOCS config").starts_with(
            "%1\r\n$6\r\nconfig\r\n%3\r\n$5\r\nsince\r\n$5\r\n2.0.0\r\n$5\r\ngroup\r\n$6\r\nserver\r\n$11\r\nsubcommands\r\n%4\r\n\
             $11\r\nconfig|help\r\n%2\r\n"
        ));
    }

    #[test]
    fn command_getkeys_matches_the_reference() {
        let mut s = server();
        let c = connect(&mut s);
        let cases = [
            ("COMMAND GETKEYS get a", "*1\r\n$1\r\na\r\n"),
            (
                "COMMAND GETKEYS GET a b",
                "-ERR Invalid number of arguments specified for command\r\n",
            ),
            ("COMMAND GETKEYS nosuch a", "-ERR Invalid command specified\r\n"),
            ("COMMAND GETKEYS ping x", "-ERR The command has no key arguments\r\n"),
            (
                "COMMAND GETKEYS ping",
                "-ERR wrong number of arguments for 'command|getkeys' command\r\n",
            ),
            ("COMMAND GETKEYS mset a 1 b 2", "*2\r\n$1\r\na\r\n$1\r\nb\r\n"),
            ("COMMAND GETKEYS mset a 1 b", "*2\r\n$1\r\na\r\n$1\r\nb\r\n"),
            (
                "COMMAND GETKEYS config get x",
                "-ERR The command has no key arguments\r\n",
            ),
            ("COMMAND GETKEYS config foo", "-ERR Invalid command specified\r\n"),
            (
                "COMMAND GETKEYSANDFLAGS set k v",
                "*1\r\n*2\r\n$1\r\nk\r\n*2\r\n+OW\r\n+update\r\n",
            ),
            (
                "COMMAND GETKEYSANDFLAGS set k v EX 10 GeT",
                "*1\r\n*2\r\n$1\r\nk\r\n*3\r\n+RW\r\n+access\r\n+update\r\n",
            ),
            (
                "COMMAND GETKEYSANDFLAGS copy a b",
                "*2\r\n*2\r\n$1\r\na\r\n*2\r\n+RO\r\n+access\r\n*2\r\n$1\r\nb\r\n*2\r\n+OW\r\n+update\r\n",
            ),
            (
                "COMMAND GETKEYSANDFLAGS object encoding k",
                "*1\r\n*2\r\n$1\r\nk\r\n*1\r\n+RO\r\n",
            ),
        ];
        for (line, want) in cases {
            assert_eq!(run(&mut s, c, line), want, "{line}");
        }
        let c3 = resp3(&mut s);
        assert_eq!(
            run(&mut s, c3, "COMMAND GETKEYSANDFLAGS set k v"),
            "*1\r\n*2\r\n$1\r\nk\r\n~2\r\n+OW\r\n+update\r\n"
        );
    }

    /// Keys of a command line for a spec of the recorded table (registered or not), as flat text.
    fn keys_of(line: &str) -> String {
        let args: Vec<Bytes> = line.split(' ').map(|a| Bytes::copy_from_slice(a.as_bytes())).collect();
        let name = line.split(' ').next().unwrap();
        let spec = super::super::find_spec(name).unwrap();
        command_keys(spec, &args)
            .iter()
            .map(|(pos, flags)| format!("{}:{}", line.split(' ').nth(*pos).unwrap(), flags.join("|")))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn key_procedures_match_the_reference() {
        // Recorded with COMMAND GETKEYSANDFLAGS on the reference server.
        let cases = [
            ("sort_ro k BY x", "k:RO|access"),
            ("bitfield k GET u8 0", "k:RO|access"),
            ("bitfield k SET u8 0 1", "k:RW|access|update"),
            ("bitfield k GET u8", "k:RW|access|update"),
            ("bitfield k overflow wrap get u8 0", "k:RO|access"),
            ("sort k STORE d STORE e", "k:RO|access e:OW|update"),
            ("sort k LIMIT 0 1 STORE d", "k:RO|access d:OW|update"),
            ("sort k store", "k:RO|access"),
            ("set k v GETX", "k:OW|update"),
            ("migrate h p k 0 5 COPY KEYS a", ""),
            ("migrate h p  0 5 AUTH KEYS KEYS a", "a:RW|access|delete"),
            ("zunionstore d 2 a b", "d:OW|update a:RO|access b:RO|access"),
            ("zunionstore d 3 a b", ""),
            ("zunionstore d 0 a b", ""),
            ("xread STREAMS a b 0 0", "a:RO|access b:RO|access"),
            ("xread STREAMS a b 0", "a:RO|access"),
            ("georadius k 0 0 1 m STORE d", "k:RO|access d:OW|update"),
            ("lmpop 2 a b LEFT", "a:RW|access|delete b:RW|access|delete"),
        ];
        for (line, want) in cases {
            assert_eq!(keys_of(line), want, "{line}");
        }
    }

    #[test]
    fn shutdown_closes_without_a_reply() {
        let mut s = server();
        let c = connect(&mut s);
        for (line, want) in [
            ("SHUTDOWN foo", "-ERR syntax error\r\n"),
            ("SHUTDOWN SAVE NOSAVE", "-ERR syntax error\r\n"),
            ("SHUTDOWN NOW ABORT", "-ERR syntax error\r\n"),
            ("SHUTDOWN abort abort", "-ERR No shutdown in progress.\r\n"),
        ] {
            assert_eq!(run(&mut s, c, line), want, "{line}");
        }
        assert!(s.take_effects().is_empty());
        // With a save the client waits for the snapshot; success stops the server without a reply.
        let (out, flow) = exec(&mut s, c, &[b"SHUTDOWN", b"SAVE", b"NOW"]);
        assert!(out.is_empty());
        assert_eq!(flow, Flow::Blocked);
        assert_eq!(s.take_effects(), [Effect::SnapshotStarted]);
        let id = s.running_snapshot().expect("a snapshot runs");
        while let crate::persist::save::SnapshotPull::Bytes(_) = s.snapshot_chunk(id, 1024) {}
        s.snapshot_finished(id, true, 0);
        assert_eq!(s.take_effects(), [Effect::Shutdown { save: false }]);
        // A failed save refuses to stop, in the reference's words.
        let c = connect(&mut s);
        let (_, flow) = exec(&mut s, c, &[b"SHUTDOWN", b"SAVE"]);
        assert_eq!(flow, Flow::Blocked);
        let id = s.running_snapshot().expect("a snapshot runs");
        s.snapshot_finished(id, false, 0);
        let mut out = Vec::new();
        s.take_effects();
        assert_eq!(s.resume(c, 0, &mut out), Flow::Continue);
        assert_eq!(out, b"-ERR Errors trying to SHUTDOWN. Check logs.\r\n");
        // Without save points a plain SHUTDOWN does not save.
        s.config.set_startup("save", "").unwrap();
        let c = connect(&mut s);
        let (out, _) = exec(&mut s, c, &[b"shutdown"]);
        assert!(out.is_empty());
        assert_eq!(s.take_effects(), [Effect::Shutdown { save: false }]);
    }

    #[test]
    fn function_and_script_flush() {
        let mut s = server();
        let c = connect(&mut s);
        for (line, want) in [
            ("FUNCTION FLUSH", "+OK\r\n"),
            ("FUNCTION FLUSH ASYNC", "+OK\r\n"),
            ("FUNCTION FLUSH sync", "+OK\r\n"),
            (
                "FUNCTION FLUSH foo",
                "-ERR FUNCTION FLUSH only supports SYNC|ASYNC option\r\n",
            ),
            (
                "FUNCTION FLUSH sync x",
                "-ERR unknown subcommand or wrong number of arguments for 'FLUSH'. Try FUNCTION HELP.\r\n",
            ),
            ("SCRIPT FLUSH", "+OK\r\n"),
            ("SCRIPT FLUSH async", "+OK\r\n"),
            (
                "SCRIPT FLUSH foo",
                "-ERR SCRIPT FLUSH only support SYNC|ASYNC option\r\n",
            ),
            (
                "SCRIPT FLUSH sync x",
                "-ERR SCRIPT FLUSH only support SYNC|ASYNC option\r\n",
            ),
        ] {
            assert_eq!(run(&mut s, c, line), want, "{line}");
        }
    }
}
