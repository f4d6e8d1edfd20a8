//! Networking: one event loop (mio, epoll) per worker thread.
//!
//! Each worker accepts on its own clone of the listening sockets and owns
//! its connections outright. A readable socket is read once per event (a
//! short read means the socket is drained, so no extra `read` that returns
//! EAGAIN), every complete request in the buffer is executed, and all their
//! replies leave in one `write`: pipelined requests cost one syscall each
//! way per batch. As in Redis, a client that sends without reading is
//! still read (a pipeline written whole before its replies are read must
//! not deadlock); its replies are bounded by `client-output-buffer-limit`.
//! A read of 0 bytes is a close, whatever is buffered: a client that sent
//! part of a request and left is freed at once.

mod conn;
mod housekeeping;
mod sock;

use crate::client::{Client, ClientShared};
use crate::errors;
use crate::server::{Server, WorkerHandle, WorkerStats};
use crate::util::unix_ms;
use conn::{over_obuf_limit, process};
use emberkv_protocol::RequestParser;
use mio::{Events, Interest, Poll, Token, Waker};
use slab::Slab;
use sock::{Listener, Stream};
use std::io::{self, Write};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::{debug, info, warn};

const WAKER: Token = Token(usize::MAX);

/// What a poll reported for one token, kept until it is handled.
#[derive(Clone, Copy)]
struct Ev {
    token: Token,
    readable: bool,
    writable: bool,
    closed: bool,
}

const LISTENER_BASE: usize = usize::MAX - 64;
/// Bytes read per `read` call (Redis: PROTO_IOBUF_LEN).
const READ_CHUNK: usize = 16 * 1024;
/// Reads per readable event before the worker turns to its other clients
/// (the rest is read on the next loop iteration): one client streaming a
/// huge pipeline does not starve the others.
const READS_PER_EVENT: usize = 16;
/// Buffers larger than this are given back once empty.
const KEEP_BUF: usize = 64 * 1024;
/// Idle time after which a client's empty buffers are released.
const IDLE_TRIM_MS: i64 = 2000;
/// Longest a worker may spend on active expiry per slice.
const EXPIRE_SLICE: Duration = Duration::from_millis(1);

struct Conn {
    sock: Stream,
    rbuf: Vec<u8>,
    parser: RequestParser,
    wbuf: Vec<u8>,
    wpos: usize,
    client: Client,
    /// Since when (ms) unsent replies exceed the soft output limit (0: not).
    obuf_soft_since: i64,
}

/// Binds the listening sockets and runs the workers until shutdown.
pub fn run(srv: Arc<Server>) -> io::Result<()> {
    let _ = srv.me.set(Arc::downgrade(&srv));
    let listeners = sock::bind_all(&srv.config.read())?;
    let mut polls = Vec::new();
    let mut handles = Vec::new();
    for _ in 0..srv.threads {
        let poll = Poll::new()?;
        let waker = Waker::new(poll.registry(), WAKER)?;
        handles.push(WorkerHandle {
            waker,
            kill: Default::default(),
            replies: Default::default(),
            ready: Default::default(),
            has_ready: Default::default(),
        });
        polls.push(poll);
    }
    let _ = srv.workers.set(handles);
    let cpulist = srv.config.read().get("server_cpulist").to_string();
    let mut joins = Vec::new();
    for (idx, poll) in polls.into_iter().enumerate() {
        let mut ls = Vec::new();
        for (i, l) in listeners.iter().enumerate() {
            let mut m = l.try_clone()?;
            poll.registry()
                .register(m.source(), Token(LISTENER_BASE + i), Interest::READABLE)?;
            ls.push(m);
        }
        let srv = srv.clone();
        let cpulist = cpulist.clone();
        joins.push(
            std::thread::Builder::new()
                .name(format!("emberkv-w{idx}"))
                .spawn(move || {
                    crate::server::set_current_worker(idx);
                    crate::effects::install(srv.stream.clone(), srv.interest.clone());
                    crate::process::pin_thread(&cpulist);
                    let stats = srv.stats[idx].clone();
                    Worker {
                        idx,
                        srv,
                        poll,
                        listeners: ls,
                        conns: Slab::new(),
                        stats,
                        now_ms: unix_ms(),
                        expire_shard: 0,
                        expire_more: false,
                        blocked: Vec::new(),
                        rerun: Vec::new(),
                        again: Vec::new(),
                        batch: Default::default(),
                        close_later: Vec::new(),
                    }
                    .run()
                })?,
        );
    }
    drop(listeners);
    // Listening already: clients get -LOADING while the file loads.
    if let Err(e) = crate::persist::load::at_start(&srv) {
        tracing::error!("{e}");
        std::process::exit(1);
    }
    crate::persist::start_cron(&srv);
    info!("Ready to accept connections");
    crate::process::notify_ready(&srv.config.read());
    for j in joins {
        if let Ok(Err(e)) = j.join() {
            warn!(error = %e, "worker stopped with an error");
        }
    }
    Ok(())
}

struct Worker {
    idx: usize,
    srv: Arc<Server>,
    poll: Poll,
    listeners: Vec<Listener>,
    /// None while the connection runs a command that lets the worker
    /// serve others meanwhile (a busy script, see `run_process`).
    conns: Slab<Option<Box<Conn>>>,
    /// Connections to read once the running script is over.
    rerun: Vec<usize>,
    /// Connections with unread input left after READS_PER_EVENT reads.
    again: Vec<(usize, bool)>,
    /// Events polled and not handled yet (see `handle_events`).
    batch: std::collections::VecDeque<Ev>,
    /// Connections to close once the running script is over.
    close_later: Vec<usize>,
    stats: Arc<WorkerStats>,
    now_ms: i64,
    expire_shard: usize,
    expire_more: bool,
    /// Blocked clients with a timeout: (deadline ms, token, client id).
    blocked: Vec<(i64, usize, u64)>,
}

impl Worker {
    fn run(mut self) -> io::Result<()> {
        let mut events = Events::with_capacity(1024);
        let mut next_cron = Instant::now();
        loop {
            let now = Instant::now();
            let mut timeout = if self.expire_more || !self.again.is_empty() {
                Duration::ZERO
            } else {
                next_cron.saturating_duration_since(now)
            };
            if let Some(d) = self.blocked.iter().map(|b| b.0).min() {
                let wait = (d - unix_ms()).max(0) as u64;
                timeout = timeout.min(Duration::from_millis(wait));
            }
            if let Err(e) = self.poll.poll(&mut events, Some(timeout)) {
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
            self.now_ms = unix_ms();
            // CONFIG RESETSTAT (one relaxed load when nothing changed).
            self.stats.catch_up(self.srv.reset_epoch.load(Relaxed));
            self.handle_events(&events);
            // Connections whose events arrived while they were running a
            // script (see `busy_poll`).
            while let Some(key) = self.rerun.pop() {
                self.on_readable(key, true);
            }
            for (key, closed) in std::mem::take(&mut self.again) {
                self.on_readable(key, closed);
            }
            if !self.blocked.is_empty() {
                self.expire_blocked();
            }
            if self.srv.shutdown.load(Relaxed) {
                break;
            }
            if Instant::now() >= next_cron {
                let hz = self.srv.effective_hz.load(Relaxed).max(1);
                next_cron = Instant::now() + Duration::from_millis(1000 / hz);
                self.cron();
            } else if self.expire_more {
                self.active_expire();
            }
            // Published messages leave once per loop iteration, after every
            // ready client ran (as Redis's beforeSleep): the messages of all
            // publishers in this batch go to each subscriber in one write.
            self.drain_ready();
        }
        info!(
            worker = self.idx,
            clients = self.conns.len(),
            "worker stopping"
        );
        let keys: Vec<usize> = self.conns.iter().map(|(k, _)| k).collect();
        for k in keys {
            let _ = self.flush(k);
            self.close(k);
        }
        Ok(())
    }

    /// Queues a poll's events and handles them. They go through a queue
    /// kept in the worker, not straight from `events`, because a script run
    /// by one of them may serve the others from its hook (`busy_poll`):
    /// epoll is edge-triggered, so an event already taken from the kernel
    /// but left in a suspended loop would never come back, and that client
    /// would wait for the script to end (a SCRIPT KILL sent by it, for ever).
    fn handle_events(&mut self, events: &Events) {
        self.batch.extend(events.iter().map(|ev| Ev {
            token: ev.token(),
            readable: ev.is_readable(),
            writable: ev.is_writable(),
            closed: ev.is_read_closed() || ev.is_error(),
        }));
        while let Some(ev) = self.batch.pop_front() {
            match ev.token {
                WAKER => self.handle_inbox(),
                Token(t) if t >= LISTENER_BASE => self.accept(t - LISTENER_BASE),
                Token(key) => {
                    if matches!(self.conns.get(key), Some(None)) {
                        // The connection running the script: its events are
                        // handled once the script is over.
                        self.rerun.push(key);
                        continue;
                    }
                    if ev.readable || ev.closed {
                        self.on_readable(key, ev.closed);
                    }
                    if ev.writable && self.conns.contains(key) {
                        self.on_writable(key);
                    }
                }
            }
        }
    }

    /// While a script on this worker runs past `busy-reply-threshold`, its
    /// hook calls this (through `serve_while_busy`) so this worker's other
    /// clients are still served: they get -BUSY, and SCRIPT KILL works from
    /// any connection, as in Redis. The events of the batch the script came
    /// from go first (see `handle_events`).
    fn busy_poll(&mut self) {
        let mut events = Events::with_capacity(256);
        if self.poll.poll(&mut events, Some(Duration::ZERO)).is_ok() {
            self.now_ms = unix_ms();
            self.handle_events(&events);
            self.drain_ready();
        }
    }

    #[inline]
    fn conn_mut(&mut self, key: usize) -> Option<&mut Conn> {
        self.conns.get_mut(key).and_then(|c| c.as_deref_mut())
    }

    /// Runs the connection's buffered requests. The connection is taken
    /// out of the slab meanwhile, so a script it runs can let this worker
    /// serve its other connections (`busy_poll`) without aliasing it.
    fn run_process(&mut self, key: usize) {
        let Some(mut conn) = self.conns.get_mut(key).and_then(Option::take) else {
            return;
        };
        let qlimit = self.srv.qbuf_limit.load(Relaxed) as usize;
        let now = self.now_ms;
        let me: *mut Worker = self;
        // A busy script lets this worker serve its other connections
        // (`busy_poll`) through the hook installed here.
        unsafe fn poll(w: *mut ()) {
            // SAFETY: see below.
            unsafe { (*(w as *mut Worker)).busy_poll() }
        }
        // SAFETY: the server and stats live in Arcs the worker keeps for its
        // whole life; the references point into those allocations, not into
        // the worker, which the hook reaches through `me` meanwhile. `me`
        // outlives the call, and `self` is not used while it runs; the
        // connection being processed is out of the slab, so nothing the
        // hook reaches aliases it.
        unsafe {
            let (srv, stats) = (&*Arc::as_ptr(&(*me).srv), &*Arc::as_ptr(&(*me).stats));
            crate::script::with_busy_hook(me as *mut (), poll, || {
                process(srv, &mut conn, now, stats, qlimit)
            });
        }
        self.conns[key] = Some(conn);
        if let Some(i) = self.close_later.iter().position(|&k| k == key) {
            self.close_later.swap_remove(i);
            self.close(key);
        }
    }

    fn accept(&mut self, li: usize) {
        let keepalive = self.srv.tcp_keepalive.load(Relaxed);
        loop {
            let acc = match self.listeners[li].accept(keepalive) {
                Ok(x) => x,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    warn!(error = %e, "accept failed");
                    return;
                }
            };
            let mut sock = acc.stream;
            let max = self.srv.maxclients.load(Relaxed);
            if self.srv.connected.fetch_add(1, Relaxed) >= max {
                self.srv.connected.fetch_sub(1, Relaxed);
                self.stats.rejected_connections.add(1);
                warn!(addr = %acc.addr, max, "refusing a connection: maxclients reached");
                let _ = sock.write_all(format!("-{}\r\n", errors::MAX_CLIENTS).as_bytes());
                continue;
            }
            let id = self.srv.next_client_id.fetch_add(1, Relaxed);
            let shared = Arc::new(ClientShared::new(
                id,
                acc.addr,
                acc.laddr,
                sock.fd(),
                acc.unix,
                self.idx,
                self.now_ms,
            ));
            let entry = self.conns.vacant_entry();
            let key = entry.key();
            if let Err(e) = self.poll.registry().register(
                &mut sock,
                Token(key),
                Interest::READABLE | Interest::WRITABLE,
            ) {
                warn!(error = %e, "register failed");
                self.srv.connected.fetch_sub(1, Relaxed);
                continue;
            }
            self.srv.clients.lock().insert(id, shared.clone());
            let authed = !self.srv.auth_required.load(Relaxed);
            let mut client = Client::new(shared, authed);
            client.token = key;
            let addr = client.shared.addr.clone();
            entry.insert(Some(Box::new(Conn {
                sock,
                rbuf: Vec::new(),
                parser: RequestParser::new(),
                wbuf: Vec::new(),
                wpos: 0,
                client,
                obuf_soft_since: 0,
            })));
            self.stats.connections.add(1);
            debug!(id, %addr, "accepted");
        }
    }

    /// Reads and runs what the client sent. `closed`: the event said the
    /// peer closed (or half-closed) its side, so reading goes on until the
    /// read of 0 bytes, even after a short read: the FIN came with the data
    /// and no further edge will come.
    fn on_readable(&mut self, key: usize, closed: bool) {
        let qlimit = self.srv.qbuf_limit.load(Relaxed) as usize;
        let mut reads = 0;
        loop {
            let Some(conn) = self.conns.get_mut(key).and_then(|c| c.as_deref_mut()) else {
                return;
            };
            if reads == READS_PER_EVENT {
                // More may be waiting: come back next iteration.
                self.again.push((key, closed));
                break;
            }
            reads += 1;
            if conn.client.close_after_reply {
                break;
            }
            if conn.rbuf.capacity() - conn.rbuf.len() < READ_CHUNK {
                conn.rbuf.reserve(READ_CHUNK);
            }
            let spare = conn.rbuf.capacity() - conn.rbuf.len();
            let len = conn.rbuf.len();
            // SAFETY: reading into the vector's spare capacity, then
            // extending its length by exactly what the kernel wrote.
            let n = unsafe {
                libc::read(
                    conn.sock.fd(),
                    conn.rbuf.as_mut_ptr().add(len) as *mut libc::c_void,
                    spare,
                )
            };
            if n == 0 {
                // The peer is gone: replies to what it sent still go out
                // if the socket takes them, then it is freed.
                let _ = self.flush(key);
                debug!(id = conn_id(&self.conns, key), "client closed connection");
                self.close(key);
                return;
            }
            if n < 0 {
                let e = io::Error::last_os_error();
                match e.kind() {
                    io::ErrorKind::WouldBlock => break,
                    io::ErrorKind::Interrupted => continue,
                    _ => {
                        // Not a clean close: worth a line (helps tell a
                        // client's reset from a server-side cause).
                        info!(id = conn.client.id, error = %e, "closing client after a read error");
                        self.close(key);
                        return;
                    }
                }
            }
            let n = n as usize;
            unsafe { conn.rbuf.set_len(len + n) };
            self.stats.net_in.add(n as u64);
            let was_blocked = conn.client.blocked.is_some();
            self.run_process(key);
            let Some(conn) = self.conns.get_mut(key).and_then(|c| c.as_deref_mut()) else {
                return;
            };
            if !was_blocked {
                if let Some(d) = conn.client.blocked.filter(|&d| d != 0) {
                    self.blocked.push((d, key, conn.client.id));
                }
            }
            if conn.rbuf.len() > qlimit {
                warn!(
                    id = conn.client.id,
                    qbuf = conn.rbuf.len(),
                    "closing client that reached max query buffer length"
                );
                self.close(key);
                return;
            }
            if n < spare && !closed {
                break; // drained: the next data brings a new edge
            }
        }
        let now = self.now_ms;
        let Some(conn) = self.conn_mut(key) else {
            return;
        };
        let shared = &conn.client.shared;
        shared.last_ms.store(now, Relaxed);
        shared.qbuf.store(conn.rbuf.len() as u64, Relaxed);
        shared.qbuf_cap.store(conn.rbuf.capacity() as u64, Relaxed);
        if conn.rbuf.is_empty() && conn.rbuf.capacity() > KEEP_BUF {
            conn.rbuf = Vec::new();
        }
        conn.parser.release_big_buffers();
        if !self.flush(key) {
            self.close(key);
        }
    }

    /// Moves published messages from subscribers' outboxes to their
    /// sockets (see pubsub.rs).
    fn drain_ready(&mut self) {
        // Runs every loop iteration: the common case is one relaxed load
        // (no Arc clone, whose count is shared by all workers).
        match self.srv.workers.get() {
            Some(ws) if ws[self.idx].has_ready.load(Relaxed) => {}
            _ => return,
        }
        let srv = self.srv.clone();
        let Some(ws) = srv.workers.get() else {
            return;
        };
        let me = &ws[self.idx];
        let list = {
            let mut r = me.ready.lock();
            me.has_ready.store(false, Relaxed);
            std::mem::take(&mut *r)
        };
        for (token, id) in list {
            let Some(conn) = self.conn_mut(token) else {
                continue;
            };
            if conn.client.id != id {
                continue;
            }
            let Some(subs) = conn.client.subs.as_ref() else {
                continue;
            };
            if conn.wpos == conn.wbuf.len() {
                // Nothing unsent: hand the outbox's buffer to the socket and
                // give it the empty one back (no copy, no allocation).
                conn.wbuf.clear();
                conn.wpos = 0;
                subs.outbox.swap(&mut conn.wbuf);
            } else {
                subs.outbox.append_to(&mut conn.wbuf);
            }
            if !self.flush(token) {
                self.close(token);
            }
        }
    }

    fn on_writable(&mut self, key: usize) {
        if !self.flush(key) {
            self.close(key);
        }
    }

    /// Writes pending replies. Returns false if the connection must close.
    fn flush(&mut self, key: usize) -> bool {
        let Some(conn) = self.conns.get_mut(key) else {
            return false;
        };
        let Some(conn) = conn.as_deref_mut() else {
            return true; // running a script: flushed when it is over
        };
        while conn.wpos < conn.wbuf.len() {
            match conn.sock.write(&conn.wbuf[conn.wpos..]) {
                Ok(0) => return false,
                Ok(n) => {
                    conn.wpos += n;
                    self.stats.net_out.add(n as u64);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    let pending = (conn.wbuf.len() - conn.wpos) as u64;
                    conn.client.shared.obuf.store(pending, Relaxed);
                    return !over_obuf_limit(&self.srv, conn, pending, self.now_ms);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    info!(id = conn.client.id, error = %e, "closing client after a write error");
                    return false;
                }
            }
        }
        conn.wbuf.clear();
        conn.wpos = 0;
        if conn.wbuf.capacity() > KEEP_BUF {
            conn.wbuf = Vec::new();
        }
        conn.client.shared.obuf.store(0, Relaxed);
        conn.obuf_soft_since = 0;
        !conn.client.close_after_reply
    }

    fn close(&mut self, key: usize) {
        match self.conns.get(key) {
            None => return,
            Some(None) => {
                // Running a script: closed once it returns (run_process).
                self.close_later.push(key);
                return;
            }
            Some(Some(_)) => {}
        }
        let mut conn = self.conns.remove(key).expect("checked above");
        if conn.client.blocked.is_some() {
            self.srv.blocking.unblock(conn.client.id);
            self.blocked.retain(|b| b.2 != conn.client.id);
        }
        crate::cmd::multi::unwatch_all(&self.srv, &mut conn.client);
        crate::pubsub::unsubscribe_all(&self.srv, &mut conn.client);
        crate::persist::replica::closed(&self.srv, &mut conn.client);
        let _ = self.poll.registry().deregister(&mut conn.sock);
        self.srv.clients.lock().remove(&conn.client.id);
        self.srv.connected.fetch_sub(1, Relaxed);
        debug!(id = conn.client.id, "closed");
    }

    fn handle_inbox(&mut self) {
        let srv = self.srv.clone();
        let Some(ws) = srv.workers.get() else {
            return;
        };
        let replies = std::mem::take(&mut *ws[self.idx].replies.lock());
        for (token, id, reply) in replies {
            self.deliver_unblocked(token, id, &reply);
        }
        let ids = std::mem::take(&mut *ws[self.idx].kill.lock());
        if ids.is_empty() {
            return;
        }
        let keys: Vec<usize> = self
            .conns
            .iter()
            .filter(|(_, c)| c.as_ref().is_some_and(|c| ids.contains(&c.client.id)))
            .map(|(k, _)| k)
            .collect();
        for k in keys {
            self.close(k);
        }
    }

    /// Gives a blocked client its reply (served by another client's write,
    /// a timeout or CLIENT UNBLOCK) and resumes its pending commands.
    fn deliver_unblocked(&mut self, token: usize, id: u64, reply: &[u8]) {
        let Some(conn) = self.conn_mut(token) else {
            return;
        };
        if conn.client.id != id || conn.client.blocked.is_none() {
            return;
        }
        conn.wbuf.extend_from_slice(reply);
        conn.client.blocked = None;
        self.blocked.retain(|b| b.2 != id);
        self.run_process(token);
        let Some(conn) = self.conn_mut(token) else {
            return;
        };
        if let Some(d) = conn.client.blocked.filter(|&d| d != 0) {
            self.blocked.push((d, token, id));
        }
        if !self.flush(token) {
            self.close(token);
        }
    }
}

fn conn_id(conns: &Slab<Option<Box<Conn>>>, key: usize) -> u64 {
    conns
        .get(key)
        .and_then(|c| c.as_deref())
        .map_or(0, |c| c.client.id)
}
