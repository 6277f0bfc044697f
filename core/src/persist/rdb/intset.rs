//! Intsets: the packed blob of a set of integers (RDB type 11).
//!
//! Layout: the element width in bytes (u32 LE: 2, 4 or 8), the count (u32 LE), then the values sorted
//! ascending, each little endian at that width. The width is the smallest that holds every value.

/// The blob for `values` (sorted ascending, distinct).
pub fn build(values: &[i64]) -> Vec<u8> {
    let width: usize = if values.iter().all(|&v| i16::try_from(v).is_ok()) {
        2
    } else if values.iter().all(|&v| i32::try_from(v).is_ok()) {
        4
    } else {
        8
    };
    let mut out = Vec::with_capacity(8 + width * values.len());
    out.extend_from_slice(&(width as u32).to_le_bytes());
    out.extend_from_slice(&(values.len() as u32).to_le_bytes());
    for &v in values {
        out.extend_from_slice(&v.to_le_bytes()[..width]);
    }
    out
}

/// The values of an intset blob, after checking its size, width and strict ascending order.
pub fn parse(blob: &[u8]) -> Result<Vec<i64>, &'static str> {
    if blob.len() < 8 {
        return Err("intset too short");
    }
    let width = u32::from_le_bytes([blob[0], blob[1], blob[2], blob[3]]) as usize;
    let count = u32::from_le_bytes([blob[4], blob[5], blob[6], blob[7]]) as usize;
    if !matches!(width, 2 | 4 | 8) {
        return Err("invalid intset encoding");
    }
    if count.checked_mul(width).and_then(|n| n.checked_add(8)) != Some(blob.len()) {
        return Err("intset size mismatch");
    }
    let values: Vec<i64> = blob[8..]
        .chunks_exact(width)
        .map(|c| match width {
            2 => i16::from_le_bytes([c[0], c[1]]) as i64,
            4 => i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as i64,
            _ => i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]),
        })
        .collect();
    if values.windows(2).any(|w| w[0] >= w[1]) {
        return Err("intset not sorted or has duplicates");
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_bytes_and_widths() {
        // From the reference's DUMP of SADD si 1 2 300.
        assert_eq!(
            build(&[1, 2, 300]),
            b"\x02\x00\x00\x00\x03\x00\x00\x00\x01\x00\x02\x00,\x01"
        );
        for values in [vec![], vec![-5, 70_000], vec![i64::MIN, 0, i64::MAX]] {
            assert_eq!(parse(&build(&values)).unwrap(), values);
        }
        assert!(parse(&build(&[1, 2])[..11]).is_err());
        assert!(parse(b"\x02\x00\x00\x00\x02\x00\x00\x00\x02\x00\x01\x00").is_err());
    }
}
