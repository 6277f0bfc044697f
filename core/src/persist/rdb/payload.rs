//! DUMP payloads: one object as DUMP returns it and RESTORE accepts it.
//!
//! Layout: the object's type byte and bytes, the RDB version as two bytes little endian, and the CRC64
//! of everything before it as eight bytes little endian.

use super::decode::{read_object, LoadParams};
use super::encode::{write_value, SaveParams};
use super::error::{ErrorKind, Result};
use super::input::Input;
use super::{types, CRC64, RDB_VERSION};
use crate::types::Value;

/// Bytes after the object: version and checksum.
const FOOTER: usize = 10;

/// The DUMP payload of `value`.
pub fn dump(value: &Value, params: &SaveParams) -> Vec<u8> {
    let mut out = Vec::new();
    write_value(&mut out, value, params);
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = CRC64.checksum(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// True when `payload` has a footer with a version keel reads and a matching checksum.
pub fn verify(payload: &[u8]) -> bool {
    if payload.len() < FOOTER {
        return false;
    }
    let (body, footer) = payload.split_at(payload.len() - 8);
    let version = u16::from_le_bytes([body[body.len() - 2], body[body.len() - 1]]);
    if version > RDB_VERSION {
        return false;
    }
    let mut crc = [0u8; 8];
    crc.copy_from_slice(footer);
    CRC64.checksum(body) == u64::from_le_bytes(crc)
}

/// The value in a payload that passed [`verify`]. `Ok(None)` for an empty collection; an error for
/// anything malformed or refused.
///
/// As in the reference, the object is read from the payload as a whole: whatever follows the object is
/// ignored, and an object that runs into the footer takes its bytes (the checksum vouches for them).
pub fn restore(payload: &[u8], params: &mut LoadParams) -> Result<Option<Value>> {
    let mut input = Input::new(payload, false);
    let kind = input.u8()?;
    if !types::is_object_type(kind) {
        return Err(input.error(ErrorKind::UnknownType(kind)));
    }
    read_object(&mut input, kind, params)
}
