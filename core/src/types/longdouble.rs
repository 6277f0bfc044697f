//! Float increments with the reference server's exact digits.
//!
//! The arithmetic runs in the platform's `long double` through a small C helper (`longdouble.c`): the
//! reference server adds in long double and prints `%.17Lf`, so only the same arithmetic and the C
//! library's conversions give the same bytes (`1.1 + 2.2` is `3.3` there, not f64's
//! `3.3000000000000003`).

use std::os::raw::{c_char, c_int, c_longlong};

unsafe extern "C" {
    fn keel_ld_incr(
        cur: *const u8,
        cur_len: usize,
        cur_int: c_longlong,
        incr: *const u8,
        incr_len: usize,
        out: *mut c_char,
        out_cap: usize,
        out_len: *mut usize,
    ) -> c_int;
}

/// Why an increment failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IncrError {
    /// An operand is not a valid float.
    NotFloat,
    /// The sum is NaN or infinite.
    NanOrInfinity,
}

/// The current value of a float increment.
#[derive(Clone, Copy, Debug)]
pub enum Operand<'a> {
    /// Text to parse.
    Text(&'a [u8]),
    /// An integer-encoded value.
    Int(i64),
}

/// Adds `incr` (text) to `current`, returning the sum as the text the reference server stores.
pub fn incr(current: Operand<'_>, incr: &[u8]) -> Result<Vec<u8>, IncrError> {
    let mut out = vec![0u8; 5 * 1024 + 64];
    let mut len = 0usize;
    let (ptr, cur_len, cur_int) = match current {
        Operand::Text(t) => (t.as_ptr(), t.len(), 0),
        Operand::Int(n) => (std::ptr::null(), 0, n),
    };
    // SAFETY: every pointer is valid for the length passed with it for the whole call; the helper
    // copies the operands into its own buffers, writes at most `out.len()` bytes into `out` and stores
    // the written length in `len`. It keeps no pointer after returning.
    let rc = unsafe {
        keel_ld_incr(
            ptr,
            cur_len,
            cur_int,
            incr.as_ptr(),
            incr.len(),
            out.as_mut_ptr().cast(),
            out.len(),
            &mut len,
        )
    };
    match rc {
        0 => {
            out.truncate(len.min(out.len()));
            Ok(out)
        }
        2 => Err(IncrError::NanOrInfinity),
        _ => Err(IncrError::NotFloat),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(a: &str, b: &str) -> Result<String, IncrError> {
        incr(Operand::Text(a.as_bytes()), b.as_bytes()).map(|v| String::from_utf8(v).unwrap())
    }

    #[test]
    fn long_double_digits() {
        assert_eq!(add("1.1", "2.2").unwrap(), "3.3");
        assert_eq!(add("10.50", "0.1").unwrap(), "10.6");
        assert_eq!(add("5.0e3", "2.0e2").unwrap(), "5200");
        assert_eq!(add("0", "0x10").unwrap(), "16");
        assert_eq!(add("-1", "1").unwrap(), "0");
        assert_eq!(incr(Operand::Int(3), b"1.5").unwrap(), b"4.5");
    }

    #[test]
    fn errors() {
        assert_eq!(add("abc", "1"), Err(IncrError::NotFloat));
        assert_eq!(add("1", " 1"), Err(IncrError::NotFloat));
        assert_eq!(add("1", "nan"), Err(IncrError::NotFloat));
        assert_eq!(add("1", ""), Err(IncrError::NotFloat));
        assert_eq!(add("inf", "-inf"), Err(IncrError::NanOrInfinity));
    }
}
