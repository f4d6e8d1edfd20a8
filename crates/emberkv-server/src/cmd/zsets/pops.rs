//! Sorted-set pops: ZPOPMIN/ZPOPMAX, ZMPOP, the blocking BZPOPMIN,
//! BZPOPMAX and BZMPOP, and ZRANDMEMBER. The blocking forms share their
//! argument parsing and their wait with the list pops (`lists.rs`,
//! `blocking.rs`); the pop itself is `emberkv_core::ops::zsets::pop_from`,
//! which the blocking registry also calls when it serves a waiting client.

use super::reply_pairs;
use crate::blocking::BlockOp;
use crate::cmd::coll;
use crate::cmd::lists::{keys_then_timeout, parse_mpop_args, run_block_op, timeout_arg};
use crate::cmd::{Args, Ctx};
use crate::errors;
use crate::notify;
use crate::store::entry::T_ZSET;

/// ZPOPMIN/ZPOPMAX key [count]
fn zpop_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, min: bool) {
    if args.len() > 3 {
        return ctx.syntax();
    }
    let count = if args.len() == 3 {
        // One text for "not an integer" and "negative", as Redis's
        // getPositiveLongFromObjectOrReply.
        match crate::util::parse_i64(args.get(2)) {
            Some(c) if c >= 0 => Some(c as usize),
            _ => return ctx.err(errors::NOT_POSITIVE),
        }
    } else {
        None
    };
    let key = args.get(1);
    let srv = ctx.srv;
    let h = srv.store.hash(key);
    let mut shard = srv.store.lock(h);
    let t = &mut shard.dbs[ctx.client.db];
    let r = emberkv_core::ops::zsets::pop_from(
        t,
        h,
        key,
        min,
        count.unwrap_or(1),
        ctx.now_ms,
        ctx.lru_clock(),
    );
    if matches!(&r, Ok(Some(v)) if !v.is_empty()) {
        let ev = if min { "zpopmin" } else { "zpopmax" };
        let n = r
            .as_ref()
            .map_or(0, |v| v.as_ref().map_or(0, |v| v.len() as u64));
        notify::popped(notify::ZSET, ev, key, ctx.client.db, t, h, n);
    }
    match r {
        Err(_) => ctx.wrongtype(),
        Ok(None) => ctx.out.array(0),
        Ok(Some(v)) => match count {
            // Without a count the pair is flat in both protocols.
            None => {
                ctx.out.array(2 * v.len());
                for (m, s) in &v {
                    ctx.out.bulk(m);
                    ctx.out.double(*s);
                }
            }
            Some(_) => reply_pairs(ctx, &v, true),
        },
    }
}

pub(super) fn zpopmin(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    zpop_generic(ctx, args, true)
}
pub(super) fn zpopmax(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    zpop_generic(ctx, args, false)
}

/// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]
pub(super) fn zmpop(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Some((keys, min, count)) = parse_mpop_args(ctx, args, 1, true) else {
        return;
    };
    run_block_op(ctx, BlockOp::ZMPop { keys, min, count }, None);
}

/// BZPOPMIN/BZPOPMAX key [key ...] timeout
fn bzpop_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, min: bool) {
    if let Some((keys, deadline)) = keys_then_timeout(ctx, args) {
        run_block_op(ctx, BlockOp::ZPop { keys, min }, Some(deadline));
    }
}

pub(super) fn bzpopmin(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    bzpop_generic(ctx, args, true)
}
pub(super) fn bzpopmax(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    bzpop_generic(ctx, args, false)
}

/// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]
/// (Redis reads the timeout after the other arguments.)
pub(super) fn bzmpop(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Some((keys, min, count)) = parse_mpop_args(ctx, args, 2, true) else {
        return;
    };
    let Some(deadline) = timeout_arg(ctx, args.get(1)) else {
        return;
    };
    run_block_op(ctx, BlockOp::ZMPop { keys, min, count }, Some(deadline));
}

/// ZRANDMEMBER key [count [WITHSCORES]]
pub(super) fn zrandmember(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    // Redis's order: the count, the extra argument, WITHSCORES's bound.
    let count = if args.len() >= 3 {
        let Some(c) = crate::cmd::sets::random_count(ctx, args.get(2)) else {
            return;
        };
        Some(c)
    } else {
        None
    };
    if args.len() > 4 || (args.len() == 4 && !args.is(3, "withscores")) {
        return ctx.syntax();
    }
    if args.len() == 4 && !crate::cmd::sets::pair_count_ok(ctx, count) {
        return;
    }
    let ws = args.len() == 4;
    coll::read(
        ctx,
        args.get(1),
        T_ZSET,
        |c| match count {
            None => c.out.null(),
            Some(_) => c.out.array(0),
        },
        |ctx, o| {
            let z = o.as_zset();
            let Some(c) = count else {
                let (m, _) = z.random().expect("non-empty");
                return ctx.out.bulk(m);
            };
            if crate::cmd::sets::random_reply_too_big(ctx, c) {
                return;
            }
            let pairs: Vec<(Vec<u8>, f64)> = if c >= 0 {
                let mut all = z.collect(0, z.len() - 1, false);
                if (c as usize) < all.len() {
                    fastrand::shuffle(&mut all);
                    all.truncate(c as usize);
                }
                all
            } else {
                (0..c.unsigned_abs())
                    .map(|_| {
                        let (m, s) = z.random().expect("non-empty");
                        (m.to_vec(), s)
                    })
                    .collect()
            };
            reply_pairs(ctx, &pairs, ws);
        },
    );
}
