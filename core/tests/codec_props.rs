//! Property tests of the request codec: encoding any command and parsing it back is the identity, and
//! splitting a valid stream at any points parses to the same commands.

use bytes::BytesMut;
use keel_core::resp::parser::{CommandBatch, Limits, Parser};
use proptest::prelude::*;

fn encode(cmds: &[Vec<Vec<u8>>]) -> Vec<u8> {
    let mut out = Vec::new();
    for cmd in cmds {
        out.extend_from_slice(format!("*{}\r\n", cmd.len()).as_bytes());
        for arg in cmd {
            out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
            out.extend_from_slice(arg);
            out.extend_from_slice(b"\r\n");
        }
    }
    out
}

fn parse_chunks(stream: &[u8], cuts: &[usize]) -> Vec<Vec<Vec<u8>>> {
    let mut parser = Parser::new(Limits::default());
    let mut buf = BytesMut::new();
    let mut batch = CommandBatch::new();
    let mut got = Vec::new();
    let mut start = 0;
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (stream.len() + 1)).collect();
    points.sort_unstable();
    points.push(stream.len());
    for end in points {
        if end < start {
            continue;
        }
        buf.extend_from_slice(&stream[start..end]);
        start = end;
        parser.parse(&mut buf, &mut batch).expect("valid stream parses");
        got.extend(batch.iter().map(|c| c.iter().map(|a| a.to_vec()).collect::<Vec<_>>()));
        batch.clear();
    }
    assert!(buf.is_empty(), "every byte consumed");
    assert!(parser.is_idle());
    got
}

fn commands() -> impl Strategy<Value = Vec<Vec<Vec<u8>>>> {
    let arg = prop::collection::vec(any::<u8>(), 0..40);
    let cmd = prop::collection::vec(arg, 1..6);
    prop::collection::vec(cmd, 1..8)
}

proptest! {
    #[test]
    fn encode_then_parse_is_identity(cmds in commands()) {
        let stream = encode(&cmds);
        prop_assert_eq!(parse_chunks(&stream, &[]), cmds);
    }

    #[test]
    fn any_split_parses_the_same(cmds in commands(), cuts in prop::collection::vec(any::<usize>(), 0..12)) {
        let stream = encode(&cmds);
        prop_assert_eq!(parse_chunks(&stream, &cuts), cmds);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let mut parser = Parser::new(Limits::default());
        let mut buf = BytesMut::from(&bytes[..]);
        let mut batch = CommandBatch::new();
        let _ = parser.parse(&mut buf, &mut batch);
    }
}
