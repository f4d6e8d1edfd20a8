//! SAVE, BGSAVE, LASTSAVE (the server's snapshots, persist/) and DUMP /
//! RESTORE (one value as an RDB payload, emberkv-persist's value codec).

use super::flags::*;
use super::{acl, Args, Command, Ctx, Group};
use crate::errors;
use crate::persist::{self, BgsaveError};
use emberkv_persist::value::{dump, into_entry, undump, Refused};

/// SAVE
fn save(ctx: &mut Ctx<'_>, _: &Args<'_>) {
    if ctx.srv.persist.bgsave_in_progress() {
        return ctx.err(errors::BGSAVE_IN_PROGRESS);
    }
    match persist::save_now(ctx.srv) {
        Ok(()) => ctx.out.ok(),
        Err(_) => ctx.err("ERR"),
    }
}

/// BGSAVE [SCHEDULE]
fn bgsave(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let mut schedule = false;
    if args.len() > 1 {
        if args.len() == 2 && args.is(1, "schedule") {
            schedule = true;
        } else {
            return ctx.syntax();
        }
    }
    if ctx.srv.persist.bgsave_in_progress() {
        // Redis schedules only behind another kind of child (an AOF
        // rewrite); behind a BGSAVE, SCHEDULE is refused too.
        return ctx.err(errors::BGSAVE_IN_PROGRESS);
    }
    // Inside EXEC or a script, Redis defers the save to after it.
    if ctx.client.nested {
        if schedule {
            persist::save::schedule(ctx.srv);
            return ctx.out.simple("Background saving scheduled");
        }
        return ctx.err(errors::BGSAVE_CHILD_ACTIVE);
    }
    match persist::bgsave(ctx.srv) {
        Ok(()) => ctx.out.simple("Background saving started"),
        Err(BgsaveError::InProgress) => ctx.err(errors::BGSAVE_IN_PROGRESS),
    }
}

/// LASTSAVE
fn lastsave(ctx: &mut Ctx<'_>, _: &Args<'_>) {
    let t = ctx.srv.persist.lastsave();
    ctx.out.int(t);
}

/// DUMP key
fn dump_cmd(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let key = args.get(1);
    let compress = ctx.srv.config.read().yes("rdbcompression");
    let h = ctx.srv.store.hash(key);
    let mut shard = ctx.srv.store.lock(h);
    let t = &mut shard.dbs[ctx.client.db];
    let Some(e) = t.lookup(h, key, ctx.now_ms) else {
        drop(shard);
        return ctx.out.null();
    };
    let p = dump(e, compress);
    drop(shard);
    ctx.out.bulk(&p);
}

/// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds]
/// [FREQ frequency]: checks in Redis's order (options, then the key's
/// presence, the TTL, the payload's trailer, the value).
fn restore(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let (mut replace, mut absttl) = (false, false);
    let (mut idle, mut freq) = (-1i64, -1i64);
    let mut j = 4;
    while j < args.len() {
        let more = args.len() - j - 1;
        if args.is(j, "replace") {
            replace = true;
        } else if args.is(j, "absttl") {
            absttl = true;
        } else if args.is(j, "idletime") && more >= 1 && freq == -1 {
            let Some(v) = crate::util::parse_i64(args.get(j + 1)) else {
                return ctx.err(errors::NOT_INT);
            };
            if v < 0 {
                return ctx.err("ERR Invalid IDLETIME value, must be >= 0");
            }
            idle = v;
            j += 1;
        } else if args.is(j, "freq") && more >= 1 && idle == -1 {
            let Some(v) = crate::util::parse_i64(args.get(j + 1)) else {
                return ctx.err(errors::NOT_INT);
            };
            if !(0..=255).contains(&v) {
                return ctx.err("ERR Invalid FREQ value, must be >= 0 and <= 255");
            }
            freq = v;
            j += 1;
        } else {
            return ctx.syntax();
        }
        j += 1;
    }
    let key = args.get(1);
    let db = ctx.client.db;
    let h = ctx.srv.store.hash(key);
    let exists = {
        let mut shard = ctx.srv.store.lock(h);
        shard.dbs[db].lookup(h, key, ctx.now_ms).is_some()
    };
    if !replace && exists {
        return ctx.err(errors::BUSYKEY);
    }
    let Some(mut ttl) = crate::util::parse_i64(args.get(2)) else {
        return ctx.err(errors::NOT_INT);
    };
    if ttl < 0 {
        return ctx.err("ERR Invalid TTL value, must be >= 0");
    }
    let skip = ctx
        .srv
        .persist
        .skip_checksum
        .load(std::sync::atomic::Ordering::Relaxed);
    // The whole value is decoded before the keyspace is touched: a bad
    // payload leaves nothing behind.
    let val = match undump(args.get(3), skip) {
        Ok(v) => v,
        Err(Refused::VersionOrChecksum) => {
            return ctx.err("ERR DUMP payload version or checksum are wrong")
        }
        Err(Refused::BadFormat) => return ctx.err("ERR Bad data format"),
    };
    if ttl > 0 && !absttl {
        ttl = ttl.saturating_add(ctx.now_ms);
    }
    let lru = match idle {
        i if i >= 0 => ctx.lru_clock().wrapping_sub(i.min(0xff_ffff) as u32) & 0xff_ffff,
        _ => ctx.lru_clock(),
    };
    let expire = (ttl > 0).then_some(ttl);
    let mut shard = ctx.srv.store.lock(h);
    let t = &mut shard.dbs[db];
    // Looked at again under the lock the insert holds: another client may
    // have created the key while the payload decoded.
    let present = t.lookup(h, key, ctx.now_ms).is_some();
    if present && !replace {
        drop(shard);
        return ctx.err(errors::BUSYKEY);
    }
    let deleted = present && t.delete(h, key);
    if matches!(expire, Some(at) if at <= ctx.now_ms) {
        // Already expired: only the deletion of the old value remains.
        drop(shard);
        drop(val);
        if deleted {
            ctx.notify(crate::notify::GENERIC, "del", key);
            crate::effects::propagate(db, &[crate::effects::del_verb(), key]);
        }
        return ctx.out.ok();
    }
    t.insert(h, into_entry(key, val, expire, lru));
    drop(shard);
    ctx.notify(crate::notify::GENERIC, "restore", key);
    // Propagated with the absolute deadline, as Redis rewrites it.
    if let Some(at) = expire {
        if !absttl && crate::effects::propagating() {
            let at = itoa::Buffer::new().format(at).to_owned();
            let mut v: Vec<&[u8]> = args.iter().collect();
            v[2] = at.as_bytes();
            v.push(b"ABSTTL");
            crate::effects::propagate(db, &v);
        }
    }
    ctx.out.ok();
}

const G: Group = Group::Generic;
const S: Group = Group::Server;

/// SYNC: a full copy, then the command stream (persist/replica.rs).
fn sync(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    if let Err(e) = crate::persist::replica::start(ctx.srv, ctx.client) {
        ctx.err(&e);
    }
}

pub static COMMANDS: &[Command] = &[
    // Exclusive: the copy's instant and the stream's start coincide with
    // no command running anywhere.
    Command::new(
        "sync",
        1,
        NO_ASYNC_LOADING | ADMIN | NO_MULTI | NOSCRIPT | EXCLUSIVE,
        sync,
    )
    .acl(acl::DANGEROUS)
    .doc(S, "1.0.0", "", "An internal command used in replication."),
    Command::new("save", 1, ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI, save)
        .acl(acl::DANGEROUS)
        .doc(S, "1.0.0", "O(N) where N is the total number of keys in all databases", "Synchronously saves the database(s) to disk."),
    Command::new("bgsave", -1, ADMIN | NOSCRIPT | NO_ASYNC_LOADING, bgsave)
        .acl(acl::DANGEROUS)
        .doc(S, "1.0.0", "O(1)", "Asynchronously saves the database(s) to disk."),
    Command::new("lastsave", 1, LOADING | STALE | FAST, lastsave)
        .acl(acl::ADMIN | acl::DANGEROUS)
        .tips(&["nondeterministic_output"])
        .doc(S, "1.0.0", "O(1)", "Returns the Unix timestamp of the last successful save to disk."),
    Command::new("dump", 2, READONLY, dump_cmd)
        .keys(1, 1, 1)
        .acl(acl::KEYSPACE)
        .tips(&["nondeterministic_output"])
        .doc(G, "2.6.0", "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1).", "Returns a serialized representation of the value stored at a key."),
    Command::new("restore", -4, WRITE | DENYOOM, restore)
        .keys(1, 1, 1)
        .acl(acl::KEYSPACE | acl::DANGEROUS)
        .doc(G, "2.6.0", "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).", "Creates a key from the serialized representation of a value."),
];
