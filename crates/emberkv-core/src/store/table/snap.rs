//! Point-in-time snapshots without fork(): segment-granular copy-before-write.
//!
//! A snapshot marks every table at one instant (all shard locks held, a few
//! microseconds). From then on each segment is serialized exactly once, in
//! the state it had at that instant: either by the snapshot thread walking
//! the table a few segments per lock hold, or by whichever command touches
//! the segment first (lookup, find_mut, insert, active expiry), which
//! serializes it before changing it. A segment is at most a few hundred
//! entries, so the command pays tens of microseconds once; after that the
//! segment is marked and the check is one compare. Splits only happen on
//! insert, after the hook, so a new half inherits its parent's mark.
//!
//! The core knows nothing of the file format: it hands a segment's entries
//! to a [`SegmentSink`] (the persistence crate's RDB writer).
//!
//! Reads serialize too (`lookup` is also the write path's entry point), so
//! the work a command does for the snapshot does not depend on its flags:
//! the total is the same as the thread's, only moved earlier.

use super::*;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

/// Where serialized segments go. Called with the shard lock held.
pub trait SegmentSink: Send + Sync {
    /// The live state of one segment of database `db` at the snapshot's
    /// instant; what it cost (serialized bytes), which the snapshot
    /// thread's steps are budgeted in.
    fn segment(&self, db: usize, entries: &mut dyn Iterator<Item = EntryRef<'_>>) -> usize;
    /// A table leaving the keyspace (FLUSHDB) with segments still unsaved:
    /// the sink finishes them off the event loop, then frees the table.
    fn adopt(&self, table: Table);
}

/// One snapshot's mark on a table.
pub(super) struct Mark {
    epoch: u32,
    /// The database the table held at the instant (SWAPDB may move it).
    db: u32,
    /// The snapshot thread's position: the next segment to look at.
    cursor: usize,
    /// Segments not yet serialized; at zero the mark goes away.
    unsaved: usize,
    sink: Arc<dyn SegmentSink>,
}

static EPOCH: AtomicU32 = AtomicU32::new(1);

/// A fresh snapshot epoch (never 0, the mark of a segment never saved).
pub fn next_epoch() -> u32 {
    loop {
        let e = EPOCH.fetch_add(1, Ordering::Relaxed);
        if e != 0 {
            return e;
        }
    }
}

impl Table {
    /// Marks the table for snapshot `epoch` (the caller holds every shard
    /// lock, so all tables are marked at the same instant).
    pub fn snap_begin(&mut self, epoch: u32, sink: Arc<dyn SegmentSink>) {
        self.snap = if self.len == 0 {
            None
        } else {
            Some(Box::new(Mark {
                epoch,
                db: self.db,
                cursor: 0,
                unsaved: self.segs.len(),
                sink,
            }))
        };
    }

    /// Drops the mark (the snapshot was cancelled or is complete).
    pub fn snap_cancel(&mut self) {
        self.snap = None;
    }

    /// True while segments of the current snapshot are unsaved here.
    pub fn snap_pending(&self) -> bool {
        self.snap.is_some()
    }

    /// The hook before a command reads or changes the segment of `h`.
    #[inline]
    pub(crate) fn snap_touch(&mut self, h: u64) {
        if self.snap.is_some() && !self.segs.is_empty() {
            let si = self.seg_of(h);
            self.snap_seg(si);
        }
    }

    /// Serializes segment `si` if the current snapshot has not yet; the
    /// sink's cost of it (0 when there was nothing to do).
    pub(super) fn snap_seg(&mut self, si: usize) -> usize {
        let Some(m) = self.snap.as_deref_mut() else {
            return 0;
        };
        let seg = &mut self.segs[si];
        if seg.saved == m.epoch {
            return 0;
        }
        seg.saved = m.epoch;
        let mut cost = 0;
        if seg.len > 0 {
            let mut it = seg.buckets.iter().flat_map(|&l0| {
                let mut l = l0;
                std::iter::from_fn(move || {
                    if l == 0 {
                        return None;
                    }
                    // SAFETY: live entries of this (mutably borrowed) table.
                    let e = unsafe { EntryRef::from_raw(link_ptr(l)) };
                    l = e.next_link();
                    Some(e)
                })
            });
            cost = m.sink.segment(m.db as usize, &mut it);
        }
        m.unsaved -= 1;
        if m.unsaved == 0 {
            self.snap = None;
        }
        cost
    }

    /// The snapshot thread's step: serializes unsaved segments from the
    /// table's cursor until about `budget` bytes were written (counted in
    /// bytes, not entries: 512 entries of 500-field hashes held a shard's
    /// lock for 8 ms). True when the table is done.
    pub fn snap_step(&mut self, budget: usize) -> bool {
        let mut done = 0usize;
        while let Some(m) = self.snap.as_deref_mut() {
            let si = m.cursor;
            if si >= self.segs.len() {
                // Every segment counted at the instant was passed; any left
                // unsaved were saved by commands, so this cannot be reached
                // with unsaved > 0. Be safe: drop the mark.
                debug_assert!(false, "snapshot cursor ran past the segments");
                self.snap = None;
                break;
            }
            m.cursor += 1;
            // At least one per segment, so a step of empty or saved
            // segments ends too.
            done += self.snap_seg(si).max(1);
            if done >= budget {
                break;
            }
        }
        self.snap.is_none()
    }

    /// A table leaving the keyspace: if the snapshot still needs some of
    /// it, the sink takes it (and frees it later); otherwise it is returned.
    pub fn snap_release(self) -> Option<Table> {
        match self.snap.as_ref().map(|m| m.sink.clone()) {
            Some(sink) => {
                // The sink's thread saves the rest through snap_step.
                sink.adopt(self);
                None
            }
            None => Some(self),
        }
    }
}
