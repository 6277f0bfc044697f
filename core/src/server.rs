//! The server state machine: databases, clients, configuration, statistics, and command execution.
//!
//! Owns everything a command can observe or change. The shell drives it: it registers connections,
//! hands in parsed commands with the current time, takes the reply bytes and the [`Effect`]s, and calls
//! [`Server::cron`] periodically. This module never performs I/O, reads a clock, or draws OS randomness:
//! time arrives as arguments and randomness comes from a generator seeded by the shell.

use bytes::Bytes;
use rand::{rngs::SmallRng, Rng, SeedableRng};

use crate::acl;
use crate::blocking::{BlockOp, BlockedClient, BlockedClients};
use crate::client::{ClientHandle, ClientId, ClientState, Clients, ConnInfo, ReplyMode};
use crate::commands::transactions::{self, Watches};
use crate::commands::{self, error::error_code, CommandError, Ctx, Lookup, Registry};
use crate::config::Config;
use crate::keyspace::{access, Db};
use crate::persist::save::SaveState;
use crate::persist::AofStatus;
use crate::propagate::{self, Propagation};
use crate::resp::{CommandBatch, Reply};

/// Something the shell must do on the server's behalf after a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Close another client's connection (`CLIENT KILL`).
    KillClient(ClientId),
    /// Stop the server (`SHUTDOWN`); `save` tells whether a final snapshot was requested.
    Shutdown { save: bool },
    /// Hold this client's next reply for this long (`DEBUG SLEEP`).
    Sleep { micros: u64 },
    /// A configuration parameter changed (`CONFIG SET`); the shell re-reads what it uses.
    ConfigChanged(&'static str),
    /// `CLIENT PAUSE`/`UNPAUSE` changed the pause state.
    PauseChanged,
    /// A blocked client was served, timed out or unblocked: its connection should call
    /// [`Server::resume`] to collect the reply and go on.
    Unblocked(ClientId),
    /// `ACL SAVE`: write `text` to `path` atomically (temporary file, fsync, rename), then call
    /// [`crate::commands::acl::finish_save`] for `client`.
    AclSave {
        client: ClientId,
        path: String,
        text: Vec<u8>,
    },
    /// `ACL LOAD`: read `path`, then call [`crate::commands::acl::finish_load`] for `client`.
    AclLoad { client: ClientId, path: String },
    /// A snapshot began ([`Server::start_snapshot`]): the shell pulls its chunks with
    /// [`Server::snapshot_chunk`], stores them, and reports with [`Server::snapshot_finished`].
    SnapshotStarted,
    /// `DEBUG RELOAD NOSAVE`: empty the databases and load the snapshot file, then call
    /// [`Server::reload_finished`] for this client.
    LoadSnapshot(ClientId),
}

/// Facts about the process the shell gives at start-up, reported by `INFO server`.
#[derive(Clone, Debug, Default)]
pub struct ProcessInfo {
    pub pid: u32,
    pub executable: String,
    pub config_file: String,
    pub os: String,
    pub tcp_port: u16,
}

/// Memory figures measured by the shell (an allocator counter, the RSS) and handed in periodically.
#[derive(Clone, Copy, Debug, Default)]
pub struct MemoryFigures {
    pub used_memory: u64,
    pub rss: u64,
    pub peak: u64,
}

/// Counters reported by `INFO stats`.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub commands_processed: u64,
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    pub rejected_connections: u64,
    pub net_input_bytes: u64,
    pub net_output_bytes: u64,
    pub total_error_replies: u64,
    /// Error replies by code word, in first-seen order.
    pub errors_by_code: Vec<(Vec<u8>, u64)>,
    pub unexpected_error_replies: u64,
    /// ACL denials by reason (`acl_access_denied_*`).
    pub acl_denied_auth: u64,
    pub acl_denied_cmd: u64,
    pub acl_denied_key: u64,
    pub acl_denied_channel: u64,
}

/// `CLIENT PAUSE` state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pause {
    /// Unix ms at which the pause ends.
    pub until_ms: i64,
    /// True for `WRITE` pauses (only write commands wait).
    pub write_only: bool,
}

/// The whole server state.
pub struct Server {
    pub dbs: Vec<Db>,
    pub config: Config,
    pub clients: Clients,
    pub stats: Stats,
    pub rng: SmallRng,
    pub registry: Registry,
    pub effects: Vec<Effect>,
    pub process: ProcessInfo,
    pub memory: MemoryFigures,
    pub started_ms: i64,
    pub run_id: String,
    /// `DEBUG SET-ACTIVE-EXPIRE`.
    pub active_expire_enabled: bool,
    pub pause: Option<Pause>,
    /// Number of `CONFIG RESETSTAT`-resettable figures start here.
    pub last_cron_ms: i64,
    /// Keys watched by clients (`WATCH`).
    pub watches: Watches,
    /// Clients blocked on keys (`BLPOP` and friends).
    pub blocked: BlockedClients,
    /// Changes to the data since the last successful snapshot (`rdb_changes_since_last_save`, save
    /// points): one per key a command changed, and every key a flush removed.
    pub dirty: u64,
    /// The shell's hook for settings it applies itself (TLS certificates); see `netsec`.
    pub config_applier: Option<crate::netsec::ConfigApplier>,
    /// ACL users and log.
    pub acl: crate::acl::Acl,
    /// Snapshots to disk: the running one, save points, the last outcome (`persist::save`).
    pub persistence: SaveState,
    /// The stream of effective write commands the append-only file consumes.
    pub propagation: Propagation,
    /// Append-only file state the shell reports (INFO persistence, refusing writes after a failure).
    pub aof: AofStatus,
    /// The time of the command running now, in Unix ms.
    now_ms: i64,
}

/// What the shell should do with a connection after its batch ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Keep reading.
    Continue,
    /// Write the pending replies, then close.
    Close,
    /// The client is blocked (BLPOP with no data): write the pending replies, run none of its commands
    /// until an [`Effect::Unblocked`] for it or its deadline ([`Server::block_deadline_ms`]), then call
    /// [`Server::resume`].
    Blocked,
}

impl Server {
    /// A server with `config`, its randomness seeded by `seed`, started at `now_ms`.
    pub fn new(config: Config, seed: u64, now_ms: i64, process: ProcessInfo) -> Server {
        let mut rng = SmallRng::seed_from_u64(seed);
        let databases = config.get_i64("databases").max(1) as usize;
        let dbs = (0..databases).map(|_| Db::new(rng.random())).collect();
        let run_id = (0..40)
            .map(|_| {
                let n: u8 = rng.random_range(0..16);
                char::from_digit(n as u32, 16).unwrap_or('0')
            })
            .collect();
        let mut registry = Registry::new();
        for (from, to) in &config.command_renames {
            // The configuration loader checked each line against a fresh registry, in order.
            let _ = registry.rename(from, to);
        }
        Server {
            dbs,
            config,
            clients: Clients::default(),
            stats: Stats::default(),
            rng,
            registry,
            effects: Vec::new(),
            process,
            memory: MemoryFigures::default(),
            started_ms: now_ms,
            run_id,
            active_expire_enabled: true,
            pause: None,
            last_cron_ms: now_ms,
            watches: Watches::default(),
            blocked: BlockedClients::default(),
            dirty: 0,
            config_applier: None,
            acl: crate::acl::Acl::new(),
            persistence: SaveState::new(now_ms),
            propagation: Propagation::default(),
            aof: AofStatus::default(),
            now_ms,
        }
        .with_configured_users()
    }

    /// Applies `requirepass` and the config file's `user` directives to the fresh user set. A directive
    /// that fails is skipped here; the shell validates them before start-up
    /// ([`crate::acl::file::apply_config_users`]) and refuses to start on an error.
    fn with_configured_users(mut self) -> Server {
        let pass = self.config.get("requirepass").unwrap_or("").to_string();
        self.acl.set_requirepass(&pass);
        let lines = self.config.users.clone();
        let _ = crate::acl::file::apply_config_users(self.acl.users_mut(), &lines);
        self
    }

    /// Registers a new connection.
    pub fn connect(&mut self, info: ConnInfo, now_ms: i64) -> ClientHandle {
        let handle = self.clients.add(info, now_ms);
        if let Some(mut c) = self.clients.take(handle) {
            c.authenticated = self.acl.new_connection_authenticated();
            self.clients.put_back(handle, c);
        }
        handle
    }

    /// Forgets a closed connection.
    pub fn disconnect(&mut self, handle: ClientHandle) {
        self.unwatch_all(handle.id);
        self.blocked.forget(handle.id);
        self.clients.remove(handle);
    }

    /// Takes the effects produced since the last call.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    /// True when a `CLIENT PAUSE` holds commands from running at `now_ms`.
    pub fn paused(&mut self, now_ms: i64) -> Option<Pause> {
        match self.pause {
            Some(p) if p.until_ms > now_ms => Some(p),
            Some(_) => {
                self.pause = None;
                None
            }
            None => None,
        }
    }

    /// Runs every command of `batch` for client `handle`, appending replies to `out`. Stops early (and
    /// returns [`Flow::Close`]) after a command that ends the connection.
    pub fn execute_batch(
        &mut self,
        handle: ClientHandle,
        batch: &CommandBatch,
        now_us: i64,
        out: &mut Vec<u8>,
    ) -> Flow {
        self.execute_batch_bounded(handle, batch, 0, now_us, out, usize::MAX).0
    }

    /// Like [`Server::execute_batch`], but starts at command `start` and stops once `out` holds
    /// `stop_at` bytes or more, so the shell can write the replies before running the rest (pending
    /// output stays bounded however many commands a client pipelines). Returns the flow and the index
    /// of the first command not run (the batch's length when all ran or the flow is not `Continue`).
    pub fn execute_batch_bounded(
        &mut self,
        handle: ClientHandle,
        batch: &CommandBatch,
        start: usize,
        now_us: i64,
        out: &mut Vec<u8>,
        stop_at: usize,
    ) -> (Flow, usize) {
        for (i, argv) in batch.iter().enumerate().skip(start) {
            match self.execute(handle, argv, now_us, out) {
                Flow::Continue => {}
                Flow::Close => return (Flow::Close, batch.len()),
                Flow::Blocked => {
                    // The rest of the read runs once the client is unblocked.
                    let rest = batch.iter().skip(i + 1).map(|a| a.to_vec()).collect();
                    self.blocked.set_deferred(handle.id, rest);
                    return (Flow::Blocked, batch.len());
                }
            }
            if out.len() >= stop_at {
                return (Flow::Continue, i + 1);
            }
        }
        (Flow::Continue, batch.len())
    }

    /// Runs commands left over from a read after a blocked client is unblocked; like
    /// [`Server::execute_batch`].
    fn run_deferred(&mut self, handle: ClientHandle, cmds: Vec<Vec<Bytes>>, now_us: i64, out: &mut Vec<u8>) -> Flow {
        for (i, argv) in cmds.iter().enumerate() {
            match self.execute(handle, argv, now_us, out) {
                Flow::Continue => {}
                Flow::Close => return Flow::Close,
                Flow::Blocked => {
                    self.blocked.set_deferred(handle.id, cmds[i + 1..].to_vec());
                    return Flow::Blocked;
                }
            }
        }
        Flow::Continue
    }

    /// For a blocked client: collects its reply if it was served or unblocked, or times it out if its
    /// deadline passed by `now_us`, then runs the commands that followed the blocking one. Returns
    /// [`Flow::Blocked`] while it still waits (a wake-up can come before the deadline and for nothing).
    pub fn resume(&mut self, handle: ClientHandle, now_us: i64, out: &mut Vec<u8>) -> Flow {
        let now_ms = now_us.div_euclid(1000);
        self.now_ms = now_ms;
        if let Some(done) = self.blocked.take_finished(handle.id) {
            self.stats.net_output_bytes += done.reply.len() as u64;
            out.extend_from_slice(&done.reply);
            return self.run_deferred(handle, done.deferred, now_us, out);
        }
        match self.blocked.get(handle.id) {
            None => Flow::Continue,
            Some(b) if b.deadline_ms.is_some_and(|d| now_ms >= d) => {
                let Some(b) = self.blocked.remove(handle.id) else {
                    return Flow::Continue;
                };
                let start = out.len();
                if !b.silent {
                    commands::blocking::timeout_reply(&mut Reply::new(out, b.proto));
                }
                self.stats.net_output_bytes += (out.len() - start) as u64;
                self.run_deferred(handle, b.deferred, now_us, out)
            }
            Some(_) => Flow::Blocked,
        }
    }

    /// Parks `client` until the shell has done file I/O on its behalf (`SAVE`, `ACL SAVE`): the handler
    /// calls this and pushes an [`Effect`] naming the client and the work; its command then returns
    /// [`Flow::Blocked`] and the client runs nothing else until the shell reports the outcome with
    /// [`Server::finish_io`]. Core never touches the file itself.
    pub fn wait_for_io(&mut self, client: &ClientState) {
        let waiting = BlockedClient {
            db: client.db,
            keys: Vec::new(),
            deadline_ms: None,
            op: BlockOp::Io,
            proto: client.proto,
            deferred: Vec::new(),
            silent: matches!(client.reply_mode, ReplyMode::Off | ReplyMode::Skipping),
        };
        self.blocked.block(client.id, waiting);
    }

    /// Ends the wait begun by [`Server::wait_for_io`]: `write` produces the client's reply, which its
    /// connection collects through [`Server::resume`] after the [`Effect::Unblocked`] pushed here. Does
    /// nothing if the client disconnected meanwhile or was not waiting for I/O. The shell applies the
    /// effects after calling this, as after a batch.
    pub fn finish_io(&mut self, id: ClientId, write: impl FnOnce(&mut Reply<'_>)) {
        let Some(proto) = self.blocked.get(id).filter(|b| b.op == BlockOp::Io).map(|b| b.proto) else {
            return;
        };
        let mut reply = Vec::new();
        write(&mut Reply::new(&mut reply, proto));
        if reply.first() == Some(&b'-') {
            let end = reply.len().saturating_sub(2).max(1);
            let message = reply[1..end].to_vec();
            self.count_error(&message);
        }
        self.blocked.finish(id, reply);
        self.effects.push(Effect::Unblocked(id));
    }

    /// The deadline (Unix ms) of a blocked client, `None` when it waits forever or is not blocked.
    pub fn block_deadline_ms(&self, handle: ClientHandle) -> Option<i64> {
        self.blocked.get(handle.id).and_then(|b| b.deadline_ms)
    }

    /// Runs one command for client `handle`, appending its reply to `out`. Returns [`Flow::Blocked`] when
    /// the command blocked the client.
    pub fn execute(&mut self, handle: ClientHandle, argv: &[Bytes], now_us: i64, out: &mut Vec<u8>) -> Flow {
        let Some(mut client) = self.clients.take(handle) else {
            return Flow::Close;
        };
        let now_ms = now_us.div_euclid(1000);
        self.now_ms = now_ms;
        client.last_interaction_ms = now_ms;
        let reply_start = out.len();
        let close = self.dispatch(&mut client, argv, now_us, out, true);
        if self.propagation.is_enabled() {
            // Keys the command expired are deleted before its own effects, as the reference orders them.
            self.touch_expired();
            self.propagation.end_unit();
        }
        // CLIENT REPLY OFF/SKIP: drop what this command wrote.
        match client.reply_mode {
            ReplyMode::On => {}
            ReplyMode::Off => out.truncate(reply_start),
            ReplyMode::Skipping => {
                out.truncate(reply_start);
                client.reply_mode = ReplyMode::On;
            }
            ReplyMode::SkipNext => client.reply_mode = ReplyMode::Skipping,
        }
        self.stats.net_output_bytes += (out.len() - reply_start) as u64;
        let killed = client.killed;
        let blocked = !self.blocked.is_empty() && self.blocked.is_blocked(client.id);
        self.clients.put_back(handle, client);
        self.after_command(now_ms);
        if close || killed {
            Flow::Close
        } else if blocked {
            Flow::Blocked
        } else {
            Flow::Continue
        }
    }

    /// Looks a command up and runs it for `client` (taken out of the registry), writing its reply or
    /// error. At the top level (`top`), a client in `MULTI` has its commands queued and `EXEC` runs the
    /// queue. Returns true when the connection must close after the reply.
    fn dispatch(
        &mut self,
        client: &mut ClientState,
        argv: &[Bytes],
        now_us: i64,
        out: &mut Vec<u8>,
        top: bool,
    ) -> bool {
        let now_ms = now_us.div_euclid(1000);
        let mut close = false;
        let in_multi = top && client.multi.is_some();
        let lookup = self.registry.lookup(argv);
        // A command that cannot even be queued (unknown, wrong arity) dooms the transaction.
        let rejected = !matches!(lookup, Lookup::Found(..));
        // Authentication and ACL permissions, checked before a command is queued or run.
        if let Lookup::Found(spec, _) = lookup {
            client.last_cmd = spec.name;
            let stage = match (top, in_multi) {
                (false, _) => acl::Stage::Exec,
                (true, true) => acl::Stage::Queued,
                (true, false) => acl::Stage::Toplevel,
            };
            if let Err(e) = acl::gate(self, client, spec, argv, stage, now_ms) {
                if spec.name == "exec" && top {
                    // A refused EXEC discards the transaction, and says so.
                    transactions::discard_transaction(self, client);
                    let mut text = b"EXECABORT Transaction discarded because of: ".to_vec();
                    text.extend_from_slice(&e.message());
                    return self.reject(client, CommandError::Raw(text), false, out);
                }
                return self.reject(client, e, in_multi, out);
            }
        }
        let disk_error = match lookup {
            Lookup::Found(spec, _) if self.aof.refuses_writes() => {
                let writes = spec.has_flag("write")
                    || spec.name == "ping"
                    || (spec.name == "exec" && in_multi && transactions::queues_write(self, client));
                writes.then(|| self.aof.misconf_message())
            }
            _ => None,
        };
        let outcome = match lookup {
            Lookup::Found(spec, _) if top && self.refuses_write(spec) => {
                if in_multi {
                    client.multi_error = true;
                }
                Err(CommandError::err(crate::persist::save::MISCONF))
            }
            Lookup::Found(spec, _) if disk_error.is_some() => {
                client.last_cmd = spec.name;
                let message = disk_error.unwrap_or_default();
                if in_multi && spec.name == "exec" {
                    transactions::discard_transaction(self, client);
                    Err(CommandError::Other(
                        format!("EXECABORT Transaction discarded because of: {message}").into(),
                    ))
                } else {
                    if in_multi {
                        client.multi_error = true;
                    }
                    Err(CommandError::Other(message.into()))
                }
            }
            Lookup::Found(spec, _) if in_multi && spec.has_flag("no_multi") => {
                client.multi_error = true;
                Err(CommandError::err("ERR Command not allowed inside a transaction"))
            }
            Lookup::Found(spec, _) if in_multi && !transactions::runs_in_multi(spec.name) => {
                client.last_cmd = spec.name;
                transactions::queue(client, argv);
                Reply::new(out, client.proto).simple(b"QUEUED");
                Ok(())
            }
            Lookup::Found(spec, _) if in_multi && spec.name == "exec" && self.refuses_queued_writes(client) => {
                client.last_cmd = spec.name;
                transactions::discard_transaction(self, client);
                Err(CommandError::Raw(
                    format!(
                        "EXECABORT Transaction discarded because of: {}",
                        crate::persist::save::MISCONF
                    )
                    .into_bytes(),
                ))
            }
            Lookup::Found(spec, _) if in_multi && spec.name == "exec" => {
                client.last_cmd = spec.name;
                self.stats.commands_processed += 1;
                self.exec_transaction(client, now_us, out)
            }
            Lookup::Found(spec, handler) => {
                client.last_cmd = spec.name;
                self.stats.commands_processed += 1;
                if spec.name == "reset" {
                    transactions::discard_transaction(self, client);
                }
                let proto = client.proto;
                let (dirty_before, db_before) = (self.dirty, client.db);
                let mut ctx = Ctx {
                    server: self,
                    client,
                    reply: Reply::new(out, proto),
                    argv,
                    now_ms,
                    now_us,
                    close_after_reply: false,
                };
                let result = handler(&mut ctx);
                close = ctx.close_after_reply;
                if self.propagation.is_enabled() {
                    self.propagate_command(spec.name, argv, db_before, dirty_before, result.is_ok(), now_ms);
                }
                result
            }
            Lookup::UnknownCommand => Err(CommandError::Raw(commands::unknown_command_message(argv))),
            Lookup::UnknownSubcommand(spec) => {
                Err(CommandError::Raw(commands::unknown_subcommand_message(spec, &argv[1])))
            }
            Lookup::WrongArity(spec) => Err(CommandError::WrongArity(spec.name)),
        };
        if let Err(e) = outcome {
            if in_multi && rejected {
                client.multi_error = true;
            }
            let message = e.message();
            self.count_error(&message);
            Reply::new(out, client.proto).error(&message);
        }
        close
    }

    /// Replies with a command's refusal (counted as an error); `doom` marks the open transaction to
    /// abort at `EXEC`. Returns false: the connection stays open.
    fn reject(&mut self, client: &mut ClientState, e: CommandError, doom: bool, out: &mut Vec<u8>) -> bool {
        if doom {
            client.multi_error = true;
        }
        let message = e.message();
        self.count_error(&message);
        Reply::new(out, client.proto).error(&message);
        false
    }

    /// `EXEC` inside a transaction: aborts if a command could not be queued, replies null if a watched
    /// key changed, else runs every queued command and replies with the array of their replies.
    fn exec_transaction(
        &mut self,
        client: &mut ClientState,
        now_us: i64,
        out: &mut Vec<u8>,
    ) -> Result<(), CommandError> {
        let queued = client.multi.take().unwrap_or_default();
        let aborted = std::mem::take(&mut client.multi_error);
        let now_ms = now_us.div_euclid(1000);
        let dirty = self.watches.is_dirty(client.id) || self.watches.any_expired(client.id, &self.dbs, now_ms);
        self.unwatch_all(client.id);
        if aborted {
            return Err(CommandError::err(transactions::EXEC_ABORT));
        }
        if dirty {
            Reply::new(out, client.proto).null_array();
            return Ok(());
        }
        Reply::new(out, client.proto).array(queued.len());
        client.in_exec = true;
        for argv in &queued {
            self.dispatch(client, argv, now_us, out, false);
        }
        client.in_exec = false;
        client.last_cmd = "exec";
        Ok(())
    }

    /// Adds what command `name` (run on `db`) must propagate to the execution unit: the operations its
    /// handler chose, or, when it changed something, the generic rewrite of its arguments.
    fn propagate_command(&mut self, name: &str, argv: &[Bytes], db: usize, dirty_before: u64, ok: bool, now_ms: i64) {
        if let Some(ops) = self.propagation.take_replacement() {
            for op in ops {
                self.propagation.push(op);
            }
            return;
        }
        // FLUSHALL and FLUSHDB count as changes even on empty databases, as on the reference server.
        let changed = self.dirty != dirty_before || (ok && matches!(name, "flushall" | "flushdb"));
        if changed {
            for op in propagate::rewrite(name, argv, &self.dbs, db, now_ms) {
                self.propagation.push(op);
            }
        }
    }

    /// Turns write propagation on or off (the shell does when the append-only file is switched).
    /// While on, keys removed by expiry are collected so that their deletion propagates.
    pub fn set_propagation(&mut self, on: bool) {
        self.propagation.set_enabled(on);
        let track = on || !self.watches.is_empty();
        for d in &mut self.dbs {
            d.track_expired = track;
            if !track {
                d.expired_keys.clear();
            }
        }
    }

    /// Work after every top-level command: serve clients blocked on keys that received data, and report
    /// keys removed by expiry to WATCH.
    fn after_command(&mut self, now_ms: i64) {
        if !self.blocked.ready_is_empty() {
            commands::blocking::serve_ready(self, now_ms);
        }
        if !self.watches.is_empty() || self.propagation.is_enabled() {
            self.touch_expired();
        }
    }

    /// Reports the keys removed by expiry (lazily or actively) since the last call to the watch
    /// registry (a watched key that expires is a change, as on the reference server) and to propagation
    /// (as a DEL).
    fn touch_expired(&mut self) {
        for db in 0..self.dbs.len() {
            if self.dbs[db].expired_keys.is_empty() {
                continue;
            }
            let keys = std::mem::take(&mut self.dbs[db].expired_keys);
            for k in keys {
                if !self.watches.is_empty() {
                    let exists = self.dbs[db].is_stored(&k);
                    self.watches.touch(db, &k, exists);
                }
                self.propagation.emit_now(db, &propagate::command(&[b"DEL", &k]));
            }
        }
    }

    /// Makes `client` watch `key` of `db` (`expired`: the key has expired but is still stored). Keys
    /// removed by expiry are tracked while anybody watches.
    pub fn watch_key(&mut self, client: ClientId, db: usize, key: &[u8], expired: bool) {
        if self.watches.is_empty() {
            for d in &mut self.dbs {
                d.track_expired = true;
            }
        }
        self.watches.watch(client, db, key, expired);
    }

    /// Forgets every key `client` watches.
    pub fn unwatch_all(&mut self, client: ClientId) {
        self.watches.unwatch_all(client);
        if self.watches.is_empty() && !self.propagation.is_enabled() {
            for d in &mut self.dbs {
                d.track_expired = false;
                d.expired_keys.clear();
            }
        }
    }

    /// Answers a protocol error for `handle` (the shell closes the connection afterwards).
    pub fn protocol_error(&mut self, handle: ClientHandle, message: &[u8], out: &mut Vec<u8>) {
        let proto = self.clients.take(handle).map(|c| {
            let p = c.proto;
            self.clients.put_back(handle, c);
            p
        });
        self.count_error(message);
        Reply::new(out, proto.unwrap_or_default()).error(message);
    }

    /// Counts an error reply in the error statistics.
    pub(crate) fn count_error(&mut self, message: &[u8]) {
        self.stats.total_error_replies += 1;
        let code = error_code(message);
        let counts = &mut self.stats.errors_by_code;
        if let Some((_, n)) = counts.iter_mut().find(|(c, _)| c == code) {
            *n += 1;
        } else if counts.len() < 128 {
            // Bounded like the reference server: at most 128 distinct codes are tracked.
            counts.push((code.to_vec(), 1));
        }
    }

    /// Periodic work: active expiry. The shell calls it `hz` times a second. Each call samples a bounded
    /// number of keys, so one call costs a bounded amount of CPU however many keys have expired.
    pub fn cron(&mut self, now_us: i64) {
        let now_ms = now_us.div_euclid(1000);
        self.last_cron_ms = now_ms;
        self.now_ms = now_ms;
        if self.active_expire_enabled {
            self.active_expire_cycle(now_ms);
        }
        self.check_save_points(now_ms);
        commands::aof::cron(self, now_ms);
        if !self.watches.is_empty() || self.propagation.is_enabled() {
            self.touch_expired();
        }
    }

    /// Samples keys with a TTL in every database and removes expired ones. Like the reference server's
    /// adaptive cycle it keeps sampling a database while more than a tenth of a sample had expired, up to a
    /// per-call budget that grows with `active-expire-effort`.
    pub fn active_expire_cycle(&mut self, now_ms: i64) -> usize {
        const SAMPLE: usize = 20;
        let effort = self.config.get_i64("active-expire-effort").clamp(1, 10) as usize;
        let sample = SAMPLE + SAMPLE / 4 * (effort - 1);
        let budget = 400 * effort;
        let mut removed = 0;
        let mut spent = 0;
        for db in &mut self.dbs {
            loop {
                let (sampled, expired) = db.expire_sample(&mut self.rng, sample, now_ms);
                removed += expired;
                spent += sampled;
                if sampled == 0 || expired * 10 <= sampled || spent >= budget {
                    break;
                }
            }
            if spent >= budget {
                break;
            }
        }
        removed
    }

    /// Looks a key up for reading: expires it lazily, counts a keyspace hit or miss, and refreshes its
    /// access time unless `touch` is false (`CLIENT NO-TOUCH`).
    pub fn lookup_read(
        &mut self,
        db: usize,
        key: &[u8],
        now_ms: i64,
        touch: bool,
    ) -> Option<&mut crate::keyspace::Entry> {
        match self.dbs[db].get_mut(key, now_ms) {
            Some(entry) => {
                self.stats.keyspace_hits += 1;
                if touch {
                    entry.access_s = Self::touched(&self.config, &mut self.rng, entry.access_s, now_ms);
                }
                Some(entry)
            }
            None => {
                self.stats.keyspace_misses += 1;
                None
            }
        }
    }

    /// Looks a key up for writing: expires it lazily and refreshes its access time; no hit/miss counted.
    pub fn lookup_write(&mut self, db: usize, key: &[u8], now_ms: i64) -> Option<&mut crate::keyspace::Entry> {
        let entry = self.dbs[db].get_mut(key, now_ms)?;
        entry.access_s = Self::touched(&self.config, &mut self.rng, entry.access_s, now_ms);
        Some(entry)
    }

    /// An entry's access stamp after an access at `now_ms`, under the configured policy.
    fn touched(config: &Config, rng: &mut SmallRng, stamp: u32, now_ms: i64) -> u32 {
        if config.lfu_policy() {
            let decay = config.get_i64("lfu-decay-time");
            let factor = config.get_i64("lfu-log-factor");
            access::lfu_touch(stamp, now_ms, decay, factor, rng.random::<f64>())
        } else {
            access::lru_stamp(now_ms)
        }
    }

    /// The access stamp a key created at `now_ms` starts with.
    pub fn new_access_stamp(&self, now_ms: i64) -> u32 {
        if self.config.lfu_policy() {
            access::lfu_new(now_ms)
        } else {
            access::lru_stamp(now_ms)
        }
    }

    /// Tells the server that `key` in database `db` was modified by a command (for WATCH). Every
    /// command that changes a key calls this once per changed key, after the change.
    pub fn signal_modified(&mut self, db: usize, key: &[u8]) {
        self.dirty += 1;
        if self.watches.is_empty() {
            return;
        }
        let exists = self.dbs.get(db).is_some_and(|d| d.is_stored(key));
        self.watches.touch(db, key, exists);
    }

    /// Tells the server that database `db` is about to be emptied (FLUSHDB, FLUSHALL): every watched key
    /// it holds changes. Call before clearing.
    pub fn signal_flush(&mut self, db: usize) {
        self.dirty += self.dbs.get(db).map_or(0, |d| d.len() as u64);
        if self.watches.is_empty() {
            return;
        }
        for key in self.watches.keys_in(db) {
            if self.dbs[db].is_stored(&key) {
                // Stored now, gone after the flush.
                self.watches.touch(db, &key, false);
            }
        }
    }

    /// Tells the server that databases `a` and `b` were swapped (SWAPDB): watched keys present in either
    /// change, and clients blocked in either may now be served.
    pub fn signal_swapdb(&mut self, a: usize, b: usize) {
        self.dirty += 1;
        for db in [a, b] {
            for key in self.watches.keys_in(db) {
                let here = self.dbs[db].is_stored(&key);
                let there = self.dbs[a + b - db].is_stored(&key);
                if here || there {
                    self.watches.touch(db, &key, here);
                }
            }
            for key in self.blocked.keys_in(db) {
                self.blocked.mark_ready(db, &key);
            }
        }
    }

    /// Tells the server that `key` in database `db` may now serve clients blocked on it (a push to a
    /// list, an add to a sorted set). Called after the change, in addition to [`Server::signal_modified`].
    pub fn signal_key_ready(&mut self, db: usize, key: &[u8]) {
        self.blocked.mark_ready(db, key);
    }

    /// Records how many bytes wait in a client's query buffer (`CLIENT LIST qbuf=`).
    pub fn clients_query_buf(&mut self, handle: ClientHandle, len: usize) {
        if let Some(mut c) = self.clients.take(handle) {
            c.query_buf_len = len;
            self.clients.put_back(handle, c);
        }
    }

    /// True when `argv` names a command that may write (for `CLIENT PAUSE WRITE`).
    pub fn may_write(&self, argv: &[Bytes]) -> bool {
        match self.registry.lookup(argv) {
            Lookup::Found(spec, _) => spec.has_flag("write") || spec.has_flag("may_replicate"),
            _ => false,
        }
    }

    /// Keys expired since start, lazily or actively.
    pub fn expired_keys(&self) -> u64 {
        self.dbs.iter().map(|d| d.expired_count).sum()
    }

    /// Checks every database's invariants (tests, fuzzers, simulator).
    pub fn check_invariants(&self) {
        for db in &self.dbs {
            db.check_invariants();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(server: &mut Server, handle: ClientHandle, argv: &[&[u8]]) -> Vec<u8> {
        let argv: Vec<Bytes> = argv.iter().map(|a| Bytes::copy_from_slice(a)).collect();
        let mut out = Vec::new();
        server.execute(handle, &argv, 1_000_000, &mut out);
        out
    }

    fn setup() -> (Server, ClientHandle) {
        let mut server = Server::new(Config::default(), 7, 0, ProcessInfo::default());
        let handle = crate::test_support::connect_loopback(&mut server);
        (server, handle)
    }

    #[test]
    fn dispatch_errors_echo_client_bytes() {
        let (mut s, c) = setup();
        assert_eq!(
            run(&mut s, c, &[b"f\xffo", b"a\xfe"]),
            b"-ERR unknown command 'f\xffo', with args beginning with: 'a\xfe' \r\n"
        );
        assert_eq!(
            run(&mut s, c, &[b"GET"]),
            b"-ERR wrong number of arguments for 'get' command\r\n"
        );
        assert_eq!(
            run(&mut s, c, &[b"object", b"nope", b"k"]),
            b"-ERR unknown subcommand 'nope'. Try OBJECT HELP.\r\n"
        );
        assert_eq!(s.stats.total_error_replies, 3);
        assert_eq!(s.stats.errors_by_code, vec![(b"ERR".to_vec(), 3)]);
    }

    #[test]
    fn active_expiry_reclaims_within_budget() {
        let (mut s, c) = setup();
        for i in 0..5000 {
            run(&mut s, c, &[b"SET", format!("k{i}").as_bytes(), b"v", b"PX", b"10"]);
        }
        // Time is an input: move it past every TTL and let cron run a few rounds.
        let mut rounds = 0;
        while !s.dbs[0].is_empty() {
            s.cron(2_000_000);
            rounds += 1;
            s.check_invariants();
        }
        assert!(rounds > 1, "one round reclaims a bounded number of keys");
        assert_eq!(s.expired_keys(), 5000);
    }

    #[test]
    fn io_wait_parks_the_client_until_the_shell_reports() {
        let (mut s, c) = setup();
        let client = s.clients.take(c).expect("connected");
        s.wait_for_io(&client);
        let id = client.id;
        s.clients.put_back(c, client);
        let mut out = Vec::new();
        assert_eq!(
            s.resume(c, 5_000_000_000, &mut out),
            Flow::Blocked,
            "no deadline: still waiting"
        );
        // CLIENT UNBLOCK does not end an I/O wait.
        let other = crate::test_support::connect_loopback(&mut s);
        assert_eq!(
            run(&mut s, other, &[b"CLIENT", b"UNBLOCK", id.to_string().as_bytes()]),
            b":0\r\n"
        );
        s.finish_io(id, |r| r.error(b"ERR disk on fire"));
        assert_eq!(s.effects.pop(), Some(Effect::Unblocked(id)));
        assert_eq!(s.resume(c, 5_000_000_000, &mut out), Flow::Continue);
        assert_eq!(out, b"-ERR disk on fire\r\n");
        assert_eq!(s.stats.total_error_replies, 1);
        // A second report for the same client is ignored.
        s.finish_io(id, |r| r.simple(b"OK"));
        assert!(s.effects.is_empty());
    }

    #[test]
    fn reply_off_also_drops_a_later_blocked_reply() {
        let (mut s, c) = setup();
        let pusher = crate::test_support::connect_loopback(&mut s);
        assert_eq!(run(&mut s, c, &[b"CLIENT", b"REPLY", b"OFF"]), b"");
        assert_eq!(run(&mut s, c, &[b"BLPOP", b"q", b"0"]), b"");
        run(&mut s, pusher, &[b"RPUSH", b"q", b"a"]);
        let mut out = Vec::new();
        assert_eq!(s.resume(c, 1_000_000, &mut out), Flow::Continue);
        assert_eq!(out, b"", "replies are off");
        assert_eq!(
            run(&mut s, pusher, &[b"LLEN", b"q"]),
            b":0\r\n",
            "the element was still popped"
        );
    }

    #[test]
    fn dirty_counts_changed_keys_and_flushed_ones() {
        let (mut s, c) = setup();
        run(&mut s, c, &[b"SET", b"a", b"1"]);
        run(&mut s, c, &[b"MSET", b"b", b"1", b"c", b"2"]);
        run(&mut s, c, &[b"GET", b"a"]);
        assert_eq!(s.dirty, 3);
        run(&mut s, c, &[b"FLUSHALL"]);
        assert!(s.dirty >= 6, "a flush counts every key it removes: {}", s.dirty);
    }
}
