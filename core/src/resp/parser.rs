//! Incremental request parser: turns the bytes a client sent into commands.
//!
//! Owns: the per-connection parse state (a half-read multibulk, a pending bulk length) and the protocol
//! limits. It must never allocate from a length the client announced before those bytes have arrived, and
//! never re-scan bytes it has already consumed: a huge bulk arriving in small chunks costs O(n) overall.
//!
//! Both request forms are understood: multibulk (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) and inline
//! (`GET k\r\n`, with quoting as redis-cli and telnet users send it).

use bytes::{Buf, Bytes, BytesMut};

/// Longest inline request, and longest multibulk or bulk header, before the client is refused.
pub const INLINE_MAX_SIZE: usize = 64 * 1024;

/// Protocol limits a parser enforces; the shell copies them from the live configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// `proto-max-bulk-len`: longest single argument.
    pub max_bulk_len: u64,
    /// Highest multibulk count accepted.
    pub max_multibulk_len: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bulk_len: 512 * 1024 * 1024,
            max_multibulk_len: i32::MAX as u64,
        }
    }
}

/// A violation of the request protocol. The connection is answered with [`ProtocolError::message`] and
/// then closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtocolError {
    TooBigInline,
    UnbalancedQuotes,
    TooBigMultibulkCount,
    InvalidMultibulkLength,
    TooBigBulkCount,
    InvalidBulkLength,
    /// A multibulk element did not start with `$`; carries the byte found instead.
    ExpectedDollar(u8),
}

impl ProtocolError {
    /// The error text sent to the client, without the leading `-` and trailing CRLF.
    pub fn message(&self) -> Vec<u8> {
        let text: &[u8] = match self {
            ProtocolError::TooBigInline => b"ERR Protocol error: too big inline request",
            ProtocolError::UnbalancedQuotes => b"ERR Protocol error: unbalanced quotes in request",
            ProtocolError::TooBigMultibulkCount => b"ERR Protocol error: too big mbulk count string",
            ProtocolError::InvalidMultibulkLength => b"ERR Protocol error: invalid multibulk length",
            ProtocolError::TooBigBulkCount => b"ERR Protocol error: too big bulk count string",
            ProtocolError::InvalidBulkLength => b"ERR Protocol error: invalid bulk length",
            ProtocolError::ExpectedDollar(found) => {
                let mut m = b"ERR Protocol error: expected '$', got '".to_vec();
                m.push(*found);
                m.push(b'\'');
                return m;
            }
        };
        text.to_vec()
    }
}

/// A batch of parsed commands, stored flat so that parsing a pipeline allocates nothing per command once
/// the batch has warmed up.
#[derive(Default, Debug)]
pub struct CommandBatch {
    args: Vec<Bytes>,
    ends: Vec<usize>,
}

impl CommandBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of complete commands.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when no command is held.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Forgets every command, keeping the capacity.
    pub fn clear(&mut self) {
        self.args.clear();
        self.ends.clear();
    }

    /// The argument vector of command `i`.
    pub fn get(&self, i: usize) -> &[Bytes] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.args[start..self.ends[i]]
    }

    /// Iterates over the commands in arrival order.
    pub fn iter(&self) -> impl Iterator<Item = &[Bytes]> + '_ {
        (0..self.len()).map(move |i| self.get(i))
    }

    /// Appends one complete command (used by tests and by the inline path).
    pub fn push(&mut self, argv: impl IntoIterator<Item = Bytes>) {
        self.args.extend(argv);
        self.ends.push(self.args.len());
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Between commands.
    Idle,
    /// Inside a multibulk: `remaining` elements still to read; `bulk` is the announced length of the
    /// next element once its header has been read.
    Multibulk { remaining: u64, bulk: Option<usize> },
}

/// Per-connection request parser.
#[derive(Debug)]
pub struct Parser {
    limits: Limits,
    state: State,
    /// Bytes of an incomplete header line already searched for a newline.
    scanned: usize,
    /// Arguments of the multibulk being read, committed to the batch when it completes.
    partial: Vec<Bytes>,
    /// Fast path scratch: argument offsets of the complete commands found, and where each command's
    /// arguments end in that list (kept to reuse their capacity).
    spans: Vec<(usize, usize)>,
    span_ends: Vec<usize>,
}

/// Most arguments a command may have to take the fast path; longer ones are parsed incrementally, so a
/// huge command arriving in pieces is never rescanned from its start.
const FAST_MAX_ARGS: usize = 64;

impl Parser {
    /// A parser enforcing `limits`.
    pub fn new(limits: Limits) -> Self {
        Parser {
            limits,
            state: State::Idle,
            scanned: 0,
            partial: Vec::new(),
            spans: Vec::new(),
            span_ends: Vec::new(),
        }
    }

    /// Replaces the limits (after `CONFIG SET proto-max-bulk-len`).
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// True when no command is partly read.
    pub fn is_idle(&self) -> bool {
        self.state == State::Idle
    }

    /// Parses every complete command in `buf` into `batch`, consuming its bytes. A trailing incomplete
    /// command stays (partly consumed) for the next call. On error the commands parsed before it are kept
    /// in `batch`, so the caller can run them before answering the error and closing.
    pub fn parse(&mut self, buf: &mut BytesMut, batch: &mut CommandBatch) -> Result<(), ProtocolError> {
        loop {
            match self.state {
                State::Idle => {
                    let Some(&first) = buf.first() else { return Ok(()) };
                    if first == b'*' && self.scanned == 0 && self.take_complete(buf, batch) {
                        continue;
                    }
                    if first == b'*' {
                        let Some((end, used)) = self.find_line(buf, ProtocolError::TooBigMultibulkCount)? else {
                            return Ok(());
                        };
                        let count = parse_length(&buf[1..end]);
                        buf.advance(used);
                        let count = count.ok_or(ProtocolError::InvalidMultibulkLength)?;
                        if count > self.limits.max_multibulk_len as i64 {
                            return Err(ProtocolError::InvalidMultibulkLength);
                        }
                        if count > 0 {
                            self.partial.clear();
                            self.state = State::Multibulk {
                                remaining: count as u64,
                                bulk: None,
                            };
                        }
                    } else {
                        let Some((end, used)) = self.find_line(buf, ProtocolError::TooBigInline)? else {
                            return Ok(());
                        };
                        let args = split_inline(strip_cr(&buf[..end]));
                        buf.advance(used);
                        let args = args.ok_or(ProtocolError::UnbalancedQuotes)?;
                        if !args.is_empty() {
                            batch.push(args);
                        }
                    }
                }
                State::Multibulk { remaining, bulk: None } => {
                    let Some(&first) = buf.first() else { return Ok(()) };
                    if first != b'$' {
                        // The header must be complete before the client is told what is wrong with it.
                        match memchr_from(buf, b'\r', 0) {
                            Some(cr) if buf.len() >= cr + 2 => return Err(ProtocolError::ExpectedDollar(first)),
                            Some(_) => return Ok(()),
                            None if buf.len() > INLINE_MAX_SIZE => return Err(ProtocolError::TooBigBulkCount),
                            None => return Ok(()),
                        }
                    }
                    let Some((end, used)) = self.find_line(buf, ProtocolError::TooBigBulkCount)? else {
                        return Ok(());
                    };
                    let len = parse_length(&buf[1..end]);
                    buf.advance(used);
                    let len = len.ok_or(ProtocolError::InvalidBulkLength)?;
                    if len < 0 || len as u64 > self.limits.max_bulk_len {
                        return Err(ProtocolError::InvalidBulkLength);
                    }
                    self.state = State::Multibulk {
                        remaining,
                        bulk: Some(len as usize),
                    };
                }
                State::Multibulk {
                    remaining,
                    bulk: Some(len),
                } => {
                    // The element and its CRLF must both be here; the CRLF itself is not checked.
                    if buf.len() < len + 2 {
                        return Ok(());
                    }
                    let arg = buf.split_to(len).freeze();
                    buf.advance(2);
                    self.partial.push(arg);
                    if remaining == 1 {
                        batch.push(self.partial.drain(..));
                        self.state = State::Idle;
                    } else {
                        self.state = State::Multibulk {
                            remaining: remaining - 1,
                            bulk: None,
                        };
                    }
                }
            }
        }
    }

    /// The fast path for what pipelines send: consumes the run of complete, well-formed multibulk
    /// commands at the start of `buf` and adds them to `batch`, cutting the run off `buf` once and
    /// slicing every argument from it (one reference-count update per argument, no per-argument state
    /// changes). Returns false, consuming nothing, when the first command is incomplete or anything is
    /// unusual (a zero or negative count, a leading zero, a limit exceeded, a missing `$`); the
    /// incremental parser then handles it, with the same outcome as if this path did not exist.
    fn take_complete(&mut self, buf: &mut BytesMut, batch: &mut CommandBatch) -> bool {
        self.spans.clear();
        self.span_ends.clear();
        let data: &[u8] = buf;
        let mut pos = 0;
        'commands: while data.get(pos) == Some(&b'*') {
            let Some((count, mut at)) = header_number(data, pos + 1) else {
                break;
            };
            if count == 0 || count > FAST_MAX_ARGS as u64 || count > self.limits.max_multibulk_len {
                break;
            }
            let first_span = self.spans.len();
            for _ in 0..count {
                let bulk = if data.get(at) == Some(&b'$') {
                    header_number(data, at + 1).filter(|&(len, _)| len <= self.limits.max_bulk_len)
                } else {
                    None
                };
                // The value and the two bytes after it (its CRLF, not checked) must have arrived.
                match bulk {
                    Some((len, start)) if data.len() - start >= len as usize + 2 => {
                        let end = start + len as usize;
                        self.spans.push((start, end));
                        at = end + 2;
                    }
                    _ => {
                        self.spans.truncate(first_span);
                        break 'commands;
                    }
                }
            }
            self.span_ends.push(self.spans.len());
            pos = at;
        }
        if self.span_ends.is_empty() {
            return false;
        }
        let run = buf.split_to(pos).freeze();
        let mut first = 0;
        for &end in &self.span_ends {
            batch.push(self.spans[first..end].iter().map(|&(a, b)| run.slice(a..b)));
            first = end;
        }
        true
    }

    /// Finds the header or inline line at the start of `buf`: `(end, used)`, where `buf[..end]` is the
    /// line without its terminator and `used` the bytes to consume with it, or `None` if it is
    /// incomplete. Lines longer than [`INLINE_MAX_SIZE`] without a newline fail with `too_big`.
    ///
    /// The caller reads the line in place and then advances `buf`: a header is only parsed for its
    /// number, so it never becomes a shared `Bytes` handle (each one costs two atomic reference-count
    /// updates, a measurable share of a small command's parsing).
    fn find_line(&mut self, buf: &BytesMut, too_big: ProtocolError) -> Result<Option<(usize, usize)>, ProtocolError> {
        // Inline requests end at '\n' (a '\r' before it is dropped later). Multibulk headers end at
        // '\r', and the byte after it is skipped unchecked, as the reference server does.
        let inline = too_big == ProtocolError::TooBigInline;
        let terminator = if inline { b'\n' } else { b'\r' };
        match memchr_from(buf, terminator, self.scanned) {
            Some(pos) if inline || buf.len() >= pos + 2 => {
                self.scanned = 0;
                Ok(Some((pos, if inline { pos + 1 } else { pos + 2 })))
            }
            found => {
                if found.is_none() && buf.len() > INLINE_MAX_SIZE {
                    return Err(too_big);
                }
                self.scanned = found.unwrap_or(buf.len());
                Ok(None)
            }
        }
    }
}

/// The fast path's reading of a header number at `data[at..]`: plain decimal digits (no sign, no leading
/// zero unless the number is 0, at most 19 digits) ended by `\r` and one more byte, which is skipped
/// unchecked as the incremental parser does. Returns the number and the offset after the header, or
/// `None` for anything else, including a header not fully arrived.
fn header_number(data: &[u8], at: usize) -> Option<(u64, usize)> {
    // One or two digits, what nearly every count and argument length is, without the loop.
    match data.get(at..at.saturating_add(4)) {
        Some(&[d, b'\r', _, _]) if d.is_ascii_digit() => return Some((u64::from(d - b'0'), at + 3)),
        Some(&[t, d, b'\r', _]) if (b'1'..=b'9').contains(&t) && d.is_ascii_digit() => {
            return Some((u64::from(t - b'0') * 10 + u64::from(d - b'0'), at + 4));
        }
        _ => {}
    }
    let end = data.len().min(at.saturating_add(19));
    let mut i = at;
    let mut n: u64 = 0;
    while i < end {
        let digit = data[i].wrapping_sub(b'0');
        if digit > 9 {
            break;
        }
        n = n * 10 + u64::from(digit);
        i += 1;
    }
    let well_formed = i > at && (data[at] != b'0' || i == at + 1);
    if well_formed && data.get(i) == Some(&b'\r') && data.len() > i + 1 {
        Some((n, i + 2))
    } else {
        None
    }
}

fn memchr_from(buf: &[u8], byte: u8, from: usize) -> Option<usize> {
    buf.get(from..)?.iter().position(|&b| b == byte).map(|p| p + from)
}

fn strip_cr(line: &[u8]) -> &[u8] {
    match line.last() {
        Some(b'\r') => &line[..line.len() - 1],
        _ => line,
    }
}

/// Parses a protocol length the way the server's strict integer parser does: optional `-`, digits, no
/// leading zeros, no sign on zero, no spaces.
fn parse_length(digits: &[u8]) -> Option<i64> {
    crate::types::number::parse_i64(digits)
}

/// Splits an inline request into arguments with redis-cli's quoting rules: whitespace separates words;
/// "double quotes" understand `\n \r \t \b \a \\ \"` and `\xHH`; 'single quotes' understand only `\'`.
/// A closing quote must be followed by whitespace or the end. Returns `None` on unbalanced quotes.
pub fn split_inline(line: &[u8]) -> Option<Vec<Bytes>> {
    let mut args = Vec::new();
    let mut i = 0;
    let n = line.len();
    loop {
        while i < n && is_space(line[i]) {
            i += 1;
        }
        if i >= n {
            return Some(args);
        }
        let mut current = Vec::new();
        let mut in_double = false;
        let mut in_single = false;
        loop {
            if in_double {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\' && i + 3 < n && line[i + 1] == b'x' && is_hex(line[i + 2]) && is_hex(line[i + 3]) {
                    current.push(hex(line[i + 2]) * 16 + hex(line[i + 3]));
                    i += 3;
                } else if c == b'\\' && i + 1 < n {
                    i += 1;
                    current.push(match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    });
                } else if c == b'"' {
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    current.push(c);
                }
            } else if in_single {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
                    i += 1;
                    current.push(b'\'');
                } else if c == b'\'' {
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    current.push(c);
                }
            } else {
                if i >= n {
                    break;
                }
                match line[i] {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => {
                        i += 1;
                        break;
                    }
                    b'"' => in_double = true,
                    b'\'' => in_single = true,
                    c => current.push(c),
                }
            }
            i += 1;
        }
        args.push(Bytes::from(current));
    }
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn is_hex(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

fn hex(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(input: &[u8]) -> (Vec<Vec<Vec<u8>>>, Result<(), ProtocolError>) {
        let mut p = Parser::new(Limits::default());
        let mut buf = BytesMut::from(input);
        let mut batch = CommandBatch::new();
        let r = p.parse(&mut buf, &mut batch);
        (
            batch.iter().map(|c| c.iter().map(|a| a.to_vec()).collect()).collect(),
            r,
        )
    }

    #[test]
    fn multibulk_and_inline() {
        let (cmds, r) = parse_all(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\nset a \"b c\"\n");
        assert_eq!(r, Ok(()));
        assert_eq!(
            cmds,
            vec![
                vec![b"GET".to_vec(), b"k".to_vec()],
                vec![b"PING".to_vec()],
                vec![b"set".to_vec(), b"a".to_vec(), b"b c".to_vec()]
            ]
        );
    }

    #[test]
    fn partial_command_waits() {
        let mut p = Parser::new(Limits::default());
        let mut batch = CommandBatch::new();
        let mut buf = BytesMut::from(&b"*2\r\n$3\r\nGET\r\n$5\r\nhel"[..]);
        p.parse(&mut buf, &mut batch).unwrap();
        assert!(batch.is_empty());
        buf.extend_from_slice(b"lo\r\n");
        p.parse(&mut buf, &mut batch).unwrap();
        assert_eq!(batch.get(0)[1].as_ref(), b"hello");
        assert!(buf.is_empty());
    }

    #[test]
    fn protocol_errors() {
        assert_eq!(parse_all(b"*x\r\n").1, Err(ProtocolError::InvalidMultibulkLength));
        assert_eq!(parse_all(b"*1\r\n$-1\r\n").1, Err(ProtocolError::InvalidBulkLength));
        assert_eq!(parse_all(b"*1\r\nfoo\r\n").1, Err(ProtocolError::ExpectedDollar(b'f')));
        assert_eq!(parse_all(b"set a \"b\n").1, Err(ProtocolError::UnbalancedQuotes));
        assert_eq!(parse_all(b"set a \"b\"c\n").1, Err(ProtocolError::UnbalancedQuotes));
        assert_eq!(
            parse_all(b"*1\r\n$536870913\r\n").1,
            Err(ProtocolError::InvalidBulkLength)
        );
        assert_eq!(
            parse_all(b"*2147483648\r\n").1,
            Err(ProtocolError::InvalidMultibulkLength)
        );
        assert_eq!(parse_all(b"*2147483647\r\n").1, Ok(()));
        // A malformed element header is only judged once its line is complete.
        assert_eq!(parse_all(b"*1\r\nxx\r").1, Ok(()));
        assert_eq!(parse_all(b"*1\r\nxx\r\n").1, Err(ProtocolError::ExpectedDollar(b'x')));
        let long = vec![b'a'; INLINE_MAX_SIZE + 1];
        assert_eq!(parse_all(&long).1, Err(ProtocolError::TooBigInline));
        let mut mb = b"*".to_vec();
        mb.extend(vec![b'1'; INLINE_MAX_SIZE + 1]);
        assert_eq!(parse_all(&mb).1, Err(ProtocolError::TooBigMultibulkCount));
    }

    #[test]
    fn empty_and_negative_multibulk_are_skipped() {
        let (cmds, r) = parse_all(b"*0\r\n*-1\r\n\r\nPING\r\n");
        assert_eq!(r, Ok(()));
        assert_eq!(cmds, vec![vec![b"PING".to_vec()]]);
    }

    #[test]
    fn inline_escapes() {
        let args = split_inline(b"set \"\\x41\\n\" 'it\\'s'").unwrap();
        assert_eq!(args[1].as_ref(), b"A\n");
        assert_eq!(args[2].as_ref(), b"it's");
    }

    /// Parses `input` fed in pieces of `chunk` bytes, running the batch clear between calls as the shell
    /// does, and returns every command and the outcome.
    fn parse_chunked(input: &[u8], chunk: usize) -> (Vec<Vec<Vec<u8>>>, Result<(), ProtocolError>) {
        let mut p = Parser::new(Limits::default());
        let mut buf = BytesMut::new();
        let mut batch = CommandBatch::new();
        let mut cmds = Vec::new();
        for piece in input.chunks(chunk) {
            buf.extend_from_slice(piece);
            let r = p.parse(&mut buf, &mut batch);
            cmds.extend(batch.iter().map(|c| c.iter().map(|a| a.to_vec()).collect::<Vec<_>>()));
            batch.clear();
            if r.is_err() {
                return (cmds, r);
            }
        }
        (cmds, Ok(()))
    }

    #[test]
    fn fast_path_and_incremental_parsing_agree() {
        // Well-formed pipelines, odd but valid headers (CRLF replaced, zero-length values), and
        // malformed ones: whole or byte by byte, the commands and the error are the same.
        let inputs: &[&[u8]] = &[
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
            b"*1\r\n$4\r\nPING\r\nPING\r\n*1\r\n$4\r\nPING\r\n*0\r\n*1\r\n$4\r\nPING\r\n",
            b"*1\rx$4\rxPINGxx*1\r\n$04\r\nPING\r\n",
            b"*2\r\n$3\r\nGET\r\n$-1\r\n",
            b"*2\r\n$3\r\nGET\r\n:1\r\n",
            b"*01\r\n$4\r\nPING\r\n",
            b"*-1\r\n*1\r\n$4\r\nPING\r\n",
            b"*1\r\n$536870913\r\n",
            b"*1\r\n$99999999999999999999\r\n",
            b"*1\r\n$10\r\n0123456789\r\n*1\r\n$00\r\n\r\n",
            b"*1\r\n$09\r\n012345678\r\n",
            b"*2\r\n$3\r\nGET\r\n$100\r\n0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789\r\n",
        ];
        for input in inputs {
            let whole = parse_all(input);
            for chunk in [1, 2, 3, 7] {
                assert_eq!(parse_chunked(input, chunk), whole, "{:?} in {chunk}-byte pieces", input);
            }
        }
        let (cmds, r) = parse_all(inputs[0]);
        assert_eq!(r, Ok(()));
        assert_eq!(cmds[0], vec![b"SET".to_vec(), b"k".to_vec(), Vec::new()]);
        assert_eq!(parse_all(inputs[2]).0.len(), 1);
    }

    #[test]
    fn many_argument_command_takes_the_incremental_path() {
        let mut input = format!("*{}\r\n", FAST_MAX_ARGS + 1).into_bytes();
        for i in 0..=FAST_MAX_ARGS {
            let a = i.to_string();
            input.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
        }
        let (cmds, r) = parse_all(&input);
        assert_eq!(r, Ok(()));
        assert_eq!(cmds[0].len(), FAST_MAX_ARGS + 1);
        assert_eq!(cmds[0][FAST_MAX_ARGS], FAST_MAX_ARGS.to_string().into_bytes());
    }

    #[test]
    fn huge_bulk_in_small_chunks_consumes_incrementally() {
        let mut p = Parser::new(Limits::default());
        let mut batch = CommandBatch::new();
        let mut buf = BytesMut::from(&b"*1\r\n$1000000\r\n"[..]);
        p.parse(&mut buf, &mut batch).unwrap();
        for _ in 0..1000 {
            buf.extend_from_slice(&[b'x'; 1000]);
            p.parse(&mut buf, &mut batch).unwrap();
        }
        assert!(batch.is_empty());
        buf.extend_from_slice(b"\r\n");
        p.parse(&mut buf, &mut batch).unwrap();
        assert_eq!(batch.get(0)[0].len(), 1_000_000);
    }
}
