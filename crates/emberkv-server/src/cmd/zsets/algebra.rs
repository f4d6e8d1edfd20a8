//! Sorted-set algebra: ZUNION, ZINTER, ZDIFF, their STORE forms and
//! ZINTERCARD. One computation (`setop_compute`) serves all of them under a
//! single multi-key lock; sets count as sorted sets with every score 1.
//! WEIGHTS and AGGREGATE are parsed only after every source key was
//! type-checked, as in Redis, so WRONGTYPE wins over an option error.

use super::{parse_score, reply_pairs};
use crate::cmd::coll;
use crate::cmd::{Args, Ctx};
use crate::errors;
use crate::notify;
use crate::store::entry::{T_SET, T_ZSET};
use crate::types::{Obj, ZSet};
use std::collections::HashMap;

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
        ctx.err(&errors::no_input_keys(&ctx.cmd.full_name));
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
                o.weights[k] = parse_score(args.get(j + 1 + k)).ok_or(errors::WEIGHT_NOT_FLOAT)?;
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
    let (hashed, mut locked) = crate::cmd::sets::lock_keys(store, keys, hd);
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

pub(super) fn zunion(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    zsetop(ctx, args, SetOp::Union)
}
pub(super) fn zinter(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    zsetop(ctx, args, SetOp::Inter)
}
pub(super) fn zdiff(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    zsetop(ctx, args, SetOp::Diff)
}
pub(super) fn zunionstore(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    zsetop_store(ctx, args, SetOp::Union)
}
pub(super) fn zinterstore(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    zsetop_store(ctx, args, SetOp::Inter)
}
pub(super) fn zdiffstore(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    zsetop_store(ctx, args, SetOp::Diff)
}

/// ZINTERCARD numkeys key [key ...] [LIMIT limit]: numkeys as ZINTER's
/// (too many is a syntax error here, unlike SINTERCARD), LIMIT after the
/// key types.
pub(super) fn zintercard(ctx: &mut Ctx<'_>, args: &Args<'_>) {
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
