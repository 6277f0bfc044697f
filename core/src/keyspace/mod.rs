//! The keyspace: databases of keys with expiry.
//!
//! Owns storage and lookup of keys and the expiry index; it does not parse commands or format replies.

pub mod access;
pub mod db;
mod slot_vec;

pub use db::{Db, Entry, Slots, NO_EXPIRE};

#[cfg(test)]
mod entry_tests;
