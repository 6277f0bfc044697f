//! Shared code of the RDB fuzz targets: the file reader on arbitrary bytes (`rdb_load`) and RESTORE on
//! arbitrary payload bodies (`restore_payload`), with the checks that make a run meaningful beyond "does
//! not crash": every loaded value satisfies its type's invariants under the configured limits, and what
//! keel decodes it re-encodes and decodes to the same value.

use bytes::Bytes;
use keel_core::config::Config;
use keel_core::persist::rdb::file::FileItem;
use keel_core::persist::rdb::{payload, LoadParams, RdbReader, SaveParams, CRC64, RDB_VERSION};
use keel_core::types::Value;

use crate::script::{DebugCommand, Harness, Setup, Start};

/// Most items read from one input (inputs are small; this only bounds pathological loops).
const MAX_ITEMS: usize = 100_000;

/// Checks `value` against its type's invariants under `params`' limits.
pub fn check_value(value: &Value, params: &LoadParams) {
    match value {
        Value::String(_) => {}
        Value::List(l) => assert!(!l.is_empty(), "loaded lists are not empty"),
        Value::Hash(h) => {
            assert!(!h.is_empty(), "loaded hashes are not empty");
            h.check_invariants(params.hash);
        }
        Value::Set(s) => {
            assert!(!s.is_empty(), "loaded sets are not empty");
            s.check_invariants(params.set_max_intset);
        }
        Value::ZSet(z) => {
            assert!(!z.is_empty(), "loaded sorted sets are not empty");
            z.check_invariants();
        }
    }
}

/// Re-encodes `value` as a DUMP payload and decodes it again: it must come back equal.
fn round_trip(value: &Value, params: &mut LoadParams) {
    let again = payload::dump(value, &SaveParams::default());
    assert!(payload::verify(&again), "keel's own payload verifies");
    let back = payload::restore(&again, params)
        .expect("keel's own payload decodes")
        .expect("a loaded value is not empty");
    assert_eq!(&back, value, "a value survives a DUMP/RESTORE round trip");
}

/// Reads `data` as a whole file, item by item, checking every loaded value.
pub fn load_file(data: &[u8]) {
    let mut params = LoadParams::from_config(&Config::default(), 1);
    let Ok(mut reader) = RdbReader::new(data, params) else {
        return;
    };
    for _ in 0..MAX_ITEMS {
        match reader.next_item() {
            Ok(FileItem::End) | Err(_) => return,
            Ok(FileItem::Entry(e)) => {
                check_value(&e.value, &params);
                round_trip(&e.value, &mut params);
            }
            Ok(_) => {}
        }
    }
}

/// `body` with a correct footer (version 10 and its CRC64), so that the decoder, not the checksum,
/// decides.
pub fn seal(body: &[u8]) -> Vec<u8> {
    let mut out = body.to_vec();
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = CRC64.checksum(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// RESTOREs `body` (sealed) through the API and through the command path.
pub fn restore_payload(body: &[u8]) {
    let sealed = seal(body);
    let mut params = LoadParams::from_config(&Config::default(), 1);
    if let Ok(Some(value)) = payload::restore(&sealed, &mut params) {
        check_value(&value, &params);
        round_trip(&value, &mut params);
    }
    // The command path: RESTORE with REPLACE, then read the key back; the harness checks that every
    // reply is one well-formed frame and that the server's invariants hold.
    let mut harness = Harness::new(Setup {
        debug_command: DebugCommand::Yes,
        seed: 0,
        start: Start::Recent,
    });
    let argv = |args: &[&[u8]]| args.iter().map(|a| Bytes::copy_from_slice(a)).collect::<Vec<_>>();
    harness.run(0, &argv(&[b"RESTORE", b"k", b"0", &sealed, b"REPLACE"]));
    harness.run(0, &argv(&[b"DUMP", b"k"]));
    harness.run(0, &argv(&[b"DEBUG", b"OBJECT", b"k"]));
    harness.run(0, &argv(&[b"RESTORE", b"k", b"0", &sealed]));
    harness.server.check_invariants();
}
