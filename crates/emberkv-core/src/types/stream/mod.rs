//! The stream type (TYPE and OBJECT ENCODING `stream`): an ordered map from
//! each node's first ID to a byte-packed [`Node`] (Redis keeps a radix
//! tree of listpacks keyed the same way), plus the stream's counters and
//! its consumer groups ([`group`]). An RDB writer walks `nodes()` and
//! `groups` in order.

pub mod group;
pub mod node;

pub use group::{CGroup, Consumer, Nack};
pub use node::Node;

use node::{EntryAt, F_DELETED};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering::Relaxed};

/// `stream-node-max-bytes` and `stream-node-max-entries`.
pub static NODE_MAX_BYTES: AtomicI64 = AtomicI64::new(4096);
pub static NODE_MAX_ENTRIES: AtomicI64 = AtomicI64::new(100);

/// Redis's bound on one listpack (STREAM_LISTPACK_MAX_SIZE).
pub const LISTPACK_MAX: u64 = 1 << 30;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Id {
    pub ms: u64,
    pub seq: u64,
}

impl Id {
    pub const MIN: Id = Id { ms: 0, seq: 0 };
    pub const MAX: Id = Id {
        ms: u64::MAX,
        seq: u64::MAX,
    };
    pub fn new(ms: u64, seq: u64) -> Id {
        Id { ms, seq }
    }
    pub fn is_zero(self) -> bool {
        self == Id::MIN
    }
    /// The next ID (None past the last one).
    pub fn incr(self) -> Option<Id> {
        if self.seq == u64::MAX {
            if self.ms == u64::MAX {
                return None;
            }
            return Some(Id::new(self.ms + 1, 0));
        }
        Some(Id::new(self.ms, self.seq + 1))
    }
    pub fn decr(self) -> Option<Id> {
        if self.seq == 0 {
            if self.ms == 0 {
                return None;
            }
            return Some(Id::new(self.ms - 1, u64::MAX));
        }
        Some(Id::new(self.ms, self.seq - 1))
    }
    /// `ms-seq`, written into `buf`.
    pub fn fmt(self, buf: &mut [u8; 41]) -> &[u8] {
        let mut a = itoa::Buffer::new();
        let ms = a.format(self.ms).as_bytes();
        let n = ms.len();
        buf[..n].copy_from_slice(ms);
        buf[n] = b'-';
        let mut b = itoa::Buffer::new();
        let seq = b.format(self.seq).as_bytes();
        buf[n + 1..n + 1 + seq.len()].copy_from_slice(seq);
        &buf[..n + 1 + seq.len()]
    }
    pub fn to_vec(self) -> Vec<u8> {
        let mut b = [0u8; 41];
        self.fmt(&mut b).to_vec()
    }
}

/// How XADD and XTRIM trim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trim {
    None,
    MaxLen(u64),
    MinId(Id),
}

/// A trim request: strategy, `~`, and the LIMIT on entries removed (0:
/// none).
#[derive(Clone, Copy, Debug)]
pub struct TrimArgs {
    pub how: Trim,
    pub approx: bool,
    pub limit: u64,
}

/// An entry handed to a reader: its ID and a view of its pairs.
pub struct Entry<'a> {
    pub id: Id,
    node: &'a Node,
    at: EntryAt,
}

impl<'a> Entry<'a> {
    pub fn nfields(&self) -> usize {
        self.at.nfields
    }
    pub fn pairs(&self) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + 'a {
        self.node.pairs(&self.at)
    }
}

#[derive(Clone, Default)]
pub struct Stream {
    nodes: BTreeMap<Id, Node>,
    pub length: u64,
    pub last_id: Id,
    pub first_id: Id,
    pub max_deleted: Id,
    pub entries_added: u64,
    /// Consumer groups by name (created on first use, as in Redis).
    pub groups: Option<Box<BTreeMap<Box<[u8]>, CGroup>>>,
}

/// Why XADD could not add.
#[derive(Debug, PartialEq, Eq)]
pub enum AddError {
    /// The ID is not greater than the top item.
    NotGreater,
    /// The fields and values exceed what one node may hold.
    TooLarge,
}

impl Stream {
    pub fn len(&self) -> usize {
        self.length as usize
    }
    pub fn is_empty(&self) -> bool {
        self.length == 0
    }
    /// Nodes (Redis's radix-tree keys).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }
    /// The nodes in ID order, for a snapshot writer.
    pub fn nodes(&self) -> impl Iterator<Item = (&Id, &Node)> {
        self.nodes.iter()
    }

    /// Adds a node read from a file, keyed by its master ID (the loader
    /// checks order, sizes and counters before the stream is used).
    pub fn insert_loaded_node(&mut self, master: Id, node: Node) {
        self.nodes.insert(master, node);
    }

    /// Appends an entry. `id`: the ID given (None for `*`), `seq_given`:
    /// false for `ms-*`. `now`: the clock for generated IDs.
    pub fn add(
        &mut self,
        id: Option<Id>,
        seq_given: bool,
        pairs: &[(&[u8], &[u8])],
        now: u64,
    ) -> Result<Id, AddError> {
        let id = match id {
            Some(want) if seq_given => want,
            Some(want) => {
                if self.last_id.ms == want.ms {
                    if self.last_id.seq == u64::MAX {
                        return Err(AddError::NotGreater);
                    }
                    Id::new(want.ms, self.last_id.seq + 1)
                } else {
                    want
                }
            }
            None => {
                if now > self.last_id.ms {
                    Id::new(now, 0)
                } else {
                    self.last_id.incr().ok_or(AddError::NotGreater)?
                }
            }
        };
        if id <= self.last_id {
            return Err(AddError::NotGreater);
        }
        let total: u64 = pairs.iter().map(|(f, v)| (f.len() + v.len()) as u64).sum();
        if total > LISTPACK_MAX {
            return Err(AddError::TooLarge);
        }
        let max_bytes = match NODE_MAX_BYTES.load(Relaxed) {
            b if b <= 0 || b as u64 > LISTPACK_MAX => LISTPACK_MAX,
            b => b as u64,
        };
        let max_entries = NODE_MAX_ENTRIES.load(Relaxed).max(0) as u64;
        let full = match self.nodes.last_key_value() {
            None => true,
            Some((_, n)) => {
                n.lp_bytes() + total >= max_bytes || (max_entries > 0 && n.count() >= max_entries)
            }
        };
        if full {
            if let Some(mut last) = self.nodes.last_entry() {
                last.get_mut().shrink();
            }
            let fields: smallvec::SmallVec<[&[u8]; 8]> = pairs.iter().map(|p| p.0).collect();
            self.nodes.insert(id, Node::new(&fields));
        }
        let mut last = self.nodes.last_entry().expect("a node");
        let master = *last.key();
        last.get_mut().push(master, id, pairs);
        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
        if self.length == 1 {
            self.first_id = id;
        }
        Ok(id)
    }

    /// Calls `f` on the live entries in `[start, end]`, ascending (or
    /// descending with `rev`), until it returns false.
    pub fn range<'a>(
        &'a self,
        start: Id,
        end: Id,
        rev: bool,
        mut f: impl FnMut(Entry<'a>) -> bool,
    ) {
        if start > end {
            return;
        }
        // The node holding `start` is the last one keyed at or below it.
        let first_key = self
            .nodes
            .range(..=start)
            .next_back()
            .map_or(start, |(k, _)| *k);
        let nodes = self.nodes.range(first_key..=end);
        if !rev {
            for (master, node) in nodes {
                for at in node.entries(*master) {
                    if at.id > end {
                        return;
                    }
                    if at.id < start || at.flags & F_DELETED != 0 {
                        continue;
                    }
                    if !f(Entry {
                        id: at.id,
                        node,
                        at,
                    }) {
                        return;
                    }
                }
            }
        } else {
            for (master, node) in nodes.rev() {
                let all: smallvec::SmallVec<[EntryAt; 128]> = node.entries(*master).collect();
                for at in all.into_iter().rev() {
                    if at.id < start {
                        return;
                    }
                    if at.id > end || at.flags & F_DELETED != 0 {
                        continue;
                    }
                    if !f(Entry {
                        id: at.id,
                        node,
                        at,
                    }) {
                        return;
                    }
                }
            }
        }
    }

    /// The first entry's ID, deleted or not (a node's key is its first
    /// entry's ID); the largest ID when there is none, as Redis's
    /// streamGetEdgeID reports it.
    pub fn first_raw_id(&self) -> Id {
        self.nodes.first_key_value().map_or(Id::MAX, |(k, _)| *k)
    }

    /// The live entry with this ID.
    pub fn get(&self, id: Id) -> Option<Entry<'_>> {
        let mut found = None;
        self.range(id, id, false, |e| {
            found = Some(e);
            false
        });
        found
    }

    pub fn contains(&self, id: Id) -> bool {
        self.get(id).is_some()
    }

    /// The first (or last) live entry's ID.
    pub fn edge_id(&self, last: bool) -> Option<Id> {
        let mut found = None;
        self.range(Id::MIN, Id::MAX, last, |e| {
            found = Some(e.id);
            false
        });
        found
    }

    /// Removes one entry; false if there is no live entry with this ID.
    fn delete_one(&mut self, id: Id) -> bool {
        let Some((&master, node)) = self.nodes.range_mut(..=id).next_back() else {
            return false;
        };
        let Some(at) = node
            .entries(master)
            .find(|e| e.id == id && e.flags & F_DELETED == 0)
        else {
            return false;
        };
        if node.live == 1 {
            self.nodes.remove(&master);
        } else {
            node.mark_deleted(at.start);
        }
        self.length -= 1;
        true
    }

    /// XDEL: removes the IDs that exist; returns how many.
    pub fn delete(&mut self, ids: &[Id]) -> u64 {
        let mut deleted = 0;
        let mut first = false;
        for &id in ids {
            if self.delete_one(id) {
                if id == self.first_id {
                    first = true;
                }
                if id > self.max_deleted {
                    self.max_deleted = id;
                }
                deleted += 1;
            }
        }
        if deleted > 0 {
            if self.length == 0 {
                self.first_id = Id::MIN;
            } else if first {
                self.first_id = self.edge_id(false).unwrap_or_default();
            }
        }
        deleted
    }

    /// Trims from the oldest entries as Redis's streamTrim: whole nodes
    /// first; with `approx` nothing inside a node; at most `limit` entries
    /// (when not 0). Returns the entries removed.
    pub fn trim(&mut self, args: &TrimArgs) -> u64 {
        let mut deleted = 0u64;
        loop {
            if let Trim::MaxLen(max) = args.how {
                if self.length <= max {
                    break;
                }
            }
            let Some(mut first) = self.nodes.first_entry() else {
                break;
            };
            let master = *first.key();
            let node = first.get_mut();
            let entries = node.live as u64;
            if args.limit > 0 && deleted + entries > args.limit {
                break;
            }
            let remove = match args.how {
                Trim::None => return 0,
                Trim::MaxLen(max) => self.length - entries >= max,
                Trim::MinId(min) => node.last_id(master) < min,
            };
            if remove {
                first.remove();
                self.length -= entries;
                deleted += entries;
                continue;
            }
            if args.approx {
                break;
            }
            let starts: smallvec::SmallVec<[(Id, u8, usize); 128]> = node
                .entries(master)
                .map(|e| (e.id, e.flags, e.start))
                .collect();
            for (id, flags, start) in starts {
                let stop = match args.how {
                    Trim::MaxLen(max) => self.length <= max,
                    Trim::MinId(min) => id >= min,
                    Trim::None => true,
                };
                if stop {
                    break;
                }
                if flags & F_DELETED == 0 {
                    node.mark_deleted(start);
                    self.length -= 1;
                    deleted += 1;
                }
            }
            break;
        }
        if self.length == 0 {
            self.first_id = Id::MIN;
        } else if deleted > 0 {
            self.first_id = self.edge_id(false).unwrap_or_default();
        }
        deleted
    }

    /// Whether a deleted entry may lie in `[start, end]` (Redis tracks
    /// only the largest deleted ID).
    pub fn range_has_tombstones(&self, start: Id, end: Id) -> bool {
        if self.length == 0 || self.max_deleted.is_zero() {
            return false;
        }
        start <= self.max_deleted && self.max_deleted <= end
    }

    /// The logical read counter of `id` (Redis 7.0's
    /// streamEstimateDistanceFromFirstEverEntry);
    /// None when it cannot be known.
    pub fn estimate_distance(&self, id: Id) -> Option<u64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if self.length == 0 && id <= self.last_id {
            return Some(self.entries_added);
        }
        if id == self.last_id {
            return Some(self.entries_added);
        }
        if id > self.last_id {
            return None;
        }
        if self.max_deleted.is_zero() || self.max_deleted < self.first_id {
            if id < self.first_id {
                return Some(self.entries_added - self.length);
            }
            if id == self.first_id {
                return Some(self.entries_added - self.length + 1);
            }
        }
        None
    }

    /// A group's lag (Redis 7.0's streamReplyWithCGLag); None when unknown.
    pub fn lag(&self, g: &CGroup) -> Option<u64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if g.entries_read >= 0 && !self.range_has_tombstones(g.last_id, Id::MAX) {
            return Some(self.entries_added.wrapping_sub(g.entries_read as u64));
        }
        self.estimate_distance(g.last_id)
            .map(|r| self.entries_added.wrapping_sub(r))
    }

    pub fn group(&self, name: &[u8]) -> Option<&CGroup> {
        self.groups.as_ref()?.get(name)
    }
    pub fn group_mut(&mut self, name: &[u8]) -> Option<&mut CGroup> {
        self.groups.as_mut()?.get_mut(name)
    }
    pub fn group_count(&self) -> usize {
        self.groups.as_ref().map_or(0, |g| g.len())
    }

    /// Work to free this stream, in allocations (lazyfree's effort).
    pub fn free_effort(&self) -> usize {
        let groups = self.groups.as_ref().map_or(0, |g| {
            g.values()
                .map(|g| 1 + g.pel.len() + g.consumers.len())
                .sum()
        });
        self.nodes.len() + groups
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(s: &mut Stream, ms: u64, seq: u64, f: &[(&[u8], &[u8])]) -> Result<Id, AddError> {
        s.add(Some(Id::new(ms, seq)), true, f, 0)
    }

    #[test]
    fn add_range_delete_trim() {
        let mut s = Stream::default();
        for i in 1..=250u64 {
            add(&mut s, i, 0, &[(b"a", b"1"), (b"b", b"x")]).unwrap();
        }
        assert_eq!(s.node_count(), 3, "100 entries per node");
        assert_eq!(
            add(&mut s, 5, 0, &[(b"a", b"1")]),
            Err(AddError::NotGreater)
        );
        let mut seen = Vec::new();
        s.range(Id::new(99, 0), Id::new(102, 0), false, |e| {
            seen.push(e.id.ms);
            true
        });
        assert_eq!(seen, [99, 100, 101, 102]);
        seen.clear();
        s.range(Id::MIN, Id::MAX, true, |e| {
            seen.push(e.id.ms);
            seen.len() < 3
        });
        assert_eq!(seen, [250, 249, 248]);
        assert_eq!(s.delete(&[Id::new(1, 0), Id::new(1, 0), Id::new(7, 7)]), 1);
        assert_eq!(s.first_id, Id::new(2, 0));
        assert_eq!(s.max_deleted, Id::new(1, 0));
        let e = s.get(Id::new(2, 0)).unwrap();
        let p: Vec<_> = e.pairs().collect();
        assert_eq!(p, vec![(&b"a"[..], &b"1"[..]), (&b"b"[..], &b"x"[..])]);
        let approx = TrimArgs {
            how: Trim::MaxLen(120),
            approx: true,
            limit: 0,
        };
        assert_eq!(s.trim(&approx), 99, "only the whole first node");
        let exact = TrimArgs {
            approx: false,
            ..approx
        };
        assert_eq!(s.trim(&exact), 30);
        assert_eq!(s.len(), 120);
        assert_eq!(s.first_id, Id::new(131, 0));
        let minid = TrimArgs {
            how: Trim::MinId(Id::new(200, 0)),
            approx: false,
            limit: 0,
        };
        assert_eq!(s.trim(&minid), 69);
        assert_eq!(s.edge_id(false), Some(Id::new(200, 0)));
    }

    #[test]
    fn generated_ids() {
        let mut s = Stream::default();
        assert_eq!(s.add(None, true, &[(b"f", b"v")], 10), Ok(Id::new(10, 0)));
        assert_eq!(s.add(None, true, &[(b"f", b"v")], 5), Ok(Id::new(10, 1)));
        assert_eq!(
            s.add(Some(Id::new(10, 0)), false, &[(b"f", b"v")], 0),
            Ok(Id::new(10, 2))
        );
        assert_eq!(
            s.add(Some(Id::new(12, 0)), false, &[(b"g", b"v")], 0),
            Ok(Id::new(12, 0))
        );
        let mut seen = Vec::new();
        s.range(Id::MIN, Id::MAX, false, |e| {
            seen.push(e.pairs().map(|(f, _)| f.to_vec()).collect::<Vec<_>>());
            true
        });
        assert_eq!(seen.len(), 4);
        assert_eq!(seen[3], vec![b"g".to_vec()]);
    }
}
