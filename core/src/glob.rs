//! Glob-style matching over bytes, with the rules KEYS, SCAN MATCH and CONFIG GET use.
//!
//! `*` any run, `?` any one byte, `[abc]`, `[^abc]`, `[a-z]` (ends in either order), `\x` a literal x.
//! An unterminated `[` class runs to the end of the pattern. Matching is binary-safe.
//!
//! General-purpose glob crates work on paths or UTF-8 text and treat separators and unterminated classes
//! differently, so this small matcher is kept here instead.

/// True when `text` matches `pattern`; `nocase` folds ASCII case.
pub fn glob_match(pattern: &[u8], text: &[u8], nocase: bool) -> bool {
    let mut give_up = false;
    match_from(pattern, text, nocase, &mut give_up)
}

fn fold(c: u8, nocase: bool) -> u8 {
    if nocase {
        c.to_ascii_lowercase()
    } else {
        c
    }
}

fn match_from(mut pat: &[u8], mut text: &[u8], nocase: bool, give_up: &mut bool) -> bool {
    while !pat.is_empty() && !text.is_empty() {
        match pat[0] {
            b'*' => {
                while pat.len() > 1 && pat[1] == b'*' {
                    pat = &pat[1..];
                }
                if pat.len() == 1 {
                    return true;
                }
                while !text.is_empty() {
                    if match_from(&pat[1..], text, nocase, give_up) {
                        return true;
                    }
                    // A deeper star already failed against every suffix: longer prefixes cannot help.
                    if *give_up {
                        return false;
                    }
                    text = &text[1..];
                }
                *give_up = true;
                return false;
            }
            b'?' => {
                text = &text[1..];
            }
            b'[' => {
                pat = &pat[1..];
                let negate = pat.first() == Some(&b'^');
                if negate {
                    pat = &pat[1..];
                }
                let c = fold(text[0], nocase);
                let mut matched = false;
                loop {
                    match pat {
                        [b'\\', escaped, ..] => {
                            if fold(*escaped, nocase) == c {
                                matched = true;
                            }
                            pat = &pat[2..];
                        }
                        [b']', ..] => break,
                        [] => break,
                        [start, b'-', end, ..] => {
                            let (mut lo, mut hi) = (fold(*start, nocase), fold(*end, nocase));
                            if lo > hi {
                                std::mem::swap(&mut lo, &mut hi);
                            }
                            if c >= lo && c <= hi {
                                matched = true;
                            }
                            pat = &pat[3..];
                        }
                        [single, ..] => {
                            if fold(*single, nocase) == c {
                                matched = true;
                            }
                            pat = &pat[1..];
                        }
                    }
                }
                if matched == negate {
                    return false;
                }
                text = &text[1..];
                // Step over the closing bracket (if the class was terminated).
                if !pat.is_empty() {
                    pat = &pat[1..];
                }
                if text.is_empty() {
                    while pat.first() == Some(&b'*') {
                        pat = &pat[1..];
                    }
                }
                continue;
            }
            b'\\' if pat.len() >= 2 => {
                if fold(pat[1], nocase) != fold(text[0], nocase) {
                    return false;
                }
                pat = &pat[1..];
                text = &text[1..];
            }
            c => {
                if fold(c, nocase) != fold(text[0], nocase) {
                    return false;
                }
                text = &text[1..];
            }
        }
        pat = &pat[1..];
        if text.is_empty() {
            while pat.first() == Some(&b'*') {
                pat = &pat[1..];
            }
        }
    }
    pat.is_empty() && text.is_empty()
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    fn m(p: &str, t: &str) -> bool {
        glob_match(p.as_bytes(), t.as_bytes(), false)
    }

    #[test]
    fn basics() {
        assert!(m("*", "anything"));
        // The reference matcher needs at least one byte of text to enter its loop.
        assert!(!m("*", ""));
        assert!(m("h?llo", "hello"));
        assert!(!m("h?llo", "hllo"));
        assert!(m("h*llo", "heeeello"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(m("h[b-a]llo", "hallo"));
        assert!(m("h\\*llo", "h*llo"));
        assert!(!m("h\\*llo", "hello"));
        assert!(m("a*b*c", "axxbyyc"));
        assert!(!m("a*b*c", "axxbyy"));
        assert!(m("[abc", "a"));
        assert!(m("k[\\]]", "k]"));
        assert!(glob_match(b"HELLO", b"hello", true));
    }

    #[test]
    fn pathological_pattern_is_fast() {
        let text = "a".repeat(100);
        let pat = "a*".repeat(50) + "b";
        assert!(!m(&pat, &text));
    }
}
