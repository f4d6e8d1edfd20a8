//! Whole-database commands: KEYS, SCAN, RANDOMKEY, DBSIZE, SWAPDB, FLUSHDB,
//! FLUSHALL.

use super::coll;
use super::keys::type_name;
use super::{acl, flags::*, Args, Command, Ctx, Group};
use crate::errors;
use crate::store::glob::glob_match;
use crate::store::table::CURSOR_BITS;
use crate::store::Table;

/// KEYS pattern
fn keys(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let pat = args.get(1);
    let all = pat == b"*";
    let now = ctx.now_ms;
    let db = ctx.client.db;
    let mut found: Vec<Vec<u8>> = Vec::new();
    let mut locked = ctx.srv.store.lock_all();
    for shard in locked.shards() {
        shard.dbs[db].for_each(|e| {
            if matches!(e.expire_at(), Some(t) if t <= now) {
                return;
            }
            let k = e.key();
            if all || glob_match(pat, k, false) {
                found.push(k.to_vec());
            }
        });
    }
    drop(locked);
    ctx.out.array(found.len());
    for k in &found {
        ctx.out.bulk(k);
    }
}

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
///
/// The cursor packs the shard index above the table's own cursor; each
/// shard is scanned with the table's Redis-style cursor, so the SCAN
/// guarantees hold across table growth.
fn scan(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Some(cursor) = coll::scan_cursor(ctx, args, 1) else {
        return;
    };
    let opts = match coll::scan_opts(args, 2, cursor, true) {
        Ok(o) => o,
        Err(e) => return ctx.err(e),
    };
    let (pat, count, typ) = (opts.pattern, opts.count, opts.typ);
    let store = &ctx.srv.store;
    let nshards = store.nshards() as u64;
    let mut shard = cursor >> CURSOR_BITS;
    let mut local = cursor & ((1u64 << CURSOR_BITS) - 1);
    let now = ctx.now_ms;
    let db = ctx.client.db;
    let mut keys: Vec<Vec<u8>> = Vec::new();
    let mut budget = count.saturating_mul(10);
    while shard < nshards && keys.len() < count && budget > 0 {
        let g = store.lock_index(shard as usize);
        let t: &Table = &g.dbs[db];
        loop {
            local = t.scan_step(local, |e| {
                if matches!(e.expire_at(), Some(x) if x <= now) {
                    return;
                }
                if let Some(want) = typ {
                    if !want.eq_ignore_ascii_case(type_name(e.kind()).as_bytes()) {
                        return;
                    }
                }
                let k = e.key();
                if pat.is_none_or(|p| glob_match(p, k, false)) {
                    keys.push(k.to_vec());
                }
            });
            budget -= 1;
            if local == 0 || keys.len() >= count || budget == 0 {
                break;
            }
        }
        drop(g);
        if local == 0 {
            shard += 1;
        }
    }
    let next = if shard >= nshards {
        0
    } else {
        shard << CURSOR_BITS | local
    };
    ctx.out.array(2);
    let mut b = itoa::Buffer::new();
    ctx.out.bulk(b.format(next).as_bytes());
    ctx.out.array(keys.len());
    for k in &keys {
        ctx.out.bulk(k);
    }
}

/// RANDOMKEY
fn randomkey(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    let store = &ctx.srv.store;
    let db = ctx.client.db;
    // Up to a bounded number of tries, like Redis, in case most keys are
    // logically expired but not yet collected.
    for _ in 0..100 {
        let sizes: Vec<usize> = (0..store.nshards())
            .map(|i| store.lock_index(i).dbs[db].len())
            .collect();
        let total: usize = sizes.iter().sum();
        if total == 0 {
            break;
        }
        let mut r = fastrand::usize(..total);
        let si = sizes
            .iter()
            .position(|&n| {
                if r < n {
                    true
                } else {
                    r -= n;
                    false
                }
            })
            .unwrap_or(0);
        let mut g = store.lock_index(si);
        let t = &mut g.dbs[db];
        let Some(e) = t.random() else { continue };
        let key = e.key().to_vec();
        if matches!(e.expire_at(), Some(x) if x <= ctx.now_ms) {
            let h = store.hash(&key);
            t.delete(h, &key);
            t.expired += 1;
            continue;
        }
        return ctx.out.bulk(&key);
    }
    ctx.out.null();
}

/// DBSIZE
fn dbsize(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    let db = ctx.client.db;
    let mut locked = ctx.srv.store.lock_all();
    let n: usize = locked.shards().map(|s| s.dbs[db].len()).sum();
    ctx.out.int(n as i64);
}

/// SWAPDB index1 index2
fn swapdb(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    // Redis reads both as C ints (out of int range: "invalid ... DB
    // index"), then refuses any index it has no database for.
    let parse = |a: &[u8]| crate::util::parse_i64(a).and_then(|v| i32::try_from(v).ok());
    let Some(a) = parse(args.get(1)) else {
        return ctx.err(errors::INVALID_FIRST_DB);
    };
    let Some(b) = parse(args.get(2)) else {
        return ctx.err(errors::INVALID_SECOND_DB);
    };
    let n = ctx.srv.store.ndbs as i64;
    let (a, b) = (a as i64, b as i64);
    if a < 0 || b < 0 || a >= n || b >= n {
        return ctx.err(errors::DB_RANGE);
    }
    if a != b {
        let (a, b) = (a as usize, b as usize);
        ctx.srv
            .watches
            .touch_dbs(ctx.srv, &[(a, b), (b, a)], ctx.now_ms);
        let mut locked = ctx.srv.store.lock_all();
        for shard in locked.shards() {
            shard.dbs.swap(a, b);
            shard.dbs[a].set_db(a);
            shard.dbs[b].set_db(b);
        }
        drop(locked);
        // Clients blocked in either database may now find their keys.
        for db in [a, b] {
            crate::blocking::signal_db_later(db);
        }
    }
    // Propagated even when both databases are empty, as Redis does.
    crate::effects::dirty(1);
    crate::effects::force();
    ctx.out.ok();
}

/// Parses FLUSHDB/FLUSHALL's optional ASYNC|SYNC; Some(async).
fn flush_mode(ctx: &mut Ctx<'_>, args: &Args<'_>) -> Option<bool> {
    match args.len() {
        // lazyfree-lazy-user-flush makes a plain FLUSHALL/FLUSHDB ASYNC.
        1 => Some(
            ctx.srv
                .lazy_user_flush
                .load(std::sync::atomic::Ordering::Relaxed),
        ),
        2 if args.is(1, "async") => Some(true),
        2 if args.is(1, "sync") => Some(false),
        _ => {
            ctx.syntax();
            None
        }
    }
}

/// Empties databases. ASYNC hands the old tables to a background thread,
/// so the client waits only for the swap.
fn flush(ctx: &mut Ctx<'_>, dbs: std::ops::Range<usize>, asynchronous: bool) -> u64 {
    let store = &ctx.srv.store;
    let pairs: Vec<(usize, usize)> = dbs.clone().map(|d| (d, d)).collect();
    ctx.srv.watches.touch_dbs(ctx.srv, &pairs, ctx.now_ms);
    let mut old: Vec<Table> = Vec::new();
    let mut removed = 0u64;
    {
        let mut locked = store.lock_all();
        for shard in locked.shards() {
            for db in dbs.clone() {
                let expired = shard.dbs[db].expired;
                let mut fresh = Table::new_keyspace(store.hasher, db);
                fresh.expired = expired;
                let t = std::mem::replace(&mut shard.dbs[db], fresh);
                removed += t.len() as u64;
                // A snapshot still writing this table takes it (and frees
                // it when done).
                if let Some(t) = t.snap_release() {
                    old.push(t);
                }
            }
        }
    }
    // Clients blocked with XREADGROUP on a stream that is gone are
    // answered -UNBLOCKED now, as Redis does on a flush; others wait on.
    for db in dbs {
        crate::blocking::signal_db_later(db);
    }
    let had_data = removed > 0;
    // Redis counts the keys removed, and propagates the flush even of an
    // empty database.
    crate::effects::dirty(removed);
    crate::effects::force();
    if asynchronous && had_data {
        crate::lazyfree::defer(Box::new(old));
        crate::lazyfree::purge_later();
    } else {
        drop(old);
        // As Redis after a synchronous flush: give the pages back before
        // replying (the flush itself already took time in proportion).
        if had_data {
            crate::lazyfree::purge_now();
        }
    }
    ctx.out.ok();
    removed
}

/// FLUSHDB [ASYNC|SYNC]
fn flushdb(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    if let Some(a) = flush_mode(ctx, args) {
        let db = ctx.client.db;
        flush(ctx, db..db + 1, a);
    }
}

/// FLUSHALL [ASYNC|SYNC]
fn flushall(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    if let Some(a) = flush_mode(ctx, args) {
        let n = ctx.srv.store.ndbs;
        // As Redis kills its saving child: the snapshot of what is being
        // flushed is abandoned, and with save points the empty dataset is
        // saved at once.
        crate::persist::save::cancel_bgsave(ctx.srv);
        let removed = flush(ctx, 0..n, a);
        // The file just written covers the flush (Redis zeroes its dirty
        // counter there): only FLUSHALL's own +1 stays unsaved.
        if !crate::persist::save_points(ctx.srv).is_empty()
            && crate::persist::save_now(ctx.srv).is_ok()
        {
            crate::persist::save::covered(ctx.srv, removed);
        }
        // FLUSHALL counts one more than the keys it removed, as Redis.
        crate::effects::dirty(1);
    }
}

const G: Group = Group::Generic;
const K: u32 = acl::KEYSPACE;
const S: Group = Group::Server;

pub static COMMANDS: &[Command] = &[
    Command::new("keys", 2, READONLY, keys)
        .tips(&["request_policy:all_shards", "nondeterministic_output_order"])
        .acl(K | acl::DANGEROUS)
        .doc(
            G,
            "1.0.0",
            "O(N)",
            "Returns all key names that match a pattern.",
        ),
    Command::new("scan", -2, READONLY, scan)
        .tips(&["nondeterministic_output", "request_policy:special"])
        .acl(K)
        .doc(
            G,
            "2.8.0",
            "O(1) per call, O(N) for a full iteration",
            "Iterates over the key names in the database.",
        ),
    Command::new("randomkey", 1, READONLY, randomkey)
        .tips(&["request_policy:all_shards", "nondeterministic_output"])
        .acl(K)
        .doc(
            G,
            "1.0.0",
            "O(1)",
            "Returns a random key name from the database.",
        ),
    Command::new("dbsize", 1, READONLY | FAST, dbsize)
        .tips(&["request_policy:all_shards", "response_policy:agg_sum"])
        .acl(K)
        .doc(
            S,
            "1.0.0",
            "O(1)",
            "Returns the number of keys in the database.",
        ),
    Command::new("swapdb", 3, WRITE | FAST, swapdb)
        .acl(K | acl::DANGEROUS)
        .doc(S, "4.0.0", "O(N)", "Swaps two Redis databases."),
    Command::new("flushdb", -1, WRITE, flushdb)
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
        .acl(K | acl::DANGEROUS)
        .doc(
            S,
            "1.0.0",
            "O(N)",
            "Removes all keys from the current database.",
        ),
    Command::new("flushall", -1, WRITE, flushall)
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
        .acl(K | acl::DANGEROUS)
        .doc(S, "1.0.0", "O(N)", "Removes all keys from all databases."),
];
