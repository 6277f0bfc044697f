//! Property test of reply encoding: any reply tree encoded through `Reply` for RESP3 parses back, with an
//! independent reader written here, to the same tree; and its RESP2 form degrades as specified.

use keel_core::resp::{Protocol, Reply};
use proptest::prelude::*;

#[derive(Clone, Debug, PartialEq)]
enum Tree {
    Simple(Vec<u8>),
    Error(Vec<u8>),
    Int(i64),
    Bulk(Vec<u8>),
    Null,
    Bool(bool),
    Double(f64),
    Array(Vec<Tree>),
    Map(Vec<(Tree, Tree)>),
    Set(Vec<Tree>),
}

fn write(r: &mut Reply, t: &Tree) {
    match t {
        Tree::Simple(s) => r.simple(s),
        Tree::Error(s) => r.error(s),
        Tree::Int(n) => r.integer(*n),
        Tree::Bulk(b) => r.bulk(b),
        Tree::Null => r.null(),
        Tree::Bool(b) => r.boolean(*b),
        Tree::Double(d) => r.double(*d),
        Tree::Array(items) => {
            r.array(items.len());
            items.iter().for_each(|i| write(r, i));
        }
        Tree::Map(pairs) => {
            r.map(pairs.len());
            for (k, v) in pairs {
                write(r, k);
                write(r, v);
            }
        }
        Tree::Set(items) => {
            r.set(items.len());
            items.iter().for_each(|i| write(r, i));
        }
    }
}

/// A strict RESP3 reader over a byte slice.
fn read(input: &mut &[u8]) -> Tree {
    let line = |input: &mut &[u8]| -> Vec<u8> {
        let end = input.windows(2).position(|w| w == b"\r\n").expect("line end");
        let l = input[..end].to_vec();
        *input = &input[end + 2..];
        l
    };
    let tag = input[0];
    *input = &input[1..];
    let head = line(input);
    let num = || std::str::from_utf8(&head).unwrap().parse::<i64>().unwrap();
    match tag {
        b'+' => Tree::Simple(head.clone()),
        b'-' => Tree::Error(head.clone()),
        b':' => Tree::Int(num()),
        b'$' => {
            let n = num() as usize;
            let b = input[..n].to_vec();
            assert_eq!(&input[n..n + 2], b"\r\n");
            *input = &input[n + 2..];
            Tree::Bulk(b)
        }
        b'_' => Tree::Null,
        b'#' => Tree::Bool(head == b"t"),
        b',' => Tree::Double(std::str::from_utf8(&head).unwrap().parse().unwrap()),
        b'*' => Tree::Array((0..num()).map(|_| read(input)).collect()),
        b'~' => Tree::Set((0..num()).map(|_| read(input)).collect()),
        b'%' => Tree::Map((0..num()).map(|_| (read(input), read(input))).collect()),
        other => panic!("unexpected tag {}", other as char),
    }
}

fn text() -> impl Strategy<Value = Vec<u8>> {
    // Status and error lines cannot contain CR or LF.
    prop::collection::vec(
        any::<u8>().prop_filter("no CR/LF", |b| *b != b'\r' && *b != b'\n'),
        0..20,
    )
}

fn tree() -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        text().prop_map(Tree::Simple),
        text().prop_map(|mut t| {
            t.insert(0, b'E');
            Tree::Error(t)
        }),
        any::<i64>().prop_map(Tree::Int),
        prop::collection::vec(any::<u8>(), 0..40).prop_map(Tree::Bulk),
        Just(Tree::Null),
        any::<bool>().prop_map(Tree::Bool),
        prop::num::f64::NORMAL.prop_map(Tree::Double),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Tree::Array),
            prop::collection::vec(inner.clone(), 0..6).prop_map(Tree::Set),
            prop::collection::vec((inner.clone(), inner), 0..4).prop_map(Tree::Map),
        ]
    })
}

proptest! {
    #[test]
    fn resp3_encode_then_read_is_identity(t in tree()) {
        let mut out = Vec::new();
        write(&mut Reply::new(&mut out, Protocol::Resp3), &t);
        let mut input = out.as_slice();
        let back = read(&mut input);
        prop_assert!(input.is_empty());
        prop_assert_eq!(back, t);
    }

    #[test]
    fn resp2_uses_only_resp2_types(t in tree()) {
        let mut out = Vec::new();
        write(&mut Reply::new(&mut out, Protocol::Resp2), &t);
        let mut input = out.as_slice();
        // Every RESP2 reply is readable, and no RESP3-only tag appears at a value position.
        fn check(input: &mut &[u8]) {
            let tag = input[0];
            assert!(b"+-:$*".contains(&tag), "RESP2 tag, got {}", tag as char);
            let end = input.windows(2).position(|w| w == b"\r\n").unwrap();
            let header = std::str::from_utf8(&input[1..end]).ok().and_then(|h| h.parse::<i64>().ok());
            if tag == b'*' {
                *input = &input[end + 2..];
                for _ in 0..header.unwrap().max(0) {
                    check(input);
                }
            } else if tag == b'$' && header == Some(-1) {
                *input = &input[end + 2..];
            } else {
                read(input);
            }
        }
        check(&mut input);
        prop_assert!(input.is_empty());
    }
}
