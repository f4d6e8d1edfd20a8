//! COMMAND and its subcommands, generated from the command table.

use super::keys::help;
use super::{acl, flags, flags::*, Args, Command, Ctx, Group};
use crate::errors;
use crate::store::glob::glob_match;
use emberkv_protocol::ReplyWriter;

/// ACL categories in Redis's order, derived from flags, group and extras.
fn acl_categories(c: &Command) -> Vec<&'static str> {
    let mut v = Vec::new();
    if c.acl & acl::KEYSPACE != 0 {
        v.push("@keyspace");
    }
    // Group categories are the leaf commands'; a container has only
    // the ones its table entry names (as Redis's JSON files).
    let group = if c.is_container() {
        None
    } else {
        Some(c.group)
    };
    // Read-only scripting commands are not @read (Redis's implicit rule).
    if c.has(READONLY) && group != Some(Group::Scripting) {
        v.push("@read");
    }
    if c.has(WRITE) {
        v.push("@write");
    }
    // The data-type categories, in Redis's table order.
    if group == Some(Group::Set) || c.acl & acl::SET != 0 {
        v.push("@set");
    }
    if group == Some(Group::SortedSet) || c.acl & acl::SORTEDSET != 0 {
        v.push("@sortedset");
    }
    if group == Some(Group::List) || c.acl & acl::LIST != 0 {
        v.push("@list");
    }
    if group == Some(Group::Hash) {
        v.push("@hash");
    }
    if group == Some(Group::String) {
        v.push("@string");
    }
    if group == Some(Group::Bitmap) {
        v.push("@bitmap");
    }
    if group == Some(Group::HyperLogLog) {
        v.push("@hyperloglog");
    }
    if group == Some(Group::Geo) {
        v.push("@geo");
    }
    if group == Some(Group::Stream) {
        v.push("@stream");
    }
    if c.has(PUBSUB) {
        v.push("@pubsub");
    }
    if c.has(ADMIN) || c.acl & acl::ADMIN != 0 {
        v.push("@admin");
    }
    v.push(if c.has(FAST) { "@fast" } else { "@slow" });
    if c.has(BLOCKING) {
        v.push("@blocking");
    }
    if c.has(ADMIN) || c.acl & acl::DANGEROUS != 0 {
        v.push("@dangerous");
    }
    if group == Some(Group::Connection) || c.acl & acl::CONNECTION != 0 {
        v.push("@connection");
    }
    if group == Some(Group::Transactions) {
        v.push("@transaction");
    }
    if group == Some(Group::Scripting) {
        v.push("@scripting");
    }
    v
}

/// Where a key spec's search begins.
enum Begin {
    Index(i64),
    /// The keyword, and the index it is searched from.
    Keyword(&'static str, i64),
}

/// A one-spec key specs set: flags, begin_search, and a `range`
/// find_keys of (lastkey, keystep, limit).
fn write_key_spec(o: &mut ReplyWriter<'_>, flags: [&str; 2], begin: Begin, range: (i64, i64, i64)) {
    o.set(1);
    o.map(3);
    o.bulk(b"flags");
    o.set(2);
    o.simple(flags[0]);
    o.simple(flags[1]);
    o.bulk(b"begin_search");
    o.map(2);
    o.bulk(b"type");
    match begin {
        Begin::Index(i) => {
            o.bulk(b"index");
            o.bulk(b"spec");
            o.map(1);
            o.bulk(b"index");
            o.int(i);
        }
        Begin::Keyword(kw, from) => {
            o.bulk(b"keyword");
            o.bulk(b"spec");
            o.map(2);
            o.bulk(b"keyword");
            o.bulk(kw.as_bytes());
            o.bulk(b"startfrom");
            o.int(from);
        }
    }
    o.bulk(b"find_keys");
    o.map(2);
    o.bulk(b"type");
    o.bulk(b"range");
    o.bulk(b"spec");
    o.map(3);
    o.bulk(b"lastkey");
    o.int(range.0);
    o.bulk(b"keystep");
    o.int(range.1);
    o.bulk(b"limit");
    o.int(range.2);
}

/// The 10-element reply of COMMAND INFO for one command.
fn write_info(ctx: &mut Ctx<'_>, full_name: &str, c: &Command) {
    let o = &mut ctx.out;
    o.array(10);
    o.bulk(full_name.as_bytes());
    o.int(c.arity as i64);
    let fl: Vec<&str> = flags::NAMES
        .iter()
        .filter(|(f, _)| c.has(*f))
        .map(|(_, n)| *n)
        .collect();
    o.set(fl.len());
    for f in fl {
        o.simple(f);
    }
    o.int(c.keys.0 as i64);
    o.int(c.keys.1 as i64);
    o.int(c.keys.2 as i64);
    let cats = acl_categories(c);
    o.set(cats.len());
    for cat in cats {
        o.simple(cat);
    }
    o.set(c.tips.len());
    for t in c.tips {
        o.bulk(t.as_bytes());
    }
    if c.keys.0 > 0 {
        let flags = if c.has(WRITE) {
            ["RW", "update"]
        } else {
            ["RO", "access"]
        };
        let last = if c.keys.1 < 0 {
            c.keys.1
        } else {
            c.keys.1 - c.keys.0
        };
        let range = (last as i64, c.keys.2 as i64, 0);
        write_key_spec(o, flags, Begin::Index(c.keys.0 as i64), range);
    } else if let Some(kw) = c.keyword {
        let begin = Begin::Keyword(kw.keyword, kw.startfrom as i64);
        write_key_spec(o, kw.flags, begin, (-1, 1, kw.limit as i64));
    } else {
        o.set(0);
    }
    let subs = c.subcommands;
    ctx.out.set(subs.len());
    for s in subs {
        write_info(ctx, &format!("{}|{}", c.name, s.name), s);
    }
}

/// COMMAND (no arguments): every command's info.
fn command_all(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    let reg = &ctx.srv.commands;
    ctx.out.array(reg.top.len());
    for &id in &reg.top {
        let e = &reg.entries[id];
        write_info(ctx, &e.full_name, e.cmd);
    }
}

/// COMMAND COUNT
fn count(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    ctx.out.int(ctx.srv.commands.top.len() as i64);
}

/// Looks up `name` or `container|sub`.
fn find(ctx: &Ctx<'_>, name: &[u8]) -> Option<usize> {
    let reg = &ctx.srv.commands;
    match name.iter().position(|&c| c == b'|') {
        Some(p) => reg.lookup_sub(reg.lookup(&name[..p])?, &name[p + 1..]),
        None => reg.lookup(name),
    }
}

/// COMMAND INFO [command-name ...]
fn info(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    if args.len() == 2 {
        return command_all(ctx, args);
    }
    ctx.out.array(args.len() - 2);
    for a in args.iter().skip(2) {
        match find(ctx, a) {
            Some(id) => {
                let e = &ctx.srv.commands.entries[id];
                write_info(ctx, &e.full_name, e.cmd);
            }
            None => ctx.out.null(),
        }
    }
}

/// COMMAND DOCS [command-name ...]
fn docs(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let reg = &ctx.srv.commands;
    let ids: Vec<usize> = if args.len() == 2 {
        reg.top.clone()
    } else {
        args.iter().skip(2).filter_map(|a| find(ctx, a)).collect()
    };
    ctx.out.map(ids.len());
    for id in ids {
        let e = &reg.entries[id];
        let c = e.cmd;
        ctx.out.bulk(e.full_name.as_bytes());
        ctx.out.map(4);
        ctx.out.bulk(b"summary");
        ctx.out.bulk(c.summary.as_bytes());
        ctx.out.bulk(b"since");
        ctx.out.bulk(c.since.as_bytes());
        ctx.out.bulk(b"group");
        ctx.out.bulk(c.group.name().as_bytes());
        ctx.out.bulk(b"complexity");
        ctx.out.bulk(c.complexity.as_bytes());
    }
}

/// COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]
fn list(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let reg = &ctx.srv.commands;
    let filter: Option<(String, Vec<u8>)> = match args.len() {
        2 => None,
        5 if args.is(2, "filterby") => {
            let kind = String::from_utf8_lossy(args.get(3)).to_ascii_lowercase();
            if !matches!(kind.as_str(), "module" | "aclcat" | "pattern") {
                return ctx.syntax();
            }
            Some((kind, args.get(4).to_vec()))
        }
        _ => return ctx.syntax(),
    };
    let names: Vec<&str> = reg
        .entries
        .iter()
        .filter(|e| match &filter {
            None => true,
            Some((k, v)) if k == "pattern" => glob_match(v, e.full_name.as_bytes(), true),
            Some((k, v)) if k == "aclcat" => {
                let want = format!("@{}", String::from_utf8_lossy(v).to_ascii_lowercase());
                acl_categories(e.cmd).contains(&want.as_str())
            }
            Some(_) => false, // no modules
        })
        .map(|e| e.full_name.as_str())
        .collect();
    ctx.out.array(names.len());
    for n in names {
        ctx.out.bulk(n.as_bytes());
    }
}

/// Key positions of a full command line, from the table.
fn key_positions(ctx: &mut Ctx<'_>, args: &Args<'_>) -> Option<Vec<usize>> {
    let line: Vec<&[u8]> = args.iter().skip(2).collect();
    let Some(id) = ctx.srv.commands.resolve(&line) else {
        ctx.err(errors::INVALID_COMMAND);
        return None;
    };
    let c = ctx.srv.commands.entries[id].cmd;
    // Redis's order: a command without keys, then the arity.
    if !c.has_keys() && !c.has(super::flags::STORE_KEY) {
        ctx.err(errors::NO_KEY_ARGS);
        return None;
    }
    let argc = line.len() as i32;
    if (c.arity > 0 && argc != c.arity) || argc < -c.arity {
        ctx.err(errors::INVALID_ARG_COUNT);
        return None;
    }
    let (first, last, step) = c.keys;
    let mut pos: Vec<usize> = Vec::new();
    if first > 0 {
        let last = if last < 0 { argc + last } else { last };
        pos.extend(
            (first..=last.min(argc - 1))
                .step_by(step.max(1) as usize)
                .map(|i| i as usize),
        );
    }
    if let Some(kw) = c.keyword {
        pos.extend(kw.keys(&line));
    }
    let optional = c.flags & NO_MANDATORY_KEYS != 0;
    if c.keynum > 0 {
        // Redis's getkeys procedures read numkeys with atoi ("1x" is one
        // key, "x" none); no key at all is an error unless the command may
        // have none (EVAL, FCALL: an empty list).
        let at = c.keynum as usize;
        let n = line
            .get(at)
            .map(|a| super::num::atoi(a))
            .filter(|&n| n > 0 && (n as usize) < line.len() - at);
        match n {
            Some(n) => pos.extend(at + 1..at + 1 + n as usize),
            None if optional => return Some(pos),
            None => {
                ctx.err(errors::INVALID_ARGS);
                return None;
            }
        }
    }
    // SORT's destination is the argument after STORE (GEORADIUS's too).
    if c.has(super::flags::STORE_KEY) {
        let is = |i: usize, w: &str| line[i].eq_ignore_ascii_case(w.as_bytes());
        if c.group == Group::Geo {
            // GEORADIUS's STORE / STOREDIST keys.
            pos.extend(super::geo::store_key_index(c.name, line.len(), is));
        } else {
            pos.extend(super::sort::store_key_index(line.len(), is));
        }
    }
    if pos.is_empty() && !optional {
        ctx.err(errors::INVALID_ARGS);
        return None;
    }
    Some(pos)
}

/// COMMAND GETKEYS command [arg ...]
fn getkeys(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Some(pos) = key_positions(ctx, args) else {
        return;
    };
    ctx.out.array(pos.len());
    for p in pos {
        ctx.out.bulk(args.get(p + 2));
    }
}

/// COMMAND GETKEYSANDFLAGS command [arg ...]
fn getkeysandflags(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Some(pos) = key_positions(ctx, args) else {
        return;
    };
    // The flags of the one spec the table has for the command.
    let flags = ctx
        .srv
        .commands
        .resolve(&args.iter().skip(2).collect::<Vec<_>>())
        .map(|id| {
            let c = ctx.srv.commands.entries[id].cmd;
            match c.keyword {
                Some(kw) => kw.flags,
                None if c.has(WRITE) => ["RW", "update"],
                None => ["RO", "access"],
            }
        })
        .unwrap_or(["RO", "access"]);
    ctx.out.array(pos.len());
    for p in pos {
        ctx.out.array(2);
        ctx.out.bulk(args.get(p + 2));
        ctx.out.set(2);
        ctx.out.simple(flags[0]);
        ctx.out.simple(flags[1]);
    }
}

fn command_help(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    help(
        ctx,
        &[
            "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "(no subcommand)",
            "    Return details about all commands.",
            "COUNT",
            "    Return the total number of commands in this server.",
            "LIST",
            "    Return a list of all commands in this server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple commands.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple commands.",
            "GETKEYS <full-command>",
            "    Return the keys from a full command.",
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys and the access flags from a full command.",
            "HELP",
            "    Print this help.",
        ],
    );
}

const S: Group = Group::Server;
const F: u32 = LOADING | STALE;

static SUBS: &[Command] = &[
    Command::new("count", 2, F, count).acl(acl::CONNECTION).doc(
        S,
        "2.8.13",
        "O(1)",
        "Returns a count of commands.",
    ),
    Command::new("info", -2, F, info)
        .acl(acl::CONNECTION)
        .tips(&["nondeterministic_output_order"])
        .doc(
            S,
            "2.8.13",
            "O(N) where N is the number of commands to look up",
            "Returns information about one, multiple or all commands.",
        ),
    Command::new("docs", -2, F, docs)
        .acl(acl::CONNECTION)
        .tips(&["nondeterministic_output_order"])
        .doc(
            S,
            "7.0.0",
            "O(N) where N is the number of commands to look up",
            "Returns documentary information about one, multiple or all commands.",
        ),
    Command::new("list", -2, F, list)
        .acl(acl::CONNECTION)
        .tips(&["nondeterministic_output_order"])
        .doc(
            S,
            "7.0.0",
            "O(N) where N is the total number of commands",
            "Returns a list of command names.",
        ),
    Command::new("getkeys", -4, F, getkeys)
        .acl(acl::CONNECTION)
        .doc(
            S,
            "2.8.13",
            "O(N) where N is the number of arguments to the command",
            "Extracts the key names from an arbitrary command.",
        ),
    Command::new("getkeysandflags", -4, F, getkeysandflags)
        .acl(acl::CONNECTION)
        .doc(
            S,
            "7.0.0",
            "O(N) where N is the number of arguments to the command",
            "Extracts the key names and access flags for an arbitrary command.",
        ),
    Command::new("help", 2, F, command_help)
        .acl(acl::CONNECTION)
        .doc(
            S,
            "5.0.0",
            "O(1)",
            "Returns helpful text about the different subcommands.",
        ),
];

pub static COMMANDS: &[Command] = &[{
    // COMMAND alone lists everything, so unlike other containers it runs
    // its own handler when called without a subcommand.
    let mut c = Command::new("command", -1, F, command_all)
        .tips(&["nondeterministic_output_order"])
        .acl(acl::CONNECTION)
        .doc(
            S,
            "2.8.13",
            "O(N) where N is the total number of Redis commands",
            "Returns detailed information about all commands.",
        );
    c.subcommands = SUBS;
    c
}];
