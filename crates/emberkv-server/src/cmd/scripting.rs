//! EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT. The Lua side is in
//! `crate::script`.

use super::flags::*;
use super::keys::help;
use super::{Args, Command, Ctx, Group};
use crate::errors;
use crate::script::{self, engine};
use std::sync::atomic::Ordering::Relaxed;

/// Up to 8 arguments inline.
pub(crate) type ArgList<'a> = smallvec::SmallVec<[&'a [u8]; 8]>;

/// The `numkeys key... arg...` tail of EVAL/EVALSHA/FCALL (numkeys at
/// index 2): (keys, args), or None after replying Redis's error.
/// `not_int` is the error for a numkeys that is not an integer (EVAL's is
/// the generic one, FCALL's its own).
pub(crate) fn keys_and_args<'a>(
    ctx: &mut Ctx<'_>,
    args: &Args<'a>,
    not_int: &str,
) -> Option<(ArgList<'a>, ArgList<'a>)> {
    let Some(n) = crate::util::parse_i64(args.get(2)) else {
        ctx.err(not_int);
        return None;
    };
    if n < 0 {
        ctx.err(errors::NUMKEYS_NEGATIVE);
        return None;
    }
    if n as usize > args.len() - 3 {
        ctx.err(errors::NUMKEYS_TOO_MANY);
        return None;
    }
    let n = n as usize;
    let keys = (3..3 + n).map(|i| args.get(i)).collect();
    let argv = (3 + n..args.len()).map(|i| args.get(i)).collect();
    Some((keys, argv))
}

fn eval_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, by_sha: bool, readonly: bool) {
    // A SHA that is not 40 characters long cannot match: Redis says so
    // before it reads numkeys (a 40-character unknown one is NOSCRIPT after).
    if by_sha && args.get(1).len() != 40 {
        return ctx.err(errors::NOSCRIPT);
    }
    let Some((keys, argv)) = keys_and_args(ctx, args, crate::errors::NOT_INT) else {
        return;
    };
    let (sha, body) = if by_sha {
        match script::normalize_sha(args.get(1)) {
            Some(s) => (s, None),
            None => return ctx.err(errors::NOSCRIPT),
        }
    } else {
        // Cached once it compiles (engine::run), as Redis: a body with a
        // bad shebang or a syntax error stays unknown to EVALSHA.
        (script::sha1_hex(args.get(1)), Some(args.get(1)))
    };
    super::multi::run_nested(ctx, |ctx| {
        engine::run(ctx, &sha, body, &keys, &argv, readonly)
    });
}

fn eval(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    eval_generic(ctx, args, false, false)
}
fn evalsha(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    eval_generic(ctx, args, true, false)
}
fn eval_ro(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    eval_generic(ctx, args, false, true)
}
fn evalsha_ro(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    eval_generic(ctx, args, true, true)
}

/// SCRIPT LOAD script
fn script_load(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let body = args.get(2);
    // Compile-check without running, as Redis does.
    if let Err(msg) = engine::check(body) {
        return ctx.err(&msg);
    }
    let sha = ctx.srv.scripts.load(body);
    ctx.out.bulk(&sha);
}

/// SCRIPT EXISTS sha1 [sha1 ...]
fn script_exists(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    ctx.out.array(args.len() - 2);
    for a in args.iter().skip(2) {
        let e = ctx.srv.scripts.exists(a);
        ctx.out.int(e as i64);
    }
}

/// SCRIPT FLUSH [ASYNC|SYNC]
fn script_flush(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    if args.len() > 3 || (args.len() == 3 && !args.is(2, "async") && !args.is(2, "sync")) {
        return ctx.err(errors::SCRIPT_FLUSH_MODE);
    }
    ctx.srv.scripts.flush();
    ctx.out.ok();
}

/// SCRIPT KILL: runs while a script holds the gate (ALLOW_BUSY).
fn script_kill(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    kill(ctx, true)
}

/// FUNCTION KILL
pub(crate) fn function_kill(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    kill(ctx, false)
}

/// Stops the running script if it is of the kind the command kills (SCRIPT
/// KILL an EVAL, FUNCTION KILL a function), checked in Redis's order.
fn kill(ctx: &mut Ctx<'_>, eval: bool) {
    let s = &ctx.srv.scripts;
    let Some(running_eval) = s.with_running(|r| r.map(|r| r.eval)) else {
        return ctx.err(errors::NOTBUSY);
    };
    if s.wrote.load(Relaxed) {
        return ctx.err(errors::UNKILLABLE);
    }
    if eval && !running_eval {
        return ctx.err(errors::BUSY_FUNCTION);
    }
    if !eval && running_eval {
        return ctx.err(errors::BUSY_EVAL);
    }
    s.kill.store(true, Relaxed);
    ctx.out.ok();
}

fn script_help(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    help(
        ctx,
        &[
            "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "DEBUG (YES|SYNC|NO)",
            "    Set the debug mode for subsequent scripts executed.",
            "EXISTS <sha1> [<sha1> ...]",
            "    Return information about the existence of the scripts in the script cache.",
            "FLUSH [ASYNC|SYNC]",
            "    Flush the Lua scripts cache. Very dangerous on replicas.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the scripts cache.",
            "    * SYNC: Synchronously flush the scripts cache.",
            "KILL",
            "    Kill the currently executing Lua script.",
            "LOAD <script>",
            "    Load a script into the scripts cache without executing it.",
            "HELP",
            "    Prints this help.",
        ],
    );
}

const S: Group = Group::Scripting;
const EVAL_FLAGS: u32 =
    NOSCRIPT | SKIP_MONITOR | NO_MANDATORY_KEYS | STALE | MOVABLE_KEYS | EXCLUSIVE;

static SCRIPT_SUBS: &[Command] = &[
    Command::new("load", 3, NOSCRIPT | STALE, script_load)
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
        .doc(
            S,
            "2.6.0",
            "O(N) with N being the length in bytes of the script body.",
            "Loads a server-side Lua script to the script cache.",
        ),
    Command::new("exists", -3, NOSCRIPT, script_exists)
        .tips(&[
            "request_policy:all_shards",
            "response_policy:agg_logical_and",
        ])
        .doc(
            S,
            "2.6.0",
            "O(N) with N being the number of scripts to check.",
            "Determines whether server-side Lua scripts exist in the script cache.",
        ),
    Command::new("flush", -2, NOSCRIPT, script_flush)
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
        .doc(
            S,
            "2.6.0",
            "O(N) with N being the number of scripts in cache",
            "Removes all server-side Lua scripts from the script cache.",
        ),
    Command::new("kill", 2, NOSCRIPT | ALLOW_BUSY, script_kill)
        .tips(&["request_policy:all_shards", "response_policy:one_succeeded"])
        .doc(
            S,
            "2.6.0",
            "O(1)",
            "Terminates a server-side Lua script during execution.",
        ),
    Command::new("help", 2, LOADING | STALE, script_help).doc(
        S,
        "5.0.0",
        "O(1)",
        "Returns helpful text about the different subcommands.",
    ),
];

pub static COMMANDS: &[Command] = &[
    Command::new("eval", -3, EVAL_FLAGS, eval).keynum(2).doc(
        S,
        "2.6.0",
        "Depends on the script that is executed.",
        "Executes a server-side Lua script.",
    ),
    Command::new("evalsha", -3, EVAL_FLAGS, evalsha)
        .keynum(2)
        .doc(
            S,
            "2.6.0",
            "Depends on the script that is executed.",
            "Executes a server-side Lua script by SHA1 digest.",
        ),
    Command::new("eval_ro", -3, EVAL_FLAGS | READONLY, eval_ro)
        .keynum(2)
        .doc(
            S,
            "7.0.0",
            "Depends on the script that is executed.",
            "Executes a read-only server-side Lua script.",
        ),
    Command::new("evalsha_ro", -3, EVAL_FLAGS | READONLY, evalsha_ro)
        .keynum(2)
        .doc(
            S,
            "7.0.0",
            "Depends on the script that is executed.",
            "Executes a read-only server-side Lua script by SHA1 digest.",
        ),
    Command::container("script", SCRIPT_SUBS).doc(
        S,
        "2.6.0",
        "Depends on subcommand.",
        "A container for Lua scripts management commands.",
    ),
];
