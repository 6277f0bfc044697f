//! Whole snapshot files: an incremental writer and a streaming reader.
//!
//! A file is `REDIS` + four version digits, auxiliary fields, then per non-empty database a SELECTDB and
//! a RESIZEDB opcode followed by its keys (each optionally preceded by its expiry and its LRU idle time or
//! LFU counter), then EOF and the CRC64 of everything before it (0 when checksums are off).
//!
//! The writer appends to a caller-owned buffer and keeps the running checksum itself, so a background save
//! can write a few keys, flush the buffer to disk, clear it and go on. The reader pulls from any
//! `std::io::Read` and yields one item at a time.

use std::io::Read;

use super::decode::{read_object, LoadParams};
use super::encode::{object_type, write_object, SaveParams};
use super::error::{ErrorKind, Result};
use super::input::Input;
use super::length::{read_len, write_len};
use super::string::{read_string, write_int_string, write_string};
use super::{opcodes, types, CRC64, MAX_READ_VERSION, MIN_READ_VERSION, RDB_VERSION};
use crate::config::Config;
use crate::keyspace::access;
use crate::keyspace::Db;
use crate::types::Value;

/// What a key's entry records about its use, by eviction policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessInfo {
    /// Nothing (policies that neither use LRU nor LFU).
    None,
    /// Seconds since the last access (LRU policies).
    IdleSeconds(u64),
    /// The logarithmic access counter (LFU policies).
    Freq(u8),
}

/// The auxiliary fields the reference writes at the top of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderInfo {
    /// Creation time, Unix seconds.
    pub ctime_s: i64,
    /// Memory in use, bytes.
    pub used_mem: u64,
    /// True when the file is the base of an append-only file.
    pub aof_base: bool,
}

/// Writes a snapshot file into caller-owned buffers, keeping the running checksum.
pub struct RdbWriter {
    /// CRC64 of everything written so far.
    digest: crc::Digest<'static, u64>,
    /// `rdbchecksum`: write the checksum (else zero).
    checksum: bool,
    /// Value encoding parameters.
    params: SaveParams,
}

impl RdbWriter {
    /// A writer with `params`, writing a real checksum when `checksum`.
    pub fn new(params: SaveParams, checksum: bool) -> RdbWriter {
        RdbWriter {
            digest: CRC64.digest(),
            checksum,
            params,
        }
    }

    /// Appends `bytes` to `out` and to the checksum.
    fn emit(&mut self, out: &mut Vec<u8>, bytes: &[u8]) {
        self.digest.update(bytes);
        out.extend_from_slice(bytes);
    }

    /// Runs `f` on a scratch buffer and emits what it wrote.
    fn emit_with(&mut self, out: &mut Vec<u8>, f: impl FnOnce(&mut Vec<u8>)) {
        let start = out.len();
        f(out);
        self.digest.update(&out[start..]);
    }

    /// The signature and the auxiliary fields the reference writes.
    pub fn header(&mut self, out: &mut Vec<u8>, info: &HeaderInfo) {
        self.signature(out);
        self.aux(out, b"redis-ver", crate::COMPAT_VERSION.as_bytes());
        self.aux_int(out, b"redis-bits", 64);
        self.aux_int(out, b"ctime", info.ctime_s);
        self.aux_int(out, b"used-mem", info.used_mem.min(i64::MAX as u64) as i64);
        self.aux_int(out, b"aof-base", info.aof_base as i64);
    }

    /// Only the signature (`REDIS0010`), for a caller that writes its own auxiliary fields.
    pub fn signature(&mut self, out: &mut Vec<u8>) {
        self.emit(out, format!("REDIS{RDB_VERSION:04}").as_bytes());
    }

    /// One auxiliary field.
    pub fn aux(&mut self, out: &mut Vec<u8>, key: &[u8], value: &[u8]) {
        let compress = self.params.compress;
        self.emit_with(out, |o| {
            o.push(opcodes::AUX);
            write_string(o, key, compress);
            write_string(o, value, compress);
        });
    }

    /// One auxiliary field with an integer value.
    pub fn aux_int(&mut self, out: &mut Vec<u8>, key: &[u8], value: i64) {
        let compress = self.params.compress;
        self.emit_with(out, |o| {
            o.push(opcodes::AUX);
            write_string(o, key, compress);
            write_int_string(o, value);
        });
    }

    /// Starts database `db`, which holds `keys` keys of which `volatile` have a TTL.
    pub fn select_db(&mut self, out: &mut Vec<u8>, db: usize, keys: u64, volatile: u64) {
        self.emit_with(out, |o| {
            o.push(opcodes::SELECTDB);
            write_len(o, db as u64);
            o.push(opcodes::RESIZEDB);
            write_len(o, keys);
            write_len(o, volatile);
        });
    }

    /// One key: its expiry (absolute Unix ms), its access information, its value.
    pub fn entry(&mut self, out: &mut Vec<u8>, key: &[u8], value: &Value, expire_ms: Option<i64>, access: AccessInfo) {
        let params = self.params;
        self.emit_with(out, |o| {
            if let Some(at) = expire_ms {
                o.push(opcodes::EXPIRETIME_MS);
                o.extend_from_slice(&at.to_le_bytes());
            }
            match access {
                AccessInfo::None => {}
                AccessInfo::IdleSeconds(s) => {
                    o.push(opcodes::IDLE);
                    write_len(o, s);
                }
                AccessInfo::Freq(f) => {
                    o.push(opcodes::FREQ);
                    o.push(f);
                }
            }
            o.push(object_type(value));
            write_string(o, key, params.compress);
            write_object(o, value, &params);
        });
    }

    /// The EOF opcode and the checksum; the file is complete.
    pub fn finish(mut self, out: &mut Vec<u8>) {
        self.emit(out, &[opcodes::EOF]);
        let crc = if self.checksum { self.digest.finalize() } else { 0 };
        out.extend_from_slice(&crc.to_le_bytes());
    }
}

/// What to record about a key's use under `config`'s `maxmemory-policy`: idle seconds for LRU
/// policies, the decayed counter for LFU ones, nothing otherwise.
pub fn access_info(config: &Config, access_stamp: u32, now_ms: i64) -> AccessInfo {
    let policy = config.get("maxmemory-policy").unwrap_or("");
    if policy.ends_with("-lfu") {
        let decay = config.get_i64("lfu-decay-time");
        AccessInfo::Freq(access::lfu_decayed(access_stamp, now_ms, decay).min(255) as u8)
    } else if policy.ends_with("-lru") {
        AccessInfo::IdleSeconds(access::lru_stamp(now_ms).saturating_sub(access_stamp) as u64)
    } else {
        AccessInfo::None
    }
}

/// The access stamp for a key created at `now_ms` with a recorded idle time or LFU counter (a file's
/// IDLE/FREQ, RESTORE's IDLETIME/FREQ): under an LFU policy the counter if given, under any other
/// policy the idle time if given, else a fresh stamp, as the reference applies them.
pub fn access_stamp(config: &Config, idle_s: Option<u64>, freq: Option<u8>, now_ms: i64) -> u32 {
    if config.lfu_policy() {
        match freq {
            Some(f) => (access::lfu_new(now_ms) & !0xFF) | f as u32,
            None => access::lfu_new(now_ms),
        }
    } else {
        let idle = idle_s.unwrap_or(0).min(u32::MAX as u64) as u32;
        access::lru_stamp(now_ms).saturating_sub(idle)
    }
}

impl LoadedEntry {
    /// The access stamp this entry gets when inserted at `now_ms` (see [`access_stamp`]).
    pub fn access_stamp(&self, config: &Config, now_ms: i64) -> u32 {
        access_stamp(config, self.idle_s, self.freq, now_ms)
    }
}

/// Writes every database of `dbs` as a complete file into `out` (the simple, all-at-once use of
/// [`RdbWriter`]; a background save drives the writer itself to flush as it goes).
pub fn write_snapshot(out: &mut Vec<u8>, dbs: &[Db], config: &Config, info: &HeaderInfo, now_ms: i64, checksum: bool) {
    let mut writer = RdbWriter::new(SaveParams::from_config(config), checksum);
    writer.header(out, info);
    for (index, db) in dbs.iter().enumerate() {
        let live: Vec<_> = db.iter(now_ms).collect();
        if live.is_empty() {
            continue;
        }
        let volatile = live.iter().filter(|e| e.has_expire()).count();
        writer.select_db(out, index, live.len() as u64, volatile as u64);
        for e in live {
            let access = access_info(config, e.access_s, now_ms);
            writer.entry(out, e.key(), &e.value, db.expire_of(e), access);
        }
    }
    writer.finish(out);
}

/// A key read from a file.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadedEntry {
    /// The key.
    pub key: Vec<u8>,
    /// The value, in keel's encoding for it.
    pub value: Value,
    /// Absolute expiry in Unix ms, if any.
    pub expire_ms: Option<i64>,
    /// Seconds idle at save time, if recorded (LRU policies).
    pub idle_s: Option<u64>,
    /// The LFU counter at save time, if recorded.
    pub freq: Option<u8>,
}

/// One item of a file, in file order.
#[derive(Clone, Debug, PartialEq)]
pub enum FileItem {
    /// An auxiliary field.
    Aux { key: Vec<u8>, value: Vec<u8> },
    /// The following keys belong to this database.
    SelectDb(u64),
    /// Size hints for the current database.
    ResizeDb { keys: u64, volatile: u64 },
    /// A key.
    Entry(LoadedEntry),
    /// The end of the file, checksum verified (or not recorded).
    End,
}

/// Reads a snapshot file item by item.
pub struct RdbReader<R> {
    /// The source.
    input: Input<R>,
    /// The file's version.
    version: u16,
    /// Value construction parameters.
    params: LoadParams,
    /// True once `End` was returned.
    done: bool,
}

impl<R: Read> RdbReader<R> {
    /// Reads and checks the signature and version.
    pub fn new(source: R, params: LoadParams) -> Result<RdbReader<R>> {
        let mut input = Input::new(source, true);
        let magic: [u8; 9] = input.array()?;
        if &magic[..5] != b"REDIS" || !magic[5..].iter().all(u8::is_ascii_digit) {
            return Err(super::RdbError::new(0, ErrorKind::BadMagic));
        }
        let version = magic[5..].iter().fold(0u32, |v, d| v * 10 + (d - b'0') as u32);
        if !(MIN_READ_VERSION as u32..=MAX_READ_VERSION as u32).contains(&version) {
            return Err(super::RdbError::new(5, ErrorKind::UnsupportedVersion(version)));
        }
        Ok(RdbReader {
            input,
            version: version as u16,
            params,
            done: false,
        })
    }

    /// The file's format version.
    pub fn version(&self) -> u16 {
        self.version
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.input.offset()
    }

    /// The next item. After `End`, returns `End` again.
    pub fn next_item(&mut self) -> Result<FileItem> {
        if self.done {
            return Ok(FileItem::End);
        }
        let mut expire_ms = None;
        let mut idle_s = None;
        let mut freq = None;
        loop {
            let op = self.input.u8()?;
            match op {
                opcodes::EXPIRETIME_MS => expire_ms = Some(i64::from_le_bytes(self.input.array()?)),
                opcodes::EXPIRETIME => {
                    expire_ms = Some(i32::from_le_bytes(self.input.array()?) as i64 * 1000);
                }
                opcodes::IDLE => idle_s = Some(read_len(&mut self.input)?),
                opcodes::FREQ => freq = Some(self.input.u8()?),
                opcodes::AUX => {
                    let key = read_string(&mut self.input)?;
                    let value = read_string(&mut self.input)?;
                    return Ok(FileItem::Aux { key, value });
                }
                opcodes::SELECTDB => return Ok(FileItem::SelectDb(read_len(&mut self.input)?)),
                opcodes::RESIZEDB => {
                    let keys = read_len(&mut self.input)?;
                    let volatile = read_len(&mut self.input)?;
                    return Ok(FileItem::ResizeDb { keys, volatile });
                }
                opcodes::MODULE_AUX => {
                    return Err(self
                        .input
                        .error(ErrorKind::Unsupported("module auxiliary data is not supported")));
                }
                opcodes::FUNCTION2 | opcodes::FUNCTION_PRE_GA => {
                    return Err(self.input.error(ErrorKind::Unsupported(
                        "function libraries are not supported (keel refuses the file rather than drop them)",
                    )));
                }
                opcodes::EOF => {
                    let computed = self.input.crc();
                    let expected = u64::from_le_bytes(self.input.array()?);
                    if expected != 0 && expected != computed {
                        return Err(self.input.error(ErrorKind::ChecksumMismatch { expected, computed }));
                    }
                    self.done = true;
                    return Ok(FileItem::End);
                }
                kind if types::is_object_type(kind) => {
                    let key = read_string(&mut self.input)?;
                    match read_object(&mut self.input, kind, &mut self.params)? {
                        Some(value) => {
                            return Ok(FileItem::Entry(LoadedEntry {
                                key,
                                value,
                                expire_ms,
                                idle_s,
                                freq,
                            }))
                        }
                        // An empty collection: the key is dropped, as the reference does.
                        None => {
                            expire_ms = None;
                            idle_s = None;
                            freq = None;
                        }
                    }
                }
                other => {
                    return Err(super::RdbError::new(
                        self.input.offset() - 1,
                        ErrorKind::UnknownType(other),
                    ))
                }
            }
        }
    }
}
