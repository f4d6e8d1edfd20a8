//! Differential tests for lists, hashes, sets and sorted sets: random
//! command sequences go to emberkv and to a real redis-server, and replies
//! must match byte for byte, except that replies Redis documents as
//! unordered (SMEMBERS, HGETALL, SUNION ...) are compared as multisets.
//! Runs in RESP2 and RESP3, with default encoding thresholds and with tiny
//! ones so the large encodings are exercised too.

mod common;
use common::*;

/// The sub-replies of an aggregate reply, and its header line.
fn split(r: &[u8]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let nl = r.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
    let head = r[..nl].to_vec();
    let mut items = Vec::new();
    let mut at = nl;
    while at < r.len() {
        let n = reply_len(&r[at..]).unwrap();
        items.push(r[at..at + n].to_vec());
        at += n;
    }
    (head, items)
}

/// Sorts the elements (or pairs, `pairs`) of an aggregate reply.
fn sorted(r: &[u8], pairs: bool) -> Vec<u8> {
    if !matches!(r.first(), Some(b'*' | b'~' | b'%')) || r.starts_with(b"*-1") {
        return r.to_vec();
    }
    let (head, items) = split(r);
    let mut groups: Vec<Vec<u8>> = if pairs {
        items.chunks(2).map(|c| c.concat()).collect()
    } else {
        items
    };
    groups.sort();
    let mut out = head;
    for g in groups {
        out.extend(g);
    }
    out
}

fn normalize(c: &[String], r: &[u8]) -> Vec<u8> {
    match c[0].as_str() {
        "SMEMBERS" | "SINTER" | "SUNION" | "SDIFF" | "HKEYS" | "HVALS" => sorted(r, false),
        "HGETALL" => sorted(r, true),
        _ => r.to_vec(),
    }
}

/// One random command over a few keys. Lex-range commands use their own
/// key whose members all share score 0: Redis leaves lex ranges over
/// different scores unspecified.
fn random_command(rng: &mut Rng) -> Vec<String> {
    let keys = ["k0", "k1", "k2", "k3"];
    let mem = ["a", "b", "c", "1", "2", "10", "-5", "x y", "", "abc", "3.5"];
    let sc = [
        "1", "2", "-1", "0", "1.5", "inf", "-inf", "+inf", "(1", "(2", "3e2", "x", "nan",
    ];
    let ix = ["0", "1", "-1", "2", "-2", "5", "-100", "100"];
    let lex = ["-", "+", "[a", "(a", "[b", "(c", "[", "x"];
    let (k, k2, m, m2) = (
        rng.pick(&keys),
        rng.pick(&keys),
        rng.pick(&mem),
        rng.pick(&mem),
    );
    let (i1, i2, s1, s2) = (rng.pick(&ix), rng.pick(&ix), rng.pick(&sc), rng.pick(&sc));
    let (l1, l2) = (rng.pick(&lex), rng.pick(&lex));
    let side = rng.pick(&["LEFT", "RIGHT"]);
    let side2 = rng.pick(&["LEFT", "RIGHT"]);
    let v: Vec<Vec<&str>> = vec![
        vec!["LPUSH", k, m, m2],
        vec!["RPUSH", k, m],
        vec!["LPUSHX", k, m],
        vec!["RPUSHX", k, m],
        vec!["LPOP", k],
        vec!["RPOP", k],
        vec!["LPOP", k, i1],
        vec!["RPOP", k, "2"],
        vec!["LLEN", k],
        vec!["LRANGE", k, i1, i2],
        vec!["LINDEX", k, i1],
        vec!["LSET", k, i1, m],
        vec!["LINSERT", k, rng.pick(&["BEFORE", "AFTER", "x"]), m, m2],
        vec!["LREM", k, i1, m],
        vec!["LTRIM", k, i1, i2],
        vec!["LPOS", k, m],
        vec![
            "LPOS",
            k,
            m,
            "RANK",
            i1,
            "COUNT",
            rng.pick(&["0", "1", "2"]),
        ],
        vec!["LPOS", k, m, "MAXLEN", "2"],
        vec!["LMOVE", k, k2, side, side2],
        vec!["RPOPLPUSH", k, k2],
        vec!["LMPOP", "2", k, k2, side, "COUNT", rng.pick(&["1", "3"])],
        vec!["HSET", k, m, m2],
        vec!["HSET", k, m, m2, m2, m],
        vec!["HSETNX", k, m, m2],
        vec!["HGET", k, m],
        vec!["HMGET", k, m, m2],
        vec!["HDEL", k, m, m2],
        vec!["HLEN", k],
        vec!["HSTRLEN", k, m],
        vec!["HEXISTS", k, m],
        vec!["HKEYS", k],
        vec!["HVALS", k],
        vec!["HGETALL", k],
        vec!["HINCRBY", k, m, i1],
        vec!["HINCRBYFLOAT", k, m, s1],
        vec!["HMSET", k, m, m2],
        vec!["SADD", k, m, m2],
        vec!["SREM", k, m],
        vec!["SMEMBERS", k],
        vec!["SISMEMBER", k, m],
        vec!["SMISMEMBER", k, m, m2],
        vec!["SCARD", k],
        vec!["SMOVE", k, k2, m],
        vec!["SINTER", k, k2],
        vec!["SUNION", k, k2],
        vec!["SDIFF", k, k2],
        vec!["SINTERSTORE", k, k2, k],
        vec!["SUNIONSTORE", k2, k, k2],
        vec!["SDIFFSTORE", k, k2, k],
        vec!["SINTERCARD", "2", k, k2, "LIMIT", rng.pick(&["0", "1"])],
        vec!["ZADD", k, s1, m],
        vec![
            "ZADD",
            k,
            rng.pick(&["NX", "XX", "GT", "LT", "CH", "INCR"]),
            s1,
            m,
        ],
        vec!["ZADD", k, "GT", "CH", s1, m, s2, m2],
        vec!["ZINCRBY", k, s1, m],
        vec!["ZSCORE", k, m],
        vec!["ZMSCORE", k, m, m2],
        vec!["ZCARD", k],
        vec!["ZCOUNT", k, s1, s2],
        vec!["ZRANK", k, m],
        vec!["ZREVRANK", k, m],
        vec!["ZRANGE", k, i1, i2, "WITHSCORES"],
        vec![
            "ZRANGE",
            k,
            s1,
            s2,
            "BYSCORE",
            "LIMIT",
            rng.pick(&["0", "1"]),
            rng.pick(&["-1", "1", "2"]),
        ],
        vec!["ZRANGE", k, s1, s2, "BYSCORE", "REV", "WITHSCORES"],
        vec!["ZREVRANGE", k, i1, i2],
        vec!["ZRANGEBYSCORE", k, s1, s2, "WITHSCORES"],
        vec!["ZREVRANGEBYSCORE", k, s1, s2, "LIMIT", "1", "1"],
        vec!["ZREM", k, m, m2],
        vec!["ZREMRANGEBYRANK", k, i1, i2],
        vec!["ZREMRANGEBYSCORE", k, s1, s2],
        vec!["ZPOPMIN", k],
        vec!["ZPOPMAX", k, rng.pick(&["1", "2", "0"])],
        vec!["ZMPOP", "2", k, k2, rng.pick(&["MIN", "MAX"]), "COUNT", "2"],
        vec!["ZUNION", "2", k, k2, "WITHSCORES"],
        vec![
            "ZINTER",
            "2",
            k,
            k2,
            "WEIGHTS",
            "2",
            "3",
            "AGGREGATE",
            rng.pick(&["SUM", "MIN", "MAX"]),
            "WITHSCORES",
        ],
        vec!["ZDIFF", "2", k, k2, "WITHSCORES"],
        vec!["ZUNIONSTORE", k2, "2", k, k2],
        vec!["ZINTERSTORE", k, "2", k, k2],
        vec!["ZDIFFSTORE", k, "2", k2, k],
        vec!["ZINTERCARD", "2", k, k2],
        vec!["ZRANGESTORE", k2, k, "0", "-1"],
        vec!["ZADD", "lx", "0", m],
        vec!["ZLEXCOUNT", "lx", l1, l2],
        vec!["ZRANGEBYLEX", "lx", l1, l2],
        vec!["ZREVRANGEBYLEX", "lx", l1, l2],
        vec!["ZRANGE", "lx", l1, l2, "BYLEX", "REV", "LIMIT", "0", "2"],
        vec!["ZREMRANGEBYLEX", "lx", l1, l2],
        vec!["TYPE", k],
        vec!["DEL", k],
        vec!["COPY", k, k2, "REPLACE"],
        vec!["RENAME", k, k2],
        vec!["SORT", k],
        vec!["SORT", k, "ALPHA", "DESC", "LIMIT", "0", "2"],
        vec!["SORT_RO", k, "ALPHA"],
        vec!["SORT", k, "ALPHA", "STORE", k2],
    ];
    let c = &v[(rng.next() % v.len() as u64) as usize];
    c.iter().map(|s| s.to_string()).collect()
}

fn run(seed: u64, n: usize, resp3: bool, small: bool) {
    let Some(redis) = Server::redis() else {
        return;
    };
    let ember = Server::start(&[]);
    let (mut a, mut b) = (redis.raw(), ember.raw());
    let mut setup: Vec<Vec<&str>> = Vec::new();
    if resp3 {
        setup.push(vec!["HELLO", "3"]);
    }
    if small {
        for (k, v) in [
            ("zset-max-listpack-entries", "2"),
            ("hash-max-listpack-entries", "2"),
            ("set-max-intset-entries", "2"),
            ("list-max-listpack-size", "2"),
        ] {
            setup.push(vec!["CONFIG", "SET", k, v]);
        }
    }
    for c in &setup {
        a.cmd(c);
        b.cmd(c);
    }
    let mut rng = Rng(seed);
    for i in 0..n {
        let c = random_command(&mut rng);
        let args: Vec<&str> = c.iter().map(|s| s.as_str()).collect();
        let (ra, rb) = (a.cmd(&args), b.cmd(&args));
        assert_eq!(
            s(&normalize(&c, &rb)),
            s(&normalize(&c, &ra)),
            "reply #{i} differs for {c:?} (seed {seed:#x}, resp3 {resp3}, small {small})"
        );
    }
}

#[test]
fn random_collection_commands_match_redis() {
    run(0x2545f4914f6cdd1d, 4000, false, false);
}

#[test]
fn random_collection_commands_match_redis_in_resp3() {
    run(0x9e3779b97f4a7c15, 3000, true, false);
}

#[test]
fn random_collection_commands_match_redis_with_large_encodings() {
    run(0x853c49e6748fea9b, 4000, false, true);
    run(0xda3e39cb94b95bdb, 2000, true, true);
}

#[test]
fn collection_errors_and_edge_replies_match_redis() {
    let Some(redis) = Server::redis() else {
        return;
    };
    let ember = Server::start(&[]);
    let (mut a, mut b) = (redis.raw(), ember.raw());
    let script: &[&[&str]] = &[
        &["SET", "str", "v"],
        &["LPUSH", "str", "a"],
        &["HGET", "str", "a"],
        &["SADD", "str", "a"],
        &["ZADD", "str", "1", "a"],
        &["LPOP", "nolist", "1"],
        &["LPOP", "nolist", "-1"],
        &["RPUSH", "l", "a", "b", "c"],
        &["LPOP", "l", "0"],
        &["LSET", "nolist", "0", "x"],
        &["LSET", "l", "10", "x"],
        &["LPOS", "l", "a", "RANK", "0"],
        &["LPOS", "l", "a", "COUNT", "-1"],
        &["LPOS", "l", "a", "MAXLEN", "-1"],
        &["LINSERT", "l", "middle", "a", "b"],
        &["LMPOP", "0", "l", "LEFT"],
        &["LMPOP", "1", "l", "UP"],
        &["LMPOP", "1", "l", "LEFT", "COUNT", "0"],
        &["LMPOP", "3", "l", "LEFT"],
        &["BLPOP", "l", "-1"],
        &["BLPOP", "l", "abc"],
        &["BLPOP", "nolist", "0.01"],
        &["BRPOPLPUSH", "nolist", "x", "0.01"],
        &["BLMOVE", "nolist", "x", "LEFT", "RIGHT", "0.01"],
        &["BLMPOP", "0.01", "1", "nolist", "LEFT"],
        &["BZPOPMIN", "nozset", "0.01"],
        &["BZMPOP", "0.01", "1", "nozset", "MIN"],
        &["BLPOP", "str", "0.01"],
        &["HSET", "h", "f"],
        &["HINCRBY", "h", "f", "x"],
        &["HSET", "h", "f", "v"],
        &["HINCRBY", "h", "f", "1"],
        &["HINCRBYFLOAT", "h", "f", "1"],
        &["HSET", "h", "n", "9223372036854775807"],
        &["HINCRBY", "h", "n", "1"],
        &["HRANDFIELD", "h", "1", "WITHVALUES", "x"],
        &["HRANDFIELD", "nohash", "3"],
        &["HRANDFIELD", "nohash"],
        &["SPOP", "noset", "-1"],
        &["SPOP", "noset", "2"],
        &["SRANDMEMBER", "noset", "2"],
        &["SINTERCARD", "0", "s"],
        &["SINTERCARD", "2", "s"],
        &["SINTERCARD", "1", "s", "LIMIT", "-1"],
        &["ZADD", "z", "nan", "a"],
        &["ZADD", "z", "1"],
        &["ZADD", "z", "XX", "NX", "1", "a"],
        &["ZADD", "z", "GT", "LT", "1", "a"],
        &["ZADD", "z", "NX", "GT", "1", "a"],
        &["ZADD", "z", "INCR", "1", "a", "2", "b"],
        &["ZADD", "z", "1", "a", "0.1", "b", "1e300", "c"],
        &["ZSCORE", "z", "b"],
        &["ZINCRBY", "z", "+inf", "a"],
        &["ZINCRBY", "z", "-inf", "a"],
        &["ZADD", "z", "XX", "INCR", "1", "nosuch"],
        &["ZRANGEBYSCORE", "z", "a", "b"],
        &["ZRANGEBYLEX", "z", "a", "b"],
        &["ZRANGE", "z", "0", "1", "LIMIT", "0", "1"],
        &["ZRANGE", "z", "a", "b", "BYLEX", "WITHSCORES"],
        &["ZRANGE", "z", "(1", "+inf", "BYSCORE", "WITHSCORES"],
        &["ZUNION", "0", "z"],
        &["ZUNION", "5", "z"],
        &["ZUNIONSTORE", "d", "0", "z"],
        &["ZUNION", "1", "z", "WEIGHTS", "x"],
        &["ZUNION", "1", "z", "AGGREGATE", "foo"],
        &["ZDIFF", "1", "z", "WEIGHTS", "1"],
        &["ZINTERCARD", "0", "z"],
        &["ZINTERCARD", "1", "z", "LIMIT", "-1"],
        &["ZPOPMIN", "z", "-1"],
        &["ZMPOP", "1", "z", "foo"],
        &["ZMPOP", "1", "z", "MIN", "COUNT", "0"],
        &["ZPOPMIN", "nozset"],
        &["ZMPOP", "1", "nozset", "MIN"],
        &["SADD", "s", "1", "2", "3"],
        &["ZUNIONSTORE", "u", "2", "z", "s", "WEIGHTS", "1", "10"],
        &["ZRANGE", "u", "0", "-1", "WITHSCORES"],
        &["ZADD", "inf", "+inf", "a", "-inf", "b"],
        &[
            "ZUNIONSTORE",
            "nan",
            "2",
            "inf",
            "inf",
            "WEIGHTS",
            "1",
            "-1",
        ],
        &["ZRANGE", "nan", "0", "-1", "WITHSCORES"],
        &["SORT", "str"],
        &["RPUSH", "sl", "3", "1", "2", "x"],
        &["SORT", "sl"],
        &["SORT", "sl", "ALPHA", "DESC"],
        &["SET", "w_3", "1"],
        &["SET", "w_1", "3"],
        &["SET", "w_2", "2"],
        &["HSET", "o_1", "f", "one"],
        &["RPUSH", "nums", "3", "1", "2"],
        &["SORT", "nums", "BY", "w_*", "GET", "#", "GET", "o_*->f"],
        &["SORT", "nums", "BY", "nosort", "LIMIT", "1", "5"],
        &["SORT", "nums", "LIMIT", "1", "9223372036854775807"],
        &["SORT", "nums", "STORE", "dst"],
        &["LRANGE", "dst", "0", "-1"],
        &["SORT_RO", "nums", "STORE", "dst"],
        &["OBJECT", "ENCODING", "h"],
        &["OBJECT", "ENCODING", "z"],
        &["OBJECT", "ENCODING", "s"],
        // Redis 7.0's names: every list a quicklist, a set of strings a
        // hashtable, however small.
        &["OBJECT", "ENCODING", "l"],
        &["OBJECT", "ENCODING", "sl"],
        &["SADD", "strset", "a", "b"],
        &["OBJECT", "ENCODING", "strset"],
        &["TYPE", "h"],
        &["TYPE", "z"],
        &["TYPE", "s"],
        &["TYPE", "l"],
        &[
            "COMMAND",
            "GETKEYS",
            "ZUNIONSTORE",
            "d",
            "2",
            "a",
            "b",
            "WEIGHTS",
            "1",
            "2",
        ],
        &["COMMAND", "GETKEYS", "BLMPOP", "0", "2", "a", "b", "LEFT"],
        &["COMMAND", "GETKEYS", "SORT", "k", "BY", "x", "STORE", "d"],
        &["COMMAND", "GETKEYS", "LMPOP", "5", "a", "LEFT"],
        &["COMMAND", "GETKEYS", "BLPOP", "a", "b", "0"],
        &["COMMAND", "GETKEYS", "SMOVE", "a", "b", "m"],
    ];
    for (i, c) in script.iter().enumerate() {
        let (ra, rb) = (a.cmd(c), b.cmd(c));
        assert_eq!(s(&rb), s(&ra), "reply #{i} differs for {c:?}");
    }
}
