//! The directory loader over files made here: commands, annotations, an
//! RDB part, torn tails with and without `aof-load-truncated`, a file
//! ending inside MULTI, format errors, and which file may be cut.

use super::*;
use crate::aof::manifest::{FileInfo, Kind};
use crate::snapshot::load::Lru;
use crate::value::Value;

#[derive(Default)]
struct Mock {
    cmds: Vec<String>,
    logs: Vec<String>,
    discards: usize,
    keys: usize,
}

impl Sink for Mock {
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

impl Replay for Mock {
    fn rdb(&mut self) -> &mut dyn Sink {
        self
    }
    fn command(&mut self, file: &str, args: &[&[u8]]) -> Result<(), String> {
        let text: Vec<String> = args
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if text[0] == "NOSUCH" {
            return Err(format!(
                "Unknown command 'NOSUCH' reading the append only file {file}"
            ));
        }
        self.cmds.push(text.join(" "));
        Ok(())
    }
    fn discard(&mut self) {
        self.discards += 1;
    }
    fn log(&mut self, _: bool, text: String) {
        self.logs.push(text);
    }
}

struct Dir(std::path::PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let d = std::env::temp_dir().join(format!(
            "emberkv-aofload-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
    fn put(&self, name: &str, bytes: &[u8]) {
        std::fs::write(self.0.join(name), bytes).unwrap();
    }
    fn len(&self, name: &str) -> u64 {
        std::fs::metadata(self.0.join(name)).unwrap().len()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn opts(load_truncated: bool) -> Options<'static> {
    Options {
        load_truncated,
        appendfilename: "appendonly.aof",
        rdb: RdbOptions {
            checksum: false,
            databases: 16,
            progress_every: 1 << 20,
        },
    }
}

fn cmd(args: &[&str]) -> Vec<u8> {
    let mut v = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        v.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
    v
}

fn manifest(base: Option<&str>, incrs: &[&str]) -> Manifest {
    Manifest {
        base: base.map(|n| FileInfo {
            name: n.into(),
            seq: 1,
            kind: Kind::Base,
        }),
        history: vec![],
        incrs: incrs
            .iter()
            .enumerate()
            .map(|(i, n)| FileInfo {
                name: (*n).into(),
                seq: i as u64 + 1,
                kind: Kind::Incr,
            })
            .collect(),
    }
}

#[test]
fn commands_and_an_rdb_base_load_in_order() {
    let d = Dir::new("ok");
    // An RDB with no keys (checksum 0: not checked), then a command tail.
    let mut base = b"REDIS0010\xff".to_vec();
    base.extend_from_slice(&[0; 8]);
    base.extend_from_slice(&cmd(&["SET", "tail", "1"]));
    d.put("b.rdb", &base);
    let mut incr = b"#TS:1700000000\r\n".to_vec();
    incr.extend(cmd(&["SELECT", "0"]));
    incr.extend(cmd(&["SET", "k", "v\r\nw"]));
    d.put("i.aof", &incr);
    let mut m = Mock::default();
    let l = load_dir(
        &d.0,
        &manifest(Some("b.rdb"), &["i.aof"]),
        &opts(true),
        &mut m,
    )
    .unwrap();
    assert_eq!(l.status, Status::Ok);
    assert_eq!(l.total, base.len() as u64 + incr.len() as u64);
    assert_eq!(l.base, base.len() as u64);
    assert_eq!(m.cmds, ["SET tail 1", "SELECT 0", "SET k v\r\nw"]);
    assert!(m
        .logs
        .iter()
        .any(|l| l == "Reading RDB base file on AOF loading..."));
    assert!(m
        .logs
        .iter()
        .any(|l| l.starts_with("DB loaded from base file b.rdb: ")));
    assert!(m
        .logs
        .iter()
        .any(|l| l.starts_with("DB loaded from incr file i.aof: ")));
}

#[test]
fn a_torn_last_file_is_cut_only_when_allowed() {
    let mut bytes = cmd(&["SET", "a", "1"]);
    let whole = bytes.len() as u64;
    bytes.extend_from_slice(b"#TS:1\r\n");
    bytes.extend_from_slice(&cmd(&["SET", "b", "2"])[..9]);
    for allowed in [true, false] {
        let d = Dir::new("torn");
        d.put("i.aof", &bytes);
        let mut m = Mock::default();
        let r = load_dir(&d.0, &manifest(None, &["i.aof"]), &opts(allowed), &mut m);
        assert_eq!(m.cmds, ["SET a 1"]);
        if allowed {
            assert_eq!(r.unwrap().status, Status::Truncated);
            assert_eq!(d.len("i.aof"), whole, "cut after the last whole command");
            assert!(m.logs.contains(&format!(
                "!!! Truncating the AOF i.aof at offset {whole} !!!"
            )));
        } else {
            assert_eq!(r.unwrap_err(), Failure::Failed);
            assert_eq!(d.len("i.aof"), bytes.len() as u64, "left as it was");
            assert!(m.logs.last().unwrap().starts_with(
                "Unexpected end of file reading the append only file i.aof. You can: 1)"
            ));
        }
    }
    // Not the last file: never cut, the load stops.
    let d = Dir::new("notlast");
    d.put("1.aof", &bytes);
    d.put("2.aof", &cmd(&["SET", "c", "3"]));
    let mut m = Mock::default();
    let r = load_dir(
        &d.0,
        &manifest(None, &["1.aof", "2.aof"]),
        &opts(true),
        &mut m,
    );
    assert_eq!(r.unwrap_err(), Failure::Failed);
    assert_eq!(d.len("1.aof"), bytes.len() as u64);
}

#[test]
fn a_file_ending_inside_multi_is_reverted() {
    let d = Dir::new("multi");
    let mut bytes = cmd(&["SET", "a", "1"]);
    let before = bytes.len() as u64;
    bytes.extend(cmd(&["MULTI"]));
    bytes.extend(cmd(&["INCR", "n"]));
    d.put("i.aof", &bytes);
    let mut m = Mock::default();
    let r = load_dir(&d.0, &manifest(None, &["i.aof"]), &opts(true), &mut m).unwrap();
    assert_eq!(r.status, Status::Truncated);
    assert_eq!(m.discards, 1);
    assert!(m
        .logs
        .contains(&"Revert incomplete MULTI/EXEC transaction in AOF file i.aof".to_string()));
    assert_eq!(d.len("i.aof"), before, "cut before the MULTI");
    // Torn inside the transaction: the cut goes before MULTI too.
    let d = Dir::new("multi-torn");
    let mut torn = bytes.clone();
    torn.extend_from_slice(b"*2\r\n$4\r\nIN");
    d.put("i.aof", &torn);
    let mut m = Mock::default();
    load_dir(&d.0, &manifest(None, &["i.aof"]), &opts(true), &mut m).unwrap();
    assert_eq!(d.len("i.aof"), before);
    // A complete transaction is kept.
    let d = Dir::new("multi-ok");
    let mut ok = bytes.clone();
    ok.extend(cmd(&["EXEC"]));
    d.put("i.aof", &ok);
    let mut m = Mock::default();
    let r = load_dir(&d.0, &manifest(None, &["i.aof"]), &opts(true), &mut m).unwrap();
    assert_eq!((r.status, m.discards), (Status::Ok, 0));
}

#[test]
fn format_errors_unknown_commands_and_missing_files_stop_the_load() {
    let d = Dir::new("bad");
    let mut bytes = cmd(&["SET", "a", "1"]);
    bytes.extend_from_slice(b"GARBAGE\r\n");
    d.put("i.aof", &bytes);
    d.put("u.aof", &cmd(&["NOSUCH"]));
    d.put("e.aof", b"");
    let mut m = Mock::default();
    let r = load_dir(&d.0, &manifest(None, &["i.aof"]), &opts(true), &mut m);
    assert_eq!(r.unwrap_err(), Failure::Failed);
    assert!(m.logs.last().unwrap().starts_with(
        "Bad file format reading the append only file i.aof: make a backup of your AOF file"
    ));
    assert_eq!(d.len("i.aof"), bytes.len() as u64);
    let mut m = Mock::default();
    let r = load_dir(&d.0, &manifest(None, &["u.aof"]), &opts(true), &mut m);
    assert_eq!(r.unwrap_err(), Failure::Failed);
    assert_eq!(
        m.logs.last().unwrap(),
        "Unknown command 'NOSUCH' reading the append only file u.aof"
    );
    let mut m = Mock::default();
    let r = load_dir(&d.0, &manifest(None, &["gone.aof"]), &opts(true), &mut m);
    assert_eq!(r.unwrap_err(), Failure::Failed);
    assert!(m.logs[0].starts_with("Unable to obtain the AOF file gone.aof length. stat: "));
    let mut m = Mock::default();
    let r = load_dir(&d.0, &manifest(None, &["e.aof"]), &opts(true), &mut m).unwrap();
    assert_eq!(r.status, Status::Empty);
    let r = load_dir(&d.0, &manifest(None, &[]), &opts(true), &mut m).unwrap();
    assert_eq!(r.status, Status::NotExist);
}
