//! Test harness: starts real servers on free 127.0.0.1 ports, talks to them
//! with the `redis` crate or raw RESP bytes, and stops what it started.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free port for a test server, taken below the kernel's ephemeral range
/// (32768+), where client sockets pick their own ports: a server port from
/// that range could be taken by a test's outgoing connection meanwhile.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    // Stay inside 20000..32000 whatever the offset: a port in the
    // ephemeral range can be taken by a client socket, and the readiness
    // probe can even connect to itself there (TCP self-connect).
    let offset = (std::process::id() % 500) * 20;
    for _ in 0..10_000 {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = (20_000 + (offset + n) % 12_000) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port");
}

/// The log line that says a server serves: Redis's, which emberkv logs
/// too once its listeners are bound and its workers run.
const READY_MARKERS: [&str; 1] = ["Ready to accept connections"];

/// A server process, ended (by its own PID) when dropped.
pub struct Server {
    pub port: u16,
    child: Child,
    /// The server's stdout/stderr, printed if the test fails.
    log: std::path::PathBuf,
    /// Its working directory (where dump.rdb goes), removed after it.
    pub dir: Option<TempDir>,
}

impl Server {
    /// emberkv with `--port <free>` plus `args`.
    pub fn start(args: &[&str]) -> Server {
        let port = free_port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_emberkv-server"));
        // `verbose` logs each accepted and closed connection, so a failing
        // test's output shows the server's view of its connections.
        cmd.arg("--port")
            .arg(port.to_string())
            .arg("--save")
            .arg("")
            .arg("--loglevel")
            .arg("verbose");
        cmd.args(args);
        Self::spawn_in(cmd, port)
    }

    /// emberkv started with exactly `args` (for config-file tests).
    pub fn start_raw(args: &[String], port: u16) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_emberkv-server"));
        cmd.args(args);
        Self::spawn_in(cmd, port)
    }

    /// A prepared command (environment and all), waited for as any server.
    pub fn spawn_cmd(cmd: Command, port: u16) -> Server {
        Self::spawn_in(cmd, port)
    }

    /// Another program (redis-server) started with exactly `args`.
    pub fn start_cmd(program: &str, args: &[String], port: u16) -> Server {
        let mut cmd = Command::new(program);
        cmd.args(args);
        Self::spawn_in(cmd, port)
    }

    /// A real redis-server for differential tests, or None if it is not
    /// installed (CI installs it; there a missing one is a failure).
    pub fn redis() -> Option<Server> {
        Self::redis_with(&[])
    }

    /// Like [`Server::redis`], with `extra` arguments
    /// (`--enable-debug-command yes` ...).
    pub fn redis_with(extra: &[&str]) -> Option<Server> {
        let found = Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok();
        if !found {
            assert!(
                std::env::var_os("CI").is_none(),
                "redis-server is required in CI for differential tests"
            );
            eprintln!("redis-server not installed: skipping differential test");
            return None;
        }
        let port = free_port();
        let mut cmd = Command::new("redis-server");
        cmd.args([
            "--port",
            &port.to_string(),
            "--save",
            "",
            "--appendonly",
            "no",
        ]);
        cmd.args(["--bind", "127.0.0.1"]);
        cmd.args(extra);
        Some(Self::spawn_in(cmd, port))
    }

    /// Spawned in a fresh temporary working directory, so that its files
    /// (dump.rdb, temp files) never land in the repository.
    fn spawn_in(mut cmd: Command, port: u16) -> Server {
        let dir = TempDir::new("srv");
        cmd.current_dir(&dir.0);
        let mut s = Self::spawn(cmd, port);
        s.dir = Some(dir);
        s
    }

    fn spawn(mut cmd: Command, port: u16) -> Server {
        // Server output goes to a file, printed if the test fails.
        let log =
            std::env::temp_dir().join(format!("emberkv-test-{}-{port}.log", std::process::id()));
        let out = std::fs::File::create(&log).expect("server log file");
        let err = out.try_clone().expect("server log file");
        cmd.stdout(Stdio::from(out)).stderr(Stdio::from(err));
        let child = cmd.spawn().expect("spawn server");
        let mut s = Server {
            port,
            child,
            log,
            dir: None,
        };
        // Ready when the log says the port is listening. No probe
        // connection: a probe that connects and closes at once left a
        // half-closed connection right before the test's first one, and
        // that first connection was reset now and then (twice in CI).
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            let text = std::fs::read_to_string(&s.log).unwrap_or_default();
            if READY_MARKERS.iter().any(|m| text.contains(m)) {
                return s;
            }
            if let Ok(Some(st)) = s.child.try_wait() {
                panic!("server on port {port} exited at start ({st}):\n{text}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = s.child.kill();
        panic!("server on port {port} did not start");
    }

    /// A `redis` crate connection. A connect that fails is retried twice
    /// (and said on stderr): a reset at connect time happened in CI with
    /// no trace on the server's side, and it is not what the tests test.
    pub fn client(&self) -> redis::Connection {
        connect(self.port)
    }

    pub fn raw(&self) -> Raw {
        Raw::connect(self.port)
    }

    /// INFO memory's `used_memory` (jemalloc's allocated bytes).
    pub fn used_memory(&self) -> u64 {
        let info = s(&self.raw().cmd(&["INFO", "memory"]));
        info.lines()
            .find_map(|l| l.strip_prefix("used_memory:"))
            .and_then(|v| v.trim().parse().ok())
            .expect("used_memory in INFO")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the process to exit by itself.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if let Ok(Some(st)) = self.child.try_wait() {
                return Some(st);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: signals our own child by its PID.
        unsafe { libc::kill(self.child.id() as i32, sig) };
    }
}

/// Raises this process's open-files limit (for many-connection tests).
pub fn raise_nofile(n: u64) {
    let mut l = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain getrlimit/setrlimit on a local struct.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut l);
        if l.rlim_cur < n {
            l.rlim_cur = n.min(l.rlim_max);
            libc::setrlimit(libc::RLIMIT_NOFILE, &l);
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let alive = matches!(self.child.try_wait(), Ok(None));
            eprintln!(
                "--- server on port {} (running: {alive}) output:\n{}",
                self.port,
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            // The kernel's view of the port (a connection reset at connect
            // time has happened before; this shows TIME_WAIT leftovers).
            let filter = format!("( sport = :{p} or dport = :{p} )", p = self.port);
            if let Ok(out) = Command::new("ss").args(["-tan", &filter]).output() {
                eprintln!(
                    "--- ss -tan for port {}:\n{}",
                    self.port,
                    String::from_utf8_lossy(&out.stdout)
                );
            }
        }
        let _ = std::fs::remove_file(&self.log);
        if let Ok(None) = self.child.try_wait() {
            self.signal(15);
            if self.wait_exit(Duration::from_secs(5)).is_none() {
                let _ = self.child.kill();
                let _ = self.child.wait();
            }
        }
    }
}

/// `query(con, &["SET", "k", "v"])`
pub fn q<T: redis::FromRedisValue>(
    con: &mut redis::Connection,
    args: &[&str],
) -> redis::RedisResult<T> {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con)
}

/// The error text of a failed query, e.g. "WRONGTYPE Operation against...".
pub fn err(con: &mut redis::Connection, args: &[&str]) -> String {
    match q::<redis::Value>(con, args) {
        Err(e) => {
            let code = e.code().unwrap_or("").to_string();
            let detail = e.detail().unwrap_or("").to_string();
            format!("{code} {detail}").trim().to_string()
        }
        Ok(v) => panic!("{args:?} succeeded with {v:?}"),
    }
}

/// Encodes one request as a RESP multibulk.
pub fn encode(args: &[&[u8]]) -> Vec<u8> {
    let mut v = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        v.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        v.extend_from_slice(a);
        v.extend_from_slice(b"\r\n");
    }
    v
}

/// Length of the first complete RESP reply in `b`, if there is one.
pub fn reply_len(b: &[u8]) -> Option<usize> {
    let nl = b.windows(2).position(|w| w == b"\r\n")?;
    let line = &b[1..nl];
    let after = nl + 2;
    let num = || std::str::from_utf8(line).ok()?.parse::<i64>().ok();
    match b[0] {
        b'+' | b'-' | b':' | b'_' | b',' | b'#' | b'(' => Some(after),
        b'$' | b'=' | b'!' => {
            let n = num()?;
            if n < 0 {
                return Some(after);
            }
            let end = after + n as usize + 2;
            (b.len() >= end).then_some(end)
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let n = num()?;
            if n < 0 {
                return Some(after);
            }
            let n = if b[0] == b'%' || b[0] == b'|' {
                n * 2
            } else {
                n
            };
            let mut at = after;
            for _ in 0..n {
                at += reply_len(&b[at..])?;
            }
            Some(at)
        }
        _ => None,
    }
}

/// How long a test client waits for one reply or one write: past it the
/// call fails (and the test with it, by name) instead of hanging the run.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(60);

/// A `redis` crate connection to 127.0.0.1:`port`, with read and write
/// timeouts. A connect that fails is retried twice (and said on stderr): a
/// reset at connect time happened in CI with no trace on the server's
/// side, and it is not what the tests test.
pub fn connect(port: u16) -> redis::Connection {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap();
    let mut tries = 0;
    loop {
        match client.get_connection_with_timeout(Duration::from_secs(10)) {
            Ok(c) => {
                c.set_read_timeout(Some(CLIENT_TIMEOUT)).unwrap();
                c.set_write_timeout(Some(CLIENT_TIMEOUT)).unwrap();
                return c;
            }
            Err(e) if tries < 2 && e.is_io_error() => {
                tries += 1;
                eprintln!("connect to port {port} failed ({e}); retrying");
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => panic!("connect to port {port}: {e}"),
        }
    }
}

/// A raw TCP connection speaking bytes.
pub struct Raw {
    pub s: TcpStream,
    buf: Vec<u8>,
}

impl Raw {
    pub fn connect(port: u16) -> Raw {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.set_write_timeout(Some(CLIENT_TIMEOUT)).unwrap();
        s.set_nodelay(true).unwrap();
        Raw { s, buf: Vec::new() }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.s.write_all(bytes).unwrap();
    }

    pub fn cmd(&mut self, args: &[&str]) -> Vec<u8> {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        self.send(&encode(&a));
        self.reply()
    }

    /// Reads one complete reply (5 s at most).
    pub fn reply(&mut self) -> Vec<u8> {
        loop {
            if !self.buf.is_empty() {
                if let Some(n) = reply_len(&self.buf) {
                    return self.buf.drain(..n).collect();
                }
            }
            let mut tmp = [0u8; 65536];
            let n = self.s.read(&mut tmp).expect("read reply");
            assert!(
                n > 0,
                "connection closed; pending {:?}",
                String::from_utf8_lossy(&self.buf)
            );
            self.buf.extend_from_slice(&tmp[..n]);
        }
    }

    /// True if the server closed the connection (within 2 s).
    pub fn closed(&mut self) -> bool {
        self.s
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let mut tmp = [0u8; 1024];
        loop {
            match self.s.read(&mut tmp) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
                Err(_) => return false,
            }
        }
    }
}

/// Small deterministic PRNG (xorshift) so failures reproduce.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[self.below(v.len() as u64) as usize]
    }
}

pub fn s(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_string()
}

/// A temporary directory, removed (with what is in it) when dropped.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "emberkv-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }
    pub fn path(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The server's log so far (its stdout and stderr).
impl Server {
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// One field of an INFO section.
pub fn info_field(srv: &Server, section: &str, field: &str) -> String {
    let text = s(&srv.raw().cmd(&["INFO", section]));
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// Waits (bounded) until `f` holds.
pub fn eventually(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out waiting for: {what}");
}

/// A byte log shared with the propagation stream's subscriber.
pub type StreamLog = std::sync::Arc<parking_lot::Mutex<Vec<u8>>>;

/// emberkv in this process (so the test can read its propagation
/// stream): listening on a free port, with debug commands on and `extra`
/// flags; returns the port, the stream's bytes as they arrive, and the
/// server.
pub fn start_in_process(
    extra: &[&str],
) -> (
    u16,
    StreamLog,
    std::sync::Arc<emberkv_server::server::Server>,
) {
    let port = free_port();
    let p = port.to_string();
    let mut argv = vec![
        "--port",
        &p,
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--enable-debug-command",
        "yes",
    ];
    argv.extend_from_slice(extra);
    let srv = emberkv_server::start_in_process(&argv).expect("start emberkv in process");
    let log = StreamLog::default();
    let l = log.clone();
    srv.stream
        .subscribe(Box::new(move |b| l.lock().extend_from_slice(b)));
    let end = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < end, "in-process server did not listen");
        std::thread::sleep(Duration::from_millis(10));
    }
    (port, log, srv)
}
