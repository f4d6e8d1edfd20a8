//! Server commands: TIME, SHUTDOWN.

use super::{flags::*, Args, Command, Ctx, Group};
use crate::errors;
use tracing::warn;

/// TIME
fn time(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let mut b = itoa::Buffer::new();
    ctx.out.array(2);
    ctx.out.bulk(b.format(now.as_secs()).as_bytes());
    ctx.out.bulk(b.format(now.subsec_micros()).as_bytes());
}

/// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]
///
/// Like Redis, a successful SHUTDOWN sends no reply: the connection closes.
fn shutdown(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let (mut save, mut nosave, mut abort, mut force) = (false, false, false, false);
    for i in 1..args.len() {
        if args.is(i, "nosave") {
            nosave = true;
        } else if args.is(i, "save") {
            save = true;
        } else if args.is(i, "now") {
        } else if args.is(i, "force") {
            force = true;
        } else if args.is(i, "abort") {
            abort = true;
        } else {
            return ctx.syntax();
        }
    }
    if (save && nosave) || (abort && args.len() > 2) {
        return ctx.syntax();
    }
    if abort {
        return ctx.err(errors::NO_SHUTDOWN);
    }
    // While a script is busy only SHUTDOWN NOSAVE goes through (the busy
    // script's hook then exits the process, see script/engine.rs).
    if !nosave && ctx.srv.scripts.is_busy() {
        return ctx.err(crate::errors::BUSY);
    }
    warn!(client = ctx.client.id, "User requested shutdown...");
    if crate::persist::save::before_shutdown(ctx.srv, save, nosave, force).is_err() {
        return ctx.err(errors::SHUTDOWN_FAILED);
    }
    ctx.client.close_after_reply = true;
    ctx.srv.request_shutdown();
}

const S: Group = Group::Server;

pub static COMMANDS: &[Command] = &[
    Command::new("time", 1, LOADING | STALE | FAST, time)
        .tips(&["nondeterministic_output"])
        .doc(S, "2.6.0", "O(1)", "Returns the server time."),
    Command::new(
        "shutdown",
        -1,
        ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | ALLOW_BUSY,
        shutdown,
    )
    .acl(super::acl::DANGEROUS)
    .doc(
        S,
        "1.0.0",
        "O(N) when saving, where N is the total number of keys in all databases, otherwise O(1)",
        "Stops the server gracefully.",
    ),
];
