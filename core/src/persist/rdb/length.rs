//! Length prefixes: the variable-size unsigned lengths that precede strings and collections, and the
//! "encoded value" form of the same byte that announces an integer-encoded or compressed string.
//!
//! The two top bits of the first byte select the form: `00` a 6-bit length, `01` a 14-bit length (big
//! endian over two bytes), `10` with low bits `000000` a 32-bit and `000001` a 64-bit big-endian length,
//! `11` a special string encoding whose number is in the low 6 bits.

use std::io::Read;

use super::error::Result;
use super::input::Input;

/// Special string encodings announced by a `11xxxxxx` prefix.
pub const ENC_INT8: u8 = 0;
pub const ENC_INT16: u8 = 1;
pub const ENC_INT32: u8 = 2;
pub const ENC_LZF: u8 = 3;

/// A decoded prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Len {
    /// A plain length.
    Plain(u64),
    /// A special string encoding (one of the `ENC_*` numbers).
    Encoded(u8),
}

/// Appends the prefix for `len`.
pub fn write_len(out: &mut Vec<u8>, len: u64) {
    if len < 1 << 6 {
        out.push(len as u8);
    } else if len < 1 << 14 {
        out.push(0x40 | (len >> 8) as u8);
        out.push(len as u8);
    } else if len <= u32::MAX as u64 {
        out.push(0x80);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&len.to_be_bytes());
    }
}

/// Size in bytes of the prefix for `len`.
pub fn len_size(len: u64) -> usize {
    if len < 1 << 6 {
        1
    } else if len < 1 << 14 {
        2
    } else if len <= u32::MAX as u64 {
        5
    } else {
        9
    }
}

/// Reads a prefix that may be a special encoding.
pub fn read_len_or_encoding<R: Read>(input: &mut Input<R>) -> Result<Len> {
    let first = input.u8()?;
    Ok(match first >> 6 {
        0 => Len::Plain((first & 0x3F) as u64),
        1 => Len::Plain((((first & 0x3F) as u64) << 8) | input.u8()? as u64),
        2 => match first {
            0x80 => Len::Plain(u32::from_be_bytes(input.array()?) as u64),
            0x81 => Len::Plain(u64::from_be_bytes(input.array()?)),
            _ => return Err(input.corrupt("unknown length encoding")),
        },
        _ => Len::Encoded(first & 0x3F),
    })
}

/// Reads a plain length (a special encoding here is corruption).
pub fn read_len<R: Read>(input: &mut Input<R>) -> Result<u64> {
    match read_len_or_encoding(input)? {
        Len::Plain(n) => Ok(n),
        Len::Encoded(_) => Err(input.corrupt("string encoding where a length was expected")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_round_trip_at_every_boundary() {
        for len in [
            0u64,
            1,
            63,
            64,
            16_383,
            16_384,
            u32::MAX as u64,
            u32::MAX as u64 + 1,
            u64::MAX,
        ] {
            let mut out = Vec::new();
            write_len(&mut out, len);
            assert_eq!(out.len(), len_size(len), "{len}");
            let mut input = Input::new(&out[..], false);
            assert_eq!(read_len(&mut input).unwrap(), len);
            assert_eq!(input.offset(), out.len() as u64);
        }
        // The reference's bytes for a few lengths.
        let mut out = Vec::new();
        write_len(&mut out, 300);
        assert_eq!(out, [0x41, 0x2C]);
        let mut input = Input::new(&[0xC3u8][..], false);
        assert_eq!(read_len_or_encoding(&mut input).unwrap(), Len::Encoded(ENC_LZF));
        let mut input = Input::new(&[0x82u8][..], false);
        assert!(read_len(&mut input).is_err());
    }
}
