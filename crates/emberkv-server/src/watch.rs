//! WATCH: which clients watch which keys, so a write can mark their
//! transactions dirty (optimistic locking; EXEC then replies null).
//!
//! A write marks the watchers of a key when it changes it, at the same
//! place it publishes the keyspace notification (`Ctx::notify`; one atomic
//! load when nobody watches), so as in Redis a write that changes nothing
//! (SETNX on an existing key, SREM of an absent member) aborts no EXEC.
//! FLUSHDB, FLUSHALL and SWAPDB mark the watchers of every key that exists
//! in the databases they change. Expiry is caught at EXEC: WATCH records
//! the key's deadline, and a deadline that has passed by EXEC means the
//! key expired meanwhile.

use crate::server::Server;
use emberkv_core::effects::Interest;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;

/// (db, client id, the client's dirty flag) for one key name.
type Watchers = Vec<(usize, u64, Arc<AtomicBool>)>;

pub struct Watches {
    /// Key -> clients watching it (in some database). Keyed by the name
    /// alone so a lookup needs no allocation.
    map: Mutex<HashMap<Box<[u8]>, Watchers>>,
    /// The count of watched pairs lives in the write funnel's interest.
    interest: Arc<Interest>,
}

/// One key a client watches.
pub struct Watched {
    pub db: usize,
    pub key: Box<[u8]>,
    /// The key's expiry when watched, if it had one (ms).
    pub deadline: Option<i64>,
}

impl Watches {
    pub fn new(interest: Arc<Interest>) -> Self {
        Watches {
            map: Mutex::default(),
            interest,
        }
    }

    #[inline]
    pub fn any(&self) -> bool {
        self.interest.watched.load(Relaxed) != 0
    }

    pub fn add(&self, db: usize, key: &[u8], id: u64, flag: &Arc<AtomicBool>) {
        let mut m = self.map.lock();
        let v = m.entry(key.into()).or_default();
        if !v.iter().any(|w| w.0 == db && w.1 == id) {
            v.push((db, id, flag.clone()));
            self.interest.watched.fetch_add(1, Relaxed);
        }
    }

    pub fn remove(&self, id: u64, keys: &[Watched]) {
        if keys.is_empty() {
            return;
        }
        let mut m = self.map.lock();
        for w in keys {
            if let Some(v) = m.get_mut(&w.key) {
                let before = v.len();
                v.retain(|x| !(x.0 == w.db && x.1 == id));
                self.interest.watched.fetch_sub(before - v.len(), Relaxed);
                if v.is_empty() {
                    m.remove(&w.key);
                }
            }
        }
    }

    /// Marks the watchers of `keys` in `db`.
    pub fn touch<'k>(&self, db: usize, keys: impl IntoIterator<Item = &'k [u8]>) {
        let m = self.map.lock();
        for k in keys {
            if let Some(v) = m.get(k) {
                for (_, _, f) in v.iter().filter(|w| w.0 == db) {
                    f.store(true, Relaxed);
                }
            }
        }
    }

    /// FLUSHDB, FLUSHALL, SWAPDB: for each `(db, other)`, marks the
    /// watchers of keys of `db` that exist in `db` or in `other` (the
    /// database whose contents replace it). Call before the keyspace lock
    /// is taken (lock order: this, then shards).
    pub fn touch_dbs(&self, srv: &Server, pairs: &[(usize, usize)], now: i64) {
        if !self.any() {
            return;
        }
        let m = self.map.lock();
        for (key, v) in m.iter() {
            let h = srv.store.hash(key);
            for (db, _, f) in v {
                let Some(&(_, other)) = pairs.iter().find(|p| p.0 == *db) else {
                    continue;
                };
                let exists = {
                    let mut shard = srv.store.lock(h);
                    shard.dbs[*db].lookup(h, key, now).is_some()
                        || shard.dbs[other].lookup(h, key, now).is_some()
                };
                if exists {
                    f.store(true, Relaxed);
                }
            }
        }
    }
}
