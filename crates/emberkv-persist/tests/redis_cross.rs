//! The blobs and strings of this crate against a real redis-server 7.0.15:
//! payloads built here (listpack, intset, ziplist, LZF strings, the CRC64
//! trailer) are RESTOREd there and read back with Redis's own commands;
//! DUMP payloads Redis makes are decoded here. Skipped when redis-server is
//! not installed.

use emberkv_persist::rdb::{read, ty, Reader, Writer};
use emberkv_persist::{intset, listpack, ziplist, zipmap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Redis {
    child: Child,
    conn: BufReader<TcpStream>,
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug, PartialEq)]
enum Reply {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Vec<Reply>),
}

impl Redis {
    fn start() -> Option<Redis> {
        let port = TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let end = Instant::now() + Duration::from_secs(10);
        let s = loop {
            if let Ok(s) = TcpStream::connect(("127.0.0.1", port)) {
                break s;
            }
            assert!(Instant::now() < end, "redis-server did not listen");
            std::thread::sleep(Duration::from_millis(20));
        };
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Some(Redis {
            child,
            conn: BufReader::new(s),
        })
    }

    fn cmd(&mut self, args: &[&[u8]]) -> Reply {
        let mut b = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            b.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            b.extend_from_slice(a);
            b.extend_from_slice(b"\r\n");
        }
        self.conn.get_mut().write_all(&b).unwrap();
        self.reply()
    }

    fn reply(&mut self) -> Reply {
        let mut line = String::new();
        self.conn.read_line(&mut line).unwrap();
        let (t, rest) = line.trim_end().split_at(1);
        match t {
            "+" => Reply::Simple(rest.into()),
            "-" => Reply::Error(rest.into()),
            ":" => Reply::Int(rest.parse().unwrap()),
            "$" => {
                let n: i64 = rest.parse().unwrap();
                if n < 0 {
                    return Reply::Bulk(None);
                }
                let mut v = vec![0; n as usize + 2];
                self.conn.read_exact(&mut v).unwrap();
                v.truncate(n as usize);
                Reply::Bulk(Some(v))
            }
            "*" => {
                let n: usize = rest.parse().unwrap();
                Reply::Array((0..n).map(|_| self.reply()).collect())
            }
            _ => panic!("reply {line:?}"),
        }
    }

    fn strings(&mut self, args: &[&[u8]]) -> Vec<Vec<u8>> {
        match self.cmd(args) {
            Reply::Array(v) => v
                .into_iter()
                .map(|r| match r {
                    Reply::Bulk(Some(b)) => b,
                    r => panic!("{r:?}"),
                })
                .collect(),
            r => panic!("{r:?}"),
        }
    }
}

/// A DUMP payload: the value, the RDB version (u16 LE) and the CRC64.
fn payload(value: impl FnOnce(&mut Writer<&mut Vec<u8>>)) -> Vec<u8> {
    let mut v = Vec::new();
    let mut w = Writer::new(&mut v, true);
    value(&mut w);
    w.raw(&10u16.to_le_bytes()).unwrap();
    w.finish_dump().unwrap();
    v
}

#[test]
fn our_payloads_restore_in_redis() {
    let Some(mut r) = Redis::start() else { return };
    // A list as one listpack node, compressible: Redis undoes our LZF.
    let items: Vec<Vec<u8>> = (0..200)
        .map(|i| {
            if i % 3 == 0 {
                (i * 1000 - 70_000).to_string()
            } else {
                format!("item-{}", i % 7)
            }
            .into_bytes()
        })
        .collect();
    let mut lp = listpack::Builder::new();
    for it in &items {
        lp.push(it);
    }
    let blob = lp.finish();
    let p = payload(|w| {
        w.u8(ty::LIST_QUICKLIST_2).unwrap();
        w.length(1).unwrap();
        w.length(2).unwrap(); // a packed node
        w.string(&blob).unwrap();
    });
    assert_eq!(
        r.cmd(&[b"RESTORE", b"l", b"0", &p]),
        Reply::Simple("OK".into())
    );
    assert_eq!(r.strings(&[b"LRANGE", b"l", b"0", b"-1"]), items);

    let ints = [-70000i64, -5, 0, 3, 1 << 40];
    let p = payload(|w| {
        w.u8(ty::SET_INTSET).unwrap();
        w.string(&intset::encode(&ints)).unwrap();
    });
    assert_eq!(
        r.cmd(&[b"RESTORE", b"s", b"0", &p]),
        Reply::Simple("OK".into())
    );
    let mut got: Vec<i64> = r
        .strings(&[b"SMEMBERS", b"s"])
        .iter()
        .map(|b| std::str::from_utf8(b).unwrap().parse().unwrap())
        .collect();
    got.sort();
    assert_eq!(got, ints);

    // A Redis 6 ziplist hash: Redis 7 converts it on load.
    let fields: [&[u8]; 6] = [b"f1", b"v1", b"n", b"12", b"big", &[b'q'; 300]];
    let p = payload(|w| {
        w.u8(ty::HASH_ZIPLIST).unwrap();
        w.string(&ziplist::encode(&fields)).unwrap();
    });
    assert_eq!(
        r.cmd(&[b"RESTORE", b"h", b"0", &p]),
        Reply::Simple("OK".into())
    );
    assert_eq!(
        r.strings(&[b"HGETALL", b"h"]),
        fields.iter().map(|f| f.to_vec()).collect::<Vec<_>>()
    );

    // A Redis 2.4 zipmap hash.
    let pairs: [(&[u8], &[u8]); 3] = [(b"a", b"1"), (b"long", &[b'w'; 400]), (b"c", b"")];
    let p2 = payload(|w| {
        w.u8(ty::HASH_ZIPMAP).unwrap();
        w.string(&zipmap::encode(&pairs)).unwrap();
    });
    assert_eq!(
        r.cmd(&[b"RESTORE", b"zm", b"0", &p2]),
        Reply::Simple("OK".into())
    );
    // A 400-byte value makes it a hash table there: compared in any order.
    let got = r.strings(&[b"HGETALL", b"zm"]);
    let mut got: Vec<(Vec<u8>, Vec<u8>)> = got
        .chunks(2)
        .map(|c| (c[0].clone(), c[1].clone()))
        .collect();
    got.sort();
    let mut want: Vec<(Vec<u8>, Vec<u8>)> = pairs
        .iter()
        .map(|(k, v)| (k.to_vec(), v.to_vec()))
        .collect();
    want.sort();
    assert_eq!(got, want);

    // A damaged trailer is refused.
    let mut bad = p.clone();
    let n = bad.len();
    bad[n - 1] ^= 1;
    assert!(
        matches!(r.cmd(&[b"RESTORE", b"h2", b"0", &bad]), Reply::Error(e) if e.contains("checksum"))
    );
}

#[test]
fn redis_payloads_decode_here() {
    let Some(mut r) = Redis::start() else { return };
    let items: Vec<Vec<u8>> = (0..300)
        .map(|i| match i % 4 {
            0 => (i as i64 * 7919 - 1_000_000).to_string().into_bytes(),
            1 => vec![b'a' + (i % 26) as u8; i % 70],
            2 => format!("{}", i % 13).into_bytes(),
            _ => format!("member:{i}").into_bytes(),
        })
        .collect();
    let mut args: Vec<&[u8]> = vec![b"RPUSH", b"l"];
    args.extend(items.iter().map(|v| &v[..]));
    r.cmd(&args);
    let Reply::Bulk(Some(p)) = r.cmd(&[b"DUMP", b"l"]) else {
        panic!()
    };
    // Version and CRC64 trailer, then the value.
    let n = p.len();
    assert_eq!(&p[n - 10..n - 8], &10u16.to_le_bytes());
    assert_eq!(read::check_crc(&p), Ok(()));
    let mut rd = Reader::new(&p[..n - 10], 0);
    assert_eq!(rd.u8().unwrap(), ty::LIST_QUICKLIST_2);
    let nodes = rd.length().unwrap();
    let mut got = Vec::new();
    for _ in 0..nodes {
        assert_eq!(rd.length().unwrap(), 2, "packed node");
        let blob = rd.string().unwrap();
        got.extend(listpack::decode(&blob).unwrap().iter().map(|e| e.to_vec()));
    }
    assert!(rd.at_end());
    assert_eq!(got, items);

    r.cmd(&[b"SADD", b"s", b"5", b"-3", b"100000"]);
    let Reply::Bulk(Some(p)) = r.cmd(&[b"DUMP", b"s"]) else {
        panic!()
    };
    let mut rd = Reader::new(&p[..p.len() - 10], 0);
    assert_eq!(rd.u8().unwrap(), ty::SET_INTSET);
    assert_eq!(
        intset::decode(&rd.string().unwrap()),
        Some(vec![-3, 5, 100000])
    );
}
