//! Consumer groups: XGROUP's subcommands, XACK, XPENDING, XCLAIM and
//! XAUTOCLAIM. XCLAIM and XAUTOCLAIM propagate what they did (an XCLAIM
//! per entry claimed or dropped, XGROUP SETID for a moved last ID), never
//! their own text.

use super::{bulk_id, id_arg, interval_id, range_end, range_start, reply_entry, strict_id, write};
use crate::cmd::{Args, Ctx};
use crate::effects;
use crate::errors;
use crate::notify;
use crate::types::stream::group::ENTRIES_READ_UNKNOWN;
use crate::types::stream::{CGroup, Id, Nack, Stream};
use emberkv_protocol::ReplyWriter;

fn sub_syntax(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    ctx.out
        .error_bytes(&errors::subcommand_syntax(args.get(1), "xgroup"));
}

/// MKSTREAM / ENTRIESREAD after `XGROUP CREATE|SETID key group id`.
fn group_opts(ctx: &mut Ctx<'_>, args: &Args<'_>, create: bool) -> Option<(bool, i64)> {
    let (mut mkstream, mut er) = (false, ENTRIES_READ_UNKNOWN);
    let mut i = 5;
    while i < args.len() {
        if create && args.is(i, "mkstream") {
            mkstream = true;
            i += 1;
        } else if args.is(i, "entriesread") && i + 1 < args.len() {
            er = ctx.int_arg(args.get(i + 1))?;
            if er < 0 && er != ENTRIES_READ_UNKNOWN {
                ctx.err(errors::ENTRIESREAD_RANGE);
                return None;
            }
            i += 2;
        } else {
            sub_syntax(ctx, args);
            return None;
        }
    }
    Some((mkstream, er))
}

/// The group of an XGROUP subcommand that needs one, or None after
/// replying NOGROUP.
fn need_group<'s>(ctx: &mut Ctx<'_>, args: &Args<'_>, s: &'s mut Stream) -> Option<&'s mut CGroup> {
    let g = s.group_mut(args.get(3));
    if g.is_none() {
        ctx.out
            .error_bytes(&errors::nogroup_on(args.get(3), args.get(2)));
    }
    g
}

/// XGROUP CREATE key group id|$ [MKSTREAM] [ENTRIESREAD n]
pub fn create(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Some((mkstream, er)) = group_opts(ctx, args, true) else {
        return;
    };
    let key = args.get(2);
    if args.len() > 8 {
        // Checked after the key in Redis, which needs the key first.
        let r = write(ctx, key, false, |ctx, _| sub_syntax(ctx, args));
        if r == Err(false) {
            if mkstream {
                sub_syntax(ctx, args);
            } else {
                ctx.err(errors::XGROUP_NEED_KEY);
            }
        }
        return;
    }
    // A group made on an existing stream is not a change Redis signals
    // (no WATCH); one whose MKSTREAM made the stream is.
    let run = |ctx: &mut Ctx<'_>, s: &mut Stream, class: u32| {
        let id = if args.get(4) == b"$" {
            s.last_id
        } else {
            strict_id(ctx, args.get(4))?
        };
        let groups = s.groups.get_or_insert_with(Default::default);
        let name = args.get(3);
        if groups.contains_key(name) {
            ctx.err(errors::BUSYGROUP);
            return None;
        }
        groups.insert(name.into(), CGroup::new(id, er));
        ctx.out.ok();
        ctx.notify(class, "xgroup-create", key);
        Some(())
    };
    match write(ctx, key, false, |ctx, s| {
        run(ctx, s, notify::STREAM | notify::QUIET);
    }) {
        Err(false) if !mkstream => ctx.err(errors::XGROUP_NEED_KEY),
        Err(false) => {
            // The ID is checked before the stream is created.
            if args.get(4) != b"$" && super::parse_id_generic(args.get(4), 0, true, false).is_none()
            {
                return ctx.err(errors::STREAM_BAD_ID);
            }
            let _ = write(ctx, key, true, |ctx, s| {
                run(ctx, s, notify::STREAM);
            });
        }
        _ => {}
    }
}

/// XGROUP SETID key group id|$ [ENTRIESREAD n]
pub fn setid(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Some((_, er)) = group_opts(ctx, args, false) else {
        return;
    };
    let key = args.get(2);
    let r = write(ctx, key, false, |ctx, s| {
        let last = s.last_id;
        need_group(ctx, args, s)?;
        if args.len() != 5 && args.len() != 7 {
            sub_syntax(ctx, args);
            return None;
        }
        let id = if args.get(4) == b"$" {
            last
        } else {
            match super::parse_id_generic(args.get(4), 0, false, false) {
                Some((id, _)) => id,
                None => {
                    ctx.err(errors::STREAM_BAD_ID);
                    return None;
                }
            }
        };
        let g = s.group_mut(args.get(3))?;
        g.last_id = id;
        g.entries_read = er;
        ctx.out.ok();
        ctx.notify(notify::STREAM | notify::QUIET, "xgroup-setid", key);
        Some(())
    });
    if r == Err(false) {
        ctx.err(errors::XGROUP_NEED_KEY);
    }
}

/// XGROUP DESTROY key group
pub fn destroy(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let key = args.get(2);
    let r = write(ctx, key, false, |ctx, s| {
        let gone = s.groups.as_mut().and_then(|g| g.remove(args.get(3)));
        if let Some(g) = gone {
            // A big group is freed off the command path, like a big value.
            if g.pel.len() > 64 {
                crate::lazyfree::defer(Box::new(g));
            }
            ctx.out.int(1);
            // Wakes XREADGROUP clients blocked on it (NOGROUP), touches
            // no WATCH, as in Redis.
            ctx.notify(notify::STREAM | notify::UNWATCHED, "xgroup-destroy", key);
        } else {
            ctx.out.int(0);
        }
    });
    if r == Err(false) {
        ctx.err(errors::XGROUP_NEED_KEY);
    }
}

/// XGROUP CREATECONSUMER key group consumer
pub fn createconsumer(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let key = args.get(2);
    let now = ctx.now_ms;
    let r = write(ctx, key, false, |ctx, s| {
        let g = need_group(ctx, args, s)?;
        let (_, created) = g.consumer(args.get(4), now);
        ctx.out.int(created as i64);
        if created {
            ctx.notify(notify::STREAM | notify::QUIET, "xgroup-createconsumer", key);
        }
        Some(())
    });
    if r == Err(false) {
        ctx.err(errors::XGROUP_NEED_KEY);
    }
}

/// XGROUP DELCONSUMER key group consumer
pub fn delconsumer(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let key = args.get(2);
    let r = write(ctx, key, false, |ctx, s| {
        let g = need_group(ctx, args, s)?;
        match g.del_consumer(args.get(4)) {
            Some(n) => {
                ctx.out.int(n as i64);
                ctx.notify(notify::STREAM | notify::QUIET, "xgroup-delconsumer", key);
            }
            None => ctx.out.int(0),
        }
        Some(())
    });
    if r == Err(false) {
        ctx.err(errors::XGROUP_NEED_KEY);
    }
}

pub fn help(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    crate::cmd::keys::help(
        ctx,
        &[
            "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "CREATE <key> <groupname> <id|$> [option]",
            "    Create a new consumer group. Options are:",
            "    * MKSTREAM",
            "      Create the empty stream if it does not exist.",
            "    * ENTRIESREAD entries_read",
            "      Set the group's entries_read counter (internal use).",
            "CREATECONSUMER <key> <groupname> <consumer>",
            "    Create a new consumer in the specified group.",
            "DELCONSUMER <key> <groupname> <consumer>",
            "    Remove the specified consumer.",
            "DESTROY <key> <groupname>",
            "    Remove the specified group.",
            "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
            "    Set the current group ID and entries_read counter.",
            "HELP",
            "    Prints this help.",
        ],
    );
}

/// XACK key group id [id ...]: nothing to acknowledge without the key
/// or group, before the IDs are even parsed.
pub fn xack(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let r = write(ctx, args.get(1), false, |ctx, s| {
        let Some(g) = s.group_mut(args.get(2)) else {
            return ctx.out.int(0);
        };
        let mut ids = Vec::with_capacity(args.len() - 3);
        for i in 3..args.len() {
            let Some(id) = strict_id(ctx, args.get(i)) else {
                return;
            };
            ids.push(id);
        }
        let n = ids.iter().filter(|&&id| g.ack(id)).count();
        // Redis only counts XACK dirty (no keyspace event, no WATCH).
        effects::dirty(n as u64);
        ctx.out.int(n as i64);
    });
    if r == Err(false) {
        ctx.out.int(0);
    }
}

/// The stream and group of XPENDING/XCLAIM/XAUTOCLAIM, or None after
/// replying NOGROUP (without Redis's XREADGROUP suffix).
fn nogroup(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    ctx.out
        .error_bytes(&errors::nogroup_key(args.get(1), args.get(2), ""));
}

/// XPENDING key group [[IDLE min-idle] start end count [consumer]]
pub fn xpending(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let argc = args.len();
    if argc != 3 && !(6..=9).contains(&argc) {
        return ctx.syntax();
    }
    let mut ext = None;
    if argc >= 6 {
        let mut at = 3;
        let mut minidle = 0;
        if args.is(3, "idle") {
            let Some(v) = ctx.int_arg(args.get(4)) else {
                return;
            };
            minidle = v;
            if argc < 8 {
                return ctx.syntax();
            }
            at += 2;
        }
        let Some(count) = ctx.int_arg(args.get(at + 2)) else {
            return;
        };
        let Some(start) = range_start(ctx, args.get(at)) else {
            return;
        };
        let Some(end) = range_end(ctx, args.get(at + 1)) else {
            return;
        };
        let consumer = (at + 3 < argc).then(|| args.get(at + 3));
        ext = Some((minidle, count.max(0) as usize, start, end, consumer));
    }
    let now = ctx.now_ms;
    super::read(
        ctx,
        args.get(1),
        |c| nogroup(c, args),
        |ctx, s| {
            let Some(g) = s.group(args.get(2)) else {
                return nogroup(ctx, args);
            };
            let out = &mut ctx.out;
            let Some((minidle, mut count, start, end, consumer)) = ext else {
                out.array(4);
                out.int(g.pel.len() as i64);
                let (Some((first, _)), Some((last, _))) =
                    (g.pel.first_key_value(), g.pel.last_key_value())
                else {
                    out.null();
                    out.null();
                    return out.null_array();
                };
                bulk_id(out, *first);
                bulk_id(out, *last);
                let owners: Vec<_> = g
                    .consumers
                    .iter()
                    .filter(|(_, c)| !c.pel.is_empty())
                    .collect();
                out.array(owners.len());
                for (name, c) in owners {
                    out.array(2);
                    out.bulk(name);
                    out.bulk_int(c.pel.len() as i64);
                }
                return;
            };
            // Walked lazily: a COUNT of 10 reads 10 entries of a big PEL.
            let ids: Box<dyn Iterator<Item = Id>> = match consumer {
                Some(name) => match g.consumers.get(name) {
                    None => return out.array(0),
                    Some(c) => Box::new(c.pel.range(start..).copied()),
                },
                None => Box::new(g.pel.range(start..).map(|(id, _)| *id)),
            };
            let mut rows: Vec<(Id, &Nack)> = Vec::new();
            for id in ids {
                if count == 0 || id > end {
                    break;
                }
                let n = &g.pel[&id];
                if minidle != 0 && now - n.delivery_time < minidle {
                    continue;
                }
                count -= 1;
                rows.push((id, n));
            }
            out.array(rows.len());
            for (id, n) in rows {
                out.array(4);
                bulk_id(out, id);
                out.bulk(&n.consumer);
                out.int((now - n.delivery_time).max(0));
                out.int(n.delivery_count as i64);
            }
        },
    );
}

/// Propagates the group's new last ID after a claim moved it.
fn propagate_setid(db: usize, key: &[u8], group: &[u8], g: &CGroup) {
    let (last, er) = (id_arg(g.last_id), g.entries_read.to_string());
    effects::propagate(
        db,
        &[
            b"XGROUP",
            b"SETID",
            key,
            group,
            &last,
            b"ENTRIESREAD",
            er.as_bytes(),
        ],
    );
}

/// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME ms]
/// [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID id]
pub fn xclaim(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let key = args.get(1);
    let gname = args.get(2);
    let db = ctx.client.db;
    let now = ctx.now_ms;
    let r = write(ctx, key, false, |ctx, s| {
        if s.group(gname).is_none() {
            return nogroup(ctx, args);
        }
        let Some(minidle) = crate::util::parse_i64(args.get(4)) else {
            return ctx.err(errors::XCLAIM_BAD_IDLE);
        };
        let minidle = minidle.max(0);
        let mut ids = Vec::new();
        let mut j = 5;
        while j < args.len() {
            match super::parse_id_generic(args.get(j), 0, true, false) {
                Some((id, _)) => ids.push((id, args.get(j))),
                None => break,
            }
            j += 1;
        }
        let (mut force, mut justid) = (false, false);
        let (mut retry, mut dtime): (i64, i64) = (-1, -1);
        let mut lastid = Id::MIN;
        while j < args.len() {
            let more = args.len() - 1 - j;
            let num = |ctx: &mut Ctx<'_>, a: &[u8], e: &str| {
                let v = crate::util::parse_i64(a);
                if v.is_none() {
                    ctx.err(e);
                }
                v
            };
            if args.is(j, "force") {
                force = true;
            } else if args.is(j, "justid") {
                justid = true;
            } else if args.is(j, "idle") && more > 0 {
                j += 1;
                let Some(v) = num(ctx, args.get(j), errors::XCLAIM_BAD_IDLE_OPT) else {
                    return;
                };
                dtime = now.saturating_sub(v);
            } else if args.is(j, "time") && more > 0 {
                j += 1;
                let Some(v) = num(ctx, args.get(j), errors::XCLAIM_BAD_TIME) else {
                    return;
                };
                dtime = v;
            } else if args.is(j, "retrycount") && more > 0 {
                j += 1;
                let Some(v) = num(ctx, args.get(j), errors::XCLAIM_BAD_RETRY) else {
                    return;
                };
                retry = v;
            } else if args.is(j, "lastid") && more > 0 {
                j += 1;
                let Some(v) = strict_id(ctx, args.get(j)) else {
                    return;
                };
                lastid = v;
            } else {
                return ctx.out.error_bytes(&errors::xclaim_bad_option(args.get(j)));
            }
            j += 1;
        }
        let mut setid = false;
        {
            let g = s.group_mut(gname).expect("group");
            if lastid > g.last_id {
                g.last_id = lastid;
                setid = true;
            }
        }
        if dtime == -1 || dtime < 0 || dtime > now {
            dtime = now;
        }
        let cname = args.get(3);
        // The consumer is looked up (created) only once something is
        // claimed, as in Redis 7.0.
        let mut owner: Option<std::sync::Arc<[u8]>> = None;
        let mut body = Vec::new();
        let mut w = ReplyWriter::new(&mut body, ctx.out.resp);
        let mut n = 0;
        for (id, text) in ids {
            let exists = s.contains(id);
            let g = s.group_mut(gname).expect("group");
            if !exists {
                if g.pel.contains_key(&id) {
                    propagate_claim(db, key, gname, text, g, id);
                    setid = false;
                    g.ack(id);
                    effects::dirty(1);
                }
                continue;
            }
            let forced = force && !g.pel.contains_key(&id);
            if !forced {
                let Some(nk) = g.pel.get(&id) else {
                    continue;
                };
                if minidle > 0 && now - nk.delivery_time < minidle {
                    continue;
                }
            }
            let owner = match &owner {
                Some(o) => o.clone(),
                None => {
                    let (c, created) = g.consumer(cname, now);
                    if created {
                        ctx.notify(notify::STREAM | notify::QUIET, "xgroup-createconsumer", key);
                    }
                    owner = Some(c.clone());
                    c
                }
            };
            g.consumers.get_mut(cname).expect("consumer").seen_time = now;
            if forced {
                g.pel.insert(
                    id,
                    Nack {
                        delivery_time: now,
                        delivery_count: 1,
                        consumer: owner.clone(),
                    },
                );
                g.consumers.get_mut(cname).expect("consumer").pel.insert(id);
            }
            g.transfer(id, &owner);
            let nk = g.pel.get_mut(&id).expect("nack");
            nk.delivery_time = dtime;
            if retry >= 0 {
                nk.delivery_count = retry as u64;
            } else if !justid {
                nk.delivery_count += 1;
            }
            propagate_claim(db, key, gname, text, g, id);
            setid = false;
            effects::dirty(1);
            n += 1;
            if justid {
                bulk_id(&mut w, id);
            } else if let Some(e) = s.get(id) {
                reply_entry(&mut w, &e);
            }
        }
        if setid {
            propagate_setid(db, key, gname, s.group(gname).expect("group"));
            effects::dirty(1);
        }
        ctx.out.array(n);
        ctx.out.buf.extend_from_slice(&body);
    });
    if r == Err(false) {
        nogroup(ctx, args);
    }
    effects::suppress();
}

/// The XCLAIM that recreates pending entry `id` as it is now (`text`: the
/// ID as the client wrote it, which Redis propagates).
fn propagate_claim(db: usize, key: &[u8], group: &[u8], text: &[u8], g: &CGroup, id: Id) {
    if !effects::propagating() {
        return;
    }
    let n = &g.pel[&id];
    let (t, c, last) = (
        n.delivery_time.to_string(),
        n.delivery_count.to_string(),
        id_arg(g.last_id),
    );
    effects::propagate(
        db,
        &[
            b"XCLAIM",
            key,
            group,
            &n.consumer,
            b"0",
            text,
            b"TIME",
            t.as_bytes(),
            b"RETRYCOUNT",
            c.as_bytes(),
            b"FORCE",
            b"JUSTID",
            b"LASTID",
            &last,
        ],
    );
}

/// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
pub fn xautoclaim(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Some(minidle) = crate::util::parse_i64(args.get(4)) else {
        return ctx.err(errors::XAUTOCLAIM_BAD_IDLE);
    };
    let minidle = minidle.max(0);
    let Some((start, excl)) = interval_id(ctx, args.get(5), 0) else {
        return;
    };
    let start = if excl {
        match start.incr() {
            Some(s) => s,
            None => return ctx.err(errors::BAD_START_ID),
        }
    } else {
        start
    };
    let mut count: u64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if args.is(j, "count") && more > 0 {
            const MAX: i64 = i64::MAX / 16;
            match crate::util::parse_i64(args.get(j + 1)) {
                Some(c) if (1..=MAX).contains(&c) => count = c as u64,
                _ => return ctx.err(errors::XAUTOCLAIM_COUNT),
            }
            j += 1;
        } else if args.is(j, "justid") {
            justid = true;
        } else {
            return ctx.syntax();
        }
        j += 1;
    }
    let key = args.get(1);
    let gname = args.get(2);
    let db = ctx.client.db;
    let now = ctx.now_ms;
    let r = write(ctx, key, false, |ctx, s| {
        if s.group(gname).is_none() {
            return nogroup(ctx, args);
        }
        let cname = args.get(3);
        let mut owner: Option<std::sync::Arc<[u8]>> = None;
        let mut attempts = count.saturating_mul(10);
        let mut body = Vec::new();
        let mut w = ReplyWriter::new(&mut body, ctx.out.resp);
        let (mut claimed, mut deleted) = (0usize, Vec::new());
        let mut next = first_at(s.group(gname).expect("group").pel.range(start..));
        let mut eof = next.is_none();
        while attempts > 0 && count > 0 {
            attempts -= 1;
            let Some(id) = next else {
                eof = true;
                break;
            };
            let exists = s.contains(id);
            let g = s.group_mut(gname).expect("group");
            let after = first_at(
                g.pel
                    .range((std::ops::Bound::Excluded(id), std::ops::Bound::Unbounded)),
            );
            next = after;
            if !exists {
                propagate_claim(db, key, gname, &id_arg(id), g, id);
                effects::dirty(1);
                g.ack(id);
                deleted.push(id);
                count -= 1;
                continue;
            }
            if minidle > 0 && now - g.pel[&id].delivery_time < minidle {
                continue;
            }
            let owner = match &owner {
                Some(o) => o.clone(),
                None => {
                    let (c, created) = g.consumer(cname, now);
                    if created {
                        ctx.notify(notify::STREAM | notify::QUIET, "xgroup-createconsumer", key);
                    }
                    owner = Some(c.clone());
                    c
                }
            };
            g.consumers.get_mut(cname).expect("consumer").seen_time = now;
            g.transfer(id, &owner);
            let nk = g.pel.get_mut(&id).expect("nack");
            nk.delivery_time = now;
            if !justid {
                nk.delivery_count += 1;
            }
            propagate_claim(db, key, gname, &id_arg(id), g, id);
            effects::dirty(1);
            if justid {
                bulk_id(&mut w, id);
            } else if let Some(e) = s.get(id) {
                reply_entry(&mut w, &e);
            }
            claimed += 1;
            count -= 1;
        }
        let cursor = if eof {
            Id::MIN
        } else {
            next.unwrap_or(Id::MIN)
        };
        let out = &mut ctx.out;
        out.array(3);
        bulk_id(out, cursor);
        out.array(claimed);
        out.buf.extend_from_slice(&body);
        out.array(deleted.len());
        for id in deleted {
            bulk_id(out, id);
        }
    });
    if r == Err(false) {
        nogroup(ctx, args);
    }
    effects::suppress();
}

fn first_at<'a>(mut it: std::collections::btree_map::Range<'a, Id, Nack>) -> Option<Id> {
    it.next().map(|(id, _)| *id)
}
