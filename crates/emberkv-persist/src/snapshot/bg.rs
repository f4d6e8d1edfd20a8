//! A point-in-time RDB of a live keyspace, without fork().
//!
//! [`begin`] marks every table at one instant (emberkv-core's
//! `store/table/snap.rs`); [`Snapshot::write`] then walks the shards a few
//! hundred entries per shard-lock hold, while commands that touch a segment
//! not yet written serialize it first into the same queue. The queue holds
//! serialized bytes only until the writer drains them into the file, so the
//! extra memory is the queue's peak (`rdb_last_cow_size`), not a copy of
//! the dataset.

use super::save::{write_entry, write_function, write_header, write_select, Aux};
use crate::rdb::Writer;
use emberkv_core::store::{next_epoch, EntryRef, SegmentSink, Store, Table};
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Bytes serialized per shard-lock hold by the walker (about 30-100 us;
/// a step always finishes the segment it started).
const STEP: usize = 32 << 10;
/// Queued bytes past which the walker only drains.
const QUEUE_HIGH: usize = 8 << 20;

/// The sink the tables serialize into.
pub struct Collector {
    compress: bool,
    queue: Mutex<Vec<Vec<u8>>>,
    pending: AtomicUsize,
    peak: AtomicUsize,
    keys: AtomicU64,
    adopted: Mutex<Vec<Table>>,
    /// Drained piece buffers for the next segments (fresh ones grew by
    /// doubling, a copy and new pages each time).
    spare: Mutex<Vec<Vec<u8>>>,
}

/// Spare buffers kept, and the largest kept.
const SPARE_MAX: usize = 16;
const SPARE_BYTES: usize = 1 << 20;

impl Collector {
    /// Keys serialized so far.
    pub fn keys(&self) -> u64 {
        self.keys.load(Ordering::Relaxed)
    }
    /// Serialized bytes waiting for the file now, and at most so far.
    pub fn queued(&self) -> (usize, usize) {
        (
            self.pending.load(Ordering::Relaxed),
            self.peak.load(Ordering::Relaxed),
        )
    }

    fn lock_spare(&self) -> std::sync::MutexGuard<'_, Vec<Vec<u8>>> {
        self.spare.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A drained piece's buffer, for a later segment.
    fn recycle(&self, mut buf: Vec<u8>) {
        let mut spare = self.lock_spare();
        if spare.len() < SPARE_MAX && buf.capacity() <= SPARE_BYTES {
            buf.clear();
            spare.push(buf);
        }
    }

    fn push(&self, chunk: Vec<u8>) {
        let n = chunk.len();
        // Counted under the queue's lock, before the chunk is visible: a
        // writer taking it at once must not subtract what was not added
        // yet (the counter wrapped, and the peak with it).
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        let now = self.pending.fetch_add(n, Ordering::Relaxed) + n;
        q.push(chunk);
        drop(q);
        self.peak.fetch_max(now, Ordering::Relaxed);
    }
}

impl SegmentSink for Collector {
    fn segment(&self, db: usize, entries: &mut dyn Iterator<Item = EntryRef<'_>>) -> usize {
        let buf = self.lock_spare().pop().unwrap_or_default();
        let mut w = Writer::piece_in(self.compress, buf);
        // Writing into a Vec cannot fail.
        let _ = write_select(&mut w, db, None);
        // The entries first, so each value is on its way while the ones
        // before it are written: the entry four ahead, the first line of
        // the value two ahead (its entry has arrived), the rest of the
        // next one's compact form (its first line has).
        let entries: Vec<EntryRef<'_>> = entries.collect();
        for (i, e) in entries.iter().enumerate() {
            if let Some(next) = entries.get(i + 4) {
                next.prefetch();
            }
            if let Some(next) = entries.get(i + 2) {
                next.prefetch_value(false);
            }
            if let Some(next) = entries.get(i + 1) {
                next.prefetch_value(true);
            }
            let _ = write_entry(&mut w, *e);
        }
        self.keys.fetch_add(entries.len() as u64, Ordering::Relaxed);
        let piece = w.into_bytes();
        let cost = piece.len();
        self.push(piece);
        cost
    }

    fn adopt(&self, table: Table) {
        self.adopted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(table);
    }
}

/// A snapshot begun on a store: marked, not yet written.
pub struct Snapshot {
    sink: Arc<Collector>,
    /// Per database at the instant: (keys, keys with a TTL), for RESIZEDB.
    sizes: Vec<(u64, u64)>,
    /// Set to stop the walk (FLUSHALL, SHUTDOWN): the file is abandoned.
    pub cancel: Arc<AtomicBool>,
}

/// What a finished write reports.
pub struct Written {
    pub keys: u64,
    pub bytes: u64,
    /// The most serialized bytes queued at once: the snapshot's extra memory.
    pub peak_queue: usize,
}

/// Marks every table of `store` at one instant (all shard locks held for
/// the few microseconds the marking takes).
pub fn begin(store: &Store, compress: bool) -> Snapshot {
    let sink = Arc::new(Collector {
        compress,
        queue: Mutex::new(Vec::new()),
        pending: AtomicUsize::new(0),
        peak: AtomicUsize::new(0),
        keys: AtomicU64::new(0),
        adopted: Mutex::new(Vec::new()),
        spare: Mutex::new(Vec::new()),
    });
    let mut sizes = vec![(0u64, 0u64); store.ndbs];
    let epoch = next_epoch();
    let dyn_sink: Arc<dyn SegmentSink> = sink.clone();
    let mut locked = store.lock_all();
    for shard in locked.shards() {
        for (db, t) in shard.dbs.iter_mut().enumerate() {
            sizes[db].0 += t.len() as u64;
            sizes[db].1 += t.volatile() as u64;
            t.snap_begin(epoch, dyn_sink.clone());
        }
    }
    drop(locked);
    Snapshot {
        sink,
        sizes,
        cancel: Arc::new(AtomicBool::new(false)),
    }
}

/// Why a write stopped.
#[derive(Debug)]
pub enum WriteError {
    Io(io::Error),
    Cancelled,
}

impl From<io::Error> for WriteError {
    fn from(e: io::Error) -> Self {
        WriteError::Io(e)
    }
}

impl Snapshot {
    /// Keys in the keyspace at the instant.
    pub fn total_keys(&self) -> u64 {
        self.sizes.iter().map(|s| s.0).sum()
    }

    /// The counters of the write in progress.
    pub fn collector(&self) -> Arc<Collector> {
        self.sink.clone()
    }

    /// Writes the whole file: header, `functions` (library sources), every
    /// database, EOF and the checksum. `key_delay_us` (rdb-key-save-delay)
    /// sleeps that long per key, outside the locks, to let tests watch a
    /// slow save. Returns the inner writer with the counts.
    ///
    /// With `walker_init` (BGSAVE), two threads: this one writes the queue
    /// to `out`; a walker it starts (which first runs `walker_init`: a
    /// BGSAVE lowers its priority there) serializes the segments no command
    /// has. Without (SAVE, which blocks the server anyway), this thread
    /// does both: a second thread on the same core only added switches
    /// (SAVE 10-15% slower). Commands can fill the queue faster than a
    /// low-priority thread empties it (with one thread at nice 10 doing
    /// both, the queue peaked at 2-17% of the dataset from run to run
    /// under a SET load), so the writing stays at normal priority: it
    /// holds no shard lock, and its CPU is the copy of the file's bytes,
    /// which any snapshot pays.
    #[allow(clippy::too_many_arguments)]
    pub fn write<W: Write>(
        self,
        store: &Store,
        out: W,
        aux: &Aux<'_>,
        functions: &[Vec<u8>],
        checksum: bool,
        key_delay_us: i64,
        walker_init: Option<&(dyn Fn() + Sync)>,
    ) -> Result<(W, Written), WriteError> {
        let result = self.write_inner(
            store,
            out,
            aux,
            functions,
            checksum,
            key_delay_us,
            walker_init,
        );
        if result.is_err() {
            self.abandon(store);
        }
        result
    }

    #[allow(clippy::too_many_arguments)]
    fn write_inner<W: Write>(
        &self,
        store: &Store,
        out: W,
        aux: &Aux<'_>,
        functions: &[Vec<u8>],
        checksum: bool,
        key_delay_us: i64,
        walker_init: Option<&(dyn Fn() + Sync)>,
    ) -> Result<(W, Written), WriteError> {
        let mut w = Writer::new(out, self.sink.compress);
        write_header(&mut w, aux)?;
        for code in functions {
            write_function(&mut w, code)?;
        }
        // Every database's sizes up front: its keys then come in segments,
        // each under its own SELECTDB.
        for (db, &(keys, expires)) in self.sizes.iter().enumerate() {
            if keys > 0 {
                write_select(&mut w, db, Some((keys, expires)))?;
            }
        }
        let failed = AtomicBool::new(false);
        match walker_init {
            None => {
                let mut drain = |_high: bool| self.drain(&mut w).map_err(WriteError::Io);
                self.walk(store, key_delay_us, &failed, &mut drain)?;
                self.drain(&mut w)?;
            }
            Some(init) => self.write_threaded(store, &mut w, key_delay_us, init, &failed)?,
        }
        let written = Written {
            keys: self.sink.keys.load(Ordering::Relaxed),
            bytes: w.written() + 9,
            peak_queue: self.sink.peak.load(Ordering::Relaxed),
        };
        let out = w.finish(checksum)?;
        Ok((out, written))
    }

    /// The BGSAVE form of the walk: a walker thread serializes, this one
    /// writes.
    fn write_threaded<W: Write>(
        &self,
        store: &Store,
        w: &mut Writer<W>,
        key_delay_us: i64,
        init: &(dyn Fn() + Sync),
        failed: &AtomicBool,
    ) -> Result<(), WriteError> {
        let walked = AtomicBool::new(false);
        let (io, walk) = std::thread::scope(|s| {
            let walker = std::thread::Builder::new()
                .name("emberkv-bgwalk".into()) // 15 bytes at most: the kernel cuts longer names
                .spawn_scoped(s, || {
                    init();
                    // The writer is behind when the queue is high: adding
                    // to it would only grow it.
                    let mut wait = |high: bool| {
                        if high {
                            std::thread::sleep(std::time::Duration::from_micros(200));
                        }
                        Ok(())
                    };
                    let r = self.walk(store, key_delay_us, failed, &mut wait);
                    walked.store(true, Ordering::Release);
                    r
                });
            let walker = match walker {
                Ok(h) => h,
                Err(e) => return (Err(e), Ok(())),
            };
            let mut io = Ok(());
            loop {
                // Read before draining: once the walk is over nothing new
                // is queued, so a drain after seeing it ends the file.
                let over = walked.load(Ordering::Acquire);
                if let Err(e) = self.drain(w) {
                    failed.store(true, Ordering::Relaxed);
                    io = Err(e);
                    break;
                }
                if over {
                    break;
                }
                if self.sink.pending.load(Ordering::Relaxed) == 0 {
                    std::thread::sleep(std::time::Duration::from_micros(200));
                }
            }
            let walk = walker.join().unwrap_or_else(|_| {
                Err(WriteError::Io(io::Error::other(
                    "the snapshot walker panicked",
                )))
            });
            (io, walk)
        });
        io?;
        walk
    }

    /// Serializes every segment not yet saved, shard by shard, then the
    /// tables FLUSHDB handed over; stops on a cancel or when the writer
    /// failed. `flush(high)` runs after each step and, with `high`, instead
    /// of one while the queue is over its mark: it drains (one thread) or
    /// waits for the writer (two).
    fn walk(
        &self,
        store: &Store,
        key_delay_us: i64,
        failed: &AtomicBool,
        flush: &mut dyn FnMut(bool) -> Result<(), WriteError>,
    ) -> Result<(), WriteError> {
        let step = if key_delay_us != 0 { 1 } else { STEP };
        let stop = || -> Result<(), WriteError> {
            self.check_cancel()?;
            if failed.load(Ordering::Relaxed) {
                return Err(WriteError::Cancelled);
            }
            Ok(())
        };
        for i in 0..store.nshards() {
            loop {
                stop()?;
                if self.sink.pending.load(Ordering::Relaxed) > QUEUE_HIGH {
                    flush(true)?;
                    continue;
                }
                let before = self.sink.keys.load(Ordering::Relaxed);
                let mut g = store.lock_index(i);
                let done = g
                    .dbs
                    .iter_mut()
                    .all(|t| !t.snap_pending() || t.snap_step(step));
                drop(g);
                flush(false)?;
                self.delay(before, key_delay_us);
                if done {
                    break;
                }
            }
        }
        // Tables FLUSHDB took out of the keyspace before they were saved.
        loop {
            let next = self
                .sink
                .adopted
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop();
            let Some(mut t) = next else { break };
            loop {
                stop()?;
                let before = self.sink.keys.load(Ordering::Relaxed);
                let done = t.snap_step(step);
                flush(false)?;
                self.delay(before, key_delay_us);
                if done {
                    break;
                }
            }
        }
        Ok(())
    }

    fn check_cancel(&self) -> Result<(), WriteError> {
        if self.cancel.load(Ordering::Relaxed) {
            return Err(WriteError::Cancelled);
        }
        Ok(())
    }

    fn delay(&self, before: u64, key_delay_us: i64) {
        if key_delay_us > 0 {
            let n = self.sink.keys.load(Ordering::Relaxed) - before;
            std::thread::sleep(std::time::Duration::from_micros(
                key_delay_us as u64 * n.max(1),
            ));
        }
    }

    fn drain<W: Write>(&self, w: &mut Writer<W>) -> io::Result<()> {
        let chunks =
            std::mem::take(&mut *self.sink.queue.lock().unwrap_or_else(|e| e.into_inner()));
        for c in chunks {
            w.raw(&c)?;
            self.sink.pending.fetch_sub(c.len(), Ordering::Relaxed);
            self.sink.recycle(c);
        }
        Ok(())
    }

    /// Drops every mark left (a failed or cancelled write), so commands
    /// stop serializing for a file nobody will read.
    pub fn abandon(&self, store: &Store) {
        cancel_marks(store);
        self.sink
            .adopted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.sink
            .queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

/// Drops every snapshot mark in `store` (a snapshot nobody will write).
pub fn cancel_marks(store: &Store) {
    let mut locked = store.lock_all();
    for shard in locked.shards() {
        for t in shard.dbs.iter_mut() {
            t.snap_cancel();
        }
    }
}
