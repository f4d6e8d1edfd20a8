//! Key commands, expiry, SCAN, databases.

mod common;
use common::*;
use std::collections::HashSet;
use std::time::{Duration, Instant};

#[test]
fn del_exists_type_touch_unlink() {
    let srv = Server::start(&[]);
    let mut c = srv.client();
    q::<String>(&mut c, &["MSET", "a", "1", "b", "2"]).unwrap();
    assert_eq!(
        q::<i64>(&mut c, &["EXISTS", "a", "a", "b", "x"]).unwrap(),
        3
    );
    assert_eq!(q::<String>(&mut c, &["TYPE", "a"]).unwrap(), "string");
    assert_eq!(q::<String>(&mut c, &["TYPE", "x"]).unwrap(), "none");
    assert_eq!(q::<i64>(&mut c, &["TOUCH", "a", "x"]).unwrap(), 1);
    assert_eq!(q::<i64>(&mut c, &["DEL", "a", "x"]).unwrap(), 1);
    assert_eq!(q::<i64>(&mut c, &["UNLINK", "b"]).unwrap(), 1);
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]).unwrap(), 0);
}

#[test]
fn rename_copy_move() {
    let srv = Server::start(&[]);
    let mut c = srv.client();
    q::<String>(&mut c, &["SET", "src", "v", "EX", "100"]).unwrap();
    assert_eq!(
        q::<String>(&mut c, &["RENAME", "src", "dst"]).unwrap(),
        "OK"
    );
    assert!(
        q::<i64>(&mut c, &["TTL", "dst"]).unwrap() > 0,
        "RENAME keeps the TTL"
    );
    assert_eq!(err(&mut c, &["RENAME", "src", "x"]), "ERR no such key");
    q::<String>(&mut c, &["SET", "other", "o"]).unwrap();
    assert_eq!(q::<i64>(&mut c, &["RENAMENX", "dst", "other"]).unwrap(), 0);
    assert_eq!(q::<i64>(&mut c, &["RENAMENX", "dst", "fresh"]).unwrap(), 1);
    assert_eq!(
        q::<String>(&mut c, &["RENAME", "fresh", "fresh"]).unwrap(),
        "OK"
    );
    assert_eq!(q::<i64>(&mut c, &["COPY", "fresh", "cp"]).unwrap(), 1);
    assert_eq!(q::<i64>(&mut c, &["COPY", "fresh", "cp"]).unwrap(), 0);
    assert_eq!(
        q::<i64>(&mut c, &["COPY", "other", "cp", "REPLACE"]).unwrap(),
        1
    );
    assert_eq!(q::<String>(&mut c, &["GET", "cp"]).unwrap(), "o");
    assert_eq!(
        q::<i64>(&mut c, &["COPY", "cp", "cp", "DB", "3"]).unwrap(),
        1
    );
    assert_eq!(
        err(&mut c, &["COPY", "cp", "cp"]),
        "ERR source and destination objects are the same"
    );
    assert_eq!(
        err(&mut c, &["COPY", "cp", "z", "DB", "99"]),
        "ERR DB index is out of range"
    );
    assert_eq!(q::<i64>(&mut c, &["MOVE", "cp", "1"]).unwrap(), 1);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "cp"]).unwrap(), 0);
    assert_eq!(
        err(&mut c, &["MOVE", "other", "0"]),
        "ERR source and destination objects are the same"
    );
    q::<String>(&mut c, &["SELECT", "1"]).unwrap();
    assert_eq!(q::<String>(&mut c, &["GET", "cp"]).unwrap(), "o");
    q::<String>(&mut c, &["SELECT", "3"]).unwrap();
    assert_eq!(q::<String>(&mut c, &["GET", "cp"]).unwrap(), "o");
}

#[test]
fn expire_family_and_options() {
    let srv = Server::start(&[]);
    let mut c = srv.client();
    q::<String>(&mut c, &["SET", "k", "v"]).unwrap();
    assert_eq!(q::<i64>(&mut c, &["TTL", "k"]).unwrap(), -1);
    assert_eq!(q::<i64>(&mut c, &["TTL", "nokey"]).unwrap(), -2);
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "k", "100", "XX"]).unwrap(), 0);
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "k", "100", "GT"]).unwrap(), 0);
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "k", "100", "NX"]).unwrap(), 1);
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "k", "50", "NX"]).unwrap(), 0);
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "k", "50", "GT"]).unwrap(), 0);
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "k", "200", "GT"]).unwrap(), 1);
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "k", "300", "LT"]).unwrap(), 0);
    assert_eq!(
        q::<i64>(&mut c, &["PEXPIRE", "k", "150000", "LT"]).unwrap(),
        1
    );
    let pttl: i64 = q(&mut c, &["PTTL", "k"]).unwrap();
    assert!(pttl > 140_000 && pttl <= 150_000);
    assert_eq!(q::<i64>(&mut c, &["PERSIST", "k"]).unwrap(), 1);
    assert_eq!(q::<i64>(&mut c, &["PERSIST", "k"]).unwrap(), 0);
    assert_eq!(q::<i64>(&mut c, &["EXPIRETIME", "k"]).unwrap(), -1);
    let at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 500;
    assert_eq!(
        q::<i64>(&mut c, &["EXPIREAT", "k", &at.to_string()]).unwrap(),
        1
    );
    assert_eq!(q::<u64>(&mut c, &["EXPIRETIME", "k"]).unwrap(), at);
    assert_eq!(
        q::<i64>(&mut c, &["PEXPIREAT", "k", &(at * 1000 + 5).to_string()]).unwrap(),
        1
    );
    assert_eq!(
        q::<u64>(&mut c, &["PEXPIRETIME", "k"]).unwrap(),
        at * 1000 + 5
    );
    assert_eq!(
        q::<i64>(&mut c, &["EXPIRE", "k", "-1"]).unwrap(),
        1,
        "a past time deletes"
    );
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "k"]).unwrap(), 0);
    q::<String>(&mut c, &["SET", "k", "v"]).unwrap();
    assert_eq!(
        err(&mut c, &["EXPIRE", "k", "10", "NX", "XX"]),
        "ERR NX and XX, GT or LT options at the same time are not compatible"
    );
    assert_eq!(
        err(&mut c, &["EXPIRE", "k", "10", "GT", "LT"]),
        "ERR GT and LT options at the same time are not compatible"
    );
    assert_eq!(
        err(&mut c, &["EXPIRE", "k", "10", "FOO"]),
        "ERR Unsupported option FOO"
    );
    assert_eq!(
        err(&mut c, &["EXPIRE", "k", "9223372036854775807"]),
        "ERR invalid expire time in 'expire' command"
    );
    assert_eq!(
        err(&mut c, &["EXPIRE", "k", "x"]),
        "ERR value is not an integer or out of range"
    );
}

/// Waits (bounded) until `f` holds.
fn eventually(mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + Duration::from_secs(5);
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn lazy_expiry_hides_expired_keys() {
    let srv = Server::start(&["--hz", "1"]);
    let mut c = srv.client();
    q::<String>(&mut c, &["SET", "short", "v", "PX", "30"]).unwrap();
    std::thread::sleep(Duration::from_millis(60));
    assert_eq!(
        q::<Option<String>>(&mut c, &["GET", "short"]).unwrap(),
        None
    );
    assert_eq!(q::<i64>(&mut c, &["TTL", "short"]).unwrap(), -2);
}

#[test]
fn active_expiry_reclaims_keys_nobody_reads() {
    let srv = Server::start(&["--hz", "100"]);
    let mut c = srv.client();
    let mut pipe = redis::pipe();
    for i in 0..5000 {
        pipe.cmd("SET")
            .arg(format!("e{i}"))
            .arg("v")
            .arg("PX")
            .arg(50)
            .ignore();
    }
    for i in 0..100 {
        pipe.cmd("SET").arg(format!("keep{i}")).arg("v").ignore();
    }
    pipe.query::<()>(&mut c).unwrap();
    // Nobody touches the expiring keys: DBSIZE counts them until the
    // active cycle removes them.
    assert!(
        eventually(|| q::<i64>(&mut c, &["DBSIZE"]).unwrap() == 100),
        "active expiry did not run"
    );
    let info: String = q(&mut c, &["INFO", "stats"]).unwrap();
    assert!(info.contains("expired_keys:5000"), "{info}");
}

#[test]
fn keys_patterns() {
    let srv = Server::start(&[]);
    let mut c = srv.client();
    q::<String>(
        &mut c,
        &[
            "MSET", "hello", "1", "hallo", "1", "hxllo", "1", "hllo", "1", "heeeello", "1",
        ],
    )
    .unwrap();
    let mut k: Vec<String> = q(&mut c, &["KEYS", "h?llo"]).unwrap();
    k.sort();
    assert_eq!(k, vec!["hallo", "hello", "hxllo"]);
    let mut k: Vec<String> = q(&mut c, &["KEYS", "h[ae]llo"]).unwrap();
    k.sort();
    assert_eq!(k, vec!["hallo", "hello"]);
    let k: Vec<String> = q(&mut c, &["KEYS", "h[^e]llo"]).unwrap();
    assert_eq!(k.len(), 2);
    let k: Vec<String> = q(&mut c, &["KEYS", "h*llo"]).unwrap();
    assert_eq!(k.len(), 5);
}

#[test]
fn scan_returns_every_key_while_the_table_grows() {
    let srv = Server::start(&[]);
    let mut c = srv.client();
    let mut pipe = redis::pipe();
    for i in 0..20_000 {
        pipe.cmd("SET").arg(format!("s{i}")).arg("v").ignore();
    }
    pipe.query::<()>(&mut c).unwrap();
    let mut seen = HashSet::new();
    let mut cursor: u64 = 0;
    let mut extra = 0;
    let mut calls = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("COUNT")
            .arg(100)
            .query(&mut c)
            .unwrap();
        seen.extend(keys);
        // Grow the keyspace during the scan.
        let mut p = redis::pipe();
        for _ in 0..50 {
            p.cmd("SET").arg(format!("grow{extra}")).arg("v").ignore();
            extra += 1;
        }
        p.query::<()>(&mut c).unwrap();
        cursor = next;
        calls += 1;
        assert!(calls < 10_000);
        if cursor == 0 {
            break;
        }
    }
    for i in 0..20_000 {
        assert!(seen.contains(&format!("s{i}")), "SCAN missed s{i}");
    }
}

#[test]
fn scan_match_type_count_and_errors() {
    let srv = Server::start(&[]);
    let mut c = srv.client();
    for i in 0..200 {
        q::<String>(&mut c, &["SET", &format!("user:{i}"), "v"]).unwrap();
        q::<String>(&mut c, &["SET", &format!("item:{i}"), "v"]).unwrap();
    }
    let mut cursor = 0u64;
    let mut got = HashSet::new();
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg("user:*")
            .arg("TYPE")
            .arg("string")
            .query(&mut c)
            .unwrap();
        got.extend(keys);
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    assert_eq!(got.len(), 200);
    assert!(got.iter().all(|k| k.starts_with("user:")));
    let (_, keys): (u64, Vec<String>) = redis::cmd("SCAN")
        .arg(0)
        .arg("TYPE")
        .arg("list")
        .query(&mut c)
        .unwrap();
    assert!(keys.is_empty());
    assert_eq!(err(&mut c, &["SCAN", "abc"]), "ERR invalid cursor");
    assert_eq!(
        err(&mut c, &["SCAN", "0", "COUNT", "0"]),
        "ERR syntax error"
    );
    assert_eq!(err(&mut c, &["SCAN", "0", "FOO", "1"]), "ERR syntax error");
}

#[test]
fn randomkey_dbsize_select_swapdb_flush() {
    let srv = Server::start(&[]);
    let mut c = srv.client();
    assert_eq!(q::<Option<String>>(&mut c, &["RANDOMKEY"]).unwrap(), None);
    q::<String>(&mut c, &["MSET", "a", "1", "b", "2"]).unwrap();
    let r: String = q(&mut c, &["RANDOMKEY"]).unwrap();
    assert!(r == "a" || r == "b");
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]).unwrap(), 2);
    assert_eq!(
        err(&mut c, &["SELECT", "16"]),
        "ERR DB index is out of range"
    );
    assert_eq!(
        err(&mut c, &["SELECT", "x"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(q::<String>(&mut c, &["SWAPDB", "0", "5"]).unwrap(), "OK");
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]).unwrap(), 0);
    q::<String>(&mut c, &["SELECT", "5"]).unwrap();
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]).unwrap(), 2);
    assert_eq!(
        err(&mut c, &["SWAPDB", "x", "1"]),
        "ERR invalid first DB index"
    );
    assert_eq!(
        err(&mut c, &["SWAPDB", "1", "99"]),
        "ERR DB index is out of range"
    );
    assert_eq!(q::<String>(&mut c, &["FLUSHDB"]).unwrap(), "OK");
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]).unwrap(), 0);
    q::<String>(&mut c, &["SET", "x", "1"]).unwrap();
    q::<String>(&mut c, &["SELECT", "0"]).unwrap();
    q::<String>(&mut c, &["SET", "y", "1"]).unwrap();
    assert_eq!(q::<String>(&mut c, &["FLUSHALL", "ASYNC"]).unwrap(), "OK");
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]).unwrap(), 0);
    q::<String>(&mut c, &["SELECT", "5"]).unwrap();
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]).unwrap(), 0);
    assert_eq!(err(&mut c, &["FLUSHALL", "LATER"]), "ERR syntax error");
}

#[test]
fn object_subcommands() {
    let srv = Server::start(&[]);
    let mut c = srv.client();
    q::<String>(
        &mut c,
        &["MSET", "i", "12345", "e", "short", "r", &"x".repeat(45)],
    )
    .unwrap();
    assert_eq!(
        q::<String>(&mut c, &["OBJECT", "ENCODING", "i"]).unwrap(),
        "int"
    );
    assert_eq!(
        q::<String>(&mut c, &["OBJECT", "ENCODING", "e"]).unwrap(),
        "embstr"
    );
    assert_eq!(
        q::<String>(&mut c, &["OBJECT", "ENCODING", "r"]).unwrap(),
        "raw"
    );
    q::<i64>(&mut c, &["APPEND", "e", "x"]).unwrap();
    assert_eq!(
        q::<String>(&mut c, &["OBJECT", "ENCODING", "e"]).unwrap(),
        "raw"
    );
    assert_eq!(
        q::<Option<String>>(&mut c, &["OBJECT", "ENCODING", "missing"]).unwrap(),
        None
    );
    assert_eq!(q::<i64>(&mut c, &["OBJECT", "IDLETIME", "i"]).unwrap(), 0);
    assert_eq!(q::<i64>(&mut c, &["OBJECT", "REFCOUNT", "e"]).unwrap(), 1);
    assert!(err(&mut c, &["OBJECT", "FREQ", "i"])
        .starts_with("ERR An LFU maxmemory policy is not selected"));
    assert_eq!(
        err(&mut c, &["OBJECT", "FOO", "i"]),
        "ERR unknown subcommand 'FOO'. Try OBJECT HELP."
    );
    let help: Vec<String> = q(&mut c, &["OBJECT", "HELP"]).unwrap();
    assert!(help[0].starts_with("OBJECT <subcommand>"));
}

/// MEMORY USAGE answers for every type (bytes, growing with the value),
/// nil for a missing key, and refuses bad options in Redis's order.
#[test]
fn memory_usage_answers_for_every_type() {
    let srv = Server::start(&[]);
    let mut c = srv.raw();
    assert_eq!(c.cmd(&["MEMORY", "USAGE", "nokey"]), b"$-1\r\n");
    assert_eq!(
        s(&c.cmd(&["MEMORY", "USAGE", "nokey", "SAMPLES", "x"])),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        s(&c.cmd(&["MEMORY", "USAGE", "nokey", "SAMPLES", "-1"])),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        s(&c.cmd(&["MEMORY", "USAGE", "nokey", "FOO"])),
        "-ERR syntax error\r\n"
    );
    let int = |r: Vec<u8>| -> i64 {
        let t = s(&r);
        assert!(t.starts_with(':'), "{t}");
        t[1..t.len() - 2].parse().unwrap()
    };
    c.cmd(&["SET", "str", "hello"]);
    let small = int(c.cmd(&["MEMORY", "USAGE", "str"]));
    assert!(small > 5, "{small}");
    let big = "x".repeat(10_000);
    c.cmd(&["SET", "str", &big]);
    let n = int(c.cmd(&["MEMORY", "USAGE", "str"]));
    assert!((10_000..42_000).contains(&n), "{n}");
    for (small, big) in [
        (vec!["RPUSH", "l", "a"], "RPUSH"),
        (vec!["HSET", "h", "f", "v"], "HSET"),
        (vec!["SADD", "s", "m"], "SADD"),
        (vec!["ZADD", "z", "1", "m"], "ZADD"),
        (vec!["XADD", "x", "*", "f", "v"], "XADD"),
    ] {
        c.cmd(&small);
        let key = small[1];
        let before = int(c.cmd(&["MEMORY", "USAGE", key]));
        // Grow well past the compact encodings.
        for i in 0..2000 {
            let i = i.to_string();
            let args: Vec<&str> = match big {
                "RPUSH" | "SADD" => vec![big, key, &i],
                "HSET" => vec![big, key, &i, &i],
                "ZADD" => vec![big, key, &i, &i],
                _ => vec![big, key, "*", "f", &i],
            };
            c.cmd(&args);
        }
        let after = int(c.cmd(&["MEMORY", "USAGE", key, "SAMPLES", "0"]));
        assert!(after > before + 2000, "{key}: {before} -> {after}");
        let sampled = int(c.cmd(&["MEMORY", "USAGE", key]));
        assert!(sampled > before, "{key}: {sampled}");
    }
    assert_eq!(c.cmd(&["MEMORY", "PURGE"]), b"+OK\r\n");
    assert!(s(&c.cmd(&["MEMORY", "HELP"])).contains("USAGE <key> [SAMPLES <count>]"));
}
