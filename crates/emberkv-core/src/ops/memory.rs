//! MEMORY USAGE: the bytes a key and its value take, estimated the way
//! Redis estimates them (`objectComputeSize`): compact encodings are
//! measured whole, large ones by sampling up to `samples` elements and
//! scaling their average to the element count, plus the structure's own
//! overhead per element. Issue 14 (byte-based maxmemory) replaces the
//! per-element overheads here with the allocator's exact figures.

use crate::store::entry::{T_HASH, T_LIST, T_SET, T_STREAM, T_STRING, T_ZSET};
use crate::store::EntryRef;
use crate::types::{Dict, Hash, List, Obj, ObjGuard, Set, ZSet};

/// A large encoding's bookkeeping per element beyond its bytes: the
/// element's entry header and its slot in the segmented table.
const DICT_ENTRY_OVERHEAD: usize = 24 + 8;
/// A sorted set's order index per member (B+tree slot and counts).
const ZTREE_OVERHEAD: usize = 24;
/// A quicklist node's own bookkeeping (pointer, header, deque slot).
const QUICK_NODE_OVERHEAD: usize = 32;
/// A stream node's map slot and header.
const STREAM_NODE_OVERHEAD: usize = 64;

/// Bytes used by the key of `e` and its value; `samples` bounds how many
/// elements of a large value are looked at (0: all of them).
pub fn usage(e: EntryRef<'_>, samples: usize) -> usize {
    let samples = if samples == 0 { usize::MAX } else { samples };
    let base = e.alloc_size();
    if e.kind() == T_STRING {
        return base;
    }
    debug_assert!(matches!(
        e.kind(),
        T_LIST | T_HASH | T_SET | T_ZSET | T_STREAM
    ));
    let g = ObjGuard::new(e);
    base + value_size(&g, samples)
}

fn value_size(o: &Obj, samples: usize) -> usize {
    match o {
        Obj::List(List::Lp(lp)) => lp.bytes(),
        Obj::List(List::Quick(q)) => {
            let nodes = q.nodes().count();
            q.bytes() + nodes * QUICK_NODE_OVERHEAD
        }
        Obj::Hash(Hash::Lp(lp)) => lp.bytes(),
        Obj::Hash(Hash::Dict(d)) => dict_size(d, samples),
        Obj::Set(Set::Int(i)) => i.alloc_size(),
        Obj::Set(Set::Lp(lp)) => lp.bytes(),
        Obj::Set(Set::Dict(d)) => dict_size(d, samples),
        Obj::ZSet(ZSet::Lp(lp)) => lp.bytes(),
        Obj::ZSet(ZSet::Tree(z)) => dict_size(z.dict(), samples) + z.len() * ZTREE_OVERHEAD,
        Obj::Stream(s) => {
            let n = s.node_count();
            let (mut seen, mut bytes) = (0usize, 0usize);
            for (_, node) in s.nodes().take(samples) {
                seen += 1;
                bytes += node.lp_bytes() as usize;
            }
            let per = bytes.checked_div(seen).unwrap_or(0);
            n * (per + STREAM_NODE_OVERHEAD)
        }
    }
}

/// A dict's elements sampled at random, averaged, scaled to its length.
fn dict_size(d: &Dict, samples: usize) -> usize {
    let n = d.len();
    let take = samples.min(n);
    if take == 0 {
        return 0;
    }
    let mut bytes = 0usize;
    if take == n {
        d.for_each(|k, v| bytes += k.len() + v.len());
    } else {
        for _ in 0..take {
            if let Some((k, v)) = d.random() {
                bytes += k.len() + v.len();
            }
        }
    }
    n * (bytes / take + DICT_ENTRY_OVERHEAD)
}
