//! `rdb_changes_since_last_save` (the dirty counter fed by the write
//! funnel) moves by what Redis counts for the string and key commands,
//! command by command, against a real redis-server.

mod common;
use common::*;

#[test]
fn string_and_key_commands_count_as_on_redis() {
    let Some(redis) = Server::redis() else { return };
    let ember = Server::start(&[]);
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
    let changes = |srv: &Server| -> i64 {
        info_field(srv, "persistence", "rdb_changes_since_last_save")
            .parse()
            .unwrap()
    };
    let (mut a, mut b) = (redis.raw(), ember.raw());
    for c in cmds {
        let (ca, cb) = (changes(&redis), changes(&ember));
        let (ra, rb) = (a.cmd(c), b.cmd(c));
        assert_eq!(rb, ra, "{c:?}");
        assert_eq!(changes(&ember) - cb, changes(&redis) - ca, "{c:?}");
    }
}
