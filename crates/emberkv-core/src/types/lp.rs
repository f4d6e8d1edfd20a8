//! `Lp`: the compact encoding of small collections (Redis's "listpack").
//!
//! One exactly-sized allocation behind a thin pointer:
//!
//! ```text
//! | data bytes u32 | count u32 | (varint len, bytes)* |
//! ```
//!
//! Small lists, hashes (field, value, field, value ...), sets and sorted
//! sets (member, 8-byte score ...) live here until they cross the
//! configured thresholds. Edits are splices: `realloc` then `memmove`, as a
//! listpack does; the thresholds keep them to a few KiB. The allocation is
//! sized exactly so jemalloc's size classes are the only slack, which is
//! what keeps 100k small hashes under Redis's memory.

use std::alloc::{alloc, dealloc, realloc, Layout};
use std::ptr::NonNull;

const HDR: usize = 8;

/// Largest compact collection whatever the configured thresholds (Redis
/// caps a listpack at 1 GiB too): sizes are u32, and edits memmove.
pub const SAFETY_BYTES: usize = 1 << 30;

pub struct Lp(NonNull<u8>);

// Reached only under a shard lock, like the entry that owns it.
unsafe impl Send for Lp {}

use crate::store::entry::varint_len;

#[inline]
fn put_varint(out: &mut [u8], mut n: usize) -> usize {
    let mut i = 0;
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out[i] = b;
            return i + 1;
        }
        out[i] = b | 0x80;
        i += 1;
    }
}

#[inline]
fn get_varint(d: &[u8]) -> (usize, usize) {
    // Elements under 128 bytes (nearly all): one byte, no loop.
    if let Some(&b) = d.first() {
        if b < 0x80 {
            return (b as usize, 1);
        }
    }
    let mut n = 0usize;
    let mut shift = 0;
    for (i, &b) in d.iter().enumerate() {
        n |= ((b & 0x7f) as usize) << shift;
        if b < 0x80 {
            return (n, i + 1);
        }
        shift += 7;
    }
    unreachable!("truncated varint in Lp")
}

/// Bytes one element takes.
#[inline]
pub fn elem_size(e: &[u8]) -> usize {
    varint_len(e.len()) + e.len()
}

impl Lp {
    pub fn new() -> Lp {
        Self::with_data(&[], 0)
    }

    fn with_data(data: &[u8], count: usize) -> Lp {
        let size = HDR + data.len();
        let layout = Layout::from_size_align(size, 4).expect("lp size");
        unsafe {
            let p = alloc(layout);
            let Some(nn) = NonNull::new(p) else {
                std::alloc::handle_alloc_error(layout)
            };
            (p as *mut u32).write(data.len() as u32);
            (p.add(4) as *mut u32).write(count as u32);
            std::ptr::copy_nonoverlapping(data.as_ptr(), p.add(HDR), data.len());
            Lp(nn)
        }
    }

    /// An Lp of `bytes` zero bytes said to hold `count` elements, for the
    /// caller to fill in.
    fn zeroed(bytes: usize, count: usize) -> Lp {
        let layout = Layout::from_size_align(HDR + bytes, 4).expect("lp size");
        unsafe {
            let p = std::alloc::alloc_zeroed(layout);
            let Some(nn) = NonNull::new(p) else {
                std::alloc::handle_alloc_error(layout)
            };
            (p as *mut u32).write(bytes as u32);
            (p.add(4) as *mut u32).write(count as u32);
            Lp(nn)
        }
    }

    fn data_mut(&mut self) -> &mut [u8] {
        unsafe { std::slice::from_raw_parts_mut(self.0.as_ptr().add(HDR), self.bytes()) }
    }

    /// Builds from elements, in one allocation of the exact size (the
    /// iterator is walked twice: sizes, then bytes).
    pub fn from_elems<'a, I>(elems: I) -> Lp
    where
        I: IntoIterator<Item = &'a [u8]>,
        I::IntoIter: Clone,
    {
        let it = elems.into_iter();
        let (bytes, n) = it
            .clone()
            .fold((0, 0), |(b, n), e| (b + elem_size(e), n + 1));
        let mut lp = Self::zeroed(bytes, n);
        let d = lp.data_mut();
        let mut w = 0;
        for e in it {
            w += put_varint(&mut d[w..], e.len());
            d[w..w + e.len()].copy_from_slice(e);
            w += e.len();
        }
        debug_assert_eq!(w, bytes);
        lp
    }

    #[inline]
    pub fn into_raw(self) -> usize {
        let p = self.0.as_ptr() as usize;
        std::mem::forget(self);
        p
    }

    /// # Safety
    /// `p` must come from `into_raw`, and ownership is taken back.
    #[inline]
    pub unsafe fn from_raw(p: usize) -> Lp {
        Lp(NonNull::new_unchecked(p as *mut u8))
    }

    /// Number of elements.
    #[inline]
    pub fn len(&self) -> usize {
        unsafe { (self.0.as_ptr().add(4) as *const u32).read() as usize }
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of element data (the size Redis's thresholds compare).
    #[inline]
    pub fn bytes(&self) -> usize {
        unsafe { (self.0.as_ptr() as *const u32).read() as usize }
    }

    #[inline]
    pub fn data(&self) -> &[u8] {
        unsafe { std::slice::from_raw_parts(self.0.as_ptr().add(HDR), self.bytes()) }
    }

    /// The element at byte offset `off` and the offset after it.
    #[inline]
    pub fn at(&self, off: usize) -> (&[u8], usize) {
        let d = self.data();
        let (len, n) = get_varint(&d[off..]);
        (&d[off + n..off + n + len], off + n + len)
    }

    pub fn iter(&self) -> LpIter<'_> {
        LpIter {
            d: self.data(),
            off: 0,
        }
    }

    /// Byte offset of element `i` (0 ≤ i ≤ len).
    pub fn offset_of(&self, i: usize) -> usize {
        let mut off = 0;
        for _ in 0..i {
            off = self.at(off).1;
        }
        off
    }

    /// Replaces `remove` elements at byte offset `off` (spanning `rm_bytes`)
    /// with `ins`.
    fn splice(&mut self, off: usize, rm_bytes: usize, rm_count: usize, ins: &[&[u8]]) {
        let add: usize = ins.iter().map(|e| elem_size(e)).sum();
        let old = self.bytes();
        let new = old - rm_bytes + add;
        let tail = old - off - rm_bytes;
        unsafe {
            let mut p = self.0.as_ptr();
            if new > old {
                p = realloc(
                    p,
                    Layout::from_size_align_unchecked(HDR + old, 4),
                    HDR + new,
                );
                if p.is_null() {
                    std::alloc::handle_alloc_error(Layout::from_size_align_unchecked(HDR + new, 4));
                }
            }
            let base = p.add(HDR);
            std::ptr::copy(base.add(off + rm_bytes), base.add(off + add), tail);
            let mut w = off;
            for e in ins {
                let s = std::slice::from_raw_parts_mut(base.add(w), 10.min(new - w));
                w += put_varint(s, e.len());
                std::ptr::copy_nonoverlapping(e.as_ptr(), base.add(w), e.len());
                w += e.len();
            }
            if new < old {
                p = realloc(
                    p,
                    Layout::from_size_align_unchecked(HDR + old, 4),
                    HDR + new,
                );
                if p.is_null() {
                    std::alloc::handle_alloc_error(Layout::from_size_align_unchecked(HDR + new, 4));
                }
            }
            (p as *mut u32).write(new as u32);
            let cnt = (p.add(4) as *const u32).read() as usize + ins.len() - rm_count;
            (p.add(4) as *mut u32).write(cnt as u32);
            self.0 = NonNull::new_unchecked(p);
        }
    }

    /// Inserts elements at byte offset `off`.
    pub fn insert(&mut self, off: usize, elems: &[&[u8]]) {
        self.splice(off, 0, 0, elems)
    }

    /// Removes `n` elements starting at byte offset `off`.
    pub fn remove(&mut self, off: usize, n: usize) {
        let mut end = off;
        for _ in 0..n {
            end = self.at(end).1;
        }
        self.splice(off, end - off, n, &[])
    }

    /// Replaces the element at byte offset `off`.
    pub fn replace(&mut self, off: usize, e: &[u8]) {
        let end = self.at(off).1;
        self.splice(off, end - off, 1, &[e])
    }

    pub fn push_back(&mut self, e: &[u8]) {
        self.splice(self.bytes(), 0, 0, &[e])
    }

    pub fn push_front(&mut self, e: &[u8]) {
        self.splice(0, 0, 0, &[e])
    }
}

impl Default for Lp {
    fn default() -> Self {
        Lp::new()
    }
}

impl Clone for Lp {
    fn clone(&self) -> Self {
        Self::with_data(self.data(), self.len())
    }
}

impl Drop for Lp {
    fn drop(&mut self) {
        unsafe {
            dealloc(
                self.0.as_ptr(),
                Layout::from_size_align_unchecked(HDR + self.bytes(), 4),
            )
        }
    }
}

/// An Lp built element by element into one buffer, then copied once
/// into its exact-size allocation (a loader's, which knows the elements
/// only as it decodes them).
pub struct LpBuilder {
    buf: Vec<u8>,
    count: usize,
}

impl LpBuilder {
    /// Room for about `bytes` of elements.
    pub fn with_capacity(bytes: usize) -> Self {
        LpBuilder {
            buf: Vec::with_capacity(bytes),
            count: 0,
        }
    }

    #[inline]
    pub fn push(&mut self, e: &[u8]) {
        if e.len() < 0x80 {
            self.buf.push(e.len() as u8);
        } else {
            let mut tmp = [0u8; 10];
            let k = put_varint(&mut tmp, e.len());
            self.buf.extend_from_slice(&tmp[..k]);
        }
        crate::util::append(&mut self.buf, e);
        self.count += 1;
    }

    /// Pushes an integer's text; its length.
    #[inline]
    pub fn push_int(&mut self, v: i64) -> usize {
        let mut t = itoa::Buffer::new();
        let s = t.format(v).as_bytes();
        self.push(s);
        s.len()
    }

    /// Elements pushed.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Bytes of element data so far (what `Lp::bytes` will say).
    pub fn bytes(&self) -> usize {
        self.buf.len()
    }

    pub fn finish(self) -> Lp {
        Lp::with_data(&self.buf, self.count)
    }
}

#[derive(Clone)]
pub struct LpIter<'a> {
    d: &'a [u8],
    off: usize,
}

impl<'a> LpIter<'a> {
    /// Byte offset of the next element.
    #[inline]
    pub fn offset(&self) -> usize {
        self.off
    }
}

impl<'a> Iterator for LpIter<'a> {
    type Item = &'a [u8];
    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.off >= self.d.len() {
            return None;
        }
        let (len, n) = get_varint(&self.d[self.off..]);
        let s = &self.d[self.off + n..self.off + n + len];
        self.off += n + len;
        Some(s)
    }

    /// Skips by lengths alone (`step_by(2)` over pairs calls this).
    #[inline]
    fn nth(&mut self, k: usize) -> Option<&'a [u8]> {
        for _ in 0..k {
            if self.off >= self.d.len() {
                return None;
            }
            let (len, n) = get_varint(&self.d[self.off..]);
            self.off += n + len;
        }
        self.next()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splices() {
        let mut lp = Lp::new();
        lp.push_back(b"b");
        lp.push_front(b"a");
        lp.push_back(&[7u8; 300]);
        lp.push_back(b"d");
        assert_eq!(lp.len(), 4);
        let v: Vec<&[u8]> = lp.iter().collect();
        assert_eq!(v[0], b"a");
        assert_eq!(v[2].len(), 300);
        let off = lp.offset_of(2);
        lp.replace(off, b"c");
        let off = lp.offset_of(1);
        lp.remove(off, 2);
        let v: Vec<&[u8]> = lp.iter().collect();
        assert_eq!(v, vec![&b"a"[..], b"d"]);
        let c = lp.clone();
        assert_eq!(c.data(), lp.data());
        let lp2 = Lp::from_elems([&b"x"[..], b"yy"]);
        assert_eq!(lp2.len(), 2);
        assert_eq!(lp2.bytes(), 5);
    }
}
