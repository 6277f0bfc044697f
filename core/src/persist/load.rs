//! Loading an RDB stream into the databases (start-up, DEBUG RELOAD).
//!
//! Owns what happens to each item of a file: which database it goes to, dropping keys already expired,
//! refusing duplicates and databases out of range. It never opens the file: the shell hands in any
//! `Read`.

use std::io::Read;

use crate::persist::rdb::error::ErrorKind;
use crate::persist::rdb::{FileItem, LoadParams, RdbError, RdbReader};
use crate::Server;

/// What a load found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoadStats {
    /// Keys stored.
    pub keys_loaded: u64,
    /// Keys skipped because their TTL had passed.
    pub keys_expired: u64,
}

impl Server {
    /// Adds every key of the RDB stream `source` to the databases (which should be empty), dropping
    /// keys expired at `now_ms`. On error the databases hold what was read before it.
    pub fn load_rdb(&mut self, source: impl Read, now_ms: i64) -> Result<LoadStats, RdbError> {
        let seed = rand::Rng::random(&mut self.rng);
        let params = LoadParams::from_config(&self.config, seed);
        let mut reader = RdbReader::new(source, params)?;
        let mut stats = LoadStats::default();
        let mut db = 0usize;
        self.persistence.loading = true;
        let result = loop {
            let item = match reader.next_item() {
                Ok(item) => item,
                Err(e) => break Err(e),
            };
            match item {
                FileItem::End => break Ok(()),
                FileItem::SelectDb(n) => {
                    if n >= self.dbs.len() as u64 {
                        break Err(RdbError::new(
                            reader.offset(),
                            ErrorKind::Corrupt("the file selects a database beyond `databases`"),
                        ));
                    }
                    db = n as usize;
                }
                FileItem::Entry(e) => {
                    if e.expire_ms.is_some_and(|at| at < now_ms) {
                        stats.keys_expired += 1;
                        continue;
                    }
                    if self.dbs[db].is_stored(&e.key) {
                        break Err(RdbError::new(reader.offset(), ErrorKind::Corrupt("duplicate key")));
                    }
                    let expire = e.expire_ms.unwrap_or(crate::keyspace::NO_EXPIRE);
                    // The file's idle time or LFU counter, as the reference applies them.
                    let stamp = e.access_stamp(&self.config, now_ms);
                    self.dbs[db].insert_new(&e.key, e.value, expire, stamp);
                    stats.keys_loaded += 1;
                }
                FileItem::Aux { .. } | FileItem::ResizeDb { .. } => {}
            }
        };
        self.persistence.loading = false;
        self.persistence.last_load_keys_loaded = stats.keys_loaded;
        self.persistence.last_load_keys_expired = stats.keys_expired;
        result.map(|()| stats)
    }
}

impl Server {
    /// Empties every database before `DEBUG RELOAD` loads the snapshot back (abandoning any snapshot:
    /// none may run across a wholesale replacement).
    pub fn empty_for_reload(&mut self) {
        if let Some(s) = self.persistence.snapshot.take() {
            s.abort(&mut self.dbs);
            self.persistence.kind = None;
        }
        for db in 0..self.dbs.len() {
            self.signal_flush(db);
            self.dbs[db].clear();
        }
    }

    /// Ends `DEBUG RELOAD` for client `id`: "OK", or the reference's error when loading failed.
    pub fn reload_finished(&mut self, id: crate::ClientId, loaded: bool) {
        self.finish_io(id, |r| {
            if loaded {
                r.ok()
            } else {
                r.error(b"ERR Error trying to load the RDB dump, check server logs.")
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::persist::save::SnapshotPull;
    use crate::{Config, ProcessInfo, Server};

    use crate::test_support::run_at as run;

    #[test]
    fn idle_times_survive_a_save_and_load_under_lru() {
        let mut config = Config::default();
        config.set_startup("maxmemory-policy", "allkeys-lru").unwrap();
        let mut s = Server::new(config.clone(), 1, 0, ProcessInfo::default());
        let c = crate::test_support::connect_loopback(&mut s);
        run(&mut s, c, &["SET", "k", "v"], 1_000);
        // Live when the snapshot starts, expired when the file is loaded.
        run(&mut s, c, &["SET", "gone", "v", "PX", "149000"], 1_000);
        assert!(crate::commands::persistence::start_rdb_snapshot(
            &mut s,
            crate::persist::save::SaveKind::Background,
            101_000
        ));
        let id = s.running_snapshot().unwrap();
        let mut file = Vec::new();
        while let SnapshotPull::Bytes(b) = s.snapshot_chunk(id, 1 << 16) {
            file.extend_from_slice(&b);
        }
        let mut loaded = Server::new(config, 2, 200_000, ProcessInfo::default());
        let stats = loaded.load_rdb(&file[..], 200_000).unwrap();
        assert_eq!((stats.keys_loaded, stats.keys_expired), (1, 1));
        let c = crate::test_support::connect_loopback(&mut loaded);
        // The idle time recorded at the save (100 s), counted from the load.
        assert_eq!(run(&mut loaded, c, &["OBJECT", "IDLETIME", "k"], 200_000), ":100\r\n");
    }
}
