//! The one place where generic checks happen, in Redis's order, before any
//! handler runs: lookup (unknown command / subcommand), arity, then
//! authentication. Handlers never repeat these checks.

use crate::client::Client;
use crate::cmd::{flags, Args, Ctx};
use crate::errors;
use crate::server::{Server, WorkerStats};
use emberkv_protocol::ReplyWriter;
use std::sync::atomic::Ordering::Relaxed;

/// Runs one request and appends its reply to `out`.
pub fn dispatch(
    srv: &Server,
    client: &mut Client,
    out: &mut Vec<u8>,
    args: &Args<'_>,
    now_ms: i64,
    stats: &WorkerStats,
) {
    let reg = &srv.commands;
    let mut w = ReplyWriter::new(out, client.resp);

    // 1. Lookup.
    let Some(mut id) = reg.lookup(args.get(0)) else {
        let rest: Vec<&[u8]> = args.iter().skip(1).take(64).collect();
        w.error(&errors::unknown_command(args.get(0), &rest));
        stats.count_error(b"-ERR");
        return;
    };
    if reg.entries[id].cmd.is_container() && args.len() >= 2 {
        match reg.lookup_sub(id, args.get(1)) {
            Some(sub) => id = sub,
            None => {
                w.error(&errors::unknown_subcommand(
                    args.get(1),
                    reg.entries[id].cmd.name,
                ));
                stats.count_error(b"-ERR");
                return;
            }
        }
    }
    let entry = &reg.entries[id];
    let cmd = entry.cmd;
    let cs = &stats.cmd[id];

    // 2. Arity.
    let argc = args.len() as i32;
    if (cmd.arity > 0 && argc != cmd.arity) || argc < -cmd.arity {
        w.error(&errors::wrong_args(&entry.full_name));
        cs.rejected.add(1);
        stats.count_error(b"-ERR");
        return;
    }

    // 3. Authentication.
    if !client.authenticated && !cmd.has(flags::NO_AUTH) && srv.auth_required.load(Relaxed) {
        w.error(errors::NOAUTH);
        cs.rejected.add(1);
        stats.count_error(b"-NOAUTH");
        return;
    }

    // Later checks go here, in this order (Redis's processCommand):
    //  - cluster redirection (-MOVED/-ASK) for commands with keys;
    //  - out-of-memory refusal of DENYOOM commands once maxmemory exists;
    //  - read-only replica refusal of WRITE commands;
    //  - subscriber mode: only (P|S)SUBSCRIBE, PING, QUIT, RESET in RESP2;
    //  - MULTI: queue everything but EXEC/DISCARD/MULTI/WATCH and reply QUEUED.

    // 4. Execute.
    client.shared.last_cmd.store(id as u32 + 1, Relaxed);
    // TSC-based clock: per-command timing for INFO commandstats without a
    // clock_gettime call on each side of every command.
    #[cfg(feature = "stall-diagnostics")]
    let cpu0 = (diag::thread_cpu(), diag::minflt());
    let clock = crate::server::clock();
    let start = clock.raw();
    let reply_at = w.buf.len();
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
    // Blocked clients: a write to one of their keys may serve them (one
    // atomic load when nobody is blocked).
    if cmd.has(flags::WRITE) && srv.blocking.any() {
        let (first, last, step) = cmd.keys;
        if first > 0 {
            let n = args.len() as i32;
            let last = if last < 0 { n + last } else { last.min(n - 1) };
            let keys = (first..=last)
                .step_by(step.max(1) as usize)
                .map(|i| args.get(i as usize));
            crate::blocking::signal(srv, client.db, keys, now_ms);
        }
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

    // Propagation hook: once the AOF and replicas exist, write commands that
    // changed the dataset are fed to them here, with relative expiries
    // rewritten to absolute times (SET .. EX → SET .. PXAT, EXPIRE →
    // PEXPIREAT) by the command that knows its arguments.
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
