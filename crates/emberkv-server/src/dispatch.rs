//! The one place where generic checks happen, in Redis's order, before any
//! handler runs: lookup (unknown command / subcommand), arity, protected
//! commands, then authentication. Handlers never repeat these checks.

use crate::client::{Client, ReplyMode};
use crate::cmd::{flags, Args, Ctx};
use crate::errors;
use crate::gate::Gate;
use crate::server::{Server, WorkerStats};
use emberkv_protocol::{ReplyWriter, Resp};
use std::sync::atomic::Ordering::Relaxed;

/// Runs one request and appends its reply to `out`. `gate` is the
/// transaction gate as the caller holds it (see gate.rs).
#[inline]
pub fn dispatch<'s>(
    srv: &'s Server,
    client: &mut Client,
    out: &mut Vec<u8>,
    args: &Args<'_>,
    now_ms: i64,
    stats: &WorkerStats,
    gate: &mut Gate<'s>,
) {
    // Commands inside EXEC or a script reply to it, not to the socket.
    if client.reply == ReplyMode::On || client.nested {
        return run(srv, client, out, args, now_ms, stats, gate);
    }
    silenced(srv, client, out, args, now_ms, stats, gate);
}

/// A command under CLIENT REPLY OFF or SKIP: it runs, and its reply is
/// dropped, except the subscription commands' confirmations, which Redis
/// sends as pushes whatever the mode.
#[cold]
fn silenced<'s>(
    srv: &'s Server,
    client: &mut Client,
    out: &mut Vec<u8>,
    args: &Args<'_>,
    now_ms: i64,
    stats: &WorkerStats,
    gate: &mut Gate<'s>,
) {
    // A skipped command runs as Skipping: unless it sets a mode itself
    // (CLIENT REPLY ON/OFF/SKIP), replies are on again after it.
    let skipped = client.reply == ReplyMode::SkipNext;
    if skipped {
        client.reply = ReplyMode::Skipping;
    }
    let at = out.len();
    run(srv, client, out, args, now_ms, stats, gate);
    let silenced = match client.reply {
        ReplyMode::Skipping => {
            client.reply = ReplyMode::On;
            true
        }
        ReplyMode::On => false,
        ReplyMode::Off | ReplyMode::SkipNext => true,
    };
    const PUSHING: [&str; 6] = [
        "subscribe",
        "psubscribe",
        "ssubscribe",
        "unsubscribe",
        "punsubscribe",
        "sunsubscribe",
    ];
    let name = args.get(0);
    if silenced
        && !PUSHING
            .iter()
            .any(|p| name.eq_ignore_ascii_case(p.as_bytes()))
    {
        out.truncate(at);
    }
}

fn run<'s>(
    srv: &'s Server,
    client: &mut Client,
    out: &mut Vec<u8>,
    args: &Args<'_>,
    now_ms: i64,
    stats: &WorkerStats,
    gate: &mut Gate<'s>,
) {
    let reg = &srv.commands;
    let mut w = ReplyWriter::new(out, client.resp);

    // 1. Lookup.
    let Some(mut id) = reg.lookup(args.get(0)) else {
        let rest: Vec<&[u8]> = args.iter().skip(1).take(64).collect();
        reject(
            client,
            &mut w,
            stats,
            false,
            errors::unknown_command(args.get(0), &rest),
        );
        return;
    };
    if reg.entries[id].cmd.is_container() && args.len() >= 2 {
        match reg.lookup_sub(id, args.get(1)) {
            Some(sub) => id = sub,
            None => {
                let msg = errors::unknown_subcommand(args.get(1), reg.entries[id].cmd.name);
                reject(client, &mut w, stats, false, msg);
                return;
            }
        }
    }
    let entry = &reg.entries[id];
    let cmd = entry.cmd;
    let cs = &stats.cmd[id];
    let is_exec = cmd.has(flags::RUNS_QUEUE);

    // 2. Arity.
    let argc = args.len() as i32;
    if (cmd.arity > 0 && argc != cmd.arity) || argc < -cmd.arity {
        cs.rejected.add(1);
        reject(
            client,
            &mut w,
            stats,
            is_exec,
            errors::wrong_args(&entry.full_name),
        );
        return;
    }

    // 2b. Protected commands (DEBUG) as `enable-debug-command` allows;
    // Redis refuses them even before authentication.
    if cmd.has(flags::PROTECTED) && !crate::cmd::debug::allowed(srv, client) {
        cs.rejected.add(1);
        reject(client, &mut w, stats, is_exec, errors::DEBUG_NOT_ALLOWED);
        return;
    }

    // 3. Authentication.
    if !client.authenticated && !cmd.has(flags::NO_AUTH) && srv.auth_required.load(Relaxed) {
        cs.rejected.add(1);
        reject(client, &mut w, stats, is_exec, errors::NOAUTH);
        return;
    }

    // 4. Commands that make no sense inside MULTI (SHUTDOWN, SAVE, ...) are
    // refused at queue time, dooming the transaction.
    if client.multi.is_some() && cmd.has(flags::NO_MULTI) {
        cs.rejected.add(1);
        reject(client, &mut w, stats, is_exec, errors::NOT_IN_MULTI);
        return;
    }

    // Later checks go here, in this order (Redis's processCommand):
    //  - ACL permissions;
    //  - cluster redirection (-MOVED/-ASK) for commands with keys;
    //  - out-of-memory refusal of DENYOOM commands once maxmemory exists.

    // 4b. A failed background save stops writes (and PING, as Redis) while
    // stop-writes-on-bgsave-error is set.
    if srv.persist.deny_writes.load(Relaxed) && (cmd.has(flags::WRITE) || entry.full_name == "ping")
    {
        cs.rejected.add(1);
        reject(client, &mut w, stats, is_exec, errors::MISCONF);
        return;
    }

    //  - (later) read-only replica refusal of WRITE commands.

    // 5. RESP2 subscriber mode allows only the subscription commands.
    if client.resp == Resp::V2 && client.subscribed() && !cmd.has(flags::SUBSCRIBER_OK) {
        cs.rejected.add(1);
        let msg = errors::subscriber_only(&entry.full_name);
        reject(client, &mut w, stats, is_exec, msg);
        return;
    }

    // 5b. While the dataset loads only `loading` commands run.
    if srv.persist.loading.load(Relaxed) && !cmd.has(flags::LOADING) {
        cs.rejected.add(1);
        reject(client, &mut w, stats, is_exec, errors::LOADING);
        return;
    }

    // 6. A script running past its busy threshold holds the gate.
    if gate.is_busy() && !cmd.has(flags::ALLOW_BUSY) {
        cs.rejected.add(1);
        reject(client, &mut w, stats, is_exec, srv.scripts.busy_text());
        return;
    }

    // 7. Inside MULTI everything but the transaction commands is queued.
    if let Some(q) = client.multi.as_mut() {
        if !cmd.has(flags::TX_CONTROL) {
            if q.size() + args.iter().map(|a| a.len() + 16).sum::<usize>()
                > srv.qbuf_limit.load(Relaxed) as usize
            {
                q.dirty = true;
                w.error(errors::TX_TOO_BIG);
                stats.count_error(b"-ERR");
                return;
            }
            q.push(args);
            w.simple("QUEUED");
            return;
        }
    }

    // 8. Execute.
    if cmd.has(flags::EXCLUSIVE) && !gate.exclusive(srv) {
        cs.rejected.add(1);
        reject(client, &mut w, stats, is_exec, srv.scripts.busy_text());
        return;
    }
    client.shared.last_cmd.store(id as u32 + 1, Relaxed);
    // TSC-based clock: per-command timing for INFO commandstats without a
    // clock_gettime call on each side of every command.
    #[cfg(feature = "stall-diagnostics")]
    let cpu0 = (diag::thread_cpu(), diag::minflt());
    let clock = crate::server::clock();
    let start = clock.raw();
    let reply_at = w.buf.len();
    crate::effects::begin();
    {
        let mut ctx = Ctx {
            srv,
            client,
            out: w,
            now_ms,
            stats,
            cmd: entry,
        };
        (cmd.handler)(&mut ctx, args);
    }
    let usec = clock.delta_as_nanos(start, clock.raw()) / 1000;
    if cmd.has(flags::EXCLUSIVE) {
        gate.release(srv);
    }
    // The write funnel: what the command changed goes, once, to the dirty
    // counter, the watchers, the notifications and the propagation stream
    // (its own arguments, unless it propagated an effect of its own), then
    // serves clients blocked on the keys it changed (after the whole
    // transaction or script, when nested).
    let db = client.db;
    let verbatim = |u: &mut crate::effects::stream::Unit| u.op_iter(db, args.len(), args.iter());
    let wake = crate::funnel::close(srv, stats, now_ms, Some(&verbatim));
    if !wake.is_empty() {
        if client.nested {
            client.deferred.extend(wake);
        } else {
            crate::funnel::wake(srv, wake, now_ms);
        }
    }
    if !client.nested {
        // What the EXEC or script that just ended woke, and SWAPDB/FLUSH*
        // (here or inside it): served now that its frame is closed.
        // The clock is read again: an EXEC or script may have run long,
        // and a key that expired meanwhile must not serve a waiter.
        if !client.deferred.is_empty() {
            let now = crate::util::unix_ms();
            let keys = std::mem::take(&mut client.deferred);
            for (db, k) in &keys {
                crate::blocking::signal(srv, *db, [&k[..]], now);
            }
        }
        crate::blocking::signal_pending_dbs(srv, now_ms);
    }
    #[cfg(feature = "stall-diagnostics")]
    diag::report(&entry.full_name, cpu0, usec);
    cs.calls.add(1);
    cs.usec.add(usec);
    stats.commands.add(1);
    if out.get(reply_at) == Some(&b'-') {
        cs.failed.add(1);
        stats.count_error(&out[reply_at..]);
    }
}

/// Refuses a command before it runs. Inside MULTI the refusal also dooms
/// the transaction; a refused EXEC discards it with EXECABORT.
fn reject(
    client: &mut Client,
    w: &mut ReplyWriter<'_>,
    stats: &WorkerStats,
    is_exec: bool,
    msg: impl AsRef<[u8]>,
) {
    let msg = msg.as_ref();
    if is_exec {
        client.multi = None;
        let body = msg.strip_prefix(b"ERR ").unwrap_or(msg);
        let mut m = errors::EXECABORT_PREFIX.as_bytes().to_vec();
        m.extend_from_slice(body);
        w.error_bytes(&m);
        stats.count_error(b"-EXECABORT");
        return;
    }
    if let Some(q) = client.multi.as_mut() {
        q.dirty = true;
    }
    w.error_bytes(msg);
    let mut counted = Vec::with_capacity(msg.len() + 1);
    counted.push(b'-');
    counted.extend_from_slice(msg);
    stats.count_error(&counted);
}

/// Opt-in stall diagnostics: thread CPU time excludes preemption and VM
/// steal, so it tells the server's own work apart from the machine's noise.
#[cfg(feature = "stall-diagnostics")]
mod diag {
    /// This thread's CPU time (user + system) in ns. Precise, unlike
    /// getrusage(RUSAGE_THREAD), which only moves in scheduler ticks.
    pub fn thread_cpu() -> u64 {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime fills the struct we own.
        unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
    }

    /// Minor page faults of this thread so far (a slow command with many
    /// is paying for fresh memory, not for its own work).
    pub fn minflt() -> i64 {
        // SAFETY: getrusage fills the struct we own.
        unsafe {
            let mut ru: libc::rusage = std::mem::zeroed();
            libc::getrusage(libc::RUSAGE_THREAD, &mut ru);
            ru.ru_minflt
        }
    }

    pub fn report(cmd: &str, before: (u64, i64), wall_us: u64) {
        let cpu_us = (thread_cpu() - before.0) / 1000;
        if cpu_us > 1000 || wall_us > 2000 {
            let minor_faults = minflt() - before.1;
            tracing::warn!(
                cmd,
                cpu_us,
                wall_us,
                minor_faults,
                "stall diagnostic: slow command"
            );
        }
    }
}
