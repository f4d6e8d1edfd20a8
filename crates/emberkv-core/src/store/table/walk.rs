//! Walking a table without visiting it all at once: the SCAN cursor step,
//! a uniform random entry (RANDOMKEY, SPOP, eviction samples), and a step
//! of active expiry over the buckets that hold volatile keys.

use super::*;

impl Table {
    /// One SCAN step over a local cursor: visits one bucket, returns the next
    /// cursor (0 when the table is done).
    pub fn scan_step(&self, cursor: u64, mut f: impl FnMut(EntryRef<'_>)) -> u64 {
        if self.segs.is_empty() {
            return 0;
        }
        let prefix = (cursor >> MAX_BUCKET_BITS) as u32;
        let mut v = (cursor & ((1 << MAX_BUCKET_BITS) - 1)) as usize;
        let di = if self.depth == 0 {
            0
        } else {
            (prefix >> (PREFIX_BITS - self.depth)) as usize
        };
        let seg = &self.segs[self.dir[di] as usize];
        let mask = seg.mask();
        let mut l = seg.buckets[v & mask];
        while l != 0 {
            let e = unsafe { EntryRef::from_raw(link_ptr(l)) };
            l = e.next_link();
            f(e);
        }
        // Redis's reverse-binary increment over the bucket bits in use.
        v |= !mask & ((1 << MAX_BUCKET_BITS) - 1);
        v = reverse_bucket_bits(v);
        v = (v + 1) & ((1 << MAX_BUCKET_BITS) - 1);
        v = reverse_bucket_bits(v);
        if v != 0 {
            return (prefix as u64) << MAX_BUCKET_BITS | v as u64;
        }
        // Segment done: go to the next hash prefix at this segment's depth.
        let step = 1u64 << (PREFIX_BITS - seg.depth);
        let base = prefix as u64 & !(step - 1);
        let next = base + step;
        if next >= 1u64 << PREFIX_BITS {
            0
        } else {
            next << MAX_BUCKET_BITS
        }
    }

    /// A random entry, or None if the table is empty. Picks a directory slot
    /// (segments weighted by their share of the hash space), then buckets
    /// until a non-empty one, then a random element of its chain.
    pub fn random(&self) -> Option<EntryRef<'_>> {
        if self.len == 0 {
            return None;
        }
        for _ in 0..16 {
            let seg = &self.segs[self.dir[fastrand::usize(..self.dir.len())] as usize];
            if seg.len == 0 {
                continue;
            }
            for _ in 0..64 {
                let l0 = seg.buckets[fastrand::usize(..seg.buckets.len())];
                if l0 == 0 {
                    continue;
                }
                let mut n = 0;
                let mut l = l0;
                while l != 0 {
                    n += 1;
                    l = unsafe { EntryRef::from_raw(link_ptr(l)) }.next_link();
                }
                let mut k = fastrand::usize(..n);
                let mut l = l0;
                loop {
                    let e = unsafe { EntryRef::from_raw(link_ptr(l)) };
                    if k == 0 {
                        return Some(e);
                    }
                    k -= 1;
                    l = e.next_link();
                }
            }
        }
        // A sparse table (most segments empty after mass deletion, e.g. SPOP
        // draining a set): pick the k-th entry by walking segment counts.
        // O(segments + one segment's buckets), and uniform.
        let mut k = fastrand::usize(..self.len);
        let seg = self.segs.iter().find(|s| {
            if k < s.len as usize {
                true
            } else {
                k -= s.len as usize;
                false
            }
        })?;
        for &l0 in seg.buckets.iter() {
            let mut l = l0;
            while l != 0 {
                let e = unsafe { EntryRef::from_raw(link_ptr(l)) };
                if k == 0 {
                    return Some(e);
                }
                k -= 1;
                l = e.next_link();
            }
        }
        None
    }

    /// Active expiry: examines up to `budget` buckets holding keys with a TTL,
    /// removing the expired ones. Returns (volatile keys seen, keys expired).
    pub fn expire_step(
        &mut self,
        now: i64,
        budget: usize,
        mut on_expired: impl FnMut(&[u8]),
    ) -> (usize, usize) {
        let (mut seen, mut expired, mut visited) = (0, 0, 0);
        if self.volatile == 0 || self.segs.is_empty() {
            self.avg_ttl = 0;
            return (0, 0);
        }
        let (mut ttl_sum, mut ttl_n) = (0i64, 0i64);
        let (mut si, mut b) = self.expire_cursor;
        // Bound the walk over empty buckets too, not only over keys seen.
        let mut steps = budget * 20;
        while visited < budget && steps > 0 {
            steps -= 1;
            if si >= self.segs.len() {
                si = 0;
                b = 0;
            }
            if self.segs[si].volatile == 0 || b >= self.segs[si].buckets.len() {
                si += 1;
                b = 0;
                continue;
            }
            // Expiry changes the segment: the snapshot takes it first.
            self.snap_seg(si);
            let mut any = false;
            let seg = &mut self.segs[si];
            let mut link: *mut usize = &mut seg.buckets[b];
            unsafe {
                while *link != 0 {
                    let l = *link;
                    let e = EntryRef::from_raw(link_ptr(l));
                    if let Some(t) = e.expire_at() {
                        any = true;
                        seen += 1;
                        if t > now {
                            ttl_sum = ttl_sum.saturating_add(t - now);
                            ttl_n += 1;
                        }
                        if t <= now {
                            on_expired(e.key());
                            *link = e.next_link();
                            seg.len -= 1;
                            seg.volatile -= 1;
                            self.len -= 1;
                            self.volatile -= 1;
                            self.expired += 1;
                            expired += 1;
                            EntryPtr::from_raw(link_ptr(l)).free();
                            continue;
                        }
                    }
                    link = link_ptr(l) as *mut usize;
                }
            }
            if any {
                visited += 1;
            }
            b += 1;
        }
        self.expire_cursor = (si, b);
        if ttl_n > 0 {
            let avg = ttl_sum / ttl_n;
            self.avg_ttl = if self.avg_ttl == 0 {
                avg
            } else {
                self.avg_ttl / 50 * 49 + avg / 50
            };
        }
        (seen, expired)
    }
}

#[inline]
fn reverse_bucket_bits(v: usize) -> usize {
    ((v as u16).reverse_bits() >> (16 - MAX_BUCKET_BITS)) as usize
}
