//! How saves meet the disk and each other: files written with and
//! without `rdb-save-incremental-fsync`, and commands from other clients
//! behind a running SAVE (the rest of snapshots: snapshots.rs).

mod common;
use common::*;
use std::time::{Duration, Instant};

fn ember_on(dir: &TempDir) -> Server {
    Server::start(&[
        "--dir",
        dir.0.to_str().unwrap(),
        "--enable-debug-command",
        "yes",
    ])
}

fn digest(c: &mut redis::Connection) -> String {
    q(c, &["DEBUG", "DIGEST"]).unwrap()
}

fn persistence(c: &mut redis::Connection, field: &str) -> String {
    let info: String = q(c, &["INFO", "persistence"]).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("{field} not in INFO"))
        .trim()
        .to_string()
}

fn wait_bgsave(c: &mut redis::Connection) {
    let end = Instant::now() + Duration::from_secs(60);
    while persistence(c, "rdb_bgsave_in_progress") == "1" {
        assert!(Instant::now() < end, "BGSAVE did not finish");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A file of several writeback steps (4 MiB each) saved with and without
/// `rdb-save-incremental-fsync`, by SAVE and BGSAVE, loads back whole.
#[test]
fn incremental_fsync_saves_whole_files() {
    let dir = TempDir::new("snap-fsync");
    let want = {
        let srv = ember_on(&dir);
        let mut c = srv.client();
        let _: () = q(&mut c, &["DEBUG", "POPULATE", "50000", "k", "300"]).unwrap();
        // POPULATE's values are mostly zeros: kept whole, they are 15 MB.
        let _: () = q(&mut c, &["CONFIG", "SET", "rdbcompression", "no"]).unwrap();
        let d = digest(&mut c);
        for (inc, cmd) in [("yes", "SAVE"), ("no", "SAVE"), ("yes", "BGSAVE")] {
            let _: () = q(
                &mut c,
                &["CONFIG", "SET", "rdb-save-incremental-fsync", inc],
            )
            .unwrap();
            let _: String = q(&mut c, &[cmd]).unwrap();
            wait_bgsave(&mut c);
            let size = std::fs::metadata(dir.path("dump.rdb")).unwrap().len();
            assert!(size > 12 << 20, "{size}");
        }
        d
    };
    let srv = ember_on(&dir);
    assert_eq!(digest(&mut srv.client()), want);
}

/// A save's temporary file is in `dir`.
fn saving(dir: &TempDir) -> bool {
    std::fs::read_dir(&dir.0).unwrap().any(|e| {
        e.unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("temp-")
    })
}

/// SAVE and SHUTDOWN from other clients while a SAVE runs wait for
/// it, as they would behind it in Redis: each then does its own work.
#[test]
fn commands_behind_a_running_save_wait_for_it() {
    let dir = TempDir::new("snap-behind");
    let mut srv = ember_on(&dir);
    let mut c = srv.client();
    let _: () = q(&mut c, &["DEBUG", "POPULATE", "200"]).unwrap();
    // 2 ms a key: the SAVE takes about 0.4 s.
    let _: () = q(&mut c, &["CONFIG", "SET", "rdb-key-save-delay", "2000"]).unwrap();
    let port = srv.port;
    let first = std::thread::spawn(move || {
        let mut c = connect(port);
        q::<String>(&mut c, &["SAVE"])
    });
    // Seen in the directory, not by INFO: this client may share the
    // SAVE's worker, which the SAVE blocks.
    eventually("the first SAVE to start", Duration::from_secs(10), || {
        saving(&dir)
    });
    let t = Instant::now();
    assert_eq!(q::<String>(&mut c, &["SAVE"]).unwrap(), "OK");
    assert!(
        t.elapsed() > Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(first.join().unwrap().unwrap(), "OK");
    assert_eq!(persistence(&mut c, "rdb_saves"), "2");
    let _: () = q(&mut c, &["CONFIG", "SET", "rdb-key-save-delay", "0"]).unwrap();
    let _: () = q(&mut c, &["DEBUG", "POPULATE", "300"]).unwrap();
    let _: () = q(&mut c, &["CONFIG", "SET", "rdb-key-save-delay", "2000"]).unwrap();
    let second = std::thread::spawn(move || {
        let mut c = connect(port);
        q::<String>(&mut c, &["SAVE"])
    });
    eventually("the second SAVE to start", Duration::from_secs(10), || {
        saving(&dir)
    });
    // SHUTDOWN NOSAVE waits for the SAVE, which completes.
    assert!(q::<String>(&mut c, &["SHUTDOWN", "NOSAVE"]).is_err());
    assert_eq!(second.join().unwrap().unwrap(), "OK");
    assert!(srv.wait_exit(Duration::from_secs(10)).is_some());
    let srv = ember_on(&dir);
    assert_eq!(q::<i64>(&mut srv.client(), &["DBSIZE"]).unwrap(), 300);
}

/// `bgsave_cpulist` pins the BGSAVE threads (the writer and its walker),
/// as Redis pins its child.
#[cfg(target_os = "linux")]
#[test]
fn bgsave_threads_run_on_bgsave_cpulist() {
    let dir = TempDir::new("snap-cpus");
    let srv = Server::start(&[
        "--dir",
        dir.0.to_str().unwrap(),
        "--enable-debug-command",
        "yes",
        "--bgsave_cpulist",
        "0",
    ]);
    let mut c = srv.client();
    let _: () = q(&mut c, &["DEBUG", "POPULATE", "200"]).unwrap();
    let _: () = q(&mut c, &["CONFIG", "SET", "rdb-key-save-delay", "5000"]).unwrap();
    let _: String = q(&mut c, &["BGSAVE"]).unwrap();
    let cpus = |name: &str| -> Option<String> {
        let tasks = format!("/proc/{}/task", srv.pid());
        std::fs::read_dir(tasks).ok()?.find_map(|t| {
            let t = t.ok()?.path();
            let comm = std::fs::read_to_string(t.join("comm")).ok()?;
            (comm.trim() == name).then(|| {
                let status = std::fs::read_to_string(t.join("status")).unwrap_or_default();
                status
                    .lines()
                    .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
                    .unwrap_or("")
                    .trim()
                    .to_string()
            })
        })
    };
    // A thread pins itself as it starts: seen a moment earlier, it still
    // has the process's CPUs, so wait for the list to settle on "0".
    let want = (Some("0".to_string()), Some("0".to_string()));
    let mut seen = (None, None);
    let end = std::time::Instant::now() + Duration::from_secs(10);
    while seen != want && std::time::Instant::now() < end {
        seen = (cpus("emberkv-bgsave"), cpus("emberkv-bgwalk"));
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(seen, want);
    let _: () = q(&mut c, &["CONFIG", "SET", "rdb-key-save-delay", "0"]).unwrap();
    wait_bgsave(&mut c);
}
