//! SORT and SORT_RO: sorting the elements of a list, set or sorted set, numerically or by bytes, by the
//! element itself or by values looked up through a key pattern, with LIMIT, GET projections and STORE.
//!
//! Owns the option grammar (parsed completely, left to right, before the source key is looked up, so a
//! syntax error wins over WRONGTYPE), the pattern substitution rules (`*` replaced by the element, `->`
//! selecting a hash field, `#` meaning the element itself), the comparison rules (numeric with ties broken
//! by the elements' bytes, or ALPHA byte order), and storing the result as a list. Element storage belongs
//! to the `types` modules; only their public APIs are used here.

use std::cmp::Ordering;

use bytes::Bytes;
use rand::Rng;

use super::{CmdResult, CommandError, Ctx, Registry};
use crate::server::Server;
use crate::types::zset::{parse_score_bound, Params};
use crate::types::{Value, ZSetValue};

/// Registers the family's handlers.
pub fn register(r: &mut Registry) {
    r.add("sort", sort);
    r.add("sort_ro", sort_ro);
}

/// The error when a weight (or, without BY, an element) is not a number in a numeric sort.
const NOT_DOUBLE: &str = "ERR One or more scores can't be converted into double";

/// The parsed options of one SORT call.
#[derive(Debug, Default, PartialEq)]
struct SortOptions {
    /// DESC was given last (rather than ASC).
    desc: bool,
    /// ALPHA: compare bytes rather than numbers.
    alpha: bool,
    /// LIMIT's offset (0 when absent).
    limit_start: i64,
    /// LIMIT's count (-1, meaning "all", when absent).
    limit_count: i64,
    /// The last BY pattern.
    by: Option<Bytes>,
    /// Some BY pattern had no `*`: keep the source's own order. Once set it stays set.
    dont_sort: bool,
    /// The GET patterns, in order.
    gets: Vec<Bytes>,
    /// The STORE destination.
    store: Option<Bytes>,
}

/// Parses `argv[2..]`. SORT_RO (`read_only`) refuses STORE as a syntax error.
fn parse_options(argv: &[Bytes], read_only: bool) -> Result<SortOptions, CommandError> {
    let mut o = SortOptions {
        limit_count: -1,
        ..SortOptions::default()
    };
    let mut j = 2;
    while j < argv.len() {
        let opt = &argv[j][..];
        let left = argv.len() - j - 1;
        if opt.eq_ignore_ascii_case(b"asc") {
            o.desc = false;
        } else if opt.eq_ignore_ascii_case(b"desc") {
            o.desc = true;
        } else if opt.eq_ignore_ascii_case(b"alpha") {
            o.alpha = true;
        } else if opt.eq_ignore_ascii_case(b"limit") && left >= 2 {
            o.limit_start = crate::types::number::parse_i64(&argv[j + 1]).ok_or(CommandError::NotInteger)?;
            o.limit_count = crate::types::number::parse_i64(&argv[j + 2]).ok_or(CommandError::NotInteger)?;
            j += 2;
        } else if opt.eq_ignore_ascii_case(b"store") && left >= 1 && !read_only {
            o.store = Some(argv[j + 1].clone());
            j += 1;
        } else if opt.eq_ignore_ascii_case(b"by") && left >= 1 {
            let pattern = argv[j + 1].clone();
            if !c_str(&pattern).contains(&b'*') {
                o.dont_sort = true;
            }
            o.by = Some(pattern);
            j += 1;
        } else if opt.eq_ignore_ascii_case(b"get") && left >= 1 {
            o.gets.push(argv[j + 1].clone());
            j += 1;
        } else {
            return Err(CommandError::Syntax);
        }
        j += 1;
    }
    Ok(o)
}

/// The bytes of `b` up to its first NUL: the reference reads patterns and compares ALPHA values as C
/// strings in these places.
fn c_str(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == 0) {
        Some(p) => &b[..p],
        None => b,
    }
}

/// C's `isspace` in the C locale.
fn c_isspace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Reads a weight (or element) as a number the way the reference's numeric sort does: C `strtod` over
/// the text up to its first NUL, which must consume all of it; NaN and out-of-range results (overflow
/// to infinity, underflow to zero or to an inexact denormal) are refused. An empty text reads as 0.
fn parse_weight(raw: &[u8]) -> Option<f64> {
    let text = c_str(raw);
    // `parse_score_bound` gives `(` a meaning of its own; strtod stops before it, so it is invalid here.
    let body_start = text.iter().position(|&b| !c_isspace(b)).unwrap_or(text.len());
    if text.first() == Some(&b'(') {
        return None;
    }
    let value = parse_score_bound(text)?.value;
    let body = &text[body_start..];
    let unsigned = body
        .strip_prefix(b"-")
        .or_else(|| body.strip_prefix(b"+"))
        .unwrap_or(body);
    let hex = unsigned.len() > 1 && unsigned[0] == b'0' && (unsigned[1] | 0x20) == b'x';
    if value.is_infinite() {
        // A literal infinity is fine; an overflow sets ERANGE.
        return matches!(unsigned.first(), Some(b'i' | b'I')).then_some(value);
    }
    if value == 0.0 {
        return (!nonzero_mantissa(unsigned, hex)).then_some(value);
    }
    if value.abs() < f64::MIN_POSITIVE {
        // A denormal result sets ERANGE when it is inexact. A decimal text denoting a denormal exactly
        // needs hundreds of digits, so decimal denormals are treated as inexact.
        return (hex && hex_is_exact(&unsigned[2..], value)).then_some(value);
    }
    Some(value)
}

/// True when the hexadecimal float text `digits` (after `0x`, a complete strtod number) denotes exactly
/// the finite, non-zero `value`.
fn hex_is_exact(digits: &[u8], value: f64) -> bool {
    let (mantissa, exponent) = match digits.iter().position(|&b| b == b'p' || b == b'P') {
        Some(p) => (&digits[..p], &digits[p + 1..]),
        None => (digits, &b""[..]),
    };
    let mut exp: i64 = 0;
    let (neg, exp_digits) = match exponent.first() {
        Some(b'-') => (true, &exponent[1..]),
        Some(b'+') => (false, &exponent[1..]),
        _ => (false, exponent),
    };
    for &d in exp_digits {
        exp = exp.saturating_mul(10).saturating_add(i64::from(d.wrapping_sub(b'0')));
    }
    if neg {
        exp = -exp;
    }
    // The mantissa as an integer and the power of two it is scaled by.
    let mut m: u128 = 0;
    let mut seen_dot = false;
    let mut significant = 0usize;
    for &d in mantissa {
        if d == b'.' {
            seen_dot = true;
            continue;
        }
        let Some(v) = (d as char).to_digit(16) else {
            break;
        };
        if seen_dot {
            exp = exp.saturating_sub(4);
        }
        if m == 0 && v == 0 {
            continue;
        }
        significant += 1;
        if significant > 30 {
            // Only a zero digit keeps the value exact; scale instead of shifting it in.
            if v != 0 {
                return false;
            }
            exp = exp.saturating_add(4);
            continue;
        }
        m = (m << 4) | u128::from(v);
    }
    if m == 0 {
        return false;
    }
    let tz = m.trailing_zeros();
    let odd = m >> tz;
    let exp = exp.saturating_add(i64::from(tz));
    // The value's own odd mantissa and exponent (denormals: mantissa field times 2^-1074).
    let bits = value.abs().to_bits();
    let field = bits & ((1u64 << 52) - 1);
    let biased = (bits >> 52) as i64;
    let (vm, ve) = if biased == 0 {
        (field, -1074)
    } else {
        (field | (1u64 << 52), biased - 1075)
    };
    let vtz = vm.trailing_zeros();
    odd == u128::from(vm >> vtz) && exp == ve + i64::from(vtz)
}

/// True when the mantissa of a number text (sign removed) has a non-zero digit.
fn nonzero_mantissa(unsigned: &[u8], hex: bool) -> bool {
    if hex {
        unsigned[2..]
            .iter()
            .take_while(|&&b| b != b'p' && b != b'P')
            .any(|&b| b.is_ascii_hexdigit() && b != b'0')
    } else {
        unsigned
            .iter()
            .take_while(|&&b| b != b'e' && b != b'E')
            .any(|&b| (b'1'..=b'9').contains(&b))
    }
}

/// Resolves a BY or GET pattern for `element`: `#` is the element itself; otherwise the first `*` is
/// replaced by the element to name a key, whose string value is the result, or, when the pattern goes on
/// with `->field` after the `*`, the value of that field of the hash at the key. A pattern without `*`,
/// a missing key, a key of another type and a missing field all give `None`.
fn lookup_pattern(
    server: &mut Server,
    db: usize,
    now_ms: i64,
    touch: bool,
    pattern: &[u8],
    element: &[u8],
) -> Option<Vec<u8>> {
    let text = c_str(pattern);
    if text == b"#" {
        return Some(element.to_vec());
    }
    let star = text.iter().position(|&b| b == b'*')?;
    let after = &text[star + 1..];
    let arrow = after
        .windows(2)
        .position(|w| w == b"->")
        .map(|p| star + 1 + p)
        .filter(|&f| text.len() > f + 2);
    let (suffix_end, field) = match arrow {
        Some(f) => (f, Some(&pattern[f + 2..])),
        None => (pattern.len(), None),
    };
    let mut key = Vec::with_capacity(pattern.len() + element.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(element);
    key.extend_from_slice(&pattern[star + 1..suffix_end]);
    // The reference counts these as keyspace hits and misses even when storing.
    let entry = server.lookup_read(db, &key, now_ms, touch)?;
    match (&entry.value, field) {
        (Value::Hash(h), Some(field)) => h.get(field).map(<[u8]>::to_vec),
        (Value::String(s), None) => Some(s.to_vec()),
        _ => None,
    }
}

/// One element and what it is compared by.
struct Item {
    /// The element.
    element: Vec<u8>,
    /// Its numeric weight (numeric sorts).
    score: f64,
    /// Its looked-up weight (ALPHA sorts with BY; `None` when missing, which sorts first).
    alpha_key: Option<Vec<u8>>,
}

/// Compares two byte strings as ALPHA does: as C strings (the collation of the reference's C-like
/// locale is byte order) when replying, and binary-safe when storing.
fn alpha_cmp(a: &[u8], b: &[u8], storing: bool) -> Ordering {
    if storing {
        a.cmp(b)
    } else {
        c_str(a).cmp(c_str(b))
    }
}

/// The elements of the source value in the order the sort starts from: a list's order, a set's
/// iteration order, a zset's score order. With `native_desc` lists and zsets come reversed.
fn source_elements(value: &Value, native_desc: bool) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = match value {
        Value::List(l) => l.iter().map(<[u8]>::to_vec).collect(),
        Value::Set(s) => s.iter().map(<[u8]>::to_vec).collect(),
        Value::ZSet(z) => z.iter().map(|(m, _)| m.to_vec()).collect(),
        _ => Vec::new(),
    };
    if native_desc && matches!(value, Value::List(_) | Value::ZSet(_)) {
        out.reverse();
    }
    out
}

/// SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA] [STORE destination]
fn sort(ctx: &mut Ctx<'_>) -> CmdResult {
    sort_generic(ctx, false)
}

/// SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]
fn sort_ro(ctx: &mut Ctx<'_>) -> CmdResult {
    sort_generic(ctx, true)
}

/// SORT and SORT_RO.
fn sort_generic(ctx: &mut Ctx<'_>, read_only: bool) -> CmdResult {
    let argv = ctx.argv;
    let mut o = parse_options(argv, read_only)?;
    let (db, now) = (ctx.client.db, ctx.now_ms);
    let touch = !ctx.client.no_touch;
    let storing = o.store.is_some();
    let key = &argv[1][..];

    let mut elements = Vec::new();
    if let Some(entry) = ctx.server.lookup_read(db, key, now, touch) {
        match &entry.value {
            Value::List(_) | Value::Set(_) => {}
            Value::ZSet(z) => {
                // The reference converts a compact zset to its large encoding whenever it sorts one.
                if z.encoding_name() == "listpack" {
                    let items: Vec<(Vec<u8>, f64)> = z.iter().map(|(m, s)| (m.to_vec(), s)).collect();
                    let params = Params {
                        max_entries: 0,
                        max_value: 0,
                        seed: ctx.server.rng.random(),
                    };
                    if let Some(entry) = ctx.server.lookup_write(db, key, now) {
                        entry.value = Value::ZSet(Box::new(ZSetValue::from_sorted(items, params)));
                    }
                }
            }
            _ => return Err(CommandError::WrongType),
        }
        if let Some(entry) = ctx.server.dbs[db].peek(key, now) {
            let is_set = matches!(entry.value, Value::Set(_));
            // Without sorting, a set's iteration order is arbitrary: storing it sorts by the elements.
            if o.dont_sort && is_set && storing {
                o.dont_sort = false;
                o.alpha = true;
                o.by = None;
            }
            elements = source_elements(&entry.value, o.dont_sort && o.desc);
        }
    }

    // The window LIMIT selects, with the reference's clamping.
    let len = elements.len() as i64;
    let mut start = o.limit_start.max(0);
    let mut end = if o.limit_count < 0 {
        len - 1
    } else {
        start.saturating_add(o.limit_count - 1)
    };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    if end >= len {
        end = len - 1;
    }

    let mut items: Vec<Item> = elements
        .into_iter()
        .map(|element| Item {
            element,
            score: 0.0,
            alpha_key: None,
        })
        .collect();

    let mut not_double = false;
    if !o.dont_sort {
        for item in &mut items {
            let weight = match &o.by {
                Some(pattern) => match lookup_pattern(ctx.server, db, now, touch, pattern, &item.element) {
                    Some(w) => w,
                    None => continue,
                },
                None => {
                    if o.alpha {
                        continue;
                    }
                    item.element.clone()
                }
            };
            if o.alpha {
                item.alpha_key = Some(weight);
            } else {
                match parse_weight(&weight) {
                    Some(score) => item.score = score,
                    None => not_double = true,
                }
            }
        }
        let (alpha, by, desc) = (o.alpha, o.by.is_some(), o.desc);
        items.sort_by(|a, b| {
            let ord = if !alpha {
                a.score
                    .partial_cmp(&b.score)
                    .unwrap_or(Ordering::Equal)
                    .then_with(|| a.element.cmp(&b.element))
            } else if by {
                match (&a.alpha_key, &b.alpha_key) {
                    (None, None) => Ordering::Equal,
                    (None, Some(_)) => Ordering::Less,
                    (Some(_), None) => Ordering::Greater,
                    (Some(x), Some(y)) => alpha_cmp(x, y, storing),
                }
            } else {
                alpha_cmp(&a.element, &b.element, storing)
            };
            if desc {
                ord.reverse()
            } else {
                ord
            }
        });
    }
    if not_double {
        return Err(CommandError::err(NOT_DOUBLE));
    }

    let window: &[Item] = if end >= start && start >= 0 {
        // Both ends are within `0..len` here.
        let (s, e) = (start as usize, end as usize);
        items.get(s..=e).unwrap_or(&[])
    } else {
        &[]
    };
    let per_element = o.gets.len().max(1);
    let output_len = window.len() * per_element;

    match &o.store {
        None => {
            ctx.reply.array(output_len);
            for item in window {
                if o.gets.is_empty() {
                    ctx.reply.bulk(&item.element);
                }
                for pattern in &o.gets {
                    match lookup_pattern(ctx.server, db, now, touch, pattern, &item.element) {
                        Some(v) => ctx.reply.bulk(&v),
                        None => ctx.reply.null(),
                    }
                }
            }
        }
        Some(dst) => {
            let mut list = super::lists::new_list(ctx.server);
            for item in window {
                if o.gets.is_empty() {
                    list.push_back(&item.element);
                }
                for pattern in &o.gets {
                    let v = lookup_pattern(ctx.server, db, now, touch, pattern, &item.element);
                    list.push_back(&v.unwrap_or_default());
                }
            }
            if output_len > 0 {
                let stamp = ctx.access_stamp();
                ctx.server.dbs[db].set(dst, Value::List(list), false, now, stamp);
                ctx.server.signal_modified(db, dst);
                ctx.server.signal_key_ready(db, dst);
            } else if ctx.server.dbs[db].remove(dst, now).is_some() {
                ctx.server.signal_modified(db, dst);
            }
            ctx.reply.integer(output_len as i64);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::ClientHandle;
    use crate::config::Config;
    use crate::server::{Effect, Flow, ProcessInfo};

    fn connect(s: &mut Server) -> ClientHandle {
        crate::test_support::connect_loopback(s)
    }

    fn run(s: &mut Server, c: ClientHandle, line: &str) -> (Flow, String) {
        let argv: Vec<Bytes> = line.split(' ').map(|a| Bytes::copy_from_slice(a.as_bytes())).collect();
        let mut out = Vec::new();
        let flow = s.execute(c, &argv, 1_000_000, &mut out);
        (flow, String::from_utf8_lossy(&out).into_owned())
    }

    #[test]
    fn store_wakes_a_client_blocked_on_the_destination() {
        let mut s = Server::new(Config::default(), 1, 0, ProcessInfo::default());
        let (a, b) = (connect(&mut s), connect(&mut s));
        assert_eq!(run(&mut s, a, "BLPOP d 0"), (Flow::Blocked, String::new()));
        run(&mut s, b, "RPUSH l 3 1 2");
        // An empty result stores nothing and wakes no one.
        assert_eq!(run(&mut s, b, "SORT nosuch STORE d").1, ":0\r\n");
        assert!(s.take_effects().is_empty());
        assert_eq!(run(&mut s, b, "SORT l STORE d").1, ":3\r\n");
        assert_eq!(s.take_effects(), vec![Effect::Unblocked(a.id)]);
        let mut out = Vec::new();
        assert_eq!(s.resume(a, 1_000_000, &mut out), Flow::Continue);
        assert_eq!(out, b"*2\r\n$1\r\nd\r\n$1\r\n1\r\n");
        assert_eq!(run(&mut s, b, "LRANGE d 0 -1").1, "*2\r\n$1\r\n2\r\n$1\r\n3\r\n");
    }

    #[test]
    fn sort_ro_reads_and_never_stores() {
        let mut s = Server::new(Config::default(), 1, 0, ProcessInfo::default());
        let c = connect(&mut s);
        run(&mut s, c, "RPUSH l b a");
        assert_eq!(run(&mut s, c, "SORT_RO l ALPHA").1, "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
        assert_eq!(run(&mut s, c, "SORT_RO l ALPHA STORE d").1, "-ERR syntax error\r\n");
        assert_eq!(run(&mut s, c, "EXISTS d").1, ":0\r\n");
    }

    fn args(words: &[&str]) -> Vec<Bytes> {
        words.iter().map(|w| Bytes::copy_from_slice(w.as_bytes())).collect()
    }

    #[test]
    fn options_parse_left_to_right() {
        let o = parse_options(
            &args(&["sort", "k", "by", "w_*", "limit", "1", "2", "get", "#", "desc", "alpha"]),
            false,
        )
        .unwrap();
        assert!(o.desc && o.alpha && !o.dont_sort);
        assert_eq!((o.limit_start, o.limit_count), (1, 2));
        assert_eq!(o.gets, args(&["#"]));
        assert_eq!(o.by.as_deref(), Some(&b"w_*"[..]));
    }

    #[test]
    fn nosort_is_sticky_and_store_is_refused_read_only() {
        let o = parse_options(&args(&["sort", "k", "by", "nosort", "by", "w_*"]), false).unwrap();
        assert!(o.dont_sort);
        assert_eq!(
            parse_options(&args(&["sort_ro", "k", "store", "d"]), true),
            Err(CommandError::Syntax)
        );
        assert_eq!(
            parse_options(&args(&["sort", "k", "limit", "x", "1"]), false),
            Err(CommandError::NotInteger)
        );
        assert_eq!(
            parse_options(&args(&["sort", "k", "limit", "1"]), false),
            Err(CommandError::Syntax)
        );
    }

    #[test]
    fn weights_read_like_strtod() {
        assert_eq!(parse_weight(b"1.5"), Some(1.5));
        assert_eq!(parse_weight(b""), Some(0.0));
        assert_eq!(parse_weight(b"  2"), Some(2.0));
        assert_eq!(parse_weight(b"3\x00junk"), Some(3.0));
        assert_eq!(parse_weight(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_weight(b"0x10"), Some(16.0));
        assert_eq!(parse_weight(b"2 "), None);
        assert_eq!(parse_weight(b"nan"), None);
        assert_eq!(parse_weight(b"1e400"), None);
        assert_eq!(parse_weight(b"1e-400"), None);
        assert_eq!(parse_weight(b"1e-310"), None);
        assert_eq!(parse_weight(b"(1"), None);
        assert_eq!(parse_weight(b"0x1p-1074"), Some(f64::from_bits(1)));
        assert_eq!(parse_weight(b"0x0.0008p-1061"), Some(f64::from_bits(1)));
        assert_eq!(parse_weight(b"0x3p-1074"), Some(f64::from_bits(3)));
        assert_eq!(parse_weight(b"0x1.8p-1074"), None);
        assert_eq!(parse_weight(b"abc"), None);
    }

    #[test]
    fn alpha_compares_c_strings_unless_storing() {
        assert_eq!(alpha_cmp(b"a\x00z", b"a\x00b", false), Ordering::Equal);
        assert_eq!(alpha_cmp(b"a\x00z", b"a\x00b", true), Ordering::Greater);
        assert_eq!(alpha_cmp(b"b", b"ab", false), Ordering::Greater);
    }
}
