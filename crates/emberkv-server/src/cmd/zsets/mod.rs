//! Sorted-set commands. Every range (by rank, score or lex) is resolved to
//! an ascending rank interval first (`resolve` in `range.rs`), then walked
//! forward or backward; the encodings are in `types/zset.rs`.
//!
//! This file holds the commands on one key that take no range (ZADD,
//! ZINCRBY, ZSCORE, ZMSCORE, ZCARD, ZRANK, ZREVRANK, ZREM, ZSCAN), the
//! helpers the other files share (`parse_score`, `reply_pairs`,
//! `new_zset`) and the COMMANDS table. The families with their own
//! parsing each have a file, so that each reads on its own: `range.rs`
//! (range bounds and the ZRANGE family), `pops.rs` (ZPOP*, BZPOP*, ZMPOP,
//! ZRANDMEMBER) and `algebra.rs` (ZUNION/ZINTER/ZDIFF, their STORE forms,
//! ZINTERCARD).

mod algebra;
mod pops;
mod range;

use super::coll::{self, scan_reply};
use super::{flags::*, Args, Command, Ctx, Group};
use crate::errors;
use crate::notify;
use crate::store::entry::T_ZSET;
use crate::types::{Obj, ZSet};
use algebra::{zdiff, zdiffstore, zinter, zintercard, zinterstore, zunion, zunionstore};
use emberkv_protocol::Resp;
use pops::{bzmpop, bzpopmax, bzpopmin, zmpop, zpopmax, zpopmin, zrandmember};
use range::{
    zcount, zlexcount, zrange, zrangebylex, zrangebyscore, zrangestore, zremrangebylex,
    zremrangebyrank, zremrangebyscore, zrevrange, zrevrangebylex, zrevrangebyscore,
};

/// Owned (member, score) pairs.
pub type Pairs = Vec<(Vec<u8>, f64)>;

/// Parses a score (ZADD, ZINCRBY, WEIGHTS) as Redis's string2d does.
pub fn parse_score(s: &[u8]) -> Option<f64> {
    super::num::parse_double(s)
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
        return ctx.err(errors::XX_AND_NX);
    }
    if (nx && (gt || lt)) || (gt && lt) {
        return ctx.err(errors::GT_LT_NX);
    }
    if incr && rest > 2 {
        return ctx.err(errors::INCR_ONE_PAIR);
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
                            return ctx.err(errors::SCORE_NAN);
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
                let ev = if incr { "zincr" } else { "zadd" };
                ctx.notify_n(notify::ZSET, ev, args.get(1), (added + changed) as u64);
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

/// One reply per member (arguments 2..) of the sorted set at argument 1:
/// `found` with its score, or `none` for a missing member or key (ZMSCORE,
/// GEOPOS, GEOHASH).
pub(crate) fn member_scores(
    ctx: &mut Ctx<'_>,
    args: &Args<'_>,
    none: fn(&mut Ctx<'_>),
    found: fn(&mut Ctx<'_>, f64),
) {
    let n = args.len() - 2;
    coll::read(
        ctx,
        args.get(1),
        T_ZSET,
        |c| {
            c.out.array(n);
            (0..n).for_each(|_| none(c));
        },
        |ctx, o| {
            let z = o.as_zset();
            ctx.out.array(n);
            for i in 2..args.len() {
                match z.score(args.get(i)) {
                    Some(s) => found(ctx, s),
                    None => none(ctx),
                }
            }
        },
    );
}

/// ZMSCORE key member [member ...]
fn zmscore(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    member_scores(ctx, args, |c| c.out.null(), |c, s| c.out.double(s));
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
                ctx.notify_n(notify::ZSET, "zrem", args.get(1), n as u64);
            }
            ctx.out.int(n)
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
