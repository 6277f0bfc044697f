//! keel-net: the tokio shell that drives `keel_core` in production.
//!
//! Owns sockets (TCP and Unix), the per-connection loop, timers, signals, configuration loading and the
//! `keel-server` binary. Command semantics never live here: this crate moves bytes and time into core and
//! carries core's effects out.

pub mod alloc;
pub mod aof;
pub mod config_file;
pub mod conn;
pub mod persistence;
pub mod server;
pub mod storage;
pub mod tls;

pub use server::{Bound, Shared};

#[cfg(not(madsim))]
pub use test_server::TestServer;

/// The in-process server for tests. Not under the simulator, which has no blocking runtime: keel-sim
/// starts servers on simulated nodes with [`Bound::bind_with`] and [`Bound::run`] instead.
#[cfg(not(madsim))]
mod test_server {
    use std::io;
    use std::sync::Arc;
    use std::thread::JoinHandle;

    use crate::{config_file, Bound, Shared};

    /// A keel server running on its own thread and runtime, for tests and embedding. It listens on an
    /// ephemeral loopback port unless the arguments say otherwise, and stops when dropped.
    pub struct TestServer {
        port: u16,
        tls_port: u16,
        shared: Arc<Shared>,
        thread: Option<JoinHandle<()>>,
    }

    impl TestServer {
        /// Starts a server configured by `args` (`--name value` options, as on the command line).
        pub fn start(args: &[&str]) -> io::Result<TestServer> {
            Self::start_with_storage(args, None)
        }

        /// Like [`TestServer::start`], with data files going through `storage` when given (a disk that
        /// fails on demand). Loads the snapshot file before listening; a corrupt one is an error.
        pub fn start_with_storage(
            args: &[&str],
            storage: Option<Arc<dyn crate::storage::Storage>>,
        ) -> io::Result<TestServer> {
            // No save points unless asked: a test server must not write snapshots into the working directory.
            let mut all: Vec<String> = vec![
                "--port".into(),
                "0".into(),
                "--bind".into(),
                "127.0.0.1".into(),
                "--save".into(),
                "".into(),
            ];
            all.extend(args.iter().map(|s| s.to_string()));
            let (config, _) = config_file::load(&all).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            let mut bound = runtime.block_on(Bound::bind_with(config, None, true))?;
            if let Some(storage) = storage {
                bound = bound.with_storage(storage);
            }
            bound.load().map_err(io::Error::other)?;
            let port = bound.port();
            let tls_port = bound.tls_port();
            let shared = bound.shared();
            let thread = std::thread::Builder::new()
                .name("keel-test-server".into())
                .spawn(move || runtime.block_on(bound.run()))?;
            Ok(TestServer {
                port,
                tls_port,
                shared,
                thread: Some(thread),
            })
        }

        /// The TCP port the server listens on.
        pub fn port(&self) -> u16 {
            self.port
        }

        /// The TLS port (0 unless `--tls-port` was given).
        pub fn tls_port(&self) -> u16 {
            self.tls_port
        }

        /// The server's shared state (connection counts, the core).
        pub fn shared(&self) -> &Arc<Shared> {
            &self.shared
        }

        /// `127.0.0.1:<port>`.
        pub fn addr(&self) -> String {
            format!("127.0.0.1:{}", self.port)
        }
    }

    impl Drop for TestServer {
        fn drop(&mut self) {
            self.shared.begin_shutdown();
            if let Some(t) = self.thread.take() {
                let _ = t.join();
            }
        }
    }
}
