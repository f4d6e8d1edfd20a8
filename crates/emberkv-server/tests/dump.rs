//! DUMP / RESTORE through the front door: error replies byte for byte
//! against redis-server, payloads equal to Redis's bytes, and a bounded
//! fuzz of corrupt payloads that must never crash the server or leave a
//! half-built key.

mod common;
use common::*;
use redis::Value;
use std::time::{Duration, Instant};

fn dbg() -> [&'static str; 2] {
    ["--enable-debug-command", "yes"]
}

/// Error replies of DUMP/RESTORE, byte for byte against redis-server.
#[test]
fn dump_restore_replies_match_redis() {
    let Some(redis) = Server::redis() else { return };
    let ours = Server::start(&[]);
    let mut payload = None;
    for srv in [&redis, &ours] {
        let mut c = srv.client();
        let _: () = q(&mut c, &["RPUSH", "l", "a", "b"]).unwrap();
        let p: Vec<u8> = redis::cmd("DUMP").arg("l").query(&mut c).unwrap();
        payload.get_or_insert(p);
    }
    let p = payload.unwrap();
    let mut corrupt = p.clone();
    let n = corrupt.len();
    corrupt[n - 1] ^= 0xff;
    let mut newer = p.clone();
    newer[n - 10] = 11;
    // RESTORE key ttl payload [options...], and a few plain commands.
    let restore = |key: &str, ttl: &str, payload: &[u8], opts: &[&str]| -> Vec<Vec<u8>> {
        let mut v = vec![
            b"RESTORE".to_vec(),
            key.into(),
            ttl.into(),
            payload.to_vec(),
        ];
        v.extend(opts.iter().map(|o| o.as_bytes().to_vec()));
        v
    };
    let plain =
        |args: &[&str]| -> Vec<Vec<u8>> { args.iter().map(|a| a.as_bytes().to_vec()).collect() };
    let cases: Vec<Vec<Vec<u8>>> = vec![
        restore("l", "0", &p, &[]),
        restore("n", "-1", &p, &[]),
        restore("n", "x", &p, &[]),
        restore("n", "0", &corrupt, &[]),
        restore("n", "0", &newer, &[]),
        restore("n", "0", b"short", &[]),
        restore("n", "0", &p, &["BOGUS"]),
        restore("n", "0", &p, &["IDLETIME", "-1"]),
        restore("n", "0", &p, &["FREQ", "256"]),
        restore("n", "0", &p, &["IDLETIME", "5", "FREQ", "5"]),
        restore("l", "0", &p, &["REPLACE"]),
        restore("n2", "1", &p, &["ABSTTL"]),
        restore("n3", "100000", &p, &[]),
        plain(&["EXISTS", "n2"]),
        plain(&["LRANGE", "n3", "0", "-1"]),
        plain(&["DUMP", "missing"]),
        restore(
            "n",
            "0",
            b"\x00\x03abc\x0a\x00\xff\xff\xff\xff\xff\xff\xff\xff",
            &[],
        ),
    ];
    let mut r = redis.raw();
    let mut e = ours.raw();
    for case in &cases {
        let args: Vec<&[u8]> = case.iter().map(|a| &a[..]).collect();
        let msg = encode(&args);
        r.send(&msg);
        e.send(&msg);
        assert_eq!(
            s(&e.reply()),
            s(&r.reply()),
            "{:?}",
            String::from_utf8_lossy(&case[0])
        );
    }
}

/// Corrupt payloads (with a valid trailer, so the decoder sees them): the
/// server never crashes and never keeps a half-built key.
#[test]
fn restore_fuzz_never_crashes_or_leaves_half_keys() {
    let srv = Server::start(&dbg());
    let mut c = srv.client();
    let mut p = redis::pipe();
    for i in 0..200 {
        p.cmd("RPUSH").arg("l").arg(i);
        p.cmd("HSET").arg("h").arg(format!("f{i}")).arg(i);
        p.cmd("ZADD").arg("z").arg(i).arg(format!("m{i}"));
        p.cmd("SADD").arg("s").arg(format!("m{i}"));
        p.cmd("SADD").arg("si").arg(i);
        p.cmd("XADD").arg("x").arg("*").arg("f").arg(i);
    }
    p.cmd("XGROUP").arg(&["CREATE", "x", "g", "0"]);
    p.cmd("XREADGROUP")
        .arg(&["GROUP", "g", "c", "COUNT", "5", "STREAMS", "x", ">"]);
    p.cmd("SET")
        .arg("str")
        .arg("a fairly long string value that LZF can compress compress compress");
    p.cmd("HSET").arg("hs").arg(&["a", "1", "b", "2"]);
    p.cmd("ZADD").arg("zs").arg(&["1", "a", "2", "b"]);
    p.query::<()>(&mut c).unwrap();
    let mut payloads = Vec::new();
    for k in ["l", "h", "z", "s", "si", "x", "str", "hs", "zs"] {
        let d: Vec<u8> = redis::cmd("DUMP").arg(k).query(&mut c).unwrap();
        payloads.push(d);
    }
    let mut rng = Rng(42);
    let end = Instant::now() + Duration::from_secs(60);
    for i in 0..3000 {
        if Instant::now() > end {
            break;
        }
        let base = &payloads[i % payloads.len()];
        let mut b = base[..base.len() - 10].to_vec();
        match rng.below(4) {
            0 => {
                let at = rng.below(b.len() as u64) as usize;
                b[at] = rng.next() as u8;
            }
            1 => {
                let at = rng.below(b.len() as u64) as usize;
                b[at] ^= 1 << rng.below(8);
            }
            2 => {
                let cut = rng.below(b.len() as u64) as usize;
                b.truncate(cut.max(1));
            }
            _ => {
                for _ in 0..4 {
                    let at = rng.below(b.len() as u64) as usize;
                    b[at] = rng.next() as u8;
                }
            }
        }
        b.extend_from_slice(&10u16.to_le_bytes());
        let crc = emberkv_persist::rdb::Crc64::of(&b);
        b.extend_from_slice(&crc.to_le_bytes());
        let r: redis::RedisResult<Value> = redis::cmd("RESTORE")
            .arg("fz")
            .arg(0)
            .arg(&b)
            .arg("REPLACE")
            .query(&mut c);
        match r {
            Ok(_) => {
                // Accepted: the key must be whole and readable everywhere.
                let t: String = q(&mut c, &["TYPE", "fz"]).unwrap();
                let _: Value = q(&mut c, &["DEBUG", "DIGEST-VALUE", "fz"]).unwrap();
                let _: Vec<u8> = redis::cmd("DUMP").arg("fz").query(&mut c).unwrap();
                assert_ne!(t, "none");
                let _: () = q(&mut c, &["DEL", "fz"]).unwrap();
            }
            Err(e) => {
                let text = format!("{e}");
                assert!(text.contains("Bad data format"), "{text}");
                assert_eq!(q::<i64>(&mut c, &["EXISTS", "fz"]).unwrap(), 0);
            }
        }
    }
    assert_eq!(q::<String>(&mut c, &["PING"]).unwrap(), "PONG");
}

/// DUMP payloads are Redis's bytes for every encoding whose layout does
/// not depend on a hash table's order: strings (int, raw), quicklist and
/// listpack lists, listpack hashes and sorted sets (scores as d2string
/// writes them), intsets, skiplist sorted sets. Compression is off on
/// both: liblzf's output depends on its uninitialized table (what earlier
/// calls left on the stack), so only decompression is compatible, which
/// the cross-loading test covers.
#[test]
fn dump_payloads_are_redis_bytes() {
    let Some(redis) = Server::redis_with(&["--rdbcompression", "no"]) else {
        return;
    };
    let ours = Server::start(&["--rdbcompression", "no"]);
    let scores = [
        "1.5",
        "0.1",
        "-2.25",
        "1e-7",
        "12345678901234567",
        "3",
        "-0",
        "inf",
        "0.3",
    ];
    let mut payloads = Vec::new();
    for srv in [&redis, &ours] {
        let mut c = srv.client();
        let mut p = redis::pipe();
        p.cmd("SET").arg("s:int").arg("-12345").ignore();
        p.cmd("SET").arg("s:raw").arg("hello world").ignore();
        p.cmd("SET").arg("s:long").arg("abcd".repeat(100)).ignore();
        p.cmd("RPUSH")
            .arg("l")
            .arg(&["a", "1", "-70000", "", "zzz"])
            .ignore();
        for i in 0..500 {
            p.cmd("RPUSH")
                .arg("l:big")
                .arg(format!("element-{i}"))
                .ignore();
            p.cmd("SADD").arg("set:ints").arg(i * 7 - 1000).ignore();
            p.cmd("ZADD")
                .arg("z:big")
                .arg(i as f64 / 8.0)
                .arg(format!("m{i}"))
                .ignore();
        }
        for (i, s) in scores.iter().enumerate() {
            p.cmd("ZADD").arg("z").arg(s).arg(format!("m{i}")).ignore();
            p.cmd("HSET").arg("h").arg(format!("f{i}")).arg(s).ignore();
        }
        let _: () = p.query(&mut c).unwrap();
        let keys = [
            "s:int", "s:raw", "s:long", "l", "l:big", "set:ints", "z", "z:big", "h",
        ];
        let dumps: Vec<Vec<u8>> = keys
            .iter()
            .map(|k| redis::cmd("DUMP").arg(k).query(&mut c).unwrap())
            .collect();
        payloads.push((keys, dumps));
    }
    let (keys, want) = &payloads[0];
    for (i, k) in keys.iter().enumerate() {
        assert_eq!(payloads[1].1[i], want[i], "DUMP {k}");
    }
}
