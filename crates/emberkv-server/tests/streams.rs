//! Streams over TCP: every command and error path compared byte for byte
//! with a real redis-server (explicit IDs, so replies are deterministic),
//! and blocking reads across several clients.

mod common;
use common::*;
use std::time::Duration;

/// Masks what differs by design or by clock: XINFO's radix-tree-nodes (a
/// Redis radix tree internal) and the times in XINFO/XPENDING replies.
fn mask(c: &[&str], r: &[u8]) -> Vec<u8> {
    let s = String::from_utf8_lossy(r).into_owned();
    let mut out = String::new();
    let mut lines = s.split("\r\n").peekable();
    let timed = c[0].eq_ignore_ascii_case("xinfo") && c[1].eq_ignore_ascii_case("consumers");
    while let Some(l) = lines.next() {
        out.push_str(l);
        out.push_str("\r\n");
        if l == "radix-tree-nodes" || (timed && l == "idle") || l == "seen-time" {
            if let Some(v) = lines.next() {
                out.push_str(if v.starts_with(':') { ":N" } else { v });
                out.push_str("\r\n");
            }
        }
    }
    out.truncate(out.len() - 2);
    out.into_bytes()
}

fn run_both(e: &mut Raw, r: &mut Raw, cmds: &[Vec<&str>]) {
    for c in cmds {
        let a = e.cmd(c);
        let b = r.cmd(c);
        assert_eq!(
            s(&mask(c, &a)),
            s(&mask(c, &b)),
            "command {c:?} differs (left emberkv, right redis)"
        );
    }
}

fn v<'a>(x: &[&'a str]) -> Vec<&'a str> {
    x.to_vec()
}

#[test]
fn commands_and_errors_match_redis() {
    let Some(redis) = Server::redis() else { return };
    let ember = Server::start(&[]);
    let (mut e, mut r) = (ember.raw(), redis.raw());
    let cmds: Vec<Vec<&str>> = vec![
        // XADD: IDs, options and their errors, in Redis's order.
        v(&["XADD", "s", "1-1", "a", "1"]),
        v(&["XADD", "s", "1-1", "a", "1"]),
        v(&["XADD", "s", "1", "a", "1"]),
        v(&["XADD", "s", "1-*", "b", "2", "c", "3"]),
        v(&["XADD", "s", "0-0", "a", "1"]),
        v(&["XADD", "s", "0", "a", "1"]),
        v(&["XADD", "s", "0-*", "a", "1"]),
        v(&["XADD", "s", "-", "a", "1"]),
        v(&["XADD", "s", "+", "a", "1"]),
        v(&["XADD", "s", "x", "a", "1"]),
        v(&["XADD", "s", "1-x", "a", "1"]),
        v(&["XADD", "s", "5-1", "a"]),
        v(&["XADD", "s", "5-1", "a", "1", "b"]),
        v(&["XADD", "s", "MAXLEN", "-1", "5-1", "a", "1"]),
        v(&["XADD", "s", "MAXLEN", "x", "5-1", "a", "1"]),
        v(&["XADD", "s", "MINID", "x", "5-1", "a", "1"]),
        v(&["XADD", "s", "LIMIT", "5", "5-1", "a", "1"]),
        v(&["XADD", "s", "LIMIT", "0", "5-1", "a", "1"]),
        v(&["XADD", "s", "LIMIT", "-1", "5-1", "a", "1"]),
        v(&["XADD", "s", "MAXLEN", "5", "LIMIT", "5", "5-2", "a", "1"]),
        v(&["XADD", "s", "MAXLEN", "1", "MINID", "1", "5-2", "a", "1"]),
        v(&[
            "XADD",
            "s",
            "NOMKSTREAM",
            "MAXLEN",
            "=",
            "10",
            "5-3",
            "a",
            "1",
        ]),
        v(&["XADD", "nokey", "NOMKSTREAM", "1-1", "a", "1"]),
        v(&["EXISTS", "nokey"]),
        v(&[
            "XADD", "s", "MAXLEN", "~", "10", "LIMIT", "3", "6-0", "a", "1",
        ]),
        v(&[
            "XADD",
            "s",
            "18446744073709551615-18446744073709551614",
            "a",
            "1",
        ]),
        v(&["XADD", "s", "18446744073709551615-*", "a", "1"]),
        v(&["XADD", "s", "18446744073709551615-*", "a", "1"]),
        v(&["XADD", "s", "*", "a", "1"]),
        v(&["SET", "str", "x"]),
        v(&["XADD", "str", "1-1", "a", "1"]),
        v(&["XADD", "str", "0-0", "a", "1"]),
        v(&["XLEN", "s"]),
        v(&["XLEN", "nokey"]),
        v(&["XLEN", "str"]),
        v(&["TYPE", "s"]),
        v(&["OBJECT", "ENCODING", "s"]),
        // XRANGE / XREVRANGE.
        v(&["DEL", "r"]),
        v(&["XADD", "r", "1-1", "a", "1"]),
        v(&["XADD", "r", "1-2", "b", "2"]),
        v(&["XADD", "r", "2-0", "a", "3", "b", "4"]),
        v(&["XADD", "r", "3-5", "f", ""]),
        v(&["XRANGE", "r", "-", "+"]),
        v(&["XRANGE", "r", "1", "1"]),
        v(&["XRANGE", "r", "(1-1", "+"]),
        v(&["XRANGE", "r", "-", "(3-5"]),
        v(&["XRANGE", "r", "(-", "+"]),
        v(&["XRANGE", "r", "-", "(+"]),
        v(&[
            "XRANGE",
            "r",
            "(18446744073709551615-18446744073709551615",
            "+",
        ]),
        v(&["XRANGE", "r", "-", "(0-0"]),
        v(&["XRANGE", "r", "-", "+", "COUNT", "2"]),
        v(&["XRANGE", "r", "-", "+", "COUNT", "0"]),
        v(&["XRANGE", "r", "-", "+", "COUNT", "-3"]),
        v(&["XRANGE", "r", "-", "+", "COUNT"]),
        v(&["XRANGE", "r", "-", "+", "COUNT", "x"]),
        v(&["XRANGE", "r", "-", "+", "FOO", "1"]),
        v(&["XRANGE", "nokey", "-", "+", "COUNT", "0"]),
        v(&["XRANGE", "nokey", "-", "+"]),
        v(&["XRANGE", "str", "-", "+"]),
        v(&["XRANGE", "str", "x", "+"]),
        v(&["XRANGE", "r", "3", "1"]),
        v(&["XREVRANGE", "r", "+", "-"]),
        v(&["XREVRANGE", "r", "+", "-", "COUNT", "3"]),
        v(&["XREVRANGE", "r", "(2-0", "1-2"]),
        v(&["XREVRANGE", "r", "-", "+"]),
        // XDEL.
        v(&["XDEL", "nokey", "bad"]),
        v(&["XDEL", "str", "1-1"]),
        v(&["XDEL", "r", "bad"]),
        v(&["XDEL", "r", "1-1", "bad"]),
        v(&["XDEL", "r", "1-1", "1-1", "9-9"]),
        v(&["XRANGE", "r", "-", "+"]),
        v(&["XINFO", "STREAM", "r"]),
        // XTRIM.
        v(&["XTRIM", "r", "MAXLEN"]),
        v(&["XTRIM", "r", "FOO", "1"]),
        v(&["XTRIM", "r", "LIMIT", "1"]),
        v(&["XTRIM", "r", "MAXLEN", "1", "LIMIT", "1"]),
        v(&["XTRIM", "nokey", "MAXLEN", "1"]),
        v(&["XTRIM", "str", "MAXLEN", "1"]),
        v(&["XTRIM", "str", "MAXLEN", "x"]),
        v(&["XTRIM", "r", "MAXLEN", "~", "1"]),
        v(&["XTRIM", "r", "MINID", "2"]),
        v(&["XTRIM", "r", "MAXLEN", "=", "0"]),
        v(&["XINFO", "STREAM", "r"]),
        // XSETID.
        v(&["XSETID", "nokey", "1-1"]),
        v(&["XSETID", "str", "1-1"]),
        v(&["XSETID", "s", "bad"]),
        v(&["XSETID", "s", "1-1"]),
        v(&["XSETID", "r", "5-5", "ENTRIESADDED", "-1"]),
        v(&["XSETID", "r", "5-5", "ENTRIESADDED", "x"]),
        v(&["XSETID", "r", "5-5", "MAXDELETEDID", "6-0"]),
        v(&["XSETID", "r", "5-5", "FOO"]),
        v(&["XSETID", "r", "1-0"]),
        v(&[
            "XSETID",
            "r",
            "5-5",
            "ENTRIESADDED",
            "100",
            "MAXDELETEDID",
            "4-0",
        ]),
        v(&["XINFO", "STREAM", "r"]),
        v(&["XADD", "r", "5-5", "a", "1"]),
        v(&["XADD", "r", "5-*", "a", "1"]),
        // Consumer groups.
        v(&["DEL", "g"]),
        v(&["XGROUP", "CREATE", "g", "grp", "$"]),
        v(&["XGROUP", "CREATE", "g", "grp", "$", "MKSTREAM"]),
        v(&["XGROUP", "CREATE", "g", "grp", "$"]),
        v(&["XGROUP", "CREATE", "g", "grp2", "bad"]),
        v(&["XGROUP", "CREATE", "g", "grp2", "0", "ENTRIESREAD", "-2"]),
        v(&["XGROUP", "CREATE", "g", "grp2", "0", "ENTRIESREAD", "x"]),
        v(&["XGROUP", "CREATE", "g", "grp2", "0", "FOO"]),
        v(&["XGROUP", "CREATE", "str", "grp", "0"]),
        v(&["XGROUP", "CREATE", "nokey2", "grp", "bad", "MKSTREAM"]),
        v(&["EXISTS", "nokey2"]),
        v(&["XGROUP", "SETID", "g", "nogrp", "0"]),
        v(&["XGROUP", "SETID", "nokey", "grp", "0"]),
        v(&["XGROUP", "SETID", "g", "grp", "bad"]),
        v(&["XGROUP", "SETID", "g", "grp", "0", "MKSTREAM"]),
        v(&["XGROUP", "CREATECONSUMER", "g", "nogrp", "c"]),
        v(&["XGROUP", "DELCONSUMER", "g", "nogrp", "c"]),
        v(&["XGROUP", "DESTROY", "g", "nogrp"]),
        v(&["XGROUP", "DESTROY", "nokey", "grp"]),
        v(&["XGROUP", "FOO", "g", "grp"]),
        v(&["XGROUP", "CREATE", "g"]),
        v(&["XGROUP", "HELP"]),
        v(&["XADD", "g", "1-0", "f", "1"]),
        v(&["XADD", "g", "2-0", "f", "2"]),
        v(&["XADD", "g", "3-0", "f", "3"]),
        v(&["XGROUP", "CREATE", "g", "grp2", "0"]),
        v(&["XINFO", "GROUPS", "g"]),
        v(&[
            "XREADGROUP",
            "GROUP",
            "grp2",
            "alice",
            "COUNT",
            "1",
            "STREAMS",
            "g",
            ">",
        ]),
        v(&["XREADGROUP", "GROUP", "grp2", "bob", "STREAMS", "g", ">"]),
        v(&["XREADGROUP", "GROUP", "grp2", "bob", "STREAMS", "g", ">"]),
        v(&["XREADGROUP", "GROUP", "grp2", "alice", "STREAMS", "g", "0"]),
        v(&[
            "XREADGROUP",
            "GROUP",
            "grp2",
            "bob",
            "COUNT",
            "1",
            "STREAMS",
            "g",
            "1-0",
        ]),
        v(&["XREADGROUP", "GROUP", "grp2", "alice", "STREAMS", "g", "$"]),
        v(&["XREADGROUP", "GROUP", "nogrp", "alice", "STREAMS", "g", ">"]),
        v(&[
            "XREADGROUP",
            "GROUP",
            "grp2",
            "alice",
            "STREAMS",
            "nokey",
            ">",
        ]),
        v(&[
            "XREADGROUP",
            "GROUP",
            "grp2",
            "alice",
            "STREAMS",
            "str",
            ">",
        ]),
        v(&["XREADGROUP", "GROUP", "grp2", "alice", "STREAMS", "g"]),
        v(&[
            "XREADGROUP",
            "COUNT",
            "1",
            "BLOCK",
            "1",
            "STREAMS",
            "g",
            ">",
        ]),
        v(&[
            "XREADGROUP",
            "GROUP",
            "grp2",
            "alice",
            "COUNT",
            "x",
            "STREAMS",
            "g",
            ">",
        ]),
        v(&["XINFO", "GROUPS", "g"]),
        v(&["XINFO", "CONSUMERS", "g", "grp2"]),
        v(&["XINFO", "CONSUMERS", "g", "nogrp"]),
        v(&["XPENDING", "g", "grp2"]),
        v(&["XPENDING", "g", "grp"]),
        v(&["XPENDING", "g", "nogrp"]),
        v(&["XPENDING", "nokey", "grp"]),
        v(&["XPENDING", "str", "grp"]),
        v(&["XPENDING", "g", "grp2", "-", "+"]),
        v(&["XPENDING", "g", "grp2", "-", "+", "x"]),
        v(&["XPENDING", "g", "grp2", "IDLE", "x", "-", "+", "10"]),
        v(&["XPENDING", "g", "grp2", "IDLE", "0", "-", "+"]),
        v(&["XPENDING", "g", "grp2", "bad", "+", "10"]),
        v(&["XPENDING", "g", "grp2", "-", "+", "10", "nobody"]),
        v(&["XACK", "g", "grp2", "bad"]),
        v(&["XACK", "nokey", "grp2", "bad"]),
        v(&["XACK", "g", "nogrp", "bad"]),
        v(&["XACK", "g", "grp2", "1-0", "1-0", "9-0"]),
        v(&["XPENDING", "g", "grp2"]),
        v(&["XCLAIM", "g", "grp2", "carol", "0", "2-0", "JUSTID"]),
        v(&[
            "XCLAIM",
            "g",
            "grp2",
            "carol",
            "0",
            "2-0",
            "3-0",
            "RETRYCOUNT",
            "7",
        ]),
        v(&["XCLAIM", "g", "grp2", "carol", "x", "2-0"]),
        v(&["XCLAIM", "g", "nogrp", "carol", "x", "2-0"]),
        v(&["XCLAIM", "nokey", "grp2", "carol", "0", "2-0"]),
        v(&["XCLAIM", "g", "grp2", "carol", "0", "2-0", "IDLE", "x"]),
        v(&["XCLAIM", "g", "grp2", "carol", "0", "2-0", "TIME", "x"]),
        v(&[
            "XCLAIM",
            "g",
            "grp2",
            "carol",
            "0",
            "2-0",
            "RETRYCOUNT",
            "x",
        ]),
        v(&["XCLAIM", "g", "grp2", "carol", "0", "2-0", "LASTID", "bad"]),
        v(&["XCLAIM", "g", "grp2", "carol", "0", "2-0", "BOGUS"]),
        v(&["XCLAIM", "g", "grp2", "carol", "0", "2-0", "IDLE"]),
        v(&["XCLAIM", "g", "grp2", "dave", "0", "1-0", "FORCE", "JUSTID"]),
        v(&["XCLAIM", "g", "grp2", "dave", "3600000", "2-0", "JUSTID"]),
        v(&["XAUTOCLAIM", "g", "grp2", "erin", "0", "0", "COUNT", "1"]),
        v(&["XAUTOCLAIM", "g", "grp2", "erin", "0", "0", "JUSTID"]),
        v(&["XAUTOCLAIM", "g", "grp2", "erin", "x", "0"]),
        v(&["XAUTOCLAIM", "g", "grp2", "erin", "0", "bad"]),
        v(&["XAUTOCLAIM", "g", "grp2", "erin", "0", "0", "COUNT", "0"]),
        v(&["XAUTOCLAIM", "g", "grp2", "erin", "0", "0", "FOO"]),
        v(&["XAUTOCLAIM", "g", "nogrp", "erin", "0", "0"]),
        v(&[
            "XAUTOCLAIM",
            "g",
            "grp2",
            "erin",
            "0",
            "(18446744073709551615-18446744073709551615",
        ]),
        v(&["XDEL", "g", "2-0"]),
        v(&["XAUTOCLAIM", "g", "grp2", "erin", "0", "0"]),
        v(&["XREADGROUP", "GROUP", "grp2", "erin", "STREAMS", "g", "0"]),
        v(&["XPENDING", "g", "grp2"]),
        v(&["XGROUP", "CREATECONSUMER", "g", "grp2", "zed"]),
        v(&["XGROUP", "CREATECONSUMER", "g", "grp2", "zed"]),
        v(&["XGROUP", "DELCONSUMER", "g", "grp2", "erin"]),
        v(&["XGROUP", "DELCONSUMER", "g", "grp2", "nobody"]),
        v(&["XINFO", "GROUPS", "g"]),
        v(&["XGROUP", "SETID", "g", "grp2", "1-0", "ENTRIESREAD", "1"]),
        v(&["XGROUP", "SETID", "g", "grp2", "$"]),
        v(&["XINFO", "GROUPS", "g"]),
        v(&["XADD", "g", "4-0", "f", "4"]),
        v(&[
            "XREADGROUP",
            "GROUP",
            "grp2",
            "fay",
            "NOACK",
            "STREAMS",
            "g",
            ">",
        ]),
        v(&["XINFO", "GROUPS", "g"]),
        v(&["XINFO", "STREAM", "g"]),
        v(&["XINFO", "STREAM", "g", "FULL", "COUNT", "1"]),
        v(&["XINFO", "STREAM", "g", "FULL", "FOO", "1"]),
        v(&["XINFO", "STREAM", "g", "FOO"]),
        v(&["XINFO", "STREAM", "nokey"]),
        v(&["XINFO", "STREAM", "str"]),
        v(&["XINFO", "GROUPS", "nokey"]),
        v(&["XINFO", "HELP"]),
        v(&["XINFO", "FOO", "g"]),
        v(&["XGROUP", "DESTROY", "g", "grp2"]),
        v(&["XGROUP", "DESTROY", "g", "grp2"]),
        // XREAD.
        v(&["XREAD", "STREAMS", "g", "r", "0", "0"]),
        v(&[
            "XREAD", "COUNT", "1", "STREAMS", "g", "nokey", "r", "2", "0", "0",
        ]),
        v(&["XREAD", "STREAMS", "g", "$"]),
        v(&["XREAD", "STREAMS", "g", "+"]),
        v(&["XREAD", "STREAMS", "g", ">"]),
        v(&["XREAD", "STREAMS", "g", "bad"]),
        v(&["XREAD", "STREAMS", "str", "0"]),
        v(&["XREAD", "STREAMS", "g", "r", "0"]),
        v(&["XREAD", "GROUP", "a", "b", "STREAMS", "g", "0"]),
        v(&["XREAD", "NOACK", "STREAMS", "g", "0"]),
        v(&["XREAD", "COUNT", "x", "STREAMS", "g", "0"]),
        v(&["XREAD", "BLOCK", "-1", "STREAMS", "g", "0"]),
        v(&["XREAD", "BLOCK", "x", "STREAMS", "g", "0"]),
        v(&["XREAD", "FOO", "STREAMS", "g", "0"]),
        v(&["XREAD", "COUNT", "1", "g", "0"]),
        v(&["XREAD", "BLOCK", "10", "STREAMS", "g", "$"]),
        v(&["MULTI"]),
        v(&["XREAD", "BLOCK", "0", "STREAMS", "g", "$"]),
        v(&["EXEC"]),
        v(&["DEBUG", "DIGEST-VALUE", "g", "r"]),
        v(&["COPY", "g", "g2"]),
        v(&["XRANGE", "g2", "-", "+"]),
        v(&["RENAME", "g2", "g3"]),
        v(&["XLEN", "g3"]),
        v(&["SCAN", "0", "TYPE", "stream", "COUNT", "1000"]),
    ];
    // SCAN's order is unspecified; compare it sorted.
    let (scan, rest) = cmds.split_last().unwrap();
    run_both(&mut e, &mut r, rest);
    let mut a = s(&e.cmd(scan))
        .lines()
        .map(String::from)
        .collect::<Vec<_>>();
    let mut b = s(&r.cmd(scan))
        .lines()
        .map(String::from)
        .collect::<Vec<_>>();
    a.sort();
    b.sort();
    assert_eq!(a, b);
}

#[test]
fn command_info_matches_redis_except_key_specs() {
    let Some(redis) = Server::redis() else { return };
    let ember = Server::start(&[]);
    let (mut e, mut r) = (ember.raw(), redis.raw());
    for c in [
        "xadd",
        "xrange",
        "xrevrange",
        "xlen",
        "xdel",
        "xtrim",
        "xsetid",
        "xread",
        "xreadgroup",
        "xack",
        "xpending",
        "xclaim",
        "xautoclaim",
    ] {
        // Name, arity, flags, key positions, categories and tips (Redis's
        // key specs carry details the table here does not have).
        let a = info_head(&e.cmd(&["COMMAND", "INFO", c]));
        let b = info_head(&r.cmd(&["COMMAND", "INFO", c]));
        assert_eq!(a, b, "COMMAND INFO {c}");
        let a = s(&e.cmd(&["COMMAND", "DOCS", c]));
        let b = s(&r.cmd(&["COMMAND", "DOCS", c]));
        let summary = |x: &str| {
            x.split("summary")
                .nth(1)
                .map(|t| t.lines().take(3).collect::<Vec<_>>().join("|"))
        };
        assert_eq!(summary(&a), summary(&b), "COMMAND DOCS {c}");
    }
}

/// The first eight fields of a one-command COMMAND INFO reply (RESP2).
fn info_head(r: &[u8]) -> Vec<String> {
    let t = s(r);
    let l: Vec<&str> = t.split("\r\n").collect();
    let mut i = 2; // *1, *10
    let mut out = Vec::new();
    for field in 0..8 {
        let h = l[i];
        i += 1;
        match (field, h.as_bytes()[0]) {
            (_, b'$') => {
                out.push(l[i].to_string());
                i += 1;
            }
            (_, b':') => out.push(h.to_string()),
            (_, b'*') => {
                let n: usize = h[1..].parse().unwrap();
                let mut items = Vec::new();
                for _ in 0..n {
                    if l[i].starts_with('$') {
                        items.push(l[i + 1].to_string());
                        i += 2;
                    } else {
                        items.push(l[i].to_string());
                        i += 1;
                    }
                }
                out.push(items.join(","));
            }
            _ => panic!("unexpected {h}"),
        }
    }
    out
}

fn blocked(r: &mut Raw) -> usize {
    let info = s(&r.cmd(&["INFO", "clients"]));
    info.lines()
        .find_map(|l| l.strip_prefix("blocked_clients:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

fn wait_blocked(r: &mut Raw, n: usize) {
    eventually("clients blocked", Duration::from_secs(5), || {
        blocked(r) == n
    });
}

#[test]
fn blocked_readers_are_served_fifo_and_time_out() {
    let srv = Server::start(&[]);
    let mut w = srv.raw();
    w.cmd(&["XADD", "s", "1-0", "f", "v"]);
    // Two readers of new entries ($), in order.
    let mut a = srv.raw();
    let mut b = srv.raw();
    a.send(&encode(&[b"XREAD", b"BLOCK", b"0", b"STREAMS", b"s", b"$"]));
    wait_blocked(&mut w, 1);
    b.send(&encode(&[
        b"XREAD", b"COUNT", b"1", b"BLOCK", b"0", b"STREAMS", b"other", b"s", b"$", b"$",
    ]));
    wait_blocked(&mut w, 2);
    assert_eq!(s(&w.cmd(&["XADD", "s", "2-0", "f", "w"])), "$3\r\n2-0\r\n");
    let want = "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\nw\r\n";
    assert_eq!(s(&a.reply()), want);
    // Both readers see an entry: a stream read does not consume.
    assert_eq!(s(&b.reply()), want);
    // A timeout is a null array; BLOCK inside MULTI does not block.
    let t = std::time::Instant::now();
    assert_eq!(
        s(&a.cmd(&["XREAD", "BLOCK", "100", "STREAMS", "s", "$"])),
        "*-1\r\n"
    );
    assert!(t.elapsed() >= Duration::from_millis(90));
    a.cmd(&["MULTI"]);
    a.cmd(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
    assert_eq!(s(&a.cmd(&["EXEC"])), "*1\r\n*-1\r\n");
    // DEL or a type change does not wake a plain XREAD, CLIENT UNBLOCK does.
    let id = s(&a.cmd(&["CLIENT", "ID"]))
        .trim()
        .trim_start_matches(':')
        .to_string();
    a.send(&encode(&[b"XREAD", b"BLOCK", b"0", b"STREAMS", b"s", b"$"]));
    wait_blocked(&mut w, 1);
    w.cmd(&["DEL", "s"]);
    w.cmd(&["SET", "s", "x"]);
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(blocked(&mut w), 1);
    w.cmd(&["CLIENT", "UNBLOCK", &id]);
    assert_eq!(s(&a.reply()), "*-1\r\n");
    // XADD + DEL in one transaction wakes nobody.
    w.cmd(&["DEL", "s"]);
    a.send(&encode(&[b"XREAD", b"BLOCK", b"0", b"STREAMS", b"s", b"0"]));
    wait_blocked(&mut w, 1);
    w.cmd(&["MULTI"]);
    w.cmd(&["XADD", "s", "1-0", "f", "v"]);
    w.cmd(&["DEL", "s"]);
    w.cmd(&["EXEC"]);
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(blocked(&mut w), 1);
    w.cmd(&["XADD", "s", "3-0", "f", "v"]);
    assert!(s(&a.reply()).contains("3-0"));
}

#[test]
fn blocked_group_readers() {
    let srv = Server::start(&[]);
    let mut w = srv.raw();
    w.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    let mut a = srv.raw();
    let mut b = srv.raw();
    a.send(&encode(&[
        b"XREADGROUP",
        b"GROUP",
        b"g",
        b"a",
        b"BLOCK",
        b"0",
        b"STREAMS",
        b"s",
        b">",
    ]));
    wait_blocked(&mut w, 1);
    b.send(&encode(&[
        b"XREADGROUP",
        b"GROUP",
        b"g",
        b"b",
        b"BLOCK",
        b"0",
        b"STREAMS",
        b"s",
        b">",
    ]));
    wait_blocked(&mut w, 2);
    // One entry goes to the first consumer only.
    w.cmd(&["XADD", "s", "1-0", "f", "v"]);
    assert!(s(&a.reply()).contains("1-0"));
    wait_blocked(&mut w, 1);
    assert_eq!(
        s(&w.cmd(&["XPENDING", "s", "g"])),
        "*4\r\n:1\r\n$3\r\n1-0\r\n$3\r\n1-0\r\n*1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"
    );
    w.cmd(&["XADD", "s", "2-0", "f", "v"]);
    assert!(s(&b.reply()).contains("2-0"));
    // Deleting the key unblocks a group reader with an error, as does
    // destroying the group.
    b.send(&encode(&[
        b"XREADGROUP",
        b"GROUP",
        b"g",
        b"b",
        b"BLOCK",
        b"0",
        b"STREAMS",
        b"s",
        b">",
    ]));
    wait_blocked(&mut w, 1);
    w.cmd(&["XGROUP", "DESTROY", "s", "g"]);
    assert_eq!(
        s(&b.reply()),
        "-NOGROUP the consumer group this client was blocked on no longer exists\r\n"
    );
    w.cmd(&["XGROUP", "CREATE", "s", "g", "$"]);
    b.send(&encode(&[
        b"XREADGROUP",
        b"GROUP",
        b"g",
        b"b",
        b"BLOCK",
        b"0",
        b"STREAMS",
        b"s",
        b">",
    ]));
    wait_blocked(&mut w, 1);
    w.cmd(&["DEL", "s"]);
    assert_eq!(
        s(&b.reply()),
        "-UNBLOCKED the stream key no longer exists\r\n"
    );
    // A timeout.
    w.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    assert_eq!(
        s(&b.cmd(&[
            "XREADGROUP",
            "GROUP",
            "g",
            "b",
            "BLOCK",
            "50",
            "STREAMS",
            "s",
            ">"
        ])),
        "*-1\r\n"
    );
}

/// What Redis signals to blocked readers and watchers, side by side: a
/// reader is served once the stream's last ID passed its own, even if the
/// new entries were deleted in the same transaction (no entries then);
/// XSETID wakes nobody; the group and consumer metadata commands touch no
/// WATCH.
#[test]
fn wakeups_and_watch_match_redis() {
    let Some(redis) = Server::redis() else { return };
    let ember = Server::start(&[]);
    let run = |srv: &Server| -> Vec<String> {
        let (mut w, mut a, mut c) = (srv.raw(), srv.raw(), srv.raw());
        let mut out = Vec::new();
        w.cmd(&["XADD", "s", "1-0", "f", "v"]);
        a.send(&encode(&[b"XREAD", b"BLOCK", b"0", b"STREAMS", b"s", b"$"]));
        wait_blocked(&mut w, 1);
        w.cmd(&["MULTI"]);
        w.cmd(&["XADD", "s", "2-0", "f", "v"]);
        w.cmd(&["XDEL", "s", "2-0"]);
        out.push(s(&w.cmd(&["EXEC"])));
        out.push(s(&a.reply()));
        a.send(&encode(&[b"XREAD", b"BLOCK", b"0", b"STREAMS", b"s", b"$"]));
        wait_blocked(&mut w, 1);
        out.push(s(&w.cmd(&["XSETID", "s", "10-0"])));
        std::thread::sleep(Duration::from_millis(50));
        out.push(format!("blocked {}", blocked(&mut w)));
        w.cmd(&["XADD", "s", "11-0", "f", "v"]);
        out.push(s(&a.reply()));
        c.cmd(&["WATCH", "s"]);
        for cmd in [
            &["XGROUP", "CREATE", "s", "g", "0"][..],
            &["XGROUP", "CREATECONSUMER", "s", "g", "c1"],
            &["XREADGROUP", "GROUP", "g", "c2", "STREAMS", "s", ">"],
            &["XACK", "s", "g", "11-0"],
            &["XCLAIM", "s", "g", "c3", "0", "11-0"],
            &["XGROUP", "SETID", "s", "g", "0"],
            &["XGROUP", "DELCONSUMER", "s", "g", "c1"],
            &["XSETID", "s", "20-0"],
            &["XGROUP", "DESTROY", "s", "g"],
        ] {
            out.push(s(&w.cmd(cmd)));
        }
        c.cmd(&["MULTI"]);
        c.cmd(&["PING"]);
        out.push(format!("untouched: {}", s(&c.cmd(&["EXEC"]))));
        c.cmd(&["WATCH", "s"]);
        w.cmd(&["XDEL", "s", "11-0"]);
        c.cmd(&["MULTI"]);
        c.cmd(&["PING"]);
        out.push(format!("touched: {}", s(&c.cmd(&["EXEC"]))));
        out
    };
    assert_eq!(run(&ember), run(&redis));
}
