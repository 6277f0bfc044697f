//! `keel-server`: starts keel with embedded defaults, an optional redis.conf-style file and
//! `--name value` overrides (`keel-server keel.conf --port 7000`).

use keel_net::alloc::CountingAllocator;
#[cfg(not(madsim))]
use keel_net::{config_file, Bound};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Under `--cfg madsim` (keel-sim) the binary is not used: the simulator runs servers on simulated nodes,
/// and a blocking runtime and signals do not exist there.
#[cfg(madsim)]
fn main() -> std::process::ExitCode {
    eprintln!("keel-server is not built to run under the simulator (--cfg madsim); see keel-sim");
    std::process::ExitCode::FAILURE
}

#[cfg(not(madsim))]
fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-v" || a == "--version") {
        println!(
            "keel-server v={} (redis compatibility {})",
            keel_core::KEEL_VERSION,
            keel_core::COMPAT_VERSION
        );
        return std::process::ExitCode::SUCCESS;
    }
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("Usage: keel-server [/path/to/keel.conf] [--name value ...]");
        println!("Example: keel-server --port 7000 --bind 127.0.0.1");
        return std::process::ExitCode::SUCCESS;
    }
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("KEEL_LOG").unwrap_or_else(|_| "info".into()))
        .init();
    let (config, config_file) = match config_file::load(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let threads = config.get_i64("io-threads").max(1) as usize;
    // One thread: the current-thread scheduler runs every task on this thread, so a request costs no
    // hand-off between a worker and the I/O driver and no cross-thread wake-up. More threads: the
    // multi-threaded scheduler with that many workers.
    let built = if threads == 1 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
    };
    let runtime = match built {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let bound = match Bound::bind(config, config_file).await {
            Ok(b) => b,
            Err(e) => {
                tracing::error!("{e}");
                return std::process::ExitCode::FAILURE;
            }
        };
        if let Err(e) = bound.load() {
            tracing::error!("{e}");
            eprintln!("keel-server: refusing to start: {e}");
            return std::process::ExitCode::FAILURE;
        }
        let shared = bound.shared();
        tracing::info!(
            port = bound.port(),
            pid = std::process::id(),
            "keel {} ready to accept connections",
            keel_core::KEEL_VERSION
        );
        tokio::spawn(async move {
            let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return,
            };
            loop {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => tracing::warn!("Received SIGINT scheduling shutdown..."),
                    _ = term.recv() => tracing::warn!("Received SIGTERM scheduling shutdown..."),
                }
                // With save points configured the data is saved first; if that fails keel keeps
                // running, like the reference server.
                if keel_net::persistence::final_save(&shared).await {
                    break;
                }
                tracing::warn!(
                    "SIGTERM received but errors trying to shut down the server, check the logs for more information"
                );
            }
            shared.begin_shutdown();
        });
        bound.run().await;
        std::process::ExitCode::SUCCESS
    })
}
