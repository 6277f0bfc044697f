//! A fixed workload for instruction-count profiling (`valgrind --tool=callgrind`): parses pipelines of 16
//! commands from one buffer and runs them through `Server::execute_batch`, the way a connection does.
//!
//! Usage: `pipeline16 <set|get|incr|sadd|hset|mixed> <batches>`. Run it twice with different batch counts
//! and divide the difference in instructions by the difference in commands: set-up cost cancels out.
//! Owns nothing but the workload; it prints the reply byte count so the work cannot be optimised away.

use bytes::BytesMut;
use keel_benches::fixture::{encode_request, server_with_client, NOW_US};
use keel_core::resp::{CommandBatch, Limits, Parser};

/// Keys the workload cycles through (like `redis-benchmark -r 10000`).
const KEYS: usize = 10_000;

/// Request `i` of workload `mode`.
fn request(mode: &str, i: usize, out: &mut Vec<u8>) {
    let key = format!("key:{:06}", (i * 7919) % KEYS);
    let key = key.as_bytes();
    match mode {
        "set" => encode_request(&[b"SET", key, b"0123456789abcdef"], out),
        "get" => encode_request(&[b"GET", key], out),
        "incr" => encode_request(&[b"INCR", key], out),
        "sadd" => encode_request(&[b"SADD", b"myset", key], out),
        "hset" => encode_request(&[b"HSET", b"myhash", key, b"0123456789abcdef"], out),
        _ => {
            let modes = ["set", "get", "incr", "sadd", "hset"];
            request(modes[i % modes.len()], i, out)
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map(String::as_str).unwrap_or("mixed");
    let batches: usize = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(1000);
    let (mut server, client) = server_with_client();
    // Pre-build every pipeline so the measured loop only parses and executes; prefill GET's keys.
    let mut pipelines = Vec::new();
    for b in 0..64 {
        let mut req = Vec::new();
        for c in 0..16 {
            request(mode, b * 16 + c, &mut req);
        }
        pipelines.push(req);
    }
    let mut out = Vec::with_capacity(1 << 16);
    if mode == "get" {
        let mut parser = Parser::new(Limits::default());
        let mut batch = CommandBatch::new();
        for b in 0..64 {
            let mut req = Vec::new();
            for c in 0..16 {
                request("set", b * 16 + c, &mut req);
            }
            parser
                .parse(&mut BytesMut::from(&req[..]), &mut batch)
                .expect("valid request");
            server.execute_batch(client, &batch, NOW_US, &mut out);
            batch.clear();
        }
    }
    let mut parser = Parser::new(Limits::default());
    let mut batch = CommandBatch::new();
    let mut buf = BytesMut::with_capacity(1 << 14);
    let mut total = 0usize;
    for b in 0..batches {
        // Stands for the socket read into the connection's buffer.
        buf.extend_from_slice(&pipelines[b % pipelines.len()]);
        batch.clear();
        parser.parse(&mut buf, &mut batch).expect("valid request");
        out.clear();
        server.execute_batch(client, &batch, NOW_US + b as i64, &mut out);
        total += out.len();
    }
    println!("{total}");
}
