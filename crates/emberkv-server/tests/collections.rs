//! Lists, hashes, sets and sorted sets through a real client: encodings and
//! their thresholds, random-member commands, scans, generic commands on the
//! new types, and big values freed in the background.

mod common;
use common::*;
use std::collections::{HashMap, HashSet};

fn enc(con: &mut redis::Connection, key: &str) -> String {
    q(con, &["OBJECT", "ENCODING", key]).unwrap()
}

#[test]
fn encodings_convert_at_the_configured_thresholds() {
    let srv = Server::start(&[]);
    let mut c = srv.client();
    // Lists: Redis 7.0 (the version emberkv claims) calls every list a
    // quicklist, small or large (the representation inside converts at
    // the thresholds; types/list.rs tests that).
    let _: i64 = q(&mut c, &["RPUSH", "l", "a", "b"]).unwrap();
    assert_eq!(enc(&mut c, "l"), "quicklist");
    let big = "x".repeat(1000);
    for _ in 0..10 {
        let _: i64 = q(&mut c, &["RPUSH", "l", &big]).unwrap();
    }
    assert_eq!(enc(&mut c, "l"), "quicklist");
    let _: () = q(&mut c, &["LTRIM", "l", "0", "2"]).unwrap();
    assert_eq!(enc(&mut c, "l"), "quicklist");
    let _: () = q(&mut c, &["CONFIG", "SET", "list-max-listpack-size", "3"]).unwrap();
    let _: i64 = q(&mut c, &["RPUSH", "l", "y"]).unwrap();
    assert_eq!(enc(&mut c, "l"), "quicklist");

    // Hashes: entries and value length.
    let _: () = q(&mut c, &["CONFIG", "SET", "hash-max-listpack-entries", "4"]).unwrap();
    let _: i64 = q(
        &mut c,
        &["HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4"],
    )
    .unwrap();
    assert_eq!(enc(&mut c, "h"), "listpack");
    let _: i64 = q(&mut c, &["HSET", "h", "e", "5"]).unwrap();
    assert_eq!(enc(&mut c, "h"), "hashtable");
    let _: i64 = q(&mut c, &["HSET", "h2", "f", &"v".repeat(64)]).unwrap();
    assert_eq!(enc(&mut c, "h2"), "listpack");
    let _: i64 = q(&mut c, &["HSET", "h2", "f", &"v".repeat(65)]).unwrap();
    assert_eq!(enc(&mut c, "h2"), "hashtable");
    let all: HashMap<String, String> = q(&mut c, &["HGETALL", "h"]).unwrap();
    assert_eq!(all.len(), 5);

    // Sets: intset, then (7.0's name for any set of strings) hashtable.
    let _: () = q(&mut c, &["CONFIG", "SET", "set-max-intset-entries", "3"]).unwrap();
    let _: () = q(&mut c, &["CONFIG", "SET", "set-max-listpack-entries", "5"]).unwrap();
    let _: i64 = q(&mut c, &["SADD", "s", "1", "2", "3"]).unwrap();
    assert_eq!(enc(&mut c, "s"), "intset");
    let _: i64 = q(&mut c, &["SADD", "s", "4"]).unwrap();
    assert_eq!(enc(&mut c, "s"), "hashtable");
    let _: i64 = q(&mut c, &["SADD", "s2", "1", "2"]).unwrap();
    assert_eq!(enc(&mut c, "s2"), "intset");
    let _: i64 = q(&mut c, &["SADD", "s2", "x"]).unwrap();
    assert_eq!(enc(&mut c, "s2"), "hashtable");
    let _: i64 = q(&mut c, &["SADD", "s2", "y", "z", "w"]).unwrap();
    assert_eq!(enc(&mut c, "s2"), "hashtable");
    let m: HashSet<String> = q(&mut c, &["SMEMBERS", "s2"]).unwrap();
    assert_eq!(m.len(), 6);

    // Sorted sets: entries and member length.
    let _: () = q(&mut c, &["CONFIG", "SET", "zset-max-listpack-entries", "3"]).unwrap();
    let _: i64 = q(&mut c, &["ZADD", "z", "3", "c", "1", "a", "2", "b"]).unwrap();
    assert_eq!(enc(&mut c, "z"), "listpack");
    let _: i64 = q(&mut c, &["ZADD", "z", "0", "zero"]).unwrap();
    assert_eq!(enc(&mut c, "z"), "skiplist");
    let r: Vec<String> = q(&mut c, &["ZRANGE", "z", "0", "-1"]).unwrap();
    assert_eq!(r, ["zero", "a", "b", "c"]);
    let long = "m".repeat(65);
    let _: i64 = q(&mut c, &["ZADD", "z2", "1", &long]).unwrap();
    assert_eq!(enc(&mut c, "z2"), "skiplist");

    // The directives read back, including Redis's ziplist aliases.
    let v: Vec<String> = q(&mut c, &["CONFIG", "GET", "zset-max-ziplist-entries"]).unwrap();
    assert_eq!(v, ["zset-max-ziplist-entries", "3"]);
}

#[test]
fn large_sorted_set_ranks_and_ranges() {
    let srv = Server::start(&[]);
    let mut c = srv.client();
    let n = 20_000;
    let mut pipe = redis::pipe();
    for i in 0..n {
        pipe.cmd("ZADD")
            .arg("big")
            .arg(i % 1000)
            .arg(format!("m{i:05}"))
            .ignore();
    }
    let _: () = pipe.query(&mut c).unwrap();
    assert_eq!(enc(&mut c, "big"), "skiplist");
    assert_eq!(q::<i64>(&mut c, &["ZCARD", "big"]).unwrap(), n);
    // Members with score s are m{s}, m{s+1000}, ...: 20 each, in member order.
    assert_eq!(q::<i64>(&mut c, &["ZRANK", "big", "m00000"]).unwrap(), 0);
    assert_eq!(q::<i64>(&mut c, &["ZRANK", "big", "m01000"]).unwrap(), 1);
    assert_eq!(q::<i64>(&mut c, &["ZRANK", "big", "m00001"]).unwrap(), 20);
    assert_eq!(q::<i64>(&mut c, &["ZREVRANK", "big", "m19999"]).unwrap(), 0);
    assert_eq!(
        q::<i64>(&mut c, &["ZCOUNT", "big", "10", "(20"]).unwrap(),
        200
    );
    let r: Vec<String> = q(
        &mut c,
        &["ZRANGEBYSCORE", "big", "(998", "+inf", "LIMIT", "0", "3"],
    )
    .unwrap();
    assert_eq!(r, ["m00999", "m01999", "m02999"]);
    let r: Vec<String> = q(
        &mut c,
        &[
            "ZRANGE", "big", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", "1", "2",
        ],
    )
    .unwrap();
    assert_eq!(r, ["m18999", "m17999"]);
    let removed: i64 = q(&mut c, &["ZREMRANGEBYSCORE", "big", "0", "(500"]).unwrap();
    assert_eq!(removed, 10_000);
    assert_eq!(q::<i64>(&mut c, &["ZRANK", "big", "m00500"]).unwrap(), 0);
    let popped: Vec<String> = q(&mut c, &["ZPOPMAX", "big", "2"]).unwrap();
    assert_eq!(popped, ["m19999", "999", "m18999", "999"]);
    let sc: f64 = q(&mut c, &["ZINCRBY", "big", "-1000", "m00999"]).unwrap();
    assert_eq!(sc, -1.0);
    assert_eq!(q::<i64>(&mut c, &["ZRANK", "big", "m00999"]).unwrap(), 0);
}

#[test]
fn random_member_commands_respect_counts() {
    let srv = Server::start(&[]);
    let mut c = srv.client();
    for (key, big) in [("small", 5), ("large", 300)] {
        for i in 0..big {
            let m = format!("m{i}");
            let _: i64 = q(&mut c, &["SADD", &format!("s{key}"), &m]).unwrap();
            let _: i64 = q(&mut c, &["HSET", &format!("h{key}"), &m, "v"]).unwrap();
            let _: i64 = q(&mut c, &["ZADD", &format!("z{key}"), &i.to_string(), &m]).unwrap();
        }
        let n = big as usize;
        for (cmd, k) in [
            ("SRANDMEMBER", "s"),
            ("HRANDFIELD", "h"),
            ("ZRANDMEMBER", "z"),
        ] {
            let k = format!("{k}{key}");
            let one: String = q(&mut c, &[cmd, &k]).unwrap();
            assert!(one.starts_with('m'));
            let v: Vec<String> = q(&mut c, &[cmd, &k, "3"]).unwrap();
            assert_eq!(v.len(), 3.min(n));
            assert_eq!(v.iter().collect::<HashSet<_>>().len(), v.len(), "distinct");
            let v: Vec<String> = q(&mut c, &[cmd, &k, &(n + 10).to_string()]).unwrap();
            assert_eq!(v.len(), n);
            let v: Vec<String> = q(&mut c, &[cmd, &k, "-20"]).unwrap();
            assert_eq!(v.len(), 20, "negative count repeats");
        }
        let v: Vec<String> = q(
            &mut c,
            &["HRANDFIELD", &format!("h{key}"), "2", "WITHVALUES"],
        )
        .unwrap();
        assert_eq!(v.len(), 4);
        let v: Vec<String> = q(
            &mut c,
            &["ZRANDMEMBER", &format!("z{key}"), "-2", "WITHSCORES"],
        )
        .unwrap();
        assert_eq!(v.len(), 4);
        let popped: Vec<String> = q(&mut c, &["SPOP", &format!("s{key}"), "4"]).unwrap();
        assert_eq!(popped.len(), 4.min(n));
        let left: i64 = q(&mut c, &["SCARD", &format!("s{key}")]).unwrap();
        assert_eq!(left as usize, n - 4.min(n));
    }
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "ssmall"]).unwrap(), 1);
    let _: Vec<String> = q(&mut c, &["SPOP", "ssmall", "10"]).unwrap();
    assert_eq!(
        q::<i64>(&mut c, &["EXISTS", "ssmall"]).unwrap(),
        0,
        "emptied set is deleted"
    );
    for (cmd, k) in [
        ("SRANDMEMBER", "slarge"),
        ("HRANDFIELD", "hlarge"),
        ("ZRANDMEMBER", "zlarge"),
    ] {
        assert!(
            err(&mut c, &[cmd, k, "-99999999999"]).contains("out of range"),
            "{cmd}"
        );
    }
}

#[test]
fn scans_return_every_member_of_large_collections() {
    let srv = Server::start(&[]);
    let mut c = srv.client();
    let n = 5000;
    let mut pipe = redis::pipe();
    for i in 0..n {
        pipe.cmd("HSET")
            .arg("h")
            .arg(format!("f{i}"))
            .arg(i)
            .ignore();
        pipe.cmd("SADD").arg("s").arg(format!("m{i}")).ignore();
        pipe.cmd("ZADD")
            .arg("z")
            .arg(i)
            .arg(format!("m{i}"))
            .ignore();
    }
    let _: () = pipe.query(&mut c).unwrap();
    for (cmd, key, step) in [("HSCAN", "h", 2), ("SSCAN", "s", 1), ("ZSCAN", "z", 2)] {
        let mut seen = HashSet::new();
        let mut cursor = "0".to_string();
        let mut rounds = 0;
        loop {
            let (next, items): (String, Vec<String>) =
                q(&mut c, &[cmd, key, &cursor, "COUNT", "100"]).unwrap();
            for it in items.iter().step_by(step) {
                seen.insert(it.clone());
            }
            // Grow the collection while scanning: no original member may be
            // missed (Redis's SCAN guarantee).
            if rounds < 50 {
                let extra = format!("extra{rounds}");
                let _: redis::Value = match cmd {
                    "HSCAN" => q(&mut c, &["HSET", key, &extra, "1"]).unwrap(),
                    "SSCAN" => q(&mut c, &["SADD", key, &extra]).unwrap(),
                    _ => q(&mut c, &["ZADD", key, "1", &extra]).unwrap(),
                };
            }
            rounds += 1;
            assert!(rounds < 10_000);
            cursor = next;
            if cursor == "0" {
                break;
            }
        }
        let prefix = if cmd == "HSCAN" { "f" } else { "m" };
        for i in 0..n {
            assert!(seen.contains(&format!("{prefix}{i}")), "{cmd} missed {i}");
        }
    }
    let (next, items): (String, Vec<String>) = q(
        &mut c,
        &["HSCAN", "h", "0", "MATCH", "f1?", "COUNT", "100000"],
    )
    .unwrap();
    assert_eq!(next, "0");
    assert_eq!(items.len(), 20);
}

#[test]
fn generic_commands_work_on_collections() {
    let srv = Server::start(&[]);
    let mut c = srv.client();
    let _: i64 = q(&mut c, &["RPUSH", "l", "a", "b"]).unwrap();
    let _: i64 = q(&mut c, &["HSET", "h", "f", "v"]).unwrap();
    let _: i64 = q(&mut c, &["SADD", "s", "x"]).unwrap();
    let _: i64 = q(&mut c, &["ZADD", "z", "1", "m"]).unwrap();
    for (k, t) in [("l", "list"), ("h", "hash"), ("s", "set"), ("z", "zset")] {
        assert_eq!(q::<String>(&mut c, &["TYPE", k]).unwrap(), t);
        let (_, keys): (String, Vec<String>) =
            q(&mut c, &["SCAN", "0", "TYPE", t, "COUNT", "1000"]).unwrap();
        assert_eq!(keys, [k]);
        // Every family answers WRONGTYPE on the others.
        assert!(err(&mut c, &["GET", k]).starts_with("WRONGTYPE"));
    }
    assert!(err(&mut c, &["LPUSH", "h", "x"]).starts_with("WRONGTYPE"));
    assert!(err(&mut c, &["HGET", "l", "x"]).starts_with("WRONGTYPE"));
    assert!(err(&mut c, &["SADD", "z", "x"]).starts_with("WRONGTYPE"));
    assert!(err(&mut c, &["ZADD", "s", "1", "x"]).starts_with("WRONGTYPE"));
    // COPY is deep: changing the copy leaves the source alone.
    for k in ["l", "h", "s", "z"] {
        let _: i64 = q(&mut c, &["COPY", k, &format!("{k}2")]).unwrap();
    }
    let _: i64 = q(&mut c, &["RPUSH", "l2", "c"]).unwrap();
    let _: i64 = q(&mut c, &["HSET", "h2", "g", "w"]).unwrap();
    assert_eq!(q::<i64>(&mut c, &["LLEN", "l"]).unwrap(), 2);
    assert_eq!(q::<i64>(&mut c, &["HLEN", "h"]).unwrap(), 1);
    // RENAME and MOVE carry the value; EXPIRE applies.
    let _: () = q(&mut c, &["RENAME", "z2", "z3"]).unwrap();
    assert_eq!(q::<f64>(&mut c, &["ZSCORE", "z3", "m"]).unwrap(), 1.0);
    let _: i64 = q(&mut c, &["MOVE", "s2", "1"]).unwrap();
    let _: i64 = q(&mut c, &["PEXPIRE", "h2", "50"]).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(120));
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "h2"]).unwrap(), 0);
    let _: () = q(&mut c, &["SELECT", "1"]).unwrap();
    assert_eq!(q::<String>(&mut c, &["TYPE", "s2"]).unwrap(), "set");
}

#[test]
fn big_values_are_freed_in_the_background() {
    let srv = Server::start(&[]);
    let mut c = srv.client();
    for key in ["h", "z", "s", "l"] {
        let mut pipe = redis::pipe();
        for i in 0..2000 {
            let batch: Vec<String> = (0..50).map(|j| format!("m{}", i * 50 + j)).collect();
            let mut cmd = match key {
                "h" => redis::cmd("HSET"),
                "z" => redis::cmd("ZADD"),
                "s" => redis::cmd("SADD"),
                _ => redis::cmd("RPUSH"),
            };
            cmd.arg(key);
            for m in &batch {
                if key == "z" {
                    cmd.arg(1);
                }
                cmd.arg(m);
                if key == "h" {
                    cmd.arg("v");
                }
            }
            pipe.add_command(cmd).ignore();
        }
        let _: () = pipe.query(&mut c).unwrap();
    }
    let before: i64 = q(&mut c, &["DBSIZE"]).unwrap();
    assert_eq!(before, 4);
    let n: i64 = q(&mut c, &["UNLINK", "h", "z"]).unwrap();
    assert_eq!(n, 2);
    let n: i64 = q(&mut c, &["DEL", "s", "l"]).unwrap();
    assert_eq!(n, 2);
    let info: String = q(&mut c, &["INFO", "stats"]).unwrap();
    let freed = (0..100).any(|_| {
        let info: String = q(&mut c, &["INFO", "stats"]).unwrap();
        if info.contains("lazyfreed_objects:4") {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        false
    });
    assert!(freed, "{info}");
}

#[test]
fn resp3_shapes_of_collection_replies() {
    let srv = Server::start(&[]);
    let mut r = srv.raw();
    r.cmd(&["HELLO", "3"]);
    r.cmd(&["HSET", "h", "f", "v"]);
    assert_eq!(s(&r.cmd(&["HGETALL", "h"])), "%1\r\n$1\r\nf\r\n$1\r\nv\r\n");
    r.cmd(&["SADD", "s", "1"]);
    assert_eq!(s(&r.cmd(&["SMEMBERS", "s"])), "~1\r\n$1\r\n1\r\n");
    r.cmd(&["ZADD", "z", "1.5", "a"]);
    assert_eq!(s(&r.cmd(&["ZSCORE", "z", "a"])), ",1.5\r\n");
    assert_eq!(
        s(&r.cmd(&["ZRANGE", "z", "0", "-1", "WITHSCORES"])),
        "*1\r\n*2\r\n$1\r\na\r\n,1.5\r\n"
    );
    assert_eq!(
        s(&r.cmd(&["ZRANK", "z", "a", "WITHSCORE"])),
        "*2\r\n:0\r\n,1.5\r\n"
    );
    assert_eq!(s(&r.cmd(&["LPOP", "nolist", "2"])), "_\r\n");
}
