//! Directives of the process that take effect: daemonize, pidfile,
//! supervised, tcp-backlog, oom-score-adj, disable-thp.

mod common;
use common::*;
use std::time::{Duration, Instant};

fn proc_field(pid: u32, file: &str, field: &str) -> Option<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/{file}")).ok()?;
    if field.is_empty() {
        return Some(text.trim().to_string());
    }
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .map(|v| v.trim().to_string())
}

/// `daemonize yes`: the started process exits at once, the server lives on
/// in the background, writes its pid file and logs to `logfile`.
#[test]
fn daemonize_with_pidfile_and_logfile() {
    let tmp = TempDir::new("daemon");
    let port = free_port();
    let (pidfile, logfile) = (tmp.path("d.pid"), tmp.path("d.log"));
    let st = std::process::Command::new(env!("CARGO_BIN_EXE_emberkv-server"))
        .args([
            "--port",
            &port.to_string(),
            "--save",
            "",
            "--daemonize",
            "yes",
        ])
        .args(["--pidfile", &pidfile, "--logfile", &logfile])
        .status()
        .unwrap();
    assert!(st.success());
    let end = Instant::now() + Duration::from_secs(10);
    let pid: u32 = loop {
        let log = std::fs::read_to_string(&logfile).unwrap_or_default();
        if log.contains("Ready to accept connections") {
            if let Some(p) = std::fs::read_to_string(&pidfile)
                .ok()
                .and_then(|p| p.trim().parse().ok())
            {
                break p;
            }
        }
        assert!(Instant::now() < end, "daemon did not start: {log}");
        std::thread::sleep(Duration::from_millis(20));
    };
    let log = std::fs::read_to_string(&logfile).unwrap();
    assert!(log.contains(&format!("PID: {pid}")), "{log}");
    let mut r = Raw::connect(port);
    assert_eq!(r.cmd(&["PING"]), b"+PONG\r\n");
    r.send(&encode(&[b"SHUTDOWN", b"NOSAVE"]));
    let end = Instant::now() + Duration::from_secs(10);
    while std::path::Path::new(&format!("/proc/{pid}")).exists() {
        if Instant::now() > end {
            // SAFETY: the daemon this test started, by its PID.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            panic!("daemon did not stop");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!std::path::Path::new(&pidfile).exists(), "pid file left");
}

/// `supervised systemd`: READY=1 on $NOTIFY_SOCKET once serving.
#[test]
fn supervised_systemd_notifies_ready() {
    let tmp = TempDir::new("notify");
    let sock_path = tmp.path("notify.sock");
    let sock = std::os::unix::net::UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let port = free_port();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_emberkv-server"));
    cmd.args([
        "--port",
        &port.to_string(),
        "--save",
        "",
        "--supervised",
        "systemd",
    ])
    .env("NOTIFY_SOCKET", &sock_path);
    let _srv = Server::spawn_cmd(cmd, port);
    let mut buf = [0u8; 256];
    let n = sock.recv(&mut buf).expect("no notification");
    assert!(s(&buf[..n]).contains("READY=1"), "{}", s(&buf[..n]));
}

/// `tcp-backlog` is the listen backlog (ss shows it as Send-Q of the
/// listener); `oom-score-adj` and `disable-thp` act on the process.
#[test]
fn backlog_oom_score_and_thp() {
    let srv = Server::start(&[
        "--tcp-backlog",
        "77",
        "--oom-score-adj",
        "absolute",
        "--oom-score-adj-values",
        "100 200 300",
    ]);
    let out = std::process::Command::new("ss")
        .args(["-ltn", &format!("sport = :{}", srv.port)])
        .output();
    if let Ok(out) = out {
        let text = s(&out.stdout);
        assert!(
            text.lines()
                .any(|l| l.split_whitespace().nth(2) == Some("77")),
            "{text}"
        );
    }
    assert_eq!(
        proc_field(srv.pid(), "oom_score_adj", "").as_deref(),
        Some("100")
    );
    let mut r = srv.raw();
    assert_eq!(
        r.cmd(&["CONFIG", "SET", "oom-score-adj-values", "150 200 300"]),
        b"+OK\r\n"
    );
    assert_eq!(
        proc_field(srv.pid(), "oom_score_adj", "").as_deref(),
        Some("150")
    );
    if let Some(thp) = proc_field(srv.pid(), "status", "THP_enabled") {
        assert_eq!(thp, "0", "disable-thp yes is the default");
    }
}

/// `set-proc-title` with `proc-title-template`: the process's name (Linux
/// keeps 15 bytes), at start and after CONFIG SET.
#[test]
fn process_title() {
    let srv = Server::start(&["--proc-title-template", "ekv {port}"]);
    let comm = || proc_field(srv.pid(), "comm", "").unwrap_or_default();
    assert_eq!(comm(), format!("ekv {}", srv.port));
    let mut r = srv.raw();
    assert_eq!(
        r.cmd(&["CONFIG", "SET", "proc-title-template", "{title}-{port}"]),
        b"+OK\r\n"
    );
    let want: String = format!("emberkv-server-{}", srv.port)
        .chars()
        .take(15)
        .collect();
    assert_eq!(comm(), want);
}

/// docs/CONFIG.md's table is what `--list-directives` prints (it went stale
/// once: directives that had become live were still listed as future).
#[test]
fn config_doc_lists_the_directives_that_change_nothing() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_emberkv-server"))
        .arg("--list-directives")
        .output()
        .unwrap();
    let listed = String::from_utf8(out.stdout).unwrap();
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/CONFIG.md"))
        .unwrap();
    let table: Vec<&str> = doc.lines().filter(|l| l.starts_with("| `")).collect();
    let want: Vec<&str> = listed.lines().filter(|l| l.starts_with("| `")).collect();
    assert_eq!(
        table, want,
        "regenerate the table in docs/CONFIG.md with `emberkv-server --list-directives`"
    );
}

/// A relative log file hangs off `dir`, as Redis's does (it changes into
/// `dir` while reading its configuration, before it logs anything).
#[test]
fn relative_logfile_is_under_dir() {
    let tmp = TempDir::new("logdir");
    let cwd = TempDir::new("logcwd");
    let port = free_port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_emberkv-server"))
        .current_dir(cwd.path(""))
        .args(["--port", &port.to_string(), "--save", ""])
        .args(["--dir", &tmp.path(""), "--logfile", "rel.log"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let end = Instant::now() + Duration::from_secs(10);
    let mut log = String::new();
    while Instant::now() < end && !log.contains("Ready to accept connections") {
        std::thread::sleep(Duration::from_millis(20));
        log = std::fs::read_to_string(tmp.path("rel.log")).unwrap_or_default();
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(log.contains("Ready to accept connections"), "{log}");
    assert!(!std::path::Path::new(&cwd.path("rel.log")).exists());
}
