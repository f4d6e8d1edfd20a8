//! DEBUG against a real redis-server 7.0.15: DIGEST and DIGEST-VALUE give
//! byte-identical replies for the same dataset (every type, compact and
//! large encodings, TTLs, several databases), `enable-debug-command`
//! refuses DEBUG with Redis's text and at Redis's point in the checks, and
//! the other subcommands (SLEEP, SET-ACTIVE-EXPIRE, HELP, LOG, errors)
//! answer as Redis does.

mod common;
use common::*;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

/// emberkv and Redis, both with `extra` arguments.
fn pair(extra: &[&str]) -> Option<(Server, Server)> {
    let redis = Server::redis_with(extra)?;
    Some((Server::start(extra), redis))
}

const DEBUG_ON: &[&str] = &["--enable-debug-command", "yes"];

/// One request with arbitrary bytes, its raw reply.
fn cmd_bytes(r: &mut Raw, args: &[&[u8]]) -> Vec<u8> {
    r.send(&encode(args));
    r.reply()
}

/// Sends `args` to both servers; the replies must be identical.
fn both(a: &mut Raw, b: &mut Raw, args: &[&[u8]]) -> Vec<u8> {
    let (x, y) = (cmd_bytes(a, args), cmd_bytes(b, args));
    let shown: Vec<String> = args.iter().take(4).map(|a| s(a)).collect();
    assert_eq!(s(&x), s(&y), "reply to {shown:?}");
    x
}

fn both_str(a: &mut Raw, b: &mut Raw, args: &[&str]) -> Vec<u8> {
    let v: Vec<&[u8]> = args.iter().map(|x| x.as_bytes()).collect();
    both(a, b, &v)
}

const ZERO: &str = "+0000000000000000000000000000000000000000\r\n";

/// Requests that build one dataset: every type in its compact and its
/// large encoding, integer-looking strings, special scores, TTLs, and
/// several databases (the same key names in more than one).
fn dataset() -> Vec<Vec<Vec<u8>>> {
    let mut v: Vec<Vec<Vec<u8>>> = Vec::new();
    let mut add = |args: Vec<Vec<u8>>| v.push(args);
    let w = |s: &[&str]| s.iter().map(|x| x.as_bytes().to_vec()).collect::<Vec<_>>();
    let many = |head: &[&str], items: Vec<String>| {
        let mut a: Vec<Vec<u8>> = head.iter().map(|x| x.as_bytes().to_vec()).collect();
        a.extend(items.into_iter().map(String::into_bytes));
        a
    };

    // Strings: int-encoded ones, ones that only look like numbers, binary.
    for (k, val) in [
        ("str:plain", "hello"),
        ("str:int", "12345"),
        ("str:neg", "-42"),
        ("str:zero", "0"),
        ("str:huge", "123456789012345678901234567890"),
        ("str:lead0", "007"),
        ("str:float", "3.14"),
        ("str:empty", ""),
    ] {
        add(w(&["SET", k, val]));
    }
    add(vec![
        b"SET".to_vec(),
        b"str:bin".to_vec(),
        b"\x00\xff\r\nA\x00".to_vec(),
    ]);
    add(w(&["SET", "str:long", &"x".repeat(10_000)]));
    for _ in 0..3 {
        add(w(&["INCR", "str:counter"]));
    }
    add(w(&["INCRBYFLOAT", "str:fl", "1.5"]));
    add(w(&["INCRBYFLOAT", "str:fl", "0.1"]));
    add(w(&["APPEND", "str:app", "abc"]));
    add(w(&["APPEND", "str:app", "123"]));
    add(w(&["SETRANGE", "str:range", "5", "hi"]));

    // Lists: listpack and quicklist, integers and strings, order matters.
    add(w(&[
        "RPUSH",
        "list:small",
        "a",
        "b",
        "1",
        "2",
        "-3",
        "",
        "9999999999999999999",
    ]));
    add(w(&["LPUSH", "list:small", "front"]));
    add(many(
        &["RPUSH", "list:big"],
        (0..1000)
            .map(|i| {
                if i % 3 == 0 {
                    i.to_string()
                } else {
                    format!("e{i}")
                }
            })
            .collect(),
    ));
    add(many(
        &["RPUSH", "list:long"],
        (0..300).map(|i| format!("{i:0>100}")).collect(),
    ));
    add(w(&["RPUSH", "list:rev", "c", "b", "a"]));
    add(w(&["RPUSH", "list:fwd", "a", "b", "c"]));

    // Sets: intset, small strings, large (hashtable) of ints and strings,
    // one grown large and shrunk back (keeps its large encoding in Redis).
    add(w(&[
        "SADD",
        "set:int",
        "1",
        "2",
        "3",
        "-5",
        "9223372036854775807",
        "-9223372036854775808",
    ]));
    add(w(&["SADD", "set:str", "a", "b", "c", "10", ""]));
    add(many(
        &["SADD", "set:bigint"],
        (0..1000).map(|i| (i * 7 - 300).to_string()).collect(),
    ));
    add(many(
        &["SADD", "set:bigstr"],
        (0..200).map(|i| format!("m{i}")).collect(),
    ));
    add(many(
        &["SADD", "set:shrunk"],
        (0..600).map(|i| i.to_string()).collect(),
    ));
    add(many(
        &["SREM", "set:shrunk"],
        (3..600).map(|i| i.to_string()).collect(),
    ));
    add(w(&["SADD", "set:direct", "2", "0", "1"]));

    // Hashes: listpack and hashtable, integer values, long values.
    add(w(&[
        "HSET",
        "hash:small",
        "f1",
        "1",
        "f2",
        "-2",
        "f3",
        "hello",
        "",
        "empty",
    ]));
    add(w(&["HINCRBY", "hash:small", "n", "5"]));
    add(w(&["HINCRBYFLOAT", "hash:small", "fl", "2.5"]));
    add(many(
        &["HSET", "hash:big"],
        (0..600)
            .flat_map(|i| [format!("f{i}"), i.to_string()])
            .collect(),
    ));
    add(w(&["HSET", "hash:long", "f", &"v".repeat(100)]));
    add(many(
        &["HSET", "hash:shrunk"],
        (0..600)
            .flat_map(|i| [format!("f{i}"), i.to_string()])
            .collect(),
    ));
    add(many(
        &["HDEL", "hash:shrunk"],
        (2..600).map(|i| format!("f{i}")).collect(),
    ));
    add(w(&["HSET", "hash:direct", "f1", "1", "f0", "0"]));

    // Sorted sets: scores printed with 17 digits, infinities, -0, tiny and
    // huge; listpack and skiplist.
    add(w(&[
        "ZADD",
        "zset:small",
        "1.1",
        "a",
        "-2.5",
        "b",
        "inf",
        "c",
        "-inf",
        "d",
        "0",
        "e",
        "1e300",
        "f",
        "5e-324",
        "g",
        "123456789012",
        "h",
        "-0",
        "j",
        "1",
        "10",
        "2",
        "-7",
    ]));
    add(w(&["ZINCRBY", "zset:small", "0.1", "a"]));
    add(w(&["ZINCRBY", "zset:small", "0.2", "a"]));
    add(w(&["ZADD", "zset:small", "0", "zero"]));
    add(w(&["ZADD", "zset:small", "-0", "zero"]));
    add(many(
        &["ZADD", "zset:big"],
        (0..200)
            .flat_map(|i| [format!("{}", i as f64 * 0.7 - 50.0), format!("m{i}")])
            .collect(),
    ));
    add(w(&["ZADD", "zset:long", "1", &"m".repeat(100), "2.5", "x"]));
    add(many(
        &["ZADD", "zset:shrunk"],
        (0..200)
            .flat_map(|i| [i.to_string(), format!("m{i}")])
            .collect(),
    ));
    add(w(&["ZREMRANGEBYRANK", "zset:shrunk", "2", "-1"]));
    add(w(&["ZADD", "zset:direct", "1", "m1", "0", "m0"]));

    // TTLs: only their presence counts.
    add(w(&["SET", "ttl:str", "v", "EX", "10000"]));
    add(w(&["HSET", "ttl:hash", "a", "1"]));
    add(w(&["EXPIRE", "ttl:hash", "10000"]));
    add(w(&["ZADD", "ttl:zset", "1", "a"]));
    add(w(&["PEXPIREAT", "ttl:zset", "99999999999999"]));
    add(w(&["RPUSH", "ttl:list", "a"]));
    add(w(&["EXPIRE", "ttl:list", "10000"]));
    add(w(&["SADD", "ttl:set", "1"]));
    add(w(&["EXPIRE", "ttl:set", "10000"]));
    add(w(&["SET", "ttl:persisted", "v", "EX", "100"]));
    add(w(&["PERSIST", "ttl:persisted"]));

    // Other databases, some with the same key names as database 0.
    add(w(&["SELECT", "1"]));
    add(w(&["SET", "str:plain", "other"]));
    add(w(&["RPUSH", "list:small", "z"]));
    add(w(&["SET", "ttl:str", "v", "PX", "100000000"]));
    add(w(&["SELECT", "5"]));
    add(w(&["HSET", "h", "a", "b"]));
    add(w(&["SADD", "s", "x"]));
    add(w(&["SELECT", "15"]));
    add(w(&["SET", "last", "1"]));
    add(w(&["SELECT", "0"]));
    v
}

/// Keys of database 0 whose values are compared one by one.
const DB0_KEYS: &[&str] = &[
    "str:plain",
    "str:int",
    "str:neg",
    "str:zero",
    "str:huge",
    "str:lead0",
    "str:float",
    "str:empty",
    "str:bin",
    "str:long",
    "str:counter",
    "str:fl",
    "str:app",
    "str:range",
    "list:small",
    "list:big",
    "list:long",
    "list:rev",
    "list:fwd",
    "set:int",
    "set:str",
    "set:bigint",
    "set:bigstr",
    "set:shrunk",
    "set:direct",
    "hash:small",
    "hash:big",
    "hash:long",
    "hash:shrunk",
    "hash:direct",
    "zset:small",
    "zset:big",
    "zset:long",
    "zset:shrunk",
    "zset:direct",
    "ttl:str",
    "ttl:hash",
    "ttl:zset",
    "ttl:list",
    "ttl:set",
    "ttl:persisted",
    "missing",
];

/// The digest lines of a DEBUG DIGEST-VALUE reply.
fn digests(reply: &[u8]) -> Vec<String> {
    s(reply)
        .split("\r\n")
        .filter_map(|l| l.strip_prefix('+').map(str::to_string))
        .collect()
}

#[test]
fn digest_matches_redis_for_every_type_and_encoding() {
    let Some((ember, redis)) = pair(DEBUG_ON) else {
        return;
    };
    let (mut a, mut b) = (ember.raw(), redis.raw());
    for args in dataset() {
        let v: Vec<&[u8]> = args.iter().map(|x| &x[..]).collect();
        both(&mut a, &mut b, &v);
    }
    // The encodings are the ones meant (as Redis 7.0 names them).
    for (k, enc) in [
        ("str:int", "int"),
        ("str:plain", "embstr"),
        ("str:long", "raw"),
        ("set:int", "intset"),
        ("set:bigint", "hashtable"),
        ("hash:small", "listpack"),
        ("hash:big", "hashtable"),
        ("hash:long", "hashtable"),
        ("zset:small", "listpack"),
        ("zset:big", "skiplist"),
        ("zset:long", "skiplist"),
    ] {
        let got = both_str(&mut a, &mut b, &["OBJECT", "ENCODING", k]);
        assert_eq!(s(&got), format!("${}\r\n{enc}\r\n", enc.len()), "{k}");
    }

    let digest = both_str(&mut a, &mut b, &["DEBUG", "DIGEST"]);
    assert_ne!(s(&digest), ZERO);
    assert_eq!(digest.len(), 43, "{}", s(&digest));

    let mut args = vec!["DEBUG", "DIGEST-VALUE"];
    args.extend_from_slice(DB0_KEYS);
    let values = digests(&both_str(&mut a, &mut b, &args));
    assert_eq!(values.len(), DB0_KEYS.len());
    let of = |k: &str| &values[DB0_KEYS.iter().position(|x| *x == k).unwrap()];
    assert_eq!(of("missing"), &"0".repeat(40));
    assert_ne!(of("str:plain"), &"0".repeat(40));
    // Order counts in a list, not in a set or hash; the encoding never.
    assert_ne!(of("list:rev"), of("list:fwd"));
    assert_eq!(of("set:shrunk"), of("set:direct"));
    assert_eq!(of("hash:shrunk"), of("hash:direct"));
    assert_eq!(of("zset:shrunk"), of("zset:direct"));
    // Only the presence of a TTL is folded in.
    assert_ne!(of("ttl:str"), of("ttl:persisted"));

    for db in ["1", "5", "15"] {
        both_str(&mut a, &mut b, &["SELECT", db]);
        both_str(
            &mut a,
            &mut b,
            &[
                "DEBUG",
                "DIGEST-VALUE",
                "str:plain",
                "list:small",
                "ttl:str",
                "h",
                "s",
                "last",
                "missing",
            ],
        );
    }
    // DIGEST covers every database whichever one the client has selected.
    assert_eq!(both_str(&mut a, &mut b, &["DEBUG", "DIGEST"]), digest);

    // The same data in another database gives another digest.
    both_str(&mut a, &mut b, &["SELECT", "0"]);
    both_str(&mut a, &mut b, &["MOVE", "str:plain", "7"]);
    let moved = both_str(&mut a, &mut b, &["DEBUG", "DIGEST"]);
    assert_ne!(moved, digest);
    // A change anywhere changes it; undoing the change restores it.
    both_str(&mut a, &mut b, &["SELECT", "7"]);
    both_str(&mut a, &mut b, &["MOVE", "str:plain", "0"]);
    assert_eq!(both_str(&mut a, &mut b, &["DEBUG", "DIGEST"]), digest);
    both_str(&mut a, &mut b, &["SELECT", "0"]);
    both_str(&mut a, &mut b, &["LSET", "list:big", "500", "changed"]);
    assert_ne!(both_str(&mut a, &mut b, &["DEBUG", "DIGEST"]), digest);
}

#[test]
fn empty_dataset_digest_is_zeros() {
    let Some((ember, redis)) = pair(DEBUG_ON) else {
        return;
    };
    let (mut a, mut b) = (ember.raw(), redis.raw());
    assert_eq!(s(&both_str(&mut a, &mut b, &["DEBUG", "DIGEST"])), ZERO);
    both_str(&mut a, &mut b, &["SET", "k", "v"]);
    assert_ne!(s(&both_str(&mut a, &mut b, &["DEBUG", "DIGEST"])), ZERO);
    both_str(&mut a, &mut b, &["FLUSHALL"]);
    assert_eq!(s(&both_str(&mut a, &mut b, &["DEBUG", "DIGEST"])), ZERO);
    // No keys: an empty array.
    assert_eq!(
        both_str(&mut a, &mut b, &["DEBUG", "DIGEST-VALUE"]),
        b"*0\r\n"
    );
    // RESP3 changes nothing in these replies.
    // (HELLO's reply differs: the client ids.)
    a.cmd(&["HELLO", "3"]);
    b.cmd(&["HELLO", "3"]);
    both_str(&mut a, &mut b, &["SET", "k", "v"]);
    both_str(&mut a, &mut b, &["DEBUG", "DIGEST-VALUE", "k", "nokey"]);
    both_str(&mut a, &mut b, &["DEBUG", "DIGEST"]);
}

#[test]
fn refused_by_default_as_redis_refuses() {
    let Some(redis) = Server::redis() else { return };
    let ember = Server::start(&[]);
    let (mut a, mut b) = (ember.raw(), redis.raw());
    let refused = both_str(&mut a, &mut b, &["DEBUG", "DIGEST"]);
    assert!(
        s(&refused).starts_with("-ERR DEBUG command not allowed."),
        "{}",
        s(&refused)
    );
    // Arity is checked first; unknown subcommands are refused as a whole.
    both_str(&mut a, &mut b, &["DEBUG"]);
    assert_eq!(both_str(&mut a, &mut b, &["DEBUG", "nosuch"]), refused);
    assert_eq!(both_str(&mut a, &mut b, &["debug", "sleep", "1"]), refused);
    // Inside MULTI the refusal dooms the transaction.
    both_str(&mut a, &mut b, &["MULTI"]);
    both_str(&mut a, &mut b, &["DEBUG", "DIGEST"]);
    both_str(&mut a, &mut b, &["EXEC"]);
    let line = |r: &mut Raw| {
        s(&r.cmd(&["INFO", "commandstats"]))
            .lines()
            .find(|l| l.starts_with("cmdstat_debug:"))
            .map(str::to_string)
    };
    let mine = line(&mut a).expect("cmdstat_debug");
    let theirs = line(&mut b).expect("cmdstat_debug");
    // usec is 0 for both: nothing ran.
    assert_eq!(mine, theirs);
    // Scripts are refused DEBUG for being scripts, first. (Not counted
    // above: Redis counts a script's refused call as rejected, emberkv's
    // script engine does not count it yet.)
    both_str(
        &mut a,
        &mut b,
        &["EVAL", "return redis.call('debug','digest')", "0"],
    );
}

#[test]
fn refused_before_authentication() {
    let Some((ember, redis)) = pair(&["--requirepass", "pw"]) else {
        return;
    };
    let (mut a, mut b) = (ember.raw(), redis.raw());
    let r = both_str(&mut a, &mut b, &["DEBUG", "DIGEST"]);
    assert!(s(&r).starts_with("-ERR DEBUG command not allowed."));
    both_str(&mut a, &mut b, &["DEBUG"]);
    both_str(&mut a, &mut b, &["GET", "k"]);
}

/// One request on any stream, its raw reply.
fn exchange<S: Read + Write>(st: &mut S, args: &[&str]) -> Vec<u8> {
    let v: Vec<&[u8]> = args.iter().map(|x| x.as_bytes()).collect();
    st.write_all(&encode(&v)).unwrap();
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    loop {
        if let Some(n) = (!buf.is_empty()).then(|| reply_len(&buf)).flatten() {
            buf.truncate(n);
            return buf;
        }
        let n = st.read(&mut tmp).unwrap();
        assert!(n > 0, "connection closed");
        buf.extend_from_slice(&tmp[..n]);
    }
}

/// A TCP connection to 127.0.0.1:`port` from the source address `from`.
fn connect_from(from: &str, port: u16) -> std::net::TcpStream {
    use socket2::{Domain, SockAddr, Socket, Type};
    let sock = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    let src: std::net::SocketAddr = format!("{from}:0").parse().unwrap();
    sock.bind(&SockAddr::from(src)).unwrap();
    let dst: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    sock.connect(&SockAddr::from(dst)).unwrap();
    let st: std::net::TcpStream = sock.into();
    st.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    st
}

#[test]
fn local_allows_loopback_and_unix_socket_only() {
    let dir = TempDir::new("debug-local");
    let (pa, pb) = (dir.path("ember.sock"), dir.path("redis.sock"));
    // protected-mode off: Redis's would refuse 127.0.0.2 before DEBUG's
    // own check (emberkv has no protected mode yet).
    let Some(redis) = Server::redis_with(&[
        "--protected-mode",
        "no",
        "--enable-debug-command",
        "local",
        "--unixsocket",
        &pb,
        "--unixsocketperm",
        "700",
    ]) else {
        return;
    };
    let ember = Server::start(&[
        "--enable-debug-command",
        "local",
        "--unixsocket",
        &pa,
        "--unixsocketperm",
        "700",
    ]);
    let digest = ["DEBUG", "DIGEST"];
    // 127.0.0.1 is local.
    let (mut a, mut b) = (ember.raw(), redis.raw());
    assert_eq!(s(&both_str(&mut a, &mut b, &digest)), ZERO);
    // Another loopback address is not: Redis compares the peer's address
    // with "127.0.0.1" and "::1".
    let mut a2 = connect_from("127.0.0.2", ember.port);
    let mut b2 = connect_from("127.0.0.2", redis.port);
    let (x, y) = (exchange(&mut a2, &digest), exchange(&mut b2, &digest));
    assert_eq!(s(&x), s(&y));
    assert!(
        s(&x).starts_with("-ERR DEBUG command not allowed."),
        "{}",
        s(&x)
    );
    // The unix socket is local.
    let mut a3 = std::os::unix::net::UnixStream::connect(&pa).unwrap();
    let mut b3 = std::os::unix::net::UnixStream::connect(&pb).unwrap();
    let (x, y) = (exchange(&mut a3, &digest), exchange(&mut b3, &digest));
    assert_eq!(s(&x), ZERO);
    assert_eq!(s(&y), ZERO);
}

#[test]
fn errors_help_and_small_subcommands_as_redis() {
    let Some((ember, redis)) = pair(DEBUG_ON) else {
        return;
    };
    let (mut a, mut b) = (ember.raw(), redis.raw());
    let long = "s".repeat(200);
    for args in [
        vec!["DEBUG"],
        vec!["DEBUG", "nosuch"],
        vec!["DEBUG", "nosuch", "a", "b"],
        vec!["DEBUG", "digest", "x"],
        vec!["DEBUG", "help", "x"],
        vec!["DEBUG", "sleep"],
        vec!["DEBUG", "sleep", "1", "2"],
        vec!["DEBUG", "set-active-expire"],
        vec!["DEBUG", "SET-ACTIVE-EXPIRE", "1", "2"],
        vec!["DEBUG", "log"],
        vec!["DEBUG", &long],
        vec!["DEBUG", "bad\r\nsub"],
        vec!["DEBUG", "HELP"],
        vec!["debug", "help"],
        vec!["DEBUG", "DiGeSt"],
        vec!["COMMAND", "INFO", "debug"],
        vec!["EVAL", "return redis.call('debug','digest')", "0"],
    ] {
        both_str(&mut a, &mut b, &args);
    }
    let help = s(&a.cmd(&["DEBUG", "HELP"]));
    assert!(help.starts_with("*106\r\n+DEBUG <subcommand>"), "{help}");

    // DEBUG LOG writes a warning to the log.
    both_str(
        &mut a,
        &mut b,
        &["DEBUG", "LOG", "hello from the digest test"],
    );
    eventually("DEBUG LOG line", Duration::from_secs(5), || {
        ember
            .log_text()
            .contains("DEBUG LOG: hello from the digest test")
    });

    // The snapshot subcommands' argument errors, as Redis's.
    for args in [
        vec!["DEBUG", "OBJECT", "nosuchkey"],
        vec!["DEBUG", "POPULATE", "x"],
        vec!["DEBUG", "POPULATE", "-1"],
        vec!["DEBUG", "POPULATE", "1", "p", "-5"],
        vec!["DEBUG", "POPULATE"],
        vec!["DEBUG", "RELOAD", "bogus"],
        vec!["DEBUG", "JMAP", "x"],
    ] {
        both_str(&mut a, &mut b, &args);
    }
}

#[test]
fn sleep_blocks_for_its_time_and_reads_its_argument_as_strtod() {
    let Some((ember, redis)) = pair(DEBUG_ON) else {
        return;
    };
    let (mut a, mut b) = (ember.raw(), redis.raw());
    let t = Instant::now();
    assert_eq!(a.cmd(&["DEBUG", "SLEEP", "0.3"]), b"+OK\r\n");
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
    // Not a number, negative, zero: no sleep, +OK anyway.
    let t = Instant::now();
    for arg in ["abc", "-1", "0", "", "inf"] {
        both_str(&mut a, &mut b, &["DEBUG", "SLEEP", arg]);
    }
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    let t = Instant::now();
    assert_eq!(a.cmd(&["DEBUG", "SLEEP", "0.2xyz"]), b"+OK\r\n");
    assert!(
        t.elapsed() >= Duration::from_millis(200),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(a.cmd(&["PING"]), b"+PONG\r\n");
}

#[test]
fn set_active_expire_keeps_expired_keys_in_the_digest() {
    let Some((ember, redis)) = pair(DEBUG_ON) else {
        return;
    };
    let (mut a, mut b) = (ember.raw(), redis.raw());
    both_str(&mut a, &mut b, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    both_str(&mut a, &mut b, &["SET", "keep", "v"]);
    both_str(&mut a, &mut b, &["SET", "gone", "v", "PX", "50"]);
    both_str(&mut a, &mut b, &["HSET", "gone:h", "f", "1"]);
    both_str(&mut a, &mut b, &["PEXPIRE", "gone:h", "50"]);
    let with_ttl = both_str(&mut a, &mut b, &["DEBUG", "DIGEST"]);
    std::thread::sleep(Duration::from_millis(400));
    // Past their TTL, never read: still stored, still in the digests.
    assert_eq!(both_str(&mut a, &mut b, &["DEBUG", "DIGEST"]), with_ttl);
    let v = digests(&both_str(
        &mut a,
        &mut b,
        &["DEBUG", "DIGEST-VALUE", "gone", "gone:h", "keep"],
    ));
    assert!(v.iter().all(|d| d != &"0".repeat(40)), "{v:?}");
    // Back on, active expiry removes them without any access.
    both_str(&mut a, &mut b, &["DEBUG", "set-active-expire", "1"]);
    for r in [&mut a, &mut b] {
        eventually("active expiry", Duration::from_secs(5), || {
            digests(&r.cmd(&["DEBUG", "DIGEST-VALUE", "gone", "gone:h"]))
                .iter()
                .all(|d| d == &"0".repeat(40))
        });
    }
    let only_keep = both_str(&mut a, &mut b, &["DEBUG", "DIGEST"]);
    assert_ne!(only_keep, with_ttl);
    // C's atoi: anything but a non-zero number turns it off.
    both_str(&mut a, &mut b, &["DEBUG", "SET-ACTIVE-EXPIRE", "off"]);
    both_str(&mut a, &mut b, &["SET", "gone2", "v", "PX", "30"]);
    std::thread::sleep(Duration::from_millis(300));
    let v = digests(&both_str(
        &mut a,
        &mut b,
        &["DEBUG", "DIGEST-VALUE", "gone2"],
    ));
    assert_ne!(v[0], "0".repeat(40));
}

/// DEBUG PROTOCOL answers each RESP type as Redis does, in RESP2 and RESP3
/// (byte for byte against redis-server when it is installed).
#[test]
fn debug_protocol_matches_redis() {
    let ember = Server::start(&["--enable-debug-command", "yes"]);
    let redis = Server::redis_with(&["--enable-debug-command", "yes"]);
    let types = [
        "string", "integer", "double", "bignum", "null", "array", "set", "map", "attrib", "push",
        "true", "false", "verbatim", "nosuch",
    ];
    for proto in ["2", "3"] {
        let mut e = ember.raw();
        e.cmd(&["HELLO", proto]);
        let mut r = redis.as_ref().map(|r| {
            let mut c = r.raw();
            c.cmd(&["HELLO", proto]);
            c
        });
        for t in types {
            let mut got = e.cmd(&["DEBUG", "PROTOCOL", t]);
            // An attribute or push comes before the real reply.
            if (t == "attrib" || t == "push") && proto == "3" {
                got.extend(e.reply());
            }
            if let Some(r) = r.as_mut() {
                let mut want = r.cmd(&["DEBUG", "PROTOCOL", t]);
                if (t == "attrib" || t == "push") && proto == "3" {
                    want.extend(r.reply());
                }
                assert_eq!(s(&got), s(&want), "RESP{proto} {t}");
            }
        }
        let got = s(&e.cmd(&["DEBUG", "PROTOCOL", "verbatim"]));
        if proto == "3" {
            assert_eq!(got, "=29\r\ntxt:This is a verbatim\nstring\r\n");
        }
    }
    let mut e = ember.raw();
    assert_eq!(
        e.cmd(&["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "1b"]),
        b"+OK\r\n"
    );
    assert_eq!(
        e.cmd(&["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0"]),
        b"+OK\r\n"
    );
    assert!(s(&e.cmd(&["DEBUG", "QUICKLIST-PACKED-THRESHOLD", "5gb"]))
        .starts_with("-ERR argument must be"));
}
