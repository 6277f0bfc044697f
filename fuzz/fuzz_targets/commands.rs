//! Fuzzes command execution: an `arbitrary`-decoded script of commands (see `keel_fuzz::script`) runs on
//! one `Server` with two clients, a forward-moving clock and occasional `cron` calls. After every command
//! the reply must be exactly one well-formed RESP2/RESP3 frame (zero only under `CLIENT REPLY OFF/SKIP`
//! or after `SHUTDOWN`), and after every step `Server::check_invariants` must hold.
#![no_main]

use keel_fuzz::script::{Harness, Script};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|script: Script| {
    Harness::run_script(&script);
});
