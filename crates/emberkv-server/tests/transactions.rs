//! MULTI / EXEC / DISCARD / WATCH over TCP, with several connections.

mod common;
use common::*;
use std::time::{Duration, Instant};

#[test]
fn queueing_execabort_and_errors() {
    let srv = Server::start(&[]);
    let mut r = srv.raw();
    assert_eq!(r.cmd(&["MULTI"]), b"+OK\r\n");
    assert_eq!(r.cmd(&["MULTI"]), b"-ERR MULTI calls can not be nested\r\n");
    assert_eq!(r.cmd(&["SET", "a", "1"]), b"+QUEUED\r\n");
    assert_eq!(r.cmd(&["INCR", "a"]), b"+QUEUED\r\n");
    assert_eq!(r.cmd(&["LPUSH", "a", "x"]), b"+QUEUED\r\n");
    assert_eq!(r.cmd(&["GET", "a"]), b"+QUEUED\r\n");
    // A runtime error does not stop the other commands.
    assert_eq!(
        s(&r.cmd(&["EXEC"])),
        "*4\r\n+OK\r\n:2\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n$1\r\n2\r\n"
    );
    // Errors at queue time abort the whole transaction.
    r.cmd(&["MULTI"]);
    assert_eq!(r.cmd(&["SET", "a", "9"]), b"+QUEUED\r\n");
    assert!(s(&r.cmd(&["NOSUCH"])).starts_with("-ERR unknown command 'NOSUCH'"));
    assert_eq!(
        s(&r.cmd(&["GET"])),
        "-ERR wrong number of arguments for 'get' command\r\n"
    );
    assert_eq!(
        s(&r.cmd(&["EXEC"])),
        "-EXECABORT Transaction discarded because of previous errors.\r\n"
    );
    assert_eq!(r.cmd(&["GET", "a"]), b"$1\r\n2\r\n");
    assert_eq!(r.cmd(&["EXEC"]), b"-ERR EXEC without MULTI\r\n");
    assert_eq!(r.cmd(&["DISCARD"]), b"-ERR DISCARD without MULTI\r\n");
    r.cmd(&["MULTI"]);
    r.cmd(&["SET", "a", "5"]);
    assert_eq!(r.cmd(&["DISCARD"]), b"+OK\r\n");
    assert_eq!(r.cmd(&["GET", "a"]), b"$1\r\n2\r\n");
    // WATCH inside MULTI is refused but does not doom the transaction.
    r.cmd(&["MULTI"]);
    assert_eq!(
        r.cmd(&["WATCH", "a"]),
        b"-ERR WATCH inside MULTI is not allowed\r\n"
    );
    assert_eq!(r.cmd(&["PING"]), b"+QUEUED\r\n");
    assert_eq!(r.cmd(&["EXEC"]), b"*1\r\n+PONG\r\n");
    // An empty transaction, and RESP3's null for an aborted one.
    r.cmd(&["MULTI"]);
    assert_eq!(r.cmd(&["EXEC"]), b"*0\r\n");
}

#[test]
fn watch_race_between_two_clients() {
    let srv = Server::start(&[]);
    let mut a = srv.raw();
    let mut b = srv.raw();
    a.cmd(&["SET", "k", "1"]);
    // No interference: EXEC runs.
    a.cmd(&["WATCH", "k"]);
    a.cmd(&["MULTI"]);
    a.cmd(&["INCR", "k"]);
    assert_eq!(a.cmd(&["EXEC"]), b"*1\r\n:2\r\n");
    // Another client writes the watched key: the losing EXEC is null.
    a.cmd(&["WATCH", "k"]);
    b.cmd(&["SET", "k", "10"]);
    a.cmd(&["MULTI"]);
    a.cmd(&["INCR", "k"]);
    assert_eq!(a.cmd(&["EXEC"]), b"*-1\r\n");
    assert_eq!(a.cmd(&["GET", "k"]), b"$2\r\n10\r\n");
    // EXEC unwatches: the next transaction runs.
    a.cmd(&["MULTI"]);
    a.cmd(&["INCR", "k"]);
    assert_eq!(a.cmd(&["EXEC"]), b"*1\r\n:11\r\n");
    // UNWATCH forgets; a write to another key does not matter.
    a.cmd(&["WATCH", "k"]);
    a.cmd(&["UNWATCH"]);
    b.cmd(&["SET", "k", "0"]);
    a.cmd(&["WATCH", "k"]);
    b.cmd(&["SET", "other", "0"]);
    a.cmd(&["MULTI"]);
    a.cmd(&["GET", "k"]);
    assert_eq!(a.cmd(&["EXEC"]), b"*1\r\n$1\r\n0\r\n");
    // RESP3: the aborted EXEC is a null.
    a.cmd(&["HELLO", "3"]);
    a.cmd(&["WATCH", "k"]);
    b.cmd(&["DEL", "k"]);
    a.cmd(&["MULTI"]);
    a.cmd(&["GET", "k"]);
    assert_eq!(a.cmd(&["EXEC"]), b"_\r\n");
}

/// Many clients increment one counter with WATCH/MULTI/EXEC retry loops:
/// no increment is lost, and some EXECs lost races.
#[test]
fn optimistic_lock_loses_no_update() {
    let srv = Server::start(&[]);
    let port = srv.port;
    let per = 60;
    let handles: Vec<_> = (0..6)
        .map(|_| {
            std::thread::spawn(move || {
                let mut c = Raw::connect(port);
                let mut aborted = 0;
                let mut done = 0;
                while done < per {
                    c.cmd(&["WATCH", "ctr"]);
                    let v: i64 = match c.cmd(&["GET", "ctr"]).as_slice() {
                        b"$-1\r\n" => 0,
                        r => s(r).lines().nth(1).unwrap().parse().unwrap(),
                    };
                    c.cmd(&["MULTI"]);
                    c.cmd(&["SET", "ctr", &(v + 1).to_string()]);
                    if c.cmd(&["EXEC"]) == b"*-1\r\n" {
                        aborted += 1;
                    } else {
                        done += 1;
                    }
                }
                aborted
            })
        })
        .collect();
    let aborted: i32 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    let mut c = srv.raw();
    assert_eq!(c.cmd(&["GET", "ctr"]), b"$3\r\n360\r\n");
    eprintln!("aborted EXECs: {aborted}");
}

#[test]
fn watch_sees_expiry_flush_and_swapdb() {
    let srv = Server::start(&[]);
    let mut a = srv.raw();
    let mut b = srv.raw();
    let abort_after = |a: &mut Raw, b: &mut Raw, setup: &[&str], other: &[&str]| {
        a.cmd(&["FLUSHALL"]);
        if !setup.is_empty() {
            a.cmd(setup);
        }
        a.cmd(&["WATCH", "w"]);
        if !other.is_empty() {
            b.cmd(other);
        }
        a.cmd(&["MULTI"]);
        a.cmd(&["PING"]);
        a.cmd(&["EXEC"])
    };
    let null = b"*-1\r\n".to_vec();
    let pong = b"*1\r\n+PONG\r\n".to_vec();
    assert_eq!(
        abort_after(&mut a, &mut b, &["SET", "w", "1"], &["DEL", "w"]),
        null
    );
    assert_eq!(
        abort_after(&mut a, &mut b, &["SET", "w", "1"], &["FLUSHALL"]),
        null
    );
    assert_eq!(
        abort_after(&mut a, &mut b, &["SET", "w", "1"], &["FLUSHDB"]),
        null
    );
    assert_eq!(
        abort_after(&mut a, &mut b, &["SET", "w", "1"], &["SWAPDB", "0", "1"]),
        null
    );
    assert_eq!(
        abort_after(&mut a, &mut b, &["SET", "w", "1"], &["EXPIRE", "w", "100"]),
        null
    );
    // A key absent before and after FLUSHALL did not change.
    assert_eq!(abort_after(&mut a, &mut b, &[], &["FLUSHALL"]), pong);
    // Expiry between WATCH and EXEC aborts.
    a.cmd(&["SET", "w", "1", "PX", "50"]);
    a.cmd(&["WATCH", "w"]);
    std::thread::sleep(Duration::from_millis(120));
    a.cmd(&["MULTI"]);
    a.cmd(&["PING"]);
    assert_eq!(a.cmd(&["EXEC"]), null);
    // MOVE into the database of a watched key aborts too.
    a.cmd(&["SELECT", "1"]);
    a.cmd(&["WATCH", "m"]);
    b.cmd(&["SET", "m", "v"]);
    b.cmd(&["MOVE", "m", "1"]);
    a.cmd(&["MULTI"]);
    a.cmd(&["PING"]);
    assert_eq!(a.cmd(&["EXEC"]), null);
}

/// A reader on other connections never sees part of a transaction that
/// spans many shards.
#[test]
fn exec_is_atomic_across_shards() {
    let srv = Server::start(&[]);
    let port = srv.port;
    let keys: Vec<String> = (0..16).map(|i| format!("key:{i}")).collect();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let keys = keys.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut c = Raw::connect(port);
                let mut args = vec!["MGET"];
                args.extend(keys.iter().map(|k| k.as_str()));
                let mut reads = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let r = s(&c.cmd(&args));
                    let vals: Vec<&str> =
                        r.lines().skip(1).filter(|l| !l.starts_with('$')).collect();
                    let first = vals.first().copied();
                    assert!(
                        vals.iter().all(|v| Some(*v) == first),
                        "partial transaction seen: {r}"
                    );
                    reads += 1;
                }
                reads
            })
        })
        .collect();
    let mut w = Raw::connect(port);
    let end = Instant::now() + Duration::from_secs(2);
    let mut n = 0;
    while Instant::now() < end && n < 3000 {
        w.cmd(&["MULTI"]);
        for k in &keys {
            w.cmd(&["SET", k, &n.to_string()]);
        }
        let r = w.cmd(&["EXEC"]);
        assert!(r.starts_with(b"*16\r\n"));
        n += 1;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let reads: usize = readers.into_iter().map(|h| h.join().unwrap()).sum();
    assert!(n > 10 && reads > 10, "{n} transactions, {reads} reads");
}

/// Blocking commands inside MULTI don't block; clients blocked on keys a
/// transaction writes are served once, after it, from its final state.
#[test]
fn blocking_and_multi() {
    let srv = Server::start(&[]);
    let mut a = srv.raw();
    a.cmd(&["MULTI"]);
    a.cmd(&["BLPOP", "empty", "0"]);
    a.cmd(&["BZPOPMIN", "emptyz", "0"]);
    assert_eq!(a.cmd(&["EXEC"]), b"*2\r\n*-1\r\n*-1\r\n");

    let mut waiter = srv.raw();
    waiter.send(&encode(&[b"BLPOP", b"q", b"5"]));
    std::thread::sleep(Duration::from_millis(100));
    // Pushed then deleted inside one transaction: the waiter sees nothing.
    a.cmd(&["MULTI"]);
    a.cmd(&["RPUSH", "q", "x"]);
    a.cmd(&["DEL", "q"]);
    assert_eq!(a.cmd(&["EXEC"]), b"*2\r\n:1\r\n:1\r\n");
    a.cmd(&["MULTI"]);
    a.cmd(&["RPUSH", "q", "y"]);
    a.cmd(&["RPUSH", "q", "z"]);
    a.cmd(&["EXEC"]);
    assert_eq!(waiter.reply(), b"*2\r\n$1\r\nq\r\n$1\r\ny\r\n");
    assert_eq!(a.cmd(&["LRANGE", "q", "0", "-1"]), b"*1\r\n$1\r\nz\r\n");
}

/// A blocked BLMOVE served by another client's push writes its destination:
/// a transaction watching only that destination is aborted, as in Redis.
#[test]
fn served_blmove_aborts_watch_on_destination() {
    let srv = Server::start(&[]);
    let (mut a, mut pusher) = (srv.raw(), srv.raw());
    let mut waiter = srv.raw();
    waiter.send(&encode(&[
        b"BLMOVE", b"src", b"dst", b"LEFT", b"RIGHT", b"5",
    ]));
    std::thread::sleep(Duration::from_millis(100));
    a.cmd(&["WATCH", "dst"]);
    pusher.cmd(&["RPUSH", "src", "x"]);
    assert_eq!(waiter.reply(), b"$1\r\nx\r\n");
    a.cmd(&["MULTI"]);
    a.cmd(&["PING"]);
    assert_eq!(a.cmd(&["EXEC"]), b"*-1\r\n");
}

/// A client that disconnects in MULTI or while watching leaves nothing behind.
#[test]
fn disconnect_cleans_up() {
    let srv = Server::start(&[]);
    for _ in 0..50 {
        let mut c = srv.raw();
        c.cmd(&["WATCH", "a", "b", "c"]);
        c.cmd(&["MULTI"]);
        c.cmd(&["SET", "a", "1"]);
    }
    let mut c = srv.raw();
    c.cmd(&["SET", "a", "2"]);
    assert_eq!(c.cmd(&["GET", "a"]), b"$1\r\n2\r\n");
}
