//! Lists: an [`Lp`] while it fits `list-max-listpack-size` (negative:
//! a byte budget of 4..64 KiB; positive: an element count), a quicklist
//! of such nodes after. As in Redis 7.2, a large list that shrinks to half the
//! budget goes back to the compact form.

use super::quicklist::Quick;
use super::{lp::elem_size, Lp, LIMITS};
use std::sync::atomic::Ordering::Relaxed;

pub enum List {
    Lp(Lp),
    Quick(Box<Quick>),
}

impl Default for List {
    fn default() -> Self {
        List::Lp(Lp::new())
    }
}

/// (max bytes, max count) of the compact form and of each quicklist node.
fn budget() -> (usize, usize) {
    let v = LIMITS.list_max_listpack_size.load(Relaxed);
    if v >= 0 {
        (usize::MAX, (v as usize).max(1))
    } else {
        let kb = match v {
            -1 => 4,
            -2 => 8,
            -3 => 16,
            -4 => 32,
            _ => 64,
        };
        (kb * 1024, usize::MAX)
    }
}

impl Clone for List {
    fn clone(&self) -> Self {
        match self {
            List::Lp(l) => List::Lp(l.clone()),
            List::Quick(q) => List::Quick(q.clone()),
        }
    }
}

impl List {
    pub fn into_raw(self) -> (u8, usize) {
        match self {
            List::Lp(l) => (0, l.into_raw()),
            List::Quick(q) => (1, Box::into_raw(q) as usize),
        }
    }

    /// # Safety
    /// As [`super::Obj::from_raw`].
    pub unsafe fn from_raw(enc: u8, p: usize) -> List {
        match enc {
            0 => List::Lp(Lp::from_raw(p)),
            _ => List::Quick(Box::from_raw(p as *mut Quick)),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            List::Lp(l) => l.len(),
            List::Quick(q) => q.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Converts to a quicklist if `add` more bytes in `n` elements would
    /// not fit the compact budget.
    fn make_room(&mut self, add: usize, n: usize) {
        if let List::Lp(l) = self {
            let (maxb, maxn) = budget();
            if l.bytes() + add > maxb.min(super::lp::SAFETY_BYTES) || l.len() + n > maxn {
                let mut q = Quick::new((maxb, maxn));
                for e in l.iter() {
                    q.push(false, e);
                }
                *self = List::Quick(Box::new(q));
            }
        }
    }

    /// Goes back to the compact form when a quicklist shrank to half the
    /// budget (Redis 7.2).
    fn maybe_shrink(&mut self) {
        if let List::Quick(q) = self {
            let (maxb, maxn) = budget();
            if q.bytes() <= maxb / 2 && q.len() <= maxn / 2 {
                let lp = Lp::from_elems(q.iter());
                *self = List::Lp(lp);
            }
        }
    }

    pub fn push(&mut self, front: bool, v: &[u8]) {
        self.make_room(elem_size(v), 1);
        match self {
            List::Lp(l) => {
                if front {
                    l.push_front(v)
                } else {
                    l.push_back(v)
                }
            }
            List::Quick(q) => q.push(front, v),
        }
    }

    /// Appends `elems` at the tail: one splice for the compact form (a
    /// loaded node's elements, which pushed one by one reallocated the
    /// listpack per element).
    pub fn push_many(&mut self, elems: &[&[u8]]) {
        let add = elems.iter().map(|e| elem_size(e)).sum();
        self.make_room(add, elems.len());
        match self {
            List::Lp(l) => l.insert(l.bytes(), elems),
            List::Quick(q) => elems.iter().for_each(|e| q.push(false, e)),
        }
    }

    /// Appends a whole compact node (a loaded quicklist's): it becomes
    /// the list when the list is empty and it fits the compact budget
    /// (no copy), else its elements are pushed.
    pub fn append_lp(&mut self, lp: Lp) {
        if let List::Lp(l) = self {
            let (maxb, maxn) = budget();
            if l.is_empty() && lp.bytes() <= maxb.min(super::lp::SAFETY_BYTES) && lp.len() <= maxn {
                *l = lp;
                return;
            }
        }
        let elems: Vec<&[u8]> = lp.iter().collect();
        self.push_many(&elems);
    }

    pub fn pop(&mut self, front: bool) -> Option<Vec<u8>> {
        let v = match self {
            List::Lp(l) => {
                if l.is_empty() {
                    return None;
                }
                let off = if front { 0 } else { l.offset_of(l.len() - 1) };
                let v = l.at(off).0.to_vec();
                l.remove(off, 1);
                v
            }
            List::Quick(q) => q.pop(front)?,
        };
        self.maybe_shrink();
        Some(v)
    }

    /// Element `i` (0-based from the head).
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        match self {
            List::Lp(l) => {
                if i >= l.len() {
                    return None;
                }
                Some(l.at(l.offset_of(i)).0)
            }
            List::Quick(q) => q.get(i),
        }
    }

    /// Replaces element `i`; false if out of range.
    pub fn set(&mut self, i: usize, v: &[u8]) -> bool {
        if i >= self.len() {
            return false;
        }
        let old = self.get(i).map_or(0, elem_size);
        if elem_size(v) > old {
            self.make_room(elem_size(v) - old, 0);
        }
        match self {
            List::Lp(l) => {
                let off = l.offset_of(i);
                l.replace(off, v);
                true
            }
            List::Quick(q) => q.set(i, v),
        }
    }

    /// Visits elements `start..=end` (valid indexes), forward.
    pub fn range(&self, start: usize, end: usize, mut f: impl FnMut(&[u8])) {
        match self {
            List::Lp(l) => {
                let mut it = l.iter().skip(start);
                for _ in start..=end {
                    match it.next() {
                        Some(e) => f(e),
                        None => break,
                    }
                }
            }
            List::Quick(q) => q.range(start, end, f),
        }
    }

    /// Every element in order.
    pub fn iter(&self) -> Box<dyn DoubleEndedIterator<Item = &[u8]> + '_> {
        match self {
            List::Lp(l) => {
                let v: Vec<&[u8]> = l.iter().collect();
                Box::new(v.into_iter())
            }
            List::Quick(q) => Box::new(q.iter()),
        }
    }

    /// LINSERT: inserts `v` before/after the first `pivot`; false if the
    /// pivot is absent.
    pub fn insert(&mut self, pivot: &[u8], after: bool, v: &[u8]) -> bool {
        let Some(pos) = self.iter().position(|e| e == pivot) else {
            return false;
        };
        let at = pos + after as usize;
        self.make_room(elem_size(v), 1);
        match self {
            List::Lp(l) => {
                let off = l.offset_of(at);
                l.insert(off, &[v]);
            }
            List::Quick(q) => q.insert_at(at, v),
        }
        true
    }

    /// LREM: removes up to |count| elements equal to `v` (from the tail if
    /// count < 0, all if 0); returns how many.
    pub fn rem(&mut self, count: i64, v: &[u8]) -> usize {
        let n = self.len();
        let limit = if count == 0 {
            usize::MAX
        } else {
            count.unsigned_abs() as usize
        };
        let mut hits: Vec<usize> = Vec::new();
        if count >= 0 {
            for (i, e) in self.iter().enumerate() {
                if hits.len() == limit {
                    break;
                }
                if e == v {
                    hits.push(i);
                }
            }
        } else {
            for (i, e) in self.iter().rev().enumerate() {
                if hits.len() == limit {
                    break;
                }
                if e == v {
                    hits.push(n - 1 - i);
                }
            }
            hits.reverse();
        }
        if hits.is_empty() {
            return 0;
        }
        let removed = hits.len();
        match self {
            List::Lp(l) => {
                for &i in hits.iter().rev() {
                    let off = l.offset_of(i);
                    l.remove(off, 1);
                }
            }
            List::Quick(q) => {
                let mut k = 0;
                q.retain_indexes(|i| {
                    if k < hits.len() && hits[k] == i {
                        k += 1;
                        false
                    } else {
                        true
                    }
                });
            }
        }
        self.maybe_shrink();
        removed
    }

    /// LTRIM to `start..=end` (valid indexes) or to nothing (`None`).
    pub fn trim(&mut self, keep: Option<(usize, usize)>) {
        let n = self.len();
        match (self as &mut List, keep) {
            (List::Lp(l), _) => {
                let (s, e) = keep.unwrap_or((n, n));
                if e + 1 < n {
                    let off = l.offset_of(e + 1);
                    l.remove(off, n - e - 1);
                }
                if s > 0 {
                    l.remove(0, s.min(l.len()));
                }
            }
            (List::Quick(_), None) => *self = List::default(),
            (List::Quick(q), Some((s, e))) => q.trim(s, e),
        }
        self.maybe_shrink();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_both_ways() {
        let mut l = List::default();
        for i in 0..2000 {
            l.push(i % 2 == 0, format!("element-{i}").as_bytes());
        }
        assert!(matches!(l, List::Quick(_)));
        assert_eq!(l.len(), 2000);
        l.trim(Some((0, 9)));
        assert!(matches!(l, List::Lp(_)));
        assert_eq!(l.len(), 10);
        assert_eq!(l.rem(0, b"element-1998"), 1);
        assert!(l.insert(b"element-1996", true, b"x"));
        assert_eq!(l.get(1), Some(&b"x"[..]));
        assert_eq!(l.pop(false), Some(b"element-1980".to_vec()));
        assert_eq!(l.len(), 9);
    }
}
