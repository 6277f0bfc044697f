//! The RDB format of the reference server, version 10 written, versions 9 to 11 read.
//!
//! Split by concern:
//! - [`length`]: length prefixes and the special string encodings they announce;
//! - [`lzf`]: the LZF compressor (bit-identical to the reference's) and decompressor;
//! - [`string`]: string objects (plain, integer-encoded, LZF-compressed);
//! - [`listpack`], [`ziplist`], [`intset`], [`zipmap`]: the packed blobs compact encodings are stored as;
//! - [`encode`]: a [`Value`](crate::types::Value) to a type byte and object bytes;
//! - [`decode`]: object bytes of any supported type back to a `Value`, respecting keel's encodings;
//! - [`payload`]: DUMP payloads (object + version + CRC64);
//! - [`file`]: whole snapshot files, written incrementally and read as a stream;
//! - [`input`]: the byte source readers share (offset tracking, running checksum, bounded reads);
//! - [`error`]: typed errors naming the byte offset.
//!
//! Nothing here trusts a length prefix for an up-front allocation, and bad input never panics.

pub mod decode;
pub mod encode;
pub mod error;
pub mod file;
pub mod input;
pub mod intset;
pub mod length;
pub mod listpack;
pub mod lzf;
pub mod payload;
pub mod string;
pub mod ziplist;
pub mod zipmap;

#[cfg(test)]
mod tests;

pub use decode::LoadParams;
pub use encode::SaveParams;
pub use error::{ErrorKind, RdbError};
pub use file::{FileItem, RdbReader, RdbWriter};

/// The RDB version keel writes (the reference server 7.0's).
pub const RDB_VERSION: u16 = 10;
/// The newest RDB version keel reads (the reference 7.2's, which adds listpack sets).
pub const MAX_READ_VERSION: u16 = 11;
/// The oldest RDB version keel reads.
pub const MIN_READ_VERSION: u16 = 9;

/// The CRC-64 variant of the format (Jones polynomial, reflected, as the reference computes it).
pub const CRC64: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_REDIS);

/// Object type bytes.
pub mod types {
    pub const STRING: u8 = 0;
    pub const LIST: u8 = 1;
    pub const SET: u8 = 2;
    pub const ZSET: u8 = 3;
    pub const HASH: u8 = 4;
    pub const ZSET_2: u8 = 5;
    pub const MODULE_PRE_GA: u8 = 6;
    pub const MODULE_2: u8 = 7;
    pub const HASH_ZIPMAP: u8 = 9;
    pub const LIST_ZIPLIST: u8 = 10;
    pub const SET_INTSET: u8 = 11;
    pub const ZSET_ZIPLIST: u8 = 12;
    pub const HASH_ZIPLIST: u8 = 13;
    pub const LIST_QUICKLIST: u8 = 14;
    pub const STREAM_LISTPACKS: u8 = 15;
    pub const HASH_LISTPACK: u8 = 16;
    pub const ZSET_LISTPACK: u8 = 17;
    pub const LIST_QUICKLIST_2: u8 = 18;
    pub const STREAM_LISTPACKS_2: u8 = 19;
    pub const SET_LISTPACK: u8 = 20;
    pub const STREAM_LISTPACKS_3: u8 = 21;

    /// True for a byte that names an object type (in any version keel reads).
    pub fn is_object_type(t: u8) -> bool {
        matches!(t, 0..=7 | 9..=21)
    }
}

/// File opcodes (bytes that introduce something other than a key's value).
pub mod opcodes {
    pub const FUNCTION2: u8 = 245;
    pub const FUNCTION_PRE_GA: u8 = 246;
    pub const MODULE_AUX: u8 = 247;
    pub const IDLE: u8 = 248;
    pub const FREQ: u8 = 249;
    pub const AUX: u8 = 250;
    pub const RESIZEDB: u8 = 251;
    pub const EXPIRETIME_MS: u8 = 252;
    pub const EXPIRETIME: u8 = 253;
    pub const SELECTDB: u8 = 254;
    pub const EOF: u8 = 255;
}

/// Quicklist node containers (RDB type 18).
pub mod container {
    pub const PLAIN: u64 = 1;
    pub const PACKED: u64 = 2;
}
