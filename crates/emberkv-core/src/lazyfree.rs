//! Background freeing of big values: one thread that drops whatever it is
//! sent. Dropping a collection with millions of elements takes as many
//! `free` calls; done inline under a shard lock it would stall every client
//! of that shard (and the caller), so DEL, UNLINK, overwrites, expiry and
//! FLUSHALL ASYNC of such values hand them here instead. A leaf: it knows
//! nothing of what it frees (`Box<dyn Send>`).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Mutex, OnceLock};

type Garbage = Box<dyn Send>;

/// Objects handed over and not yet freed (INFO `lazyfree_pending_objects`).
pub static PENDING: AtomicU64 = AtomicU64::new(0);
/// Objects freed in the background (INFO `lazyfreed_objects`).
pub static FREED: AtomicU64 = AtomicU64::new(0);

/// `bio_cpulist`: the CPUs the background thread may run on (set at start).
pub static CPULIST: OnceLock<String> = OnceLock::new();

thread_local! {
    static IS_LAZYFREE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn sender() -> &'static Mutex<Sender<Garbage>> {
    static TX: OnceLock<Mutex<Sender<Garbage>>> = OnceLock::new();
    TX.get_or_init(|| {
        let (tx, rx) = channel::<Garbage>();
        std::thread::Builder::new()
            .name("emberkv-lazyfree".into())
            .spawn(move || {
                IS_LAZYFREE.with(|f| f.set(true));
                if let Some(list) = CPULIST.get() {
                    crate::util::cpu::pin_thread(list);
                }
                for g in rx {
                    drop(g);
                    PENDING.fetch_sub(1, Relaxed);
                    FREED.fetch_add(1, Relaxed);
                }
            })
            .expect("spawn lazyfree thread");
        Mutex::new(tx)
    })
}

/// Frees `g` on the background thread.
pub fn defer(g: Garbage) {
    if IS_LAZYFREE.with(|f| f.get()) {
        return drop(g);
    }
    PENDING.fetch_add(1, Relaxed);
    let tx = sender().lock().unwrap_or_else(|e| e.into_inner());
    if let Err(e) = tx.send(g) {
        PENDING.fetch_sub(1, Relaxed);
        drop(e.0);
    }
}

/// Whether this is the background thread (which frees what it is handed
/// inline, rather than handing it to itself).
pub fn on_lazyfree_thread() -> bool {
    IS_LAZYFREE.with(|f| f.get())
}

/// Returns jemalloc's unused dirty pages to the OS (all arenas), as Redis
/// does after a synchronous FLUSHALL: without traffic jemalloc would keep
/// them for its decay time, and RSS would stay at the dataset's peak.
struct Purge;

impl Drop for Purge {
    fn drop(&mut self) {
        purge_now();
    }
}

/// The purge itself, on the calling thread.
pub fn purge_now() {
    // Arena by arena (MALLCTL_ARENAS_ALL covers only the arenas jemalloc's
    // control structure knew at its last refresh), then all.
    let _ = tikv_jemalloc_ctl::epoch::advance();
    let n = tikv_jemalloc_ctl::arenas::narenas::read().unwrap_or(0);
    for i in (0..n)
        .map(|i| i.to_string())
        .chain(std::iter::once("4096".to_string()))
    {
        let name = format!("arena.{i}.purge\0");
        // SAFETY: a NUL-terminated name and no old or new value.
        unsafe {
            tikv_jemalloc_sys::mallctl(
                name.as_ptr() as *const libc::c_char,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                0,
            );
        }
    }
}

/// Purges on the background thread once what was handed over before is
/// freed (a purge of gigabytes takes milliseconds: not on a worker).
pub fn purge_later() {
    if IS_LAZYFREE.with(|f| f.get()) {
        return;
    }
    PENDING.fetch_add(1, Relaxed);
    let tx = sender().lock().unwrap_or_else(|e| e.into_inner());
    if let Err(e) = tx.send(Box::new(Purge)) {
        PENDING.fetch_sub(1, Relaxed);
        std::mem::forget(e.0);
    }
}
