//! `rdb_changes_since_last_save` (the dirty counter fed by the write
//! funnel) moves by what Redis counts, command by command, against a real
//! redis-server: the string and key commands, the collections (counted by
//! the elements they changed), bitmaps, HyperLogLog, geo and streams.

mod common;
use common::*;

#[test]
fn string_and_key_commands_count_as_on_redis() {
    let cmds: &[&[&str]] = &[
        &["SET", "k", "v"],
        &["SET", "k", "v", "EX", "1000"],
        &["SET", "k", "v", "PX", "100000"],
        &["SET", "k", "v", "KEEPTTL"],
        &["SET", "k", "w", "NX"],
        &["SETEX", "k", "100", "v"],
        &["PSETEX", "k", "100000", "v"],
        &["GETEX", "k", "EX", "500"],
        &["GETEX", "k", "PERSIST"],
        &["GETEX", "k"],
        &["EXPIRE", "k", "100"],
        &["PERSIST", "k"],
        &["PERSIST", "k"],
        &["INCR", "n"],
        &["INCRBYFLOAT", "n", "1.5"],
        &["APPEND", "k", "x"],
        &["SETRANGE", "k", "10", "y"],
        &["MSET", "a", "1", "b", "2", "c", "3"],
        &["MSETNX", "a", "1", "d", "2"],
        &["GETDEL", "a"],
        &["DEL", "b", "c", "missing"],
        &["SETNX", "e", "1"],
        &["SETNX", "e", "1"],
    ];
    same_counts(cmds);
}

/// Runs `cmds` on both servers and checks each reply and each move of
/// the dirty counter.
fn same_counts(cmds: &[&[&str]]) {
    let Some(redis) = Server::redis() else { return };
    let ember = Server::start(&[]);
    let changes = |srv: &Server| -> i64 {
        info_field(srv, "persistence", "rdb_changes_since_last_save")
            .parse()
            .unwrap()
    };
    let (mut a, mut b) = (redis.raw(), ember.raw());
    // Every differing count is listed, not only the first.
    let mut differ = Vec::new();
    for c in cmds {
        let (ca, cb) = (changes(&redis), changes(&ember));
        let (ra, rb) = (a.cmd(c), b.cmd(c));
        assert_eq!(rb, ra, "{c:?}");
        let (da, db) = (changes(&redis) - ca, changes(&ember) - cb);
        if da != db {
            differ.push(format!("{c:?}: redis {da}, emberkv {db}"));
        }
    }
    assert!(
        differ.is_empty(),
        "dirty counts differ:\n{}",
        differ.join("\n")
    );
}

#[test]
fn collections_count_by_elements_as_on_redis() {
    same_counts(&[
        &["SADD", "s", "a", "b", "c"],
        &["SADD", "s", "a", "d"],
        &["SREM", "s", "a", "b", "zz"],
        &["SMOVE", "s", "s2", "c"],
        &["HSET", "h", "f", "1", "g", "2"],
        &["HSET", "h", "f", "1", "g", "2"],
        &["HSETNX", "h", "f", "1"],
        &["HDEL", "h", "f", "zz"],
        &["HINCRBY", "h", "n", "5"],
        &["ZADD", "z", "1", "a", "2", "b"],
        &["ZADD", "z", "1", "a", "3", "b", "4", "c"],
        &["ZADD", "z", "INCR", "5", "a"],
        &["ZREM", "z", "a", "zz"],
        &["ZINCRBY", "z", "1", "b"],
        &["ZPOPMIN", "z", "2"],
        &["LPUSH", "l", "a", "b", "c", "d"],
        &["RPUSH", "l", "e"],
        &["LPOP", "l", "2"],
        &["LPOP", "l", "0"],
        &["RPOP", "l"],
        &["LSET", "l", "0", "x"],
        &["LREM", "l", "0", "x"],
        &["LINSERT", "l", "BEFORE", "e", "y"],
        &["LTRIM", "l", "0", "0"],
        &["SPOP", "s", "1"],
        &["SINTERSTORE", "d", "s", "s2"],
        &["SUNIONSTORE", "d", "s", "s2"],
        &["ZUNIONSTORE", "dz", "1", "z"],
        &["DEL", "s", "h", "z", "l", "missing"],
        // Emptied keys: their `del` is not a change of its own.
        &["RPUSH", "e", "a", "b"],
        &["LPOP", "e", "5"],
        &["SADD", "e", "a"],
        &["SREM", "e", "a"],
        &["HSET", "e", "f", "v"],
        &["HDEL", "e", "f"],
        &["ZADD", "e", "1", "a", "2", "b"],
        &["ZPOPMIN", "e", "5"],
        &["RPUSH", "m", "a", "b"],
        &["LMOVE", "m", "m2", "LEFT", "RIGHT"],
        &["LMOVE", "m", "m2", "LEFT", "RIGHT"],
        &["RPOPLPUSH", "m2", "m2"],
        &["ZADD", "r", "1", "a", "2", "b", "3", "c"],
        &["ZREMRANGEBYSCORE", "r", "1", "2"],
        &["ZREMRANGEBYRANK", "r", "0", "-1"],
        &["SADD", "t", "a"],
        &["SPOP", "t", "5"],
    ]);
}

#[test]
fn bitmaps_and_hyperloglogs_count_as_on_redis() {
    same_counts(&[
        &["SETBIT", "b", "7", "1"],
        &["SETBIT", "b", "7", "1"],
        &["SETBIT", "b", "7", "0"],
        &["SETBIT", "b", "100", "0"],
        &["SETBIT", "b", "100", "0"],
        &["BITOP", "OR", "d", "b", "missing"],
        &["BITOP", "AND", "d", "missing", "missing2"],
        &["BITOP", "AND", "d2", "missing", "missing2"],
        &[
            "BITFIELD", "f", "SET", "u8", "0", "255", "SET", "u8", "8", "1",
        ],
        &["BITFIELD", "f", "SET", "u8", "0", "255"],
        &["BITFIELD", "f", "INCRBY", "u8", "8", "1", "GET", "u8", "0"],
        &[
            "BITFIELD", "f", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "1",
        ],
        &["PFADD", "p", "a", "b", "c"],
        &["PFADD", "p", "a", "b", "c"],
        &["PFADD", "p", "a", "d"],
        &["PFADD", "p"],
        &["PFADD", "p2"],
        &["PFCOUNT", "p"],
        &["PFCOUNT", "p"],
        &["PFCOUNT", "p", "p2"],
        &["PFMERGE", "p3", "p", "p2"],
        &["PFDEBUG", "TODENSE", "p"],
        &["PFDEBUG", "TODENSE", "p"],
    ]);
}

#[test]
fn geo_counts_as_on_redis() {
    same_counts(&[
        &["GEOADD", "g", "13.4", "52.5", "a", "13.5", "52.6", "b"],
        &["GEOADD", "g", "13.4", "52.5", "a"],
        &["GEOADD", "g", "13.41", "52.5", "a", "13.6", "52.7", "c"],
        &["GEOADD", "g", "XX", "CH", "13.42", "52.5", "a"],
        &[
            "GEOSEARCHSTORE",
            "d",
            "g",
            "FROMLONLAT",
            "13.4",
            "52.5",
            "BYRADIUS",
            "50",
            "km",
        ],
        &[
            "GEOSEARCHSTORE",
            "d",
            "g",
            "FROMLONLAT",
            "0",
            "0",
            "BYRADIUS",
            "1",
            "km",
        ],
        &[
            "GEOSEARCHSTORE",
            "d",
            "g",
            "FROMLONLAT",
            "0",
            "0",
            "BYRADIUS",
            "1",
            "km",
        ],
        &[
            "GEORADIUS",
            "g",
            "13.4",
            "52.5",
            "50",
            "km",
            "STOREDIST",
            "d",
        ],
    ]);
}

#[test]
fn streams_count_as_on_redis() {
    same_counts(&[
        &["XADD", "s", "1-1", "f", "v"],
        &["XADD", "s", "2-1", "f", "v"],
        &["XADD", "s", "MAXLEN", "1", "3-1", "f", "v"],
        &["XADD", "missing", "NOMKSTREAM", "*", "f", "v"],
        &["XADD", "s", "4-1", "f", "v"],
        &["XADD", "s", "5-1", "f", "v"],
        &["XADD", "s", "6-1", "f", "v"],
        &["XTRIM", "s", "MAXLEN", "3"],
        &["XTRIM", "s", "MAXLEN", "3"],
        &["XDEL", "s", "4-1", "99-1"],
        &["XSETID", "s", "10-1"],
        &["XGROUP", "CREATE", "s", "g", "0"],
        &["XGROUP", "CREATE", "s2", "g", "$", "MKSTREAM"],
        &["XGROUP", "SETID", "s", "g", "0"],
        &["XGROUP", "CREATECONSUMER", "s", "g", "c0"],
        &["XGROUP", "CREATECONSUMER", "s", "g", "c0"],
        &["XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">"],
        &["XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">"],
        &["XREADGROUP", "GROUP", "g", "c2", "STREAMS", "s", ">"],
        &["XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", "0"],
        &["XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s2", ">"],
        &["XCLAIM", "s", "g", "c3", "0", "5-1", "6-1", "JUSTID"],
        &["XAUTOCLAIM", "s", "g", "c4", "0", "0", "JUSTID"],
        &["XACK", "s", "g", "5-1", "6-1", "7-1"],
        &["XGROUP", "DELCONSUMER", "s", "g", "c1"],
        &["XGROUP", "DELCONSUMER", "s", "g", "nobody"],
        &["XGROUP", "DESTROY", "s", "g"],
        &["XGROUP", "DESTROY", "s", "g"],
        &["DEL", "s", "s2"],
    ]);
}
