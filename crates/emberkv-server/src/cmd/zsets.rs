//! Sorted-set commands. Every range (by rank, score or lex) is resolved to
//! an ascending rank interval first (`resolve`), then walked forward or
//! backward; the encodings are in `types/zset.rs`.

use super::coll::{self, scan_reply};
use super::lists::{keys_then_timeout, norm_range, parse_mpop_args, run_block_op, timeout_arg};
use super::{flags::*, Args, Command, Ctx, Group};
use crate::blocking::BlockOp;
use crate::errors;
use crate::notify;
use crate::store::entry::{T_SET, T_ZSET};
use crate::types::{Obj, ZSet};
use emberkv_protocol::Resp;
use std::collections::HashMap;

/// Owned (member, score) pairs.
pub type Pairs = Vec<(Vec<u8>, f64)>;

const NOT_FLOAT_RANGE: &str = "ERR min or max is not a float";
const NOT_LEX_RANGE: &str = "ERR min or max not valid string range item";

/// Parses a score (ZADD, ZINCRBY, WEIGHTS) as Redis's string2d does.
pub fn parse_score(s: &[u8]) -> Option<f64> {
    super::num::parse_double(s)
}

#[derive(Clone, Copy)]
struct ScoreBound {
    v: f64,
    excl: bool,
}

/// `(x` or `x` (zslParseRange): more lenient than a score, see
/// `num::parse_range_bound` (" 1", "" and a bare "(" are valid).
fn parse_score_bound(s: &[u8]) -> Option<ScoreBound> {
    let (rest, excl) = match s.strip_prefix(b"(") {
        Some(rest) => (rest, true),
        None => (s, false),
    };
    Some(ScoreBound {
        v: super::num::parse_range_bound(rest)?,
        excl,
    })
}

#[derive(Clone)]
enum LexBound {
    NegInf,
    PosInf,
    Incl(Vec<u8>),
    Excl(Vec<u8>),
}

fn parse_lex_bound(s: &[u8]) -> Option<LexBound> {
    match s.first()? {
        b'-' if s.len() == 1 => Some(LexBound::NegInf),
        b'+' if s.len() == 1 => Some(LexBound::PosInf),
        b'[' => Some(LexBound::Incl(s[1..].to_vec())),
        b'(' => Some(LexBound::Excl(s[1..].to_vec())),
        _ => None,
    }
}

/// Members strictly before the lower bound `b`.
fn lex_below_min(m: &[u8], b: &LexBound) -> bool {
    match b {
        LexBound::NegInf => false,
        LexBound::PosInf => true,
        LexBound::Incl(x) => m < &x[..],
        LexBound::Excl(x) => m <= &x[..],
    }
}

/// Members not after the upper bound `b`.
fn lex_within_max(m: &[u8], b: &LexBound) -> bool {
    match b {
        LexBound::NegInf => false,
        LexBound::PosInf => true,
        LexBound::Incl(x) => m <= &x[..],
        LexBound::Excl(x) => m < &x[..],
    }
}

enum Range {
    Rank(i64, i64),
    Score(ScoreBound, ScoreBound),
    Lex(LexBound, LexBound),
}

/// The ascending rank interval of `range` (min, max bounds as given), or
/// None when empty. For `Rank` with `rev`, indexes count from the top.
fn resolve(z: &ZSet, range: &Range, rev: bool) -> Option<(usize, usize)> {
    let n = z.len();
    match range {
        Range::Rank(s, e) => {
            let (a, b) = norm_range(*s, *e, n)?;
            Some(if rev { (n - 1 - b, n - 1 - a) } else { (a, b) })
        }
        Range::Score(min, max) => {
            if min.v > max.v || (min.v == max.v && (min.excl || max.excl)) {
                return None;
            }
            let lo = z.count_before(|s, _| if min.excl { s <= min.v } else { s < min.v });
            let hi = z.count_before(|s, _| if max.excl { s < max.v } else { s <= max.v });
            (hi > lo).then(|| (lo, hi - 1))
        }
        Range::Lex(min, max) => {
            // As Redis: nothing if the last member is below min or the
            // first above max (which also settles sets whose members are
            // not in lex order because their scores differ).
            if n == 0 {
                return None;
            }
            let (mut first, mut last) = (Vec::new(), Vec::new());
            z.walk(0, 0, false, |m, _| {
                first = m.to_vec();
                false
            });
            z.walk(n - 1, n - 1, false, |m, _| {
                last = m.to_vec();
                false
            });
            if lex_below_min(&last, min) || !lex_within_max(&first, max) {
                return None;
            }
            let lo = z.count_before(|_, m| lex_below_min(m, min));
            let hi = z.count_before(|_, m| lex_within_max(m, max)).max(lo);
            (hi > lo).then(|| (lo, hi - 1))
        }
    }
}

/// Applies LIMIT offset count to an ascending interval walked in `rev`
/// order.
fn apply_limit(iv: (usize, usize), rev: bool, limit: Option<(i64, i64)>) -> Option<(usize, usize)> {
    let Some((off, cnt)) = limit else {
        return Some(iv);
    };
    if off < 0 {
        return None;
    }
    let (lo, hi) = iv;
    let len = hi - lo + 1;
    let off = off as usize;
    if off >= len || cnt == 0 {
        return None;
    }
    let take = if cnt < 0 {
        len - off
    } else {
        (cnt as usize).min(len - off)
    };
    Some(if rev {
        (hi - off - take + 1, hi - off)
    } else {
        (lo + off, lo + off + take - 1)
    })
}

/// Writes (member, score) pairs; RESP3 nests pairs, RESP2 is flat.
fn reply_pairs(ctx: &mut Ctx<'_>, pairs: &[(Vec<u8>, f64)], withscores: bool) {
    let resp3 = ctx.client.resp == Resp::V3;
    if withscores && resp3 {
        ctx.out.array(pairs.len());
        for (m, s) in pairs {
            ctx.out.array(2);
            ctx.out.bulk(m);
            ctx.out.double(*s);
        }
    } else {
        ctx.out.array(pairs.len() * if withscores { 2 } else { 1 });
        for (m, s) in pairs {
            ctx.out.bulk(m);
            if withscores {
                ctx.out.double(*s);
            }
        }
    }
}

fn new_zset() -> Obj {
    Obj::ZSet(ZSet::default())
}

/// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
fn zadd(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    zadd_generic(ctx, args, false)
}

fn zadd_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, incr_cmd: bool) {
    let (mut nx, mut xx, mut gt, mut lt, mut ch, mut incr) =
        (false, false, false, false, false, incr_cmd);
    let mut j = 2;
    if !incr_cmd {
        while j < args.len() {
            let a = args.get(j);
            let is = |s: &str| a.eq_ignore_ascii_case(s.as_bytes());
            if is("nx") {
                nx = true;
            } else if is("xx") {
                xx = true;
            } else if is("gt") {
                gt = true;
            } else if is("lt") {
                lt = true;
            } else if is("ch") {
                ch = true;
            } else if is("incr") {
                incr = true;
            } else {
                break;
            }
            j += 1;
        }
    }
    let rest = args.len() - j;
    if rest == 0 || !rest.is_multiple_of(2) {
        return ctx.syntax();
    }
    if nx && xx {
        return ctx.err("ERR XX and NX options at the same time are not compatible");
    }
    if (nx && (gt || lt)) || (gt && lt) {
        return ctx.err("ERR GT, LT, and/or NX options at the same time are not compatible");
    }
    if incr && rest > 2 {
        return ctx.err("ERR INCR option supports a single increment-element pair");
    }
    let mut pairs: Vec<(f64, &[u8])> = Vec::with_capacity(rest / 2);
    for i in (j..args.len()).step_by(2) {
        let Some(s) = parse_score(args.get(i)) else {
            return ctx.err(errors::NOT_FLOAT);
        };
        pairs.push((s, args.get(i + 1)));
    }
    let create: Option<&dyn Fn() -> Obj> = if xx { None } else { Some(&new_zset) };
    coll::write(
        ctx,
        args.get(1),
        T_ZSET,
        create,
        |c| {
            if incr {
                c.out.null()
            } else {
                c.out.int(0)
            }
        },
        |ctx, o| {
            let z = o.zset();
            let (mut added, mut changed) = (0, 0);
            let mut incr_result: Option<f64> = None;
            for &(score, m) in &pairs {
                let cur = z.score(m);
                match cur {
                    None => {
                        if xx {
                            continue;
                        }
                        z.set(m, score);
                        added += 1;
                        incr_result = Some(score);
                    }
                    Some(old) => {
                        if nx {
                            continue;
                        }
                        let new = if incr { old + score } else { score };
                        if new.is_nan() {
                            return ctx.err("ERR resulting score is not a number (NaN)");
                        }
                        if (gt && new <= old) || (lt && new >= old) {
                            continue;
                        }
                        incr_result = Some(new);
                        if new != old {
                            z.set(m, new);
                            changed += 1;
                        }
                    }
                }
            }
            if added + changed > 0 {
                ctx.notify(
                    notify::ZSET,
                    if incr { "zincr" } else { "zadd" },
                    args.get(1),
                );
            }
            if incr {
                match incr_result {
                    Some(s) => ctx.out.double(s),
                    None => ctx.out.null(),
                }
            } else {
                ctx.out.int(added + if ch { changed } else { 0 })
            }
        },
    );
}

/// ZINCRBY key increment member
fn zincrby(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    zadd_generic(ctx, args, true)
}

/// ZSCORE key member
fn zscore(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    coll::read(
        ctx,
        args.get(1),
        T_ZSET,
        |c| c.out.null(),
        |ctx, o| match o.as_zset().score(args.get(2)) {
            Some(s) => ctx.out.double(s),
            None => ctx.out.null(),
        },
    );
}

/// ZMSCORE key member [member ...]
fn zmscore(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let n = args.len() - 2;
    coll::read(
        ctx,
        args.get(1),
        T_ZSET,
        |c| {
            c.out.array(n);
            (0..n).for_each(|_| c.out.null());
        },
        |ctx, o| {
            let z = o.as_zset();
            ctx.out.array(n);
            for i in 2..args.len() {
                match z.score(args.get(i)) {
                    Some(s) => ctx.out.double(s),
                    None => ctx.out.null(),
                }
            }
        },
    );
}

/// ZCARD key
fn zcard(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    coll::read(
        ctx,
        args.get(1),
        T_ZSET,
        |c| c.out.int(0),
        |ctx, o| ctx.out.int(o.len() as i64),
    );
}

/// ZCOUNT key min max / ZLEXCOUNT key min max
fn zcount_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, lex: bool) {
    let Some(range) = parse_range(ctx, args.get(2), args.get(3), lex) else {
        return;
    };
    coll::read(
        ctx,
        args.get(1),
        T_ZSET,
        |c| c.out.int(0),
        |ctx, o| {
            let n = resolve(o.as_zset(), &range, false).map_or(0, |(a, b)| b - a + 1);
            ctx.out.int(n as i64)
        },
    );
}

fn zcount(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    zcount_generic(ctx, args, false)
}
fn zlexcount(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    zcount_generic(ctx, args, true)
}

fn parse_range(ctx: &mut Ctx<'_>, min: &[u8], max: &[u8], lex: bool) -> Option<Range> {
    if lex {
        match (parse_lex_bound(min), parse_lex_bound(max)) {
            (Some(a), Some(b)) => Some(Range::Lex(a, b)),
            _ => {
                ctx.err(NOT_LEX_RANGE);
                None
            }
        }
    } else {
        match (parse_score_bound(min), parse_score_bound(max)) {
            (Some(a), Some(b)) => Some(Range::Score(a, b)),
            _ => {
                ctx.err(NOT_FLOAT_RANGE);
                None
            }
        }
    }
}

/// ZRANK/ZREVRANK key member [WITHSCORE] (WITHSCORE as in Redis 7.2)
fn zrank_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, rev: bool) {
    if args.len() > 4 || (args.len() == 4 && !args.is(3, "withscore")) {
        return ctx.syntax();
    }
    let withscore = args.len() == 4;
    let none = move |c: &mut Ctx<'_>| {
        if withscore {
            c.out.null_array()
        } else {
            c.out.null()
        }
    };
    coll::read(ctx, args.get(1), T_ZSET, none, |ctx, o| {
        let z = o.as_zset();
        match z.rank(args.get(2)) {
            None => none(ctx),
            Some((r, s)) => {
                let r = if rev { z.len() - 1 - r } else { r };
                if withscore {
                    ctx.out.array(2);
                    ctx.out.int(r as i64);
                    ctx.out.double(s);
                } else {
                    ctx.out.int(r as i64)
                }
            }
        }
    });
}

fn zrank(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    zrank_generic(ctx, args, false)
}
fn zrevrank(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    zrank_generic(ctx, args, true)
}

/// A parsed ZRANGE-family request.
struct RangeReq {
    range: Range,
    rev: bool,
    limit: Option<(i64, i64)>,
    withscores: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum By {
    Rank,
    Score,
    Lex,
}

/// Parses `start stop [BYSCORE|BYLEX] [REV] [LIMIT o c] [WITHSCORES]`
/// (ZRANGE, ZRANGESTORE) or a legacy form whose `by`/`rev` are fixed.
fn parse_range_req(
    ctx: &mut Ctx<'_>,
    args: &Args<'_>,
    at: usize,
    mut by: By,
    mut rev: bool,
    modern: bool,
    store: bool,
) -> Option<RangeReq> {
    let (mut limit, mut withscores) = (None, false);
    let mut j = at + 2;
    while j < args.len() {
        // WITHSCORES is taken with BYLEX too, to be refused below with
        // Redis's own text.
        if !store && args.is(j, "withscores") {
            withscores = true;
        } else if args.is(j, "limit") && j + 2 < args.len() {
            let o = ctx.int_arg(args.get(j + 1))?;
            let c = ctx.int_arg(args.get(j + 2))?;
            limit = Some((o, c));
            j += 2;
        } else if modern && args.is(j, "byscore") && by == By::Rank {
            by = By::Score;
        } else if modern && args.is(j, "bylex") && by == By::Rank {
            by = By::Lex;
        } else if modern && args.is(j, "rev") {
            rev = true;
        } else {
            ctx.syntax();
            return None;
        }
        j += 1;
    }
    if limit.is_some() && by == By::Rank {
        ctx.err(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        );
        return None;
    }
    if withscores && by == By::Lex {
        ctx.err("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
        return None;
    }
    let (a, b) = (args.get(at), args.get(at + 1));
    // REV with BYSCORE/BYLEX takes max then min.
    let (min, max) = if rev && by != By::Rank {
        (b, a)
    } else {
        (a, b)
    };
    let range = match by {
        By::Rank => {
            let s = ctx.int_arg(a)?;
            let e = ctx.int_arg(b)?;
            Range::Rank(s, e)
        }
        By::Score => parse_range(ctx, min, max, false)?,
        By::Lex => parse_range(ctx, min, max, true)?,
    };
    Some(RangeReq {
        range,
        rev,
        limit,
        withscores,
    })
}

fn range_pairs(z: &ZSet, req: &RangeReq) -> Vec<(Vec<u8>, f64)> {
    let Some(iv) = resolve(z, &req.range, req.rev) else {
        return Vec::new();
    };
    let Some((lo, hi)) = apply_limit(iv, req.rev, req.limit) else {
        return Vec::new();
    };
    z.collect(lo, hi, req.rev)
}

fn range_reply(ctx: &mut Ctx<'_>, key: &[u8], req: RangeReq) {
    coll::read(
        ctx,
        key,
        T_ZSET,
        |c| c.out.array(0),
        |ctx, o| {
            let z = o.as_zset();
            let Some(iv) = resolve(z, &req.range, req.rev) else {
                return ctx.out.array(0);
            };
            let Some((lo, hi)) = apply_limit(iv, req.rev, req.limit) else {
                return ctx.out.array(0);
            };
            let n = hi - lo + 1;
            let resp3 = ctx.client.resp == Resp::V3;
            let ws = req.withscores;
            ctx.out.array(if ws && !resp3 { 2 * n } else { n });
            z.walk(lo, hi, req.rev, |m, s| {
                if ws && resp3 {
                    ctx.out.array(2);
                }
                ctx.out.bulk(m);
                if ws {
                    ctx.out.double(s);
                }
                true
            });
        },
    );
}

/// ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
fn zrange(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    if let Some(req) = parse_range_req(ctx, args, 2, By::Rank, false, true, false) {
        range_reply(ctx, args.get(1), req)
    }
}
/// ZREVRANGE key start stop [WITHSCORES]
fn zrevrange(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    if let Some(req) = parse_range_req(ctx, args, 2, By::Rank, true, false, false) {
        range_reply(ctx, args.get(1), req)
    }
}
/// ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]
fn zrangebyscore(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    if let Some(req) = parse_range_req(ctx, args, 2, By::Score, false, false, false) {
        range_reply(ctx, args.get(1), req)
    }
}
/// ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]
fn zrevrangebyscore(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    if let Some(req) = parse_range_req(ctx, args, 2, By::Score, true, false, false) {
        range_reply(ctx, args.get(1), req)
    }
}
/// ZRANGEBYLEX key min max [LIMIT offset count]
fn zrangebylex(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    if let Some(req) = parse_range_req(ctx, args, 2, By::Lex, false, false, false) {
        range_reply(ctx, args.get(1), req)
    }
}
/// ZREVRANGEBYLEX key max min [LIMIT offset count]
fn zrevrangebylex(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    if let Some(req) = parse_range_req(ctx, args, 2, By::Lex, true, false, false) {
        range_reply(ctx, args.get(1), req)
    }
}

/// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]
fn zrangestore(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Some(req) = parse_range_req(ctx, args, 3, By::Rank, false, true, true) else {
        return;
    };
    let (dst, src) = (args.get(1), args.get(2));
    let store = &ctx.srv.store;
    let (hd, hs) = (store.hash(dst), store.hash(src));
    let mut locked = store.lock_many([hd, hs]);
    let db = ctx.client.db;
    let pairs = {
        let t = locked.table(hs, db);
        match coll::read_in(ctx, t, hs, src, T_ZSET) {
            Err(_) => return ctx.wrongtype(),
            Ok(None) => Vec::new(),
            Ok(Some(g)) => range_pairs(g.as_zset(), &req),
        }
    };
    let z = ZSet::from_pairs(pairs.iter().map(|(m, s)| (&m[..], *s)));
    let t = locked.table(hd, db);
    let n = coll::store_obj(ctx, t, hd, dst, Obj::ZSet(z), notify::ZSET, "zrangestore");
    ctx.out.int(n as i64);
}

/// ZREM key member [member ...]
fn zrem(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    coll::write(
        ctx,
        args.get(1),
        T_ZSET,
        None,
        |c| c.out.int(0),
        |ctx, o| {
            let z = o.zset();
            let n: i64 = (2..args.len()).map(|i| z.remove(args.get(i)) as i64).sum();
            if n > 0 {
                ctx.notify(notify::ZSET, "zrem", args.get(1));
            }
            ctx.out.int(n)
        },
    );
}

fn zremrange_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, by: By) {
    let range = match by {
        By::Rank => {
            let Some(s) = ctx.int_arg(args.get(2)) else {
                return;
            };
            let Some(e) = ctx.int_arg(args.get(3)) else {
                return;
            };
            Range::Rank(s, e)
        }
        _ => match parse_range(ctx, args.get(2), args.get(3), by == By::Lex) {
            Some(r) => r,
            None => return,
        },
    };
    coll::write(
        ctx,
        args.get(1),
        T_ZSET,
        None,
        |c| c.out.int(0),
        |ctx, o| {
            let z = o.zset();
            let Some((lo, hi)) = resolve(z, &range, false) else {
                return ctx.out.int(0);
            };
            let victims = z.collect(lo, hi, false);
            for (m, _) in &victims {
                z.remove(m);
            }
            if !victims.is_empty() {
                let event = match by {
                    By::Rank => "zremrangebyrank",
                    By::Score => "zremrangebyscore",
                    By::Lex => "zremrangebylex",
                };
                ctx.notify(notify::ZSET, event, args.get(1));
            }
            ctx.out.int(victims.len() as i64)
        },
    );
}

fn zremrangebyrank(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    zremrange_generic(ctx, args, By::Rank)
}
fn zremrangebyscore(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    zremrange_generic(ctx, args, By::Score)
}
fn zremrangebylex(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    zremrange_generic(ctx, args, By::Lex)
}

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
        notify::popped(notify::ZSET, ev, key, ctx.client.db, t, h);
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

fn zpopmin(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    zpop_generic(ctx, args, true)
}
fn zpopmax(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    zpop_generic(ctx, args, false)
}

/// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]
fn zmpop(ctx: &mut Ctx<'_>, args: &Args<'_>) {
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

fn bzpopmin(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    bzpop_generic(ctx, args, true)
}
fn bzpopmax(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    bzpop_generic(ctx, args, false)
}

/// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]
/// (Redis reads the timeout after the other arguments.)
fn bzmpop(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Some((keys, min, count)) = parse_mpop_args(ctx, args, 2, true) else {
        return;
    };
    let Some(deadline) = timeout_arg(ctx, args.get(1)) else {
        return;
    };
    run_block_op(ctx, BlockOp::ZMPop { keys, min, count }, Some(deadline));
}

#[derive(Clone, Copy, PartialEq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy)]
enum Agg {
    Sum,
    Min,
    Max,
}

fn aggregate(a: f64, b: f64, agg: Agg) -> f64 {
    match agg {
        Agg::Sum => {
            let s = a + b;
            // inf + -inf: Redis stores 0 rather than NaN.
            if s.is_nan() {
                0.0
            } else {
                s
            }
        }
        Agg::Min => a.min(b),
        Agg::Max => a.max(b),
    }
}

/// The options after the source keys: `[WEIGHTS w...] [AGGREGATE x]
/// [WITHSCORES]`, or ZINTERCARD's `[LIMIT n]`.
struct SetOpOpts {
    weights: Vec<f64>,
    agg: Agg,
    withscores: bool,
    /// Stop after this many results (ZINTERCARD; usize::MAX: no limit).
    limit: usize,
}

impl SetOpOpts {
    fn plain(n: usize) -> SetOpOpts {
        SetOpOpts {
            weights: vec![1.0; n],
            agg: Agg::Sum,
            withscores: false,
            limit: usize::MAX,
        }
    }
}

/// `numkeys key...` at `at` (numkeys errors are replied at once, before
/// any lookup, as in Redis). `None` after replying.
fn setop_keys<'a>(ctx: &mut Ctx<'_>, args: &Args<'a>, at: usize) -> Option<Vec<&'a [u8]>> {
    let n = match crate::util::parse_i64(args.get(at)) {
        Some(n) => n,
        None => {
            ctx.err(errors::NOT_INT);
            return None;
        }
    };
    if n < 1 {
        ctx.err(&format!(
            "ERR at least 1 input key is needed for '{}' command",
            ctx.cmd.full_name
        ));
        return None;
    }
    let n = n as usize;
    if n > args.len() - at - 1 {
        ctx.syntax();
        return None;
    }
    Some((at + 1..at + 1 + n).map(|i| args.get(i)).collect())
}

/// The options from `j` on, for `n` keys. Redis reads them only after it
/// looked up and type-checked every source key, so a WRONGTYPE wins over
/// any option error: hence an error value, reported by `setop_compute`.
fn setop_opts(
    args: &Args<'_>,
    mut j: usize,
    n: usize,
    op: SetOp,
    store: bool,
) -> Result<SetOpOpts, &'static str> {
    let mut o = SetOpOpts::plain(n);
    while j < args.len() {
        let rem = args.len() - j - 1;
        if op != SetOp::Diff && args.is(j, "weights") && rem >= n {
            for k in 0..n {
                o.weights[k] =
                    parse_score(args.get(j + 1 + k)).ok_or("ERR weight value is not a float")?;
            }
            j += n + 1;
        } else if op != SetOp::Diff && args.is(j, "aggregate") && rem >= 1 {
            let a = args.get(j + 1);
            o.agg = if a.eq_ignore_ascii_case(b"sum") {
                Agg::Sum
            } else if a.eq_ignore_ascii_case(b"min") {
                Agg::Min
            } else if a.eq_ignore_ascii_case(b"max") {
                Agg::Max
            } else {
                return Err(errors::SYNTAX);
            };
            j += 2;
        } else if !store && args.is(j, "withscores") {
            o.withscores = true;
            j += 1;
        } else {
            return Err(errors::SYNTAX);
        }
    }
    Ok(o)
}

/// Score of `m` in an input that is a sorted set or (score 1) a set.
fn input_score(g: &Obj, m: &[u8]) -> Option<f64> {
    match g {
        Obj::ZSet(z) => z.score(m),
        Obj::Set(s) => s.contains(m).then_some(1.0),
        _ => None,
    }
}

fn input_pairs(g: &Obj) -> Vec<(Vec<u8>, f64)> {
    let mut v = Vec::with_capacity(g.len());
    match g {
        Obj::ZSet(z) => z.for_each(|m, s| v.push((m.to_vec(), s))),
        Obj::Set(s) => s.for_each(|m| v.push((m.to_vec(), 1.0))),
        _ => {}
    }
    v
}

/// Computes ZUNION/ZINTER/ZDIFF of `keys` under one lock (plus `dst`'s
/// shard), and hands the options, the sorted result and the lock to
/// `then`. The keys are type-checked before `opts` is looked at.
fn setop_compute(
    ctx: &mut Ctx<'_>,
    keys: &[&[u8]],
    opts: Result<SetOpOpts, &'static str>,
    op: SetOp,
    dst: Option<&[u8]>,
    then: impl FnOnce(&mut Ctx<'_>, &mut crate::store::Locked<'_>, &SetOpOpts, Vec<(Vec<u8>, f64)>),
) {
    let srv = ctx.srv;
    let store = &srv.store;
    let hd = dst.map(|d| store.hash(d));
    let (hashed, mut locked) = super::sets::lock_keys(store, keys, hd);
    let req: SetOpOpts;
    let result: Vec<(Vec<u8>, f64)> = {
        // Sets count as sorted sets with every score 1, as in Redis.
        let Ok(inputs) = coll::read_many(ctx, &mut locked, &hashed, &[T_ZSET, T_SET]) else {
            return ctx.wrongtype();
        };
        req = match opts {
            Ok(o) => o,
            Err(e) => return ctx.err(e),
        };
        let limit = req.limit;
        let mut acc: Vec<(Vec<u8>, f64)> = Vec::new();
        match op {
            SetOp::Union => {
                let mut idx: HashMap<Vec<u8>, usize> = HashMap::new();
                for (i, g) in inputs.iter().enumerate() {
                    let Some(g) = g else { continue };
                    for (m, s) in input_pairs(g) {
                        let mut w = s * req.weights[i];
                        if w.is_nan() {
                            w = 0.0;
                        }
                        match idx.get(&m) {
                            Some(&k) => acc[k].1 = aggregate(acc[k].1, w, req.agg),
                            None => {
                                idx.insert(m.clone(), acc.len());
                                acc.push((m, w));
                            }
                        }
                    }
                }
            }
            SetOp::Inter => {
                if inputs.iter().all(|g| g.is_some()) {
                    let mut order: Vec<usize> = (0..inputs.len()).collect();
                    order.sort_by_key(|&i| inputs[i].as_ref().map_or(0, |g| g.len()));
                    let first = order[0];
                    for (m, s) in input_pairs(inputs[first].as_ref().expect("present")) {
                        if acc.len() >= limit {
                            break;
                        }
                        let mut score = s * req.weights[first];
                        if score.is_nan() {
                            score = 0.0;
                        }
                        let mut all = true;
                        for &i in &order[1..] {
                            match input_score(inputs[i].as_ref().expect("present"), &m) {
                                Some(o) => {
                                    let mut w = o * req.weights[i];
                                    if w.is_nan() {
                                        w = 0.0;
                                    }
                                    score = aggregate(score, w, req.agg);
                                }
                                None => {
                                    all = false;
                                    break;
                                }
                            }
                        }
                        if all {
                            acc.push((m, score));
                        }
                    }
                }
            }
            SetOp::Diff => {
                if let Some(first) = &inputs[0] {
                    for (m, s) in input_pairs(first) {
                        if !inputs[1..]
                            .iter()
                            .flatten()
                            .any(|g| input_score(g, &m).is_some())
                        {
                            acc.push((m, s));
                        }
                    }
                }
            }
        }
        acc.sort_by(|a, b| {
            a.1.partial_cmp(&b.1)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then_with(|| a.0.cmp(&b.0))
        });
        acc
    };
    then(ctx, &mut locked, &req, result);
}

fn zsetop(ctx: &mut Ctx<'_>, args: &Args<'_>, op: SetOp) {
    let Some(keys) = setop_keys(ctx, args, 1) else {
        return;
    };
    let opts = setop_opts(args, 2 + keys.len(), keys.len(), op, false);
    setop_compute(ctx, &keys, opts, op, None, |ctx, _, o, res| {
        reply_pairs(ctx, &res, o.withscores)
    });
}

fn zsetop_store(ctx: &mut Ctx<'_>, args: &Args<'_>, op: SetOp) {
    let Some(keys) = setop_keys(ctx, args, 2) else {
        return;
    };
    let opts = setop_opts(args, 3 + keys.len(), keys.len(), op, true);
    let dst = args.get(1);
    let h = ctx.srv.store.hash(dst);
    setop_compute(ctx, &keys, opts, op, Some(dst), |ctx, locked, _, res| {
        let z = ZSet::from_pairs(res.iter().map(|(m, s)| (&m[..], *s)));
        let event = match op {
            SetOp::Union => "zunionstore",
            SetOp::Inter => "zinterstore",
            SetOp::Diff => "zdiffstore",
        };
        let t = locked.table(h, ctx.client.db);
        let n = coll::store_obj(ctx, t, h, dst, Obj::ZSet(z), notify::ZSET, event);
        ctx.out.int(n as i64);
    });
}

fn zunion(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    zsetop(ctx, args, SetOp::Union)
}
fn zinter(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    zsetop(ctx, args, SetOp::Inter)
}
fn zdiff(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    zsetop(ctx, args, SetOp::Diff)
}
fn zunionstore(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    zsetop_store(ctx, args, SetOp::Union)
}
fn zinterstore(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    zsetop_store(ctx, args, SetOp::Inter)
}
fn zdiffstore(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    zsetop_store(ctx, args, SetOp::Diff)
}

/// ZINTERCARD numkeys key [key ...] [LIMIT limit]: numkeys as ZINTER's
/// (too many is a syntax error here, unlike SINTERCARD), LIMIT after the
/// key types.
fn zintercard(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Some(keys) = setop_keys(ctx, args, 1) else {
        return;
    };
    let n = keys.len();
    let opts = coll::card_limit(args, 2 + n).map(|limit| SetOpOpts {
        limit,
        ..SetOpOpts::plain(n)
    });
    setop_compute(ctx, &keys, opts, SetOp::Inter, None, |ctx, _, _, res| {
        ctx.out.int(res.len() as i64)
    });
}

/// ZRANDMEMBER key [count [WITHSCORES]]
fn zrandmember(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    // Redis's order: the count, the extra argument, WITHSCORES's bound.
    let count = if args.len() >= 3 {
        let Some(c) = super::sets::random_count(ctx, args.get(2)) else {
            return;
        };
        Some(c)
    } else {
        None
    };
    if args.len() > 4 || (args.len() == 4 && !args.is(3, "withscores")) {
        return ctx.syntax();
    }
    if args.len() == 4 && !super::sets::pair_count_ok(ctx, count) {
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
            if super::sets::random_reply_too_big(ctx, c) {
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

/// ZSCAN key cursor [MATCH pattern] [COUNT count]
fn zscan(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    coll::scan_collection(ctx, args, T_ZSET, |ctx, o, s| {
        let z = o.as_zset();
        let mut items = Vec::new();
        let mut cursor = s.cursor;
        let mut budget = s.count.saturating_mul(10);
        loop {
            cursor = z.scan(cursor, |m, sc| {
                if s.matches(m) {
                    items.push(m.to_vec());
                    items.push(emberkv_protocol::format_double(sc).into_bytes());
                }
            });
            budget -= 1;
            if cursor == 0 || items.len() / 2 >= s.count || budget == 0 {
                break;
            }
        }
        scan_reply(ctx, cursor, &items);
    });
}

const fn z(name: &'static str, arity: i32, flags: u32, h: super::Handler) -> Command {
    Command::new(name, arity, flags, h).keys(1, 1, 1)
}

const G: Group = Group::SortedSet;

pub static COMMANDS: &[Command] = &[
    z("zadd", -4, WRITE | DENYOOM | FAST, zadd).doc(G, "1.2.0", "O(log(N)) for each item added, where N is the number of elements in the sorted set.", "Add one or more members to a sorted set, or update its score if it already exists"),
    z("zincrby", 4, WRITE | DENYOOM | FAST, zincrby).doc(G, "1.2.0", "O(log(N)) where N is the number of elements in the sorted set.", "Increment the score of a member in a sorted set"),
    z("zscore", 3, READONLY | FAST, zscore).doc(G, "1.2.0", "O(1)", "Get the score associated with the given member in a sorted set"),
    z("zmscore", -3, READONLY | FAST, zmscore).doc(G, "6.2.0", "O(N) where N is the number of members being requested.", "Get the score associated with the given members in a sorted set"),
    z("zcard", 2, READONLY | FAST, zcard).doc(G, "1.2.0", "O(1)", "Get the number of members in a sorted set"),
    z("zcount", 4, READONLY | FAST, zcount).doc(G, "2.0.0", "O(log(N)) with N being the number of elements in the sorted set.", "Count the members in a sorted set with scores within the given values"),
    z("zlexcount", 4, READONLY | FAST, zlexcount).doc(G, "2.8.9", "O(log(N)) with N being the number of elements in the sorted set.", "Count the number of members in a sorted set between a given lexicographical range"),
    z("zrank", -3, READONLY | FAST, zrank).doc(G, "2.0.0", "O(log(N))", "Determine the index of a member in a sorted set"),
    z("zrevrank", -3, READONLY | FAST, zrevrank).doc(G, "2.0.0", "O(log(N))", "Determine the index of a member in a sorted set, with scores ordered from high to low"),
    z("zrange", -4, READONLY, zrange).doc(G, "1.2.0", "O(log(N)+M)", "Return a range of members in a sorted set"),
    Command::new("zrangestore", -5, WRITE | DENYOOM, zrangestore).keys(1, 2, 1).doc(G, "6.2.0", "O(log(N)+M)", "Store a range of members from sorted set into another key"),
    z("zrevrange", -4, READONLY, zrevrange).doc(G, "1.2.0", "O(log(N)+M)", "Return a range of members in a sorted set, by index, with scores ordered from high to low"),
    z("zrangebyscore", -4, READONLY, zrangebyscore).doc(G, "1.0.5", "O(log(N)+M)", "Return a range of members in a sorted set, by score"),
    z("zrevrangebyscore", -4, READONLY, zrevrangebyscore).doc(G, "2.2.0", "O(log(N)+M)", "Return a range of members in a sorted set, by score, with scores ordered from high to low"),
    z("zrangebylex", -4, READONLY, zrangebylex).doc(G, "2.8.9", "O(log(N)+M)", "Return a range of members in a sorted set, by lexicographical range"),
    z("zrevrangebylex", -4, READONLY, zrevrangebylex).doc(G, "2.8.9", "O(log(N)+M)", "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings."),
    z("zrem", -3, WRITE | FAST, zrem).doc(G, "1.2.0", "O(M*log(N))", "Remove one or more members from a sorted set"),
    z("zremrangebyrank", 4, WRITE, zremrangebyrank).doc(G, "2.0.0", "O(log(N)+M)", "Remove all members in a sorted set within the given indexes"),
    z("zremrangebyscore", 4, WRITE, zremrangebyscore).doc(G, "1.2.0", "O(log(N)+M)", "Remove all members in a sorted set within the given scores"),
    z("zremrangebylex", 4, WRITE, zremrangebylex).doc(G, "2.8.9", "O(log(N)+M)", "Remove all members in a sorted set between the given lexicographical range"),
    z("zpopmin", -2, WRITE | FAST, zpopmin).doc(G, "5.0.0", "O(log(N)*M)", "Remove and return members with the lowest scores in a sorted set"),
    z("zpopmax", -2, WRITE | FAST, zpopmax).doc(G, "5.0.0", "O(log(N)*M)", "Remove and return members with the highest scores in a sorted set"),
    Command::new("zmpop", -4, WRITE | MOVABLE_KEYS, zmpop).keynum(1).doc(G, "7.0.0", "O(K) + O(M*log(N))", "Remove and return members with scores in a sorted set"),
    Command::new("bzpopmin", -3, WRITE | NOSCRIPT | FAST | BLOCKING, bzpopmin).keys(1, -2, 1).doc(G, "5.0.0", "O(log(N))", "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available"),
    Command::new("bzpopmax", -3, WRITE | NOSCRIPT | FAST | BLOCKING, bzpopmax).keys(1, -2, 1).doc(G, "5.0.0", "O(log(N))", "Remove and return the member with the highest score from one or more sorted sets, or block until one is available"),
    Command::new("bzmpop", -5, WRITE | BLOCKING | MOVABLE_KEYS, bzmpop).keynum(2).doc(G, "7.0.0", "O(K) + O(M*log(N))", "Remove and return members with scores in a sorted set or block until one is available"),
    Command::new("zunion", -3, READONLY | MOVABLE_KEYS, zunion).keynum(1).doc(G, "6.2.0", "O(N)+O(M*log(M))", "Add multiple sorted sets"),
    Command::new("zinter", -3, READONLY | MOVABLE_KEYS, zinter).keynum(1).doc(G, "6.2.0", "O(N*K)+O(M*log(M))", "Intersect multiple sorted sets"),
    Command::new("zdiff", -3, READONLY | MOVABLE_KEYS, zdiff).keynum(1).doc(G, "6.2.0", "O(L + (N-K)log(N))", "Subtract multiple sorted sets"),
    Command::new("zunionstore", -4, WRITE | DENYOOM | MOVABLE_KEYS, zunionstore).keys(1, 1, 1).keynum(2).doc(G, "2.0.0", "O(N)+O(M log(M))", "Add multiple sorted sets and store the resulting sorted set in a new key"),
    Command::new("zinterstore", -4, WRITE | DENYOOM | MOVABLE_KEYS, zinterstore).keys(1, 1, 1).keynum(2).doc(G, "2.0.0", "O(N*K)+O(M*log(M))", "Intersect multiple sorted sets and store the resulting sorted set in a new key"),
    Command::new("zdiffstore", -4, WRITE | DENYOOM | MOVABLE_KEYS, zdiffstore).keys(1, 1, 1).keynum(2).doc(G, "6.2.0", "O(L + (N-K)log(N))", "Subtract multiple sorted sets and store the resulting sorted set in a new key"),
    Command::new("zintercard", -3, READONLY | MOVABLE_KEYS, zintercard).keynum(1).doc(G, "7.0.0", "O(N*K)", "Intersect multiple sorted sets and return the cardinality of the result"),
    z("zrandmember", -2, READONLY, zrandmember).tips(&["nondeterministic_output"]).doc(G, "6.2.0", "O(N) where N is the number of members returned", "Get one or multiple random elements from a sorted set"),
    z("zscan", -3, READONLY, zscan).tips(&["nondeterministic_output"]).doc(G, "2.8.0", "O(1) for every call. O(N) for a complete iteration.", "Incrementally iterate sorted sets elements and associated scores"),
];
