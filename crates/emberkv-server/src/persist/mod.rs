//! Snapshots in the server: the state INFO persistence reports, SAVE and
//! BGSAVE over emberkv-persist's point-in-time writer (save.rs), the save
//! points, and loading the RDB at start (load.rs).
//!
//! There is no child process: a BGSAVE is a thread that walks the keyspace
//! while the workers serve (see emberkv-core's `store/table/snap.rs` for
//! how the file stays one instant's state). What Redis reports about its
//! child (the copy-on-write size) is reported about the snapshot's queue
//! of serialized bytes, its only extra memory.

pub mod aof;
pub mod load;
pub mod replica;
pub mod save;
mod sync;

use crate::server::Server;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Instant;

pub use save::{bgsave, save_now, BgsaveError};

/// A background save in progress.
pub(crate) struct Running {
    pub cancel: Arc<AtomicBool>,
    pub started: Instant,
    pub join: Option<std::thread::JoinHandle<()>>,
    /// Progress, read by INFO (keys written, bytes queued now and at most).
    pub progress: Arc<emberkv_persist::snapshot::bg::Collector>,
    /// Keys at the instant.
    pub total: u64,
}

pub(crate) struct State {
    pub running: Option<Running>,
    /// A SAVE is writing (one snapshot at a time: a second one's marks
    /// would replace the first's).
    pub saving: bool,
    /// Unix seconds of the last successful save (LASTSAVE).
    pub lastsave: i64,
    pub last_ok: bool,
    pub last_bgsave_secs: i64,
    pub saves: u64,
    pub last_cow: u64,
    pub scheduled: bool,
    /// The dirty counter's value the last successful save covered.
    pub dirty_saved: u64,
    /// Unix seconds of the last BGSAVE attempt (a failed one is retried
    /// by the save points only after CONFIG_BGSAVE_RETRY_DELAY, 5 s).
    pub last_try: i64,
    pub load_keys_loaded: u64,
    pub load_keys_expired: u64,
}

/// Loading progress, for INFO while the file loads.
#[derive(Default)]
pub struct LoadProgress {
    pub start: AtomicU64,
    pub total_bytes: AtomicU64,
    pub loaded_bytes: AtomicU64,
    pub rdb_used_mem: AtomicU64,
}

pub struct Persist {
    pub(crate) st: Mutex<State>,
    /// The dataset is loading: commands without the `loading` flag get
    /// -LOADING.
    pub loading: AtomicBool,
    /// Writes (and PING) get -MISCONF: the last background save failed,
    /// with save points and stop-writes-on-bgsave-error set.
    pub deny_writes: AtomicBool,
    /// DEBUG SET-SKIP-CHECKSUM-VALIDATION.
    pub skip_checksum: AtomicBool,
    pub load: LoadProgress,
}

impl Persist {
    pub fn new() -> Self {
        Persist {
            st: Mutex::new(State {
                running: None,
                saving: false,
                lastsave: crate::util::unix_ms() / 1000,
                last_ok: true,
                last_bgsave_secs: -1,
                saves: 0,
                last_cow: 0,
                scheduled: false,
                dirty_saved: 0,
                last_try: 0,
                load_keys_loaded: 0,
                load_keys_expired: 0,
            }),
            loading: AtomicBool::new(false),
            deny_writes: AtomicBool::new(false),
            skip_checksum: AtomicBool::new(false),
            load: LoadProgress::default(),
        }
    }

    pub fn lastsave(&self) -> i64 {
        self.st.lock().lastsave
    }

    pub fn bgsave_in_progress(&self) -> bool {
        self.st.lock().running.is_some()
    }

    /// A SAVE or BGSAVE is writing.
    pub(crate) fn busy(st: &State) -> bool {
        st.running.is_some() || st.saving
    }
}

impl Default for Persist {
    fn default() -> Self {
        Self::new()
    }
}

/// The dirty counter: changes since start (Redis's `server.dirty` plus
/// what its saves subtracted).
pub fn dirty(srv: &Server) -> u64 {
    srv.stats.iter().map(|s| s.dirty.get()).sum()
}

/// `save` as (seconds, changes) pairs.
pub fn save_points(srv: &Server) -> Vec<(i64, u64)> {
    let c = srv.config.read();
    let v: Vec<&str> = c.get("save").split_whitespace().collect();
    v.chunks(2)
        .filter_map(|p| Some((p.first()?.parse().ok()?, p.get(1)?.parse().ok()?)))
        .collect()
}

/// Recomputes the -MISCONF switch (after a save ends or the config changed).
pub fn update_deny(srv: &Server) {
    let stop = srv.config.read().yes("stop-writes-on-bgsave-error");
    let failed = !srv.persist.st.lock().last_ok;
    let deny = stop && failed && !save_points(srv).is_empty();
    srv.persist.deny_writes.store(deny, Relaxed);
}

/// INFO persistence, in Redis 7.0's order.
pub fn info(srv: &Server, out: &mut String) {
    use std::fmt::Write;
    let p = &srv.persist;
    let loading = p.loading.load(Relaxed);
    let dirty = dirty(srv);
    let st = p.st.lock();
    let (processed, total, cow, peak, cur_secs) = match &st.running {
        Some(r) => {
            let (cow, peak) = r.progress.queued();
            (
                r.progress.keys(),
                r.total,
                cow,
                peak,
                r.started.elapsed().as_secs() as i64,
            )
        }
        None => (0, 0, 0, 0, -1),
    };
    let perc = if total > 0 {
        processed as f64 * 100.0 / total as f64
    } else {
        0.0
    };
    let _ = write!(
        out,
        "loading:{}\r\nasync_loading:0\r\ncurrent_cow_peak:{peak}\r\n\
         current_cow_size:{cow}\r\ncurrent_cow_size_age:0\r\n\
         current_fork_perc:{perc:.2}\r\ncurrent_save_keys_processed:{processed}\r\n\
         current_save_keys_total:{total}\r\nrdb_changes_since_last_save:{}\r\n\
         rdb_bgsave_in_progress:{}\r\nrdb_last_save_time:{}\r\n\
         rdb_last_bgsave_status:{}\r\nrdb_last_bgsave_time_sec:{}\r\n\
         rdb_current_bgsave_time_sec:{cur_secs}\r\nrdb_saves:{}\r\n\
         rdb_last_cow_size:{}\r\nrdb_last_load_keys_expired:{}\r\n\
         rdb_last_load_keys_loaded:{}\r\n",
        loading as u8,
        dirty.saturating_sub(st.dirty_saved),
        st.running.is_some() as u8,
        st.lastsave,
        if st.last_ok { "ok" } else { "err" },
        st.last_bgsave_secs,
        st.saves,
        st.last_cow,
        st.load_keys_expired,
        st.load_keys_loaded,
    );
    drop(st);
    out.push_str(
        "aof_enabled:0\r\naof_rewrite_in_progress:0\r\naof_rewrite_scheduled:0\r\n\
         aof_last_rewrite_time_sec:-1\r\naof_current_rewrite_time_sec:-1\r\n\
         aof_last_bgrewrite_status:ok\r\naof_rewrites:0\r\n\
         aof_rewrites_consecutive_failures:0\r\naof_last_write_status:ok\r\n\
         aof_last_cow_size:0\r\nmodule_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n",
    );
    if loading {
        let l = &p.load;
        let start = l.start.load(Relaxed);
        let total = l.total_bytes.load(Relaxed);
        let done = l.loaded_bytes.load(Relaxed);
        let perc = if total > 0 {
            done as f64 * 100.0 / total as f64
        } else {
            0.0
        };
        let elapsed = (crate::util::unix_ms() / 1000).saturating_sub(start as i64);
        let eta = if done > 0 {
            ((total.saturating_sub(done)) as f64 / (done as f64 / elapsed.max(1) as f64)) as i64
        } else {
            1
        };
        let _ = write!(
            out,
            "loading_start_time:{start}\r\nloading_total_bytes:{total}\r\n\
             loading_rdb_used_mem:{}\r\nloading_loaded_bytes:{done}\r\n\
             loading_loaded_perc:{perc:.2}\r\nloading_eta_seconds:{eta}\r\n",
            l.rdb_used_mem.load(Relaxed)
        );
    }
}

/// The persistence cron (its own thread, at `hz`): save points, a
/// scheduled BGSAVE.
pub fn start_cron(srv: &Arc<Server>) {
    let srv = Arc::downgrade(srv);
    let _ = std::thread::Builder::new()
        .name("emberkv-persist".into())
        .spawn(move || loop {
            let Some(s) = srv.upgrade() else { return };
            let hz = s.hz.load(Relaxed).clamp(1, 500);
            if s.shutdown.load(Relaxed) {
                return;
            }
            save::cron(&s);
            drop(s);
            std::thread::sleep(std::time::Duration::from_millis(1000 / hz));
        });
}
