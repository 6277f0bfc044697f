//! The driver behind the `versus` binary (placeholder, filled in below).
