//! Fuzzes RESTORE: arbitrary payload bodies, sealed with a correct version and CRC64 footer so that the
//! object decoder (not the checksum) decides, restored through the API and through the command path
//! (see `keel_fuzz::rdb`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    keel_fuzz::rdb::restore_payload(data);
});
