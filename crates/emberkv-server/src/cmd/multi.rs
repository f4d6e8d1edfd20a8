//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//!
//! MULTI makes dispatch queue every later command (after the generic
//! checks, so an unknown command or a wrong arity is refused at queue time
//! and makes EXEC abort with EXECABORT). EXEC holds the transaction gate
//! exclusively (see gate.rs) while it runs the queue, so no other client
//! sees part of it, then serves blocked clients once for every key the
//! transaction wrote.

use super::flags::*;
use super::{Args, Command, Ctx, Group};
use crate::dispatch::dispatch;
use crate::errors;
use crate::gate::Gate;
use crate::watch::Watched;
use std::sync::atomic::Ordering::Relaxed;

/// The commands queued by MULTI: all arguments in one buffer.
#[derive(Default)]
pub struct Queue {
    buf: Vec<u8>,
    ranges: Vec<(usize, usize)>,
    /// (first range, argument count) per command.
    cmds: Vec<(usize, usize)>,
    /// A command was refused while queueing: EXEC aborts.
    pub dirty: bool,
}

impl Queue {
    pub fn push(&mut self, args: &Args<'_>) {
        self.cmds.push((self.ranges.len(), args.len()));
        for a in args.iter() {
            let s = self.buf.len();
            self.buf.extend_from_slice(a);
            self.ranges.push((s, self.buf.len()));
        }
    }
    /// Bytes held (bounded by the client's query buffer limit).
    pub fn size(&self) -> usize {
        self.buf.len() + self.ranges.len() * 16
    }
}

fn multi(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    if ctx.client.multi.is_some() {
        return ctx.err(errors::MULTI_NESTED);
    }
    ctx.client.multi = Some(Box::default());
    ctx.out.ok();
}

fn discard(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    if ctx.client.multi.take().is_none() {
        return ctx.err(errors::DISCARD_WITHOUT_MULTI);
    }
    unwatch_all(ctx.srv, ctx.client);
    ctx.out.ok();
}

/// EXEC: dispatch holds the gate exclusively around this handler.
fn exec(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    let Some(q) = ctx.client.multi.take() else {
        return ctx.err(errors::EXEC_WITHOUT_MULTI);
    };
    if q.dirty {
        unwatch_all(ctx.srv, ctx.client);
        return ctx.err(errors::EXECABORT_PREVIOUS);
    }
    let now = ctx.now_ms;
    let c = &*ctx.client;
    let failed = c.watch_dirty.load(Relaxed)
        || c.watched
            .iter()
            .any(|w| w.deadline.is_some_and(|d| d <= now));
    unwatch_all(ctx.srv, ctx.client);
    if failed {
        return ctx.out.null_array();
    }
    ctx.out.array(q.cmds.len());
    run_nested(ctx, |ctx| {
        for &(first, argc) in &q.cmds {
            let args = Args::from_parts(&q.ranges[first..first + argc], &q.buf);
            dispatch(
                ctx.srv,
                ctx.client,
                ctx.out.buf,
                &args,
                ctx.now_ms,
                ctx.stats,
                &mut Gate::Inside,
            );
        }
    });
}

/// Runs commands inside EXEC or a script: blocking commands don't block,
/// and clients blocked on keys written meanwhile are served once, at the
/// end, so they never see an intermediate state.
pub fn run_nested<R>(ctx: &mut Ctx<'_>, f: impl FnOnce(&mut Ctx<'_>) -> R) -> R {
    let was = std::mem::replace(&mut ctx.client.nested, true);
    let r = f(ctx);
    ctx.client.nested = was;
    // The blocked clients its commands woke are served by dispatch once
    // the whole EXEC or script has closed its frame (`client.deferred`),
    // so what serving them changes follows it in the stream.
    r
}

fn watch(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    if ctx.client.multi.is_some() {
        return ctx.err(errors::WATCH_IN_MULTI);
    }
    let db = ctx.client.db;
    for key in args.iter().skip(1) {
        if ctx
            .client
            .watched
            .iter()
            .any(|w| w.db == db && *w.key == *key)
        {
            continue;
        }
        let h = ctx.srv.store.hash(key);
        let deadline = {
            let mut shard = ctx.srv.store.lock(h);
            shard.dbs[db]
                .lookup(h, key, ctx.now_ms)
                .and_then(|e| e.expire_at())
        };
        let c = &mut *ctx.client;
        ctx.srv.watches.add(db, key, c.id, &c.watch_dirty);
        c.watched.push(Watched {
            db,
            key: key.into(),
            deadline,
        });
    }
    ctx.out.ok();
}

fn unwatch(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    unwatch_all(ctx.srv, ctx.client);
    ctx.out.ok();
}

/// Forgets every watched key and clears the dirty flag.
pub fn unwatch_all(srv: &crate::server::Server, c: &mut crate::client::Client) {
    if !c.watched.is_empty() {
        srv.watches.remove(c.id, &c.watched);
        c.watched.clear();
    }
    c.watch_dirty.store(false, Relaxed);
}

const T: Group = Group::Transactions;

pub static COMMANDS: &[Command] = &[
    Command::new(
        "multi",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY | TX_CONTROL,
        multi,
    )
    .doc(T, "1.2.0", "O(1)", "Starts a transaction."),
    Command::new(
        "exec",
        1,
        NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG | EXCLUSIVE | TX_CONTROL | RUNS_QUEUE,
        exec,
    )
    .doc(
        T,
        "1.2.0",
        "Depends on commands in the transaction",
        "Executes all commands in a transaction.",
    ),
    Command::new(
        "discard",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY | TX_CONTROL,
        discard,
    )
    .doc(
        T,
        "2.0.0",
        "O(N), when N is the number of queued commands",
        "Discards a transaction.",
    ),
    Command::new(
        "watch",
        -2,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY | TX_CONTROL,
        watch,
    )
    .keys(1, -1, 1)
    .doc(
        T,
        "2.2.0",
        "O(1) for every key.",
        "Monitors changes to keys to determine the execution of a transaction.",
    ),
    Command::new(
        "unwatch",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        unwatch,
    )
    .doc(
        T,
        "2.2.0",
        "O(1)",
        "Forgets about watched keys of a transaction.",
    ),
];
