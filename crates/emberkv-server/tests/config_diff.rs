//! Configuration against a real redis-server 7.0.15: the same directives
//! with the same defaults, and CONFIG SET accepting and refusing the same
//! values with the same error texts; and start-up on Redis's own full
//! redis.conf.

mod common;
use common::*;
use std::collections::BTreeMap;

/// CONFIG GET * as a map.
fn all(r: &mut Raw) -> BTreeMap<String, String> {
    let reply = r.cmd(&["CONFIG", "GET", "*"]);
    let v: redis::Value = redis::parse_redis_value(&reply).unwrap();
    let redis::Value::Array(items) = v else {
        panic!("not an array")
    };
    let mut out = BTreeMap::new();
    for kv in items.chunks(2) {
        let (redis::Value::BulkString(k), redis::Value::BulkString(v)) = (&kv[0], &kv[1]) else {
            panic!("not bulk strings")
        };
        out.insert(s(k), s(v));
    }
    out
}

/// Directives whose CONFIG SET acts on the process in ways a test must not
/// trigger (rebinding, starting an AOF, TLS files, auth, fd limits), or
/// that depend on how the two servers were started.
const SKIP: &[&str] = &[
    "port",
    "bind",
    "dir",
    "requirepass",
    "appendonly",
    "maxclients",
    "tls-port",
    "oom-score-adj",
    "oom-score-adj-values",
    "watchdog-period",
];

/// emberkv's own directives, which Redis 7.0 does not know.
const OURS: &[&str] = &[
    "server-threads",
    "shards",
    "set-max-listpack-entries",
    "set-max-listpack-value",
];

#[test]
fn same_directives_same_defaults() {
    let Some(redis) = Server::redis() else { return };
    let ours = Server::start(&[]);
    let (a, b) = (all(&mut redis.raw()), all(&mut ours.raw()));
    let names_a: Vec<&String> = a.keys().collect();
    let names_b: Vec<&String> = b.keys().filter(|k| !OURS.contains(&k.as_str())).collect();
    assert_eq!(names_b, names_a, "CONFIG GET * names differ");
    assert_eq!(a.len(), 192);
    // Values differ only where the harness started them differently, and
    // for `bind`, whose default here is 127.0.0.1 (README).
    for (k, va) in &a {
        if ["port", "dir", "bind", "save", "loglevel"].contains(&k.as_str()) {
            continue;
        }
        assert_eq!(&b[k], va, "default of {k}");
    }
}

#[test]
fn config_set_accepts_and_refuses_as_redis() {
    let Some(redis) = Server::redis() else { return };
    let ours = Server::start(&[]);
    let (mut ra, mut rb) = (redis.raw(), ours.raw());
    let names: Vec<String> = all(&mut ra).into_keys().collect();
    // The harness starts emberkv at `verbose`.
    rb.cmd(&["CONFIG", "SET", "loglevel", "notice"]);
    let probes = [
        "yes",
        "no",
        "YES",
        "0",
        "1",
        "-1",
        "-2",
        "007",
        "+1",
        "abc",
        "",
        "10",
        "100mb",
        "1GB",
        "10%",
        "101%",
        "1.5",
        "700",
        "800",
        "2147483648",
        "99999999999999999999",
        "4294967296",
        "everysec",
        "nosave now",
        "save nosave",
        "local",
        "900 1",
        "900 1 300",
        "KEA",
        "Kz$",
        "xyz",
        "normal 1mb 1mb 10",
        "pubsub 0 0",
        "master 1 1 1",
        "50 99.9",
        "200",
        "a/b",
        "{title}",
        "{nope}",
        "50 101",
        "debug",
        "no one",
        "a b c",
    ];
    let mut n = 0;
    let mut diffs = Vec::new();
    for name in &names {
        if SKIP.contains(&name.as_str()) || name.starts_with("tls-") {
            continue;
        }
        let before_a = ra.cmd(&["CONFIG", "GET", name]);
        let before_b = rb.cmd(&["CONFIG", "GET", name]);
        assert_eq!(s(&before_b), s(&before_a), "CONFIG GET {name}");
        for p in probes {
            let (x, y) = (
                ra.cmd(&["CONFIG", "SET", name, p]),
                rb.cmd(&["CONFIG", "SET", name, p]),
            );
            if x != y {
                diffs.push(format!(
                    "CONFIG SET {name} {p:?}: redis {:?} emberkv {:?}",
                    s(&x),
                    s(&y)
                ));
            }
            let (x, y) = (
                ra.cmd(&["CONFIG", "GET", name]),
                rb.cmd(&["CONFIG", "GET", name]),
            );
            if x != y {
                diffs.push(format!(
                    "CONFIG GET {name} after {p:?}: redis {:?} emberkv {:?}",
                    s(&x),
                    s(&y)
                ));
            }
            n += 1;
        }
        // Back to the default.
        let redis::Value::Array(v) = redis::parse_redis_value(&before_a).unwrap() else {
            panic!()
        };
        if let Some(redis::Value::BulkString(old)) = v.get(1) {
            let old = s(old);
            ra.cmd(&["CONFIG", "SET", name, &old]);
            rb.cmd(&["CONFIG", "SET", name, &old]);
        }
    }
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
    assert!(n > 5000, "{n} probes");
    // Several at once: the first problem wins, names as typed.
    for c in [
        &["CONFIG", "SET", "hz", "5", "nosuch", "1"][..],
        &["CONFIG", "SET", "daemonize", "no", "nosuch", "1"],
        &["CONFIG", "SET", "nosuch", "1", "daemonize", "no"],
        &["CONFIG", "SET", "hz", "x", "maxmemory", "y"],
        &["CONFIG", "SET", "hz", "5", "HZ", "6"],
        &["CONFIG", "SET", "LUA-TIME-LIMIT", "x"],
        &["CONFIG", "SET", "DAEMONIZE", "no"],
        &["CONFIG", "SET", "a", "1", "b"],
        &["CONFIG", "SET", "hz"],
        &["CONFIG", "GET", "watchdog-period"],
    ] {
        assert_eq!(s(&rb.cmd(c)), s(&ra.cmd(c)), "{c:?}");
    }
    // A map: Redis's order is its dict's, so compare as pairs.
    for c in [
        &["CONFIG", "GET", "LUA-time-limit", "hz", "HZ"][..],
        &["CONFIG", "GET", "maxmemory-*", "*MAXMEM*", "*max-len"],
    ] {
        let pairs = |r: &mut Raw| {
            let redis::Value::Array(v) = redis::parse_redis_value(&r.cmd(c)).unwrap() else {
                panic!()
            };
            let mut p: Vec<String> = v
                .chunks(2)
                .map(|kv| format!("{:?}={:?}", kv[0], kv[1]))
                .collect();
            p.sort();
            p
        };
        assert_eq!(pairs(&mut rb), pairs(&mut ra), "{c:?}");
    }
}

/// Redis 7.0's own full redis.conf (Debian's /etc/redis/redis.conf), with
/// the port and paths overridden by flags: emberkv starts on it and
/// reports every directive back as redis-server does.
#[test]
fn starts_on_redis_full_redis_conf() {
    let conf = "/etc/redis/redis.conf";
    if !std::path::Path::new(conf).exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{conf} is required in CI (Debian's redis-server installs it)"
        );
        eprintln!("{conf} absent: skipping");
        return;
    }
    let tmp = TempDir::new("conf");
    let start = |bin: &str, port: u16| {
        let args: Vec<String> = [
            conf,
            "--port",
            &port.to_string(),
            "--daemonize",
            "no",
            "--pidfile",
            &tmp.path(&format!("{port}.pid")),
            "--logfile",
            "",
            "--dir",
            &tmp.path(""),
            "--bind",
            "127.0.0.1",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        if bin == "redis-server" {
            Server::start_cmd("redis-server", &args, port)
        } else {
            Server::start_raw(&args, port)
        }
    };
    let ours = start("emberkv", free_port());
    let theirs = if std::process::Command::new("redis-server")
        .arg("--version")
        .output()
        .is_ok()
    {
        Some(start("redis-server", free_port()))
    } else {
        None
    };
    let b = all(&mut ours.raw());
    // Every directive the file sets reads back as the file says.
    let text = std::fs::read_to_string(conf).unwrap();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let name = line.split_whitespace().next().unwrap();
        assert!(b.contains_key(name), "{name} not reported");
    }
    if let Some(theirs) = theirs {
        let a = all(&mut theirs.raw());
        for (k, va) in &a {
            if ["port", "pidfile"].contains(&k.as_str()) {
                continue;
            }
            assert_eq!(&b[k], va, "{k} after loading {conf}");
        }
    }
}
