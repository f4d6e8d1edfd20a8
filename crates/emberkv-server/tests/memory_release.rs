//! Freed memory goes back: to the allocator and to the OS. On its own in
//! this binary, so that no other test's servers compete for the CPU while
//! it reads RSS (jemalloc's own purging thread runs on it too).

mod common;
use common::*;
use std::time::{Duration, Instant};

/// After FLUSHALL the freed memory goes back to the OS (before, RSS stayed
/// at the dataset's peak).
#[test]
fn freed_memory_goes_back() {
    // What is tested is emberkv's own purge after a flush or a huge free.
    // jemalloc's background thread, when starved of CPU (a loaded CI
    // machine), can hold pages it has taken to purge for seconds, which
    // delays but does not prevent their return; it is off here so that the
    // test measures the purge alone (it is on by default, as in Redis).
    let srv = Server::start(&["--jemalloc-bg-thread", "no"]);
    let mut c = srv.client();
    let v = "x".repeat(1000);
    let mut p = redis::pipe();
    for i in 0..200_000 {
        p.cmd("SET").arg(format!("k{i}")).arg(&v).ignore();
    }
    let _: () = p.query(&mut c).unwrap();
    let rss = |srv: &Server| {
        info_field(srv, "memory", "used_memory_rss")
            .parse::<u64>()
            .unwrap()
    };
    let full = rss(&srv);
    assert!(full > 200 << 20, "{full}");
    let _: () = q(&mut c, &["FLUSHALL"]).unwrap();
    let end = Instant::now() + Duration::from_secs(5);
    while rss(&srv) >= full / 4 {
        assert!(
            Instant::now() < end,
            "RSS {} of {full} after FLUSHALL:\n{}",
            rss(&srv),
            s(&srv.raw().cmd(&["INFO", "memory"]))
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // One huge value: its pages go back at once, not after jemalloc's decay.
    let _: i64 = q(&mut c, &["SETRANGE", "big", "209715200", "x"]).unwrap();
    let full = rss(&srv);
    assert!(full > 200 << 20, "{full}");
    let _: i64 = q(&mut c, &["DEL", "big"]).unwrap();
    eventually("RSS back down after DEL", Duration::from_secs(3), || {
        rss(&srv) < full / 4
    });
}

/// Found by Redis 7.0's own suite (unit/lazyfree): UNLINK of a 100k set
/// gives the memory back, the parser's index of the 100k arguments too
/// (it kept 1.6 MB per connection before).
#[test]
fn unlink_reclaims_memory() {
    let srv = Server::start(&[]);
    let mut r = srv.raw();
    let orig = srv.used_memory();
    let mut sadd: Vec<String> = vec!["SADD".into(), "myset".into()];
    sadd.extend((0..100_000).map(|i| i.to_string()));
    let sadd: Vec<&str> = sadd.iter().map(String::as_str).collect();
    assert_eq!(r.cmd(&sadd), b":100000\r\n");
    let peak = srv.used_memory();
    assert!(peak > orig + 1_000_000);
    assert_eq!(r.cmd(&["UNLINK", "myset"]), b":1\r\n");
    eventually("memory reclaimed", Duration::from_secs(5), || {
        let m = srv.used_memory();
        m < peak && m < orig * 2
    });
}
