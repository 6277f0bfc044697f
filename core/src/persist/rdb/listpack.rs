//! Listpacks: the packed blob the compact list, hash and sorted-set encodings are stored as.
//!
//! Layout: total size (u32 LE), element count (u16 LE, 65535 meaning "count them"), the entries, and a
//! 0xFF terminator. Each entry is an encoding byte (with inline length or integer bits), its data, and a
//! "back length" (the entry's size in 7-bit groups) so the blob can be walked from either end. A string
//! that reads as a 64-bit integer is stored as the smallest integer form, as the reference does.

use crate::types::number;

/// Header size (total bytes + count).
const HEADER: usize = 6;
/// The terminator byte.
const EOF: u8 = 0xFF;

/// Appends the back length for an entry of `len` bytes.
fn push_backlen(out: &mut Vec<u8>, len: usize) {
    let len = len as u64;
    if len <= 127 {
        out.push(len as u8);
    } else if len < 16_383 {
        out.extend_from_slice(&[(len >> 7) as u8, (len & 127) as u8 | 128]);
    } else if len < 2_097_151 {
        out.extend_from_slice(&[
            (len >> 14) as u8,
            ((len >> 7) & 127) as u8 | 128,
            (len & 127) as u8 | 128,
        ]);
    } else if len < 268_435_455 {
        out.extend_from_slice(&[
            (len >> 21) as u8,
            ((len >> 14) & 127) as u8 | 128,
            ((len >> 7) & 127) as u8 | 128,
            (len & 127) as u8 | 128,
        ]);
    } else {
        out.extend_from_slice(&[
            (len >> 28) as u8,
            ((len >> 21) & 127) as u8 | 128,
            ((len >> 14) & 127) as u8 | 128,
            ((len >> 7) & 127) as u8 | 128,
            (len & 127) as u8 | 128,
        ]);
    }
}

/// A listpack being built.
#[derive(Clone, Debug)]
pub struct ListpackBuilder {
    /// Header placeholder, then the entries.
    buf: Vec<u8>,
    /// Entries so far.
    count: usize,
}

impl Default for ListpackBuilder {
    fn default() -> Self {
        ListpackBuilder::new()
    }
}

impl ListpackBuilder {
    /// An empty listpack.
    pub fn new() -> ListpackBuilder {
        ListpackBuilder {
            buf: vec![0; HEADER],
            count: 0,
        }
    }

    /// Entries so far.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Size in bytes the finished blob would have.
    pub fn size(&self) -> usize {
        self.buf.len() + 1
    }

    /// Appends an integer entry.
    pub fn push_int(&mut self, v: i64) {
        let start = self.buf.len();
        if (0..=127).contains(&v) {
            self.buf.push(v as u8);
        } else if (-4096..=4095).contains(&v) {
            let u = if v < 0 { (1 << 13) + v } else { v } as u16;
            self.buf.extend_from_slice(&[0xC0 | (u >> 8) as u8, u as u8]);
        } else if let Ok(x) = i16::try_from(v) {
            self.buf.push(0xF1);
            self.buf.extend_from_slice(&x.to_le_bytes());
        } else if (-(1 << 23)..(1 << 23)).contains(&v) {
            self.buf.push(0xF2);
            self.buf.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
        } else if let Ok(x) = i32::try_from(v) {
            self.buf.push(0xF3);
            self.buf.extend_from_slice(&x.to_le_bytes());
        } else {
            self.buf.push(0xF4);
            self.buf.extend_from_slice(&v.to_le_bytes());
        }
        let len = self.buf.len() - start;
        push_backlen(&mut self.buf, len);
        self.count += 1;
    }

    /// Appends a string entry (as an integer when it reads as one).
    pub fn push(&mut self, s: &[u8]) {
        if s.len() <= 20 {
            if let Some(v) = number::parse_i64(s) {
                self.push_int(v);
                return;
            }
        }
        let start = self.buf.len();
        let len = s.len();
        if len < 64 {
            self.buf.push(0x80 | len as u8);
        } else if len < 4096 {
            self.buf.extend_from_slice(&[0xE0 | (len >> 8) as u8, len as u8]);
        } else {
            self.buf.push(0xF0);
            self.buf.extend_from_slice(&(len as u32).to_le_bytes());
        }
        self.buf.extend_from_slice(s);
        let entry = self.buf.len() - start;
        push_backlen(&mut self.buf, entry);
        self.count += 1;
    }

    /// The finished blob.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(EOF);
        let total = self.buf.len() as u32;
        self.buf[..4].copy_from_slice(&total.to_le_bytes());
        let count = self.count.min(u16::MAX as usize) as u16;
        self.buf[4..6].copy_from_slice(&count.to_le_bytes());
        self.buf
    }
}

/// Why a blob is not a valid listpack.
pub type Invalid = &'static str;

/// The entries of a listpack blob, each as its string form (integers in decimal), after checking the
/// whole structure (sizes, back lengths, count, terminator).
pub fn parse(blob: &[u8]) -> Result<Vec<Vec<u8>>, Invalid> {
    if blob.len() < HEADER + 1 {
        return Err("listpack too short");
    }
    let total = u32::from_le_bytes([blob[0], blob[1], blob[2], blob[3]]) as usize;
    if total != blob.len() {
        return Err("listpack size header mismatch");
    }
    let declared = u16::from_le_bytes([blob[4], blob[5]]) as usize;
    let mut items = Vec::new();
    let mut p = HEADER;
    loop {
        let &b = blob.get(p).ok_or("listpack entry out of bounds")?;
        if b == EOF {
            break;
        }
        let field = |from: usize, n: usize| blob.get(from..from + n).ok_or("listpack entry out of bounds");
        let (item, size): (Vec<u8>, usize) = if b & 0x80 == 0 {
            (int_text(b as i64), 1)
        } else if b & 0xC0 == 0x80 {
            let len = (b & 0x3F) as usize;
            (field(p + 1, len)?.to_vec(), 1 + len)
        } else if b & 0xE0 == 0xC0 {
            let raw = (((b & 0x1F) as i64) << 8) | *field(p + 1, 1)?.first().unwrap_or(&0) as i64;
            let v = if raw >= 1 << 12 { raw - (1 << 13) } else { raw };
            (int_text(v), 2)
        } else if b & 0xF0 == 0xE0 {
            let len = (((b & 0x0F) as usize) << 8) | *field(p + 1, 1)?.first().unwrap_or(&0) as usize;
            (field(p + 2, len)?.to_vec(), 2 + len)
        } else {
            match b {
                0xF0 => {
                    let l = field(p + 1, 4)?;
                    let len = u32::from_le_bytes([l[0], l[1], l[2], l[3]]) as usize;
                    if len > blob.len() {
                        return Err("listpack string longer than the blob");
                    }
                    (field(p + 5, len)?.to_vec(), 5 + len)
                }
                0xF1 => {
                    let d = field(p + 1, 2)?;
                    (int_text(i16::from_le_bytes([d[0], d[1]]) as i64), 3)
                }
                0xF2 => {
                    let d = field(p + 1, 3)?;
                    let raw = (d[0] as i64) | ((d[1] as i64) << 8) | ((d[2] as i64) << 16);
                    let v = if raw >= 1 << 23 { raw - (1 << 24) } else { raw };
                    (int_text(v), 4)
                }
                0xF3 => {
                    let d = field(p + 1, 4)?;
                    (int_text(i32::from_le_bytes([d[0], d[1], d[2], d[3]]) as i64), 5)
                }
                0xF4 => {
                    let d = field(p + 1, 8)?;
                    let mut a = [0u8; 8];
                    a.copy_from_slice(d);
                    (int_text(i64::from_le_bytes(a)), 9)
                }
                _ => return Err("unknown listpack entry encoding"),
            }
        };
        let mut expected = Vec::with_capacity(5);
        push_backlen(&mut expected, size);
        if field(p + size, expected.len())? != expected.as_slice() {
            return Err("listpack back length mismatch");
        }
        p += size + expected.len();
        items.push(item);
    }
    if p != blob.len() - 1 {
        return Err("listpack terminator before its end");
    }
    if declared != u16::MAX as usize && declared != items.len() {
        return Err("listpack count mismatch");
    }
    Ok(items)
}

/// The decimal text of `v`.
fn int_text(v: i64) -> Vec<u8> {
    let mut buf = [0u8; 20];
    let len = number::format_i64(v, &mut buf);
    buf[..len].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_the_reference_bytes() {
        // The listpack inside the reference's DUMP of RPUSH l a b 1 200 -5 70000.
        let mut lp = ListpackBuilder::new();
        for s in ["a", "b", "1", "200", "-5", "70000"] {
            lp.push(s.as_bytes());
        }
        let blob = lp.finish();
        assert_eq!(
            blob,
            b"\x1a\x00\x00\x00\x06\x00\x81a\x02\x81b\x02\x01\x01\xc0\xc8\x02\xdf\xfb\x02\xf2p\x11\x01\x04\xff"
        );
        let items = parse(&blob).unwrap();
        assert_eq!(
            items,
            ["a", "b", "1", "200", "-5", "70000"].map(|s| s.as_bytes().to_vec())
        );
    }

    #[test]
    fn every_entry_form_round_trips() {
        let mut values: Vec<Vec<u8>> = vec![b"".to_vec(), vec![b'x'; 63], vec![b'y'; 64], vec![b'z'; 4095]];
        values.push(vec![b'w'; 5000]);
        for v in [
            0i64,
            127,
            128,
            -1,
            -4096,
            4095,
            4096,
            -32768,
            32767,
            -8_388_608,
            8_388_607,
            i32::MIN as i64,
        ] {
            values.push(v.to_string().into_bytes());
        }
        values.extend([i64::MIN, i64::MAX].map(|v| v.to_string().into_bytes()));
        values.push(b"007".to_vec());
        let mut lp = ListpackBuilder::new();
        for v in &values {
            lp.push(v);
        }
        assert_eq!(parse(&lp.finish()).unwrap(), values);
    }

    #[test]
    fn rejects_damage() {
        let mut lp = ListpackBuilder::new();
        lp.push(b"hello");
        let blob = lp.finish();
        for cut in 0..blob.len() {
            assert!(parse(&blob[..cut]).is_err());
        }
        let mut bad = blob.clone();
        bad[6] = 0xF7;
        assert!(parse(&bad).is_err());
        let mut bad = blob.clone();
        bad[4] = 3;
        assert!(parse(&bad).is_err());
    }
}
