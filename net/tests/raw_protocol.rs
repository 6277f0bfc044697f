//! Wire-level tests over raw `std::net::TcpStream`s: inline and multibulk requests, pipelining, large
//! arguments arriving in pieces, and the exact protocol-error replies after which the server closes
//! the connection.
//!
//! Every expected byte string was recorded from redis-server 7.0.15, not written from memory. Set
//! `KEEL_TEST_ADDR=host:port` to run this file against another server (e.g. a real redis-server) to
//! re-check them; each test then flushes that server first, so use `--test-threads=1`.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

mod support;

use support::Target;

/// How long any single read may wait before the test declares the server silent.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

impl Target {
    /// A new connection with a read timeout, so a silent server fails the test instead of hanging it.
    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(&self.addr).expect("connect");
        s.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
        s.set_nodelay(true).unwrap();
        s
    }
}

/// Shows bytes readably in assertion messages.
fn show(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string()
}

/// Reads until `n` bytes have arrived, the peer closes, or the read times out.
fn read_n(stream: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut got = Vec::with_capacity(n);
    let mut chunk = vec![0u8; 64 * 1024];
    while got.len() < n {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(k) => got.extend_from_slice(&chunk[..k]),
        }
    }
    got
}

/// Writes `request` and asserts that exactly `expected` comes back.
#[track_caller]
fn expect_reply(stream: &mut TcpStream, request: &[u8], expected: &[u8]) {
    stream.write_all(request).expect("write request");
    let got = read_n(stream, expected.len());
    assert_eq!(
        show(&got),
        show(expected),
        "reply to {}",
        show(&request[..request.len().min(200)])
    );
}

/// Everything the server sends until it closes the connection, and whether it did close (as
/// opposed to going silent for [`READ_TIMEOUT`]). A reset after the data counts as closed.
fn read_until_closed(stream: &mut TcpStream) -> (Vec<u8>, bool) {
    let mut got = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => return (got, true),
            Ok(k) => got.extend_from_slice(&chunk[..k]),
            Err(e) if matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted) => {
                return (got, true)
            }
            Err(_) => return (got, false),
        }
    }
}

/// Sends `input` on a fresh connection and asserts the server answers exactly `expected` and then
/// closes the connection on its own (the client never half-closes here).
#[track_caller]
fn assert_answer_then_close(target: &Target, input: &[u8], expected: &[u8]) {
    let mut s = target.connect();
    // The server may close before reading everything; a failed write is fine, the reply is what counts.
    let _ = s.write_all(input);
    let (got, closed) = read_until_closed(&mut s);
    let what = show(&input[..input.len().min(80)]);
    assert_eq!(show(&got), show(expected), "reply to {what}");
    assert!(closed, "connection left open after {what}");
}

/// Sends `input`, then half-closes, and returns everything the server answered before closing. With
/// nothing more to come the server must answer every complete command and then close, so this checks
/// "no reply" without waiting on a timer.
fn answer_to_complete_input(target: &Target, input: &[u8]) -> Vec<u8> {
    let mut s = target.connect();
    s.write_all(input).expect("write");
    s.shutdown(Shutdown::Write).expect("half-close");
    let (got, closed) = read_until_closed(&mut s);
    assert!(closed, "server kept the connection open after the client's EOF");
    got
}

#[test]
fn inline_commands() {
    let t = Target::start();
    let mut s = t.connect();
    expect_reply(&mut s, b"PING\r\n", b"+PONG\r\n");
    expect_reply(&mut s, b"PING\n", b"+PONG\r\n");
    expect_reply(&mut s, b"ping hello\r\n", b"$5\r\nhello\r\n");
    // Blank lines are skipped.
    expect_reply(&mut s, b"\r\n\n  \r\nPING\r\n", b"+PONG\r\n");
    expect_reply(&mut s, b"SET a \"b c\"\r\nGET a\r\n", b"+OK\r\n$3\r\nb c\r\n");
    // Double quotes understand \xHH, \n, \" ...; single quotes only \'.
    expect_reply(
        &mut s,
        b"SET q \"x\\x41\\n\\\"y\"\r\nGET q\r\n",
        b"+OK\r\n$5\r\nxA\n\"y\r\n",
    );
    expect_reply(&mut s, b"SET s 'it\\'s'\r\nGET s\r\n", b"+OK\r\n$4\r\nit's\r\n");
    expect_reply(&mut s, b"ECHO \"a\\r\\nb\"\r\n", b"$4\r\na\r\nb\r\n");
    expect_reply(&mut s, b"SET tabbed\tx\r\nGET tabbed\r\n", b"+OK\r\n$1\r\nx\r\n");
}

#[test]
fn multibulk_arguments_are_binary_safe() {
    let t = Target::start();
    let mut s = t.connect();
    let value: &[u8] = b"a\r\nb\0c $3\r\n*1";
    let mut req = format!("*3\r\n$3\r\nSET\r\n$3\r\nb\0k\r\n${}\r\n", value.len()).into_bytes();
    req.extend_from_slice(value);
    req.extend_from_slice(b"\r\n");
    expect_reply(&mut s, &req, b"+OK\r\n");
    let mut want = format!("${}\r\n", value.len()).into_bytes();
    want.extend_from_slice(value);
    want.extend_from_slice(b"\r\n");
    expect_reply(&mut s, b"*2\r\n$3\r\nGET\r\n$3\r\nb\0k\r\n", &want);
    // An empty argument is still an argument.
    expect_reply(&mut s, b"*3\r\n$3\r\nSET\r\n$0\r\n\r\n$0\r\n\r\n", b"+OK\r\n");
    expect_reply(&mut s, b"*2\r\n$3\r\nGET\r\n$0\r\n\r\n", b"$0\r\n\r\n");
}

#[test]
fn empty_and_negative_multibulks_are_ignored() {
    let t = Target::start();
    let mut s = t.connect();
    expect_reply(&mut s, b"*0\r\n*-1\r\n\r\n\n  \r\nPING\r\n", b"+PONG\r\n");
}

#[test]
fn bulk_terminator_bytes_are_not_checked() {
    // The two bytes after a bulk argument are skipped unchecked by the reference server.
    let t = Target::start();
    let mut s = t.connect();
    expect_reply(&mut s, b"*2\r\n$4\r\nECHO\r\n$3\r\nabcXY", b"$3\r\nabc\r\n");
    expect_reply(&mut s, b"PING\r\n", b"+PONG\r\n");
}

#[test]
fn a_command_split_into_single_bytes() {
    let t = Target::start();
    let mut s = t.connect();
    for &b in b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n" {
        s.write_all(&[b]).unwrap();
    }
    assert_eq!(show(&read_n(&mut s, 5)), show(b"+OK\r\n"));
    for &b in b"GET k\r\n" {
        s.write_all(&[b]).unwrap();
    }
    assert_eq!(show(&read_n(&mut s, 11)), show(b"$5\r\nhello\r\n"));
}

#[test]
fn a_pipeline_of_1000_commands_in_one_write() {
    let t = Target::start();
    let mut s = t.connect();
    let mut request = Vec::new();
    let mut expected = Vec::new();
    for i in 1..=1000 {
        // Alternate the two request forms; both must keep their place in the reply stream.
        if i & 1 == 0 {
            request.extend_from_slice(b"INCR ctr\r\n");
        } else {
            request.extend_from_slice(b"*2\r\n$4\r\nINCR\r\n$3\r\nctr\r\n");
        }
        expected.extend_from_slice(format!(":{i}\r\n").as_bytes());
    }
    s.write_all(&request).unwrap();
    let got = read_n(&mut s, expected.len());
    assert_eq!(
        got.len(),
        expected.len(),
        "got {} of {} reply bytes",
        got.len(),
        expected.len()
    );
    assert!(got == expected, "replies out of order or wrong");
    // Nothing extra follows.
    expect_reply(&mut s, b"PING\r\n", b"+PONG\r\n");
}

#[test]
fn a_five_megabyte_value_in_64k_chunks() {
    const LEN: usize = 5 * 1024 * 1024;
    let t = Target::start();
    let mut s = t.connect();
    let value: Vec<u8> = (0..LEN).map(|i| (i.wrapping_mul(31) % 251) as u8).collect();
    s.write_all(format!("*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n${LEN}\r\n").as_bytes())
        .unwrap();
    for chunk in value.chunks(64 * 1024) {
        s.write_all(chunk).unwrap();
    }
    expect_reply(&mut s, b"\r\n", b"+OK\r\n");
    expect_reply(&mut s, b"STRLEN big\r\n", format!(":{LEN}\r\n").as_bytes());
    s.write_all(b"GET big\r\n").unwrap();
    let header = format!("${LEN}\r\n").into_bytes();
    let got = read_n(&mut s, header.len() + LEN + 2);
    assert_eq!(got.len(), header.len() + LEN + 2, "short GET reply");
    assert_eq!(show(&got[..header.len()]), show(&header));
    assert!(
        got[header.len()..header.len() + LEN] == value[..],
        "value corrupted in transit"
    );
    assert_eq!(&got[header.len() + LEN..], b"\r\n");
}

/// Protocol errors recorded from redis-server 7.0.15: each is answered with this exact line, then the
/// connection is closed.
const PROTOCOL_ERRORS: &[(&[u8], &[u8])] = &[
    (b"*abc\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
    (b"*\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
    (b"*01\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
    (b"*2147483648\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
    (b"*1\r\n$-5\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"*1\r\n$-1\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"*1\r\n$-0\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"*1\r\n$01\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"*1\r\n$+1\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"*1\r\n$ 1\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"*1\r\n$\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"*1\r\n$ab\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"*1\r\n$536870913\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (
        b"*1\r\n$9223372036854775808\r\n",
        b"-ERR Protocol error: invalid bulk length\r\n",
    ),
    (b"*1\r\nxx\r\n", b"-ERR Protocol error: expected '$', got 'x'\r\n"),
    // The CR the server found is replaced by a space so the error line stays one line.
    (b"*1\r\n\r\n", b"-ERR Protocol error: expected '$', got ' '\r\n"),
    (
        b"*2\r\n$3\r\nfoo\r\n:1\r\n",
        b"-ERR Protocol error: expected '$', got ':'\r\n",
    ),
    (
        b"SET a \"b\r\n",
        b"-ERR Protocol error: unbalanced quotes in request\r\n",
    ),
    (
        b"SET a \"b\"c\r\n",
        b"-ERR Protocol error: unbalanced quotes in request\r\n",
    ),
    (
        b"SET a 'b\r\n",
        b"-ERR Protocol error: unbalanced quotes in request\r\n",
    ),
];

#[test]
fn protocol_errors_are_answered_then_the_connection_closes() {
    let t = Target::start();
    for (input, expected) in PROTOCOL_ERRORS {
        assert_answer_then_close(&t, input, expected);
    }
}

#[test]
fn oversized_lines_are_refused() {
    let t = Target::start();
    // More than 64 KiB with no line end, in each of the three places a line is expected.
    let inline = vec![b'a'; 70_000];
    assert_answer_then_close(&t, &inline, b"-ERR Protocol error: too big inline request\r\n");
    let count = [&b"*"[..], &[b'1'; 70_000]].concat();
    assert_answer_then_close(&t, &count, b"-ERR Protocol error: too big mbulk count string\r\n");
    let bulk = [&b"*1\r\n$"[..], &[b'1'; 70_000]].concat();
    assert_answer_then_close(&t, &bulk, b"-ERR Protocol error: too big bulk count string\r\n");
    let junk = [&b"*1\r\n"[..], &[b'x'; 70_000]].concat();
    assert_answer_then_close(&t, &junk, b"-ERR Protocol error: too big bulk count string\r\n");
}

#[test]
fn commands_before_a_protocol_error_are_answered_first() {
    let t = Target::start();
    assert_answer_then_close(
        &t,
        b"PING\r\nSET before-error v\r\n*1\r\nxx\r\nSET after-error v\r\n",
        b"+PONG\r\n+OK\r\n-ERR Protocol error: expected '$', got 'x'\r\n",
    );
    assert_answer_then_close(
        &t,
        b"*1\r\n$4\r\nPING\r\n*abc\r\n",
        b"+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n",
    );
    // The command before the error ran; the one after it did not.
    let mut s = t.connect();
    expect_reply(&mut s, b"GET before-error\r\n", b"$1\r\nv\r\n");
    expect_reply(&mut s, b"EXISTS after-error\r\n", b":0\r\n");
}

#[test]
fn quit_answers_ok_then_closes() {
    let t = Target::start();
    assert_answer_then_close(&t, b"QUIT\r\nPING\r\n", b"+OK\r\n");
    assert_answer_then_close(&t, b"PING\r\n*1\r\n$4\r\nQUIT\r\n", b"+PONG\r\n+OK\r\n");
}

#[test]
fn unknown_command_error_text() {
    let t = Target::start();
    let mut s = t.connect();
    expect_reply(
        &mut s,
        b"FOOBAR a b\r\n",
        b"-ERR unknown command 'FOOBAR', with args beginning with: 'a' 'b' \r\n",
    );
    expect_reply(
        &mut s,
        b"*1\r\n$3\r\nfoo\r\n",
        b"-ERR unknown command 'foo', with args beginning with: \r\n",
    );
    expect_reply(
        &mut s,
        b"*1\r\n$0\r\n\r\n",
        b"-ERR unknown command '', with args beginning with: \r\n",
    );
    // Arguments are echoed as C strings: up to the first NUL.
    expect_reply(
        &mut s,
        b"*1\r\n$3\r\nf\0o\r\n",
        b"-ERR unknown command 'f', with args beginning with: \r\n",
    );
    // A CR LF inside an argument must not break the error line.
    expect_reply(
        &mut s,
        b"FOO \"a\\r\\nb\"\r\n",
        b"-ERR unknown command 'FOO', with args beginning with: 'a  b' \r\n",
    );
    // At most 128 bytes of arguments are echoed.
    let long = [&b"FOO "[..], &[b'a'; 200], b"\r\n"].concat();
    let want = [
        &b"-ERR unknown command 'FOO', with args beginning with: '"[..],
        &[b'a'; 128],
        b"' \r\n",
    ]
    .concat();
    expect_reply(&mut s, &long, &want);
    let many: Vec<String> = (0..60).map(|i| format!("x{i}")).collect();
    expect_reply(
        &mut s,
        format!("FOO {}\r\n", many.join(" ")).as_bytes(),
        b"-ERR unknown command 'FOO', with args beginning with: 'x0' 'x1' 'x2' 'x3' 'x4' 'x5' 'x6' 'x7' \
'x8' 'x9' 'x10' 'x11' 'x12' 'x13' 'x14' 'x15' 'x16' 'x17' 'x18' 'x19' 'x20' 'x21' 'x22' \r\n",
    );
    // Unknown commands are not protocol errors: the connection stays usable.
    expect_reply(&mut s, b"PING\r\n", b"+PONG\r\n");
}

#[test]
fn wrong_arity_error_text() {
    let t = Target::start();
    let mut s = t.connect();
    let get = b"-ERR wrong number of arguments for 'get' command\r\n";
    expect_reply(&mut s, b"GET\r\n", get);
    expect_reply(&mut s, b"GET a b\r\n", get);
    expect_reply(&mut s, b"*3\r\n$3\r\nGET\r\n$1\r\na\r\n$1\r\nb\r\n", get);
    expect_reply(
        &mut s,
        b"PING a b\r\n",
        b"-ERR wrong number of arguments for 'ping' command\r\n",
    );
    expect_reply(
        &mut s,
        b"CLIENT SETNAME\r\n",
        b"-ERR wrong number of arguments for 'client|setname' command\r\n",
    );
    expect_reply(&mut s, b"PING\r\n", b"+PONG\r\n");
}

#[test]
fn the_largest_allowed_lengths_are_accepted() {
    let t = Target::start();
    // proto-max-bulk-len (512 MiB) itself is allowed, and so is a count up to INT_MAX; the server then
    // waits for the data, and closes silently at the client's EOF.
    for input in [&b"*1\r\n$536870912\r\n"[..], b"*1\r\n$536870912\r\nsome data"] {
        assert_eq!(
            show(&answer_to_complete_input(&t, input)),
            "",
            "reply to {}",
            show(input)
        );
    }
}

#[test]
fn multibulk_counts_up_to_int_max_are_accepted() {
    // redis-server 7.0.15 refuses a multibulk count only above INT_MAX (2147483647).
    let t = Target::start();
    for input in [
        &b"*1073741825\r\n"[..],
        b"*2147483647\r\n",
        b"*2147483647\r\n$4\r\nPING\r\n",
    ] {
        assert_eq!(
            show(&answer_to_complete_input(&t, input)),
            "",
            "reply to {}",
            show(input)
        );
    }
}

#[test]
fn a_bulk_header_is_judged_only_once_its_line_is_complete() {
    // The reference server waits for the byte after the CR before looking at a bulk header, so a
    // header cut right after its CR gets no reply.
    let t = Target::start();
    assert_eq!(show(&answer_to_complete_input(&t, b"*1\r\nxx\r")), "");
    assert_eq!(show(&answer_to_complete_input(&t, b"*1\r\n$4\r")), "");
    assert_eq!(show(&answer_to_complete_input(&t, b"*1\r\nxx")), "");
}

#[test]
fn a_reply_larger_than_the_socket_buffer_reaches_a_slow_reader_intact() {
    // An 8 MiB value cannot go out in one write: the server writes what the socket takes, then waits
    // for the client to read. Every byte must still arrive once and in order.
    let t = Target::start();
    let mut s = t.connect();
    let value: Vec<u8> = (0..8 * 1024 * 1024u32).map(|i| b'a' + (i % 26) as u8).collect();
    let mut set = format!("*3\r\n$3\r\nSET\r\n$9\r\nbig:value\r\n${}\r\n", value.len()).into_bytes();
    set.extend_from_slice(&value);
    set.extend_from_slice(b"\r\n");
    expect_reply(&mut s, &set, b"+OK\r\n");
    s.write_all(b"*2\r\n$3\r\nGET\r\n$9\r\nbig:value\r\nPING\r\n")
        .expect("write request");
    // Read slowly at first, so the server's socket buffer fills and its write has to wait.
    std::thread::sleep(Duration::from_millis(200));
    let mut expected = format!("${}\r\n", value.len()).into_bytes();
    expected.extend_from_slice(&value);
    expected.extend_from_slice(b"\r\n+PONG\r\n");
    let got = read_n(&mut s, expected.len());
    assert_eq!(got.len(), expected.len(), "reply length");
    assert!(got == expected, "reply bytes differ");
}
