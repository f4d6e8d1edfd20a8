//! The propagation stream: the commands that, replayed in order against an
//! empty server, rebuild the same dataset, as Redis feeds its AOF and its
//! replicas. Each execution unit (a command, with the deletions of keys it
//! found expired; a transaction; a script; a served blocking pop) is one
//! entry; a unit of more than one command is wrapped in MULTI/EXEC, and
//! SELECT is emitted when the database changes, as Redis does.
//!
//! Order. Workers run commands in parallel, locking only the shards their
//! keys live in, so the order in which units *finish* is not the order in
//! which they changed a key. Two units that touch the same key hold the
//! same shard lock one after the other, so a number drawn while the lock is
//! still held orders them: every shard-lock release of a unit draws the
//! next sequence number, the unit goes into the stream at its last one,
//! and the stream emits units in sequence order (a unit whose turn has not
//! come waits in `pending` for the units before it; the numbers a unit drew
//! before its last are marked done without an entry). This is exact for
//! units that hold all the locks they write under at once, which every
//! command does (multi-key commands lock all their shards together), and
//! EXEC and scripts hold the transaction gate exclusively.
//!
//! Cost: nothing while nobody subscribes (one relaxed load per command and
//! per lock release); while someone does, one atomic increment per lock
//! release and one mutex section per unit.

use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

/// A consumer of the stream: called with each unit's bytes (RESP
/// multi-bulk commands), in order.
pub type Subscriber = Box<dyn FnMut(&[u8]) + Send>;

pub struct Stream {
    active: AtomicBool,
    next_seq: AtomicU64,
    inner: Mutex<Inner>,
}

struct Inner {
    /// The next sequence number to emit.
    next: u64,
    /// Finished units waiting for earlier ones: Some(bytes of the unit's
    /// ops, encoded with their databases) or None for a number drawn by a
    /// unit that went in at a later one.
    pending: BTreeMap<u64, Option<Pending>>,
    /// The database the stream's reader has selected.
    db: Option<u32>,
    subscribers: Vec<(u64, Subscriber)>,
    next_id: u64,
    out: Vec<u8>,
}

struct Pending {
    buf: Vec<u8>,
    ops: Vec<(u32, u32)>,
}

impl Default for Stream {
    fn default() -> Self {
        Stream {
            active: AtomicBool::new(false),
            next_seq: AtomicU64::new(0),
            inner: Mutex::new(Inner {
                next: 0,
                pending: BTreeMap::new(),
                db: None,
                subscribers: Vec::new(),
                next_id: 0,
                out: Vec::new(),
            }),
        }
    }
}

impl Stream {
    #[inline]
    pub fn active(&self) -> bool {
        self.active.load(Relaxed)
    }

    #[inline]
    pub(super) fn draw(&self) -> u64 {
        self.next_seq.fetch_add(1, Relaxed)
    }

    /// Adds a consumer; it sees every unit that starts after this call.
    /// Returns its id for [`Stream::unsubscribe`].
    pub fn subscribe(&self, s: Subscriber) -> u64 {
        let mut g = self.inner.lock();
        g.next_id += 1;
        let id = g.next_id;
        g.subscribers.push((id, s));
        // The reader starts with no database selected: the first unit it
        // sees begins with SELECT.
        g.db = None;
        self.active.store(true, Relaxed);
        id
    }

    /// A mark of everything ordered so far: once [`Stream::reached`] says
    /// so, every unit that had drawn its numbers before this call has been
    /// handed to the subscribers. A reader that must see a write it knows
    /// was acknowledged (a test, a later `appendfsync always`) waits for it.
    pub fn mark(&self) -> u64 {
        self.next_seq.load(Relaxed)
    }

    /// Whether every number below `mark` has been emitted (or marked done).
    /// A unit on another thread may have drawn a number and not be closed
    /// yet (a worker descheduled between a lock release and its drain), so
    /// this can lag a little behind the replies clients have seen.
    pub fn reached(&self, mark: u64) -> bool {
        self.inner.lock().next >= mark
    }

    pub fn unsubscribe(&self, id: u64) {
        let mut g = self.inner.lock();
        g.subscribers.retain(|(i, _)| *i != id);
        if g.subscribers.is_empty() {
            self.active.store(false, Relaxed);
        }
    }

    fn submit(&self, u: &mut Unit) {
        if !u.ops.is_empty() && u.draws.is_empty() {
            // A unit that took no shard lock (FUNCTION LOAD) is ordered
            // where it finishes.
            u.draws.push(self.draw());
        }
        let Some(&last) = u.draws.last() else {
            return;
        };
        let mut g = self.inner.lock();
        let g = &mut *g;
        for &d in &u.draws[..u.draws.len() - 1] {
            g.pending.insert(d, None);
        }
        if last == g.next {
            g.emit(&u.buf, &u.ops);
            g.next += 1;
        } else {
            let p = (!u.ops.is_empty()).then(|| Pending {
                buf: u.buf.clone(),
                ops: u.ops.clone(),
            });
            g.pending.insert(last, p);
        }
        while let Some(p) = g.pending.remove(&g.next) {
            if let Some(p) = p {
                g.emit(&p.buf, &p.ops);
            }
            g.next += 1;
        }
    }
}

impl Inner {
    /// Sends one unit to the subscribers: SELECT where the database
    /// changes, MULTI/EXEC around more than one command.
    fn emit(&mut self, buf: &[u8], ops: &[(u32, u32)]) {
        if ops.is_empty() || self.subscribers.is_empty() {
            return;
        }
        self.out.clear();
        let wrap = ops.len() > 1;
        for (i, &(db, start)) in ops.iter().enumerate() {
            if self.db != Some(db) {
                self.db = Some(db);
                let mut n = itoa::Buffer::new();
                let n = n.format(db);
                encode(&mut self.out, &[b"SELECT", n.as_bytes()]);
            }
            if wrap && i == 0 {
                encode(&mut self.out, &[b"MULTI"]);
            }
            let end = ops.get(i + 1).map_or(buf.len(), |o| o.1 as usize);
            self.out.extend_from_slice(&buf[start as usize..end]);
        }
        if wrap {
            encode(&mut self.out, &[b"EXEC"]);
        }
        for (_, s) in &mut self.subscribers {
            s(&self.out);
        }
    }
}

/// Appends `args` as a RESP multi-bulk command.
pub fn encode(out: &mut Vec<u8>, args: &[&[u8]]) {
    header(out, args.len());
    for a in args {
        bulk(out, a);
    }
}

fn header(out: &mut Vec<u8>, n: usize) {
    out.push(b'*');
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    out.extend_from_slice(b"\r\n");
}

fn bulk(out: &mut Vec<u8>, a: &[u8]) {
    out.push(b'$');
    out.extend_from_slice(itoa::Buffer::new().format(a.len()).as_bytes());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(a);
    out.extend_from_slice(b"\r\n");
}

/// The ops of this thread's current execution unit.
#[derive(Default)]
pub struct Unit {
    /// The unit was opened while the stream had readers: its effects are
    /// recorded and it is ordered.
    pub(super) on: bool,
    pub(super) draws: smallvec::SmallVec<[u64; 4]>,
    buf: Vec<u8>,
    /// (db, start in `buf`) of each command.
    ops: Vec<(u32, u32)>,
}

impl Unit {
    pub(super) fn open(&mut self) {
        self.on = true;
    }

    /// Appends one command.
    pub fn op(&mut self, db: usize, args: &[&[u8]]) {
        self.ops.push((db as u32, self.buf.len() as u32));
        encode(&mut self.buf, args);
    }

    /// Appends one command from an iterator over its arguments.
    pub fn op_iter<'a>(&mut self, db: usize, n: usize, args: impl Iterator<Item = &'a [u8]>) {
        self.ops.push((db as u32, self.buf.len() as u32));
        header(&mut self.buf, n);
        for a in args {
            bulk(&mut self.buf, a);
        }
    }

    pub(super) fn close(&mut self, s: &Stream) {
        if self.on {
            s.submit(self);
        }
        self.on = false;
        self.draws.clear();
        self.buf.clear();
        self.ops.clear();
        // A big unit (a script of many writes) does not keep its buffer.
        if self.buf.capacity() > 1 << 20 {
            self.buf = Vec::new();
            self.ops = Vec::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn collect(s: &Stream) -> Arc<Mutex<Vec<u8>>> {
        let got = Arc::new(Mutex::new(Vec::new()));
        let g = got.clone();
        s.subscribe(Box::new(move |b| g.lock().extend_from_slice(b)));
        got
    }

    fn unit(s: &Stream, db: usize, cmds: &[&[&[u8]]], draws: &[u64]) -> Unit {
        let mut u = Unit::default();
        u.open();
        for c in cmds {
            u.op(db, c);
        }
        u.draws.extend_from_slice(draws);
        let _ = s;
        u
    }

    #[test]
    fn units_come_out_in_sequence_order_with_select_and_multi() {
        let s = Stream::default();
        let got = collect(&s);
        let d: Vec<u64> = (0..4).map(|_| s.draw()).collect();
        // The second unit (draws 1 and 3) finishes first: it waits.
        let mut b = unit(&s, 1, &[&[b"SET", b"k", b"2"]], &[d[1], d[3]]);
        b.close(&s);
        assert!(got.lock().is_empty());
        let mut a = unit(&s, 0, &[&[b"DEL", b"x"], &[b"SET", b"k", b"1"]], &[d[0]]);
        a.close(&s);
        assert!(!got.lock().is_empty());
        let mut c = unit(&s, 1, &[], &[d[2]]);
        c.close(&s);
        let text = String::from_utf8(got.lock().clone()).unwrap();
        assert_eq!(
            text,
            "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*1\r\n$5\r\nMULTI\r\n*2\r\n$3\r\nDEL\r\n$1\r\nx\r\n\
             *3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n1\r\n*1\r\n$4\r\nEXEC\r\n\
             *2\r\n$6\r\nSELECT\r\n$1\r\n1\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n2\r\n"
        );
    }
}
