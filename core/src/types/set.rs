//! The set type. The representation is a placeholder until the set commands land: the data-types
//! work replaces it with the compact and large encodings and keeps this interface.

/// A set value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SetValue {
    /// Members, each once.
    pub items: Vec<Vec<u8>>,
}

impl SetValue {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when empty (an empty set is never stored: its key is removed).
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The name `OBJECT ENCODING` reports.
    pub fn encoding_name(&self) -> &'static str {
        "intset"
    }

    /// Approximate heap bytes owned.
    pub fn heap_size(&self) -> usize {
        self.items.iter().map(|i| i.capacity()).sum()
    }

    /// Every element, in the order the type defines.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.items.iter().map(|i| i.as_slice())
    }
}
