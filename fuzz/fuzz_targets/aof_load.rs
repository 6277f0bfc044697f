//! Fuzzes loading the append-only file: the manifest parser and the replay of an incremental file
//! through a fresh server (`keel_core::persist`).
//!
//! Input layout: byte 0 is n; the next n bytes are the manifest text, the rest is the incremental file.
//!
//! Checks, besides "no panic" and bounded allocation:
//! - a manifest that parses formats to text that parses to the same manifest;
//! - a replay that reports a torn tail at `valid_len` replays the first `valid_len` bytes cleanly, with
//!   the same number of commands, and refuses the whole input when torn tails are not allowed;
//! - the server's invariants hold after every replay.
#![no_main]

use keel_core::persist::aof_format::{replay, FormatError, ReplayError};
use keel_core::persist::aof_manifest::Manifest;
use keel_core::{Config, ProcessInfo, Server};
use libfuzzer_sys::fuzz_target;

fn server() -> Server {
    Server::new(Config::default(), 1, 1_700_000_000_000, ProcessInfo::default())
}

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let split = (n as usize).min(rest.len());
    let (manifest, incr) = rest.split_at(split);

    if let Ok(m) = Manifest::parse(manifest) {
        let again = Manifest::parse(m.format().as_bytes()).expect("a formatted manifest parses");
        assert_eq!(again, m, "format/parse round trip");
    }

    let now_us = 1_700_000_000_000_000;
    let mut s = server();
    let lenient = replay(&mut s, incr, now_us, true);
    s.check_invariants();
    if let Ok(report) = &lenient {
        assert!(report.valid_len <= incr.len());
        if let Some(dropped) = report.dropped_tail {
            assert_eq!(report.valid_len + dropped, incr.len());
            let mut clean = server();
            let r = replay(&mut clean, &incr[..report.valid_len], now_us, false).expect("the kept part replays");
            assert_eq!(r.dropped_tail, None);
            clean.check_invariants();
            let strict = replay(&mut server(), incr, now_us, false);
            assert!(
                matches!(strict, Err(ReplayError::Format(FormatError::Truncated { .. }))),
                "{strict:?}"
            );
        }
    }
});
