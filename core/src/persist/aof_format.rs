//! The append-only file's command format and its replay: a sequence of RESP arrays of bulk strings
//! (lines starting with `#` are annotations and are skipped), run through the server by a client of its
//! own whose replies are thrown away.
//!
//! Owns decoding, the distinction between a torn tail (the file ends inside a command, or inside a
//! MULTI without its EXEC: what a crash mid-write leaves) and corruption (anything else malformed), and
//! the replay loop. It never reads a file: the shell hands the bytes in. Bad bytes never panic and never
//! make it allocate more than the input's size.

use std::fmt;

use bytes::Bytes;

use crate::client::{ConnInfo, ConnKind};
use crate::server::Server;

/// Why a command stream cannot be used as it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FormatError {
    /// The stream ends inside a command (or inside an unfinished MULTI): the first `valid_len` bytes
    /// hold complete commands.
    Truncated { valid_len: usize },
    /// Malformed bytes at `offset`.
    Corrupt { offset: usize, reason: &'static str },
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormatError::Truncated { valid_len } => {
                write!(
                    f,
                    "unexpected end of file after the last complete command at offset {valid_len}"
                )
            }
            FormatError::Corrupt { offset, reason } => write!(f, "bad file format at offset {offset}: {reason}"),
        }
    }
}

/// Decodes the command starting at `pos`. `Ok(None)` at the end of the input; otherwise the arguments
/// and the offset just past the command.
pub fn next_command(buf: &[u8], mut pos: usize) -> Result<Option<(Vec<Bytes>, usize)>, FormatError> {
    // Annotation lines (`#TS:...`) carry no command.
    while buf.get(pos) == Some(&b'#') {
        match find_crlf(buf, pos) {
            Some(end) => pos = end + 2,
            None => return Err(FormatError::Truncated { valid_len: pos }),
        }
    }
    if pos >= buf.len() {
        return Ok(None);
    }
    let start = pos;
    let truncated = FormatError::Truncated { valid_len: start };
    if buf[pos] != b'*' {
        return Err(FormatError::Corrupt {
            offset: pos,
            reason: "expected '*'",
        });
    }
    let (argc, after) = number_line(buf, pos + 1, start)?;
    if argc < 1 {
        return Err(FormatError::Corrupt {
            offset: pos,
            reason: "command with no arguments",
        });
    }
    pos = after;
    // Each argument takes at least 4 bytes, so the input bounds the allocation.
    let mut argv = Vec::with_capacity((argc as usize).min(buf.len().saturating_sub(pos) / 4 + 1));
    for _ in 0..argc {
        match buf.get(pos) {
            None => return Err(truncated),
            Some(b'$') => {}
            Some(_) => {
                return Err(FormatError::Corrupt {
                    offset: pos,
                    reason: "expected '$'",
                })
            }
        }
        let (len, after) = number_line(buf, pos + 1, start)?;
        if len < 0 {
            return Err(FormatError::Corrupt {
                offset: pos,
                reason: "negative bulk length",
            });
        }
        let len = len as usize;
        let Some(end) = after
            .checked_add(len)
            .filter(|&e| e.checked_add(2).is_some_and(|x| x <= buf.len()))
        else {
            return Err(truncated);
        };
        if &buf[end..end + 2] != b"\r\n" {
            return Err(FormatError::Corrupt {
                offset: end,
                reason: "bulk string not followed by CRLF",
            });
        }
        argv.push(Bytes::copy_from_slice(&buf[after..end]));
        pos = end + 2;
    }
    Ok(Some((argv, pos)))
}

/// Parses the decimal number from `pos` up to CRLF; returns it and the offset after the CRLF.
fn number_line(buf: &[u8], pos: usize, command_start: usize) -> Result<(i64, usize), FormatError> {
    let Some(end) = find_crlf(buf, pos) else {
        // No line end yet: a torn tail if what is there still looks like a number.
        let tail = &buf[pos.min(buf.len())..];
        if tail.len() <= 20 && tail.iter().all(|b| b.is_ascii_digit() || *b == b'-' || *b == b'\r') {
            return Err(FormatError::Truncated {
                valid_len: command_start,
            });
        }
        return Err(FormatError::Corrupt {
            offset: pos,
            reason: "invalid length line",
        });
    };
    let n = crate::types::number::parse_i64(&buf[pos..end]).ok_or(FormatError::Corrupt {
        offset: pos,
        reason: "invalid length",
    })?;
    Ok((n, end + 2))
}

fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    let tail = buf.get(from..)?;
    tail.windows(2).position(|w| w == b"\r\n").map(|p| from + p)
}

/// What a replay did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplayReport {
    /// Commands run.
    pub commands: u64,
    /// Bytes of complete commands (the length to keep when a torn tail is dropped).
    pub valid_len: usize,
    /// The bytes after `valid_len` that were dropped, if the tail was torn and that is allowed.
    pub dropped_tail: Option<usize>,
}

/// Why a replay failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplayError {
    /// The stream is malformed (or torn while torn tails are not accepted).
    Format(FormatError),
    /// A command the server does not know, at `offset`.
    UnknownCommand { offset: usize, name: String },
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplayError::Format(e) => e.fmt(f),
            ReplayError::UnknownCommand { offset, name } => {
                write!(f, "unknown command '{name}' at offset {offset}")
            }
        }
    }
}

/// Runs every command of `buf` through `server` with a client of its own, as of `now_us`. With
/// `allow_torn_tail`, a stream that ends inside a command or an unfinished MULTI is accepted up to its
/// last complete command (the report says how much to keep); otherwise that is an error like any other.
/// A MULTI whose EXEC is missing at the end is not applied.
pub fn replay(
    server: &mut Server,
    buf: &[u8],
    now_us: i64,
    allow_torn_tail: bool,
) -> Result<ReplayReport, ReplayError> {
    let info = ConnInfo {
        addr: String::new(),
        laddr: String::new(),
        fd: -1,
        kind: ConnKind::Unix,
    };
    let handle = server.connect(info, now_us.div_euclid(1000));
    if let Some(mut client) = server.clients.take(handle) {
        // Replayed commands were authorised when they first ran; a password or ACL rule set since must
        // not drop them.
        client.internal = true;
        server.clients.put_back(handle, client);
    }
    let mut report = ReplayReport::default();
    let mut pos = 0;
    // Where the open MULTI began: a tail cut inside it is dropped whole.
    let mut multi_start: Option<usize> = None;
    let mut sink = Vec::new();
    let outcome = loop {
        match next_command(buf, pos) {
            Ok(None) => match multi_start {
                Some(m) => break Err(FormatError::Truncated { valid_len: m }),
                None => break Ok(()),
            },
            Ok(Some((argv, next))) => {
                if matches!(server.registry.lookup(&argv), crate::commands::Lookup::UnknownCommand) {
                    server.disconnect(handle);
                    return Err(ReplayError::UnknownCommand {
                        offset: pos,
                        name: String::from_utf8_lossy(&argv[0]).into_owned(),
                    });
                }
                if argv[0].eq_ignore_ascii_case(b"multi") {
                    multi_start = Some(pos);
                } else if argv[0].eq_ignore_ascii_case(b"exec") {
                    multi_start = None;
                }
                sink.clear();
                server.execute(handle, &argv, now_us, &mut sink);
                report.commands += 1;
                pos = next;
                if multi_start.is_none() {
                    report.valid_len = pos;
                }
            }
            Err(e) => {
                break Err(match (e, multi_start) {
                    (FormatError::Truncated { .. }, Some(m)) => FormatError::Truncated { valid_len: m },
                    (e, _) => e,
                })
            }
        }
    };
    server.disconnect(handle);
    // Effects of replayed commands (a SHUTDOWN, a CLIENT KILL) concern no live client.
    server.take_effects();
    match outcome {
        Ok(()) => Ok(report),
        Err(FormatError::Truncated { valid_len }) if allow_torn_tail => {
            report.valid_len = valid_len;
            report.dropped_tail = Some(buf.len() - valid_len);
            Ok(report)
        }
        Err(e) => Err(ReplayError::Format(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::server::ProcessInfo;

    fn server() -> Server {
        Server::new(Config::default(), 1, 0, ProcessInfo::default())
    }

    fn get(s: &mut Server, key: &[u8]) -> Vec<u8> {
        let h = crate::test_support::connect_loopback(s);
        let mut out = Vec::new();
        s.execute(
            h,
            &[Bytes::from_static(b"GET"), Bytes::copy_from_slice(key)],
            1_000_000,
            &mut out,
        );
        out
    }

    const TWO: &[u8] = b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n";

    #[test]
    fn replays_complete_streams_and_skips_annotations() {
        let mut s = server();
        let mut buf = b"#TS:1700000000\r\n".to_vec();
        buf.extend_from_slice(TWO);
        let r = replay(&mut s, &buf, 1_000_000, false).unwrap();
        assert_eq!((r.commands, r.valid_len, r.dropped_tail), (2, buf.len(), None));
        assert_eq!(get(&mut s, b"a"), b"$1\r\n1\r\n");
    }

    #[test]
    fn replay_ignores_passwords_and_acl_rules() {
        let mut config = Config::default();
        config.set_startup("requirepass", "secret").unwrap();
        let mut s = Server::new(config, 1, 0, ProcessInfo::default());
        let r = replay(&mut s, TWO, 1_000_000, false).unwrap();
        assert_eq!(r.commands, 2);
        let mut seen = None;
        s.dbs[0].scan(0, 10, 1_000_000, |e| seen = Some(e.key().to_vec()));
        assert_eq!(
            seen.as_deref(),
            Some(&b"a"[..]),
            "the write was applied, not refused with NOAUTH"
        );
    }

    #[test]
    fn a_torn_tail_is_dropped_only_when_allowed() {
        for cut in 1..20 {
            let mut buf = TWO.to_vec();
            buf.extend_from_slice(&b"*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n"[..cut]);
            let mut s = server();
            let r = replay(&mut s, &buf, 1_000_000, true).unwrap();
            assert_eq!(r.valid_len, TWO.len(), "cut {cut}");
            assert_eq!(r.dropped_tail, Some(cut));
            assert_eq!(
                replay(&mut server(), &buf, 1_000_000, false),
                Err(ReplayError::Format(FormatError::Truncated { valid_len: TWO.len() }))
            );
        }
    }

    #[test]
    fn an_unfinished_multi_is_not_applied() {
        let mut buf = TWO.to_vec();
        buf.extend_from_slice(b"*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n");
        let mut s = server();
        let r = replay(&mut s, &buf, 1_000_000, true).unwrap();
        assert_eq!(r.valid_len, TWO.len());
        assert_eq!(get(&mut s, b"b"), b"$-1\r\n");
    }

    #[test]
    fn corruption_names_its_offset() {
        let mut buf = TWO.to_vec();
        buf.extend_from_slice(b"garbage\r\n");
        buf.extend_from_slice(TWO);
        assert_eq!(
            replay(&mut server(), &buf, 1_000_000, true),
            Err(ReplayError::Format(FormatError::Corrupt {
                offset: TWO.len(),
                reason: "expected '*'"
            }))
        );
        let unknown = b"*1\r\n$4\r\nNOPE\r\n";
        assert_eq!(
            replay(&mut server(), unknown, 0, true),
            Err(ReplayError::UnknownCommand {
                offset: 0,
                name: "NOPE".into()
            })
        );
        // A huge declared count or length is not allocated up front.
        assert!(next_command(b"*999999999999\r\n$1\r\n", 0).is_err());
        assert_eq!(
            next_command(b"*1\r\n$999999999999\r\nab", 0),
            Err(FormatError::Truncated { valid_len: 0 })
        );
    }
}
