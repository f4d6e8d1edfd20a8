//! Loading an AOF directory as Redis 7.0 does (docs/AOF_NOTES.md, 4): the
//! base, then each incremental file in the manifest's order. A file that
//! starts with `REDIS` is an RDB (a base, or an old file's preamble) read
//! by the snapshot loader, and commands may follow it. Commands go to a
//! [`Replay`] (the server runs them as a client would, MULTI queueing). A
//! file that ends inside a command or a transaction is cut back to the
//! last whole command when `aof-load-truncated` allows it and it is the
//! last file; anything else out of place stops the load, with Redis's log
//! texts.
//!
//! Two deliberate differences, both to keep data: a file that is not the
//! last is never cut (7.0 cut it, then refused to go on), and an RDB part
//! that fails to load stops the load (7.0 could take it for a short read
//! and cut the file to nothing).

use super::commands::{CommandReader, Fault, Item};
use super::manifest::Manifest;
use crate::snapshot::load::{self as rdb_load, Options as RdbOptions, Sink};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::time::Instant;

/// What the server does with a file's contents.
pub trait Replay {
    /// Where the records of an RDB part go.
    fn rdb(&mut self) -> &mut dyn Sink;
    /// Runs one command. Err(text) stops the load with that log line (an
    /// unknown command: "Unknown command '...' reading the append only
    /// file ...").
    fn command(&mut self, file: &str, args: &[&[u8]]) -> Result<(), String>;
    /// Forgets the commands queued since the last MULTI (the file ended
    /// inside a transaction).
    fn discard(&mut self);
    /// A log line: `warning` or notice level.
    fn log(&mut self, warning: bool, text: String);
}

pub struct Options<'a> {
    /// `aof-load-truncated`.
    pub load_truncated: bool,
    /// `appendfilename`: a base of that name is an old single-file AOF.
    pub appendfilename: &'a str,
    pub rdb: RdbOptions,
}

/// How a load ended, as Redis's status codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    NotExist,
    Empty,
    /// Loaded, after cutting the last file back to its last whole command.
    Truncated,
}

/// Why a load stopped (already logged).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// A file that exists could not be opened or sized.
    Open,
    Failed,
}

/// A loaded directory: how it ended, the bytes of every file and of the
/// base (`aof_current_size`, `aof_base_size`).
#[derive(Debug)]
pub struct Loaded {
    pub status: Status,
    pub total: u64,
    pub base: u64,
}

/// Loads every file `m` lists from `dir`.
pub fn load_dir(
    dir: &Path,
    m: &Manifest,
    opts: &Options<'_>,
    replay: &mut dyn Replay,
) -> Result<Loaded, Failure> {
    let files: Vec<_> = m.load_order().collect();
    if files.is_empty() {
        return Ok(Loaded {
            status: Status::NotExist,
            total: 0,
            base: 0,
        });
    }
    let mut total = 0;
    let mut base = 0;
    for f in &files {
        match std::fs::metadata(dir.join(&f.name)) {
            Ok(md) => {
                total += md.len();
                if m.base.as_ref() == Some(*f) {
                    base = md.len();
                }
            }
            Err(e) => {
                replay.log(
                    true,
                    format!("Unable to obtain the AOF file {} length. stat: {e}", f.name),
                );
                return Err(if e.kind() == std::io::ErrorKind::NotFound {
                    Failure::Failed
                } else {
                    Failure::Open
                });
            }
        }
    }
    if total == 0 {
        return Ok(Loaded {
            status: Status::Empty,
            total,
            base,
        });
    }
    let mut status = Status::Ok;
    for (i, f) in files.iter().enumerate() {
        let last = i + 1 == files.len();
        let t = Instant::now();
        let s = load_file(dir, &f.name, last, opts, replay)?;
        match s {
            Status::Ok | Status::Truncated => {
                let what = if m.base.as_ref() == Some(*f) {
                    "base"
                } else {
                    "incr"
                };
                replay.log(
                    false,
                    format!(
                        "DB loaded from {what} file {}: {:.3} seconds",
                        f.name,
                        t.elapsed().as_secs_f64()
                    ),
                );
                status = s;
            }
            Status::Empty => {}
            // Sized a moment ago, gone now.
            Status::NotExist => return Err(Failure::Failed),
        }
    }
    Ok(Loaded {
        status,
        total,
        base,
    })
}

/// Loads one file of the set; `last`: the only one that may be cut.
pub fn load_file(
    dir: &Path,
    name: &str,
    last: bool,
    opts: &Options<'_>,
    replay: &mut dyn Replay,
) -> Result<Status, Failure> {
    let path = dir.join(name);
    let mut file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            replay.log(
                true,
                format!("The append log file {name} doesn't exist: {e}"),
            );
            return Ok(Status::NotExist);
        }
        Err(e) => {
            replay.log(
                true,
                format!("Fatal error: can't open the append log file {name} for reading: {e}"),
            );
            return Err(Failure::Open);
        }
    };
    let fail_io = |replay: &mut dyn Replay, e: std::io::Error| {
        replay.log(
            true,
            format!("Unrecoverable error reading the append only file {name}: {e}"),
        );
        Failure::Failed
    };
    let size = file.metadata().map_err(|e| fail_io(replay, e))?.len();
    if size == 0 {
        return Ok(Status::Empty);
    }
    let mut magic = [0u8; 5];
    let got = read_up_to(&mut file, &mut magic).map_err(|e| fail_io(replay, e))?;
    file.seek(SeekFrom::Start(0))
        .map_err(|e| fail_io(replay, e))?;
    let old_style = name == opts.appendfilename;
    let mut start = 0;
    if got == 5 && &magic == b"REDIS" {
        replay.log(
            false,
            if old_style {
                "Reading RDB preamble from AOF file...".into()
            } else {
                "Reading RDB base file on AOF loading...".into()
            },
        );
        match rdb_load::load(&mut file, &opts.rdb, replay.rdb()) {
            Ok(l) => start = l.bytes,
            Err(e) => {
                let what = if old_style {
                    "the RDB preamble of the AOF file"
                } else {
                    "the RDB base file"
                };
                replay.log(true, format!("{e}"));
                replay.log(
                    true,
                    format!("Error reading {what} {name}, AOF loading aborted"),
                );
                return Err(Failure::Failed);
            }
        }
        if old_style {
            replay.log(false, "Reading the remaining AOF tail...".into());
        }
        file.seek(SeekFrom::Start(start))
            .map_err(|e| fail_io(replay, e))?;
    }
    let mut reader = CommandReader::new(file, start);
    let mut valid = start;
    let mut before_multi = None;
    let cut_at = loop {
        match reader.next_item() {
            Ok(Some(Item::Annotation { .. })) => {}
            Ok(Some(Item::Command { args, end, start })) => {
                let multi = args[0].eq_ignore_ascii_case(b"multi");
                if multi {
                    before_multi = Some(start);
                }
                if let Err(text) = replay.command(name, &args) {
                    replay.log(true, text);
                    return Err(Failure::Failed);
                }
                if args[0].eq_ignore_ascii_case(b"exec") {
                    before_multi = None;
                }
                valid = end;
            }
            Ok(None) => match before_multi {
                None => return Ok(Status::Ok),
                Some(at) => {
                    replay.log(
                        true,
                        format!("Revert incomplete MULTI/EXEC transaction in AOF file {name}"),
                    );
                    break at;
                }
            },
            // Inside a transaction the cut goes before its MULTI, so the
            // file never keeps a MULTI without its EXEC.
            // (Redis's valid offset moves past commands only: a trailing
            // annotation goes with the torn command.)
            Err(Fault::Truncated { .. }) => break before_multi.unwrap_or(valid),
            Err(Fault::Format { .. }) => {
                replay.log(
                    true,
                    format!(
                        "Bad file format reading the append only file {name}: make a backup \
                         of your AOF file, then use ./redis-check-aof --fix <filename.manifest>"
                    ),
                );
                return Err(Failure::Failed);
            }
            Err(Fault::Io(e)) => return Err(fail_io(replay, e)),
        }
    };
    if before_multi.is_some() {
        replay.discard();
    }
    if opts.load_truncated && last {
        replay.log(
            true,
            format!("!!! Warning: short read while loading the AOF file {name}!!!"),
        );
        replay.log(
            true,
            format!("!!! Truncating the AOF {name} at offset {cut_at} !!!"),
        );
        let cut = std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_len(cut_at).and_then(|_| f.sync_all()));
        match cut {
            Ok(()) => {
                replay.log(
                    true,
                    format!("AOF {name} loaded anyway because aof-load-truncated is enabled"),
                );
                return Ok(Status::Truncated);
            }
            Err(e) => replay.log(true, format!("Error truncating the AOF file {name}: {e}")),
        }
    }
    replay.log(
        true,
        format!(
            "Unexpected end of file reading the append only file {name}. You can: 1) Make a \
             backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) \
             Alternatively you can set the 'aof-load-truncated' configuration option to yes and \
             restart the server."
        ),
    );
    Err(Failure::Failed)
}

/// Reads until `buf` is full or the file ends; the bytes read.
fn read_up_to(f: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
