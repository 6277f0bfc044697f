//! Running cases against a server: the per-case protocol shared by the recorder and the replayer.
//!
//! Every case gets a fresh connection. Before it, a separate admin connection sends `FLUSHALL`; after it,
//! the admin connection undoes what the case may have changed for the next one (`CLIENT UNPAUSE` if the
//! case paused clients, `CONFIG SET` of every parameter the case set, back to its value from before the
//! case). The admin connection reconnects by itself if a case killed it (`CLIENT KILL`).

use std::time::Duration;

use crate::conn::{Conn, End};
use crate::resp;
use crate::transcript::{Case, Reply, Send, Step};

/// How long a replay waits for each expected reply before calling it missing (long enough for the
/// slowest case, a 200 ms `CLIENT PAUSE`; short enough that a server that never answers still finishes
/// the suite in reasonable time).
const REPLY_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a recording waits for a reply before recording that there was none.
const RECORD_REPLY_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a recording waits after each step to see whether the server closes the connection.
const RECORD_CLOSE_WAIT: Duration = Duration::from_millis(15);
/// How long a recording of a raw write waits for more bytes before deciding the server is done.
const RECORD_RAW_IDLE: Duration = Duration::from_millis(300);
/// How long a replay waits for a close the transcript expects.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a replay watches for an (unwanted) reply where the transcript expects none.
const NO_REPLY_WAIT: Duration = Duration::from_millis(100);

/// What was observed for one step.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    /// The raw reply, before normalisation.
    pub reply: Reply,
    /// The server neither finished the reply nor closed within the wait.
    pub timed_out: bool,
}

/// A case's run: one observation per step, or a harness problem that stopped the case.
#[derive(Debug, Clone, Default)]
pub struct CaseRun {
    pub observed: Vec<Observed>,
    /// Set when the case could not run as written (connect failed, `HELLO 3` refused, ...).
    pub setup_error: Option<String>,
    /// Set when resetting the server around the case went wrong; the case fails with this message.
    pub harness_error: Option<String>,
}

/// Whether the runner is recording a reference or checking against one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Record,
    Replay,
}

/// Runs cases against one server.
pub struct Runner {
    addr: String,
    mode: Mode,
    admin: Option<Conn>,
}

impl Runner {
    /// A runner for the server at `addr` (`host:port`).
    pub fn new(addr: &str, mode: Mode) -> Runner {
        Runner {
            addr: addr.to_string(),
            mode,
            admin: None,
        }
    }

    /// Sends one command on the admin connection and returns its reply, reconnecting once if the
    /// connection was closed (by a case's `CLIENT KILL`, for instance).
    pub fn admin(&mut self, args: &[&[u8]]) -> Result<Vec<u8>, String> {
        let wire = resp::encode_command(&args.iter().map(|a| a.to_vec()).collect::<Vec<_>>());
        for attempt in 0..2 {
            if self.admin.is_none() {
                let conn = Conn::connect(&self.addr).map_err(|e| format!("admin connection to {}: {e}", self.addr))?;
                self.admin = Some(conn);
            }
            let Some(conn) = self.admin.as_mut() else {
                continue;
            };
            let sent = conn.send(&wire).map_err(|e| format!("admin write failed: {e}"))?;
            let (bytes, end) = if sent {
                conn.read_elements(1, REPLY_TIMEOUT)
                    .map_err(|e| format!("admin read failed: {e}"))?
            } else {
                (Vec::new(), End::Closed)
            };
            match end {
                End::Complete => return Ok(bytes),
                End::Closed if attempt == 0 => self.admin = None,
                _ => {
                    return Err(format!(
                        "admin command {} got {end:?}: {:?}",
                        String::from_utf8_lossy(args[0]),
                        String::from_utf8_lossy(&bytes)
                    ))
                }
            }
        }
        Err("admin connection keeps closing".into())
    }

    /// Runs one case: resets the server, runs the steps on a fresh connection, then undoes the case's
    /// server-wide changes.
    ///
    /// Problems with the reset or the clean-up (a server that lacks `FLUSHALL`, `CONFIG GET`, `CLIENT
    /// UNPAUSE`, ...) are reported in the run as the case's [`CaseRun::harness_error`], so that one missing
    /// command fails the cases that need it rather than the whole suite. `Err` only when the server cannot
    /// be reached at all.
    pub fn run_case(&mut self, case: &Case) -> Result<CaseRun, String> {
        let flushed = self.admin(&[b"FLUSHALL"])?;
        if flushed != b"+OK\r\n" {
            return Ok(CaseRun {
                observed: Vec::new(),
                setup_error: Some(format!(
                    "harness: FLUSHALL before the case replied {:?}; case not run",
                    String::from_utf8_lossy(&flushed)
                )),
                harness_error: None,
            });
        }
        let mut problems: Vec<String> = Vec::new();
        let mut saved: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        for p in case.config_params_set() {
            let reply = self.admin(&[b"CONFIG", b"GET", &p])?;
            match resp::bulk_strings(&reply).as_deref() {
                Some([name, value]) => saved.push((name.clone(), value.clone())),
                // Not a parameter this server knows: the case's CONFIG SET fails and changes nothing.
                Some([]) => {}
                _ => problems.push(format!(
                    "harness: CONFIG GET {} (to restore it after the case) replied {:?}",
                    String::from_utf8_lossy(&p),
                    String::from_utf8_lossy(&reply)
                )),
            }
        }

        if case.touches_acl() {
            self.admin(&[b"ACL", b"LOG", b"RESET"])?;
        }

        let mut run = self.run_steps(case)?;

        if case.pauses_clients() {
            let reply = self.admin(&[b"CLIENT", b"UNPAUSE"])?;
            if reply != b"+OK\r\n" {
                problems.push(format!(
                    "harness: CLIENT UNPAUSE after the case replied {:?}",
                    String::from_utf8_lossy(&reply)
                ));
            }
        }
        for (name, value) in &saved {
            // Only parameters that really changed are set back (immutable ones cannot be set at all).
            let now = self.admin(&[b"CONFIG", b"GET", name])?;
            if resp::bulk_strings(&now).as_deref() == Some(&[name.clone(), value.clone()][..]) {
                continue;
            }
            let reply = self.admin(&[b"CONFIG", b"SET", name, value])?;
            if reply != b"+OK\r\n" {
                problems.push(format!(
                    "harness: restoring {} after the case replied {:?}",
                    String::from_utf8_lossy(name),
                    String::from_utf8_lossy(&reply)
                ));
            }
        }
        if case.touches_acl() {
            self.reset_acl(&mut problems)?;
        }
        if !problems.is_empty() {
            run.harness_error = Some(problems.join("; "));
        }
        Ok(run)
    }

    /// Undoes a case's ACL changes: every user but `default` is deleted, `default` gets back its
    /// start-up rules, and the ACL log is emptied.
    fn reset_acl(&mut self, problems: &mut Vec<String>) -> Result<(), String> {
        let users = self.admin(&[b"ACL", b"USERS"])?;
        for name in resp::bulk_strings(&users).unwrap_or_default() {
            if name != b"default" {
                self.admin(&[b"ACL", b"DELUSER", &name])?;
            }
        }
        let reply = self.admin(&[
            b"ACL",
            b"SETUSER",
            b"default",
            b"on",
            b"nopass",
            b"allkeys",
            b"allchannels",
            b"allcommands",
            b"clearselectors",
        ])?;
        if reply != b"+OK\r\n" {
            problems.push(format!(
                "harness: resetting the default user replied {:?}",
                String::from_utf8_lossy(&reply)
            ));
        }
        self.admin(&[b"ACL", b"LOG", b"RESET"])?;
        Ok(())
    }

    /// Runs a case's steps on a new connection.
    fn run_steps(&mut self, case: &Case) -> Result<CaseRun, String> {
        let mut run = CaseRun::default();
        let mut conn = match Conn::connect(&self.addr) {
            Ok(c) => c,
            Err(e) => {
                run.setup_error = Some(format!("cannot connect to {}: {e}", self.addr));
                return Ok(run);
            }
        };
        if case.options.proto == 3 {
            let hello = resp::encode_command(&[b"HELLO".to_vec(), b"3".to_vec()]);
            let io = |e: std::io::Error| format!("HELLO 3: {e}");
            let sent = conn.send(&hello).map_err(io)?;
            let (bytes, end) = conn.read_elements(1, REPLY_TIMEOUT).map_err(io)?;
            if !sent || end != End::Complete || !bytes.starts_with(b"%") {
                run.setup_error = Some(format!(
                    "`HELLO 3` before the case did not reply with a map: {:?} ({end:?})",
                    String::from_utf8_lossy(&bytes)
                ));
                return Ok(run);
            }
        }
        for (i, step) in case.steps.iter().enumerate() {
            let last = i + 1 == case.steps.len();
            let observed = self
                .run_step(&mut conn, step, last)
                .map_err(|e| format!("I/O error in case {}: {e}", case.name))?;
            run.observed.push(observed);
        }
        Ok(run)
    }

    /// Sends one step and collects what came back, the way the mode requires.
    fn run_step(&self, conn: &mut Conn, step: &Step, last: bool) -> std::io::Result<Observed> {
        let mut obs = Observed::default();
        if conn.is_closed() || !conn.send(&step.send.wire_bytes())? {
            obs.reply.closed = true;
            return Ok(obs);
        }
        match self.mode {
            Mode::Record => {
                let (bytes, end) = match step.send {
                    Send::Command(_) => conn.read_elements(1, RECORD_REPLY_TIMEOUT)?,
                    Send::Raw(_) => conn.read_until_idle(RECORD_RAW_IDLE)?,
                };
                // A reply that started but did not finish is a problem, not "no reply".
                // (A raw write's reply always ends with a quiet period, so only commands are checked.)
                let is_command = matches!(step.send, Send::Command(_));
                obs.timed_out = end == End::Malformed || (is_command && end == End::TimedOut && !bytes.is_empty());
                obs.reply.bytes = bytes;
                match end {
                    End::Closed => obs.reply.closed = true,
                    End::Malformed => {}
                    End::Complete | End::TimedOut => {
                        let (extra, closed) = conn.wait_closed(RECORD_CLOSE_WAIT)?;
                        obs.reply.bytes.extend(extra);
                        obs.reply.closed = closed;
                    }
                }
            }
            Mode::Replay => {
                let expected = step.expected.clone().unwrap_or_default();
                let (bytes, end) = if expected.bytes.is_empty() {
                    // Nothing expected: watch briefly for anything unwanted.
                    let wait = if expected.closed { CLOSE_TIMEOUT } else { NO_REPLY_WAIT };
                    let (bytes, closed) = conn.wait_closed(wait)?;
                    (bytes, if closed { End::Closed } else { End::Complete })
                } else {
                    match expected_element_count(&expected.bytes) {
                        Some(n) => conn.read_elements(n, REPLY_TIMEOUT)?,
                        None => conn.read_len(expected.bytes.len(), REPLY_TIMEOUT)?,
                    }
                };
                obs.reply.bytes = bytes;
                match end {
                    End::Closed => obs.reply.closed = true,
                    End::TimedOut => obs.timed_out = true,
                    End::Malformed => {}
                    End::Complete => {
                        let wait = if expected.closed {
                            CLOSE_TIMEOUT
                        } else if last {
                            Duration::from_millis(1)
                        } else {
                            Duration::ZERO
                        };
                        if !wait.is_zero() {
                            let (extra, closed) = conn.wait_closed(wait)?;
                            obs.reply.bytes.extend(extra);
                            obs.reply.closed = closed;
                        }
                    }
                }
            }
        }
        Ok(obs)
    }
}

/// How many replies a replay reads for an expected byte string: the number of RESP elements it holds,
/// with a trailing part that is not RESP (a mask replaced a length, say) counting as one more. `None`
/// when nothing in it parses, so the replay reads by length instead.
fn expected_element_count(bytes: &[u8]) -> Option<usize> {
    let (elements, rest) = resp::split_elements(bytes);
    match (elements.len(), rest) {
        (0, Some(_)) => {
            // Masked framing: a reply starting with a type byte is still one reply.
            matches!(
                bytes[0],
                b'+' | b'-' | b':' | b'$' | b'*' | b'%' | b'~' | b'_' | b',' | b'#' | b'(' | b'!' | b'=' | b'|' | b'>'
            )
            .then_some(1)
        }
        (n, Some(_)) => Some(n + 1),
        (n, None) => Some(n),
    }
}
