//! Differential test of argument, type and missing-key precedence: which
//! error (or which normal reply) wins when a command has a bad argument
//! and a missing or wrong-type key, how numbers are read (hex floats,
//! out-of-range doubles, score-range bounds, SCAN cursors, blocking
//! timeouts), repeated options, error texts, and a few transaction and
//! pub/sub corners. Every case runs on emberkv and on a real redis-server
//! after the same fixture; every reply must be the same bytes. All the
//! differences are collected and printed together.

mod common;
use common::*;

/// The fixture every case starts from. `K` in a case is replaced by each
/// key of the case's key list, so the same arguments meet a missing key,
/// a key of the right type and keys of every other type.
const SETUP: &[&str] = &[
    "SET str abc",
    "SET num 10",
    "RPUSH lst a b c",
    "RPUSH l5 a b a c a",
    "HSET hsh f1 v1 f2 10 f3 1.5",
    "SADD st a b c",
    "SADD ist 1 2 3",
    "ZADD zs 1 a 2 b 3 c",
    "SET ttlk v EX 50000",
];

const ALL: &[&str] = &["nokey", "str", "num", "lst", "hsh", "st", "zs"];
/// Keys that hold data (blocking commands would block on a missing key).
const FULL: &[&str] = &["str", "lst", "hsh", "st", "zs"];

/// Integers as Redis refuses or accepts them (string2ll).
const INTS: &[&str] = &[
    "x",
    "1.5",
    "99999999999999999999999",
    "+1",
    "01",
    "-0",
    "' 1'",
    "'1 '",
    "0x10",
    "1e3",
    "9223372036854775808",
    "-9223372036854775809",
    "''",
    "--1",
    "-",
    "1",
    "-1",
];

/// Doubles: string2d accepts hex and inf, refuses blanks, NaN, overflow
/// and underflow to zero.
const FLOATS: &[&str] = &[
    "x", "nan", "NaN", "''", "' 1'", "'1 '", "'\t1'", "1.5abc", "1e", "1_0", "1,5", "0x10",
    "0x1p3", "0X1P-2", "1e400", "-1e400", "1e-400", "1e-310", "-0", "inf", "-inf", "+1.5", ".5",
    "2",
];

/// Score-range bounds (zslParseRange: strtod, blanks first allowed, an
/// empty bound is 0).
const BOUNDS: &[&str] = &[
    "(", "''", "' 1'", "'\t1'", "'( 1'", "'(\t1'", "'1 '", "0x10", "(0x10", "0x1p3", "(0x1p1",
    "1e400", "(1e400", "-1e400", "nan", "(nan", "x", "(x", "-inf", "+inf", "(inf", "1.5", "(2",
];

/// SCAN-family cursors (strtoul): the first group means 0 for every
/// encoding; the second is an arbitrary cursor (compact encodings answer
/// whole); the third is refused.
const ZERO_CURSORS: &[&str] = &["0", "-0", "''", "+0", "00"];
const OTHER_CURSORS: &[&str] = &[
    "-1",
    "-9223372036854775809",
    "18446744073709551615",
    "9223372036854775808",
    "7",
];
const BAD_CURSORS: &[&str] = &[
    "x",
    "' 0'",
    "'0 '",
    "18446744073709551616",
    "-18446744073709551616",
    "0x0",
    "-",
    "+",
    "1.0",
];

/// Blocking timeouts (getTimeoutFromObjectOrReply: strtold, ceil of ms,
/// an overflowing conversion is "negative").
const TIMEOUTS: &[&str] = &[
    "inf",
    "-inf",
    "1e400",
    "1e100",
    "9999999999999999",
    "9223372036854775807",
    "9223372036854775.808",
    "1e5000",
    "nan",
    "' 1'",
    "''",
    "x",
    "-1",
    "-0.002",
    "0x10",
    "0x1p-3",
    "1e-400",
    "-0",
];

/// Splits a command line on spaces; 'single' or "double" quotes keep a
/// word whole (and may be empty).
fn words(line: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = line.trim_start();
    while !rest.is_empty() {
        let q = rest.as_bytes()[0];
        if q == b'\'' || q == b'"' {
            let end = rest[1..].find(q as char).expect("closing quote") + 1;
            out.push(rest.as_bytes()[1..end].to_vec());
            rest = rest[end + 1..].trim_start();
        } else {
            let end = rest.find(' ').unwrap_or(rest.len());
            out.push(rest.as_bytes()[..end].to_vec());
            rest = rest[end..].trim_start();
        }
    }
    out
}

/// One case: command lines run in order on one connection after the
/// fixture. `fresh`: on new connections (MULTI, pub/sub, WATCH).
struct Case {
    lines: Vec<String>,
    fresh: bool,
}

#[derive(Default)]
struct Cases(Vec<Case>);

impl Cases {
    fn seq(&mut self, lines: &[&str]) {
        self.0.push(Case {
            lines: lines.iter().map(|l| l.to_string()).collect(),
            fresh: false,
        });
    }
    fn fresh(&mut self, lines: &[&str]) {
        self.0.push(Case {
            lines: lines.iter().map(|l| l.to_string()).collect(),
            fresh: true,
        });
    }
    /// `template` once per key of `keys` (for `K`), each followed by the
    /// `after` lines (also with `K` replaced): read-backs of the state.
    fn keys(&mut self, keys: &[&str], template: &str, after: &[&str]) {
        for k in keys {
            let mut lines = vec![subst(template, k)];
            lines.extend(after.iter().map(|a| subst(a, k)));
            self.0.push(Case {
                lines,
                fresh: false,
            });
        }
    }
    /// `template` with the word `V` replaced by each value, then `K` by
    /// each key.
    fn values(&mut self, keys: &[&str], template: &str, values: &[&str], after: &[&str]) {
        for v in values {
            self.keys(keys, &subst_word(template, "V", v), after);
        }
    }
}

/// How a case reads a TTL back: an absolute deadline (EXAT/PXAT) as
/// itself, since a TTL computed from it may cross a second between the
/// two servers; a relative one as TTL.
fn ttl_readback(options: &str) -> &'static str {
    if options.contains("AT ") {
        "PEXPIRETIME K"
    } else {
        "TTL K"
    }
}

/// Replaces the word `K` with `key`.
fn subst(line: &str, key: &str) -> String {
    subst_word(line, "K", key)
}

fn subst_word(line: &str, word: &str, by: &str) -> String {
    line.split(' ')
        .map(|w| if w == word { by } else { w })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The elements of an aggregate reply (after its header line).
fn items(r: &[u8]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let nl = r.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
    let mut v = Vec::new();
    let mut at = nl;
    while at < r.len() {
        let n = reply_len(&r[at..]).unwrap();
        v.push(r[at..at + n].to_vec());
        at += n;
    }
    (r[..nl].to_vec(), v)
}

/// Set members come in an order of each server's own: SSCAN's list is
/// compared sorted.
fn normalize(cmd: &[Vec<u8>], r: Vec<u8>) -> Vec<u8> {
    if !cmd[0].eq_ignore_ascii_case(b"sscan") || !r.starts_with(b"*2\r\n") {
        return r;
    }
    let (head, parts) = items(&r);
    let (lhead, mut list) = items(&parts[1]);
    list.sort();
    let mut out = head;
    out.extend(&parts[0]);
    out.extend(lhead);
    out.extend(list.concat());
    out
}

fn send_all(c: &mut Raw, lines: &[Vec<Vec<u8>>]) {
    let mut buf = Vec::new();
    for l in lines {
        let a: Vec<&[u8]> = l.iter().map(|x| &x[..]).collect();
        buf.extend(encode(&a));
    }
    c.send(&buf);
    for _ in lines {
        c.reply();
    }
}

/// Runs every case on both servers and returns the differences.
fn run(ember: &Server, redis: &Server, cases: &Cases, resp3: bool) -> Vec<String> {
    let setup: Vec<Vec<Vec<u8>>> = std::iter::once("FLUSHALL")
        .chain(SETUP.iter().copied())
        .map(words)
        .collect();
    let connect = |srv: &Server| {
        let mut c = srv.raw();
        if resp3 {
            c.cmd(&["HELLO", "3"]);
        }
        c
    };
    let (mut shared_e, mut shared_r) = (connect(ember), connect(redis));
    let mut diffs = Vec::new();
    for case in &cases.0 {
        let (mut own_e, mut own_r);
        let (e, r) = if case.fresh {
            own_e = connect(ember);
            own_r = connect(redis);
            (&mut own_e, &mut own_r)
        } else {
            (&mut shared_e, &mut shared_r)
        };
        send_all(e, &setup);
        send_all(r, &setup);
        for line in &case.lines {
            let cmd = words(line);
            let a: Vec<&[u8]> = cmd.iter().map(|x| &x[..]).collect();
            e.send(&encode(&a));
            r.send(&encode(&a));
            let (got, want) = (normalize(&cmd, e.reply()), normalize(&cmd, r.reply()));
            if got != want {
                diffs.push(format!(
                    "[resp{}] {:?} at `{line}`:\n    redis:   {:?}\n    emberkv: {:?}",
                    if resp3 { 3 } else { 2 },
                    case.lines,
                    s(&want),
                    s(&got)
                ));
            }
        }
    }
    diffs
}

/// A: the key is looked up and type-checked before these arguments are
/// read (GETEX, LINDEX, LSET, INCRBYFLOAT, LCS, *SCAN options, the
/// ZUNION family's options...), and the other ordering fixes.
fn order_cases(c: &mut Cases) {
    for unit in ["EX", "PX", "EXAT", "PXAT"] {
        let ttl = ttl_readback(&format!("{unit} "));
        // (PX 1 may or may not have expired by the read-back)
        let ints: Vec<&str> = INTS
            .iter()
            .copied()
            .filter(|&v| unit != "PX" || v != "1")
            .collect();
        c.values(ALL, &format!("GETEX K {unit} V"), &ints, &[ttl]);
        for v in ["0", "-1", "9223372036854775807", "9223372036854775"] {
            c.keys(ALL, &format!("GETEX K {unit} {v}"), &[ttl]);
        }
    }
    c.keys(&["str", "ttlk", "lst"], "GETEX K PXAT 1", &["EXISTS K"]);
    c.values(ALL, "LINDEX K V", INTS, &[]);
    c.values(ALL, "LSET K V new", INTS, &["LRANGE lst 0 -1"]);
    c.values(ALL, "INCRBYFLOAT K V", FLOATS, &["GET K"]);
    for opts in [
        "foo",
        "MINMATCHLEN",
        "IDX MINMATCHLEN x",
        "LEN IDX",
        "IDX MINMATCHLEN -5 WITHMATCHLEN",
        "LEN",
    ] {
        c.keys(ALL, &format!("LCS K str {opts}"), &[]);
        c.keys(ALL, &format!("LCS str K {opts}"), &[]);
    }
    c.keys(ALL, "LCS K nokey", &[]);
    for cmd in ["HSCAN", "SSCAN", "ZSCAN"] {
        for opts in [
            "COUNT x",
            "COUNT 1.5",
            "COUNT 0",
            "COUNT -1",
            // (Counts that cover the whole of these small collections:
            // a hashtable set answers part of itself for less.)
            "COUNT 10",
            "foo",
            "NOVALUES",
            "TYPE string",
            "MATCH",
            "MATCH *",
            "MATCH f* COUNT 20",
            "COUNT",
        ] {
            c.keys(
                &["nokey", "str", "lst", "hsh", "st", "ist", "zs"],
                &format!("{cmd} K 0 {opts}"),
                &[],
            );
        }
    }
    for cmd in ["ZUNION 1", "ZINTER 1", "ZDIFF 1", "ZUNIONSTORE dst 1"] {
        for opts in [
            "WEIGHTS x",
            "WEIGHTS nan",
            "WEIGHTS 1 2",
            "WEIGHTS",
            "WEIGHTS 2",
            "AGGREGATE foo",
            "AGGREGATE",
            "AGGREGATE MAX",
            "WITHSCORES",
            "foo",
            "WEIGHTS 2 WITHSCORES",
        ] {
            c.keys(
                ALL,
                &format!("{cmd} K {opts}"),
                &["ZRANGE dst 0 -1 WITHSCORES"],
            );
        }
    }
    for cmd in ["ZINTERSTORE dst 1", "ZDIFFSTORE dst 1"] {
        c.keys(ALL, &format!("{cmd} K WITHSCORES"), &[]);
        c.keys(ALL, &format!("{cmd} K WEIGHTS x"), &[]);
    }
    c.keys(ALL, "ZUNION 2 zs K WEIGHTS 1 x", &[]);
    for opts in ["LIMIT x", "LIMIT -1", "LIMIT", "foo", "LIMIT 1", "LIMIT 0"] {
        c.keys(ALL, &format!("ZINTERCARD 1 K {opts}"), &[]);
        c.keys(ALL, &format!("SINTERCARD 1 K {opts}"), &[]);
    }
    for rank in [
        "-9223372036854775808",
        "-9223372036854775807",
        "x",
        "0",
        "-1",
    ] {
        for tail in ["", "COUNT 1", "COUNT 0", "COUNT 2 MAXLEN 3", "MAXLEN 1"] {
            c.keys(
                &["nokey", "str", "lst", "l5", "zs"],
                &format!("LPOS K a RANK {rank} {tail}"),
                &[],
            );
        }
    }
    c.keys(&["l5"], "LPOS K zz RANK -9223372036854775808", &[]);
    // BLMPOP/BZMPOP read the timeout last.
    for k in ALL {
        for tail in [
            format!("0 {k} LEFT"),
            format!("1 {k} foo"),
            format!("1 {k} LEFT COUNT 0"),
            format!("2 {k} LEFT"),
        ] {
            c.seq(&[&format!("BLMPOP x {tail}")]);
            c.seq(&[&format!("BZMPOP x {}", tail.replace("LEFT", "MIN"))]);
        }
    }
    let (sha40, unknown) = ("e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "a".repeat(40));
    for n in ["x", "-1", "2 a", "0", "1 k"] {
        for cmd in ["EVALSHA", "EVALSHA_RO"] {
            c.seq(&[&format!("{cmd} x {n}")]);
            c.seq(&[&format!("{cmd} {unknown} {n}")]);
            c.seq(&[&format!("{cmd} {sha40} {n}")]);
        }
        for f in ["nofunc", "pf", "pw"] {
            c.seq(&[&format!("FCALL {f} {n}")]);
            c.seq(&[&format!("FCALL_RO {f} {n}")]);
        }
        c.seq(&[&format!("FCALL pf {n}"), "FCALL pf 99999999999999999999"]);
    }
    for k in ["nokey", "lst", "hsh", "zs"] {
        c.seq(&[&format!(
            "EVAL \"return redis.call('getex',KEYS[1],'PX','x')\" 1 {k}"
        )]);
    }
}

/// B: how numbers are read, and repeated options.
fn number_cases(c: &mut Cases) {
    c.values(ALL, "ZADD K V a", FLOATS, &["ZRANGE K 0 -1 WITHSCORES"]);
    c.values(ALL, "ZINCRBY K V a", FLOATS, &["ZRANGE K 0 -1 WITHSCORES"]);
    c.values(ALL, "ZADD K INCR V b", &["0x10", "1e400", "-0"], &[]);
    for cmd in ["ZUNION 1 K WEIGHTS V WITHSCORES", "ZINTER 1 K WEIGHTS V"] {
        c.values(ALL, cmd, FLOATS, &[]);
    }
    c.values(
        ALL,
        "ZUNIONSTORE dst 1 K WEIGHTS V",
        FLOATS,
        &["ZRANGE dst 0 -1 WITHSCORES"],
    );
    let keys = &["nokey", "str", "lst", "zs"];
    for b in BOUNDS {
        for cmd in [
            format!("ZCOUNT K {b} +inf"),
            format!("ZCOUNT K -inf {b}"),
            format!("ZRANGEBYSCORE K {b} +inf"),
            format!("ZREVRANGEBYSCORE K +inf {b}"),
            format!("ZRANGE K {b} +inf BYSCORE"),
            format!("ZRANGESTORE dst K -inf {b} BYSCORE"),
        ] {
            c.keys(keys, &cmd, &[]);
        }
        c.keys(
            keys,
            &format!("ZREMRANGEBYSCORE K {b} +inf"),
            &["ZRANGE zs 0 -1 WITHSCORES"],
        );
    }
    for cmd in ["HSCAN", "SSCAN", "ZSCAN"] {
        let mut keys = vec!["nokey", "str", "lst", "hsh", "ist", "zs"];
        for cur in ZERO_CURSORS {
            keys.push("st");
            c.keys(&keys, &format!("{cmd} K {cur}"), &[]);
            keys.pop();
        }
        for cur in OTHER_CURSORS.iter().chain(BAD_CURSORS) {
            c.keys(&keys, &format!("{cmd} K {cur}"), &[]);
            c.keys(&keys, &format!("{cmd} K {cur} COUNT x"), &[]);
        }
    }
    // SCAN: cursors on an empty database (no order to compare), the
    // zero ones also on a database of one key.
    for cur in ZERO_CURSORS.iter().chain(OTHER_CURSORS).chain(BAD_CURSORS) {
        c.seq(&[
            "SELECT 5",
            &format!("SCAN {cur}"),
            &format!("SCAN {cur} COUNT 0"),
            "SELECT 0",
        ]);
    }
    for cur in ZERO_CURSORS {
        c.seq(&[
            "SELECT 6",
            "SET one 1",
            &format!("SCAN {cur} TYPE string"),
            "FLUSHDB",
            "SELECT 0",
        ]);
    }
    // Blocking pops: keys that hold data (a missing one would block).
    for t in TIMEOUTS {
        for cmd in [
            format!("BLPOP K {t}"),
            format!("BRPOP K {t}"),
            format!("BRPOPLPUSH K dst {t}"),
            format!("BLMOVE K dst LEFT RIGHT {t}"),
            format!("BLMPOP {t} 1 K LEFT"),
            format!("BZPOPMIN K {t}"),
            format!("BZPOPMAX K {t}"),
            format!("BZMPOP {t} 1 K MIN"),
        ] {
            c.keys(FULL, &cmd, &["LRANGE lst 0 -1", "ZRANGE zs 0 -1"]);
        }
    }
    // Invalid timeouts are refused before any key is looked at.
    for t in ["inf", "1e100", "x", "-1", "' 1'"] {
        c.seq(&[&format!("BLPOP nokey {t}")]);
        c.seq(&[&format!("BZPOPMIN nokey {t}")]);
    }
    // Repeated options: the last one wins; contradicting ones conflict.
    for opts in [
        "EX 10 EX 20",
        "PX 100 PX 20000",
        "EXAT 1 EXAT 99999999999",
        "KEEPTTL KEEPTTL",
        "EX x EX 10",
        "EX 10 EX x",
        "EX 0 EX 10",
        "EX 10 PX 20",
        "EX 10 KEEPTTL",
        "KEEPTTL EX 10",
        "PXAT 100 PXAT 200 PX 5",
        "NX NX",
        "XX XX",
        "NX XX",
        "GET GET",
        "EX 10 EX",
        "PERSIST",
    ] {
        let ttl = ttl_readback(opts);
        c.keys(ALL, &format!("SET K v {opts}"), &["GET K", ttl]);
        if ttl == "TTL K" {
            // (ttlk's TTL is relative: its deadline differs between servers)
            c.keys(&["ttlk"], &format!("SET K v {opts}"), &["GET K", ttl]);
        }
    }
    for opts in [
        "PERSIST PERSIST",
        "EX 10 EX 20",
        "EX 10 PX 20",
        "PERSIST EX 10",
        "EX 10 PERSIST",
        "KEEPTTL",
        "EX x EX 10",
        "EX 10 EX x",
        "EX 0 EX 10",
        "EXAT 1 EXAT 99999999999",
        "EX",
        "foo",
    ] {
        let ttl = ttl_readback(opts);
        c.keys(ALL, &format!("GETEX K {opts}"), &[ttl]);
        if ttl == "TTL K" {
            // (ttlk's TTL is relative: its deadline differs between servers)
            c.keys(&["ttlk"], &format!("GETEX K {opts}"), &[ttl]);
        }
    }
    // SORT reads numbers with strtod (no ERANGE, nothing after the number).
    for v in [
        "'1 '", "' 1'", "0x10", "1e400", "1e-310", "''", "inf", "nan", "+5", "1e",
    ] {
        c.seq(&[
            &format!("RPUSH sl 3 {v} 2"),
            "SORT sl",
            "SORT sl DESC LIMIT 0 2",
        ]);
    }
}

/// C: error texts.
fn text_cases(c: &mut Cases) {
    // (SPOP 1 of a three-member set is random.)
    let counts: Vec<&str> = INTS.iter().copied().filter(|&v| v != "1").collect();
    for cmd in ["SPOP", "ZPOPMIN", "ZPOPMAX"] {
        c.values(ALL, &format!("{cmd} K V"), &counts, &[]);
        c.keys(ALL, &format!("{cmd} K 0"), &[]);
        c.keys(ALL, &format!("{cmd} K 1 2"), &[]);
    }
    // (Only counts refused before the lookup or with a missing key: a
    // huge negative count on a real key makes Redis build a huge reply.)
    for cmd in ["SRANDMEMBER", "HRANDFIELD", "ZRANDMEMBER"] {
        c.keys(ALL, &format!("{cmd} K -9223372036854775808"), &[]);
        c.keys(ALL, &format!("{cmd} K x"), &[]);
        c.seq(&[&format!("{cmd} nokey -9223372036854775807")]);
        c.seq(&[&format!("{cmd} nokey -99999999999")]);
    }
    for (cmd, with) in [("HRANDFIELD", "WITHVALUES"), ("ZRANDMEMBER", "WITHSCORES")] {
        for n in [
            "4611686018427387904",
            "4611686018427387903",
            "-4611686018427387904",
            "-4611686018427387903",
            "-9223372036854775808",
        ] {
            c.seq(&[&format!("{cmd} nokey {n} {with}")]);
        }
        c.keys(ALL, &format!("{cmd} K x foo"), &[]);
        c.keys(ALL, &format!("{cmd} K -9223372036854775808 foo"), &[]);
        c.keys(ALL, &format!("{cmd} K 1 foo"), &[]);
    }
    c.keys(ALL, "SRANDMEMBER K x foo", &[]);
    for opt in ["COUNT", "MAXLEN"] {
        for v in ["x", "1.5", "-1", "''"] {
            c.keys(ALL, &format!("LPOS K a {opt} {v}"), &[]);
        }
    }
    c.keys(ALL, "LPOS K a COUNT x RANK 0", &[]);
    for cmd in ["LPOP", "RPOP"] {
        c.keys(ALL, &format!("{cmd} K 2 3"), &[]);
        c.keys(ALL, &format!("{cmd} K x"), &[]);
    }
    for cmd in [
        "ZRANGEBYLEX K - + WITHSCORES",
        "ZREVRANGEBYLEX K + - WITHSCORES",
        "ZRANGEBYLEX K - + WITHSCORES LIMIT 0 1",
        "ZRANGEBYLEX K - + LIMIT 0 1 foo",
        "ZRANGE K - + BYLEX WITHSCORES",
        "ZRANGESTORE dst K - + BYLEX WITHSCORES",
    ] {
        c.keys(ALL, cmd, &[]);
    }
    c.keys(ALL, "ZINTERCARD 2 K", &[]);
    c.keys(ALL, "SINTERCARD 2 K", &[]);
    for a in [
        "-1 0",
        "0 -1",
        "x -1",
        "-1 x",
        "2147483648 0",
        "-2147483648 0",
        "16 0",
        "0 99",
    ] {
        c.seq(&[&format!("SWAPDB {a}")]);
    }
    for a in [
        "LIBRARYNAME",
        "WITHCODE LIBRARYNAME",
        "LIBRARYNAME a LIBRARYNAME",
        "WITHCODE WITHCODE",
        "LIBRARYNAME zz WITHCODE",
        "foo",
    ] {
        c.seq(&[&format!("FUNCTION LIST {a}")]);
    }
    for a in [
        "eval 'return 1' x",
        "eval 'return 1' 0",
        "eval 'return 1' -1",
        "eval 'return 1' 1",
        "eval 'return 1' 2 a",
        "eval 'return 1' 1 a",
        "eval 'return 1' 1x a",
        "eval 'return 1' ' 1' a",
        "eval 'return 1' +1 a",
        "eval 'return 1' 4294967297 a",
        "evalsha x x",
        "fcall f x",
        "fcall_ro f 1 k",
        "zunion x a",
        "zunion 1x a",
        "zunion 0 a",
        "zunionstore d 1 a",
        "lmpop 1x a LEFT",
        "sintercard x a",
    ] {
        c.seq(&[&format!("COMMAND GETKEYS {a}")]);
    }
    for a in [
        "FILTERBY foo x",
        "FILTERBY pattern",
        "FILTERBY pattern x y",
        "FILTERBY module x",
        "FILTERBY PATTERN zunionst*",
        "foo",
    ] {
        c.seq(&[&format!("COMMAND LIST {a}")]);
    }
}

/// E and F: transactions, pub/sub, WATCH, and -0 scores.
fn state_cases(c: &mut Cases) {
    for k in ["str", "num", "ttlk", "nokey", "lst"] {
        c.fresh(&[
            &format!("WATCH {k}"),
            &format!("GETEX {k} PERSIST"),
            "MULTI",
            "PING",
            "EXEC",
        ]);
        c.fresh(&[
            &format!("WATCH {k}"),
            &format!("GETEX {k} EX 100"),
            "MULTI",
            "PING",
            "EXEC",
        ]);
    }
    for k in ["nokey", "str", "lst", "zs"] {
        c.fresh(&[
            "MULTI",
            &format!("GETEX {k} PX x"),
            &format!("LINDEX {k} x"),
            "EXEC",
        ]);
    }
    c.fresh(&["MULTI", "SSUBSCRIBE a b", "EXEC", "PING"]);
    c.fresh(&["MULTI", "SSUBSCRIBE a", "SET k v", "EXEC", "GET k"]);
    c.fresh(&["MULTI", "SUBSCRIBE a b", "EXEC", "PING"]);
    c.fresh(&["MULTI", "PSUBSCRIBE a*", "EXEC", "PING"]);
    c.fresh(&["SSUBSCRIBE a", "PING"]);
    // A -0 score is 0 in a listpack (small) sorted set, -0 in a skiplist.
    for k in ["nokey", "zs"] {
        c.seq(&[
            &format!("ZADD {k} -0 a"),
            &format!("ZSCORE {k} a"),
            &format!("ZRANGE {k} 0 -1 WITHSCORES"),
            &format!("ZINCRBY {k} -0 b"),
            &format!("ZSCORE {k} b"),
            &format!("ZADD {k} INCR -0 c"),
            &format!("ZMSCORE {k} a b c"),
            &format!("ZRANGEBYSCORE {k} -inf +inf WITHSCORES"),
            &format!("ZPOPMIN {k}"),
        ]);
    }
    c.seq(&[
        "ZUNIONSTORE dst 1 zs WEIGHTS -0",
        "ZRANGE dst 0 -1 WITHSCORES",
        "ZUNION 1 zs WEIGHTS -0 WITHSCORES",
        "ZINTER 1 zs WEIGHTS -1 WITHSCORES",
        "ZADD z0 0 a",
        "ZINTER 1 z0 WEIGHTS -1 WITHSCORES",
        "ZINTERSTORE dst 1 z0 WEIGHTS -1",
        "ZSCORE dst a",
        "ZRANGESTORE dst2 dst 0 -1",
        "ZSCORE dst2 a",
    ]);
    c.seq(&[
        "CONFIG SET zset-max-listpack-entries 0",
        "ZADD big -0 a",
        "ZSCORE big a",
        "ZINCRBY big2 -0 a",
        "ZSCORE big2 a",
        "ZUNIONSTORE dst 1 zs WEIGHTS -0",
        "ZRANGE dst 0 -1 WITHSCORES",
        "OBJECT ENCODING dst",
        "CONFIG SET zset-max-listpack-entries 128",
        "ZRANGESTORE dst3 big 0 -1",
        "ZSCORE dst3 a",
    ]);
}

#[test]
fn precedence_matches_redis() {
    let Some(redis) = Server::redis() else { return };
    let ember = Server::start(&[]);
    // Scripts and functions the EVALSHA/FCALL cases refer to.
    let lib = "#!lua name=plib\n\
               redis.register_function{function_name='pf', callback=function() return 1 end, \
               flags={'no-writes'}}\n\
               redis.register_function('pw', function() return 2 end)";
    for srv in [&ember, &redis] {
        let mut c = srv.raw();
        c.cmd(&["FUNCTION", "FLUSH"]);
        c.cmd(&["SCRIPT", "LOAD", "return 1"]);
        assert!(c.cmd(&["FUNCTION", "LOAD", lib]).starts_with(b"$4"));
    }
    let mut cases = Cases::default();
    order_cases(&mut cases);
    number_cases(&mut cases);
    text_cases(&mut cases);
    state_cases(&mut cases);
    let start = std::time::Instant::now();
    let mut diffs = run(&ember, &redis, &cases, false);
    // RESP3 changes the shape of nulls and doubles; the cases whose reply
    // is one of those are the GETEX/LINDEX/LPOS/pop/score ones.
    let mut resp3 = Cases::default();
    for c in cases.0 {
        let l = c.lines[0].to_ascii_uppercase();
        if [
            "GETEX", "LINDEX", "LPOS", "ZADD", "ZINCRBY", "ZUNION ", "ZPOP", "BLMPOP", "MULTI",
        ]
        .iter()
        .any(|p| l.starts_with(p))
        {
            resp3.0.push(c);
        }
    }
    diffs.extend(run(&ember, &redis, &resp3, true));
    eprintln!("precedence cases ran in {:?}", start.elapsed());
    for srv in [&ember, &redis] {
        srv.raw().cmd(&["FUNCTION", "FLUSH"]);
    }
    assert!(
        diffs.is_empty(),
        "{} differences from redis-server:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}
