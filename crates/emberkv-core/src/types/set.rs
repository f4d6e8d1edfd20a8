//! Sets: an [`IntSet`] while every member is an integer (up to
//! `set-max-intset-entries`), an [`Lp`] while small (`set-max-listpack-*`,
//! Redis 7.2's encoding: Redis 7.0 went straight to a hashtable), a
//! [`Dict`] after. Conversions only go up, as in Redis.

use super::{int_member, limit, Dict, IntSet, Lp, LIMITS};

pub enum Set {
    Int(IntSet),
    Lp(Lp),
    Dict(Box<Dict>),
}

/// A member borrowed from a set: intset members are produced as integers.
pub enum Member<'a> {
    Int(i64),
    Bytes(&'a [u8]),
}

impl Member<'_> {
    pub fn to_vec(&self) -> Vec<u8> {
        match self {
            Member::Int(i) => itoa::Buffer::new().format(*i).as_bytes().to_vec(),
            Member::Bytes(b) => b.to_vec(),
        }
    }
    /// Calls `f` with the member's bytes (formatting integers on the stack).
    pub fn with<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            Member::Int(i) => f(itoa::Buffer::new().format(*i).as_bytes()),
            Member::Bytes(b) => f(b),
        }
    }
}

fn lp_find(lp: &Lp, m: &[u8]) -> Option<usize> {
    let mut it = lp.iter();
    loop {
        let off = it.offset();
        if it.next()? == m {
            return Some(off);
        }
    }
}

impl Set {
    /// An empty set suited to its first member.
    pub fn for_member(m: &[u8]) -> Set {
        if int_member(m).is_some() && limit(&LIMITS.set_max_intset_entries) > 0 {
            Set::Int(IntSet::new())
        } else {
            Set::Lp(Lp::new())
        }
    }

    pub fn into_raw(self) -> (u8, usize) {
        match self {
            Set::Int(s) => (0, s.into_raw()),
            Set::Lp(l) => (1, l.into_raw()),
            Set::Dict(d) => (2, Box::into_raw(d) as usize),
        }
    }

    /// # Safety
    /// As [`super::Obj::from_raw`].
    pub unsafe fn from_raw(enc: u8, p: usize) -> Set {
        match enc {
            0 => Set::Int(IntSet::from_raw(p)),
            1 => Set::Lp(Lp::from_raw(p)),
            _ => Set::Dict(Box::from_raw(p as *mut Dict)),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Set::Int(s) => s.len(),
            Set::Lp(l) => l.len(),
            Set::Dict(d) => d.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn contains(&self, m: &[u8]) -> bool {
        match self {
            Set::Int(s) => int_member(m).is_some_and(|v| s.contains(v)),
            Set::Lp(l) => lp_find(l, m).is_some(),
            Set::Dict(d) => d.contains(m),
        }
    }

    fn convert_to_dict(&mut self) {
        let mut d = Dict::new();
        self.for_each(|m| {
            m.with(|b| {
                d.insert_new(b, b"");
            })
        });
        *self = Set::Dict(Box::new(d));
    }

    fn convert_to_lp(&mut self) {
        let mut v: Vec<Vec<u8>> = Vec::with_capacity(self.len());
        self.for_each(|m| v.push(m.to_vec()));
        *self = Set::Lp(Lp::from_elems(v.iter().map(|x| &x[..])));
    }

    /// Adds `m`; true if new.
    pub fn add(&mut self, m: &[u8]) -> bool {
        if let Set::Int(s) = self {
            if let Some(v) = int_member(m) {
                if s.contains(v) {
                    return false;
                }
                if s.len() < limit(&LIMITS.set_max_intset_entries) {
                    return s.insert(v);
                }
                self.convert_to_dict();
            } else {
                // A non-integer: listpack if it would still be small.
                let n = s.len() + 1;
                if n <= limit(&LIMITS.set_max_listpack_entries)
                    && m.len() <= limit(&LIMITS.set_max_listpack_value)
                {
                    self.convert_to_lp();
                } else {
                    self.convert_to_dict();
                }
            }
        }
        if let Set::Lp(l) = self {
            if lp_find(l, m).is_some() {
                return false;
            }
            if l.len() < limit(&LIMITS.set_max_listpack_entries)
                && m.len() <= limit(&LIMITS.set_max_listpack_value)
                && l.bytes() + m.len() + 10 <= super::lp::SAFETY_BYTES
            {
                l.push_back(m);
                return true;
            }
            self.convert_to_dict();
        }
        match self {
            Set::Dict(d) => d.add_key(m),
            _ => unreachable!("converted above"),
        }
    }

    pub fn remove(&mut self, m: &[u8]) -> bool {
        match self {
            Set::Int(s) => int_member(m).is_some_and(|v| s.remove(v)),
            Set::Lp(l) => match lp_find(l, m) {
                Some(off) => {
                    l.remove(off, 1);
                    true
                }
                None => false,
            },
            Set::Dict(d) => d.remove(m),
        }
    }

    pub fn for_each(&self, mut f: impl FnMut(Member<'_>)) {
        match self {
            Set::Int(s) => s.iter().for_each(|v| f(Member::Int(v))),
            Set::Lp(l) => l.iter().for_each(|b| f(Member::Bytes(b))),
            Set::Dict(d) => d.for_each(|k, _| f(Member::Bytes(k))),
        }
    }

    /// All members as owned bytes.
    pub fn members(&self) -> Vec<Vec<u8>> {
        let mut v = Vec::with_capacity(self.len());
        self.for_each(|m| v.push(m.to_vec()));
        v
    }

    /// A random member.
    pub fn random(&self) -> Option<Member<'_>> {
        match self {
            Set::Int(s) if !s.is_empty() => Some(Member::Int(s.get(fastrand::usize(..s.len())))),
            Set::Lp(l) if !l.is_empty() => {
                let off = l.offset_of(fastrand::usize(..l.len()));
                Some(Member::Bytes(l.at(off).0))
            }
            Set::Dict(d) => d.random().map(|(k, _)| Member::Bytes(k)),
            _ => None,
        }
    }

    /// Removes and returns a random member.
    pub fn pop(&mut self) -> Option<Vec<u8>> {
        let m = self.random()?.to_vec();
        self.remove(&m);
        Some(m)
    }

    /// One SSCAN step: compact sets are returned whole with cursor 0.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(Member<'_>)) -> u64 {
        match self {
            Set::Dict(d) => d.scan(cursor, |k, _| f(Member::Bytes(k))),
            _ => {
                self.for_each(f);
                0
            }
        }
    }

    pub fn deep_clone(&self) -> Set {
        match self {
            Set::Int(s) => Set::Int(s.clone()),
            Set::Lp(l) => Set::Lp(l.clone()),
            Set::Dict(d) => Set::Dict(Box::new((**d).clone())),
        }
    }

    /// Builds a set from members, choosing the encoding Redis would for a
    /// result of this size (SINTERSTORE, SUNIONSTORE, SDIFFSTORE).
    pub fn from_members<'a>(ms: impl IntoIterator<Item = &'a [u8]>) -> Set {
        let mut s: Option<Set> = None;
        for m in ms {
            s.get_or_insert_with(|| Set::for_member(m)).add(m);
        }
        s.unwrap_or(Set::Int(IntSet::new()))
    }
}
