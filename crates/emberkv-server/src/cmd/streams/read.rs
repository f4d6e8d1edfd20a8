//! XREAD and XREADGROUP, served at once or blocked (blocking.rs keeps the
//! waiter; `serve_blocked` here runs its read when a key it waits on
//! changes).
//!
//! A group read of new entries (`>`) moves the group's last ID, and for
//! each entry delivered (without NOACK) creates or reassigns its pending
//! entry. It is propagated as Redis propagates it: one `XCLAIM ... FORCE
//! JUSTID LASTID` per entry delivered and an `XGROUP SETID ... ENTRIESREAD`
//! for the group's new position, never as the XREADGROUP itself.

use super::{bulk_id, id_arg, reply_entry, strict_id};
use crate::blocking::{self, BlockOp, Served};
use crate::cmd::{Args, Ctx};
use crate::effects;
use crate::errors;
use crate::notify;
use crate::server::Server;
use crate::store::entry::T_STREAM;
use crate::types::stream::{Id, Stream};
use crate::types::ObjGuard;
use emberkv_protocol::{ReplyWriter, Resp};
use std::sync::Arc;

/// A blocked client served with no COUNT gets at most this many entries.
const BLOCKED_DEFAULT_COUNT: usize = 1000;

/// The group part of a blocked XREADGROUP.
pub struct GroupRead {
    pub group: Vec<u8>,
    pub consumer: Vec<u8>,
    pub noack: bool,
}

/// Moves the group's last delivered ID to `id` (if ahead), keeping its
/// read counter as Redis does; false if it was not ahead.
fn advance(s: &mut Stream, name: &[u8], id: Id) -> bool {
    let Some(g) = s.group(name) else {
        return false;
    };
    if id <= g.last_id {
        return false;
    }
    let er = g.entries_read;
    let er = if er >= 0 && !s.range_has_tombstones(id, Id::MAX) {
        er + 1
    } else if s.entries_added > 0 {
        s.estimate_distance(id).map_or(-1, |v| v as i64)
    } else {
        er
    };
    let g = s.group_mut(name).expect("group");
    g.entries_read = er;
    g.last_id = id;
    true
}

fn propagate_setid(db: usize, key: &[u8], group: &[u8], s: &Stream) {
    let g = s.group(group).expect("group");
    let er = g.entries_read.to_string();
    let last = id_arg(g.last_id);
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

/// Propagates the pending entry `id` of `group` as an idempotent XCLAIM.
pub(crate) fn propagate_xclaim(db: usize, key: &[u8], group: &[u8], s: &Stream, id: Id) {
    if !effects::propagating() {
        return;
    }
    let g = s.group(group).expect("group");
    let Some(n) = g.pel.get(&id) else {
        return;
    };
    let (t, c) = (n.delivery_time.to_string(), n.delivery_count.to_string());
    let (idb, last) = (id_arg(id), id_arg(g.last_id));
    effects::propagate(
        db,
        &[
            b"XCLAIM",
            key,
            group,
            &n.consumer,
            b"0",
            &idb,
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

/// A group read: group name, consumer, NOACK.
type GroupSel<'a> = (&'a [u8], &'a Arc<[u8]>, bool);

/// Replies entries after `after` (up to `count`, 0: all) and, with a
/// group, delivers them to `consumer`. Returns how many.
#[allow(clippy::too_many_arguments)]
fn serve_new(
    out: &mut ReplyWriter<'_>,
    db: usize,
    key: &[u8],
    s: &mut Stream,
    after: Id,
    count: usize,
    group: Option<GroupSel<'_>>,
    now: i64,
) -> usize {
    let start = after.incr().unwrap_or(after);
    let mut ids = Vec::new();
    let mut body = Vec::new();
    {
        let mut w = ReplyWriter::new(&mut body, out.resp);
        s.range(start, Id::MAX, false, |e| {
            reply_entry(&mut w, &e);
            ids.push(e.id);
            count == 0 || ids.len() < count
        });
    }
    out.array(ids.len());
    out.buf.extend_from_slice(&body);
    if let Some((gname, consumer, noack)) = group {
        let mut moved = false;
        for &id in &ids {
            moved |= advance(s, gname, id);
            if !noack {
                s.group_mut(gname).expect("group").assign(id, consumer, now);
                propagate_xclaim(db, key, gname, s, id);
            }
        }
        if moved {
            propagate_setid(db, key, gname, s);
        }
    }
    ids.len()
}

/// Replies the consumer's own pending entries from `start` (history).
fn serve_history(
    out: &mut ReplyWriter<'_>,
    s: &mut Stream,
    gname: &[u8],
    consumer: &[u8],
    start: Id,
    count: usize,
    now: i64,
) {
    let ids: Vec<Id> = {
        let g = s.group(gname).expect("group");
        let c = &g.consumers[consumer];
        let it = c.pel.range(start..).copied();
        if count == 0 {
            it.collect()
        } else {
            it.take(count).collect()
        }
    };
    out.array(ids.len());
    for id in ids {
        match s.get(id) {
            Some(e) => {
                reply_entry(out, &e);
                let g = s.group_mut(gname).expect("group");
                if let Some(n) = g.pel.get_mut(&id) {
                    n.delivery_time = now;
                    n.delivery_count += 1;
                }
            }
            None => {
                out.array(2);
                bulk_id(out, id);
                out.null_array();
            }
        }
    }
}

/// The consumer of a group read, created (and notified, and propagated
/// with NOACK, as Redis does) if missing; its seen time is now.
fn consumer_of(
    ctx_db: usize,
    key: &[u8],
    s: &mut Stream,
    gname: &[u8],
    cname: &[u8],
    noack: bool,
    now: i64,
) -> Arc<[u8]> {
    let g = s.group_mut(gname).expect("group");
    let (c, created) = g.consumer(cname, now);
    if let Some(x) = g.consumers.get_mut(cname) {
        x.seen_time = now;
    }
    if created {
        notify::notify(
            notify::STREAM | notify::QUIET,
            "xgroup-createconsumer",
            key,
            ctx_db,
        );
        if noack {
            effects::propagate(ctx_db, &[b"XGROUP", b"CREATECONSUMER", key, gname, cname]);
        }
    }
    c
}

/// XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]
pub fn xread(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    read_generic(ctx, args, false)
}

/// XREADGROUP GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key [key ...] id [id ...]
pub fn xreadgroup(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    read_generic(ctx, args, true);
    effects::suppress();
}

fn read_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, xreadgroup: bool) {
    let argc = args.len();
    let mut timeout: Option<i64> = None;
    let mut count: usize = 0;
    let mut streams_at = 0;
    let mut n = 0;
    let mut group: Option<(&[u8], &[u8])> = None;
    let mut noack = false;
    let mut i = 1;
    while i < argc {
        let more = argc - i - 1;
        if args.is(i, "block") && more > 0 {
            if crate::script::engine::in_script() {
                let mut m = b"ERR ".to_vec();
                m.extend_from_slice(args.get(0));
                m.extend_from_slice(b" command is not allowed with BLOCK option from scripts");
                return ctx.out.error_bytes(&m);
            }
            i += 1;
            let t = match crate::util::parse_i64(args.get(i)) {
                None => return ctx.err(errors::TIMEOUT_NOT_INT),
                Some(t) if t < 0 => return ctx.err(errors::TIMEOUT_NEGATIVE),
                Some(t) => t,
            };
            timeout = Some(if t == 0 {
                0
            } else {
                ctx.now_ms.saturating_add(t)
            });
        } else if args.is(i, "count") && more > 0 {
            i += 1;
            let Some(c) = ctx.int_arg(args.get(i)) else {
                return;
            };
            count = c.max(0) as usize;
        } else if args.is(i, "streams") && more > 0 {
            streams_at = i + 1;
            let rest = argc - streams_at;
            if !rest.is_multiple_of(2) {
                return ctx.err(errors::XREAD_UNBALANCED);
            }
            n = rest / 2;
            break;
        } else if args.is(i, "group") && more >= 2 {
            if !xreadgroup {
                return ctx.err(errors::XREAD_GROUP_OPTION);
            }
            group = Some((args.get(i + 1), args.get(i + 2)));
            i += 2;
        } else if args.is(i, "noack") {
            if !xreadgroup {
                return ctx.err(errors::XREAD_NOACK_OPTION);
            }
            noack = true;
        } else {
            return ctx.syntax();
        }
        i += 1;
    }
    if streams_at == 0 {
        return ctx.syntax();
    }
    if xreadgroup && group.is_none() {
        return ctx.err(errors::XREADGROUP_NO_GROUP);
    }
    let db = ctx.client.db;
    let srv = ctx.srv;
    let hashes: Vec<u64> = (0..n)
        .map(|j| srv.store.hash(args.get(streams_at + j)))
        .collect();
    let mut locked = srv.store.lock_many(hashes.iter().copied());
    // The IDs, in Redis's order: each key's type and group, then its ID.
    let mut ids = Vec::with_capacity(n);
    for (j, &h) in hashes.iter().enumerate() {
        let key = args.get(streams_at + j);
        let t = locked.table(h, db);
        let e = super::super::keys::read_entry(ctx, t, h, key);
        if e.is_some_and(|e| e.kind() != T_STREAM) {
            return ctx.wrongtype();
        }
        let st = e.map(ObjGuard::new);
        if let Some((g, _)) = group {
            if st.as_ref().is_none_or(|s| s.as_stream().group(g).is_none()) {
                let suffix = " in XREADGROUP with GROUP option";
                return ctx.out.error_bytes(&errors::nogroup_key(key, g, suffix));
            }
        }
        let a = args.get(streams_at + n + j);
        let id = if a == b"$" {
            if xreadgroup {
                return ctx.err(errors::XREADGROUP_DOLLAR);
            }
            st.as_ref().map_or(Id::MIN, |s| s.as_stream().last_id)
        } else if a == b">" {
            if !xreadgroup {
                return ctx.err(errors::XREAD_GT_ID);
            }
            Id::MAX
        } else {
            let Some(id) = strict_id(ctx, a) else {
                return;
            };
            id
        };
        ids.push(id);
    }
    // Serve what can be served now.
    let now = ctx.now_ms;
    let resp3 = ctx.client.resp == Resp::V3;
    let mut served = 0;
    let mut body = Vec::new();
    for j in 0..n {
        let key = args.get(streams_at + j);
        let h = hashes[j];
        let t = locked.table(h, db);
        let Some(e) = t.lookup(h, key, now) else {
            continue;
        };
        let mut g = ObjGuard::new(e);
        let s = g.stream();
        let mut w = ReplyWriter::new(&mut body, ctx.client.resp);
        match group {
            Some((gname, cname)) => {
                let gt = ids[j];
                let last = s.group(gname).expect("group").last_id;
                let history = gt != Id::MAX;
                let now_serve = history || s.edge_id(true).is_some_and(|m| m > last);
                if !now_serve {
                    continue;
                }
                // Redis 7.0 creates the consumer only when it serves it.
                let consumer = consumer_of(db, key, s, gname, cname, noack, now);
                // One change per stream served, whatever it delivered
                // (Redis's xreadCommand); no WATCH, no keyspace event.
                effects::dirty(1);
                served += 1;
                if !resp3 {
                    w.array(2);
                }
                w.bulk(key);
                if history {
                    let start = gt.incr().unwrap_or(gt);
                    serve_history(&mut w, s, gname, cname, start, count, now);
                } else {
                    serve_new(
                        &mut w,
                        db,
                        key,
                        s,
                        last,
                        count,
                        Some((gname, &consumer, noack)),
                        now,
                    );
                }
            }
            None => {
                if s.edge_id(true).is_none_or(|m| m <= ids[j]) {
                    continue;
                }
                served += 1;
                if !resp3 {
                    w.array(2);
                }
                w.bulk(key);
                serve_new(&mut w, db, key, s, ids[j], count, None, now);
            }
        }
    }
    drop(locked);
    if served > 0 {
        if resp3 {
            ctx.out.map(served);
        } else {
            ctx.out.array(served);
        }
        ctx.out.buf.extend_from_slice(&body);
        return;
    }
    match timeout {
        Some(deadline) if !ctx.client.nested => {
            let keys = (0..n).map(|j| args.get(streams_at + j).to_vec()).collect();
            let op = BlockOp::XRead {
                keys,
                ids,
                count: if count == 0 {
                    BLOCKED_DEFAULT_COUNT
                } else {
                    count
                },
                group: group.map(|(g, c)| GroupRead {
                    group: g.to_vec(),
                    consumer: c.to_vec(),
                    noack,
                }),
            };
            blocking::block(ctx, op, deadline);
        }
        _ => ctx.out.null_array(),
    }
}

/// Serves a blocked XREAD/XREADGROUP from the first of its keys whose
/// last ID is past the one it waits for. A blocked group read whose key is gone (or of
/// another type) or whose group was destroyed gets Redis's error instead.
pub fn serve_blocked(
    srv: &Server,
    db: usize,
    now: i64,
    out: &mut ReplyWriter<'_>,
    (keys, ids, count, group): (&[Vec<u8>], &[Id], usize, Option<&GroupRead>),
    caller: crate::blocking::Caller,
) -> Served {
    // The blocking command's own retry (under the registry lock) serves
    // only entries that exist: entries added and deleted before it blocked
    // leave it blocked, as in Redis; a woken waiter is served by the last
    // ID alone (below).
    let retry = caller == crate::blocking::Caller::Command;
    let newer = |s: &crate::types::stream::Stream, id: Id| {
        if retry {
            s.edge_id(true).is_some_and(|m| m > id)
        } else {
            s.last_id > id
        }
    };
    // Served once the stream's last ID passed the one waited for, as
    // Redis tests it: entries added then deleted in the same transaction
    // still serve the client, with no entries.
    for (key, &want) in keys.iter().zip(ids) {
        let h = srv.store.hash(key);
        let mut shard = srv.store.lock(h);
        let t = &mut shard.dbs[db];
        let e = match t.lookup(h, key, now) {
            Some(e) if e.kind() == T_STREAM => e,
            _ if group.is_some() => {
                out.error(errors::UNBLOCKED_STREAM_GONE);
                return Served::Yes;
            }
            _ => continue,
        };
        let mut g = ObjGuard::new(e);
        let s = g.stream();
        let resp3 = out.resp == Resp::V3;
        match group {
            Some(gr) => {
                let Some(grp) = s.group(&gr.group) else {
                    out.error(errors::NOGROUP_BLOCKED);
                    return Served::Yes;
                };
                let last = grp.last_id;
                if !newer(s, last) {
                    continue;
                }
                let consumer = consumer_of(db, key, s, &gr.group, &gr.consumer, gr.noack, now);
                if resp3 {
                    out.map(1);
                } else {
                    out.array(1);
                    out.array(2);
                }
                out.bulk(key);
                let gsel = Some((&gr.group[..], &consumer, gr.noack));
                serve_new(out, db, key, s, last, count, gsel, now);
            }
            None => {
                if !newer(s, want) {
                    continue;
                }
                if resp3 {
                    out.map(1);
                } else {
                    out.array(1);
                    out.array(2);
                }
                out.bulk(key);
                serve_new(out, db, key, s, want, count, None, now);
            }
        }
        return Served::Yes;
    }
    Served::No
}
