//! Persistence: the pure parts of keel's data files and the persistence state commands observe.
//!
//! Owns formats and file naming (no file is ever opened here: the shell reads and writes through its
//! storage layer and hands bytes in or takes bytes out) and the status figures `INFO persistence`
//! reports and write commands consult.

pub mod aof_format;
pub mod aof_manifest;
pub mod aof_status;

pub use aof_status::AofStatus;
