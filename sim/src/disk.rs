//! A simulated disk for keel's [`Storage`] interface: files kept in memory, outside the simulated
//! nodes so they survive a server crash, with the faults a real disk shows.
//!
//! Every file has what readers see now (`current`) and what survives a crash (`durable`). A write
//! changes `current`; a successful [`StorageFile::sync`] makes `durable` equal to it. [`SimDisk::crash`]
//! (called when the nemesis kills the server node) throws away unsynced data — except a random prefix
//! of it, as a disk that had flushed some pages by itself would keep. Name operations (create, rename,
//! remove, truncate) are durable at once, the behaviour keel's atomic writer and truncation rely on
//! after their fsyncs. With [`DiskFaults`] set, writes fail with EIO (some after writing a random part:
//! a torn write) and fsyncs fail with EIO. Every random choice comes from madsim's seeded generator, so
//! a run stays a function of its seed.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use keel_net::storage::{Storage, StorageFile};
use madsim::rand::{thread_rng, Rng};

/// Fault probabilities, each in [0, 1].
#[derive(Clone, Copy, Debug, Default)]
pub struct DiskFaults {
    /// A write fails with EIO.
    pub write_error: f64,
    /// A failing write first writes a random part of its bytes.
    pub torn_write: f64,
    /// An fsync fails with EIO (nothing new becomes durable).
    pub sync_error: f64,
}

#[derive(Default)]
struct FileData {
    current: Vec<u8>,
    durable: Vec<u8>,
}

#[derive(Default)]
struct DiskState {
    files: BTreeMap<PathBuf, FileData>,
    dirs: BTreeSet<PathBuf>,
    faults: DiskFaults,
    /// One line per injected fault.
    log: Vec<String>,
}

/// The simulated disk of one server (clone it into the node's start-up; clones share the files).
#[derive(Clone, Default)]
pub struct SimDisk {
    state: Arc<Mutex<DiskState>>,
}

fn eio() -> io::Error {
    io::Error::from_raw_os_error(5)
}

impl SimDisk {
    /// An empty disk without faults.
    pub fn new() -> SimDisk {
        SimDisk::default()
    }

    fn lock(&self) -> MutexGuard<'_, DiskState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sets the fault probabilities from now on.
    pub fn set_faults(&self, faults: DiskFaults) {
        self.lock().faults = faults;
    }

    /// The faults injected so far.
    pub fn log(&self) -> Vec<String> {
        self.lock().log.clone()
    }

    /// The machine lost power: every file keeps its durable part plus a random prefix of the rest.
    pub fn crash(&self) {
        let mut rng = thread_rng();
        let mut s = self.lock();
        let mut lost = Vec::new();
        for (path, f) in s.files.iter_mut() {
            let synced_prefix = f.current.starts_with(&f.durable);
            let keep = if synced_prefix && f.current.len() > f.durable.len() {
                rng.gen_range(f.durable.len()..=f.current.len())
            } else {
                f.durable.len()
            };
            let mut survived = if synced_prefix {
                f.current[..keep].to_vec()
            } else {
                f.durable.clone()
            };
            std::mem::swap(&mut survived, &mut f.current);
            if survived.len() != f.current.len() {
                lost.push(format!(
                    "crash: {} lost {} unsynced bytes",
                    path.display(),
                    survived.len() - f.current.len()
                ));
            }
            f.durable = f.current.clone();
        }
        s.log.extend(lost);
    }

    /// What a file holds now (tests).
    pub fn read(&self, path: &Path) -> Option<Vec<u8>> {
        self.lock().files.get(path).map(|f| f.current.clone())
    }
}

struct SimFile {
    disk: SimDisk,
    path: PathBuf,
}

impl StorageFile for SimFile {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        let mut rng = thread_rng();
        let mut s = self.disk.lock();
        let faults = s.faults;
        if rng.gen_bool(faults.write_error.clamp(0.0, 1.0)) {
            let part = if rng.gen_bool(faults.torn_write.clamp(0.0, 1.0)) && !buf.is_empty() {
                rng.gen_range(0..buf.len())
            } else {
                0
            };
            if let Some(f) = s.files.get_mut(&self.path) {
                f.current.extend_from_slice(&buf[..part]);
            }
            let line = format!(
                "write EIO on {} after {part} of {} bytes",
                self.path.display(),
                buf.len()
            );
            s.log.push(line);
            return Err(eio());
        }
        match s.files.get_mut(&self.path) {
            Some(f) => {
                f.current.extend_from_slice(buf);
                Ok(())
            }
            None => Err(io::Error::from(io::ErrorKind::NotFound)),
        }
    }

    fn sync(&mut self) -> io::Result<()> {
        let mut rng = thread_rng();
        let mut s = self.disk.lock();
        if rng.gen_bool(s.faults.sync_error.clamp(0.0, 1.0)) {
            let line = format!("fsync EIO on {}", self.path.display());
            s.log.push(line);
            return Err(eio());
        }
        match s.files.get_mut(&self.path) {
            Some(f) => {
                f.durable = f.current.clone();
                Ok(())
            }
            None => Err(io::Error::from(io::ErrorKind::NotFound)),
        }
    }
}

impl Storage for SimDisk {
    fn create(&self, path: &Path) -> io::Result<Box<dyn StorageFile>> {
        self.lock().files.insert(path.to_path_buf(), FileData::default());
        Ok(Box::new(SimFile {
            disk: self.clone(),
            path: path.to_path_buf(),
        }))
    }

    fn append(&self, path: &Path) -> io::Result<Box<dyn StorageFile>> {
        self.lock().files.entry(path.to_path_buf()).or_default();
        Ok(Box::new(SimFile {
            disk: self.clone(),
            path: path.to_path_buf(),
        }))
    }

    fn open(&self, path: &Path) -> io::Result<Box<dyn Read + Send>> {
        match self.lock().files.get(path) {
            Some(f) => Ok(Box::new(Cursor::new(f.current.clone()))),
            None => Err(io::Error::from(io::ErrorKind::NotFound)),
        }
    }

    fn size(&self, path: &Path) -> io::Result<Option<u64>> {
        Ok(self.lock().files.get(path).map(|f| f.current.len() as u64))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut s = self.lock();
        let f = s
            .files
            .remove(from)
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))?;
        s.files.insert(to.to_path_buf(), f);
        Ok(())
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        self.lock().files.remove(path);
        Ok(())
    }

    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        self.lock().dirs.insert(dir.to_path_buf());
        Ok(())
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let s = self.lock();
        Ok(s.files
            .keys()
            .filter(|p| p.parent() == Some(dir))
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect())
    }

    fn sync_dir(&self, _dir: &Path) -> io::Result<()> {
        Ok(())
    }

    fn truncate(&self, path: &Path, len: u64) -> io::Result<()> {
        let mut s = self.lock();
        let f = s
            .files
            .get_mut(path)
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))?;
        f.current.truncate(len as usize);
        f.durable = f.current.clone();
        Ok(())
    }
}
