//! Hash commands. Encodings and conversions are in `types/hash.rs`.

use super::coll::{self, scan_reply};
use super::{flags::*, Args, Command, Ctx, Group};
use crate::errors;
use crate::store::entry::T_HASH;
use crate::types::{Hash, Obj};
use crate::util::longdouble::LongDouble;
use crate::util::parse_i64;

fn new_hash() -> Obj {
    Obj::Hash(Hash::default())
}

/// HSET key field value [field value ...] / HMSET
fn hset_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, ok_reply: bool) {
    if !args.len().is_multiple_of(2) {
        return ctx.err(&errors::wrong_args(&ctx.cmd.full_name));
    }
    coll::write(
        ctx,
        args.get(1),
        T_HASH,
        Some(&new_hash),
        |_| {},
        |ctx, o| {
            let h = o.hash();
            let mut added = 0;
            for i in (2..args.len()).step_by(2) {
                added += h.set(args.get(i), args.get(i + 1)) as i64;
            }
            // Redis counts every pair, changed or not.
            let pairs = (args.len() as u64 - 2) / 2;
            ctx.notify_n(crate::notify::HASH, "hset", args.get(1), pairs);
            if ok_reply {
                ctx.out.ok()
            } else {
                ctx.out.int(added)
            }
        },
    );
}

fn hset(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    hset_generic(ctx, args, false)
}

fn hmset(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    hset_generic(ctx, args, true)
}

/// HSETNX key field value
fn hsetnx(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    coll::write(
        ctx,
        args.get(1),
        T_HASH,
        Some(&new_hash),
        |_| {},
        |ctx, o| {
            let h = o.hash();
            if h.get(args.get(2)).is_some() {
                ctx.out.int(0)
            } else {
                h.set(args.get(2), args.get(3));
                ctx.notify(crate::notify::HASH, "hset", args.get(1));
                ctx.out.int(1)
            }
        },
    );
}

/// HGET key field
fn hget(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    coll::read(
        ctx,
        args.get(1),
        T_HASH,
        |c| c.out.null(),
        |ctx, o| match o.as_hash().get(args.get(2)) {
            Some(v) => ctx.out.bulk(v),
            None => ctx.out.null(),
        },
    );
}

/// HMGET key field [field ...]
fn hmget(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let n = args.len() - 2;
    coll::read(
        ctx,
        args.get(1),
        T_HASH,
        |c| {
            c.out.array(n);
            (0..n).for_each(|_| c.out.null());
        },
        |ctx, o| {
            let h = o.as_hash();
            ctx.out.array(n);
            for i in 2..args.len() {
                match h.get(args.get(i)) {
                    Some(v) => ctx.out.bulk(v),
                    None => ctx.out.null(),
                }
            }
        },
    );
}

/// HDEL key field [field ...]
fn hdel(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    coll::write(
        ctx,
        args.get(1),
        T_HASH,
        None,
        |c| c.out.int(0),
        |ctx, o| {
            let h = o.hash();
            let mut n = 0;
            for i in 2..args.len() {
                n += h.remove(args.get(i)) as i64;
                if h.is_empty() {
                    break;
                }
            }
            if n > 0 {
                ctx.notify_n(crate::notify::HASH, "hdel", args.get(1), n as u64);
            }
            ctx.out.int(n)
        },
    );
}

/// HLEN key
fn hlen(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    coll::read(
        ctx,
        args.get(1),
        T_HASH,
        |c| c.out.int(0),
        |ctx, o| ctx.out.int(o.len() as i64),
    );
}

/// HSTRLEN key field
fn hstrlen(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    coll::read(
        ctx,
        args.get(1),
        T_HASH,
        |c| c.out.int(0),
        |ctx, o| {
            let n = o.as_hash().get(args.get(2)).map_or(0, |v| v.len());
            ctx.out.int(n as i64)
        },
    );
}

/// HEXISTS key field
fn hexists(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    coll::read(
        ctx,
        args.get(1),
        T_HASH,
        |c| c.out.int(0),
        |ctx, o| ctx.out.int(o.as_hash().get(args.get(2)).is_some() as i64),
    );
}

/// HKEYS / HVALS / HGETALL
fn hgetall_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, keys: bool, vals: bool) {
    let both = keys && vals;
    coll::read(
        ctx,
        args.get(1),
        T_HASH,
        |c| {
            if both {
                c.out.map(0)
            } else {
                c.out.array(0)
            }
        },
        |ctx, o| {
            let h = o.as_hash();
            if both {
                ctx.out.map(h.len());
            } else {
                ctx.out.array(h.len());
            }
            h.for_each(|k, v| {
                if keys {
                    ctx.out.bulk(k);
                }
                if vals {
                    ctx.out.bulk(v);
                }
            });
        },
    );
}

fn hkeys(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    hgetall_generic(ctx, args, true, false)
}
fn hvals(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    hgetall_generic(ctx, args, false, true)
}
fn hgetall(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    hgetall_generic(ctx, args, true, true)
}

/// HINCRBY key field increment
fn hincrby(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Some(incr) = ctx.int_arg(args.get(3)) else {
        return;
    };
    coll::write(
        ctx,
        args.get(1),
        T_HASH,
        Some(&new_hash),
        |_| {},
        |ctx, o| {
            let h = o.hash();
            let cur = match h.get(args.get(2)) {
                None => 0,
                Some(v) => match parse_i64(v) {
                    Some(n) => n,
                    None => return ctx.err(errors::HASH_NOT_INT),
                },
            };
            let Some(new) = cur.checked_add(incr) else {
                return ctx.err(errors::OVERFLOW);
            };
            h.set(args.get(2), itoa::Buffer::new().format(new).as_bytes());
            ctx.notify(crate::notify::HASH, "hincrby", args.get(1));
            ctx.out.int(new)
        },
    );
}

/// HINCRBYFLOAT key field increment (80-bit long double, as Redis)
fn hincrbyfloat(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Some(incr) = LongDouble::parse(args.get(3)) else {
        return ctx.err(errors::NOT_FLOAT);
    };
    if !incr.is_finite() {
        return ctx.err(errors::VALUE_NAN_OR_INF);
    }
    coll::write(
        ctx,
        args.get(1),
        T_HASH,
        Some(&new_hash),
        |_| {},
        |ctx, o| {
            let h = o.hash();
            let cur = match h.get(args.get(2)) {
                None => LongDouble::Finite {
                    neg: false,
                    m: 0,
                    e: 0,
                },
                Some(v) => match LongDouble::parse(v) {
                    Some(x) => x,
                    None => return ctx.err(errors::HASH_NOT_FLOAT),
                },
            };
            let sum = cur.add(&incr);
            if !cur.is_finite() || !incr.is_finite() || !sum.is_finite() {
                return ctx.err(errors::NAN_OR_INF);
            }
            let s = sum.to_human();
            h.set(args.get(2), s.as_bytes());
            ctx.notify(crate::notify::HASH, "hincrbyfloat", args.get(1));
            // The result, not the increment, so replicas round alike.
            crate::effects::propagate(
                ctx.client.db,
                &[b"HSET", args.get(1), args.get(2), s.as_bytes()],
            );
            ctx.out.bulk(s.as_bytes())
        },
    );
}

/// HRANDFIELD key [count [WITHVALUES]]
fn hrandfield(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    // Redis's order: the count, the extra argument, WITHVALUES's bound.
    let count = if args.len() >= 3 {
        let Some(c) = super::sets::random_count(ctx, args.get(2)) else {
            return;
        };
        Some(c)
    } else {
        None
    };
    if args.len() > 4 || (args.len() == 4 && !args.is(3, "withvalues")) {
        return ctx.syntax();
    }
    let withvalues = args.len() == 4;
    if withvalues && !super::sets::pair_count_ok(ctx, count) {
        return;
    }
    let resp3 = ctx.client.resp == emberkv_protocol::Resp::V3;
    coll::read(
        ctx,
        args.get(1),
        T_HASH,
        |c| match count {
            None => c.out.null(),
            Some(_) => c.out.array(0),
        },
        |ctx, o| {
            let h = o.as_hash();
            let Some(c) = count else {
                let (k, _) = h.random().expect("non-empty");
                return ctx.out.bulk(k);
            };
            if super::sets::random_reply_too_big(ctx, c) {
                return;
            }
            let pairs: Vec<(&[u8], &[u8])> = if c >= 0 {
                let mut all = h.pairs();
                let c = c as usize;
                if c < all.len() {
                    fastrand::shuffle(&mut all);
                    all.truncate(c);
                }
                all
            } else {
                let all = h.pairs();
                (0..c.unsigned_abs())
                    .map(|_| all[fastrand::usize(..all.len())])
                    .collect()
            };
            write_pairs(ctx, &pairs, withvalues, resp3);
        },
    );
}

/// Replies fields (and values): RESP3 nests each pair in its own array.
fn write_pairs(ctx: &mut Ctx<'_>, pairs: &[(&[u8], &[u8])], withvalues: bool, resp3: bool) {
    if withvalues && resp3 {
        ctx.out.array(pairs.len());
        for (k, v) in pairs {
            ctx.out.array(2);
            ctx.out.bulk(k);
            ctx.out.bulk(v);
        }
    } else {
        ctx.out.array(pairs.len() * if withvalues { 2 } else { 1 });
        for (k, v) in pairs {
            ctx.out.bulk(k);
            if withvalues {
                ctx.out.bulk(v);
            }
        }
    }
}

/// HSCAN key cursor [MATCH pattern] [COUNT count]
fn hscan(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    coll::scan_collection(ctx, args, T_HASH, |ctx, o, s| {
        let h = o.as_hash();
        let mut items = Vec::new();
        let mut cursor = s.cursor;
        let mut budget = s.count.saturating_mul(10);
        loop {
            cursor = h.scan(cursor, |k, v| {
                if s.matches(k) {
                    items.push(k.to_vec());
                    items.push(v.to_vec());
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

const fn hash_cmd(name: &'static str, arity: i32, flags: u32, h: super::Handler) -> Command {
    Command::new(name, arity, flags, h).keys(1, 1, 1)
}

pub static COMMANDS: &[Command] = &[
    hash_cmd("hset", -4, WRITE | DENYOOM | FAST, hset).doc(
        Group::Hash,
        "2.0.0",
        "O(1) for each field/value pair added",
        "Set the string value of a hash field",
    ),
    hash_cmd("hmset", -4, WRITE | DENYOOM | FAST, hmset).doc(
        Group::Hash,
        "2.0.0",
        "O(N) where N is the number of fields being set.",
        "Set multiple hash fields to multiple values",
    ),
    hash_cmd("hsetnx", 4, WRITE | DENYOOM | FAST, hsetnx).doc(
        Group::Hash,
        "2.0.0",
        "O(1)",
        "Set the value of a hash field, only if the field does not exist",
    ),
    hash_cmd("hget", 3, READONLY | FAST, hget).doc(
        Group::Hash,
        "2.0.0",
        "O(1)",
        "Get the value of a hash field",
    ),
    hash_cmd("hmget", -3, READONLY | FAST, hmget).doc(
        Group::Hash,
        "2.0.0",
        "O(N) where N is the number of fields being requested.",
        "Get the values of all the given hash fields",
    ),
    hash_cmd("hdel", -3, WRITE | FAST, hdel).doc(
        Group::Hash,
        "2.0.0",
        "O(N) where N is the number of fields to be removed.",
        "Delete one or more hash fields",
    ),
    hash_cmd("hlen", 2, READONLY | FAST, hlen).doc(
        Group::Hash,
        "2.0.0",
        "O(1)",
        "Get the number of fields in a hash",
    ),
    hash_cmd("hstrlen", 3, READONLY | FAST, hstrlen).doc(
        Group::Hash,
        "3.2.0",
        "O(1)",
        "Get the length of the value of a hash field",
    ),
    hash_cmd("hexists", 3, READONLY | FAST, hexists).doc(
        Group::Hash,
        "2.0.0",
        "O(1)",
        "Determine if a hash field exists",
    ),
    hash_cmd("hkeys", 2, READONLY, hkeys)
        .tips(&["nondeterministic_output_order"])
        .doc(
            Group::Hash,
            "2.0.0",
            "O(N) where N is the size of the hash.",
            "Get all the fields in a hash",
        ),
    hash_cmd("hvals", 2, READONLY, hvals)
        .tips(&["nondeterministic_output_order"])
        .doc(
            Group::Hash,
            "2.0.0",
            "O(N) where N is the size of the hash.",
            "Get all the values in a hash",
        ),
    hash_cmd("hgetall", 2, READONLY, hgetall)
        .tips(&["nondeterministic_output_order"])
        .doc(
            Group::Hash,
            "2.0.0",
            "O(N) where N is the size of the hash.",
            "Get all the fields and values in a hash",
        ),
    hash_cmd("hincrby", 4, WRITE | DENYOOM | FAST, hincrby).doc(
        Group::Hash,
        "2.0.0",
        "O(1)",
        "Increment the integer value of a hash field by the given number",
    ),
    hash_cmd("hincrbyfloat", 4, WRITE | DENYOOM | FAST, hincrbyfloat).doc(
        Group::Hash,
        "2.6.0",
        "O(1)",
        "Increment the float value of a hash field by the given amount",
    ),
    hash_cmd("hrandfield", -2, READONLY, hrandfield)
        .tips(&["nondeterministic_output"])
        .doc(
            Group::Hash,
            "6.2.0",
            "O(N) where N is the number of fields returned",
            "Get one or multiple random fields from a hash",
        ),
    hash_cmd("hscan", -3, READONLY, hscan)
        .tips(&["nondeterministic_output"])
        .doc(
            Group::Hash,
            "2.8.0",
            "O(1) for every call. O(N) for a complete iteration.",
            "Incrementally iterate hash fields and associated values",
        ),
];
