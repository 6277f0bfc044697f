//! Length-prefixed strings packed back to back in one byte buffer: the layout the compact hash and the
//! list nodes share.
//!
//! Owns the length header (1, 2, 5 or 9 bytes) and its mirror image, the trailer, which lets a reader
//! walk a buffer backwards from an entry's end. Only this module knows the bit layout; it never allocates
//! except when told to append, and never validates foreign bytes: every buffer it reads was written here,
//! so a bad header is a bug in keel, not bad input.

/// Strings shorter than this take a 1-byte length header.
const SHORT_LIMIT: usize = 1 << 6;

/// Strings shorter than this (and at least [`SHORT_LIMIT`]) take a 2-byte length header.
const MEDIUM_LIMIT: usize = 1 << 14;

/// Tag of the 2-byte header (in its top two bits).
const MEDIUM_TAG: u8 = 0x40;

/// First byte of the 5-byte header (a 4-byte little-endian length follows).
const LONG_TAG: u8 = 0x80;

/// First byte of the 9-byte header (an 8-byte little-endian length follows), for strings too long for
/// four bytes of length.
const HUGE_TAG: u8 = 0xc0;

/// The widest header, in bytes.
pub const MAX_HEADER: usize = 9;

/// The length header of a `len`-byte string: its bytes (in a fixed array) and how many are used.
///
/// `0b00LLLLLL` for lengths below 64; `0b01LLLLLL LLLLLLLL` (big end first) below 16384; `0x80` then
/// four little-endian bytes below 2^32; `0xc0` then eight little-endian bytes beyond.
pub fn header(len: usize) -> ([u8; MAX_HEADER], usize) {
    let mut h = [0u8; MAX_HEADER];
    if len < SHORT_LIMIT {
        h[0] = len as u8;
        (h, 1)
    } else if len < MEDIUM_LIMIT {
        h[0] = MEDIUM_TAG | (len >> 8) as u8;
        h[1] = len as u8;
        (h, 2)
    } else if let Ok(l) = u32::try_from(len) {
        h[0] = LONG_TAG;
        h[1..5].copy_from_slice(&l.to_le_bytes());
        (h, 5)
    } else {
        h[0] = HUGE_TAG;
        h[1..9].copy_from_slice(&(len as u64).to_le_bytes());
        (h, 9)
    }
}

/// Bytes one string takes in a buffer, header included (no trailer).
pub fn packed_len(s: &[u8]) -> usize {
    header(s.len()).1 + s.len()
}

/// Appends `s` with its header to `buf`.
pub fn push_string(buf: &mut Vec<u8>, s: &[u8]) {
    let (h, n) = header(s.len());
    buf.extend_from_slice(&h[..n]);
    buf.extend_from_slice(s);
}

/// The length encoded by the header whose first byte is `first` and whose following bytes are `rest(i)`
/// (`i` from 0), and the header's size.
#[inline(always)]
fn decode(first: u8, rest: impl Fn(usize) -> u8) -> (usize, usize) {
    match first >> 6 {
        0 => (first as usize, 1),
        1 => ((((first & 0x3f) as usize) << 8) | rest(0) as usize, 2),
        2 => {
            let l = [rest(0), rest(1), rest(2), rest(3)];
            (u32::from_le_bytes(l) as usize, 5)
        }
        _ => {
            let l = std::array::from_fn(rest);
            (u64::from_le_bytes(l) as usize, 9)
        }
    }
}

/// The string whose header starts at `buf[at]`, and the offset just past it (not past any trailer).
#[inline]
pub fn read_string(buf: &[u8], at: usize) -> (&[u8], usize) {
    let (len, n) = decode(buf[at], |i| buf[at + 1 + i]);
    let start = at + n;
    (&buf[start..start + len], start + len)
}

/// Bytes one entry takes when written with [`write_entry`]: header, data, trailer.
pub fn entry_len(len: usize) -> usize {
    2 * header(len).1 + len
}

/// Writes `s` as an entry (header, bytes, then the header reversed as a trailer) into `dst`, which is
/// exactly [`entry_len`]`(s.len())` bytes long.
#[inline(always)]
pub fn write_entry(dst: &mut [u8], s: &[u8]) {
    let (h, n) = header(s.len());
    dst[..n].copy_from_slice(&h[..n]);
    dst[n..n + s.len()].copy_from_slice(s);
    let trailer = &mut dst[n + s.len()..];
    for (t, b) in trailer.iter_mut().zip(h[..n].iter().rev()) {
        *t = *b;
    }
}

/// Appends `s` as an entry (see [`write_entry`]) to `buf`.
#[inline(always)]
pub fn push_entry(buf: &mut Vec<u8>, s: &[u8]) {
    let (h, n) = header(s.len());
    buf.extend_from_slice(&h[..n]);
    buf.extend_from_slice(s);
    buf.extend(h[..n].iter().rev());
}

/// The entry at `buf[at..]` written by [`write_entry`]: its string and the offset just past its trailer.
#[inline(always)]
pub fn read_entry(buf: &[u8], at: usize) -> (&[u8], usize) {
    let (len, n) = decode(buf[at], |i| buf[at + 1 + i]);
    let start = at + n;
    (&buf[start..start + len], start + len + n)
}

/// The entry written by [`write_entry`] that ends just before `buf[end]`: its string and the offset of its
/// header (where it starts).
#[inline(always)]
pub fn read_entry_back(buf: &[u8], end: usize) -> (&[u8], usize) {
    // The trailer is the header reversed, so its last byte is the header's first.
    let (len, n) = decode(buf[end - 1], |i| buf[end - 2 - i]);
    let data_end = end - n;
    let start = data_end - len;
    (&buf[start..data_end], start - n)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes `0, 1, 2...` (wrapping), `len` of them: binary data including NUL and 0xff.
    fn bytes(len: usize, salt: u8) -> Vec<u8> {
        (0..len).map(|i| (i as u8).wrapping_add(salt)).collect()
    }

    #[test]
    fn headers_at_their_boundaries() {
        let lens = [0usize, 1, 63, 64, 65, 16383, 16384, 16385, 70000];
        for (k, &len) in lens.iter().enumerate() {
            let (_, n) = header(len);
            let expect = if len < 64 {
                1
            } else if len < 16384 {
                2
            } else {
                5
            };
            assert_eq!(n, expect, "header size for {len}");
            let mut buf = vec![0xee];
            push_string(&mut buf, &bytes(len, k as u8));
            let (s, end) = read_string(&buf, 1);
            assert_eq!(s, &bytes(len, k as u8)[..]);
            assert_eq!(end, buf.len());
        }
        // Lengths beyond four bytes take the 9-byte form (only the header is checked: no such buffer).
        let (h, n) = header(1 << 33);
        assert_eq!(n, 9);
        assert_eq!(decode(h[0], |i| h[1 + i]), (1 << 33, 9));
    }

    #[test]
    fn entries_read_both_ways() {
        let lens = [0usize, 1, 63, 64, 65, 16383, 16384, 16385, 70000];
        let mut buf = vec![0xee];
        let mut starts = Vec::new();
        for (k, &len) in lens.iter().enumerate() {
            starts.push(buf.len());
            push_entry(&mut buf, &bytes(len, k as u8));
            assert_eq!(buf.len() - starts[k], entry_len(len));
            let mut exact = vec![0; entry_len(len)];
            write_entry(&mut exact, &bytes(len, k as u8));
            assert_eq!(exact, buf[starts[k]..]);
        }
        let mut at = 1;
        for (k, &len) in lens.iter().enumerate() {
            let (s, next) = read_entry(&buf, at);
            assert_eq!(s, &bytes(len, k as u8)[..]);
            at = next;
        }
        assert_eq!(at, buf.len());
        let mut end = buf.len();
        for (k, &len) in lens.iter().enumerate().rev() {
            let (s, start) = read_entry_back(&buf, end);
            assert_eq!(s, &bytes(len, k as u8)[..]);
            assert_eq!(start, starts[k]);
            end = start;
        }
        assert_eq!(end, 1);
    }
}
