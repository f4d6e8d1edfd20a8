//! Lua scripting: EVAL / EVALSHA and the SCRIPT commands' shared state.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

/// Process-wide scripting state.
pub struct Scripts {
    /// A script has run past `busy-reply-threshold` and still holds the gate.
    busy: AtomicBool,
    threshold_ms: AtomicU64,
}

impl Scripts {
    pub fn new(threshold_ms: u64) -> Self {
        Scripts {
            busy: AtomicBool::new(false),
            threshold_ms: AtomicU64::new(threshold_ms),
        }
    }
    #[inline]
    pub fn is_busy(&self) -> bool {
        self.busy.load(Relaxed)
    }
    pub fn set_threshold(&self, ms: u64) {
        self.threshold_ms.store(ms, Relaxed);
    }
}
