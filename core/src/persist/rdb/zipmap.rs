//! Zipmaps: the packed blob very old versions stored small hashes as (read only, RDB type 9).
//!
//! Layout: a count byte (254 or more meaning "count them"), then pairs of (length, key bytes) and
//! (length, free byte count, value bytes, free bytes), and a 0xFF terminator. A length is one byte below
//! 254, or 254 followed by a u32 (native order, little endian in practice).

/// One zipmap length at `p`: the value and the bytes it took.
fn length_at(blob: &[u8], p: usize) -> Result<(usize, usize), &'static str> {
    match *blob.get(p).ok_or("zipmap out of bounds")? {
        254 => {
            let d = blob.get(p + 1..p + 5).ok_or("zipmap out of bounds")?;
            Ok((u32::from_le_bytes([d[0], d[1], d[2], d[3]]) as usize, 5))
        }
        255 => Err("zipmap length where the end was"),
        n => Ok((n as usize, 1)),
    }
}

/// A (field, value) pair.
pub type Pair = (Vec<u8>, Vec<u8>);

/// The (field, value) pairs of a zipmap blob.
pub fn parse(blob: &[u8]) -> Result<Vec<Pair>, &'static str> {
    let get = |from: usize, n: usize| blob.get(from..from + n).ok_or("zipmap out of bounds");
    let mut pairs = Vec::new();
    let mut p = 1;
    if blob.is_empty() {
        return Err("zipmap too short");
    }
    while *blob.get(p).ok_or("zipmap out of bounds")? != 0xFF {
        let (klen, n) = length_at(blob, p)?;
        p += n;
        let key = get(p, klen)?.to_vec();
        p += klen;
        let (vlen, n) = length_at(blob, p)?;
        p += n;
        let free = get(p, 1)?[0] as usize;
        p += 1;
        let value = get(p, vlen)?.to_vec();
        p += vlen + free;
        pairs.push((key, value));
    }
    if p != blob.len() - 1 {
        return Err("zipmap terminator before its end");
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pairs_and_skips_free_space() {
        let blob = b"\x02\x01a\x02\x01xy?\x02bc\x00\x00\xff";
        let pairs = parse(blob).unwrap();
        assert_eq!(
            pairs,
            vec![(b"a".to_vec(), b"xy".to_vec()), (b"bc".to_vec(), b"".to_vec())]
        );
        for cut in 0..blob.len() {
            assert!(parse(&blob[..cut]).is_err());
        }
    }
}
