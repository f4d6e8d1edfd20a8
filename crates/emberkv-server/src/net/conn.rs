//! One connection's request processing: parse and run every complete
//! request in its buffer, and the output-buffer limit check.

use super::Conn;
use crate::cmd::Args;
use crate::dispatch::dispatch;
use crate::gate::Gate;
use crate::server::{Server, WorkerStats};
use emberkv_protocol::{Limits, ReplyWriter};
use std::sync::atomic::Ordering::Relaxed;
use tracing::{debug, warn};

/// `client-output-buffer-limit`: true if the client must be closed for
/// the replies it leaves unread (normal class; subscribers are also checked
/// by the publisher, see pubsub.rs).
pub(super) fn over_obuf_limit(srv: &Server, conn: &mut Conn, pending: u64, now: i64) -> bool {
    let class = if conn.client.subs.is_some() {
        crate::server::OBUF_PUBSUB
    } else {
        crate::server::OBUF_NORMAL
    };
    let (hard, soft, secs) = srv.obuf_limit(class);
    let over_soft = soft > 0 && pending > soft;
    if !over_soft {
        conn.obuf_soft_since = 0;
    } else if conn.obuf_soft_since == 0 {
        conn.obuf_soft_since = now;
    }
    let over = (hard > 0 && pending > hard)
        || (over_soft && now - conn.obuf_soft_since >= secs as i64 * 1000);
    if over {
        warn!(
            id = conn.client.id,
            pending, "closing client over client-output-buffer-limit"
        );
    }
    over
}

/// Parses and runs every complete request in the connection's buffer.
pub(super) fn process(
    srv: &Server,
    conn: &mut Conn,
    now_ms: i64,
    stats: &WorkerStats,
    qlimit: usize,
) {
    let mut pos = 0;
    // CLIENT LIST's qbuf while this batch runs: the whole query buffer,
    // as Redis shows it (the running command included).
    conn.client
        .shared
        .qbuf
        .store(conn.rbuf.len() as u64, Relaxed);
    conn.client
        .shared
        .qbuf_cap
        .store(conn.rbuf.capacity() as u64, Relaxed);
    // The transaction gate, shared for the whole batch (gate.rs).
    let mut gate = Gate::enter(srv);
    let max_bulk_len = srv.max_bulk_len.load(Relaxed) as usize;
    while pos < conn.rbuf.len() && !conn.client.close_after_reply && conn.client.blocked.is_none() {
        let limits = Limits {
            max_bulk_len,
            inline_max: 64 * 1024,
            authenticated: conn.client.authenticated || !srv.auth_required.load(Relaxed),
        };
        match conn.parser.parse(&conn.rbuf[pos..], &limits) {
            Ok(Some(n)) => {
                if conn.parser.argc() > 0 {
                    let args = Args::new(&conn.parser, &conn.rbuf[pos..]);
                    dispatch(
                        srv,
                        &mut conn.client,
                        &mut conn.wbuf,
                        &args,
                        now_ms,
                        stats,
                        &mut gate,
                    );
                }
                pos += n;
            }
            Ok(None) => break,
            Err(e) => {
                debug!(id = conn.client.id, error = ?e, "protocol error");
                ReplyWriter::new(&mut conn.wbuf, conn.client.resp).error(&e.message());
                stats.count_error(b"-ERR");
                conn.client.close_after_reply = true;
                pos = conn.rbuf.len();
            }
        }
    }
    if pos >= conn.rbuf.len() {
        conn.rbuf.clear();
    } else if pos > 0 {
        conn.rbuf.drain(..pos);
    }
    if let Some(need) = conn.parser.pending_frame_len() {
        // One exact allocation for a big argument instead of doublings, but
        // never beyond the query buffer limit: the declared length is the
        // client's word, and a frame past the limit closes the client anyway.
        if need <= qlimit {
            conn.rbuf
                .reserve_exact(need.saturating_sub(conn.rbuf.len()));
        }
    }
}
