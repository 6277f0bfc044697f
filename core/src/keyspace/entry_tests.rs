//! Command-level tests of the compact entry layout: keys and values at the inline limit and around it,
//! binary keys, inline values changed into boxed ones, and entries moved between keys and databases.
//! Each test drives a real `Server` and checks replies, so what clients see is what is asserted.

use bytes::Bytes;

use super::db::Entry;
use crate::client::ClientHandle;
use crate::server::Server;
use crate::test_support::connect_loopback;
use crate::types::inline_bytes::INLINE_CAP;

/// A fresh server and a connected client.
fn server() -> (Server, ClientHandle) {
    let mut s = Server::new(crate::Config::default(), 1, 0, crate::ProcessInfo::default());
    let c = connect_loopback(&mut s);
    (s, c)
}

/// Runs one command of binary arguments at `now_ms`, returning the raw reply.
fn run(s: &mut Server, c: ClientHandle, args: &[&[u8]], now_ms: i64) -> Vec<u8> {
    let argv: Vec<Bytes> = args.iter().map(|a| Bytes::copy_from_slice(a)).collect();
    let mut out = Vec::new();
    s.execute(c, &argv, now_ms * 1000, &mut out);
    out
}

/// The RESP bulk reply for `bytes`.
fn bulk(bytes: &[u8]) -> Vec<u8> {
    let mut out = format!("${}\r\n", bytes.len()).into_bytes();
    out.extend_from_slice(bytes);
    out.extend_from_slice(b"\r\n");
    out
}

/// Binary test bytes of length `len`, with zero and high bytes, distinct per `seed`.
fn binary(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ 0x80)
        .collect()
}

/// Lengths around the inline limit.
fn boundary_lengths() -> [usize; 6] {
    [0, 1, INLINE_CAP - 1, INLINE_CAP, INLINE_CAP + 1, 60]
}

#[test]
fn entry_is_56_bytes() {
    assert_eq!(std::mem::size_of::<Entry>(), 56);
    // A free slot costs nothing extra: the niche of the entry's tags encodes `None`.
    assert_eq!(std::mem::size_of::<Option<Entry>>(), 56);
}

#[test]
fn keys_and_values_around_the_inline_limit_round_trip() {
    let (mut s, c) = server();
    for key_len in boundary_lengths().into_iter().filter(|&l| l > 0) {
        for value_len in boundary_lengths() {
            let key = binary(key_len, 9);
            let value = binary(value_len, 7);
            assert_eq!(run(&mut s, c, &[b"SET", &key, &value], 0), b"+OK\r\n");
            assert_eq!(
                run(&mut s, c, &[b"GET", &key], 0),
                bulk(&value),
                "{key_len}/{value_len}"
            );
            let encoding: &[u8] = if value_len <= 44 { b"embstr" } else { b"raw" };
            assert_eq!(run(&mut s, c, &[b"OBJECT", b"ENCODING", &key], 0), bulk(encoding));
            assert_eq!(
                run(&mut s, c, &[b"STRLEN", &key], 0),
                format!(":{value_len}\r\n").into_bytes()
            );
        }
    }
    let keys = boundary_lengths().len() - 1;
    assert_eq!(run(&mut s, c, &[b"DBSIZE"], 0), format!(":{keys}\r\n").into_bytes());
    // A key differing from an inline one only by a trailing zero byte is a different key.
    assert_eq!(run(&mut s, c, &[b"SET", b"k", b"1"], 0), b"+OK\r\n");
    assert_eq!(run(&mut s, c, &[b"SET", b"k\0", b"2"], 0), b"+OK\r\n");
    assert_eq!(run(&mut s, c, &[b"GET", b"k"], 0), bulk(b"1"));
    assert_eq!(run(&mut s, c, &[b"GET", b"k\0"], 0), bulk(b"2"));
}

#[test]
fn append_and_setrange_grow_an_inline_value_into_a_raw_one() {
    let (mut s, c) = server();
    let start = binary(INLINE_CAP - 1, 1);
    run(&mut s, c, &[b"SET", b"a", &start], 0);
    assert_eq!(
        run(&mut s, c, &[b"APPEND", b"a", b"xy"], 0),
        format!(":{}\r\n", INLINE_CAP + 1).into_bytes()
    );
    let mut expected = start.clone();
    expected.extend_from_slice(b"xy");
    assert_eq!(run(&mut s, c, &[b"GET", b"a"], 0), bulk(&expected));
    assert_eq!(run(&mut s, c, &[b"OBJECT", b"ENCODING", b"a"], 0), bulk(b"raw"));

    run(&mut s, c, &[b"SET", b"r", &start], 0);
    let offset = (INLINE_CAP + 5).to_string();
    assert_eq!(
        run(&mut s, c, &[b"SETRANGE", b"r", offset.as_bytes(), b"z"], 0),
        format!(":{}\r\n", INLINE_CAP + 6).into_bytes()
    );
    let mut expected = start.clone();
    expected.resize(INLINE_CAP + 5, 0);
    expected.push(b'z');
    assert_eq!(run(&mut s, c, &[b"GET", b"r"], 0), bulk(&expected));
    assert_eq!(run(&mut s, c, &[b"OBJECT", b"ENCODING", b"r"], 0), bulk(b"raw"));
}

#[test]
fn incr_on_inline_integers_and_strings() {
    let (mut s, c) = server();
    run(&mut s, c, &[b"SET", b"n", b"41"], 0);
    assert_eq!(run(&mut s, c, &[b"OBJECT", b"ENCODING", b"n"], 0), bulk(b"int"));
    assert_eq!(run(&mut s, c, &[b"INCR", b"n"], 0), b":42\r\n");
    assert_eq!(run(&mut s, c, &[b"GET", b"n"], 0), bulk(b"42"));
    // A leading zero keeps it a string, stored inline, which INCR still refuses to read as a number.
    run(&mut s, c, &[b"SET", b"z", b"042"], 0);
    assert_eq!(run(&mut s, c, &[b"OBJECT", b"ENCODING", b"z"], 0), bulk(b"embstr"));
    assert!(run(&mut s, c, &[b"INCR", b"z"], 0).starts_with(b"-ERR value is not an integer"));
    assert_eq!(run(&mut s, c, &[b"INCRBYFLOAT", b"z", b"0.5"], 0), bulk(b"42.5"));
    assert_eq!(run(&mut s, c, &[b"OBJECT", b"ENCODING", b"z"], 0), bulk(b"embstr"));
}

#[test]
fn rename_move_copy_keep_inline_entries_and_their_ttl() {
    let (mut s, c) = server();
    let long_key = binary(INLINE_CAP + 1, 3);
    let value = binary(INLINE_CAP, 4);
    run(&mut s, c, &[b"SET", b"src", &value, b"PX", b"5000"], 0);
    run(&mut s, c, &[b"SET", b"plain", b"v"], 0);

    // Inline key to boxed key and back, the TTL travelling with the value.
    assert_eq!(run(&mut s, c, &[b"RENAME", b"src", &long_key], 1), b"+OK\r\n");
    assert_eq!(run(&mut s, c, &[b"PTTL", &long_key], 1), b":4999\r\n");
    assert_eq!(run(&mut s, c, &[b"RENAME", &long_key, b"back"], 2), b"+OK\r\n");
    assert_eq!(run(&mut s, c, &[b"GET", b"back"], 2), bulk(&value));
    assert_eq!(run(&mut s, c, &[b"PTTL", b"back"], 2), b":4998\r\n");

    assert_eq!(run(&mut s, c, &[b"COPY", b"back", b"copy"], 3), b":1\r\n");
    assert_eq!(run(&mut s, c, &[b"PTTL", b"copy"], 3), b":4997\r\n");
    assert_eq!(run(&mut s, c, &[b"COPY", b"plain", b"copy2"], 3), b":1\r\n");
    assert_eq!(run(&mut s, c, &[b"PTTL", b"copy2"], 3), b":-1\r\n");

    assert_eq!(run(&mut s, c, &[b"MOVE", b"copy", b"1"], 4), b":1\r\n");
    assert_eq!(run(&mut s, c, &[b"EXISTS", b"copy"], 4), b":0\r\n");
    assert_eq!(run(&mut s, c, &[b"SELECT", b"1"], 4), b"+OK\r\n");
    assert_eq!(run(&mut s, c, &[b"GET", b"copy"], 4), bulk(&value));
    assert_eq!(run(&mut s, c, &[b"PTTL", b"copy"], 4), b":4996\r\n");
    // It expires in the other database as it would have in the first.
    assert_eq!(run(&mut s, c, &[b"GET", b"copy"], 5001), b"$-1\r\n");
}

#[test]
fn expiry_times_live_in_the_volatile_index() {
    let (mut s, c) = server();
    for i in 0..50 {
        let key = format!("k{i}");
        run(
            &mut s,
            c,
            &[b"SET", key.as_bytes(), b"v", b"PX", format!("{}", 1000 + i).as_bytes()],
            0,
        );
    }
    // Remove from the middle of the index, change one, clear one: the others keep their own times.
    run(&mut s, c, &[b"DEL", b"k10"], 0);
    run(&mut s, c, &[b"PEXPIRE", b"k20", b"5000", b"GT"], 0);
    run(&mut s, c, &[b"PERSIST", b"k30"], 0);
    run(&mut s, c, &[b"SET", b"k40", b"w"], 0);
    for i in 0..50 {
        let key = format!("k{i}");
        let expected = match i {
            10 => ":-2\r\n".to_string(),
            20 => ":5000\r\n".to_string(),
            30 | 40 => ":-1\r\n".to_string(),
            _ => format!(":{}\r\n", 1000 + i),
        };
        assert_eq!(
            run(&mut s, c, &[b"PTTL", key.as_bytes()], 0),
            expected.into_bytes(),
            "{key}"
        );
    }
    s.dbs[0].check_invariants();
    // Past every original time only the changed keys remain.
    assert_eq!(run(&mut s, c, &[b"DBSIZE"], 2000), b":49\r\n");
    assert_eq!(
        run(&mut s, c, &[b"EXISTS", b"k0", b"k20", b"k30", b"k40", b"k49"], 2000),
        b":3\r\n"
    );
    s.dbs[0].check_invariants();
}
