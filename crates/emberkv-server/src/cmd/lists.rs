//! List commands. Encodings are in `types/list.rs`; the blocking forms
//! register with `crate::blocking` when there is nothing to pop.

use super::coll;
use super::sets::numkeys;
use super::{flags::*, Args, Command, Ctx, Group};
use crate::blocking::{self, BlockOp, Served};
use crate::errors;
use crate::notify;
use crate::store::entry::T_LIST;
use crate::types::{List, Obj};

pub(crate) fn new_list() -> Obj {
    Obj::List(List::default())
}

/// LPUSH/RPUSH/LPUSHX/RPUSHX
fn push_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, front: bool, only_existing: bool) {
    let create: Option<&dyn Fn() -> Obj> = if only_existing { None } else { Some(&new_list) };
    coll::write(
        ctx,
        args.get(1),
        T_LIST,
        create,
        |c| c.out.int(0),
        |ctx, o| {
            let l = o.list();
            for i in 2..args.len() {
                l.push(front, args.get(i));
            }
            let ev = notify::list_event(front, true);
            ctx.notify_n(notify::LIST, ev, args.get(1), args.len() as u64 - 2);
            ctx.out.int(l.len() as i64)
        },
    );
}

fn lpush(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    push_generic(ctx, args, true, false)
}
fn rpush(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    push_generic(ctx, args, false, false)
}
fn lpushx(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    push_generic(ctx, args, true, true)
}
fn rpushx(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    push_generic(ctx, args, false, true)
}

/// LPOP/RPOP key [count]
fn pop_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, front: bool) {
    // The table's arity is "at least 2"; Redis refuses a third argument
    // in the handler, with the arity error.
    if args.len() > 3 {
        return ctx.err(&errors::wrong_args(&ctx.cmd.full_name));
    }
    let count = if args.len() == 3 {
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
    let r = emberkv_core::ops::lists::pop_from(
        t,
        h,
        key,
        front,
        count.unwrap_or(1),
        ctx.now_ms,
        ctx.lru_clock(),
    );
    if matches!(&r, Ok(Some(v)) if !v.is_empty()) {
        let ev = notify::list_event(front, false);
        let n = r
            .as_ref()
            .map_or(0, |v| v.as_ref().map_or(0, |v| v.len() as u64));
        notify::popped(notify::LIST, ev, key, ctx.client.db, t, h, n);
    }
    match r {
        Err(_) => ctx.wrongtype(),
        Ok(None) => match count {
            None => ctx.out.null(),
            Some(_) => ctx.out.null_array(),
        },
        Ok(Some(v)) => match count {
            None => ctx.out.bulk(&v[0]),
            Some(_) => {
                ctx.out.array(v.len());
                for e in &v {
                    ctx.out.bulk(e);
                }
            }
        },
    }
}

fn lpop(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    pop_generic(ctx, args, true)
}
fn rpop(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    pop_generic(ctx, args, false)
}

/// LLEN key
fn llen(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    coll::read(
        ctx,
        args.get(1),
        T_LIST,
        |c| c.out.int(0),
        |ctx, o| ctx.out.int(o.len() as i64),
    );
}

/// Redis's range normalization: negative indexes count from the end; an
/// empty range is None.
pub fn norm_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut s = if start < 0 { len + start } else { start };
    let mut e = if end < 0 { len + end } else { end };
    if s < 0 {
        s = 0;
    }
    if s > e || s >= len {
        return None;
    }
    if e >= len {
        e = len - 1;
    }
    Some((s as usize, e as usize))
}

/// LRANGE key start stop
fn lrange(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Some(s) = ctx.int_arg(args.get(2)) else {
        return;
    };
    let Some(e) = ctx.int_arg(args.get(3)) else {
        return;
    };
    coll::read(
        ctx,
        args.get(1),
        T_LIST,
        |c| c.out.array(0),
        |ctx, o| {
            let l = o.as_list();
            match norm_range(s, e, l.len()) {
                None => ctx.out.array(0),
                Some((a, b)) => {
                    ctx.out.array(b - a + 1);
                    l.range(a, b, |x| ctx.out.bulk(x));
                }
            }
        },
    );
}

/// LINDEX key index. Redis looks the key up first: a missing key is nil
/// and another type WRONGTYPE whatever the index says.
fn lindex(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    coll::read(
        ctx,
        args.get(1),
        T_LIST,
        |c| c.out.null(),
        |ctx, o| {
            let Some(i) = ctx.int_arg(args.get(2)) else {
                return;
            };
            let l = o.as_list();
            let idx = if i < 0 { l.len() as i64 + i } else { i };
            match (idx >= 0).then(|| l.get(idx as usize)).flatten() {
                Some(v) => ctx.out.bulk(v),
                None => ctx.out.null(),
            }
        },
    );
}

/// LSET key index element (key checked before the index, as LINDEX).
fn lset(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    coll::write(
        ctx,
        args.get(1),
        T_LIST,
        None,
        |c| c.err(errors::NO_SUCH_KEY),
        |ctx, o| {
            let Some(i) = ctx.int_arg(args.get(2)) else {
                return;
            };
            let l = o.list();
            let idx = if i < 0 { l.len() as i64 + i } else { i };
            if idx >= 0 && l.set(idx as usize, args.get(3)) {
                ctx.notify(notify::LIST, "lset", args.get(1));
                ctx.out.ok()
            } else {
                ctx.err(errors::INDEX_OUT_OF_RANGE)
            }
        },
    );
}

/// LINSERT key BEFORE|AFTER pivot element
fn linsert(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let after = if args.is(2, "after") {
        true
    } else if args.is(2, "before") {
        false
    } else {
        return ctx.syntax();
    };
    coll::write(
        ctx,
        args.get(1),
        T_LIST,
        None,
        |c| c.out.int(0),
        |ctx, o| {
            let l = o.list();
            if l.insert(args.get(3), after, args.get(4)) {
                ctx.notify(notify::LIST, "linsert", args.get(1));
                ctx.out.int(l.len() as i64)
            } else {
                ctx.out.int(-1)
            }
        },
    );
}

/// LREM key count element
fn lrem(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Some(c) = ctx.int_arg(args.get(2)) else {
        return;
    };
    coll::write(
        ctx,
        args.get(1),
        T_LIST,
        None,
        |c| c.out.int(0),
        |ctx, o| {
            let n = o.list().rem(c, args.get(3));
            if n > 0 {
                ctx.notify_n(notify::LIST, "lrem", args.get(1), n as u64);
            }
            ctx.out.int(n as i64)
        },
    );
}

/// LTRIM key start stop
fn ltrim(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Some(s) = ctx.int_arg(args.get(2)) else {
        return;
    };
    let Some(e) = ctx.int_arg(args.get(3)) else {
        return;
    };
    coll::write(
        ctx,
        args.get(1),
        T_LIST,
        None,
        |c| c.out.ok(),
        |ctx, o| {
            let l = o.list();
            let (keep, before) = (norm_range(s, e, l.len()), l.len());
            l.trim(keep);
            // Notified even when nothing went; counted by what went.
            let removed = (before - l.len()) as u64;
            ctx.notify_n(notify::LIST, "ltrim", args.get(1), removed);
            ctx.out.ok()
        },
    );
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
fn lpos(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let (mut rank, mut count, mut maxlen) = (1i64, None::<i64>, 0i64);
    let mut j = 3;
    while j < args.len() {
        if j + 1 >= args.len() {
            return ctx.syntax();
        }
        let v = crate::util::parse_i64(args.get(j + 1));
        // COUNT and MAXLEN give their "can't be negative" text for a value
        // that is not an integer as well (getPositiveLongFromObjectOrReply).
        if args.is(j, "rank") {
            let Some(v) = v else {
                return ctx.err(errors::NOT_INT);
            };
            if v == 0 {
                return ctx.err(errors::RANK_ZERO);
            }
            rank = v;
        } else if args.is(j, "count") {
            match v {
                Some(v) if v >= 0 => count = Some(v),
                _ => return ctx.err(errors::COUNT_NEGATIVE),
            }
        } else if args.is(j, "maxlen") {
            match v {
                Some(v) if v >= 0 => maxlen = v,
                _ => return ctx.err(errors::MAXLEN_NEGATIVE),
            }
        } else {
            return ctx.syntax();
        }
        j += 2;
    }
    let elem = args.get(2);
    coll::read(
        ctx,
        args.get(1),
        T_LIST,
        |c| match count {
            None => c.out.null(),
            Some(_) => c.out.array(0),
        },
        |ctx, o| {
            let l = o.as_list();
            let n = l.len();
            // Redis's loop, in its (wrapping) long arithmetic: a negative
            // rank searches from the tail with rank = -rank, which for
            // LONG_MIN stays negative, so every match qualifies and a COUNT
            // is never reached (7.0 answers the last match, or all of them).
            let from_tail = rank < 0;
            let rank = if from_tail { rank.wrapping_neg() } else { rank };
            let limit = if maxlen == 0 {
                n
            } else {
                (maxlen as usize).min(n)
            };
            let it: Box<dyn Iterator<Item = (usize, &[u8])>> = if from_tail {
                Box::new(
                    l.iter()
                        .rev()
                        .enumerate()
                        .map(|(i, e)| (n - 1 - i, e))
                        .take(limit),
                )
            } else {
                Box::new(l.iter().enumerate().take(limit))
            };
            let mut matches = 0i64;
            let mut hits = Vec::new();
            for (i, e) in it {
                if e != elem {
                    continue;
                }
                matches += 1;
                if matches < rank {
                    continue;
                }
                hits.push(i as i64);
                match count {
                    None => break,
                    Some(c) if c != 0 && matches.wrapping_sub(rank).wrapping_add(1) >= c => break,
                    Some(_) => {}
                }
            }
            match count {
                None => match hits.first() {
                    Some(&i) => ctx.out.int(i),
                    None => ctx.out.null(),
                },
                Some(_) => {
                    ctx.out.array(hits.len());
                    for i in hits {
                        ctx.out.int(i);
                    }
                }
            }
        },
    );
}

fn side(ctx: &mut Ctx<'_>, a: &[u8]) -> Option<bool> {
    if a.eq_ignore_ascii_case(b"left") {
        Some(true)
    } else if a.eq_ignore_ascii_case(b"right") {
        Some(false)
    } else {
        ctx.syntax();
        None
    }
}

/// Runs `op` now; if there is nothing to pop, blocks the client (or, with
/// `timeout` None, replies the empty result).
pub(crate) fn run_block_op(ctx: &mut Ctx<'_>, op: BlockOp, timeout: Option<i64>) {
    match op.try_serve(
        ctx.srv,
        ctx.client.db,
        ctx.now_ms,
        blocking::Caller::Command,
        &mut ctx.out,
    ) {
        Served::Yes => {}
        Served::WrongType => ctx.wrongtype(),
        // Inside MULTI/EXEC or a script a blocking command does not block.
        Served::No => match timeout {
            Some(t) if !ctx.client.nested => blocking::block(ctx, op, t),
            _ => op.reply_empty(&mut ctx.out),
        },
    }
}

/// LMOVE source destination LEFT|RIGHT LEFT|RIGHT
fn lmove(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Some(from) = side(ctx, args.get(3)) else {
        return;
    };
    let Some(to) = side(ctx, args.get(4)) else {
        return;
    };
    let op = BlockOp::ListMove {
        src: args.get(1).to_vec(),
        dst: args.get(2).to_vec(),
        from_front: from,
        to_front: to,
    };
    run_block_op(ctx, op, None);
}

/// RPOPLPUSH source destination
fn rpoplpush(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let op = BlockOp::ListMove {
        src: args.get(1).to_vec(),
        dst: args.get(2).to_vec(),
        from_front: false,
        to_front: true,
    };
    run_block_op(ctx, op, None);
}

/// Parses `numkeys key... LEFT|RIGHT [COUNT n]` from argument `at`.
pub(crate) fn parse_mpop_args(
    ctx: &mut Ctx<'_>,
    args: &Args<'_>,
    at: usize,
    zset: bool,
) -> Option<(Vec<Vec<u8>>, bool, usize)> {
    let (keys, mut j) = numkeys(ctx, args, at, crate::errors::SYNTAX)?;
    if j >= args.len() {
        ctx.syntax();
        return None;
    }
    let a = args.get(j);
    let first = if zset {
        if a.eq_ignore_ascii_case(b"min") {
            true
        } else if a.eq_ignore_ascii_case(b"max") {
            false
        } else {
            ctx.syntax();
            return None;
        }
    } else {
        side(ctx, a)?
    };
    j += 1;
    let mut count = None;
    while j < args.len() {
        if args.is(j, "count") && j + 1 < args.len() && count.is_none() {
            match crate::util::parse_i64(args.get(j + 1)) {
                Some(c) if c > 0 => count = Some(c as usize),
                _ => {
                    ctx.err(errors::COUNT_NOT_POSITIVE);
                    return None;
                }
            }
            j += 2;
        } else {
            ctx.syntax();
            return None;
        }
    }
    Some((
        keys.iter().map(|k| k.to_vec()).collect(),
        first,
        count.unwrap_or(1),
    ))
}

/// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]
fn lmpop(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Some((keys, front, count)) = parse_mpop_args(ctx, args, 1, false) else {
        return;
    };
    run_block_op(ctx, BlockOp::ListMPop { keys, front, count }, None);
}

/// Parses a blocking timeout in seconds (Redis's rules: `num::timeout_ms`)
/// to an absolute deadline in ms (0: forever). A deadline past the end of
/// time saturates: Redis's own sum wraps, and the client then never times
/// out either.
pub fn timeout_arg(ctx: &mut Ctx<'_>, a: &[u8]) -> Option<i64> {
    match super::num::timeout_ms(a) {
        Ok(0) => Some(0),
        Ok(ms) => Some(ctx.now_ms.saturating_add(ms)),
        Err(e) => {
            ctx.err(e);
            None
        }
    }
}

/// BLPOP/BRPOP key [key ...] timeout
fn bpop_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, front: bool) {
    if let Some((keys, deadline)) = keys_then_timeout(ctx, args) {
        run_block_op(ctx, BlockOp::ListPop { keys, front }, Some(deadline));
    }
}

/// `key [key ...] timeout` (BLPOP, BRPOP, BZPOPMIN, BZPOPMAX).
pub(crate) fn keys_then_timeout(ctx: &mut Ctx<'_>, args: &Args<'_>) -> Option<(Vec<Vec<u8>>, i64)> {
    let deadline = timeout_arg(ctx, args.get(args.len() - 1))?;
    let keys = (1..args.len() - 1).map(|i| args.get(i).to_vec()).collect();
    Some((keys, deadline))
}

fn blpop(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    bpop_generic(ctx, args, true)
}
fn brpop(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    bpop_generic(ctx, args, false)
}

/// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout
fn blmove(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Some(from) = side(ctx, args.get(3)) else {
        return;
    };
    let Some(to) = side(ctx, args.get(4)) else {
        return;
    };
    let Some(deadline) = timeout_arg(ctx, args.get(5)) else {
        return;
    };
    let op = BlockOp::ListMove {
        src: args.get(1).to_vec(),
        dst: args.get(2).to_vec(),
        from_front: from,
        to_front: to,
    };
    run_block_op(ctx, op, Some(deadline));
}

/// BRPOPLPUSH source destination timeout
fn brpoplpush(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Some(deadline) = timeout_arg(ctx, args.get(3)) else {
        return;
    };
    let op = BlockOp::ListMove {
        src: args.get(1).to_vec(),
        dst: args.get(2).to_vec(),
        from_front: false,
        to_front: true,
    };
    run_block_op(ctx, op, Some(deadline));
}

/// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]
/// (Redis reads the timeout after the other arguments.)
fn blmpop(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Some((keys, front, count)) = parse_mpop_args(ctx, args, 2, false) else {
        return;
    };
    let Some(deadline) = timeout_arg(ctx, args.get(1)) else {
        return;
    };
    run_block_op(
        ctx,
        BlockOp::ListMPop { keys, front, count },
        Some(deadline),
    );
}

const fn list_cmd(name: &'static str, arity: i32, flags: u32, h: super::Handler) -> Command {
    Command::new(name, arity, flags, h).keys(1, 1, 1)
}

pub static COMMANDS: &[Command] = &[
    list_cmd("lpush", -3, WRITE | DENYOOM | FAST, lpush).doc(Group::List, "1.0.0", "O(1) for each element added", "Prepend one or multiple elements to a list"),
    list_cmd("rpush", -3, WRITE | DENYOOM | FAST, rpush).doc(Group::List, "1.0.0", "O(1) for each element added", "Append one or multiple elements to a list"),
    list_cmd("lpushx", -3, WRITE | DENYOOM | FAST, lpushx).doc(Group::List, "2.2.0", "O(1) for each element added", "Prepend an element to a list, only if the list exists"),
    list_cmd("rpushx", -3, WRITE | DENYOOM | FAST, rpushx).doc(Group::List, "2.2.0", "O(1) for each element added", "Append an element to a list, only if the list exists"),
    list_cmd("lpop", -2, WRITE | FAST, lpop).doc(Group::List, "1.0.0", "O(N) where N is the number of elements returned", "Remove and get the first elements in a list"),
    list_cmd("rpop", -2, WRITE | FAST, rpop).doc(Group::List, "1.0.0", "O(N) where N is the number of elements returned", "Remove and get the last elements in a list"),
    list_cmd("llen", 2, READONLY | FAST, llen).doc(Group::List, "1.0.0", "O(1)", "Get the length of a list"),
    list_cmd("lrange", 4, READONLY, lrange).doc(Group::List, "1.0.0", "O(S+N)", "Get a range of elements from a list"),
    list_cmd("lindex", 3, READONLY, lindex).doc(Group::List, "1.0.0", "O(N)", "Get an element from a list by its index"),
    list_cmd("lset", 4, WRITE | DENYOOM, lset).doc(Group::List, "1.0.0", "O(N)", "Set the value of an element in a list by its index"),
    list_cmd("linsert", 5, WRITE | DENYOOM, linsert).doc(Group::List, "2.2.0", "O(N)", "Insert an element before or after another element in a list"),
    list_cmd("lrem", 4, WRITE, lrem).doc(Group::List, "1.0.0", "O(N+M)", "Remove elements from a list"),
    list_cmd("ltrim", 4, WRITE, ltrim).doc(Group::List, "1.0.0", "O(N)", "Trim a list to the specified range"),
    list_cmd("lpos", -3, READONLY, lpos).doc(Group::List, "6.0.6", "O(N)", "Return the index of matching elements on a list"),
    Command::new("lmove", 5, WRITE | DENYOOM, lmove).keys(1, 2, 1).doc(Group::List, "6.2.0", "O(1)", "Pop an element from a list, push it to another list and return it"),
    Command::new("rpoplpush", 3, WRITE | DENYOOM, rpoplpush).keys(1, 2, 1).doc(Group::List, "1.2.0", "O(1)", "Remove the last element in a list, prepend it to another list and return it"),
    Command::new("lmpop", -4, WRITE | MOVABLE_KEYS, lmpop).keynum(1).doc(Group::List, "7.0.0", "O(N+M)", "Pop elements from a list"),
    Command::new("blpop", -3, WRITE | NOSCRIPT | BLOCKING, blpop).keys(1, -2, 1).doc(Group::List, "2.0.0", "O(N) where N is the number of provided keys.", "Remove and get the first element in a list, or block until one is available"),
    Command::new("brpop", -3, WRITE | NOSCRIPT | BLOCKING, brpop).keys(1, -2, 1).doc(Group::List, "2.0.0", "O(N) where N is the number of provided keys.", "Remove and get the last element in a list, or block until one is available"),
    Command::new("blmove", 6, WRITE | DENYOOM | NOSCRIPT | BLOCKING, blmove).keys(1, 2, 1).doc(Group::List, "6.2.0", "O(1)", "Pop an element from a list, push it to another list and return it; or block until one is available"),
    Command::new("brpoplpush", 4, WRITE | DENYOOM | NOSCRIPT | BLOCKING, brpoplpush).keys(1, 2, 1).doc(Group::List, "2.2.0", "O(1)", "Pop an element from a list, push it to another list and return it; or block until one is available"),
    Command::new("blmpop", -5, WRITE | BLOCKING | MOVABLE_KEYS, blmpop).keynum(2).doc(Group::List, "7.0.0", "O(N+M)", "Pop elements from a list, or block until one is available"),
];
