//! The append-only file's status as commands see it: what `INFO persistence` reports and whether write
//! commands must be refused because the last write to the file failed.
//!
//! The shell owns the file and updates these figures under the core lock; core only reads them. Never
//! performs I/O.

use std::fmt::Write;

/// Append-only file figures kept by the shell.
#[derive(Clone, Debug)]
pub struct AofStatus {
    /// `appendonly yes` is in force (the file is open and written).
    pub enabled: bool,
    /// A rewrite (BGREWRITEAOF) is running.
    pub rewrite_in_progress: bool,
    /// A rewrite was requested while another ran and will start after it.
    pub rewrite_scheduled: bool,
    /// When the running rewrite started, Unix ms.
    pub rewrite_started_ms: Option<i64>,
    /// Duration of the last rewrite in seconds, -1 before the first.
    pub last_rewrite_time_sec: i64,
    /// Whether the last rewrite succeeded.
    pub last_bgrewrite_ok: bool,
    /// Rewrites completed since start.
    pub rewrites: u64,
    /// Rewrites that failed in a row.
    pub rewrites_consecutive_failures: u64,
    /// The reason (system error text) the last write or fsync of the file failed; `None` once a write
    /// succeeded again. While set, write commands are refused.
    pub last_write_error: Option<String>,
    /// Bytes in the files of the current manifest.
    pub current_size: u64,
    /// Bytes at the last rewrite or load.
    pub base_size: u64,
}

impl Default for AofStatus {
    fn default() -> Self {
        AofStatus {
            enabled: false,
            rewrite_in_progress: false,
            rewrite_scheduled: false,
            rewrite_started_ms: None,
            last_rewrite_time_sec: -1,
            last_bgrewrite_ok: true,
            rewrites: 0,
            rewrites_consecutive_failures: 0,
            last_write_error: None,
            current_size: 0,
            base_size: 0,
        }
    }
}

impl AofStatus {
    /// True while write commands must be refused.
    pub fn refuses_writes(&self) -> bool {
        self.enabled && self.last_write_error.is_some()
    }

    /// The error write commands get while the file cannot be written.
    pub fn misconf_message(&self) -> String {
        format!(
            "MISCONF Errors writing to the AOF file: {}",
            self.last_write_error.as_deref().unwrap_or("")
        )
    }

    /// The `aof_*` lines of `INFO persistence` that come before the module fields.
    pub fn info_lines(&self, now_ms: i64) -> String {
        let ok = |b: bool| if b { "ok" } else { "err" };
        let current = self
            .rewrite_started_ms
            .map_or(-1, |s| (now_ms - s).max(0).div_euclid(1000));
        format!(
            "aof_enabled:{}\r\n\
             aof_rewrite_in_progress:{}\r\n\
             aof_rewrite_scheduled:{}\r\n\
             aof_last_rewrite_time_sec:{}\r\n\
             aof_current_rewrite_time_sec:{}\r\n\
             aof_last_bgrewrite_status:{}\r\n\
             aof_rewrites:{}\r\n\
             aof_rewrites_consecutive_failures:{}\r\n\
             aof_last_write_status:{}\r\n\
             aof_last_cow_size:0\r\n",
            u8::from(self.enabled),
            u8::from(self.rewrite_in_progress),
            u8::from(self.rewrite_scheduled),
            self.last_rewrite_time_sec,
            current,
            ok(self.last_bgrewrite_ok),
            self.rewrites,
            self.rewrites_consecutive_failures,
            ok(self.last_write_error.is_none()),
        )
    }

    /// The lines `INFO persistence` adds at its end while the file is enabled.
    pub fn enabled_lines(&self) -> String {
        let mut out = String::new();
        if self.enabled {
            let _ = write!(
                out,
                "aof_current_size:{}\r\n\
                 aof_base_size:{}\r\n\
                 aof_pending_rewrite:{}\r\n\
                 aof_buffer_length:0\r\n\
                 aof_pending_bio_fsync:0\r\n\
                 aof_delayed_fsync:0\r\n",
                self.current_size,
                self.base_size,
                u8::from(self.rewrite_scheduled),
            );
        }
        out
    }
}
