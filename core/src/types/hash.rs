//! The hash type. The representation is a placeholder until the hash commands land: the data-types
//! work replaces it with the compact and large encodings and keeps this interface.

/// A hash value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HashValue {
    /// Field/value pairs, each field once.
    pub items: Vec<(Vec<u8>, Vec<u8>)>,
}

impl HashValue {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when empty (an empty hash is never stored: its key is removed).
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The name `OBJECT ENCODING` reports.
    pub fn encoding_name(&self) -> &'static str {
        "listpack"
    }

    /// Approximate heap bytes owned.
    pub fn heap_size(&self) -> usize {
        self.items.iter().map(|(f, v)| f.capacity() + v.capacity()).sum()
    }

    /// Every element, in the order the type defines.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.items.iter().map(|(f, v)| (f.as_slice(), v.as_slice()))
    }
}
