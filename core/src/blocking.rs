//! The registry of clients blocked on keys (BLPOP, BLMOVE, BZPOPMIN, ...).
//!
//! Owns who waits for which keys, in which order, until when, and the replies of clients that were
//! served or timed out but whose connection has not collected them yet. Nothing here reads a clock or
//! wakes anything: deadlines are absolute Unix milliseconds the shell times itself, and serving a client
//! produces its reply bytes plus an `Effect::Unblocked` that tells the shell to collect them.
//!
//! Waiters are kept per key in arrival order, so the client that blocked first on a key is served first.

use std::collections::VecDeque;

use bytes::Bytes;
use hashbrown::{HashMap, HashSet};

use crate::client::ClientId;
use crate::resp::Protocol;

/// An end of a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// The head.
    Left,
    /// The tail.
    Right,
}

/// What a blocked client does once one of its keys holds data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlockOp {
    /// BLPOP / BRPOP: pop one element.
    Pop(End),
    /// BLMOVE / BRPOPLPUSH: pop from the key at `from`, push onto `dst` at `to`.
    Move {
        /// The end popped from.
        from: End,
        /// The end pushed onto.
        to: End,
        /// The destination list.
        dst: Bytes,
        /// Asked as BRPOPLPUSH (propagated as RPOPLPUSH rather than LMOVE).
        rpoplpush: bool,
    },
    /// BLMPOP: pop up to `count` elements.
    MPop {
        /// The end popped from.
        end: End,
        /// The most elements to pop.
        count: usize,
    },
    /// BZPOPMIN / BZPOPMAX: pop one member.
    ZPop {
        /// True for the lowest score, false for the highest.
        min: bool,
    },
    /// BZMPOP: pop up to `count` members.
    ZMPop {
        /// True for the lowest scores, false for the highest.
        min: bool,
        /// The most members to pop.
        count: usize,
    },
    /// Waiting for the shell to finish file I/O on the client's behalf (`SAVE`, `ACL SAVE`): no keys, no
    /// deadline, not affected by `CLIENT UNBLOCK`; ended by `Server::finish_io`.
    Io,
}

impl BlockOp {
    /// True when the operation consumes lists, false for sorted sets.
    pub fn wants_list(&self) -> bool {
        matches!(self, BlockOp::Pop(_) | BlockOp::Move { .. } | BlockOp::MPop { .. })
    }

    /// True when the reply for "no data" inside a transaction is a null bulk string rather than a null
    /// array (the timeout reply is always the null array).
    pub fn null_bulk_on_timeout(&self) -> bool {
        matches!(self, BlockOp::Move { .. })
    }
}

/// One blocked client.
#[derive(Clone, Debug)]
pub struct BlockedClient {
    /// The database its keys are in.
    pub db: usize,
    /// The keys it waits on, in the order given.
    pub keys: Vec<Bytes>,
    /// When it times out, in Unix ms; `None` waits forever.
    pub deadline_ms: Option<i64>,
    /// What to do once served.
    pub op: BlockOp,
    /// The protocol its reply is written in.
    pub proto: Protocol,
    /// Commands that arrived after the blocking one in the same read, run once it is unblocked.
    pub deferred: Vec<Vec<Bytes>>,
    /// The client had replies switched off (`CLIENT REPLY OFF`/`SKIP`) when it blocked: its eventual reply
    /// is dropped, as the immediate one would have been.
    pub silent: bool,
}

/// A client that is no longer blocked but whose connection has not yet collected the outcome.
#[derive(Clone, Debug, Default)]
pub struct Finished {
    /// Its reply bytes.
    pub reply: Vec<u8>,
    /// Commands still to run after the reply.
    pub deferred: Vec<Vec<Bytes>>,
}

/// Blocked clients, per-key wait queues, keys that may serve someone, and finished replies.
#[derive(Debug, Default)]
pub struct BlockedClients {
    clients: HashMap<ClientId, BlockedClient>,
    by_key: HashMap<(usize, Box<[u8]>), VecDeque<ClientId>>,
    ready: VecDeque<(usize, Box<[u8]>)>,
    ready_set: HashSet<(usize, Box<[u8]>)>,
    finished: HashMap<ClientId, Finished>,
}

impl BlockedClients {
    /// Number of blocked clients (`INFO clients` `blocked_clients`).
    pub fn len(&self) -> usize {
        self.clients.len()
    }

    /// True when nobody is blocked.
    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }

    /// True when `id` is blocked (and not yet served).
    pub fn is_blocked(&self, id: ClientId) -> bool {
        self.clients.contains_key(&id)
    }

    /// Blocks `id` on the keys of `b`.
    pub fn block(&mut self, id: ClientId, b: BlockedClient) {
        for key in &b.keys {
            let queue = self.by_key.entry((b.db, key.as_ref().into())).or_default();
            // A key named twice queues the client once.
            if !queue.contains(&id) {
                queue.push_back(id);
            }
        }
        self.clients.insert(id, b);
    }

    /// The blocked client `id`.
    pub fn get(&self, id: ClientId) -> Option<&BlockedClient> {
        self.clients.get(&id)
    }

    /// Replaces the commands `id` runs once unblocked.
    pub fn set_deferred(&mut self, id: ClientId, deferred: Vec<Vec<Bytes>>) {
        if let Some(b) = self.clients.get_mut(&id) {
            b.deferred = deferred;
        }
    }

    /// Unblocks `id` without a reply, removing it from every wait queue.
    pub fn remove(&mut self, id: ClientId) -> Option<BlockedClient> {
        let b = self.clients.remove(&id)?;
        for key in &b.keys {
            let k = (b.db, Box::<[u8]>::from(key.as_ref()));
            if let Some(queue) = self.by_key.get_mut(&k) {
                queue.retain(|&c| c != id);
                if queue.is_empty() {
                    self.by_key.remove(&k);
                }
            }
        }
        Some(b)
    }

    /// Unblocks `id` with `reply`, keeping the reply and its pending commands for its connection.
    pub fn finish(&mut self, id: ClientId, reply: Vec<u8>) {
        if let Some(b) = self.remove(id) {
            let reply = if b.silent { Vec::new() } else { reply };
            self.finished.insert(
                id,
                Finished {
                    reply,
                    deferred: b.deferred,
                },
            );
        }
    }

    /// Marks `id`'s eventual reply as dropped (see [`BlockedClient::silent`]).
    pub fn set_silent(&mut self, id: ClientId) {
        if let Some(b) = self.clients.get_mut(&id) {
            b.silent = true;
        }
    }

    /// Takes the outcome waiting for `id`'s connection, if any.
    pub fn take_finished(&mut self, id: ClientId) -> Option<Finished> {
        self.finished.remove(&id)
    }

    /// Forgets everything about `id` (it disconnected).
    pub fn forget(&mut self, id: ClientId) {
        self.remove(id);
        self.finished.remove(&id);
    }

    /// True when some client waits on `key` of `db`.
    pub fn has_waiters(&self, db: usize, key: &[u8]) -> bool {
        !self.by_key.is_empty() && self.by_key.contains_key(&(db, Box::<[u8]>::from(key)))
    }

    /// Clients waiting on `key` of `db`, first come first.
    pub fn waiters(&self, db: usize, key: &[u8]) -> Vec<ClientId> {
        self.by_key
            .get(&(db, Box::<[u8]>::from(key)))
            .map(|q| q.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Notes that `key` of `db` may now serve its waiters (once per key until it is handled).
    pub fn mark_ready(&mut self, db: usize, key: &[u8]) {
        if !self.has_waiters(db, key) {
            return;
        }
        let k = (db, Box::<[u8]>::from(key));
        if self.ready_set.insert(k.clone()) {
            self.ready.push_back(k);
        }
    }

    /// True when no key waits to be handled.
    pub fn ready_is_empty(&self) -> bool {
        self.ready.is_empty()
    }

    /// The next key to handle, in the order they became ready.
    pub fn pop_ready(&mut self) -> Option<(usize, Box<[u8]>)> {
        let k = self.ready.pop_front()?;
        self.ready_set.remove(&k);
        Some(k)
    }

    /// The keys of `db` that clients wait on.
    pub fn keys_in(&self, db: usize) -> Vec<Box<[u8]>> {
        self.by_key
            .keys()
            .filter(|(d, _)| *d == db)
            .map(|(_, k)| k.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(db: usize, keys: &[&str]) -> BlockedClient {
        BlockedClient {
            db,
            keys: keys.iter().map(|k| Bytes::copy_from_slice(k.as_bytes())).collect(),
            deadline_ms: None,
            op: BlockOp::Pop(End::Left),
            proto: Protocol::Resp2,
            deferred: Vec::new(),
            silent: false,
        }
    }

    #[test]
    fn queues_are_fifo_and_cleaned_up() {
        let mut r = BlockedClients::default();
        r.block(1, client(0, &["a", "b"]));
        r.block(2, client(0, &["a", "a"]));
        assert_eq!(r.waiters(0, b"a"), vec![1, 2]);
        assert!(r.has_waiters(0, b"b"));
        assert!(!r.has_waiters(1, b"a"));
        r.mark_ready(0, b"a");
        r.mark_ready(0, b"a");
        r.mark_ready(0, b"zz");
        assert_eq!(r.pop_ready(), Some((0, Box::from(&b"a"[..]))));
        assert_eq!(r.pop_ready(), None);
        r.finish(1, b"x".to_vec());
        assert!(!r.has_waiters(0, b"b"));
        assert_eq!(r.waiters(0, b"a"), vec![2]);
        assert_eq!(r.take_finished(1).map(|f| f.reply), Some(b"x".to_vec()));
        r.forget(2);
        assert!(r.is_empty() && !r.has_waiters(0, b"a"));
    }
}
