//! Protocol edge cases over raw TCP: inline commands, pipelining, RESP3,
//! malformed and oversized frames, limits.

mod common;
use common::*;

#[test]
fn inline_commands_work_like_nc() {
    let srv = Server::start(&[]);
    let mut r = srv.raw();
    r.send(b"SET k \"hello world\"\r\nGET k\nPING\r\n\r\nECHO 'it\\'s'\r\n");
    assert_eq!(r.reply(), b"+OK\r\n");
    assert_eq!(r.reply(), b"$11\r\nhello world\r\n");
    assert_eq!(r.reply(), b"+PONG\r\n");
    assert_eq!(r.reply(), b"$4\r\nit's\r\n");
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let srv = Server::start(&[]);
    let mut r = srv.raw();
    let mut batch = Vec::new();
    for i in 0..1000 {
        batch.extend(encode(&[
            b"SET",
            format!("k{i}").as_bytes(),
            format!("{i}").as_bytes(),
        ]));
        batch.extend(encode(&[b"INCR", format!("k{i}").as_bytes()]));
    }
    r.send(&batch);
    for i in 0..1000 {
        assert_eq!(r.reply(), b"+OK\r\n");
        assert_eq!(r.reply(), format!(":{}\r\n", i + 1).as_bytes());
    }
}

#[test]
fn frames_split_across_reads_are_reassembled() {
    let srv = Server::start(&[]);
    let mut r = srv.raw();
    let big = vec![b'x'; 200_000];
    let frame = encode(&[b"SET", b"big", &big]);
    for chunk in frame.chunks(7_777) {
        r.send(chunk);
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert_eq!(r.reply(), b"+OK\r\n");
    assert_eq!(r.cmd(&["STRLEN", "big"]), b":200000\r\n");
}

fn protocol_error(input: &[u8], expect: &str) {
    let srv = Server::start(&[]);
    let mut r = srv.raw();
    r.send(input);
    assert_eq!(
        s(&r.reply()),
        format!("-ERR Protocol error: {expect}\r\n"),
        "input {:?}",
        s(input)
    );
    assert!(r.closed(), "connection must close after a protocol error");
}

#[test]
fn malformed_frames_get_redis_errors_and_close() {
    protocol_error(b"*1\r\nx\r\n", "expected '$', got 'x'");
    protocol_error(b"*1\r\n$-1\r\n", "invalid bulk length");
    protocol_error(b"*3000000000\r\n", "invalid multibulk length");
    protocol_error(b"*abc\r\n", "invalid multibulk length");
    protocol_error(b"SET \"unterminated\r\n", "unbalanced quotes in request");
    protocol_error(b"*1\r\n$536870913\r\n", "invalid bulk length");
}

#[test]
fn oversized_lines_are_refused() {
    protocol_error(&vec![b'a'; 70 * 1024], "too big inline request");
    let mut m = b"*".to_vec();
    m.extend(vec![b'1'; 70 * 1024]);
    protocol_error(&m, "too big mbulk count string");
    let mut b = b"*1\r\n$".to_vec();
    b.extend(vec![b'1'; 70 * 1024]);
    protocol_error(&b, "too big bulk count string");
}

#[test]
fn commands_before_a_protocol_error_still_run() {
    let srv = Server::start(&[]);
    let mut r = srv.raw();
    r.send(b"SET a 1\r\n*1\r\nbad\r\n");
    assert_eq!(r.reply(), b"+OK\r\n");
    assert!(s(&r.reply()).starts_with("-ERR Protocol error"));
    assert!(r.closed());
    let mut c = srv.client();
    assert_eq!(q::<String>(&mut c, &["GET", "a"]).unwrap(), "1");
}

#[test]
fn proto_max_bulk_len_is_enforced_and_configurable() {
    let srv = Server::start(&["--proto-max-bulk-len", "1mb"]);
    let mut r = srv.raw();
    r.send(b"*2\r\n$4\r\nECHO\r\n$2000000\r\n");
    assert_eq!(r.reply(), b"-ERR Protocol error: invalid bulk length\r\n");
    assert!(r.closed());
}

#[test]
fn query_buffer_limit_closes_the_connection() {
    let srv = Server::start(&["--client-query-buffer-limit", "1mb"]);
    let mut r = srv.raw();
    // A 3 MB bulk that never completes: the buffer passes 1 MB and the
    // server drops the client (no reply, as Redis).
    r.send(b"*2\r\n$4\r\nECHO\r\n$3000000\r\n");
    let chunk = vec![b'a'; 64 * 1024];
    let mut closed = false;
    for _ in 0..40 {
        if std::io::Write::write_all(&mut r.s, &chunk).is_err() {
            closed = true;
            break;
        }
    }
    assert!(closed || r.closed());
    // The server itself is fine.
    assert_eq!(srv.raw().cmd(&["PING"]), b"+PONG\r\n");
}

#[test]
fn unauthenticated_clients_get_small_limits() {
    let srv = Server::start(&["--requirepass", "secret"]);
    let mut r = srv.raw();
    r.send(b"*11\r\n");
    assert_eq!(
        r.reply(),
        b"-ERR Protocol error: unauthenticated multibulk length\r\n"
    );
    let mut r = srv.raw();
    r.send(b"*2\r\n$4\r\nAUTH\r\n$20000\r\n");
    assert_eq!(
        r.reply(),
        b"-ERR Protocol error: unauthenticated bulk length\r\n"
    );
}

#[test]
fn resp3_hello_and_reply_types() {
    let srv = Server::start(&[]);
    let mut r = srv.raw();
    let hello = s(&r.cmd(&["HELLO", "3"]));
    assert!(
        hello.starts_with("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n"),
        "{hello}"
    );
    assert!(hello.contains("$5\r\nproto\r\n:3\r\n"));
    assert_eq!(r.cmd(&["GET", "missing"]), b"_\r\n");
    let cfg = s(&r.cmd(&["CONFIG", "GET", "hz"]));
    assert_eq!(cfg, "%1\r\n$2\r\nhz\r\n$2\r\n10\r\n");
    assert_eq!(r.cmd(&["HELLO", "2"]).first(), Some(&b'*'));
    assert_eq!(r.cmd(&["GET", "missing"]), b"$-1\r\n");
    assert_eq!(
        r.cmd(&["HELLO", "4"]),
        b"-NOPROTO unsupported protocol version\r\n"
    );
}

#[test]
fn empty_and_negative_multibulk_are_ignored() {
    let srv = Server::start(&[]);
    let mut r = srv.raw();
    r.send(b"*0\r\n*-1\r\n\r\nPING\r\n");
    assert_eq!(r.reply(), b"+PONG\r\n");
}

#[test]
fn quit_discards_the_rest_of_the_pipeline() {
    let srv = Server::start(&[]);
    let mut r = srv.raw();
    r.send(b"SET q 1\r\nQUIT\r\nSET q 2\r\n");
    assert_eq!(r.reply(), b"+OK\r\n");
    assert_eq!(r.reply(), b"+OK\r\n");
    assert!(r.closed());
    assert_eq!(srv.raw().cmd(&["GET", "q"]), b"$1\r\n1\r\n");
}

#[test]
fn many_concurrent_connections() {
    raise_nofile(8192);
    let srv = Server::start(&[]);
    let mut conns: Vec<Raw> = (0..2000).map(|_| srv.raw()).collect();
    for (i, c) in conns.iter_mut().enumerate() {
        c.send(&encode(&[b"SET", format!("c{i}").as_bytes(), b"v"]));
    }
    for c in conns.iter_mut() {
        assert_eq!(c.reply(), b"+OK\r\n");
    }
    assert_eq!(srv.raw().cmd(&["DBSIZE"]), b":2000\r\n");
}

#[test]
fn binary_safe_keys_and_values() {
    let srv = Server::start(&[]);
    let mut r = srv.raw();
    let key: &[u8] = b"k\x00\r\n\xff";
    let val: &[u8] = b"\x00\x01\r\n\xfe";
    r.send(&encode(&[b"SET", key, val]));
    assert_eq!(r.reply(), b"+OK\r\n");
    r.send(&encode(&[b"GET", key]));
    let mut want = b"$5\r\n".to_vec();
    want.extend_from_slice(val);
    want.extend_from_slice(b"\r\n");
    assert_eq!(r.reply(), want);
}

#[test]
fn random_bytes_never_take_the_server_down() {
    let srv = Server::start(&[]);
    let mut x: u64 = 0x853c49e6748fea9b;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let alphabet = b"*$\r\n0123456789-+:\"' SETGETINCRxyz\x00\xff";
    for _ in 0..200 {
        let len = (rnd() % 400) as usize;
        let junk: Vec<u8> = (0..len)
            .map(|_| alphabet[(rnd() % alphabet.len() as u64) as usize])
            .collect();
        let mut r = srv.raw();
        // Whatever comes back (replies, errors, a close) is fine; the
        // server must answer the next client.
        let _ = std::io::Write::write_all(&mut r.s, &junk);
    }
    assert_eq!(srv.raw().cmd(&["PING"]), b"+PONG\r\n");
}

#[test]
fn a_huge_declared_bulk_reserves_nothing_up_front() {
    // The limit allows 100 GB bulks, but a client declaring one must not make
    // the server allocate it before the data arrives.
    let srv = Server::start(&["--proto-max-bulk-len", "100gb"]);
    let mut r = srv.raw();
    r.send(b"*2\r\n$4\r\nECHO\r\n$90000000000\r\n");
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert_eq!(srv.raw().cmd(&["PING"]), b"+PONG\r\n");
    let used = srv.used_memory();
    assert!(used < 1 << 30, "used_memory {used}");
}

#[test]
fn idle_clients_give_their_buffers_back() {
    raise_nofile(8192);
    let srv = Server::start(&["--hz", "50"]);
    let used = |srv: &Server| srv.used_memory() as i64;
    let before = used(&srv);
    let mut conns: Vec<Raw> = (0..1000).map(|_| srv.raw()).collect();
    for c in conns.iter_mut() {
        assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n");
    }
    let busy = used(&srv);
    assert!(
        busy - before > 10_000_000,
        "1000 read buffers: {before} -> {busy}"
    );
    std::thread::sleep(std::time::Duration::from_millis(2600));
    let idle = used(&srv);
    assert!(
        idle - before < 5_000_000,
        "idle buffers not released: {before} -> {busy} -> {idle}"
    );
    drop(conns);
}
