//! Simulation of the append-only file on a faulty disk: the real keel server with `appendonly yes` on a
//! simulated node whose storage ([`keel_sim::disk::SimDisk`]) fails writes (some torn) and fsyncs, and
//! loses unsynced data when the nemesis crashes the node; one client writes while the server crashes and
//! restarts.
//!
//! The check. The client sends `SET k<i mod KEYS> <i>` one at a time, i = 0, 1, 2, ...; every write
//! that may have run (acknowledged, or without a reply) is appended to the *history*; a write refused
//! with MISCONF did not run and is not. Whenever the client (re)connects, it reads every key and finds
//! the length p of the history prefix whose replay gives exactly those values (values are unique, so at
//! most one p fits). It fails when no prefix fits (data from a hole or out of order), and under
//! `appendfsync always` also when p is shorter than the history up to its last acknowledged write (an
//! acknowledged write was lost). Under `everysec` and `no`, losing a suffix at a crash is allowed. The
//! history is then cut to p, since what was lost is gone for good, and writing continues.
//!
//! Run with `scripts/sim`; a failure prints the seed and the command that replays it.

#![cfg(madsim)]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use keel_jepsen::Value;
use keel_sim::disk::{DiskFaults, SimDisk};
use keel_sim::resp::{encode, Conn};
use keel_sim::{replay_command, server_addr, SERVER_IP};
use madsim::rand::{thread_rng, Rng};
use madsim::runtime::Handle;

/// Keys written.
const KEYS: usize = 6;
/// Writes per run.
const WRITES: usize = 250;

/// The observer's notebook, outside the simulated nodes.
#[derive(Default)]
struct Notebook {
    /// Writes that may have run, in order: (key index, value).
    history: Vec<(usize, u64)>,
    /// Length of the history up to and including its last acknowledged write.
    acked: usize,
    /// Writes sent so far.
    sent: usize,
    /// Checks made, and how many found a lost suffix.
    checks: usize,
    losses: usize,
    /// A failed check.
    failure: Option<String>,
    done: bool,
}

fn argv(parts: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    encode(
        &parts.iter().map(|p| p.as_bytes().to_vec()).collect::<Vec<_>>(),
        &mut out,
    );
    out
}

/// The values after replaying `history[..p]`.
fn state_after(history: &[(usize, u64)], p: usize) -> Vec<Option<u64>> {
    let mut state = vec![None; KEYS];
    for &(k, v) in &history[..p] {
        state[k] = Some(v);
    }
    state
}

/// Reads every key; `None` when the connection failed.
async fn read_all(conn: &mut Conn) -> Option<Vec<Option<u64>>> {
    let mut out = Vec::new();
    for k in 0..KEYS {
        conn.send(&argv(&["GET", &format!("k{k}")])).await.ok()?;
        let reply = madsim::time::timeout(Duration::from_secs(2), conn.read())
            .await
            .ok()?
            .ok()?;
        out.push(match reply {
            Value::Bulk(b) => Some(String::from_utf8_lossy(&b).parse().ok()?),
            Value::Nil => None,
            _ => return None,
        });
    }
    Some(out)
}

/// The check described at the top, after a (re)connection.
fn check(book: &mut Notebook, observed: &[Option<u64>], always: bool) {
    book.checks += 1;
    let fits: Vec<usize> = (0..=book.history.len())
        .rev()
        .filter(|&p| state_after(&book.history, p) == observed)
        .collect();
    let Some(&p) = fits.first() else {
        book.failure = Some(format!(
            "the data {observed:?} is no prefix of the {} writes that may have run",
            book.history.len()
        ));
        return;
    };
    if always && p < book.acked {
        book.failure = Some(format!(
            "under appendfsync always, acknowledged writes were lost: the data is the prefix of {p} writes, \
             but {} had been acknowledged",
            book.acked
        ));
        return;
    }
    if p < book.history.len() {
        book.losses += 1;
    }
    book.history.truncate(p);
    book.acked = book.acked.min(p);
}

/// The client node: connect, check, write until the connection breaks; repeat.
async fn client(book: Arc<Mutex<Notebook>>, always: bool) {
    loop {
        let Ok(mut conn) = Conn::connect(server_addr()).await else {
            madsim::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        let Some(observed) = read_all(&mut conn).await else {
            continue;
        };
        {
            let mut b = book.lock().unwrap();
            check(&mut b, &observed, always);
            // Done after a check that followed every write (and at least one crash after the last).
            if b.failure.is_some() || b.sent >= WRITES {
                b.done = true;
                return;
            }
        }
        loop {
            let i = {
                let mut b = book.lock().unwrap();
                if b.sent >= WRITES {
                    break;
                }
                let i = b.sent;
                b.sent += 1;
                // Recorded before sending: it may run even if no reply comes back.
                b.history.push((i % KEYS, i as u64));
                i
            };
            if conn
                .send(&argv(&["SET", &format!("k{}", i % KEYS), &i.to_string()]))
                .await
                .is_err()
            {
                break;
            }
            match madsim::time::timeout(Duration::from_secs(2), conn.read()).await {
                Ok(Ok(Value::Ok)) => {
                    let mut b = book.lock().unwrap();
                    b.acked = b.history.len();
                }
                Ok(Ok(Value::Err(e))) if e.starts_with(b"MISCONF") => {
                    // Refused before running: not part of what may have run.
                    book.lock().unwrap().history.pop();
                    madsim::time::sleep(Duration::from_millis(30)).await;
                }
                Ok(Ok(other)) => {
                    let mut b = book.lock().unwrap();
                    b.failure = Some(format!("unexpected reply to SET: {other:?}"));
                    b.done = true;
                    return;
                }
                // No reply: the write may or may not have run; it stays in the history.
                _ => break,
            }
            let pause = thread_rng().gen_range(0..4);
            madsim::time::sleep(Duration::from_millis(pause)).await;
        }
        if book.lock().unwrap().sent >= WRITES {
            // Wait for the next crash to check what survives it.
            let _ = conn.read().await;
        }
    }
}

/// One run under `policy`: crashes every 100–600 ms of simulated time, disk faults throughout.
async fn run(policy: &'static str, test: &str) {
    let handle = Handle::current();
    let seed = handle.seed();
    let disk = SimDisk::new();
    disk.set_faults(DiskFaults {
        write_error: 0.02,
        torn_write: 0.5,
        sync_error: 0.02,
    });
    let node_disk = disk.clone();
    let server = handle
        .create_node()
        .name("keel")
        .ip(SERVER_IP)
        .init(move || {
            let disk = node_disk.clone();
            async move {
                // Only the append-only file is under test (server_config turns snapshots off).
                let config =
                    keel_sim::server_config(&["--dir", "/data", "--appendonly", "yes", "--appendfsync", policy]);
                let bound = keel_net::Bound::bind(config, None)
                    .await
                    .expect("bind")
                    .with_storage(Arc::new(disk));
                bound.run().await;
            }
        })
        .build();
    let book = Arc::new(Mutex::new(Notebook::default()));
    let client_book = book.clone();
    handle
        .create_node()
        .name("client")
        .ip(IpAddr::V4(Ipv4Addr::new(10, 0, 1, 1)))
        .init(move || client(client_book.clone(), policy == "always"))
        .build();
    let mut crashes = 0;
    let deadline = madsim::time::Instant::now() + Duration::from_secs(300);
    while !book.lock().unwrap().done {
        assert!(
            madsim::time::Instant::now() < deadline,
            "seed {seed}: no progress within 300 simulated seconds; disk faults: {:?}\nreplay: {}",
            disk.log(),
            replay_command(seed, test)
        );
        let wait = thread_rng().gen_range(100..600);
        madsim::time::sleep(Duration::from_millis(wait)).await;
        if !book.lock().unwrap().done {
            handle.kill(server.id());
            disk.crash();
            crashes += 1;
            madsim::time::sleep(Duration::from_millis(thread_rng().gen_range(10..200))).await;
            handle.restart(server.id());
        }
    }
    let b = book.lock().unwrap();
    if let Some(f) = &b.failure {
        panic!(
            "seed {seed}: {f}\ndisk faults and crashes: {:#?}\nreplay: {}",
            disk.log(),
            replay_command(seed, test)
        );
    }
    eprintln!(
        "seed {seed} ({policy}): {} writes, {crashes} crashes, {} checks ({} found a lost suffix), {} disk faults",
        b.sent,
        b.checks,
        b.losses,
        disk.log().len()
    );
}

#[madsim::test]
async fn always_keeps_every_acknowledged_write() {
    run("always", "persistence always_keeps_every_acknowledged_write").await;
}

#[madsim::test]
async fn everysec_keeps_a_prefix() {
    run("everysec", "persistence everysec_keeps_a_prefix").await;
}

#[madsim::test]
async fn no_fsync_keeps_a_prefix() {
    run("no", "persistence no_fsync_keeps_a_prefix").await;
}
