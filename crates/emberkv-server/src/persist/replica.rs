//! SYNC: a full copy of the dataset followed by the live command stream,
//! as Redis serves a replica that speaks the pre-PSYNC protocol (what
//! `redis-cli --replica` and the Redis test suite's replication-stream
//! helper use). The copy is the point-in-time snapshot BGSAVE takes
//! (marks at one instant, copy-before-write for the keys changed after),
//! written into memory on a thread; the stream subscription starts at the
//! same instant, under the exclusive transaction gate, so the replica gets
//! every change after the copy exactly once. Stream bytes that arrive
//! before the copy is sent are held (bounded by the replica class of
//! `client-output-buffer-limit`), then follow it. PSYNC, REPLCONF ACK and
//! the backlog belong to the replication issue.

use super::Running;
use crate::client::Client;
use crate::pubsub::Outbox;
use crate::server::Server;
use emberkv_persist::snapshot::bg;
use emberkv_persist::snapshot::save::Aux;
use parking_lot::Mutex;
use std::sync::{Arc, Weak};
use std::time::Instant;

/// Where the replica's bytes go: held until the copy is out, then into its
/// outbox (the pub/sub path to a connection on any worker).
struct Link {
    st: Mutex<LinkState>,
    outbox: Weak<Outbox>,
    worker: usize,
    token: usize,
    id: u64,
    /// What may be held before the copy is sent.
    hold_limit: usize,
}

struct LinkState {
    copied: bool,
    held: Vec<u8>,
    dead: bool,
}

impl Link {
    fn push(&self, srv: &Server, bytes: &[u8]) {
        let mut st = self.st.lock();
        if st.dead {
            return;
        }
        if !st.copied {
            if st.held.len() + bytes.len() > self.hold_limit {
                st.dead = true;
                st.held = Vec::new();
                tracing::warn!(
                    id = self.id,
                    "closing replica over client-output-buffer-limit replica during its sync"
                );
                srv.kill_client(self.worker, self.id);
                return;
            }
            st.held.extend_from_slice(bytes);
            return;
        }
        drop(st);
        self.send(srv, bytes);
    }

    fn send(&self, srv: &Server, bytes: &[u8]) {
        let Some(outbox) = self.outbox.upgrade() else {
            self.st.lock().dead = true;
            return;
        };
        if outbox.push(bytes) && srv.ready(self.worker, self.token, self.id) {
            srv.wake_worker(self.worker);
        }
    }
}

/// SYNC from `client`: the reply is sent later, by the copy's thread.
/// Err is the error reply (a save already running).
pub fn start(srv: &Server, client: &mut Client) -> Result<(), String> {
    let Some(arc) = srv.arc() else {
        return Err("ERR server not ready".into());
    };
    let mut st = srv.persist.st.lock();
    if super::Persist::busy(&st) {
        // Redis would make the replica wait for the next BGSAVE; here the
        // copy needs the snapshot marks a running save holds.
        return Err("ERR Background save already in progress, retry the SYNC".into());
    }
    let outbox = crate::pubsub::outbox_of(client);
    let hold_limit = {
        // The replica class's hard limit (0: none).
        let hard = srv.config.read().client_output_buffer_limit()[1][0];
        if hard == 0 {
            usize::MAX
        } else {
            hard as usize
        }
    };
    let link = Arc::new(Link {
        st: Mutex::new(LinkState {
            copied: false,
            held: Vec::new(),
            dead: false,
        }),
        outbox: Arc::downgrade(&outbox),
        worker: client.shared.worker,
        token: client.token,
        id: client.id,
        hold_limit,
    });
    // The instant: marks and subscription together, with no command
    // running anywhere (SYNC holds the gate exclusively).
    let snap = bg::begin(&srv.store, srv.config.read().yes("rdbcompression"));
    let weak_srv = Arc::downgrade(&arc);
    let l2 = link.clone();
    let sub = srv.stream.subscribe(Box::new(move |bytes| {
        if let Some(srv) = weak_srv.upgrade() {
            l2.push(&srv, bytes);
        }
    }));
    client.replica_sub = Some(sub);
    let cancel = snap.cancel.clone();
    let progress = snap.collector();
    let total = snap.total_keys();
    let started = Instant::now();
    let (checksum, delay) = {
        let c = srv.config.read();
        (c.yes("rdbchecksum"), c.int("rdb-key-save-delay"))
    };
    tracing::info!("Replica {} asks for synchronization", client.shared.addr);
    tracing::info!("Starting BGSAVE for SYNC with target: replicas sockets");
    let join = std::thread::Builder::new()
        .name("emberkv-sync".into())
        .spawn(move || {
            let functions: Vec<Vec<u8>> = arc
                .scripts
                .functions
                .libraries()
                .iter()
                .map(|l| l.code.to_vec())
                .collect();
            let aux = Aux {
                redis_ver: crate::config::REDIS_VERSION,
                ctime: crate::util::unix_ms() / 1000,
                used_mem: crate::server::allocated(),
                repl: None,
                aof_base: false,
            };
            let res = snap.write(
                &arc.store,
                Vec::new(),
                &aux,
                &functions,
                checksum,
                delay,
                None,
            );
            match res {
                Ok((rdb, _)) => {
                    let mut head = Vec::with_capacity(24);
                    head.push(b'$');
                    head.extend_from_slice(itoa::Buffer::new().format(rdb.len()).as_bytes());
                    head.extend_from_slice(b"\r\n");
                    link.send(&arc, &head);
                    link.send(&arc, &rdb);
                    drop(rdb);
                    // What changed meanwhile follows the copy, then the
                    // link sends directly.
                    let mut st = link.st.lock();
                    let held = std::mem::take(&mut st.held);
                    if !held.is_empty() {
                        link.send(&arc, &held);
                    }
                    st.copied = true;
                    drop(st);
                    tracing::info!("Synchronization with replica succeeded");
                }
                Err(e) => {
                    tracing::warn!("SYNC failed to write the copy: {e:?}");
                    link.st.lock().dead = true;
                    arc.kill_client(link.worker, link.id);
                }
            }
            arc.persist.st.lock().running = None;
        });
    match join {
        Ok(join) => {
            st.running = Some(Running {
                cancel,
                started,
                join: Some(join),
                progress,
                total,
            });
            Ok(())
        }
        Err(e) => {
            drop(st);
            bg::cancel_marks(&srv.store);
            if let Some(id) = client.replica_sub.take() {
                srv.stream.unsubscribe(id);
            }
            Err(format!("ERR can't start the copy: {e}"))
        }
    }
}

/// The replica's connection closed: its stream subscription goes.
pub fn closed(srv: &Server, client: &mut Client) {
    if let Some(id) = client.replica_sub.take() {
        srv.stream.unsubscribe(id);
    }
}
