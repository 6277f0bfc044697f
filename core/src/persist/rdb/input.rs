//! The byte source every RDB reader pulls from.
//!
//! Owns offset tracking (for error messages), the running CRC64 of the bytes consumed (for the file
//! checksum), and bounded reads: a declared length is only ever allocated as the bytes actually arrive, so
//! a lying length prefix costs at most the input's real size.

use std::io::Read;

use super::error::{ErrorKind, RdbError, Result};
use super::CRC64;

/// Bytes read per step when a declared length is large.
const CHUNK: usize = 64 * 1024;

/// A source of RDB bytes.
pub struct Input<R> {
    /// The underlying reader.
    inner: R,
    /// Bytes consumed so far.
    offset: u64,
    /// CRC64 of the bytes consumed so far, when the caller wants one.
    digest: Option<crc::Digest<'static, u64>>,
}

impl<R: Read> Input<R> {
    /// A source over `inner`, computing the CRC64 of what it reads when `checksum`.
    pub fn new(inner: R, checksum: bool) -> Input<R> {
        Input {
            inner,
            offset: 0,
            digest: checksum.then(|| CRC64.digest()),
        }
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// An error of `kind` at the current offset.
    pub fn error(&self, kind: ErrorKind) -> RdbError {
        RdbError::new(self.offset, kind)
    }

    /// A corruption error at the current offset.
    pub fn corrupt(&self, what: &'static str) -> RdbError {
        self.error(ErrorKind::Corrupt(what))
    }

    /// The CRC64 of everything consumed so far (0 when not computed).
    pub fn crc(&self) -> u64 {
        self.digest.clone().map(|d| d.finalize()).unwrap_or(0)
    }

    /// Fills `buf` entirely.
    pub fn read_exact(&mut self, buf: &mut [u8]) -> Result<()> {
        let mut filled = 0;
        while filled < buf.len() {
            match self.inner.read(&mut buf[filled..]) {
                Ok(0) => {
                    self.offset += filled as u64;
                    return Err(self.error(ErrorKind::UnexpectedEof));
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.offset += filled as u64;
                    return Err(self.error(ErrorKind::Io(e.to_string())));
                }
            }
        }
        if let Some(d) = &mut self.digest {
            d.update(buf);
        }
        self.offset += buf.len() as u64;
        Ok(())
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8> {
        let mut b = [0u8; 1];
        self.read_exact(&mut b)?;
        Ok(b[0])
    }

    /// A fixed-size array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut b = [0u8; N];
        self.read_exact(&mut b)?;
        Ok(b)
    }

    /// `len` bytes, allocated as they arrive (never `len` up front when it is large).
    pub fn bytes(&mut self, len: u64) -> Result<Vec<u8>> {
        let Ok(len) = usize::try_from(len) else {
            return Err(self.corrupt("length does not fit in memory"));
        };
        let mut out = Vec::with_capacity(len.min(CHUNK));
        while out.len() < len {
            let start = out.len();
            let step = (len - start).min(CHUNK);
            out.resize(start + step, 0);
            self.read_exact(&mut out[start..])?;
        }
        Ok(out)
    }
}
