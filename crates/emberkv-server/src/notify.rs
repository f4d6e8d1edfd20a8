//! Keyspace notifications (`notify-keyspace-events`): a command that
//! changes a key publishes `__keyspace@<db>__:<key>` (message: the event)
//! and `__keyevent@<db>__:<event>` (message: the key), as enabled by the
//! flag letters. Costs one atomic load when notifications are off.

use crate::server::Server;
use std::sync::atomic::Ordering::Relaxed;

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
/// 'A': every class but key-miss and new-key.
pub const ALL: u32 =
    GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;

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

/// Whether events of `class` are published at all.
#[inline]
pub fn enabled(srv: &Server, class: u32) -> bool {
    let f = srv.notify_flags.load(Relaxed);
    f & class != 0 && f & (KEYSPACE | KEYEVENT) != 0
}

/// Publishes the `new` events of keys this thread created since the last
/// call (they precede the event of the command that created them).
pub fn flush_new(srv: &Server, db: usize, now: i64) {
    if crate::store::LOG_NEW.load(Relaxed) {
        for k in crate::store::take_new() {
            publish(srv, "new", &k, db, now);
        }
    }
}

/// Publishes one event about `key` in `db`.
pub fn notify(srv: &Server, class: u32, event: &str, key: &[u8], db: usize, now: i64) {
    // A change to a key is notified here, whoever made it (a command, a
    // blocked client served, expiry): its watchers are marked at the same
    // place, as Redis pairs signalModifiedKey with the notification.
    if class != KEY_MISS && srv.watches.any() {
        srv.watches.touch(db, std::iter::once(key));
    }
    let f = srv.notify_flags.load(Relaxed);
    if f & class == 0 || f & (KEYSPACE | KEYEVENT) == 0 {
        return;
    }
    if class != NEW {
        flush_new(srv, db, now);
    }
    publish(srv, event, key, db, now);
}

fn publish(srv: &Server, event: &str, key: &[u8], db: usize, now: i64) {
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
#[allow(clippy::too_many_arguments)]
pub fn popped(
    srv: &Server,
    class: u32,
    event: &str,
    key: &[u8],
    db: usize,
    now: i64,
    t: &mut crate::store::Table,
    h: u64,
) {
    if srv.notify_flags.load(Relaxed) == 0 && !srv.watches.any() {
        return;
    }
    notify(srv, class, event, key, db, now);
    if t.find(h, key).is_none() {
        notify(srv, GENERIC, "del", key, db, now);
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
