//! Disk access for persistence: the one interface through which keel reads and writes its data files
//! (snapshots, append-only files, the ACL file).
//!
//! Production uses [`OsStorage`], a thin layer over `std::fs`. The simulator supplies its own
//! [`Storage`] that injects failed writes, failed fsyncs, torn writes and the loss of unsynced data at a
//! crash, so every caller must treat each method as fallible and must not assume that data survives a
//! crash before [`StorageFile::sync`] returned `Ok`. Nothing else in keel-net touches data files
//! directly. Calls are synchronous and short; callers run them where blocking briefly is acceptable.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A file open for writing.
pub trait StorageFile: Send {
    /// Appends all of `buf` (it may be partly written when this fails).
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()>;
    /// Makes everything written so far durable (fsync).
    fn sync(&mut self) -> io::Result<()>;
}

/// The file system as persistence sees it.
pub trait Storage: Send + Sync + 'static {
    /// Creates `path` for writing, truncating an existing file.
    fn create(&self, path: &Path) -> io::Result<Box<dyn StorageFile>>;
    /// Opens `path` for appending, creating it if missing.
    fn append(&self, path: &Path) -> io::Result<Box<dyn StorageFile>>;
    /// Opens `path` for reading.
    fn open(&self, path: &Path) -> io::Result<Box<dyn Read + Send>>;
    /// The size of `path` in bytes, `None` when it does not exist.
    fn size(&self, path: &Path) -> io::Result<Option<u64>>;
    /// Atomically replaces `to` with `from`.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Deletes `path`; a missing file is not an error.
    fn remove(&self, path: &Path) -> io::Result<()>;
    /// Creates `dir` and its parents if missing.
    fn create_dir_all(&self, dir: &Path) -> io::Result<()>;
    /// The names of the entries of `dir`, sorted.
    fn list(&self, dir: &Path) -> io::Result<Vec<String>>;
    /// Makes the creations, renames and removals in `dir` durable (fsync of the directory).
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
    /// Cuts `path` to its first `len` bytes and makes that durable (a torn append-only file tail).
    fn truncate(&self, path: &Path, len: u64) -> io::Result<()>;
}

/// Storage on the real file system.
#[derive(Clone, Copy, Debug, Default)]
pub struct OsStorage;

struct OsFile(File);

impl StorageFile for OsFile {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0.write_all(buf)
    }

    fn sync(&mut self) -> io::Result<()> {
        self.0.sync_data()
    }
}

impl Storage for OsStorage {
    fn create(&self, path: &Path) -> io::Result<Box<dyn StorageFile>> {
        Ok(Box::new(OsFile(File::create(path)?)))
    }

    fn append(&self, path: &Path) -> io::Result<Box<dyn StorageFile>> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Box::new(OsFile(file)))
    }

    fn open(&self, path: &Path) -> io::Result<Box<dyn Read + Send>> {
        Ok(Box::new(io::BufReader::with_capacity(1 << 16, File::open(path)?)))
    }

    fn size(&self, path: &Path) -> io::Result<Option<u64>> {
        match fs::metadata(path) {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        fs::rename(from, to)
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        match fs::remove_file(path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        fs::create_dir_all(dir)
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in fs::read_dir(dir)? {
            names.push(entry?.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        Ok(names)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        File::open(dir)?.sync_all()
    }

    fn truncate(&self, path: &Path, len: u64) -> io::Result<()> {
        let file = OpenOptions::new().write(true).open(path)?;
        file.set_len(len)?;
        file.sync_all()
    }
}

/// Tells apart the temporary files of concurrent atomic writes in one process.
static TEMP_SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// Writes a file so that readers and crashes only ever see the old contents or the complete new ones:
/// the data goes to a temporary file in the same directory, which is fsynced, renamed over the target,
/// and the directory fsynced. Dropping the writer before [`AtomicWriter::commit`] removes the temporary.
pub struct AtomicWriter {
    storage: Arc<dyn Storage>,
    file: Option<Box<dyn StorageFile>>,
    temp: PathBuf,
    target: PathBuf,
}

impl AtomicWriter {
    /// Starts replacing `target`.
    pub fn begin(storage: Arc<dyn Storage>, target: &Path) -> io::Result<AtomicWriter> {
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let seq = TEMP_SEQUENCE.fetch_add(1, Ordering::Relaxed);
        let temp = target.with_file_name(format!("temp-{}-{seq}-{name}", std::process::id()));
        let file = storage.create(&temp)?;
        Ok(AtomicWriter {
            storage,
            file: Some(file),
            temp,
            target: target.to_path_buf(),
        })
    }

    /// Appends `buf` to the new contents.
    pub fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match &mut self.file {
            Some(f) => f.write_all(buf),
            None => Err(io::Error::other("atomic write already finished")),
        }
    }

    /// Makes the new contents durable and puts them in place.
    pub fn commit(mut self) -> io::Result<()> {
        let mut file = self
            .file
            .take()
            .ok_or_else(|| io::Error::other("atomic write already finished"))?;
        let placed = file.sync().and_then(|()| {
            drop(file);
            self.storage.rename(&self.temp, &self.target)
        });
        if let Err(e) = placed {
            // The target keeps its old contents; the temporary would only be a stray file.
            let _ = self.storage.remove(&self.temp);
            return Err(e);
        }
        let dir = match self.target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        self.storage.sync_dir(&dir)
    }
}

impl Drop for AtomicWriter {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            // Abandoned before commit: the target keeps its old contents. A failure to remove the
            // temporary only leaves a stray file behind.
            let _ = self.storage.remove(&self.temp);
        }
    }
}

/// Writes `bytes` to `target` atomically (see [`AtomicWriter`]).
pub fn write_atomically(storage: Arc<dyn Storage>, target: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut w = AtomicWriter::begin(storage, target)?;
    w.write_all(bytes)?;
    w.commit()
}

/// Reads all of `path`.
pub fn read_all(storage: &dyn Storage, path: &Path) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    storage.open(path)?.read_to_end(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("keel-storage-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn atomic_write_replaces_only_on_commit() {
        let dir = scratch("atomic");
        let storage: Arc<dyn Storage> = Arc::new(OsStorage);
        let target = dir.join("data.bin");
        write_atomically(storage.clone(), &target, b"first").unwrap();
        assert_eq!(read_all(storage.as_ref(), &target).unwrap(), b"first");

        let mut abandoned = AtomicWriter::begin(storage.clone(), &target).unwrap();
        abandoned.write_all(b"half of the sec").unwrap();
        drop(abandoned);
        assert_eq!(read_all(storage.as_ref(), &target).unwrap(), b"first");
        assert_eq!(
            storage.list(&dir).unwrap(),
            vec!["data.bin".to_string()],
            "temporary removed"
        );

        write_atomically(storage.clone(), &target, b"second").unwrap();
        assert_eq!(read_all(storage.as_ref(), &target).unwrap(), b"second");
        assert_eq!(storage.size(&target).unwrap(), Some(6));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn append_size_remove_and_missing_files() {
        let dir = scratch("append");
        let s = OsStorage;
        let path = dir.join("log");
        assert_eq!(s.size(&path).unwrap(), None);
        for part in [&b"ab"[..], b"cd"] {
            let mut f = s.append(&path).unwrap();
            f.write_all(part).unwrap();
            f.sync().unwrap();
        }
        assert_eq!(read_all(&s, &path).unwrap(), b"abcd");
        s.remove(&path).unwrap();
        s.remove(&path).unwrap();
        assert!(s.open(&path).is_err());
        fs::remove_dir_all(&dir).unwrap();
    }
}
