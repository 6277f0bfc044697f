//! The RDB framing of a snapshot stream: header with auxiliary fields, database selectors, entries,
//! EOF and the CRC64 of everything before it.
//!
//! Owns the adaptation of the RDB writer to [`SnapshotFormat`], whose entries are serialized out of
//! stream order (pre-images go to side buffers first), so the checksum is computed over the stream
//! as it leaves the snapshot rather than entry by entry. It never writes anywhere itself.

use std::sync::Arc;

use crate::config::Config;
use crate::keyspace::Entry;
use crate::persist::rdb::file::{access_info, HeaderInfo};
use crate::persist::rdb::length::write_len;
use crate::persist::rdb::{opcodes, RdbWriter, SaveParams, CRC64};
use crate::persist::snapshot::SnapshotFormat;

/// RDB as the reference server writes it.
pub struct RdbFormat {
    params: SaveParams,
    /// `rdbchecksum`: write the real CRC64 (else zero).
    checksum: bool,
    header: HeaderInfo,
    /// The configuration at the start (eviction policy for the idle/frequency records).
    config: Config,
    /// The snapshot's point in time, Unix ms.
    now_ms: i64,
}

impl RdbFormat {
    /// The format `config` asks for (`rdbcompression`, `rdbchecksum`, list node sizes), for a file
    /// created at `now_ms` by a server using `used_mem` bytes.
    pub fn new(config: &Config, now_ms: i64, used_mem: u64, aof_base: bool) -> Arc<RdbFormat> {
        Arc::new(RdbFormat {
            params: SaveParams::from_config(config),
            checksum: config.get("rdbchecksum").is_none_or(|v| v == "yes"),
            header: HeaderInfo {
                ctime_s: now_ms.div_euclid(1000),
                used_mem,
                aof_base,
            },
            config: config.clone(),
            now_ms,
        })
    }
}

impl SnapshotFormat for RdbFormat {
    fn header(&self, out: &mut Vec<u8>) {
        RdbWriter::new(self.params, false).header(out, &self.header);
    }

    fn select_db(&self, db: usize, out: &mut Vec<u8>) {
        out.push(opcodes::SELECTDB);
        write_len(out, db as u64);
    }

    fn entry(&self, entry: &Entry, expire_at: Option<i64>, out: &mut Vec<u8>) {
        let access = access_info(&self.config, entry.access_s, self.now_ms);
        RdbWriter::new(self.params, false).entry(out, entry.key(), &entry.value, expire_at, access);
    }

    fn checksum_start(&self) -> u64 {
        0
    }

    fn checksum_update(&self, state: u64, bytes: &[u8]) -> u64 {
        // The variant is reflected with no final xor: a finished value continues as the initial state
        // once bit-reversed back (the crate reflects the initial value it is given).
        let mut digest = CRC64.digest_with_initial(state.reverse_bits());
        digest.update(bytes);
        digest.finalize()
    }

    fn trailer(&self, checksum: u64, out: &mut Vec<u8>) {
        out.push(opcodes::EOF);
        let crc = self.checksum_update(checksum, &[opcodes::EOF]);
        out.extend_from_slice(&if self.checksum { crc } else { 0 }.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chained_checksum_equals_the_whole() {
        let f = RdbFormat::new(&Config::default(), 0, 0, false);
        let data = b"REDIS0010 some bytes of a snapshot stream";
        let chained = (0..data.len())
            .step_by(7)
            .fold(0, |s, i| f.checksum_update(s, &data[i..(i + 7).min(data.len())]));
        assert_eq!(chained, CRC64.checksum(data));
        assert_eq!(f.checksum_update(0, b"123456789"), 0xe9c6d914c4b8d9ca);
    }
}
