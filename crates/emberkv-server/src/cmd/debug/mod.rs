//! DEBUG: the subcommands tests and tools lean on (DIGEST, DIGEST-VALUE,
//! SLEEP, SET-ACTIVE-EXPIRE, LOG, HELP), with Redis 7.0's replies. The
//! others Redis has (RELOAD, OBJECT, POPULATE, ...) answer as an unknown
//! subcommand does. Dispatch refuses DEBUG altogether unless
//! `enable-debug-command` allows the client (see [`allowed`]).

pub mod digest;
mod persist;

use super::{flags::*, Args, Command, Ctx, Group};
use crate::client::Client;
use crate::errors;
use crate::server::Server;
use std::sync::atomic::Ordering::Relaxed;

/// Whether `enable-debug-command` lets `client` run a PROTECTED command:
/// `yes`, or `local` for a unix-socket or loopback client (Redis's
/// allowProtectedAction). Read per call: only DEBUG asks.
pub fn allowed(srv: &Server, client: &Client) -> bool {
    match srv.config.read().get("enable-debug-command") {
        "yes" => true,
        "local" => client.shared.is_local(),
        _ => false,
    }
}

/// DEBUG subcommand [arg ...]. Redis checks each subcommand's name and
/// argument count together, so a known name with the wrong count gets the
/// same error as an unknown name.
fn debug(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let n = args.len();
    let sub = args.get(1);
    let is = |name: &str| sub.eq_ignore_ascii_case(name.as_bytes());
    if n == 2 && is("help") {
        super::keys::help(ctx, HELP);
    } else if n == 2 && is("digest") {
        let d = digest::dataset(&ctx.srv.store);
        ctx.out.simple(&digest::hex(&d));
    } else if is("digest-value") {
        ctx.out.array(n - 2);
        for i in 2..n {
            let d = digest::of_key(&ctx.srv.store, ctx.client.db, args.get(i));
            ctx.out.simple(&digest::hex(&d));
        }
    } else if n == 3 && is("sleep") {
        // Blocks this worker thread (Redis blocks its only one); clients of
        // other workers are served meanwhile.
        if let Some(t) = sleep_time(args.get(2)) {
            std::thread::sleep(t);
        }
        ctx.out.ok();
    } else if n == 3 && is("set-active-expire") {
        let on = c_atoi(args.get(2)) != 0;
        ctx.srv.store.active_expire_on.store(on, Relaxed);
        ctx.out.ok();
    } else if is("populate") {
        persist::populate(ctx, args);
    } else if is("reload") {
        persist::reload(ctx, args);
    } else if n == 3 && is("object") {
        persist::object(ctx, args);
    } else if n == 3 && is("set-skip-checksum-validation") {
        persist::skip_checksum(ctx, args);
    } else if n == 3 && is("protocol") {
        protocol(ctx, args.get(2));
    } else if n == 3 && is("quicklist-packed-threshold") {
        // Redis stores list elements past this size as "plain" nodes; an
        // emberkv list node holds an element of any size the same way, so
        // the knob is validated as Redis validates it and has no effect
        // (README: differences).
        let v = std::str::from_utf8(args.get(2))
            .ok()
            .and_then(crate::config::parse_memory);
        match v {
            // 0 restores the default; at most 4 GiB less 1 MiB.
            Some(v) if v <= (1u64 << 32) - (1 << 20) => ctx.out.ok(),
            _ => ctx.err("ERR argument must be a memory value bigger than 1 and smaller than 4gb"),
        }
    } else if n == 3 && is("log") {
        let msg = args.get(2);
        let msg = &msg[..memchr::memchr(0, msg).unwrap_or(msg.len())];
        tracing::warn!("DEBUG LOG: {}", String::from_utf8_lossy(msg));
        ctx.out.ok();
    } else {
        ctx.out
            .error_bytes(&errors::subcommand_syntax(sub, "debug"));
    }
}

/// DEBUG PROTOCOL <type>: one reply of each RESP type, as Redis sends
/// them, for clients to test their parsers.
fn protocol(ctx: &mut Ctx<'_>, name: &[u8]) {
    let is = |t: &str| name.eq_ignore_ascii_case(t.as_bytes());
    let out = &mut ctx.out;
    let resp3 = out.resp == emberkv_protocol::Resp::V3;
    if is("string") {
        out.bulk(b"Hello World");
    } else if is("integer") {
        out.int(12345);
    } else if is("double") {
        // Redis's literal, not pi.
        #[allow(clippy::approx_constant)]
        out.double(3.141);
    } else if is("bignum") {
        out.big_number(b"1234567999999999999999999999999999999");
    } else if is("null") {
        out.null();
    } else if is("array") {
        out.array(3);
        (0..3).for_each(|j| out.int(j));
    } else if is("set") {
        out.set(3);
        (0..3).for_each(|j| out.int(j));
    } else if is("map") {
        out.map(3);
        for j in 0..3 {
            out.int(j);
            out.boolean(j == 1);
        }
    } else if is("attrib") {
        if resp3 {
            out.attribute(1);
            out.bulk(b"key-popularity");
            out.array(2);
            out.bulk(b"key:123");
            out.int(90);
        }
        out.bulk(b"Some real reply following the attribute");
    } else if is("push") {
        if !resp3 {
            return out.error("ERR RESP2 is not supported by this command");
        }
        out.push(2);
        out.bulk(b"server-cpu-usage");
        out.int(42);
        out.bulk(b"Some real reply following the push reply");
    } else if is("true") {
        out.boolean(true);
    } else if is("false") {
        out.boolean(false);
    } else if is("verbatim") {
        out.verbatim(b"This is a verbatim\nstring");
    } else {
        out.error(
            "ERR Wrong protocol type name. Please use one of the following: \
string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false",
        );
    }
}

/// DEBUG SLEEP's argument as Redis reads it: C's strtod on whatever
/// numeric prefix there is (no validation, so `abc` is 0), in whole
/// microseconds. A time that is not positive, or too large for a C long
/// long, makes Redis's nanosleep fail at once: None, no sleep.
fn sleep_time(arg: &[u8]) -> Option<std::time::Duration> {
    let usec = c_strtod(arg) * 1e6;
    // Below 2^63, the first value a long long cannot hold.
    (1.0..i64::MAX as f64)
        .contains(&usec)
        .then(|| std::time::Duration::from_micros(usec as u64))
}

fn c_isspace(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// C's strtod of the longest prefix of `s` that is a number (after spaces):
/// decimal with optional fraction and exponent, hexadecimal (`0x1.8p3`),
/// `inf`/`infinity`, `nan`; 0 when there is none.
fn c_strtod(s: &[u8]) -> f64 {
    let start = s.iter().position(|&c| !c_isspace(c)).unwrap_or(s.len());
    let s = &s[start..];
    let (neg, body) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let starts =
        |p: &str| body.len() >= p.len() && body[..p.len()].eq_ignore_ascii_case(p.as_bytes());
    let v = if starts("inf") {
        f64::INFINITY
    } else if starts("nan") {
        f64::NAN
    } else if starts("0x") && hex_digits(&body[2..]).1 > 0 {
        hex_float(&body[2..])
    } else {
        let end = decimal_len(body);
        std::str::from_utf8(&body[..end])
            .ok()
            .and_then(|t| t.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    if neg {
        -v
    } else {
        v
    }
}

/// Length of the decimal number at the start of `b` (0: none).
fn decimal_len(b: &[u8]) -> usize {
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let int = digits(0);
    let mut end = int;
    let mut frac = 0;
    if b.get(end) == Some(&b'.') {
        frac = digits(end + 1);
        if int + frac > 0 {
            end += 1 + frac;
        }
    }
    if int + frac == 0 {
        return 0;
    }
    // An exponent counts only with at least one digit.
    if matches!(b.get(end), Some(b'e' | b'E')) {
        let mut at = end + 1;
        if matches!(b.get(at), Some(b'+' | b'-')) {
            at += 1;
        }
        let exp = digits(at);
        if exp > 0 {
            end = at + exp;
        }
    }
    end
}

/// The hex digits (and one optional point) at the start of `b`: their
/// value as an integer, how many digits, bytes consumed, digits after the
/// point.
fn hex_digits(b: &[u8]) -> (f64, usize, usize, i32) {
    let mut v = 0.0f64;
    let mut n = 0;
    let mut i = 0;
    let mut frac_digits = 0;
    let mut seen_point = false;
    while i < b.len() {
        if let Some(d) = (b[i] as char).to_digit(16) {
            v = v * 16.0 + d as f64;
            n += 1;
            if seen_point {
                frac_digits += 1;
            }
        } else if b[i] == b'.' && !seen_point {
            seen_point = true;
        } else {
            break;
        }
        i += 1;
    }
    (v, n, i, frac_digits)
}

/// A hexadecimal float after its `0x`: digits, optional point, optional
/// binary exponent (`p`, with at least one digit).
fn hex_float(b: &[u8]) -> f64 {
    let (mant, _, i, frac) = hex_digits(b);
    let mut exp: i32 = 0;
    if matches!(b.get(i), Some(b'p' | b'P')) {
        let neg = b.get(i + 1) == Some(&b'-');
        let at = i + 1 + matches!(b.get(i + 1), Some(b'+' | b'-')) as usize;
        exp = b[at.min(b.len())..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .fold(0i32, |a, &c| {
                a.saturating_mul(10).saturating_add((c - b'0') as i32)
            });
        if neg {
            exp = -exp;
        }
    }
    mant * 2f64.powi(exp.saturating_sub(4 * frac))
}

/// C's atoi as glibc has it: strtol (saturating at the long range) cast
/// to int, 0 without digits. DEBUG SET-ACTIVE-EXPIRE reads its argument so.
fn c_atoi(s: &[u8]) -> i32 {
    let start = s.iter().position(|&c| !c_isspace(c)).unwrap_or(s.len());
    let s = &s[start..];
    let (neg, body) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut v: i64 = 0;
    for &c in body.iter().take_while(|c| c.is_ascii_digit()) {
        let d = (c - b'0') as i64;
        v = if neg {
            v.saturating_mul(10).saturating_sub(d)
        } else {
            v.saturating_mul(10).saturating_add(d)
        };
    }
    v as i32
}

pub static COMMANDS: &[Command] = &[Command::new(
    "debug",
    -2,
    ADMIN | NOSCRIPT | LOADING | STALE | PROTECTED,
    debug,
)
.doc(
    Group::Server,
    "1.0.0",
    "Depends on subcommand.",
    "A container for debugging commands",
)];

/// DEBUG HELP, as Redis 7.0.15 (built with jemalloc) prints it: every
/// subcommand Redis has, including those emberkv does not implement.
const HELP: &[&str] = &[
    "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "AOF-FLUSH-SLEEP <microsec>",
    "    Server will sleep before flushing the AOF, this is used for testing.",
    "ASSERT",
    "    Crash by assertion failed.",
    "CHANGE-REPL-ID",
    "    Change the replication IDs of the instance.",
    "    Dangerous: should be used only for testing the replication subsystem.",
    "CONFIG-REWRITE-FORCE-ALL",
    "    Like CONFIG REWRITE but writes all configuration options, including",
    "    keywords not listed in original configuration file or default values.",
    "CRASH-AND-RECOVER [<milliseconds>]",
    "    Hard crash and restart after a <milliseconds> delay (default 0).",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "LEAK <string>",
    "    Create a memory leak of the input string.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "HTSTATS <dbid>",
    "    Return hash table statistics of the specified Redis database.",
    "HTSTATS-KEY <key>",
    "    Like HTSTATS but for the hash table stored at <key>'s value.",
    "LOADAOF",
    "    Flush the AOF buffers on disk and reload the AOF in memory.",
    "REPLICATE <string>",
    "    Replicates the provided string to replicas, allowing data divergence.",
    "MALLCTL <key> [<val>]",
    "    Get or set a malloc tuning integer.",
    "MALLCTL-STR <key> [<val>]",
    "    Get or set a malloc tuning string.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "DROP-CLUSTER-PACKET-FILTER <packet-type>",
    "    Drop all packets that match the filtered type. Set to -1 allow all packets.",
    "OOM",
    "    Crash the server simulating an out-of-memory error.",
    "PANIC",
    "    Crash the server simulating a panic.",
    "POPULATE <count> [<prefix>] [<size>]",
    "    Create <count> string keys named key:<num>. If <prefix> is specified then",
    "    it is used instead of the 'key' prefix. These are not propagated to",
    "    replicas. Cluster slots are not respected so keys not belonging to the",
    "    current node can be created in cluster mode.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: conflicting keys will be loaded from RDB.",
    "    * NOFLUSH: the existing database will not be removed before load, but",
    "      conflicting keys will generate an exception and kill the server.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    "      file to the database.",
    "RESTART [<milliseconds>]",
    "    Graceful restart: save config, db, restart after a <milliseconds> delay (default 0).",
    "SDSLEN <key>",
    "    Show low level SDS string info representing `key` and value.",
    "SEGFAULT",
    "    Crash the server with sigsegv.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "QUICKLIST-PACKED-THRESHOLD <size>",
    "    Sets the threshold for elements to be inserted as plain vs packed nodes",
    "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
    "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
    "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "STRINGMATCH-TEST",
    "    Run a fuzz tester against the stringmatchlen() function.",
    "STRUCTSIZE",
    "    Return the size of different Redis core C structures.",
    "LISTPACK <key>",
    "    Show low level info about the listpack encoding of <key>.",
    "QUICKLIST <key> [<0|1>]",
    "    Show low level info about the quicklist encoding of <key>.",
    "    The optional argument (0 by default) sets the level of detail",
    "CLIENT-EVICTION",
    "    Show low level client eviction pools info (maxmemory-clients).",
    "PAUSE-CRON <0|1>",
    "    Stop periodic cron job processing.",
    "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
    "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
    "    In case NEVER is provided the last observed peak will never be reset",
    "    In case RESET is provided the peak reset time will be restored to the default value",
    "REPLYBUFFER RESIZING <0|1>",
    "    Enable or disable the reply buffer resize cron job",
    "CLUSTERLINK KILL <to|from|all> <node-id>",
    "    Kills the link based on the direction to/from (both) with the provided node.",
    "HELP",
    "    Prints this help.",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtod_reads_a_prefix_as_c_does() {
        assert_eq!(c_strtod(b"1.5"), 1.5);
        assert_eq!(c_strtod(b"  .25s"), 0.25);
        assert_eq!(c_strtod(b"2."), 2.0);
        assert_eq!(c_strtod(b"1e2x"), 100.0);
        assert_eq!(c_strtod(b"1e"), 1.0);
        assert_eq!(c_strtod(b"1e+"), 1.0);
        assert_eq!(c_strtod(b"-3"), -3.0);
        assert_eq!(c_strtod(b"abc"), 0.0);
        assert_eq!(c_strtod(b"."), 0.0);
        assert_eq!(c_strtod(b""), 0.0);
        assert_eq!(c_strtod(b"0x10"), 16.0);
        assert_eq!(c_strtod(b"0x1.8p1"), 3.0);
        assert_eq!(c_strtod(b"0x"), 0.0);
        assert_eq!(c_strtod(b"Infinity"), f64::INFINITY);
        assert!(c_strtod(b"nan").is_nan());
    }

    #[test]
    fn sleep_time_skips_what_nanosleep_refuses() {
        assert_eq!(
            sleep_time(b"0.5"),
            Some(std::time::Duration::from_millis(500))
        );
        assert_eq!(sleep_time(b"0"), None);
        assert_eq!(sleep_time(b"-1"), None);
        assert_eq!(sleep_time(b"inf"), None);
        assert_eq!(sleep_time(b"nan"), None);
        assert_eq!(sleep_time(b"1e300"), None);
        assert_eq!(sleep_time(b"0.0000001"), None);
    }

    #[test]
    fn atoi_as_glibc() {
        assert_eq!(c_atoi(b"1"), 1);
        assert_eq!(c_atoi(b" 0"), 0);
        assert_eq!(c_atoi(b"abc"), 0);
        assert_eq!(c_atoi(b"-2x"), -2);
        assert_eq!(c_atoi(b"4294967296"), 0);
        assert_eq!(c_atoi(b"99999999999999999999"), -1);
    }

    #[test]
    fn help_frames_like_redis() {
        assert_eq!(HELP.len(), 106);
        assert!(HELP[0].starts_with("DEBUG <subcommand>"));
        assert_eq!(HELP[HELP.len() - 1], "    Prints this help.");
    }
}
