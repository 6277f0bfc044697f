//! Transactions: MULTI, EXEC, DISCARD, WATCH and UNWATCH, and the registry of watched keys.
//!
//! Owns the rules of optimistic transactions. While a client is in `MULTI`, dispatch (`Server::execute`)
//! queues its commands instead of running them and flags the transaction when a command cannot be queued;
//! `EXEC` runs the queue back to back under the one core lock, so nothing else interleaves. `WATCH`
//! records keys in [`Watches`]; every command that changes a key calls `Server::signal_modified`, which
//! marks the clients watching it, and `EXEC` of a marked client replies with a null array.

use bytes::Bytes;
use hashbrown::HashMap;

use super::{CmdResult, CommandError, Ctx, Registry};
use crate::client::ClientId;
use crate::keyspace::Db;

/// Registers the family's handlers.
pub fn register(r: &mut Registry) {
    r.add("multi", multi);
    r.add("exec", exec);
    r.add("discard", discard);
    r.add("watch", watch);
    r.add("unwatch", unwatch);
}

/// The reply of `EXEC` after a command could not be queued.
pub const EXEC_ABORT: &str = "EXECABORT Transaction discarded because of previous errors.";

/// True for the commands that run at once even inside `MULTI` instead of being queued.
pub fn runs_in_multi(name: &str) -> bool {
    matches!(name, "exec" | "discard" | "multi" | "watch" | "quit" | "reset")
}

/// One key a client watches.
#[derive(Clone, Debug)]
struct WatchedKey {
    db: usize,
    key: Box<[u8]>,
    /// The key had already expired (but was not yet removed) when it was watched: its later removal by
    /// expiry is no change.
    expired: bool,
}

/// What one client watches.
#[derive(Clone, Debug, Default)]
struct ClientWatch {
    keys: Vec<WatchedKey>,
    /// A watched key changed since it was watched: `EXEC` must fail.
    dirty: bool,
}

/// The registry of watched keys: key → watching clients, client → its keys and whether one changed.
#[derive(Debug, Default)]
pub struct Watches {
    by_key: HashMap<(usize, Box<[u8]>), Vec<ClientId>>,
    by_client: HashMap<ClientId, ClientWatch>,
}

impl Watches {
    /// True when no client watches anything.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// Starts watching `key` of `db` for `client` (again watching a watched key changes nothing).
    /// `expired` tells whether the key has expired but is still stored.
    pub fn watch(&mut self, client: ClientId, db: usize, key: &[u8], expired: bool) {
        let cw = self.by_client.entry(client).or_default();
        if cw.keys.iter().any(|w| w.db == db && &*w.key == key) {
            return;
        }
        cw.keys.push(WatchedKey {
            db,
            key: key.into(),
            expired,
        });
        self.by_key.entry((db, key.into())).or_default().push(client);
    }

    /// Forgets everything `client` watches and its dirty mark.
    pub fn unwatch_all(&mut self, client: ClientId) {
        let Some(cw) = self.by_client.remove(&client) else {
            return;
        };
        for w in cw.keys {
            let k = (w.db, w.key);
            if let Some(list) = self.by_key.get_mut(&k) {
                list.retain(|&c| c != client);
                if list.is_empty() {
                    self.by_key.remove(&k);
                }
            }
        }
    }

    /// True when a key `client` watches changed since it was watched.
    pub fn is_dirty(&self, client: ClientId) -> bool {
        self.by_client.get(&client).is_some_and(|c| c.dirty)
    }

    /// True when a key `client` watches, live when watched, has expired by `now_ms` (even if it is
    /// still stored).
    pub fn any_expired(&self, client: ClientId, dbs: &[Db], now_ms: i64) -> bool {
        self.by_client.get(&client).is_some_and(|cw| {
            cw.keys.iter().any(|w| {
                !w.expired
                    && dbs
                        .get(w.db)
                        .is_some_and(|d| d.peek(&w.key, now_ms).is_none() && d.is_stored(&w.key))
            })
        })
    }

    /// `key` of `db` changed; `exists` tells whether it is stored now. Marks the clients watching it.
    pub fn touch(&mut self, db: usize, key: &[u8], exists: bool) {
        let Some(clients) = self.by_key.get(&(db, Box::from(key))) else {
            return;
        };
        for id in clients {
            let Some(cw) = self.by_client.get_mut(id) else {
                continue;
            };
            let Some(w) = cw.keys.iter_mut().find(|w| w.db == db && &*w.key == key) else {
                continue;
            };
            if w.expired {
                if !exists {
                    // An already expired key was removed: logically nothing changed.
                    w.expired = false;
                    continue;
                }
                w.expired = false;
            }
            cw.dirty = true;
        }
    }

    /// The keys of `db` some client watches.
    pub fn keys_in(&self, db: usize) -> Vec<Box<[u8]>> {
        self.by_key
            .keys()
            .filter(|(d, _)| *d == db)
            .map(|(_, k)| k.clone())
            .collect()
    }
}

/// MULTI
fn multi(ctx: &mut Ctx<'_>) -> CmdResult {
    if ctx.client.multi.is_some() {
        return Err(CommandError::err("ERR MULTI calls can not be nested"));
    }
    ctx.client.multi = Some(Vec::new());
    ctx.client.multi_error = false;
    ctx.reply.ok();
    Ok(())
}

/// EXEC outside a transaction (inside one, dispatch runs the queue itself).
fn exec(_ctx: &mut Ctx<'_>) -> CmdResult {
    Err(CommandError::err("ERR EXEC without MULTI"))
}

/// DISCARD
fn discard(ctx: &mut Ctx<'_>) -> CmdResult {
    if ctx.client.multi.is_none() {
        return Err(CommandError::err("ERR DISCARD without MULTI"));
    }
    discard_transaction(ctx.server, ctx.client);
    ctx.reply.ok();
    Ok(())
}

/// Ends a client's transaction without running it, and forgets its watched keys.
pub fn discard_transaction(server: &mut crate::server::Server, client: &mut crate::client::ClientState) {
    client.multi = None;
    client.multi_error = false;
    server.unwatch_all(client.id);
}

/// WATCH key [key ...]
fn watch(ctx: &mut Ctx<'_>) -> CmdResult {
    if ctx.client.multi.is_some() {
        return Err(CommandError::err("ERR WATCH inside MULTI is not allowed"));
    }
    let db = ctx.client.db;
    let now = ctx.now_ms;
    for key in &ctx.argv[1..] {
        let d = &ctx.server.dbs[db];
        let expired = d.peek(key, now).is_none() && d.is_stored(key);
        ctx.server.watch_key(ctx.client.id, db, key, expired);
    }
    ctx.reply.ok();
    Ok(())
}

/// UNWATCH
fn unwatch(ctx: &mut Ctx<'_>) -> CmdResult {
    ctx.server.unwatch_all(ctx.client.id);
    ctx.reply.ok();
    Ok(())
}

/// Queues `argv` in the client's transaction.
pub fn queue(client: &mut crate::client::ClientState, argv: &[Bytes]) {
    if let Some(q) = client.multi.as_mut() {
        q.push(argv.to_vec());
    }
}

/// True when `client`'s queued transaction holds a write command (EXEC is refused as a write then).
pub fn queues_write(server: &crate::server::Server, client: &crate::client::ClientState) -> bool {
    client.multi.as_ref().is_some_and(|q| {
        q.iter()
            .any(|argv| matches!(server.registry.lookup(argv), crate::commands::Lookup::Found(spec, _) if spec.has_flag("write")))
    })
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use crate::client::ClientHandle;
    use crate::config::Config;
    use crate::server::{ProcessInfo, Server};

    fn connect(s: &mut Server) -> ClientHandle {
        crate::test_support::connect_loopback(s)
    }

    fn run_at(s: &mut Server, c: ClientHandle, line: &str, now_ms: i64) -> String {
        let argv: Vec<Bytes> = line.split(' ').map(|a| Bytes::copy_from_slice(a.as_bytes())).collect();
        let mut out = Vec::new();
        s.execute(c, &argv, now_ms * 1000, &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    fn run(s: &mut Server, c: ClientHandle, line: &str) -> String {
        run_at(s, c, line, 1_000)
    }

    fn server() -> Server {
        Server::new(Config::default(), 1, 0, ProcessInfo::default())
    }

    #[test]
    fn queue_exec_and_runtime_errors() {
        let mut s = server();
        let c = connect(&mut s);
        assert_eq!(run(&mut s, c, "MULTI"), "+OK\r\n");
        assert_eq!(run(&mut s, c, "SET k v"), "+QUEUED\r\n");
        assert_eq!(run(&mut s, c, "INCR k"), "+QUEUED\r\n");
        assert_eq!(run(&mut s, c, "WATCH k"), "-ERR WATCH inside MULTI is not allowed\r\n");
        assert_eq!(
            run(&mut s, c, "EXEC"),
            "*2\r\n+OK\r\n-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(run(&mut s, c, "EXEC"), "-ERR EXEC without MULTI\r\n");
    }

    #[test]
    fn queue_time_errors_abort() {
        let mut s = server();
        let c = connect(&mut s);
        run(&mut s, c, "MULTI");
        assert_eq!(run(&mut s, c, "MULTI"), "-ERR MULTI calls can not be nested\r\n");
        run(&mut s, c, "SET k v");
        assert_eq!(
            run(&mut s, c, "GET"),
            "-ERR wrong number of arguments for 'get' command\r\n"
        );
        assert_eq!(
            run(&mut s, c, "EXEC"),
            "-EXECABORT Transaction discarded because of previous errors.\r\n"
        );
        assert_eq!(run(&mut s, c, "GET k"), "$-1\r\n");
    }

    #[test]
    fn watch_sees_other_clients_flushes_and_expiry() {
        let mut s = server();
        let (a, b) = (connect(&mut s), connect(&mut s));
        let tx = |s: &mut Server, now| {
            run_at(s, a, "MULTI", now);
            run_at(s, a, "PING", now);
            run_at(s, a, "EXEC", now)
        };
        run(&mut s, a, "WATCH k");
        run(&mut s, b, "SET k v");
        assert_eq!(tx(&mut s, 1_000), "*-1\r\n");
        // Unrelated writes and failed conditional writes change nothing.
        run(&mut s, a, "WATCH k");
        run(&mut s, b, "SET other v");
        run(&mut s, b, "SET k w NX");
        assert_eq!(tx(&mut s, 1_000), "*1\r\n+PONG\r\n");
        // FLUSHALL of a stored watched key.
        run(&mut s, a, "WATCH k");
        run(&mut s, b, "FLUSHALL");
        assert_eq!(tx(&mut s, 1_000), "*-1\r\n");
        // Expiry: still stored at EXEC, then removed by the active cycle.
        run(&mut s, b, "SET k v PX 100");
        run(&mut s, a, "WATCH k");
        assert_eq!(tx(&mut s, 1_200), "*-1\r\n");
        run_at(&mut s, b, "SET k v PX 100", 2_000);
        run_at(&mut s, a, "WATCH k", 2_000);
        while !s.dbs[0].is_empty() {
            s.cron(3_000_000);
        }
        assert_eq!(tx(&mut s, 3_000), "*-1\r\n");
        // Nothing stays registered once clients are done or gone.
        run(&mut s, a, "WATCH k x");
        s.disconnect(a);
        assert!(s.watches.is_empty());
    }
}
