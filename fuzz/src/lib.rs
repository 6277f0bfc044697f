//! Shared code of keel's fuzz targets (`fuzz_targets/`), kept in a library so it can be unit tested with
//! `cargo test` and reused by the seed corpus generator (`examples/gen_corpus.rs`).
//!
//! - [`resp_check`]: a strict RESP2/RESP3 reply frame reader, independent of keel's own codec.
//! - [`script`]: the `commands` target's structured input and the harness that runs it on a `Server`.
//! - [`inline`]: quoting helpers for the `inline_split` target.
//! - [`rdb`]: the `rdb_load` and `restore_payload` targets (file reader, RESTORE payloads).

pub mod inline;
pub mod rdb;
pub mod resp_check;
pub mod script;
