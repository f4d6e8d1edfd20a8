//! String commands through the `redis` crate.

mod common;
use common::*;
use redis::Value;

#[test]
fn set_get_and_options() {
    let srv = Server::start(&[]);
    let mut c = srv.client();
    assert_eq!(q::<String>(&mut c, &["SET", "k", "v1"]).unwrap(), "OK");
    assert_eq!(q::<String>(&mut c, &["GET", "k"]).unwrap(), "v1");
    assert_eq!(
        q::<Option<String>>(&mut c, &["SET", "k", "x", "NX"]).unwrap(),
        None
    );
    assert_eq!(
        q::<Option<String>>(&mut c, &["SET", "new", "x", "XX"]).unwrap(),
        None
    );
    assert_eq!(
        q::<Option<String>>(&mut c, &["SET", "k", "v2", "XX", "GET"]).unwrap(),
        Some("v1".into())
    );
    assert_eq!(
        q::<Option<String>>(&mut c, &["SET", "fresh", "v", "NX", "GET"]).unwrap(),
        None
    );
    assert_eq!(q::<String>(&mut c, &["GET", "fresh"]).unwrap(), "v");
    assert_eq!(
        q::<String>(&mut c, &["SET", "t", "v", "EX", "100"]).unwrap(),
        "OK"
    );
    let ttl: i64 = q(&mut c, &["TTL", "t"]).unwrap();
    assert!((99..=100).contains(&ttl));
    q::<String>(&mut c, &["SET", "t", "w", "KEEPTTL"]).unwrap();
    assert!(q::<i64>(&mut c, &["TTL", "t"]).unwrap() > 0);
    q::<String>(&mut c, &["SET", "t", "w"]).unwrap();
    assert_eq!(q::<i64>(&mut c, &["TTL", "t"]).unwrap(), -1);
    q::<String>(&mut c, &["SET", "p", "v", "PX", "100000"]).unwrap();
    assert!(q::<i64>(&mut c, &["PTTL", "p"]).unwrap() > 99_000);
    let at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 1000;
    q::<String>(&mut c, &["SET", "e", "v", "EXAT", &at.to_string()]).unwrap();
    assert_eq!(q::<u64>(&mut c, &["EXPIRETIME", "e"]).unwrap(), at);
    q::<String>(&mut c, &["SET", "e", "v", "PXAT", &(at * 1000).to_string()]).unwrap();
    assert_eq!(q::<u64>(&mut c, &["PEXPIRETIME", "e"]).unwrap(), at * 1000);
    assert_eq!(
        err(&mut c, &["SET", "k", "v", "NX", "XX"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut c, &["SET", "k", "v", "EX", "10", "PX", "5"]),
        "ERR syntax error"
    );
    assert_eq!(err(&mut c, &["SET", "k", "v", "EX"]), "ERR syntax error");
    assert_eq!(
        err(&mut c, &["SET", "k", "v", "EX", "0"]),
        "ERR invalid expire time in 'set' command"
    );
    assert_eq!(
        err(&mut c, &["SET", "k", "v", "EX", "x"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err(&mut c, &["SET", "k", "v", "EX", "9223372036854775807"]),
        "ERR invalid expire time in 'set' command"
    );
    assert_eq!(
        err(&mut c, &["GET"]),
        "ERR wrong number of arguments for 'get' command"
    );
}

#[test]
fn setnx_setex_getset_getdel_getex() {
    let srv = Server::start(&[]);
    let mut c = srv.client();
    assert_eq!(q::<i64>(&mut c, &["SETNX", "a", "1"]).unwrap(), 1);
    assert_eq!(q::<i64>(&mut c, &["SETNX", "a", "2"]).unwrap(), 0);
    assert_eq!(
        q::<String>(&mut c, &["SETEX", "b", "100", "v"]).unwrap(),
        "OK"
    );
    assert!(q::<i64>(&mut c, &["TTL", "b"]).unwrap() > 98);
    assert_eq!(
        err(&mut c, &["SETEX", "b", "0", "v"]),
        "ERR invalid expire time in 'setex' command"
    );
    assert_eq!(
        err(&mut c, &["PSETEX", "b", "-5", "v"]),
        "ERR invalid expire time in 'psetex' command"
    );
    q::<String>(&mut c, &["PSETEX", "b", "100000", "v"]).unwrap();
    assert_eq!(
        q::<Option<String>>(&mut c, &["GETSET", "a", "9"]).unwrap(),
        Some("1".into())
    );
    assert_eq!(
        q::<Option<String>>(&mut c, &["GETSET", "nope", "9"]).unwrap(),
        None
    );
    assert_eq!(
        q::<Option<String>>(&mut c, &["GETDEL", "a"]).unwrap(),
        Some("9".into())
    );
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "a"]).unwrap(), 0);
    q::<String>(&mut c, &["SET", "g", "v"]).unwrap();
    assert_eq!(
        q::<String>(&mut c, &["GETEX", "g", "EX", "100"]).unwrap(),
        "v"
    );
    assert!(q::<i64>(&mut c, &["TTL", "g"]).unwrap() > 98);
    assert_eq!(
        q::<String>(&mut c, &["GETEX", "g", "PERSIST"]).unwrap(),
        "v"
    );
    assert_eq!(q::<i64>(&mut c, &["TTL", "g"]).unwrap(), -1);
    assert_eq!(
        err(&mut c, &["GETEX", "g", "EX", "1", "PERSIST"]),
        "ERR syntax error"
    );
    assert_eq!(
        q::<String>(&mut c, &["GETEX", "g", "PXAT", "1"]).unwrap(),
        "v"
    );
    assert_eq!(
        q::<i64>(&mut c, &["EXISTS", "g"]).unwrap(),
        0,
        "GETEX with a past time deletes"
    );
}

#[test]
fn mget_mset_msetnx() {
    let srv = Server::start(&[]);
    let mut c = srv.client();
    assert_eq!(
        q::<String>(&mut c, &["MSET", "a", "1", "b", "2", "c", "3"]).unwrap(),
        "OK"
    );
    let v: Vec<Option<String>> = q(&mut c, &["MGET", "a", "x", "c"]).unwrap();
    assert_eq!(v, vec![Some("1".into()), None, Some("3".into())]);
    assert_eq!(
        q::<i64>(&mut c, &["MSETNX", "c", "9", "d", "4"]).unwrap(),
        0
    );
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "d"]).unwrap(), 0);
    assert_eq!(
        q::<i64>(&mut c, &["MSETNX", "d", "4", "e", "5"]).unwrap(),
        1
    );
    assert_eq!(
        err(&mut c, &["MSET", "a", "1", "b"]),
        "ERR wrong number of arguments for 'mset' command"
    );
}

#[test]
fn append_strlen_ranges() {
    let srv = Server::start(&[]);
    let mut c = srv.client();
    assert_eq!(q::<i64>(&mut c, &["APPEND", "s", "Hello"]).unwrap(), 5);
    assert_eq!(q::<i64>(&mut c, &["APPEND", "s", " World"]).unwrap(), 11);
    assert_eq!(q::<i64>(&mut c, &["STRLEN", "s"]).unwrap(), 11);
    assert_eq!(q::<i64>(&mut c, &["STRLEN", "none"]).unwrap(), 0);
    assert_eq!(
        q::<String>(&mut c, &["GETRANGE", "s", "0", "4"]).unwrap(),
        "Hello"
    );
    assert_eq!(
        q::<String>(&mut c, &["GETRANGE", "s", "-5", "-1"]).unwrap(),
        "World"
    );
    assert_eq!(
        q::<String>(&mut c, &["SUBSTR", "s", "6", "100"]).unwrap(),
        "World"
    );
    assert_eq!(
        q::<String>(&mut c, &["GETRANGE", "s", "5", "2"]).unwrap(),
        ""
    );
    assert_eq!(
        q::<i64>(&mut c, &["SETRANGE", "s", "6", "Redis"]).unwrap(),
        11
    );
    assert_eq!(q::<String>(&mut c, &["GET", "s"]).unwrap(), "Hello Redis");
    assert_eq!(q::<i64>(&mut c, &["SETRANGE", "pad", "3", "x"]).unwrap(), 4);
    assert_eq!(q::<Vec<u8>>(&mut c, &["GET", "pad"]).unwrap(), b"\0\0\0x");
    assert_eq!(
        q::<i64>(&mut c, &["SETRANGE", "empty", "3", ""]).unwrap(),
        0
    );
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "empty"]).unwrap(), 0);
    assert_eq!(
        err(&mut c, &["SETRANGE", "s", "-1", "x"]),
        "ERR offset is out of range"
    );
    assert_eq!(
        err(&mut c, &["SETRANGE", "s", "536870911", "xx"]),
        "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
    );
}

#[test]
fn counters_and_errors() {
    let srv = Server::start(&[]);
    let mut c = srv.client();
    assert_eq!(q::<i64>(&mut c, &["INCR", "n"]).unwrap(), 1);
    assert_eq!(q::<i64>(&mut c, &["INCRBY", "n", "41"]).unwrap(), 42);
    assert_eq!(q::<i64>(&mut c, &["DECR", "n"]).unwrap(), 41);
    assert_eq!(q::<i64>(&mut c, &["DECRBY", "n", "50"]).unwrap(), -9);
    q::<String>(&mut c, &["SET", "max", "9223372036854775807"]).unwrap();
    assert_eq!(
        err(&mut c, &["INCR", "max"]),
        "ERR increment or decrement would overflow"
    );
    assert_eq!(
        err(&mut c, &["DECRBY", "n", "-9223372036854775808"]),
        "ERR decrement would overflow"
    );
    q::<String>(&mut c, &["SET", "s", "abc"]).unwrap();
    assert_eq!(
        err(&mut c, &["INCR", "s"]),
        "ERR value is not an integer or out of range"
    );
    q::<String>(&mut c, &["SET", "sp", " 1"]).unwrap();
    assert_eq!(
        err(&mut c, &["INCR", "sp"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err(&mut c, &["INCRBY", "n", "1.5"]),
        "ERR value is not an integer or out of range"
    );
    q::<String>(&mut c, &["SET", "ttl", "1", "EX", "100"]).unwrap();
    q::<i64>(&mut c, &["INCR", "ttl"]).unwrap();
    assert!(
        q::<i64>(&mut c, &["TTL", "ttl"]).unwrap() > 0,
        "INCR keeps the TTL"
    );
}

#[test]
fn incrbyfloat_formats_like_redis() {
    let srv = Server::start(&[]);
    let mut c = srv.client();
    assert_eq!(
        q::<String>(&mut c, &["INCRBYFLOAT", "f", "10.50"]).unwrap(),
        "10.5"
    );
    assert_eq!(
        q::<String>(&mut c, &["INCRBYFLOAT", "f", "0.1"]).unwrap(),
        "10.6"
    );
    q::<String>(&mut c, &["SET", "g", "0.1"]).unwrap();
    assert_eq!(
        q::<String>(&mut c, &["INCRBYFLOAT", "g", "0.2"]).unwrap(),
        "0.3"
    );
    assert_eq!(
        q::<String>(&mut c, &["INCRBYFLOAT", "g", "1000.1"]).unwrap(),
        "1000.39999999999999997"
    );
    q::<String>(&mut c, &["SET", "h", "5.0e3"]).unwrap();
    assert_eq!(
        q::<String>(&mut c, &["INCRBYFLOAT", "h", "2.0e2"]).unwrap(),
        "5200"
    );
    assert_eq!(
        err(&mut c, &["INCRBYFLOAT", "h", "abc"]),
        "ERR value is not a valid float"
    );
    assert_eq!(
        err(&mut c, &["INCRBYFLOAT", "h", "inf"]),
        "ERR increment would produce NaN or Infinity"
    );
    q::<String>(&mut c, &["SET", "bad", "1x"]).unwrap();
    assert_eq!(
        err(&mut c, &["INCRBYFLOAT", "bad", "1"]),
        "ERR value is not a valid float"
    );
}

#[test]
fn missing_keys_read_as_empty() {
    let srv = Server::start(&[]);
    let mut c = srv.client();
    assert_eq!(
        q::<String>(&mut c, &["GETRANGE", "missing", "0", "-1"]).unwrap(),
        ""
    );
    assert_eq!(
        q::<Option<String>>(&mut c, &["GET", "missing"]).unwrap(),
        None
    );
}

#[test]
fn lcs_variants() {
    let srv = Server::start(&[]);
    let mut c = srv.client();
    q::<String>(&mut c, &["MSET", "a", "ohmytext", "b", "mynewtext"]).unwrap();
    assert_eq!(q::<String>(&mut c, &["LCS", "a", "b"]).unwrap(), "mytext");
    assert_eq!(q::<i64>(&mut c, &["LCS", "a", "b", "LEN"]).unwrap(), 6);
    let v: Value = q(
        &mut c,
        &["LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"],
    )
    .unwrap();
    let dbg = format!("{v:?}");
    assert!(dbg.contains("int(4)") || dbg.contains("Int(4)"), "{dbg}");
    assert_eq!(
        err(&mut c, &["LCS", "a", "b", "LEN", "IDX"]),
        "ERR If you want both the length and indexes, please just use IDX."
    );
}

#[test]
fn large_values_round_trip() {
    let srv = Server::start(&[]);
    let mut c = srv.client();
    let big = "z".repeat(5 * 1024 * 1024);
    q::<String>(&mut c, &["SET", "big", &big]).unwrap();
    assert_eq!(q::<String>(&mut c, &["GET", "big"]).unwrap(), big);
    assert_eq!(
        q::<i64>(&mut c, &["APPEND", "big", "!"]).unwrap(),
        5 * 1024 * 1024 + 1
    );
}
