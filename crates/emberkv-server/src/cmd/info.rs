//! INFO, with Redis's section and field names so monitoring tools work.

use super::{flags::*, Args, Command, Ctx, Group};
use crate::server::Server;
use std::fmt::Write as _;
use std::sync::atomic::Ordering::Relaxed;

/// The Redis version we are compatible with (clients gate features on it).
pub const REDIS_VERSION: &str = "7.0.15";

const DEFAULT: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
];
const ALL_EXTRA: &[&str] = &["commandstats", "latencystats"];

fn ops_per_sec(srv: &Server) -> u64 {
    let q = srv.ops_samples.lock();
    match (q.front(), q.back()) {
        (Some(a), Some(b)) if b.0 > a.0 && b.1 >= a.1 => (b.1 - a.1) * 1000 / (b.0 - a.0) as u64,
        _ => 0,
    }
}

/// (largest query buffer, largest unsent output, all of both) over the
/// connected clients, from what each worker publishes.
fn client_buffers(srv: &Server) -> (u64, u64, u64) {
    let clients = srv.clients.lock();
    let (mut q, mut o, mut all) = (0, 0, 0);
    for c in clients.values() {
        let (cq, co) = (c.qbuf_cap.load(Relaxed), c.obuf.load(Relaxed));
        q = q.max(cq);
        o = o.max(co);
        all += cq + co;
    }
    (q, o, all)
}

fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    pages * unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64
}

/// Redis's human-readable sizes ("1.50M").
fn human(n: u64) -> String {
    let n = n as f64;
    const U: &[(f64, &str)] = &[
        (1024f64 * 1024.0 * 1024.0 * 1024.0, "T"),
        (1024f64 * 1024.0 * 1024.0, "G"),
        (1024f64 * 1024.0, "M"),
        (1024.0, "K"),
    ];
    for (sz, u) in U {
        if n >= *sz {
            return format!("{:.2}{}", n / sz, u);
        }
    }
    format!("{}B", n as u64)
}

fn cpu_times() -> (f64, f64) {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage fills the struct we own.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    (t(ru.ru_stime), t(ru.ru_utime))
}

fn section(ctx: &Ctx<'_>, name: &str, s: &mut String) {
    let srv = ctx.srv;
    let now = ctx.now_ms;
    macro_rules! f {
        ($($arg:tt)*) => {{ let _ = write!(s, $($arg)*); s.push_str("\r\n"); }};
    }
    match name {
        "server" => {
            let cfg = srv.config.read();
            let uptime = srv.started.elapsed().as_secs();
            f!("# Server");
            f!("redis_version:{REDIS_VERSION}");
            f!("emberkv_version:{}", env!("CARGO_PKG_VERSION"));
            f!("redis_git_sha1:00000000");
            f!("redis_git_dirty:0");
            f!("redis_mode:standalone");
            f!("os:{} {}", std::env::consts::OS, std::env::consts::ARCH);
            f!("arch_bits:64");
            f!("multiplexing_api:epoll");
            f!("process_id:{}", std::process::id());
            f!("run_id:{}", srv.run_id);
            f!("tcp_port:{}", cfg.port());
            f!("server_time_usec:{}", now * 1000);
            f!("uptime_in_seconds:{uptime}");
            f!("uptime_in_days:{}", uptime / 86400);
            f!("hz:{}", srv.effective_hz.load(Relaxed));
            f!("configured_hz:{}", cfg.hz());
            f!("lru_clock:{}", ctx.lru_clock());
            f!(
                "executable:{}",
                std::env::current_exe()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            );
            f!(
                "config_file:{}",
                cfg.config_file
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            );
            f!("io_threads_active:0");
            f!("server_threads:{}", srv.threads);
            f!("keyspace_shards:{}", srv.store.nshards());
        }
        "clients" => {
            f!("# Clients");
            f!("connected_clients:{}", srv.connected.load(Relaxed));
            f!("cluster_connections:0");
            f!("maxclients:{}", srv.maxclients.load(Relaxed));
            let (qmax, omax, _) = client_buffers(srv);
            f!("client_recent_max_input_buffer:{qmax}");
            f!("client_recent_max_output_buffer:{omax}");
            f!("blocked_clients:{}", srv.blocking.blocked_clients());
            f!("tracking_clients:0");
            f!("clients_in_timeout_table:0");
        }
        "memory" => {
            let used = crate::server::allocated();
            srv.peak_memory.fetch_max(used, Relaxed);
            let peak = srv.peak_memory.load(Relaxed);
            let rss = rss();
            let active = tikv_jemalloc_ctl::stats::active::read().unwrap_or(0) as u64;
            let resident = tikv_jemalloc_ctl::stats::resident::read().unwrap_or(0) as u64;
            let total_mem = unsafe {
                libc::sysconf(libc::_SC_PHYS_PAGES) as u64
                    * libc::sysconf(libc::_SC_PAGESIZE) as u64
            };
            f!("# Memory");
            f!("used_memory:{used}");
            f!("used_memory_human:{}", human(used));
            f!("used_memory_rss:{rss}");
            f!("used_memory_rss_human:{}", human(rss));
            f!("used_memory_peak:{peak}");
            f!("used_memory_peak_human:{}", human(peak));
            f!("allocator_allocated:{used}");
            f!("allocator_active:{active}");
            f!("allocator_resident:{resident}");
            f!("total_system_memory:{total_mem}");
            f!("total_system_memory_human:{}", human(total_mem));
            f!("number_of_cached_scripts:{}", srv.scripts.cache.len());
            // Client buffers are heap memory, so used_memory (jemalloc's
            // allocated bytes) already counts them; this is their share.
            f!("mem_clients_normal:{}", client_buffers(srv).2);
            f!("maxmemory:0");
            f!("maxmemory_human:0B");
            f!("maxmemory_policy:noeviction");
            f!(
                "mem_fragmentation_ratio:{:.2}",
                if used > 0 {
                    rss as f64 / used as f64
                } else {
                    0.0
                }
            );
            f!("mem_allocator:jemalloc-5.3.0");
            f!(
                "lazyfree_pending_objects:{}",
                crate::lazyfree::PENDING.load(Relaxed)
            );
        }
        "persistence" => {
            f!("# Persistence");
            crate::persist::info(srv, s);
        }
        "stats" => {
            f!("# Stats");
            f!(
                "total_connections_received:{}",
                srv.sum(|s| s.connections.get())
            );
            f!("total_commands_processed:{}", srv.sum(|s| s.commands.get()));
            f!("instantaneous_ops_per_sec:{}", ops_per_sec(srv));
            f!("total_net_input_bytes:{}", srv.sum(|s| s.net_in.get()));
            f!("total_net_output_bytes:{}", srv.sum(|s| s.net_out.get()));
            f!(
                "rejected_connections:{}",
                srv.sum(|s| s.rejected_connections.get())
            );
            f!("expired_keys:{}", srv.expired_keys());
            f!("evicted_keys:0");
            // Redis 7.4's field: EVAL scripts dropped past the cache's cap.
            f!("evicted_scripts:{}", srv.scripts.cache.evicted());
            f!("lazyfreed_objects:{}", crate::lazyfree::FREED.load(Relaxed));
            f!("keyspace_hits:{}", srv.sum(|s| s.hits.get()));
            f!("keyspace_misses:{}", srv.sum(|s| s.misses.get()));
            let (channels, patterns, shard) = srv.pubsub.counts();
            f!("pubsub_channels:{channels}");
            f!("pubsub_patterns:{patterns}");
            f!("pubsubshard_channels:{shard}");
            f!("total_error_replies:{}", srv.sum(|s| s.error_replies.get()));
        }
        "replication" => {
            f!("# Replication");
            f!("role:master");
            f!("connected_slaves:0");
            f!("master_replid:{}", srv.run_id);
            f!("master_repl_offset:0");
        }
        "cpu" => {
            let (sys, user) = cpu_times();
            f!("# CPU");
            f!("used_cpu_sys:{sys:.6}");
            f!("used_cpu_user:{user:.6}");
        }
        "modules" => f!("# Modules"),
        "errorstats" => {
            f!("# Errorstats");
            let mut total: std::collections::BTreeMap<String, u64> = Default::default();
            for w in srv.live_stats() {
                for (code, n) in w.errors.lock().iter() {
                    *total.entry(code.clone()).or_insert(0) += n;
                }
            }
            for (code, n) in total {
                f!("errorstat_{code}:count={n}");
            }
        }
        "cluster" => {
            f!("# Cluster");
            f!("cluster_enabled:0");
        }
        "latencystats" => f!("# Latencystats"),
        "keyspace" => {
            f!("# Keyspace");
            let ndbs = srv.store.ndbs;
            // (keys, keys with a TTL, sum of avg_ttl weighted by volatile keys)
            let mut counts = vec![(0usize, 0usize, 0i128); ndbs];
            for i in 0..srv.store.nshards() {
                let shard = srv.store.lock_index(i);
                for (db, t) in shard.dbs.iter().enumerate() {
                    counts[db].0 += t.len();
                    counts[db].1 += t.volatile();
                    counts[db].2 += t.avg_ttl as i128 * t.volatile() as i128;
                }
            }
            for (db, (keys, expires, weighted)) in counts.iter().enumerate() {
                if *keys > 0 {
                    let avg = if *expires > 0 {
                        weighted / *expires as i128
                    } else {
                        0
                    };
                    f!("db{db}:keys={keys},expires={expires},avg_ttl={avg}");
                }
            }
        }
        "commandstats" => {
            f!("# Commandstats");
            for (id, e) in srv.commands.entries.iter().enumerate() {
                let calls = srv.sum(|s| s.cmd[id].calls.get());
                let rejected = srv.sum(|s| s.cmd[id].rejected.get());
                let failed = srv.sum(|s| s.cmd[id].failed.get());
                if calls == 0 && rejected == 0 && failed == 0 {
                    continue;
                }
                let usec = srv.sum(|s| s.cmd[id].usec.get());
                let per = if calls > 0 {
                    usec as f64 / calls as f64
                } else {
                    0.0
                };
                f!(
                    "cmdstat_{}:calls={calls},usec={usec},usec_per_call={per:.2},rejected_calls={rejected},failed_calls={failed}",
                    e.full_name
                );
            }
        }
        _ => {}
    }
}

/// INFO [section [section ...]]
fn info(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let mut wanted: Vec<&str> = Vec::new();
    if args.len() == 1 {
        wanted.extend(DEFAULT);
    }
    for a in args.iter().skip(1) {
        let a = String::from_utf8_lossy(a).to_ascii_lowercase();
        match a.as_str() {
            "default" => wanted.extend(DEFAULT),
            "all" | "everything" => {
                wanted.extend(DEFAULT);
                wanted.extend(ALL_EXTRA);
            }
            other => {
                if let Some(s) = DEFAULT.iter().chain(ALL_EXTRA).find(|s| **s == other) {
                    wanted.push(s);
                }
            }
        }
    }
    let mut out = String::with_capacity(2048);
    let mut done: Vec<&str> = Vec::new();
    for s in wanted {
        if done.contains(&s) {
            continue;
        }
        if !done.is_empty() {
            out.push_str("\r\n");
        }
        done.push(s);
        section(ctx, s, &mut out);
    }
    ctx.out.verbatim(out.as_bytes());
}

pub static COMMANDS: &[Command] = &[Command::new("info", -1, LOADING | STALE, info)
    .tips(&[
        "nondeterministic_output",
        "request_policy:all_shards",
        "response_policy:special",
    ])
    .acl(super::acl::DANGEROUS)
    .doc(
        Group::Server,
        "1.0.0",
        "O(1)",
        "Returns information and statistics about the server.",
    )];
