//! Differential tests: the same requests go to emberkv and to a real
//! redis-server, and the replies must be identical byte for byte.
//! (Skipped with a message when redis-server is not installed; required in
//! CI, where .ci/run installs it.)

mod common;
use common::*;

/// Sends `cmds` to both servers in order and compares every reply.
fn compare(cmds: &[Vec<Vec<u8>>]) {
    compare_normalized(cmds, |_, r| r.to_string())
}

/// Like `compare`, after `norm(command, reply)` removes what legitimately
/// differs (such as a client id).
fn compare_normalized(cmds: &[Vec<Vec<u8>>], norm: impl Fn(&[Vec<u8>], &str) -> String) {
    let Some(redis) = Server::redis() else {
        return;
    };
    let ember = Server::start(&[]);
    let (mut a, mut b) = (redis.raw(), ember.raw());
    for (i, c) in cmds.iter().enumerate() {
        let args: Vec<&[u8]> = c.iter().map(|v| v.as_slice()).collect();
        let frame = encode(&args);
        a.send(&frame);
        b.send(&frame);
        let (ra, rb) = (norm(c, &s(&a.reply())), norm(c, &s(&b.reply())));
        assert_eq!(
            rb,
            ra,
            "reply #{i} differs for {:?}",
            c.iter().map(|x| s(x)).collect::<Vec<_>>()
        );
    }
}

fn cmd(parts: &[&str]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.as_bytes().to_vec()).collect()
}

#[test]
fn scripted_commands_match_redis() {
    let far = "4102444800"; // 2100-01-01, so expiry times are deterministic
    let script: Vec<Vec<Vec<u8>>> = [
        vec!["PING"],
        vec!["PING", "hello"],
        vec!["ECHO", "x y"],
        vec!["SET", "k", "v"],
        vec!["GET", "k"],
        vec!["GET", "nokey"],
        vec!["SET", "k", "v2", "NX"],
        vec!["SET", "k", "v2", "XX", "GET"],
        vec!["SET", "n", "v", "NX", "GET"],
        vec!["SET", "k", "v", "EX", "0"],
        vec!["SET", "k", "v", "EX", "abc"],
        vec!["SET", "k", "v", "KEEPTTL", "EX", "5"],
        vec!["SET", "k", "v", "FOO"],
        vec!["SET", "k"],
        vec!["SETNX", "k", "x"],
        vec!["SETEX", "k", "-1", "x"],
        vec!["PSETEX", "k", "0", "x"],
        vec!["GETSET", "k", "new"],
        vec!["GETDEL", "k"],
        vec!["GETDEL", "k"],
        vec!["MSET", "a", "1", "b", "2"],
        vec!["MSET", "a", "1", "b"],
        vec!["MGET", "a", "b", "c"],
        vec!["MSETNX", "a", "1", "z", "2"],
        vec!["APPEND", "a", "23"],
        vec!["STRLEN", "a"],
        vec!["GETRANGE", "a", "0", "-1"],
        vec!["GETRANGE", "a", "-2", "-5"],
        vec!["GETRANGE", "a", "x", "1"],
        vec!["SETRANGE", "a", "5", "hi"],
        vec!["GET", "a"],
        vec!["SETRANGE", "a", "-1", "x"],
        vec!["INCR", "cnt"],
        vec!["INCRBY", "cnt", "-100"],
        vec!["DECRBY", "cnt", "9223372036854775807"],
        vec!["DECRBY", "cnt", "-9223372036854775808"],
        vec!["INCR", "a"],
        vec!["INCRBYFLOAT", "fl", "1.5"],
        vec!["INCRBYFLOAT", "fl", "0.1"],
        vec!["INCRBYFLOAT", "fl", "-1e3"],
        vec!["INCRBYFLOAT", "fl", "5.0e3"],
        vec!["INCRBYFLOAT", "fl", "nan"],
        vec!["INCRBYFLOAT", "fl", "1e400"],
        vec!["INCRBYFLOAT", "a", "1"],
        vec!["SET", "l1", "ohmytext"],
        vec!["SET", "l2", "mynewtext"],
        vec!["LCS", "l1", "l2"],
        vec!["LCS", "l1", "l2", "LEN"],
        vec!["LCS", "l1", "l2", "IDX"],
        vec!["LCS", "l1", "l2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"],
        vec!["LCS", "l1", "l2", "IDX", "LEN"],
        vec!["LCS", "l1", "nokey", "IDX"],
        vec!["EXISTS", "a", "a", "nokey"],
        vec!["TYPE", "a"],
        vec!["TYPE", "nokey"],
        vec!["DEL", "a", "nokey"],
        vec!["RENAME", "b", "b2"],
        vec!["RENAME", "nokey", "x"],
        vec!["RENAMENX", "b2", "cnt"],
        vec!["RENAME", "b2", "b2"],
        vec!["COPY", "b2", "b3"],
        vec!["COPY", "b2", "b3"],
        vec!["COPY", "b2", "b2"],
        vec!["COPY", "b2", "b3", "DB", "x"],
        vec!["COPY", "b2", "b3", "DB", "100"],
        vec!["MOVE", "b3", "2"],
        vec!["MOVE", "b3", "0"],
        vec!["EXPIREAT", "b2", far],
        vec!["EXPIRETIME", "b2"],
        vec!["PEXPIRETIME", "b2"],
        vec!["EXPIREAT", "b2", far, "NX"],
        vec!["EXPIREAT", "b2", "4102444801", "GT"],
        vec!["EXPIREAT", "b2", "4102444700", "LT"],
        vec!["EXPIRETIME", "b2"],
        vec!["EXPIRE", "b2", "10", "NX", "GT"],
        vec!["EXPIRE", "b2", "10", "GT", "LT"],
        vec!["EXPIRE", "b2", "10", "BAD"],
        vec!["EXPIRE", "b2", "9223372036854775807"],
        vec!["PERSIST", "b2"],
        vec!["PERSIST", "b2"],
        vec!["TTL", "b2"],
        vec!["TTL", "nokey"],
        vec!["PTTL", "nokey"],
        vec!["EXPIRETIME", "nokey"],
        vec!["OBJECT", "ENCODING", "cnt"],
        vec!["OBJECT", "ENCODING", "b2"],
        vec!["OBJECT", "ENCODING", "nokey"],
        vec!["OBJECT", "REFCOUNT", "b2"],
        vec!["OBJECT", "FOO"],
        vec!["OBJECT"],
        vec!["SELECT", "99"],
        vec!["SELECT", "-1"],
        vec!["SWAPDB", "0", "x"],
        vec!["SWAPDB", "0", "1"],
        vec!["SWAPDB", "0", "1"],
        vec!["DBSIZE"],
        vec!["SCAN", "x"],
        vec!["SCAN", "0", "COUNT", "0"],
        vec!["FLUSHDB", "BAD"],
        vec!["FOO", "bar"],
        vec!["GET", "a", "b"],
        vec!["CONFIG", "GET"],
        vec!["CONFIG", "SET", "nosuch", "1"],
        vec!["CONFIG", "SET", "hz", "x"],
        vec!["CONFIG", "SET", "databases", "2"],
        vec!["CONFIG", "GET", "timeout"],
        vec!["CLIENT", "FOO"],
        vec!["CLIENT", "SETNAME", "a b"],
        vec!["CLIENT", "GETNAME"],
        vec!["CLIENT", "KILL", "9.9.9.9:1"],
        vec!["AUTH", "x"],
        vec!["HELLO", "4"],
        vec!["HELLO", "x"],
        vec!["COMMAND", "GETKEYS", "mset", "a", "1", "b", "2"],
        vec!["COMMAND", "GETKEYS", "nosuch"],
        vec!["COMMAND", "GETKEYS", "ping"],
        vec!["COMMAND", "GETKEYS", "ping", "a", "b", "c", "d"],
        vec!["COMMAND", "GETKEYS", "get"],
        vec!["COMMAND", "GETKEYS", "xread", "COUNT", "1", "BLOCK", "0"],
        vec!["COMMAND", "GETKEYS", "xread", "streams", "a", "b", "c"],
        vec![
            "COMMAND", "GETKEYS", "xread", "FOO", "STREAMS", "a", "b", "0", "0",
        ],
        vec!["COMMAND", "GETKEYS", "xread", "STREAMS", "a", "STREAMS"],
        vec![
            "COMMAND",
            "GETKEYSANDFLAGS",
            "xreadgroup",
            "GROUP",
            "g",
            "c",
            "NOACK",
            "STREAMS",
            "a",
            "b",
            "0",
            "0",
        ],
        vec![
            "COMMAND",
            "GETKEYS",
            "xreadgroup",
            "GROUP",
            "STREAMS",
            "c",
            "STREAMS",
            "a",
            ">",
        ],
        vec!["COMMAND", "GETKEYS", "eval", "return 1", "0"],
        vec!["COMMAND", "GETKEYS", "lmpop", "0", "a", "LEFT"],
        vec!["COMMAND", "INFO", "xread", "xreadgroup"],
        vec!["COMMAND", "INFO", "get", "nosuch"],
        vec!["QUIT"],
    ]
    .iter()
    .map(|c| cmd(c))
    .collect();
    compare(&script);
}

#[test]
fn random_string_and_key_commands_match_redis() {
    let mut rng = Rng(0x9e3779b97f4a7c15);
    let keys = ["k0", "k1", "k2", "k3", "k4", "k5"];
    let ints = [
        "0",
        "1",
        "-1",
        "42",
        "9223372036854775807",
        "-9223372036854775808",
        "007",
        "1.5",
        "abc",
        "",
    ];
    let floats = [
        "0.1", "0.2", "-3.5", "1e3", "10.50", "3.0e3", "-0.0001", "100", "x", "1e20",
    ];
    let idx = ["0", "1", "2", "-1", "-3", "5", "100", "-100"];
    let mut cmds = Vec::new();
    for _ in 0..3000 {
        let k = rng.pick(&keys);
        let k2 = rng.pick(&keys);
        let v = rng
            .pick(&["a", "hello", "12", "-7", "3.25", "ab\r\ncd", "x y"])
            .to_string();
        let c: Vec<String> = match rng.below(26) {
            0 => vec!["SET".into(), k.into(), v],
            1 => vec![
                "SET".into(),
                k.into(),
                v,
                rng.pick(&["NX", "XX", "GET", "KEEPTTL"]).into(),
            ],
            2 => vec!["GET".into(), k.into()],
            3 => vec!["APPEND".into(), k.into(), v],
            4 => vec!["INCR".into(), k.into()],
            5 => vec!["INCRBY".into(), k.into(), rng.pick(&ints).into()],
            6 => vec!["DECRBY".into(), k.into(), rng.pick(&ints).into()],
            7 => vec!["INCRBYFLOAT".into(), k.into(), rng.pick(&floats).into()],
            8 => vec![
                "GETRANGE".into(),
                k.into(),
                rng.pick(&idx).into(),
                rng.pick(&idx).into(),
            ],
            9 => vec![
                "SETRANGE".into(),
                k.into(),
                rng.pick(&["0", "2", "7"]).into(),
                v,
            ],
            10 => vec!["STRLEN".into(), k.into()],
            11 => vec!["MGET".into(), k.into(), k2.into(), "nokey".into()],
            12 => vec!["MSETNX".into(), k.into(), v.clone(), k2.into(), v],
            13 => vec!["DEL".into(), k.into()],
            14 => vec!["EXISTS".into(), k.into(), k2.into()],
            15 => vec!["RENAME".into(), k.into(), k2.into()],
            16 => vec!["RENAMENX".into(), k.into(), k2.into()],
            17 => vec!["COPY".into(), k.into(), k2.into(), "REPLACE".into()],
            18 => vec!["GETDEL".into(), k.into()],
            19 => vec!["SETNX".into(), k.into(), v],
            20 => vec!["GETSET".into(), k.into(), v],
            21 => vec![
                "LCS".into(),
                k.into(),
                k2.into(),
                rng.pick(&["LEN", "IDX", "WITHMATCHLEN", "MINMATCHLEN"])
                    .into(),
            ],
            22 => vec![
                "EXPIREAT".into(),
                k.into(),
                rng.pick(&["4102444800", "4102444900"]).into(),
                rng.pick(&["NX", "XX", "GT", "LT"]).into(),
            ],
            23 => vec![
                rng.pick(&["EXPIRETIME", "PERSIST", "TYPE"]).into(),
                k.into(),
            ],
            24 => vec!["OBJECT".into(), "ENCODING".into(), k.into()],
            _ => vec![rng.pick(&["GET", "SET", "INCR", "MGET", "STRLEN"]).into()],
        };
        cmds.push(c.into_iter().map(String::into_bytes).collect());
    }
    compare(&cmds);
}

#[test]
fn resp3_replies_match_redis() {
    let script: Vec<Vec<Vec<u8>>> = [
        vec!["HELLO", "3"],
        vec!["SET", "k", "v"],
        vec!["GET", "nokey"],
        vec!["MGET", "k", "nokey"],
        vec!["SET", "k", "v", "NX"],
        vec!["CONFIG", "GET", "timeout"],
        vec!["LCS", "k", "k", "IDX"],
        vec!["OBJECT", "ENCODING", "nokey"],
        vec!["COMMAND", "INFO", "get", "nosuch"],
        vec!["HELLO", "2"],
        vec!["GET", "nokey"],
    ]
    .iter()
    .map(|c| cmd(c))
    .collect();
    // HELLO's reply carries the client id, which differs; compare the rest.
    compare_normalized(&script, |c, r| {
        if c[0] == b"HELLO" {
            r.split("$2\r\nid\r\n").next().unwrap().to_string()
        } else {
            r.to_string()
        }
    });
}

/// Sends `input` on a fresh connection and collects everything the server
/// writes until it closes the connection or goes quiet for 300 ms.
fn exchange(port: u16, input: &[u8]) -> (String, bool) {
    use std::io::{Read, Write};
    let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.set_read_timeout(Some(std::time::Duration::from_millis(300)))
        .unwrap();
    c.write_all(input).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match c.read(&mut buf) {
            Ok(0) => return (s(&out), true),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return (s(&out), true),
            Err(_) => return (s(&out), false),
        }
    }
}

#[test]
fn malformed_input_and_edge_frames_match_redis() {
    let Some(redis) = Server::redis() else {
        return;
    };
    let ember = Server::start(&[]);
    let long_arg = format!("FOO {}\r\n", "a".repeat(300));
    let many_args = format!("FOO {}\r\n", "abcdefghij ".repeat(40));
    let cases: Vec<Vec<u8>> = vec![
        b"*1\r\nx\r\n".to_vec(),
        b"*1\r\n$-1\r\n".to_vec(),
        b"*3000000000\r\n".to_vec(),
        b"*abc\r\n".to_vec(),
        b"*1\r\n$abc\r\n".to_vec(),
        b"*1\r\n$01\r\n".to_vec(),
        b"SET \"unterminated\r\n".to_vec(),
        b"SET 'a'b c\r\n".to_vec(),
        b"SET \"a\"b c\r\n".to_vec(),
        b"*1\r\n$536870913\r\n".to_vec(),
        b"*0\r\n*-1\r\nPING\r\n".to_vec(),
        b"PING\r\n\r\n\n\r\nECHO x\r\n".to_vec(),
        b"*2\r\n$4\r\nECHO\r\n$3\r\nabcXYPING\r\n".to_vec(),
        b"SET\ta\tb\r\nGET a\r\n".to_vec(),
        b"ECHO \"\\x41\\x4a\\n\\t\\\\z\"\r\n".to_vec(),
        b"ECHO 'it\\'s'\r\n".to_vec(),
        b"QUIT\r\nPING\r\n".to_vec(),
        long_arg.into_bytes(),
        many_args.into_bytes(),
        b"get\r\nGeT a b\r\nCLIENT\r\nclient nosuch\r\n".to_vec(),
        b"SET k v\r\n*1\r\nbad\r\n".to_vec(),
    ];
    for input in &cases {
        let want = exchange(redis.port, input);
        let got = exchange(ember.port, input);
        assert_eq!(got, want, "input {:?}", s(input));
    }
}

/// COMMAND INFO's arity, flags, first/last/step, ACL categories and tips,
/// for every command both servers know (key specs are simplified here).
#[test]
fn command_info_matches_redis() {
    let Some(redis) = Server::redis() else { return };
    let ember = Server::start(&[]);
    let (mut a, mut b) = (ember.client(), redis.client());
    let names: Vec<String> = q(&mut a, &["COMMAND", "LIST"]).unwrap();
    type Info = (
        Vec<redis::Value>,
        std::collections::BTreeMap<String, Vec<redis::Value>>,
    );
    // Arity, flags, keys, categories and tips of the command and of each
    // subcommand, by name (key specs are left out).
    let info = |c: &mut redis::Connection, name: &str| -> Option<Info> {
        let v: redis::Value = q(c, &["COMMAND", "INFO", name]).unwrap();
        let redis::Value::Array(items) = v else {
            return None;
        };
        let Some(redis::Value::Array(info)) = items.first() else {
            return None; // unknown to this server
        };
        let mut subs = std::collections::BTreeMap::new();
        if let Some(redis::Value::Array(list)) = info.get(9) {
            for sub in list {
                if let redis::Value::Array(x) = sub {
                    let redis::Value::BulkString(n) = &x[0] else {
                        continue;
                    };
                    subs.insert(s(n), x[1..8].to_vec());
                }
            }
        }
        Some((info[1..8].to_vec(), subs))
    };
    let mut compared = 0;
    for name in &names {
        let Some((mut theirs, their_subs)) = info(&mut b, name) else {
            continue; // newer than Redis 7.0 (CLIENT SETINFO, ...)
        };
        let (mut ours, our_subs) = info(&mut a, name).unwrap();
        if name == "zrank" || name == "zrevrank" {
            // These take Redis 7.2's WITHSCORE, so their arity is -3.
            ours.remove(0);
            theirs.remove(0);
        }
        assert_eq!(ours, theirs, "COMMAND INFO {name}");
        for (sub, mine) in &our_subs {
            if let Some(t) = their_subs.get(sub) {
                assert_eq!(mine, t, "COMMAND INFO {sub}");
                compared += 1;
            }
        }
        compared += 1;
    }
    assert!(compared > 200, "only {compared} commands compared");
}
