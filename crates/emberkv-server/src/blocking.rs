//! Blocking pops (BLPOP, BLMOVE, BLMPOP, BZPOPMIN, BZMPOP ...).
//!
//! A client with nothing to pop registers a [`Waiter`] under each of its
//! keys, first come first served per key, and its connection stops reading
//! commands. After any write command, if anyone is blocked, dispatch calls
//! [`signal`] with the command's keys: the writer's thread serves the
//! waiters of those keys in order, running their pop itself (so the element
//! goes to the first waiter and to no one else, as in Redis), and hands the
//! reply to the waiter's worker through its inbox. Timeouts are kept by
//! each worker; disconnects, CLIENT KILL and CLIENT UNBLOCK remove waiters.
//!
//! Lost wake-ups: a client registers and then retries its pop while holding
//! the registry lock; a writer changes the data under the shard lock first
//! and checks [`Blocking::any`] after. Either the retry sees the data or the
//! writer sees the waiter. Lock order is always registry, then shards.

use crate::cmd::Ctx;
use crate::effects;
use crate::notify;
use crate::server::Server;
use crate::store::Table;
use emberkv_core::effects::Interest;
use emberkv_protocol::{ReplyWriter, Resp};
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;

/// What a blocked client is waiting to do.
pub enum BlockOp {
    /// BLPOP/BRPOP: reply [key, element].
    ListPop { keys: Vec<Vec<u8>>, front: bool },
    /// LMOVE/BLMOVE/RPOPLPUSH/BRPOPLPUSH: reply element.
    ListMove {
        src: Vec<u8>,
        dst: Vec<u8>,
        from_front: bool,
        to_front: bool,
    },
    /// LMPOP/BLMPOP: reply [key, [elements]].
    ListMPop {
        keys: Vec<Vec<u8>>,
        front: bool,
        count: usize,
    },
    /// BZPOPMIN/BZPOPMAX: reply [key, member, score].
    ZPop { keys: Vec<Vec<u8>>, min: bool },
    /// ZMPOP/BZMPOP: reply [key, [[member, score] ...]].
    ZMPop {
        keys: Vec<Vec<u8>>,
        min: bool,
        count: usize,
    },
    /// XREAD/XREADGROUP: reply [[key, entries]] for the first key with
    /// entries after its ID (`ids[i]`; a group read uses the group's).
    XRead {
        keys: Vec<Vec<u8>>,
        ids: Vec<crate::types::stream::Id>,
        count: usize,
        group: Option<crate::cmd::streams::read::GroupRead>,
    },
}

pub enum Served {
    Yes,
    No,
    WrongType,
}

/// Who runs a pop: the command itself, or the writer serving a waiter.
/// A key of another type refuses the command (-WRONGTYPE) but only passes
/// a waiter by (Redis serves a blocked client from a key only while it
/// holds the type waited for); a move's destination of another type
/// refuses both, and the waiter is unblocked with the error.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    Command,
    Waiter,
}

/// The pop of the first of `keys` that has anything: the notification
/// (the pop's event, and "del" if it emptied the key) and the reply.
/// The pop is propagated as its non-blocking form, `verb key [count]`
/// (BLPOP as LPOP, BZMPOP as ZPOPMIN key count), as Redis propagates it.
#[allow(clippy::too_many_arguments)]
fn first_pop<T>(
    srv: &Server,
    db: usize,
    keys: &[Vec<u8>],
    (class, event): (u32, &'static str),
    (verb, counted): (&[u8], bool),
    caller: Caller,
    pop: impl Fn(&mut Table, u64, &[u8]) -> Result<Option<Vec<T>>, crate::cmd::OpError>,
    reply: impl FnOnce(&[u8], Vec<T>),
) -> Served {
    for k in keys {
        let h = srv.store.hash(k);
        let mut shard = srv.store.lock(h);
        let t = &mut shard.dbs[db];
        match pop(t, h, k) {
            Err(_) if caller == Caller::Waiter => {}
            Err(_) => return Served::WrongType,
            Ok(Some(v)) if !v.is_empty() => {
                notify::popped(class, event, k, db, t, h, v.len() as u64);
                if counted {
                    let n = itoa::Buffer::new().format(v.len()).to_owned();
                    effects::propagate(db, &[verb, k, n.as_bytes()]);
                } else {
                    effects::propagate(db, &[verb, k]);
                }
                reply(k, v);
                return Served::Yes;
            }
            _ => {}
        }
    }
    Served::No
}

fn end_verb<'a>(first: bool, a: &'a [u8], b: &'a [u8]) -> &'a [u8] {
    if first {
        a
    } else {
        b
    }
}

impl BlockOp {
    pub fn keys(&self) -> Vec<&[u8]> {
        match self {
            BlockOp::ListPop { keys, .. }
            | BlockOp::ListMPop { keys, .. }
            | BlockOp::ZPop { keys, .. }
            | BlockOp::ZMPop { keys, .. }
            | BlockOp::XRead { keys, .. } => keys.iter().map(|k| &k[..]).collect(),
            BlockOp::ListMove { src, .. } => vec![&src[..]],
        }
    }

    /// Pops now if there is anything to pop, writing the reply.
    pub fn try_serve(
        &self,
        srv: &Server,
        db: usize,
        now: i64,
        caller: Caller,
        out: &mut ReplyWriter<'_>,
    ) -> Served {
        let lru = ((now / 1000) as u32) & 0xff_ffff;
        let store = &srv.store;
        match self {
            BlockOp::ListPop { keys, front } => first_pop(
                srv,
                db,
                keys,
                (notify::LIST, notify::list_event(*front, false)),
                (end_verb(*front, b"LPOP", b"RPOP"), false),
                caller,
                |t, h, k| emberkv_core::ops::lists::pop_from(t, h, k, *front, 1, now, lru),
                |k, v| {
                    out.array(2);
                    out.bulk(k);
                    out.bulk(&v[0]);
                },
            ),
            BlockOp::ListMPop { keys, front, count } => first_pop(
                srv,
                db,
                keys,
                (notify::LIST, notify::list_event(*front, false)),
                (end_verb(*front, b"LPOP", b"RPOP"), true),
                caller,
                |t, h, k| emberkv_core::ops::lists::pop_from(t, h, k, *front, *count, now, lru),
                |k, v| {
                    out.array(2);
                    out.bulk(k);
                    out.array(v.len());
                    v.iter().for_each(|e| out.bulk(e));
                },
            ),
            BlockOp::ListMove {
                src,
                dst,
                from_front,
                to_front,
            } => {
                let (hs, hd) = (store.hash(src), store.hash(dst));
                let mut locked = store.lock_many([hs, hd]);
                let t = locked.table(hs, db);
                match t.lookup(hs, src, now) {
                    None => return Served::No,
                    Some(e) if e.kind() != crate::store::entry::T_LIST => {
                        return match caller {
                            Caller::Command => Served::WrongType,
                            Caller::Waiter => Served::No,
                        };
                    }
                    _ => {}
                }
                let td = locked.table(hd, db);
                if td
                    .lookup(hd, dst, now)
                    .is_some_and(|e| e.kind() != crate::store::entry::T_LIST)
                {
                    return Served::WrongType;
                }
                let t = locked.table(hs, db);
                let Ok(Some(v)) =
                    emberkv_core::ops::lists::pop_from(t, hs, src, *from_front, 1, now, lru)
                else {
                    return Served::No;
                };
                let td = locked.table(hd, db);
                let _ = emberkv_core::ops::lists::push_to(
                    td,
                    hd,
                    dst,
                    *to_front,
                    [&v[0][..]],
                    now,
                    lru,
                );
                // Redis's order: the push, then the pop (and the source's del).
                let ev = notify::list_event(*to_front, true);
                notify::notify(notify::LIST, ev, dst, db);
                let ev = notify::list_event(*from_front, false);
                // One change for the move, as Redis counts LMOVE: the push.
                notify::popped(notify::LIST, ev, src, db, locked.table(hs, db), hs, 0);
                let side = |f: bool| -> &[u8] { end_verb(f, b"LEFT", b"RIGHT") };
                effects::propagate(
                    db,
                    &[b"LMOVE", src, dst, side(*from_front), side(*to_front)],
                );
                out.bulk(&v[0]);
                Served::Yes
            }
            BlockOp::ZPop { keys, min } => first_pop(
                srv,
                db,
                keys,
                (notify::ZSET, if *min { "zpopmin" } else { "zpopmax" }),
                (end_verb(*min, b"ZPOPMIN", b"ZPOPMAX"), false),
                caller,
                |t, h, k| emberkv_core::ops::zsets::pop_from(t, h, k, *min, 1, now, lru),
                |k, v| {
                    out.array(3);
                    out.bulk(k);
                    out.bulk(&v[0].0);
                    out.double(v[0].1);
                },
            ),
            BlockOp::XRead {
                keys,
                ids,
                count,
                group,
            } => crate::cmd::streams::read::serve_blocked(
                srv,
                db,
                now,
                out,
                (keys, ids, *count, group.as_ref()),
                caller,
            ),
            BlockOp::ZMPop { keys, min, count } => first_pop(
                srv,
                db,
                keys,
                (notify::ZSET, if *min { "zpopmin" } else { "zpopmax" }),
                (end_verb(*min, b"ZPOPMIN", b"ZPOPMAX"), true),
                caller,
                |t, h, k| emberkv_core::ops::zsets::pop_from(t, h, k, *min, *count, now, lru),
                |k, v| {
                    out.array(2);
                    out.bulk(k);
                    out.array(v.len());
                    for (m, sc) in &v {
                        out.array(2);
                        out.bulk(m);
                        out.double(*sc);
                    }
                },
            ),
        }
    }

    /// The reply when a non-blocking form finds nothing.
    pub fn reply_empty(&self, out: &mut ReplyWriter<'_>) {
        match self {
            BlockOp::ListMove { .. } => out.null(),
            _ => out.null_array(),
        }
    }
}

/// The reply of a blocked command that timed out (Redis: a null array for
/// every blocking list and sorted-set command).
pub fn timeout_reply(resp: Resp) -> Vec<u8> {
    let mut v = Vec::new();
    ReplyWriter::new(&mut v, resp).null_array();
    v
}

pub struct Waiter {
    pub worker: usize,
    pub token: usize,
    pub db: usize,
    pub resp: Resp,
    pub op: BlockOp,
}

type KeyId = (usize, Box<[u8]>);

#[derive(Default)]
struct Inner {
    keys: HashMap<KeyId, VecDeque<u64>>,
    waiters: HashMap<u64, Waiter>,
}

pub struct Blocking {
    /// The count of blocked clients lives in the write funnel's interest,
    /// which skips copying changed keys while it is 0.
    interest: Arc<Interest>,
    inner: Mutex<Inner>,
}

impl Blocking {
    pub fn new(interest: Arc<Interest>) -> Self {
        Blocking {
            interest,
            inner: Mutex::default(),
        }
    }

    /// Whether any client is blocked (one atomic load on the write path).
    #[inline]
    pub fn any(&self) -> bool {
        self.interest.blocked.load(SeqCst) > 0
    }

    pub fn blocked_clients(&self) -> usize {
        self.interest.blocked.load(SeqCst)
    }

    /// Whether client `id` waits here (CLIENT LIST's `b` flag).
    pub fn is_blocked(&self, id: u64) -> bool {
        self.any() && self.inner.lock().waiters.contains_key(&id)
    }

    /// Removes client `id`'s registration; None if it is not blocked (or
    /// was just served).
    pub fn unblock(&self, id: u64) -> Option<Waiter> {
        let mut inner = self.inner.lock();
        let w = inner.waiters.remove(&id)?;
        for k in w.op.keys() {
            let kid: KeyId = (w.db, k.into());
            if let Some(q) = inner.keys.get_mut(&kid) {
                q.retain(|&x| x != id);
                if q.is_empty() {
                    inner.keys.remove(&kid);
                }
            }
        }
        self.interest.blocked.fetch_sub(1, SeqCst);
        Some(w)
    }
}

/// Blocks the client of `ctx` on `op` until `deadline` (ms; 0 = forever),
/// unless the retry under the registry lock can serve it at once.
pub fn block(ctx: &mut Ctx<'_>, op: BlockOp, deadline: i64) {
    let srv = ctx.srv;
    let b = &srv.blocking;
    let mut inner = b.inner.lock();
    b.interest.blocked.fetch_add(1, SeqCst);
    match op.try_serve(
        srv,
        ctx.client.db,
        ctx.now_ms,
        Caller::Command,
        &mut ctx.out,
    ) {
        Served::No => {}
        Served::Yes => {
            b.interest.blocked.fetch_sub(1, SeqCst);
            return;
        }
        Served::WrongType => {
            b.interest.blocked.fetch_sub(1, SeqCst);
            return ctx.wrongtype();
        }
    }
    let id = ctx.client.id;
    let db = ctx.client.db;
    for k in op.keys() {
        inner.keys.entry((db, k.into())).or_default().push_back(id);
    }
    inner.waiters.insert(
        id,
        Waiter {
            worker: ctx.client.shared.worker,
            token: ctx.client.token,
            db,
            resp: ctx.client.resp,
            op,
        },
    );
    ctx.client.blocked = Some(deadline);
}

/// Serves clients blocked on `keys` of `db` after a write, in arrival order.
pub fn signal<'a>(srv: &Server, db: usize, keys: impl IntoIterator<Item = &'a [u8]>, now: i64) {
    let b = &srv.blocking;
    let mut inner = b.inner.lock();
    let mut pending: Vec<KeyId> = keys
        .into_iter()
        .map(|k| (db, Box::<[u8]>::from(k)))
        .filter(|kid| inner.keys.contains_key(kid))
        .collect();
    while let Some(kid) = pending.pop() {
        // Waiters in arrival order. A pop nobody can be served leaves the
        // rest waiting too (the key has nothing), but stream readers each
        // wait for their own ID or group: one not served (an XREAD when the
        // key is gone) must not hold up the next (an XREADGROUP answered
        // -UNBLOCKED).
        let mut pos = 0;
        while let Some(&id) = inner.keys.get(&kid).and_then(|q| q.get(pos)) {
            let w = &inner.waiters[&id];
            let reader = matches!(w.op, BlockOp::XRead { .. });
            let mut buf = Vec::new();
            // Each served pop is its own unit of the write funnel.
            let served = crate::funnel::unit(srv, now, || {
                let mut out = ReplyWriter::new(&mut buf, w.resp);
                match w.op.try_serve(srv, w.db, now, Caller::Waiter, &mut out) {
                    // The move's destination holds another type: the
                    // waiter is answered the error and unblocked, the
                    // element stays in the source (Redis undoes the pop).
                    Served::WrongType => {
                        out.error(crate::errors::WRONGTYPE);
                        Served::Yes
                    }
                    s => s,
                }
            });
            if !matches!(served, Served::Yes) {
                if reader {
                    pos += 1;
                    continue;
                }
                break;
            }
            let w = inner.waiters.remove(&id).expect("waiter");
            for k in w.op.keys() {
                let k2: KeyId = (w.db, k.into());
                if let Some(q) = inner.keys.get_mut(&k2) {
                    q.retain(|&x| x != id);
                    if q.is_empty() {
                        inner.keys.remove(&k2);
                    }
                }
            }
            b.interest.blocked.fetch_sub(1, SeqCst);
            // A move filled its destination: its waiters may go next.
            if let BlockOp::ListMove { dst, .. } = &w.op {
                let d: KeyId = (w.db, dst[..].into());
                if inner.keys.contains_key(&d) {
                    pending.push(d);
                }
            }
            deliver(srv, &w, id, buf);
        }
    }
}

thread_local! {
    /// Databases replaced or emptied by the command running on this thread
    /// (SWAPDB, FLUSHDB, FLUSHALL): their waiters are served once the
    /// command has closed its frame, so what serving them changes (a key
    /// found expired, a pop) follows the command in the stream, as in
    /// Redis.
    static DB_SIGNALS: std::cell::RefCell<Vec<usize>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Marks `db` for [`signal_pending_dbs`] after the running command.
pub fn signal_db_later(db: usize) {
    DB_SIGNALS.with(|d| {
        let mut d = d.borrow_mut();
        if !d.contains(&db) {
            d.push(db);
        }
    });
}

/// Serves the waiters of the databases marked by the command that just
/// closed (called by dispatch outside EXEC and scripts).
pub fn signal_pending_dbs(srv: &Server, now: i64) {
    let dbs = DB_SIGNALS.with(|d| std::mem::take(&mut *d.borrow_mut()));
    for db in dbs {
        signal_db(srv, db, now);
    }
}

/// Serves every client blocked on a key of `db` that now has data
/// (SWAPDB replaced the whole database).
pub fn signal_db(srv: &Server, db: usize, now: i64) {
    if !srv.blocking.any() {
        return;
    }
    let keys: Vec<Box<[u8]>> = srv
        .blocking
        .inner
        .lock()
        .keys
        .keys()
        .filter(|k| k.0 == db)
        .map(|k| k.1.clone())
        .collect();
    signal(srv, db, keys.iter().map(|k| &k[..]), now);
}

/// Hands a reply to the worker that owns the waiter's connection.
pub fn deliver(srv: &Server, w: &Waiter, id: u64, reply: Vec<u8>) {
    if let Some(ws) = srv.workers.get() {
        ws[w.worker].replies.lock().push((w.token, id, reply));
        let _ = ws[w.worker].waker.wake();
    }
}
