//! The ACL log: recent authentication failures and refused commands, newest first, with repeats of the
//! same denial within a minute folded into one entry.
//!
//! Owns the entries, their grouping and the length bound (`acllog-max-len`). It records what dispatch and
//! AUTH report; it never decides what is denied.

use std::collections::VecDeque;

/// Denials closer in time than this (ms) with the same reason, context, object and user are one entry.
const GROUPING_WINDOW_MS: i64 = 60_000;

/// How many of the newest entries are searched for a match to fold into.
const GROUPING_SCAN: usize = 10;

/// What was denied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    Auth,
    Command,
    Key,
    Channel,
}

impl Reason {
    /// The word `ACL LOG` shows.
    pub fn word(self) -> &'static str {
        match self {
            Reason::Auth => "auth",
            Reason::Command => "command",
            Reason::Key => "key",
            Reason::Channel => "channel",
        }
    }
}

/// Where the denied command ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    Toplevel,
    Multi,
}

impl Context {
    /// The word `ACL LOG` shows.
    pub fn word(self) -> &'static str {
        match self {
            Context::Toplevel => "toplevel",
            Context::Multi => "multi",
        }
    }
}

/// One (possibly folded) denial.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub count: u64,
    pub reason: Reason,
    pub context: Context,
    /// The command name, key, channel, or the AUTH/HELLO argument as typed.
    pub object: Vec<u8>,
    pub username: Vec<u8>,
    /// Unix ms of the latest occurrence.
    pub time_ms: i64,
    /// The `CLIENT LIST` line of the client at the latest occurrence.
    pub client_info: String,
}

/// The log, newest first.
#[derive(Clone, Debug, Default)]
pub struct Log {
    pub entries: VecDeque<Entry>,
}

impl Log {
    /// Records a denial, folding it into a recent matching entry, and trims to `max_len`.
    pub fn add(&mut self, entry: Entry, max_len: usize) {
        let found = self.entries.iter().take(GROUPING_SCAN).position(|e| {
            e.reason == entry.reason
                && e.context == entry.context
                && (e.time_ms - entry.time_ms).abs() <= GROUPING_WINDOW_MS
                && e.object == entry.object
                && e.username == entry.username
        });
        match found.and_then(|i| self.entries.remove(i)) {
            Some(mut e) => {
                e.count += 1;
                e.time_ms = entry.time_ms;
                e.client_info = entry.client_info;
                self.entries.push_front(e);
            }
            None => {
                self.entries.push_front(entry);
                self.entries.truncate(max_len);
            }
        }
    }

    /// Forgets every entry (`ACL LOG RESET`).
    pub fn reset(&mut self) {
        self.entries.clear();
    }
}
