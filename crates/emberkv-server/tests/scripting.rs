//! Lua scripting over TCP: conversions, caching, errors, atomicity, and
//! SCRIPT KILL of a busy script from other connections.

mod common;
use common::*;
use std::time::{Duration, Instant};

#[test]
fn eval_conversions_and_cache() {
    let srv = Server::start(&[]);
    let mut c = srv.raw();
    let e = |c: &mut Raw, script: &str, args: &[&str]| {
        let mut a = vec!["EVAL", script];
        a.extend_from_slice(args);
        c.cmd(&a)
    };
    assert_eq!(e(&mut c, "return 1", &["0"]), b":1\r\n");
    assert_eq!(e(&mut c, "return 3.7", &["0"]), b":3\r\n");
    assert_eq!(e(&mut c, "return 'x'", &["0"]), b"$1\r\nx\r\n");
    assert_eq!(e(&mut c, "return true", &["0"]), b":1\r\n");
    assert_eq!(e(&mut c, "return false", &["0"]), b"$-1\r\n");
    assert_eq!(e(&mut c, "return nil", &["0"]), b"$-1\r\n");
    assert_eq!(
        e(&mut c, "return {1,'a',{2},nil,3}", &["0"]),
        b"*3\r\n:1\r\n$1\r\na\r\n*1\r\n:2\r\n"
    );
    assert_eq!(e(&mut c, "return {ok='fine'}", &["0"]), b"+fine\r\n");
    assert_eq!(
        e(&mut c, "return redis.status_reply('S')", &["0"]),
        b"+S\r\n"
    );
    assert_eq!(
        e(&mut c, "return redis.error_reply('MY code')", &["0"]),
        b"-MY code\r\n"
    );
    assert_eq!(
        e(
            &mut c,
            "return {KEYS[1], KEYS[2], ARGV[1]}",
            &["2", "k1", "k2", "a1"]
        ),
        b"*3\r\n$2\r\nk1\r\n$2\r\nk2\r\n$2\r\na1\r\n"
    );
    // redis.call round trips.
    assert_eq!(
        e(
            &mut c,
            "redis.call('SET', KEYS[1], ARGV[1]) return redis.call('GET', KEYS[1])",
            &["1", "k", "v"]
        ),
        b"$1\r\nv\r\n"
    );
    assert_eq!(
        e(
            &mut c,
            "return redis.call('GET', 'missing') == false",
            &["0"]
        ),
        b":1\r\n"
    );
    assert_eq!(
        e(&mut c, "return redis.call('PING').ok", &["0"]),
        b"$4\r\nPONG\r\n"
    );
    assert_eq!(
        e(&mut c, "return redis.call('INCRBY', 'n', 5)", &["0"]),
        b":5\r\n"
    );
    assert_eq!(
        e(&mut c, "return redis.sha1hex('')", &["0"]),
        b"$40\r\nda39a3ee5e6b4b0d3255bfef95601890afd80709\r\n"
    );
    // The script cache.
    let sha = "e0e1f9fabfc9d4800c877a703b823ac0578ff8db";
    assert_eq!(
        c.cmd(&["SCRIPT", "LOAD", "return 1"]),
        format!("$40\r\n{sha}\r\n").into_bytes()
    );
    assert_eq!(c.cmd(&["EVALSHA", sha, "0"]), b":1\r\n");
    assert_eq!(c.cmd(&["EVALSHA", &sha.to_uppercase(), "0"]), b":1\r\n");
    assert_eq!(
        c.cmd(&["SCRIPT", "EXISTS", sha, "0000"]),
        b"*2\r\n:1\r\n:0\r\n"
    );
    assert_eq!(c.cmd(&["SCRIPT", "FLUSH"]), b"+OK\r\n");
    assert_eq!(
        c.cmd(&["EVALSHA", sha, "0"]),
        b"-NOSCRIPT No matching script. Please use EVAL.\r\n"
    );
    // EVAL caches what it runs.
    e(&mut c, "return 1", &["0"]);
    assert_eq!(c.cmd(&["EVALSHA", sha, "0"]), b":1\r\n");
    // Read-only scripts cannot write.
    assert_eq!(
        c.cmd(&["EVAL_RO", "return redis.call('GET', 'k')", "0"]),
        b"$1\r\nv\r\n"
    );
    assert!(
        s(&c.cmd(&["EVAL_RO", "return redis.call('SET', 'k', 'x')", "0"]))
            .starts_with("-ERR Write commands are not allowed from read-only scripts.")
    );
    // Argument checks.
    assert_eq!(
        c.cmd(&["EVAL", "return 1", "2", "a"]),
        b"-ERR Number of keys can't be greater than number of args\r\n"
    );
    assert_eq!(
        c.cmd(&["EVAL", "return 1", "-1"]),
        b"-ERR Number of keys can't be negative\r\n"
    );
}

#[test]
fn script_errors_and_sandbox() {
    let srv = Server::start(&[]);
    let mut c = srv.raw();
    c.cmd(&["SET", "str", "abc"]);
    let e = |c: &mut Raw, script: &str| s(&c.cmd(&["EVAL", script, "0"]));
    let sha = |b: &str| {
        use std::fmt::Write;
        let out =
            Raw::connect(srv.port).cmd(&["EVAL", &format!("return redis.sha1hex({b:?})"), "0"]);
        let mut h = String::new();
        write!(h, "{}", &s(&out)[5..45]).unwrap();
        h
    };
    let script = "return redis.call('incr','str')";
    assert_eq!(
        e(&mut c, script),
        format!(
            "-ERR value is not an integer or out of range script: {}, on @user_script:1.\r\n",
            sha(script)
        )
    );
    assert_eq!(
        e(&mut c, "return redis.pcall('incr','str')"),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        e(
            &mut c,
            "local ok, e = pcall(redis.call, 'incr', 'str') return e"
        ),
        "$43\r\nERR value is not an integer or out of range\r\n"
    );
    let script = "\n\nerror('boom')";
    assert_eq!(
        e(&mut c, script),
        format!(
            "-ERR user_script:3: boom script: {}, on @user_script:3.\r\n",
            sha(script)
        )
    );
    let script = "return os.time()";
    assert_eq!(
        e(&mut c, script),
        format!("-ERR user_script:1: Script attempted to access nonexistent global variable 'os' script: {}, on @user_script:1.\r\n", sha(script))
    );
    assert!(e(&mut c, "return io.open('/etc/passwd')").contains("nonexistent global variable 'io'"));
    assert!(e(&mut c, "return require('os')").contains("nonexistent global variable 'require'"));
    assert!(
        e(&mut c, "return dofile('/etc/passwd')").contains("nonexistent global variable 'dofile'")
    );
    assert!(e(&mut c, "x = 1").contains("Attempt to modify a readonly table"));
    assert!(e(&mut c, "redis.call = nil").contains("Attempt to modify a readonly table"));
    assert!(e(&mut c, "return redis.call('blpop', 'l', 0)")
        .starts_with("-ERR This Redis command is not allowed from script"));
    assert!(e(&mut c, "return redis.call('nosuch')")
        .starts_with("-ERR Unknown Redis command called from script"));
    assert!(e(&mut c, "return redis.call('get')")
        .starts_with("-ERR Wrong number of args calling Redis command from script"));
    assert!(e(&mut c, "return redis.call('set', 'a', {})")
        .starts_with("-ERR Lua redis lib command arguments must be strings or integers"));
    assert!(e(&mut c, "return (")
        .starts_with("-ERR Error compiling script (new function): user_script:1:"));
    assert!(s(&c.cmd(&["SCRIPT", "LOAD", "return ("])).starts_with("-ERR Error compiling script"));
    // The server is fine afterwards.
    assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n");
}

/// Another connection never sees a script half done.
#[test]
fn eval_is_atomic() {
    let srv = Server::start(&[]);
    let port = srv.port;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut c = Raw::connect(port);
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let r = s(&c.cmd(&["MGET", "a", "b", "c", "d", "e", "f", "g", "h"]));
                    let v: Vec<&str> = r.lines().skip(1).filter(|l| !l.starts_with('$')).collect();
                    assert!(
                        v.windows(2).all(|w| w[0] == w[1]),
                        "partial script seen: {r}"
                    );
                    n += 1;
                }
                n
            })
        })
        .collect();
    let mut w = Raw::connect(port);
    let script = "for _, k in ipairs({'a','b','c','d','e','f','g','h'}) do redis.call('INCR', k) end return 1";
    let end = Instant::now() + Duration::from_secs(2);
    let mut n = 0;
    while Instant::now() < end && n < 3000 {
        assert_eq!(w.cmd(&["EVAL", script, "0"]), b":1\r\n");
        n += 1;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let reads: usize = readers.into_iter().map(|h| h.join().unwrap()).sum();
    assert!(reads > 10);
}

/// A script past busy-reply-threshold: others get -BUSY (from every
/// worker, including the script's own), SCRIPT KILL stops it, and a script
/// that wrote cannot be killed.
#[test]
fn busy_script_and_script_kill() {
    let srv = Server::start(&["--server-threads", "2", "--busy-reply-threshold", "100"]);
    let mut admin = srv.raw();
    assert_eq!(
        admin.cmd(&["SCRIPT", "KILL"]),
        b"-NOTBUSY No scripts in execution right now.\r\n"
    );
    drop(admin);
    for round in 0..3 {
        let mut runner = srv.raw();
        runner.send(&encode(&[
            b"EVAL",
            b"local i = 0 while true do i = i + 1 end",
            b"0",
        ]));
        std::thread::sleep(Duration::from_millis(300));
        // Several fresh connections land on both workers.
        let mut others: Vec<Raw> = (0..4).map(|_| srv.raw()).collect();
        for o in others.iter_mut() {
            assert_eq!(
                s(&o.cmd(&["GET", "x"])),
                "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n"
            );
        }
        let killer = round % others.len();
        assert_eq!(others[killer].cmd(&["SCRIPT", "KILL"]), b"+OK\r\n");
        let r = s(&runner.reply());
        assert!(
            r.starts_with("-ERR Script killed by user with SCRIPT KILL... script: "),
            "{r}"
        );
        assert_eq!(runner.cmd(&["PING"]), b"+PONG\r\n");
        for o in others.iter_mut() {
            assert_eq!(o.cmd(&["PING"]), b"+PONG\r\n");
        }
    }
    // A script that wrote cannot be killed; it finishes on its own.
    let mut runner = srv.raw();
    runner.send(&encode(&[
        b"EVAL",
        b"redis.call('SET', 'w', '1') local t = redis.call('TIME')[1] + 1 while tonumber(redis.call('TIME')[1]) <= tonumber(t) do end return 'done'",
        b"0",
    ]));
    std::thread::sleep(Duration::from_millis(300));
    let mut o = srv.raw();
    assert!(s(&o.cmd(&["SCRIPT", "KILL"]))
        .starts_with("-UNKILLABLE Sorry the script already executed write commands"));
    assert_eq!(runner.reply(), b"$4\r\ndone\r\n");
    assert_eq!(o.cmd(&["GET", "w"]), b"$1\r\n1\r\n");
}

/// Functions are loaded once and callable from every connection (and so
/// every worker's Lua state); FUNCTION DELETE removes them everywhere.
#[test]
fn functions_across_workers() {
    let srv = Server::start(&["--server-threads", "2"]);
    let mut c = srv.raw();
    let lib = "#!lua name=counter\nredis.register_function('bump', function(keys, args) return redis.call('INCRBY', keys[1], args[1]) end)";
    assert_eq!(c.cmd(&["FUNCTION", "LOAD", lib]), b"$7\r\ncounter\r\n");
    let mut conns: Vec<Raw> = (0..6).map(|_| srv.raw()).collect();
    for (i, k) in conns.iter_mut().enumerate() {
        assert_eq!(
            k.cmd(&["FCALL", "bump", "1", "n", "1"]),
            format!(":{}\r\n", i + 1).into_bytes()
        );
    }
    let lib2 = lib.replace("args[1]", "args[1] * 10");
    assert_eq!(
        c.cmd(&["FUNCTION", "LOAD", "REPLACE", &lib2]),
        b"$7\r\ncounter\r\n"
    );
    for k in conns.iter_mut() {
        let r = s(&k.cmd(&["FCALL", "bump", "1", "m", "1"]));
        assert!(r.starts_with(':'), "{r}");
    }
    assert_eq!(c.cmd(&["GET", "m"]), b"$2\r\n60\r\n");
    assert_eq!(c.cmd(&["FUNCTION", "DELETE", "counter"]), b"+OK\r\n");
    for k in conns.iter_mut() {
        assert_eq!(
            k.cmd(&["FCALL", "bump", "1", "n", "1"]),
            b"-ERR Function not found\r\n"
        );
    }
}

/// A script cannot take the server's memory: its Lua allocations are
/// bounded (1 GiB per worker) and it fails with "not enough memory".
#[test]
fn script_memory_is_bounded() {
    let srv = Server::start(&[]);
    let mut c = srv.raw();
    // Reaching the bound copies up to 1 GiB of strings, which on a loaded
    // 2-core machine (the whole suite running) can take over the usual
    // 5 s reply wait.
    c.s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let r = s(&c.cmd(&[
        "EVAL",
        "local s = 'x' for i = 1, 40 do s = s .. s end return #s",
        "0",
    ]));
    assert!(r.starts_with("-ERR not enough memory script: "), "{r}");
    let r = s(&c.cmd(&[
        "EVAL",
        "local ok, e = pcall(function() local s = 'x' for i = 1, 40 do s = s .. s end end) return e",
        "0",
    ]));
    assert_eq!(r, "$17\r\nnot enough memory\r\n");
    assert_eq!(c.cmd(&["EVAL", "return 1", "0"]), b":1\r\n");
}

/// EVAL scripts are capped at 500, least recently used evicted first (as
/// Redis 7.4); SCRIPT LOAD scripts stay; the server's memory stays flat
/// however many distinct scripts arrive.
#[test]
fn eval_script_cache_is_bounded() {
    let srv = Server::start(&[]);
    let mut c = srv.raw();
    let mut other = srv.raw(); // likely on the other worker
    let info_field = |c: &mut Raw, section: &str, field: &str| -> u64 {
        let text = s(&c.cmd(&["INFO", section]));
        text.lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.strip_prefix(':'))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{field} in INFO {section}"))
    };
    let loaded = s(&c.cmd(&["SCRIPT", "LOAD", "return 'loaded'"]));
    let loaded = loaded.lines().nth(1).unwrap().to_string();
    let keep = script_sha("return 'keep'");
    let old = script_sha("return 'old'");
    assert_eq!(c.cmd(&["EVAL", "return 'keep'", "0"]), b"$4\r\nkeep\r\n");
    assert_eq!(c.cmd(&["EVAL", "return 'old'", "0"]), b"$3\r\nold\r\n");
    for i in 0..600 {
        let body = format!("return {i}");
        assert_eq!(
            c.cmd(&["EVAL", &body, "0"]),
            format!(":{i}\r\n").into_bytes()
        );
        if i % 50 == 0 {
            assert_eq!(other.cmd(&["EVALSHA", &keep, "0"]), b"$4\r\nkeep\r\n");
        }
    }
    let exists = c.cmd(&["SCRIPT", "EXISTS", &loaded, &keep, &old]);
    assert_eq!(exists, b"*3\r\n:1\r\n:1\r\n:0\r\n");
    assert_eq!(
        c.cmd(&["EVALSHA", &old, "0"]),
        b"-NOSCRIPT No matching script. Please use EVAL.\r\n"
    );
    assert_eq!(
        info_field(&mut c, "memory", "number_of_cached_scripts"),
        501
    );
    assert_eq!(info_field(&mut c, "stats", "evicted_scripts"), 102);
    // Sent again with EVAL, an evicted script is back.
    assert_eq!(c.cmd(&["EVAL", "return 'old'", "0"]), b"$3\r\nold\r\n");
    assert_eq!(c.cmd(&["EVALSHA", &old, "0"]), b"$3\r\nold\r\n");
    // Flat memory over many more distinct scripts, on both connections.
    let before = srv.used_memory();
    for i in 0..6000 {
        let body = format!("local t = {{}} t[1] = {i} return t[1]");
        let conn = if i % 2 == 0 { &mut c } else { &mut other };
        assert_eq!(
            conn.cmd(&["EVAL", &body, "0"]),
            format!(":{i}\r\n").into_bytes()
        );
    }
    let after = srv.used_memory();
    assert_eq!(
        info_field(&mut c, "memory", "number_of_cached_scripts"),
        501
    );
    assert!(
        after < before + 8 * 1024 * 1024,
        "used_memory grew from {before} to {after} over 6000 scripts"
    );
}

/// The SHA1 SCRIPT LOAD would give `body`, computed locally.
fn script_sha(body: &str) -> String {
    sha1_smol::Sha1::from(body).digest().to_string()
}

/// A running function is visible in FUNCTION STATS (name, command,
/// duration) and FUNCTION KILL stops it; the BUSY text names FUNCTION KILL,
/// and SCRIPT KILL refuses to kill a function.
#[test]
fn function_stats_shows_a_running_function_and_kill_stops_it() {
    let srv = Server::start(&["--busy-reply-threshold", "100"]);
    let mut c = srv.raw();
    let lib = "#!lua name=test\nredis.register_function{function_name='test', \
callback=function() local a = 1 while true do a = a + 1 end end, flags={'no-writes'}}";
    assert_eq!(c.cmd(&["FUNCTION", "LOAD", lib]), b"$4\r\ntest\r\n");
    let mut runner = srv.raw();
    // Looked up regardless of case, as Redis's function dictionary does.
    runner.send(&encode(&[b"FCALL", b"TEST", b"0"]));
    let mut o = srv.raw();
    eventually("the function is busy", Duration::from_secs(10), || {
        o.cmd(&["PING"]).starts_with(b"-BUSY")
    });
    assert_eq!(
        s(&o.cmd(&["PING"])),
        "-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\r\n"
    );
    let stats = s(&o.cmd(&["FUNCTION", "STATS"]));
    assert!(
        stats.starts_with(
            "*4\r\n$14\r\nrunning_script\r\n*6\r\n$4\r\nname\r\n$4\r\ntest\r\n$7\r\ncommand\r\n\
*3\r\n$5\r\nFCALL\r\n$4\r\nTEST\r\n$1\r\n0\r\n$11\r\nduration_ms\r\n:"
        ),
        "{stats}"
    );
    assert_eq!(
        s(&o.cmd(&["SCRIPT", "KILL"])),
        "-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\r\n"
    );
    assert_eq!(o.cmd(&["FUNCTION", "KILL"]), b"+OK\r\n");
    let r = s(&runner.reply());
    assert!(r.starts_with("-ERR Script killed by user"), "{r}");
    assert_eq!(o.cmd(&["PING"]), b"+PONG\r\n");
    let stats = s(&o.cmd(&["FUNCTION", "STATS"]));
    assert!(
        stats.starts_with("*4\r\n$14\r\nrunning_script\r\n$-1\r\n"),
        "{stats}"
    );
}

/// A library whose top-level code loops is stopped after Redis's FUNCTION
/// LOAD timeout (it had wedged its worker thread for good).
#[test]
fn function_load_times_out() {
    let srv = Server::start(&[]);
    let mut c = srv.raw();
    let t = Instant::now();
    let r = s(&c.cmd(&[
        "FUNCTION",
        "LOAD",
        "#!lua name=lib\nlocal a = 1\nwhile 1 do a = a + 1 end",
    ]));
    assert!(
        r.starts_with("-ERR") && r.contains("FUNCTION LOAD timeout"),
        "{r}"
    );
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
    assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n");
    assert_eq!(c.cmd(&["FUNCTION", "LIST"]), b"*0\r\n");
}

/// redis.register_function's argument checks answer in Redis's words; a
/// library sees only `redis` while it loads, and a kept reference to
/// register_function is refused once the load is over.
#[test]
fn function_registration_errors_as_redis() {
    let srv = Server::start(&[]);
    let mut c = srv.raw();
    let load = |c: &mut Raw, body: &str| {
        s(&c.cmd(&["FUNCTION", "LOAD", &format!("#!lua name=lib\n{body}")]))
    };
    for (body, want) in [
        ("redis.register_function()", "wrong number of arguments to redis.register_function"),
        ("redis.register_function('f1', function() end, 'x')", "wrong number of arguments to redis.register_function"),
        ("redis.register_function('f1')", "calling redis.register_function with a single argument is only applicable to Lua table"),
        ("redis.register_function({}, function() end)", "first argument to redis.register_function must be a string"),
        ("redis.register_function('f1', 'x')", "second argument to redis.register_function must be a function"),
        ("redis.register_function{function_name='f1', callback=function() end, what=1}", "unknown argument given to redis.register_function"),
        ("redis.register_function{callback=function() end}", "redis.register_function must get a function name argument"),
        ("redis.register_function{function_name='f1'}", "redis.register_function must get a callback argument"),
        ("local x = math.random()", "attempted to access nonexistent global variable 'math'"),
        ("redis.setresp(3)", "attempted to access nonexistent global variable 'setresp'"),
    ] {
        let r = load(&mut c, body);
        assert!(r.starts_with("-ERR") && r.contains(want), "{body}: {r}");
    }
    let kept = "local rf = redis.register_function\n\
redis.register_function('f1', function() return rf('f2', function() end) end)";
    assert_eq!(load(&mut c, kept), "$3\r\nlib\r\n");
    let r = s(&c.cmd(&["FCALL", "f1", "0"]));
    assert!(
        r.contains("redis.register_function can only be called on FUNCTION LOAD command"),
        "{r}"
    );
    // Functions themselves see every global.
    let lib = "redis.register_function('f3', function() return math.floor(2.5) end)";
    let r = load(&mut c, lib);
    assert!(r.starts_with("-ERR Library 'lib' already exists"), "{r}");
    c.cmd(&["FUNCTION", "FLUSH"]);
    assert_eq!(load(&mut c, lib), "$3\r\nlib\r\n");
    assert_eq!(c.cmd(&["FCALL", "f3", "0"]), b":2\r\n");
    let r = s(&c.cmd(&["FUNCTION", "flush", "a", "b"]));
    assert!(
        r.starts_with("-ERR unknown subcommand or wrong number of arguments for 'flush'"),
        "{r}"
    );
}
