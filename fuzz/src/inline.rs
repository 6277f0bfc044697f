//! Ways of writing an argument list back as an inline request line, each of which
//! `keel_core::resp::parser::split_inline` must split into the same arguments again.

/// Every argument in double quotes with every byte as `\xHH`: `"\x53\x45\x54" "\x6b"`.
pub fn quote_hex(args: &[impl AsRef<[u8]>]) -> Vec<u8> {
    join(args, |arg, out| {
        out.push(b'"');
        for &b in arg {
            push_hex(out, b, HEX_LOWER);
        }
        out.push(b'"');
    })
}

/// Every argument in double quotes with redis-cli's escapes: printable ASCII as itself, `\" \\ \n \r \t
/// \a \b` by name, anything else as `\xHH` (upper- and lower-case hex alternate to cover both).
pub fn quote_escaped(args: &[impl AsRef<[u8]>]) -> Vec<u8> {
    join(args, |arg, out| {
        out.push(b'"');
        for (i, &b) in arg.iter().enumerate() {
            match b {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\t' => out.extend_from_slice(b"\\t"),
                7 => out.extend_from_slice(b"\\a"),
                8 => out.extend_from_slice(b"\\b"),
                0x20..=0x7e => out.push(b),
                _ if i % 2 == 0 => push_hex(out, b, HEX_LOWER),
                _ => push_hex(out, b, HEX_UPPER),
            }
        }
        out.push(b'"');
    })
}

/// Every argument in single quotes, `'` written as `\'`. `None` when an argument holds a backslash:
/// single quotes have no escape for it (`'a\'` reads as an unterminated `a'`).
pub fn quote_single(args: &[impl AsRef<[u8]>]) -> Option<Vec<u8>> {
    if args.iter().any(|a| a.as_ref().contains(&b'\\')) {
        return None;
    }
    Some(join(args, |arg, out| {
        out.push(b'\'');
        for &b in arg {
            if b == b'\'' {
                out.extend_from_slice(b"\\'");
            } else {
                out.push(b);
            }
        }
        out.push(b'\'');
    }))
}

/// The arguments separated by single spaces, unquoted. `None` when an argument is empty or holds a byte
/// that separates or quotes (whitespace, NUL, `"`, `'`).
pub fn bare(args: &[impl AsRef<[u8]>]) -> Option<Vec<u8>> {
    let plain = |a: &[u8]| {
        !a.is_empty()
            && !a
                .iter()
                .any(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0 | 0x0b | 0x0c | b'"' | b'\''))
    };
    if !args.iter().all(|a| plain(a.as_ref())) {
        return None;
    }
    Some(join(args, |arg, out| out.extend_from_slice(arg)))
}

const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";
const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Writes `\xHH` (no allocation: this runs for every byte of every fuzz input).
fn push_hex(out: &mut Vec<u8>, b: u8, digits: &[u8; 16]) {
    out.extend_from_slice(&[b'\\', b'x', digits[usize::from(b >> 4)], digits[usize::from(b & 15)]]);
}

fn join(args: &[impl AsRef<[u8]>], mut write: impl FnMut(&[u8], &mut Vec<u8>)) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        write(arg.as_ref(), &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use keel_core::resp::parser::split_inline;

    #[test]
    fn every_quoting_splits_back() {
        let args: Vec<&[u8]> = vec![b"SET", b"", b"a \"b\"\r\n\\x41", b"\x00\xff\x07\x08'"];
        for line in [quote_hex(&args), quote_escaped(&args)] {
            let split = split_inline(&line).expect("balanced");
            assert_eq!(split, args, "{}", line.escape_ascii());
        }
        assert_eq!(quote_single(&args), None);
        let plain: Vec<&[u8]> = vec![b"GET", b"it's"];
        assert_eq!(split_inline(&quote_single(&plain).unwrap()).unwrap(), plain);
        assert_eq!(bare(&plain), None);
        assert_eq!(bare(&["GET", "k"]).unwrap(), b"GET k");
    }
}
