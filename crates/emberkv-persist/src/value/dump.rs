//! DUMP payloads (Redis's `createDumpPayload` / `verifyDumpPayload`): one
//! value in its RDB encoding, then the RDB version (2 bytes, little-endian)
//! and the CRC64 of everything before it.

use super::{read_value, write_value, Value};
use crate::rdb::{Crc64, Reader, Writer, VERSION};
use emberkv_core::store::{EntryPtr, EntryRef};

/// The payload DUMP replies with.
pub fn dump(e: EntryRef<'_>, compress: bool) -> Vec<u8> {
    let mut w = Writer::piece(compress, 64);
    // Writing into memory cannot fail.
    let _ = write_value(&mut w, e, None);
    let _ = w.raw(&(VERSION as u16).to_le_bytes());
    w.finish_dump()
}

/// Why a payload was refused, as RESTORE words it.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// Too short, a newer RDB version, or a wrong CRC64.
    VersionOrChecksum,
    /// The value itself does not decode.
    BadFormat,
}

/// Checks the trailer (unless `skip_crc`: DEBUG SET-SKIP-CHECKSUM-VALIDATION)
/// and decodes the value. Nothing is built into the keyspace until the
/// whole value decoded, so a corrupt payload leaves no half-made key.
pub fn undump(p: &[u8], skip_crc: bool) -> Result<Value, Refused> {
    let n = p.len();
    if n < 10 {
        return Err(Refused::VersionOrChecksum);
    }
    let version = u16::from_le_bytes([p[n - 10], p[n - 9]]);
    if version as u32 > VERSION {
        return Err(Refused::VersionOrChecksum);
    }
    if !skip_crc && Crc64::of(&p[..n - 8]).to_le_bytes() != p[n - 8..] {
        return Err(Refused::VersionOrChecksum);
    }
    let mut r = Reader::new(&p[..n - 10], 0);
    let t = r.u8().map_err(|_| Refused::BadFormat)?;
    read_value(&mut r, t).map_err(|_| Refused::BadFormat)
}

/// The keyspace entry of a loaded value.
pub fn into_entry(key: &[u8], v: Value, expire: Option<i64>, lru: u32) -> EntryPtr {
    match v {
        Value::Str(s) => EntryPtr::new_string(key, &s, expire, 0, lru),
        Value::Obj(o) => {
            let (kind, enc, p) = o.into_raw();
            EntryPtr::new_obj(key, kind, enc, p, expire, lru)
        }
    }
}
