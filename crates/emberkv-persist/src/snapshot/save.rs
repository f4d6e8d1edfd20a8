//! The parts of an RDB file, in Redis 7.0's order: the header and its aux
//! fields, the function libraries, then per database SELECTDB, RESIZEDB
//! and its keys (expiry, type, key, value), then EOF and the CRC64. The
//! caller walks the keyspace; a database may appear in more than one
//! SELECTDB section (a point-in-time snapshot writes segments out of
//! order), which Redis's loader accepts as it switches database on each.

use crate::rdb::{op, Writer, VERSION};
use crate::value::write_value;
use emberkv_core::store::EntryRef;
use std::io::{self, Write};

/// What the header's aux fields say (Redis's `rdbSaveInfoAuxFields`).
pub struct Aux<'a> {
    pub redis_ver: &'a str,
    /// Seconds since the epoch.
    pub ctime: i64,
    pub used_mem: u64,
    /// Replication fields, written when there is replication state.
    pub repl: Option<Repl<'a>>,
    /// The base of an AOF (the RDB preamble).
    pub aof_base: bool,
}

pub struct Repl<'a> {
    pub stream_db: i64,
    pub id: &'a str,
    pub offset: i64,
}

pub fn write_header<W: Write>(w: &mut Writer<W>, aux: &Aux<'_>) -> io::Result<()> {
    w.header(VERSION)?;
    w.aux(b"redis-ver", aux.redis_ver.as_bytes())?;
    aux_int(w, b"redis-bits", 64)?;
    aux_int(w, b"ctime", aux.ctime)?;
    aux_int(w, b"used-mem", aux.used_mem as i64)?;
    if let Some(r) = &aux.repl {
        aux_int(w, b"repl-stream-db", r.stream_db)?;
        w.aux(b"repl-id", r.id.as_bytes())?;
        aux_int(w, b"repl-offset", r.offset)?;
    }
    aux_int(w, b"aof-base", aux.aof_base as i64)
}

/// An aux field with an integer value (Redis writes it as a string, which
/// the writer stores in the integer encoding).
fn aux_int<W: Write>(w: &mut Writer<W>, key: &[u8], v: i64) -> io::Result<()> {
    w.aux(key, itoa::Buffer::new().format(v).as_bytes())
}

/// One FUNCTION2 record: a library's source code.
pub fn write_function<W: Write>(w: &mut Writer<W>, code: &[u8]) -> io::Result<()> {
    w.u8(op::FUNCTION2)?;
    w.string(code)
}

/// SELECTDB, and RESIZEDB with the sizes when they are given (the first
/// section of a database).
pub fn write_select<W: Write>(
    w: &mut Writer<W>,
    db: usize,
    sizes: Option<(u64, u64)>,
) -> io::Result<()> {
    w.u8(op::SELECTDB)?;
    w.length(db as u64)?;
    if let Some((keys, expires)) = sizes {
        w.u8(op::RESIZEDB)?;
        w.length(keys)?;
        w.length(expires)?;
    }
    Ok(())
}

/// One key: its expiry, then type, key and value.
pub fn write_entry<W: Write>(w: &mut Writer<W>, e: EntryRef<'_>) -> io::Result<()> {
    if let Some(t) = e.expire_at() {
        w.u8(op::EXPIRETIME_MS)?;
        w.ms(t)?;
    }
    write_value(w, e, Some(e.key()))
}
