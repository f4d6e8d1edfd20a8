//! FCALL, FCALL_RO and FUNCTION (LOAD, DELETE, FLUSH, LIST, STATS, KILL,
//! DUMP, RESTORE).
//! The registry is `script::functions`; libraries run in the per-worker
//! Lua state (`script::engine`).

use super::flags::*;
use super::keys::help;
use super::{Args, Command, Ctx, Group};
use crate::errors;
use crate::script::{functions, library};
use crate::store::glob::glob_match;

/// FCALL/FCALL_RO function numkeys key... arg...: the function is looked
/// up before numkeys is read, as in Redis.
fn fcall_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, ro: bool) {
    let name = String::from_utf8_lossy(args.get(1)).into_owned();
    let Some(meta) = ctx.srv.scripts.functions.find(&name) else {
        return ctx.err(errors::FUNCTION_NOT_FOUND);
    };
    let Some((keys, argv)) = super::scripting::keys_and_args(ctx, args, errors::FCALL_BAD_NUMKEYS)
    else {
        return;
    };
    if ro && !meta.no_writes() {
        return ctx.err(errors::WRITE_SCRIPT_RO);
    }
    let readonly = ro || meta.no_writes();
    let cmd = args.iter().map(<[u8]>::to_vec).collect();
    super::multi::run_nested(ctx, |ctx| {
        library::run_function(ctx, &meta.name, cmd, (&keys, &argv), readonly)
    });
}

fn fcall(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    fcall_generic(ctx, args, false)
}
fn fcall_ro(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    fcall_generic(ctx, args, true)
}

/// FUNCTION LOAD [REPLACE] code
fn load(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    // Every argument before the code is an option; only REPLACE exists.
    let mut replace = false;
    for i in 2..args.len() - 1 {
        if !args.is(i, "replace") {
            return ctx.err(&errors::unknown_option_given(args.get(i)));
        }
        replace = true;
    }
    let code = args.get(args.len() - 1);
    let lib = match library::build(ctx.srv, code) {
        Ok(l) => l,
        Err(e) => return ctx.err(&e),
    };
    let name = lib.name.clone();
    match ctx.srv.scripts.functions.add(lib, replace) {
        Ok(()) => ctx.out.bulk(name.as_bytes()),
        Err(e) => ctx.err(&e),
    }
}

/// FUNCTION DUMP: every library's FUNCTION2 record, the RDB version and
/// the CRC64, as Redis's payload.
fn dump(ctx: &mut Ctx<'_>, _: &Args<'_>) {
    use emberkv_persist::rdb::{Writer, VERSION};
    let mut w = Writer::piece(false, 256);
    for lib in ctx.srv.scripts.functions.libraries() {
        // Writing into memory cannot fail.
        let _ = emberkv_persist::snapshot::save::write_function(&mut w, &lib.code);
    }
    let _ = w.raw(&(VERSION as u16).to_le_bytes());
    let p = w.finish_dump();
    ctx.out.bulk(&p);
}

/// FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE]
fn restore(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    use emberkv_persist::rdb::{op, Crc64, Reader, VERSION};
    if args.len() > 4 {
        return ctx
            .out
            .error_bytes(&errors::subcommand_syntax(args.get(1), "function"));
    }
    let (mut flush, mut replace) = (false, false);
    if args.len() == 4 {
        if args.is(3, "flush") {
            flush = true;
        } else if args.is(3, "replace") {
            replace = true;
        } else if !args.is(3, "append") {
            return ctx.err(
                "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
            );
        }
    }
    let p = args.get(2);
    let n = p.len();
    let skip = ctx
        .srv
        .persist
        .skip_checksum
        .load(std::sync::atomic::Ordering::Relaxed);
    let bad = n < 10
        || u16::from_le_bytes([p[n - 10], p[n - 9]]) as u32 > VERSION
        || (!skip && Crc64::of(&p[..n - 8]).to_le_bytes() != p[n - 8..]);
    if bad {
        return ctx.err("ERR payload version or checksum are wrong");
    }
    let mut r = Reader::new(&p[..n - 10], 0);
    let mut libs: Vec<functions::Library> = Vec::new();
    while !r.at_end() {
        let t = match r.u8() {
            Ok(t) => t,
            Err(_) => return ctx.err("ERR can not read data type"),
        };
        if t == op::FUNCTION_PRE_GA {
            return ctx.err("ERR Pre-GA function format not supported");
        }
        if t != op::FUNCTION2 {
            return ctx.err("ERR given type is not a function");
        }
        let Ok(code) = r.string() else {
            return ctx.err("ERR failed loading the given functions payload");
        };
        let lib = match library::build(ctx.srv, &code) {
            Ok(l) => l,
            Err(e) => return ctx.err(&e),
        };
        if libs.iter().any(|l| l.name == lib.name) {
            return ctx.err(&errors::library_exists(&lib.name));
        }
        libs.push(lib);
    }
    match ctx.srv.scripts.functions.restore(libs, flush, replace) {
        Ok(()) => {
            crate::effects::dirty(1);
            ctx.out.ok()
        }
        Err(e) => ctx.err(&e),
    }
}

/// FUNCTION DELETE library-name
fn delete(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let name = String::from_utf8_lossy(args.get(2));
    if ctx.srv.scripts.functions.delete(&name) {
        ctx.out.ok()
    } else {
        ctx.err(errors::LIBRARY_NOT_FOUND)
    }
}

/// FUNCTION FLUSH [ASYNC|SYNC]
fn flush(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    // Too many arguments is Redis's subcommand syntax error; one that is
    // neither SYNC nor ASYNC its own text.
    if args.len() > 3 {
        return ctx
            .out
            .error_bytes(&errors::subcommand_syntax(args.get(1), "function"));
    }
    if args.len() == 3 && !args.is(2, "async") && !args.is(2, "sync") {
        return ctx.err(errors::FUNCTION_FLUSH_MODE);
    }
    ctx.srv.scripts.functions.flush();
    ctx.out.ok();
}

/// FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE]
fn list(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let (mut pattern, mut code) = (None, false);
    let mut i = 2;
    while i < args.len() {
        if args.is(i, "withcode") && !code {
            code = true;
        } else if args.is(i, "libraryname") && pattern.is_none() {
            if i + 1 >= args.len() {
                return ctx.err(errors::LIBRARYNAME_MISSING);
            }
            pattern = Some(args.get(i + 1));
            i += 1;
        } else {
            return ctx.err(&errors::unknown_argument(args.get(i)));
        }
        i += 1;
    }
    let libs: Vec<_> = ctx
        .srv
        .scripts
        .functions
        .libraries()
        .into_iter()
        .filter(|l| pattern.is_none_or(|p| glob_match(p, l.name.as_bytes(), false)))
        .collect();
    ctx.out.array(libs.len());
    for l in &libs {
        ctx.out.map(3 + code as usize);
        ctx.out.bulk(b"library_name");
        ctx.out.bulk(l.name.as_bytes());
        ctx.out.bulk(b"engine");
        ctx.out.bulk(b"LUA");
        ctx.out.bulk(b"functions");
        ctx.out.array(l.funcs.len());
        for f in &l.funcs {
            ctx.out.map(3);
            ctx.out.bulk(b"name");
            ctx.out.bulk(f.name.as_bytes());
            ctx.out.bulk(b"description");
            match &f.description {
                Some(d) => ctx.out.bulk(d.as_bytes()),
                None => ctx.out.null(),
            }
            ctx.out.bulk(b"flags");
            ctx.out.set(f.flags.len());
            for fl in &f.flags {
                ctx.out.simple(fl);
            }
        }
        if code {
            ctx.out.bulk(b"library_code");
            ctx.out.bulk(&l.code);
        }
    }
}

/// FUNCTION STATS
fn stats(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    let scripts = &ctx.srv.scripts;
    // While an EVAL runs, Redis refuses this with the EVAL busy text.
    if scripts.with_running(|r| r.is_some_and(|r| r.eval)) {
        return ctx.err(errors::BUSY_EVAL);
    }
    let (libs, funcs) = scripts.functions.counts();
    ctx.out.map(2);
    ctx.out.bulk(b"running_script");
    scripts.with_running(|r| match r {
        None => ctx.out.null(),
        Some(r) => {
            ctx.out.map(3);
            ctx.out.bulk(b"name");
            ctx.out.bulk(r.name.as_bytes());
            ctx.out.bulk(b"command");
            ctx.out.array(r.argv.len());
            r.argv.iter().for_each(|a| ctx.out.bulk(a));
            ctx.out.bulk(b"duration_ms");
            ctx.out.int(r.start.elapsed().as_millis() as i64);
        }
    });
    ctx.out.bulk(b"engines");
    ctx.out.map(1);
    ctx.out.bulk(b"LUA");
    ctx.out.map(2);
    ctx.out.bulk(b"libraries_count");
    ctx.out.int(libs as i64);
    ctx.out.bulk(b"functions_count");
    ctx.out.int(funcs as i64);
}

fn function_help(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    help(
        ctx,
        &[
            "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "LOAD [REPLACE] <FUNCTION CODE>",
            "    Create a new library with the given library name and code.",
            "DELETE <LIBRARY NAME>",
            "    Delete the given library.",
            "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
            "    Return general information on all the libraries:",
            "    * Library name",
            "    * The engine used to run the Library",
            "    * Library description",
            "    * Functions list",
            "    * Library code (if WITHCODE is given)",
            "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
            "STATS",
            "    Return information about the current function running:",
            "    * Function name",
            "    * Command used to run the function",
            "    * Duration in MS that the function is running",
            "    If no function is running, return nil",
            "    In addition, returns a list of available engines.",
            "KILL",
            "    Kill the current running function.",
            "FLUSH [ASYNC|SYNC]",
            "    Delete all the libraries.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the libraries.",
            "    * SYNC: Synchronously flush the libraries.",
            "DUMP",
            "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
            "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
            "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
            "    control how to handle existing libraries (default APPEND):",
            "    * FLUSH: delete all existing libraries.",
            "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
            "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
            "      libraries with the new libraries (notice that even on this option there is a chance of failure",
            "      in case of functions name collision with another library).",
            "HELP",
            "    Print this help.",
        ],
    );
}

const S: Group = Group::Scripting;
const FCALL_FLAGS: u32 =
    NOSCRIPT | SKIP_MONITOR | NO_MANDATORY_KEYS | STALE | MOVABLE_KEYS | EXCLUSIVE;

static FUNCTION_SUBS: &[Command] = &[
    Command::new("load", -3, WRITE | DENYOOM | NOSCRIPT, load)
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
        .doc(
            S,
            "7.0.0",
            "O(1) (considering compilation time is redundant)",
            "Creates a library.",
        ),
    Command::new("delete", 3, WRITE | NOSCRIPT, delete)
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
        .doc(S, "7.0.0", "O(1)", "Deletes a library and its functions."),
    Command::new("flush", -2, WRITE | NOSCRIPT, flush)
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
        .doc(
            S,
            "7.0.0",
            "O(N) where N is the number of functions deleted",
            "Deletes all libraries and functions.",
        ),
    Command::new("dump", 2, NOSCRIPT, dump).doc(
        S,
        "7.0.0",
        "O(N) where N is the number of functions",
        "Dump all functions into a serialized binary payload",
    ),
    Command::new("restore", -3, WRITE | DENYOOM | NOSCRIPT, restore)
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
        .doc(
            S,
            "7.0.0",
            "O(N) where N is the number of functions on the payload",
            "Restore all the functions on the given payload",
        ),
    Command::new("list", -2, NOSCRIPT, list)
        .tips(&["nondeterministic_output_order"])
        .doc(
            S,
            "7.0.0",
            "O(N) where N is the number of functions",
            "Returns information about all libraries.",
        ),
    Command::new("stats", 2, NOSCRIPT | ALLOW_BUSY, stats)
        .tips(&[
            "nondeterministic_output",
            "request_policy:all_shards",
            "response_policy:special",
        ])
        .doc(
            S,
            "7.0.0",
            "O(1)",
            "Returns information about a function during execution.",
        ),
    // One script or function runs at a time: FUNCTION KILL is SCRIPT KILL.
    Command::new(
        "kill",
        2,
        NOSCRIPT | ALLOW_BUSY,
        super::scripting::function_kill,
    )
    .tips(&["request_policy:all_shards", "response_policy:one_succeeded"])
    .doc(
        S,
        "7.0.0",
        "O(1)",
        "Terminates a function during execution.",
    ),
    Command::new("help", 2, LOADING | STALE, function_help).doc(
        S,
        "7.0.0",
        "O(1)",
        "Returns helpful text about the different subcommands.",
    ),
];

pub static COMMANDS: &[Command] = &[
    Command::new("fcall", -3, FCALL_FLAGS, fcall).keynum(2).doc(
        S,
        "7.0.0",
        "Depends on the function that is executed.",
        "Invokes a function.",
    ),
    Command::new("fcall_ro", -3, FCALL_FLAGS | READONLY, fcall_ro)
        .keynum(2)
        .doc(
            S,
            "7.0.0",
            "Depends on the function that is executed.",
            "Invokes a read-only function.",
        ),
    Command::container("function", FUNCTION_SUBS).doc(
        S,
        "7.0.0",
        "Depends on subcommand.",
        "A container for function commands.",
    ),
];
