//! emberkv-persist's AOF pieces against a real redis-server: the manifest
//! and command files Redis writes (plain, in a transaction, after a
//! rewrite, with timestamp annotations) are read back command by command,
//! and a manifest rendered here is accepted by redis-check-aof.

mod common;
use common::*;
use emberkv_persist::aof::commands::{CommandReader, Item};
use emberkv_persist::aof::load::{load_dir, Options, Replay, Status};
use emberkv_persist::aof::manifest::{FileInfo, Kind, Manifest};
use emberkv_persist::snapshot::load::{Lru, Options as RdbOptions, Sink};
use emberkv_persist::value::Value;
use std::process::Command;

/// The commands (as text) and annotations of an AOF command file.
fn read(path: &std::path::Path) -> Vec<String> {
    let mut r = CommandReader::new(std::fs::File::open(path).unwrap(), 0);
    let mut out = Vec::new();
    while let Some(item) = r.next_item().unwrap() {
        out.push(match item {
            Item::Command { args, .. } => args
                .iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect::<Vec<_>>()
                .join(" "),
            Item::Annotation { text, .. } => format!("#{}", String::from_utf8_lossy(text)),
        });
    }
    out
}

/// Waits for redis-server's first rewrite to list its base (seq 2).
fn wait_second_base(aofdir: &std::path::Path) {
    eventually("the rewrite", std::time::Duration::from_secs(20), || {
        let text = std::fs::read(aofdir.join("appendonly.aof.manifest")).unwrap();
        Manifest::parse(&text)
            .unwrap()
            .base
            .is_some_and(|b| b.seq == 2)
    });
}

/// A manifest of one base and one incr file of sequence `seq`.
fn manifest_of(seq: u64, base: &str, incr: &str) -> Manifest {
    Manifest {
        base: Some(FileInfo {
            name: base.into(),
            seq,
            kind: Kind::Base,
        }),
        history: vec![],
        incrs: vec![FileInfo {
            name: incr.into(),
            seq,
            kind: Kind::Incr,
        }],
    }
}

/// Counts what a load hands over.
#[derive(Default)]
struct Count {
    keys: usize,
    cmds: Vec<String>,
}

impl Sink for Count {
    fn aux(&mut self, _: &[u8], _: &[u8]) {}
    fn function(&mut self, _: &[u8]) -> Result<(), String> {
        Ok(())
    }
    fn resize(&mut self, _: usize, _: u64, _: u64) {}
    fn entry(
        &mut self,
        _: usize,
        _: Vec<u8>,
        _: Value,
        _: Option<i64>,
        _: Lru,
    ) -> Result<(), String> {
        self.keys += 1;
        Ok(())
    }
}

impl Replay for Count {
    fn rdb(&mut self) -> &mut dyn Sink {
        self
    }
    fn command(&mut self, _: &str, args: &[&[u8]]) -> Result<(), String> {
        let t: Vec<String> = args
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        self.cmds.push(t.join(" "));
        Ok(())
    }
    fn discard(&mut self) {}
    fn log(&mut self, _: bool, _: String) {}
}

#[test]
fn redis_aof_directories_read_back() {
    let dir = TempDir::new("aof-redis");
    let d = dir.0.to_str().unwrap();
    let Some(srv) = Server::redis_with(&[
        "--dir",
        d,
        "--appendonly",
        "yes",
        "--aof-timestamp-enabled",
        "yes",
    ]) else {
        return;
    };
    let mut c = srv.client();
    let _: () = q(&mut c, &["SET", "a", "1"]).unwrap();
    let mut p = redis::pipe();
    p.atomic()
        .cmd("INCR")
        .arg("n")
        .cmd("RPUSH")
        .arg("l")
        .arg("x y");
    let _: () = p.query(&mut c).unwrap();
    let _: () = q(&mut c, &["SELECT", "3"]).unwrap();
    let _: () = q(&mut c, &["SET", "b", "two\r\nlines"]).unwrap();
    let aofdir = dir.0.join("appendonlydir");
    let text = std::fs::read(aofdir.join("appendonly.aof.manifest")).unwrap();
    let m = Manifest::parse(&text).unwrap();
    assert_eq!(
        m.render().as_bytes(),
        &text[..],
        "rendered as Redis wrote it"
    );
    let incr = &m.incrs.last().unwrap().name;
    let cmds: Vec<String> = read(&aofdir.join(incr))
        .into_iter()
        .filter(|c| !c.starts_with("#TS:"))
        .collect();
    // Names as the client sent them (Redis logs the argv it received).
    assert_eq!(
        cmds,
        [
            "SELECT 0",
            "SET a 1",
            "MULTI",
            "INCR n",
            "RPUSH l x y",
            "EXEC",
            "SELECT 3",
            "SET b two\r\nlines"
        ]
    );
    assert!(read(&aofdir.join(incr))[0].starts_with("#TS:"));
    // After a rewrite: a new base and incr, the old ones gone.
    let _: String = q(&mut c, &["BGREWRITEAOF"]).unwrap();
    wait_second_base(&aofdir);
    let _: () = q(&mut c, &["SET", "c", "3"]).unwrap();
    let text = std::fs::read(aofdir.join("appendonly.aof.manifest")).unwrap();
    let m = Manifest::parse(&text).unwrap();
    assert_eq!(m.incrs.len(), 1);
    assert!(m.base.as_ref().unwrap().name.ends_with(".base.rdb"));
    let cmds = read(&aofdir.join(&m.incrs[0].name));
    assert!(cmds.contains(&"SET c 3".to_string()), "{cmds:?}");
    // The whole directory through the loader: the RDB base's four keys,
    // then the incr file's commands.
    let mut count = Count::default();
    let opts = Options {
        load_truncated: true,
        appendfilename: "appendonly.aof",
        rdb: RdbOptions {
            checksum: true,
            databases: 16,
            progress_every: 1 << 20,
        },
    };
    let l = load_dir(&aofdir, &m, &opts, &mut count).unwrap();
    assert_eq!(l.status, Status::Ok);
    assert_eq!(count.keys, 4);
    assert!(
        count.cmds.contains(&"SET c 3".to_string()),
        "{:?}",
        count.cmds
    );
}

#[test]
fn redis_check_aof_accepts_a_manifest_rendered_here() {
    if Command::new("redis-check-aof")
        .arg("--help")
        .output()
        .is_err()
    {
        assert!(
            std::env::var_os("CI").is_none(),
            "redis-check-aof is required in CI"
        );
        return;
    }
    let dir = TempDir::new("aof-check");
    let base = "appendonly.aof.1.base.aof";
    let incr = "appendonly.aof.1.incr.aof";
    std::fs::write(dir.0.join(base), b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n").unwrap();
    std::fs::write(
        dir.0.join(incr),
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n#TS:1700000000\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n",
    )
    .unwrap();
    let m = manifest_of(1, base, incr);
    let path = dir.0.join("appendonly.aof.manifest");
    std::fs::write(&path, m.render()).unwrap();
    let out = Command::new("redis-check-aof").arg(&path).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("All AOF files and manifest are valid"),
        "{text}"
    );
}

/// A redis-server AOF directory (an RDB base from a rewrite, then an incr
/// file of every kind of write: TTLs, transactions, scripts, several
/// databases, deletions) replayed into emberkv through its loader client
/// holds Redis's dataset (DEBUG DIGEST).
#[test]
fn redis_aof_replays_into_the_same_dataset() {
    let dir = TempDir::new("aof-replay");
    let Some(srv) = Server::redis_with(&[
        "--dir",
        dir.0.to_str().unwrap(),
        "--appendonly",
        "yes",
        "--enable-debug-command",
        "yes",
    ]) else {
        return;
    };
    let mut c = srv.client();
    let mut p = redis::pipe();
    for i in 0..200 {
        p.cmd("SET").arg(format!("s{i}")).arg(i).ignore();
        p.cmd("HSET")
            .arg("h")
            .arg(format!("f{i}"))
            .arg(i * 3)
            .ignore();
        p.cmd("ZADD")
            .arg("z")
            .arg(i as f64 / 7.0)
            .arg(format!("m{i}"))
            .ignore();
        p.cmd("RPUSH").arg("l").arg(format!("e{i}")).ignore();
        p.cmd("SADD").arg("set").arg(i).ignore();
    }
    let _: () = p.query(&mut c).unwrap();
    let _: String = q(&mut c, &["BGREWRITEAOF"]).unwrap();
    let aofdir = dir.0.join("appendonlydir");
    wait_second_base(&aofdir);
    let cmds: &[&[&str]] = &[
        &["SET", "ttl", "v", "EX", "1000"],
        &["EXPIRE", "s1", "5000"],
        &["INCRBYFLOAT", "fl", "1.5"],
        &["DEL", "s2"],
        &["LPOP", "l"],
        &["ZINCRBY", "z", "2.5", "m3"],
        &["HDEL", "h", "f4"],
        &["SELECT", "5"],
        &["SET", "other", "db"],
        &["XADD", "st", "1-1", "a", "1"],
        &["SELECT", "0"],
        &[
            "EVAL",
            "redis.call('set', KEYS[1], 'x'); redis.call('incr', 'cnt'); return 1",
            "1",
            "scripted",
        ],
        &["SPOP", "set"],
    ];
    for args in cmds {
        let _: redis::Value = q(&mut c, args).unwrap();
    }
    let mut p = redis::pipe();
    p.atomic()
        .cmd("INCR")
        .arg("n")
        .cmd("RPUSH")
        .arg("l")
        .arg("tail");
    let _: () = p.query(&mut c).unwrap();
    let want: String = q(&mut c, &["DEBUG", "DIGEST"]).unwrap();
    drop(c);
    drop(srv);
    let (port, _log, ember) = start_in_process(&["--enable-debug-command", "yes"]);
    let loaded = emberkv_server::persist::aof::load_dir(&ember, &aofdir).unwrap();
    assert_eq!(loaded.status, Status::Ok);
    let mut e = connect(port);
    let got: String = q(&mut e, &["DEBUG", "DIGEST"]).unwrap();
    assert_eq!(got, want);
    let v: String = q(&mut e, &["GET", "scripted"]).unwrap();
    assert_eq!(v, "x");
}

/// A manifest written by the server's writer reads back as written, over
/// the previous one, with no temporary file left.
#[test]
fn manifests_are_replaced_whole() {
    let dir = TempDir::new("aof-manifest");
    let one = |seq: u64| {
        manifest_of(
            seq,
            &format!("appendonly.aof.{seq}.base.rdb"),
            &format!("appendonly.aof.{seq}.incr.aof"),
        )
    };
    for seq in [1, 2] {
        emberkv_server::persist::aof::write_manifest(&dir.0, "appendonly.aof", &one(seq)).unwrap();
        let text = std::fs::read(dir.0.join("appendonly.aof.manifest")).unwrap();
        assert_eq!(Manifest::parse(&text).unwrap(), one(seq));
    }
    let names: Vec<String> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["appendonly.aof.manifest"]);
    let err = emberkv_server::persist::aof::write_manifest(
        &dir.0.join("missing"),
        "appendonly.aof",
        &one(3),
    )
    .unwrap_err();
    assert!(
        err.starts_with("Can't open the AOF manifest file "),
        "{err}"
    );
}
