//! Keyspace micro-benchmarks: key lookup (hit and miss) and insert in core's `Db`, and the active expiry
//! cycle (`Server::cron`) over many keys with a TTL.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use keel_benches::fixture::{size, NOW_US};
use keel_core::keyspace::Db;
use keel_core::types::{StringValue, Value};
use keel_core::{Config, ProcessInfo, Server};
use std::hint::black_box;

const NOW_MS: i64 = NOW_US / 1000;

fn key(i: usize) -> Vec<u8> {
    format!("key:{i}").into_bytes()
}

fn value() -> Value {
    Value::String(StringValue::from_bytes(b"0123456789abcdef"))
}

/// A database holding `n` string keys `key:0..n`.
fn filled_db(n: usize) -> Db {
    let mut db = Db::new(7);
    for i in 0..n {
        db.set(&key(i), value(), false, NOW_MS, 0);
    }
    db
}

fn lookup(c: &mut Criterion) {
    let n = size(1_000_000, 10_000);
    let mut db = filled_db(n);
    // Keys visited in a scattered order, so that the benchmark sees cache misses as a server does.
    let probes: Vec<Vec<u8>> = (0..1024).map(|i| key((i * 7919) % n)).collect();
    let misses: Vec<Vec<u8>> = (0..1024).map(|i| format!("absent:{i}").into_bytes()).collect();
    let mut group = c.benchmark_group("keyspace");
    group.throughput(Throughput::Elements(probes.len() as u64));
    group.bench_function("get_hit", |b| {
        b.iter(|| {
            for k in &probes {
                black_box(db.get(k, NOW_MS).is_some());
            }
        })
    });
    group.bench_function("get_miss", |b| {
        b.iter(|| {
            for k in &misses {
                black_box(db.get(k, NOW_MS).is_some());
            }
        })
    });
    let fresh: Vec<Vec<u8>> = (0..1024).map(|i| format!("new:{i}").into_bytes()).collect();
    group.bench_function("insert_1024_new_keys", |b| {
        b.iter_batched_ref(
            || filled_db(1024),
            |db| {
                for k in &fresh {
                    db.set(k, value(), false, NOW_MS, 0);
                }
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

/// A server whose database 0 holds `n` keys with a TTL, a tenth of which have expired at [`NOW_MS`]
/// (like a cache where some keys are past their TTL when the cycle runs).
fn volatile_server(n: usize) -> Server {
    let mut server = Server::new(Config::default(), 42, NOW_MS, ProcessInfo::default());
    for i in 0..n {
        let expire_at = if i % 10 == 0 { NOW_MS - 1 } else { NOW_MS + 3_600_000 };
        server.dbs[0].insert_new(&key(i), value(), expire_at, 0);
    }
    server
}

fn expiry(c: &mut Criterion) {
    let n = size(100_000, 2_000);
    let mut group = c.benchmark_group("expiry");
    // Steady state: a cycle samples keys with a TTL, none of which has expired (the cycle's fixed cost).
    let mut live = Server::new(Config::default(), 42, NOW_MS, ProcessInfo::default());
    for i in 0..n {
        live.dbs[0].insert_new(&key(i), value(), NOW_MS + 3_600_000, 0);
    }
    group.bench_function("cron_none_expired", |b| b.iter(|| live.cron(black_box(NOW_US))));
    // One cycle over keys a tenth of which have expired: sampling plus removal.
    group.bench_function("cron_tenth_expired", |b| {
        b.iter_batched_ref(
            || volatile_server(n),
            |server| server.cron(black_box(NOW_US)),
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, lookup, expiry);
criterion_main!(benches);
