//! The list type. The representation is a placeholder until the list commands land: the data-types
//! work replaces it with the compact and large encodings and keeps this interface.

/// A list value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListValue {
    /// Elements from head to tail.
    pub items: Vec<Vec<u8>>,
}

impl ListValue {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when empty (an empty list is never stored: its key is removed).
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The name `OBJECT ENCODING` reports.
    pub fn encoding_name(&self) -> &'static str {
        "quicklist"
    }

    /// Approximate heap bytes owned.
    pub fn heap_size(&self) -> usize {
        self.items.iter().map(|i| i.capacity()).sum()
    }

    /// Every element, in the order the type defines.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.items.iter().map(|i| i.as_slice())
    }

    /// Adds an element at the head.
    pub fn push_front(&mut self, item: Vec<u8>) {
        self.items.insert(0, item);
    }

    /// Adds an element at the tail.
    pub fn push_back(&mut self, item: Vec<u8>) {
        self.items.push(item);
    }

    /// Removes and returns the head element.
    pub fn pop_front(&mut self) -> Option<Vec<u8>> {
        (!self.items.is_empty()).then(|| self.items.remove(0))
    }

    /// Removes and returns the tail element.
    pub fn pop_back(&mut self) -> Option<Vec<u8>> {
        self.items.pop()
    }
}
