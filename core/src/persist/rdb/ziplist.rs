//! Ziplists: the packed blob older versions stored compact lists, hashes and sorted sets as (read only).
//!
//! Layout: total bytes (u32 LE), offset of the last entry (u32 LE), entry count (u16 LE, 65535 meaning
//! "count them"), the entries, and a 0xFF terminator. Each entry starts with the previous entry's length
//! (one byte, or 0xFE and a u32 LE), then an encoding header: `00pppppp` / `01pppppp qqqqqqqq` /
//! `10000000` + u32 BE strings, `11000000` i16, `11010000` i32, `11100000` i64, `11110000` 24-bit,
//! `11111110` i8, `1111xxxx` (xxxx 1..13) the immediate xxxx-1.

use crate::types::number;

/// The entries of a ziplist blob, each in string form, after checking the structure.
pub fn parse(blob: &[u8]) -> Result<Vec<Vec<u8>>, &'static str> {
    if blob.len() < 11 {
        return Err("ziplist too short");
    }
    let u32_at = |p: usize| u32::from_le_bytes([blob[p], blob[p + 1], blob[p + 2], blob[p + 3]]) as usize;
    if u32_at(0) != blob.len() {
        return Err("ziplist size header mismatch");
    }
    let tail = u32_at(4);
    let declared = u16::from_le_bytes([blob[8], blob[9]]) as usize;
    let get = |from: usize, n: usize| blob.get(from..from + n).ok_or("ziplist entry out of bounds");
    let mut items = Vec::new();
    let mut p = 10;
    let mut prev_len = 0usize;
    let mut last_start = 10;
    while *blob.get(p).ok_or("ziplist entry out of bounds")? != 0xFF {
        let start = p;
        let (stored_prev, header) = if blob[p] < 0xFE {
            (blob[p] as usize, 1)
        } else {
            let d = get(p + 1, 4)?;
            (u32::from_le_bytes([d[0], d[1], d[2], d[3]]) as usize, 5)
        };
        if stored_prev != prev_len {
            return Err("ziplist previous-entry length mismatch");
        }
        p += header;
        let enc = *get(p, 1)?.first().ok_or("ziplist entry out of bounds")?;
        let item: Vec<u8> = match enc >> 6 {
            0 => {
                let len = (enc & 0x3F) as usize;
                p += 1;
                get(p, len)?.to_vec()
            }
            1 => {
                let len = (((enc & 0x3F) as usize) << 8) | get(p + 1, 1)?[0] as usize;
                p += 2;
                get(p, len)?.to_vec()
            }
            2 => {
                let d = get(p + 1, 4)?;
                let len = u32::from_be_bytes([d[0], d[1], d[2], d[3]]) as usize;
                p += 5;
                get(p, len)?.to_vec()
            }
            _ => {
                p += 1;
                let (v, n): (i64, usize) = match enc {
                    0xC0 => {
                        let d = get(p, 2)?;
                        (i16::from_le_bytes([d[0], d[1]]) as i64, 2)
                    }
                    0xD0 => {
                        let d = get(p, 4)?;
                        (i32::from_le_bytes([d[0], d[1], d[2], d[3]]) as i64, 4)
                    }
                    0xE0 => {
                        let d = get(p, 8)?;
                        let mut a = [0u8; 8];
                        a.copy_from_slice(d);
                        (i64::from_le_bytes(a), 8)
                    }
                    0xF0 => {
                        let d = get(p, 3)?;
                        let raw = (d[0] as i64) | ((d[1] as i64) << 8) | ((d[2] as i64) << 16);
                        (if raw >= 1 << 23 { raw - (1 << 24) } else { raw }, 3)
                    }
                    0xFE => (get(p, 1)?[0] as i8 as i64, 1),
                    0xF1..=0xFD => ((enc & 0x0F) as i64 - 1, 0),
                    _ => return Err("unknown ziplist entry encoding"),
                };
                let mut buf = [0u8; 20];
                let len = number::format_i64(v, &mut buf);
                // Skip the integer's bytes below (strings advance by their length).
                p += n;
                items.push(buf[..len].to_vec());
                prev_len = p - start;
                last_start = start;
                continue;
            }
        };
        p += item.len();
        items.push(item);
        prev_len = p - start;
        last_start = start;
    }
    if p != blob.len() - 1 {
        return Err("ziplist terminator before its end");
    }
    if tail != last_start {
        return Err("ziplist tail offset mismatch");
    }
    if declared != u16::MAX as usize && declared != items.len() {
        return Err("ziplist count mismatch");
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ziplist of (encoding header + data) entries, built by hand.
    fn ziplist(entries: &[&[u8]]) -> Vec<u8> {
        let mut body = Vec::new();
        let mut prev = 0usize;
        let mut last = 10;
        for e in entries {
            last = 10 + body.len();
            body.push(prev as u8);
            body.extend_from_slice(e);
            prev = e.len() + 1;
        }
        let mut out = Vec::new();
        out.extend_from_slice(&((10 + body.len() + 1) as u32).to_le_bytes());
        out.extend_from_slice(&(last as u32).to_le_bytes());
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&body);
        out.push(0xFF);
        out
    }

    #[test]
    fn reads_every_encoding() {
        let blob = ziplist(&[
            b"\x03abc",
            b"\xf1",
            b"\xfd",
            b"\xfe\x85",
            b"\xc0\x00\x80",
            b"\xf0\xff\xff\xff",
            b"\xd0\x00\x00\x00\x80",
        ]);
        let items = parse(&blob).unwrap();
        let text: Vec<String> = items.iter().map(|i| String::from_utf8_lossy(i).into_owned()).collect();
        assert_eq!(text, ["abc", "0", "12", "-123", "-32768", "-1", "-2147483648"]);
        for cut in 0..blob.len() {
            assert!(parse(&blob[..cut]).is_err());
        }
    }
}
