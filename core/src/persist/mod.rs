//! Persistence formats: how keel's values and keyspaces become bytes on disk or on the wire, and back.
//!
//! Owns the RDB format (`rdb`): DUMP/RESTORE payloads and whole snapshot files. Everything here works on
//! byte buffers and `std::io::Read` sources handed in by the caller; it never opens files, reads clocks
//! or spawns anything (the shell does the I/O, as everywhere in keel-core).

pub mod rdb;
