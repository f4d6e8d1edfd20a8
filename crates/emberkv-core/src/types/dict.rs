//! `Dict`: the large encoding of hashes, sets and sorted sets' member index.
//!
//! It is the keyspace's own table (extendible hashing over 256-bucket
//! segments) holding one entry per field: the field as the entry's key and
//! the value as its string value. So a million-field hash grows one small
//! segment at a time, never stalling on a whole-table rehash, and HSCAN gets
//! the same cursor guarantee as SCAN.

use crate::store::{EntryPtr, EntryRef, KeyHasher, Table};
use std::sync::OnceLock;

/// One random seed for all nested tables of the process.
fn hasher() -> KeyHasher {
    static SEED: OnceLock<u64> = OnceLock::new();
    KeyHasher::new(*SEED.get_or_init(|| fastrand::u64(..)))
}

pub struct Dict {
    t: Table,
    hs: KeyHasher,
}

impl Default for Dict {
    fn default() -> Self {
        Self::new()
    }
}

impl Dict {
    pub fn new() -> Self {
        let hs = hasher();
        Dict {
            t: Table::new(hs),
            hs,
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.t.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[inline]
    pub fn get(&self, k: &[u8]) -> Option<&[u8]> {
        self.t.find(self.hs.hash(k), k).map(|e| e.str_value())
    }

    /// The entry for `k` (sorted sets point at it from their tree).
    #[inline]
    pub fn entry(&self, k: &[u8]) -> Option<EntryRef<'_>> {
        self.t.find(self.hs.hash(k), k)
    }

    #[inline]
    pub fn contains(&self, k: &[u8]) -> bool {
        self.get(k).is_some()
    }

    /// Sets `k` to `v`; true if `k` is new.
    pub fn set(&mut self, k: &[u8], v: &[u8]) -> bool {
        let h = self.hs.hash(k);
        match self.t.find_mut(h, k) {
            Some(f) => {
                let e = f.entry();
                if e.str_value().len() == v.len() {
                    e.overwrite_str_same_len(v, 0);
                } else {
                    f.replace(EntryPtr::new_string(k, v, None, 0, 0)).free();
                }
                false
            }
            None => {
                self.t.insert(h, EntryPtr::new_string(k, v, None, 0, 0));
                true
            }
        }
    }

    /// Adds `k` with an empty value (set members); false if present. A
    /// present member is only read, not rewritten.
    pub fn add_key(&mut self, k: &[u8]) -> bool {
        let h = self.hs.hash(k);
        if self.t.find(h, k).is_some() {
            return false;
        }
        self.t.insert(h, EntryPtr::new_string(k, b"", None, 0, 0));
        true
    }

    /// Inserts `k` known to be absent and returns its entry.
    pub fn insert_new(&mut self, k: &[u8], v: &[u8]) -> EntryRef<'_> {
        let h = self.hs.hash(k);
        let e = EntryPtr::new_string(k, v, None, 0, 0);
        let raw = e.as_ref().raw();
        self.t.insert(h, e);
        // SAFETY: the entry was just inserted and lives while `self` does.
        unsafe { EntryRef::from_raw(raw) }
    }

    pub fn remove(&mut self, k: &[u8]) -> bool {
        self.t.delete(self.hs.hash(k), k)
    }

    pub fn for_each(&self, mut f: impl FnMut(&[u8], &[u8])) {
        self.t.for_each(|e| f(e.key(), e.str_value()))
    }

    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.t.iter().map(|e| (e.key(), e.str_value()))
    }

    /// A uniformly-ish random element (bucket-then-chain, as Redis).
    pub fn random(&self) -> Option<(&[u8], &[u8])> {
        self.t.random().map(|e| (e.key(), e.str_value()))
    }

    /// One step of HSCAN/SSCAN/ZSCAN; returns the next cursor (0: done).
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8], &[u8])) -> u64 {
        self.t.scan_step(cursor, |e| f(e.key(), e.str_value()))
    }
}

impl Clone for Dict {
    fn clone(&self) -> Self {
        let mut d = Dict::new();
        self.for_each(|k, v| {
            d.insert_new(k, v);
        });
        d
    }
}
