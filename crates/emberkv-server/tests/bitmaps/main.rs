//! Bitmaps over TCP: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD and
//! BITFIELD_RO. Every error path and edge reply is compared byte for byte
//! with a real redis-server (RESP2 and RESP3), as are keyspace
//! notifications and dirty counts, a seeded random command stream over a
//! few keys (wrong types and int-encoded strings included) and the final
//! values; the propagation stream is replayed into a redis-server and
//! must give the same DEBUG DIGEST.

mod cases;
#[path = "../common/mod.rs"]
mod common;

use cases::{random_command, SCRIPT};
use common::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One request of byte arguments, and its reply.
fn cmdb(r: &mut Raw, args: &[&[u8]]) -> Vec<u8> {
    r.send(&encode(args));
    r.reply()
}

fn bytes(c: &[String]) -> Vec<&[u8]> {
    c.iter().map(|s| s.as_bytes()).collect()
}

/// Runs `script` on both servers, comparing each reply byte for byte.
fn same_replies(redis: &Server, ember: &Server, setup: &[&[&str]], script: &[&[&str]]) {
    let (mut a, mut b) = (redis.raw(), ember.raw());
    for c in setup {
        a.cmd(c);
        b.cmd(c);
    }
    for (i, c) in script.iter().enumerate() {
        let (ra, rb) = (a.cmd(c), b.cmd(c));
        assert_eq!(
            s(&rb),
            s(&ra),
            "reply #{i} differs for {c:?} (setup {setup:?})"
        );
    }
}

#[test]
fn bitmap_errors_and_edges_match_redis() {
    let Some(redis) = Server::redis() else { return };
    let ember = Server::start(&[]);
    same_replies(&redis, &ember, &[&["FLUSHALL"]], SCRIPT);
    same_replies(&redis, &ember, &[&["FLUSHALL"], &["HELLO", "3"]], SCRIPT);
}

/// Values that are not UTF-8, and NUL bytes inside words Redis reads as C
/// strings (types, subcommands, options) or as whole arguments (numbers).
#[test]
fn binary_values_and_nul_bytes_match_redis() {
    let Some(redis) = Server::redis() else { return };
    let ember = Server::start(&[]);
    let (mut a, mut b) = (redis.raw(), ember.raw());
    let cases: &[&[&[u8]]] = &[
        &[
            b"SET",
            b"x",
            b"\xff\xf0\x00\x0f\x80\x01\xff\xff\xff\xff\xff\xff\xff\xff\x00",
        ],
        &[b"BITCOUNT", b"x"],
        &[b"BITPOS", b"x", b"0"],
        &[b"BITPOS", b"x", b"1", b"2"],
        &[b"BITPOS", b"x", b"0", b"6", b"-1"],
        &[b"BITPOS", b"x", b"0", b"6", b"13"],
        &[b"BITFIELD", b"x", b"GET", b"u8\x00zz", b"0"],
        &[b"BITFIELD", b"x", b"GET\x00", b"u8", b"0"],
        &[
            b"BITFIELD",
            b"x",
            b"OVERFLOW",
            b"sat\x00x",
            b"INCRBY",
            b"u4",
            b"0",
            b"99",
        ],
        &[b"BITFIELD", b"x", b"GET", b"u8", b"1\x00"],
        &[b"BITFIELD", b"x", b"GET", b"\x00u8", b"1"],
        &[b"BITCOUNT", b"x", b"0", b"-1", b"bit\x00"],
        &[b"BITOP", b"xor\x00", b"y", b"x"],
        &[b"GET", b"y"],
        &[b"SETBIT", b"x", b"3\x00", b"1"],
        &[b"SETBIT", b"x", b"3", b"1\x00"],
        &[b"BITOP", b"NOT", b"y", b"x"],
        &[b"GET", b"y"],
    ];
    for (i, c) in cases.iter().enumerate() {
        let (ra, rb) = (cmdb(&mut a, c), cmdb(&mut b, c));
        assert_eq!(s(&rb), s(&ra), "case #{i} differs");
    }
}

#[test]
fn bit_offsets_are_bounded_by_proto_max_bulk_len() {
    let Some(redis) = Server::redis() else { return };
    let ember = Server::start(&[]);
    let script: &[&[&str]] = &[
        &["SETBIT", "k", "8388608", "1"],
        &["GETBIT", "k", "8388608"],
        &["BITFIELD", "k", "SET", "u8", "#1048576", "1"],
        &["BITFIELD", "k", "GET", "u8", "8388608"],
        &["SETBIT", "k", "8388607", "1"],
        &["STRLEN", "k"],
        &["BITCOUNT", "k"],
        &["BITPOS", "k", "1"],
        &["BITPOS", "k", "1", "-1", "-1"],
        &[
            "BITFIELD", "k", "SET", "u8", "#1048575", "3", "GET", "u16", "8388607",
        ],
        &["BITFIELD", "k", "SET", "i64", "8388607", "-1"],
        &["STRLEN", "k"],
        &["BITCOUNT", "k", "-2", "-1"],
    ];
    same_replies(
        &redis,
        &ember,
        &[&["CONFIG", "SET", "proto-max-bulk-len", "1mb"]],
        script,
    );
}

/// The keyspace events and dirty counts of every bitmap write, beside
/// redis-server's.
#[test]
fn bitmap_notifications_and_dirty_counts_match_redis() {
    let debug = ["--enable-debug-command", "yes"];
    let Some(redis) = Server::redis_with(&debug) else {
        return;
    };
    let ember = Server::start(&debug);
    let script: &[&[&str]] = &[
        &["SETBIT", "b", "3", "1"],
        &["SETBIT", "b", "3", "1"],
        &["SETBIT", "b", "3", "0"],
        &["SETBIT", "b", "40", "0"],
        &["SETBIT", "b", "4", "0"],
        &["BITFIELD", "f", "GET", "u8", "0"],
        &[
            "BITFIELD", "f", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "100",
        ],
        &["BITFIELD", "f", "SET", "u8", "0", "0"],
        &[
            "BITFIELD", "f", "SET", "u8", "0", "1", "SET", "u8", "0", "1", "INCRBY", "u8", "0", "0",
        ],
        &[
            "BITFIELD", "f", "SET", "u8", "0", "2", "INCRBY", "u8", "0", "3", "GET", "u8", "0",
        ],
        &[
            "BITFIELD", "f", "SET", "u4", "100", "0", "SET", "u4", "0", "0", "SET", "u8", "0", "0",
        ],
        &["BITFIELD_RO", "f", "GET", "u8", "0"],
        &["BITOP", "AND", "d", "nokey"],
        &["SET", "d", "x"],
        &["BITOP", "AND", "d", "nokey"],
        &["BITOP", "OR", "d2", "b"],
        &["BITOP", "OR", "d2", "b"],
        &["BITOP", "NOT", "b", "b"],
        &["RPUSH", "l", "a"],
        &["BITOP", "XOR", "l", "b", "f"],
        &["SET", "ex", "1"],
        &["PEXPIRE", "ex", "1"],
        &["SETBIT", "wait", "0", "1"],
        &["BITOP", "OR", "ex", "b"],
        &["SET", "ex2", "1"],
        &["PEXPIRE", "ex2", "1"],
        &["SETBIT", "wait", "1", "1"],
        &["BITOP", "OR", "ex2", "nokey"],
    ];
    let run = |srv: &Server| -> (Vec<u8>, Vec<String>) {
        let mut c = srv.raw();
        // Keys expire when a command meets them, not in the background.
        c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
        c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "KEAn"]);
        let mut sub = srv.raw();
        sub.cmd(&["PSUBSCRIBE", "__key*__:*"]);
        let dirty = |c: &mut Raw| -> i64 {
            let info = s(&c.cmd(&["INFO", "persistence"]));
            info.lines()
                .find_map(|l| l.strip_prefix("rdb_changes_since_last_save:"))
                .and_then(|v| v.trim().parse().ok())
                .expect("rdb_changes_since_last_save")
        };
        let mut deltas = Vec::new();
        for cmd in script {
            if cmd[1] == "wait" {
                std::thread::sleep(Duration::from_millis(5));
            }
            let before = dirty(&mut c);
            let r = c.cmd(cmd);
            deltas.push(format!(
                "{cmd:?} -> {} dirty {}",
                s(&r).trim(),
                dirty(&mut c) - before
            ));
        }
        c.cmd(&["SET", "zz-end", "1"]);
        let mut out = Vec::new();
        let end = Instant::now() + Duration::from_secs(5);
        loop {
            assert!(Instant::now() < end, "no end marker");
            let r = sub.reply();
            let done = s(&r).contains("__keyevent@0__:set\r\n$6\r\nzz-end");
            out.extend(r);
            if done {
                break;
            }
        }
        (out, deltas)
    };
    let (want, want_dirty) = run(&redis);
    let (got, got_dirty) = run(&ember);
    assert_eq!(got_dirty, want_dirty);
    assert_eq!(s(&got), s(&want));
}

fn run_random(seed: u64, n: usize, resp3: bool) {
    let Some(redis) = Server::redis() else { return };
    let ember = Server::start(&[]);
    let (mut a, mut b) = (redis.raw(), ember.raw());
    let mut setup = vec![vec!["RPUSH", "l", "x"]];
    if resp3 {
        setup.push(vec!["HELLO", "3"]);
    }
    for c in &setup {
        a.cmd(c);
        b.cmd(c);
    }
    let mut rng = Rng(seed);
    for i in 0..n {
        let c = random_command(&mut rng);
        let (ra, rb) = (cmdb(&mut a, &bytes(&c)), cmdb(&mut b, &bytes(&c)));
        assert_eq!(
            s(&rb),
            s(&ra),
            "reply #{i} differs for {c:?} (seed {seed:#x}, resp3 {resp3})"
        );
    }
    for k in ["k0", "k1", "k2", "n", "l"] {
        for c in [
            vec!["GET", k],
            vec!["OBJECT", "ENCODING", k],
            vec!["TYPE", k],
        ] {
            assert_eq!(s(&b.cmd(&c)), s(&a.cmd(&c)), "final {c:?}");
        }
    }
    assert_eq!(s(&b.cmd(&["DBSIZE"])), s(&a.cmd(&["DBSIZE"])));
    let dirty = |r: &mut Raw| {
        let info = s(&r.cmd(&["INFO", "persistence"]));
        info.lines()
            .find(|l| l.starts_with("rdb_changes_since_last_save:"))
            .map(str::to_string)
    };
    assert_eq!(dirty(&mut b), dirty(&mut a), "dirty counts");
    // Reads count keyspace hits and misses (lookupKeyRead), writes do not.
    let lookups = |r: &mut Raw| {
        let info = s(&r.cmd(&["INFO", "stats"]));
        info.lines()
            .filter(|l| l.starts_with("keyspace_"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(lookups(&mut b), lookups(&mut a), "keyspace hits and misses");
}

#[test]
fn random_bitmap_commands_match_redis() {
    run_random(0x6a09e667f3bcc909, 4000, false);
}

#[test]
fn random_bitmap_commands_match_redis_in_resp3() {
    run_random(0xbb67ae8584caa73b, 2000, true);
}

/// COMMAND DOCS's summary, since, group and complexity of the family.
#[test]
fn command_docs_match_redis() {
    let Some(redis) = Server::redis() else { return };
    let ember = Server::start(&[]);
    let (mut a, mut b) = (redis.client(), ember.client());
    let fields = |c: &mut redis::Connection, name: &str| -> Vec<(String, String)> {
        let v: redis::Value = q(c, &["COMMAND", "DOCS", name]).unwrap();
        let redis::Value::Array(top) = v else {
            panic!("{v:?}")
        };
        let redis::Value::Array(doc) = &top[1] else {
            panic!("{top:?}")
        };
        doc.chunks(2)
            .filter_map(|p| match (&p[0], &p[1]) {
                (redis::Value::BulkString(k), redis::Value::BulkString(v)) => Some((s(k), s(v))),
                _ => None,
            })
            .filter(|(k, _)| ["summary", "since", "group", "complexity"].contains(&k.as_str()))
            .collect()
    };
    for name in [
        "setbit",
        "getbit",
        "bitcount",
        "bitpos",
        "bitop",
        "bitfield",
        "bitfield_ro",
    ] {
        let (want, got) = (fields(&mut a, name), fields(&mut b, name));
        assert_eq!(want.len(), 4, "{name}: {want:?}");
        assert_eq!(got, want, "COMMAND DOCS {name}");
    }
}

/// Without a redis-server at hand: the replies the family is built on.
#[test]
fn bitmap_basics() {
    let ember = Server::start(&[]);
    let mut c = ember.client();
    let int = |c: &mut redis::Connection, a: &[&str]| q::<i64>(c, a).unwrap();
    assert_eq!(int(&mut c, &["SETBIT", "k", "7", "1"]), 0);
    assert_eq!(int(&mut c, &["SETBIT", "k", "7", "1"]), 1);
    assert_eq!(int(&mut c, &["GETBIT", "k", "7"]), 1);
    assert_eq!(q::<Vec<u8>>(&mut c, &["GET", "k"]).unwrap(), b"\x01");
    q::<()>(&mut c, &["SET", "s", "foobar"]).unwrap();
    assert_eq!(int(&mut c, &["BITCOUNT", "s"]), 26);
    assert_eq!(int(&mut c, &["BITCOUNT", "s", "1", "1"]), 6);
    assert_eq!(int(&mut c, &["BITCOUNT", "s", "5", "30", "BIT"]), 17);
    assert_eq!(int(&mut c, &["BITPOS", "s", "0"]), 0);
    assert_eq!(int(&mut c, &["BITPOS", "s", "1", "2"]), 17);
    assert_eq!(int(&mut c, &["BITOP", "AND", "d", "s", "k"]), 6);
    let r: Vec<Option<i64>> = q(
        &mut c,
        &[
            "BITFIELD", "f", "SET", "i8", "0", "100", "OVERFLOW", "FAIL", "INCRBY", "i8", "0",
            "100", "GET", "u4", "0",
        ],
    )
    .unwrap();
    assert_eq!(r, [Some(0), None, Some(6)]);
    assert_eq!(
        err(&mut c, &["SETBIT", "k", "4294967296", "1"]),
        "ERR bit offset is not an integer or out of range"
    );
    assert_eq!(
        err(&mut c, &["BITFIELD_RO", "f", "SET", "u8", "0", "1"]),
        "ERR BITFIELD_RO only supports the GET subcommand"
    );
}

// --- Propagation: the stream replayed into a redis-server ---------------

/// emberkv in this process, with its propagation stream collected.
struct InProcess {
    port: u16,
    srv: Arc<emberkv_server::server::Server>,
    stream: Arc<parking_lot::Mutex<Vec<u8>>>,
}

fn start_in_process() -> InProcess {
    let (port, stream, srv) = common::start_in_process(&[]);
    InProcess { port, srv, stream }
}

/// Every bitmap write propagates as itself (they are deterministic), so
/// the stream replayed into a redis-server gives emberkv's dataset.
#[test]
fn bitmap_writes_replay_to_the_same_digest() {
    let Some(replayed) = Server::redis_with(&["--enable-debug-command", "yes"]) else {
        return;
    };
    let ember = start_in_process();
    let mut e = Raw::connect(ember.port);
    let mut rng = Rng(0x3c6ef372fe94f82b);
    for _ in 0..1500 {
        let c = random_command(&mut rng);
        cmdb(&mut e, &bytes(&c));
    }
    // A BITFIELD whose every write fails still creates the key: Redis
    // counts no change and propagates nothing; emberkv propagates it so
    // the replica has the key too.
    cmdb(
        &mut e,
        &[
            b"BITFIELD",
            b"failed",
            b"OVERFLOW",
            b"FAIL",
            b"INCRBY",
            b"u2",
            b"0",
            b"9",
        ],
    );
    let mark = ember.srv.stream.mark();
    let end = Instant::now() + Duration::from_secs(10);
    while !ember.srv.stream.reached(mark) {
        assert!(Instant::now() < end, "stream did not catch up");
        std::thread::sleep(Duration::from_millis(1));
    }
    let bytes = std::mem::take(&mut *ember.stream.lock());
    let mut r = replayed.raw();
    r.send(&bytes);
    let mut n = 0;
    let mut rest = &bytes[..];
    while !rest.is_empty() {
        rest = &rest[reply_len(rest).expect("well-formed stream")..];
        n += 1;
    }
    for i in 0..n {
        let rep = r.reply();
        assert!(
            rep.first() != Some(&b'-'),
            "replayed command {i} failed: {}",
            s(&rep)
        );
    }
    assert_eq!(
        s(&e.cmd(&["DEBUG", "DIGEST"])),
        s(&r.cmd(&["DEBUG", "DIGEST"]))
    );
    assert_eq!(s(&e.cmd(&["EXISTS", "failed"])), ":1\r\n");
}
