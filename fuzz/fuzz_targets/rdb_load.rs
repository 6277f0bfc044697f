//! Fuzzes the RDB file reader: arbitrary bytes read item by item as a snapshot file. It must never
//! panic or allocate without bound; every value it yields satisfies its type's invariants and survives a
//! DUMP/RESTORE round trip (see `keel_fuzz::rdb`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    keel_fuzz::rdb::load_file(data);
});
