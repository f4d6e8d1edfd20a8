//! emberkv-server: start-up, logging, signals.

use config::Config;
use emberkv_server::{config, lazyfree, logging, net, process, server};
use server::Server;
use std::sync::Arc;
use tracing::{debug, error, info, warn};

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
        println!("       emberkv-server - (read the config from standard input)");
        println!(
            "       emberkv-server --list-directives (accepted directives that change nothing yet)"
        );
        return;
    }
    if args.iter().any(|a| a == "-v" || a == "--version") {
        println!(
            "emberkv-server v={} (Redis {} compatible)",
            env!("CARGO_PKG_VERSION"),
            config::REDIS_VERSION
        );
        return;
    }
    if args.iter().any(|a| a == "--list-directives") {
        print!("{}", config::role_table());
        return;
    }
    let config = match Config::from_args(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    // Relative paths (dbfilename, aclfile, appenddirname, the log file)
    // hang off `dir`, as in Redis, which changes into it while it reads its
    // configuration: so before the log file is opened.
    if !config.dir().is_empty() {
        if let Err(e) = std::env::set_current_dir(config.dir()) {
            eprintln!(
                "Can't chdir to '{}': {}",
                config.dir(),
                config::os_reason(&e)
            );
            std::process::exit(1);
        }
    }
    // Before any thread exists: fork() keeps only the calling thread.
    if config.yes("daemonize") {
        if let Err(e) = process::daemonize() {
            eprintln!("*** FATAL: can't daemonize: {e}");
            std::process::exit(1);
        }
    }
    let set_level = match logging::init(&config) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("Can't open the log file: {}", config::os_reason(&e));
            std::process::exit(1);
        }
    };
    if let Err(e) = run(config, set_level) {
        error!("{e}");
        process::remove_pidfile();
        std::process::exit(1);
    }
}

/// Threads: one per CPU this process may run on (so `taskset -c 0` gives one).
fn thread_count(config: &Config) -> usize {
    let n = config.int("server-threads") as usize;
    if n > 0 {
        return n;
    }
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

fn run(config: Config, set_level: logging::SetLevel) -> Result<(), String> {
    let pid = std::process::id();
    warn!("oO0OoO0OoO0Oo emberkv is starting oO0OoO0OoO0Oo");
    warn!(
        "emberkv version={}, redis_version={}, bits=64, pid={pid}, just started",
        env!("CARGO_PKG_VERSION"),
        config::REDIS_VERSION
    );
    match &config.config_file {
        Some(f) => warn!("Configuration loaded from {}", f.display()),
        None => warn!("No config file specified, using the default config. In order to specify a config file use emberkv-server /path/to/redis.conf"),
    }
    let threads = thread_count(&config);
    let maxclients = process::raise_fd_limit(config.uint("maxclients"));
    let mut config = config;
    if maxclients < config.uint("maxclients") {
        warn!("You requested maxclients of {} requiring at least {} max file descriptors; maxclients is now {maxclients}.", config.uint("maxclients"), config.uint("maxclients") + 128);
        let _ = config.set(
            config::find("maxclients").expect("known").0,
            &maxclients.to_string(),
        );
    }
    process::disable_thp(&config);
    if let Err(e) = process::set_oom_score_adj(&config) {
        warn!("{e}");
    }
    process::set_jemalloc_bg_thread(config.yes("jemalloc-bg-thread"));
    let _ = lazyfree::CPULIST.set(config.get("bio_cpulist").to_string());
    process::write_pidfile(&config);
    process::set_proc_title(&config);
    // The banner harnesses wait for (Redis's logo carries the same "PID:").
    info!(
        "emberkv {} (Redis {} compatible) 64 bit, standalone mode, Port: {}, PID: {pid}",
        env!("CARGO_PKG_VERSION"),
        config::REDIS_VERSION,
        config.port()
    );
    info!("Running mode=standalone, port={}.", config.port());
    info!(threads, config = %config.summary(), "configuration");
    if config.yes("appendonly") {
        warn!("the append-only file is not implemented yet: 'appendonly yes' has no effect");
    }
    server::clock(); // calibrate the TSC clock before serving
    let srv = Arc::new(Server::new(config, threads, set_level));
    // Hot copies of settings that live outside the Server struct.
    srv.config_changed();
    signals(&srv)?;
    warn!("Server initialized");
    net::run(srv.clone()).map_err(|e| e.to_string())?;
    srv.finish_shutdown();
    Ok(())
}

/// SIGTERM / SIGINT: graceful shutdown, as SHUTDOWN does (a second SIGINT
/// while shutting down exits at once, as Redis's "You insist"). SIGHUP is
/// ignored, as Redis ignores it.
fn signals(srv: &Arc<Server>) -> Result<(), String> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP])
        .map_err(|e| format!("can't install signal handlers: {e}"))?;
    let s = srv.clone();
    std::thread::Builder::new()
        .name("emberkv-signals".into())
        .spawn(move || {
            for sig in signals.forever() {
                match sig {
                    SIGHUP => debug!("SIGHUP received: ignored"),
                    SIGINT if s.shutdown.load(std::sync::atomic::Ordering::Relaxed) => {
                        warn!("You insist... exiting now.");
                        s.finish_shutdown();
                        std::process::exit(1);
                    }
                    _ => {
                        let name = if sig == SIGINT { "SIGINT" } else { "SIGTERM" };
                        warn!("Received {name} scheduling shutdown...");
                        let directive = if sig == SIGINT {
                            "shutdown-on-sigint"
                        } else {
                            "shutdown-on-sigterm"
                        };
                        let flags = s.config.read().get(directive).to_string();
                        let has = |f: &str| flags.split_whitespace().any(|w| w == f);
                        let saved = emberkv_server::persist::save::before_shutdown(
                            &s,
                            has("save"),
                            has("nosave"),
                            has("force"),
                        );
                        if saved.is_err() {
                            warn!("{name} received but errors trying to shut down the server, check the logs for more information");
                            continue;
                        }
                        s.request_shutdown();
                    }
                }
            }
        })
        .map_err(|e| e.to_string())?;
    Ok(())
}
