//! String objects: the form every key, field, member and blob takes in the format.
//!
//! Written as the reference does: a string that reads back as the same integer and fits 32 bits is
//! stored in 2, 3 or 5 bytes; with compression on, a string longer than 20 bytes is LZF-compressed when
//! that saves at least 4 bytes; anything else is a length prefix and the bytes.

use std::io::Read;

use super::error::Result;
use super::input::Input;
use super::length::{self, Len, ENC_INT16, ENC_INT32, ENC_INT8, ENC_LZF};
use super::lzf;
use crate::types::number;

/// Appends `n` in the smallest integer encoding, if it fits 32 bits.
fn write_int_encoded(out: &mut Vec<u8>, n: i64) -> bool {
    if let Ok(v) = i8::try_from(n) {
        out.push(0xC0 | ENC_INT8);
        out.push(v as u8);
    } else if let Ok(v) = i16::try_from(n) {
        out.push(0xC0 | ENC_INT16);
        out.extend_from_slice(&v.to_le_bytes());
    } else if let Ok(v) = i32::try_from(n) {
        out.push(0xC0 | ENC_INT32);
        out.extend_from_slice(&v.to_le_bytes());
    } else {
        return false;
    }
    true
}

/// Appends the string `s`, LZF-compressing it when `compress` and worthwhile.
pub fn write_string(out: &mut Vec<u8>, s: &[u8], compress: bool) {
    if s.len() <= 11 {
        if let Some(n) = number::parse_i64(s) {
            if write_int_encoded(out, n) {
                return;
            }
        }
    }
    if compress && s.len() > 20 {
        if let Some(packed) = lzf::compress(s, s.len() - 4) {
            out.push(0xC0 | ENC_LZF);
            length::write_len(out, packed.len() as u64);
            length::write_len(out, s.len() as u64);
            out.extend_from_slice(&packed);
            return;
        }
    }
    length::write_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// Appends the integer `n` as a string (integer-encoded when it fits 32 bits, else its decimal text).
pub fn write_int_string(out: &mut Vec<u8>, n: i64) {
    if !write_int_encoded(out, n) {
        let mut buf = [0u8; 20];
        let len = number::format_i64(n, &mut buf);
        length::write_len(out, len as u64);
        out.extend_from_slice(&buf[..len]);
    }
}

/// Reads a string object in any of its forms.
pub fn read_string<R: Read>(input: &mut Input<R>) -> Result<Vec<u8>> {
    let n: i64 = match length::read_len_or_encoding(input)? {
        Len::Plain(len) => return input.bytes(len),
        Len::Encoded(ENC_INT8) => input.u8()? as i8 as i64,
        Len::Encoded(ENC_INT16) => i16::from_le_bytes(input.array()?) as i64,
        Len::Encoded(ENC_INT32) => i32::from_le_bytes(input.array()?) as i64,
        Len::Encoded(ENC_LZF) => {
            let packed_len = length::read_len(input)?;
            let len = length::read_len(input)?;
            // One compressed byte expands to at most ~90: refuse absurd claims before allocating them.
            if len == 0 || len > packed_len.saturating_mul(100) {
                return Err(input.corrupt("LZF length out of proportion to its data"));
            }
            let packed = input.bytes(packed_len)?;
            return lzf::decompress(&packed, len as usize).ok_or_else(|| input.corrupt("invalid LZF data"));
        }
        Len::Encoded(_) => return Err(input.corrupt("unknown string encoding")),
    };
    let mut buf = [0u8; 20];
    let len = number::format_i64(n, &mut buf);
    Ok(buf[..len].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(s: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        write_string(&mut out, s, true);
        out
    }

    #[test]
    fn forms_match_the_reference() {
        // Bytes of the reference's DUMP payloads (type byte and footer removed).
        assert_eq!(written(b"hello"), b"\x05hello");
        assert_eq!(written(b"12345"), b"\xc1\x39\x30");
        assert_eq!(written(b"-1"), b"\xc0\xff");
        assert_eq!(written(b"012"), b"\x03012");
        assert_eq!(written(b"4294967296"), b"\x0a4294967296");
        assert_eq!(&written(&[b'x'; 30])[..3], b"\xc3\x09\x1e");
        let mut ints = Vec::new();
        write_int_string(&mut ints, i64::MIN);
        assert_eq!(ints[0] as usize, "-9223372036854775808".len());
    }

    #[test]
    fn every_form_reads_back() {
        for s in [
            &b""[..],
            b"0",
            b"-128",
            b"127",
            b"32767",
            b"-2147483648",
            b"99999999999",
            b"abc",
        ] {
            let out = written(s);
            assert_eq!(read_string(&mut Input::new(&out[..], false)).unwrap(), s);
        }
        let long = b"abcabcabcabcabcabcabcabcabcabcabc".repeat(5);
        let out = written(&long);
        assert!(out.len() < long.len());
        assert_eq!(read_string(&mut Input::new(&out[..], false)).unwrap(), long);
        // A huge declared length with no data behind it fails without allocating it.
        let lying = [0x81u8, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00];
        assert!(read_string(&mut Input::new(&lying[..], false)).is_err());
        let lzf_lie = [0xC3u8, 0x01, 0x80, 0x7F, 0xFF, 0xFF, 0xFF, 0x00];
        assert!(read_string(&mut Input::new(&lzf_lie[..], false)).is_err());
    }
}
