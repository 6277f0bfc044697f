//! LZF compression as the reference server's bundled liblzf does it (hash log 16, "very fast" mode, a
//! fresh hash table per call), so that keel's compressed strings, and therefore its DUMP payloads and
//! snapshot files, are byte-identical to the reference's. Decompression is the `lzf-rust` crate's.
//!
//! The stream format: `000LLLLL` + L+1 literal bytes; `LLLooooo oooooooo` a back reference of L+2 bytes
//! (L < 7) at distance o+1; `111ooooo LLLLLLLL oooooooo` one of L+9 bytes.

use std::cell::RefCell;

/// Bits of the match-finder's hash table index.
const HLOG: u32 = 16;
/// Longest literal run.
const MAX_LIT: usize = 1 << 5;
/// Farthest back reference.
const MAX_OFF: usize = 1 << 13;
/// Longest back reference.
const MAX_REF: usize = (1 << 8) + (1 << 3);

thread_local! {
    /// The match finder's table, reused across calls: each slot holds the call's generation and a
    /// position + 1, and a slot from another generation reads as empty. That gives every call the fresh
    /// table the reference's output depends on, without zeroing (or allocating) 512 KiB per string.
    static TABLE: RefCell<(u32, Vec<(u32, u32)>)> = const { RefCell::new((0, Vec::new())) };
}

/// The hash of the three bytes starting at the window `h` (which holds them in its low 24 bits).
fn slot(h: u32) -> usize {
    ((h >> (3 * 8 - HLOG)).wrapping_sub(h.wrapping_mul(5)) & ((1 << HLOG) - 1)) as usize
}

/// Compresses `input` into at most `limit` bytes; `None` when the result would not fit (or the input is
/// empty). Same output as the reference for the same input and limit.
pub fn compress(input: &[u8], limit: usize) -> Option<Vec<u8>> {
    if input.is_empty() || limit == 0 || input.len() >= u32::MAX as usize {
        return None;
    }
    TABLE.with(|cell| {
        let mut guard = cell.borrow_mut();
        let (generation, slots) = &mut *guard;
        if slots.is_empty() {
            slots.resize(1 << HLOG, (0, 0));
        }
        *generation = generation.wrapping_add(1);
        if *generation == 0 {
            // Wrapped: clear once so that no stale slot can claim the new generation.
            slots.fill((0, 0));
            *generation = 1;
        }
        compress_with(input, limit, *generation, slots)
    })
}

/// Appends one literal byte at `op`, closing the literal run (its length byte sits before it) once it
/// holds [`MAX_LIT`] bytes. `None` when the output would pass `limit`.
fn push_literal(out: &mut [u8], op: &mut usize, lit: &mut usize, byte: u8, limit: usize) -> Option<()> {
    if *op >= limit {
        return None;
    }
    *lit += 1;
    out[*op] = byte;
    *op += 1;
    if *lit == MAX_LIT {
        out[*op - *lit - 1] = (*lit - 1) as u8;
        *lit = 0;
        *op += 1;
    }
    Some(())
}

/// [`compress`] with the match finder's table: `slots[h]` is `(generation, position + 1)`.
fn compress_with(input: &[u8], limit: usize, generation: u32, slots: &mut [(u32, u32)]) -> Option<Vec<u8>> {
    let n = input.len();
    let mut out = vec![0u8; limit];
    let mut op = 1usize; // the first run's length byte is at 0
    let mut lit = 0usize;
    let mut ip = 0usize;
    let byte = |i: usize| input.get(i).copied().unwrap_or(0) as u32;
    let mut hval = (byte(0) << 8) | byte(1);
    while ip + 2 < n {
        hval = (hval << 8) | byte(ip + 2);
        let h = slot(hval);
        let stored = match slots[h] {
            (g, p) if g == generation => p as usize,
            _ => 0,
        };
        slots[h] = (generation, ip as u32 + 1);
        // A candidate strictly after the input's first byte, within reach, matching three bytes.
        let candidate = stored
            .checked_sub(1)
            .filter(|&r| r > 0 && r < ip && ip - r - 1 < MAX_OFF);
        match candidate {
            Some(r) if input[r..r + 3] == input[ip..ip + 3] => {
                let off = ip - r - 1;
                let maxlen = (n - ip - 2).min(MAX_REF);
                if op + 4 >= limit && op - usize::from(lit == 0) + 4 >= limit {
                    return None;
                }
                out[op - lit - 1] = (lit as u8).wrapping_sub(1);
                op -= usize::from(lit == 0);
                // The match length, checked as the reference does: sixteen bytes without a bound check when
                // the bound is far, then byte by byte.
                let mut len = 2usize;
                let mut done = false;
                if maxlen > 16 {
                    for _ in 0..16 {
                        len += 1;
                        if input[r + len] != input[ip + len] {
                            done = true;
                            break;
                        }
                    }
                }
                if !done {
                    loop {
                        len += 1;
                        if !(len < maxlen && input[r + len] == input[ip + len]) {
                            break;
                        }
                    }
                }
                len -= 2;
                ip += 1;
                if len < 7 {
                    out[op] = (off >> 8) as u8 + ((len as u8) << 5);
                    op += 1;
                } else {
                    out[op] = (off >> 8) as u8 + (7 << 5);
                    out[op + 1] = (len - 7) as u8;
                    op += 2;
                }
                out[op] = off as u8;
                op += 2; // and start a new run
                lit = 0;
                ip += len + 1;
                if ip + 2 >= n {
                    break;
                }
                // Index the two positions before the new one.
                ip -= 2;
                hval = (byte(ip) << 8) | byte(ip + 1);
                for _ in 0..2 {
                    hval = (hval << 8) | byte(ip + 2);
                    slots[slot(hval)] = (generation, ip as u32 + 1);
                    ip += 1;
                }
            }
            _ => {
                push_literal(&mut out, &mut op, &mut lit, input[ip], limit)?;
                ip += 1;
            }
        }
    }
    if op + 3 > limit {
        return None;
    }
    while ip < n {
        // Room for the tail was checked above except for run headers, which the reference's bound covers.
        push_literal(&mut out, &mut op, &mut lit, input[ip], limit)?;
        ip += 1;
    }
    if op > limit {
        return None;
    }
    if lit > 0 {
        out[op - lit - 1] = (lit - 1) as u8;
    } else {
        op -= 1;
    }
    out.truncate(op);
    Some(out)
}

/// Decompresses `packed` into exactly `len` bytes; `None` when the stream is malformed or its output
/// length differs.
pub fn decompress(packed: &[u8], len: usize) -> Option<Vec<u8>> {
    let mut out = vec![0u8; len];
    match lzf_rust::decompress(packed, &mut out) {
        Ok(n) if n == len => Some(out),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_respects_the_limit() {
        let inputs: Vec<Vec<u8>> = vec![
            vec![b'x'; 21],
            b"hello world ".repeat(10),
            (0..5000u32).map(|i| (i * 7 % 26) as u8).collect(),
            (0..300u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect(),
            vec![0u8; 70_000],
        ];
        for input in inputs {
            if let Some(packed) = compress(&input, input.len() - 4) {
                assert!(packed.len() <= input.len() - 4);
                assert_eq!(decompress(&packed, input.len()).as_deref(), Some(&input[..]));
            }
        }
        assert_eq!(compress(b"abcdefgh", 4), None);
        assert_eq!(decompress(&[0x05, b'a'], 6), None);
    }

    #[test]
    fn matches_the_reference_bytes() {
        // DUMP of a 30-byte run of 'x' on the reference server: LZF payload after the two length bytes.
        assert_eq!(
            compress(&[b'x'; 30], 26).unwrap(),
            [0x01, b'x', b'x', 0xE0, 0x11, 0x00, 0x01, b'x', b'x']
        );
    }
}
