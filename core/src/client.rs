//! Per-connection state that commands read and change: identity, selected database, protocol, name,
//! reply mode, flags.
//!
//! Owns what the server knows about each connected client. Sockets belong to the shell; here a client is
//! only an id and its state. [`Clients`] is the registry `CLIENT LIST`/`CLIENT KILL` walk.

use crate::resp::Protocol;
use bytes::Bytes;
use hashbrown::HashMap;

/// A client's unique, never reused id (`CLIENT ID`).
pub type ClientId = u64;

/// How the client is connected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnKind {
    Tcp,
    Unix,
}

/// Facts about a connection that only the shell knows, given when it connects.
#[derive(Clone, Debug)]
pub struct ConnInfo {
    /// Peer address as `ip:port` (or the socket path for Unix connections).
    pub addr: String,
    /// Local address as `ip:port`.
    pub laddr: String,
    /// The file descriptor number, reported by `CLIENT LIST`.
    pub fd: i64,
    pub kind: ConnKind,
}

/// `CLIENT REPLY` mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyMode {
    On,
    Off,
    /// Skip the reply of the next command only.
    SkipNext,
    /// Set while the command after `CLIENT REPLY SKIP` runs.
    Skipping,
}

/// A connected client's state.
#[derive(Clone, Debug)]
pub struct ClientState {
    pub id: ClientId,
    pub info: ConnInfo,
    pub name: Option<Box<[u8]>>,
    pub db: usize,
    pub proto: Protocol,
    pub created_ms: i64,
    pub last_interaction_ms: i64,
    /// Full name of the last command run (`client|list` form), for `CLIENT LIST cmd=`.
    pub last_cmd: &'static str,
    pub reply_mode: ReplyMode,
    pub no_evict: bool,
    pub no_touch: bool,
    /// Set by `CLIENT KILL`; the shell closes the connection.
    pub killed: bool,
    /// Bytes waiting in the shell's query buffer, reported by `CLIENT LIST qbuf=`.
    pub query_buf_len: usize,
    /// Commands queued since `MULTI`, or `None` outside a transaction.
    pub multi: Option<Vec<Vec<Bytes>>>,
    /// Set when a command could not be queued (unknown, wrong arity): `EXEC` then aborts.
    pub multi_error: bool,
    /// Set while `EXEC` runs this client's queued commands: blocking commands must not block.
    pub in_exec: bool,
    /// The ACL user the connection runs as (`default` until it authenticates as another); changed only
    /// through [`ClientState::set_user`], which also forgets [`ClientState::acl_unrestricted_gen`].
    user: Box<[u8]>,
    /// The ACL generation (`Acl::generation`) at which `user` was found to allow every command, key and
    /// channel, or 0. While it equals the current generation the gate needs no user lookup; any ACL
    /// change bumps the generation, so the cached answer can never outlive the rules it came from.
    pub(crate) acl_unrestricted_gen: u64,
    /// True once the connection authenticated, or from the start when the default user needs no password.
    pub authenticated: bool,
    /// A client keel runs itself (replaying the append-only file at start-up): it needs no password and
    /// no ACL permission, like the reference server's internal client, since what it replays was already
    /// allowed when it first ran.
    pub internal: bool,
}

impl ClientState {
    /// The ACL user the connection runs as.
    pub fn user(&self) -> &[u8] {
        &self.user
    }

    /// Makes the connection run as `user`, forgetting the permissions cached for the previous one.
    pub fn set_user(&mut self, user: &[u8]) {
        self.user = user.into();
        self.acl_unrestricted_gen = 0;
    }

    /// State for a new connection.
    pub fn new(id: ClientId, info: ConnInfo, now_ms: i64) -> ClientState {
        ClientState {
            id,
            info,
            name: None,
            db: 0,
            proto: Protocol::Resp2,
            created_ms: now_ms,
            last_interaction_ms: now_ms,
            last_cmd: "NULL",
            reply_mode: ReplyMode::On,
            no_evict: false,
            no_touch: false,
            killed: false,
            query_buf_len: 0,
            multi: None,
            multi_error: false,
            in_exec: false,
            user: crate::acl::DEFAULT_USER.into(),
            acl_unrestricted_gen: 0,
            authenticated: true,
            internal: false,
        }
    }
}

/// A handle the shell keeps for its connection: the id and the registry slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientHandle {
    pub id: ClientId,
    pub(crate) slot: usize,
}

/// Registry of connected clients, in slots that stay put while a client is connected.
#[derive(Debug, Default)]
pub struct Clients {
    /// Boxed so that taking a client out for each command moves a pointer, not the whole state.
    slots: Vec<Option<Box<ClientState>>>,
    free: Vec<usize>,
    by_id: HashMap<ClientId, usize>,
    next_id: ClientId,
    /// Clients that connected since start (`total_connections_received`).
    pub total_connections: u64,
}

impl Clients {
    /// Registers a new client and returns its handle.
    pub fn add(&mut self, info: ConnInfo, now_ms: i64) -> ClientHandle {
        self.next_id += 1;
        let id = self.next_id;
        let state = Box::new(ClientState::new(id, info, now_ms));
        let slot = match self.free.pop() {
            Some(s) => {
                self.slots[s] = Some(state);
                s
            }
            None => {
                self.slots.push(Some(state));
                self.slots.len() - 1
            }
        };
        self.by_id.insert(id, slot);
        self.total_connections += 1;
        ClientHandle { id, slot }
    }

    /// Forgets a client.
    pub fn remove(&mut self, handle: ClientHandle) {
        if self.by_id.remove(&handle.id).is_some() {
            self.slots[handle.slot] = None;
            self.free.push(handle.slot);
        }
    }

    /// Takes a client's state out while one of its commands runs; [`Clients::put_back`] returns it.
    pub(crate) fn take(&mut self, handle: ClientHandle) -> Option<Box<ClientState>> {
        self.slots.get_mut(handle.slot)?.take().filter(|c| c.id == handle.id)
    }

    pub(crate) fn put_back(&mut self, handle: ClientHandle, state: Box<ClientState>) {
        self.slots[handle.slot] = Some(state);
    }

    /// Number of connected clients.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// True when nobody is connected.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Connected clients other than one whose command is running, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = &ClientState> {
        self.slots.iter().flatten().map(|c| &**c)
    }

    /// Mutable access to the other clients.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut ClientState> {
        self.slots.iter_mut().flatten().map(|c| &mut **c)
    }

    /// A client's state by id (not the one whose command is running).
    pub fn get(&self, id: ClientId) -> Option<&ClientState> {
        self.slots.get(*self.by_id.get(&id)?)?.as_deref()
    }

    /// True when the client is connected (including the one whose command is running).
    pub fn contains(&self, id: ClientId) -> bool {
        self.by_id.contains_key(&id)
    }

    /// Whether the client was killed by another client's `CLIENT KILL`.
    pub fn is_killed(&self, handle: ClientHandle) -> bool {
        match self.slots.get(handle.slot) {
            Some(Some(c)) if c.id == handle.id => c.killed,
            _ => true,
        }
    }
}
