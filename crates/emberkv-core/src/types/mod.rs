//! Collection values and their encodings.
//!
//! Every collection has a compact encoding for small sizes and a large one,
//! switched at Redis's thresholds (see [`Limits`]):
//!
//! | type | compact (OBJECT ENCODING) | large |
//! |---|---|---|
//! | list | [`Lp`] (`listpack`) | deque of [`Lp`] nodes (`quicklist`) |
//! | hash | [`Lp`] field, value pairs (`listpack`) | [`Dict`] (`hashtable`) |
//! | set | [`IntSet`] (`intset`), [`Lp`] (`listpack`) | [`Dict`] (`hashtable`) |
//! | zset | [`Lp`] member, score pairs (`listpack`) | [`Dict`] + [`ZTree`] (`skiplist`) |
//!
//! A keyspace entry stores its collection as one pointer plus the encoding
//! in its flags ([`Obj::into_raw`]); [`ObjGuard`] turns that back into a
//! typed value for the duration of a command.

pub mod dict;
pub mod hash;
pub mod intset;
pub mod list;
pub mod lp;
pub mod quicklist;
pub mod set;
pub mod stream;
pub mod zset;
pub mod ztree;

pub use dict::Dict;
pub use hash::Hash;
pub use intset::IntSet;
pub use list::List;
pub use lp::{Lp, LpBuilder};
pub use set::Set;
pub use stream::Stream;
pub use zset::ZSet;

use crate::store::entry::{T_HASH, T_LIST, T_SET, T_STREAM, T_ZSET};
use crate::store::EntryRef;
use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicI64, Ordering::Relaxed};

/// Encoding thresholds, set from the config (Redis's directive names and
/// defaults). Read with relaxed loads on each conversion check.
pub struct Limits {
    pub list_max_listpack_size: AtomicI64,
    pub hash_max_listpack_entries: AtomicI64,
    pub hash_max_listpack_value: AtomicI64,
    pub set_max_intset_entries: AtomicI64,
    pub set_max_listpack_entries: AtomicI64,
    pub set_max_listpack_value: AtomicI64,
    pub zset_max_listpack_entries: AtomicI64,
    pub zset_max_listpack_value: AtomicI64,
}

pub static LIMITS: Limits = Limits {
    list_max_listpack_size: AtomicI64::new(-2),
    hash_max_listpack_entries: AtomicI64::new(512),
    hash_max_listpack_value: AtomicI64::new(64),
    set_max_intset_entries: AtomicI64::new(512),
    set_max_listpack_entries: AtomicI64::new(128),
    set_max_listpack_value: AtomicI64::new(64),
    zset_max_listpack_entries: AtomicI64::new(128),
    zset_max_listpack_value: AtomicI64::new(64),
};

#[inline]
pub fn limit(a: &AtomicI64) -> usize {
    a.load(Relaxed).max(0) as usize
}

pub enum Obj {
    List(List),
    Hash(Hash),
    Set(Set),
    ZSet(ZSet),
    Stream(Box<Stream>),
}

/// Starts loading the object at raw pointer `p` of a `kind`/`enc`
/// collection: its first line, or with `whole` all of a compact form
/// (an Lp's header gives its size) up to 4 KiB.
#[inline]
pub fn prefetch(kind: u8, enc: u8, p: usize, whole: bool) {
    let compact = matches!((kind, enc), (T_LIST | T_HASH | T_ZSET, 0) | (T_SET, 1));
    let bytes = if whole && compact {
        // SAFETY: `p` is a live Lp (the encoding says so): its header is
        // two u32s.
        unsafe { (p as *const u32).read() as usize + 8 }
    } else {
        1
    };
    for off in (0..bytes.min(4096)).step_by(64) {
        crate::util::prefetch((p + off) as *const u8);
    }
}

impl Obj {
    pub fn kind(&self) -> u8 {
        match self {
            Obj::List(_) => T_LIST,
            Obj::Hash(_) => T_HASH,
            Obj::Set(_) => T_SET,
            Obj::ZSet(_) => T_ZSET,
            Obj::Stream(_) => T_STREAM,
        }
    }

    pub fn enc(&self) -> u8 {
        match self {
            Obj::List(List::Lp(_))
            | Obj::Hash(Hash::Lp(_))
            | Obj::Set(Set::Int(_))
            | Obj::ZSet(ZSet::Lp(_))
            | Obj::Stream(_) => 0,
            Obj::Set(Set::Lp(_)) => 1,
            Obj::Set(_) => 2,
            _ => 1,
        }
    }

    /// (kind, encoding, pointer): ownership passes to whoever stores it.
    pub fn into_raw(self) -> (u8, u8, usize) {
        // An entry can only hold a collection that came through here, so
        // the keyspace learns how to free one before it can meet one.
        crate::store::entry::VALUE_DROP.get_or_init(|| drop_raw);
        let kind = self.kind();
        let (enc, p) = match self {
            Obj::List(l) => l.into_raw(),
            Obj::Hash(h) => h.into_raw(),
            Obj::Set(s) => s.into_raw(),
            Obj::ZSet(z) => z.into_raw(),
            Obj::Stream(st) => (0, Box::into_raw(st) as usize),
        };
        (kind, enc, p)
    }

    /// # Safety
    /// The triple must come from `into_raw`; ownership is taken back.
    pub unsafe fn from_raw(kind: u8, enc: u8, p: usize) -> Obj {
        match kind {
            T_LIST => Obj::List(List::from_raw(enc, p)),
            T_HASH => Obj::Hash(Hash::from_raw(enc, p)),
            T_SET => Obj::Set(Set::from_raw(enc, p)),
            T_ZSET => Obj::ZSet(ZSet::from_raw(enc, p)),
            T_STREAM => Obj::Stream(Box::from_raw(p as *mut Stream)),
            _ => unreachable!("not a collection kind: {kind}"),
        }
    }

    /// OBJECT ENCODING's name, as Redis 7.0 (the version we claim) names
    /// it: every list is a `quicklist` and a set of strings a `hashtable`
    /// there, whatever the representation here (7.2 says `listpack`).
    pub fn encoding_name(kind: u8, enc: u8) -> &'static str {
        match (kind, enc) {
            (T_LIST, _) => "quicklist",
            (T_HASH, 0) => "listpack",
            (T_HASH, _) => "hashtable",
            (T_SET, 0) => "intset",
            (T_SET, _) => "hashtable",
            (T_ZSET, 0) => "listpack",
            (T_ZSET, _) => "skiplist",
            (T_STREAM, _) => "stream",
            _ => "unknown",
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            Obj::List(l) => l.len(),
            Obj::Hash(h) => h.len(),
            Obj::Set(s) => s.len(),
            Obj::ZSet(z) => z.len(),
            Obj::Stream(s) => s.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A deep copy (COPY).
    pub fn deep_clone(&self) -> Obj {
        match self {
            Obj::List(l) => Obj::List(l.clone()),
            Obj::Hash(h) => Obj::Hash(h.deep_clone()),
            Obj::Set(s) => Obj::Set(s.deep_clone()),
            Obj::ZSet(z) => Obj::ZSet(z.deep_clone()),
            Obj::Stream(s) => Obj::Stream(s.clone()),
        }
    }

    /// Whether freeing this value is worth a background thread (Redis's
    /// LAZYFREE_THRESHOLD counts allocations; large encodings hold one or
    /// more per element).
    pub fn free_is_costly(kind: u8, enc: u8, len: usize) -> bool {
        let large = match kind {
            T_SET => enc == 2,
            // `len` is the stream's free effort (nodes, groups, PELs).
            T_STREAM => true,
            _ => enc == 1,
        };
        large && len > 64
    }

    /// What `free_is_costly` weighs: elements, or a stream's allocations.
    pub fn free_effort(&self) -> usize {
        match self {
            Obj::Stream(s) => s.free_effort(),
            o => o.len(),
        }
    }
}

/// A collection borrowed out of its entry for one command: derefs to the
/// typed [`Obj`] and writes the (possibly re-encoded) pointer back on drop.
pub struct ObjGuard<'a> {
    obj: ManuallyDrop<Obj>,
    entry: EntryRef<'a>,
}

impl<'a> ObjGuard<'a> {
    /// # Safety
    /// `entry` must be a collection entry, with no other guard alive on it.
    pub fn new(entry: EntryRef<'a>) -> Self {
        // SAFETY: the entry owns a valid raw object of its kind; the guard
        // holds it without owning (ManuallyDrop) and puts it back on drop.
        let obj = unsafe { Obj::from_raw(entry.kind(), entry.enc(), entry.obj_raw()) };
        ObjGuard {
            obj: ManuallyDrop::new(obj),
            entry,
        }
    }
}

impl std::ops::Deref for ObjGuard<'_> {
    type Target = Obj;
    fn deref(&self) -> &Obj {
        &self.obj
    }
}

impl std::ops::DerefMut for ObjGuard<'_> {
    fn deref_mut(&mut self) -> &mut Obj {
        &mut self.obj
    }
}

impl Drop for ObjGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: the object is moved out exactly once; the entry takes it
        // back (its pointer may have changed by re-encoding or growth).
        let obj = unsafe { ManuallyDrop::take(&mut self.obj) };
        let (_, enc, p) = obj.into_raw();
        // Only a change is written back: a read leaves the entry's memory
        // untouched (a snapshot's copy-before-write will rely on that).
        if (enc, p) != (self.entry.enc(), self.entry.obj_raw()) {
            self.entry.set_obj_raw(enc, p);
        }
    }
}

/// Parses a canonical integer the way Redis decides a set member fits an
/// intset (`string2ll`: no leading zeros or '+', no spaces).
pub fn int_member(s: &[u8]) -> Option<i64> {
    crate::util::is_canonical_int(s)
}

/// Typed views; the kind was checked by the access helpers.
impl Obj {
    pub fn list(&mut self) -> &mut List {
        match self {
            Obj::List(l) => l,
            _ => unreachable!("kind checked"),
        }
    }
    pub fn hash(&mut self) -> &mut Hash {
        match self {
            Obj::Hash(x) => x,
            _ => unreachable!("kind checked"),
        }
    }
    pub fn set(&mut self) -> &mut Set {
        match self {
            Obj::Set(x) => x,
            _ => unreachable!("kind checked"),
        }
    }
    pub fn zset(&mut self) -> &mut ZSet {
        match self {
            Obj::ZSet(x) => x,
            _ => unreachable!("kind checked"),
        }
    }
    pub fn as_list(&self) -> &List {
        match self {
            Obj::List(l) => l,
            _ => unreachable!("kind checked"),
        }
    }
    pub fn as_hash(&self) -> &Hash {
        match self {
            Obj::Hash(x) => x,
            _ => unreachable!("kind checked"),
        }
    }
    pub fn as_set(&self) -> &Set {
        match self {
            Obj::Set(x) => x,
            _ => unreachable!("kind checked"),
        }
    }
    pub fn as_zset(&self) -> &ZSet {
        match self {
            Obj::ZSet(x) => x,
            _ => unreachable!("kind checked"),
        }
    }
    pub fn stream(&mut self) -> &mut Stream {
        match self {
            Obj::Stream(x) => x,
            _ => unreachable!("kind checked"),
        }
    }
    pub fn as_stream(&self) -> &Stream {
        match self {
            Obj::Stream(x) => x,
            _ => unreachable!("kind checked"),
        }
    }
}

/// Drops a collection, in the background when that is worth it (Redis's
/// LAZYFREE_THRESHOLD: more than 64 allocations to free).
pub fn drop_obj(o: Obj) {
    let (kind, enc, len) = (o.kind(), o.enc(), o.free_effort());
    if Obj::free_is_costly(kind, enc, len) && !crate::lazyfree::on_lazyfree_thread() {
        crate::lazyfree::defer(Box::new(o));
    } else {
        drop(o);
    }
}

/// The keyspace's hook for freeing a collection entry's value (see
/// `store::entry::VALUE_DROP`): the keyspace stores raw triples and does not
/// depend on the types.
fn drop_raw(kind: u8, enc: u8, p: usize) {
    // SAFETY: the entry owned the triple, which came from `into_raw`, and
    // gives it up exactly once (its drop).
    drop_obj(unsafe { Obj::from_raw(kind, enc, p) });
}
