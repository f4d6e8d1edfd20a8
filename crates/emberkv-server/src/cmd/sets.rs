//! Set commands. Encodings and conversions are in `types/set.rs`.

use super::coll::{self, scan_reply};
use super::{flags::*, Args, Command, Ctx, Group};
use crate::errors;
use crate::notify;
use crate::store::entry::T_SET;
use crate::types::set::Member;
use crate::types::{Obj, Set};
use std::collections::HashSet;

/// Largest reply a negative random count may ask for (SRANDMEMBER,
/// HRANDFIELD, ZRANDMEMBER): repetition makes it independent of the data
/// size, so it needs its own bound.
pub const MAX_RANDOM_REPLY: u64 = 1 << 24;

/// The count of SRANDMEMBER, HRANDFIELD and ZRANDMEMBER, read as Redis
/// reads it (getRangeLongFromObjectOrReply from -LONG_MAX to LONG_MAX).
pub(crate) fn random_count(ctx: &mut Ctx<'_>, a: &[u8]) -> Option<i64> {
    let c = ctx.int_arg(a)?;
    if c == i64::MIN {
        ctx.err(errors::RANDOM_COUNT_RANGE);
        return None;
    }
    Some(c)
}

/// HRANDFIELD WITHVALUES / ZRANDMEMBER WITHSCORES: Redis also refuses a
/// count beyond ±LONG_MAX/2 (two reply entries per pick), after the
/// syntax check. False after replying.
pub(crate) fn pair_count_ok(ctx: &mut Ctx<'_>, count: Option<i64>) -> bool {
    let ok = count.is_none_or(|c| (-(i64::MAX / 2)..=i64::MAX / 2).contains(&c));
    if !ok {
        ctx.err(errors::OUT_OF_RANGE);
    }
    ok
}

/// Our own bound (not Redis's) on a repeating count, checked once the key
/// exists: a missing key answers empty whatever the count, as in Redis.
pub(crate) fn random_reply_too_big(ctx: &mut Ctx<'_>, count: i64) -> bool {
    let big = count < 0 && count.unsigned_abs() > MAX_RANDOM_REPLY;
    if big {
        ctx.err(errors::OUT_OF_RANGE);
    }
    big
}

fn reply_member(ctx: &mut Ctx<'_>, m: &Member<'_>) {
    match m {
        Member::Int(i) => ctx.out.bulk_int(*i),
        Member::Bytes(b) => ctx.out.bulk(b),
    }
}

/// SADD key member [member ...]
fn sadd(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let first = args.get(2);
    let make = move || Obj::Set(Set::for_member(first));
    coll::write(
        ctx,
        args.get(1),
        T_SET,
        Some(&make),
        |_| {},
        |ctx, o| {
            let s = o.set();
            let n: i64 = (2..args.len()).map(|i| s.add(args.get(i)) as i64).sum();
            if n > 0 {
                ctx.notify_n(notify::SET, "sadd", args.get(1), n as u64);
            }
            ctx.out.int(n)
        },
    );
}

/// SREM key member [member ...]
fn srem(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    coll::write(
        ctx,
        args.get(1),
        T_SET,
        None,
        |c| c.out.int(0),
        |ctx, o| {
            let s = o.set();
            let n: i64 = (2..args.len()).map(|i| s.remove(args.get(i)) as i64).sum();
            if n > 0 {
                ctx.notify_n(notify::SET, "srem", args.get(1), n as u64);
            }
            ctx.out.int(n)
        },
    );
}

/// SMEMBERS key
fn smembers(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    coll::read(
        ctx,
        args.get(1),
        T_SET,
        |c| c.out.set(0),
        |ctx, o| {
            let s = o.as_set();
            ctx.out.set(s.len());
            s.for_each(|m| reply_member(ctx, &m));
        },
    );
}

/// SISMEMBER key member
fn sismember(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    coll::read(
        ctx,
        args.get(1),
        T_SET,
        |c| c.out.int(0),
        |ctx, o| ctx.out.int(o.as_set().contains(args.get(2)) as i64),
    );
}

/// SMISMEMBER key member [member ...]
fn smismember(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let n = args.len() - 2;
    coll::read(
        ctx,
        args.get(1),
        T_SET,
        |c| {
            c.out.array(n);
            (0..n).for_each(|_| c.out.int(0));
        },
        |ctx, o| {
            let s = o.as_set();
            ctx.out.array(n);
            for i in 2..args.len() {
                ctx.out.int(s.contains(args.get(i)) as i64);
            }
        },
    );
}

/// SCARD key
fn scard(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    coll::read(
        ctx,
        args.get(1),
        T_SET,
        |c| c.out.int(0),
        |ctx, o| ctx.out.int(o.len() as i64),
    );
}

/// SPOP key [count]
fn spop(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let count = match args.len() {
        2 => None,
        // One text for "not an integer" and "negative", as Redis's
        // getPositiveLongFromObjectOrReply.
        3 => match crate::util::parse_i64(args.get(2)) {
            Some(c) if c >= 0 => Some(c),
            _ => return ctx.err(errors::NOT_POSITIVE),
        },
        _ => return ctx.syntax(),
    };
    coll::write(
        ctx,
        args.get(1),
        T_SET,
        None,
        |c| match count {
            None => c.out.null(),
            Some(_) => c.out.set(0),
        },
        |ctx, o| {
            // Random, so propagated as its effect, as Redis: SREM of the
            // members popped (in batches of 1024), or DEL of the whole set.
            let (key, db) = (args.get(1), ctx.client.db);
            let s = o.set();
            if count != Some(0) {
                let n = count.map_or(1, |c| (c as usize).min(s.len()));
                ctx.notify_n(notify::SET, "spop", key, n as u64);
            }
            let Some(c) = count else {
                let m = s.pop().expect("non-empty");
                crate::effects::propagate(db, &[b"SREM", key, &m]);
                return ctx.out.bulk(&m);
            };
            let c = (c as usize).min(s.len());
            ctx.out.set(c);
            if c == s.len() {
                s.for_each(|m| reply_member(ctx, &m));
                *s = Set::for_member(b"0");
                crate::effects::propagate(db, &[b"DEL", key]);
                return;
            }
            let prop = crate::effects::propagating();
            let mut batch: Vec<Vec<u8>> = Vec::new();
            let flush = |batch: &mut Vec<Vec<u8>>| {
                let mut v: Vec<&[u8]> = vec![b"SREM", key];
                v.extend(batch.iter().map(|m| &m[..]));
                crate::effects::propagate(db, &v);
                batch.clear();
            };
            for _ in 0..c {
                let m = s.pop().expect("counted");
                ctx.out.bulk(&m);
                if prop {
                    batch.push(m);
                    if batch.len() == 1024 {
                        flush(&mut batch);
                    }
                }
            }
            if !batch.is_empty() {
                flush(&mut batch);
            }
        },
    );
}

/// SRANDMEMBER key [count]
fn srandmember(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let count = match args.len() {
        2 => None,
        3 => match random_count(ctx, args.get(2)) {
            Some(c) => Some(c),
            None => return,
        },
        _ => return ctx.syntax(),
    };
    coll::read(
        ctx,
        args.get(1),
        T_SET,
        |c| match count {
            None => c.out.null(),
            Some(_) => c.out.array(0),
        },
        |ctx, o| {
            let s = o.as_set();
            let Some(c) = count else {
                let m = s.random().expect("non-empty");
                return reply_member(ctx, &m);
            };
            if random_reply_too_big(ctx, c) {
                return;
            }
            if c < 0 {
                let n = c.unsigned_abs() as usize;
                ctx.out.array(n);
                for _ in 0..n {
                    let m = s.random().expect("non-empty");
                    reply_member(ctx, &m);
                }
                return;
            }
            let mut all = s.members();
            if (c as usize) < all.len() {
                fastrand::shuffle(&mut all);
                all.truncate(c as usize);
            }
            ctx.out.array(all.len());
            for m in &all {
                ctx.out.bulk(m);
            }
        },
    );
}

/// SMOVE source destination member
fn smove(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let (src, dst, m) = (args.get(1), args.get(2), args.get(3));
    let store = &ctx.srv.store;
    let (hs, hd) = (store.hash(src), store.hash(dst));
    let mut locked = store.lock_many([hs, hd]);
    let db = ctx.client.db;
    let (now, lru) = (ctx.now_ms, ctx.lru_clock());
    // Type checks first, both keys, as Redis does.
    let src_ok = match locked.table(hs, db).lookup(hs, src, now) {
        None => return ctx.out.int(0),
        Some(e) => e.kind() == T_SET,
    };
    let dst_ok = locked
        .table(hd, db)
        .lookup(hd, dst, now)
        .is_none_or(|e| e.kind() == T_SET);
    if !src_ok || !dst_ok {
        return ctx.wrongtype();
    }
    if src == dst {
        let t = locked.table(hs, db);
        let g = emberkv_core::ops::write_in(t, hs, src, T_SET, now, lru, None);
        let has = matches!(g, Ok(Some(ref g)) if g.as_set().contains(m));
        return ctx.out.int(has as i64);
    }
    let removed = {
        let t = locked.table(hs, db);
        let Ok(Some(mut g)) = emberkv_core::ops::write_in(t, hs, src, T_SET, now, lru, None) else {
            return ctx.out.int(0);
        };
        let r = g.set().remove(m);
        let empty = g.is_empty();
        drop(g);
        if r {
            ctx.notify(notify::SET, "srem", src);
        }
        if empty {
            t.delete(hs, src);
            ctx.notify_also(notify::GENERIC, "del", src);
        }
        r
    };
    if !removed {
        return ctx.out.int(0);
    }
    let make = move || Obj::Set(Set::for_member(m));
    let t = locked.table(hd, db);
    if let Ok(Some(mut g)) = emberkv_core::ops::write_in(t, hd, dst, T_SET, now, lru, Some(&make)) {
        if g.set().add(m) {
            drop(g);
            ctx.notify(notify::SET, "sadd", dst);
        }
    }
    ctx.out.int(1);
}

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Inter,
    Union,
    Diff,
}

/// The result of SINTER/SUNION/SDIFF over `keys`, as owned members, or
/// Err(()) after replying WRONGTYPE. `limit` stops an intersection early
/// (SINTERCARD).
fn compute(
    ctx: &mut Ctx<'_>,
    locked: &mut crate::store::Locked<'_>,
    hashed: &[(&[u8], u64)],
    op: Op,
    limit: usize,
) -> Result<Vec<Vec<u8>>, ()> {
    let Ok(sets) = coll::read_many(ctx, locked, hashed, &[T_SET]) else {
        ctx.wrongtype();
        return Err(());
    };
    let mut out: Vec<Vec<u8>> = Vec::new();
    match op {
        Op::Inter => {
            if sets.iter().any(|s| s.is_none()) {
                return Ok(out);
            }
            let mut order: Vec<&Set> = sets
                .iter()
                .map(|g| g.as_ref().expect("present").as_set())
                .collect();
            order.sort_by_key(|s| s.len());
            let (first, rest) = order.split_first().expect("at least one key");
            first.for_each(|m| {
                if out.len() >= limit {
                    return;
                }
                m.with(|b| {
                    if rest.iter().all(|s| s.contains(b)) {
                        out.push(b.to_vec());
                    }
                })
            });
        }
        Op::Union => {
            let mut seen: HashSet<Vec<u8>> = HashSet::new();
            for s in sets.iter().flatten() {
                s.as_set().for_each(|m| {
                    let v = m.to_vec();
                    if !seen.contains(&v) {
                        seen.insert(v.clone());
                        out.push(v);
                    }
                });
            }
        }
        Op::Diff => {
            let Some(first) = &sets[0] else {
                return Ok(out);
            };
            let rest: Vec<&Set> = sets[1..].iter().flatten().map(|g| g.as_set()).collect();
            first.as_set().for_each(|m| {
                m.with(|b| {
                    if !rest.iter().any(|s| s.contains(b)) {
                        out.push(b.to_vec());
                    }
                })
            });
        }
    }
    Ok(out)
}

/// Hashes `keys` and locks their shards (plus `extra`'s).
pub(crate) fn lock_keys<'s>(
    store: &'s crate::store::Store,
    keys: &[&'s [u8]],
    extra: Option<u64>,
) -> (Vec<(&'s [u8], u64)>, crate::store::Locked<'s>) {
    let hashed: Vec<(&[u8], u64)> = keys.iter().map(|k| (*k, store.hash(k))).collect();
    let locked = store.lock_many(hashed.iter().map(|x| x.1).chain(extra));
    (hashed, locked)
}

fn set_op(ctx: &mut Ctx<'_>, args: &Args<'_>, op: Op) {
    let keys: Vec<&[u8]> = (1..args.len()).map(|i| args.get(i)).collect();
    let srv = ctx.srv;
    let (hashed, mut locked) = lock_keys(&srv.store, &keys, None);
    if let Ok(ms) = compute(ctx, &mut locked, &hashed, op, usize::MAX) {
        ctx.out.set(ms.len());
        for m in &ms {
            ctx.out.bulk(m);
        }
    }
}

fn set_op_store(ctx: &mut Ctx<'_>, args: &Args<'_>, op: Op) {
    let dst = args.get(1);
    let keys: Vec<&[u8]> = (2..args.len()).map(|i| args.get(i)).collect();
    let srv = ctx.srv;
    let h = srv.store.hash(dst);
    let (hashed, mut locked) = lock_keys(&srv.store, &keys, Some(h));
    let Ok(ms) = compute(ctx, &mut locked, &hashed, op, usize::MAX) else {
        return;
    };
    let t = locked.table(h, ctx.client.db);
    let set = Set::from_members(ms.iter().map(|m| &m[..]));
    let event = match op {
        Op::Inter => "sinterstore",
        Op::Union => "sunionstore",
        Op::Diff => "sdiffstore",
    };
    let n = coll::store_obj(ctx, t, h, dst, Obj::Set(set), notify::SET, event);
    ctx.out.int(n as i64);
}

fn sinter(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    set_op(ctx, args, Op::Inter)
}
fn sunion(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    set_op(ctx, args, Op::Union)
}
fn sdiff(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    set_op(ctx, args, Op::Diff)
}
fn sinterstore(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    set_op_store(ctx, args, Op::Inter)
}
fn sunionstore(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    set_op_store(ctx, args, Op::Union)
}
fn sdiffstore(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    set_op_store(ctx, args, Op::Diff)
}

/// Parses `numkeys key [key ...]` at argument 1; returns (keys, index after).
/// `too_many` is the error when numkeys exceeds the arguments (commands
/// differ in Redis).
pub(crate) fn numkeys<'a>(
    ctx: &mut Ctx<'_>,
    args: &Args<'a>,
    at: usize,
    too_many: &str,
) -> Option<(Vec<&'a [u8]>, usize)> {
    let Some(n) = crate::util::parse_i64(args.get(at)) else {
        ctx.err(errors::NUMKEYS_NOT_POSITIVE);
        return None;
    };
    if n <= 0 {
        ctx.err(errors::NUMKEYS_NOT_POSITIVE);
        return None;
    }
    let n = n as usize;
    if n > args.len() - at - 1 {
        ctx.err(too_many);
        return None;
    }
    Some((
        (at + 1..at + 1 + n).map(|i| args.get(i)).collect(),
        at + 1 + n,
    ))
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit]
fn sintercard(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Some((keys, j)) = numkeys(ctx, args, 1, errors::NUMKEYS_TOO_MANY) else {
        return;
    };
    // SINTERCARD reads LIMIT before the keys (ZINTERCARD after them).
    let limit = match coll::card_limit(args, j) {
        Ok(l) => l,
        Err(e) => return ctx.err(e),
    };
    let srv = ctx.srv;
    let (hashed, mut locked) = lock_keys(&srv.store, &keys, None);
    if let Ok(ms) = compute(ctx, &mut locked, &hashed, Op::Inter, limit) {
        ctx.out.int(ms.len() as i64);
    }
}

/// SSCAN key cursor [MATCH pattern] [COUNT count]
fn sscan(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    coll::scan_collection(ctx, args, T_SET, |ctx, o, s| {
        let set = o.as_set();
        let mut items = Vec::new();
        let mut cursor = s.cursor;
        let mut budget = s.count.saturating_mul(10);
        loop {
            cursor = set.scan(cursor, |m| {
                m.with(|b| {
                    if s.matches(b) {
                        items.push(b.to_vec());
                    }
                })
            });
            budget -= 1;
            if cursor == 0 || items.len() >= s.count || budget == 0 {
                break;
            }
        }
        scan_reply(ctx, cursor, &items);
    });
}

const fn set_cmd(name: &'static str, arity: i32, flags: u32, h: super::Handler) -> Command {
    Command::new(name, arity, flags, h).keys(1, 1, 1)
}

pub static COMMANDS: &[Command] = &[
    set_cmd("sadd", -3, WRITE | DENYOOM | FAST, sadd).doc(Group::Set, "1.0.0", "O(1) for each element added", "Add one or more members to a set"),
    set_cmd("srem", -3, WRITE | FAST, srem).doc(Group::Set, "1.0.0", "O(N) where N is the number of members to be removed.", "Remove one or more members from a set"),
    set_cmd("smembers", 2, READONLY, smembers).tips(&["nondeterministic_output_order"]).doc(Group::Set, "1.0.0", "O(N) where N is the set cardinality.", "Get all the members in a set"),
    set_cmd("sismember", 3, READONLY | FAST, sismember).doc(Group::Set, "1.0.0", "O(1)", "Determine if a given value is a member of a set"),
    set_cmd("smismember", -3, READONLY | FAST, smismember).doc(Group::Set, "6.2.0", "O(N) where N is the number of elements being checked for membership", "Returns the membership associated with the given elements for a set"),
    set_cmd("scard", 2, READONLY | FAST, scard).doc(Group::Set, "1.0.0", "O(1)", "Get the number of members in a set"),
    set_cmd("spop", -2, WRITE | FAST, spop).tips(&["nondeterministic_output"]).doc(Group::Set, "1.0.0", "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.", "Remove and return one or multiple random members from a set"),
    set_cmd("srandmember", -2, READONLY, srandmember).tips(&["nondeterministic_output"]).doc(Group::Set, "1.0.0", "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.", "Get one or multiple random members from a set"),
    Command::new("smove", 4, WRITE | FAST, smove).keys(1, 2, 1).doc(Group::Set, "1.0.0", "O(1)", "Move a member from one set to another"),
    Command::new("sinter", -2, READONLY, sinter).tips(&["nondeterministic_output_order"]).keys(1, -1, 1).doc(Group::Set, "1.0.0", "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.", "Intersect multiple sets"),
    Command::new("sintercard", -3, READONLY | MOVABLE_KEYS, sintercard).keynum(1).doc(Group::Set, "7.0.0", "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.", "Intersect multiple sets and return the cardinality of the result"),
    Command::new("sinterstore", -3, WRITE | DENYOOM, sinterstore).keys(1, -1, 1).doc(Group::Set, "1.0.0", "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.", "Intersect multiple sets and store the resulting set in a key"),
    Command::new("sunion", -2, READONLY, sunion).tips(&["nondeterministic_output_order"]).keys(1, -1, 1).doc(Group::Set, "1.0.0", "O(N) where N is the total number of elements in all given sets.", "Add multiple sets"),
    Command::new("sunionstore", -3, WRITE | DENYOOM, sunionstore).keys(1, -1, 1).doc(Group::Set, "1.0.0", "O(N) where N is the total number of elements in all given sets.", "Add multiple sets and store the resulting set in a key"),
    Command::new("sdiff", -2, READONLY, sdiff).tips(&["nondeterministic_output_order"]).keys(1, -1, 1).doc(Group::Set, "1.0.0", "O(N) where N is the total number of elements in all given sets.", "Subtract multiple sets"),
    Command::new("sdiffstore", -3, WRITE | DENYOOM, sdiffstore).keys(1, -1, 1).doc(Group::Set, "1.0.0", "O(N) where N is the total number of elements in all given sets.", "Subtract multiple sets and store the resulting set in a key"),
    set_cmd("sscan", -3, READONLY, sscan).tips(&["nondeterministic_output"]).doc(Group::Set, "2.6.0", "O(1) for every call. O(N) for a complete iteration.", "Incrementally iterate Set elements"),
];
