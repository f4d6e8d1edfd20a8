//! HyperLogLog commands: PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST.
//! The values and their operations are the core's `ops::hll`; here are
//! the lookups (read lookups count hits and misses, as Redis's), the
//! write-funnel records and the replies.

use super::keys::read_entry;
use super::{flags::*, Args, Command, Ctx, Group};
use crate::errors;
use crate::notify;
use emberkv_core::ops::hll::{self, format, HllError, REGISTERS};
use emberkv_core::ops::At;
use std::sync::atomic::Ordering::Relaxed;

/// A change without a keyspace event: Redis's PFCOUNT signals the key
/// (watchers) and counts it dirty (so it is propagated) when it stores a
/// fresh estimate in the header, but publishes nothing.
const SILENT: u32 = 0;

fn reply_err(ctx: &mut Ctx<'_>, e: HllError) {
    ctx.err(match e {
        HllError::WrongType => errors::WRONGTYPE,
        HllError::NotHll => errors::HLL_WRONGTYPE,
        HllError::Corrupt => errors::HLL_INVALID,
    });
}

fn at<'k>(ctx: &Ctx<'_>, h: u64, key: &'k [u8]) -> At<'k> {
    At {
        h,
        key,
        now: ctx.now_ms,
        lru: ctx.lru_clock(),
    }
}

/// PFADD key [element ...]
fn pfadd(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let key = args.get(1);
    let h = ctx.srv.store.hash(key);
    let a = at(ctx, h, key);
    let mut shard = ctx.srv.store.lock(h);
    let r = hll::pfadd(
        &mut shard.dbs[ctx.client.db],
        a,
        (2..args.len()).map(|i| args.get(i)),
    );
    drop(shard);
    match r {
        Ok(changed) => {
            if changed > 0 {
                ctx.notify_n(notify::STRING, "pfadd", key, changed);
            }
            ctx.out.int((changed > 0) as i64);
        }
        Err(e) => reply_err(ctx, e),
    }
}

/// PFCOUNT key [key ...]
fn pfcount(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    if args.len() > 2 {
        return pfcount_union(ctx, args);
    }
    let key = args.get(1);
    let h = ctx.srv.store.hash(key);
    let mut shard = ctx.srv.store.lock(h);
    let t = &mut shard.dbs[ctx.client.db];
    let Some(e) = read_entry(ctx, t, h, key) else {
        return ctx.out.int(0);
    };
    match hll::pfcount_entry(e) {
        Ok((n, changed)) => {
            if changed {
                ctx.notify(SILENT, "", key);
            }
            // Redis replies with the unsigned estimate as a signed integer.
            ctx.out.int(n as i64);
        }
        Err(e) => reply_err(ctx, e),
    }
}

/// Merges the HyperLogLogs at `args[1..]` (missing keys are empty) into
/// `max`: Ok(whether one was dense). Read lookups, in argument order, so
/// the first bad key gives the error.
fn merge_keys(
    ctx: &mut Ctx<'_>,
    locked: &mut crate::store::Locked<'_>,
    args: &Args<'_>,
    hashes: &[u64],
    max: &mut [u8; REGISTERS],
) -> Result<bool, HllError> {
    let mut dense = false;
    for (i, &h) in hashes.iter().enumerate() {
        let t = locked.table(h, ctx.client.db);
        if let Some(e) = read_entry(ctx, t, h, args.get(i + 1)) {
            dense |= hll::merge_entry(max, e)?;
        }
    }
    Ok(dense)
}

fn pfcount_union(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let store = &ctx.srv.store;
    let hashes = super::key_hashes(store, args, 1, 1);
    let mut locked = store.lock_many(hashes.iter().copied());
    let mut max = [0u8; REGISTERS];
    match merge_keys(ctx, &mut locked, args, &hashes, &mut max) {
        Ok(_) => {
            drop(locked);
            ctx.out.int(hll::count_raw(&max) as i64);
        }
        Err(e) => reply_err(ctx, e),
    }
}

/// PFMERGE destkey [sourcekey ...]: the destination is read as a source
/// too (its registers are kept), then raised to the union.
fn pfmerge(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let store = &ctx.srv.store;
    let hashes = super::key_hashes(store, args, 1, 1);
    let mut locked = store.lock_many(hashes.iter().copied());
    let mut max = [0u8; REGISTERS];
    let dense = match merge_keys(ctx, &mut locked, args, &hashes, &mut max) {
        Ok(d) => d,
        Err(e) => return reply_err(ctx, e),
    };
    let key = args.get(1);
    let a = at(ctx, hashes[0], key);
    let r = hll::pfmerge_store(locked.table(hashes[0], ctx.client.db), a, &max, dense);
    drop(locked);
    match r {
        Ok(()) => {
            // Redis names the event of a merge "pfadd" too.
            ctx.notify(notify::STRING, "pfadd", key);
            ctx.out.ok();
        }
        Err(e) => reply_err(ctx, e),
    }
}

/// PFDEBUG <GETREG|DECODE|ENCODING|TODENSE> key. The key is looked up and
/// checked before the subcommand is (an unknown one on a missing key says
/// the key is missing), as in Redis.
fn pfdebug(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let (sub, key) = (args.get(1), args.get(2));
    // Redis compares the subcommand as a C string.
    let name = &sub[..memchr::memchr(0, sub).unwrap_or(sub.len())];
    let h = ctx.srv.store.hash(key);
    let a = at(ctx, h, key);
    let mut shard = ctx.srv.store.lock(h);
    let t = &mut shard.dbs[ctx.client.db];
    let Some(e) = t.lookup(h, key, ctx.now_ms) else {
        return ctx.err(errors::PFDEBUG_NO_KEY);
    };
    let enc = match hll::check_for_write(e) {
        Ok(enc) => enc,
        Err(e) => return reply_err(ctx, e),
    };
    e.set_lru(a.lru);
    let is = |w: &str| name.eq_ignore_ascii_case(w.as_bytes());
    if is("getreg") || is("todense") {
        if enc == format::SPARSE {
            if let Err(e) = hll::to_dense_at(t, a) {
                return reply_err(ctx, e);
            }
            // Counted dirty (and so propagated), but no event, as Redis.
            crate::effects::dirty(1);
        }
        if is("todense") {
            return ctx.out.int((enc == format::SPARSE) as i64);
        }
        let e = t.lookup(h, key, ctx.now_ms).expect("just converted");
        let regs = hll::registers(e.str_value());
        ctx.out.array(REGISTERS);
        for &r in regs.iter() {
            ctx.out.int(r as i64);
        }
    } else if is("decode") {
        if enc != format::SPARSE {
            return ctx.err(errors::PFDEBUG_NOT_SPARSE);
        }
        let text = hll::sparse::decode(e.str_value());
        ctx.out.bulk(text.as_bytes());
    } else if is("encoding") {
        ctx.out.simple(if enc == format::DENSE {
            "dense"
        } else {
            "sparse"
        });
    } else {
        ctx.out.error_bytes(&errors::pfdebug_unknown(name));
    }
}

/// PFSELFTEST
fn pfselftest(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    match hll::selftest::run(hll::SPARSE_MAX_BYTES.load(Relaxed)) {
        Ok(()) => ctx.out.ok(),
        Err(f) => ctx.err(&errors::pfselftest_failed(f)),
    }
}

const G: Group = Group::HyperLogLog;

pub static COMMANDS: &[Command] = &[
    Command::new("pfadd", -2, WRITE | DENYOOM | FAST, pfadd)
        .keys(1, 1, 1)
        .doc(
            G,
            "2.8.9",
            "O(1) to add every element.",
            "Adds the specified elements to the specified HyperLogLog.",
        ),
    Command::new("pfcount", -2, READONLY, pfcount)
        .keys(1, -1, 1)
        .doc(
            G,
            "2.8.9",
            "O(1) with a very small average constant time when called with a single key. O(N) with N being the number of keys, and much bigger constant times, when called with multiple keys.",
            "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).",
        ),
    Command::new("pfmerge", -2, WRITE | DENYOOM, pfmerge)
        .keys(1, -1, 1)
        .doc(
            G,
            "2.8.9",
            "O(N) to merge N HyperLogLogs, but with high constant times.",
            "Merge N different HyperLogLogs into a single one.",
        ),
    Command::new("pfdebug", 3, WRITE | DENYOOM | ADMIN, pfdebug)
        .keys(2, 2, 1)
        .doc(
            G,
            "2.8.9",
            "N/A",
            "Internal commands for debugging HyperLogLog values",
        ),
    Command::new("pfselftest", 1, ADMIN, pfselftest).doc(
        G,
        "2.8.9",
        "N/A",
        "An internal command for testing HyperLogLog values",
    ),
];
