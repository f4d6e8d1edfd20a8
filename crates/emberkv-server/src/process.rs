//! The process and its OS: daemonizing, the pid file, supervisor
//! notifications (systemd, upstart), oom_score_adj, transparent huge
//! pages, the process title, CPU affinity, the open-files limit and
//! jemalloc's background thread. main.rs calls these at start; CONFIG SET
//! re-applies the ones Redis re-applies (`apply_changes`).

use crate::config::{expand_title, Config};
use std::sync::OnceLock;
use tracing::{info, warn};

/// Forks into the background as Redis does: the parent exits, the child
/// starts a new session with its standard streams on /dev/null. Must run
/// before any thread of ours starts.
pub fn daemonize() -> std::io::Result<()> {
    // SAFETY: fork before any thread of ours exists; the child only
    // continues single-threaded start-up.
    match unsafe { libc::fork() } {
        -1 => return Err(std::io::Error::last_os_error()),
        0 => {}
        _ => std::process::exit(0),
    }
    // SAFETY: plain syscalls on fds we own.
    unsafe {
        libc::setsid();
        let fd = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if fd >= 0 {
            libc::dup2(fd, 0);
            libc::dup2(fd, 1);
            libc::dup2(fd, 2);
            if fd > 2 {
                libc::close(fd);
            }
        }
    }
    Ok(())
}

/// The pid file written at start (removed at exit).
static PIDFILE: OnceLock<String> = OnceLock::new();

/// Redis writes a pid file when `pidfile` is set, or when daemonized (to
/// /var/run/redis.pid). A failure is logged, not fatal, as in Redis.
pub fn write_pidfile(cfg: &Config) {
    let mut path = cfg.get("pidfile").to_string();
    if path.is_empty() && cfg.yes("daemonize") {
        path = "/var/run/redis.pid".into();
    }
    if path.is_empty() {
        return;
    }
    match write_atomically(&path, format!("{}\n", std::process::id()).as_bytes()) {
        Ok(()) => {
            let _ = PIDFILE.set(path);
        }
        Err(e) => warn!(path, error = %e, "Failed to write PID file"),
    }
}

/// Writes `path` whole or not at all: a temporary name in the same
/// directory, fsync, rename (a reader never sees a half-written pid).
fn write_atomically(path: &str, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = format!("{path}.tmp-{}", std::process::id());
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

pub fn remove_pidfile() {
    if let Some(p) = PIDFILE.get() {
        info!("Removing the pid file.");
        if let Err(e) = std::fs::remove_file(p) {
            warn!(path = %p, error = %e, "could not remove the pid file");
        }
    }
}

/// The supervisor to tell that we are ready (`supervised`), if any.
fn supervisor(cfg: &Config) -> Option<&'static str> {
    match cfg.get("supervised") {
        "systemd" => Some("systemd"),
        "upstart" => Some("upstart"),
        "auto" if std::env::var_os("NOTIFY_SOCKET").is_some() => Some("systemd"),
        "auto" if std::env::var_os("UPSTART_JOB").is_some() => Some("upstart"),
        _ => None,
    }
}

/// Tells the supervisor that the server is ready: systemd through
/// $NOTIFY_SOCKET (READY=1), upstart by stopping itself (SIGSTOP), as
/// upstart's `expect stop` waits for.
pub fn notify_ready(cfg: &Config) {
    match supervisor(cfg) {
        Some("systemd") => {
            if let Err(e) = sd_notify("READY=1\nSTATUS=Ready to accept connections\n") {
                warn!(error = %e, "systemd supervision requested, but could not notify systemd");
            } else {
                info!("Supervised by systemd. Please make sure you set appropriate values for TimeoutStartSec and TimeoutStopSec in your service unit.");
            }
        }
        Some("upstart") => {
            info!("supervised by upstart, will stop to signal readiness.");
            std::env::remove_var("UPSTART_JOB");
            // SAFETY: raising a signal at ourselves.
            unsafe { libc::raise(libc::SIGSTOP) };
        }
        _ => {}
    }
}

fn sd_notify(msg: &str) -> std::io::Result<()> {
    use std::os::unix::net::UnixDatagram;
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return Err(std::io::Error::other("NOTIFY_SOCKET not set"));
    };
    let sock = UnixDatagram::unbound()?;
    let p = path.to_string_lossy();
    if let Some(name) = p.strip_prefix('@') {
        use std::os::linux::net::SocketAddrExt;
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
        sock.send_to_addr(msg.as_bytes(), &addr)?;
    } else {
        sock.send_to(msg.as_bytes(), &*p)?;
    }
    Ok(())
}

/// The process's oom_score_adj before we changed it.
static OOM_BASE: OnceLock<i64> = OnceLock::new();

/// `oom-score-adj` and `oom-score-adj-values` (the first value is the
/// master's): `yes`/`relative` adds it to the score the process started
/// with, `absolute` sets it, `no` puts the start score back.
pub fn set_oom_score_adj(cfg: &Config) -> Result<(), String> {
    const PATH: &str = "/proc/self/oom_score_adj";
    let base = *OOM_BASE.get_or_init(|| {
        std::fs::read_to_string(PATH)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0)
    });
    let first: i64 = cfg
        .get("oom-score-adj-values")
        .split(' ')
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let want = match cfg.get("oom-score-adj") {
        "yes" => (base + first).clamp(-1000, 1000),
        "absolute" => first,
        _ => base,
    };
    let current: Option<i64> = std::fs::read_to_string(PATH)
        .ok()
        .and_then(|s| s.trim().parse().ok());
    if current == Some(want) {
        return Ok(());
    }
    std::fs::write(PATH, want.to_string()).map_err(|e| {
        warn!(error = %e, "Unable to write oom_score_adj");
        "Failed to set current oom_score_adj. Check server logs.".to_string()
    })
}

/// `disable-thp yes` (the default): no transparent huge pages for this
/// process, whose latency they hurt (Redis does the same at start).
pub fn disable_thp(cfg: &Config) {
    if cfg.yes("disable-thp") {
        // SAFETY: prctl with integer arguments.
        unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    }
}

/// `set-proc-title` with `proc-title-template`: Linux keeps 15 bytes of a
/// thread name, so that is what `ps -o comm` and `top` show.
pub fn set_proc_title(cfg: &Config) {
    if !cfg.yes("set-proc-title") {
        return;
    }
    let listen = format!(
        "{}:{}",
        cfg.bind()
            .first()
            .map_or("*", |s| s.trim_start_matches('-')),
        cfg.port()
    );
    let title = expand_title(cfg.get("proc-title-template"), |v| match v {
        "title" => "emberkv-server".into(),
        "listen-addr" => listen.clone(),
        "server-mode" => String::new(),
        "port" => cfg.port().to_string(),
        "tls-port" => cfg.get("tls-port").to_string(),
        "unixsocket" => cfg.get("unixsocket").to_string(),
        "config-file" => cfg
            .config_file
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        _ => String::new(),
    })
    .unwrap_or_default();
    let name: Vec<u8> = title.trim().bytes().take(15).collect();
    // The main thread's name (what ps and top show), whichever thread asks:
    // CONFIG SET runs on a worker, and prctl would rename that worker.
    if let Err(e) = std::fs::write("/proc/self/comm", &name) {
        warn!(error = %e, "could not set the process title");
    }
}

pub use emberkv_core::util::cpu::{parse_cpulist, pin_thread};

/// Raises the open-files limit to fit `maxclients` (Redis does the same).
/// Returns the number of clients the limit allows.
pub fn raise_fd_limit(maxclients: u64) -> u64 {
    const RESERVED: u64 = 32 + 96;
    let want = maxclients + RESERVED;
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain getrlimit/setrlimit on a stack struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return maxclients;
        }
        if lim.rlim_cur >= want {
            return maxclients;
        }
        let target = want.min(lim.rlim_max);
        lim.rlim_cur = target;
        if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) == 0 && target >= want {
            return maxclients;
        }
        let mut now = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut now);
        warn!(
            limit = now.rlim_cur,
            maxclients, "open files limit is below maxclients + 128"
        );
        now.rlim_cur.saturating_sub(RESERVED).max(1)
    }
}

/// jemalloc's background purging thread (`jemalloc-bg-thread`).
pub fn set_jemalloc_bg_thread(on: bool) {
    if let Err(e) = tikv_jemalloc_ctl::background_thread::write(on) {
        warn!(error = %e, "could not change jemalloc's background thread");
    }
}

/// Effects of a CONFIG SET that live outside the server's state. Err names
/// the directive and Redis's reason.
pub fn apply_changes(old: &Config, new: &Config) -> Result<(), (&'static str, String)> {
    let changed = |n: &str| old.get(n) != new.get(n);
    if changed("oom-score-adj") || changed("oom-score-adj-values") {
        let which = if changed("oom-score-adj") {
            "oom-score-adj"
        } else {
            "oom-score-adj-values"
        };
        set_oom_score_adj(new).map_err(|e| (which, e))?;
    }
    if changed("jemalloc-bg-thread") {
        set_jemalloc_bg_thread(new.yes("jemalloc-bg-thread"));
    }
    if changed("maxclients") {
        let max = new.uint("maxclients");
        let allowed = raise_fd_limit(max);
        if allowed < max {
            return Err((
                "maxclients",
                format!(
                    "The operating system is not able to handle the specified number of clients, try with {allowed}"
                ),
            ));
        }
    }
    if changed("proc-title-template") {
        set_proc_title(new);
    }
    Ok(())
}
