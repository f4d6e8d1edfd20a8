//! Writing the RDB: SAVE on the caller's thread, BGSAVE on its own, both
//! through the same point-in-time walker (emberkv-persist's snapshot::bg);
//! the file is written under a temporary name, fsynced, renamed over
//! `dbfilename` and the directory fsynced, so a crash at any moment leaves
//! the previous file whole.

use super::{dirty, save_points, update_deny, Running};
use crate::server::Server;
use emberkv_persist::snapshot::bg::{self, Snapshot, WriteError, Written};
use emberkv_persist::snapshot::save::Aux;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;
use tracing::{info, warn};

/// Why BGSAVE did not start.
#[derive(Debug, PartialEq, Eq)]
pub enum BgsaveError {
    InProgress,
}

fn dest(srv: &Server) -> PathBuf {
    PathBuf::from(srv.config.read().get("dbfilename"))
}

fn temp_name() -> PathBuf {
    PathBuf::from(format!("temp-{}.rdb", std::process::id()))
}

fn root_dir() -> String {
    std::env::current_dir()
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

/// Marks the keyspace now: the file will hold this instant's state.
fn begin(srv: &Server) -> Snapshot {
    let compress = srv.config.read().yes("rdbcompression");
    bg::begin(&srv.store, compress)
}

/// Writes a begun snapshot to `dbfilename` through a temporary file.
/// With `walker_init` (BGSAVE), a thread that runs it first walks the
/// keyspace while this one writes; without, this one does both.
fn write_file(
    srv: &Server,
    snap: Snapshot,
    walker_init: Option<&(dyn Fn() + Sync)>,
) -> Result<Written, String> {
    let (checksum, delay, incremental) = {
        let c = srv.config.read();
        (
            c.yes("rdbchecksum"),
            c.int("rdb-key-save-delay"),
            c.yes("rdb-save-incremental-fsync"),
        )
    };
    let tmp = temp_name();
    let file = File::create(&tmp).map_err(|e| {
        format!(
            "Failed opening the temp RDB file {} (in server root dir {}) for saving: {}",
            tmp.display(),
            root_dir(),
            crate::config::os_reason(&e)
        )
    })?;
    let functions: Vec<Vec<u8>> = srv
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
    let result = snap.write(
        &srv.store,
        // Unbuffered: the writer gathers small records into 64 KiB and
        // hands segment pieces over whole (a BufWriter copied every byte
        // of the file once more).
        super::sync::SyncingFile::new(file, incremental),
        &aux,
        &functions,
        checksum,
        delay,
        walker_init,
    );
    let fail = |msg: String| {
        let _ = std::fs::remove_file(&tmp);
        msg
    };
    let (out, written) = match result {
        Ok(x) => x,
        Err(WriteError::Cancelled) => return Err(fail("cancelled".into())),
        Err(WriteError::Io(e)) => {
            return Err(fail(format!(
                "Write error saving DB on disk: {}",
                crate::config::os_reason(&e)
            )))
        }
    };
    let file = out.into_inner();
    file.sync_all().map_err(|e| {
        fail(format!(
            "Write error saving DB on disk: {}",
            crate::config::os_reason(&e)
        ))
    })?;
    drop(file);
    let to = dest(srv);
    std::fs::rename(&tmp, &to).map_err(|e| {
        fail(format!(
            "Error moving temp DB file {} on the final destination {} (in server root dir {}): {}",
            tmp.display(),
            to.display(),
            root_dir(),
            crate::config::os_reason(&e)
        ))
    })?;
    fsync_dir(&to).map_err(|e| {
        format!(
            "Failed to fsync the directory of {}: {}",
            to.display(),
            crate::config::os_reason(&e)
        )
    })?;
    Ok(written)
}

/// The rename is durable only once the directory entry is.
pub(super) fn fsync_dir(file: &Path) -> std::io::Result<()> {
    let dir = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

/// Stops a background save in progress and waits for its thread (SAVE
/// after FLUSHALL, SHUTDOWN). Its file is abandoned, as Redis kills its
/// child; not an error for INFO.
pub fn cancel_bgsave(srv: &Server) -> bool {
    let join = {
        let mut st = srv.persist.st.lock();
        match st.running.as_mut() {
            Some(r) => {
                r.cancel.store(true, Relaxed);
                r.join.take()
            }
            None => return false,
        }
    };
    if let Some(j) = join {
        let _ = j.join();
    }
    true
}

/// SAVE: the whole file from the caller's thread. Err(the reason, which
/// is also logged).
pub fn save_now(srv: &Server) -> Result<(), String> {
    loop {
        let mut st = srv.persist.st.lock();
        if st.saving {
            // Another client's SAVE (or SHUTDOWN's): in Redis this one
            // would have run after it, so it waits its turn.
            drop(st);
            std::thread::sleep(std::time::Duration::from_millis(2));
            continue;
        }
        if super::Persist::busy(&st) {
            return Err("Background save already in progress".into());
        }
        st.saving = true;
        break;
    }
    let at = dirty(srv);
    let snap = begin(srv);
    let result = write_file(srv, snap, None);
    srv.persist.st.lock().saving = false;
    match result {
        Ok(_) => {
            info!("DB saved on disk");
            let mut st = srv.persist.st.lock();
            st.dirty_saved = at;
            st.lastsave = crate::util::unix_ms() / 1000;
            st.last_ok = true;
            st.saves += 1;
            drop(st);
            update_deny(srv);
            Ok(())
        }
        Err(e) => {
            warn!("{e}");
            Err(e)
        }
    }
}

/// BGSAVE: marks the instant now, writes the file on a thread.
pub fn bgsave(srv: &Server) -> Result<(), BgsaveError> {
    let Some(arc) = srv.arc() else {
        return Err(BgsaveError::InProgress);
    };
    let mut st = srv.persist.st.lock();
    while st.saving {
        // Behind another client's SAVE, as in Redis (where it would run
        // once that SAVE returned).
        drop(st);
        std::thread::sleep(std::time::Duration::from_millis(2));
        st = srv.persist.st.lock();
    }
    if super::Persist::busy(&st) {
        return Err(BgsaveError::InProgress);
    }
    st.last_try = crate::util::unix_ms() / 1000;
    st.scheduled = false;
    let at = dirty(srv);
    let snap = begin(srv);
    let cancel = snap.cancel.clone();
    let progress = snap.collector();
    let total = snap.total_keys();
    let started = Instant::now();
    let join = std::thread::Builder::new()
        .name("emberkv-bgsave".into())
        .spawn(move || {
            // The walker (started by the write, with this thread's CPU
            // set) serializes under shard locks: on a core it shares with
            // a worker, the worker's clients come first (at nice 0 it took
            // long slices, probe max 203 ms; nice 19 starved it). This
            // thread, which only writes the queue out, stays at nice 0.
            crate::process::pin_thread(arc.config.read().get("bgsave_cpulist"));
            let result = write_file(
                &arc,
                snap,
                Some(&|| {
                    // SAFETY: plain syscalls on this thread's own id.
                    unsafe {
                        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
                        libc::setpriority(libc::PRIO_PROCESS, tid, 10);
                    }
                }),
            );
            finish(&arc, result, at, started);
        });
    let join = match join {
        Ok(j) => j,
        Err(e) => {
            // The marks must go: nothing will walk them.
            warn!("Can't save in background: {e}");
            drop(st);
            bg::cancel_marks(&srv.store);
            return Err(BgsaveError::InProgress);
        }
    };
    info!("Background saving started by pid {}", std::process::id());
    st.running = Some(Running {
        cancel,
        started,
        join: Some(join),
        progress,
        total,
    });
    Ok(())
}

/// The background save's end, in the server's state.
fn finish(srv: &Server, result: Result<Written, String>, at: u64, started: Instant) {
    let mut st = srv.persist.st.lock();
    let secs = started.elapsed().as_secs() as i64;
    match result {
        Ok(w) => {
            info!("DB saved on disk");
            info!(
                "Snapshot extra memory: {} MB (serialized segments queued at most)",
                w.peak_queue >> 20
            );
            info!("Background saving terminated with success");
            st.dirty_saved = at;
            st.lastsave = crate::util::unix_ms() / 1000;
            st.last_ok = true;
            st.saves += 1;
            st.last_cow = w.peak_queue as u64;
            st.last_bgsave_secs = secs;
        }
        Err(e) if e == "cancelled" => {
            warn!("Background saving terminated by signal 10");
        }
        Err(e) => {
            warn!("{e}");
            warn!("Background saving error");
            st.last_ok = false;
            st.last_bgsave_secs = secs;
        }
    }
    st.running = None;
    drop(st);
    update_deny(srv);
}

/// One persistence cron tick: a scheduled BGSAVE, then the save points.
pub fn cron(srv: &Server) {
    if srv.persist.loading.load(Relaxed) {
        return;
    }
    let (scheduled, lastsave, last_ok, last_try, dirty_saved) = {
        let st = srv.persist.st.lock();
        if super::Persist::busy(&st) {
            return;
        }
        (
            st.scheduled,
            st.lastsave,
            st.last_ok,
            st.last_try,
            st.dirty_saved,
        )
    };
    if scheduled {
        let _ = bgsave(srv);
        return;
    }
    let now = crate::util::unix_ms() / 1000;
    let changes = dirty(srv).saturating_sub(dirty_saved);
    for (secs, min) in save_points(srv) {
        if changes >= min && now - lastsave >= secs && (last_ok || now - last_try >= 5) {
            info!("{min} changes in {secs} seconds. Saving...");
            let _ = bgsave(srv);
            return;
        }
    }
}

/// Marks a BGSAVE to run when the running one ends (BGSAVE SCHEDULE).
pub fn schedule(srv: &Server) {
    srv.persist.st.lock().scheduled = true;
}

/// What a shutdown saves (SHUTDOWN's flags; for signals, the
/// shutdown-on-sig* directive's): a running BGSAVE is abandoned, then with
/// SAVE, or save points and no NOSAVE, the final snapshot is written.
/// Err when it failed and FORCE was not given: the server keeps running.
pub fn before_shutdown(srv: &Server, save: bool, nosave: bool, force: bool) -> Result<(), String> {
    // Another client's SAVE finishes first: in Redis it would have, the
    // SHUTDOWN waiting behind it.
    while srv.persist.st.lock().saving {
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    if cancel_bgsave(srv) {
        warn!("There is a child saving an .rdb. Killing it!");
    }
    // Half a loaded file must never overwrite the whole one (Redis turns
    // any save off while loading).
    let nosave = nosave || srv.persist.loading.load(Relaxed);
    if nosave || (!save && save_points(srv).is_empty()) {
        return Ok(());
    }
    info!("Saving the final RDB snapshot before exiting.");
    match save_now(srv) {
        Ok(()) => Ok(()),
        Err(_) if force => {
            warn!("Error trying to save the DB. Exit anyway.");
            Ok(())
        }
        Err(e) => {
            warn!("Error trying to save the DB, can't exit.");
            Err(e)
        }
    }
}

/// Counts `n` changes not yet in the dirty counter (the running command's)
/// as saved.
pub fn covered(srv: &Server, n: u64) {
    srv.persist.st.lock().dirty_saved += n;
}
