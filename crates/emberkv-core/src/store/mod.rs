//! The sharded keyspace.
//!
//! Keys are spread over a fixed number of shards by the low bits of their
//! hash; each shard holds one [`Table`] per logical database behind its own
//! mutex. A command locks only the shards its keys live in (in ascending
//! order, so multi-key commands cannot deadlock), and there is no global lock
//! on the data path. See docs/ARCHITECTURE.md for why locks and not
//! thread-per-core message passing.

pub mod entry;
pub mod expire;
pub mod glob;
pub mod table;

use parking_lot::{Mutex, MutexGuard};
use std::hash::BuildHasher;
use std::ops::{Deref, DerefMut};

pub use entry::{EntryPtr, EntryRef};

pub use table::{next_epoch, Found, SegmentSink, Table};

/// Keyed hash of key bytes; the seed is random per process so clients cannot
/// aim collisions at one chain.
#[derive(Clone, Copy)]
pub struct KeyHasher(u64);

impl KeyHasher {
    pub fn new(seed: u64) -> Self {
        KeyHasher(seed)
    }
    #[inline]
    pub fn hash(&self, key: &[u8]) -> u64 {
        foldhash::fast::FixedState::with_seed(self.0).hash_one(key)
    }
}

pub struct Shard {
    pub dbs: Vec<Table>,
}

/// The lock on one shard: the handle every read and write of its tables
/// goes through. Releasing it tells the write funnel (effects.rs), which
/// orders the propagation stream by shard-lock releases.
pub struct ShardGuard<'a>(MutexGuard<'a, Shard>);

impl Deref for ShardGuard<'_> {
    type Target = Shard;
    #[inline]
    fn deref(&self) -> &Shard {
        &self.0
    }
}

impl DerefMut for ShardGuard<'_> {
    #[inline]
    fn deref_mut(&mut self) -> &mut Shard {
        &mut self.0
    }
}

impl Drop for ShardGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        // Still locked here: the field is released after this body.
        crate::effects::releasing_shard();
    }
}

/// Keeps each shard's mutex on its own cache lines.
#[repr(align(128))]
struct Padded(Mutex<Shard>);

pub const MAX_SHARDS: usize = 64;

pub struct Store {
    shards: Box<[Padded]>,
    mask: u64,
    pub hasher: KeyHasher,
    pub ndbs: usize,
    /// Active expiry runs (DEBUG SET-ACTIVE-EXPIRE 0 stops it, so that tests
    /// can keep logically expired keys around; lazy expiry still applies).
    pub active_expire_on: std::sync::atomic::AtomicBool,
}

impl Store {
    pub fn new(nshards: usize, ndbs: usize) -> Self {
        assert!(nshards.is_power_of_two() && nshards <= MAX_SHARDS);
        let hasher = KeyHasher::new(fastrand::u64(..));
        let shards = (0..nshards)
            .map(|_| {
                Padded(Mutex::new(Shard {
                    dbs: (0..ndbs)
                        .map(|db| Table::new_keyspace(hasher, db))
                        .collect(),
                }))
            })
            .collect();
        Store {
            shards,
            mask: nshards as u64 - 1,
            hasher,
            ndbs,
            active_expire_on: std::sync::atomic::AtomicBool::new(true),
        }
    }

    #[inline]
    pub fn nshards(&self) -> usize {
        self.shards.len()
    }

    #[inline]
    pub fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash(key)
    }

    #[inline]
    pub fn shard_of(&self, h: u64) -> usize {
        (h & self.mask) as usize
    }

    /// Locks the shard that owns hash `h`.
    #[inline]
    pub fn lock(&self, h: u64) -> ShardGuard<'_> {
        ShardGuard(self.shards[self.shard_of(h)].0.lock())
    }

    /// Locks shard `i`.
    #[inline]
    pub fn lock_index(&self, i: usize) -> ShardGuard<'_> {
        ShardGuard(self.shards[i].0.lock())
    }

    /// Locks the shards owning all of `hashes`, in ascending shard order.
    pub fn lock_many(&self, hashes: impl IntoIterator<Item = u64>) -> Locked<'_> {
        let mut set = 0u64;
        for h in hashes {
            set |= 1 << self.shard_of(h);
        }
        self.lock_set(set)
    }

    /// Locks every shard (whole-keyspace commands: FLUSHALL, SWAPDB, KEYS).
    pub fn lock_all(&self) -> Locked<'_> {
        let n = self.shards.len();
        let set = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
        self.lock_set(set)
    }

    fn lock_set(&self, mut set: u64) -> Locked<'_> {
        let mut guards: [Option<MutexGuard<'_, Shard>>; MAX_SHARDS] = std::array::from_fn(|_| None);
        while set != 0 {
            let i = set.trailing_zeros() as usize;
            guards[i] = Some(self.shards[i].0.lock());
            set &= set - 1;
        }
        Locked {
            guards,
            mask: self.mask,
        }
    }
}

/// A set of locked shards.
pub struct Locked<'a> {
    guards: [Option<MutexGuard<'a, Shard>>; MAX_SHARDS],
    mask: u64,
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        crate::effects::releasing_shard();
    }
}

impl<'a> Locked<'a> {
    /// The table of `db` in the shard owning `h` (which must be locked).
    #[inline]
    pub fn table(&mut self, h: u64, db: usize) -> &mut Table {
        let i = (h & self.mask) as usize;
        &mut self.guards[i].as_mut().expect("shard not locked").dbs[db]
    }

    /// Two tables at once (RENAME, MOVE, COPY): `(h1, db1)` and `(h2, db2)`.
    /// Returns None for the second when both name the same table.
    pub fn table_pair(
        &mut self,
        a: (u64, usize),
        b: (u64, usize),
    ) -> (&mut Table, Option<&mut Table>) {
        let ia = (a.0 & self.mask) as usize;
        let ib = (b.0 & self.mask) as usize;
        if ia == ib {
            let shard = self.guards[ia].as_mut().expect("shard not locked");
            if a.1 == b.1 {
                return (&mut shard.dbs[a.1], None);
            }
            let (x, y) = pair_mut(&mut shard.dbs, a.1, b.1);
            return (x, Some(y));
        }
        let (ga, gb) = pair_mut(&mut self.guards, ia, ib);
        (
            &mut ga.as_mut().expect("shard not locked").dbs[a.1],
            Some(&mut gb.as_mut().expect("shard not locked").dbs[b.1]),
        )
    }

    /// Every locked shard.
    pub fn shards(&mut self) -> impl Iterator<Item = &mut Shard> + use<'_, 'a> {
        self.guards.iter_mut().filter_map(|g| g.as_deref_mut())
    }
}

fn pair_mut<T>(v: &mut [T], a: usize, b: usize) -> (&mut T, &mut T) {
    assert_ne!(a, b);
    if a < b {
        let (l, r) = v.split_at_mut(b);
        (&mut l[a], &mut r[0])
    } else {
        let (l, r) = v.split_at_mut(a);
        (&mut r[0], &mut l[b])
    }
}

impl Table {
    /// Finds a live key for reading, deleting it first if its TTL has passed
    /// (lazy expiry). One hash-chain walk on the common path.
    #[inline]
    pub fn lookup(&mut self, h: u64, key: &[u8], now: i64) -> Option<EntryRef<'_>> {
        // Write paths change what `lookup` finds (write_in): a snapshot in
        // progress takes the segment first.
        self.snap_touch(h);
        let e = self.find(h, key)?;
        if !matches!(e.expire_at(), Some(t) if t <= now) {
            // SAFETY: the entry lives as long as `self` is borrowed; the raw
            // round trip only ends the shorter borrow of `find`.
            return Some(unsafe { EntryRef::from_raw(e.raw()) });
        }
        self.delete(h, key);
        self.expired += 1;
        crate::effects::expired(self.db(), key);
        None
    }

    /// Like [`Table::lookup`], for modification.
    pub fn lookup_mut(&mut self, h: u64, key: &[u8], now: i64) -> Option<Found<'_>> {
        let f = self.find_mut(h, key)?;
        if !matches!(f.entry().expire_at(), Some(t) if t <= now) {
            return Some(f);
        }
        let db = f.table_db();
        f.remove_expired();
        crate::effects::expired(db, key);
        None
    }

    /// Removes and frees the entry for `key`; true if there was one.
    pub fn delete(&mut self, h: u64, key: &[u8]) -> bool {
        self.remove(h, key).map(EntryPtr::free).is_some()
    }
}
