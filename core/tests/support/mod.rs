//! Helpers shared by the model tests: a strict reader of the replies `Server::execute` writes.

/// A parsed reply.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum R {
    /// A status reply.
    Simple(Vec<u8>),
    /// An error reply.
    Err(Vec<u8>),
    /// An integer.
    Int(i64),
    /// A bulk string.
    Bulk(Vec<u8>),
    /// Null (either protocol).
    Null,
    /// An array.
    Arr(Vec<R>),
    /// A RESP3 map.
    Map(Vec<(R, R)>),
    /// A RESP3 set.
    Set(Vec<R>),
}

/// Parses one reply from `buf` at `*pos`.
pub fn parse(buf: &[u8], pos: &mut usize) -> R {
    let line_end = buf[*pos..].windows(2).position(|w| w == b"\r\n").expect("CRLF") + *pos;
    let tag = buf[*pos];
    let line = buf[*pos + 1..line_end].to_vec();
    *pos = line_end + 2;
    let num = || std::str::from_utf8(&line).unwrap().parse::<i64>().unwrap();
    match tag {
        b'+' => R::Simple(line.clone()),
        b'-' => R::Err(line.clone()),
        b':' => R::Int(num()),
        b'_' => R::Null,
        b'$' => {
            let n = num();
            if n < 0 {
                return R::Null;
            }
            let data = buf[*pos..*pos + n as usize].to_vec();
            *pos += n as usize + 2;
            R::Bulk(data)
        }
        b'*' | b'~' => {
            let n = num();
            if n < 0 {
                return R::Null;
            }
            let items: Vec<R> = (0..n).map(|_| parse(buf, pos)).collect();
            if tag == b'*' {
                R::Arr(items)
            } else {
                R::Set(items)
            }
        }
        b'%' => R::Map((0..num()).map(|_| (parse(buf, pos), parse(buf, pos))).collect()),
        other => panic!("unexpected reply type {}", other as char),
    }
}
