//! Expiry commands: EXPIRE family, TTL family, PERSIST.

use super::{acl, flags::*, Args, Command, Ctx, Group};
use crate::errors;

const NX: u8 = 1;
const XX: u8 = 2;
const GT: u8 = 4;
const LT: u8 = 8;

/// EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT key time [NX|XX|GT|LT]
fn expire_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, ms: bool, absolute: bool) {
    let mut fl = 0u8;
    for i in 3..args.len() {
        let a = args.get(i);
        fl |= match a.to_ascii_lowercase().as_slice() {
            b"nx" => NX,
            b"xx" => XX,
            b"gt" => GT,
            b"lt" => LT,
            _ => {
                return ctx.err(&errors::unsupported_option(a));
            }
        };
    }
    if fl & NX != 0 && fl & (XX | GT | LT) != 0 {
        return ctx.err(errors::NX_AND_XX_GT_LT);
    }
    if fl & GT != 0 && fl & LT != 0 {
        return ctx.err(errors::GT_AND_LT);
    }
    let Some(mut when) = ctx.int_arg(args.get(2)) else {
        return;
    };
    let name = ctx.cmd.full_name.clone();
    if !ms {
        if !(i64::MIN / 1000..=i64::MAX / 1000).contains(&when) {
            return ctx.err(&errors::invalid_expire(&name));
        }
        when *= 1000;
    }
    let base = if absolute { 0 } else { ctx.now_ms };
    if when > i64::MAX - base {
        return ctx.err(&errors::invalid_expire(&name));
    }
    when += base;
    let key = args.get(1);
    let h = ctx.srv.store.hash(key);
    let mut shard = ctx.srv.store.lock(h);
    let t = &mut shard.dbs[ctx.client.db];
    let Some(e) = t.lookup(h, key, ctx.now_ms) else {
        return ctx.out.int(0);
    };
    let cur = e.expire_at();
    let refused = (fl & NX != 0 && cur.is_some())
        || (fl & XX != 0 && cur.is_none())
        || (fl & GT != 0 && cur.is_none_or(|c| when <= c))
        || (fl & LT != 0 && cur.is_some_and(|c| when >= c));
    if refused {
        return ctx.out.int(0);
    }
    let event = if when <= ctx.now_ms {
        t.delete(h, key);
        "del"
    } else {
        emberkv_core::ops::set_expire(t, h, key, Some(when));
        "expire"
    };
    drop(shard);
    ctx.out.int(1);
    ctx.notify(crate::notify::GENERIC, event, key);
    // Propagated with the absolute deadline (PEXPIREAT key ms [options]),
    // or as the deletion when the deadline has passed, as Redis does.
    if crate::effects::propagating() {
        let db = ctx.client.db;
        if event == "del" {
            crate::effects::propagate(db, &[crate::effects::del_verb(), key]);
        } else {
            let at = itoa::Buffer::new().format(when).to_owned();
            let mut v: Vec<&[u8]> = vec![b"PEXPIREAT", key, at.as_bytes()];
            v.extend(args.iter().skip(3));
            crate::effects::propagate(db, &v);
        }
    }
}

fn expire(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    expire_generic(ctx, args, false, false)
}
fn pexpire(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    expire_generic(ctx, args, true, false)
}
fn expireat(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    expire_generic(ctx, args, false, true)
}
fn pexpireat(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    expire_generic(ctx, args, true, true)
}

/// What TTL-reading commands report.
enum Ttl {
    Remaining { ms: bool },
    Absolute { ms: bool },
}

fn ttl_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, kind: Ttl) {
    let key = args.get(1);
    let h = ctx.srv.store.hash(key);
    let mut shard = ctx.srv.store.lock(h);
    let found = shard.dbs[ctx.client.db].lookup(h, key, ctx.now_ms);
    super::keys::count_lookup(ctx, found.is_some(), key, true);
    let Some(e) = found else {
        return ctx.out.int(-2);
    };
    let Some(at) = e.expire_at() else {
        return ctx.out.int(-1);
    };
    let v = match kind {
        Ttl::Remaining { ms } => {
            let left = (at - ctx.now_ms).max(0);
            if ms {
                left
            } else {
                (left + 500) / 1000
            }
        }
        Ttl::Absolute { ms } => {
            if ms {
                at
            } else {
                at / 1000
            }
        }
    };
    ctx.out.int(v);
}

fn ttl(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    ttl_generic(ctx, args, Ttl::Remaining { ms: false })
}
fn pttl(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    ttl_generic(ctx, args, Ttl::Remaining { ms: true })
}
fn expiretime(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    ttl_generic(ctx, args, Ttl::Absolute { ms: false })
}
fn pexpiretime(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    ttl_generic(ctx, args, Ttl::Absolute { ms: true })
}

/// PERSIST key
fn persist(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let key = args.get(1);
    let h = ctx.srv.store.hash(key);
    let mut shard = ctx.srv.store.lock(h);
    let t = &mut shard.dbs[ctx.client.db];
    let had = match t.lookup(h, key, ctx.now_ms) {
        Some(e) => e.expire_at().is_some(),
        None => false,
    };
    if had {
        emberkv_core::ops::set_expire(t, h, key, None);
    }
    drop(shard);
    ctx.out.int(had as i64);
    if had {
        ctx.notify(crate::notify::GENERIC, "persist", key);
    }
}

const G: Group = Group::Generic;
const K: u32 = acl::KEYSPACE;

pub static COMMANDS: &[Command] = &[
    Command::new("expire", -3, WRITE | FAST, expire)
        .keys(1, 1, 1)
        .acl(K)
        .doc(G, "1.0.0", "O(1)", "Sets a key's time to live in seconds."),
    Command::new("pexpire", -3, WRITE | FAST, pexpire)
        .keys(1, 1, 1)
        .acl(K)
        .doc(
            G,
            "2.6.0",
            "O(1)",
            "Sets a key's time to live in milliseconds.",
        ),
    Command::new("expireat", -3, WRITE | FAST, expireat)
        .keys(1, 1, 1)
        .acl(K)
        .doc(
            G,
            "1.2.0",
            "O(1)",
            "Sets a key's expiry as a Unix time in seconds.",
        ),
    Command::new("pexpireat", -3, WRITE | FAST, pexpireat)
        .keys(1, 1, 1)
        .acl(K)
        .doc(
            G,
            "2.6.0",
            "O(1)",
            "Sets a key's expiry as a Unix time in milliseconds.",
        ),
    Command::new("ttl", 2, READONLY | FAST, ttl)
        .tips(&["nondeterministic_output"])
        .keys(1, 1, 1)
        .acl(K)
        .doc(
            G,
            "1.0.0",
            "O(1)",
            "Returns a key's time to live in seconds.",
        ),
    Command::new("pttl", 2, READONLY | FAST, pttl)
        .tips(&["nondeterministic_output"])
        .keys(1, 1, 1)
        .acl(K)
        .doc(
            G,
            "2.6.0",
            "O(1)",
            "Returns a key's time to live in milliseconds.",
        ),
    Command::new("expiretime", 2, READONLY | FAST, expiretime)
        .keys(1, 1, 1)
        .acl(K)
        .doc(
            G,
            "7.0.0",
            "O(1)",
            "Returns a key's expiry as a Unix time in seconds.",
        ),
    Command::new("pexpiretime", 2, READONLY | FAST, pexpiretime)
        .keys(1, 1, 1)
        .acl(K)
        .doc(
            G,
            "7.0.0",
            "O(1)",
            "Returns a key's expiry as a Unix time in milliseconds.",
        ),
    Command::new("persist", 2, WRITE | FAST, persist)
        .keys(1, 1, 1)
        .acl(K)
        .doc(G, "2.2.0", "O(1)", "Removes a key's time to live."),
];
