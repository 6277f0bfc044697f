//! Persistence: how keel's keyspace becomes a stream of bytes for the shell to store, and back.
//!
//! Owns the forkless point-in-time snapshot (`snapshot`) and the bookkeeping of saves (`save`). It
//! never opens files, reads clocks or spawns anything: the shell does the I/O, as everywhere in
//! keel-core.

pub mod save;
pub mod snapshot;
