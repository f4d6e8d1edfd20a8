//! Lists: an [`Lp`] while it fits `list-max-listpack-size` (negative:
//! a byte budget of 4..64 KiB; positive: an element count), a deque of
//! elements after. As in Redis 7.2, a large list that shrinks to half the
//! budget goes back to the compact form.

use super::{lp::elem_size, Lp, LIMITS};
use std::collections::VecDeque;
use std::sync::atomic::Ordering::Relaxed;

/// The large list: elements plus their total size, kept so the shrink
/// check is O(1).
#[derive(Clone, Default)]
pub struct Deque {
    pub items: VecDeque<Box<[u8]>>,
    bytes: usize,
}

pub enum List {
    Lp(Lp),
    Deque(Box<Deque>),
}

impl Default for List {
    fn default() -> Self {
        List::Lp(Lp::new())
    }
}

/// (max bytes, max count) of the compact form.
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
            List::Deque(d) => List::Deque(d.clone()),
        }
    }
}

impl List {
    pub(crate) fn into_raw(self) -> (u8, usize) {
        match self {
            List::Lp(l) => (0, l.into_raw()),
            List::Deque(d) => (1, Box::into_raw(d) as usize),
        }
    }

    /// # Safety
    /// As [`super::Obj::from_raw`].
    pub(crate) unsafe fn from_raw(enc: u8, p: usize) -> List {
        match enc {
            0 => List::Lp(Lp::from_raw(p)),
            _ => List::Deque(Box::from_raw(p as *mut Deque)),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            List::Lp(l) => l.len(),
            List::Deque(d) => d.items.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Converts to the large form if `add` more bytes in `n` elements would
    /// not fit the compact budget.
    fn make_room(&mut self, add: usize, n: usize) {
        if let List::Lp(l) = self {
            let (maxb, maxn) = budget();
            if l.bytes() + add > maxb || l.len() + n > maxn {
                let items: VecDeque<Box<[u8]>> = l.iter().map(Box::from).collect();
                let bytes = items.iter().map(|e| elem_size(e)).sum();
                *self = List::Deque(Box::new(Deque { items, bytes }));
            }
        }
    }

    /// Goes back to the compact form when a large list shrank to half the
    /// budget.
    fn maybe_shrink(&mut self) {
        if let List::Deque(d) = self {
            let (maxb, maxn) = budget();
            if d.bytes <= maxb / 2 && d.items.len() <= maxn / 2 {
                let lp = Lp::from_iter(d.items.iter().map(|e| &e[..]));
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
            List::Deque(d) => {
                d.bytes += elem_size(v);
                if front {
                    d.items.push_front(v.into())
                } else {
                    d.items.push_back(v.into())
                }
            }
        }
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
            List::Deque(d) => {
                let e = if front {
                    d.items.pop_front()?
                } else {
                    d.items.pop_back()?
                };
                d.bytes -= elem_size(&e);
                e.into_vec()
            }
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
            List::Deque(d) => d.items.get(i).map(|e| &e[..]),
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
            }
            List::Deque(d) => {
                d.bytes = d.bytes + elem_size(v) - old;
                d.items[i] = v.into();
            }
        }
        true
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
            List::Deque(d) => d.items.range(start..=end).for_each(|e| f(e)),
        }
    }

    /// Every element in order, owned (for LPOS, SORT, LREM rebuilds).
    pub fn iter(&self) -> Box<dyn DoubleEndedIterator<Item = &[u8]> + '_> {
        match self {
            List::Lp(l) => {
                let v: Vec<&[u8]> = l.iter().collect();
                Box::new(v.into_iter())
            }
            List::Deque(d) => Box::new(d.items.iter().map(|e| &e[..])),
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
            List::Deque(d) => {
                d.bytes += elem_size(v);
                d.items.insert(at, v.into());
            }
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
            List::Deque(d) => {
                let mut k = 0;
                let mut idx = 0;
                let mut freed = 0;
                d.items.retain(|e| {
                    let keep = !(k < hits.len() && hits[k] == idx);
                    if !keep {
                        k += 1;
                        freed += elem_size(e);
                    }
                    idx += 1;
                    keep
                });
                d.bytes -= freed;
            }
        }
        self.maybe_shrink();
        removed
    }

    /// LTRIM to `start..=end` (valid indexes) or to nothing (`None`).
    pub fn trim(&mut self, keep: Option<(usize, usize)>) {
        let n = self.len();
        let (s, e) = keep.unwrap_or((n, n));
        match self {
            List::Lp(l) => {
                if e + 1 < n {
                    let off = l.offset_of(e + 1);
                    l.remove(off, n - e - 1);
                }
                if s > 0 {
                    l.remove(0, s.min(l.len()));
                }
            }
            List::Deque(d) => {
                if e + 1 < n {
                    for x in d.items.drain(e + 1..) {
                        d.bytes -= elem_size(&x);
                    }
                }
                let s = s.min(d.items.len());
                for x in d.items.drain(..s) {
                    d.bytes -= elem_size(&x);
                }
            }
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
        assert!(matches!(l, List::Deque(_)));
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
