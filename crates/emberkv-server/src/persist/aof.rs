//! The AOF in the server (issue 13, in progress): what the directory
//! loader of emberkv-persist replays goes through a loader client, as
//! Redis's loader runs each command on a fake client: an RDB part into
//! the keyspace by the RDB loader's batches, each command through
//! `dispatch` (MULTI queues, EXEC runs, replies dropped). Not yet called at
//! start-up: loading without the writer would let a restart bring back a
//! stale AOF over newer writes (docs/AOF_NOTES.md has the plan).

use super::load::Loader;
use crate::client::{Client, ClientShared};
use crate::cmd::Args;
use crate::dispatch::dispatch;
use crate::gate::Gate;
use crate::server::{Server, WorkerStats};
use emberkv_persist::aof::load::{self as aof_load, Loaded, Options, Replay};
use emberkv_persist::aof::manifest::Manifest;
use emberkv_persist::snapshot::load::{Options as RdbOptions, Sink};
use std::path::Path;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use tracing::{info, warn};

struct Replayer<'s> {
    srv: &'s Server,
    rdb: Loader<'s>,
    /// An RDB part was read and its last batch is not in yet.
    rdb_open: bool,
    client: Client,
    stats: WorkerStats,
    out: Vec<u8>,
    buf: Vec<u8>,
    ranges: Vec<(usize, usize)>,
}

impl Replayer<'_> {
    fn run(&mut self, args: &[&[u8]]) {
        self.buf.clear();
        self.ranges.clear();
        for a in args {
            let s = self.buf.len();
            self.buf.extend_from_slice(a);
            self.ranges.push((s, self.buf.len()));
        }
        let args = Args::from_parts(&self.ranges, &self.buf);
        let mut gate = Gate::enter(self.srv);
        self.out.clear();
        dispatch(
            self.srv,
            &mut self.client,
            &mut self.out,
            &args,
            crate::util::unix_ms(),
            &self.stats,
            &mut gate,
        );
    }
}

impl Replay for Replayer<'_> {
    fn rdb(&mut self) -> &mut dyn Sink {
        self.rdb_open = true;
        &mut self.rdb
    }

    fn command(&mut self, file: &str, args: &[&[u8]]) -> Result<(), String> {
        if std::mem::take(&mut self.rdb_open) {
            self.rdb.finish()?;
        }
        if self.srv.commands.lookup(args[0]).is_none() {
            return Err(format!(
                "Unknown command '{}' reading the append only file {file}",
                String::from_utf8_lossy(args[0])
            ));
        }
        self.run(args);
        Ok(())
    }

    fn discard(&mut self) {
        self.run(&[b"DISCARD"]);
    }

    fn log(&mut self, warning: bool, text: String) {
        if warning {
            warn!("{text}");
        } else {
            info!("{text}");
        }
    }
}

/// Replays the AOF directory `dir` (its `<appendfilename>.manifest`) into
/// the keyspace; the error is the line Redis would log before exiting.
pub fn load_dir(srv: &Server, dir: &Path) -> Result<Loaded, String> {
    let (appendfilename, load_truncated, checksum) = {
        let c = srv.config.read();
        (
            c.get("appendfilename").to_string(),
            c.yes("aof-load-truncated"),
            c.yes("rdbchecksum"),
        )
    };
    let mpath = dir.join(format!("{appendfilename}.manifest"));
    let text = std::fs::read(&mpath).map_err(|e| {
        format!(
            "Fatal error: can't open the AOF manifest file {} for reading: {}",
            mpath.display(),
            crate::config::os_reason(&e)
        )
    })?;
    let manifest = Manifest::parse(&text).map_err(|e| e.to_string())?;
    let id = srv.next_client_id.fetch_add(1, Relaxed);
    let shared = Arc::new(ClientShared::new(
        id,
        String::new(),
        String::new(),
        -1,
        false,
        0,
        crate::util::unix_ms(),
    ));
    // What a base's RESIZEDB may reserve is bounded by the files' size.
    let size: u64 = manifest
        .load_order()
        .filter_map(|f| std::fs::metadata(dir.join(&f.name)).ok())
        .map(|m| m.len())
        .sum();
    let mut r = Replayer {
        srv,
        rdb: Loader::new(srv, false, size),
        rdb_open: false,
        client: Client::new(shared, true),
        stats: WorkerStats::new(srv.commands.entries.len()),
        out: Vec::new(),
        buf: Vec::new(),
        ranges: Vec::new(),
    };
    let opts = Options {
        load_truncated,
        appendfilename: &appendfilename,
        rdb: RdbOptions {
            checksum,
            databases: srv.store.ndbs,
            progress_every: 1 << 20,
        },
    };
    let loaded = aof_load::load_dir(dir, &manifest, &opts, &mut r)
        .map_err(|f| format!("AOF loading failed: {f:?}"))?;
    if r.rdb_open {
        r.rdb.finish()?;
    }
    Ok(loaded)
}

/// Writes `m` as `dir`'s manifest the way Redis does: into
/// `temp-<appendfilename>.manifest`, fsynced, renamed over the manifest,
/// then the directory fsynced, so a crash leaves the old manifest or the
/// new one whole. The error is Redis's log line.
pub fn write_manifest(dir: &Path, appendfilename: &str, m: &Manifest) -> Result<(), String> {
    use std::io::Write;
    let tmp = dir.join(format!("temp-{appendfilename}.manifest"));
    let path = dir.join(format!("{appendfilename}.manifest"));
    let reason = |e: &std::io::Error| crate::config::os_reason(e);
    let mut f = std::fs::File::create(&tmp).map_err(|e| {
        format!(
            "Can't open the AOF manifest file {}: {}",
            tmp.display(),
            reason(&e)
        )
    })?;
    f.write_all(m.render().as_bytes()).map_err(|e| {
        format!(
            "Error trying to write the temporary AOF manifest file {}: {}",
            tmp.display(),
            reason(&e)
        )
    })?;
    f.sync_data().map_err(|e| {
        format!(
            "Fail to fsync the temp AOF file {}: {}.",
            tmp.display(),
            reason(&e)
        )
    })?;
    drop(f);
    std::fs::rename(&tmp, &path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!(
            "Error trying to rename the temporary AOF manifest file {} into {}: {}",
            tmp.display(),
            path.display(),
            reason(&e)
        )
    })?;
    super::save::fsync_dir(&path).map_err(|e| {
        format!(
            "Fail to fsync AOF directory {}: {}.",
            dir.display(),
            reason(&e)
        )
    })
}
