//! The keyspace entry: one heap allocation per key holding the chain link,
//! metadata, optional expiry, key and (for strings) the value inline.
//!
//! ```text
//! 0      8     9      10        13            +8?          +varint   +klen
//! | next | kind | flags | lru(24) | expire_ms? | key len  | key   | value ...
//! ```
//! Strings store `varint len + bytes` as the value. Keeping everything in one
//! allocation is what makes memory per key small: a 16-byte key with a 16-byte
//! value takes one 48-byte jemalloc slot, where Redis spends a dictEntry, an
//! robj and two sds headers. `lru` holds the LRU clock or LFU counter for
//! eviction; `F_COLD` is reserved for values that live in the cold tier.

use std::alloc::{alloc, dealloc, Layout};
use std::marker::PhantomData;
use std::ptr::NonNull;

pub const T_STRING: u8 = 0;
pub const T_LIST: u8 = 1;
pub const T_HASH: u8 = 2;
pub const T_SET: u8 = 3;
pub const T_ZSET: u8 = 4;
pub const T_STREAM: u8 = 5;

/// Collections keep their encoding (compact or large, see `crate::types`)
/// in the top four bits of the flags byte; their value is one pointer.
pub const ENC_SHIFT: u8 = 4;
const OBJ_PTR: usize = 8;

/// The entry carries an absolute expiry time (ms since the epoch).
pub const F_EXPIRE: u8 = 1;
/// A string made raw by APPEND/SETRANGE: OBJECT ENCODING reports `raw` for
/// it, as Redis does.
pub const F_RAW: u8 = 2;
/// Reserved: the value has been spilled to the cold tier on disk.
#[allow(dead_code)] // claimed now so the flag layout is stable; used by the cold tier
pub const F_COLD: u8 = 4;

const OFF_KIND: usize = 8;
const OFF_FLAGS: usize = 9;
const OFF_LRU: usize = 10;
const HDR: usize = 13;
const ALIGN: usize = 8;

#[inline]
pub fn varint_len(mut n: usize) -> usize {
    let mut l = 1;
    n >>= 7;
    while n > 0 {
        l += 1;
        n >>= 7;
    }
    l
}

/// # Safety
/// `p` must have room for `varint_len(n)` bytes.
#[inline]
unsafe fn write_varint(p: *mut u8, mut n: usize) -> usize {
    let mut i = 0;
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            *p.add(i) = b;
            return i + 1;
        }
        *p.add(i) = b | 0x80;
        i += 1;
    }
}

/// # Safety
/// `p` must point at a varint written by `write_varint`.
#[inline]
unsafe fn read_varint(p: *const u8) -> (usize, usize) {
    let b = *p;
    if b < 0x80 {
        return (b as usize, 1);
    }
    let mut n = (b & 0x7f) as usize;
    let mut shift = 7;
    let mut i = 1;
    loop {
        let b = *p.add(i);
        n |= ((b & 0x7f) as usize) << shift;
        i += 1;
        if b < 0x80 {
            return (n, i);
        }
        shift += 7;
    }
}

/// Owning handle to an entry allocation (like a `Box`, freed explicitly with
/// [`EntryPtr::free`] because its size is derived from its contents).
pub struct EntryPtr(NonNull<u8>);

// Entries are only reached through a shard's lock.
unsafe impl Send for EntryPtr {}

impl EntryPtr {
    /// Allocates an entry of `kind` with room for `val_size` value bytes and
    /// writes everything but the value; returns it and the value offset.
    fn alloc_head(
        kind: u8,
        flags: u8,
        lru: u32,
        expire: Option<i64>,
        key: &[u8],
        val_size: usize,
    ) -> (Self, usize) {
        let flags = (flags & !F_EXPIRE) | if expire.is_some() { F_EXPIRE } else { 0 };
        let size = HDR
            + if expire.is_some() { 8 } else { 0 }
            + varint_len(key.len())
            + key.len()
            + val_size;
        let layout = Layout::from_size_align(size, ALIGN).expect("entry size");
        // SAFETY: size > 0; the header and key are written here, the
        // caller writes the `val_size` bytes after them.
        unsafe {
            let p = alloc(layout);
            let Some(nn) = NonNull::new(p) else {
                std::alloc::handle_alloc_error(layout)
            };
            (p as *mut usize).write(0);
            *p.add(OFF_KIND) = kind;
            *p.add(OFF_FLAGS) = flags;
            write_lru(p, lru);
            let mut off = HDR;
            if let Some(t) = expire {
                std::ptr::write_unaligned(p.add(off) as *mut i64, t);
                off += 8;
            }
            off += write_varint(p.add(off), key.len());
            std::ptr::copy_nonoverlapping(key.as_ptr(), p.add(off), key.len());
            off += key.len();
            debug_assert_eq!(off + val_size, size);
            (EntryPtr(nn), off)
        }
    }

    /// A string entry.
    pub fn new_string(key: &[u8], val: &[u8], expire: Option<i64>, flags: u8, lru: u32) -> Self {
        let vsize = varint_len(val.len()) + val.len();
        let (e, off) = Self::alloc_head(T_STRING, flags, lru, expire, key, vsize);
        // SAFETY: `alloc_head` left exactly `vsize` bytes at `off`.
        unsafe {
            let p = e.0.as_ptr().add(off);
            let n = write_varint(p, val.len());
            std::ptr::copy_nonoverlapping(val.as_ptr(), p.add(n), val.len());
        }
        e
    }

    /// A collection entry: `ptr` is the raw object (see
    /// `crate::types::Obj::into_raw`), owned by the entry from now on.
    pub fn new_obj(
        key: &[u8],
        kind: u8,
        enc: u8,
        ptr: usize,
        expire: Option<i64>,
        lru: u32,
    ) -> Self {
        debug_assert_ne!(kind, T_STRING);
        let (e, off) = Self::alloc_head(kind, enc << ENC_SHIFT, lru, expire, key, OBJ_PTR);
        // SAFETY: `alloc_head` left exactly OBJ_PTR bytes at `off`.
        unsafe { std::ptr::write_unaligned(e.0.as_ptr().add(off) as *mut usize, ptr) };
        e
    }

    /// # Safety
    /// `p` must come from [`EntryPtr::into_raw`] / `as_raw` of a live entry
    /// whose ownership is being taken back.
    #[inline]
    pub unsafe fn from_raw(p: *mut u8) -> Self {
        EntryPtr(NonNull::new_unchecked(p))
    }

    #[inline]
    pub fn into_raw(self) -> *mut u8 {
        let p = self.0.as_ptr();
        std::mem::forget(self);
        p
    }

    #[inline]
    pub fn as_ref(&self) -> EntryRef<'_> {
        EntryRef(self.0, PhantomData)
    }

    /// Moves this entry's contents into a new allocation with a different
    /// key and/or expiry (RENAME, EXPIRE on a key without a TTL, PERSIST).
    /// Metadata and value bytes are carried over unchanged.
    pub fn rebuild(self, key: Option<&[u8]>, expire: Option<i64>) -> EntryPtr {
        let r = self.as_ref();
        let old_koff = r.key_off();
        // SAFETY: offsets come from the entry's own encoding.
        let (old_klen, n) = unsafe { read_varint(r.p().add(old_koff)) };
        let old_val_off = old_koff + n + old_klen;
        let old_size = r.alloc_size();
        let key = key.unwrap_or_else(|| r.key());
        let val_len = old_size - old_val_off;
        let new_koff = HDR + if expire.is_some() { 8 } else { 0 };
        let size = new_koff + varint_len(key.len()) + key.len() + val_len;
        let layout = Layout::from_size_align(size, ALIGN).expect("entry size");
        unsafe {
            let p = alloc(layout);
            if p.is_null() {
                std::alloc::handle_alloc_error(layout)
            }
            std::ptr::copy_nonoverlapping(r.p(), p, HDR);
            (p as *mut usize).write(0);
            let f = p.add(OFF_FLAGS);
            *f = (*f & !F_EXPIRE) | if expire.is_some() { F_EXPIRE } else { 0 };
            if let Some(t) = expire {
                std::ptr::write_unaligned(p.add(HDR) as *mut i64, t);
            }
            let mut off = new_koff;
            off += write_varint(p.add(off), key.len());
            std::ptr::copy_nonoverlapping(key.as_ptr(), p.add(off), key.len());
            off += key.len();
            std::ptr::copy_nonoverlapping(r.p().add(old_val_off), p.add(off), val_len);
            // The value moved: release the old block without touching it again.
            let old = self.into_raw();
            dealloc(old, Layout::from_size_align_unchecked(old_size, ALIGN));
            EntryPtr(NonNull::new_unchecked(p))
        }
    }

    /// Appends to a string value by growing the allocation with `realloc`.
    /// jemalloc's size classes are about 20% apart for large sizes, so most
    /// appends extend in place and building a big string by appends costs
    /// amortized O(bytes appended), as with Redis's sds; a fresh copy per
    /// append would be quadratic. The caller relinks the returned pointer.
    pub fn append_str(self, add: &[u8], flags: u8) -> EntryPtr {
        let r = self.as_ref();
        let (off, len) = r.str_span();
        let old_size = off + len;
        // SAFETY: offsets come from the entry's own encoding.
        let (klen, n) = unsafe { read_varint(r.p().add(r.key_off())) };
        let len_off = r.key_off() + n + klen;
        let new_len = len + add.len();
        if varint_len(new_len) != varint_len(len) {
            // The length prefix grows by a byte (at 128 B, 16 KiB, 2 MiB, ...):
            // rebuild once; the next appends are in place again.
            let mut v = Vec::with_capacity(new_len);
            v.extend_from_slice(r.str_value());
            v.extend_from_slice(add);
            let e = EntryPtr::new_string(r.key(), &v, r.expire_at(), flags, r.lru());
            drop(self);
            return e;
        }
        let new_size = old_size + add.len();
        let p = self.into_raw();
        // SAFETY: `p` was allocated with (old_size, ALIGN); realloc keeps the
        // first old_size bytes; we then write the new length and the tail.
        unsafe {
            let q = std::alloc::realloc(
                p,
                Layout::from_size_align_unchecked(old_size, ALIGN),
                new_size,
            );
            if q.is_null() {
                std::alloc::handle_alloc_error(Layout::from_size_align_unchecked(new_size, ALIGN));
            }
            write_varint(q.add(len_off), new_len);
            std::ptr::copy_nonoverlapping(add.as_ptr(), q.add(old_size), add.len());
            let f = q.add(OFF_FLAGS);
            *f = (*f & F_EXPIRE) | (flags & !F_EXPIRE);
            EntryPtr(NonNull::new_unchecked(q))
        }
    }

    /// Frees the allocation (same as dropping; spelled out where it matters).
    #[inline]
    pub fn free(self) {
        drop(self)
    }
}

/// Frees a collection entry's value, given as (kind, encoding, pointer).
/// Installed by the value types (`types::Obj::into_raw`, through which every
/// collection value an entry can hold has passed), so the keyspace stores
/// values without depending on their types.
pub static VALUE_DROP: std::sync::OnceLock<fn(u8, u8, usize)> = std::sync::OnceLock::new();

impl Drop for EntryPtr {
    fn drop(&mut self) {
        let r = self.as_ref();
        if r.kind() != T_STRING {
            // The entry owns its object; it is given up exactly once.
            if let Some(free) = VALUE_DROP.get() {
                free(r.kind(), r.enc(), r.obj_raw());
            }
        }
        let size = r.alloc_size();
        // SAFETY: as in `free`; `free`/`into_raw` forget `self` so this runs once.
        unsafe {
            dealloc(
                self.0.as_ptr(),
                Layout::from_size_align_unchecked(size, ALIGN),
            )
        }
        // A huge value (a 512 MB string): give its pages back now, from the
        // background thread, rather than after jemalloc's decay time.
        if size >= HUGE_FREE {
            crate::lazyfree::purge_later();
        }
    }
}

/// Entries at least this big are followed by a jemalloc purge when freed.
const HUGE_FREE: usize = 64 << 20;

#[inline]
unsafe fn write_lru(p: *mut u8, lru: u32) {
    *p.add(OFF_LRU) = lru as u8;
    *p.add(OFF_LRU + 1) = (lru >> 8) as u8;
    *p.add(OFF_LRU + 2) = (lru >> 16) as u8;
}

/// Shared view of an entry, valid while the table that owns it is borrowed.
#[derive(Clone, Copy)]
pub struct EntryRef<'a>(NonNull<u8>, PhantomData<&'a ()>);

impl<'a> EntryRef<'a> {
    /// # Safety
    /// `p` must point at a live entry that outlives `'a`.
    #[inline]
    pub unsafe fn from_raw(p: *mut u8) -> Self {
        EntryRef(NonNull::new_unchecked(p), PhantomData)
    }

    #[inline]
    fn p(&self) -> *mut u8 {
        self.0.as_ptr()
    }

    #[inline]
    pub fn raw(&self) -> *mut u8 {
        self.0.as_ptr()
    }

    #[inline]
    pub fn next_link(&self) -> usize {
        unsafe { (self.p() as *const usize).read() }
    }

    #[inline]
    pub fn set_next_link(&self, l: usize) {
        // SAFETY: the caller holds the table mutably (links are only changed
        // by table operations that take `&mut self`).
        unsafe { (self.p() as *mut usize).write(l) }
    }

    #[inline]
    pub fn kind(&self) -> u8 {
        unsafe { *self.p().add(OFF_KIND) }
    }

    #[inline]
    pub fn flags(&self) -> u8 {
        unsafe { *self.p().add(OFF_FLAGS) }
    }

    #[inline]
    pub fn lru(&self) -> u32 {
        unsafe {
            let p = self.p().add(OFF_LRU);
            *p as u32 | (*p.add(1) as u32) << 8 | (*p.add(2) as u32) << 16
        }
    }

    #[inline]
    pub fn expire_at(&self) -> Option<i64> {
        if self.flags() & F_EXPIRE == 0 {
            return None;
        }
        Some(unsafe { std::ptr::read_unaligned(self.p().add(HDR) as *const i64) })
    }

    #[inline]
    pub fn key_off(&self) -> usize {
        HDR + if self.flags() & F_EXPIRE != 0 { 8 } else { 0 }
    }

    #[inline]
    pub fn key(&self) -> &'a [u8] {
        unsafe {
            let off = self.key_off();
            let (len, n) = read_varint(self.p().add(off));
            std::slice::from_raw_parts(self.p().add(off + n), len)
        }
    }

    /// Offset where the value starts.
    #[inline]
    fn val_off(&self) -> usize {
        unsafe {
            let off = self.key_off();
            let (klen, n) = read_varint(self.p().add(off));
            off + n + klen
        }
    }

    /// Offset and length of the string value.
    #[inline]
    fn str_span(&self) -> (usize, usize) {
        let voff = self.val_off();
        unsafe {
            let (vlen, m) = read_varint(self.p().add(voff));
            (voff + m, vlen)
        }
    }

    /// Encoding of a collection (see `crate::types`).
    #[inline]
    pub fn enc(&self) -> u8 {
        self.flags() >> ENC_SHIFT
    }

    /// The raw object pointer of a collection entry.
    #[inline]
    pub fn obj_raw(&self) -> usize {
        debug_assert_ne!(self.kind(), T_STRING);
        unsafe { std::ptr::read_unaligned(self.p().add(self.val_off()) as *const usize) }
    }

    /// Starts loading what a collection entry's object points at (a
    /// snapshot serializing entry after entry would otherwise wait for
    /// each one's first cache line in turn).
    /// Starts loading the entry's own first line (a walk that collected
    /// many entries before using them finds them evicted again).
    #[inline]
    pub fn prefetch(&self) {
        crate::util::prefetch(self.p());
    }

    /// `whole`: a compact form's every line (up to 4 KiB) rather than its
    /// first, which must have arrived already (an earlier call).
    #[inline]
    pub fn prefetch_value(&self, whole: bool) {
        if self.kind() != T_STRING {
            crate::types::prefetch(self.kind(), self.enc(), self.obj_raw(), whole);
        }
    }

    /// Stores a new raw object (after an encoding conversion). The caller
    /// owns the old one, which it consumed to build the new.
    #[inline]
    pub fn set_obj_raw(&self, enc: u8, ptr: usize) {
        unsafe {
            std::ptr::write_unaligned(self.p().add(self.val_off()) as *mut usize, ptr);
            let f = self.p().add(OFF_FLAGS);
            *f = (*f & ((1 << ENC_SHIFT) - 1)) | (enc << ENC_SHIFT);
        }
    }

    /// The value of a string entry.
    #[inline]
    pub fn str_value(&self) -> &'a [u8] {
        debug_assert_eq!(self.kind(), T_STRING);
        let (off, len) = self.str_span();
        unsafe { std::slice::from_raw_parts(self.p().add(off), len) }
    }

    /// Bytes of the allocation (derived from the contents).
    pub fn alloc_size(&self) -> usize {
        if self.kind() != T_STRING {
            return self.val_off() + OBJ_PTR;
        }
        let (off, len) = self.str_span();
        off + len
    }

    /// Updates the LRU clock / LFU counter. Interior mutation of metadata is
    /// fine here: the shard lock is held and no reference into these bytes
    /// is ever handed out.
    #[inline]
    pub fn set_lru(&self, lru: u32) {
        unsafe { write_lru(self.p(), lru) }
    }

    /// Overwrites the expiry of an entry that already has one.
    #[inline]
    pub fn set_expire_in_place(&self, t: i64) {
        debug_assert!(self.flags() & F_EXPIRE != 0);
        unsafe { std::ptr::write_unaligned(self.p().add(HDR) as *mut i64, t) }
    }

    /// Overwrites `bytes` at `off` inside a string value (which must be long
    /// enough), in place, and sets `flags` (F_EXPIRE is kept).
    pub fn write_str_at(&self, off: usize, bytes: &[u8], flags: u8) {
        let (voff, len) = self.str_span();
        assert!(off + bytes.len() <= len);
        // SAFETY: in bounds of the value; the shard lock is held.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.p().add(voff + off), bytes.len());
            let f = self.p().add(OFF_FLAGS);
            *f = (*f & F_EXPIRE) | (flags & !F_EXPIRE);
        }
    }

    /// Lends a string value for changes in place (its length stays), and
    /// sets `flags` as [`EntryRef::write_str_at`] does (HyperLogLog
    /// registers change in place: no copy of the value per command).
    pub(crate) fn with_str_mut<R>(&self, flags: u8, f: impl FnOnce(&mut [u8]) -> R) -> R {
        let (off, len) = self.str_span();
        // SAFETY: in bounds of the value; the shard lock is held, and the
        // caller holds no other reference into the value meanwhile.
        unsafe {
            let fl = self.p().add(OFF_FLAGS);
            *fl = (*fl & F_EXPIRE) | (flags & !F_EXPIRE);
            f(std::slice::from_raw_parts_mut(self.p().add(off), len))
        }
    }

    /// Overwrites a string value of exactly the same length in place.
    #[inline]
    pub fn overwrite_str_same_len(&self, val: &[u8], flags: u8) {
        let (off, len) = self.str_span();
        assert_eq!(len, val.len());
        unsafe {
            std::ptr::copy_nonoverlapping(val.as_ptr(), self.p().add(off), len);
            let f = self.p().add(OFF_FLAGS);
            *f = (*f & F_EXPIRE) | (flags & !F_EXPIRE);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_roundtrip() {
        let e = EntryPtr::new_string(b"key:000000000001", b"0123456789abcdef", None, 0, 77);
        let r = e.as_ref();
        assert_eq!(r.key(), b"key:000000000001");
        assert_eq!(r.str_value(), b"0123456789abcdef");
        assert_eq!(r.lru(), 77);
        assert_eq!(r.expire_at(), None);
        assert!(
            r.alloc_size() <= 48,
            "16+16 byte key/value must fit a 48-byte slot"
        );
        e.free();
        let big = vec![7u8; 300];
        let e = EntryPtr::new_string(&big, &big, Some(123), F_RAW, 0xffffff);
        let r = e.as_ref();
        assert_eq!(r.key(), &big[..]);
        assert_eq!(r.str_value(), &big[..]);
        assert_eq!(r.expire_at(), Some(123));
        assert_eq!(r.flags(), F_RAW | F_EXPIRE);
        assert_eq!(r.lru(), 0xffffff);
        r.set_expire_in_place(5);
        assert_eq!(r.expire_at(), Some(5));
    }

    #[test]
    fn append_grows_in_place_and_across_length_prefix_sizes() {
        let mut e = EntryPtr::new_string(b"k", b"", Some(9), 0, 1);
        let mut want = Vec::new();
        for i in 0..3000u32 {
            let chunk = i.to_le_bytes();
            e = e.append_str(&chunk, F_RAW);
            want.extend_from_slice(&chunk);
        }
        let r = e.as_ref();
        assert_eq!(r.str_value(), &want[..]);
        assert_eq!(r.key(), b"k");
        assert_eq!(r.expire_at(), Some(9));
        assert_eq!(r.flags() & F_RAW, F_RAW);
        assert_eq!(r.alloc_size(), r.key_off() + 1 + 1 + 2 + want.len());
    }
}
