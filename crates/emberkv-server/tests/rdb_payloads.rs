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
fn payload(value: impl FnOnce(&mut Writer<std::io::Sink>)) -> Vec<u8> {
    let mut w = Writer::piece(true, 64);
    value(&mut w);
    w.raw(&10u16.to_le_bytes()).unwrap();
    w.finish_dump()
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

/// Collects what a file holds.
#[derive(Default)]
struct Collect {
    keys: Vec<(usize, Vec<u8>, emberkv_persist::value::Value, Option<i64>)>,
    aux: Vec<(Vec<u8>, Vec<u8>)>,
    functions: Vec<Vec<u8>>,
}

impl emberkv_persist::snapshot::load::Sink for Collect {
    fn aux(&mut self, key: &[u8], val: &[u8]) {
        self.aux.push((key.to_vec(), val.to_vec()));
    }
    fn function(&mut self, code: &[u8]) -> Result<(), String> {
        self.functions.push(code.to_vec());
        Ok(())
    }
    fn resize(&mut self, _db: usize, _keys: u64, _expires: u64) {}
    fn entry(
        &mut self,
        db: usize,
        key: Vec<u8>,
        val: emberkv_persist::value::Value,
        expire: Option<i64>,
        _lru: emberkv_persist::snapshot::load::Lru,
    ) -> Result<(), String> {
        self.keys.push((db, key, val, expire));
        Ok(())
    }
}

/// Redis's own dump.rdb, every type and encoding: emberkv's loader reads
/// it whole (CRC checked), and each value, written back by emberkv's
/// writer and RESTOREd into Redis, has Redis's digest of the original.
#[test]
fn redis_file_loads_and_values_go_back() {
    let tmp = TempDir::new("rdb-from-redis");
    let dir = tmp.0.display().to_string();
    let Some(redis) = Server::redis_with(&["--enable-debug-command", "yes", "--dir", &dir]) else {
        return;
    };
    let mut r = redis.client();
    let big: String = "x".repeat(5000);
    let many: Vec<String> = (0..700).map(|i| format!("m{i}")).collect();
    let script: &[&[&str]] = &[
        &["SET", "s:int", "12345"],
        &["SET", "s:neg", "-9000000000"],
        &["SET", "s:text", "hello world"],
        &["SET", "s:big", &big],
        &["SET", "s:ttl", "v", "PX", "100000000"],
        &["RPUSH", "l:small", "a", "1", "-2", "bcd"],
        &["HSET", "h:small", "f", "v", "n", "7"],
        &["HSET", "h:big", "f", &big],
        &["SADD", "set:int", "1", "2", "-3"],
        &["SADD", "set:str", "a", "b", "c"],
        &[
            "ZADD", "z:small", "1", "a", "2.5", "b", "-inf", "c", "1e300", "d",
        ],
        &["ZADD", "z:big", "1", &big, "0.1", "x"],
        &["XADD", "x", "1-1", "f", "v", "g", "w"],
        &["XADD", "x", "1-2", "f", "v2", "g", "w2"],
        &["XADD", "x", "2-0", "other", "1"],
        &["XDEL", "x", "1-2"],
        &["XGROUP", "CREATE", "x", "grp", "0"],
        &[
            "XREADGROUP",
            "GROUP",
            "grp",
            "alice",
            "COUNT",
            "1",
            "STREAMS",
            "x",
            ">",
        ],
        &["XGROUP", "CREATECONSUMER", "x", "grp", "bob"],
        &["SELECT", "5"],
        &["SET", "db5", "five"],
    ];
    for c in script {
        q::<redis::Value>(&mut r, c).unwrap();
    }
    let mut c = redis::cmd("RPUSH");
    c.arg("l:big").arg(&many);
    c.query::<()>(&mut r).unwrap();
    let mut c = redis::cmd("SADD");
    c.arg("set:big").arg(&many);
    c.query::<()>(&mut r).unwrap();
    q::<()>(&mut r, &["SELECT", "0"]).unwrap();
    q::<()>(&mut r, &["SAVE"]).unwrap();
    let file = std::fs::File::open(format!("{dir}/dump.rdb")).unwrap();
    let mut sink = Collect::default();
    let opts = emberkv_persist::snapshot::load::Options {
        checksum: true,
        databases: 16,
        progress_every: 0,
    };
    let done = emberkv_persist::snapshot::load::load(file, &opts, &mut sink).unwrap();
    assert_eq!(done.version, 10);
    assert!(sink
        .aux
        .iter()
        .any(|(k, v)| k == b"redis-ver" && v == b"7.0.15"));
    assert_eq!(sink.keys.len(), 16);
    let ttl = sink.keys.iter().find(|k| k.1 == b"s:ttl").unwrap().3;
    assert!(ttl.is_some());
    // The same values as a whole file written here: redis-check-rdb and
    // a fresh redis-server accept it.
    let ours = tmp.path("ours.rdb");
    let mut payloads = Vec::new();
    {
        use emberkv_core::store::EntryPtr;
        use emberkv_persist::snapshot::save::{write_entry, write_header, write_select, Aux};
        use emberkv_persist::value::Value as V;
        let f = std::io::BufWriter::new(std::fs::File::create(&ours).unwrap());
        let mut w = Writer::new(f, true);
        let aux = Aux {
            redis_ver: "7.0.15",
            ctime: 1_700_000_000,
            used_mem: 1 << 20,
            repl: None,
            aof_base: false,
        };
        write_header(&mut w, &aux).unwrap();
        let mut last_db = None;
        for (db, key, val, exp) in sink.keys {
            if last_db != Some(db) {
                write_select(&mut w, db, Some((1, 0))).unwrap();
                last_db = Some(db);
            }
            let e = match val {
                V::Str(s) => EntryPtr::new_string(&key, &s, exp, 0, 0),
                V::Obj(o) => {
                    let (kind, enc, p) = o.into_raw();
                    EntryPtr::new_obj(&key, kind, enc, p, exp, 0)
                }
            };
            write_entry(&mut w, e.as_ref()).unwrap();
            let p = payload(|w| emberkv_persist::value::write_value(w, e.as_ref(), None).unwrap());
            payloads.push((db, key, p, exp));
            e.free();
        }
        use std::io::Write;
        w.finish(true).unwrap().flush().unwrap();
    }
    let check = std::process::Command::new("redis-check-rdb")
        .arg(&ours)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success() && text.contains("RDB looks OK"),
        "{text}"
    );
    for (db, key, p, exp) in payloads {
        q::<()>(&mut r, &["SELECT", &db.to_string()]).unwrap();
        let copy = [&key[..], b":copy"].concat();
        // The digest counts a TTL: the copy gets the same deadline.
        let ttl = exp.unwrap_or(0).to_string();
        let restore: [&[u8]; 5] = [b"RESTORE", &copy, ttl.as_bytes(), &p, b"ABSTTL"];
        assert!(ok(cmd(&mut r, &restore)), "{key:?}");
        let Value::Array(d) = cmd(&mut r, &[b"DEBUG", b"DIGEST-VALUE", &key, &copy]) else {
            panic!("DIGEST-VALUE reply")
        };
        assert_eq!(d[0], d[1], "digest of {}", String::from_utf8_lossy(&key));
    }
}
