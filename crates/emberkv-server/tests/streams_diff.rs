//! Random stream command sequences with explicit IDs against emberkv and a
//! real redis-server: replies must match byte for byte (approximate
//! trimming included, since nodes split where Redis's listpacks do), with
//! small and default node sizes. Then the propagation stream of such a
//! run (with generated IDs too) is replayed into a fresh redis-server and
//! must rebuild the same streams and groups.

mod common;
use common::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Masks clock-dependent numbers (times in XINFO) and radix-tree-nodes.
fn mask(r: &[u8]) -> String {
    let t = s(r);
    let mut out = Vec::new();
    let mut prev = "";
    for l in t.split("\r\n") {
        let m = if prev == "radix-tree-nodes" || prev == "idle" {
            ":N".to_string()
        } else if let Some(n) = l.strip_prefix(':').and_then(|n| n.parse::<i64>().ok()) {
            if n > 1_000_000_000_000 {
                ":T".to_string()
            } else {
                l.to_string()
            }
        } else {
            l.to_string()
        };
        out.push(m);
        prev = l;
    }
    out.join("\r\n")
}

fn id(rng: &mut Rng) -> String {
    let ms = rng.below(8);
    match rng.below(4) {
        0 => ms.to_string(),
        _ => format!("{ms}-{}", rng.below(3)),
    }
}

fn random_command(rng: &mut Rng, generated: bool) -> Vec<String> {
    let keys = ["s0", "s1"];
    let k = rng.pick(&keys).to_string();
    let k2 = rng.pick(&keys).to_string();
    let g = rng.pick(&["g1", "g2"]).to_string();
    let c = rng.pick(&["alice", "bob", "carol"]).to_string();
    let f = rng.pick(&["f", "g", "h", "1", "12345", "-7"]).to_string();
    let val = rng
        .pick(&[
            "v",
            "",
            "100",
            "x y",
            "a-long-value-to-fill-nodes-a-long-value",
        ])
        .to_string();
    let n = rng.below(6).to_string();
    let strat = rng.pick(&["=", "~", ""]);
    let mut add_id = if rng.below(3) == 0 {
        format!("{}-*", rng.below(8))
    } else {
        id(rng)
    };
    if generated && rng.below(2) == 0 {
        add_id = "*".to_string();
    }
    let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect::<Vec<String>>();
    let mut trim = vec![];
    if rng.below(3) == 0 {
        if rng.below(2) == 0 {
            trim.push("MAXLEN".to_string());
        } else {
            trim.push("MINID".to_string());
        }
        if !strat.is_empty() {
            trim.push(strat.to_string());
        }
        trim.push(if trim[0] == "MAXLEN" {
            n.clone()
        } else {
            id(rng)
        });
    }
    match rng.below(30) {
        0..=7 => {
            let mut c = v(&["XADD", &k]);
            c.extend(trim);
            c.push(add_id);
            c.push(f.clone());
            c.push(val.clone());
            if rng.below(3) == 0 {
                c.extend(v(&["g", &val]));
            }
            c
        }
        8 => v(&["XDEL", &k, &id(rng), &id(rng)]),
        9 => {
            let mut c = v(&["XTRIM", &k]);
            if trim.is_empty() {
                trim = v(&["MAXLEN", &n]);
            }
            c.extend(trim);
            c
        }
        10 => v(&[
            "XRANGE",
            &k,
            rng.pick(&["-", "0", "(1-0", "2"]),
            rng.pick(&["+", "5", "(6", "7-1"]),
            "COUNT",
            &n,
        ]),
        11 => v(&[
            "XREVRANGE",
            &k,
            rng.pick(&["+", "5", "(6-0"]),
            rng.pick(&["-", "1", "(2-1"]),
        ]),
        12 => v(&["XLEN", &k]),
        13 => v(&["XREAD", "COUNT", &n, "STREAMS", &k, &k2, &id(rng), &id(rng)]),
        14 => v(&["XSETID", &k, &id(rng)]),
        15 => {
            let start = rng.pick(&["0", "$", "2-0"]);
            if rng.below(2) == 0 {
                v(&["XGROUP", "CREATE", &k, &g, start, "MKSTREAM"])
            } else {
                v(&["XGROUP", "CREATE", &k, &g, start])
            }
        }
        16 => v(&["XGROUP", "SETID", &k, &g, rng.pick(&["0", "$", "3-0"])]),
        17 => v(&["XGROUP", "DESTROY", &k, &g]),
        18 => v(&["XGROUP", "CREATECONSUMER", &k, &g, &c]),
        19 => v(&["XGROUP", "DELCONSUMER", &k, &g, &c]),
        20..=22 => {
            let mut x = v(&["XREADGROUP", "GROUP", &g, &c, "COUNT", &n]);
            if rng.below(4) == 0 {
                x.push("NOACK".into());
            }
            x.extend(v(&["STREAMS", &k, rng.pick(&[">", ">", "0", "2-0"])]));
            x
        }
        23 => v(&["XACK", &k, &g, &id(rng), &id(rng)]),
        24 => v(&["XPENDING", &k, &g]),
        25 => {
            let mut x = v(&["XCLAIM", &k, &g, &c, "0", &id(rng), &id(rng)]);
            match rng.below(3) {
                0 => x.push("JUSTID".into()),
                1 => x.extend(v(&["RETRYCOUNT", "3", "FORCE"])),
                _ => {}
            }
            x
        }
        26 => v(&[
            "XAUTOCLAIM",
            &k,
            &g,
            &c,
            "0",
            rng.pick(&["0", "2-0"]),
            "COUNT",
            "2",
            "JUSTID",
        ]),
        27 => v(&["XINFO", "GROUPS", &k]),
        28 => v(&["XINFO", "STREAM", &k]),
        _ => match rng.below(4) {
            0 => v(&["DEL", &k]),
            1 => v(&["XINFO", "STREAM", &k, "FULL"]),
            2 => v(&["XINFO", "CONSUMERS", &k, &g]),
            _ => v(&["TYPE", &k]),
        },
    }
}

fn cmd(r: &mut Raw, c: &[String]) -> Vec<u8> {
    let a: Vec<&[u8]> = c.iter().map(|x| x.as_bytes()).collect();
    r.send(&encode(&a));
    r.reply()
}

#[test]
fn random_streams_match_redis() {
    for (seed, conf) in [
        (11u64, vec![]),
        (12, vec!["--stream-node-max-entries", "3"]),
        (
            13,
            vec![
                "--stream-node-max-bytes",
                "60",
                "--stream-node-max-entries",
                "0",
            ],
        ),
    ] {
        let Some(redis) = Server::redis_with(&conf) else {
            return;
        };
        let ember = Server::start(&conf);
        let (mut e, mut r) = (ember.raw(), redis.raw());
        let mut rng = Rng(seed);
        for i in 0..3000 {
            let c = random_command(&mut rng, false);
            let a = mask(&cmd(&mut e, &c));
            let b = mask(&cmd(&mut r, &c));
            if std::env::var_os("STREAMS_TRACE").is_some() {
                eprintln!("{i} {c:?} -> {}", a.replace("\r\n", " "));
            }
            assert_eq!(
                a, b,
                "seed {seed} step {i}: {c:?} (left emberkv, right redis)"
            );
        }
    }
}

fn start_in_process() -> (u16, StreamLog, Arc<emberkv_server::server::Server>) {
    common::start_in_process(&["--stream-node-max-entries", "4"])
}

/// What a replay must rebuild: entries (DEBUG DIGEST) and, per key, the
/// groups' positions and pending entries (consumers that never received
/// anything are not propagated by Redis either, so they are not compared).
fn state(r: &mut Raw) -> Vec<String> {
    let mut v = vec![s(&r.cmd(&["DEBUG", "DIGEST"]))];
    for k in ["s0", "s1"] {
        let mut info = s(&r.cmd(&["XINFO", "GROUPS", k]));
        let mut out = String::new();
        let mut skip = false;
        for l in info.split("\r\n") {
            if !skip {
                out.push_str(l);
                out.push('|');
            }
            skip = l == "consumers";
        }
        info = out;
        v.push(info);
        for g in ["g1", "g2"] {
            v.push(
                s(&r.cmd(&["XPENDING", k, g, "-", "+", "100"]))
                    .split("\r\n")
                    .filter(|l| !l.starts_with(':'))
                    .collect::<Vec<_>>()
                    .join("|"),
            );
        }
        v.push(mask(&r.cmd(&["XINFO", "STREAM", k])));
    }
    v
}

#[test]
fn propagation_replays_exactly() {
    let Some(redis) = Server::redis_with(&[
        "--enable-debug-command",
        "yes",
        "--stream-node-max-entries",
        "4",
    ]) else {
        return;
    };
    let (port, stream, srv) = start_in_process();
    let mut e = Raw::connect(port);
    let mut rng = Rng(99);
    for _ in 0..2500 {
        let c = random_command(&mut rng, true);
        cmd(&mut e, &c);
    }
    let mark = srv.stream.mark();
    let end = Instant::now() + Duration::from_secs(10);
    while !srv.stream.reached(mark) {
        assert!(Instant::now() < end, "stream did not catch up");
        std::thread::sleep(Duration::from_millis(1));
    }
    let bytes = std::mem::take(&mut *stream.lock());
    let mut r = redis.raw();
    // Replay and check that nothing fails.
    let mut at = 0;
    let mut n = 0;
    while at < bytes.len() {
        let len = reply_len(&bytes[at..]).unwrap();
        r.send(&bytes[at..at + len]);
        let rep = r.reply();
        assert!(
            !rep.starts_with(b"-"),
            "replayed command {n} failed: {} ({})",
            s(&rep),
            s(&bytes[at..at + len])
        );
        at += len;
        n += 1;
    }
    assert!(n > 100);
    assert_eq!(state(&mut e), state(&mut r));
}
