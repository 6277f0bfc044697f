//! Normalisation of replies before comparison: the `sort:` and `mask:` case options.
//!
//! Some replies legitimately differ between servers or runs (client ids, times, ports, element order of
//! KEYS). A case names explicit rules for them; the same rules are applied to the recorded reply (the
//! recorder stores the normalised form, so re-recording does not churn the files) and to the reply under
//! test, and the results must then be byte-identical. Rules only ever replace the parts they match with
//! [`PLACEHOLDER`]: everything else in the reply is still compared exactly.

use regex::bytes::{Regex, RegexBuilder};

/// What masked bytes are replaced with.
pub const PLACEHOLDER: &[u8] = b"{masked}";

/// One masking rule.
#[derive(Debug, Clone)]
pub enum Mask {
    /// `mask: integer`: a reply that is a single integer (`:N\r\n`) has its value replaced.
    Integer,
    /// `mask: regex PATTERN`: every match of PATTERN in the reply bytes is replaced; if the pattern has
    /// capture groups, only the text of the groups that took part in the match is replaced, so the
    /// context around them (field names, type bytes) is still compared.
    Regex(Regex),
}

impl Mask {
    /// Compiles a `mask: regex` pattern. Patterns match bytes, not text: `.` and `\d` are ASCII-only and
    /// `(?m)` is available for per-line anchors.
    pub fn regex(pattern: &str) -> Result<Mask, String> {
        RegexBuilder::new(pattern)
            .unicode(false)
            .build()
            .map(Mask::Regex)
            .map_err(|e| format!("bad mask regex {pattern:?}: {e}"))
    }

    /// Applies the rule to one reply.
    pub fn apply(&self, bytes: &[u8]) -> Vec<u8> {
        match self {
            Mask::Integer => {
                let is_integer = bytes.len() > 3
                    && bytes[0] == b':'
                    && bytes.ends_with(b"\r\n")
                    && !bytes[1..bytes.len() - 2].contains(&b'\r');
                if is_integer {
                    let mut out = b":".to_vec();
                    out.extend_from_slice(PLACEHOLDER);
                    out.extend_from_slice(b"\r\n");
                    out
                } else {
                    bytes.to_vec()
                }
            }
            Mask::Regex(re) => {
                let mut out = Vec::with_capacity(bytes.len());
                let mut last = 0;
                for caps in re.captures_iter(bytes) {
                    let groups: Vec<_> = if caps.len() > 1 {
                        caps.iter().skip(1).flatten().collect()
                    } else {
                        caps.get(0).into_iter().collect()
                    };
                    for m in groups {
                        if m.start() < last {
                            continue; // nested groups: the outer one already covered this
                        }
                        out.extend_from_slice(&bytes[last..m.start()]);
                        out.extend_from_slice(PLACEHOLDER);
                        last = m.end();
                    }
                }
                out.extend_from_slice(&bytes[last..]);
                out
            }
        }
    }
}

/// The normalisation of one case: optional sorting, then the masks in the order written.
#[derive(Debug, Clone, Default)]
pub struct Normalizer {
    /// `sort: arrays`: sort the elements of every array/set whose elements are all non-aggregates.
    pub sort_arrays: bool,
    pub masks: Vec<Mask>,
}

impl Normalizer {
    /// The normalised form of a reply.
    pub fn apply(&self, bytes: &[u8]) -> Vec<u8> {
        let mut out = if self.sort_arrays {
            crate::resp::sort_leaf_arrays(bytes)
        } else {
            bytes.to_vec()
        };
        for m in &self.masks {
            out = m.apply(&out);
        }
        out
    }

    /// True when the case has any rule at all.
    pub fn is_identity(&self) -> bool {
        !self.sort_arrays && self.masks.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_mask_only_touches_integer_replies() {
        assert_eq!(Mask::Integer.apply(b":42\r\n"), b":{masked}\r\n");
        assert_eq!(Mask::Integer.apply(b"+OK\r\n"), b"+OK\r\n");
    }

    #[test]
    fn regex_mask_replaces_groups_or_whole_match() {
        let m = Mask::regex(r"(?:id|age)=(\d+)").unwrap();
        assert_eq!(m.apply(b"id=12 name=x age=3"), b"id={masked} name=x age={masked}");
        let whole = Mask::regex(r"\d+").unwrap();
        assert_eq!(whole.apply(b"a1b22"), b"a{masked}b{masked}");
    }

    #[test]
    fn normalising_is_idempotent_for_typical_rules() {
        let n = Normalizer {
            sort_arrays: true,
            masks: vec![Mask::Integer, Mask::regex(r"^\$(\d+)").unwrap()],
        };
        let once = n.apply(b"$3\r\nabc\r\n");
        assert_eq!(n.apply(&once), once);
    }
}
