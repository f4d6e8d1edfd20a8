//! Process-wide state shared by all worker threads.

use crate::client::ClientShared;
use crate::cmd::Registry;
use crate::config::Config;
use crate::store::Store;
use parking_lot::{Mutex, RwLock};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

/// The process's calibrated TSC clock (quanta), shared by all threads.
pub fn clock() -> &'static quanta::Clock {
    static CLOCK: OnceLock<quanta::Clock> = OnceLock::new();
    CLOCK.get_or_init(quanta::Clock::new)
}

/// Counters owned by one worker thread. Only the owner writes them (plain
/// load + store, no locked instruction on the hot path); INFO sums them.
#[derive(Default)]
pub struct Counter(AtomicU64);

impl Counter {
    #[inline]
    pub fn add(&self, n: u64) {
        self.0.store(self.0.load(Relaxed).wrapping_add(n), Relaxed);
    }
    #[inline]
    pub fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }
    pub fn reset(&self) {
        self.0.store(0, Relaxed);
    }
}

#[derive(Default)]
pub struct CmdStats {
    pub calls: Counter,
    pub usec: Counter,
    pub rejected: Counter,
    pub failed: Counter,
}

pub struct WorkerStats {
    pub commands: Counter,
    pub connections: Counter,
    pub rejected_connections: Counter,
    pub hits: Counter,
    pub misses: Counter,
    pub net_in: Counter,
    pub net_out: Counter,
    pub error_replies: Counter,
    /// Changes to the dataset (Redis's `server.dirty`), from the write
    /// funnel; INFO's rdb_changes_since_last_save sums them.
    pub dirty: Counter,
    pub cmd: Box<[CmdStats]>,
    /// INFO errorstats: error replies by their first word (ERR, WRONGTYPE...).
    /// Touched only when an error is sent, so a mutex costs nothing on the
    /// hot path; the number of distinct codes is bounded (see `count_error`).
    pub errors: Mutex<BTreeMap<String, u64>>,
    /// The CONFIG RESETSTAT epoch these counters count from. A worker that
    /// has not caught up with a reset yet is left out of INFO's sums, so
    /// INFO right after RESETSTAT shows no counts from before it.
    pub epoch: AtomicU64,
}

impl WorkerStats {
    pub fn new(ncmds: usize) -> Self {
        WorkerStats {
            commands: Counter::default(),
            connections: Counter::default(),
            rejected_connections: Counter::default(),
            hits: Counter::default(),
            misses: Counter::default(),
            net_in: Counter::default(),
            net_out: Counter::default(),
            error_replies: Counter::default(),
            dirty: Counter::default(),
            cmd: (0..ncmds).map(|_| CmdStats::default()).collect(),
            errors: Mutex::new(BTreeMap::new()),
            epoch: AtomicU64::new(0),
        }
    }

    /// Zeroes the counters if CONFIG RESETSTAT moved the epoch. Called by
    /// the owning worker only (counters have a single writer).
    #[inline]
    pub fn catch_up(&self, epoch: u64) {
        if self.epoch.load(Relaxed) != epoch {
            self.reset();
            self.epoch
                .store(epoch, std::sync::atomic::Ordering::Release);
        }
    }

    /// Whether these counters are from the current RESETSTAT epoch.
    pub fn is_current(&self, epoch: u64) -> bool {
        self.epoch.load(std::sync::atomic::Ordering::Acquire) == epoch
    }

    /// Counts an error reply (`-CODE message\r\n`) for INFO errorstats.
    /// Like Redis, at most 128 distinct codes are tracked.
    pub fn count_error(&self, reply: &[u8]) {
        self.error_replies.add(1);
        let body = reply.get(1..).unwrap_or_default();
        let end = body
            .iter()
            .position(|&c| c == b' ' || c == b'\r')
            .unwrap_or(body.len())
            .min(64);
        let code = String::from_utf8_lossy(&body[..end]).into_owned();
        let mut m = self.errors.lock();
        if m.len() < 128 || m.contains_key(&code) {
            *m.entry(code).or_insert(0) += 1;
        }
    }

    /// Called by the owning worker only (see `catch_up`).
    fn reset(&self) {
        for c in [
            &self.commands,
            &self.connections,
            &self.rejected_connections,
            &self.hits,
            &self.misses,
            &self.net_in,
            &self.net_out,
            &self.error_replies,
        ] {
            c.reset();
        }
        self.errors.lock().clear();
        for s in self.cmd.iter() {
            s.calls.reset();
            s.usec.reset();
            s.rejected.reset();
            s.failed.reset();
        }
    }
}

/// What other threads need to reach a worker: a waker and an inbox of
/// client ids to close (CLIENT KILL).
pub struct WorkerHandle {
    pub waker: mio::Waker,
    pub kill: Mutex<Vec<u64>>,
    /// Replies for clients blocked on this worker, served by other threads:
    /// (connection token, client id, reply bytes).
    pub replies: Mutex<Vec<(usize, u64, Vec<u8>)>>,
    /// Subscribers of this worker with messages in their outbox:
    /// (connection token, client id). `has_ready` avoids the lock when empty.
    pub ready: Mutex<Vec<(usize, u64)>>,
    pub has_ready: AtomicBool,
}

/// Index of the worker running on this thread (usize::MAX elsewhere).
pub fn current_worker() -> usize {
    WORKER.with(|w| w.get())
}

pub fn set_current_worker(i: usize) {
    WORKER.with(|w| w.set(i));
}

thread_local! {
    static WORKER: std::cell::Cell<usize> = const { std::cell::Cell::new(usize::MAX) };
}

/// Classes of `client-output-buffer-limit` (hard bytes, soft bytes, soft
/// seconds); index 1 is the replica class, used once replication exists.
pub const OBUF_NORMAL: usize = 0;
pub const OBUF_PUBSUB: usize = 2;

pub struct Server {
    pub store: Store,
    /// The propagation stream (effects/stream.rs): what replaying rebuilds
    /// the dataset from; the AOF and replicas subscribe to it.
    pub stream: Arc<crate::effects::Stream>,
    /// Who reads changed keys (blocked clients, watchers, notification
    /// subscribers): shared with the write funnel of every worker.
    pub interest: Arc<emberkv_core::effects::Interest>,
    pub blocking: crate::blocking::Blocking,
    pub watches: crate::watch::Watches,
    pub pubsub: crate::pubsub::PubSub,
    pub scripts: crate::script::Scripts,
    /// The transaction gate (gate.rs): shared per batch, exclusive for
    /// EXEC and scripts.
    pub gate: RwLock<()>,
    /// notify-keyspace-events as bit flags (notify.rs).
    pub notify_flags: AtomicU32,
    /// client-output-buffer-limit: [class][hard, soft, seconds].
    pub obuf_limits: [[AtomicU64; 3]; 3],
    pub config: RwLock<Config>,
    pub commands: Registry,
    pub clients: Mutex<BTreeMap<u64, Arc<ClientShared>>>,
    pub workers: OnceLock<Vec<WorkerHandle>>,
    pub stats: Vec<Arc<WorkerStats>>,
    pub shutdown: AtomicBool,
    pub started: Instant,
    pub run_id: String,
    pub next_client_id: AtomicU64,
    pub connected: AtomicU64,
    /// Bumped by CONFIG RESETSTAT; each worker zeroes its own counters when
    /// it sees a new value, so counters keep a single writer.
    pub reset_epoch: AtomicU64,
    /// Hot copies of configuration read on every request or connection.
    pub auth_required: AtomicBool,
    pub max_bulk_len: AtomicU64,
    pub qbuf_limit: AtomicU64,
    pub maxclients: AtomicU64,
    pub timeout: AtomicU64,
    pub hz: AtomicU64,
    pub dynamic_hz: AtomicBool,
    /// The hz the crons run at: `hz`, raised with many clients under
    /// `dynamic-hz` (INFO's hz; configured_hz is `hz`).
    pub effective_hz: AtomicU64,
    pub tcp_keepalive: AtomicU64,
    /// active-expire-effort (1..=10).
    pub expire_effort: AtomicU64,
    /// lazyfree-lazy-user-flush: FLUSHALL/FLUSHDB without a mode are ASYNC.
    pub lazy_user_flush: AtomicBool,
    pub expired_stat_base: AtomicI64,
    pub peak_memory: AtomicU64,
    /// Applies a new log level (tracing reload handle).
    pub set_log_level: Box<dyn Fn(crate::config::LogLevel) + Send + Sync>,
    /// instantaneous_ops_per_sec: samples of (ms, total commands).
    pub ops_samples: Mutex<std::collections::VecDeque<(i64, u64)>>,
    pub threads: usize,
    /// Snapshots: save state, loading, -MISCONF (persist/).
    pub persist: crate::persist::Persist,
    /// The server's own Arc, for threads a command starts (BGSAVE).
    pub me: OnceLock<std::sync::Weak<Server>>,
}

impl Server {
    pub fn new(
        config: Config,
        threads: usize,
        set_log_level: Box<dyn Fn(crate::config::LogLevel) + Send + Sync>,
    ) -> Self {
        let commands = Registry::new();
        let shards = if config.int("shards") != 0 {
            config.int("shards") as usize
        } else {
            (threads * 4)
                .next_power_of_two()
                .clamp(16, crate::store::MAX_SHARDS)
        };
        let run_id: String = (0..40)
            .map(|_| char::from_digit(fastrand::u32(..16), 16).unwrap())
            .collect();
        let stats = (0..threads)
            .map(|_| Arc::new(WorkerStats::new(commands.entries.len())))
            .collect();
        let interest: Arc<emberkv_core::effects::Interest> = Arc::default();
        Server {
            store: Store::new(shards, config.databases()),
            stream: Arc::default(),
            blocking: crate::blocking::Blocking::new(interest.clone()),
            watches: crate::watch::Watches::new(interest.clone()),
            interest,
            pubsub: Default::default(),
            scripts: crate::script::Scripts::new(config.uint("busy-reply-threshold")),
            gate: RwLock::new(()),
            notify_flags: AtomicU32::new(config.notify_keyspace_events()),
            obuf_limits: std::array::from_fn(|c| {
                std::array::from_fn(|i| AtomicU64::new(config.client_output_buffer_limit()[c][i]))
            }),
            auth_required: AtomicBool::new(!config.requirepass().is_empty()),
            max_bulk_len: AtomicU64::new(config.uint("proto-max-bulk-len")),
            qbuf_limit: AtomicU64::new(config.uint("client-query-buffer-limit")),
            maxclients: AtomicU64::new(config.uint("maxclients")),
            timeout: AtomicU64::new(config.uint("timeout")),
            hz: AtomicU64::new(config.hz() as u64),
            dynamic_hz: AtomicBool::new(true),
            effective_hz: AtomicU64::new(config.hz() as u64),
            tcp_keepalive: AtomicU64::new(300),
            expire_effort: AtomicU64::new(1),
            lazy_user_flush: AtomicBool::new(false),
            config: RwLock::new(config),
            commands,
            clients: Mutex::new(BTreeMap::new()),
            workers: OnceLock::new(),
            stats,
            shutdown: AtomicBool::new(false),
            started: Instant::now(),
            run_id,
            next_client_id: AtomicU64::new(1),
            connected: AtomicU64::new(0),
            reset_epoch: AtomicU64::new(0),
            expired_stat_base: AtomicI64::new(0),
            peak_memory: AtomicU64::new(0),
            set_log_level,
            ops_samples: Mutex::new(Default::default()),
            threads,
            persist: crate::persist::Persist::new(),
            me: OnceLock::new(),
        }
    }

    /// The server's Arc (None before `net::run` registered it).
    pub fn arc(&self) -> Option<Arc<Server>> {
        self.me.get().and_then(|w| w.upgrade())
    }

    /// Re-reads the hot copies after the configuration changed.
    pub fn config_changed(&self) {
        let c = self.config.read();
        self.auth_required
            .store(!c.requirepass().is_empty(), Relaxed);
        self.max_bulk_len
            .store(c.uint("proto-max-bulk-len"), Relaxed);
        self.qbuf_limit
            .store(c.uint("client-query-buffer-limit"), Relaxed);
        self.maxclients.store(c.uint("maxclients"), Relaxed);
        self.timeout.store(c.uint("timeout"), Relaxed);
        self.hz.store(c.hz() as u64, Relaxed);
        self.dynamic_hz.store(c.yes("dynamic-hz"), Relaxed);
        self.tcp_keepalive.store(c.uint("tcp-keepalive"), Relaxed);
        self.expire_effort
            .store(c.uint("active-expire-effort"), Relaxed);
        self.lazy_user_flush
            .store(c.yes("lazyfree-lazy-user-flush"), Relaxed);
        let events = c.notify_keyspace_events();
        self.notify_flags.store(events, Relaxed);
        let x = crate::notify::KEYSPACE | crate::notify::KEYEVENT;
        self.interest
            .notify
            .store(events & x != 0 && events & !x != 0, Relaxed);
        crate::effects::RECORD_NEW
            .store(events & crate::notify::NEW != 0 && events & x != 0, Relaxed);
        crate::effects::EXPIRE_AS_UNLINK.store(c.yes("lazyfree-lazy-expire"), Relaxed);
        let obuf = c.client_output_buffer_limit();
        for (cl, lim) in self.obuf_limits.iter().enumerate() {
            for (i, a) in lim.iter().enumerate() {
                a.store(obuf[cl][i], Relaxed);
            }
        }
        // Collection encoding thresholds, read on the data path.
        let l = &crate::types::LIMITS;
        for (a, name) in [
            (&l.list_max_listpack_size, "list-max-listpack-size"),
            (&l.hash_max_listpack_entries, "hash-max-listpack-entries"),
            (&l.hash_max_listpack_value, "hash-max-listpack-value"),
            (&l.set_max_intset_entries, "set-max-intset-entries"),
            (&l.set_max_listpack_entries, "set-max-listpack-entries"),
            (&l.set_max_listpack_value, "set-max-listpack-value"),
            (&l.zset_max_listpack_entries, "zset-max-listpack-entries"),
            (&l.zset_max_listpack_value, "zset-max-listpack-value"),
        ] {
            a.store(c.int(name), Relaxed);
        }
        emberkv_core::ops::hll::SPARSE_MAX_BYTES
            .store(c.uint("hll-sparse-max-bytes") as usize, Relaxed);
        use crate::types::stream::{NODE_MAX_BYTES, NODE_MAX_ENTRIES};
        NODE_MAX_BYTES.store(c.int("stream-node-max-bytes"), Relaxed);
        NODE_MAX_ENTRIES.store(c.int("stream-node-max-entries"), Relaxed);
        self.scripts.set_threshold(c.uint("busy-reply-threshold"));
        (self.set_log_level)(c.loglevel());
        drop(c);
        crate::persist::update_deny(self);
    }

    /// Records (time, commands processed) for instantaneous_ops_per_sec,
    /// and the peak of used memory.
    pub fn sample_ops(&self, now_ms: i64) {
        let total = self.sum(|s| s.commands.get());
        let mut q = self.ops_samples.lock();
        q.push_back((now_ms, total));
        while q.len() > 16 {
            q.pop_front();
        }
        let mem = allocated();
        self.peak_memory.fetch_max(mem, Relaxed);
    }

    /// Redis's dynamic hz: doubled while there are more than 200 clients
    /// per tick, up to 500.
    pub fn update_hz(&self) {
        let mut hz = self.hz.load(Relaxed).max(1);
        if self.dynamic_hz.load(Relaxed) {
            let clients = self.connected.load(Relaxed);
            while clients / hz > 200 {
                hz *= 2;
                if hz > 500 {
                    hz = 500;
                    break;
                }
            }
        }
        self.effective_hz.store(hz, Relaxed);
    }

    /// The last steps of a shutdown: what start-up created on disk goes.
    pub fn finish_shutdown(&self) {
        crate::process::remove_pidfile();
        let sock = self.config.read().get("unixsocket").to_string();
        if !sock.is_empty() {
            tracing::info!("Removing the unix socket file.");
            if let Err(e) = std::fs::remove_file(&sock) {
                tracing::warn!(path = %sock, error = %e, "could not remove the unix socket file");
            }
        }
        tracing::warn!("emberkv is now ready to exit, bye bye...");
    }

    /// Shutdown while a script is busy (SHUTDOWN NOSAVE, SIGTERM): Redis
    /// exits from inside the script, since the script's thread will not
    /// return to its event loop; so do we.
    pub fn exit_now(&self) -> ! {
        tracing::warn!("shutting down while a script is busy");
        self.finish_shutdown();
        std::process::exit(0)
    }

    /// (hard, soft, soft seconds) of an output-buffer class.
    pub fn obuf_limit(&self, class: usize) -> (u64, u64, u64) {
        let l = &self.obuf_limits[class];
        (l[0].load(Relaxed), l[1].load(Relaxed), l[2].load(Relaxed))
    }

    /// Asks worker `w` to close client `id` (CLIENT KILL, output limits).
    pub fn kill_client(&self, w: usize, id: u64) {
        if let Some(ws) = self.workers.get() {
            ws[w].kill.lock().push(id);
            let _ = ws[w].waker.wake();
        }
    }

    /// Queues a subscriber with pending messages on its worker. True when
    /// that worker must be woken (another thread's, and its list was empty).
    pub fn ready(&self, w: usize, token: usize, id: u64) -> bool {
        let Some(ws) = self.workers.get() else {
            return false;
        };
        let mut r = ws[w].ready.lock();
        r.push((token, id));
        ws[w].has_ready.store(true, Relaxed);
        r.len() == 1 && current_worker() != w
    }

    pub fn wake_worker(&self, w: usize) {
        if let Some(ws) = self.workers.get() {
            let _ = ws[w].waker.wake();
        }
    }

    pub fn request_shutdown(&self) {
        self.shutdown.store(true, Relaxed);
        if let Some(ws) = self.workers.get() {
            for w in ws {
                let _ = w.waker.wake();
            }
        }
    }

    pub fn sum(&self, f: impl Fn(&WorkerStats) -> u64) -> u64 {
        self.live_stats().map(|s| f(s)).sum()
    }

    /// The workers' counters that count from the last CONFIG RESETSTAT.
    pub fn live_stats(&self) -> impl Iterator<Item = &Arc<WorkerStats>> {
        let epoch = self.reset_epoch.load(Relaxed);
        self.stats.iter().filter(move |s| s.is_current(epoch))
    }

    /// Keys expired so far, summed over every table.
    pub fn expired_keys(&self) -> u64 {
        let mut n = 0;
        for i in 0..self.store.nshards() {
            let shard = self.store.lock_index(i);
            n += shard.dbs.iter().map(|t| t.expired).sum::<u64>();
        }
        (n as i64 - self.expired_stat_base.load(Relaxed)).max(0) as u64
    }
}

/// Bytes the allocator has handed out (INFO's used_memory).
pub fn allocated() -> u64 {
    let _ = tikv_jemalloc_ctl::epoch::advance();
    tikv_jemalloc_ctl::stats::allocated::read().unwrap_or(0) as u64
}
