//! (in progress)
use super::Registry;

/// Registers the family's handlers.
pub fn register(_r: &mut Registry) {}
