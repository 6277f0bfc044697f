//! Fuzzes `keel_core::resp::parser::split_inline`, the inline-request tokenizer (redis-cli quoting rules).
//!
//! Input: the bytes of one inline request line. Checks, besides "no panic": when the line splits, writing
//! the arguments back quoted — every byte as `\xHH` in double quotes; with named escapes in double quotes;
//! in single quotes when possible; bare when possible — and splitting again gives the same arguments.
#![no_main]

use keel_core::resp::parser::split_inline;
use keel_fuzz::inline::{bare, quote_escaped, quote_hex, quote_single};
use libfuzzer_sys::fuzz_target;

fn check(args: &[bytes::Bytes], style: &str, line: Option<Vec<u8>>) {
    let Some(line) = line else { return };
    let again =
        split_inline(&line).unwrap_or_else(|| panic!("{style} quoting does not split: {}", line.escape_ascii()));
    assert_eq!(
        again,
        args,
        "{style} quoting changes the arguments: {}",
        line.escape_ascii()
    );
}

fuzz_target!(|data: &[u8]| {
    let Some(args) = split_inline(data) else { return };
    check(&args, "hex", Some(quote_hex(&args)));
    check(&args, "escaped", Some(quote_escaped(&args)));
    check(&args, "single", quote_single(&args));
    check(&args, "bare", bare(&args));
});
