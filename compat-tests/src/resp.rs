//! Just enough RESP for a test harness: encoding commands, finding where one reply ends in a byte
//! stream, and splitting reply bytes into the per-line pieces that transcripts show.
//!
//! Replies are handled as raw bytes throughout: the suite compares bytes, so nothing here decodes a reply
//! into values beyond what is needed to find its boundaries and its nesting.

/// Why a byte string is not a well-formed RESP reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    /// Offset of the first byte that could not be understood.
    pub at: usize,
}

/// Encodes an argument vector as a RESP multibulk command.
pub fn encode_command(args: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + args.iter().map(|a| a.len() + 16).sum::<usize>());
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Finds the end of the line that starts at `pos`: the offset just past its `\r\n`, or `None` when the
/// buffer does not hold a complete line yet.
fn line_end(buf: &[u8], pos: usize) -> Option<usize> {
    buf.get(pos..)?
        .windows(2)
        .position(|w| w == b"\r\n")
        .map(|p| pos + p + 2)
}

/// Parses a signed decimal length or count from a header line's body.
fn parse_count(body: &[u8]) -> Option<i64> {
    std::str::from_utf8(body).ok()?.parse::<i64>().ok()
}

/// The shape of one RESP element as found at some offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece {
    /// A line-only element (`+`, `-`, `:`, `,`, `#`, `(`, `_`, a null `$-1`/`*-1`): ends at `end`.
    Simple { end: usize },
    /// A length-prefixed blob (`$`, `!`, `=`): header and payload together end at `end`.
    Blob { end: usize },
    /// An aggregate whose header ends at `header_end` and which holds `children` further elements.
    Aggregate { header_end: usize, children: usize },
}

/// Examines the element header at `pos`. `Ok(None)` means more bytes are needed.
fn piece_at(buf: &[u8], pos: usize) -> Result<Option<Piece>, Malformed> {
    let Some(&kind) = buf.get(pos) else {
        return Ok(None);
    };
    let Some(end) = line_end(buf, pos) else {
        return Ok(None);
    };
    let body = &buf[pos + 1..end - 2];
    let bad = Malformed { at: pos };
    match kind {
        b'+' | b'-' | b':' | b',' | b'#' | b'(' | b'_' => Ok(Some(Piece::Simple { end })),
        b'$' | b'!' | b'=' => {
            let n = parse_count(body).ok_or(bad.clone())?;
            if n < 0 {
                return if n == -1 && kind == b'$' {
                    Ok(Some(Piece::Simple { end }))
                } else {
                    Err(bad)
                };
            }
            let blob_end = end + n as usize + 2;
            if buf.len() < blob_end {
                return Ok(None);
            }
            if &buf[blob_end - 2..blob_end] != b"\r\n" {
                return Err(Malformed { at: blob_end - 2 });
            }
            Ok(Some(Piece::Blob { end: blob_end }))
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let n = parse_count(body).ok_or(bad.clone())?;
            if n < 0 {
                return if n == -1 && kind == b'*' {
                    Ok(Some(Piece::Simple { end }))
                } else {
                    Err(bad)
                };
            }
            let n = n as usize;
            let children = match kind {
                b'%' => n * 2,
                // An attribute map is followed by the element it describes.
                b'|' => n * 2 + 1,
                _ => n,
            };
            Ok(Some(Piece::Aggregate {
                header_end: end,
                children,
            }))
        }
        _ => Err(bad),
    }
}

/// Returns the end offset of the complete element starting at `pos`, `Ok(None)` if the buffer holds only
/// part of it, or an error if the bytes are not RESP.
pub fn element_end(buf: &[u8], pos: usize) -> Result<Option<usize>, Malformed> {
    // Iterative walk: a stack of "children still to read" counts, so deep nesting cannot overflow.
    let mut pending: Vec<usize> = Vec::new();
    let mut at = pos;
    loop {
        match piece_at(buf, at)? {
            None => return Ok(None),
            Some(Piece::Simple { end }) | Some(Piece::Blob { end }) => at = end,
            Some(Piece::Aggregate { header_end, children }) => {
                at = header_end;
                if children > 0 {
                    pending.push(children);
                    continue;
                }
            }
        }
        // One element finished: count it against the innermost open aggregate(s).
        loop {
            match pending.last_mut() {
                None => return Ok(Some(at)),
                Some(left) => {
                    *left -= 1;
                    if *left > 0 {
                        break;
                    }
                    pending.pop();
                }
            }
        }
    }
}

/// Splits `buf` into its top-level elements. Returns the element ranges that parsed and, if the bytes
/// did not end on an element boundary (truncated or not RESP), the offset where parsing stopped.
pub fn split_elements(buf: &[u8]) -> (Vec<std::ops::Range<usize>>, Option<usize>) {
    let mut out = Vec::new();
    let mut at = 0;
    while at < buf.len() {
        match element_end(buf, at) {
            Ok(Some(end)) => {
                out.push(at..end);
                at = end;
            }
            Ok(None) | Err(_) => return (out, Some(at)),
        }
    }
    (out, None)
}

/// One displayed piece of a reply: its nesting depth and its bytes (a complete RESP line, or a blob's
/// header and payload together).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub depth: usize,
    pub bytes: Vec<u8>,
}

/// Splits reply bytes into display lines following the RESP structure: one line per simple element or
/// aggregate header, one line per blob (header and payload), children indented one level deeper than
/// their aggregate. Bytes that are not RESP (for instance after masking replaced a length) are split
/// after each `\r\n` at depth 0. Concatenating the lines' bytes always gives back `buf`.
pub fn split_lines(buf: &[u8]) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut pending: Vec<usize> = Vec::new();
    let mut at = 0;
    while at < buf.len() {
        let depth = pending.len();
        let piece = match piece_at(buf, at) {
            Ok(Some(p)) => p,
            Ok(None) | Err(_) => break,
        };
        let end = match piece {
            Piece::Simple { end } | Piece::Blob { end } => end,
            Piece::Aggregate { header_end, .. } => header_end,
        };
        lines.push(Line {
            depth,
            bytes: buf[at..end].to_vec(),
        });
        at = end;
        match piece {
            Piece::Aggregate { children, .. } if children > 0 => pending.push(children),
            _ => {
                while let Some(left) = pending.last_mut() {
                    *left -= 1;
                    if *left > 0 {
                        break;
                    }
                    pending.pop();
                }
            }
        }
    }
    // Whatever is left is not RESP (or is truncated): fall back to plain CRLF splitting.
    let mut rest = &buf[at..];
    while !rest.is_empty() {
        let cut = rest.windows(2).position(|w| w == b"\r\n").map_or(rest.len(), |p| p + 2);
        lines.push(Line {
            depth: 0,
            bytes: rest[..cut].to_vec(),
        });
        rest = &rest[cut..];
    }
    lines
}

/// Sorts, at every depth, the elements of arrays and sets whose elements are all non-aggregates, by their
/// bytes. Used by the `sort: arrays` case option for replies whose order is unspecified (KEYS, SCAN).
/// Bytes that are not complete RESP are returned unchanged.
pub fn sort_leaf_arrays(buf: &[u8]) -> Vec<u8> {
    let (elements, rest) = split_elements(buf);
    if rest.is_some() {
        return buf.to_vec();
    }
    let mut out = Vec::with_capacity(buf.len());
    for r in elements {
        sort_element(&buf[r], &mut out);
    }
    out
}

/// Appends element `el` (one complete element) to `out`, with its leaf arrays sorted.
fn sort_element(el: &[u8], out: &mut Vec<u8>) {
    let Ok(Some(Piece::Aggregate { header_end, children })) = piece_at(el, 0) else {
        out.extend_from_slice(el);
        return;
    };
    out.extend_from_slice(&el[..header_end]);
    let (kids, _) = split_elements(&el[header_end..]);
    let mut kids: Vec<&[u8]> = kids
        .into_iter()
        .map(|r| &el[header_end + r.start..header_end + r.end])
        .collect();
    debug_assert_eq!(kids.len(), children);
    let all_leaves = kids
        .iter()
        .all(|k| !matches!(piece_at(k, 0), Ok(Some(Piece::Aggregate { .. }))));
    let sortable = matches!(el[0], b'*' | b'~');
    if all_leaves && sortable {
        kids.sort();
        for k in kids {
            out.extend_from_slice(k);
        }
    } else {
        for k in kids {
            sort_element(k, out);
        }
    }
}

/// Decodes a RESP2 array of bulk strings (such as a `CONFIG GET` reply); `None` for anything else.
pub fn bulk_strings(buf: &[u8]) -> Option<Vec<Vec<u8>>> {
    let Ok(Some(Piece::Aggregate { header_end, children })) = piece_at(buf, 0) else {
        return None;
    };
    if buf[0] != b'*' {
        return None;
    }
    let mut out = Vec::with_capacity(children);
    let mut at = header_end;
    for _ in 0..children {
        let Ok(Some(Piece::Blob { end })) = piece_at(buf, at) else {
            return None;
        };
        let header = line_end(buf, at)?;
        out.push(buf[header..end - 2].to_vec());
        at = end;
    }
    (at == buf.len()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_element_ends() {
        assert_eq!(element_end(b"+OK\r\n", 0), Ok(Some(5)));
        assert_eq!(element_end(b"$-1\r\n", 0), Ok(Some(5)));
        assert_eq!(element_end(b"$3\r\nab", 0), Ok(None));
        assert_eq!(element_end(b"*2\r\n$1\r\na\r\n*0\r\n:1\r\n", 0), Ok(Some(15)));
        assert_eq!(element_end(b"%1\r\n+a\r\n:1\r\n", 0), Ok(Some(12)));
        assert_eq!(element_end(b"|1\r\n+a\r\n:1\r\n+x\r\n", 0), Ok(Some(16)));
        assert!(element_end(b"?x\r\n", 0).is_err());
    }

    #[test]
    fn splits_lines_by_structure() {
        let buf = b"*2\r\n$1\r\na\r\n*1\r\n:1\r\n";
        let lines = split_lines(buf);
        let depths: Vec<usize> = lines.iter().map(|l| l.depth).collect();
        assert_eq!(depths, vec![0, 1, 1, 2]);
        let joined: Vec<u8> = lines.into_iter().flat_map(|l| l.bytes).collect();
        assert_eq!(joined, buf);
    }

    #[test]
    fn splits_non_resp_after_crlf() {
        let lines = split_lines(b"${masked}\r\nabc\r\n");
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1].bytes, b"abc\r\n");
    }

    #[test]
    fn sorts_leaf_arrays_only() {
        let sorted = sort_leaf_arrays(b"*2\r\n$1\r\n0\r\n*2\r\n$1\r\nb\r\n$1\r\na\r\n");
        assert_eq!(sorted, b"*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n");
    }
}
