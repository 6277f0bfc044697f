//! RESP codec micro-benchmarks: parsing requests (one small command, a pipeline of 16, a 1 MB value) and
//! encoding replies (a short bulk, a 16-element array, a 1 MB bulk).

use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use keel_benches::fixture::encode_request;
use keel_core::resp::{CommandBatch, Limits, Parser, Protocol, Reply};
use std::hint::black_box;

/// A typical small write: `SET key:000042 <16 bytes>`.
fn small_request() -> Vec<u8> {
    let mut req = Vec::new();
    encode_request(&[b"SET", b"key:000042", b"0123456789abcdef"], &mut req);
    req
}

/// Parses `input` whole and returns the number of commands found.
fn parse_all(parser: &mut Parser, input: &mut BytesMut, batch: &mut CommandBatch) -> usize {
    batch.clear();
    parser.parse(input, batch).expect("benchmark input is valid RESP");
    batch.len()
}

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("resp_parse");
    let small = small_request();
    let pipeline: Vec<u8> = (0..16).flat_map(|_| small_request()).collect();
    let big_value = vec![b'x'; 1 << 20];
    let mut big = Vec::new();
    encode_request(&[b"SET", b"key:big", &big_value], &mut big);

    for (name, input, commands) in [
        ("small_command", &small, 1),
        ("pipeline_16", &pipeline, 16),
        ("value_1mb", &big, 1),
    ] {
        group.throughput(Throughput::Bytes(input.len() as u64));
        group.bench_function(name, |b| {
            let mut parser = Parser::new(Limits::default());
            let mut batch = CommandBatch::new();
            // The copy into a fresh buffer stands for the socket read, outside the measurement.
            b.iter_batched_ref(
                || BytesMut::from(&input[..]),
                |buf| {
                    let n = parse_all(&mut parser, buf, &mut batch);
                    assert_eq!(n, commands);
                    black_box(&batch);
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

fn encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("resp_encode");
    let value = b"0123456789abcdef";
    let big_value = vec![b'x'; 1 << 20];
    let mut out = Vec::with_capacity(2 << 20);

    group.bench_function("bulk_16b", |b| {
        b.iter(|| {
            out.clear();
            Reply::new(&mut out, Protocol::Resp2).bulk(black_box(value));
            black_box(out.len())
        })
    });
    group.bench_function("array_16_bulks", |b| {
        b.iter(|| {
            out.clear();
            let mut reply = Reply::new(&mut out, Protocol::Resp2);
            reply.array(16);
            for _ in 0..16 {
                reply.bulk(black_box(value));
            }
            black_box(out.len())
        })
    });
    group.throughput(Throughput::Bytes(big_value.len() as u64));
    group.bench_function("bulk_1mb", |b| {
        b.iter(|| {
            out.clear();
            Reply::new(&mut out, Protocol::Resp2).bulk(black_box(&big_value));
            black_box(out.len())
        })
    });
    group.finish();
}

criterion_group!(benches, parse, encode);
criterion_main!(benches);
