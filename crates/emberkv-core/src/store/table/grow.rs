//! How a table's shape changes: a segment doubling its buckets, a full
//! segment splitting in two, a sparse one shrinking, and a whole table
//! sized at once for a load.

use super::{bucket_of, link_ptr, Segment, Segments, Table, MAX_BUCKETS, MIN_BUCKETS};
use crate::store::entry::{EntryRef, F_EXPIRE};

impl Table {
    /// Sizes an empty table for about `n` keys at once (a file's
    /// RESIZEDB): the segments a load would otherwise reach through
    /// thousands of splits, each rehashing every entry it moves, a cache
    /// miss apiece (a third of a 10M-key load).
    pub fn reserve(&mut self, n: usize) {
        if self.len != 0 || self.snap.is_some() || n <= MIN_BUCKETS {
            return;
        }
        let nseg = n.div_ceil(MAX_BUCKETS).next_power_of_two();
        let depth = nseg.trailing_zeros();
        let nb = if nseg == 1 {
            n.next_power_of_two().clamp(MIN_BUCKETS, MAX_BUCKETS)
        } else {
            MAX_BUCKETS
        };
        self.segs = Segments::new();
        for _ in 0..nseg {
            self.segs.push(Segment::new(nb, depth));
        }
        self.dir = (0..nseg as u32).collect();
        self.depth = depth;
        self.expire_cursor = (0, 0);
    }

    pub(super) fn grow(&mut self, si: usize, h: u64) {
        let n = self.segs[si].buckets.len();
        if n < MAX_BUCKETS {
            self.resize(si, n * 2);
        } else {
            self.split(si, h);
        }
    }

    /// Rehashes one segment into `n` buckets (bounded: at most MAX_BUCKETS
    /// entries per segment ever move at once).
    fn resize(&mut self, si: usize, n: usize) {
        let hasher = self.hasher;
        let seg = &mut self.segs[si];
        let old = std::mem::replace(&mut seg.buckets, vec![0usize; n].into_boxed_slice());
        let mask = n - 1;
        for mut l in old.iter().copied() {
            while l != 0 {
                let e = unsafe { EntryRef::from_raw(link_ptr(l)) };
                let next = e.next_link();
                let h = hasher.hash(e.key());
                let b = bucket_of(h, mask);
                e.set_next_link(seg.buckets[b]);
                seg.buckets[b] = l;
                l = next;
            }
        }
    }

    /// Splits a full segment by the next hash bit; the directory doubles
    /// first if the segment was already as deep as it.
    fn split(&mut self, si: usize, h: u64) {
        let d = self.segs[si].depth;
        if d == self.depth {
            // One exact allocation (a collect through flat_map grows by
            // doubling, copying the directory a dozen times).
            let old = std::mem::take(&mut self.dir);
            let mut dir = Vec::with_capacity(old.len() * 2);
            for &s in &old {
                dir.push(s);
                dir.push(s);
            }
            self.dir = dir;
            self.depth += 1;
        }
        let hasher = self.hasher;
        let nb = self.segs[si].buckets.len();
        let mut new = Segment::new(nb, d + 1);
        // Inserts run the snapshot hook first, so a half of a saved
        // segment is saved too.
        new.saved = self.segs[si].saved;
        let bit = 63 - d;
        {
            let seg = &mut self.segs[si];
            seg.depth = d + 1;
            for b in 0..nb {
                let mut link: *mut usize = &mut seg.buckets[b];
                // SAFETY: as in `find_mut`; entries are unlinked from the old
                // chain before being pushed onto the new one.
                unsafe {
                    while *link != 0 {
                        let l = *link;
                        let e = EntryRef::from_raw(link_ptr(l));
                        if hasher.hash(e.key()) >> bit & 1 == 1 {
                            *link = e.next_link();
                            e.set_next_link(new.buckets[b]);
                            new.buckets[b] = l;
                            new.len += 1;
                            if e.flags() & F_EXPIRE != 0 {
                                new.volatile += 1;
                            }
                        } else {
                            link = link_ptr(l) as *mut usize;
                        }
                    }
                }
            }
            seg.len -= new.len;
            seg.volatile -= new.volatile;
        }
        let ni = self.segs.len() as u32;
        self.segs.push(new);
        let span = 1usize << (self.depth - d);
        let start = self.dir_index(h) & !(span - 1);
        for slot in &mut self.dir[start + span / 2..start + span] {
            *slot = ni;
        }
    }

    pub(super) fn maybe_shrink(&mut self, si: usize) {
        let seg = &self.segs[si];
        let n = seg.buckets.len();
        if n > MIN_BUCKETS && (seg.len as usize) < n / 8 {
            self.resize(si, n / 2);
        }
    }
}
