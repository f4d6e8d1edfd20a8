//! SET and the commands built on it (SETNX, SETEX, PSETEX, GETSET) and
//! GETEX, which shares SET's option parser: options parsed as Redis's
//! parseExtendedStringArgumentsOrReply does, relative TTLs turned into the
//! absolute deadlines that are stored and propagated.

use super::*;

/// The expiry flag of SET/GETEX.
#[derive(Clone, Copy, PartialEq)]
enum Ttl {
    Ex,
    Px,
    ExAt,
    PxAt,
}

/// Options shared by SET and GETEX; the expiry value is still text.
#[derive(Default)]
struct SetOpts<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    ttl: Option<(Ttl, &'a [u8])>,
}

/// Parses `[NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL|PERSIST]` from
/// argument `from` on, as parseExtendedStringArgumentsOrReply: a flag may
/// come again (the last value wins), but flags that contradict each other
/// (NX and XX, two different expiry kinds...) are a syntax error. `set`
/// selects SET's options, else GETEX's. The expiry value is read by
/// [`expire_at`]: GETEX does that only after looking the key up.
fn parse_set_opts<'a>(
    ctx: &mut Ctx<'_>,
    args: &Args<'a>,
    from: usize,
    set: bool,
) -> Option<SetOpts<'a>> {
    let mut o = SetOpts::default();
    let mut j = from;
    while j < args.len() {
        let a = args.get(j);
        let has_next = j + 1 < args.len();
        let is = |s: &str| a.eq_ignore_ascii_case(s.as_bytes());
        let kind = if is("ex") {
            Some(Ttl::Ex)
        } else if is("px") {
            Some(Ttl::Px)
        } else if is("exat") {
            Some(Ttl::ExAt)
        } else if is("pxat") {
            Some(Ttl::PxAt)
        } else {
            None
        };
        let no_ttl = o.ttl.is_none();
        if set && is("nx") && !o.xx {
            o.nx = true;
        } else if set && is("xx") && !o.nx {
            o.xx = true;
        } else if set && is("get") {
            o.get = true;
        } else if set && is("keepttl") && no_ttl && !o.persist {
            o.keepttl = true;
        } else if !set && is("persist") && no_ttl && !o.keepttl {
            o.persist = true;
        } else if let Some(k) = kind
            .filter(|&k| has_next && !o.keepttl && !o.persist && o.ttl.is_none_or(|(t, _)| t == k))
        {
            o.ttl = Some((k, args.get(j + 1)));
            j += 1;
        } else {
            ctx.syntax();
            return None;
        }
        j += 1;
    }
    Some(o)
}

/// The absolute deadline (ms) an expiry option asks for
/// (getExpireMillisecondsOrReply), or None after replying Redis's error.
fn expire_at(ctx: &mut Ctx<'_>, (kind, raw): (Ttl, &[u8]), name: &str) -> Option<i64> {
    let v = ctx.int_arg(raw)?;
    let ms = matches!(kind, Ttl::Px | Ttl::PxAt);
    if v <= 0 || (!ms && v > i64::MAX / 1000) {
        ctx.err(&errors::invalid_expire(name));
        return None;
    }
    let v = if ms { v } else { v * 1000 };
    let at = match kind {
        Ttl::ExAt | Ttl::PxAt => Some(v),
        Ttl::Ex | Ttl::Px => v.checked_add(ctx.now_ms),
    };
    match at {
        Some(at) if at > 0 => Some(at),
        _ => {
            ctx.err(&errors::invalid_expire(name));
            None
        }
    }
}

/// SET key value [NX|XX] [GET] [EX|PX|EXAT|PXAT t|KEEPTTL]
pub(super) fn set(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Some(o) = parse_set_opts(ctx, args, 3, true) else {
        return;
    };
    let expire = match (o.ttl, o.keepttl) {
        (Some(ttl), _) => match expire_at(ctx, ttl, "set") {
            Some(t) => Expire::At(t),
            None => return,
        },
        (None, true) => Expire::Keep,
        (None, false) => Expire::None,
    };
    set_generic(ctx, args.get(1), args.get(2), expire, o.nx, o.xx, o.get);
}

/// Shared by SET, SETNX, SETEX, PSETEX, GETSET.
pub(super) fn set_generic(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    val: &[u8],
    expire: Expire,
    nx: bool,
    xx: bool,
    get: bool,
) -> bool {
    let h = ctx.srv.store.hash(key);
    let mut shard = ctx.srv.store.lock(h);
    let t = &mut shard.dbs[ctx.client.db];
    let lru = ctx.lru_clock();
    let found = match t.lookup(h, key, ctx.now_ms) {
        Some(e) if get && e.kind() != T_STRING => {
            ctx.wrongtype();
            return false;
        }
        Some(e) => {
            if get {
                ctx.out.bulk(e.str_value());
            }
            true
        }
        None => {
            if get {
                ctx.out.null();
            }
            false
        }
    };
    if (nx && found) || (xx && !found) {
        if !get {
            ctx.out.null();
        }
        return false;
    }
    write_string(
        t,
        At {
            h,
            key,
            now: ctx.now_ms,
            lru,
        },
        val,
        expire,
        0,
    );
    drop(shard);
    if !get {
        ctx.out.ok();
    }
    ctx.notify(notify::STRING, "set", key);
    if let Expire::At(at) = expire {
        ctx.notify_also(notify::GENERIC, "expire", key);
        // A relative TTL (SET EX/PX, SETEX, PSETEX) is propagated as the
        // absolute deadline it gave: SET key value PXAT ms, as Redis does.
        if crate::effects::propagating() {
            let at = itoa::Buffer::new().format(at).to_owned();
            crate::effects::propagate(ctx.client.db, &[b"SET", key, val, b"PXAT", at.as_bytes()]);
        }
    }
    true
}

/// SETNX key value
pub(super) fn setnx(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let mut scratch = Vec::new();
    let ok = {
        // SETNX replies with an integer, so run SET NX into a scratch buffer.
        let mut sub = Ctx {
            srv: ctx.srv,
            client: ctx.client,
            out: emberkv_protocol::ReplyWriter::new(&mut scratch, ctx.out.resp),
            now_ms: ctx.now_ms,
            stats: ctx.stats,
            cmd: ctx.cmd,
        };
        set_generic(
            &mut sub,
            args.get(1),
            args.get(2),
            Expire::None,
            true,
            false,
            false,
        )
    };
    ctx.out.int(ok as i64);
}

/// SETEX key seconds value / PSETEX key milliseconds value
fn setex_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, ms: bool) {
    let Some(v) = ctx.int_arg(args.get(2)) else {
        return;
    };
    let name = if ms { "psetex" } else { "setex" };
    let at = if v <= 0 || (!ms && v > i64::MAX / 1000) {
        None
    } else {
        (if ms { v } else { v * 1000 }).checked_add(ctx.now_ms)
    };
    let Some(at) = at else {
        ctx.err(&errors::invalid_expire(name));
        return;
    };
    set_generic(
        ctx,
        args.get(1),
        args.get(3),
        Expire::At(at),
        false,
        false,
        false,
    );
}

pub(super) fn setex(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    setex_generic(ctx, args, false)
}

pub(super) fn psetex(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    setex_generic(ctx, args, true)
}

/// GETSET key value
pub(super) fn getset(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    set_generic(
        ctx,
        args.get(1),
        args.get(2),
        Expire::None,
        false,
        false,
        true,
    );
}

/// GETEX key [EX s|PX ms|EXAT s|PXAT ms|PERSIST]. As in Redis, the flags
/// are checked first, then the key (missing: nil, other type: WRONGTYPE),
/// and only then the expiry value.
pub(super) fn getex(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Some(o) = parse_set_opts(ctx, args, 2, false) else {
        return;
    };
    let key = args.get(1);
    let h = ctx.srv.store.hash(key);
    let mut shard = ctx.srv.store.lock(h);
    let t = &mut shard.dbs[ctx.client.db];
    let v = match get_str(ctx, t, h, key) {
        Ok(Some(v)) => v,
        Ok(None) => return ctx.out.null(),
        Err(_) => return ctx.wrongtype(),
    };
    let at = match o.ttl {
        Some(ttl) => match expire_at(ctx, ttl, "getex") {
            Some(at) => Some(at),
            None => return,
        },
        None => None,
    };
    // Reply straight from the entry, then change its TTL (no copy).
    ctx.out.bulk(v);
    let event = if let Some(at) = at {
        if at <= ctx.now_ms {
            t.delete(h, key);
            "del"
        } else {
            emberkv_core::ops::set_expire(t, h, key, Some(at));
            "expire"
        }
    } else if o.persist {
        // A key without a TTL is left alone: no event, and a WATCH on it
        // holds, as in Redis.
        let had = t
            .lookup(h, key, ctx.now_ms)
            .is_some_and(|e| e.expire_at().is_some());
        if !had {
            return;
        }
        emberkv_core::ops::set_expire(t, h, key, None);
        "persist"
    } else {
        return;
    };
    drop(shard);
    ctx.notify(notify::GENERIC, event, key);
    // Propagated as its effect: the deletion, PEXPIREAT with the deadline,
    // or PERSIST.
    if crate::effects::propagating() {
        let db = ctx.client.db;
        match (event, at) {
            ("del", _) => crate::effects::propagate(db, &[crate::effects::del_verb(), key]),
            (_, Some(at)) => {
                let at = itoa::Buffer::new().format(at).to_owned();
                crate::effects::propagate(db, &[b"PEXPIREAT", key, at.as_bytes()]);
            }
            _ => crate::effects::propagate(db, &[b"PERSIST", key]),
        }
    }
}
