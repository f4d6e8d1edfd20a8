//! emberkv-server: start-up, logging, signals.

mod blocking;
mod client;
mod cmd;
mod config;
mod dispatch;
mod errors;
mod gate;
mod lazyfree;
mod net;
mod notify;
mod pubsub;
mod script;
mod server;
mod store;
mod types;
mod util;
mod watch;

use config::{Config, LogLevel};
use server::Server;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use tracing::{error, info, warn};
use tracing_subscriber::{layer::SubscriberExt, reload, util::SubscriberInitExt};

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc options: return freed memory from jemalloc's own background
/// thread (as Redis does with `jemalloc-bg-thread yes`) instead of purging
/// inline on the allocation path of whatever command happens to trigger it.
#[allow(non_upper_case_globals)]
#[export_name = "_rjem_malloc_conf"]
pub static malloc_conf: &[u8] = b"background_thread:true\0";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("Usage: emberkv-server [/path/to/redis.conf] [--directive value ...]");
        return;
    }
    if args.iter().any(|a| a == "-v" || a == "--version") {
        println!("emberkv-server v={}", env!("CARGO_PKG_VERSION"));
        return;
    }
    let config = match Config::from_args(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("*** FATAL CONFIG ERROR ***\n{e}");
            std::process::exit(1);
        }
    };
    let set_level = match init_logging(&config) {
        Ok(f) => f,
        Err(e) => {
            eprintln!(
                "*** FATAL: can't open the log file '{}': {e}",
                config.logfile
            );
            std::process::exit(1);
        }
    };
    if let Err(e) = run(config, set_level) {
        error!("{e}");
        std::process::exit(1);
    }
}

type SetLevel = Box<dyn Fn(LogLevel) + Send + Sync>;

fn init_logging(config: &Config) -> std::io::Result<SetLevel> {
    let (filter, handle) = reload::Layer::new(config.loglevel.tracing_filter());
    let registry = tracing_subscriber::registry().with(filter);
    if config.logfile.is_empty() {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
                    .with_writer(std::io::stdout),
            )
            .init();
    } else {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&config.logfile)?;
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .with_writer(std::sync::Mutex::new(file)),
            )
            .init();
    }
    Ok(Box::new(move |l: LogLevel| {
        let _ = handle.modify(|f| *f = l.tracing_filter());
    }))
}

/// Threads: one per CPU this process may run on (so `taskset -c 0` gives one).
fn thread_count(config: &Config) -> usize {
    if config.server_threads > 0 {
        return config.server_threads;
    }
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Raises the open-files limit to fit `maxclients` (Redis does the same).
fn raise_fd_limit(maxclients: u64) {
    let want = maxclients + 64;
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain getrlimit/setrlimit on a stack struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 || lim.rlim_cur >= want {
            return;
        }
        let target = want.min(lim.rlim_max);
        lim.rlim_cur = target;
        if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 || target < want {
            warn!(
                limit = target,
                maxclients, "open files limit is below maxclients + 64"
            );
        }
    }
}

fn run(config: Config, set_level: SetLevel) -> Result<(), String> {
    if !config.dir.is_empty() {
        std::env::set_current_dir(&config.dir)
            .map_err(|e| format!("can't chdir to '{}': {e}", config.dir))?;
    }
    let mut addrs: Vec<SocketAddr> = Vec::new();
    for b in &config.bind {
        let b = b.trim_start_matches('-');
        let host = if b == "*" { "0.0.0.0" } else { b };
        let resolved = (host, config.port)
            .to_socket_addrs()
            .map_err(|e| format!("invalid bind address '{b}': {e}"))?;
        addrs.extend(resolved);
    }
    let threads = thread_count(&config);
    raise_fd_limit(config.maxclients);
    info!(
        version = env!("CARGO_PKG_VERSION"),
        pid = std::process::id(),
        threads,
        port = config.port,
        "emberkv starting"
    );
    info!(config = %config.summary(), "configuration");
    if !config.save.is_empty() || config.appendonly {
        warn!(
            save = %config.save,
            appendonly = config.appendonly,
            "persistence is not implemented yet: 'save' and 'appendonly' are accepted and have no effect"
        );
    }
    server::clock(); // calibrate the TSC clock before serving
    let srv = Arc::new(Server::new(config, threads, set_level));
    // Hot copies of settings that live outside the Server struct.
    srv.config_changed();

    // SIGTERM / SIGINT: graceful shutdown, as SHUTDOWN does.
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGINT,
    ])
    .map_err(|e| format!("can't install signal handlers: {e}"))?;
    let s = srv.clone();
    std::thread::Builder::new()
        .name("emberkv-signals".into())
        .spawn(move || {
            if let Some(sig) = signals.forever().next() {
                let name = if sig == signal_hook::consts::SIGINT {
                    "SIGINT"
                } else {
                    "SIGTERM"
                };
                warn!("received {name}, scheduling shutdown");
                s.request_shutdown();
            }
        })
        .map_err(|e| e.to_string())?;

    info!("ready to accept connections");
    net::run(srv, addrs).map_err(|e| e.to_string())?;
    info!("emberkv is now ready to exit, bye bye");
    Ok(())
}
