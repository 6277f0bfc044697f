//! Persistence formats, snapshots and the append-only file: how keel's values and keyspaces become bytes
//! on disk or on the wire, and back.
//!
//! Owns the RDB format (`rdb`): DUMP/RESTORE payloads and whole snapshot files; the forkless
//! point-in-time snapshot (`snapshot`) and its RDB framing (`rdb_snapshot`); the bookkeeping of saves
//! and loads (`save`, `load`); the append-only file's command format, replay and manifest (`aof_format`,
//! `aof_manifest`) and the status commands observe (`aof_status`). Everything here works on byte
//! buffers and `std::io::Read` sources handed in by the caller; it never opens files, reads clocks or
//! spawns anything (the shell does the I/O, as everywhere in keel-core).

pub mod aof_format;
pub mod aof_manifest;
pub mod aof_status;
pub mod load;
pub mod rdb;
pub mod rdb_snapshot;
pub mod save;
pub mod snapshot;

pub use aof_status::AofStatus;
