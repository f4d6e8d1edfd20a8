//! Sorted sets: (member, score) pairs kept in order in an [`Lp`] while
//! small (`zset-max-listpack-*`), then a [`Dict`] from member to score plus
//! a [`ZTree`] ordered by (score, member). Every command works through
//! ranks: a score or lex range is first turned into a rank range with
//! [`ZSet::count_before`], so compact and large sets share all command code.

use super::ztree::{ZItem, ZTree};
use super::{limit, Dict, Lp, LIMITS};
use std::ptr::NonNull;

pub struct ZLarge {
    dict: Dict,
    tree: ZTree,
}

impl ZLarge {
    /// The member index (MEMORY USAGE samples it).
    pub fn dict(&self) -> &Dict {
        &self.dict
    }
    pub fn len(&self) -> usize {
        self.dict.len()
    }
    pub fn is_empty(&self) -> bool {
        self.dict.is_empty()
    }
}

pub enum ZSet {
    Lp(Lp),
    Tree(Box<ZLarge>),
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet::Lp(Lp::new())
    }
}

#[inline]
fn score_of(b: &[u8]) -> f64 {
    f64::from_le_bytes(b.try_into().expect("8-byte score"))
}

/// Redis's order of two pairs.
#[inline]
fn before(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> bool {
    s1 < s2 || (s1 == s2 && m1 < m2)
}

impl ZSet {
    pub fn into_raw(self) -> (u8, usize) {
        match self {
            ZSet::Lp(l) => (0, l.into_raw()),
            ZSet::Tree(t) => (1, Box::into_raw(t) as usize),
        }
    }

    /// # Safety
    /// As [`super::Obj::from_raw`].
    pub unsafe fn from_raw(enc: u8, p: usize) -> ZSet {
        match enc {
            0 => ZSet::Lp(Lp::from_raw(p)),
            _ => ZSet::Tree(Box::from_raw(p as *mut ZLarge)),
        }
    }

    /// An empty set sized for `n` members of at most `maxlen` bytes.
    pub fn with_capacity(n: usize, maxlen: usize) -> ZSet {
        if n <= limit(&LIMITS.zset_max_listpack_entries)
            && maxlen <= limit(&LIMITS.zset_max_listpack_value)
            && n > 0
        {
            ZSet::Lp(Lp::new())
        } else {
            ZSet::Tree(Box::new(ZLarge {
                dict: Dict::new(),
                tree: ZTree::new(),
            }))
        }
    }

    pub fn len(&self) -> usize {
        match self {
            ZSet::Lp(l) => l.len() / 2,
            ZSet::Tree(t) => t.tree.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lp_find(l: &Lp, m: &[u8]) -> Option<(usize, f64)> {
        let mut it = l.iter();
        loop {
            let off = it.offset();
            let mm = it.next()?;
            let s = it.next()?;
            if mm == m {
                return Some((off, score_of(s)));
            }
        }
    }

    pub fn score(&self, m: &[u8]) -> Option<f64> {
        match self {
            ZSet::Lp(l) => Self::lp_find(l, m).map(|x| x.1),
            ZSet::Tree(t) => t.dict.get(m).map(score_of),
        }
    }

    fn convert(&mut self) {
        if let ZSet::Lp(l) = self {
            let mut big = ZLarge {
                dict: Dict::new(),
                tree: ZTree::new(),
            };
            let mut it = l.iter();
            while let (Some(m), Some(s)) = (it.next(), it.next()) {
                let e = big.dict.insert_new(m, s);
                let ent = NonNull::new(e.raw()).expect("entry");
                big.tree.insert(ZItem {
                    score: score_of(s),
                    ent,
                });
            }
            *self = ZSet::Tree(Box::new(big));
        }
    }

    /// Sets `m`'s score; returns the old score (None: `m` is new).
    pub fn set(&mut self, m: &[u8], score: f64) -> Option<f64> {
        if let ZSet::Lp(l) = self {
            let found = Self::lp_find(l, m);
            if found.is_none()
                && (l.len() / 2 >= limit(&LIMITS.zset_max_listpack_entries)
                    || m.len() > limit(&LIMITS.zset_max_listpack_value)
                    || l.bytes() + m.len() + 20 > super::lp::SAFETY_BYTES)
            {
                self.convert();
            }
        }
        match self {
            ZSet::Lp(l) => {
                // Redis's listpack keeps a score that is an integer as an
                // integer, so -0 reads back as 0 there (a skiplist keeps -0).
                let score = if score == 0.0 { 0.0 } else { score };
                let old = Self::lp_find(l, m);
                if let Some((off, s)) = old {
                    if s == score {
                        return Some(s);
                    }
                    l.remove(off, 2);
                }
                // Insert before the first pair that sorts after (score, m).
                let mut it = l.iter();
                let mut at = l.bytes();
                loop {
                    let off = it.offset();
                    let (Some(mm), Some(s)) = (it.next(), it.next()) else {
                        break;
                    };
                    if before(score, m, score_of(s), mm) {
                        at = off;
                        break;
                    }
                }
                l.insert(at, &[m, &score.to_le_bytes()]);
                old.map(|x| x.1)
            }
            ZSet::Tree(t) => {
                if let Some(e) = t.dict.entry(m) {
                    let old = score_of(e.str_value());
                    if old == score {
                        return Some(old);
                    }
                    let ent = NonNull::new(e.raw()).expect("entry");
                    e.overwrite_str_same_len(&score.to_le_bytes(), 0);
                    t.tree.remove(old, m);
                    t.tree.insert(ZItem { score, ent });
                    return Some(old);
                }
                let e = t.dict.insert_new(m, &score.to_le_bytes());
                let ent = NonNull::new(e.raw()).expect("entry");
                t.tree.insert(ZItem { score, ent });
                None
            }
        }
    }

    pub fn remove(&mut self, m: &[u8]) -> bool {
        match self {
            ZSet::Lp(l) => match Self::lp_find(l, m) {
                Some((off, _)) => {
                    l.remove(off, 2);
                    true
                }
                None => false,
            },
            ZSet::Tree(t) => match t.dict.get(m).map(score_of) {
                Some(s) => {
                    t.tree.remove(s, m);
                    t.dict.remove(m);
                    true
                }
                None => false,
            },
        }
    }

    /// 0-based ascending rank of `m` and its score.
    pub fn rank(&self, m: &[u8]) -> Option<(usize, f64)> {
        match self {
            ZSet::Lp(l) => {
                let mut it = l.iter();
                let mut r = 0;
                while let (Some(mm), Some(s)) = (it.next(), it.next()) {
                    if mm == m {
                        return Some((r, score_of(s)));
                    }
                    r += 1;
                }
                None
            }
            ZSet::Tree(t) => {
                let s = score_of(t.dict.get(m)?);
                t.tree.rank(s, m).map(|r| (r, s))
            }
        }
    }

    /// How many pairs satisfy `pred`, which must hold for a prefix of the
    /// order (e.g. "score < min").
    pub fn count_before(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        match self {
            ZSet::Lp(l) => {
                let mut it = l.iter();
                let mut n = 0;
                while let (Some(m), Some(s)) = (it.next(), it.next()) {
                    if !pred(score_of(s), m) {
                        break;
                    }
                    n += 1;
                }
                n
            }
            ZSet::Tree(t) => t.tree.count_before(|it| pred(it.score, it.member())),
        }
    }

    /// Visits ranks `lo..=hi` (ascending; from `hi` down if `rev`) until `f`
    /// returns false.
    pub fn walk(&self, lo: usize, hi: usize, rev: bool, mut f: impl FnMut(&[u8], f64) -> bool) {
        if lo > hi || lo >= self.len() {
            return;
        }
        let hi = hi.min(self.len() - 1);
        match self {
            ZSet::Lp(l) => {
                let mut pairs: Vec<(&[u8], f64)> = Vec::with_capacity(hi - lo + 1);
                let mut it = l.iter();
                let mut r = 0;
                while let (Some(m), Some(s)) = (it.next(), it.next()) {
                    if r > hi {
                        break;
                    }
                    if r >= lo {
                        pairs.push((m, score_of(s)));
                    }
                    r += 1;
                }
                if rev {
                    pairs.reverse();
                }
                for (m, s) in pairs {
                    if !f(m, s) {
                        break;
                    }
                }
            }
            ZSet::Tree(t) => t.tree.walk(lo, hi, rev, |it| f(it.member(), it.score)),
        }
    }

    /// Visits the pairs from rank `lo` upward until `f` returns false.
    /// Members borrow the set itself, so a caller may keep them while the
    /// set is locked (geo searches).
    pub fn walk_up<'s>(&'s self, lo: usize, mut f: impl FnMut(&'s [u8], f64) -> bool) {
        match self {
            ZSet::Lp(l) => {
                let mut it = l.iter();
                let mut r = 0;
                while let (Some(m), Some(s)) = (it.next(), it.next()) {
                    if r >= lo && !f(m, score_of(s)) {
                        return;
                    }
                    r += 1;
                }
            }
            ZSet::Tree(t) => {
                let n = t.tree.len();
                if lo < n {
                    t.tree.walk(lo, n - 1, false, |it| f(it.member(), it.score));
                }
            }
        }
    }

    /// The pairs at ranks `lo..=hi`, owned (for removal while iterating).
    pub fn collect(&self, lo: usize, hi: usize, rev: bool) -> Vec<(Vec<u8>, f64)> {
        let mut v = Vec::new();
        self.walk(lo, hi, rev, |m, s| {
            v.push((m.to_vec(), s));
            true
        });
        v
    }

    /// Every pair in order.
    pub fn for_each(&self, mut f: impl FnMut(&[u8], f64)) {
        if !self.is_empty() {
            self.walk(0, self.len() - 1, false, |m, s| {
                f(m, s);
                true
            });
        }
    }

    /// A random pair.
    pub fn random(&self) -> Option<(&[u8], f64)> {
        match self {
            ZSet::Lp(l) => {
                let n = l.len() / 2;
                if n == 0 {
                    return None;
                }
                let off = l.offset_of(2 * fastrand::usize(..n));
                let (m, next) = l.at(off);
                Some((m, score_of(l.at(next).0)))
            }
            ZSet::Tree(t) => t.dict.random().map(|(m, s)| (m, score_of(s))),
        }
    }

    /// One ZSCAN step: compact sets are returned whole with cursor 0.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8], f64)) -> u64 {
        match self {
            ZSet::Lp(_) => {
                self.for_each(f);
                0
            }
            ZSet::Tree(t) => t.dict.scan(cursor, |m, s| f(m, score_of(s))),
        }
    }

    pub fn deep_clone(&self) -> ZSet {
        match self {
            ZSet::Lp(l) => ZSet::Lp(l.clone()),
            ZSet::Tree(_) => {
                let mut z = ZSet::with_capacity(usize::MAX, 0);
                self.for_each(|m, s| {
                    z.set(m, s);
                });
                z
            }
        }
    }

    /// A set of pairs whose members are known to be distinct (a loaded
    /// file's, checked by the caller): a small one is sorted once and
    /// appended, where `set` scans the listpack for every member.
    pub fn from_distinct_pairs(pairs: &[(&[u8], f64)]) -> ZSet {
        let (maxlen, bytes) = pairs
            .iter()
            .fold((0, 0), |(m, b), p| (p.0.len().max(m), b + p.0.len() + 20));
        if pairs.is_empty()
            || pairs.len() > limit(&LIMITS.zset_max_listpack_entries)
            || maxlen > limit(&LIMITS.zset_max_listpack_value)
            || bytes > super::lp::SAFETY_BYTES
        {
            return Self::from_pairs(pairs.iter().copied());
        }
        // As `set`: an integer score in a listpack reads back -0 as 0. A
        // file's listpack is in order already, which this pass checks.
        let mut v: Vec<(&[u8], f64)> = Vec::with_capacity(pairs.len());
        let mut sorted = true;
        for &(m, s) in pairs {
            let s = if s == 0.0 { 0.0 } else { s };
            if let Some(&(pm, ps)) = v.last() {
                sorted &= before(ps, pm, s, m);
            }
            v.push((m, s));
        }
        if !sorted {
            v.sort_by(|a, b| {
                if before(a.1, a.0, b.1, b.0) {
                    std::cmp::Ordering::Less
                } else if before(b.1, b.0, a.1, a.0) {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            });
        }
        let scores: Vec<[u8; 8]> = v.iter().map(|p| p.1.to_le_bytes()).collect();
        let elems = v.iter().zip(&scores).flat_map(|(p, s)| [p.0, &s[..]]);
        ZSet::Lp(Lp::from_elems(elems))
    }

    /// A set holding `pairs`, encoded as Redis would for its size (store
    /// forms of ZUNION, ZRANGESTORE...).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a [u8], f64)> + Clone) -> ZSet {
        let (n, maxlen) = pairs
            .clone()
            .into_iter()
            .fold((0, 0), |(n, m), (k, _)| (n + 1, m.max(k.len())));
        let mut z = ZSet::with_capacity(n, maxlen);
        for (m, s) in pairs {
            z.set(m, s);
        }
        z
    }
}
