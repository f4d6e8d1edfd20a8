//! Replay equivalence: random command streams over every family run
//! against an emberkv started in process; its propagation stream, taken
//! through the in-process API, is replayed into a fresh redis-server, and
//! DEBUG DIGEST must agree. Deterministic streams are also sent as they
//! are to a second redis-server, whose replies and digest must match
//! emberkv's.

mod common;

use common::{encode, reply_len, s, Raw, Rng, Server};
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// emberkv in this process, with the stream's bytes collected.
struct InProcess {
    port: u16,
    stream: Arc<Mutex<Vec<u8>>>,
    srv: Arc<emberkv_server::server::Server>,
}

fn start_in_process() -> InProcess {
    let (port, stream, srv) = common::start_in_process(&["--server-threads", "2"]);
    InProcess { port, stream, srv }
}

impl InProcess {
    /// The stream so far, once every unit that drew its order before this
    /// call (a unit of another thread may still be closing) is in it.
    fn take(&self) -> Vec<u8> {
        let mark = self.srv.stream.mark();
        let end = Instant::now() + Duration::from_secs(10);
        while !self.srv.stream.reached(mark) {
            assert!(Instant::now() < end, "stream did not catch up");
            std::thread::sleep(Duration::from_millis(1));
        }
        std::mem::take(&mut *self.stream.lock())
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn cmd(r: &mut Raw, args: &[String]) -> Vec<u8> {
    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    r.send(&encode(&a));
    r.reply()
}

fn digest(r: &mut Raw) -> String {
    let d = r.cmd(&["DEBUG", "DIGEST"]);
    String::from_utf8_lossy(&d).into_owned()
}

/// Sends the stream's bytes to `r` and checks every reply: none may be an
/// error (a propagated command that fails on replay would be a bug).
fn replay(r: &mut Raw, bytes: &[u8]) {
    let n = count_commands(bytes);
    r.send(bytes);
    for i in 0..n {
        let rep = r.reply();
        assert!(
            rep.first() != Some(&b'-'),
            "replayed command {i} failed: {}",
            String::from_utf8_lossy(&rep)
        );
        if rep.starts_with(b"*") {
            // An EXEC's replies: none may be an error either.
            let head = rep.iter().position(|&c| c == b'\n').unwrap() + 1;
            let mut at = head;
            while at < rep.len() {
                assert!(
                    rep[at] != b'-',
                    "replayed transaction had an error: {}",
                    String::from_utf8_lossy(&rep)
                );
                at += reply_len(&rep[at..]).unwrap();
            }
        }
    }
}

/// Commands in a run of RESP multi-bulk requests (the stream's format).
fn count_commands(mut b: &[u8]) -> usize {
    let mut n = 0;
    while !b.is_empty() {
        let len = reply_len(b).expect("well-formed stream");
        b = &b[len..];
        n += 1;
    }
    n
}

fn v(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

/// A random deterministic command: same data, same result on any server.
fn deterministic(rng: &mut Rng, far: i64) -> Vec<String> {
    let i = |rng: &mut Rng, n: u64| rng.below(n).to_string();
    let s = |rng: &mut Rng| format!("s:{}", rng.below(6));
    let n = |rng: &mut Rng| format!("n:{}", rng.below(3));
    let l = |rng: &mut Rng| format!("l:{}", rng.below(4));
    let h = |rng: &mut Rng| format!("h:{}", rng.below(3));
    let st = |rng: &mut Rng| format!("S:{}", rng.below(4));
    let z = |rng: &mut Rng| format!("z:{}", rng.below(4));
    let val = |rng: &mut Rng| format!("v{}", rng.below(20));
    let at = (far + rng.below(100_000) as i64).to_string();
    match rng.below(62) {
        0 => v(&["SET", &s(rng), &val(rng)]),
        1 => v(&["SET", &s(rng), &val(rng), "NX"]),
        2 => v(&["SET", &s(rng), &val(rng), "XX", "GET"]),
        3 => v(&["SET", &s(rng), &val(rng), "PXAT", &at]),
        4 => v(&["APPEND", &s(rng), &val(rng)]),
        5 => v(&["SETRANGE", &s(rng), &i(rng, 8), &val(rng)]),
        6 => v(&["INCRBY", &n(rng), &i(rng, 100)]),
        7 => v(&["INCRBYFLOAT", &n(rng), "1.5"]),
        8 => v(&["MSET", &s(rng), &val(rng), &s(rng), &val(rng)]),
        9 => v(&["GETDEL", &s(rng)]),
        10 => v(&["GETEX", &s(rng), "PXAT", &at]),
        11 => v(&["GETEX", &s(rng), "PERSIST"]),
        12 => v(&["DEL", &s(rng), &l(rng)]),
        13 => v(&["RENAME", &s(rng), &s(rng)]),
        14 => v(&["COPY", &s(rng), &s(rng), "REPLACE"]),
        15 => v(&["COPY", &l(rng), &l(rng), "DB", "1"]),
        16 => v(&["MOVE", &h(rng), "2"]),
        17 => v(&["PEXPIREAT", &s(rng), &at]),
        18 => v(&["EXPIREAT", &l(rng), &(far / 1000 + 50).to_string(), "GT"]),
        19 => v(&["PERSIST", &s(rng)]),
        20 => v(&["LPUSH", &l(rng), &val(rng), &val(rng)]),
        21 => v(&["RPUSH", &l(rng), &val(rng)]),
        22 => v(&["LPOP", &l(rng)]),
        23 => v(&["RPOP", &l(rng), "2"]),
        24 => v(&["LINSERT", &l(rng), "BEFORE", &val(rng), &val(rng)]),
        25 => v(&["LREM", &l(rng), "0", &val(rng)]),
        26 => v(&["LTRIM", &l(rng), "0", &i(rng, 5)]),
        27 => v(&["LMOVE", &l(rng), &l(rng), "LEFT", "RIGHT"]),
        28 => v(&["LMPOP", "2", &l(rng), &l(rng), "RIGHT", "COUNT", "2"]),
        29 => v(&["HSET", &h(rng), &val(rng), &val(rng)]),
        30 => v(&["HSETNX", &h(rng), &val(rng), &val(rng)]),
        31 => v(&["HDEL", &h(rng), &val(rng)]),
        32 => v(&["HINCRBY", &h(rng), "cnt", &i(rng, 10)]),
        33 => v(&["HINCRBYFLOAT", &h(rng), "f", "0.1"]),
        34 => v(&["SADD", &st(rng), &val(rng), &i(rng, 30)]),
        35 => v(&["SREM", &st(rng), &val(rng)]),
        36 => v(&["SMOVE", &st(rng), &st(rng), &val(rng)]),
        37 => v(&["SINTERSTORE", &st(rng), &st(rng), &st(rng)]),
        38 => v(&["SUNIONSTORE", &st(rng), &st(rng), &st(rng)]),
        39 => v(&["SDIFFSTORE", &st(rng), &st(rng), &st(rng)]),
        40 => v(&["ZADD", &z(rng), &i(rng, 50), &val(rng)]),
        41 => v(&["ZADD", &z(rng), "GT", "CH", &i(rng, 50), &val(rng)]),
        42 => v(&["ZADD", &z(rng), "INCR", "2.5", &val(rng)]),
        43 => v(&["ZINCRBY", &z(rng), "-1", &val(rng)]),
        44 => v(&["ZREM", &z(rng), &val(rng)]),
        45 => v(&["ZPOPMIN", &z(rng)]),
        46 => v(&["ZPOPMAX", &z(rng), "2"]),
        47 => v(&["ZREMRANGEBYSCORE", &z(rng), "10", "20"]),
        48 => v(&["ZUNIONSTORE", &z(rng), "2", &z(rng), &z(rng), "WEIGHTS", "1", "2"]),
        49 => v(&["ZINTERSTORE", &z(rng), "2", &z(rng), &z(rng)]),
        50 => v(&["ZRANGESTORE", &z(rng), &z(rng), "0", "-1"]),
        51 => v(&["ZMPOP", "1", &z(rng), "MIN", "COUNT", "2"]),
        52 => v(&["SORT", &l(rng), "ALPHA", "STORE", &l(rng)]),
        53 => v(&["SORT", &st(rng), "BY", "nosort", "ALPHA", "STORE", &l(rng)]),
        54 => v(&["SELECT", &i(rng, 3)]),
        55 => v(&[
            "EVAL",
            "redis.call('SET', KEYS[1], ARGV[1]); redis.call('INCR', KEYS[2]); return redis.call('LPUSH', KEYS[3], ARGV[1])",
            "3",
            &s(rng),
            &n(rng),
            &l(rng),
            &val(rng),
        ]),
        56 => v(&["HSET", &s(rng), "f", "x"]), // WRONGTYPE now and then
        57 => v(&["SETNX", &s(rng), &val(rng)]),
        58 => v(&["UNLINK", &st(rng)]),
        59 => v(&["RENAMENX", &z(rng), &z(rng)]),
        60 => v(&["SWAPDB", "0", "1"]),
        _ => v(&["FLUSHDB"]),
    }
}

/// Sends one command to both servers and compares the replies.
fn both(e: &mut Raw, r: &mut Raw, c: &[String]) {
    let a = cmd(e, c);
    let b = cmd(r, c);
    assert_eq!(
        String::from_utf8_lossy(&a),
        String::from_utf8_lossy(&b),
        "reply to {c:?}"
    );
}

fn blocked_clients(r: &mut Raw) -> usize {
    let info = String::from_utf8_lossy(&r.cmd(&["INFO", "clients"])).into_owned();
    info.lines()
        .find_map(|l| l.strip_prefix("blocked_clients:"))
        .and_then(|x| x.trim().parse().ok())
        .unwrap_or(0)
}

/// A blocking pop on a second connection, served by a push on the first,
/// on both servers alike.
fn served_pop(ports: (u16, u16), e: &mut Raw, r: &mut Raw, pop: &[String], push: &[String]) {
    let mut waiters = Vec::new();
    for (port, main) in [(ports.0, &mut *e), (ports.1, &mut *r)] {
        let mut w = Raw::connect(port);
        let a: Vec<&[u8]> = pop.iter().map(|s| s.as_bytes()).collect();
        w.send(&encode(&a));
        let end = Instant::now() + Duration::from_secs(5);
        while blocked_clients(main) == 0 {
            if Instant::now() > end {
                panic!(
                    "{pop:?} did not block on port {port}: {:?}",
                    String::from_utf8_lossy(&w.reply())
                );
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        waiters.push(w);
    }
    both(e, r, push);
    let a = waiters[0].reply();
    let b = waiters[1].reply();
    assert_eq!(
        String::from_utf8_lossy(&a),
        String::from_utf8_lossy(&b),
        "{pop:?}"
    );
}

#[test]
fn propagation_stream_replays_to_the_same_dataset() {
    let debug = ["--enable-debug-command", "yes"];
    let Some(reference) = Server::redis_with(&debug) else {
        return;
    };
    let Some(replayed) = Server::redis_with(&debug) else {
        return;
    };
    let ember = start_in_process();
    let mut e = Raw::connect(ember.port);
    let mut r = reference.raw();
    for c in [&mut e, &mut r] {
        c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]);
    }
    let far = now_ms() + 10_000_000;
    let mut rng = Rng(0x5eed_1234);

    // 1. Deterministic commands, sent to emberkv and to a redis-server as
    //    they are: replies and digests must match; so must the digest of a
    //    second redis-server that replays emberkv's stream.
    for round in 0..1500 {
        let c = deterministic(&mut rng, far);
        both(&mut e, &mut r, &c);
        if round % 100 == 50 {
            both(&mut e, &mut r, &v(&["MULTI"]));
            for _ in 0..4 {
                let c = deterministic(&mut rng, far);
                if c[0] == "SELECT" || c[0] == "SWAPDB" || c[0] == "FLUSHDB" {
                    continue;
                }
                both(&mut e, &mut r, &c);
            }
            both(&mut e, &mut r, &v(&["EXEC"]));
        }
        if round % 150 == 75 {
            both(&mut e, &mut r, &v(&["SELECT", "0"]));
            // Fresh keys each time: a move leaves an element behind.
            let q = |name: &str| format!("{name}:{round}");
            let ports = (ember.port, reference.port);
            served_pop(
                ports,
                &mut e,
                &mut r,
                &v(&["BLPOP", &q("q1"), &q("q2"), "5"]),
                &v(&["RPUSH", &q("q2"), "a", "b"]),
            );
            served_pop(
                ports,
                &mut e,
                &mut r,
                &v(&["BLMOVE", &q("q3"), &q("q1"), "RIGHT", "LEFT", "5"]),
                &v(&["LPUSH", &q("q3"), "c"]),
            );
            served_pop(
                ports,
                &mut e,
                &mut r,
                &v(&["BZPOPMIN", &q("qz"), "5"]),
                &v(&["ZADD", &q("qz"), "1", "m", "2", "n"]),
            );
            served_pop(
                ports,
                &mut e,
                &mut r,
                &v(&["BLMPOP", "5", "1", &q("q4"), "LEFT", "COUNT", "3"]),
                &v(&["RPUSH", &q("q4"), "x", "y"]),
            );
        }
    }
    let want = digest(&mut r);
    assert_eq!(
        digest(&mut e),
        want,
        "emberkv vs redis-server on the same commands"
    );
    assert_ne!(want.trim(), "+0000000000000000000000000000000000000000");
    let mut p = replayed.raw();
    let taken = ember.take();
    replay(&mut p, &taken);
    assert_eq!(
        digest(&mut p),
        want,
        "redis-server replaying emberkv's stream"
    );

    // 2. Commands whose effect is not their text (random, relative
    //    times) and expiry, on emberkv only: the replayed stream must
    //    still rebuild its dataset.
    let nd = |rng: &mut Rng| -> Vec<String> {
        let key = format!("S:{}", rng.below(4));
        let t = format!("t:{}", rng.below(20));
        let s = format!("s:{}", rng.below(6));
        match rng.below(14) {
            0 => v(&["SPOP", &key]),
            1 => v(&["SPOP", &key, "3"]),
            2 => v(&["SADD", &key, "a", "b", "c", "d", "e", "f", "g"]),
            3 => v(&["SET", &s, "x", "EX", "1000"]),
            4 => v(&["EXPIRE", &s, "2000"]),
            5 => v(&["SETEX", &s, "3000", "y"]),
            6 => v(&["PSETEX", &s, "4000000", "y"]),
            7 => v(&["GETEX", &s, "EX", "5000"]),
            8 => v(&["SET", &t, "short", "PX", "20"]),
            9 => v(&["PEXPIRE", &s, "-1"]),
            10 => v(&["INCRBYFLOAT", "n:0", "0.1"]),
            11 => v(&[
                "EVAL",
                "local m = redis.call('SPOP', KEYS[1]); if m then redis.call('SADD', KEYS[2], m) end; return 1",
                "2",
                &key,
                "S:9",
            ]),
            12 => v(&["HINCRBYFLOAT", "h:0", "g", "1.1"]),
            _ => v(&["SELECT", &rng.below(3).to_string()]),
        }
    };
    for _ in 0..600 {
        let c = nd(&mut rng);
        cmd(&mut e, &c);
    }
    // Lazy expiry (EXISTS on the short-lived keys) and active expiry (the
    // rest): wait until they are all gone.
    std::thread::sleep(Duration::from_millis(40));
    for db in 0..3 {
        e.cmd(&["SELECT", &db.to_string()]);
        for i in 0..10 {
            e.cmd(&["EXISTS", &format!("t:{i}")]);
        }
    }
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let mut left = 0;
        for db in 0..3 {
            e.cmd(&["SELECT", &db.to_string()]);
            let scan = e.cmd(&["SCAN", "0", "MATCH", "t:*", "COUNT", "1000"]);
            // A key listed by SCAN may be past its TTL: EXISTS deletes it.
            left += String::from_utf8_lossy(&scan).matches("t:").count();
        }
        if left == 0 {
            break;
        }
        assert!(Instant::now() < end, "short-lived keys did not expire");
        std::thread::sleep(Duration::from_millis(20));
    }
    // A FLUSHDB ASYNC of a filled database, and one of a served pop's
    // waiters in another database.
    e.cmd(&["SELECT", "3"]);
    for k in 0..50 {
        e.cmd(&["RPUSH", &format!("big:{k}"), "a", "b"]);
    }
    e.cmd(&["FLUSHDB", "ASYNC"]);
    e.cmd(&["SET", "after-flush", "1"]);

    let want = digest(&mut e);
    let taken = ember.take();
    replay(&mut p, &taken);
    assert_eq!(
        digest(&mut p),
        want,
        "redis-server replaying emberkv's stream (phase 2)"
    );
    assert!(
        taken.windows(4).any(|w| w == b"SREM") && taken.windows(4).any(|w| w == b"PXAT"),
        "effects, not commands, were propagated"
    );
    let dirty: u64 = ember.srv.stats.iter().map(|s| s.dirty.get()).sum();
    assert!(dirty > 1000, "dirty counter counts changes ({dirty})");
}

/// Clients on different worker threads write the same keys at once: the
/// stream must still come out in the order the writes took effect (it is
/// ordered by shard-lock releases, see effects/stream.rs), or the replay
/// would end with other values.
#[test]
fn concurrent_writers_replay_in_effect_order() {
    let Some(replayed) = Server::redis_with(&["--enable-debug-command", "yes"]) else {
        return;
    };
    let ember = start_in_process();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let port = ember.port;
            std::thread::spawn(move || {
                let mut c = Raw::connect(port);
                let mut rng = Rng(t + 1);
                // Pipelined bursts, so the workers overlap.
                for _ in 0..200 {
                    let mut batch = Vec::new();
                    for _ in 0..50 {
                        let k = format!("k{}", rng.below(4));
                        let val = format!("{t}-{}", rng.below(1000));
                        let c: Vec<&[u8]> = match rng.below(5) {
                            0 => vec![b"SET", k.as_bytes(), val.as_bytes()],
                            1 => vec![b"APPEND", k.as_bytes(), val.as_bytes()],
                            2 => vec![b"RPUSH", b"list", val.as_bytes()],
                            3 => vec![b"LPOP", b"list"],
                            _ => vec![b"DEL", k.as_bytes()],
                        };
                        batch.extend_from_slice(&encode(&c));
                    }
                    c.send(&batch);
                    for _ in 0..50 {
                        c.reply();
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let mut e = Raw::connect(ember.port);
    let want = digest(&mut e);
    let mut p = replayed.raw();
    let taken = ember.take();
    replay(&mut p, &taken);
    assert_eq!(digest(&mut p), want, "replay of concurrent writers");
}

/// The stream's exact form for a few commands: effects, not commands, as
/// Redis propagates them; nothing for a write that changed nothing.
#[test]
fn stream_carries_effects_in_redis_form() {
    let ember = start_in_process();
    let mut e = Raw::connect(ember.port);
    let take = || String::from_utf8(ember.take()).unwrap();
    // Commands as the stream shows them: one line per command.
    let lines = |s: &str| -> Vec<String> {
        let mut out = Vec::new();
        let mut b = s.as_bytes();
        while !b.is_empty() {
            let n = reply_len(b).unwrap();
            let parts: Vec<&str> = std::str::from_utf8(&b[..n])
                .unwrap()
                .split("\r\n")
                .filter(|p| !p.is_empty() && !p.starts_with('*') && !p.starts_with('$'))
                .collect();
            out.push(parts.join(" "));
            b = &b[n..];
        }
        out
    };
    e.cmd(&["SET", "k", "v"]);
    for c in [
        &["SETNX", "k", "w"][..],
        &["DEL", "nosuch"],
        &["SREM", "nosuch", "m"],
        &["GET", "k"],
        &["EXPIRE", "nosuch", "10"],
    ] {
        e.cmd(c);
    }
    assert_eq!(
        lines(&take()),
        ["SELECT 0", "SET k v"],
        "no-op writes propagate nothing"
    );

    let before = now_ms();
    e.cmd(&["SET", "k", "v", "EX", "100"]);
    e.cmd(&["EXPIRE", "k", "200"]);
    e.cmd(&["INCRBYFLOAT", "f", "1.5"]);
    e.cmd(&["GETDEL", "f"]);
    e.cmd(&["SELECT", "2"]);
    e.cmd(&["SADD", "s", "only"]);
    e.cmd(&["SPOP", "s"]);
    e.cmd(&[
        "EVAL",
        "redis.call('SET', 'a', '1'); redis.call('INCR', 'a'); return 1",
        "0",
    ]);
    let got = lines(&take());
    let pxat = |cmd: &str, prefix: &str| -> i64 {
        cmd.strip_prefix(prefix)
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or_else(|| panic!("{cmd:?} is not {prefix} <ms>"))
    };
    let t1 = pxat(&got[0], "SET k v PXAT");
    assert!((before + 100_000..before + 102_000).contains(&t1), "{t1}");
    let t2 = pxat(&got[1], "PEXPIREAT k");
    assert!((before + 200_000..before + 202_000).contains(&t2), "{t2}");
    assert_eq!(
        got[2..],
        [
            "SET f 1.5 KEEPTTL",
            "DEL f",
            "SELECT 2",
            "SADD s only",
            "SREM s only",
            "MULTI",
            "SET a 1",
            "INCR a",
            "EXEC"
        ]
    );

    // A blocking pop served by a push: the push, then the pop's
    // non-blocking form.
    let mut w = Raw::connect(ember.port);
    w.send(&encode(&[b"BLPOP", b"q", b"5"]));
    let end = Instant::now() + Duration::from_secs(5);
    while blocked_clients(&mut e) == 0 {
        assert!(Instant::now() < end, "BLPOP did not block");
        std::thread::sleep(Duration::from_millis(2));
    }
    e.cmd(&["SELECT", "0"]);
    e.cmd(&["RPUSH", "q", "x"]);
    assert_eq!(w.reply(), b"*2\r\n$1\r\nq\r\n$1\r\nx\r\n");
    assert_eq!(lines(&take()), ["SELECT 0", "RPUSH q x", "LPOP q"]);
}

/// SYNC (the suite's replication-stream helper, `redis-cli --replica`):
/// `$<len>\r\n` and an RDB of the dataset at that instant, then every
/// write after it as commands, with SELECT, exactly once.
#[test]
fn sync_sends_a_copy_then_the_stream() {
    let srv = Server::start(&[]);
    let mut c = srv.raw();
    c.cmd(&["SET", "before", "1"]);
    let mut r = srv.raw();
    r.send(b"SYNC\r\n");
    // The header line, then exactly len bytes of RDB.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    use std::io::Read;
    while !head.ends_with(b"\r\n") {
        r.s.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    let h = s(&head);
    assert!(h.starts_with('$'), "{h}");
    let len: usize = h[1..h.len() - 2].parse().unwrap();
    let mut rdb = vec![0u8; len];
    r.s.read_exact(&mut rdb).unwrap();
    assert!(
        rdb.starts_with(b"REDIS0010"),
        "{:?}",
        &rdb[..9.min(rdb.len())]
    );
    assert!(rdb.windows(6).any(|w| w == b"before"));
    c.cmd(&["SET", "after", "2"]);
    c.cmd(&["SELECT", "3"]);
    c.cmd(&["INCR", "n"]);
    let want = "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$5\r\nafter\r\n$1\r\n2\r\n\
*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n";
    let mut got = Vec::new();
    let end = Instant::now() + Duration::from_secs(10);
    while got.len() < want.len() && Instant::now() < end {
        let mut buf = [0u8; 4096];
        match r.s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
    }
    assert_eq!(s(&got), want);
    // The replica's link ends with its connection; the server goes on.
    drop(r);
    assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n");
}

/// Clients woken by SWAPDB or by an EXEC are served after the command has
/// closed its frame: what serving them changes (a key found expired, so
/// `DEL`) follows SWAPDB / EXEC in the stream, as Redis propagates it.
#[test]
fn wakeups_follow_swapdb_and_exec_in_the_stream() {
    let srv = Server::start(&["--enable-debug-command", "yes"]);
    let mut c = srv.raw();
    c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    let mut r = srv.raw();
    r.send(b"SYNC\r\n");
    let mut got = Vec::new();
    let read_until = |r: &mut Raw, got: &mut Vec<u8>, what: &str| {
        use std::io::Read;
        let end = Instant::now() + Duration::from_secs(10);
        while !s(got).contains(what) && Instant::now() < end {
            let mut buf = [0u8; 4096];
            if let Ok(n) = r.s.read(&mut buf) {
                got.extend_from_slice(&buf[..n]);
            }
        }
        assert!(s(got).contains(what), "{:?}", s(got));
    };
    read_until(&mut r, &mut got, "REDIS0010");
    // SWAPDB: the waiter in db 9 finds k expired once db 1 is swapped in.
    c.cmd(&["SELECT", "1"]);
    c.cmd(&["RPUSH", "k", "hello"]);
    c.cmd(&["PEXPIRE", "k", "50"]);
    let mut w = srv.raw();
    w.cmd(&["SELECT", "9"]);
    w.send(&encode(&[b"BRPOP", b"k", b"0"]));
    std::thread::sleep(Duration::from_millis(120));
    c.cmd(&["SWAPDB", "1", "9"]);
    read_until(&mut r, &mut got, "$3\r\nDEL\r\n$1\r\nk\r\n");
    let text = s(&got);
    let swap = text.find("SWAPDB").expect("swapdb");
    let del = text.rfind("$3\r\nDEL").expect("del");
    assert!(swap < del, "{text:?}");
    // EXEC: the same after the transaction's EXEC.
    c.cmd(&["SELECT", "9"]);
    c.cmd(&["MULTI"]);
    c.cmd(&["RPUSH", "k", "again"]);
    c.cmd(&["PEXPIRE", "k", "50"]);
    c.cmd(&["DEBUG", "SLEEP", "0.1"]);
    c.cmd(&["EXEC"]);
    got.clear();
    read_until(&mut r, &mut got, "$3\r\nDEL\r\n$1\r\nk\r\n");
    let text = s(&got);
    assert!(
        text.find("EXEC").expect("exec") < text.rfind("$3\r\nDEL").unwrap(),
        "{text:?}"
    );
    c.cmd(&["CLIENT", "UNBLOCK", "1"]);
}
