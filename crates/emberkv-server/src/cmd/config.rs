//! CONFIG GET / SET / RESETSTAT.

use super::keys::help;
use super::{flags::*, Args, Command, Ctx, Group};
use crate::config::{self as conf, DIRECTIVES};
use crate::errors;
use crate::store::glob::glob_match;
use std::sync::atomic::Ordering::Relaxed;

/// CONFIG GET pattern [pattern ...]: an exact name (no `*?[`) is looked up
/// (hidden directives too) and answered under the name as given; a pattern
/// matches every visible name and alias, any case.
fn get(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let cfg = ctx.srv.config.read().clone();
    let mut found: Vec<(String, usize)> = Vec::new();
    let seen = |found: &Vec<(String, usize)>, n: &str| {
        found.iter().any(|(f, _)| f.eq_ignore_ascii_case(n))
    };
    for p in args.iter().skip(2) {
        let pat = String::from_utf8_lossy(p);
        if !p.iter().any(|c| matches!(c, b'*' | b'?' | b'[')) {
            if let Some((i, _)) = conf::find(&pat) {
                if !seen(&found, &pat) {
                    found.push((pat.into_owned(), i));
                }
            }
            continue;
        }
        for (i, d) in DIRECTIVES.iter().enumerate() {
            if d.has(conf::HIDDEN) {
                continue;
            }
            for n in std::iter::once(d.name).chain(d.alias) {
                if !seen(&found, n) && glob_match(p, n.as_bytes(), true) {
                    found.push((n.to_string(), i));
                }
            }
        }
    }
    ctx.out.map(found.len());
    for (n, i) in &found {
        ctx.out.bulk(n.as_bytes());
        ctx.out.bulk(cfg.value(*i).as_bytes());
    }
}

/// Protected directives (`dir`, `dbfilename`) may change at run time only
/// as `enable-protected-configs` allows: `yes`, or `local` for a client on
/// a loopback address or the unix socket.
pub fn protected_allowed(ctx: &Ctx<'_>, setting: &str) -> bool {
    match setting {
        "yes" => true,
        "local" => ctx.client.shared.is_local(),
        _ => false,
    }
}

/// CONFIG SET name value [name value ...], all or nothing, with Redis's
/// order of checks: names first (unknown, immutable or protected,
/// duplicate: the first problem wins), then the values in order.
fn set(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    if !args.len().is_multiple_of(2) {
        return ctx.err(errors::SYNTAX);
    }
    let mut next = ctx.srv.config.read().clone();
    let protected_ok = protected_allowed(ctx, next.get("enable-protected-configs"));
    let mut rows: Vec<(usize, String)> = Vec::new();
    for j in (2..args.len()).step_by(2) {
        let typed = String::from_utf8_lossy(args.get(j)).into_owned();
        let Some((i, d)) = conf::find(&typed) else {
            return ctx.err(&errors::config_set_unknown(&typed));
        };
        if d.has(conf::IMMUTABLE) {
            return ctx.err(&errors::config_set_failed(
                &typed,
                "can't set immutable config",
            ));
        }
        if d.has(conf::PROTECTED) && !protected_ok {
            return ctx.err(&errors::config_set_failed(
                &typed,
                "can't set protected config",
            ));
        }
        if rows.iter().any(|&(r, _)| r == i) {
            return ctx.err(&errors::config_set_failed(&typed, "duplicate parameter"));
        }
        rows.push((i, typed));
    }
    let old_dir = std::env::current_dir().ok();
    let undo_dir = |old: &Option<std::path::PathBuf>| {
        if let Some(d) = old {
            let _ = std::env::set_current_dir(d);
        }
    };
    for (k, (i, typed)) in rows.iter().enumerate() {
        // Errors name the directive as looked up (an alias stays an alias).
        let shown = DIRECTIVES[*i]
            .alias
            .filter(|a| a.eq_ignore_ascii_case(typed))
            .unwrap_or(DIRECTIVES[*i].name);
        let v = String::from_utf8_lossy(args.get(3 + 2 * k));
        if let Err(e) = next.set(*i, &v) {
            undo_dir(&old_dir);
            return ctx.err(&errors::config_set_failed(shown, &e));
        }
        if DIRECTIVES[*i].name == "dir" {
            if let Err(e) = std::env::set_current_dir(&*v) {
                undo_dir(&old_dir);
                return ctx.err(&errors::config_set_failed("dir", &conf::os_reason(&e)));
            }
        }
    }
    if let Err((name, e)) = crate::process::apply_changes(&ctx.srv.config.read(), &next) {
        undo_dir(&old_dir);
        return ctx.err(&errors::config_set_failed(name, &e));
    }
    *ctx.srv.config.write() = next;
    ctx.srv.config_changed();
    ctx.out.ok();
}

/// CONFIG RESETSTAT
fn resetstat(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    // Each worker zeroes its own counters (single writer): this one now,
    // the others as soon as they wake, which they are told to. Until then
    // INFO leaves their counters out (`Server::live_stats`).
    let epoch = ctx.srv.reset_epoch.fetch_add(1, Relaxed) + 1;
    ctx.stats.catch_up(epoch);
    if let Some(ws) = ctx.srv.workers.get() {
        for w in ws {
            let _ = w.waker.wake();
        }
    }
    let total = ctx.srv.expired_keys() as i64 + ctx.srv.expired_stat_base.load(Relaxed);
    ctx.srv.expired_stat_base.store(total, Relaxed);
    ctx.out.ok();
}

fn config_help(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    help(
        ctx,
        &[
            "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "HELP",
            "    Print this help.",
        ],
    );
}

const S: Group = Group::Server;
const F: u32 = ADMIN | NOSCRIPT | LOADING | STALE;

static SUBS: &[Command] = &[
    Command::new("get", -3, F, get).doc(
        S,
        "2.0.0",
        "O(N) when N is the number of configuration parameters provided",
        "Returns the effective values of configuration parameters.",
    ),
    Command::new("set", -4, F, set)
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
        .acl(super::acl::DANGEROUS)
        .doc(
            S,
            "2.0.0",
            "O(N) when N is the number of configuration parameters provided",
            "Sets configuration parameters in-flight.",
        ),
    Command::new("resetstat", 2, F, resetstat)
        .acl(super::acl::DANGEROUS)
        .doc(S, "2.0.0", "O(1)", "Resets the server's statistics."),
    Command::new("help", 2, LOADING | STALE, config_help).doc(
        S,
        "5.0.0",
        "O(1)",
        "Returns helpful text about the different subcommands.",
    ),
];

pub static COMMANDS: &[Command] = &[Command::container("config", SUBS).doc(
    S,
    "2.0.0",
    "Depends on subcommand.",
    "A container for server configuration commands.",
)];
