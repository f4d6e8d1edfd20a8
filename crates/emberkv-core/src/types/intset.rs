//! `IntSet`: a sorted array of integers stored at the smallest width (2, 4
//! or 8 bytes) that holds them all, as Redis's intset. Ten small integers
//! take 28 bytes. Membership is a binary search; insertion a memmove.

use std::alloc::{alloc, dealloc, Layout};
use std::ptr::NonNull;

const HDR: usize = 8;

pub struct IntSet(NonNull<u8>);

unsafe impl Send for IntSet {}

fn width_for(v: i64) -> usize {
    if v >= i16::MIN as i64 && v <= i16::MAX as i64 {
        2
    } else if v >= i32::MIN as i64 && v <= i32::MAX as i64 {
        4
    } else {
        8
    }
}

impl IntSet {
    pub fn new() -> IntSet {
        Self::build(2, &[])
    }

    fn build(width: usize, vals: &[i64]) -> IntSet {
        let size = HDR + width * vals.len();
        let layout = Layout::from_size_align(size, 4).expect("intset size");
        unsafe {
            let p = alloc(layout);
            let Some(nn) = NonNull::new(p) else {
                std::alloc::handle_alloc_error(layout)
            };
            (p as *mut u32).write(vals.len() as u32);
            (p.add(4) as *mut u32).write(width as u32);
            let s = IntSet(nn);
            for (i, &v) in vals.iter().enumerate() {
                s.put(i, v);
            }
            s
        }
    }

    #[inline]
    pub fn into_raw(self) -> usize {
        let p = self.0.as_ptr() as usize;
        std::mem::forget(self);
        p
    }

    /// # Safety
    /// `p` must come from `into_raw`; ownership is taken back.
    #[inline]
    pub unsafe fn from_raw(p: usize) -> IntSet {
        IntSet(NonNull::new_unchecked(p as *mut u8))
    }

    #[inline]
    pub fn len(&self) -> usize {
        unsafe { (self.0.as_ptr() as *const u32).read() as usize }
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[inline]
    fn width(&self) -> usize {
        unsafe { (self.0.as_ptr().add(4) as *const u32).read() as usize }
    }

    pub fn alloc_size(&self) -> usize {
        HDR + self.width() * self.len()
    }

    #[inline]
    pub fn get(&self, i: usize) -> i64 {
        debug_assert!(i < self.len());
        unsafe {
            let p = self.0.as_ptr().add(HDR);
            match self.width() {
                2 => (p as *const i16).add(i).read_unaligned() as i64,
                4 => (p as *const i32).add(i).read_unaligned() as i64,
                _ => (p as *const i64).add(i).read_unaligned(),
            }
        }
    }

    #[inline]
    fn put(&self, i: usize, v: i64) {
        unsafe {
            let p = self.0.as_ptr().add(HDR);
            match self.width() {
                2 => (p as *mut i16).add(i).write_unaligned(v as i16),
                4 => (p as *mut i32).add(i).write_unaligned(v as i32),
                _ => (p as *mut i64).add(i).write_unaligned(v),
            }
        }
    }

    /// Ok(index) if present, Err(insertion point) if not.
    pub fn search(&self, v: i64) -> Result<usize, usize> {
        if width_for(v) > self.width() {
            return Err(if v < 0 { 0 } else { self.len() });
        }
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.get(mid).cmp(&v) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }

    pub fn contains(&self, v: i64) -> bool {
        self.search(v).is_ok()
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = i64> + '_ {
        (0..self.len()).map(move |i| self.get(i))
    }

    /// Inserts `v`; false if it was there.
    pub fn insert(&mut self, v: i64) -> bool {
        let pos = match self.search(v) {
            Ok(_) => return false,
            Err(p) => p,
        };
        let n = self.len();
        let w = self.width().max(width_for(v));
        // Rebuild at the new size (and width): small sets, one copy.
        let mut vals: Vec<i64> = Vec::with_capacity(n + 1);
        vals.extend(self.iter().take(pos));
        vals.push(v);
        vals.extend((pos..n).map(|i| self.get(i)));
        *self = Self::build(w, &vals);
        true
    }

    /// Removes `v`; false if absent.
    pub fn remove(&mut self, v: i64) -> bool {
        match self.search(v) {
            Ok(i) => {
                self.remove_at(i);
                true
            }
            Err(_) => false,
        }
    }

    pub fn remove_at(&mut self, i: usize) -> i64 {
        let v = self.get(i);
        let vals: Vec<i64> = self
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != i)
            .map(|(_, x)| x)
            .collect();
        *self = Self::build(self.width(), &vals);
        v
    }
}

impl Default for IntSet {
    fn default() -> Self {
        IntSet::new()
    }
}

impl Clone for IntSet {
    fn clone(&self) -> Self {
        let v: Vec<i64> = self.iter().collect();
        Self::build(self.width(), &v)
    }
}

impl Drop for IntSet {
    fn drop(&mut self) {
        unsafe {
            dealloc(
                self.0.as_ptr(),
                Layout::from_size_align_unchecked(self.alloc_size(), 4),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_and_upgrades() {
        let mut s = IntSet::new();
        for v in [5, -3, 100, 7, 5] {
            s.insert(v);
        }
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![-3, 5, 7, 100]);
        assert_eq!(s.alloc_size(), 8 + 8);
        s.insert(1 << 40);
        s.insert(-(1 << 40));
        assert_eq!(s.len(), 6);
        assert!(s.contains(7) && s.contains(1 << 40) && !s.contains(8));
        assert!(s.remove(7));
        assert_eq!(s.iter().next(), Some(-(1 << 40)));
        assert_eq!(s.clone().iter().count(), 5);
    }
}
