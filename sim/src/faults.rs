//! The nemesis: faults injected while the clients run.
//!
//! Every [`Nemesis::step`] waits a random 50–400 ms of simulated time, then injects one fault, heals it
//! after a while, and returns:
//!
//! - **clog a link** between one client and the server, both directions, for 50 ms – 2.5 s. Data is held,
//!   not lost: it is delivered when the link unclogs, so a request the client gave up on (after
//!   [`crate::workload::REPLY_TIMEOUT`]) may still run later;
//! - **partition the server** from every client (all its links clogged) for 50 ms – 2.5 s;
//! - **kill a client node** mid-command and restart it 50–500 ms later (its in-flight commands never
//!   complete; the restarted client continues under new process numbers);
//! - **crash the server** and restart it 50–1000 ms later. keel has no persistence yet, so the restarted
//!   server is empty: the crash is recorded as a `restart` event in the history and operations invoked
//!   after it are checked as a new epoch from an empty keyspace. At most [`MAX_SERVER_CRASHES`] per run;
//! - **make the network lossy** for 200 ms – 3 s: every packet is lost with probability 5–30% and
//!   takes 1–30 ms. In madsim's TCP a lost segment is not lost data: the sender retries the link with
//!   exponential backoff (1 ms, 2 ms, ... up to 10 s) and delivers in order, like TCP retransmission,
//!   so loss shows as stalls; a connection attempt that is lost is refused;
//! - **slow the network** for 200 ms – 3 s: every packet takes 1–300 ms (jitter; order within a
//!   connection is kept);
//! - **jump the clock** forward by 100 ms – 3 s on every node at once (`madsim::time::advance`), so keys
//!   with a TTL expire between one command and the next, and timers (cron, client timeouts) fire late.

use std::time::Duration;

use madsim::net::NetSim;
use madsim::rand::{thread_rng, Rng};
use madsim::runtime::Handle;
use madsim::task::NodeId;

use crate::{now_us, Shared};

/// Server crashes per run, at most.
pub const MAX_SERVER_CRASHES: usize = 2;

/// Injects faults into one run and keeps a log of them.
pub struct Nemesis {
    server: NodeId,
    clients: Vec<NodeId>,
    crashes: usize,
    /// One line per fault, with the simulated time it started.
    pub log: Vec<String>,
}

impl Nemesis {
    /// A nemesis for a server node and its client nodes.
    pub fn new(server: NodeId, clients: Vec<NodeId>) -> Nemesis {
        Nemesis {
            server,
            clients,
            crashes: 0,
            log: Vec::new(),
        }
    }

    fn sleep_ms(range: std::ops::Range<u64>) -> madsim::time::Sleep {
        let ms = thread_rng().gen_range(range);
        madsim::time::sleep(Duration::from_millis(ms))
    }

    /// Waits a little, then injects one random fault and heals it.
    pub async fn step(&mut self, shared: &Shared) {
        Self::sleep_ms(50..400).await;
        if shared.finished() {
            return;
        }
        let net = NetSim::current();
        let handle = Handle::current();
        let client = self.clients[thread_rng().gen_range(0..self.clients.len())];
        let t = now_us();
        match thread_rng().gen_range(0..100) {
            0..=21 => {
                self.log.push(format!("{t} clog link {client} <-> server"));
                net.clog_link(client, self.server);
                net.clog_link(self.server, client);
                Self::sleep_ms(50..2500).await;
                net.unclog_link(client, self.server);
                net.unclog_link(self.server, client);
            }
            22..=33 => {
                self.log.push(format!("{t} partition the server"));
                net.clog_node(self.server);
                Self::sleep_ms(50..2500).await;
                net.unclog_node(self.server);
            }
            34..=53 => {
                self.log.push(format!("{t} kill {client}"));
                handle.kill(client);
                Self::sleep_ms(50..500).await;
                handle.restart(client);
            }
            54..=66 if self.crashes < MAX_SERVER_CRASHES => {
                self.crashes += 1;
                self.log.push(format!("{t} crash the server"));
                // Recorded before the kill: every operation invoked after this line reaches the new,
                // empty server (or fails).
                shared.history().restart(t);
                handle.kill(self.server);
                Self::sleep_ms(50..1000).await;
                handle.restart(self.server);
            }
            67..=76 => {
                let loss = thread_rng().gen_range(5..=30);
                self.log
                    .push(format!("{t} lossy network: {loss}% packet loss, 1-30 ms latency"));
                net.update_config(|c| {
                    c.packet_loss_rate = f64::from(loss) / 100.0;
                    c.send_latency = Duration::from_millis(1)..Duration::from_millis(30);
                });
                Self::sleep_ms(200..3000).await;
                net.update_config(|c| *c = madsim::net::Config::default());
            }
            77..=86 => {
                self.log.push(format!("{t} slow network: 1-300 ms latency"));
                net.update_config(|c| c.send_latency = Duration::from_millis(1)..Duration::from_millis(300));
                Self::sleep_ms(200..3000).await;
                net.update_config(|c| *c = madsim::net::Config::default());
            }
            _ => {
                let ms = thread_rng().gen_range(100..3000);
                self.log.push(format!("{t} clock jumps {ms} ms"));
                madsim::time::advance(Duration::from_millis(ms));
            }
        }
    }

    /// Heals any network fault left (none is left by [`Nemesis::step`]; this is a safety net).
    pub fn heal(&self) {
        let net = NetSim::current();
        net.update_config(|c| *c = madsim::net::Config::default());
        net.unclog_node(self.server);
        for &c in &self.clients {
            net.unclog_link(c, self.server);
            net.unclog_link(self.server, c);
        }
    }
}
