//! Starting the reference server (a real `redis-server`) for recording and for the coverage report.
//!
//! The server gets a free loopback port, a scratch directory, and a clean configuration that persists
//! nothing: `--save "" --appendonly no --dir <tmpdir> --enable-debug-command yes`. It is stopped and its
//! directory removed when the [`ReferenceServer`] is dropped.

use std::io;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::conn::{Conn, End};
use crate::resp;

/// Environment variable naming the `redis-server` binary to record from (default: `redis-server` on
/// `PATH`).
pub const SERVER_BIN_ENV: &str = "KEEL_COMPAT_REDIS_SERVER";

/// A running `redis-server` child process.
pub struct ReferenceServer {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl ReferenceServer {
    /// Starts the server and waits until it answers `PING`.
    pub fn start() -> io::Result<ReferenceServer> {
        ReferenceServer::start_with(&[])
    }

    /// Starts the server with `extra` options after the defaults (a later option wins, so `--dir` and
    /// `--dbfilename` here make it load that file at start-up), and waits until it answers `PING`.
    pub fn start_with(extra: &[&str]) -> io::Result<ReferenceServer> {
        let bin = std::env::var(SERVER_BIN_ENV).unwrap_or_else(|_| "redis-server".to_string());
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!("keel-compat-redis-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let port = free_port()?;
        let child = Command::new(&bin)
            .arg("--port")
            .arg(port.to_string())
            .args(["--bind", "127.0.0.1"])
            .args(["--save", ""])
            .args(["--appendonly", "no"])
            .arg("--dir")
            .arg(&dir)
            .args(["--enable-debug-command", "yes"])
            .args(["--daemonize", "no"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("cannot start {bin}: {e}")))?;
        let mut server = ReferenceServer { child, port, dir };
        server.wait_ready()?;
        Ok(server)
    }

    /// The port the server listens on (on 127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:<port>`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The scratch directory given as `--dir` by default (where `SAVE` writes `dump.rdb`).
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// Polls until `PING` answers `+PONG`, for up to ten seconds.
    fn wait_ready(&mut self) -> io::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                return Err(io::Error::other(format!(
                    "redis-server exited during start-up: {status}"
                )));
            }
            if let Ok(mut conn) = Conn::connect(&self.addr()) {
                let ping = resp::encode_command(&[b"PING".to_vec()]);
                if conn.send(&ping)? {
                    let (reply, end) = conn.read_elements(1, Duration::from_secs(1))?;
                    if end == End::Complete && reply == b"+PONG\r\n" {
                        return Ok(());
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "redis-server did not answer PING within 10s",
        ))
    }
}

impl Drop for ReferenceServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A loopback port that was free a moment ago (the OS picks it; it is released before the server binds).
fn free_port() -> io::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}
