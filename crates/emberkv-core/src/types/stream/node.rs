//! One stream node: up to `stream-node-max-entries` entries packed into a
//! single byte buffer, IDs delta-encoded against the node's first (master)
//! ID, and the field names of the node's first entry stored once (an entry
//! with the same field names stores only its values).
//!
//! ```text
//! buf: | master fields: (varint len, bytes)* | entry* |
//! entry: | flags u8 | ms delta varint | seq delta varint |
//!        | [nfields varint, (field, value)*]  or  value* when SAMEFIELDS |
//! ```
//!
//! Deleted entries stay in place with their flag set, as in Redis, which
//! frees a node only once all its entries are gone. Node boundaries follow
//! Redis's rule over the size its listpack would have (`lp_bytes`), so
//! approximate trimming (`~`), which removes whole nodes, removes exactly
//! what Redis removes.

use super::Id;

pub const F_DELETED: u8 = 1;
pub const F_SAMEFIELDS: u8 = 2;

#[derive(Clone, Default)]
pub struct Node {
    pub(super) buf: Vec<u8>,
    /// Where the entries start (after the master fields).
    pub(super) master_end: u32,
    pub(super) nmaster: u32,
    /// Valid and deleted entries.
    pub(super) live: u32,
    pub(super) deleted: u32,
    /// Redis's listpack size of this node, minus its two counters.
    pub(super) lp_rest: u32,
}

#[inline]
fn put_varint(v: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        v.push((n as u8) | 0x80);
        n >>= 7;
    }
    v.push(n as u8);
}

#[inline]
fn get_varint(b: &[u8], at: &mut usize) -> u64 {
    let mut n = 0u64;
    let mut shift = 0;
    loop {
        let x = b[*at];
        *at += 1;
        n |= ((x & 0x7f) as u64) << shift;
        if x < 0x80 {
            return n;
        }
        shift += 7;
    }
}

#[inline]
fn put_bytes(v: &mut Vec<u8>, s: &[u8]) {
    put_varint(v, s.len() as u64);
    v.extend_from_slice(s);
}

#[inline]
fn get_bytes<'a>(b: &'a [u8], at: &mut usize) -> &'a [u8] {
    let n = get_varint(b, at) as usize;
    let s = &b[*at..*at + n];
    *at += n;
    s
}

/// The size of an integer element in a Redis listpack (encoding + 1-byte
/// back length).
pub fn lp_int_size(v: i64) -> u32 {
    let enc = if (0..=127).contains(&v) {
        1
    } else if (-4096..=4095).contains(&v) {
        2
    } else if i16::try_from(v).is_ok() {
        3
    } else if (-8_388_608..=8_388_607).contains(&v) {
        4
    } else if i32::try_from(v).is_ok() {
        5
    } else {
        9
    };
    enc + 1
}

/// The size of a string element in a Redis listpack (stored as an integer
/// when it is one in canonical form).
pub fn lp_str_size(s: &[u8]) -> u32 {
    if let Some(v) = crate::util::is_canonical_int(s) {
        return lp_int_size(v);
    }
    let l = s.len() as u64;
    let enc = if l < 64 {
        1 + l
    } else if l < 4096 {
        2 + l
    } else {
        5 + l
    };
    let back = if enc <= 127 {
        1
    } else if enc < 16383 {
        2
    } else if enc < 2_097_151 {
        3
    } else if enc < 268_435_455 {
        4
    } else {
        5
    };
    (enc + back).min(u32::MAX as u64) as u32
}

/// An entry found in a node: its ID, flags and where its fields are.
#[derive(Clone, Copy)]
pub struct EntryAt {
    pub id: Id,
    pub flags: u8,
    /// Offset of the flags byte.
    pub start: usize,
    /// Offset of the first field (or value with SAMEFIELDS).
    pub body: usize,
    pub nfields: usize,
    /// Offset just past the entry.
    pub end: usize,
}

impl Node {
    /// A node whose master entry takes its fields from `fields`.
    pub fn new(fields: &[&[u8]]) -> Node {
        let mut n = Node::default();
        // lpNew's header and end byte, num-fields, the fields, the master
        // terminator.
        let mut rest = 7 + lp_int_size(fields.len() as i64) + lp_int_size(0);
        for f in fields {
            put_bytes(&mut n.buf, f);
            rest = rest.saturating_add(lp_str_size(f));
        }
        n.master_end = n.buf.len() as u32;
        n.nmaster = fields.len() as u32;
        n.lp_rest = rest;
        n
    }

    pub fn lp_bytes(&self) -> u64 {
        self.lp_rest as u64
            + lp_int_size(self.live as i64) as u64
            + lp_int_size(self.deleted as i64) as u64
    }

    pub fn count(&self) -> u64 {
        self.live as u64 + self.deleted as u64
    }

    pub fn master_fields(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let mut at = 0;
        (0..self.nmaster).map(move |_| get_bytes(&self.buf, &mut at))
    }

    fn same_fields(&self, pairs: &[(&[u8], &[u8])]) -> bool {
        pairs.len() == self.nmaster as usize
            && self.master_fields().zip(pairs).all(|(m, (f, _))| m == *f)
    }

    /// Appends an entry; `master` is the node's first ID.
    pub fn push(&mut self, master: Id, id: Id, pairs: &[(&[u8], &[u8])]) {
        let same = self.same_fields(pairs);
        let flags = if same { F_SAMEFIELDS } else { 0 };
        let dms = id.ms.wrapping_sub(master.ms);
        let dseq = id.seq.wrapping_sub(master.seq);
        self.buf.push(flags);
        put_varint(&mut self.buf, dms);
        put_varint(&mut self.buf, dseq);
        let mut rest =
            lp_int_size(flags as i64) + lp_int_size(dms as i64) + lp_int_size(dseq as i64);
        let mut lp_count = pairs.len() as i64 + 3;
        if !same {
            put_varint(&mut self.buf, pairs.len() as u64);
            rest += lp_int_size(pairs.len() as i64);
            lp_count += pairs.len() as i64 + 1;
        }
        for (f, v) in pairs {
            if !same {
                put_bytes(&mut self.buf, f);
                rest = rest.saturating_add(lp_str_size(f));
            }
            put_bytes(&mut self.buf, v);
            rest = rest.saturating_add(lp_str_size(v));
        }
        rest += lp_int_size(lp_count);
        self.lp_rest = self.lp_rest.saturating_add(rest);
        self.live += 1;
    }

    /// Appends an entry read from a file, deleted or not (the loader keeps
    /// Redis's node boundaries and tombstones as they were).
    pub fn push_loaded(&mut self, master: Id, id: Id, pairs: &[(&[u8], &[u8])], deleted: bool) {
        let start = self.buf.len();
        self.push(master, id, pairs);
        if deleted {
            self.mark_deleted(start);
        }
    }

    /// Live (not deleted) entries.
    pub fn live(&self) -> u64 {
        self.live as u64
    }

    /// Reads the entry at `at` (an entry start).
    pub fn entry_at(&self, master: Id, at: usize) -> EntryAt {
        let b = &self.buf;
        let mut p = at;
        let flags = b[p];
        p += 1;
        let dms = get_varint(b, &mut p);
        let dseq = get_varint(b, &mut p);
        let id = Id {
            ms: master.ms.wrapping_add(dms),
            seq: master.seq.wrapping_add(dseq),
        };
        let nfields = if flags & F_SAMEFIELDS != 0 {
            self.nmaster as usize
        } else {
            get_varint(b, &mut p) as usize
        };
        let body = p;
        let per = if flags & F_SAMEFIELDS != 0 { 1 } else { 2 };
        for _ in 0..nfields * per {
            let n = get_varint(b, &mut p) as usize;
            p += n;
        }
        EntryAt {
            id,
            flags,
            start: at,
            body,
            nfields,
            end: p,
        }
    }

    /// Every entry (deleted ones too), in order.
    pub fn entries(&self, master: Id) -> impl Iterator<Item = EntryAt> + '_ {
        let mut at = self.master_end as usize;
        std::iter::from_fn(move || {
            if at >= self.buf.len() {
                return None;
            }
            let e = self.entry_at(master, at);
            at = e.end;
            Some(e)
        })
    }

    /// The (field, value) pairs of an entry.
    pub fn pairs<'a>(&'a self, e: &EntryAt) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + 'a {
        let same = e.flags & F_SAMEFIELDS != 0;
        let mut at = e.body;
        let mut m = 0;
        let b = &self.buf;
        (0..e.nfields).map(move |_| {
            let f = if same {
                get_bytes(b, &mut m)
            } else {
                get_bytes(b, &mut at)
            };
            (f, get_bytes(b, &mut at))
        })
    }

    /// Marks the entry at `start` deleted (the flag's listpack size does
    /// not change: 0/2 -> 1/3).
    pub fn mark_deleted(&mut self, start: usize) {
        self.buf[start] |= F_DELETED;
        self.live -= 1;
        self.deleted += 1;
    }

    /// The ID of the node's last entry, deleted or not.
    pub fn last_id(&self, master: Id) -> Id {
        self.entries(master).last().map_or(master, |e| e.id)
    }

    pub fn shrink(&mut self) {
        self.buf.shrink_to_fit();
    }
}
