//! Starting and stopping the servers under test as real processes on free loopback ports.
//!
//! Owns the equivalent configurations (no persistence, no memory limit, loopback only) and the wait until
//! a server answers PING. It must never leave a server running: [`ServerProcess`] kills its process when
//! dropped.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Which server, and how it is configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// redis-server, the reference.
    Redis,
    /// keel-server with this many runtime threads.
    Keel { threads: usize },
}

impl Flavor {
    /// A short label for tables: `redis`, `keel-t1`, `keel-t2`...
    pub fn label(&self) -> String {
        match self {
            Flavor::Redis => "redis".into(),
            Flavor::Keel { threads } => format!("keel-t{threads}"),
        }
    }
}

impl fmt::Display for Flavor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

/// Where the server binaries are.
#[derive(Clone, Debug)]
pub struct Binaries {
    pub keel: PathBuf,
    pub redis: PathBuf,
}

/// A running server. Killed when dropped.
pub struct ServerProcess {
    pub flavor: Flavor,
    pub port: u16,
    child: Child,
    log: PathBuf,
}

/// How long a server may take to answer its first PING.
const START_TIMEOUT: Duration = Duration::from_secs(20);

impl ServerProcess {
    /// Starts `flavor` on a free loopback port, with its log and working files in `scratch`, and waits
    /// until it answers PING.
    pub fn start(flavor: &Flavor, binaries: &Binaries, scratch: &Path) -> io::Result<ServerProcess> {
        std::fs::create_dir_all(scratch)?;
        let port = free_port()?;
        let log = scratch.join(format!("{}-{port}.log", flavor.label()));
        let (binary, args) = match flavor {
            Flavor::Redis => (&binaries.redis, redis_args(port, scratch)),
            Flavor::Keel { threads } => (&binaries.keel, keel_args(port, *threads)),
        };
        let log_file = std::fs::File::create(&log)?;
        let child = Command::new(binary)
            .args(&args)
            .current_dir(scratch)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("cannot start {}: {e}", binary.display())))?;
        let mut server = ServerProcess {
            flavor: flavor.clone(),
            port,
            child,
            log,
        };
        server.wait_ready()?;
        Ok(server)
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `127.0.0.1:<port>`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Sends one command and returns its reply, which must fit on one line (`+PONG`, `:42`, `-ERR ..`).
    pub fn command(&self, words: &[&str]) -> io::Result<String> {
        let mut stream = TcpStream::connect(self.addr())?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut req = format!("*{}\r\n", words.len());
        for w in words {
            req.push_str(&format!("${}\r\n{w}\r\n", w.len()));
        }
        stream.write_all(req.as_bytes())?;
        let mut reply = Vec::new();
        let mut buf = [0u8; 512];
        while !reply.ends_with(b"\r\n") {
            let n = stream.read(&mut buf)?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed before the reply",
                ));
            }
            reply.extend_from_slice(&buf[..n]);
        }
        Ok(String::from_utf8_lossy(&reply[..reply.len() - 2]).into_owned())
    }

    /// Polls with PING until the server answers `PONG`, fails if the process exits first or the start-up
    /// timeout passes.
    fn wait_ready(&mut self) -> io::Result<()> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Err(io::Error::other(format!(
                    "{} exited during start-up ({status}); log:\n{}",
                    self.flavor,
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                )));
            }
            if self.command(&["PING"]).is_ok_and(|r| r == "+PONG") {
                return Ok(());
            }
            if start.elapsed() > START_TIMEOUT {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("{} did not answer PING within {START_TIMEOUT:?}", self.flavor),
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The reference server: loopback only, no RDB snapshots, no AOF, no memory limit.
pub fn redis_args(port: u16, dir: &Path) -> Vec<String> {
    let mut args = common_args(port);
    args.extend(["--save", "", "--appendonly", "no", "--dir", &dir.display().to_string()].map(String::from));
    args
}

/// keel: the same settings (persistence off, so neither server spends time saving during a run), and
/// `--threads` for its runtime threads. It runs in the scratch directory, so nothing lands elsewhere.
pub fn keel_args(port: u16, threads: usize) -> Vec<String> {
    let mut args = common_args(port);
    args.extend(["--save", "", "--appendonly", "no"].map(String::from));
    args.extend(["--threads".to_string(), threads.to_string()]);
    args
}

/// What both servers get: the port, loopback only, and no memory limit.
fn common_args(port: u16) -> Vec<String> {
    ["--port", &port.to_string(), "--bind", "127.0.0.1", "--maxmemory", "0"]
        .map(String::from)
        .to_vec()
}

/// A loopback TCP port nobody listens on right now (the kernel picks it; it stays free until the server
/// binds it unless another process grabs it in between, which start-up then reports).
pub fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
