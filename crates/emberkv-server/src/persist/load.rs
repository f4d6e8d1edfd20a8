//! Loading an RDB into the keyspace: at start (the workers already serve,
//! answering -LOADING, while this runs on the start-up thread) and for
//! DEBUG RELOAD. Keys go in batches, each under the locks of the shards it
//! touches, so INFO and the refusals are served throughout.

use crate::server::Server;
use emberkv_core::store::EntryPtr;
use emberkv_persist::snapshot::load::{load, LoadError, Loaded, Lru, Options, Sink};
use emberkv_persist::value::{into_entry, Value};
use std::path::Path;
use std::sync::atomic::Ordering::Relaxed;
use tracing::info;

const BATCH: usize = 1024;

pub(super) struct Loader<'a> {
    srv: &'a Server,
    now_ms: i64,
    lru: u32,
    /// DEBUG RELOAD MERGE: a key already present is replaced, not fatal.
    merge: bool,
    /// key-load-delay (microseconds per key), for tests that watch loading.
    delay: i64,
    batch: Vec<(u64, usize, EntryPtr)>,
    loaded: u64,
    expired: u64,
    functions: Vec<Vec<u8>>,
    /// The file's size, the bound on what its RESIZEDB may ask for.
    file_len: u64,
}

impl<'a> Loader<'a> {
    /// A loader into `srv`'s keyspace; `file_len` bounds what a RESIZEDB
    /// may reserve.
    pub(super) fn new(srv: &'a Server, merge: bool, file_len: u64) -> Self {
        let now_ms = crate::util::unix_ms();
        Loader {
            srv,
            now_ms,
            lru: ((now_ms / 1000) as u32) & 0xff_ffff,
            merge,
            delay: srv.config.read().int("key-load-delay"),
            batch: Vec::with_capacity(BATCH),
            loaded: 0,
            expired: 0,
            functions: Vec::new(),
            file_len,
        }
    }

    /// The last batch in, then the function libraries the file held.
    pub(super) fn finish(&mut self) -> Result<(), String> {
        self.flush()?;
        for code in std::mem::take(&mut self.functions) {
            let lib = crate::script::library::build(self.srv, &code)
                .map_err(|e| format!("Failed loading library, {e}"))?;
            self.srv
                .scripts
                .functions
                .add(lib, self.merge)
                .map_err(|e| format!("Failed loading library, {e}"))?;
        }
        Ok(())
    }

    /// One key into the batch: a master drops keys that expired while the
    /// file sat on disk; `make` builds the entry of the others.
    fn add(
        &mut self,
        db: usize,
        key: &[u8],
        expire: Option<i64>,
        lru: Lru,
        make: impl FnOnce(&[u8], Option<i64>, u32) -> EntryPtr,
    ) -> Result<(), String> {
        if self.delay > 0 {
            std::thread::sleep(std::time::Duration::from_micros(self.delay as u64));
        }
        if matches!(expire, Some(t) if t < self.now_ms) {
            self.expired += 1;
            return Ok(());
        }
        let stamp = self.stamp(lru);
        let h = self.srv.store.hash(key);
        self.batch.push((h, db, make(key, expire, stamp)));
        self.loaded += 1;
        if self.batch.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    /// The LRU clock of a key that was idle `lru` seconds when saved.
    fn stamp(&self, lru: Lru) -> u32 {
        match lru {
            Lru::Idle(secs) => self.lru.wrapping_sub(secs.min(0xff_ffff) as u32) & 0xff_ffff,
            _ => self.lru,
        }
    }

    fn flush(&mut self) -> Result<(), String> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let store = &self.srv.store;
        let mut locked = store.lock_many(self.batch.iter().map(|b| b.0));
        // Two passes of prefetches, then the inserts: the bucket slots of
        // the whole batch, then the chain heads they point at, so the
        // batch's cache misses overlap instead of coming one per key.
        for &(h, db, _) in &self.batch {
            locked.table(h, db).prefetch_bucket(h);
        }
        for &(h, db, _) in &self.batch {
            locked.table(h, db).prefetch_chain(h);
        }
        let mut dup = None;
        for (h, db, e) in self.batch.drain(..) {
            let t = locked.table(h, db);
            let key = e.as_ref().key();
            if let Some(old) = t.remove(h, key) {
                if !self.merge && dup.is_none() {
                    dup = Some(format!(
                        "RDB has duplicated key '{}' in DB {db}",
                        String::from_utf8_lossy(key)
                    ));
                }
                old.free();
            }
            t.insert_loaded(h, e);
        }
        match dup {
            Some(d) => Err(d),
            None => Ok(()),
        }
    }
}

impl Sink for Loader<'_> {
    fn aux(&mut self, key: &[u8], val: &[u8]) {
        let v = String::from_utf8_lossy(val);
        match key {
            b"redis-ver" => info!("Loading RDB produced by version {v}"),
            b"ctime" => {
                if let Ok(t) = v.parse::<i64>() {
                    let age = (self.now_ms / 1000 - t).max(0);
                    info!("RDB age {age} seconds");
                }
            }
            b"used-mem" => {
                if let Ok(m) = v.parse::<u64>() {
                    self.srv.persist.load.rdb_used_mem.store(m, Relaxed);
                    info!(
                        "RDB memory usage when created {:.2} Mb",
                        m as f64 / 1048576.0
                    );
                }
            }
            _ => {}
        }
    }

    fn function(&mut self, code: &[u8]) -> Result<(), String> {
        self.functions.push(code.to_vec());
        Ok(())
    }

    fn resize(&mut self, db: usize, keys: u64, _expires: u64) {
        if self.merge {
            return;
        }
        // The count is the file's word: trusted only as far as the file
        // could hold that many keys (3 bytes each at the least).
        let store = &self.srv.store;
        let n = store.nshards();
        let keys = keys.min(self.file_len / 3) as usize / n;
        for i in 0..n {
            store.lock_index(i).dbs[db].reserve(keys);
        }
    }

    fn entry(
        &mut self,
        db: usize,
        key: Vec<u8>,
        val: Value,
        expire: Option<i64>,
        lru: Lru,
    ) -> Result<(), String> {
        self.add(db, &key, expire, lru, |k, exp, stamp| {
            into_entry(k, val, exp, stamp)
        })
    }

    fn string_entry(
        &mut self,
        db: usize,
        key: &[u8],
        val: &[u8],
        expire: Option<i64>,
        lru: Lru,
    ) -> Result<(), String> {
        self.add(db, key, expire, lru, |k, exp, stamp| {
            EntryPtr::new_string(k, val, exp, 0, stamp)
        })
    }

    fn progress(&mut self, offset: u64) {
        self.srv.persist.load.loaded_bytes.store(offset, Relaxed);
    }
}

impl Drop for Loader<'_> {
    fn drop(&mut self) {
        for (_, _, e) in self.batch.drain(..) {
            e.free();
        }
    }
}

/// Why a load failed: the file could not be opened (absent is not an
/// error at start), or its contents are refused.
pub enum Failed {
    Missing,
    Io(String),
    Format(String),
}

/// Loads `path` into the keyspace (which the caller emptied or, for
/// MERGE, did not). Sets `loading` for the duration.
pub fn load_file(srv: &Server, path: &Path, merge: bool) -> Result<Loaded, Failed> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Failed::Missing),
        Err(e) => return Err(Failed::Io(crate::config::os_reason(&e))),
    };
    let total = file.metadata().map(|m| m.len()).unwrap_or(0);
    let p = &srv.persist;
    p.load
        .start
        .store((crate::util::unix_ms() / 1000) as u64, Relaxed);
    p.load.total_bytes.store(total, Relaxed);
    p.load.loaded_bytes.store(0, Relaxed);
    p.loading.store(true, Relaxed);
    let (checksum, delay, interval) = {
        let c = srv.config.read();
        (
            c.yes("rdbchecksum") && !p.skip_checksum.load(Relaxed),
            c.int("key-load-delay"),
            c.int("loading-process-events-interval-bytes").max(1024) as u64,
        )
    };
    let mut sink = Loader::new(srv, merge, total);
    sink.delay = delay;
    let opts = Options {
        checksum,
        databases: srv.store.ndbs,
        progress_every: interval,
    };
    let r = load(
        std::io::BufReader::with_capacity(1 << 20, file),
        &opts,
        &mut sink,
    )
    .map_err(|e| match e {
        LoadError::Io(e) => Failed::Io(crate::config::os_reason(&e)),
        LoadError::Format(e) => Failed::Format(e.to_string()),
    });
    let result = r.and_then(|l| sink.finish().map(|_| l).map_err(Failed::Format));
    if result.is_ok() {
        info!(
            "Done loading RDB, keys loaded: {}, keys expired: {}.",
            sink.loaded, sink.expired
        );
        let mut st = p.st.lock();
        st.load_keys_loaded = sink.loaded;
        st.load_keys_expired = sink.expired;
    }
    p.loading.store(false, Relaxed);
    result
}

/// Start-up: loads `dbfilename` if it exists; a file that cannot be read
/// or is refused stops the server, naming the file and the offset.
pub fn at_start(srv: &Server) -> Result<(), String> {
    let path = std::path::PathBuf::from(srv.config.read().get("dbfilename"));
    let t0 = std::time::Instant::now();
    match load_file(srv, &path, false) {
        Ok(_) => {
            info!(
                "DB loaded from disk: {:.3} seconds",
                t0.elapsed().as_secs_f64()
            );
            // What was just read is what is on disk.
            let mut st = srv.persist.st.lock();
            st.dirty_saved = super::dirty(srv);
            drop(st);
            Ok(())
        }
        Err(Failed::Missing) => Ok(()),
        Err(Failed::Io(e)) => Err(format!(
            "Fatal error loading the DB ({}): {e}. Exiting.",
            path.display()
        )),
        Err(Failed::Format(e)) => Err(format!(
            "Fatal error loading the DB ({}): {e}. Exiting.",
            path.display()
        )),
    }
}
