//! HyperLogLog over TCP: every command and error path, then differential
//! runs against a real redis-server: random PFADD streams (small and large
//! sets, across the sparse -> dense switch) must give byte-identical values
//! and the same PFCOUNT / PFMERGE replies; values built by one server count
//! the same on the other; corrupt values fail alike; notifications, WATCH
//! and the dirty counter behave alike; and the propagation stream carries
//! what Redis propagates.

mod common;
use common::*;
use std::time::{Duration, Instant};

const HLL_WRONGTYPE: &[u8] = b"-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n";
const WRONGTYPE: &[u8] = b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
const INVALID: &[u8] = b"-INVALIDOBJ Corrupted HLL object detected\r\n";

fn cmd(r: &mut Raw, args: &[&[u8]]) -> Vec<u8> {
    r.send(&encode(args));
    r.reply()
}

/// The bulk reply's payload.
fn bulk(reply: &[u8]) -> Vec<u8> {
    assert_eq!(reply[0], b'$', "{}", s(reply));
    let nl = reply.iter().position(|&c| c == b'\n').unwrap() + 1;
    reply[nl..reply.len() - 2].to_vec()
}

fn get(r: &mut Raw, key: &str) -> Vec<u8> {
    bulk(&r.cmd(&["GET", key]))
}

fn set(r: &mut Raw, key: &str, v: &[u8]) {
    assert_eq!(cmd(r, &[b"SET", key.as_bytes(), v]), b"+OK\r\n");
}

/// Runs `args` on both servers: the replies must be the same bytes.
fn both(e: &mut Raw, r: &mut Raw, args: &[&[u8]]) -> Vec<u8> {
    let (a, b) = (cmd(e, args), cmd(r, args));
    assert_eq!(
        s(&a),
        s(&b),
        "{:?}",
        args.iter().map(|a| s(a)).collect::<Vec<_>>()
    );
    a
}

fn both_str(e: &mut Raw, r: &mut Raw, args: &[&str]) -> Vec<u8> {
    let a: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    both(e, r, &a)
}

/// A sparse value's header and XZERO covering everything, as PFADD makes
/// it (cache stale).
fn empty_sparse() -> Vec<u8> {
    let mut v = b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80".to_vec();
    v.extend_from_slice(&[0x7f, 0xff]);
    v
}

#[test]
fn commands_and_replies() {
    let srv = Server::start(&[]);
    let mut r = srv.raw();
    assert_eq!(r.cmd(&["PFADD", "h", "a", "b", "c"]), b":1\r\n");
    assert_eq!(r.cmd(&["PFADD", "h", "a", "b"]), b":0\r\n");
    assert_eq!(r.cmd(&["PFADD", "h"]), b":0\r\n");
    assert_eq!(r.cmd(&["PFCOUNT", "h"]), b":3\r\n");
    assert_eq!(r.cmd(&["PFCOUNT", "nosuch"]), b":0\r\n");
    assert_eq!(r.cmd(&["PFCOUNT", "h", "nosuch"]), b":3\r\n");
    assert_eq!(r.cmd(&["PFADD", "empty"]), b":1\r\n");
    assert_eq!(get(&mut r, "empty"), empty_sparse());
    assert_eq!(r.cmd(&["PFCOUNT", "empty"]), b":0\r\n");
    assert_eq!(r.cmd(&["PFADD", "h2", "c", "d"]), b":1\r\n");
    assert_eq!(r.cmd(&["PFMERGE", "m", "h", "h2", "nosuch"]), b"+OK\r\n");
    assert_eq!(r.cmd(&["PFCOUNT", "m"]), b":4\r\n");
    assert_eq!(r.cmd(&["PFCOUNT", "h", "h2"]), b":4\r\n");
    assert_eq!(r.cmd(&["PFMERGE", "only"]), b"+OK\r\n");
    assert_eq!(get(&mut r, "only"), empty_sparse());
    assert_eq!(r.cmd(&["TYPE", "h"]), b"+string\r\n");
    assert_eq!(r.cmd(&["OBJECT", "ENCODING", "h"]), b"$3\r\nraw\r\n");
    // PFDEBUG
    assert_eq!(r.cmd(&["PFDEBUG", "ENCODING", "h"]), b"+sparse\r\n");
    let decode = s(&bulk(&r.cmd(&["PFDEBUG", "DECODE", "empty"])));
    assert_eq!(decode, "Z:16384");
    assert_eq!(r.cmd(&["PFDEBUG", "todense", "h"]), b":1\r\n");
    assert_eq!(r.cmd(&["PFDEBUG", "TODENSE", "h"]), b":0\r\n");
    assert_eq!(r.cmd(&["PFDEBUG", "ENCODING", "h"]), b"+dense\r\n");
    assert_eq!(r.cmd(&["STRLEN", "h"]), b":12304\r\n");
    assert_eq!(r.cmd(&["PFCOUNT", "h"]), b":3\r\n");
    assert_eq!(
        r.cmd(&["PFDEBUG", "DECODE", "h"]),
        b"-ERR HLL encoding is not sparse\r\n"
    );
    let regs = r.cmd(&["PFDEBUG", "GETREG", "h2"]);
    assert!(regs.starts_with(b"*16384\r\n"));
    assert_eq!(regs.windows(4).filter(|w| *w == b"\n:0\r").count(), 16382);
    assert_eq!(r.cmd(&["PFDEBUG", "ENCODING", "h2"]), b"+dense\r\n");
    assert_eq!(
        r.cmd(&["PFDEBUG", "nope", "h"]),
        b"-ERR Unknown PFDEBUG subcommand 'nope'\r\n"
    );
    assert_eq!(
        r.cmd(&["PFDEBUG", "nope", "nosuch"]),
        b"-ERR The specified key does not exist\r\n"
    );
    assert_eq!(r.cmd(&["PFSELFTEST"]), b"+OK\r\n");
}

#[test]
fn error_paths() {
    let srv = Server::start(&[]);
    let mut r = srv.raw();
    r.cmd(&["RPUSH", "list", "x"]);
    r.cmd(&["SET", "str", "not an hll at all"]);
    r.cmd(&["PFADD", "h", "a"]);
    for c in [
        &["PFADD", "list", "a"][..],
        &["PFCOUNT", "list"],
        &["PFCOUNT", "h", "list"],
        &["PFMERGE", "list", "h"],
        &["PFMERGE", "h", "list"],
        &["PFDEBUG", "GETREG", "list"],
    ] {
        assert_eq!(r.cmd(c), WRONGTYPE, "{c:?}");
    }
    for c in [
        &["PFADD", "str", "a"][..],
        &["PFCOUNT", "str"],
        &["PFCOUNT", "h", "str"],
        &["PFMERGE", "str", "h"],
        &["PFMERGE", "h", "str"],
        &["PFDEBUG", "ENCODING", "str"],
    ] {
        assert_eq!(r.cmd(c), HLL_WRONGTYPE, "{c:?}");
    }
    // A dense header on a value of the wrong length; an unknown encoding.
    set(&mut r, "short", b"HYLL\0\0\0\0\0\0\0\0\0\0\0\0\0");
    set(&mut r, "enc2", b"HYLL\x02\0\0\0\0\0\0\0\0\0\0\0\x7f\xff");
    assert_eq!(r.cmd(&["PFCOUNT", "short"]), HLL_WRONGTYPE);
    assert_eq!(r.cmd(&["PFADD", "enc2"]), HLL_WRONGTYPE);
    // Sparse opcodes covering 16383 registers, then 16385.
    let mut few = empty_sparse();
    few[17] = 0xfe;
    set(&mut r, "few", &few);
    let mut many = empty_sparse();
    many.push(0x00);
    set(&mut r, "many", &many);
    for k in ["few", "many"] {
        assert_eq!(r.cmd(&["PFCOUNT", k]), INVALID);
        assert_eq!(r.cmd(&["PFCOUNT", k, "h"]), INVALID);
        assert_eq!(r.cmd(&["PFMERGE", "dst", k]), INVALID);
        assert_eq!(r.cmd(&["PFDEBUG", "TODENSE", k]), INVALID);
        assert_eq!(r.cmd(&["PFDEBUG", "GETREG", k]), INVALID);
    }
    assert_eq!(r.cmd(&["EXISTS", "dst"]), b":0\r\n");
    for (c, n) in [
        ("pfadd", 1),
        ("pfcount", 1),
        ("pfmerge", 1),
        ("pfdebug", 2),
        ("pfselftest", 2),
    ] {
        let mut a = vec![c];
        a.extend(std::iter::repeat_n("x", n - 1));
        if c == "pfselftest" {
            a.push("x");
        }
        let want = format!("-ERR wrong number of arguments for '{c}' command\r\n");
        assert_eq!(s(&r.cmd(&a)), want, "{a:?}");
    }
}

/// The fixed error and edge cases, byte for byte against redis-server.
#[test]
fn fixed_cases_match_redis() {
    let Some(redis) = Server::redis() else { return };
    let ember = Server::start(&[]);
    let (mut e, mut r) = (ember.raw(), redis.raw());
    let mut few = empty_sparse();
    few[17] = 0xfe;
    let mut many = empty_sparse();
    many.push(0x00);
    let mut tail = empty_sparse();
    tail.push(0x80);
    let mut dense_big = b"HYLL\0\0\0\0\0\0\0\0\0\0\0\x80".to_vec();
    dense_big.extend(std::iter::repeat_n([0xb2u8, 0x2c, 0xcb], 4096).flatten());
    let mut dense_51 = b"HYLL\0\0\0\0\0\0\0\0\0\0\0\x80".to_vec();
    dense_51.extend(std::iter::repeat_n([0xf3u8, 0x3c, 0xcf], 4096).flatten());
    let mut dense_max = b"HYLL\0\0\0\0\0\0\0\0\0\0\0\x80".to_vec();
    dense_max.extend(std::iter::repeat_n(0xffu8, 12288));
    for (k, v) in [
        ("few", &few[..]),
        ("many", &many[..]),
        ("tail", &tail[..]),
        ("str", b"not an hll"),
        ("short", b"HYLL\0\0\0\0\0\0\0\0\0\0\0\0\0"),
        ("enc2", b"HYLL\x02\0\0\0\0\0\0\0\0\0\0\0\x7f\xff"),
        ("hdronly", b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80"),
        ("embstr", &empty_sparse()),
        ("d50", &dense_big),
        ("d51", &dense_51),
        ("d63", &dense_max),
    ] {
        both(&mut e, &mut r, &[b"SET", k.as_bytes(), v]);
    }
    both_str(&mut e, &mut r, &["RPUSH", "list", "x"]);
    let cases: &[&[&str]] = &[
        &["PFADD", "h", "a", "b", "c", "d"],
        &["PFADD", "list", "a"],
        &["PFADD", "str", "a"],
        &["PFADD", "few", "a"],
        &["PFADD", "few", "x", "y", "z", "w"],
        &["PFADD", "many", "a", "b"],
        &["PFADD", "hdronly", "a"],
        &["PFCOUNT", "few"],
        &["PFCOUNT", "tail"],
        &["PFCOUNT", "tail", "h"],
        &["PFMERGE", "tm", "tail"],
        &["PFDEBUG", "DECODE", "tail"],
        &["PFDEBUG", "TODENSE", "tail"],
        &["PFADD", "tail", "a"],
        &["PFCOUNT", "many"],
        &["PFCOUNT", "hdronly"],
        &["PFCOUNT", "h", "few"],
        &["PFCOUNT", "few", "list"],
        &["PFCOUNT", "list", "few"],
        &["PFCOUNT", "h", "str", "list"],
        &["PFCOUNT", "d50"],
        &["PFCOUNT", "d51"],
        &["PFCOUNT", "d51"],
        &["PFCOUNT", "d63"],
        &["PFCOUNT", "d50", "d63", "h"],
        &["PFCOUNT", "d51", "h"],
        &["PFMERGE", "dst", "h", "few"],
        &["PFMERGE", "dst", "list"],
        &["PFMERGE", "str", "h"],
        &["PFMERGE", "dst", "h", "d50"],
        &["PFMERGE", "dst2", "d63"],
        &["PFCOUNT", "dst2"],
        &["PFCOUNT", "short"],
        &["PFCOUNT", "enc2"],
        &["OBJECT", "ENCODING", "embstr"],
        &["PFCOUNT", "embstr"],
        &["OBJECT", "ENCODING", "embstr"],
        &["PFDEBUG", "GETREG", "nosuch"],
        &["PFDEBUG", "bad", "nosuch"],
        &["PFDEBUG", "bad", "str"],
        &["PFDEBUG", "bad", "h"],
        &["PFDEBUG", "DECODE", "few"],
        &["PFDEBUG", "DECODE", "many"],
        &["PFDEBUG", "DECODE", "hdronly"],
        &["PFDEBUG", "DECODE", "d50"],
        &["PFDEBUG", "ENCODING", "few"],
        &["PFDEBUG", "TODENSE", "few"],
        &["PFDEBUG", "GETREG", "many"],
        &["PFDEBUG", "ENCODING", "list"],
        &["PFDEBUG", "TODENSE", "h"],
        &["PFDEBUG", "TODENSE", "h"],
        &["PFDEBUG", "GETREG", "d51"],
        &["PFADD"],
        &["PFCOUNT"],
        &["PFMERGE"],
        &["PFDEBUG", "x"],
        &["PFDEBUG", "x", "y", "z"],
        &["PFSELFTEST", "x"],
        &["COMMAND", "GETKEYS", "PFMERGE", "d", "a", "b"],
        &["COMMAND", "GETKEYS", "PFDEBUG", "GETREG", "k"],
        &["CONFIG", "GET", "hll-sparse-max-bytes"],
    ];
    for c in cases {
        both_str(&mut e, &mut r, c);
    }
    // Binary subcommand names: CR/LF are blanked, a NUL ends the name.
    both(&mut e, &mut r, &[b"PFDEBUG", b"a\r\nb", b"h"]);
    both(&mut e, &mut r, &[b"PFDEBUG", b"encoding\0junk", b"h"]);
    for k in [
        "h", "few", "many", "tail", "tm", "dst", "dst2", "d51", "embstr", "hdronly",
    ] {
        both_str(&mut e, &mut r, &["GET", k]);
    }
}

/// Elements of a random stream: a shared universe, so sets overlap.
fn element(rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => format!("{}", rng.below(100)),
        1 => format!("e:{}", rng.below(20_000)),
        2 => "x".repeat(rng.below(40) as usize),
        _ => format!("{:x}", rng.next()),
    }
}

fn random_stream(e: &mut Raw, r: &mut Raw, seed: u64, steps: usize, big: u64) {
    let keys = ["h0", "h1", "h2", "h3"];
    let mut rng = Rng(seed);
    for _ in 0..steps {
        let k = rng.pick(&keys);
        let k2 = rng.pick(&keys);
        let k3 = rng.pick(&keys);
        match rng.below(12) {
            0..=5 => {
                let n = match rng.below(4) {
                    0 => 1,
                    1 => 1 + rng.below(5),
                    2 => 1 + rng.below(50),
                    _ => 1 + rng.below(big),
                };
                let els: Vec<String> = (0..n).map(|_| element(&mut rng)).collect();
                let mut a = vec!["PFADD", k];
                a.extend(els.iter().map(String::as_str));
                both_str(e, r, &a);
            }
            6 => {
                both_str(e, r, &["PFCOUNT", k]);
            }
            7 => {
                both_str(e, r, &["PFCOUNT", k, k2, k3]);
            }
            8 => {
                both_str(e, r, &["PFMERGE", k, k2, k3]);
            }
            9 => {
                both_str(e, r, &["PFDEBUG", "ENCODING", k]);
                both_str(e, r, &["PFDEBUG", "DECODE", k]);
            }
            10 if rng.below(20) == 0 => {
                both_str(e, r, &["DEL", k]);
            }
            _ => {
                both_str(e, r, &["GET", k]);
            }
        }
    }
    for k in keys {
        both_str(e, r, &["GET", k]);
        both_str(e, r, &["PFCOUNT", k]);
        both_str(e, r, &["GET", k]);
    }
}

#[test]
fn random_streams_match_redis() {
    let Some(redis) = Server::redis() else { return };
    let ember = Server::start(&[]);
    let (mut e, mut r) = (ember.raw(), redis.raw());
    // Default limit: sets grow past 3000 bytes and turn dense.
    for seed in [0x9e37_79b9_7f4a_7c15, 0xabcd_ef12] {
        both_str(&mut e, &mut r, &["FLUSHALL"]);
        random_stream(&mut e, &mut r, seed, 500, 300);
        let dense = s(&e.cmd(&["PFDEBUG", "ENCODING", "h0"]));
        assert!(dense.contains("dense"), "the stream crossed to dense");
    }
    // Small sets only, under a small limit (the directive is live).
    both_str(&mut e, &mut r, &["FLUSHALL"]);
    both_str(
        &mut e,
        &mut r,
        &["CONFIG", "SET", "hll-sparse-max-bytes", "120"],
    );
    random_stream(&mut e, &mut r, 0x2545_f491_4f6c_dd1d, 400, 20);
    both_str(&mut e, &mut r, &["FLUSHALL"]);
    both_str(
        &mut e,
        &mut r,
        &["CONFIG", "SET", "hll-sparse-max-bytes", "0"],
    );
    random_stream(&mut e, &mut r, 7, 100, 10);
}

/// Values built by one server, copied with GET/SET to the other, count the
/// same there, and keep growing to the same bytes.
#[test]
fn values_copied_between_servers_count_the_same() {
    let Some(redis) = Server::redis() else { return };
    let ember = Server::start(&[]);
    let (mut e, mut r) = (ember.raw(), redis.raw());
    let mut rng = Rng(0xfeed_beef);
    for (i, n) in [0usize, 1, 5, 50, 500, 1500, 4000, 20000]
        .into_iter()
        .enumerate()
    {
        let key = format!("c{i}");
        for from_redis in [true, false] {
            let (src, dst) = if from_redis {
                (&mut r, &mut e)
            } else {
                (&mut e, &mut r)
            };
            src.cmd(&["DEL", &key]);
            src.cmd(&["PFADD", &key]);
            let els: Vec<String> = (0..n).map(|_| format!("{:x}", rng.next())).collect();
            for chunk in els.chunks(500) {
                let mut a = vec!["PFADD", key.as_str()];
                a.extend(chunk.iter().map(String::as_str));
                src.cmd(&a);
            }
            let v = get(src, &key);
            set(dst, &key, &v);
            let (a, b) = (src.cmd(&["PFCOUNT", &key]), dst.cmd(&["PFCOUNT", &key]));
            assert_eq!(s(&a), s(&b), "{n} elements, from redis: {from_redis}");
            assert_eq!(get(src, &key), get(dst, &key), "the cached estimate");
            let more: Vec<String> = (0..100).map(|_| format!("m{}", rng.next())).collect();
            let mut a = vec!["PFADD", key.as_str()];
            a.extend(more.iter().map(String::as_str));
            assert_eq!(s(&src.cmd(&a)), s(&dst.cmd(&a)));
            assert_eq!(get(src, &key), get(dst, &key), "{n} elements then 100");
        }
    }
}

/// Walks a sparse body: whether its last opcode is an XZERO missing its
/// second byte (Redis then reads past the string's length, where a
/// change leaves a byte behind; that is not reproduced).
fn ends_in_cut_xzero(v: &[u8]) -> bool {
    let mut p = 16;
    while p < v.len() {
        if v[p] & 0xc0 == 0x40 {
            if p + 1 == v.len() {
                return true;
            }
            p += 2;
        } else {
            p += 1;
        }
    }
    false
}

/// Randomly damaged sparse values (and random dense registers) give the
/// same replies and leave the same bytes on both servers.
#[test]
fn damaged_values_fail_alike() {
    let Some(redis) = Server::redis() else { return };
    let ember = Server::start(&[]);
    let (mut e, mut r) = (ember.raw(), redis.raw());
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    let mut base = Vec::new();
    for n in [3usize, 30, 200, 600, 1500] {
        e.cmd(&["DEL", "b"]);
        let els: Vec<String> = (0..n).map(|i| format!("b{i}")).collect();
        let mut a = vec!["PFADD", "b"];
        a.extend(els.iter().map(String::as_str));
        e.cmd(&a);
        base.push(get(&mut e, "b"));
    }
    let mut compared = 0;
    while compared < 2000 {
        let mut v = base[rng.below(base.len() as u64) as usize].clone();
        for _ in 0..1 + rng.below(3) {
            match rng.below(5) {
                0 if v.len() > 16 => {
                    let at = 16 + rng.below((v.len() - 16) as u64) as usize;
                    v[at] = rng.next() as u8;
                }
                1 if v.len() > 17 => {
                    let at = 16 + rng.below((v.len() - 16) as u64) as usize;
                    v.remove(at);
                }
                2 => v.push(rng.next() as u8),
                3 => {
                    let at = 16 + rng.below((v.len() - 15) as u64) as usize;
                    v.insert(at, rng.next() as u8);
                }
                _ => v[15] = rng.next() as u8 & 0x80,
            }
        }
        if ends_in_cut_xzero(&v) {
            continue;
        }
        compared += 1;
        both(&mut e, &mut r, &[b"SET", b"c", &v]);
        both_str(&mut e, &mut r, &["DEL", "d"]);
        let el = format!("{}", rng.next());
        let many: Vec<String> = (0..50).map(|i| format!("{el}-{i}")).collect();
        let mut add_many = vec!["PFADD", "c"];
        add_many.extend(many.iter().map(String::as_str));
        let c: &[&str] = match rng.below(9) {
            0 => &["PFCOUNT", "c"],
            1 => &["PFCOUNT", "c", "nosuch"],
            2 => &["PFMERGE", "d", "c"],
            3 => &["PFADD", "c", "a", "b", &el, "x", "y", "z"],
            4 => &["PFDEBUG", "DECODE", "c"],
            5 => &["PFDEBUG", "TODENSE", "c"],
            6 => &add_many,
            7 => &["PFMERGE", "c", "c"],
            _ => &["PFADD", "c", &el],
        };
        both_str(&mut e, &mut r, c);
        if rng.below(3) == 0 {
            both_str(&mut e, &mut r, &["PFCOUNT", "c"]);
        }
        both_str(&mut e, &mut r, &["GET", "c"]);
        both_str(&mut e, &mut r, &["GET", "d"]);
    }
    // Dense values with random registers (up to 63) and stale caches.
    for _ in 0..30 {
        let mut v = b"HYLL\0\0\0\0\0\0\0\0\0\0\0\x80".to_vec();
        let top = 1 + rng.below(255) as u8;
        v.extend((0..12288).map(|_| (rng.next() as u8) % top));
        both(&mut e, &mut r, &[b"SET", b"c", &v]);
        both_str(&mut e, &mut r, &["PFCOUNT", "c"]);
        both_str(&mut e, &mut r, &["PFCOUNT", "c", "h"]);
        both_str(&mut e, &mut r, &["PFADD", "c", "q", "w"]);
        both_str(&mut e, &mut r, &["GET", "c"]);
    }
}

fn notifications(srv: &Server, cmds: &[&[&str]]) -> Vec<u8> {
    let mut c = srv.raw();
    c.cmd(&["FLUSHALL"]);
    c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
    let mut sub = srv.raw();
    sub.cmd(&["PSUBSCRIBE", "__key*__:*"]);
    for cmd in cmds {
        c.cmd(cmd);
    }
    c.cmd(&["SET", "zz-end", "1"]);
    let mut out = Vec::new();
    loop {
        let r = sub.reply();
        let done = s(&r).contains("__keyevent@0__:set\r\n$6\r\nzz-end");
        out.extend(r);
        if done {
            break;
        }
    }
    c.cmd(&["CONFIG", "SET", "notify-keyspace-events", ""]);
    out
}

/// Events, WATCH and the dirty counter: PFADD and PFMERGE publish `pfadd`;
/// PFCOUNT storing a fresh estimate publishes nothing but touches the key
/// (an EXEC watching it aborts) and counts one change, as PFDEBUG's
/// conversions count one.
#[test]
fn events_watch_and_dirty_match_redis() {
    let Some(redis) = Server::redis() else { return };
    let ember = Server::start(&[]);
    let cmds: &[&[&str]] = &[
        &["PFADD", "a", "x", "y"],
        &["PFADD", "a", "x"],
        &["PFADD", "b"],
        &["PFCOUNT", "a"],
        &["PFCOUNT", "a", "b"],
        &["PFMERGE", "m", "a", "b"],
        &["PFMERGE", "m"],
        &["PFDEBUG", "TODENSE", "a"],
        &["PFDEBUG", "GETREG", "b"],
        &["PFCOUNT", "nosuch"],
    ];
    assert_eq!(
        s(&notifications(&ember, cmds)),
        s(&notifications(&redis, cmds))
    );

    let (mut e, mut r) = (ember.raw(), redis.raw());
    let (mut e2, mut r2) = (ember.raw(), redis.raw());
    both_str(&mut e, &mut r, &["FLUSHALL"]);
    both_str(&mut e, &mut r, &["PFADD", "w", "a", "b"]);
    // With a stale cache, another client's PFCOUNT stores the estimate:
    // the key was touched and the EXEC watching it aborts.
    both_str(&mut e2, &mut r2, &["PFADD", "w", "c"]);
    both_str(&mut e, &mut r, &["WATCH", "w"]);
    both_str(&mut e2, &mut r2, &["PFCOUNT", "w"]);
    both_str(&mut e, &mut r, &["MULTI"]);
    both_str(&mut e, &mut r, &["PING"]);
    assert_eq!(both_str(&mut e, &mut r, &["EXEC"]), b"*-1\r\n");
    // With the estimate cached, it changes nothing.
    both_str(&mut e, &mut r, &["WATCH", "w"]);
    both_str(&mut e2, &mut r2, &["PFCOUNT", "w"]);
    both_str(&mut e, &mut r, &["MULTI"]);
    both_str(&mut e, &mut r, &["PING"]);
    assert_eq!(both_str(&mut e, &mut r, &["EXEC"]), b"*1\r\n+PONG\r\n");

    let dirty = |c: &mut Raw| -> i64 {
        let info = s(&c.cmd(&["INFO", "persistence"]));
        info.lines()
            .find_map(|l| l.strip_prefix("rdb_changes_since_last_save:"))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    both_str(&mut e, &mut r, &["PFADD", "d", "one"]);
    for c in [
        &["PFCOUNT", "d"][..],
        &["PFCOUNT", "d"],
        &["PFCOUNT", "d", "w"],
        &["PFDEBUG", "ENCODING", "d"],
        &["PFDEBUG", "TODENSE", "d"],
        &["PFDEBUG", "TODENSE", "d"],
        &["PFMERGE", "d"],
        &["PFADD", "d", "one"],
    ] {
        let (before_e, before_r) = (dirty(&mut e), dirty(&mut r));
        both_str(&mut e, &mut r, c);
        assert_eq!(
            dirty(&mut e) - before_e,
            dirty(&mut r) - before_r,
            "changes counted by {c:?}"
        );
    }
}

/// What the propagation stream carries: PFADD and PFMERGE as they are,
/// PFCOUNT only when it stored an estimate, PFDEBUG only when it converted.
#[test]
fn propagation_matches_redis() {
    let (port, stream, srv) = common::start_in_process(&[]);
    let mut c = Raw::connect(port);
    for a in [
        &["PFADD", "k", "a"][..],
        &["PFADD", "k", "a"],
        &["PFCOUNT", "k"],
        &["PFCOUNT", "k"],
        &["PFCOUNT", "k", "nosuch"],
        &["PFDEBUG", "ENCODING", "k"],
        &["PFDEBUG", "TODENSE", "k"],
        &["PFDEBUG", "TODENSE", "k"],
        &["PFDEBUG", "GETREG", "k"],
        &["PFMERGE", "m", "k"],
        &["PFCOUNT", "nosuch"],
    ] {
        c.cmd(a);
    }
    let mark = srv.stream.mark();
    let end = Instant::now() + Duration::from_secs(10);
    while !srv.stream.reached(mark) {
        assert!(Instant::now() < end, "stream did not catch up");
        std::thread::sleep(Duration::from_millis(1));
    }
    let got = std::mem::take(&mut *stream.lock());
    let want: Vec<u8> = [
        &[&b"SELECT"[..], b"0"][..],
        &[b"PFADD", b"k", b"a"],
        &[b"PFCOUNT", b"k"],
        &[b"PFDEBUG", b"TODENSE", b"k"],
        &[b"PFMERGE", b"m", b"k"],
    ]
    .iter()
    .flat_map(|a| encode(a))
    .collect();
    assert_eq!(s(&got), s(&want));
}

/// COMMAND INFO (arity, flags, keys, ACL categories, tips: key specs are
/// simplified in emberkv) and COMMAND DOCS' summary, since, group and
/// complexity, as redis-server's.
#[test]
fn command_rows_match_redis() {
    let Some(redis) = Server::redis() else { return };
    let ember = Server::start(&[]);
    let (mut a, mut b) = (ember.client(), redis.client());
    for name in ["pfadd", "pfcount", "pfmerge", "pfdebug", "pfselftest"] {
        let info = |c: &mut redis::Connection| -> Vec<redis::Value> {
            let v: redis::Value = q(c, &["COMMAND", "INFO", name]).unwrap();
            let redis::Value::Array(items) = v else {
                panic!("{v:?}")
            };
            let redis::Value::Array(row) = &items[0] else {
                panic!("{items:?}")
            };
            row[..8].to_vec()
        };
        assert_eq!(info(&mut a), info(&mut b), "COMMAND INFO {name}");
        let docs = |c: &mut redis::Connection| -> Vec<(String, redis::Value)> {
            let v: redis::Value = q(c, &["COMMAND", "DOCS", name]).unwrap();
            let redis::Value::Array(items) = v else {
                panic!("{v:?}")
            };
            let redis::Value::Array(fields) = &items[1] else {
                panic!("{items:?}")
            };
            fields
                .chunks(2)
                .filter_map(|kv| match &kv[0] {
                    redis::Value::BulkString(k)
                        if ["summary", "since", "group", "complexity"].contains(&s(k).as_str()) =>
                    {
                        Some((s(k), kv[1].clone()))
                    }
                    _ => None,
                })
                .collect()
        };
        assert_eq!(docs(&mut a), docs(&mut b), "COMMAND DOCS {name}");
    }
}
