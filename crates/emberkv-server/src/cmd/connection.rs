//! Connection commands: PING, ECHO, QUIT, RESET, AUTH, HELLO, SELECT.

use super::keys::db_arg;
use super::{flags::*, Args, Command, Ctx, Group};
use crate::errors;
use emberkv_protocol::Resp;
use std::sync::atomic::Ordering::Relaxed;

/// PING [message]
fn ping(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    // Arity -1 in the table (as Redis's), but at most one message.
    if args.len() > 2 {
        return ctx.err(&crate::errors::wrong_args("ping"));
    }
    // A RESP2 subscriber gets PING's answer in the shape of a message.
    if ctx.client.resp == Resp::V2 && ctx.client.subscribed() {
        ctx.out.array(2);
        ctx.out.bulk(b"pong");
        return ctx.out.bulk(if args.len() > 1 { args.get(1) } else { b"" });
    }
    match args.len() {
        1 => ctx.out.simple("PONG"),
        _ => ctx.out.bulk(args.get(1)),
    }
}

/// ECHO message
fn echo(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    ctx.out.bulk(args.get(1));
}

/// QUIT: reply, then close once the reply is written.
fn quit(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    ctx.out.ok();
    ctx.client.close_after_reply = true;
}

/// RESET: back to a fresh connection's state.
fn reset(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    let c = &mut *ctx.client;
    c.multi = None;
    crate::cmd::multi::unwatch_all(ctx.srv, c);
    crate::pubsub::unsubscribe_all(ctx.srv, c);
    c.db = 0;
    c.resp = Resp::V2;
    c.no_touch = false;
    c.authenticated = !ctx.srv.auth_required.load(Relaxed);
    c.shared.db.store(0, Relaxed);
    c.shared.resp.store(2, Relaxed);
    c.shared.no_evict.store(false, Relaxed);
    c.shared.no_touch.store(false, Relaxed);
    *c.shared.name.lock() = None;
    ctx.out.resp = Resp::V2;
    ctx.out.simple("RESET");
}

/// Checks a password for the default user (the only user until ACL lands).
/// Ok(true): accepted.
fn check_password(ctx: &Ctx<'_>, user: &[u8], pass: &[u8]) -> bool {
    if user != b"default" {
        return false;
    }
    let cfg = ctx.srv.config.read();
    // No requirepass: the default user is `nopass` and accepts anything.
    cfg.requirepass().is_empty() || constant_time_eq(cfg.requirepass().as_bytes(), pass)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// AUTH [username] password
fn auth(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    if args.len() > 3 {
        return ctx.syntax();
    }
    let (user, pass) = if args.len() == 2 {
        if ctx.srv.config.read().requirepass().is_empty() {
            return ctx.err(errors::NOPASS);
        }
        (&b"default"[..], args.get(1))
    } else {
        (args.get(1), args.get(2))
    };
    if check_password(ctx, user, pass) {
        ctx.client.authenticated = true;
        ctx.out.ok();
    } else {
        ctx.err(errors::WRONGPASS);
    }
}

/// Client names may not contain spaces or control characters.
pub(crate) fn valid_client_name(n: &[u8]) -> bool {
    n.iter().all(|&c| (b'!'..=b'~').contains(&c))
}

/// HELLO [protover [AUTH username password] [SETNAME clientname]]
fn hello(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let mut ver = None;
    let mut j = 1;
    if args.len() >= 2 {
        match crate::util::parse_i64(args.get(1)) {
            None => return ctx.err(errors::PROTO_NOT_INT),
            Some(v) if !(2..=3).contains(&v) => return ctx.err(errors::NOPROTO),
            Some(v) => ver = Some(v),
        }
        j = 2;
    }
    let mut auth: Option<(&[u8], &[u8])> = None;
    let mut name: Option<&[u8]> = None;
    while j < args.len() {
        let more = args.len() - j - 1;
        if args.is(j, "auth") && more >= 2 {
            auth = Some((args.get(j + 1), args.get(j + 2)));
            j += 3;
        } else if args.is(j, "setname") && more >= 1 {
            let n = args.get(j + 1);
            if !valid_client_name(n) {
                return ctx.err(errors::BAD_CLIENT_NAME);
            }
            name = Some(n);
            j += 2;
        } else {
            return ctx.err(&errors::hello_option(args.get(j)));
        }
    }
    if let Some((u, p)) = auth {
        if !check_password(ctx, u, p) {
            return ctx.err(errors::WRONGPASS);
        }
        ctx.client.authenticated = true;
    }
    if !ctx.client.authenticated && ctx.srv.auth_required.load(Relaxed) {
        return ctx.err(errors::HELLO_NOAUTH);
    }
    if let Some(n) = name {
        *ctx.client.shared.name.lock() = Some(n.to_vec());
    }
    if let Some(v) = ver {
        let r = if v == 3 { Resp::V3 } else { Resp::V2 };
        ctx.client.resp = r;
        ctx.client.shared.resp.store(v as u8, Relaxed);
        ctx.out.resp = r;
    }
    let id = ctx.client.id as i64;
    let proto = if ctx.client.resp == Resp::V3 { 3 } else { 2 };
    let o = &mut ctx.out;
    o.map(7);
    o.bulk(b"server");
    o.bulk(b"redis");
    o.bulk(b"version");
    o.bulk(crate::cmd::info::REDIS_VERSION.as_bytes());
    o.bulk(b"proto");
    o.int(proto);
    o.bulk(b"id");
    o.int(id);
    o.bulk(b"mode");
    o.bulk(b"standalone");
    o.bulk(b"role");
    o.bulk(b"master");
    o.bulk(b"modules");
    o.array(0);
}

/// SELECT index
fn select(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Some(db) = db_arg(ctx, args.get(1)) else {
        return;
    };
    ctx.client.db = db;
    ctx.client.shared.db.store(db as u32, Relaxed);
    ctx.out.ok();
}

const C: Group = Group::Connection;

pub static COMMANDS: &[Command] = &[
    Command::new("ping", -1, FAST | SUBSCRIBER_OK, ping)
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
        .doc(
            C,
            "1.0.0",
            "O(1)",
            "Returns the server's liveliness response.",
        ),
    Command::new("echo", 2, LOADING | STALE | FAST, echo).doc(
        C,
        "1.0.0",
        "O(1)",
        "Returns the given string.",
    ),
    Command::new(
        "quit",
        -1,
        ALLOW_BUSY | NO_AUTH | FAST | LOADING | STALE | SUBSCRIBER_OK | NOSCRIPT | TX_CONTROL,
        quit,
    )
    .doc(C, "1.0.0", "O(1)", "Closes the connection."),
    Command::new(
        "reset",
        1,
        NOSCRIPT | LOADING | STALE | NO_AUTH | ALLOW_BUSY | FAST | SUBSCRIBER_OK | TX_CONTROL,
        reset,
    )
    .doc(C, "6.2.0", "O(1)", "Resets the connection."),
    Command::new(
        "auth",
        -2,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        auth,
    )
    .doc(
        C,
        "1.0.0",
        "O(N) where N is the number of passwords defined for the user",
        "Authenticates the connection.",
    ),
    Command::new(
        "hello",
        -1,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        hello,
    )
    .doc(
        C,
        "6.0.0",
        "O(1)",
        "Handshakes with the server: protocol version, authentication, name.",
    ),
    Command::new("select", 2, LOADING | STALE | FAST, select).doc(
        C,
        "1.0.0",
        "O(1)",
        "Changes the selected database.",
    ),
];
