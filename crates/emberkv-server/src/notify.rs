//! Keyspace notifications (`notify-keyspace-events`): a command that
//! changes a key publishes `__keyspace@<db>__:<key>` (message: the event)
//! and `__keyevent@<db>__:<event>` (message: the key), as enabled by the
//! flag letters. Costs one atomic load when notifications are off.

use crate::server::Server;
use std::sync::atomic::Ordering::Relaxed;

pub use crate::effects::class::*;

const LETTERS: &[(u8, u32)] = &[
    (b'g', GENERIC),
    (b'$', STRING),
    (b'l', LIST),
    (b's', SET),
    (b'h', HASH),
    (b'z', ZSET),
    (b'x', EXPIRED),
    (b'e', EVICTED),
    (b't', STREAM),
    (b'd', MODULE),
];

/// Parses the flag letters; None on an unknown letter.
pub fn parse_flags(s: &str) -> Option<u32> {
    let mut f = 0;
    for c in s.bytes() {
        f |= match c {
            b'A' => ALL,
            b'K' => KEYSPACE,
            b'E' => KEYEVENT,
            b'm' => KEY_MISS,
            b'n' => NEW,
            _ => LETTERS.iter().find(|l| l.0 == c)?.1,
        };
    }
    Some(f)
}

/// The flags as CONFIG GET prints them (Redis's order).
pub fn flags_string(f: u32) -> String {
    let mut s = String::new();
    if f & ALL == ALL {
        s.push('A');
    } else {
        for &(c, bit) in LETTERS {
            if f & bit != 0 {
                s.push(c as char);
            }
        }
    }
    for (c, bit) in [
        ('n', NEW),
        ('K', KEYSPACE),
        ('E', KEYEVENT),
        ('m', KEY_MISS),
    ] {
        if f & bit != 0 {
            s.push(c);
        }
    }
    s
}

/// Records that `key` of `db` changed, with its event: the write funnel
/// (effects/) carries it to the watchers, the blocked clients, the
/// subscribers of notifications and the propagation stream.
#[inline]
pub fn notify(class: u32, event: &'static str, key: &[u8], db: usize) {
    crate::effects::change(db, class, event, key);
}

pub fn publish(srv: &Server, event: &str, key: &[u8], db: usize, now: i64) {
    let f = srv.notify_flags.load(Relaxed);
    let mut ch = Vec::with_capacity(24 + key.len().max(event.len()));
    if f & KEYSPACE != 0 {
        prefix(&mut ch, b"__keyspace@", db);
        ch.extend_from_slice(key);
        srv.pubsub.publish(srv, &ch, event.as_bytes(), false, now);
    }
    if f & KEYEVENT != 0 {
        ch.clear();
        prefix(&mut ch, b"__keyevent@", db);
        ch.extend_from_slice(event.as_bytes());
        srv.pubsub.publish(srv, &ch, key, false, now);
    }
}

fn prefix(ch: &mut Vec<u8>, kind: &[u8], db: usize) {
    ch.extend_from_slice(kind);
    ch.extend_from_slice(itoa::Buffer::new().format(db).as_bytes());
    ch.extend_from_slice(b"__:");
}

/// After a pop from the collection at `key`: the pop's event, then "del"
/// if the pop emptied (and so deleted) the key.
pub fn popped(
    class: u32,
    event: &'static str,
    key: &[u8],
    db: usize,
    t: &crate::store::Table,
    h: u64,
    n: u64,
) {
    // Counted by the elements popped, as Redis; the `del` of an emptied
    // key is a second event of the same change.
    if n == 0 {
        notify(class | UNCOUNTED, event, key, db);
    } else {
        notify(class, event, key, db);
        if n > 1 {
            crate::effects::dirty(n - 1);
        }
    }
    if t.find(h, key).is_none() {
        notify(GENERIC | SECOND, "del", key, db);
    }
}

/// The event of a list pop or push at one end.
pub fn list_event(front: bool, push: bool) -> &'static str {
    match (front, push) {
        (true, false) => "lpop",
        (false, false) => "rpop",
        (true, true) => "lpush",
        (false, true) => "rpush",
    }
}
