//! The worker's periodic work, off the request path: the cron (idle
//! clients, buffers given back, hz, INFO's ops samples) and, on worker 0,
//! active expiry in time slices; and timing out blocked clients.

use super::{unix_ms, Worker, EXPIRE_SLICE, IDLE_TRIM_MS};
use std::sync::atomic::Ordering::Relaxed;
use tracing::debug;

impl Worker {
    /// Times out blocked clients whose deadline passed.
    pub(super) fn expire_blocked(&mut self) {
        let now = unix_ms();
        let due: Vec<(i64, usize, u64)> = self
            .blocked
            .iter()
            .copied()
            .filter(|b| b.0 <= now)
            .collect();
        for (_, token, id) in due {
            self.blocked.retain(|b| b.2 != id);
            if self.srv.blocking.unblock(id).is_none() {
                continue; // served meanwhile: the reply is in the inbox
            }
            let resp = match self.conns.get(token).and_then(|c| c.as_deref()) {
                Some(c) if c.client.id == id => c.client.resp,
                _ => continue,
            };
            self.now_ms = now;
            self.deliver_unblocked(token, id, &crate::blocking::timeout_reply(resp));
        }
    }

    pub(super) fn cron(&mut self) {
        // One pass over this worker's clients: close those past `timeout`,
        // and give back the buffers of those idle for a while (an idle
        // connection should cost a few hundred bytes, not 16 KiB).
        let timeout = self.srv.timeout.load(Relaxed) as i64;
        let now = self.now_ms;
        let mut expired = Vec::new();
        for (k, c) in self.conns.iter_mut() {
            let Some(c) = c.as_deref_mut() else {
                continue;
            };
            let idle = now - c.client.shared.last_ms.load(Relaxed);
            if timeout > 0 && idle > timeout * 1000 {
                expired.push(k);
            } else if idle >= IDLE_TRIM_MS {
                if c.rbuf.is_empty() && c.rbuf.capacity() > 0 {
                    c.rbuf = Vec::new();
                    c.client.shared.qbuf_cap.store(0, Relaxed);
                }
                if c.wbuf.is_empty() && c.wbuf.capacity() > 0 {
                    c.wbuf = Vec::new();
                }
            }
        }
        for k in expired {
            debug!("closing idle client");
            self.close(k);
        }
        if self.idx == 0 {
            self.srv.update_hz();
            self.active_expire();
            self.srv.sample_ops(self.now_ms);
        }
    }

    pub(super) fn active_expire(&mut self) {
        // Not while a transaction or script runs: they see a frozen clock.
        let Some(_gate) = self.srv.gate.try_read() else {
            return;
        };
        // Each shard step is one unit of the write funnel: its deletions
        // are notified and propagated (as DEL) after the lock is released.
        let now = unix_ms();
        let srv = &*self.srv;
        let stats = &*self.stats;
        let slice = srv.store.active_expire(
            now,
            EXPIRE_SLICE,
            srv.expire_effort.load(Relaxed) as usize,
            &mut self.expire_shard,
            &mut || {
                crate::funnel::close(srv, stats, now, None);
            },
        );
        if slice.expired > 0 {
            debug!(expired = slice.expired, "active expiry");
        }
        self.expire_more = slice.more;
    }
}
