//! Lua scripting: EVAL / EVALSHA over an embedded Lua 5.1 (mlua, vendored:
//! Redis's dialect).
//!
//! - `Scripts` (here) is the process-wide part: the script bodies by SHA1
//!   (SCRIPT LOAD/EXISTS/FLUSH) and the state of the running script, read
//!   by other workers for -BUSY and SCRIPT KILL.
//! - `engine.rs` is the per-worker-thread part: one Lua state per worker,
//!   with its compiled functions, `redis.*` and the sandbox.
//!
//! A script runs on the calling client's worker with the transaction gate
//! held exclusively (gate.rs), so it is atomic across all shards.

mod api;
mod cache;
mod cjson;
mod convert;
pub mod engine;
pub mod functions;
pub mod library;
pub mod libs;
mod msgpack;
mod structlib;

use crate::errors;
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

/// What a busy script's hook calls to let its thread serve its other
/// connections: installed by the event loop around the requests it runs
/// (net/), so scripting does not reach into the event loop.
type BusyHook = (*mut (), unsafe fn(*mut ()));

thread_local! {
    static BUSY_HOOK: Cell<Option<BusyHook>> = const { Cell::new(None) };
}

/// Runs `f` with `hook(ctx)` installed as this thread's busy hook.
///
/// # Safety
/// `ctx` must stay valid for `hook` while `f` runs, and nothing `f` uses
/// may alias what `hook` touches through it.
pub unsafe fn with_busy_hook<R>(
    ctx: *mut (),
    hook: unsafe fn(*mut ()),
    f: impl FnOnce() -> R,
) -> R {
    let prev = BUSY_HOOK.with(|h| h.replace(Some((ctx, hook))));
    let r = f();
    BUSY_HOOK.with(|h| h.set(prev));
    r
}

/// Called by a script past its busy threshold: runs the busy hook once
/// (not re-entered while it runs).
pub(crate) fn serve_while_busy() {
    let Some((ctx, hook)) = BUSY_HOOK.with(|h| h.take()) else {
        return;
    };
    // SAFETY: installed by `with_busy_hook`, whose caller guarantees it.
    unsafe { hook(ctx) };
    BUSY_HOOK.with(|h| h.set(Some((ctx, hook))));
}

/// Flags of an EVAL script, from its `#!lua flags=...` first line.
pub mod sflags {
    /// The script has a shebang: its flags are explicit (without one it
    /// is a legacy script, which may write, even under EVAL_RO's check).
    pub const SHEBANG: u8 = 1;
    pub const NO_WRITES: u8 = 2;
    pub const ALLOW_OOM: u8 = 4;
    pub const ALLOW_STALE: u8 = 8;
    pub const NO_CLUSTER: u8 = 16;
    pub const ALLOW_CROSS_SLOT: u8 = 32;
}

/// The flags of an EVAL script and, if it has a shebang, its code with
/// that line blanked (Lua's line numbers stay the user's). Errors are
/// Redis's replies.
pub fn eval_shebang(body: &[u8]) -> Result<(u8, Option<Vec<u8>>), String> {
    if !body.starts_with(b"#!") {
        return Ok((0, None));
    }
    let Some(end) = memchr::memchr(b'\n', body) else {
        return Err(errors::INVALID_SHEBANG.into());
    };
    let line = String::from_utf8_lossy(&body[..end]).into_owned();
    let mut parts = line.split_ascii_whitespace();
    let engine = parts.next().unwrap_or("");
    if engine != "#!lua" {
        return Err(errors::shebang_engine(engine));
    }
    let mut flags = sflags::SHEBANG;
    for p in parts {
        let Some(list) = p
            .get(..6)
            .filter(|k| k.eq_ignore_ascii_case("flags="))
            .map(|_| &p[6..])
        else {
            return Err(errors::shebang_option(p));
        };
        if list.is_empty() {
            continue;
        }
        for f in list.split(',') {
            flags |= match f {
                "no-writes" => sflags::NO_WRITES,
                "allow-oom" => sflags::ALLOW_OOM,
                "allow-stale" => sflags::ALLOW_STALE,
                "no-cluster" => sflags::NO_CLUSTER,
                "allow-cross-slot-keys" => sflags::ALLOW_CROSS_SLOT,
                _ => return Err(errors::shebang_flag(f)),
            };
        }
    }
    let mut code = body.to_vec();
    code[..end].fill(b' ');
    Ok((flags, Some(code)))
}

/// Process-wide scripting state.
pub struct Scripts {
    /// SHA1 (lowercase hex) -> body, bounded (cache.rs).
    pub cache: cache::Cache,
    /// Bumped by SCRIPT FLUSH: workers drop their compiled functions.
    pub epoch: AtomicU64,
    /// A script is running (SCRIPT KILL has something to kill).
    pub running: AtomicBool,
    /// The running script has written (it can no longer be killed).
    pub wrote: AtomicBool,
    /// SCRIPT KILL asked the running script to stop.
    pub kill: AtomicBool,
    /// The running script is past `busy-reply-threshold`.
    busy: AtomicBool,
    threshold_ms: AtomicU64,
    /// FUNCTION libraries.
    pub functions: functions::Functions,
    /// What is running, for FUNCTION STATS and the KILL commands' checks.
    current: parking_lot::Mutex<Option<Running>>,
}

/// The script or function running now.
pub struct Running {
    /// The function's registered name (an EVAL's SHA1).
    pub name: String,
    /// The calling command as sent (FUNCTION STATS shows it).
    pub argv: Vec<Vec<u8>>,
    /// EVAL/EVALSHA (FUNCTION KILL refuses those, SCRIPT KILL functions).
    pub eval: bool,
    pub start: std::time::Instant,
}

impl Scripts {
    pub fn new(threshold_ms: u64) -> Self {
        Scripts {
            cache: Default::default(),
            epoch: AtomicU64::new(0),
            running: AtomicBool::new(false),
            wrote: AtomicBool::new(false),
            kill: AtomicBool::new(false),
            busy: AtomicBool::new(false),
            threshold_ms: AtomicU64::new(threshold_ms),
            functions: Default::default(),
            current: parking_lot::Mutex::new(None),
        }
    }

    pub(crate) fn set_running(&self, r: Option<Running>) {
        *self.current.lock() = r;
    }

    /// The -BUSY text for what is running: an EVAL's or a function's.
    pub fn busy_text(&self) -> &'static str {
        if self.with_running(|r| r.is_some_and(|r| !r.eval)) {
            errors::BUSY_FUNCTION
        } else {
            errors::BUSY
        }
    }

    /// Reads what is running now (None when nothing is).
    pub fn with_running<R>(&self, f: impl FnOnce(Option<&Running>) -> R) -> R {
        f(self.current.lock().as_ref())
    }
    #[inline]
    pub fn is_busy(&self) -> bool {
        self.busy.load(Relaxed)
    }
    pub fn set_busy(&self, b: bool) {
        self.busy.store(b, Relaxed);
    }
    pub fn threshold_ms(&self) -> u64 {
        self.threshold_ms.load(Relaxed)
    }
    pub fn set_threshold(&self, ms: u64) {
        self.threshold_ms.store(ms, Relaxed);
    }

    /// Stores a body; returns its SHA1.
    /// SCRIPT LOAD: kept until SCRIPT FLUSH.
    pub fn load(&self, body: &[u8]) -> [u8; 40] {
        let sha = sha1_hex(body);
        self.cache.insert(sha, body, true);
        sha
    }

    pub fn exists(&self, sha: &[u8]) -> bool {
        normalize_sha(sha).is_some_and(|s| self.cache.contains(&s))
    }

    pub fn flush(&self) {
        self.cache.clear();
        // Redis starts a new Lua state: cjson's settings start over too.
        cjson::reset_global();
        self.epoch.fetch_add(1, Relaxed);
    }
}

/// SHA1 of `data` as 40 lowercase hex digits.
pub fn sha1_hex(data: &[u8]) -> [u8; 40] {
    let d = sha1_smol::Sha1::from(data).digest().bytes();
    let mut out = [0u8; 40];
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, b) in d.iter().enumerate() {
        out[2 * i] = HEX[(b >> 4) as usize];
        out[2 * i + 1] = HEX[(b & 15) as usize];
    }
    out
}

/// A client-given SHA1, lowercased; None unless 40 characters.
pub fn normalize_sha(s: &[u8]) -> Option<[u8; 40]> {
    let mut out: [u8; 40] = s.try_into().ok()?;
    out.make_ascii_lowercase();
    Some(out)
}
