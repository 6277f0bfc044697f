//! Number parsing and formatting with the exact rules clients observe.
//!
//! Owns: the strict integer grammar (no sign on zero, no leading zeros, no spaces) and the `%.17g` float
//! rendering used in replies. Pure functions only.

/// Parses a signed 64-bit integer with the strict grammar: `-?[1-9][0-9]*` or `0`, at most 20 bytes.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else if v > i64::MAX as u64 {
        None
    } else {
        Some(v as i64)
    }
}

/// Parses an unsigned 64-bit integer with the strict grammar.
pub fn parse_u64(s: &[u8]) -> Option<u64> {
    if s == b"0" {
        return Some(0);
    }
    if s.is_empty() || s.len() > 20 || !matches!(s[0], b'1'..=b'9') {
        return None;
    }
    let mut v: u64 = 0;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    Some(v)
}

/// Writes `n` in decimal into `buf`, returning the length used.
pub fn format_i64(n: i64, buf: &mut [u8; 20]) -> usize {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    let neg = n < 0;
    let mut v = n.unsigned_abs();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let mut len = 0;
    if neg {
        buf[0] = b'-';
        len = 1;
    }
    let digits = &tmp[i..];
    buf[len..len + digits.len()].copy_from_slice(digits);
    len + digits.len()
}

/// Appends `n` in decimal to `out`.
pub fn write_i64(out: &mut Vec<u8>, n: i64) {
    let mut buf = [0u8; 20];
    let len = format_i64(n, &mut buf);
    out.extend_from_slice(&buf[..len]);
}

/// Formats `d` as C's `%.17g`: 17 significant digits, trailing zeros dropped, exponent form when the
/// exponent is below -4 or at least 17. Returns the length written into `buf`.
pub fn format_double_g17(d: f64, buf: &mut [u8; 40]) -> usize {
    let s = format_g(d, 17);
    let bytes = s.as_bytes();
    buf[..bytes.len()].copy_from_slice(bytes);
    bytes.len()
}

/// `%.{precision}g` for any precision of 1 to 17.
pub fn format_g(d: f64, precision: usize) -> String {
    if d.is_nan() {
        return "nan".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if d == 0.0 {
        return if d.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    // Rust's exponent formatting rounds exactly, like glibc's printf.
    let sci = format!("{:.*e}", precision - 1, d);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (neg, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if exp < -4 || exp >= precision as i32 {
        let trimmed = digits.trim_end_matches('0');
        out.push_str(&trimmed[..1]);
        if trimmed.len() > 1 {
            out.push('.');
            out.push_str(&trimmed[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let e = exp.unsigned_abs();
        if e < 10 {
            out.push('0');
        }
        out.push_str(&e.to_string());
    } else if exp < 0 {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.push_str(digits.trim_end_matches('0'));
    } else {
        let int_len = exp as usize + 1;
        out.push_str(&digits[..int_len]);
        let frac = digits[int_len..].trim_end_matches('0');
        if !frac.is_empty() {
            out.push('.');
            out.push_str(frac);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_integers() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-0"), None);
        assert_eq!(parse_i64(b"007"), None);
        assert_eq!(parse_i64(b"+7"), None);
        assert_eq!(parse_i64(b" 7"), None);
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
    }

    #[test]
    fn format_integers() {
        let mut b = [0u8; 20];
        let n = format_i64(i64::MIN, &mut b);
        assert_eq!(&b[..n], b"-9223372036854775808");
    }

    #[test]
    fn g17() {
        assert_eq!(format_g(1.1, 17), "1.1000000000000001");
        assert_eq!(format_g(1.5, 17), "1.5");
        assert_eq!(format_g(100.0, 17), "100");
        assert_eq!(format_g(1e17, 17), "1e+17");
        assert_eq!(format_g(1.5e-5, 17), "1.5e-05");
        assert_eq!(format_g(0.0001, 17), "0.0001");
        assert_eq!(format_g(2.675, 17), "2.6749999999999998");
    }
}
