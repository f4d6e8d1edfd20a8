//! The keyspace hash table: extendible hashing over small chained segments.
//!
//! A directory indexed by the top bits of the key's hash points at segments;
//! each segment is a chained table of at most [`MAX_BUCKETS`] buckets. A full
//! segment doubles its buckets until that cap, then splits in two by the next
//! hash bit. Either step touches one segment (at most a few hundred entries),
//! and the directory only holds indexes, so the table grows without the stall
//! a single big table has when it doubles. The cap is small on purpose: every
//! entry moved is a cache and TLB miss, which on a loaded VM costs up to a few
//! microseconds; with 4096-bucket segments single SETs were measured at 3-8 ms
//! while growing to 20M keys, with 256 they stay under a millisecond.
//!
//! Links carry 16 bits of the hash in their top bits (x86-64 and AArch64 user
//! pointers fit in 48 bits), so a chain walk dereferences only entries whose
//! tag matches.
//!
//! SCAN: inside a segment the bucket is chosen by hash bits that are
//! independent of the directory bits, and a split keeps each entry's bucket
//! index. A cursor is (segment hash prefix, Redis-style reversed bucket
//! counter), which keeps Redis's guarantee (every key present for the whole
//! scan is returned at least once) across bucket doubling, shrinking and
//! segment splits.

use super::entry::{EntryPtr, EntryRef, F_EXPIRE};
use super::KeyHasher;

/// Largest bucket array of a segment; past it a segment splits.
pub const MAX_BUCKETS: usize = 256;
const MAX_BUCKET_BITS: u32 = 8;
const MIN_BUCKETS: usize = 4;
/// Bits of the cursor used for the segment prefix.
const PREFIX_BITS: u32 = 32;
pub const CURSOR_BITS: u32 = PREFIX_BITS + MAX_BUCKET_BITS;

const PTR_MASK: usize = (1 << 48) - 1;

#[inline]
fn tag_of(h: u64) -> usize {
    ((h >> 32) & 0xffff) as usize
}
#[inline]
fn bucket_of(h: u64, mask: usize) -> usize {
    (h >> 16) as usize & mask
}
#[inline]
fn make_link(p: *mut u8, h: u64) -> usize {
    debug_assert_eq!(p as usize & !PTR_MASK, 0);
    p as usize | tag_of(h) << 48
}
#[inline]
fn link_ptr(l: usize) -> *mut u8 {
    (l & PTR_MASK) as *mut u8
}

use crate::util::prefetch;

struct Segment {
    buckets: Box<[usize]>,
    depth: u32,
    len: u32,
    volatile: u32,
    /// The last snapshot epoch that serialized this segment (snap.rs).
    saved: u32,
}

impl Segment {
    fn new(nbuckets: usize, depth: u32) -> Self {
        Segment {
            buckets: vec![0usize; nbuckets].into_boxed_slice(),
            depth,
            len: 0,
            volatile: 0,
            saved: 0,
        }
    }
    #[inline]
    fn mask(&self) -> usize {
        self.buckets.len() - 1
    }
}

/// Segments live in fixed-size chunks so that adding one never reallocates
/// (and copies, and page-faults) an ever larger array: with thousands of
/// segments per shard, a doubling `Vec` was itself a multi-millisecond step.
struct Segments {
    chunks: Vec<Vec<Segment>>,
    len: usize,
}

const CHUNK: usize = 64;

impl Segments {
    fn new() -> Self {
        Segments {
            chunks: Vec::new(),
            len: 0,
        }
    }
    #[inline]
    fn len(&self) -> usize {
        self.len
    }
    #[inline]
    fn is_empty(&self) -> bool {
        self.len == 0
    }
    fn push(&mut self, s: Segment) {
        if self.len.is_multiple_of(CHUNK) {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        self.chunks.last_mut().expect("chunk").push(s);
        self.len += 1;
    }
    fn iter(&self) -> impl Iterator<Item = &Segment> {
        self.chunks.iter().flatten()
    }
    fn iter_mut(&mut self) -> impl Iterator<Item = &mut Segment> {
        self.chunks.iter_mut().flatten()
    }
}

impl std::ops::Index<usize> for Segments {
    type Output = Segment;
    #[inline]
    fn index(&self, i: usize) -> &Segment {
        &self.chunks[i / CHUNK][i % CHUNK]
    }
}

impl std::ops::IndexMut<usize> for Segments {
    #[inline]
    fn index_mut(&mut self, i: usize) -> &mut Segment {
        &mut self.chunks[i / CHUNK][i % CHUNK]
    }
}

/// One logical database's keys within one shard.
pub struct Table {
    hasher: KeyHasher,
    dir: Vec<u32>,
    segs: Segments,
    depth: u32,
    len: usize,
    volatile: usize,
    /// Keys removed because their TTL passed (INFO `expired_keys`).
    pub expired: u64,
    /// Estimated average remaining TTL in ms (INFO keyspace `avg_ttl`), a
    /// running average over the keys active expiry samples, as Redis keeps.
    pub avg_ttl: i64,
    /// Active-expiry position: (segment index, bucket).
    expire_cursor: (usize, usize),
    /// A database's keyspace (not a hash's or set's fields): new keys are
    /// logged for `new` notifications.
    keyspace: bool,
    /// The database a keyspace table holds, for what it records in the
    /// write funnel (a key created, a key expired).
    db: u32,
    /// A snapshot in progress that has not serialized all of this table.
    snap: Option<Box<snap::Mark>>,
}

/// A found entry, with the link that points at it, for in-place changes.
pub struct Found<'t> {
    table: &'t mut Table,
    seg: usize,
    link: *mut usize,
}

impl Table {
    pub fn new(hasher: KeyHasher) -> Self {
        Table {
            hasher,
            dir: Vec::new(),
            segs: Segments::new(),
            depth: 0,
            len: 0,
            volatile: 0,
            expired: 0,
            avg_ttl: 0,
            expire_cursor: (0, 0),
            keyspace: false,
            db: 0,
            snap: None,
        }
    }

    /// The table of a database (see `keyspace`).
    pub fn new_keyspace(hasher: KeyHasher, db: usize) -> Self {
        let mut t = Table::new(hasher);
        t.keyspace = true;
        t.db = db as u32;
        t
    }

    /// The database this table holds (for a keyspace table).
    #[inline]
    pub fn db(&self) -> usize {
        self.db as usize
    }

    /// SWAPDB moved this table to database `db`.
    pub fn set_db(&mut self, db: usize) {
        self.db = db as u32;
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Keys with a TTL.
    #[inline]
    pub fn volatile(&self) -> usize {
        self.volatile
    }

    #[inline]
    fn dir_index(&self, h: u64) -> usize {
        if self.depth == 0 {
            0
        } else {
            (h >> (64 - self.depth)) as usize
        }
    }

    #[inline]
    fn seg_of(&self, h: u64) -> usize {
        self.dir[self.dir_index(h)] as usize
    }

    /// Looks a key up without touching expiry.
    pub fn find(&self, h: u64, key: &[u8]) -> Option<EntryRef<'_>> {
        if self.segs.is_empty() {
            return None;
        }
        let seg = &self.segs[self.seg_of(h)];
        let tag = tag_of(h);
        let mut l = seg.buckets[bucket_of(h, seg.mask())];
        while l != 0 {
            // SAFETY: non-null links point at live entries owned by this table.
            let e = unsafe { EntryRef::from_raw(link_ptr(l)) };
            if l >> 48 == tag && e.key() == key {
                return Some(e);
            }
            l = e.next_link();
        }
        None
    }

    /// Starts loading the bucket slot `h` falls in, for a caller that
    /// knows its next keys in advance (a file's keys come in no order of
    /// the table's, each one a cache miss when looked up cold).
    #[inline]
    pub fn prefetch_bucket(&self, h: u64) {
        if let Some(slot) = self.slot(h) {
            prefetch(slot as *const usize as *const u8);
        }
    }

    /// Starts loading the first entry of `h`'s chain (after
    /// `prefetch_bucket`, when the slot has arrived).
    #[inline]
    pub fn prefetch_chain(&self, h: u64) {
        if let Some(&l) = self.slot(h) {
            if l != 0 {
                prefetch(link_ptr(l));
            }
        }
    }

    #[inline]
    fn slot(&self, h: u64) -> Option<&usize> {
        if self.segs.is_empty() {
            return None;
        }
        let seg = &self.segs[self.seg_of(h)];
        Some(&seg.buckets[bucket_of(h, seg.mask())])
    }

    /// Looks a key up for modification.
    pub fn find_mut(&mut self, h: u64, key: &[u8]) -> Option<Found<'_>> {
        if self.segs.is_empty() {
            return None;
        }
        self.snap_touch(h);
        let si = self.seg_of(h);
        let tag = tag_of(h);
        let seg = &mut self.segs[si];
        let b = bucket_of(h, seg.mask());
        let mut link: *mut usize = &mut seg.buckets[b];
        // SAFETY: `link` always points at a bucket slot or an entry's next
        // field, both owned by this table, which is mutably borrowed.
        unsafe {
            while *link != 0 {
                let l = *link;
                let e = EntryRef::from_raw(link_ptr(l));
                if l >> 48 == tag && e.key() == key {
                    return Some(Found {
                        table: self,
                        seg: si,
                        link,
                    });
                }
                link = link_ptr(l) as *mut usize;
            }
        }
        None
    }

    /// Inserts an entry whose key is known to be absent.
    #[inline]
    pub fn insert(&mut self, h: u64, e: EntryPtr) {
        self.insert_inner(h, e, self.keyspace)
    }

    /// Inserts a key read from a file: not a creation anyone is notified
    /// of (Redis fires no keyspace events while loading).
    pub fn insert_loaded(&mut self, h: u64, e: EntryPtr) {
        self.insert_inner(h, e, false)
    }

    fn insert_inner(&mut self, h: u64, e: EntryPtr, record: bool) {
        if self.segs.is_empty() {
            self.segs.push(Segment::new(MIN_BUCKETS, 0));
            self.dir.push(0);
        }
        self.snap_touch(h);
        if record {
            crate::effects::created(self.db as usize, e.as_ref().key());
        }
        let si = self.seg_of(h);
        let volatile = e.as_ref().flags() & F_EXPIRE != 0;
        let seg = &mut self.segs[si];
        let b = bucket_of(h, seg.mask());
        e.as_ref().set_next_link(seg.buckets[b]);
        seg.buckets[b] = make_link(e.into_raw(), h);
        seg.len += 1;
        if volatile {
            seg.volatile += 1;
            self.volatile += 1;
        }
        self.len += 1;
        if seg.len as usize > seg.buckets.len() {
            self.grow(si, h);
        }
    }

    /// Removes and returns the entry for `key`, if any.
    pub fn remove(&mut self, h: u64, key: &[u8]) -> Option<EntryPtr> {
        self.find_mut(h, key).map(|f| f.remove())
    }

    /// Visits every entry (for KEYS, FLUSH accounting, snapshots).
    pub fn for_each(&self, mut f: impl FnMut(EntryRef<'_>)) {
        for seg in self.segs.iter() {
            for &l0 in seg.buckets.iter() {
                let mut l = l0;
                while l != 0 {
                    let e = unsafe { EntryRef::from_raw(link_ptr(l)) };
                    l = e.next_link();
                    f(e);
                }
            }
        }
    }

    /// Every entry, as an iterator borrowing the table.
    pub fn iter(&self) -> impl Iterator<Item = EntryRef<'_>> + '_ {
        self.segs.iter().flat_map(|seg| {
            seg.buckets.iter().flat_map(|&l0| {
                let mut l = l0;
                std::iter::from_fn(move || {
                    if l == 0 {
                        return None;
                    }
                    // SAFETY: live entries owned by the borrowed table.
                    let e = unsafe { EntryRef::from_raw(link_ptr(l)) };
                    l = e.next_link();
                    Some(e)
                })
            })
        })
    }
}

mod grow;
mod snap;
mod walk;

pub use snap::{next_epoch, SegmentSink};

impl Drop for Table {
    fn drop(&mut self) {
        for seg in self.segs.iter_mut() {
            for slot in seg.buckets.iter_mut() {
                let mut l = std::mem::take(slot);
                while l != 0 {
                    let e = unsafe { EntryPtr::from_raw(link_ptr(l)) };
                    l = e.as_ref().next_link();
                    e.free();
                }
            }
        }
    }
}

impl<'t> Found<'t> {
    #[inline]
    pub fn entry(&self) -> EntryRef<'_> {
        unsafe { EntryRef::from_raw(link_ptr(*self.link)) }
    }

    /// Replaces the entry with `new` (same key), returning the old one.
    pub fn replace(mut self, new: EntryPtr) -> EntryPtr {
        unsafe {
            let l = *self.link;
            let old = EntryPtr::from_raw(link_ptr(l));
            let was = old.as_ref().flags() & F_EXPIRE != 0;
            let is = new.as_ref().flags() & F_EXPIRE != 0;
            new.as_ref().set_next_link(old.as_ref().next_link());
            *self.link = (l & !PTR_MASK) | new.into_raw() as usize;
            self.adjust_volatile(was, is);
            old
        }
    }

    fn adjust_volatile(&mut self, was: bool, is: bool) {
        if was == is {
            return;
        }
        let seg = &mut self.table.segs[self.seg];
        if is {
            seg.volatile += 1;
            self.table.volatile += 1;
        } else {
            seg.volatile -= 1;
            self.table.volatile -= 1;
        }
    }

    /// Replaces the entry by `f(old)` in one step (the old entry may be
    /// consumed to build the new one). Returns true.
    pub fn replace_with(self, f: impl FnOnce(EntryPtr) -> EntryPtr) -> bool {
        unsafe {
            let l = *self.link;
            let old = EntryPtr::from_raw(link_ptr(l));
            let next = old.as_ref().next_link();
            let was = old.as_ref().flags() & F_EXPIRE != 0;
            let new = f(old);
            let is = new.as_ref().flags() & F_EXPIRE != 0;
            new.as_ref().set_next_link(next);
            *self.link = (l & !PTR_MASK) | new.into_raw() as usize;
            let mut me = self;
            me.adjust_volatile(was, is);
        }
        true
    }

    /// The database of the table the entry is in.
    pub fn table_db(&self) -> usize {
        self.table.db()
    }

    /// Removes an entry whose TTL has passed, counting it as expired.
    pub fn remove_expired(self) {
        let t: *mut Table = self.table;
        self.remove().free();
        // SAFETY: `remove` consumed the borrow; the table is still ours.
        unsafe { (*t).expired += 1 };
    }

    /// Unlinks the entry and returns it.
    pub fn remove(self) -> EntryPtr {
        unsafe {
            let l = *self.link;
            let old = EntryPtr::from_raw(link_ptr(l));
            *self.link = old.as_ref().next_link();
            let volatile = old.as_ref().flags() & F_EXPIRE != 0;
            let seg = &mut self.table.segs[self.seg];
            seg.len -= 1;
            if volatile {
                seg.volatile -= 1;
                self.table.volatile -= 1;
            }
            self.table.len -= 1;
            self.table.maybe_shrink(self.seg);
            old
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn key(i: usize) -> Vec<u8> {
        format!("key:{i:012}").into_bytes()
    }

    #[test]
    fn insert_find_remove_across_splits() {
        let hs = KeyHasher::new(1);
        let mut t = Table::new(hs);
        let n = 40_000;
        for i in 0..n {
            let k = key(i);
            t.insert(hs.hash(&k), EntryPtr::new_string(&k, b"v", None, 0, 0));
        }
        assert_eq!(t.len(), n);
        assert!(t.segs.len() > 8, "segments split");
        for i in 0..n {
            let k = key(i);
            assert!(t.find(hs.hash(&k), &k).is_some(), "{i}");
        }
        for i in (0..n).step_by(2) {
            let k = key(i);
            t.remove(hs.hash(&k), &k).unwrap().free();
        }
        assert_eq!(t.len(), n / 2);
        assert!(t.find(hs.hash(&key(2)), &key(2)).is_none());
        assert!(t.find(hs.hash(&key(3)), &key(3)).is_some());
    }

    #[test]
    fn a_reserved_table_holds_and_scans_every_key() {
        let hs = KeyHasher::new(3);
        for (reserve, n) in [(10_000, 10_000), (3, 100), (100, 5_000), (20_000, 50)] {
            let mut t = Table::new(hs);
            t.reserve(reserve);
            for i in 0..n {
                let k = key(i);
                t.insert(hs.hash(&k), EntryPtr::new_string(&k, b"v", None, 0, 0));
            }
            assert_eq!(t.len(), n);
            let mut seen = HashSet::new();
            let mut cursor = 0;
            loop {
                cursor = t.scan_step(cursor, |e| {
                    seen.insert(e.key().to_vec());
                });
                if cursor == 0 {
                    break;
                }
            }
            assert_eq!(seen.len(), n, "reserve {reserve}");
            for i in 0..n {
                let k = key(i);
                t.remove(hs.hash(&k), &k).unwrap().free();
            }
            assert!(t.is_empty());
        }
    }

    #[test]
    fn scan_returns_every_stable_key_while_growing() {
        let hs = KeyHasher::new(7);
        let mut t = Table::new(hs);
        for i in 0..5000 {
            let k = key(i);
            t.insert(hs.hash(&k), EntryPtr::new_string(&k, b"v", None, 0, 0));
        }
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut extra = 5000;
        loop {
            cursor = t.scan_step(cursor, |e| {
                seen.insert(e.key().to_vec());
            });
            // Grow the table during the scan (bounded, so the scan can
            // finish): bucket doublings and segment splits happen.
            if extra < 40_000 {
                for _ in 0..4 {
                    let k = key(extra);
                    extra += 1;
                    t.insert(hs.hash(&k), EntryPtr::new_string(&k, b"v", None, 0, 0));
                }
            }
            if cursor == 0 {
                break;
            }
        }
        for i in 0..5000 {
            assert!(seen.contains(&key(i)), "missed {i}");
        }
    }

    #[test]
    fn random_finds_the_few_entries_left_in_a_drained_table() {
        let hs = KeyHasher::new(11);
        let mut t = Table::new(hs);
        for i in 0..100_000 {
            let k = key(i);
            t.insert(hs.hash(&k), EntryPtr::new_string(&k, b"v", None, 0, 0));
        }
        for i in 3..100_000 {
            let k = key(i);
            t.remove(hs.hash(&k), &k).unwrap().free();
        }
        let mut seen = HashSet::new();
        for _ in 0..1000 {
            seen.insert(t.random().unwrap().key().to_vec());
        }
        assert_eq!(seen.len(), 3);
    }

    #[test]
    fn expire_step_removes_expired() {
        let hs = KeyHasher::new(3);
        let mut t = Table::new(hs);
        for i in 0..1000 {
            let k = key(i);
            let exp = if i % 2 == 0 { Some(10) } else { None };
            t.insert(hs.hash(&k), EntryPtr::new_string(&k, b"v", exp, 0, 0));
        }
        assert_eq!(t.volatile(), 500);
        let mut total = 0;
        for _ in 0..100 {
            total += t.expire_step(100, 64, |_| {}).1;
        }
        assert_eq!(total, 500);
        assert_eq!(t.len(), 500);
        assert_eq!(t.volatile(), 0);
    }
}

#[cfg(test)]
mod growth_probe {
    use super::*;

    #[test]
    #[ignore]
    fn probe_depth_and_max_insert() {
        let hs = KeyHasher::new(fastrand::u64(..));
        let mut t = Table::new(hs);
        let mut worst = (0u128, 0usize);
        for i in 0..4_500_000usize {
            let k = format!("m:{:012}", fastrand::u64(..20_000_000));
            let h = hs.hash(k.as_bytes());
            if t.find(h, k.as_bytes()).is_some() {
                continue;
            }
            let s = std::time::Instant::now();
            let d0 = t.depth;
            t.insert(h, EntryPtr::new_string(k.as_bytes(), b"", None, 0, 0));
            let d = s.elapsed().as_micros();
            if d > 200 {
                eprintln!("slow {i}: {d} us, dir doubled: {}", t.depth != d0);
            }
            if d > worst.0 {
                worst = (d, i);
                eprintln!(
                    "insert {i}: {d} us, depth {}, segs {}, dir {}",
                    t.depth,
                    t.segs.len(),
                    t.dir.len()
                );
            }
        }
        eprintln!(
            "final depth {} segs {} len {}",
            t.depth,
            t.segs.len(),
            t.len()
        );
    }
}
