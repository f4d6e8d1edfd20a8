//! MEMORY USAGE, DOCTOR, MALLOC-STATS, PURGE, HELP.
//! The per-key figure is core's estimate (`ops::memory`); issue 14 makes
//! it exact. MEMORY STATS arrives with that issue too.

use super::flags::*;
use super::keys::help;
use super::{Args, Command, Ctx, Group};
use crate::errors;

/// MEMORY USAGE key [SAMPLES count]: options are checked before the key is
/// looked up, as in Redis, and the key is found without lazy expiry or
/// hit/miss counting (Redis reads its dict directly).
fn usage(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let mut samples: usize = 5;
    let mut i = 3;
    while i < args.len() {
        if args.is(i, "samples") && i + 1 < args.len() {
            let Some(n) = crate::util::parse_i64(args.get(i + 1)) else {
                return ctx.err(errors::NOT_INT);
            };
            if n < 0 {
                return ctx.syntax();
            }
            samples = if n == 0 { 0 } else { n as usize };
            i += 2;
        } else {
            return ctx.syntax();
        }
    }
    let key = args.get(2);
    let h = ctx.srv.store.hash(key);
    let shard = ctx.srv.store.lock(h);
    match shard.dbs[ctx.client.db].find(h, key) {
        Some(e) => {
            let n = emberkv_core::ops::memory::usage(e, samples);
            ctx.out.int(n as i64)
        }
        None => ctx.out.null(),
    }
}

/// MEMORY DOCTOR: emberkv has no fork child, no fragmentation-prone
/// allocator patterns to report yet; it says so in Redis's words for a
/// healthy instance.
fn doctor(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    ctx.out.verbatim(
        b"Hi Sam, I can't find any memory issue in your instance. \
I can only account for what occurs on this base.",
    );
}

/// MEMORY MALLOC-STATS: jemalloc's own report.
fn malloc_stats(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    let mut out: Vec<u8> = Vec::new();
    extern "C" fn write_cb(opaque: *mut std::ffi::c_void, s: *const std::ffi::c_char) {
        // SAFETY: `opaque` is the Vec passed below; `s` is a C string
        // jemalloc owns for the duration of the call.
        unsafe {
            let v = &mut *(opaque as *mut Vec<u8>);
            v.extend_from_slice(std::ffi::CStr::from_ptr(s).to_bytes());
        }
    }
    // SAFETY: the callback only appends to `out`, alive for the call.
    unsafe {
        tikv_jemalloc_sys::malloc_stats_print(
            Some(write_cb),
            &mut out as *mut Vec<u8> as *mut std::ffi::c_void,
            std::ptr::null(),
        );
    }
    ctx.out.verbatim(&out);
}

/// MEMORY PURGE: dirty pages back to the OS.
fn purge(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    crate::lazyfree::purge_now();
    ctx.out.ok();
}

fn memory_help(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    help(
        ctx,
        &[
            "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "DOCTOR",
            "    Return memory problems reports.",
            "MALLOC-STATS",
            "    Return internal statistics report from the memory allocator.",
            "PURGE",
            "    Attempt to purge dirty pages for reclamation by the allocator.",
            "STATS",
            "    Return information about the memory usage of the server.",
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
            "HELP",
            "    Prints this help.",
        ],
    );
}

const S: Group = Group::Server;
const ALL_SHARDS_SPECIAL: &[&str] = &[
    "nondeterministic_output",
    "request_policy:all_shards",
    "response_policy:special",
];

static MEMORY_SUBS: &[Command] = &[
    Command::new("doctor", 2, 0, doctor)
        .tips(ALL_SHARDS_SPECIAL)
        .doc(S, "4.0.0", "O(1)", "Outputs a memory problems report."),
    Command::new("help", 2, LOADING | STALE, memory_help).doc(
        S,
        "4.0.0",
        "O(1)",
        "Returns helpful text about the different subcommands.",
    ),
    Command::new("malloc-stats", 2, 0, malloc_stats)
        .tips(ALL_SHARDS_SPECIAL)
        .doc(
            S,
            "4.0.0",
            "Depends on how much memory is allocated, could be slow",
            "Returns the allocator statistics.",
        ),
    Command::new("purge", 2, 0, purge)
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
        .doc(
            S,
            "4.0.0",
            "Depends on how much memory is allocated, could be slow",
            "Asks the allocator to release memory.",
        ),
    Command::new("usage", -3, READONLY, usage)
        .keys(2, 2, 1)
        .doc(
            S,
            "4.0.0",
            "O(N) where N is the number of samples.",
            "Estimates the memory usage of a key.",
        ),
];

pub static COMMANDS: &[Command] = &[Command::container("memory", MEMORY_SUBS).doc(
    S,
    "4.0.0",
    "Depends on subcommand.",
    "A container for memory diagnostics commands.",
)];
