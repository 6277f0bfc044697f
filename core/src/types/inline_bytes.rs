//! Immutable byte strings that keep short contents inline and box only longer ones.
//!
//! Owns the small-string layout shared by keys and `embstr` string values: up to [`INLINE_CAP`] bytes
//! live inside the 24-byte value itself (no allocation, no pointer to follow), anything longer sits in
//! one boxed slice. It never grows in place: a changed string is a new value.

use std::fmt;
use std::ops::Deref;

/// The most bytes stored without an allocation. With the length byte and the variant tag it makes the
/// whole value 24 bytes, the size of the boxed form plus its tag.
pub const INLINE_CAP: usize = 22;

/// A byte string, inline up to [`INLINE_CAP`] bytes, boxed beyond.
#[derive(Clone)]
pub enum InlineBytes {
    /// `len` bytes at the start of `buf`; the rest of `buf` is zero.
    Inline {
        /// Number of bytes used in `buf` (at most [`INLINE_CAP`]).
        len: u8,
        /// The bytes, zero-padded.
        buf: [u8; INLINE_CAP],
    },
    /// Longer contents, exactly sized.
    Boxed(Box<[u8]>),
}

impl InlineBytes {
    /// A copy of `bytes`, inline when it fits.
    #[inline]
    pub fn new(bytes: &[u8]) -> InlineBytes {
        if bytes.len() <= INLINE_CAP {
            let mut buf = [0u8; INLINE_CAP];
            buf[..bytes.len()].copy_from_slice(bytes);
            InlineBytes::Inline {
                len: bytes.len() as u8,
                buf,
            }
        } else {
            InlineBytes::Boxed(bytes.into())
        }
    }

    /// The bytes.
    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        match self {
            // `len` is never above INLINE_CAP (only `new` builds this variant); `get` keeps it panic-free.
            InlineBytes::Inline { len, buf } => buf.get(..*len as usize).unwrap_or(buf),
            InlineBytes::Boxed(b) => b,
        }
    }

    /// True when the bytes are stored inline.
    pub fn is_inline(&self) -> bool {
        matches!(self, InlineBytes::Inline { .. })
    }

    /// Heap bytes owned (zero when inline).
    pub fn heap_size(&self) -> usize {
        match self {
            InlineBytes::Inline { .. } => 0,
            InlineBytes::Boxed(b) => b.len(),
        }
    }

    /// The bytes as a boxed slice (moved when already boxed).
    pub fn into_boxed(self) -> Box<[u8]> {
        match self {
            InlineBytes::Inline { .. } => self.as_slice().into(),
            InlineBytes::Boxed(b) => b,
        }
    }
}

impl Deref for InlineBytes {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl From<&[u8]> for InlineBytes {
    fn from(bytes: &[u8]) -> InlineBytes {
        InlineBytes::new(bytes)
    }
}

impl PartialEq for InlineBytes {
    fn eq(&self, other: &InlineBytes) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for InlineBytes {}

impl fmt::Debug for InlineBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_slice(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_24_bytes() {
        assert_eq!(std::mem::size_of::<InlineBytes>(), 24);
    }

    #[test]
    fn inline_up_to_the_cap_boxed_beyond() {
        for len in [0, 1, INLINE_CAP - 1, INLINE_CAP, INLINE_CAP + 1, 100] {
            // Binary content, including zero bytes that must not be mistaken for padding.
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 % 256) as u8).collect();
            let b = InlineBytes::new(&bytes);
            assert_eq!(b.as_slice(), &bytes[..], "len {len}");
            assert_eq!(b.is_inline(), len <= INLINE_CAP, "len {len}");
            assert_eq!(b.heap_size(), if len <= INLINE_CAP { 0 } else { len });
            assert_eq!(&*b.clone().into_boxed(), &bytes[..]);
        }
        // Trailing zeros are content, not padding.
        assert_ne!(InlineBytes::new(b"a\0"), InlineBytes::new(b"a"));
        assert_eq!(InlineBytes::new(b"a\0"), InlineBytes::new(b"a\0"));
    }
}
