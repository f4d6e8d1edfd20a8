//! Sorted-set ranges: rank, score (`(x`, `-inf`) and lex (`[a`, `(a`,
//! `-`, `+`) bounds, `resolve` turning any of them into an ascending rank
//! interval, `apply_limit` cutting LIMIT out of it, and the commands built
//! on that: ZCOUNT, ZLEXCOUNT, ZRANGE and its legacy forms (ZREVRANGE,
//! ZRANGEBYSCORE, ...), ZRANGESTORE and ZREMRANGEBY*. They live together
//! because they share one request parser and one interval walk, the same
//! for both encodings.

use crate::cmd::coll;
use crate::cmd::lists::norm_range;
use crate::cmd::{Args, Ctx};
use crate::errors;
use crate::notify;
use crate::store::entry::T_ZSET;
use crate::types::{Obj, ZSet};
use emberkv_protocol::Resp;

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
        v: crate::cmd::num::parse_range_bound(rest)?,
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

pub(super) fn zcount(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    zcount_generic(ctx, args, false)
}
pub(super) fn zlexcount(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    zcount_generic(ctx, args, true)
}

fn parse_range(ctx: &mut Ctx<'_>, min: &[u8], max: &[u8], lex: bool) -> Option<Range> {
    if lex {
        match (parse_lex_bound(min), parse_lex_bound(max)) {
            (Some(a), Some(b)) => Some(Range::Lex(a, b)),
            _ => {
                ctx.err(errors::NOT_LEX_RANGE);
                None
            }
        }
    } else {
        match (parse_score_bound(min), parse_score_bound(max)) {
            (Some(a), Some(b)) => Some(Range::Score(a, b)),
            _ => {
                ctx.err(errors::NOT_FLOAT_RANGE);
                None
            }
        }
    }
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
        ctx.err(errors::ZRANGE_LIMIT);
        return None;
    }
    if withscores && by == By::Lex {
        ctx.err(errors::ZRANGE_WITHSCORES_BYLEX);
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
pub(super) fn zrange(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    if let Some(req) = parse_range_req(ctx, args, 2, By::Rank, false, true, false) {
        range_reply(ctx, args.get(1), req)
    }
}
/// ZREVRANGE key start stop [WITHSCORES]
pub(super) fn zrevrange(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    if let Some(req) = parse_range_req(ctx, args, 2, By::Rank, true, false, false) {
        range_reply(ctx, args.get(1), req)
    }
}
/// ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]
pub(super) fn zrangebyscore(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    if let Some(req) = parse_range_req(ctx, args, 2, By::Score, false, false, false) {
        range_reply(ctx, args.get(1), req)
    }
}
/// ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]
pub(super) fn zrevrangebyscore(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    if let Some(req) = parse_range_req(ctx, args, 2, By::Score, true, false, false) {
        range_reply(ctx, args.get(1), req)
    }
}
/// ZRANGEBYLEX key min max [LIMIT offset count]
pub(super) fn zrangebylex(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    if let Some(req) = parse_range_req(ctx, args, 2, By::Lex, false, false, false) {
        range_reply(ctx, args.get(1), req)
    }
}
/// ZREVRANGEBYLEX key max min [LIMIT offset count]
pub(super) fn zrevrangebylex(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    if let Some(req) = parse_range_req(ctx, args, 2, By::Lex, true, false, false) {
        range_reply(ctx, args.get(1), req)
    }
}

/// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]
pub(super) fn zrangestore(ctx: &mut Ctx<'_>, args: &Args<'_>) {
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
                ctx.notify_n(notify::ZSET, event, args.get(1), victims.len() as u64);
            }
            ctx.out.int(victims.len() as i64)
        },
    );
}

pub(super) fn zremrangebyrank(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    zremrange_generic(ctx, args, By::Rank)
}
pub(super) fn zremrangebyscore(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    zremrange_generic(ctx, args, By::Score)
}
pub(super) fn zremrangebylex(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    zremrange_generic(ctx, args, By::Lex)
}
