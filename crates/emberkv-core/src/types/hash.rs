//! Hashes: field/value pairs in an [`Lp`] while small (at most
//! `hash-max-listpack-entries` fields, each field and value at most
//! `hash-max-listpack-value` bytes), a [`Dict`] after. Like Redis, a hash
//! never converts back.

use super::{limit, Dict, Lp, LIMITS};

pub enum Hash {
    Lp(Lp),
    Dict(Box<Dict>),
}

impl Default for Hash {
    fn default() -> Self {
        Hash::Lp(Lp::new())
    }
}

/// Byte offset of `field`'s pair in a compact hash.
fn lp_find(lp: &Lp, field: &[u8]) -> Option<usize> {
    let mut it = lp.iter();
    loop {
        let off = it.offset();
        let f = it.next()?;
        it.next();
        if f == field {
            return Some(off);
        }
    }
}

impl Hash {
    pub fn into_raw(self) -> (u8, usize) {
        match self {
            Hash::Lp(l) => (0, l.into_raw()),
            Hash::Dict(d) => (1, Box::into_raw(d) as usize),
        }
    }

    /// # Safety
    /// As [`super::Obj::from_raw`].
    pub unsafe fn from_raw(enc: u8, p: usize) -> Hash {
        match enc {
            0 => Hash::Lp(Lp::from_raw(p)),
            _ => Hash::Dict(Box::from_raw(p as *mut Dict)),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Hash::Lp(l) => l.len() / 2,
            Hash::Dict(d) => d.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match self {
            Hash::Lp(l) => lp_find(l, field).map(|off| {
                let (_, next) = l.at(off);
                l.at(next).0
            }),
            Hash::Dict(d) => d.get(field),
        }
    }

    /// Converts to a dict if adding a pair of these sizes would cross the
    /// thresholds.
    fn make_room(&mut self, flen: usize, vlen: usize) {
        if let Hash::Lp(l) = self {
            let maxv = limit(&LIMITS.hash_max_listpack_value);
            if flen > maxv
                || vlen > maxv
                || l.len() / 2 >= limit(&LIMITS.hash_max_listpack_entries)
                || l.bytes() + flen + vlen + 20 > super::lp::SAFETY_BYTES
            {
                self.convert();
            }
        }
    }

    fn convert(&mut self) {
        if let Hash::Lp(l) = self {
            let mut d = Dict::new();
            let mut it = l.iter();
            while let (Some(f), Some(v)) = (it.next(), it.next()) {
                d.insert_new(f, v);
            }
            *self = Hash::Dict(Box::new(d));
        }
    }

    /// Sets `field`; true if it is new.
    pub fn set(&mut self, field: &[u8], val: &[u8]) -> bool {
        if let Hash::Lp(l) = self {
            if let Some(off) = lp_find(l, field) {
                let maxv = limit(&LIMITS.hash_max_listpack_value);
                if val.len() <= maxv && l.bytes() + val.len() + 10 <= super::lp::SAFETY_BYTES {
                    let voff = l.at(off).1;
                    l.replace(voff, val);
                    return false;
                }
            }
        }
        if let Hash::Lp(l) = self {
            if lp_find(l, field).is_none() {
                self.make_room(field.len(), val.len());
            } else {
                self.convert();
            }
        }
        match self {
            Hash::Lp(l) => {
                l.insert(l.bytes(), &[field, val]);
                true
            }
            Hash::Dict(d) => d.set(field, val),
        }
    }

    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            Hash::Lp(l) => match lp_find(l, field) {
                Some(off) => {
                    l.remove(off, 2);
                    true
                }
                None => false,
            },
            Hash::Dict(d) => d.remove(field),
        }
    }

    pub fn for_each(&self, mut f: impl FnMut(&[u8], &[u8])) {
        match self {
            Hash::Lp(l) => {
                let mut it = l.iter();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    f(k, v);
                }
            }
            Hash::Dict(d) => d.for_each(f),
        }
    }

    /// A random pair.
    pub fn random(&self) -> Option<(&[u8], &[u8])> {
        match self {
            Hash::Lp(l) => {
                let n = l.len() / 2;
                if n == 0 {
                    return None;
                }
                let i = fastrand::usize(..n);
                let off = l.offset_of(2 * i);
                let (k, next) = l.at(off);
                Some((k, l.at(next).0))
            }
            Hash::Dict(d) => d.random(),
        }
    }

    /// All pairs, in storage order (for HRANDFIELD's sampling).
    pub fn pairs(&self) -> Vec<(&[u8], &[u8])> {
        let mut v = Vec::with_capacity(self.len());
        match self {
            Hash::Lp(l) => {
                let mut it = l.iter();
                while let (Some(k), Some(x)) = (it.next(), it.next()) {
                    v.push((k, x));
                }
            }
            Hash::Dict(d) => v.extend(d.iter()),
        }
        v
    }

    /// One HSCAN step: a compact hash is returned whole with cursor 0.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8], &[u8])) -> u64 {
        match self {
            Hash::Lp(_) => {
                self.for_each(f);
                0
            }
            Hash::Dict(d) => d.scan(cursor, &mut f),
        }
    }

    pub fn deep_clone(&self) -> Hash {
        match self {
            Hash::Lp(l) => Hash::Lp(l.clone()),
            Hash::Dict(d) => Hash::Dict(Box::new((**d).clone())),
        }
    }
}
