//! keel-jepsen: operation histories and a linearizability checker for keel's keyspace.
//!
//! A [`History`] records what clients saw: an *invocation* when a command is sent and a *completion*
//! when its reply arrives (`ok`), when it definitely did not run (`fail`), or when the client cannot know
//! (`info`: it timed out, its connection broke, or the client crashed and no completion was ever
//! written). Every event carries the process (client connection) and a time in microseconds; histories
//! are written one event per line in a plain text format ([`history`]), so a failing run can be saved,
//! read and replayed through the checker.
//!
//! [`check`] decides whether a history is linearizable: whether every operation can be given one
//! instant between its invocation and its completion such that the replies are those of a single copy
//! of the keyspace executing the operations one at a time in that order. The checker is generic over a
//! [`Model`] (a sequential specification that knows the time window of each operation); the one used
//! is [`Keyspace`] ([`model`]): typed values (strings, lists, hashes, sets, sorted sets) with optional
//! expiry deadlines, where each command — and each MULTI/EXEC transaction, as one operation over
//! several keys, guarded by the reads made after WATCH — is a function of the keyspace and the time at
//! which it takes effect. Linearizability is P-compositional (Herlihy and Wing): a history is
//! linearizable if and only if its restriction to every independent object is. The checker takes as
//! objects the *connected key groups* (keys joined by a transaction, transitively), so histories
//! without transactions are checked key by key, which keeps the search small.
//!
//! A server restart without persistence empties the keyspace: the history marks it with a `restart`
//! event, and the operations invoked between two restarts form an *epoch* that is checked on its own
//! from an empty keyspace (see [`history::Operation::epoch`]).
//!
//! # Why our own checker
//!
//! The checker is a Wing & Gong search with Lowe's memoization (the "WGL" algorithm of Lowe, *Testing
//! for linearizability*, 2017, also used by Knossos and Porcupine), written here rather than taken from
//! `stateright` (0.31, `semantics::LinearizabilityTester`) or `todc-utils` (0.1, `WGLChecker`) because
//! keel's keys expire with time, and neither crate fits that:
//!
//! - whether a read sees a key with a TTL depends on *when* inside its invocation–completion window the
//!   read took effect, and the deadline itself depends on when the SET or EXPIRE took effect. The model
//!   therefore needs the operation's time window and must be nondeterministic (an operation at an
//!   unknown instant may see the key alive or expired). Both crates take a deterministic sequential
//!   specification of operations without times;
//! - operations that never complete (client crash, timeout) must be allowed to take effect or not, at
//!   any later time; and `fail`ed operations must be dropped.
//!
//! The search is a few hundred lines, has no dependencies, and reports the longest linearizable prefix and
//! the operations that could not follow it, which is what one needs to read a failure.

pub mod checker;
pub mod history;
pub mod model;

pub use checker::{check, check_model, check_with_budget, CheckResult, Violation};
pub use history::{Command, Event, EventKind, History, Op, OpKind, Operation, ParseError, Txn, Value};
pub use model::{Keyspace, Model};
