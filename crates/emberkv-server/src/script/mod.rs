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

mod convert;
pub mod engine;
pub mod functions;
pub mod libs;
mod msgpack;
mod structlib;

use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

/// Process-wide scripting state.
pub struct Scripts {
    /// SHA1 (lowercase hex) -> body.
    bodies: RwLock<HashMap<[u8; 40], Arc<[u8]>>>,
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
}

impl Scripts {
    pub fn new(threshold_ms: u64) -> Self {
        Scripts {
            bodies: RwLock::new(HashMap::new()),
            epoch: AtomicU64::new(0),
            running: AtomicBool::new(false),
            wrote: AtomicBool::new(false),
            kill: AtomicBool::new(false),
            busy: AtomicBool::new(false),
            threshold_ms: AtomicU64::new(threshold_ms),
            functions: Default::default(),
        }
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
    pub fn store(&self, body: &[u8]) -> [u8; 40] {
        let sha = sha1_hex(body);
        if !self.bodies.read().contains_key(&sha) {
            self.bodies.write().insert(sha, body.into());
        }
        sha
    }

    pub fn get(&self, sha: &[u8; 40]) -> Option<Arc<[u8]>> {
        self.bodies.read().get(sha).cloned()
    }

    pub fn exists(&self, sha: &[u8]) -> bool {
        normalize_sha(sha).is_some_and(|s| self.bodies.read().contains_key(&s))
    }

    pub fn flush(&self) {
        self.bodies.write().clear();
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
