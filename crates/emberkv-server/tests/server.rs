//! Start-up, configuration, connection and server commands.

mod common;
use common::*;
use std::time::Duration;

#[test]
fn config_file_and_flags() {
    let dir = std::env::temp_dir().join(format!("emberkv-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let file = dir.join("test.conf");
    std::fs::write(
        &file,
        format!(
            "# comment\nport {port}\nbind 127.0.0.1\nhz 25\ntimeout 0\nrequirepass \"s3cret pw\"\n"
        ),
    )
    .unwrap();
    // A flag after the file overrides it.
    let srv = Server::start_raw(
        &[file.display().to_string(), "--hz".into(), "30".into()],
        port,
    );
    let mut r = srv.raw();
    assert_eq!(r.cmd(&["PING"]), b"-NOAUTH Authentication required.\r\n");
    assert_eq!(
        r.cmd(&["AUTH", "wrong"]),
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(r.cmd(&["AUTH", "s3cret pw"]), b"+OK\r\n");
    assert_eq!(
        r.cmd(&["CONFIG", "GET", "hz"]),
        b"*2\r\n$2\r\nhz\r\n$2\r\n30\r\n"
    );
    drop(srv);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn invalid_directives_stop_startup_naming_them() {
    for (args, name) in [
        (vec!["--nosuchthing", "1"], "nosuchthing"),
        (vec!["--port", "notaport"], "port"),
        (vec!["--maxclients", "0"], "maxclients"),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_emberkv-server"))
            .args(&args)
            .output()
            .unwrap();
        assert!(!out.status.success());
        // Redis's format: the heading, the line (flags are lines after
        // the file's), then why.
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***"),
            "{err}"
        );
        assert!(err.contains(&format!(">>> '{name} ")), "{err}");
    }
}

#[test]
fn config_get_set_resetstat() {
    let srv = Server::start(&[]);
    let mut c = srv.client();
    let v: Vec<String> = q(&mut c, &["CONFIG", "GET", "timeout"]).unwrap();
    assert_eq!(v, vec!["timeout", "0"]);
    let v: Vec<String> = q(&mut c, &["CONFIG", "GET", "*max*"]).unwrap();
    assert!(v.contains(&"maxclients".to_string()) && v.contains(&"proto-max-bulk-len".to_string()));
    assert_eq!(
        q::<String>(&mut c, &["CONFIG", "SET", "hz", "50", "timeout", "100"]).unwrap(),
        "OK"
    );
    let v: Vec<String> = q(&mut c, &["CONFIG", "GET", "hz", "timeout"]).unwrap();
    assert!(v.contains(&"50".to_string()) && v.contains(&"100".to_string()));
    assert_eq!(
        err(&mut c, &["CONFIG", "SET", "foo", "bar"]),
        "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"
    );
    assert_eq!(err(&mut c, &["CONFIG", "SET", "hz", "abc"]), "ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer");
    assert_eq!(err(&mut c, &["CONFIG", "SET", "databases", "3"]), "ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config");
    assert_eq!(
        err(&mut c, &["CONFIG", "SET", "hz", "5", "hz", "6"]),
        "ERR CONFIG SET failed (possibly related to argument 'hz') - duplicate parameter"
    );
    // All or nothing: a bad second pair leaves the first unapplied.
    assert!(err(
        &mut c,
        &["CONFIG", "SET", "timeout", "7", "maxclients", "0"]
    )
    .contains("'maxclients'"));
    let v: Vec<String> = q(&mut c, &["CONFIG", "GET", "timeout"]).unwrap();
    assert_eq!(v[1], "100");
    assert_eq!(
        q::<String>(&mut c, &["CONFIG", "SET", "loglevel", "warning"]).unwrap(),
        "OK"
    );
    q::<String>(&mut c, &["SET", "k", "v"]).unwrap();
    assert_eq!(q::<String>(&mut c, &["CONFIG", "RESETSTAT"]).unwrap(), "OK");
    let info: String = q(&mut c, &["INFO", "commandstats"]).unwrap();
    assert!(!info.contains("cmdstat_set:"), "{info}");
}

#[test]
fn requirepass_at_runtime_and_hello_auth() {
    let srv = Server::start(&[]);
    let mut admin = srv.raw();
    assert_eq!(admin.cmd(&["AUTH", "x"]), b"-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n");
    assert_eq!(
        admin.cmd(&["CONFIG", "SET", "requirepass", "pw"]),
        b"+OK\r\n"
    );
    let mut r = srv.raw();
    assert_eq!(
        r.cmd(&["GET", "k"]),
        b"-NOAUTH Authentication required.\r\n"
    );
    assert!(s(&r.cmd(&["HELLO", "3"])).starts_with("-NOAUTH HELLO must be called"));
    let h = s(&r.cmd(&["HELLO", "3", "AUTH", "default", "pw", "SETNAME", "me"]));
    assert!(h.starts_with("%7"), "{h}");
    assert_eq!(r.cmd(&["CLIENT", "GETNAME"]), b"$2\r\nme\r\n");
    assert_eq!(
        r.cmd(&["AUTH", "other", "pw"]),
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(r.cmd(&["RESET"]), b"+RESET\r\n");
    assert_eq!(
        r.cmd(&["GET", "k"]),
        b"-NOAUTH Authentication required.\r\n"
    );
}

#[test]
fn client_commands() {
    let srv = Server::start(&[]);
    let mut a = srv.client();
    let mut b = srv.raw();
    let id: i64 = q(&mut a, &["CLIENT", "ID"]).unwrap();
    assert_eq!(
        q::<String>(&mut a, &["CLIENT", "SETNAME", "alpha"]).unwrap(),
        "OK"
    );
    assert_eq!(
        q::<String>(&mut a, &["CLIENT", "GETNAME"]).unwrap(),
        "alpha"
    );
    assert_eq!(
        err(&mut a, &["CLIENT", "SETNAME", "a b"]),
        "ERR Client names cannot contain spaces, newlines or special characters."
    );
    let list: String = q(&mut a, &["CLIENT", "LIST"]).unwrap();
    assert!(
        list.contains(&format!("id={id} ")) && list.contains("name=alpha"),
        "{list}"
    );
    assert!(list.contains("cmd=client|list"), "{list}");
    let info: String = q(&mut a, &["CLIENT", "INFO"]).unwrap();
    assert!(info.starts_with(&format!("id={id} ")));
    assert_eq!(
        q::<String>(&mut a, &["CLIENT", "NO-EVICT", "on"]).unwrap(),
        "OK"
    );
    assert_eq!(
        q::<String>(&mut a, &["CLIENT", "NO-TOUCH", "on"]).unwrap(),
        "OK"
    );
    assert_eq!(
        err(&mut a, &["CLIENT", "NO-EVICT", "maybe"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut a, &["CLIENT", "FOO"]),
        "ERR unknown subcommand 'FOO'. Try CLIENT HELP."
    );
    assert_eq!(
        err(&mut a, &["CLIENT", "SETNAME"]),
        "ERR wrong number of arguments for 'client|setname' command"
    );
    // Kill the raw connection by id.
    let bid = s(&b.cmd(&["CLIENT", "ID"]));
    let bid = bid.trim_start_matches(':').trim();
    assert_eq!(q::<i64>(&mut a, &["CLIENT", "KILL", "ID", bid]).unwrap(), 1);
    assert!(b.closed());
    assert_eq!(
        err(&mut a, &["CLIENT", "KILL", "1.2.3.4:5"]),
        "ERR No such client"
    );
}

#[test]
fn no_touch_keeps_idle_time() {
    let srv = Server::start(&[]);
    let mut c = srv.client();
    q::<String>(&mut c, &["SET", "k", "v"]).unwrap();
    q::<String>(&mut c, &["CLIENT", "NO-TOUCH", "on"]).unwrap();
    std::thread::sleep(Duration::from_millis(2100));
    q::<String>(&mut c, &["GET", "k"]).unwrap();
    assert!(q::<i64>(&mut c, &["OBJECT", "IDLETIME", "k"]).unwrap() >= 1);
    q::<String>(&mut c, &["CLIENT", "NO-TOUCH", "off"]).unwrap();
    q::<String>(&mut c, &["GET", "k"]).unwrap();
    assert_eq!(q::<i64>(&mut c, &["OBJECT", "IDLETIME", "k"]).unwrap(), 0);
}

#[test]
fn info_sections_use_redis_field_names() {
    let srv = Server::start(&[]);
    let mut c = srv.client();
    q::<String>(&mut c, &["SET", "a", "1"]).unwrap();
    q::<String>(&mut c, &["SET", "b", "1", "EX", "100"]).unwrap();
    q::<Option<String>>(&mut c, &["GET", "missing"]).unwrap();
    let info: String = q(&mut c, &["INFO"]).unwrap();
    for field in [
        "# Server",
        "redis_version:",
        "tcp_port:",
        "uptime_in_seconds:",
        "# Clients",
        "connected_clients:",
        "# Memory",
        "used_memory:",
        "used_memory_rss:",
        "# Stats",
        "total_commands_processed:",
        "keyspace_misses:1",
        "# Keyspace",
        "db0:keys=2,expires=1,avg_ttl=0",
    ] {
        assert!(info.contains(field), "missing {field} in {info}");
    }
    let used = srv.used_memory();
    assert!(used > 100_000, "jemalloc stats: {used}");
    let cs: String = q(&mut c, &["INFO", "commandstats"]).unwrap();
    assert!(cs.contains("cmdstat_set:calls=2,"), "{cs}");
    let all: String = q(&mut c, &["INFO", "all"]).unwrap();
    assert!(all.contains("# Commandstats"));
}

#[test]
fn command_introspection() {
    let srv = Server::start(&[]);
    let mut c = srv.client();
    let n: i64 = q(&mut c, &["COMMAND", "COUNT"]).unwrap();
    assert!(n > 60);
    let mut r = srv.raw();
    let info = s(&r.cmd(&["COMMAND", "INFO", "get", "nosuch"]));
    assert!(info.starts_with("*2\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@read\r\n+@string\r\n+@fast\r\n"), "{info}");
    assert!(info.ends_with("$-1\r\n"));
    assert_eq!(
        r.cmd(&["COMMAND", "GETKEYS", "mset", "a", "b", "c", "d"]),
        b"*2\r\n$1\r\na\r\n$1\r\nc\r\n"
    );
    assert_eq!(
        r.cmd(&["COMMAND", "GETKEYS", "foo", "bar"]),
        b"-ERR Invalid command specified\r\n"
    );
    assert_eq!(
        r.cmd(&["COMMAND", "GETKEYS", "ping", "x"]),
        b"-ERR The command has no key arguments\r\n"
    );
    assert_eq!(
        r.cmd(&["COMMAND", "GETKEYS", "get", "a", "b"]),
        b"-ERR Invalid number of arguments specified for command\r\n"
    );
    assert_eq!(
        r.cmd(&["COMMAND", "GETKEYS", "object", "encoding", "k"]),
        b"*1\r\n$1\r\nk\r\n"
    );
    let list: Vec<String> = q(&mut c, &["COMMAND", "LIST"]).unwrap();
    assert!(list.contains(&"client|list".to_string()) && list.contains(&"get".to_string()));
    let list: Vec<String> =
        q(&mut c, &["COMMAND", "LIST", "FILTERBY", "PATTERN", "incr*"]).unwrap();
    assert_eq!(list.len(), 3);
    let docs = s(&r.cmd(&["COMMAND", "DOCS", "get"]));
    assert!(
        docs.contains("summary") && docs.contains("group") && docs.contains("string"),
        "{docs}"
    );
    let all: Vec<redis::Value> = q(&mut c, &["COMMAND"]).unwrap();
    assert_eq!(all.len() as i64, n);
}

#[test]
fn unknown_command_and_arity_errors() {
    let srv = Server::start(&[]);
    let mut r = srv.raw();
    assert_eq!(
        r.cmd(&["FOO", "a", "b"]),
        b"-ERR unknown command 'FOO', with args beginning with: 'a' 'b' \r\n"
    );
    assert_eq!(
        r.cmd(&["GET", "a", "b"]),
        b"-ERR wrong number of arguments for 'get' command\r\n"
    );
    assert_eq!(
        r.cmd(&["CONFIG", "GET"]),
        b"-ERR wrong number of arguments for 'config|get' command\r\n"
    );
    assert_eq!(
        r.cmd(&["CLIENT"]),
        b"-ERR wrong number of arguments for 'client' command\r\n"
    );
}

#[test]
fn idle_timeout_closes_clients() {
    let srv = Server::start(&["--timeout", "1", "--hz", "50"]);
    let mut idle = srv.raw();
    assert_eq!(idle.cmd(&["PING"]), b"+PONG\r\n");
    std::thread::sleep(Duration::from_millis(2300));
    assert!(idle.closed(), "idle client was not closed");
}

#[test]
fn maxclients_refuses_with_redis_error() {
    let srv = Server::start(&["--maxclients", "3"]);
    // Wait until this connection is the only one (no other client should
    // exist, but the count is what the test relies on), then fill the
    // other two slots.
    let mut first = srv.raw();
    let end = std::time::Instant::now() + Duration::from_secs(5);
    while !s(&first.cmd(&["INFO", "clients"])).contains("connected_clients:1\r\n") {
        assert!(
            std::time::Instant::now() < end,
            "probe connections never closed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut keep = [first, srv.raw(), srv.raw()];
    // Each kept connection answers before the extra one connects: workers
    // accept in parallel, so without this the extra connection could take
    // a slot first and one of these be refused instead.
    for c in &mut keep {
        assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n");
    }
    let mut extra = srv.raw();
    assert_eq!(extra.reply(), b"-ERR max number of clients reached\r\n");
    drop(keep);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(srv.raw().cmd(&["PING"]), b"+PONG\r\n");
}

#[test]
fn shutdown_command_and_sigterm_stop_gracefully() {
    let mut srv = Server::start(&[]);
    let mut r = srv.raw();
    r.send(b"SHUTDOWN NOSAVE\r\n");
    assert!(r.closed());
    let st = srv
        .wait_exit(Duration::from_secs(5))
        .expect("server exited");
    assert!(st.success());

    let mut srv = Server::start(&[]);
    srv.signal(15);
    let st = srv
        .wait_exit(Duration::from_secs(5))
        .expect("server exited on SIGTERM");
    assert!(st.success());
}

#[test]
fn time_echo_ping() {
    let srv = Server::start(&[]);
    let mut c = srv.client();
    let t: Vec<String> = q(&mut c, &["TIME"]).unwrap();
    assert_eq!(t.len(), 2);
    assert!(t[0].parse::<u64>().unwrap() > 1_600_000_000);
    assert_eq!(q::<String>(&mut c, &["ECHO", "hi"]).unwrap(), "hi");
    assert_eq!(q::<String>(&mut c, &["PING", "x"]).unwrap(), "x");
}

#[test]
fn info_errorstats_and_avg_ttl() {
    let srv = Server::start(&["--hz", "100"]);
    let mut c = srv.client();
    q::<String>(&mut c, &["SET", "s", "x"]).unwrap();
    let _ = err(&mut c, &["INCR", "s"]);
    let _ = err(&mut c, &["NOSUCHCMD"]);
    let _ = err(&mut c, &["GET", "a", "b"]);
    let info: String = q(&mut c, &["INFO", "errorstats"]).unwrap();
    assert!(info.contains("errorstat_ERR:count=3"), "{info}");
    for i in 0..100 {
        q::<String>(&mut c, &["SET", &format!("t{i}"), "v", "EX", "1000"]).unwrap();
    }
    let end = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let ks: String = q(&mut c, &["INFO", "keyspace"]).unwrap();
        let avg: i64 = ks
            .split("avg_ttl=")
            .nth(1)
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        if avg > 900_000 && avg <= 1_000_000 {
            break;
        }
        assert!(
            std::time::Instant::now() < end,
            "avg_ttl never estimated: {ks}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
