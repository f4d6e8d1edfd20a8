//! Pub/sub: who is subscribed to what, and delivery of messages to
//! subscribers on any worker.
//!
//! A subscribing client gets an [`Outbox`] shared with the registry. A
//! publisher (any worker) formats the message once per protocol version,
//! appends it to each receiver's outbox, and queues the receiver on its
//! worker's ready list, waking that worker only when the list goes from
//! empty to non-empty (and never for its own worker, which drains its list
//! after the batch it is running). So PUBLISH to many subscribers costs one
//! append each, and the messages of a pipelined batch leave in one write
//! per subscriber.
//!
//! `client-output-buffer-limit pubsub` bounds what a subscriber that does
//! not read can pin: past the hard limit, or past the soft limit for
//! longer than its seconds, the subscriber is disconnected and receives
//! nothing more; the others are unaffected.

use crate::client::Client;
use crate::server::Server;
use crate::store::glob::glob_match;
use parking_lot::{Mutex, RwLock};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;

/// Messages waiting for a subscriber's worker to move them to the socket.
#[derive(Default)]
pub struct Outbox {
    inner: Mutex<OutboxInner>,
    /// Set once the output buffer limit closed the client.
    pub killed: AtomicBool,
}

#[derive(Default)]
struct OutboxInner {
    buf: Vec<u8>,
    /// Already on its worker's ready list.
    scheduled: bool,
    /// Since when (ms) the pending output has been over the soft limit.
    soft_since: i64,
}

impl Outbox {
    /// Exchanges the pending bytes with `buf` (an empty buffer).
    pub fn swap(&self, buf: &mut Vec<u8>) {
        let mut g = self.inner.lock();
        g.scheduled = false;
        std::mem::swap(&mut g.buf, buf);
    }

    /// Appends `bytes` for the connection; true when it must be scheduled
    /// on its worker (it was not already).
    pub fn push(&self, bytes: &[u8]) -> bool {
        let mut g = self.inner.lock();
        g.buf.extend_from_slice(bytes);
        !std::mem::replace(&mut g.scheduled, true)
    }

    /// Appends the pending bytes to `buf` (which has unsent data), keeping
    /// the outbox's allocation for the next messages.
    pub fn append_to(&self, buf: &mut Vec<u8>) {
        let mut g = self.inner.lock();
        g.scheduled = false;
        buf.extend_from_slice(&g.buf);
        g.buf.clear();
    }
}

/// One subscriber as the registry knows it.
#[derive(Clone)]
struct Sub {
    id: u64,
    worker: usize,
    token: usize,
    resp3: bool,
    outbox: Arc<Outbox>,
    /// Bytes of replies not yet written to its socket (ClientShared::obuf).
    shared: Arc<crate::client::ClientShared>,
}

/// A client's subscriptions.
pub struct Subs {
    pub channels: HashSet<Box<[u8]>>,
    pub patterns: HashSet<Box<[u8]>>,
    pub shard: HashSet<Box<[u8]>>,
    pub outbox: Arc<Outbox>,
}

impl Subs {
    pub fn count(&self) -> usize {
        self.channels.len() + self.patterns.len() + self.shard.len()
    }
}

type Table = HashMap<Box<[u8]>, Vec<Sub>>;

#[derive(Default)]
pub struct PubSub {
    channels: RwLock<Table>,
    patterns: RwLock<Table>,
    shard: RwLock<Table>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Channel,
    Pattern,
    Shard,
}

impl Kind {
    fn sub_word(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"subscribe",
            Kind::Pattern => b"psubscribe",
            Kind::Shard => b"ssubscribe",
        }
    }
    fn unsub_word(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"unsubscribe",
            Kind::Pattern => b"punsubscribe",
            Kind::Shard => b"sunsubscribe",
        }
    }
}

impl PubSub {
    fn table(&self, k: Kind) -> &RwLock<Table> {
        match k {
            Kind::Channel => &self.channels,
            Kind::Pattern => &self.patterns,
            Kind::Shard => &self.shard,
        }
    }

    /// Channel names with subscribers, optionally matching a pattern.
    pub fn names(&self, k: Kind, pat: Option<&[u8]>) -> Vec<Box<[u8]>> {
        self.table(k)
            .read()
            .keys()
            .filter(|c| pat.is_none_or(|p| glob_match(p, c, false)))
            .cloned()
            .collect()
    }

    pub fn numsub(&self, k: Kind, name: &[u8]) -> usize {
        self.table(k).read().get(name).map_or(0, |v| v.len())
    }

    /// Channels, patterns and shard channels with subscribers (INFO stats).
    pub fn counts(&self) -> (usize, usize, usize) {
        (
            self.channels.read().len(),
            self.patterns.read().len(),
            self.shard.read().len(),
        )
    }

    pub fn numpat(&self) -> usize {
        self.patterns.read().len()
    }

    /// Delivers `msg` on `channel` to its subscribers and to the matching
    /// pattern subscribers; returns how many received it.
    pub fn publish(
        &self,
        srv: &Server,
        channel: &[u8],
        msg: &[u8],
        shard: bool,
        now: i64,
    ) -> usize {
        let mut d = Delivery::new(srv, now);
        let mut n = 0;
        if shard {
            if let Some(v) = self.shard.read().get(channel) {
                let mut m = Message::new(b"smessage", None, channel, msg);
                n += deliver_all(&mut d, v, &mut m);
            }
            return n;
        }
        if let Some(v) = self.channels.read().get(channel) {
            let mut m = Message::new(b"message", None, channel, msg);
            n += deliver_all(&mut d, v, &mut m);
        }
        let pats = self.patterns.read();
        if !pats.is_empty() {
            for (p, v) in pats.iter() {
                if glob_match(p, channel, false) {
                    let mut m = Message::new(b"pmessage", Some(p), channel, msg);
                    n += deliver_all(&mut d, v, &mut m);
                }
            }
        }
        n
    }
}

fn deliver_all(d: &mut Delivery<'_>, subs: &[Sub], m: &mut Message<'_>) -> usize {
    let mut n = 0;
    for s in subs {
        // Redis counts a receiver even if its buffer limit drops it.
        d.send(s, m);
        n += 1;
    }
    n
}

/// One message, formatted lazily once per protocol version.
struct Message<'a> {
    kind: &'static [u8],
    pattern: Option<&'a [u8]>,
    channel: &'a [u8],
    payload: &'a [u8],
    bytes: [Option<Vec<u8>>; 2],
}

impl<'a> Message<'a> {
    fn new(
        kind: &'static [u8],
        pattern: Option<&'a [u8]>,
        channel: &'a [u8],
        payload: &'a [u8],
    ) -> Self {
        Message {
            kind,
            pattern,
            channel,
            payload,
            bytes: [None, None],
        }
    }
    fn bytes(&mut self, resp3: bool) -> &[u8] {
        let (kind, pattern, channel, payload) =
            (self.kind, self.pattern, self.channel, self.payload);
        self.bytes[resp3 as usize].get_or_insert_with(|| {
            let mut b = Vec::with_capacity(32 + channel.len() + payload.len());
            let n = 3 + pattern.is_some() as usize;
            let mut w = emberkv_protocol::ReplyWriter::new(
                &mut b,
                if resp3 {
                    emberkv_protocol::Resp::V3
                } else {
                    emberkv_protocol::Resp::V2
                },
            );
            w.push(n);
            w.bulk(kind);
            if let Some(p) = pattern {
                w.bulk(p);
            }
            w.bulk(channel);
            w.bulk(payload);
            b
        })
    }
}

/// One PUBLISH's deliveries: the workers to wake once at the end.
struct Delivery<'s> {
    srv: &'s Server,
    now: i64,
    wake: u64,
    /// client-output-buffer-limit pubsub: (hard, soft, soft seconds).
    limit: (u64, u64, u64),
}

impl<'s> Delivery<'s> {
    fn new(srv: &'s Server, now: i64) -> Self {
        let limit = srv.obuf_limit(crate::server::OBUF_PUBSUB);
        Delivery {
            srv,
            now,
            wake: 0,
            limit,
        }
    }

    /// Appends the message to one subscriber's outbox; false if the
    /// subscriber is being disconnected.
    fn send(&mut self, s: &Sub, m: &mut Message<'_>) -> bool {
        if s.outbox.killed.load(Relaxed) {
            return false;
        }
        let bytes = m.bytes(s.resp3);
        let (hard, soft, secs) = self.limit;
        let mut g = s.outbox.inner.lock();
        let pending = g.buf.len() + bytes.len() + s.shared.obuf.load(Relaxed) as usize;
        let over_soft = soft > 0 && pending as u64 > soft;
        if !over_soft {
            g.soft_since = 0;
        } else if g.soft_since == 0 {
            g.soft_since = self.now;
        }
        if (hard > 0 && pending as u64 > hard)
            || (over_soft && self.now - g.soft_since >= secs as i64 * 1000)
        {
            drop(g);
            s.outbox.killed.store(true, Relaxed);
            tracing::warn!(
                id = s.id,
                pending,
                "closing subscriber over client-output-buffer-limit pubsub"
            );
            self.srv.kill_client(s.worker, s.id);
            return false;
        }
        g.buf.extend_from_slice(bytes);
        let schedule = !g.scheduled;
        g.scheduled = true;
        drop(g);
        if schedule && self.srv.ready(s.worker, s.token, s.id) {
            self.wake |= 1 << (s.worker % 64);
        }
        true
    }
}

impl Drop for Delivery<'_> {
    fn drop(&mut self) {
        let mut w = self.wake;
        while w != 0 {
            let i = w.trailing_zeros() as usize;
            self.srv.wake_worker(i);
            w &= w - 1;
        }
    }
}

fn sub_of(c: &Client, outbox: &Arc<Outbox>) -> Sub {
    Sub {
        id: c.id,
        worker: c.shared.worker,
        token: c.token,
        resp3: c.resp == emberkv_protocol::Resp::V3,
        outbox: outbox.clone(),
        shared: c.shared.clone(),
    }
}

/// The outbox of `c` (made on first use): how bytes from other threads
/// reach its socket (pub/sub messages, a replica's stream).
pub fn outbox_of(c: &mut Client) -> Arc<Outbox> {
    subs_of(c).outbox.clone()
}

fn subs_of(c: &mut Client) -> &mut Subs {
    c.subs.get_or_insert_with(|| {
        Box::new(Subs {
            channels: HashSet::new(),
            patterns: HashSet::new(),
            shard: HashSet::new(),
            outbox: Arc::new(Outbox::default()),
        })
    })
}

/// Subscribes `c` to `name`; returns the count Redis replies with.
pub fn subscribe(srv: &Server, c: &mut Client, k: Kind, name: &[u8]) -> usize {
    let subs = c.subs.get_or_insert_with(|| {
        Box::new(Subs {
            channels: HashSet::new(),
            patterns: HashSet::new(),
            shard: HashSet::new(),
            outbox: Arc::new(Outbox::default()),
        })
    });
    let set = match k {
        Kind::Channel => &mut subs.channels,
        Kind::Pattern => &mut subs.patterns,
        Kind::Shard => &mut subs.shard,
    };
    if set.insert(name.into()) {
        let outbox = subs.outbox.clone();
        let s = sub_of(c, &outbox);
        srv.pubsub
            .table(k)
            .write()
            .entry(name.into())
            .or_default()
            .push(s);
    }
    reply_count(c, k)
}

/// Unsubscribes `c` from `name`; false if it was not subscribed.
pub fn unsubscribe(srv: &Server, c: &mut Client, k: Kind, name: &[u8]) -> bool {
    let Some(subs) = c.subs.as_mut() else {
        return false;
    };
    let set = match k {
        Kind::Channel => &mut subs.channels,
        Kind::Pattern => &mut subs.patterns,
        Kind::Shard => &mut subs.shard,
    };
    if !set.remove(name) {
        return false;
    }
    let mut t = srv.pubsub.table(k).write();
    if let Some(v) = t.get_mut(name) {
        v.retain(|s| s.id != c.id);
        if v.is_empty() {
            t.remove(name);
        }
    }
    true
}

/// The subscription count in (un)subscribe replies: channels + patterns,
/// or shard channels for the sharded commands.
pub fn reply_count(c: &Client, k: Kind) -> usize {
    c.subs.as_ref().map_or(0, |s| match k {
        Kind::Shard => s.shard.len(),
        _ => s.channels.len() + s.patterns.len(),
    })
}

/// The names `c` is subscribed to of one kind.
pub fn names_of(c: &Client, k: Kind) -> Vec<Box<[u8]>> {
    c.subs.as_ref().map_or(Vec::new(), |s| {
        match k {
            Kind::Channel => &s.channels,
            Kind::Pattern => &s.patterns,
            Kind::Shard => &s.shard,
        }
        .iter()
        .cloned()
        .collect()
    })
}

/// Drops every subscription (RESET, disconnect).
pub fn unsubscribe_all(srv: &Server, c: &mut Client) {
    for k in [Kind::Channel, Kind::Pattern, Kind::Shard] {
        for n in names_of(c, k) {
            unsubscribe(srv, c, k, &n);
        }
    }
    c.subs = None;
}

/// Writes a (un)subscribe confirmation.
pub fn confirm(
    out: &mut emberkv_protocol::ReplyWriter<'_>,
    k: Kind,
    sub: bool,
    name: Option<&[u8]>,
    count: usize,
) {
    out.push(3);
    out.bulk(if sub { k.sub_word() } else { k.unsub_word() });
    match name {
        Some(n) => out.bulk(n),
        None => out.null(),
    }
    out.int(count as i64);
}
