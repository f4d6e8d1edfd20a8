//! CONFIG GET / SET / RESETSTAT.

use super::keys::help;
use super::{flags::*, Args, Command, Ctx, Group};
use crate::config::{self as conf, DIRECTIVES};
use crate::errors;
use crate::store::glob::glob_match;
use std::sync::atomic::Ordering::Relaxed;

/// CONFIG GET pattern [pattern ...]
fn get(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let cfg = ctx.srv.config.read().clone();
    let pats: Vec<&[u8]> = args.iter().skip(2).collect();
    let pairs: Vec<(&str, String)> = DIRECTIVES
        .iter()
        .filter(|d| pats.iter().any(|p| glob_match(p, d.name.as_bytes(), true)))
        .map(|d| (d.name, d.value(&cfg)))
        .collect();
    ctx.out.map(pairs.len());
    for (n, v) in &pairs {
        ctx.out.bulk(n.as_bytes());
        ctx.out.bulk(v.as_bytes());
    }
}

fn failed(name: &str, why: &str) -> String {
    format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {why}")
}

/// CONFIG SET name value [name value ...], applied all or nothing.
fn set(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    if !args.len().is_multiple_of(2) {
        return ctx.err(&errors::wrong_args("config|set"));
    }
    let mut next = ctx.srv.config.read().clone();
    let mut seen: Vec<&'static str> = Vec::new();
    let mut dir_change = None;
    for j in (2..args.len()).step_by(2) {
        let name = String::from_utf8_lossy(args.get(j)).to_string();
        let Some(d) = conf::find(&name) else {
            return ctx.err(&format!(
                "ERR Unknown option or number of arguments for CONFIG SET - '{name}'"
            ));
        };
        if seen.contains(&d.name) {
            return ctx.err(&failed(d.name, "duplicate parameter"));
        }
        seen.push(d.name);
        if !d.mutable {
            return ctx.err(&failed(d.name, "can't set immutable config"));
        }
        let v = String::from_utf8_lossy(args.get(j + 1)).to_string();
        if let Err(e) = d.apply(&mut next, std::slice::from_ref(&v)) {
            return ctx.err(&failed(d.name, &e));
        }
        if d.name == "dir" {
            dir_change = Some(v);
        }
    }
    if let Some(dir) = dir_change {
        if let Err(e) = std::env::set_current_dir(&dir) {
            let why = e.to_string();
            let why = why.split(" (os error").next().unwrap_or(&why).to_string();
            return ctx.err(&failed("dir", &why));
        }
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
