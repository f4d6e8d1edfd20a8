//! The ordered index of a large sorted set: a B+tree whose inner nodes
//! keep each child's element count, so rank, select-by-rank and score/lex
//! bounds are O(log n), as with Redis's skiplist spans.
//!
//! Items are (score, pointer to the member's dict entry): 16 bytes each in
//! leaves of up to 64, where a skiplist spends a node with a backward link
//! and 1.33 levels per member. The member bytes live once, in the dict.
//! Order is (score, member bytes), Redis's order.

use crate::store::EntryRef;
use std::cmp::Ordering;
use std::ptr::NonNull;

const CAP: usize = 64;
const MIN: usize = CAP / 4;

#[derive(Clone, Copy)]
pub struct ZItem {
    pub score: f64,
    pub ent: NonNull<u8>,
}

unsafe impl Send for ZItem {}

impl ZItem {
    /// The member bytes (the dict entry's key).
    #[inline]
    pub fn member<'a>(&self) -> &'a [u8] {
        // SAFETY: the entry is owned by the set's dict and outlives every
        // tree item that points at it (they are removed together).
        unsafe { EntryRef::from_raw(self.ent.as_ptr()).key() }
    }
}

/// Order of an item against (score, member).
#[inline]
pub fn cmp_key(it: &ZItem, score: f64, member: &[u8]) -> Ordering {
    match it.score.partial_cmp(&score) {
        Some(Ordering::Equal) | None => it.member().cmp(member),
        Some(o) => o,
    }
}

struct Child {
    node: Box<Node>,
    count: usize,
    last: ZItem,
}

enum Node {
    Leaf(Vec<ZItem>),
    Inner(Vec<Child>),
}

impl Node {
    fn last(&self) -> ZItem {
        match self {
            Node::Leaf(v) => *v.last().expect("non-empty leaf"),
            Node::Inner(k) => k.last().expect("non-empty inner").last,
        }
    }
    fn count(&self) -> usize {
        match self {
            Node::Leaf(v) => v.len(),
            Node::Inner(k) => k.iter().map(|c| c.count).sum(),
        }
    }
    fn width(&self) -> usize {
        match self {
            Node::Leaf(v) => v.len(),
            Node::Inner(k) => k.len(),
        }
    }
    fn child(node: Node) -> Child {
        Child {
            count: node.count(),
            last: node.last(),
            node: Box::new(node),
        }
    }
}

pub struct ZTree {
    root: Node,
    len: usize,
}

impl Default for ZTree {
    fn default() -> Self {
        Self::new()
    }
}

impl ZTree {
    pub fn new() -> Self {
        ZTree {
            root: Node::Leaf(Vec::with_capacity(CAP)),
            len: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn insert(&mut self, it: ZItem) {
        self.len += 1;
        if let Some(right) = ins(&mut self.root, it) {
            let left = std::mem::replace(&mut self.root, Node::Leaf(Vec::new()));
            let mut kids = Vec::with_capacity(CAP);
            kids.push(Node::child(left));
            kids.push(Node::child(right));
            self.root = Node::Inner(kids);
        }
    }

    /// Removes the item (score, member); false if absent.
    pub fn remove(&mut self, score: f64, member: &[u8]) -> bool {
        if !rm(&mut self.root, score, member) {
            return false;
        }
        self.len -= 1;
        loop {
            match &mut self.root {
                Node::Inner(k) if k.len() == 1 => {
                    let only = k.pop().expect("one child");
                    self.root = *only.node;
                }
                _ => break,
            }
        }
        true
    }

    /// 0-based rank of (score, member), if present: one descent.
    pub fn rank(&self, score: f64, member: &[u8]) -> Option<usize> {
        let mut n = 0;
        let mut node = &self.root;
        loop {
            match node {
                Node::Leaf(v) => {
                    let i = v.partition_point(|it| cmp_key(it, score, member) == Ordering::Less);
                    return v
                        .get(i)
                        .filter(|it| cmp_key(it, score, member) == Ordering::Equal)
                        .map(|_| n + i);
                }
                Node::Inner(k) => {
                    let i =
                        k.partition_point(|c| cmp_key(&c.last, score, member) == Ordering::Less);
                    if i == k.len() {
                        return None;
                    }
                    n += k[..i].iter().map(|c| c.count).sum::<usize>();
                    node = &k[i].node;
                }
            }
        }
    }

    /// Number of items for which `before` holds; `before` must hold for a
    /// prefix of the order (a lower bound).
    pub fn count_before(&self, before: impl Fn(&ZItem) -> bool) -> usize {
        let mut n = 0;
        let mut node = &self.root;
        loop {
            match node {
                Node::Leaf(v) => return n + v.partition_point(&before),
                Node::Inner(k) => {
                    let i = k.partition_point(|c| before(&c.last));
                    n += k[..i].iter().map(|c| c.count).sum::<usize>();
                    if i == k.len() {
                        return n;
                    }
                    node = &k[i].node;
                }
            }
        }
    }

    /// The item at rank `r`.
    #[cfg(test)]
    pub fn get(&self, mut r: usize) -> Option<ZItem> {
        if r >= self.len {
            return None;
        }
        let mut node = &self.root;
        loop {
            match node {
                Node::Leaf(v) => return v.get(r).copied(),
                Node::Inner(k) => {
                    let mut next = None;
                    for c in k {
                        if r < c.count {
                            next = Some(&c.node);
                            break;
                        }
                        r -= c.count;
                    }
                    node = next?;
                }
            }
        }
    }

    /// Visits ranks `lo..=hi` in order (reversed if `rev`: hi down to lo)
    /// until `f` returns false.
    pub fn walk(&self, lo: usize, hi: usize, rev: bool, mut f: impl FnMut(&ZItem) -> bool) {
        if lo > hi || lo >= self.len {
            return;
        }
        let hi = hi.min(self.len - 1);
        walk(&self.root, lo, hi, rev, &mut f);
    }
}

fn walk(node: &Node, lo: usize, hi: usize, rev: bool, f: &mut impl FnMut(&ZItem) -> bool) -> bool {
    match node {
        Node::Leaf(v) => {
            let s = &v[lo..=hi];
            if rev {
                s.iter().rev().all(f)
            } else {
                s.iter().all(f)
            }
        }
        Node::Inner(k) => {
            let mut base = 0;
            let mut spans = Vec::with_capacity(4);
            for c in k {
                let (a, b) = (base, base + c.count - 1);
                base += c.count;
                if b < lo || a > hi {
                    continue;
                }
                spans.push((c, lo.max(a) - a, hi.min(b) - a));
            }
            if rev {
                spans.reverse();
            }
            spans
                .into_iter()
                .all(|(c, l, h)| walk(&c.node, l, h, rev, f))
        }
    }
}

#[inline]
fn less(a: &ZItem, b: &ZItem) -> bool {
    cmp_key(a, b.score, b.member()) == Ordering::Less
}

/// Inserts into `node`; returns a new right sibling if it split.
fn ins(node: &mut Node, it: ZItem) -> Option<Node> {
    match node {
        Node::Leaf(v) => {
            let pos = v.partition_point(|x| less(x, &it));
            if v.len() < CAP {
                v.insert(pos, it);
                return None;
            }
            // Full: split. Appending at the end (ascending scores) keeps the
            // left leaf full instead of half full.
            let at = if pos == CAP { CAP } else { CAP / 2 };
            let mut right = Vec::with_capacity(CAP);
            right.extend(v.drain(at..));
            if pos <= at && at != CAP {
                v.insert(pos, it);
            } else {
                right.insert(pos - at, it);
            }
            Some(Node::Leaf(right))
        }
        Node::Inner(k) => {
            let i = k.partition_point(|c| less(&c.last, &it)).min(k.len() - 1);
            let split = ins(&mut k[i].node, it);
            k[i].count += 1;
            k[i].last = k[i].node.last();
            let right = split?;
            k[i].count = k[i].node.count();
            k.insert(i + 1, Node::child(right));
            if k.len() <= CAP {
                return None;
            }
            let mut r = Vec::with_capacity(CAP + 1);
            r.extend(k.drain(k.len() / 2..));
            Some(Node::Inner(r))
        }
    }
}

fn rm(node: &mut Node, score: f64, member: &[u8]) -> bool {
    match node {
        Node::Leaf(v) => {
            let pos = v.partition_point(|x| cmp_key(x, score, member) == Ordering::Less);
            if pos < v.len() && cmp_key(&v[pos], score, member) == Ordering::Equal {
                v.remove(pos);
                true
            } else {
                false
            }
        }
        Node::Inner(k) => {
            let i = k.partition_point(|c| cmp_key(&c.last, score, member) == Ordering::Less);
            if i == k.len() || !rm(&mut k[i].node, score, member) {
                return false;
            }
            k[i].count -= 1;
            if k[i].count == 0 {
                k.remove(i);
                return true;
            }
            k[i].last = k[i].node.last();
            if k[i].node.width() < MIN {
                merge_small(k, i);
            }
            true
        }
    }
}

/// Merges child `i` with a neighbour when both fit in one node, so
/// deletions do not leave a tree of near-empty nodes.
fn merge_small(k: &mut Vec<Child>, i: usize) {
    let j = if i + 1 < k.len() {
        i + 1
    } else if i > 0 {
        i - 1
    } else {
        return;
    };
    let (a, b) = (i.min(j), i.max(j));
    if k[a].node.width() + k[b].node.width() > CAP {
        return;
    }
    let right = k.remove(b);
    let left = &mut k[a];
    match (&mut *left.node, *right.node) {
        (Node::Leaf(l), Node::Leaf(r)) => l.extend(r),
        (Node::Inner(l), Node::Inner(r)) => l.extend(r),
        _ => unreachable!("siblings have the same height"),
    }
    left.count += right.count;
    left.last = right.last;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::EntryPtr;

    #[test]
    fn ranks_and_walks_match_a_sorted_vec() {
        let mut ents = Vec::new();
        let mut t = ZTree::new();
        let mut model: Vec<(f64, Vec<u8>)> = Vec::new();
        for i in 0..5000u32 {
            let m = format!("m{}", (i * 7919) % 5000).into_bytes();
            let s = ((i * 31) % 97) as f64;
            let e = EntryPtr::new_string(&m, b"", None, 0, 0);
            let it = ZItem {
                score: s,
                ent: NonNull::new(e.as_ref().raw()).unwrap(),
            };
            t.insert(it);
            ents.push(e);
            model.push((s, m));
        }
        model.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap().then(a.1.cmp(&b.1)));
        assert_eq!(t.len(), 5000);
        for (r, (s, m)) in model.iter().enumerate().step_by(37) {
            assert_eq!(t.rank(*s, m), Some(r));
            assert_eq!(t.get(r).unwrap().member(), &m[..]);
        }
        let mut got = Vec::new();
        t.walk(100, 199, true, |it| {
            got.push(it.member().to_vec());
            true
        });
        let want: Vec<Vec<u8>> = model[100..200].iter().rev().map(|x| x.1.clone()).collect();
        assert_eq!(got, want);
        assert_eq!(
            t.count_before(|it| it.score < 10.0),
            model.iter().filter(|x| x.0 < 10.0).count()
        );
        // Remove two thirds, check again.
        for (i, (s, m)) in model.iter().enumerate() {
            if i % 3 != 0 {
                assert!(t.remove(*s, m));
            }
        }
        assert!(!t.remove(-1.0, b"zz"));
        let rest: Vec<&(f64, Vec<u8>)> = model.iter().step_by(3).collect();
        assert_eq!(t.len(), rest.len());
        for (r, (s, m)) in rest.iter().enumerate() {
            assert_eq!(t.rank(*s, m), Some(r));
        }
        drop(t);
        for e in ents {
            e.free();
        }
    }
}
