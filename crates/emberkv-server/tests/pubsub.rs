//! Pub/sub and keyspace notifications over TCP, with several connections.

mod common;
use common::*;
use std::io::Read;
use std::time::{Duration, Instant};

fn msg(kind: &str, parts: &[&str]) -> Vec<u8> {
    let mut v = format!("*{}\r\n${}\r\n{kind}\r\n", parts.len() + 1, kind.len()).into_bytes();
    for p in parts {
        v.extend(format!("${}\r\n{p}\r\n", p.len()).bytes());
    }
    v
}

#[test]
fn subscribe_publish_and_patterns_resp2() {
    let srv = Server::start(&[]);
    let mut sub = srv.raw();
    let mut publ = srv.raw();
    sub.send(&encode(&[b"SUBSCRIBE", b"news", b"sport"]));
    assert_eq!(
        sub.reply(),
        b"*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n"
    );
    assert_eq!(
        sub.reply(),
        b"*3\r\n$9\r\nsubscribe\r\n$5\r\nsport\r\n:2\r\n"
    );
    assert_eq!(
        sub.cmd(&["PSUBSCRIBE", "n?ws*"]),
        b"*3\r\n$10\r\npsubscribe\r\n$5\r\nn?ws*\r\n:3\r\n"
    );
    assert_eq!(publ.cmd(&["PUBLISH", "news", "hello"]), b":2\r\n");
    assert_eq!(sub.reply(), msg("message", &["news", "hello"]));
    assert_eq!(sub.reply(), msg("pmessage", &["n?ws*", "news", "hello"]));
    assert_eq!(publ.cmd(&["PUBLISH", "nobody", "x"]), b":0\r\n");
    // Subscriber mode: only the subscription commands, PING, QUIT, RESET.
    assert_eq!(
        s(&sub.cmd(&["GET", "x"])),
        "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"
    );
    assert_eq!(sub.cmd(&["PING"]), b"*2\r\n$4\r\npong\r\n$0\r\n\r\n");
    assert_eq!(
        sub.cmd(&["PING", "hi"]),
        b"*2\r\n$4\r\npong\r\n$2\r\nhi\r\n"
    );
    // PUBSUB introspection.
    assert_eq!(
        publ.cmd(&["PUBSUB", "NUMSUB", "news", "none"]),
        b"*4\r\n$4\r\nnews\r\n:1\r\n$4\r\nnone\r\n:0\r\n"
    );
    assert_eq!(publ.cmd(&["PUBSUB", "NUMPAT"]), b":1\r\n");
    assert_eq!(
        publ.cmd(&["PUBSUB", "CHANNELS", "sp*"]),
        b"*1\r\n$5\r\nsport\r\n"
    );
    let info = s(&publ.cmd(&["INFO", "stats"]));
    assert!(info.contains("pubsub_channels:2\r\n"), "{info}");
    assert!(info.contains("pubsub_patterns:1\r\n"), "{info}");
    assert!(info.contains("pubsubshard_channels:0\r\n"), "{info}");
    // Unsubscribe from everything: one confirmation per channel, counts down.
    sub.send(&encode(&[b"UNSUBSCRIBE"]));
    let (a, b) = (s(&sub.reply()), s(&sub.reply()));
    assert!(
        a.ends_with(":2\r\n") && b.ends_with(":1\r\n"),
        "{a:?} {b:?}"
    );
    let mut names = vec![
        a.split("\r\n").nth(4).unwrap(),
        b.split("\r\n").nth(4).unwrap(),
    ];
    names.sort();
    assert_eq!(names, ["news", "sport"]);
    assert_eq!(
        sub.cmd(&["PUNSUBSCRIBE"]),
        b"*3\r\n$12\r\npunsubscribe\r\n$5\r\nn?ws*\r\n:0\r\n"
    );
    // With nothing left, UNSUBSCRIBE still confirms once, with a null name.
    assert_eq!(
        sub.cmd(&["UNSUBSCRIBE"]),
        b"*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n"
    );
    // Out of subscriber mode again.
    assert_eq!(sub.cmd(&["GET", "x"]), b"$-1\r\n");
    assert_eq!(publ.cmd(&["PUBLISH", "news", "late"]), b":0\r\n");
}

#[test]
fn resp3_push_and_commands_while_subscribed() {
    let srv = Server::start(&[]);
    let mut sub = srv.raw();
    let mut publ = srv.raw();
    sub.cmd(&["HELLO", "3"]);
    assert_eq!(
        sub.cmd(&["SUBSCRIBE", "c"]),
        b">3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n"
    );
    // RESP3 clients may run anything while subscribed.
    assert_eq!(sub.cmd(&["SET", "k", "v"]), b"+OK\r\n");
    assert_eq!(sub.cmd(&["GET", "k"]), b"$1\r\nv\r\n");
    assert_eq!(sub.cmd(&["PING"]), b"+PONG\r\n");
    publ.cmd(&["PUBLISH", "c", "m1"]);
    assert_eq!(
        sub.reply(),
        b">3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$2\r\nm1\r\n"
    );
    assert_eq!(
        sub.cmd(&["SSUBSCRIBE", "sc"]),
        b">3\r\n$10\r\nssubscribe\r\n$2\r\nsc\r\n:1\r\n"
    );
    assert_eq!(publ.cmd(&["SPUBLISH", "sc", "s1"]), b":1\r\n");
    assert_eq!(
        sub.reply(),
        b">3\r\n$8\r\nsmessage\r\n$2\r\nsc\r\n$2\r\ns1\r\n"
    );
    assert_eq!(
        publ.cmd(&["PUBSUB", "SHARDCHANNELS"]),
        b"*1\r\n$2\r\nsc\r\n"
    );
    assert_eq!(
        publ.cmd(&["PUBSUB", "SHARDNUMSUB", "sc"]),
        b"*2\r\n$2\r\nsc\r\n:1\r\n"
    );
    // A plain PUBLISH does not reach shard subscribers.
    assert_eq!(publ.cmd(&["PUBLISH", "sc", "x"]), b":0\r\n");
    assert_eq!(
        sub.cmd(&["SUNSUBSCRIBE"]),
        b">3\r\n$12\r\nsunsubscribe\r\n$2\r\nsc\r\n:0\r\n"
    );
    // RESET leaves subscriber mode.
    assert_eq!(sub.cmd(&["RESET"]), b"+RESET\r\n");
    assert_eq!(publ.cmd(&["PUBLISH", "c", "gone"]), b":0\r\n");
}

/// Subscribers spread over all workers each get every message, in order.
#[test]
fn many_subscribers_on_every_worker() {
    let srv = Server::start(&["--server-threads", "2"]);
    let mut subs: Vec<Raw> = (0..20).map(|_| srv.raw()).collect();
    for s in subs.iter_mut() {
        s.cmd(&["SUBSCRIBE", "fan"]);
    }
    let mut p = srv.raw();
    for i in 0..50 {
        assert_eq!(p.cmd(&["PUBLISH", "fan", &i.to_string()]), b":20\r\n");
    }
    for s in subs.iter_mut() {
        for i in 0..50 {
            assert_eq!(s.reply(), msg("message", &["fan", &i.to_string()]));
        }
    }
    drop(subs);
    // Disconnected subscribers are forgotten.
    let end = Instant::now() + Duration::from_secs(5);
    while p.cmd(&["PUBLISH", "fan", "x"]) != b":0\r\n" {
        assert!(Instant::now() < end, "subscribers not cleaned up");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A subscriber that never reads is disconnected at its output buffer
/// limit; the other subscriber keeps receiving, and memory stays bounded.
#[test]
fn slow_subscriber_is_disconnected() {
    let srv = Server::start(&[]);
    let mut admin = srv.raw();
    assert_eq!(
        admin.cmd(&[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "pubsub 1mb 512kb 60"
        ]),
        b"+OK\r\n"
    );
    assert_eq!(
        s(&admin.cmd(&["CONFIG", "GET", "client-output-buffer-limit"])),
        "*2\r\n$26\r\nclient-output-buffer-limit\r\n$65\r\nnormal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 524288 60\r\n"
    );
    let base = srv.used_memory();
    let mut slow = srv.raw();
    slow.cmd(&["SUBSCRIBE", "flood"]);
    let mut fast = srv.raw();
    fast.cmd(&["SUBSCRIBE", "flood"]);
    let payload = "x".repeat(64 * 1024);
    let one = msg("message", &["flood", &payload]).len();
    // 600 x 64 KB = 38 MB, more than the kernel's socket buffers hold for
    // the slow one. Published in batches of 8 that the fast subscriber
    // reads before the next, so it never lags by more than 512 KB.
    let mut p = srv.raw();
    let mut buf = vec![0u8; 1 << 20];
    fast.s
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut got = 0;
    for batch in 0..75 {
        for _ in 0..8 {
            p.cmd(&["PUBLISH", "flood", &payload]);
        }
        while got < one * 8 * (batch + 1) {
            let n = fast.s.read(&mut buf).expect("fast subscriber read");
            assert!(n > 0, "fast subscriber was disconnected");
            got += n;
        }
    }
    assert_eq!(got, one * 600);
    assert!(slow.closed(), "slow subscriber still connected");
    let used = srv.used_memory();
    assert!(
        used < base + 16 * 1024 * 1024,
        "used_memory grew from {base} to {used}"
    );
    let info = s(&admin.cmd(&["PUBSUB", "NUMSUB", "flood"]));
    assert!(info.ends_with(":1\r\n"), "{info}");
}

fn events(sub: &mut Raw, n: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|_| {
            let r = s(&sub.reply());
            let l: Vec<&str> = r.split("\r\n").collect();
            // *4 $8 pmessage $p pattern $c channel $m message
            (l[6].to_string(), l[8].to_string())
        })
        .collect()
}

#[test]
fn keyspace_notifications_per_class() {
    let srv = Server::start(&["--notify-keyspace-events", "KEA"]);
    let mut sub = srv.raw();
    let mut c = srv.raw();
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "notify-keyspace-events"]),
        b"*2\r\n$22\r\nnotify-keyspace-events\r\n$3\r\nAKE\r\n"
    );
    sub.cmd(&["PSUBSCRIBE", "__key*@0__:*"]);
    let cases: &[(&[&str], &str, &str)] = &[
        (&["SET", "s", "1"], "s", "set"),
        (&["INCRBY", "s", "2"], "s", "incrby"),
        (&["APPEND", "s", "x"], "s", "append"),
        (&["LPUSH", "l", "a"], "l", "lpush"),
        (&["RPOP", "l"], "l", "rpop"),
        (&["SADD", "st", "a"], "st", "sadd"),
        (&["HSET", "h", "f", "v"], "h", "hset"),
        (&["ZADD", "z", "1", "m"], "z", "zadd"),
        (&["EXPIRE", "s", "100"], "s", "expire"),
        (&["PERSIST", "s"], "s", "persist"),
        (&["RENAME", "s", "s2"], "s", "rename_from"),
        (&["DEL", "s2"], "s2", "del"),
    ];
    for (cmd, key, event) in cases {
        c.cmd(cmd);
        let ev = events(&mut sub, 2);
        assert_eq!(
            ev[0],
            (format!("__keyspace@0__:{key}"), event.to_string()),
            "{cmd:?}"
        );
        assert_eq!(
            ev[1],
            (format!("__keyevent@0__:{event}"), key.to_string()),
            "{cmd:?}"
        );
        if *event == "rename_from" {
            events(&mut sub, 2); // rename_to
        }
        if *event == "rpop" {
            assert_eq!(events(&mut sub, 2)[0].1, "del"); // the list emptied
        }
    }
    // Expired keys (x): lazily on access and actively in the background.
    c.cmd(&["SET", "e1", "v", "PX", "30"]);
    events(&mut sub, 4); // set, expire
    std::thread::sleep(Duration::from_millis(60));
    assert_eq!(c.cmd(&["GET", "e1"]), b"$-1\r\n");
    assert_eq!(
        events(&mut sub, 2),
        vec![
            ("__keyspace@0__:e1".to_string(), "expired".to_string()),
            ("__keyevent@0__:expired".to_string(), "e1".to_string())
        ]
    );
    c.cmd(&["SET", "e2", "v", "PX", "30"]);
    events(&mut sub, 4);
    let ev = events(&mut sub, 2); // nobody touches e2: active expiry finds it
    assert_eq!(
        ev[1],
        ("__keyevent@0__:expired".to_string(), "e2".to_string())
    );
    // Only the enabled classes and kinds are published.
    c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "El"]);
    c.cmd(&["SET", "quiet", "1"]);
    c.cmd(&["RPUSH", "loud", "1"]);
    assert_eq!(
        events(&mut sub, 1),
        vec![("__keyevent@0__:rpush".to_string(), "loud".to_string())]
    );
    assert_eq!(
        s(&c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "Q"])),
        "-ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'.\r\n"
    );
    c.cmd(&["CONFIG", "SET", "notify-keyspace-events", ""]);
    c.cmd(&["SET", "silent", "1"]);
    c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "KE$"]);
    c.cmd(&["SET", "after", "1"]);
    assert_eq!(events(&mut sub, 1)[0].0, "__keyspace@0__:after");
}

/// The soft limit: over it for longer than its seconds disconnects, with
/// no hard limit set.
#[test]
fn soft_output_limit_disconnects_after_its_seconds() {
    let srv = Server::start(&[]);
    let mut admin = srv.raw();
    admin.cmd(&[
        "CONFIG",
        "SET",
        "client-output-buffer-limit",
        "pubsub 0 256kb 1",
    ]);
    let mut slow = srv.raw();
    slow.cmd(&["SUBSCRIBE", "soft"]);
    slow.s.set_nonblocking(true).unwrap();
    let payload = "y".repeat(64 * 1024);
    let mut p = srv.raw();
    let start = Instant::now();
    let mut closed_after = None;
    while start.elapsed() < Duration::from_secs(15) {
        let n = p.cmd(&["PUBLISH", "soft", &payload]);
        if n == b":0\r\n" {
            closed_after = Some(start.elapsed());
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let t = closed_after.expect("slow subscriber over the soft limit was never disconnected");
    assert!(
        t >= Duration::from_secs(1),
        "disconnected after {t:?}, before the soft seconds"
    );
}

/// CLIENT REPLY OFF silences command replies but not pub/sub pushes;
/// SKIP drops exactly the next reply; ON answers +OK.
#[test]
fn client_reply_off_skip_on() {
    let srv = Server::start(&[]);
    let mut c = srv.raw();
    let mut p = srv.raw();
    c.send(&encode(&[b"CLIENT", b"REPLY", b"OFF"]));
    c.send(&encode(&[b"SET", b"k", b"v"]));
    c.send(&encode(&[b"GET", b"k"]));
    c.send(&encode(&[b"NOSUCHCOMMAND"]));
    c.send(&encode(&[b"SUBSCRIBE", b"ch"]));
    assert_eq!(s(&c.reply()), "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
    assert_eq!(p.cmd(&["PUBLISH", "ch", "hi"]), b":1\r\n");
    assert_eq!(
        s(&c.reply()),
        "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"
    );
    c.send(&encode(&[b"UNSUBSCRIBE", b"ch"]));
    assert_eq!(
        s(&c.reply()),
        "*3\r\n$11\r\nunsubscribe\r\n$2\r\nch\r\n:0\r\n"
    );
    assert_eq!(c.cmd(&["CLIENT", "REPLY", "ON"]), b"+OK\r\n");
    c.send(&encode(&[b"CLIENT", b"REPLY", b"SKIP"]));
    c.send(&encode(&[b"INCR", b"n"]));
    assert_eq!(c.cmd(&["INCR", "n"]), b":2\r\n");
    assert_eq!(c.cmd(&["GET", "k"]), b"$1\r\nv\r\n");
    // ON right after SKIP turns replies on before its own +OK.
    c.send(&encode(&[b"CLIENT", b"REPLY", b"SKIP"]));
    assert_eq!(c.cmd(&["CLIENT", "REPLY", "ON"]), b"+OK\r\n");
    assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n");
    assert!(s(&c.cmd(&["CLIENT", "REPLY", "MAYBE"])).starts_with("-ERR syntax error"));
}
