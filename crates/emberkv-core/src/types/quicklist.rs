//! `Quick`: the large list, a deque of [`Lp`] nodes each within the
//! `list-max-listpack-size` budget, as Redis's quicklist. Elements cost
//! their bytes plus a varint, not an allocation each, and growing the list
//! only ever grows the (small) node deque, so a list of millions of
//! elements never copies itself in one step.

use super::lp::{elem_size, Lp};
use std::collections::VecDeque;

#[derive(Clone)]
pub struct Quick {
    nodes: VecDeque<Lp>,
    len: usize,
    bytes: usize,
    /// Node budget: (max bytes, max elements).
    budget: (usize, usize),
}

impl Quick {
    pub fn new(budget: (usize, usize)) -> Quick {
        Quick {
            nodes: VecDeque::new(),
            len: 0,
            bytes: 0,
            budget,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The nodes, head first (a snapshot writes one RDB node per node).
    pub fn nodes(&self) -> impl Iterator<Item = &Lp> + '_ {
        self.nodes.iter()
    }

    /// Element bytes (with their length prefixes).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    fn fits(&self, n: &Lp, add: usize) -> bool {
        n.bytes() + add <= self.budget.0.min(super::lp::SAFETY_BYTES) && n.len() < self.budget.1
    }

    pub fn push(&mut self, front: bool, v: &[u8]) {
        let add = elem_size(v);
        self.len += 1;
        self.bytes += add;
        let end = if front {
            self.nodes.front()
        } else {
            self.nodes.back()
        };
        if !end.is_some_and(|n| self.fits(n, add)) {
            let n = Lp::new();
            if front {
                self.nodes.push_front(n)
            } else {
                self.nodes.push_back(n)
            }
        }
        if front {
            self.nodes.front_mut().expect("node").push_front(v);
        } else {
            self.nodes.back_mut().expect("node").push_back(v);
        }
    }

    pub fn pop(&mut self, front: bool) -> Option<Vec<u8>> {
        let n = if front {
            self.nodes.front_mut()?
        } else {
            self.nodes.back_mut()?
        };
        let off = if front { 0 } else { n.offset_of(n.len() - 1) };
        let v = n.at(off).0.to_vec();
        n.remove(off, 1);
        if n.is_empty() {
            if front {
                self.nodes.pop_front();
            } else {
                self.nodes.pop_back();
            }
        }
        self.len -= 1;
        self.bytes -= elem_size(&v);
        Some(v)
    }

    /// (node index, index within it) of element `i`, walking from the
    /// nearer end.
    fn locate(&self, i: usize) -> Option<(usize, usize)> {
        if i >= self.len {
            return None;
        }
        if i < self.len / 2 {
            let mut i = i;
            for (k, n) in self.nodes.iter().enumerate() {
                if i < n.len() {
                    return Some((k, i));
                }
                i -= n.len();
            }
        } else {
            let mut back = self.len - 1 - i;
            for (k, n) in self.nodes.iter().enumerate().rev() {
                if back < n.len() {
                    return Some((k, n.len() - 1 - back));
                }
                back -= n.len();
            }
        }
        None
    }

    pub fn get(&self, i: usize) -> Option<&[u8]> {
        let (k, j) = self.locate(i)?;
        let n = &self.nodes[k];
        Some(n.at(n.offset_of(j)).0)
    }

    /// Splits node `k` in two if an edit pushed it past the budget.
    fn split_if_over(&mut self, k: usize) {
        let n = &self.nodes[k];
        if (n.bytes() <= self.budget.0.min(super::lp::SAFETY_BYTES) && n.len() <= self.budget.1)
            || n.len() < 2
        {
            return;
        }
        let half = n.len() / 2;
        let right = Lp::from_elems(n.iter().skip(half));
        let left = Lp::from_elems(n.iter().take(half));
        self.nodes[k] = left;
        self.nodes.insert(k + 1, right);
    }

    pub fn set(&mut self, i: usize, v: &[u8]) -> bool {
        let Some((k, j)) = self.locate(i) else {
            return false;
        };
        let n = &mut self.nodes[k];
        let off = n.offset_of(j);
        self.bytes = self.bytes + elem_size(v) - elem_size(n.at(off).0);
        n.replace(off, v);
        self.split_if_over(k);
        true
    }

    /// Inserts `v` so that it becomes element `i` (0 ≤ i ≤ len).
    pub fn insert_at(&mut self, i: usize, v: &[u8]) {
        if i == 0 {
            return self.push(true, v);
        }
        if i == self.len {
            return self.push(false, v);
        }
        let (k, j) = self.locate(i).expect("in range");
        let n = &mut self.nodes[k];
        let off = n.offset_of(j);
        n.insert(off, &[v]);
        self.len += 1;
        self.bytes += elem_size(v);
        self.split_if_over(k);
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &[u8]> + Clone + '_ {
        self.nodes.iter().flat_map(|n| {
            let v: Vec<&[u8]> = n.iter().collect();
            v.into_iter()
        })
    }

    /// Visits elements `start..=end`.
    pub fn range(&self, start: usize, end: usize, mut f: impl FnMut(&[u8])) {
        let Some((mut k, j)) = self.locate(start) else {
            return;
        };
        let mut left = end + 1 - start;
        let mut skip = j;
        while left > 0 && k < self.nodes.len() {
            for e in self.nodes[k].iter().skip(skip) {
                if left == 0 {
                    break;
                }
                f(e);
                left -= 1;
            }
            skip = 0;
            k += 1;
        }
    }

    /// Keeps only the elements whose index `keep` accepts (LREM).
    pub fn retain_indexes(&mut self, mut keep: impl FnMut(usize) -> bool) {
        let mut base = 0;
        let mut nodes = VecDeque::with_capacity(self.nodes.len());
        let (mut len, mut bytes) = (0, 0);
        for n in self.nodes.drain(..) {
            let cnt = n.len();
            let kept: Vec<&[u8]> = n
                .iter()
                .enumerate()
                .filter(|(i, _)| keep(base + i))
                .map(|(_, e)| e)
                .collect();
            base += cnt;
            if kept.len() == cnt {
                len += cnt;
                bytes += n.bytes();
                nodes.push_back(n);
            } else if !kept.is_empty() {
                let m = Lp::from_elems(kept.iter().copied());
                len += m.len();
                bytes += m.bytes();
                nodes.push_back(m);
            }
        }
        self.nodes = nodes;
        self.len = len;
        self.bytes = bytes;
    }

    /// Keeps elements `s..=e` (valid indexes): whole nodes outside are
    /// dropped, the two border nodes trimmed.
    pub fn trim(&mut self, s: usize, e: usize) {
        let tail = self.len - 1 - e;
        let mut head = s;
        while head > 0 {
            let n = self.nodes.front_mut().expect("node");
            if n.len() <= head {
                head -= n.len();
                self.bytes -= n.bytes();
                self.len -= n.len();
                self.nodes.pop_front();
            } else {
                let before = n.bytes();
                n.remove(0, head);
                self.bytes -= before - n.bytes();
                self.len -= head;
                head = 0;
            }
        }
        let mut tail = tail;
        while tail > 0 {
            let n = self.nodes.back_mut().expect("node");
            if n.len() <= tail {
                tail -= n.len();
                self.bytes -= n.bytes();
                self.len -= n.len();
                self.nodes.pop_back();
            } else {
                let before = n.bytes();
                let off = n.offset_of(n.len() - tail);
                n.remove(off, tail);
                self.bytes -= before - n.bytes();
                self.len -= tail;
                tail = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_a_vec_model_under_random_edits() {
        let mut q = Quick::new((64, usize::MAX));
        let mut model: Vec<Vec<u8>> = Vec::new();
        let mut seed = 0x1234_5678_9abc_def0u64;
        let mut rnd = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n.max(1) as u64) as usize
        };
        for step in 0..20_000 {
            let v = format!("v{step}-{}", "x".repeat(rnd(20))).into_bytes();
            match rnd(7) {
                0 | 1 => {
                    q.push(true, &v);
                    model.insert(0, v);
                }
                2 | 3 => {
                    q.push(false, &v);
                    model.push(v);
                }
                4 => {
                    let front = rnd(2) == 0;
                    let want = if model.is_empty() {
                        None
                    } else if front {
                        Some(model.remove(0))
                    } else {
                        model.pop()
                    };
                    assert_eq!(q.pop(front), want);
                }
                5 if !model.is_empty() => {
                    let i = rnd(model.len());
                    assert!(q.set(i, &v));
                    model[i] = v;
                }
                _ => {
                    let i = rnd(model.len() + 1);
                    q.insert_at(i, &v);
                    model.insert(i, v);
                }
            }
            if step % 997 == 0 && !model.is_empty() {
                let (s, e) = (rnd(model.len()), rnd(model.len()));
                let (s, e) = (s.min(e), s.max(e));
                q.trim(s, e);
                model = model[s..=e].to_vec();
                let mut k = 0;
                q.retain_indexes(|_| {
                    k += 1;
                    k % 5 != 0
                });
                let mut k = 0;
                model.retain(|_| {
                    k += 1;
                    k % 5 != 0
                });
            }
            assert_eq!(q.len(), model.len());
        }
        let all: Vec<Vec<u8>> = q.iter().map(|e| e.to_vec()).collect();
        assert_eq!(all, model);
        let bytes: usize = model.iter().map(|e| elem_size(e)).sum();
        assert_eq!(q.bytes(), bytes);
        let mut got = Vec::new();
        q.range(3, 40, |e| got.push(e.to_vec()));
        assert_eq!(got, model[3..=40].to_vec());
        for i in (0..model.len()).step_by(13) {
            assert_eq!(q.get(i), Some(&model[i][..]));
        }
    }
}
