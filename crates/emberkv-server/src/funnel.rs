//! The consumers of the write funnel (effects/): what the server does with
//! what one command (or one served blocking pop, or one step of active
//! expiry) recorded. Run once per frame, after the handler, with no shard
//! lock held.

use crate::effects::class::{UNSIGNALLED, UNWATCHED};
use crate::effects::{self, stream::Unit, NOTIFY_ONLY};
use crate::notify::{self, KEYEVENT, KEYSPACE};
use crate::server::{Server, WorkerStats};
use std::sync::atomic::Ordering::Relaxed;

/// Keys that changed while clients were blocked: (db, key).
pub type Wake = Vec<(usize, Box<[u8]>)>;

/// Closes the current frame (see `effects::end`) and feeds what it
/// recorded to the dirty counter, the watchers, the subscribers of
/// keyspace notifications; returns the changed keys blocked clients may
/// wait for (empty when nobody is blocked). `verbatim` appends the
/// command's own arguments to the propagation stream when it changed
/// something and propagated no effect of its own.
pub fn close(
    srv: &Server,
    stats: &WorkerStats,
    now: i64,
    verbatim: Option<&dyn Fn(&mut Unit)>,
) -> Wake {
    let blocked = srv.blocking.any();
    let watched = srv.watches.any();
    let flags = srv.notify_flags.load(Relaxed);
    let publish = flags & (KEYSPACE | KEYEVENT) != 0;
    effects::end(verbatim, |d| {
        let mut wake = Wake::new();
        if d.dirty > 0 {
            stats.dirty.add(d.dirty);
        }
        if d.changes.is_empty() || !(blocked || watched || publish) {
            return wake;
        }
        for c in d.changes {
            let key = d.key(c);
            let db = c.db as usize;
            // Redis pairs signalModifiedKey with the notification: a
            // key's watchers are marked by the same record.
            if c.class & (NOTIFY_ONLY | UNWATCHED) == 0 && watched {
                srv.watches.touch(db, std::iter::once(key));
            }
            if publish && flags & c.class != 0 {
                notify::publish(srv, c.event, key, db, now);
            }
            // No de-duplication (a DEL of many keys would make it
            // quadratic): signalling a key twice finds no waiter the second
            // time.
            if c.class & (NOTIFY_ONLY | UNSIGNALLED) == 0 && blocked {
                wake.push((db, key.into()));
            }
        }
        wake
    })
}

/// Serves clients blocked on the keys of `wake`.
pub fn wake(srv: &Server, wake: Wake, now: i64) {
    for (db, key) in wake {
        crate::blocking::signal(srv, db, std::iter::once(&key[..]), now);
    }
}

/// A frame for work outside a command (a served blocking pop, a step of
/// active expiry): opens it, runs `f`, closes it on the current worker's
/// counters. What it wakes is left to the caller's own logic.
pub fn unit<R>(srv: &Server, now: i64, f: impl FnOnce() -> R) -> R {
    effects::begin();
    let r = f();
    let stats = &srv.stats[crate::server::current_worker().min(srv.stats.len() - 1)];
    close(srv, stats, now, None);
    r
}
