//! Active expiry, in the spirit of Redis's adaptive cycle: sample keys with a
//! TTL, delete the expired ones, and keep going while more than a tenth of
//! the sample had expired, within a time budget. Each shard is locked for one
//! short step at a time, so the cycle never holds a lock for long, and the
//! caller runs it in slices so no client waits behind it for more than about
//! a millisecond.

use super::Store;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

/// Buckets holding volatile keys examined per table per step, at effort 1.
const BUCKETS_PER_STEP: usize = 20;

/// Outcome of one slice.
pub struct ExpireSlice {
    pub expired: usize,
    /// True when the slice ran out of time while keys were still expiring
    /// fast: the caller should run another slice soon.
    pub more: bool,
}

impl Store {
    /// Runs active expiry for up to `budget` wall time, starting at shard
    /// `*next_shard` and remembering where it stopped. `effort` is
    /// `active-expire-effort` (1..=10), scaled as Redis scales it: a quarter
    /// more keys per step for each point, and one point less of expired
    /// keys tolerated (10% at 1, 1% at 10) before the cycle repeats.
    pub fn active_expire(
        &self,
        now_ms: i64,
        budget: Duration,
        effort: usize,
        next_shard: &mut usize,
        drain: &mut dyn FnMut(),
    ) -> ExpireSlice {
        if !self.active_expire_on.load(Relaxed) {
            return ExpireSlice {
                expired: 0,
                more: false,
            };
        }
        let start = Instant::now();
        let effort = effort.clamp(1, 10) - 1;
        let per_step = BUCKETS_PER_STEP + BUCKETS_PER_STEP / 4 * effort;
        let stale_pct = 10 - effort;
        // More than stale_pct% of the sample expired: go on.
        let keep_going = |seen: usize, expired: usize| seen > 0 && expired * 100 > seen * stale_pct;
        let mut total = 0;
        let n = self.nshards();
        for _ in 0..n {
            let si = *next_shard % n;
            *next_shard = (si + 1) % n;
            loop {
                // One unit of the write funnel per shard step: the step
                // holds the shard's lock, which orders its deletions
                // against other workers' writes (effects/stream.rs).
                crate::effects::begin();
                let (seen, expired) = {
                    let mut shard = self.lock_index(si);
                    let mut seen = 0;
                    let mut expired = 0;
                    for (db, t) in shard.dbs.iter_mut().enumerate() {
                        let (s, e) =
                            t.expire_step(now_ms, per_step, |k| crate::effects::expired(db, k));
                        seen += s;
                        expired += e;
                    }
                    (seen, expired)
                };
                drain();
                total += expired;
                if start.elapsed() >= budget {
                    // Stop mid-shard; resume with this shard next time.
                    *next_shard = si;
                    return ExpireSlice {
                        expired: total,
                        more: keep_going(seen, expired),
                    };
                }
                if !keep_going(seen, expired) {
                    break;
                }
            }
        }
        ExpireSlice {
            expired: total,
            more: false,
        }
    }
}
