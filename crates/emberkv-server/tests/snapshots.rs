//! Snapshots through the front door: SAVE / BGSAVE / restart round trips of
//! every type, cross-loading with redis-server both ways (DEBUG DIGEST and
//! key by key), a BGSAVE under a sequenced write load that must hold one
//! instant's state, SIGKILL during saves, refused truncated and bit-flipped
//! files, -LOADING while a file loads, -MISCONF after a failed save
//! (DUMP / RESTORE: dump.rs).

mod common;
use common::*;
use redis::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn dbg() -> [&'static str; 2] {
    ["--enable-debug-command", "yes"]
}

/// emberkv on `dir` (its dump.rdb), with debug commands and no save points
/// unless `extra` says otherwise.
fn ember_on(dir: &TempDir, extra: &[&str]) -> Server {
    let mut args = vec!["--dir", dir.0.to_str().unwrap()];
    args.extend(dbg());
    args.extend(extra);
    Server::start(&args)
}

fn digest(c: &mut redis::Connection) -> String {
    q(c, &["DEBUG", "DIGEST"]).unwrap()
}

fn info_field(c: &mut redis::Connection, section: &str, field: &str) -> String {
    let info: String = q(c, &["INFO", section]).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("{field} not in INFO {section}"))
        .trim()
        .to_string()
}

/// One of every type and encoding, in several databases, with TTLs, an
/// empty string, big values and a function library.
fn fill(c: &mut redis::Connection) {
    let big = "x".repeat(300_000);
    let mut p = redis::pipe();
    p.cmd("SET").arg("s:int").arg("12345");
    p.cmd("SET").arg("s:neg").arg("-9223372036854775808");
    p.cmd("SET").arg("s:empty").arg("");
    p.cmd("SET").arg("s:big").arg(&big);
    p.cmd("SET").arg("s:ttl").arg("v").arg("PX").arg(500_000);
    p.cmd("SET").arg("s:bin").arg(&b"\x00\x01\xff\r\n"[..]);
    p.cmd("RPUSH").arg("l:small").arg(&["a", "1", "-7", ""]);
    for i in 0..3000 {
        p.cmd("RPUSH").arg("l:big").arg(format!("element-{i}"));
        p.cmd("HSET")
            .arg("h:big")
            .arg(format!("f{i}"))
            .arg(format!("{}", i * 3));
        p.cmd("SADD").arg("set:big").arg(format!("m{i}"));
        p.cmd("SADD").arg("set:ints").arg(i * 7 - 5000);
        p.cmd("ZADD")
            .arg("z:big")
            .arg(i as f64 / 7.0)
            .arg(format!("m{i}"));
    }
    p.cmd("HSET")
        .arg("h:small")
        .arg(&["a", "1", "b", "", "c", "xyz"]);
    p.cmd("SADD").arg("set:small").arg(&["1", "2", "3"]);
    p.cmd("SADD").arg("set:mixed").arg(&["1", "a"]);
    p.cmd("ZADD")
        .arg("z:small")
        .arg(&["1.5", "a", "-inf", "b", "inf", "c", "0", "d"]);
    p.cmd("PFADD").arg("hll").arg(&["a", "b", "c"]);
    p.cmd("SETBIT").arg("bits").arg(100_000).arg(1);
    p.cmd("GEOADD")
        .arg("geo")
        .arg(&["13.361389", "38.115556", "Palermo"]);
    for i in 0..500 {
        p.cmd("XADD")
            .arg("x")
            .arg(format!("{}-{}", 1000 + i / 3, i % 3))
            .arg("f")
            .arg(i)
            .arg("g")
            .arg("v");
    }
    p.cmd("XGROUP").arg(&["CREATE", "x", "g1", "0"]);
    p.cmd("XGROUP").arg(&["CREATE", "x", "g2", "$"]);
    p.cmd("XREADGROUP")
        .arg(&["GROUP", "g1", "alice", "COUNT", "10", "STREAMS", "x", ">"]);
    p.cmd("XADD")
        .arg(&["x:empty", "MAXLEN", "0", "*", "f", "v"]);
    p.cmd("HSET").arg("h:ttl").arg(&["f", "v"]);
    p.cmd("PEXPIRE").arg("h:ttl").arg(900_000);
    for db in [1, 7, 15] {
        p.cmd("SELECT").arg(db);
        p.cmd("SET").arg(format!("db{db}")).arg(db);
        p.cmd("RPUSH").arg("l").arg(db);
    }
    p.cmd("SELECT").arg(0);
    p.query::<()>(c).unwrap();
    let _: String = q(
        c,
        &[
            "FUNCTION",
            "LOAD",
            "#!lua name=mylib\nredis.register_function('f1', function() return 1 end)",
        ],
    )
    .unwrap();
}

#[test]
fn save_restart_round_trip_every_type() {
    let dir = TempDir::new("snap-rt");
    let (want, ttl) = {
        let srv = ember_on(&dir, &[]);
        let mut c = srv.client();
        fill(&mut c);
        let d = digest(&mut c);
        assert_eq!(q::<String>(&mut c, &["SAVE"]).unwrap(), "OK");
        let ttl: i64 = q(&mut c, &["PTTL", "s:ttl"]).unwrap();
        (d, ttl)
    };
    let srv = ember_on(&dir, &[]);
    let mut c = srv.client();
    assert_eq!(digest(&mut c), want);
    let t: i64 = q(&mut c, &["PTTL", "s:ttl"]).unwrap();
    assert!(t > 0 && t <= ttl, "{t} vs {ttl}");
    assert_eq!(q::<String>(&mut c, &["GET", "s:empty"]).unwrap(), "");
    assert_eq!(
        q::<String>(&mut c, &["OBJECT", "ENCODING", "s:int"]).unwrap(),
        "int"
    );
    assert_eq!(
        q::<String>(&mut c, &["OBJECT", "ENCODING", "set:ints"]).unwrap(),
        "hashtable"
    );
    assert_eq!(
        q::<String>(&mut c, &["OBJECT", "ENCODING", "z:small"]).unwrap(),
        "listpack"
    );
    assert_eq!(q::<i64>(&mut c, &["FCALL", "f1", "0"]).unwrap(), 1);
    let loaded = info_field(&mut c, "persistence", "rdb_last_load_keys_loaded");
    assert!(loaded.parse::<u64>().unwrap() > 20);
    assert_eq!(
        info_field(&mut c, "persistence", "rdb_changes_since_last_save"),
        "0"
    );
    // BGSAVE writes the same dataset.
    assert_eq!(
        q::<String>(&mut c, &["BGSAVE"]).unwrap(),
        "Background saving started"
    );
    wait_bgsave(&mut c);
    drop(c);
    drop(srv);
    let srv = ember_on(&dir, &[]);
    assert_eq!(digest(&mut srv.client()), want);
}

fn wait_bgsave(c: &mut redis::Connection) {
    let end = Instant::now() + Duration::from_secs(60);
    while info_field(c, "persistence", "rdb_bgsave_in_progress") == "1" {
        assert!(Instant::now() < end, "BGSAVE did not finish");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn cross_load_with_redis_both_ways() {
    if Server::redis().is_none() {
        return;
    }
    // emberkv -> redis-server.
    let dir = TempDir::new("snap-x1");
    let want = {
        let srv = ember_on(&dir, &[]);
        let mut c = srv.client();
        fill(&mut c);
        let _: String = q(&mut c, &["SAVE"]).unwrap();
        digest(&mut c)
    };
    let rdb = dir.path("dump.rdb");
    let check = Command::new("redis-check-rdb").arg(&rdb).output().unwrap();
    let text = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success() && text.contains("RDB looks OK"),
        "{text}"
    );
    {
        let redis = Server::redis_with(&[
            "--dir",
            dir.0.to_str().unwrap(),
            "--enable-debug-command",
            "yes",
        ])
        .unwrap();
        let mut r = redis.client();
        assert_eq!(digest(&mut r), want);
        assert_eq!(q::<i64>(&mut r, &["FCALL", "f1", "0"]).unwrap(), 1);
        // And back: Redis's own file of that dataset loads here.
        let _: String = q(&mut r, &["SAVE"]).unwrap();
    }
    let srv = ember_on(&dir, &[]);
    assert_eq!(digest(&mut srv.client()), want);
    drop(srv);

    // redis-server's dataset -> emberkv, key by key.
    let dir = TempDir::new("snap-x2");
    let (want, keys) = {
        let redis = Server::redis_with(&[
            "--dir",
            dir.0.to_str().unwrap(),
            "--enable-debug-command",
            "yes",
        ])
        .unwrap();
        let mut r = redis.client();
        fill(&mut r);
        let _: () = q(&mut r, &["DEBUG", "POPULATE", "2000", "pop", "20"]).unwrap();
        let _: String = q(&mut r, &["SAVE"]).unwrap();
        let keys: Vec<String> = q(&mut r, &["KEYS", "*"]).unwrap();
        let per_key: Vec<(String, String)> = keys
            .iter()
            .map(|k| {
                let t: String = q(&mut r, &["TYPE", k]).unwrap();
                (k.clone(), t)
            })
            .collect();
        (digest(&mut r), per_key)
    };
    let srv = ember_on(&dir, &[]);
    let mut c = srv.client();
    assert_eq!(digest(&mut c), want);
    for (k, t) in &keys {
        assert_eq!(&q::<String>(&mut c, &["TYPE", k]).unwrap(), t, "{k}");
    }
    assert_eq!(q::<usize>(&mut c, &["DBSIZE"]).unwrap(), keys.len());
}

/// A BGSAVE while one client writes a sequence of SETs and DELs, each write
/// numbered: the file must be exactly the state after writes 1..=m for one
/// m (no later write in it, no earlier one missing).
#[test]
fn bgsave_is_one_instant_under_writes() {
    let dir = TempDir::new("snap-pit");
    let srv = ember_on(&dir, &["--rdb-key-save-delay", "200"]);
    let mut c = srv.client();
    const KEYS: u64 = 3000;
    let mut p = redis::pipe();
    for k in 0..KEYS {
        p.cmd("SET").arg(format!("k{k}")).arg("0");
    }
    p.query::<()>(&mut c).unwrap();
    // The write log: (seq, key, Some(value) for SET / None for DEL).
    let port = srv.port;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let writer = std::thread::spawn(move || {
        let mut w = connect(port);
        let mut rng = Rng(7);
        let mut log: Vec<(u64, u64, Option<u64>)> = Vec::new();
        let mut seq = 0u64;
        let end = Instant::now() + Duration::from_secs(20);
        while !stop2.load(std::sync::atomic::Ordering::Relaxed) && Instant::now() < end {
            let mut p = redis::pipe();
            let mut batch = Vec::new();
            for _ in 0..16 {
                seq += 1;
                // New keys past KEYS too, so inserts split segments.
                let k = rng.below(KEYS * 2);
                if rng.below(10) == 0 {
                    p.cmd("DEL").arg(format!("k{k}"));
                    batch.push((seq, k, None));
                } else {
                    p.cmd("SET").arg(format!("k{k}")).arg(seq);
                    batch.push((seq, k, Some(seq)));
                }
            }
            p.query::<()>(&mut w).unwrap();
            log.extend(batch);
        }
        log
    });
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        q::<String>(&mut c, &["BGSAVE"]).unwrap(),
        "Background saving started"
    );
    wait_bgsave(&mut c);
    // Some writes after the save ended too.
    std::thread::sleep(Duration::from_millis(50));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let log = writer.join().unwrap();
    assert_eq!(
        info_field(&mut c, "persistence", "rdb_last_bgsave_status"),
        "ok"
    );
    drop(c);
    drop(srv);
    // What the file holds.
    let srv = ember_on(&dir, &[]);
    let mut c = srv.client();
    let mut file = std::collections::HashMap::new();
    let keys: Vec<String> = q(&mut c, &["KEYS", "*"]).unwrap();
    for k in keys {
        let v: u64 = q(&mut c, &["GET", &k]).unwrap();
        file.insert(k[1..].parse::<u64>().unwrap(), v);
    }
    // m: the last write the file shows. The file's SET values are seqs.
    let m = file.values().copied().max().unwrap_or(0);
    let mut state: std::collections::HashMap<u64, u64> = (0..KEYS).map(|k| (k, 0)).collect();
    let mut m_at = 0;
    for &(seq, k, v) in &log {
        if seq > m {
            break;
        }
        m_at = seq;
        match v {
            Some(v) => state.insert(k, v),
            None => state.remove(&k),
        };
    }
    // A trailing DEL after m may also be in: extend m over DELs the file
    // agrees with (a DEL leaves no seq in the file).
    for &(seq, k, v) in log.iter().skip_while(|w| w.0 <= m) {
        if v.is_none() && !file.contains_key(&k) && state.contains_key(&k) {
            state.remove(&k);
            m_at = seq;
        } else {
            break;
        }
    }
    assert!(
        m > 0 && (m as usize) < log.len(),
        "writes ran during the save"
    );
    assert_eq!(file.len(), state.len(), "keys at write {m_at}");
    for (k, v) in &state {
        assert_eq!(file.get(k), Some(v), "key k{k} at write {m_at}");
    }
}

#[test]
fn flushdb_and_swapdb_during_bgsave_keep_the_instant() {
    let dir = TempDir::new("snap-flush");
    let srv = ember_on(&dir, &["--rdb-key-save-delay", "300"]);
    let mut c = srv.client();
    let _: () = q(&mut c, &["DEBUG", "POPULATE", "1000", "a"]).unwrap();
    let _: () = q(&mut c, &["SELECT", "1"]).unwrap();
    let _: () = q(&mut c, &["DEBUG", "POPULATE", "500", "b"]).unwrap();
    let _: () = q(&mut c, &["SELECT", "0"]).unwrap();
    let want = digest(&mut c);
    let _: String = q(&mut c, &["BGSAVE"]).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    let _: () = q(&mut c, &["SWAPDB", "0", "1"]).unwrap();
    let _: () = q(&mut c, &["FLUSHDB"]).unwrap();
    let _: () = q(&mut c, &["SET", "new", "1"]).unwrap();
    wait_bgsave(&mut c);
    drop(c);
    drop(srv);
    let srv = ember_on(&dir, &[]);
    let mut c = srv.client();
    assert_eq!(digest(&mut c), want);
    assert_eq!(q::<usize>(&mut c, &["DBSIZE"]).unwrap(), 1000);
}

#[test]
fn sigkill_during_bgsave_and_save_leaves_the_previous_file() {
    let dir = TempDir::new("snap-kill");
    let want;
    {
        let srv = ember_on(&dir, &[]);
        let mut c = srv.client();
        let _: () = q(&mut c, &["DEBUG", "POPULATE", "2000"]).unwrap();
        let _: String = q(&mut c, &["SAVE"]).unwrap();
        want = digest(&mut c);
        let _: () = q(&mut c, &["DEBUG", "POPULATE", "4000", "more"]).unwrap();
        let _: () = q(&mut c, &["CONFIG", "SET", "rdb-key-save-delay", "500"]).unwrap();
        let _: String = q(&mut c, &["BGSAVE"]).unwrap();
        std::thread::sleep(Duration::from_millis(200));
        srv.signal(9);
        drop(c);
    }
    // A SAVE killed half-way too.
    {
        let srv = ember_on(&dir, &["--rdb-key-save-delay", "500"]);
        let mut c = srv.client();
        assert_eq!(digest(&mut c), want);
        let _: () = q(&mut c, &["DEBUG", "POPULATE", "4000", "more"]).unwrap();
        let port = srv.port;
        let saver = std::thread::spawn(move || {
            let mut s = connect(port);
            q::<Value>(&mut s, &["SAVE"]).is_err()
        });
        std::thread::sleep(Duration::from_millis(200));
        srv.signal(9);
        assert!(saver.join().unwrap(), "SAVE was cut off");
    }
    let srv = ember_on(&dir, &[]);
    assert_eq!(digest(&mut srv.client()), want);
}

/// Starts emberkv on `dir` expecting it to refuse its file: the exit
/// status and what it logged.
fn refused_start(dir: &TempDir) -> String {
    let port = free_port();
    let out = Command::new(env!("CARGO_BIN_EXE_emberkv-server"))
        .args([
            "--port",
            &port.to_string(),
            "--dir",
            dir.0.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(!text.contains("Ready to accept"), "{text}");
    text
}

#[test]
fn truncated_and_bit_flipped_files_stop_the_start() {
    let dir = TempDir::new("snap-bad");
    {
        let srv = ember_on(&dir, &[]);
        let mut c = srv.client();
        fill(&mut c);
        let _: String = q(&mut c, &["SAVE"]).unwrap();
    }
    let path = dir.0.join("dump.rdb");
    let good = std::fs::read(&path).unwrap();
    let mut rng = Rng(11);
    for cut in [
        5usize,
        9,
        40,
        good.len() / 2,
        good.len() - 9,
        good.len() - 1,
    ] {
        std::fs::write(&path, &good[..cut]).unwrap();
        let text = refused_start(&dir);
        assert!(
            text.contains("dump.rdb") && text.contains("offset"),
            "cut {cut}: {text}"
        );
    }
    for _ in 0..4 {
        let mut bad = good.clone();
        let at = 20 + rng.below(good.len() as u64 - 30) as usize;
        bad[at] ^= 1 << rng.below(8);
        std::fs::write(&path, &bad).unwrap();
        let text = refused_start(&dir);
        assert!(text.contains("dump.rdb"), "flip at {at}: {text}");
    }
    // The intact file still loads.
    std::fs::write(&path, &good).unwrap();
    let srv = ember_on(&dir, &[]);
    assert!(q::<usize>(&mut srv.client(), &["DBSIZE"]).unwrap() > 20);
}

/// emberkv started on `dir` with `extra`, connected as soon as it listens
/// (before its file is loaded: the harness would wait for the load).
fn start_loading(dir: &TempDir, extra: &[&str]) -> (std::process::Child, Raw) {
    let port = free_port();
    let port_s = port.to_string();
    let mut args = vec!["--port", &port_s, "--dir", dir.0.to_str().unwrap()];
    args.extend(extra);
    let mut child = Command::new(env!("CARGO_BIN_EXE_emberkv-server"))
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let end = Instant::now() + Duration::from_secs(10);
    while Instant::now() < end {
        if let Ok(s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            drop(s);
            return (child, Raw::connect(port));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("no listener on {port}");
}

#[test]
fn clients_get_loading_while_the_file_loads() {
    let dir = TempDir::new("snap-loading");
    {
        let srv = ember_on(&dir, &[]);
        let mut c = srv.client();
        let _: () = q(&mut c, &["DEBUG", "POPULATE", "3000"]).unwrap();
        let _: String = q(&mut c, &["SAVE"]).unwrap();
    }
    let (mut child, mut raw) = start_loading(
        &dir,
        &[
            "--save",
            "",
            "--key-load-delay",
            "500",
            "--loading-process-events-interval-bytes",
            "1024",
        ],
    );
    let get = s(&raw.cmd(&["GET", "key:1"]));
    assert_eq!(get, "-LOADING Redis is loading the dataset in memory\r\n");
    let info = s(&raw.cmd(&["INFO", "persistence"]));
    assert!(info.contains("loading:1"), "{info}");
    for f in [
        "loading_start_time:",
        "loading_total_bytes:",
        "loading_loaded_bytes:",
        "loading_loaded_perc:",
        "loading_eta_seconds:",
    ] {
        assert!(info.contains(f), "{f} in {info}");
    }
    // Loading ends; then the data is served.
    let end = Instant::now() + Duration::from_secs(30);
    while s(&raw.cmd(&["INFO", "persistence"])).contains("loading:1") {
        assert!(Instant::now() < end);
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(s(&raw.cmd(&["DBSIZE"])), ":3000\r\n");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn failed_bgsave_sets_misconf_until_a_save_succeeds() {
    let base = TempDir::new("snap-misconf");
    let sub = base.0.join("d");
    std::fs::create_dir(&sub).unwrap();
    let srv = Server::start(&[
        "--dir",
        sub.to_str().unwrap(),
        "--save",
        "3600 1",
        "--enable-protected-configs",
        "yes",
    ]);
    let mut c = srv.client();
    let _: () = q(&mut c, &["SET", "a", "1"]).unwrap();
    // The directory goes away: the temp file cannot be created.
    std::fs::remove_dir_all(&sub).unwrap();
    assert_eq!(err(&mut c, &["SAVE"]), "ERR");
    let _: String = q(&mut c, &["BGSAVE"]).unwrap();
    let end = Instant::now() + Duration::from_secs(10);
    while info_field(&mut c, "persistence", "rdb_last_bgsave_status") != "err" {
        assert!(Instant::now() < end, "bgsave did not fail");
        std::thread::sleep(Duration::from_millis(20));
    }
    let misconf = err(&mut c, &["SET", "b", "2"]);
    assert!(
        misconf.starts_with("MISCONF Redis is configured to save RDB snapshots"),
        "{misconf}"
    );
    assert!(err(&mut c, &["PING"]).starts_with("MISCONF"));
    assert_eq!(q::<String>(&mut c, &["GET", "a"]).unwrap(), "1");
    // Without stop-writes-on-bgsave-error, writes go through.
    let _: () = q(
        &mut c,
        &["CONFIG", "SET", "stop-writes-on-bgsave-error", "no"],
    )
    .unwrap();
    let _: () = q(&mut c, &["SET", "b", "2"]).unwrap();
    let _: () = q(
        &mut c,
        &["CONFIG", "SET", "stop-writes-on-bgsave-error", "yes"],
    )
    .unwrap();
    assert!(err(&mut c, &["SET", "b", "3"]).starts_with("MISCONF"));
    // The directory is back: a successful save lifts it.
    std::fs::create_dir(&sub).unwrap();
    let _: () = q(&mut c, &["CONFIG", "SET", "dir", sub.to_str().unwrap()]).unwrap();
    let _: String = q(&mut c, &["BGSAVE"]).unwrap();
    wait_bgsave(&mut c);
    assert_eq!(
        info_field(&mut c, "persistence", "rdb_last_bgsave_status"),
        "ok"
    );
    let _: () = q(&mut c, &["SET", "b", "3"]).unwrap();
}

#[test]
fn shutdown_sigterm_and_flushall_save_as_redis() {
    let dir = TempDir::new("snap-shut");
    let rdb = dir.0.join("dump.rdb");
    {
        // No save points: SHUTDOWN does not save, SHUTDOWN SAVE does.
        let srv = ember_on(&dir, &["--save", ""]);
        let mut c = srv.client();
        let _: () = q(&mut c, &["SET", "a", "1"]).unwrap();
        let _ = q::<Value>(&mut c, &["SHUTDOWN"]);
    }
    assert!(!rdb.exists());
    {
        let mut srv = ember_on(&dir, &["--save", ""]);
        let mut c = srv.client();
        let _: () = q(&mut c, &["SET", "a", "1"]).unwrap();
        let _ = q::<Value>(&mut c, &["SHUTDOWN", "SAVE"]);
        srv.wait_exit(Duration::from_secs(10)).unwrap();
    }
    assert!(rdb.exists());
    {
        // Save points: SIGTERM saves; SHUTDOWN NOSAVE does not.
        let mut srv = ember_on(&dir, &["--save", "3600 1"]);
        let mut c = srv.client();
        assert_eq!(q::<String>(&mut c, &["GET", "a"]).unwrap(), "1");
        let _: () = q(&mut c, &["SET", "b", "2"]).unwrap();
        srv.signal(15);
        srv.wait_exit(Duration::from_secs(10)).unwrap();
    }
    {
        let mut srv = ember_on(&dir, &["--save", "3600 1"]);
        let mut c = srv.client();
        assert_eq!(q::<String>(&mut c, &["GET", "b"]).unwrap(), "2");
        let _: () = q(&mut c, &["SET", "c", "3"]).unwrap();
        let _ = q::<Value>(&mut c, &["SHUTDOWN", "NOSAVE"]);
        srv.wait_exit(Duration::from_secs(10)).unwrap();
    }
    {
        let srv = ember_on(&dir, &["--save", "3600 1"]);
        let mut c = srv.client();
        assert_eq!(q::<Option<String>>(&mut c, &["GET", "c"]).unwrap(), None);
        // FLUSHALL with save points writes the empty dataset at once.
        let _: () = q(&mut c, &["FLUSHALL"]).unwrap();
        assert_eq!(
            info_field(&mut c, "persistence", "rdb_changes_since_last_save"),
            "1"
        );
        drop(c);
        srv.signal(9);
    }
    let srv = ember_on(&dir, &[]);
    assert_eq!(q::<usize>(&mut srv.client(), &["DBSIZE"]).unwrap(), 0);
}

#[test]
fn save_points_trigger_bgsave() {
    let dir = TempDir::new("snap-points");
    let srv = ember_on(&dir, &["--save", "1 3"]);
    let mut c = srv.client();
    for i in 0..3 {
        let _: () = q(&mut c, &["SET", &format!("k{i}"), "v"]).unwrap();
    }
    let end = Instant::now() + Duration::from_secs(10);
    while info_field(&mut c, "persistence", "rdb_saves") == "0" {
        assert!(Instant::now() < end, "no save from the save point");
        std::thread::sleep(Duration::from_millis(50));
    }
    wait_bgsave(&mut c);
    assert_eq!(
        info_field(&mut c, "persistence", "rdb_changes_since_last_save"),
        "0"
    );
    let last: i64 = q(&mut c, &["LASTSAVE"]).unwrap();
    assert!(last > 1_700_000_000);
}

/// SHUTDOWN while the file loads does not save (half a dataset would
/// overwrite the whole file), save points or not, as Redis.
#[test]
fn shutdown_while_loading_keeps_the_file() {
    let dir = TempDir::new("snap-shut-loading");
    {
        let srv = ember_on(&dir, &[]);
        let mut c = srv.client();
        let _: () = q(&mut c, &["DEBUG", "POPULATE", "2000"]).unwrap();
        let _: String = q(&mut c, &["SAVE"]).unwrap();
    }
    let path = dir.0.join("dump.rdb");
    let before = std::fs::read(&path).unwrap();
    let (mut child, mut raw) =
        start_loading(&dir, &["--save", "3600 1", "--key-load-delay", "1000"]);
    // The listener opens just before the load begins: wait for it.
    let end = Instant::now() + Duration::from_secs(10);
    while !s(&raw.cmd(&["INFO", "persistence"])).contains("loading:1") {
        if Instant::now() > end {
            let _ = child.kill();
            panic!("never seen loading");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    raw.send(&encode(&[b"SHUTDOWN"]));
    let end = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < end, "no exit");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
}
