//! Blocking pops with several real connections: wake-ups by pushes from
//! other clients, by renames and by moves, first-come-first-served order,
//! timeouts, disconnects, CLIENT KILL and CLIENT UNBLOCK. Every wait is
//! bounded.

mod common;
use common::*;
use std::time::{Duration, Instant};

/// Waits (at most 5 s) until INFO reports `n` blocked clients.
fn wait_blocked(c: &mut redis::Connection, n: usize) {
    let want = format!("blocked_clients:{n}\r");
    let start = Instant::now();
    loop {
        let info: String = q(c, &["INFO", "clients"]).unwrap();
        if info.contains(&want) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "never reached {want}: {info}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn send(r: &mut Raw, args: &[&str]) {
    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    r.send(&encode(&a));
}

#[test]
fn blpop_is_served_by_a_push_from_another_client() {
    let srv = Server::start(&[]);
    let mut c = srv.client();
    let mut w = srv.raw();
    send(&mut w, &["BLPOP", "k1", "k2", "0"]);
    wait_blocked(&mut c, 1);
    // The blocked client does not hold up anyone else.
    assert_eq!(q::<String>(&mut c, &["PING"]).unwrap(), "PONG");
    let _: i64 = q(&mut c, &["RPUSH", "k2", "a", "b"]).unwrap();
    assert_eq!(s(&w.reply()), "*2\r\n$2\r\nk2\r\n$1\r\na\r\n");
    assert_eq!(q::<i64>(&mut c, &["LLEN", "k2"]).unwrap(), 1);
    wait_blocked(&mut c, 0);
}

#[test]
fn waiters_are_served_first_come_first_served() {
    let srv = Server::start(&[]);
    let mut c = srv.client();
    let mut ws: Vec<Raw> = (0..3).map(|_| srv.raw()).collect();
    for (i, w) in ws.iter_mut().enumerate() {
        send(w, &["BRPOP", "q", "5"]);
        wait_blocked(&mut c, i + 1);
    }
    let _: i64 = q(&mut c, &["LPUSH", "q", "first", "second"]).unwrap();
    assert_eq!(s(&ws[0].reply()), "*2\r\n$1\r\nq\r\n$5\r\nfirst\r\n");
    assert_eq!(s(&ws[1].reply()), "*2\r\n$1\r\nq\r\n$6\r\nsecond\r\n");
    wait_blocked(&mut c, 1);
    let _: i64 = q(&mut c, &["RPUSH", "q", "third"]).unwrap();
    assert_eq!(s(&ws[2].reply()), "*2\r\n$1\r\nq\r\n$5\r\nthird\r\n");
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "q"]).unwrap(), 0);
}

#[test]
fn fractional_timeouts_expire_with_a_null_reply() {
    let srv = Server::start(&[]);
    let mut w = srv.raw();
    let t = Instant::now();
    assert_eq!(s(&w.cmd(&["BLPOP", "none", "0.2"])), "*-1\r\n");
    let e = t.elapsed();
    assert!(
        e >= Duration::from_millis(150) && e < Duration::from_secs(3),
        "{e:?}"
    );
    assert_eq!(s(&w.cmd(&["BZPOPMIN", "none", "0.05"])), "*-1\r\n");
    assert_eq!(
        s(&w.cmd(&["BLMOVE", "none", "d", "LEFT", "LEFT", "0.05"])),
        "*-1\r\n"
    );
    w.cmd(&["HELLO", "3"]);
    assert_eq!(s(&w.cmd(&["BLMPOP", "0.05", "1", "none", "LEFT"])), "_\r\n");
    // Commands pipelined behind a blocked one wait for it.
    send(&mut w, &["BLPOP", "none", "0.1"]);
    send(&mut w, &["PING"]);
    assert_eq!(s(&w.reply()), "_\r\n");
    assert_eq!(s(&w.reply()), "+PONG\r\n");
}

#[test]
fn disconnected_and_killed_waiters_are_cleaned_up() {
    let srv = Server::start(&[]);
    let mut c = srv.client();
    {
        let mut w = srv.raw();
        send(&mut w, &["BLPOP", "k", "0"]);
        wait_blocked(&mut c, 1);
    }
    wait_blocked(&mut c, 0);
    let mut w = srv.raw();
    let id: i64 = {
        let r = s(&w.cmd(&["CLIENT", "ID"]));
        r.trim_start_matches(':').trim().parse().unwrap()
    };
    send(&mut w, &["BLPOP", "k", "0"]);
    wait_blocked(&mut c, 1);
    let _: () = q(&mut c, &["CLIENT", "KILL", "ID", &id.to_string()])
        .map(|_: i64| ())
        .unwrap();
    wait_blocked(&mut c, 0);
    assert!(w.closed());
    // Nobody is left to take the element.
    let _: i64 = q(&mut c, &["RPUSH", "k", "v"]).unwrap();
    assert_eq!(q::<i64>(&mut c, &["LLEN", "k"]).unwrap(), 1);
}

#[test]
fn client_unblock_with_timeout_and_error() {
    let srv = Server::start(&[]);
    let mut c = srv.client();
    let mut w = srv.raw();
    let id = s(&w.cmd(&["CLIENT", "ID"]))
        .trim_start_matches(':')
        .trim()
        .to_string();
    send(&mut w, &["BLPOP", "k", "0"]);
    wait_blocked(&mut c, 1);
    assert_eq!(q::<i64>(&mut c, &["CLIENT", "UNBLOCK", &id]).unwrap(), 1);
    assert_eq!(s(&w.reply()), "*-1\r\n");
    send(&mut w, &["BZPOPMAX", "z", "0"]);
    wait_blocked(&mut c, 1);
    assert_eq!(
        q::<i64>(&mut c, &["CLIENT", "UNBLOCK", &id, "ERROR"]).unwrap(),
        1
    );
    assert_eq!(
        s(&w.reply()),
        "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"
    );
    assert_eq!(q::<i64>(&mut c, &["CLIENT", "UNBLOCK", &id]).unwrap(), 0);
}

#[test]
fn moves_renames_and_sorted_sets_wake_waiters() {
    let srv = Server::start(&[]);
    let mut c = srv.client();
    // BLMOVE fills the list another client waits on.
    let mut mover = srv.raw();
    let mut popper = srv.raw();
    send(&mut popper, &["BLPOP", "dst", "0"]);
    wait_blocked(&mut c, 1);
    send(&mut mover, &["BLMOVE", "src", "dst", "RIGHT", "LEFT", "0"]);
    wait_blocked(&mut c, 2);
    let _: i64 = q(&mut c, &["RPUSH", "src", "x"]).unwrap();
    assert_eq!(s(&mover.reply()), "$1\r\nx\r\n");
    assert_eq!(s(&popper.reply()), "*2\r\n$3\r\ndst\r\n$1\r\nx\r\n");
    // RENAME onto the awaited key.
    send(&mut popper, &["BRPOP", "target", "0"]);
    wait_blocked(&mut c, 1);
    let _: i64 = q(&mut c, &["RPUSH", "tmp", "y"]).unwrap();
    let _: () = q(&mut c, &["RENAME", "tmp", "target"]).unwrap();
    assert_eq!(s(&popper.reply()), "*2\r\n$6\r\ntarget\r\n$1\r\ny\r\n");
    // Sorted sets.
    // The popper blocks first (the two connections may sit on different
    // workers: sent together, either could register first).
    send(&mut popper, &["BZPOPMIN", "z", "0"]);
    wait_blocked(&mut c, 1);
    send(&mut mover, &["BZMPOP", "0", "1", "z", "MAX", "COUNT", "5"]);
    wait_blocked(&mut c, 2);
    let _: i64 = q(&mut c, &["ZADD", "z", "1", "a", "2", "b", "3", "c"]).unwrap();
    assert_eq!(
        s(&popper.reply()),
        "*3\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\n1\r\n"
    );
    assert_eq!(
        s(&mover.reply()),
        "*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
    );
    // BLMPOP with a count; a wrong type at call time is an error.
    send(
        &mut popper,
        &["BLMPOP", "0", "2", "l1", "l2", "RIGHT", "COUNT", "2"],
    );
    wait_blocked(&mut c, 1);
    let _: i64 = q(&mut c, &["RPUSH", "l2", "1", "2", "3"]).unwrap();
    assert_eq!(
        s(&popper.reply()),
        "*2\r\n$2\r\nl2\r\n*2\r\n$1\r\n3\r\n$1\r\n2\r\n"
    );
    let _: () = q(&mut c, &["SET", "str", "v"]).unwrap();
    assert!(s(&popper.cmd(&["BLPOP", "str", "0"])).starts_with("-WRONGTYPE"));
}

#[test]
fn many_waiters_across_threads_each_get_one_element() {
    let srv = Server::start(&[]);
    let mut c = srv.client();
    let n = 40;
    let mut ws: Vec<Raw> = (0..n).map(|_| srv.raw()).collect();
    for w in ws.iter_mut() {
        send(w, &["BLPOP", "jobs", "10"]);
    }
    wait_blocked(&mut c, n);
    let items: Vec<String> = (0..n).map(|i| format!("job{i}")).collect();
    let mut args = vec!["RPUSH", "jobs"];
    args.extend(items.iter().map(|s| s.as_str()));
    let _: i64 = q(&mut c, &args).unwrap();
    let mut got: Vec<String> = ws
        .iter_mut()
        .map(|w| {
            let r = s(&w.reply());
            r.rsplit("\r\n").nth(1).unwrap().to_string()
        })
        .collect();
    got.sort();
    let mut want = items.clone();
    want.sort();
    assert_eq!(got, want);
    wait_blocked(&mut c, 0);
}

/// Redis answers a blocked BLMOVE/BRPOPLPUSH -WRONGTYPE as soon as its
/// source gets an element while the destination holds another type, and
/// leaves the element in the source (it was left blocked for ever).
#[test]
fn blocked_move_to_a_wrong_type_destination_is_answered_wrongtype() {
    let srv = Server::start(&[]);
    let mut c = srv.client();
    for cmd in [
        &["BRPOPLPUSH", "src", "dst", "0"][..],
        &["BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"][..],
    ] {
        let _: () = q(&mut c, &["DEL", "src", "dst"]).unwrap();
        let _: () = q(&mut c, &["SET", "dst", "string"]).unwrap();
        let mut w = srv.raw();
        send(&mut w, cmd);
        wait_blocked(&mut c, 1);
        let _: i64 = q(&mut c, &["RPUSH", "src", "foo"]).unwrap();
        let r = s(&w.reply());
        assert!(r.starts_with("-WRONGTYPE"), "{cmd:?}: {r}");
        wait_blocked(&mut c, 0);
        let left: Vec<String> = q(&mut c, &["LRANGE", "src", "0", "-1"]).unwrap();
        assert_eq!(left, ["foo"]);
        assert_eq!(q::<String>(&mut c, &["GET", "dst"]).unwrap(), "string");
    }
}

/// A waiter whose first key holds another type is served from a later
/// key that gets data (the wrong-type key only passes it by).
#[test]
fn blpop_skips_a_wrong_type_key_when_served() {
    let srv = Server::start(&[]);
    let mut c = srv.client();
    let mut w = srv.raw();
    send(&mut w, &["BLPOP", "a", "b", "0"]);
    wait_blocked(&mut c, 1);
    let _: () = q(&mut c, &["SET", "a", "x"]).unwrap();
    let _: i64 = q(&mut c, &["RPUSH", "b", "y"]).unwrap();
    assert_eq!(s(&w.reply()), "*2\r\n$1\r\nb\r\n$1\r\ny\r\n");
}

/// FLUSHALL and FLUSHDB answer a client blocked in XREADGROUP on a stream
/// they removed, as Redis does; a plain XREAD stays blocked.
#[test]
fn flush_unblocks_xreadgroup_but_not_xread() {
    let srv = Server::start(&[]);
    let mut c = srv.client();
    for flush in ["FLUSHALL", "FLUSHDB"] {
        let _: () = q(&mut c, &["DEL", "s"]).unwrap();
        let _: String = q(&mut c, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]).unwrap();
        let mut g = srv.raw();
        send(
            &mut g,
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "c",
                "BLOCK",
                "0",
                "STREAMS",
                "s",
                ">",
            ],
        );
        let mut x = srv.raw();
        send(&mut x, &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
        wait_blocked(&mut c, 2);
        let _: () = q(&mut c, &[flush]).unwrap();
        assert_eq!(
            s(&g.reply()),
            "-UNBLOCKED the stream key no longer exists\r\n"
        );
        wait_blocked(&mut c, 1);
        let _: String = q(&mut c, &["XADD", "s", "1-1", "f", "v"]).unwrap();
        assert_eq!(
            s(&x.reply()),
            "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
        );
        wait_blocked(&mut c, 0);
    }
}

/// CLIENT LIST shows a blocked client with the `b` flag.
#[test]
fn client_list_flags_a_blocked_client() {
    let srv = Server::start(&[]);
    let mut c = srv.client();
    let mut w = srv.raw();
    let id = s(&w.cmd(&["CLIENT", "ID"]));
    let id = id.trim_start_matches(':').trim();
    send(&mut w, &["BRPOP", "nothing", "0"]);
    wait_blocked(&mut c, 1);
    let line: String = q(&mut c, &["CLIENT", "LIST", "ID", id]).unwrap();
    assert!(line.contains(" flags=b "), "{line}");
    let _: i64 = q(&mut c, &["CLIENT", "UNBLOCK", id]).unwrap();
    assert_eq!(w.reply(), b"*-1\r\n");
    let line: String = q(&mut c, &["CLIENT", "LIST", "ID", id]).unwrap();
    assert!(line.contains(" flags=N "), "{line}");
}
