//! CLIENT subcommands.

use super::connection::valid_client_name;
use super::keys::help;
use super::{flags::*, Args, Command, Ctx, Group};
use crate::client::ClientShared;
use crate::errors;
use std::fmt::Write as _;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

/// One CLIENT LIST line, with Redis 7.0's fields.
fn describe(ctx: &Ctx<'_>, c: &ClientShared) -> String {
    let now = ctx.now_ms;
    let mut flags = String::new();
    // In Redis's order of flag letters.
    if ctx.srv.blocking.is_blocked(c.id) {
        flags.push('b');
    }
    if c.unix {
        flags.push('U');
    }
    if c.no_evict.load(Relaxed) {
        flags.push('e');
    }
    if c.no_touch.load(Relaxed) {
        flags.push('T');
    }

    if flags.is_empty() {
        flags.push('N');
    }
    let cmd = match c.last_cmd.load(Relaxed) {
        0 => "NULL".to_string(),
        n => ctx.srv.commands.entries[n as usize - 1].full_name.clone(),
    };
    let name = c.name.lock().clone().unwrap_or_default();
    let qbuf = c.qbuf.load(Relaxed);
    let qcap = c.qbuf_cap.load(Relaxed);
    let obl = c.obuf.load(Relaxed);
    let mut s = String::with_capacity(256);
    let _ = write!(
        s,
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub=0 psub=0 ssub=0 multi=-1 qbuf={} qbuf-free={} argv-mem=0 multi-mem=0 rbs={} rbp=0 obl={} oll=0 omem=0 tot-mem={} events=r cmd={} user=default redir=-1 resp={}",
        c.id,
        c.addr,
        c.laddr,
        c.fd,
        String::from_utf8_lossy(&name),
        (now - c.created_ms).max(0) / 1000,
        (now - c.last_ms.load(Relaxed)).max(0) / 1000,
        flags,
        c.db.load(Relaxed),
        qbuf,
        qcap.saturating_sub(qbuf),
        qcap,
        obl,
        qcap + obl,
        cmd,
        c.resp.load(Relaxed),
    );
    s
}

fn all_clients(ctx: &Ctx<'_>) -> Vec<Arc<ClientShared>> {
    ctx.srv.clients.lock().values().cloned().collect()
}

/// CLIENT ID
fn id(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    ctx.out.int(ctx.client.id as i64);
}

/// CLIENT SETNAME name
fn setname(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let n = args.get(2);
    if !valid_client_name(n) {
        return ctx.err(errors::BAD_CLIENT_NAME);
    }
    *ctx.client.shared.name.lock() = if n.is_empty() { None } else { Some(n.to_vec()) };
    ctx.out.ok();
}

/// CLIENT GETNAME
fn getname(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    let n = ctx.client.shared.name.lock().clone();
    match n {
        Some(n) => ctx.out.bulk(&n),
        None => ctx.out.null(),
    }
}

/// CLIENT SETINFO LIB-NAME|LIB-VER value (sent by client libraries on connect)
fn setinfo(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    if args.is(2, "lib-name") || args.is(2, "lib-ver") {
        if !valid_client_name(args.get(3)) {
            return ctx.err(errors::BAD_LIB_NAME);
        }
        return ctx.out.ok();
    }
    ctx.err(&errors::unrecognized_option(args.get(2)));
}

/// CLIENT INFO
fn info(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    let mut s = describe(ctx, &ctx.client.shared.clone());
    s.push('\n');
    ctx.out.verbatim(s.as_bytes());
}

/// CLIENT LIST [TYPE normal|master|replica|pubsub] [ID id ...]
fn list(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let mut ids: Option<Vec<u64>> = None;
    let mut only_normal_ok = true;
    if args.len() > 2 {
        if args.is(2, "type") && args.len() == 4 {
            let t = args.get(3).to_ascii_lowercase();
            match t.as_slice() {
                b"normal" => {}
                b"master" | b"replica" | b"slave" | b"pubsub" => only_normal_ok = false,
                _ => return ctx.err(&errors::unknown_client_type(args.get(3))),
            }
        } else if args.is(2, "id") && args.len() >= 4 {
            let mut v = Vec::new();
            for i in 3..args.len() {
                match crate::util::parse_i64(args.get(i)) {
                    Some(n) if n > 0 => v.push(n as u64),
                    _ => return ctx.err(errors::INVALID_CLIENT_ID),
                }
            }
            ids = Some(v);
        } else {
            return ctx.syntax();
        }
    }
    let mut s = String::new();
    if only_normal_ok {
        for c in all_clients(ctx) {
            if ids.as_ref().is_none_or(|v| v.contains(&c.id)) {
                s.push_str(&describe(ctx, &c));
                s.push('\n');
            }
        }
    }
    ctx.out.verbatim(s.as_bytes());
}

/// Asks the worker that owns client `c` to close it.
fn kill_client(ctx: &mut Ctx<'_>, c: &ClientShared) {
    if c.id == ctx.client.id {
        ctx.client.close_after_reply = true;
        return;
    }
    c.killed.store(true, Relaxed);
    if let Some(ws) = ctx.srv.workers.get() {
        ws[c.worker].kill.lock().push(c.id);
        let _ = ws[c.worker].waker.wake();
    }
}

/// CLIENT UNBLOCK client-id [TIMEOUT|ERROR]
fn unblock(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Some(id) = ctx.int_arg(args.get(2)) else {
        return;
    };
    let error = match args.len() {
        3 => false,
        4 if args.is(3, "timeout") => false,
        4 if args.is(3, "error") => true,
        _ => return ctx.err(errors::UNBLOCK_REASON),
    };
    let Some(w) = ctx.srv.blocking.unblock(id as u64) else {
        return ctx.out.int(0);
    };
    let reply = if error {
        format!("-{}\r\n", errors::UNBLOCKED).into_bytes()
    } else {
        crate::blocking::timeout_reply(w.resp)
    };
    crate::blocking::deliver(ctx.srv, &w, id as u64, reply);
    ctx.out.int(1);
}

/// CLIENT KILL ip:port | CLIENT KILL [ID id] [TYPE t] [ADDR a] [LADDR a] [USER u] [SKIPME yes|no]
fn kill(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    if args.len() == 3 {
        let addr = args.get(2);
        let found = all_clients(ctx)
            .into_iter()
            .find(|c| c.addr.as_bytes() == addr);
        return match found {
            Some(c) => {
                kill_client(ctx, &c);
                ctx.out.ok()
            }
            None => ctx.err(errors::NO_SUCH_CLIENT),
        };
    }
    if !args.len().is_multiple_of(2) {
        return ctx.syntax();
    }
    let (mut id, mut addr, mut laddr, mut user) = (None, None, None, None);
    let mut skipme = true;
    let mut type_ok = true;
    for j in (2..args.len()).step_by(2) {
        let v = args.get(j + 1);
        if args.is(j, "id") {
            match crate::util::parse_i64(v) {
                Some(n) if n > 0 => id = Some(n as u64),
                _ => return ctx.err(errors::CLIENT_ID_NOT_POSITIVE),
            }
        } else if args.is(j, "type") {
            match v.to_ascii_lowercase().as_slice() {
                b"normal" => type_ok = true,
                b"master" | b"replica" | b"slave" | b"pubsub" => type_ok = false,
                _ => return ctx.err(&errors::unknown_client_type(v)),
            }
        } else if args.is(j, "addr") {
            addr = Some(v);
        } else if args.is(j, "laddr") {
            laddr = Some(v);
        } else if args.is(j, "user") {
            // Only the default user exists until ACL users do.
            if v != b"default" {
                return ctx.out.error_bytes(&errors::no_such_user(v));
            }
            user = Some(v);
        } else if args.is(j, "skipme") {
            match v.to_ascii_lowercase().as_slice() {
                b"yes" => skipme = true,
                b"no" => skipme = false,
                _ => return ctx.syntax(),
            }
        } else {
            return ctx.syntax();
        }
    }
    let mut n = 0;
    for c in all_clients(ctx) {
        let matches = type_ok
            && id.is_none_or(|i| i == c.id)
            && addr.is_none_or(|a| a == c.addr.as_bytes())
            && laddr.is_none_or(|a| a == c.laddr.as_bytes())
            && user.is_none_or(|u| u == b"default")
            && !(skipme && c.id == ctx.client.id);
        if matches {
            kill_client(ctx, &c);
            n += 1;
        }
    }
    ctx.out.int(n);
}

fn on_off(ctx: &mut Ctx<'_>, a: &[u8]) -> Option<bool> {
    match a.to_ascii_lowercase().as_slice() {
        b"on" => Some(true),
        b"off" => Some(false),
        _ => {
            ctx.syntax();
            None
        }
    }
}

/// CLIENT NO-EVICT on|off
fn no_evict(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    if let Some(v) = on_off(ctx, args.get(2)) {
        ctx.client.shared.no_evict.store(v, Relaxed);
        ctx.out.ok();
    }
}

/// CLIENT NO-TOUCH on|off: reads by this client leave the LRU/LFU data alone.
fn no_touch(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    if let Some(v) = on_off(ctx, args.get(2)) {
        ctx.client.no_touch = v;
        ctx.client.shared.no_touch.store(v, Relaxed);
        ctx.out.ok();
    }
}

/// CLIENT REPLY ON|OFF|SKIP: only ON answers (OFF and SKIP silence
/// their own reply too); SKIP inside OFF changes nothing.
fn reply(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    use crate::client::ReplyMode;
    if args.is(2, "on") {
        ctx.client.reply = ReplyMode::On;
        ctx.out.ok();
    } else if args.is(2, "off") {
        ctx.client.reply = ReplyMode::Off;
    } else if args.is(2, "skip") {
        if ctx.client.reply != ReplyMode::Off {
            ctx.client.reply = ReplyMode::SkipNext;
        }
    } else {
        ctx.syntax();
    }
}

fn client_help(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    help(
        ctx,
        &[
            "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "UNBLOCK <clientid> [TIMEOUT|ERROR]",
            "    Unblock the specified blocked client.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are: ID, TYPE, USER, ADDR, LADDR, SKIPME.",
            "LIST [options ...]",
            "    Return information about client connections. Options: TYPE, ID.",
            "NO-EVICT (ON|OFF)",
            "    Protect current client connection from eviction.",
            "NO-TOUCH (ON|OFF)",
            "    Will not touch LRU/LFU stats when this mode is on.",
            "REPLY (ON|OFF|SKIP)",
            "    Control the replies sent to the current connection.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "SETINFO <option> <value>",
            "    Set client meta attr. Options are: LIB-NAME, LIB-VER.",
            "HELP",
            "    Print this help.",
        ],
    );
}

const C: Group = Group::Connection;
const F: u32 = NOSCRIPT | LOADING | STALE;

static SUBS: &[Command] = &[
    Command::new("id", 2, F, id).doc(
        C,
        "5.0.0",
        "O(1)",
        "Returns the unique client ID of the connection.",
    ),
    Command::new("setname", 3, F, setname).doc(C, "2.6.9", "O(1)", "Sets the connection name."),
    Command::new("getname", 2, F, getname).doc(
        C,
        "2.6.9",
        "O(1)",
        "Returns the name of the connection.",
    ),
    Command::new("setinfo", 4, F, setinfo).doc(
        C,
        "7.2.0",
        "O(1)",
        "Sets information about the client library.",
    ),
    Command::new("info", 2, F, info)
        .tips(&["nondeterministic_output"])
        .doc(
            C,
            "6.2.0",
            "O(1)",
            "Returns information about the connection.",
        ),
    Command::new("list", -2, ADMIN | F, list)
        .tips(&["nondeterministic_output"])
        .doc(C, "2.4.0", "O(N)", "Lists open connections."),
    Command::new("kill", -3, ADMIN | F, kill).doc(
        C,
        "2.4.0",
        "O(N)",
        "Terminates open connections.",
    ),
    Command::new("unblock", -3, ADMIN | F, unblock).doc(
        C,
        "5.0.0",
        "O(log N) where N is the number of client connections",
        "Unblocks a client blocked by a blocking command from a different connection.",
    ),
    Command::new("reply", 3, F, reply).doc(
        C,
        "3.2.0",
        "O(1)",
        "Instructs the server whether to reply to commands.",
    ),
    Command::new("no-evict", 3, ADMIN | F, no_evict).doc(
        C,
        "7.0.0",
        "O(1)",
        "Sets the client eviction mode of the connection.",
    ),
    Command::new("no-touch", 3, F, no_touch).doc(
        C,
        "7.2.0",
        "O(1)",
        "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.",
    ),
    Command::new("help", 2, LOADING | STALE, client_help).doc(
        C,
        "5.0.0",
        "O(1)",
        "Returns helpful text about the different subcommands.",
    ),
];

pub static COMMANDS: &[Command] = &[Command::container("client", SUBS).doc(
    C,
    "2.4.0",
    "Depends on subcommand.",
    "A container for client connection commands.",
)];
