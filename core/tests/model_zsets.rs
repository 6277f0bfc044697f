//! Model test of the sorted set family: random sequences of zset commands run through `Server::execute`,
//! every reply compared byte for byte with what a reference model — a `BTreeMap` of member → score per
//! key, written here independently of the implementation — predicts. The server's and every zset's
//! invariants are checked after each step. Runs with several `zset-max-listpack-entries` values so both
//! encodings and the conversion between them are exercised.
//!
//! Also checks that ranks and ranges on a 100k-member zset stay logarithmic, by counting tree node visits
//! (an operation count, not time).

use std::collections::BTreeMap;

use bytes::Bytes;
use keel_core::types::number::format_g;
use keel_core::types::zset::{node_visits, Params};
use keel_core::types::{Value, ZSetValue};
use keel_core::{ClientHandle, Config, ConnInfo, ConnKind, ProcessInfo, Server};
use proptest::prelude::*;

/// Keys holding zsets with arbitrary scores; `d` also receives the STORE commands' results.
const SCORE_KEYS: &[&str] = &["a", "b", "d"];
/// The key for lexicographic commands: every member is added with score 0.
const LEX_KEY: &str = "l";
/// A string key, for WRONGTYPE paths.
const STRING_KEY: &str = "s";
/// The member pool: small so that updates and ties are frequent.
const MEMBERS: &[&str] = &["m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "", "a", "zz"];
/// The reference server's wrong-type error.
const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

/// One generated command.
#[derive(Clone, Debug)]
enum Op {
    /// ZADD with flags (nx, xx, gt, lt, ch, incr) and pairs.
    Zadd {
        key: usize,
        flags: [bool; 6],
        pairs: Vec<(i32, usize)>,
    },
    /// ZINCRBY.
    Zincrby { key: usize, by: i32, member: usize },
    /// ZREM.
    Zrem { key: usize, members: Vec<usize> },
    /// ZCARD, ZSCORE, ZRANK, ZREVRANK.
    Lookup { key: usize, which: u8, member: usize },
    /// ZCOUNT and ZREMRANGEBYSCORE with inclusive/exclusive ends.
    ScoreRange {
        key: usize,
        min: (i32, bool),
        max: (i32, bool),
        remove: bool,
    },
    /// ZRANGE by rank, maybe REV, maybe WITHSCORES.
    RankRange {
        key: usize,
        start: i64,
        stop: i64,
        rev: bool,
        withscores: bool,
    },
    /// ZREMRANGEBYRANK.
    RemRank { key: usize, start: i64, stop: i64 },
    /// ZRANGE BYSCORE [REV] [LIMIT] [WITHSCORES].
    ByScore {
        key: usize,
        min: (i32, bool),
        max: (i32, bool),
        rev: bool,
        limit: Option<(i64, i64)>,
    },
    /// ZADD 0 to the lex key.
    LexAdd { members: Vec<usize> },
    /// ZRANGEBYLEX / ZREVRANGEBYLEX / ZLEXCOUNT / ZREMRANGEBYLEX on the lex key.
    Lex {
        which: u8,
        min: (Option<usize>, bool),
        max: (Option<usize>, bool),
    },
    /// ZPOPMIN / ZPOPMAX with a count.
    Pop { key: usize, max: bool, count: i64 },
    /// ZUNIONSTORE / ZINTERSTORE d 2 a b with an aggregate, or ZRANGESTORE d a by rank.
    Store {
        which: u8,
        aggregate: u8,
        weights: (i32, i32),
    },
    /// Any command against the string key.
    WrongType { which: u8 },
}

/// A member index → member bytes.
fn member(i: usize) -> &'static str {
    MEMBERS[i % MEMBERS.len()]
}

/// A generated score: halves in -4..4, so ties and exact sums are common.
fn score(n: i32) -> f64 {
    f64::from(n) / 2.0
}

/// A score range end: a generated score and whether it is exclusive.
fn arb_bound() -> impl Strategy<Value = (i32, bool)> {
    (-10..10i32, any::<bool>())
}

/// A lex range end: a member (or the open end) and whether it is exclusive.
fn arb_lex_bound() -> impl Strategy<Value = (Option<usize>, bool)> {
    (proptest::option::weighted(0.8, 0..MEMBERS.len()), any::<bool>())
}

/// Any generated command, weighted towards writes and ranges.
fn arb_op() -> impl Strategy<Value = Op> {
    let key = 0..SCORE_KEYS.len();
    prop_oneof![
        4 => (key.clone(), proptest::array::uniform6(proptest::bool::weighted(0.15)),
              proptest::collection::vec((-8..8i32, 0..MEMBERS.len()), 1..5))
            .prop_map(|(key, flags, pairs)| Op::Zadd { key, flags, pairs }),
        1 => (key.clone(), -4..4i32, 0..MEMBERS.len()).prop_map(|(key, by, member)| Op::Zincrby { key, by, member }),
        1 => (key.clone(), proptest::collection::vec(0..MEMBERS.len(), 1..4))
            .prop_map(|(key, members)| Op::Zrem { key, members }),
        2 => (key.clone(), 0..4u8, 0..MEMBERS.len()).prop_map(|(key, which, member)| Op::Lookup { key, which, member }),
        1 => (key.clone(), arb_bound(), arb_bound(), proptest::bool::weighted(0.2))
            .prop_map(|(key, min, max, remove)| Op::ScoreRange { key, min, max, remove }),
        2 => (key.clone(), -15..15i64, -15..15i64, any::<bool>(), any::<bool>())
            .prop_map(|(key, start, stop, rev, withscores)| Op::RankRange { key, start, stop, rev, withscores }),
        1 => (key.clone(), -15..15i64, -15..15i64).prop_map(|(key, start, stop)| Op::RemRank { key, start, stop }),
        2 => (key.clone(), arb_bound(), arb_bound(), any::<bool>(),
              proptest::option::of((-1..6i64, -2..6i64)))
            .prop_map(|(key, min, max, rev, limit)| Op::ByScore { key, min, max, rev, limit }),
        1 => proptest::collection::vec(0..MEMBERS.len(), 1..4).prop_map(|members| Op::LexAdd { members }),
        2 => (0..4u8, arb_lex_bound(), arb_lex_bound()).prop_map(|(which, min, max)| Op::Lex { which, min, max }),
        1 => (key.clone(), any::<bool>(), 0..4i64).prop_map(|(key, max, count)| Op::Pop { key, max, count }),
        1 => (0..3u8, 0..3u8, (1..4i32, 1..4i32))
            .prop_map(|(which, aggregate, weights)| Op::Store { which, aggregate, weights }),
        1 => (0..4u8).prop_map(|which| Op::WrongType { which }),
    ]
}

/// Builders for expected RESP2 replies.
mod resp {
    use super::format_g;

    /// An integer reply.
    pub fn int(n: i64) -> Vec<u8> {
        format!(":{n}\r\n").into_bytes()
    }
    /// A bulk string.
    pub fn bulk(b: &[u8]) -> Vec<u8> {
        let mut v = format!("${}\r\n", b.len()).into_bytes();
        v.extend_from_slice(b);
        v.extend_from_slice(b"\r\n");
        v
    }
    /// A score as RESP2 sends it.
    pub fn double(d: f64) -> Vec<u8> {
        bulk(format_g(d, 17).as_bytes())
    }
    /// The null bulk string.
    pub fn null() -> Vec<u8> {
        b"$-1\r\n".to_vec()
    }
    /// An array header.
    pub fn arr(n: usize) -> Vec<u8> {
        format!("*{n}\r\n").into_bytes()
    }
    /// An error reply.
    pub fn err(text: &str) -> Vec<u8> {
        format!("-{text}\r\n").into_bytes()
    }
    /// An array of members, with their scores when `withscores`.
    pub fn elements(items: &[(Vec<u8>, f64)], withscores: bool) -> Vec<u8> {
        let mut v = arr(if withscores { items.len() * 2 } else { items.len() });
        for (m, s) in items {
            v.extend(bulk(m));
            if withscores {
                v.extend(double(*s));
            }
        }
        v
    }
}

/// The reference model: key → member → score.
#[derive(Default)]
struct Model {
    keys: BTreeMap<String, BTreeMap<Vec<u8>, f64>>,
}

/// Model operations.
impl Model {
    /// A key's elements sorted by score, then member.
    fn sorted(&self, key: &str) -> Vec<(Vec<u8>, f64)> {
        let mut v: Vec<(Vec<u8>, f64)> = self
            .keys
            .get(key)
            .map(|z| z.iter().map(|(m, s)| (m.clone(), *s)).collect())
            .unwrap_or_default();
        v.sort_by(|a, b| a.1.partial_cmp(&b.1).unwrap().then_with(|| a.0.cmp(&b.0)));
        v
    }

    /// Drops `key` if it became empty (as the server deletes emptied keys).
    fn cleanup(&mut self, key: &str) {
        if self.keys.get(key).is_some_and(|z| z.is_empty()) {
            self.keys.remove(key);
        }
    }

    /// Stores a STORE command's result (deleting the key when empty) and returns its reply.
    fn put(&mut self, key: &str, items: Vec<(Vec<u8>, f64)>) -> Vec<u8> {
        let n = items.len();
        if n == 0 {
            self.keys.remove(key);
        } else {
            self.keys.insert(key.to_string(), items.into_iter().collect());
        }
        resp::int(n as i64)
    }
}

/// Sanitized rank window: (first, count) or None.
fn window(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut start = if start < 0 { start + len } else { start };
    let mut stop = if stop < 0 { stop + len } else { stop };
    if start < 0 {
        start = 0;
    }
    if start > stop || start >= len {
        return None;
    }
    if stop >= len {
        stop = len - 1;
    }
    Some((start as usize, (stop - start + 1) as usize))
}

/// True when score `s` is at or above the lower end.
fn in_min(s: f64, (v, ex): (i32, bool)) -> bool {
    if ex {
        s > score(v)
    } else {
        s >= score(v)
    }
}

/// True when score `s` is at or below the upper end.
fn in_max(s: f64, (v, ex): (i32, bool)) -> bool {
    if ex {
        s < score(v)
    } else {
        s <= score(v)
    }
}

/// A score range end as a command argument.
fn bound_arg((v, ex): (i32, bool)) -> String {
    let text = format_g(score(v), 17);
    if ex {
        format!("({text}")
    } else {
        text
    }
}

/// A lex range end as a command argument.
fn lex_arg((m, ex): (Option<usize>, bool), is_min: bool) -> Vec<u8> {
    match m {
        None => {
            if is_min {
                b"-".to_vec()
            } else {
                b"+".to_vec()
            }
        }
        Some(i) => {
            let mut v = vec![if ex { b'(' } else { b'[' }];
            v.extend_from_slice(member(i).as_bytes());
            v
        }
    }
}

/// True when `x` is within the lex range end.
fn lex_in((m, ex): (Option<usize>, bool), x: &[u8], is_min: bool) -> bool {
    match m {
        None => true,
        Some(i) => {
            let b = member(i).as_bytes();
            match (is_min, ex) {
                (true, true) => x > b,
                (true, false) => x >= b,
                (false, true) => x < b,
                (false, false) => x <= b,
            }
        }
    }
}

/// Runs `op` on the model, returning the command and the reply the reference server would give.
fn step(model: &mut Model, op: &Op) -> (Vec<Vec<u8>>, Vec<u8>) {
    let s = |x: &str| x.as_bytes().to_vec();
    match op {
        Op::Zadd { key, flags, pairs } => {
            let key = SCORE_KEYS[*key];
            let [nx, xx, gt, lt, ch, incr] = *flags;
            let mut cmd = vec![s("ZADD"), s(key)];
            for (on, word) in [
                (nx, "NX"),
                (xx, "XX"),
                (gt, "GT"),
                (lt, "LT"),
                (ch, "CH"),
                (incr, "INCR"),
            ] {
                if on {
                    cmd.push(s(word));
                }
            }
            for (sc, m) in pairs {
                cmd.push(s(&format_g(score(*sc), 17)));
                cmd.push(s(member(*m)));
            }
            if nx && xx {
                return (
                    cmd,
                    resp::err("ERR XX and NX options at the same time are not compatible"),
                );
            }
            if (nx && (gt || lt)) || (gt && lt) {
                return (
                    cmd,
                    resp::err("ERR GT, LT, and/or NX options at the same time are not compatible"),
                );
            }
            if incr && pairs.len() > 1 {
                return (
                    cmd,
                    resp::err("ERR INCR option supports a single increment-element pair"),
                );
            }
            if !model.keys.contains_key(key) && xx {
                return (cmd, if incr { resp::null() } else { resp::int(0) });
            }
            let z = model.keys.entry(key.to_string()).or_default();
            let (mut added, mut updated, mut last) = (0, 0, None);
            for (sc, m) in pairs {
                let m = member(*m).as_bytes().to_vec();
                let mut new = score(*sc);
                match z.get(&m).copied() {
                    Some(cur) => {
                        if nx {
                            continue;
                        }
                        if incr {
                            new += cur;
                        }
                        if (lt && new >= cur) || (gt && new <= cur) {
                            continue;
                        }
                        last = Some(new);
                        if new != cur {
                            z.insert(m, new);
                            updated += 1;
                        }
                    }
                    None => {
                        if xx {
                            continue;
                        }
                        z.insert(m, new);
                        added += 1;
                        last = Some(new);
                    }
                }
            }
            model.cleanup(key);
            let reply = if incr {
                last.map_or_else(resp::null, resp::double)
            } else {
                resp::int(if ch { added + updated } else { added })
            };
            (cmd, reply)
        }
        Op::Zincrby { key, by, member: m } => {
            let key = SCORE_KEYS[*key];
            let cmd = vec![s("ZINCRBY"), s(key), s(&format_g(score(*by), 17)), s(member(*m))];
            let z = model.keys.entry(key.to_string()).or_default();
            let e = z.entry(member(*m).as_bytes().to_vec()).or_insert(0.0);
            *e += score(*by);
            let v = *e;
            (cmd, resp::double(v))
        }
        Op::Zrem { key, members } => {
            let key = SCORE_KEYS[*key];
            let mut cmd = vec![s("ZREM"), s(key)];
            let mut n = 0;
            for m in members {
                cmd.push(s(member(*m)));
                if model
                    .keys
                    .get_mut(key)
                    .is_some_and(|z| z.remove(member(*m).as_bytes()).is_some())
                {
                    n += 1;
                }
            }
            model.cleanup(key);
            (cmd, resp::int(n))
        }
        Op::Lookup { key, which, member: m } => {
            let key = SCORE_KEYS[*key];
            let mb = member(*m).as_bytes();
            let sorted = model.sorted(key);
            let rank = sorted.iter().position(|(x, _)| x == mb);
            match which {
                0 => (vec![s("ZCARD"), s(key)], resp::int(sorted.len() as i64)),
                1 => (
                    vec![s("ZSCORE"), s(key), mb.to_vec()],
                    rank.map_or_else(resp::null, |r| resp::double(sorted[r].1)),
                ),
                2 => (
                    vec![s("ZRANK"), s(key), mb.to_vec()],
                    rank.map_or_else(resp::null, |r| resp::int(r as i64)),
                ),
                _ => (
                    vec![s("ZREVRANK"), s(key), mb.to_vec()],
                    rank.map_or_else(resp::null, |r| resp::int((sorted.len() - 1 - r) as i64)),
                ),
            }
        }
        Op::ScoreRange { key, min, max, remove } => {
            let key = SCORE_KEYS[*key];
            let name = if *remove { "ZREMRANGEBYSCORE" } else { "ZCOUNT" };
            let cmd = vec![s(name), s(key), s(&bound_arg(*min)), s(&bound_arg(*max))];
            let hits: Vec<Vec<u8>> = model
                .sorted(key)
                .into_iter()
                .filter(|(_, sc)| in_min(*sc, *min) && in_max(*sc, *max))
                .map(|(m, _)| m)
                .collect();
            if *remove {
                if let Some(z) = model.keys.get_mut(key) {
                    for m in &hits {
                        z.remove(m);
                    }
                }
                model.cleanup(key);
            }
            (cmd, resp::int(hits.len() as i64))
        }
        Op::RankRange {
            key,
            start,
            stop,
            rev,
            withscores,
        } => {
            let key = SCORE_KEYS[*key];
            let mut cmd = vec![s("ZRANGE"), s(key), s(&start.to_string()), s(&stop.to_string())];
            if *rev {
                cmd.push(s("REV"));
            }
            if *withscores {
                cmd.push(s("WITHSCORES"));
            }
            let mut sorted = model.sorted(key);
            if *rev {
                sorted.reverse();
            }
            let items = match window(*start, *stop, sorted.len()) {
                Some((first, count)) => sorted[first..first + count].to_vec(),
                None => Vec::new(),
            };
            (cmd, resp::elements(&items, *withscores))
        }
        Op::RemRank { key, start, stop } => {
            let key = SCORE_KEYS[*key];
            let cmd = vec![
                s("ZREMRANGEBYRANK"),
                s(key),
                s(&start.to_string()),
                s(&stop.to_string()),
            ];
            let sorted = model.sorted(key);
            let n = match window(*start, *stop, sorted.len()) {
                Some((first, count)) => {
                    if let Some(z) = model.keys.get_mut(key) {
                        for (m, _) in &sorted[first..first + count] {
                            z.remove(m);
                        }
                    }
                    count
                }
                None => 0,
            };
            model.cleanup(key);
            (cmd, resp::int(n as i64))
        }
        Op::ByScore {
            key,
            min,
            max,
            rev,
            limit,
        } => {
            let key = SCORE_KEYS[*key];
            let mut cmd = vec![s("ZRANGE"), s(key)];
            if *rev {
                cmd.push(s(&bound_arg(*max)));
                cmd.push(s(&bound_arg(*min)));
            } else {
                cmd.push(s(&bound_arg(*min)));
                cmd.push(s(&bound_arg(*max)));
            }
            cmd.push(s("BYSCORE"));
            if *rev {
                cmd.push(s("REV"));
            }
            if let Some((o, c)) = limit {
                cmd.push(s("LIMIT"));
                cmd.push(s(&o.to_string()));
                cmd.push(s(&c.to_string()));
            }
            cmd.push(s("WITHSCORES"));
            let mut hits: Vec<(Vec<u8>, f64)> = model
                .sorted(key)
                .into_iter()
                .filter(|(_, sc)| in_min(*sc, *min) && in_max(*sc, *max))
                .collect();
            if *rev {
                hits.reverse();
            }
            let items: Vec<(Vec<u8>, f64)> = match limit {
                None => hits,
                Some((o, _)) if *o < 0 => Vec::new(),
                Some((o, c)) => {
                    let it = hits.into_iter().skip(*o as usize);
                    if *c < 0 {
                        it.collect()
                    } else {
                        it.take(*c as usize).collect()
                    }
                }
            };
            (cmd, resp::elements(&items, true))
        }
        Op::LexAdd { members } => {
            let mut cmd = vec![s("ZADD"), s(LEX_KEY)];
            let z = model.keys.entry(LEX_KEY.to_string()).or_default();
            let mut added = 0;
            for m in members {
                cmd.push(s("0"));
                cmd.push(s(member(*m)));
                if z.insert(member(*m).as_bytes().to_vec(), 0.0).is_none() {
                    added += 1;
                }
            }
            (cmd, resp::int(added))
        }
        Op::Lex { which, min, max } => {
            let name = ["ZRANGEBYLEX", "ZREVRANGEBYLEX", "ZLEXCOUNT", "ZREMRANGEBYLEX"][*which as usize];
            let (a, b) = if *which == 1 {
                (lex_arg(*max, false), lex_arg(*min, true))
            } else {
                (lex_arg(*min, true), lex_arg(*max, false))
            };
            let cmd = vec![s(name), s(LEX_KEY), a, b];
            let mut hits: Vec<(Vec<u8>, f64)> = model
                .sorted(LEX_KEY)
                .into_iter()
                .filter(|(m, _)| lex_in(*min, m, true) && lex_in(*max, m, false))
                .collect();
            let reply = match which {
                0 => resp::elements(&hits, false),
                1 => {
                    hits.reverse();
                    resp::elements(&hits, false)
                }
                2 => resp::int(hits.len() as i64),
                _ => {
                    if let Some(z) = model.keys.get_mut(LEX_KEY) {
                        for (m, _) in &hits {
                            z.remove(m);
                        }
                    }
                    model.cleanup(LEX_KEY);
                    resp::int(hits.len() as i64)
                }
            };
            (cmd, reply)
        }
        Op::Pop { key, max, count } => {
            let key = SCORE_KEYS[*key];
            let cmd = vec![
                s(if *max { "ZPOPMAX" } else { "ZPOPMIN" }),
                s(key),
                s(&count.to_string()),
            ];
            let mut sorted = model.sorted(key);
            if *max {
                sorted.reverse();
            }
            let taken: Vec<(Vec<u8>, f64)> = sorted.into_iter().take(*count as usize).collect();
            if let Some(z) = model.keys.get_mut(key) {
                for (m, _) in &taken {
                    z.remove(m);
                }
            }
            model.cleanup(key);
            (cmd, resp::elements(&taken, true))
        }
        Op::Store {
            which,
            aggregate,
            weights,
        } => {
            let agg = ["SUM", "MIN", "MAX"][*aggregate as usize];
            let (wa, wb) = (f64::from(weights.0), f64::from(weights.1));
            let a = model.keys.get("a").cloned().unwrap_or_default();
            let b = model.keys.get("b").cloned().unwrap_or_default();
            let fold = |x: f64, y: f64| match agg {
                "SUM" => x + y,
                "MIN" => {
                    if y < x {
                        y
                    } else {
                        x
                    }
                }
                _ => {
                    if y > x {
                        y
                    } else {
                        x
                    }
                }
            };
            match which {
                0 | 1 => {
                    let name = if *which == 0 { "ZUNIONSTORE" } else { "ZINTERSTORE" };
                    let cmd = vec![
                        s(name),
                        s("d"),
                        s("2"),
                        s("a"),
                        s("b"),
                        s("WEIGHTS"),
                        s(&weights.0.to_string()),
                        s(&weights.1.to_string()),
                        s("AGGREGATE"),
                        s(agg),
                    ];
                    let mut out: BTreeMap<Vec<u8>, f64> = BTreeMap::new();
                    if *which == 0 {
                        for (m, sc) in &a {
                            out.insert(m.clone(), sc * wa);
                        }
                        for (m, sc) in &b {
                            let v = sc * wb;
                            out.entry(m.clone()).and_modify(|t| *t = fold(*t, v)).or_insert(v);
                        }
                    } else {
                        for (m, sc) in &a {
                            if let Some(sb) = b.get(m) {
                                out.insert(m.clone(), fold(sc * wa, sb * wb));
                            }
                        }
                    }
                    // Weights are positive and scores finite, so no NaN and no negative zero arise.
                    let items: Vec<(Vec<u8>, f64)> = out.into_iter().collect();
                    let reply = model.put("d", items);
                    (cmd, reply)
                }
                _ => {
                    let cmd = vec![s("ZRANGESTORE"), s("d"), s("a"), s("1"), s("-2")];
                    let sorted = model.sorted("a");
                    let items = match window(1, -2, sorted.len()) {
                        Some((first, count)) => sorted[first..first + count].to_vec(),
                        None => Vec::new(),
                    };
                    let reply = model.put("d", items);
                    (cmd, reply)
                }
            }
        }
        Op::WrongType { which } => {
            let cmd = match which {
                0 => vec![s("ZADD"), s(STRING_KEY), s("1"), s("m")],
                1 => vec![s("ZRANGE"), s(STRING_KEY), s("0"), s("-1")],
                2 => vec![s("ZSCORE"), s(STRING_KEY), s("m")],
                _ => vec![s("ZUNIONSTORE"), s("d"), s("2"), s("a"), s(STRING_KEY)],
            };
            (cmd, resp::err(WRONGTYPE))
        }
    }
}

/// A server with `zset-max-listpack-entries` set and the string key present, and one client.
fn setup(max_entries: usize) -> (Server, ClientHandle) {
    let mut server = Server::new(Config::default(), 7, 0, ProcessInfo::default());
    let info = ConnInfo {
        addr: "127.0.0.1:5000".into(),
        laddr: "127.0.0.1:6379".into(),
        fd: 8,
        kind: ConnKind::Tcp,
    };
    let handle = server.connect(info, 0);
    let n = max_entries.to_string();
    run(
        &mut server,
        handle,
        &[b"CONFIG", b"SET", b"zset-max-listpack-entries", n.as_bytes()],
    );
    run(&mut server, handle, &[b"SET", STRING_KEY.as_bytes(), b"v"]);
    (server, handle)
}

/// Runs one command and returns the reply bytes.
fn run(server: &mut Server, handle: ClientHandle, argv: &[&[u8]]) -> Vec<u8> {
    let argv: Vec<Bytes> = argv.iter().map(|a| Bytes::copy_from_slice(a)).collect();
    let mut out = Vec::new();
    server.execute(handle, &argv, 1_000_000, &mut out);
    out
}

/// Checks every zset's own invariants and that the keyspace matches the model's keys.
fn check(server: &Server, model: &Model) {
    server.check_invariants();
    for key in SCORE_KEYS.iter().chain([&LEX_KEY]) {
        let entry = server.dbs[0].peek(key.as_bytes(), 1_000);
        match (entry.map(|e| &e.value), model.keys.get(*key)) {
            (Some(Value::ZSet(z)), Some(m)) => {
                z.check_invariants();
                assert_eq!(z.len(), m.len(), "length of {key}");
                assert!(!z.is_empty());
            }
            (None, None) => {}
            (other, m) => panic!("key {key}: server {other:?}, model {m:?}"),
        }
    }
}

/// Reply bytes as text for assertion messages.
fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn zset_commands_match_the_model(
        max_entries in prop_oneof![Just(0usize), Just(3), Just(6), Just(128)],
        ops in proptest::collection::vec(arb_op(), 1..80),
    ) {
        let (mut server, c) = setup(max_entries);
        let mut model = Model::default();
        for op in &ops {
            let (cmd, expected) = step(&mut model, op);
            let args: Vec<&[u8]> = cmd.iter().map(|a| a.as_slice()).collect();
            let got = run(&mut server, c, &args);
            prop_assert_eq!(show(&got), show(&expected), "command {:?}", cmd.iter().map(|a| show(a)).collect::<Vec<_>>());
            check(&server, &model);
        }
    }
}

/// Ranks, positional ranges and score counts on a 100k-member zset visit O(log n + m) tree nodes.
#[test]
fn large_zset_operations_are_logarithmic() {
    const N: usize = 100_000;
    let params = Params {
        max_entries: 128,
        max_value: 64,
        seed: 42,
    };
    let mut z = ZSetValue::new_for(8, params);
    for i in 0..N {
        // Scores collide in groups of 4 so ties are resolved by member bytes.
        z.insert_new(format!("member:{i:06}").as_bytes(), (i / 4) as f64, params);
    }
    assert_eq!(z.encoding_name(), "skiplist");
    assert_eq!(z.len(), N);
    let budget = 200; // ~10 x log2(100k): generous for a treap, far below any linear walk.
    let cost = |f: &mut dyn FnMut()| {
        let before = node_visits();
        f();
        node_visits() - before
    };
    for probe in [0, 1, 777, 31_337, 50_000, 99_998, 99_999] {
        let m = format!("member:{probe:06}");
        let c = cost(&mut || assert_eq!(z.rank(m.as_bytes()), Some(probe)));
        assert!(c <= budget, "rank visited {c} nodes");
        let c = cost(&mut || assert_eq!(z.get(probe).map(|(m, _)| m.to_vec()), Some(m.clone().into_bytes())));
        assert!(c <= budget, "select visited {c} nodes");
        let c = cost(&mut || {
            let n = z.count_prefix(|s, _| s < (probe / 4) as f64);
            assert_eq!(n, probe / 4 * 4);
        });
        assert!(c <= budget, "score count visited {c} nodes");
        let c = cost(&mut || {
            let got: Vec<f64> = z.iter_from(probe, false).take(10).map(|(_, s)| s).collect();
            assert_eq!(got.len(), 10.min(N - probe));
        });
        assert!(c <= budget + 40, "range of 10 visited {c} nodes");
    }
    let c = cost(&mut || {
        let m = b"member:050001";
        assert!(z.update_score(m, -1.0));
    });
    assert!(c <= 2 * budget, "update visited {c} nodes");
    assert_eq!(z.rank(b"member:050001"), Some(0));
    let c = cost(&mut || assert_eq!(z.remove_ranks(10_000, 10_005), 5));
    assert!(c <= 2 * budget, "removing 5 by rank visited {c} nodes");
    assert_eq!(z.len(), N - 5);
    z.check_invariants();

    // The same through the command layer: ZRANK, ZRANGE by rank and by score on a 100k-member key.
    let (mut server, c) = setup(128);
    let mut args: Vec<Vec<u8>> = vec![b"ZADD".to_vec(), b"big".to_vec()];
    for i in 0..N {
        args.push(i.to_string().into_bytes());
        args.push(format!("m{i}").into_bytes());
    }
    let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
    assert_eq!(run(&mut server, c, &refs), format!(":{N}\r\n").into_bytes());
    let mut probe = |argv: &[&[u8]], expected: &[u8]| {
        let before = node_visits();
        let got = run(&mut server, c, argv);
        let visits = node_visits() - before;
        assert_eq!(show(&got), show(expected));
        assert!(visits <= budget + 40, "{:?} visited {visits} nodes", show(argv[0]));
    };
    probe(&[b"ZRANK", b"big", b"m65432"], b":65432\r\n");
    probe(&[b"ZREVRANK", b"big", b"m65432"], b":34567\r\n");
    probe(
        &[b"ZRANGE", b"big", b"50000", b"50001"],
        b"*2\r\n$6\r\nm50000\r\n$6\r\nm50001\r\n",
    );
    probe(&[b"ZCOUNT", b"big", b"(1000", b"2000"], b":1000\r\n");
    probe(
        &[b"ZRANGE", b"big", b"70000", b"+inf", b"BYSCORE", b"LIMIT", b"0", b"1"],
        b"*1\r\n$6\r\nm70000\r\n",
    );
    probe(&[b"ZREMRANGEBYRANK", b"big", b"0", b"2"], b":3\r\n");
    probe(&[b"ZPOPMAX", b"big"], b"*2\r\n$6\r\nm99999\r\n$5\r\n99999\r\n");
}
