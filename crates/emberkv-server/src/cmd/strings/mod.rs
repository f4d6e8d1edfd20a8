//! String commands: argument parsing and replies. The data operations are
//! in the core's `ops::strings`; SET's family (its options, SETNX, SETEX,
//! GETSET, GETEX) is in `set.rs`, the LCS algorithm in `lcs.rs`.

mod lcs;
mod set;
use emberkv_core::ops::strings as ops;
use set::{getex, getset, psetex, set, setex, setnx};

use super::keys::read_entry;
use super::{flags::*, Args, Command, Ctx, Group, OpError};
use crate::errors;
use crate::notify;
use crate::store::entry::T_STRING;
use crate::store::Table;
pub(crate) use emberkv_core::ops::strings::{write_string, Expire};
pub(crate) use emberkv_core::ops::At;
use std::sync::atomic::Ordering::Relaxed;

/// Reads a string value: Ok(None) if missing, Err(()) if another type.
fn get_str<'t>(
    ctx: &mut Ctx<'_>,
    t: &'t mut Table,
    h: u64,
    key: &[u8],
) -> Result<Option<&'t [u8]>, ()> {
    match read_entry(ctx, t, h, key) {
        None => Ok(None),
        Some(e) if e.kind() != T_STRING => Err(()),
        Some(e) => Ok(Some(e.str_value())),
    }
}

/// GET key
fn get(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let key = args.get(1);
    let h = ctx.srv.store.hash(key);
    let mut shard = ctx.srv.store.lock(h);
    match get_str(ctx, &mut shard.dbs[ctx.client.db], h, key) {
        Ok(Some(v)) => ctx.out.bulk(v),
        Ok(None) => ctx.out.null(),
        Err(_) => ctx.wrongtype(),
    }
}

/// GETDEL key
fn getdel(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let key = args.get(1);
    let h = ctx.srv.store.hash(key);
    let mut shard = ctx.srv.store.lock(h);
    let t = &mut shard.dbs[ctx.client.db];
    match get_str(ctx, t, h, key) {
        Ok(Some(v)) => {
            ctx.out.bulk(v);
            if let Some(e) = t.remove(h, key) {
                e.free();
            }
            drop(shard);
            ctx.notify(notify::GENERIC, "del", key);
            crate::effects::propagate(ctx.client.db, &[b"DEL", key]);
        }
        Ok(None) => ctx.out.null(),
        Err(_) => ctx.wrongtype(),
    }
}

/// MGET key [key ...]
fn mget(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let store = &ctx.srv.store;
    let n = args.len() - 1;
    let hashes = super::key_hashes(store, args, 1, 1);
    let mut locked = store.lock_many(hashes.iter().copied());
    ctx.out.array(n);
    for (i, &h) in hashes.iter().enumerate() {
        let t = locked.table(h, ctx.client.db);
        match get_str(ctx, t, h, args.get(i + 1)) {
            Ok(Some(v)) => ctx.out.bulk(v),
            _ => ctx.out.null(),
        }
    }
}

/// MSET key value [key value ...] / MSETNX
fn mset_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, nx: bool) {
    if args.len().is_multiple_of(2) {
        ctx.err(&errors::wrong_args(&ctx.cmd.full_name));
        return;
    }
    let store = &ctx.srv.store;
    let hashes = super::key_hashes(store, args, 1, 2);
    let mut locked = store.lock_many(hashes.iter().copied());
    let db = ctx.client.db;
    if nx {
        for (k, &h) in hashes.iter().enumerate() {
            if locked
                .table(h, db)
                .lookup(h, args.get(1 + 2 * k), ctx.now_ms)
                .is_some()
            {
                ctx.out.int(0);
                return;
            }
        }
    }
    let lru = ctx.lru_clock();
    for (k, &h) in hashes.iter().enumerate() {
        let key = args.get(1 + 2 * k);
        let at = At {
            h,
            key,
            now: ctx.now_ms,
            lru,
        };
        write_string(
            locked.table(h, db),
            at,
            args.get(2 + 2 * k),
            Expire::None,
            0,
        );
        // Per key, as Redis: "new" (if enabled) then "set" for each.
        ctx.notify(notify::STRING, "set", key);
    }
    drop(locked);
    if nx {
        ctx.out.int(1);
    } else {
        ctx.out.ok();
    }
}

fn mset(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    mset_generic(ctx, args, false)
}

fn msetnx(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    mset_generic(ctx, args, true)
}

/// Locks the shard of `key` and runs a data operation on its table.
fn on_key<T>(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    op: impl FnOnce(&mut Table, At<'_>) -> Result<T, OpError>,
) -> Result<T, OpError> {
    let h = ctx.srv.store.hash(key);
    let at = At {
        h,
        key,
        now: ctx.now_ms,
        lru: ctx.lru_clock(),
    };
    let mut shard = ctx.srv.store.lock(h);
    op(&mut shard.dbs[ctx.client.db], at)
}

/// APPEND key value
fn append(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let max = ctx.srv.max_bulk_len.load(Relaxed) as usize;
    match on_key(ctx, args.get(1), |t, at| {
        ops::append(t, at, args.get(2), max)
    }) {
        Ok(n) => {
            ctx.out.int(n as i64);
            ctx.notify(notify::STRING, "append", args.get(1));
        }
        Err(e) => ctx.op_err(e),
    }
}

/// STRLEN key
fn strlen(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let key = args.get(1);
    let h = ctx.srv.store.hash(key);
    let mut shard = ctx.srv.store.lock(h);
    match get_str(ctx, &mut shard.dbs[ctx.client.db], h, key) {
        Ok(v) => ctx.out.int(v.map_or(0, |v| v.len()) as i64),
        Err(_) => ctx.wrongtype(),
    }
}

/// GETRANGE key start end (and its old name SUBSTR)
fn getrange(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Some(start) = ctx.int_arg(args.get(2)) else {
        return;
    };
    let Some(end) = ctx.int_arg(args.get(3)) else {
        return;
    };
    let key = args.get(1);
    let h = ctx.srv.store.hash(key);
    let mut shard = ctx.srv.store.lock(h);
    let v = match get_str(ctx, &mut shard.dbs[ctx.client.db], h, key) {
        Ok(Some(v)) => v,
        Ok(None) => return ctx.out.bulk(b""),
        Err(_) => return ctx.wrongtype(),
    };
    match clamp_range(start, end, v.len()) {
        Some((s, e)) => ctx.out.bulk(&v[s..=e]),
        None => ctx.out.bulk(b""),
    }
}

/// Redis's GETRANGE index rules; None for an empty result.
fn clamp_range(mut start: i64, mut end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    if start < 0 && end < 0 && start > end {
        return None;
    }
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        return None;
    }
    Some((start as usize, end as usize))
}

/// SETRANGE key offset value
fn setrange(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Some(offset) = ctx.int_arg(args.get(2)) else {
        return;
    };
    if offset < 0 {
        return ctx.err(errors::OFFSET_OUT_OF_RANGE);
    }
    let max = ctx.srv.max_bulk_len.load(Relaxed);
    let r = on_key(ctx, args.get(1), |t, at| {
        ops::setrange(t, at, offset as usize, args.get(3), max)
    });
    match r {
        Ok(n) => {
            ctx.out.int(n as i64);
            if !args.get(3).is_empty() {
                ctx.notify(notify::STRING, "setrange", args.get(1));
            }
        }
        Err(e) => ctx.op_err(e),
    }
}

/// INCR / DECR / INCRBY / DECRBY
fn incr_generic(ctx: &mut Ctx<'_>, key: &[u8], delta: i64) {
    match on_key(ctx, key, |t, at| ops::incr_by(t, at, delta)) {
        Ok(n) => {
            ctx.out.int(n);
            ctx.notify(notify::STRING, "incrby", key);
        }
        Err(e) => ctx.op_err(e),
    }
}

fn incr(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    incr_generic(ctx, args.get(1), 1)
}

fn decr(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    incr_generic(ctx, args.get(1), -1)
}

fn incrby(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    if let Some(d) = ctx.int_arg(args.get(2)) {
        incr_generic(ctx, args.get(1), d)
    }
}

fn decrby(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Some(d) = ctx.int_arg(args.get(2)) else {
        return;
    };
    if d == i64::MIN {
        return ctx.err(errors::DECR_OVERFLOW);
    }
    incr_generic(ctx, args.get(1), -d)
}

/// INCRBYFLOAT key increment (long double arithmetic, as Redis)
/// (the increment is read after the key's type, as in Redis).
fn incrbyfloat(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let incr = args.get(2);
    match on_key(ctx, args.get(1), |t, at| ops::incr_by_float(t, at, incr)) {
        Ok(s) => {
            ctx.out.bulk(s.as_bytes());
            ctx.notify(notify::STRING, "incrbyfloat", args.get(1));
            // The result, not the increment, so replicas round alike.
            crate::effects::propagate(
                ctx.client.db,
                &[b"SET", args.get(1), s.as_bytes(), b"KEEPTTL"],
            );
        }
        Err(e) => ctx.op_err(e),
    }
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]
fn lcs(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    // Redis checks the key types before it reads any option.
    let store = &ctx.srv.store;
    let (ka, kb) = (args.get(1), args.get(2));
    let (ha, hb) = (store.hash(ka), store.hash(kb));
    let mut locked = store.lock_many([ha, hb]);
    let db = ctx.client.db;
    let mut fetch = |h: u64, k: &[u8]| -> Result<Vec<u8>, ()> {
        match locked.table(h, db).lookup(h, k, ctx.now_ms) {
            None => Ok(Vec::new()),
            Some(e) if e.kind() != T_STRING => Err(()),
            Some(e) => Ok(e.str_value().to_vec()),
        }
    };
    let (Ok(a), Ok(b)) = (fetch(ha, ka), fetch(hb, kb)) else {
        return ctx.err(errors::LCS_NOT_STRINGS);
    };
    drop(locked);
    let (mut len_only, mut idx, mut withlen, mut minlen) = (false, false, false, 0i64);
    let mut j = 3;
    while j < args.len() {
        if args.is(j, "len") {
            len_only = true;
        } else if args.is(j, "idx") {
            idx = true;
        } else if args.is(j, "withmatchlen") {
            withlen = true;
        } else if args.is(j, "minmatchlen") && j + 1 < args.len() {
            let Some(v) = ctx.int_arg(args.get(j + 1)) else {
                return;
            };
            minlen = v.max(0);
            j += 1;
        } else {
            return ctx.syntax();
        }
        j += 1;
    }
    if len_only && idx {
        return ctx.err(errors::LCS_LEN_AND_IDX);
    }
    if lcs::table_bytes(&a, &b) > ctx.srv.max_bulk_len.load(Relaxed) {
        return ctx.err(errors::LCS_TOO_BIG);
    }
    let r = lcs::lcs(&a, &b, minlen as usize);
    if len_only {
        return ctx.out.int(r.seq.len() as i64);
    }
    if !idx {
        return ctx.out.bulk(&r.seq);
    }
    ctx.out.map(2);
    ctx.out.bulk(b"matches");
    ctx.out.array(r.matches.len());
    for m in &r.matches {
        ctx.out.array(if withlen { 3 } else { 2 });
        ctx.out.array(2);
        ctx.out.int(m.a.0 as i64);
        ctx.out.int(m.a.1 as i64);
        ctx.out.array(2);
        ctx.out.int(m.b.0 as i64);
        ctx.out.int(m.b.1 as i64);
        if withlen {
            ctx.out.int(m.len as i64);
        }
    }
    ctx.out.bulk(b"len");
    ctx.out.int(r.seq.len() as i64);
}

const S: Group = Group::String;

pub static COMMANDS: &[Command] = &[
    Command::new("get", 2, READONLY | FAST, get)
        .keys(1, 1, 1)
        .doc(S, "1.0.0", "O(1)", "Returns the string value of a key."),
    Command::new("set", -3, WRITE | DENYOOM, set)
        .keys(1, 1, 1)
        .doc(
            S,
            "1.0.0",
            "O(1)",
            "Sets the string value of a key, with options for conditions and expiry.",
        ),
    Command::new("setnx", 3, WRITE | DENYOOM | FAST, setnx)
        .keys(1, 1, 1)
        .doc(S, "1.0.0", "O(1)", "Sets a key only if it does not exist."),
    Command::new("setex", 4, WRITE | DENYOOM, setex)
        .keys(1, 1, 1)
        .doc(
            S,
            "2.0.0",
            "O(1)",
            "Sets a key with a time to live in seconds.",
        ),
    Command::new("psetex", 4, WRITE | DENYOOM, psetex)
        .keys(1, 1, 1)
        .doc(
            S,
            "2.6.0",
            "O(1)",
            "Sets a key with a time to live in milliseconds.",
        ),
    Command::new("getset", 3, WRITE | DENYOOM | FAST, getset)
        .keys(1, 1, 1)
        .doc(
            S,
            "1.0.0",
            "O(1)",
            "Sets a key and returns its previous value.",
        ),
    Command::new("getdel", 2, WRITE | FAST, getdel)
        .keys(1, 1, 1)
        .doc(
            S,
            "6.2.0",
            "O(1)",
            "Returns a key's value and deletes the key.",
        ),
    Command::new("getex", -2, WRITE | FAST, getex)
        .keys(1, 1, 1)
        .doc(
            S,
            "6.2.0",
            "O(1)",
            "Returns a key's value and changes its expiry.",
        ),
    Command::new("mget", -2, READONLY | FAST, mget)
        .tips(&["request_policy:multi_shard"])
        .keys(1, -1, 1)
        .doc(S, "1.0.0", "O(N)", "Returns the values of several keys."),
    Command::new("mset", -3, WRITE | DENYOOM, mset)
        .tips(&[
            "request_policy:multi_shard",
            "response_policy:all_succeeded",
        ])
        .keys(1, -1, 2)
        .doc(S, "1.0.1", "O(N)", "Sets several keys atomically."),
    Command::new("msetnx", -3, WRITE | DENYOOM, msetnx)
        .tips(&["request_policy:multi_shard", "response_policy:agg_min"])
        .keys(1, -1, 2)
        .doc(
            S,
            "1.0.1",
            "O(N)",
            "Sets several keys atomically only if none of them exists.",
        ),
    Command::new("append", 3, WRITE | DENYOOM | FAST, append)
        .keys(1, 1, 1)
        .doc(
            S,
            "2.0.0",
            "O(1)",
            "Appends to a string value, creating the key if needed.",
        ),
    Command::new("strlen", 2, READONLY | FAST, strlen)
        .keys(1, 1, 1)
        .doc(S, "2.2.0", "O(1)", "Returns the length of a string value."),
    Command::new("getrange", 4, READONLY, getrange)
        .keys(1, 1, 1)
        .doc(S, "2.4.0", "O(N)", "Returns a substring of a string value."),
    Command::new("substr", 4, READONLY, getrange)
        .keys(1, 1, 1)
        .doc(
            S,
            "1.0.0",
            "O(N)",
            "Returns a substring of a string value (old name of GETRANGE).",
        ),
    Command::new("setrange", 4, WRITE | DENYOOM, setrange)
        .keys(1, 1, 1)
        .doc(
            S,
            "2.2.0",
            "O(1)",
            "Overwrites part of a string value at an offset.",
        ),
    Command::new("incr", 2, WRITE | DENYOOM | FAST, incr)
        .keys(1, 1, 1)
        .doc(S, "1.0.0", "O(1)", "Increments an integer value by one."),
    Command::new("decr", 2, WRITE | DENYOOM | FAST, decr)
        .keys(1, 1, 1)
        .doc(S, "1.0.0", "O(1)", "Decrements an integer value by one."),
    Command::new("incrby", 3, WRITE | DENYOOM | FAST, incrby)
        .keys(1, 1, 1)
        .doc(
            S,
            "1.0.0",
            "O(1)",
            "Increments an integer value by a number.",
        ),
    Command::new("decrby", 3, WRITE | DENYOOM | FAST, decrby)
        .keys(1, 1, 1)
        .doc(
            S,
            "1.0.0",
            "O(1)",
            "Decrements an integer value by a number.",
        ),
    Command::new("incrbyfloat", 3, WRITE | DENYOOM | FAST, incrbyfloat)
        .keys(1, 1, 1)
        .doc(
            S,
            "2.6.0",
            "O(1)",
            "Increments a floating point value by a number.",
        ),
    Command::new("lcs", -3, READONLY, lcs).keys(1, 2, 1).doc(
        S,
        "7.0.0",
        "O(N*M)",
        "Finds the longest common subsequence of two strings.",
    ),
];

#[cfg(test)]
mod tests {
    use super::clamp_range;

    #[test]
    fn getrange_indexes() {
        assert_eq!(clamp_range(0, -1, 5), Some((0, 4)));
        assert_eq!(clamp_range(-3, -1, 5), Some((2, 4)));
        assert_eq!(clamp_range(3, 100, 5), Some((3, 4)));
        assert_eq!(clamp_range(-1, -5, 5), None);
        assert_eq!(clamp_range(0, 0, 0), None);
    }
}
