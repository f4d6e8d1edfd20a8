//! The RDB blobs and strings of emberkv-persist against a real
//! redis-server 7.0.15: payloads built there (listpack, intset, ziplist,
//! zipmap, LZF strings, the CRC64 trailer) are RESTOREd into Redis and read
//! back with Redis's own commands; DUMP payloads Redis makes are decoded
//! there. Here (not in emberkv-persist) for the harness's server start:
//! ports below the ephemeral range and readiness from Redis's log.

mod common;
use common::*;
use emberkv_persist::rdb::{read, ty, Reader, Writer};
use emberkv_persist::{intset, listpack, ziplist, zipmap};
use redis::Value;

/// Sends `args` (binary-safe) and returns the reply, errors as values.
fn cmd(con: &mut redis::Connection, args: &[&[u8]]) -> Value {
    let mut c = redis::cmd(std::str::from_utf8(args[0]).unwrap());
    for a in &args[1..] {
        c.arg(*a);
    }
    match c.query::<Value>(con) {
        Ok(v) => v,
        Err(e) => Value::SimpleString(format!("ERR-REPLY {e}")),
    }
}

fn ok(v: Value) -> bool {
    v == Value::Okay
}

fn bulks(v: Value) -> Vec<Vec<u8>> {
    match v {
        Value::Array(items) => items
            .into_iter()
            .map(|r| match r {
                Value::BulkString(b) => b,
                r => panic!("{r:?}"),
            })
            .collect(),
        r => panic!("{r:?}"),
    }
}

fn bulk(v: Value) -> Vec<u8> {
    match v {
        Value::BulkString(b) => b,
        r => panic!("{r:?}"),
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
    let Some(redis) = Server::redis() else { return };
    let mut r = redis.client();
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
    assert!(ok(cmd(&mut r, &[b"RESTORE", b"l", b"0", &p])));
    assert_eq!(bulks(cmd(&mut r, &[b"LRANGE", b"l", b"0", b"-1"])), items);

    let ints = [-70000i64, -5, 0, 3, 1 << 40];
    let p = payload(|w| {
        w.u8(ty::SET_INTSET).unwrap();
        w.string(&intset::encode(&ints)).unwrap();
    });
    assert!(ok(cmd(&mut r, &[b"RESTORE", b"s", b"0", &p])));
    let mut got: Vec<i64> = bulks(cmd(&mut r, &[b"SMEMBERS", b"s"]))
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
    assert!(ok(cmd(&mut r, &[b"RESTORE", b"h", b"0", &p])));
    assert_eq!(
        bulks(cmd(&mut r, &[b"HGETALL", b"h"])),
        fields.iter().map(|f| f.to_vec()).collect::<Vec<_>>()
    );

    // A Redis 2.4 zipmap hash.
    let pairs: [(&[u8], &[u8]); 3] = [(b"a", b"1"), (b"long", &[b'w'; 400]), (b"c", b"")];
    let p2 = payload(|w| {
        w.u8(ty::HASH_ZIPMAP).unwrap();
        w.string(&zipmap::encode(&pairs)).unwrap();
    });
    assert!(ok(cmd(&mut r, &[b"RESTORE", b"zm", b"0", &p2])));
    // A 400-byte value makes it a hash table there: compared in any order.
    let got = bulks(cmd(&mut r, &[b"HGETALL", b"zm"]));
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
        matches!(cmd(&mut r, &[b"RESTORE", b"h2", b"0", &bad]), Value::SimpleString(e) if e.contains("checksum"))
    );
}

#[test]
fn redis_payloads_decode_here() {
    let Some(redis) = Server::redis() else { return };
    let mut r = redis.client();
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
    cmd(&mut r, &args);
    let p = bulk(cmd(&mut r, &[b"DUMP", b"l"]));
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

    cmd(&mut r, &[b"SADD", b"s", b"5", b"-3", b"100000"]);
    let p = bulk(cmd(&mut r, &[b"DUMP", b"s"]));
    let mut rd = Reader::new(&p[..p.len() - 10], 0);
    assert_eq!(rd.u8().unwrap(), ty::SET_INTSET);
    assert_eq!(
        intset::decode(&rd.string().unwrap()),
        Some(vec![-3, 5, 100000])
    );
}
