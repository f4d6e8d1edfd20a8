//! Regression tests for what Redis's own test suite and a careless or
//! hostile client found: a client could stop, wedge or exhaust the server.
//! Each of these failed before its fix.

mod common;
use common::*;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

/// A client that sends part of a request and closes is freed at once,
/// whatever is buffered (before, it stayed until `timeout`, so 25 of them
/// filled `maxclients 20` and 4 MiB partial bulks grew memory for ever).
#[test]
fn partial_request_then_close_frees_the_client() {
    let srv = Server::start(&["--maxclients", "20"]);
    // Five rounds of 15: without the fix the second round is refused.
    for _round in 0..5 {
        for i in 0..15 {
            let mut c = TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
            c.set_write_timeout(Some(Duration::from_secs(20))).unwrap();
            if i % 3 == 0 {
                let mut req = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4194304\r\n".to_vec();
                req.extend(std::iter::repeat_n(b'x', 1 << 20));
                let _ = c.write_all(&req);
            } else {
                c.write_all(b"GET k").unwrap();
            }
        }
        eventually("clients freed", Duration::from_secs(5), || {
            info_field(&srv, "clients", "connected_clients") == "1"
        });
    }
    // Still serving, well under maxclients.
    let mut c = srv.client();
    let pong: String = q(&mut c, &["PING"]).unwrap();
    assert_eq!(pong, "PONG");
    assert_eq!(info_field(&srv, "stats", "rejected_connections"), "0");
    assert!(srv.used_memory() < 64 << 20, "partial bulks were kept");
}

/// A half-close after a request: the reply still comes, then the server
/// closes its side.
#[test]
fn half_close_gets_the_reply_then_eof() {
    let srv = Server::start(&[]);
    let mut c = TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    c.write_all(b"PING\r\nECHO hi\r\n").unwrap();
    c.shutdown(Shutdown::Write).unwrap();
    let mut got = Vec::new();
    c.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"+PONG\r\n$2\r\nhi\r\n");
}

/// A client that writes a whole pipeline before reading a reply (redis-py's
/// `pipeline().execute()`): the server keeps reading, as Redis does. Before,
/// it stopped reading at ~2 MB of queued replies and both sides waited.
#[test]
fn pipeline_written_whole_before_reading_completes() {
    let srv = Server::start(&[]);
    let mut c = srv.client();
    let _: () = q(&mut c, &["SET", "v", &"x".repeat(1024)]).unwrap();
    let n = 20_000; // ~20 MB of replies, ~300 KB of requests
    let mut s = TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut req = Vec::new();
    for _ in 0..n {
        req.extend_from_slice(b"*2\r\n$3\r\nGET\r\n$1\r\nv\r\n");
    }
    let mut w = s.try_clone().unwrap();
    let writer = std::thread::spawn(move || w.write_all(&req).is_ok());
    // Give the writer time to fill every buffer before anyone reads.
    std::thread::sleep(Duration::from_millis(500));
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let want = n * (1024 + 9);
    let mut got = 0;
    let mut buf = vec![0u8; 1 << 16];
    while got < want {
        let r = s.read(&mut buf).expect("replies");
        assert!(r > 0, "closed after {got} bytes");
        got += r;
    }
    assert!(writer.join().unwrap(), "the server stopped reading");
    assert_eq!(got, want);
}

/// SHUTDOWN (and every no-multi command) is refused at queue time inside
/// MULTI, dooming the transaction; before, EXEC ran it and the server
/// stopped.
#[test]
fn shutdown_inside_multi_is_refused() {
    let srv = Server::start(&[]);
    let mut r = srv.raw();
    assert_eq!(r.cmd(&["MULTI"]), b"+OK\r\n");
    assert_eq!(
        r.cmd(&["SHUTDOWN"]),
        b"-ERR Command not allowed inside a transaction\r\n"
    );
    assert_eq!(
        r.cmd(&["EXEC"]),
        b"-EXECABORT Transaction discarded because of previous errors.\r\n"
    );
    assert_eq!(r.cmd(&["PING"]), b"+PONG\r\n");
}

/// Runs, from another thread, a script that writes and then loops: past
/// the busy threshold it cannot be killed.
fn start_unkillable_script(port: u16) {
    std::thread::spawn(move || {
        let mut r = Raw::connect(port);
        r.s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut b = [0u8; 64];
        let _ = r.s.write_all(&encode(&[
            b"EVAL",
            b"redis.call('set','x','1') while 1 do end",
            b"0",
        ]));
        let _ = r.s.read(&mut b);
    });
}

fn busy(srv: &Server) -> bool {
    srv.raw().cmd(&["PING"]).starts_with(b"-BUSY")
}

/// A script looping through pcall is killed by SCRIPT KILL: the kill error
/// is not pcall's to catch (before, SCRIPT KILL answered OK and every
/// other client got -BUSY for ever).
#[test]
fn script_looping_through_pcall_can_be_killed() {
    let srv = Server::start(&["--busy-reply-threshold", "10"]);
    for body in [
        "local f = function() while 1 do redis.call('ping') end end while 1 do pcall(f) end",
        "local f = function() while 1 do end end while 1 do xpcall(f, function(e) return e end) end",
        "while 1 do coroutine.resume(coroutine.create(function() while 1 do end end)) end",
    ] {
        let port = srv.port;
        let body = body.to_string();
        let h = std::thread::spawn(move || {
            let mut r = Raw::connect(port);
            r.s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            r.cmd(&["EVAL", &body, "0"])
        });
        eventually("script busy", Duration::from_secs(5), || busy(&srv));
        assert_eq!(srv.raw().cmd(&["SCRIPT", "KILL"]), b"+OK\r\n");
        let reply = h.join().unwrap();
        assert!(
            s(&reply).starts_with("-ERR Script killed by user with SCRIPT KILL"),
            "{}",
            s(&reply)
        );
        assert_eq!(srv.raw().cmd(&["PING"]), b"+PONG\r\n");
    }
}

/// While a script is busy: SHUTDOWN answers -BUSY, SHUTDOWN NOSAVE stops
/// the server, even when the script wrote (UNKILLABLE); before, only
/// SIGKILL ended it.
#[test]
fn shutdown_nosave_stops_an_unkillable_script() {
    let mut srv = Server::start(&["--busy-reply-threshold", "10"]);
    start_unkillable_script(srv.port);
    eventually("script busy", Duration::from_secs(5), || busy(&srv));
    assert!(s(&srv.raw().cmd(&["SCRIPT", "KILL"])).starts_with("-UNKILLABLE"));
    assert!(s(&srv.raw().cmd(&["SHUTDOWN"])).starts_with("-BUSY"));
    let mut r = srv.raw();
    r.send(&encode(&[b"SHUTDOWN", b"NOSAVE"]));
    let st = srv.wait_exit(Duration::from_secs(5)).expect("exited");
    assert!(st.success(), "{st}");
}

/// SIGTERM while an unkillable script runs stops the server (Redis exits
/// at once); SIGHUP is ignored, as Redis ignores it.
#[test]
fn signals_while_busy_and_sighup() {
    let mut srv = Server::start(&["--busy-reply-threshold", "10"]);
    srv.signal(libc::SIGHUP);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(srv.raw().cmd(&["PING"]), b"+PONG\r\n", "SIGHUP stopped it");
    start_unkillable_script(srv.port);
    eventually("script busy", Duration::from_secs(5), || busy(&srv));
    srv.signal(libc::SIGTERM);
    let st = srv
        .wait_exit(Duration::from_secs(5))
        .expect("SIGTERM ignored");
    assert!(st.success(), "{st}");
}

/// `dir` is a protected config (Redis 7.0): CONFIG SET refuses it unless
/// `enable-protected-configs` allows; before, `dir /etc` answered OK.
#[test]
fn protected_configs() {
    let srv = Server::start(&[]);
    let mut r = srv.raw();
    for d in ["/etc", "/proc/self"] {
        assert_eq!(
            s(&r.cmd(&["CONFIG", "SET", "dir", d])),
            "-ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config\r\n"
        );
    }
    let tmp = TempDir::new("dir");
    let open = Server::start(&["--enable-protected-configs", "local"]);
    let mut r = open.raw();
    assert_eq!(r.cmd(&["CONFIG", "SET", "dir", &tmp.path("")]), b"+OK\r\n");
    let got = s(&r.cmd(&["CONFIG", "GET", "dir"]));
    assert!(
        got.contains(tmp.0.file_name().unwrap().to_str().unwrap()),
        "{got}"
    );
}

/// Values are checked as Redis checks them, from flags and CONFIG SET.
#[test]
fn config_values_are_validated() {
    let srv = Server::start(&[]);
    let mut r = srv.raw();
    assert_eq!(
        s(&r.cmd(&["CONFIG", "SET", "hz", "-1"])),
        "-ERR CONFIG SET failed (possibly related to argument 'hz') - argument must be between 0 and 2147483647 inclusive\r\n"
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_emberkv-server"))
        .args(["--port", "0", "--hz", "-5"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = s(&out.stderr);
    assert!(
        err.contains("*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***"),
        "{err}"
    );
    assert!(
        err.contains("argument must be between 0 and 2147483647 inclusive"),
        "{err}"
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_emberkv-server"))
        .args(["--port", "0", "--no-such-directive", "1"])
        .output()
        .unwrap();
    assert!(s(&out.stderr).contains("Bad directive or wrong number of arguments"));
}

/// Protocol edge cases, byte for byte as Redis answers them.
#[test]
fn protocol_edges_as_redis() {
    let srv = Server::start(&[]);
    let mut r = srv.raw();
    assert_eq!(
        r.cmd(&["PING", "a", "b"]),
        b"-ERR wrong number of arguments for 'ping' command\r\n"
    );
    // Unknown commands echo the client's bytes (no U+FFFD).
    r.send(&encode(&[b"f\xffoo", b"\xfe"]));
    assert_eq!(
        r.reply(),
        b"-ERR unknown command 'f\xffoo', with args beginning with: '\xfe' \r\n"
    );
    // Inline: a vertical tab is part of a word, a NUL ends the line.
    r.send(b"ECHO a\x0bb\r\n");
    assert_eq!(r.reply(), b"$3\r\na\x0bb\r\n");
    r.send(b"ECHO a\0b\r\n");
    assert_eq!(r.reply(), b"$1\r\na\r\n");
}

/// The unix socket: `unixsocket`, `unixsocketperm`, CLIENT LIST's `U`, the
/// file removed at shutdown.
#[test]
fn unix_socket() {
    let tmp = TempDir::new("sock");
    let path = tmp.path("e.sock");
    let srv = Server::start(&["--unixsocket", &path, "--unixsocketperm", "700"]);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    let mut u = std::os::unix::net::UnixStream::connect(&path).unwrap();
    u.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    u.write_all(b"CLIENT INFO\r\n").unwrap();
    let mut buf = vec![0u8; 4096];
    let n = u.read(&mut buf).unwrap();
    let line = s(&buf[..n]);
    assert!(line.contains(&format!("addr={path}:0")), "{line}");
    assert!(line.contains(" flags=U "), "{line}");
    let got = s(&srv.raw().cmd(&["CONFIG", "GET", "unixsocketperm"]));
    assert!(got.contains("700"), "{got}");
    drop(srv);
    assert!(!std::path::Path::new(&path).exists(), "socket file left");
}

/// The start-up lines that harnesses (Redis's own suite among them) wait
/// for, the pid file, and `dir` as the working directory.
#[test]
fn startup_as_redis_starts() {
    let tmp = TempDir::new("start");
    let pidfile = tmp.path("e.pid");
    let srv = Server::start(&["--pidfile", &pidfile, "--dir", &tmp.path("")]);
    let log = srv.log_text();
    assert!(log.contains(&format!(" PID: {}", srv.pid())), "{log}");
    assert!(log.contains("Ready to accept connections"), "{log}");
    let pid = std::fs::read_to_string(&pidfile).unwrap();
    assert_eq!(pid.trim(), srv.pid().to_string());
    drop(srv);
    assert!(!std::path::Path::new(&pidfile).exists(), "pid file left");
}

/// Found by running Redis 7.0's own test suite against emberkv (external
/// server mode): each assertion is one of its tests.
#[test]
fn found_by_redis_test_suite() {
    let srv = Server::start(&[]);
    let mut r = srv.raw();
    // unit/sort: the last STORE is the destination.
    assert_eq!(
        s(&r.cmd(&[
            "COMMAND", "GETKEYS", "sort", "abc", "store", "invalid", "store", "stillbad", "store",
            "def"
        ])),
        "*2\r\n$3\r\nabc\r\n$3\r\ndef\r\n"
    );
    // unit/functions: every argument before the code is an option.
    assert_eq!(
        s(&r.cmd(&[
            "FUNCTION",
            "LOAD",
            "foo",
            "bar",
            "#!lua name=x\nredis.register_function('f', function() return 1 end)"
        ])),
        "-ERR Unknown option given: foo\r\n"
    );
    // unit/introspection: CLIENT KILL USER of no such user; qbuf shows
    // the running command (26 bytes for CLIENT INFO).
    assert_eq!(
        s(&r.cmd(&["CLIENT", "KILL", "USER", "wrong_user"])),
        "-ERR No such user 'wrong_user'\r\n"
    );
    let info = s(&r.cmd(&["CLIENT", "INFO"]));
    assert!(info.contains(" qbuf=26 "), "{info}");
}
