//! The zset type. The representation is a placeholder until the zset commands land: the data-types
//! work replaces it with the compact and large encodings and keeps this interface.

/// A zset value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ZSetValue {
    /// Members with their scores, in score order.
    pub items: Vec<(Vec<u8>, f64)>,
}

impl ZSetValue {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when empty (an empty zset is never stored: its key is removed).
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The name `OBJECT ENCODING` reports.
    pub fn encoding_name(&self) -> &'static str {
        "listpack"
    }

    /// Approximate heap bytes owned.
    pub fn heap_size(&self) -> usize {
        self.items.iter().map(|(m, _)| m.capacity() + 8).sum()
    }

    /// Every element, in the order the type defines.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], f64)> + '_ {
        self.items.iter().map(|(m, s)| (m.as_slice(), *s))
    }

    /// Removes and returns the member with the lowest score (ties: lowest member bytes).
    pub fn pop_min(&mut self) -> Option<(Vec<u8>, f64)> {
        (!self.items.is_empty()).then(|| self.items.remove(0))
    }

    /// Removes and returns the member with the highest score (ties: highest member bytes).
    pub fn pop_max(&mut self) -> Option<(Vec<u8>, f64)> {
        self.items.pop()
    }
}
