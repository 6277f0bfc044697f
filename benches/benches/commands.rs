//! Command micro-benchmarks through `Server::execute` (argument dispatch, lookup, the type's operation
//! and reply encoding): SET/GET as the baseline, then each data type's hot operations.

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use keel_benches::fixture::{argv, encode_request, run, server_with_client, size, NOW_US};
use keel_core::resp::{CommandBatch, Limits, Parser};
use keel_core::{ClientHandle, Server};
use std::hint::black_box;

/// Measures running the commands `cmds` back to back (one iteration = all of them) on `server`.
fn bench_cmds(c: &mut Criterion, name: &str, server: &mut Server, client: ClientHandle, cmds: &[&[&[u8]]]) {
    let cmds: Vec<Vec<Bytes>> = cmds.iter().map(|w| argv(w)).collect();
    let mut out = Vec::with_capacity(4096);
    c.bench_function(name, |b| {
        b.iter(|| {
            out.clear();
            for cmd in &cmds {
                server.execute(client, cmd, NOW_US, &mut out);
            }
            black_box(out.len())
        })
    });
    // The replies of the last iteration must not be errors: a benchmark of an error path measures nothing.
    // (Nothing ran when a name filter left this benchmark out.)
    let has_error = out.starts_with(b"-") || out.windows(3).any(|w| w == b"\r\n-");
    assert!(!has_error, "{name}: {}", String::from_utf8_lossy(&out));
}

fn strings(c: &mut Criterion) {
    let (mut server, client) = server_with_client();
    bench_cmds(
        c,
        "cmd/SET+GET",
        &mut server,
        client,
        &[&[b"SET", b"key:1", b"0123456789abcdef"], &[b"GET", b"key:1"]],
    );
}

fn lists(c: &mut Criterion) {
    let (mut server, client) = server_with_client();
    for i in 0..100 {
        run(&mut server, client, &[b"RPUSH", b"mylist", format!("e{i}").as_bytes()]);
    }
    // A push and a pop keep the list at a constant length across iterations.
    bench_cmds(
        c,
        "cmd/LPUSH+LPOP",
        &mut server,
        client,
        &[&[b"LPUSH", b"mylist", b"element"], &[b"LPOP", b"mylist"]],
    );
}

fn hashes(c: &mut Criterion) {
    let (mut server, client) = server_with_client();
    for i in 0..100 {
        run(
            &mut server,
            client,
            &[b"HSET", b"myhash", format!("f{i}").as_bytes(), b"value"],
        );
    }
    bench_cmds(
        c,
        "cmd/HSET+HGET",
        &mut server,
        client,
        &[&[b"HSET", b"myhash", b"f50", b"other"], &[b"HGET", b"myhash", b"f7"]],
    );
}

fn sets(c: &mut Criterion) {
    let (mut server, client) = server_with_client();
    for i in 0..1000 {
        run(&mut server, client, &[b"SADD", b"myset", format!("m{i}").as_bytes()]);
    }
    bench_cmds(
        c,
        "cmd/SADD+SISMEMBER",
        &mut server,
        client,
        &[&[b"SADD", b"myset", b"m500"], &[b"SISMEMBER", b"myset", b"m999"]],
    );
}

fn zsets(c: &mut Criterion) {
    let (mut server, client) = server_with_client();
    let n = size(10_000, 1_000);
    for i in 0..n {
        run(
            &mut server,
            client,
            &[b"ZADD", b"myzset", i.to_string().as_bytes(), format!("m{i}").as_bytes()],
        );
    }
    bench_cmds(
        c,
        "cmd/ZADD",
        &mut server,
        client,
        &[
            &[b"ZADD", b"myzset", b"123.5", b"m500"],
            &[b"ZADD", b"myzset", b"500", b"m500"],
        ],
    );
    bench_cmds(c, "cmd/ZRANK", &mut server, client, &[&[b"ZRANK", b"myzset", b"m777"]]);
    bench_cmds(
        c,
        "cmd/ZRANGE_10",
        &mut server,
        client,
        &[&[b"ZRANGE", b"myzset", b"100", b"109"]],
    );

    // The `versus` ZADD workload (`ZADD myzset __rand_int__ member:__rand_int__`, -r 100000) once the
    // set is full: a random member of a 100k-member zset gets a random new score. 64 ZADDs per iteration.
    let (mut server, client) = server_with_client();
    let n = size(100_000, 2_000) as u64;
    for i in 0..n {
        let (s, m) = (next_rand(&mut 7, n), format!("member:{i:012}"));
        run(
            &mut server,
            client,
            &[b"ZADD", b"bigzset", s.to_string().as_bytes(), m.as_bytes()],
        );
    }
    let mut state = 1;
    let words: Vec<[Vec<u8>; 4]> = (0..64)
        .map(|_| {
            let score = next_rand(&mut state, n).to_string().into_bytes();
            let member = format!("member:{:012}", next_rand(&mut state, n)).into_bytes();
            [b"ZADD".to_vec(), b"bigzset".to_vec(), score, member]
        })
        .collect();
    let cmds: Vec<Vec<&[u8]>> = words.iter().map(|w| w.iter().map(|a| a.as_slice()).collect()).collect();
    let cmds: Vec<&[&[u8]]> = cmds.iter().map(|c| c.as_slice()).collect();
    bench_cmds(c, "cmd/ZADD_100k_random_x64", &mut server, client, &cmds);
}

/// A pseudo-random number below `n` from an LCG `state` (benchmarks need repeatable inputs, not quality).
fn next_rand(state: &mut u64, n: u64) -> u64 {
    *state = state
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    (*state >> 33) % n
}

/// A pipeline of 16 commands (8 SET and 8 GET on distinct keys) parsed from one buffer and run with
/// `Server::execute_batch`, as a connection does with one read: parsing, lookup, dispatch and reply
/// encoding per command, with the per-batch work shared.
fn pipeline16(c: &mut Criterion) {
    let (mut server, client) = server_with_client();
    let mut input = Vec::new();
    for i in 0..8 {
        let key = format!("key:{i:06}");
        encode_request(&[b"SET", key.as_bytes(), b"0123456789abcdef"], &mut input);
        encode_request(&[b"GET", key.as_bytes()], &mut input);
    }
    let mut parser = Parser::new(Limits::default());
    let mut batch = CommandBatch::new();
    let mut out = Vec::with_capacity(4096);
    c.bench_function("cmd/pipeline16", |b| {
        b.iter_batched_ref(
            || BytesMut::from(&input[..]),
            |buf| {
                batch.clear();
                out.clear();
                parser.parse(buf, &mut batch).expect("benchmark input is valid RESP");
                server.execute_batch(client, &batch, NOW_US, &mut out);
                black_box(out.len())
            },
            BatchSize::SmallInput,
        )
    });
    assert!(batch.is_empty() || batch.len() == 16);
    assert!(!out.windows(3).any(|w| w == b"\r\n-") && !out.starts_with(b"-"));
}

criterion_group!(benches, strings, lists, hashes, sets, zsets, pipeline16);
criterion_main!(benches);
