//! The write funnel: every change to the keyspace is recorded here, once,
//! whoever makes it (a command handler, a served blocking pop, lazy and
//! active expiry, FLUSH, SWAPDB, scripts, EXEC), and dispatch drains the
//! record once per command into its consumers: the dirty counter, WATCH,
//! blocked-client wake-ups, keyspace notifications and the propagation
//! stream ([`stream`]), which the AOF and replicas will read.
//!
//! The record belongs to the thread doing the work. A change happens deep
//! inside the keyspace (lazy expiry in `Table::lookup`, a new key in
//! `Table::insert`), in code that knows neither the server nor the client,
//! and the thread running the command is the only one that can drain it, so
//! the record is thread-local: nothing is threaded through every call, and
//! recording is a push into reused buffers (no allocation once warm).
//!
//! A command's frame ([`begin`] .. [`end`]) sees what it recorded itself;
//! nested commands (EXEC's queue, `redis.call`) get frames of their own,
//! and the outermost frame is one execution unit of the propagation stream.

pub mod stream;

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
pub use stream::Stream;

/// One recorded change: its notification class and event name (as Redis
/// names them), the database, and the key (a range of `Record::keys`).
#[derive(Clone, Copy)]
pub struct Change {
    pub db: u32,
    pub class: u32,
    pub event: &'static str,
    key: (u32, u32),
}

/// Notification classes (Redis's `notify-keyspace-events` letters), kept
/// with the record so the keyspace can record without knowing the server.
pub mod class {
    pub const KEYSPACE: u32 = 1 << 0; // K
    pub const KEYEVENT: u32 = 1 << 1; // E
    pub const GENERIC: u32 = 1 << 2; // g
    pub const STRING: u32 = 1 << 3; // $
    pub const LIST: u32 = 1 << 4; // l
    pub const SET: u32 = 1 << 5; // s
    pub const HASH: u32 = 1 << 6; // h
    pub const ZSET: u32 = 1 << 7; // z
    pub const EXPIRED: u32 = 1 << 8; // x
    pub const EVICTED: u32 = 1 << 9; // e
    pub const STREAM: u32 = 1 << 10; // t
    pub const KEY_MISS: u32 = 1 << 11; // m
    pub const MODULE: u32 = 1 << 12; // d
    pub const NEW: u32 = 1 << 13; // n
    /// Not a notification class: marks a second event of a change already
    /// recorded (SET .. EX notifies `set` and `expire`, one change for
    /// the dirty counter, as in Redis).
    pub const SECOND: u32 = 1 << 14;
    /// Not a notification class: a change Redis makes without
    /// signalModifiedKey (XSETID, XGROUP on an existing stream, a consumer
    /// created by XREADGROUP or XCLAIM): counted and published, but it
    /// touches no WATCH.
    pub const UNWATCHED: u32 = 1 << 15;
    /// Not a notification class: a change that wakes no blocked client
    /// (Redis signals no key as ready for it).
    pub const UNSIGNALLED: u32 = 1 << 16;
    /// Both: the stream metadata changes Redis tells nobody about.
    pub const QUIET: u32 = UNWATCHED | UNSIGNALLED;
    /// Not a notification class: a change that adds nothing to the dirty
    /// counter (an LTRIM that removed nothing still notifies and touches
    /// WATCH in Redis, and counts 0).
    pub const UNCOUNTED: u32 = 1 << 17;
    /// 'A': every class but key-miss and new-key.
    pub const ALL: u32 =
        GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;
}
use class::*;

/// Classes whose records are notifications only (they touch no WATCH and
/// wake no blocked client): a key miss or a key creation is not a change
/// of its own (the write that created the key is), and an expiry changes
/// the dataset but is not counted as dirty, as in Redis.
pub const NOTIFY_ONLY: u32 = KEY_MISS | NEW | SECOND;
const NOT_DIRTY: u32 = KEY_MISS | NEW | EXPIRED | SECOND | UNCOUNTED;

/// Whether key creations are recorded (the `n` class of notifications is
/// the only consumer, and off by default).
pub static RECORD_NEW: AtomicBool = AtomicBool::new(false);
/// Whether expired and evicted keys are propagated as UNLINK rather than
/// DEL (`lazyfree-lazy-expire`), as Redis does.
pub static EXPIRE_AS_UNLINK: AtomicBool = AtomicBool::new(false);

/// Record buffers larger than this (bytes of keys) are freed after the
/// command rather than kept for the next one.
const SHRINK_ABOVE: usize = 1 << 20;

/// What a frame saw when it began.
#[derive(Clone, Copy)]
struct Frame {
    changes: usize,
    /// Where this frame's keys start in `Record::keys`: a nested command's
    /// keys are dropped when its frame closes, so a script of a million
    /// writes does not keep a million keys until it ends.
    keys: usize,
    dirty: u64,
    /// The handler propagated its effect itself (or nothing): its own
    /// arguments are not propagated.
    explicit: bool,
    /// Propagate the command even if it changed nothing (FLUSHDB on an
    /// empty database, FUNCTION LOAD).
    force: bool,
}

/// Who needs to see which keys changed: blocked clients, watchers, and
/// subscribers of keyspace notifications (the stream says so itself).
/// While none of them exists a change is only counted, not copied.
#[derive(Default)]
pub struct Interest {
    /// Clients blocked on keys (the blocking registry keeps this count).
    pub blocked: AtomicUsize,
    /// Watched (key, client) pairs (the WATCH registry keeps this count).
    pub watched: AtomicUsize,
    /// Keyspace notifications are enabled for some class.
    pub notify: AtomicBool,
}

impl Interest {
    #[inline]
    fn wants_keys(&self) -> bool {
        self.blocked.load(Relaxed) != 0
            || self.watched.load(Relaxed) != 0
            || self.notify.load(Relaxed)
    }
}

#[derive(Default)]
pub struct Record {
    keys: Vec<u8>,
    changes: Vec<Change>,
    /// Extra changes counted on top of one per change record (Redis counts
    /// some commands by the elements they changed).
    dirty: u64,
    frames: Vec<Frame>,
    /// The propagation stream of this thread's current unit, and where the
    /// stream is (installed by the worker; None on threads that have none).
    unit: stream::Unit,
    stream: Option<Arc<Stream>>,
    interest: Option<Arc<Interest>>,
}

thread_local! {
    static RECORD: RefCell<Record> = RefCell::new(Record::default());
    /// Whether this thread's current unit is being propagated (a copy of
    /// `Unit::on`): lock releases check it without touching the record.
    static PROPAGATING: Cell<bool> = const { Cell::new(false) };
}

#[inline]
fn with<R>(f: impl FnOnce(&mut Record) -> R) -> R {
    RECORD.with(|r| f(&mut r.borrow_mut()))
}

/// Installs the propagation stream this thread's units go to, and who
/// else reads the record (worker threads do this once at start).
pub fn install(s: Arc<Stream>, i: Arc<Interest>) {
    with(|r| {
        r.stream = Some(s);
        r.interest = Some(i);
    });
}

/// Records that `key` of `db` changed, with its notification.
#[inline]
pub fn change(db: usize, class: u32, event: &'static str, key: &[u8]) {
    with(|r| {
        if r.wants_keys() {
            r.push(db, class, event, key);
        } else if class & NOT_DIRTY == 0 {
            // Nobody reads the key: count the change for the dirty counter
            // (and the command's own propagation) without copying it.
            r.dirty += 1;
        }
    });
}

/// Counts `n` more changes for the dirty counter than there are change
/// records (SADD of 3 new members is 3 changes, one notification).
#[inline]
pub fn dirty(n: u64) {
    with(|r| r.dirty += n);
}

/// Records that a command on this thread created `key` (only while key
/// creation events are wanted).
#[inline]
pub fn created(db: usize, key: &[u8]) {
    if RECORD_NEW.load(Relaxed) {
        change(db, NEW, "new", key);
    }
}

/// Forgets the last creation record of `key`: an overwrite that went
/// through delete and insert (the STORE commands) did not create the key.
pub fn uncreated(key: &[u8]) {
    if !RECORD_NEW.load(Relaxed) {
        return;
    }
    with(|r| {
        let from = r.frames.last().map_or(0, |f| f.changes);
        let keys = &r.keys;
        if let Some(i) = r.changes[from..]
            .iter()
            .rposition(|c| c.class == NEW && &keys[c.key.0 as usize..c.key.1 as usize] == key)
        {
            r.changes.remove(from + i);
        }
    });
}

/// How a deletion by expiry is propagated: UNLINK with
/// `lazyfree-lazy-expire`, else DEL, as Redis.
pub fn del_verb() -> &'static [u8] {
    if EXPIRE_AS_UNLINK.load(Relaxed) {
        b"UNLINK"
    } else {
        b"DEL"
    }
}

/// A key's TTL passed and it was deleted (lazily on access, or by active
/// expiry): the `expired` notification, and `DEL key` in the stream.
pub fn expired(db: usize, key: &[u8]) {
    with(|r| {
        if r.wants_keys() {
            r.push(db, EXPIRED, "expired", key);
        }
        if r.propagating() {
            r.unit.op(db, &[del_verb(), key]);
        }
    });
}

/// Whether anyone reads the propagation stream (handlers that rewrite
/// their effect check this before building it).
#[inline]
pub fn propagating() -> bool {
    with(|r| r.propagating())
}

/// Propagates `args` (a command, name first) as this command's effect,
/// instead of the command's own arguments. May be called several times
/// (SPOP with a count: SREM in batches).
pub fn propagate(db: usize, args: &[&[u8]]) {
    with(|r| {
        if let Some(f) = r.frames.last_mut() {
            f.explicit = true;
        }
        if r.propagating() {
            r.unit.op(db, args);
        }
    });
}

/// Propagates nothing of this command's own text (Redis's
/// preventCommandPropagation): what it changed went out through
/// [`propagate`] calls, possibly none.
pub fn suppress() {
    with(|r| {
        if let Some(f) = r.frames.last_mut() {
            f.explicit = true;
        }
    });
}

/// Propagate this command even if it changed no key (FLUSHDB of an empty
/// database, SWAPDB, FUNCTION LOAD), as Redis forces their propagation.
pub fn force() {
    with(|r| {
        if let Some(f) = r.frames.last_mut() {
            f.force = true;
        }
    });
}

/// A shard lock is about to be released: see [`stream`] for why this
/// orders the stream.
#[inline]
pub fn releasing_shard() {
    if !PROPAGATING.with(|p| p.get()) {
        return;
    }
    with(|r| {
        if r.unit.on {
            if let Some(s) = &r.stream {
                let d = s.draw();
                r.unit.draws.push(d);
            }
        }
    });
}

impl Record {
    #[inline]
    fn push(&mut self, db: usize, class: u32, event: &'static str, key: &[u8]) {
        let start = self.keys.len() as u32;
        self.keys.extend_from_slice(key);
        self.changes.push(Change {
            db: db as u32,
            class,
            event,
            key: (start, self.keys.len() as u32),
        });
    }

    #[inline]
    fn propagating(&self) -> bool {
        self.unit.on
    }

    /// Whether a consumer needs the changed keys (threads with nothing
    /// installed, such as unit tests, always record them).
    #[inline]
    fn wants_keys(&self) -> bool {
        self.unit.on || self.interest.as_ref().is_none_or(|i| i.wants_keys())
    }

    pub fn key(&self, c: &Change) -> &[u8] {
        &self.keys[c.key.0 as usize..c.key.1 as usize]
    }
}

/// Opens a command's frame.
#[inline]
pub fn begin() {
    with(|r| {
        if r.frames.is_empty() {
            if let Some(s) = &r.stream {
                if s.active() {
                    r.unit.open();
                    PROPAGATING.with(|p| p.set(true));
                }
            }
        }
        let f = Frame {
            changes: r.changes.len(),
            keys: r.keys.len(),
            dirty: r.dirty,
            explicit: false,
            force: false,
        };
        r.frames.push(f);
    });
}

/// What a finished frame recorded, for dispatch's consumers.
pub struct Drained<'r> {
    pub changes: &'r [Change],
    rec: &'r Record,
    /// Changes for the dirty counter.
    pub dirty: u64,
}

impl Drained<'_> {
    pub fn key(&self, c: &Change) -> &[u8] {
        self.rec.key(c)
    }
}

/// Closes the current frame: `f` sees what it recorded, then the record
/// forgets it (a nested command's changes are consumed by its own frame,
/// not again by its caller's). `verbatim` appends the command's own
/// arguments to the unit; it is called when the command changed something
/// and propagated no effect of its own. When the outermost frame closes,
/// its unit goes to the stream. Returns `f`'s result.
pub fn end<R>(
    verbatim: Option<&dyn Fn(&mut stream::Unit)>,
    f: impl FnOnce(&Drained<'_>) -> R,
) -> R {
    with(|r| {
        let fr = r.frames.pop().expect("effects frame");
        let changes = r.changes.len() - fr.changes;
        let counted = r.changes[fr.changes..]
            .iter()
            .filter(|c| c.class & NOT_DIRTY == 0)
            .count() as u64;
        let dirty = counted + (r.dirty - fr.dirty);
        let own = (dirty > 0 || fr.force) && !fr.explicit;
        if own && r.propagating() {
            if let Some(build) = verbatim {
                build(&mut r.unit);
            }
        }
        let out = {
            let d = Drained {
                changes: &r.changes[fr.changes..fr.changes + changes],
                rec: r,
                dirty,
            };
            f(&d)
        };
        r.changes.truncate(fr.changes);
        r.keys.truncate(fr.keys);
        r.dirty = fr.dirty;
        if r.frames.is_empty() {
            // A huge command (DEL of 100k keys while someone watches)
            // leaves big buffers: give them back rather than keep them.
            if r.keys.capacity() > SHRINK_ABOVE {
                r.keys = Vec::new();
            }
            if r.changes.capacity() > SHRINK_ABOVE / 16 {
                r.changes = Vec::new();
            }
            r.dirty = 0;
            if r.unit.on {
                // Split borrows: no Arc clone (a shared counter) per command.
                let Record { unit, stream, .. } = &mut *r;
                if let Some(s) = stream {
                    unit.close(s);
                }
                PROPAGATING.with(|p| p.set(false));
            }
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_see_their_own_changes() {
        begin();
        change(0, GENERIC, "del", b"a");
        begin();
        change(1, GENERIC, "set", b"b");
        let n = end(None, |d| {
            assert_eq!(d.key(&d.changes[0]), b"b");
            d.changes.len()
        });
        assert_eq!(n, 1);
        let (n, dirty) = end(None, |d| (d.changes.len(), d.dirty));
        assert_eq!((n, dirty), (1, 1));
    }

    #[test]
    fn a_nested_frame_gives_its_keys_back() {
        begin();
        for i in 0..1000u32 {
            begin();
            change(0, GENERIC, "set", &i.to_be_bytes());
            end(None, |d| assert_eq!(d.changes.len(), 1));
        }
        assert_eq!(with(|r| r.keys.len()), 0, "a long script keeps no keys");
        let dirty = end(None, |d| d.dirty);
        assert_eq!(dirty, 0, "the nested frames counted their own changes");
    }

    #[test]
    fn key_misses_and_creations_are_not_dirty() {
        RECORD_NEW.store(true, Relaxed);
        begin();
        change(0, KEY_MISS, "keymiss", b"a");
        created(0, b"b");
        change(0, GENERIC, "set", b"b");
        uncreated(b"b");
        let (n, dirty) = end(None, |d| (d.changes.len(), d.dirty));
        assert_eq!((n, dirty), (2, 1));
    }
}
