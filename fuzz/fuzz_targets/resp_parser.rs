//! Fuzzes the incremental request parser (`keel_core::resp::Parser`).
//!
//! Input layout (so that seeds stay readable: a short header, then the raw request stream):
//!
//! ```text
//! byte 0            limits: 0 default, 1 tiny (bulk 16, multibulk 8), 2 minimal (1, 1), 3 (1024, 1024)
//! byte 1            n = number of chunk sizes, taken modulo 8
//! bytes 2..2+n      chunk sizes; the stream is fed in chunks of these sizes, cycling (0 = call parse
//!                   again without new bytes); n = 0 or all zero feeds the whole stream at once
//! rest              the bytes a client sent
//! ```
//!
//! Checks, besides "no panic":
//! - every parsed command has at least one argument (the server indexes `argv[0]`);
//! - the whole stream parsed at once and the chunked stream give the same commands, the same result, and
//!   leave the same unconsumed bytes;
//! - after a successful parse, parsing again without new bytes adds nothing and consumes nothing: what is
//!   left over is at most one incomplete command.
#![no_main]

use bytes::BytesMut;
use keel_core::resp::parser::INLINE_MAX_SIZE;
use keel_core::{CommandBatch, Limits, Parser, ProtocolError};
use libfuzzer_sys::fuzz_target;

/// Commands as owned byte vectors, for comparison.
type Commands = Vec<Vec<Vec<u8>>>;

struct Outcome {
    commands: Commands,
    result: Result<(), ProtocolError>,
    leftover: Vec<u8>,
}

fn limits(selector: u8) -> Limits {
    match selector % 4 {
        0 => Limits::default(),
        1 => Limits {
            max_bulk_len: 16,
            max_multibulk_len: 8,
        },
        2 => Limits {
            max_bulk_len: 1,
            max_multibulk_len: 1,
        },
        _ => Limits {
            max_bulk_len: 1024,
            max_multibulk_len: 1024,
        },
    }
}

fn drain(batch: &mut CommandBatch, into: &mut Commands) {
    for argv in batch.iter() {
        assert!(!argv.is_empty(), "the parser produced a command without arguments");
        into.push(argv.iter().map(|a| a.to_vec()).collect());
    }
    batch.clear();
}

/// Feeds `stream` in chunks of `sizes` (cycling), stopping at the first error.
fn parse_in_chunks(limits: Limits, stream: &[u8], sizes: &[usize]) -> Outcome {
    let mut parser = Parser::new(limits);
    let mut buf = BytesMut::new();
    let mut batch = CommandBatch::new();
    let mut commands = Vec::new();
    let mut fed = 0;
    let mut result = Ok(());
    for &size in sizes.iter().cycle() {
        let end = (fed + size).min(stream.len());
        buf.extend_from_slice(&stream[fed..end]);
        fed = end;
        result = parser.parse(&mut buf, &mut batch);
        drain(&mut batch, &mut commands);
        if result.is_err() || fed == stream.len() {
            break;
        }
    }
    if result.is_ok() {
        // Nothing complete may be left behind: another call without new bytes must change nothing.
        let before = buf.to_vec();
        assert_eq!(
            parser.parse(&mut buf, &mut batch),
            Ok(()),
            "second parse of the leftover failed"
        );
        assert!(
            batch.is_empty(),
            "a complete command was left unparsed: {:?}",
            before.escape_ascii().to_string()
        );
        assert_eq!(
            buf.as_ref(),
            &before[..],
            "a second parse without new bytes consumed bytes"
        );
    }
    Outcome {
        commands,
        result,
        leftover: buf.to_vec(),
    }
}

fuzz_target!(|data: &[u8]| {
    let [selector, n, rest @ ..] = data else { return };
    let n = usize::from(*n % 8).min(rest.len());
    let (sizes, stream) = rest.split_at(n);
    let limits = limits(*selector);
    let mut sizes: Vec<usize> = sizes.iter().map(|&s| usize::from(s)).collect();
    if sizes.iter().all(|&s| s == 0) {
        sizes = vec![stream.len().max(1)];
    }

    let whole = parse_in_chunks(limits, stream, &[stream.len().max(1)]);
    let chunked = parse_in_chunks(limits, stream, &sizes);

    // The size limits (64 KB lines) depend on how much is buffered at once, so they may legitimately
    // trigger for one feeding and not the other; everything else must not depend on chunking.
    if stream.len() > INLINE_MAX_SIZE {
        return;
    }
    assert_eq!(whole.result, chunked.result, "result depends on chunking");
    assert_eq!(whole.commands, chunked.commands, "commands depend on chunking");
    if whole.result.is_ok() {
        assert_eq!(whole.leftover, chunked.leftover, "unconsumed bytes depend on chunking");
    }
});
