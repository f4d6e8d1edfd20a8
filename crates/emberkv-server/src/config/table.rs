//! Every directive Redis 7.0.15 knows (its `CONFIG GET *` lists 192
//! names, aliases included), with Redis's defaults, bounds and flags, plus
//! emberkv's own few. Each row says what it does here: `.later(..)` names
//! the issue that brings its feature, `.moot(..)` why emberkv's design
//! makes it moot; both are validated and reported like the others.

use super::spec::{Directive, D, EMBERKV, HIDDEN, IMMUTABLE, MULTI_ARG, PROTECTED, SENSITIVE};
use super::special;

const LOGLEVEL_ENUM: &[(&str, u8)] = &[("debug", 0), ("verbose", 1), ("notice", 2), ("warning", 3)];
const SUPERVISED_MODE_ENUM: &[(&str, u8)] =
    &[("upstart", 0), ("systemd", 1), ("auto", 2), ("no", 3)];
const SYSLOG_FACILITY_ENUM: &[(&str, u8)] = &[
    ("user", 0),
    ("local0", 1),
    ("local1", 2),
    ("local2", 3),
    ("local3", 4),
    ("local4", 5),
    ("local5", 6),
    ("local6", 7),
    ("local7", 8),
];
const MAXMEMORY_POLICY_ENUM: &[(&str, u8)] = &[
    ("volatile-lru", 0),
    ("volatile-lfu", 1),
    ("volatile-random", 2),
    ("volatile-ttl", 3),
    ("allkeys-lru", 4),
    ("allkeys-lfu", 5),
    ("allkeys-random", 6),
    ("noeviction", 7),
];
const AOF_FSYNC_ENUM: &[(&str, u8)] = &[("everysec", 0), ("always", 1), ("no", 2)];
const REPL_DISKLESS_LOAD_ENUM: &[(&str, u8)] =
    &[("disabled", 0), ("on-empty-db", 1), ("swapdb", 2)];
const TLS_AUTH_CLIENTS_ENUM: &[(&str, u8)] = &[("no", 0), ("yes", 1), ("optional", 2)];
/// `yes` and `relative` are one value; CONFIG GET prints `yes`.
const OOM_SCORE_ADJ_ENUM: &[(&str, u8)] =
    &[("no", 0), ("yes", 1), ("relative", 1), ("absolute", 2)];
const ACL_PUBSUB_DEFAULT_ENUM: &[(&str, u8)] = &[("allchannels", 0), ("resetchannels", 1)];
const SANITIZE_DUMP_PAYLOAD_ENUM: &[(&str, u8)] = &[("no", 0), ("yes", 1), ("clients", 2)];
/// `local`: allowed to clients on a loopback address or the unix socket.
pub const PROTECTED_ACTION_ENUM: &[(&str, u8)] = &[("no", 0), ("yes", 1), ("local", 2)];
const CLUSTER_PREFERRED_ENDPOINT_TYPE_ENUM: &[(&str, u8)] =
    &[("ip", 0), ("hostname", 1), ("unknown-endpoint", 2)];
const PROPAGATION_ERROR_BEHAVIOR_ENUM: &[(&str, u8)] =
    &[("ignore", 0), ("panic", 1), ("panic-on-replicas", 2)];
/// Bit flags (MULTI_ARG): `shutdown-on-sigterm nosave now`.
pub const SHUTDOWN_ON_SIG_ENUM: &[(&str, u8)] = &[
    ("default", 0),
    ("save", 1),
    ("nosave", 2),
    ("now", 4),
    ("force", 8),
];

const LONG_MAX: i128 = i64::MAX as i128;

pub static DIRECTIVES: &[Directive] = &[
    D::bool("rdbchecksum", true).flags(IMMUTABLE),
    D::bool("daemonize", false).flags(IMMUTABLE),
    D::bool("io-threads-do-reads", false)
        .flags(IMMUTABLE)
        .moot("every worker thread does its own reads"),
    D::bool("always-show-logo", false)
        .flags(IMMUTABLE)
        .moot("emberkv prints a one-line banner with the PID either way"),
    D::bool("protected-mode", true).later("the security and operations issue"),
    D::bool("rdbcompression", true),
    D::bool("rdb-del-sync-files", false).later("the replication issue (RDB files of a full sync)"),
    D::bool("activerehashing", true)
        .moot("nothing rehashes: tables grow one small segment at a time"),
    D::bool("stop-writes-on-bgsave-error", true),
    D::bool("set-proc-title", true).flags(IMMUTABLE),
    D::bool("dynamic-hz", true),
    D::bool("lazyfree-lazy-eviction", false).later("the memory issue"),
    D::bool("lazyfree-lazy-expire", false).moot("large values are always freed off the event loop"),
    D::bool("lazyfree-lazy-server-del", false)
        .moot("large values are always freed off the event loop"),
    D::bool("lazyfree-lazy-user-del", false)
        .moot("large values are always freed off the event loop (DEL frees as UNLINK)"),
    D::bool("lazyfree-lazy-user-flush", false),
    D::bool("repl-disable-tcp-nodelay", false).later("the replication issue"),
    D::bool("repl-diskless-sync", true).later("the replication issue"),
    D::bool("aof-rewrite-incremental-fsync", true).later("the AOF issue"),
    D::bool("no-appendfsync-on-rewrite", false).later("the AOF issue"),
    D::bool("cluster-require-full-coverage", true).later("the cluster issue"),
    D::bool("rdb-save-incremental-fsync", true),
    D::bool("aof-load-truncated", true).later("the AOF issue"),
    D::bool("aof-use-rdb-preamble", true).later("the AOF issue"),
    D::bool("aof-timestamp-enabled", false).later("the AOF issue"),
    D::bool("cluster-replica-no-failover", false)
        .alias("cluster-slave-no-failover")
        .later("the cluster issue"),
    D::bool("replica-lazy-flush", false)
        .alias("slave-lazy-flush")
        .later("the replication issue"),
    D::bool("replica-serve-stale-data", true)
        .alias("slave-serve-stale-data")
        .later("the replication issue"),
    D::bool("replica-read-only", true)
        .alias("slave-read-only")
        .later("the replication issue"),
    D::bool("replica-ignore-maxmemory", true)
        .alias("slave-ignore-maxmemory")
        .later("the replication issue"),
    D::bool("jemalloc-bg-thread", true),
    D::special("activedefrag", "no", special::activedefrag)
        .moot("refused as by a Redis built without its patched jemalloc"),
    D::bool("syslog-enabled", false).flags(IMMUTABLE),
    D::bool("cluster-enabled", false)
        .flags(IMMUTABLE)
        .later("the cluster issue"),
    D::bool("appendonly", false).later("the AOF issue"),
    D::bool("cluster-allow-reads-when-down", false).later("the cluster issue"),
    D::bool("cluster-allow-pubsubshard-when-down", true).later("the cluster issue"),
    D::bool("crash-log-enabled", true)
        .moot("no crash handler: a panic is reported on standard error by Rust's panic hook"),
    D::bool("crash-memcheck-enabled", true).moot("no crash-time memory test"),
    D::bool("use-exit-on-panic", false)
        .flags(HIDDEN)
        .moot("no Redis assertion handler"),
    D::bool("disable-thp", true).flags(IMMUTABLE),
    D::bool("cluster-allow-replica-migration", true).later("the cluster issue"),
    D::bool("replica-announced", true).later("the replication issue"),
    D::bool("latency-tracking", true).later("the security and operations issue"),
    D::bool("aof-disable-auto-gc", false).later("the AOF issue"),
    D::bool("replica-ignore-disk-write-errors", false).later("the replication issue"),
    D::string("aclfile", "")
        .flags(IMMUTABLE)
        .later("the security and operations issue"),
    D::string("unixsocket", "").flags(IMMUTABLE),
    D::string("pidfile", "").flags(IMMUTABLE),
    D::string("replica-announce-ip", "")
        .alias("slave-announce-ip")
        .later("the replication issue"),
    D::string("masteruser", "")
        .flags(SENSITIVE)
        .later("the replication issue"),
    D::string("cluster-announce-ip", "").later("the cluster issue"),
    D::string("cluster-config-file", "nodes.conf")
        .flags(IMMUTABLE)
        .later("the cluster issue"),
    D::checked("cluster-announce-hostname", "", special::hostname).later("the cluster issue"),
    D::string("syslog-ident", "redis").flags(IMMUTABLE),
    D::checked("dbfilename", "dump.rdb", special::dbfilename).flags(PROTECTED),
    D::checked("appendfilename", "appendonly.aof", special::appendfilename)
        .flags(IMMUTABLE)
        .later("the AOF issue"),
    D::checked("appenddirname", "appendonlydir", special::appenddirname)
        .flags(IMMUTABLE)
        .later("the AOF issue"),
    D::string("server_cpulist", "").flags(IMMUTABLE),
    D::string("bio_cpulist", "").flags(IMMUTABLE),
    D::string("aof_rewrite_cpulist", "")
        .flags(IMMUTABLE)
        .later("the AOF issue"),
    D::string("bgsave_cpulist", "").flags(IMMUTABLE),
    D::string("ignore-warnings", "").moot("emberkv checks no kernel bugs at start"),
    D::checked(
        "proc-title-template",
        "{title} {listen-addr} {server-mode}",
        special::proc_title_template,
    ),
    D::string("bind-source-addr", "").later("the replication issue"),
    D::string("logfile", "").flags(IMMUTABLE),
    D::string("masterauth", "")
        .flags(SENSITIVE)
        .later("the replication issue"),
    D::string("requirepass", "").flags(SENSITIVE),
    D::enumeration("supervised", SUPERVISED_MODE_ENUM, "no").flags(IMMUTABLE),
    D::enumeration("syslog-facility", SYSLOG_FACILITY_ENUM, "local0").flags(IMMUTABLE),
    D::enumeration("repl-diskless-load", REPL_DISKLESS_LOAD_ENUM, "disabled")
        .later("the replication issue"),
    D::enumeration("loglevel", LOGLEVEL_ENUM, "notice"),
    D::enumeration("maxmemory-policy", MAXMEMORY_POLICY_ENUM, "noeviction")
        .later("the memory issue"),
    D::enumeration("appendfsync", AOF_FSYNC_ENUM, "everysec").later("the AOF issue"),
    D::enumeration("oom-score-adj", OOM_SCORE_ADJ_ENUM, "no"),
    D::enumeration(
        "acl-pubsub-default",
        ACL_PUBSUB_DEFAULT_ENUM,
        "resetchannels",
    )
    .later("the security and operations issue"),
    D::enumeration("sanitize-dump-payload", SANITIZE_DUMP_PAYLOAD_ENUM, "no"),
    D::enumeration("enable-protected-configs", PROTECTED_ACTION_ENUM, "no").flags(IMMUTABLE),
    D::enumeration("enable-debug-command", PROTECTED_ACTION_ENUM, "no").flags(IMMUTABLE),
    D::enumeration("enable-module-command", PROTECTED_ACTION_ENUM, "no")
        .flags(IMMUTABLE)
        .moot("no modules"),
    D::enumeration(
        "cluster-preferred-endpoint-type",
        CLUSTER_PREFERRED_ENDPOINT_TYPE_ENUM,
        "ip",
    )
    .later("the cluster issue"),
    D::enumeration(
        "propagation-error-behavior",
        PROPAGATION_ERROR_BEHAVIOR_ENUM,
        "ignore",
    )
    .later("the replication issue"),
    D::special("shutdown-on-sigint", "default", special::shutdown_on_signal).flags(MULTI_ARG),
    D::special(
        "shutdown-on-sigterm",
        "default",
        special::shutdown_on_signal,
    )
    .flags(MULTI_ARG),
    D::int("databases", 16, 1, 2147483647).flags(IMMUTABLE),
    D::int("port", 6379, 0, 65535),
    D::int("io-threads", 1, 1, 128)
        .flags(IMMUTABLE)
        .moot("every worker thread does its own I/O (server-threads sets their number)"),
    D::int("auto-aof-rewrite-percentage", 100, 0, 2147483647).later("the AOF issue"),
    D::int("cluster-replica-validity-factor", 10, 0, 2147483647)
        .alias("cluster-slave-validity-factor")
        .later("the cluster issue"),
    D::int("list-max-listpack-size", -2, -2147483648, 2147483647).alias("list-max-ziplist-size"),
    D::int("tcp-keepalive", 300, 0, 2147483647),
    D::int("cluster-migration-barrier", 1, 0, 2147483647).later("the cluster issue"),
    D::int("active-defrag-cycle-min", 1, 1, 99).moot("no active defragmentation"),
    D::int("active-defrag-cycle-max", 25, 1, 99).moot("no active defragmentation"),
    D::int("active-defrag-threshold-lower", 10, 0, 1000).moot("no active defragmentation"),
    D::int("active-defrag-threshold-upper", 100, 0, 1000).moot("no active defragmentation"),
    D::int("lfu-log-factor", 10, 0, 2147483647).later("the memory issue"),
    D::int("lfu-decay-time", 1, 0, 2147483647).later("the memory issue"),
    D::int("replica-priority", 100, 0, 2147483647)
        .alias("slave-priority")
        .later("the replication issue"),
    D::int("repl-diskless-sync-delay", 5, 0, 2147483647).later("the replication issue"),
    D::int("maxmemory-samples", 5, 1, 2147483647).later("the memory issue"),
    D::int("maxmemory-eviction-tenacity", 10, 0, 100).later("the memory issue"),
    D::int("timeout", 0, 0, 2147483647),
    D::int("replica-announce-port", 0, 0, 65535)
        .alias("slave-announce-port")
        .later("the replication issue"),
    D::int("tcp-backlog", 511, 0, 2147483647).flags(IMMUTABLE),
    D::int("cluster-port", 0, 0, 65535)
        .flags(IMMUTABLE)
        .later("the cluster issue"),
    D::int("cluster-announce-bus-port", 0, 0, 65535).later("the cluster issue"),
    D::int("cluster-announce-port", 0, 0, 65535).later("the cluster issue"),
    D::int("cluster-announce-tls-port", 0, 0, 65535).later("the cluster issue"),
    D::int("repl-timeout", 60, 1, 2147483647).later("the replication issue"),
    D::int("repl-ping-replica-period", 10, 1, 2147483647)
        .alias("repl-ping-slave-period")
        .later("the replication issue"),
    D::int("list-compress-depth", 0, 0, 2147483647).later("the memory issue"),
    D::int("rdb-key-save-delay", 0, -2147483648, 2147483647).flags(HIDDEN),
    D::int("key-load-delay", 0, -2147483648, 2147483647).flags(HIDDEN),
    D::int("active-expire-effort", 1, 1, 10),
    D::special("hz", "10", special::hz),
    D::int("min-replicas-to-write", 0, 0, 2147483647)
        .alias("min-slaves-to-write")
        .later("the replication issue"),
    D::int("min-replicas-max-lag", 10, 0, 2147483647)
        .alias("min-slaves-max-lag")
        .later("the replication issue"),
    D::int("watchdog-period", 0, 0, 2147483647)
        .flags(HIDDEN)
        .moot("no software watchdog"),
    D::int("shutdown-timeout", 10, 0, 2147483647).later("the replication issue"),
    D::int("repl-diskless-sync-max-replicas", 0, 0, 2147483647).later("the replication issue"),
    D::int("maxclients", 10000, 1, 4294967295),
    D::octal("unixsocketperm", 0, 0, 511).flags(IMMUTABLE),
    D::int("socket-mark-id", 0, 0, 4294967295).flags(IMMUTABLE),
    D::int("active-defrag-max-scan-fields", 1000, 1, LONG_MAX).moot("no active defragmentation"),
    D::int("slowlog-max-len", 128, 0, LONG_MAX).later("the security and operations issue"),
    D::int("acllog-max-len", 128, 0, LONG_MAX).later("the security and operations issue"),
    D::int("busy-reply-threshold", 5000, 0, LONG_MAX).alias("lua-time-limit"),
    D::int("cluster-node-timeout", 15000, 0, LONG_MAX).later("the cluster issue"),
    D::int("slowlog-log-slower-than", 10000, -1, LONG_MAX)
        .later("the security and operations issue"),
    D::int("latency-monitor-threshold", 0, 0, LONG_MAX).later("the security and operations issue"),
    D::mem("proto-max-bulk-len", 536870912, 1048576, LONG_MAX),
    D::int("stream-node-max-entries", 100, 0, LONG_MAX),
    D::special("repl-backlog-size", "1048576", special::repl_backlog_size)
        .later("the replication issue"),
    D::mem("maxmemory", 0, 0, 18446744073709551615).later("the memory issue"),
    D::mem("cluster-link-sendbuf-limit", 0, 0, 18446744073709551615).later("the cluster issue"),
    D::int("hash-max-listpack-entries", 512, 0, LONG_MAX).alias("hash-max-ziplist-entries"),
    D::int("set-max-intset-entries", 512, 0, LONG_MAX),
    D::int("zset-max-listpack-entries", 128, 0, LONG_MAX).alias("zset-max-ziplist-entries"),
    D::mem("active-defrag-ignore-bytes", 104857600, 1, LONG_MAX).moot("no active defragmentation"),
    D::mem("hash-max-listpack-value", 64, 0, LONG_MAX).alias("hash-max-ziplist-value"),
    D::mem("stream-node-max-bytes", 4096, 0, LONG_MAX),
    D::mem("zset-max-listpack-value", 64, 0, LONG_MAX).alias("zset-max-ziplist-value"),
    D::mem("hll-sparse-max-bytes", 3000, 0, LONG_MAX),
    D::int("tracking-table-max-keys", 1000000, 0, LONG_MAX)
        .later("the security and operations issue"),
    D::mem("client-query-buffer-limit", 1073741824, 1048576, LONG_MAX),
    D::mem_pct("maxmemory-clients", 0, -100, LONG_MAX).later("the memory issue"),
    D::int("repl-backlog-ttl", 3600, 0, LONG_MAX).later("the replication issue"),
    D::mem("auto-aof-rewrite-min-size", 67108864, 0, LONG_MAX).later("the AOF issue"),
    D::int(
        "loading-process-events-interval-bytes",
        2097152,
        1024,
        2147483647,
    )
    .flags(HIDDEN),
    D::int("tls-port", 0, 0, 65535).later("the security and operations issue"),
    D::int("tls-session-cache-size", 20480, 0, 2147483647)
        .later("the security and operations issue"),
    D::int("tls-session-cache-timeout", 300, 0, 2147483647)
        .later("the security and operations issue"),
    D::bool("tls-cluster", false).later("the security and operations issue"),
    D::bool("tls-replication", false).later("the security and operations issue"),
    D::enumeration("tls-auth-clients", TLS_AUTH_CLIENTS_ENUM, "yes")
        .later("the security and operations issue"),
    D::bool("tls-prefer-server-ciphers", false).later("the security and operations issue"),
    D::bool("tls-session-caching", true).later("the security and operations issue"),
    D::string("tls-cert-file", "").later("the security and operations issue"),
    D::string("tls-key-file", "").later("the security and operations issue"),
    D::string("tls-key-file-pass", "").later("the security and operations issue"),
    D::string("tls-client-cert-file", "").later("the security and operations issue"),
    D::string("tls-client-key-file", "").later("the security and operations issue"),
    D::string("tls-client-key-file-pass", "").later("the security and operations issue"),
    D::string("tls-dh-params-file", "").later("the security and operations issue"),
    D::string("tls-ca-cert-file", "").later("the security and operations issue"),
    D::string("tls-ca-cert-dir", "").later("the security and operations issue"),
    D::string("tls-protocols", "").later("the security and operations issue"),
    D::string("tls-ciphers", "").later("the security and operations issue"),
    D::string("tls-ciphersuites", "").later("the security and operations issue"),
    D::special("dir", "", special::dir).flags(PROTECTED),
    D::special("save", "3600 1 300 100 60 10000", special::save).flags(MULTI_ARG),
    D::special(
        "client-output-buffer-limit",
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
        special::client_output_buffer_limit,
    )
    .flags(MULTI_ARG),
    D::special(
        "oom-score-adj-values",
        "0 200 800",
        special::oom_score_adj_values,
    )
    .flags(MULTI_ARG),
    D::special(
        "notify-keyspace-events",
        "",
        special::notify_keyspace_events,
    ),
    D::special("bind", "127.0.0.1", special::bind).flags(MULTI_ARG),
    D::special("replicaof", "", special::replicaof)
        .alias("slaveof")
        .flags(IMMUTABLE | MULTI_ARG)
        .later("the replication issue"),
    D::special(
        "latency-tracking-info-percentiles",
        "50 99 99.9",
        special::percentiles,
    )
    .flags(MULTI_ARG)
    .later("the security and operations issue"),
    // emberkv's own.
    D::int("server-threads", 0, 0, 256).flags(IMMUTABLE | EMBERKV),
    D::special("shards", "0", special::shards).flags(IMMUTABLE | EMBERKV),
    // Redis 7.2's names: emberkv keeps small string sets as listpacks.
    D::int("set-max-listpack-entries", 128, 0, LONG_MAX).flags(EMBERKV),
    D::mem("set-max-listpack-value", 64, 0, LONG_MAX).flags(EMBERKV),
];
