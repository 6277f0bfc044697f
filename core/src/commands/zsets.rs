//! The sorted set family. (Commands land with the data-types work.)

use super::Registry;

/// Registers the family's handlers.
pub fn register(_r: &mut Registry) {}
