//! HyperLogLog: the values PFADD, PFCOUNT and PFMERGE work on, in Redis's
//! exact byte representation (a plain string: a value built by
//! redis-server and copied here with GET/SET counts the same, and the
//! reverse), with its hash ([`hash`]), its two encodings ([`sparse`],
//! [`dense`]) and its estimator ([`estimator`]).
//!
//! The functions over a value take its bytes; those over a table look the
//! key up for writing (no hit/miss statistics, as Redis's write lookups),
//! while read lookups (PFCOUNT, PFMERGE's sources) are the handler's, which
//! counts them, and pass the entry in.

pub mod dense;
pub mod estimator;
pub mod format;
pub mod hash;
pub mod selftest;
pub mod sparse;

use super::strings::{write_string, Expire};
use super::At;
use crate::store::entry::{EntryPtr, EntryRef, F_RAW, T_STRING};
use crate::store::Table;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// Bits of the hash that pick the register.
pub const P: usize = 14;
/// Bits left for the run of zeros.
pub const Q: usize = 64 - P;
pub const REGISTERS: usize = 1 << P;
pub const BITS: usize = 6;
pub const HDR: usize = 16;
pub const DENSE_SIZE: usize = HDR + REGISTERS * BITS / 8;

/// `hll-sparse-max-bytes`: past this size (header included) a sparse value
/// turns dense.
pub static SPARSE_MAX_BYTES: AtomicUsize = AtomicUsize::new(3000);

fn sparse_max() -> usize {
    SPARSE_MAX_BYTES.load(Relaxed)
}

/// A sparse value whose opcodes do not cover the 16384 registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Corrupt;

/// Why a HyperLogLog command failed (errors.rs words them as Redis).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HllError {
    /// Not a string at all: the generic WRONGTYPE.
    WrongType,
    /// A string that is not a HyperLogLog (header, encoding, length).
    NotHll,
    /// A sparse value whose opcodes are inconsistent: INVALIDOBJ.
    Corrupt,
}

impl From<Corrupt> for HllError {
    fn from(_: Corrupt) -> Self {
        HllError::Corrupt
    }
}

/// Adds one element to a value of either encoding: Ok(changed).
pub fn add(v: &mut Vec<u8>, ele: &[u8], max_bytes: usize) -> Result<bool, Corrupt> {
    let (i, c) = hash::pat_len(ele);
    match v[4] {
        format::DENSE => Ok(dense::raise(&mut v[HDR..], i, c)),
        format::SPARSE => sparse::set(v, i, c, max_bytes),
        _ => Err(Corrupt),
    }
}

/// The estimate of a checked value (see [`format::check`]).
pub fn count(v: &[u8]) -> Result<u64, Corrupt> {
    let mut hist = [0u32; 64];
    if v[4] == format::DENSE {
        dense::histogram(&v[HDR..], &mut hist);
    } else if !sparse::histogram(v, &mut hist) {
        return Err(Corrupt);
    }
    Ok(estimator::estimate(&hist))
}

/// The estimate of registers held one per byte (PFCOUNT of several keys).
pub fn count_raw(regs: &[u8; REGISTERS]) -> u64 {
    let mut hist = [0u32; 64];
    for w in regs.chunks_exact(8) {
        if w == [0; 8] {
            hist[0] += 8;
        } else {
            for &r in w {
                hist[(r & 63) as usize] += 1;
            }
        }
    }
    estimator::estimate(&hist)
}

/// max[i] = MAX(max[i], register i) of a checked value.
pub fn merge(max: &mut [u8; REGISTERS], v: &[u8]) -> Result<(), Corrupt> {
    if v[4] == format::DENSE {
        dense::merge_into(max, &v[HDR..]);
        Ok(())
    } else if sparse::merge_into(max, v) {
        Ok(())
    } else {
        Err(Corrupt)
    }
}

/// The encoding of an entry that holds a HyperLogLog.
pub fn check_entry(e: EntryRef<'_>) -> Result<u8, HllError> {
    if e.kind() != T_STRING {
        return Err(HllError::WrongType);
    }
    format::check(e.str_value()).ok_or(HllError::NotHll)
}

/// Redis unshares (and so makes `raw`) the string of a HyperLogLog it is
/// about to work on, whether or not it then changes it.
fn unshare(e: EntryRef<'_>) {
    e.write_str_at(0, &[], F_RAW);
}

/// Like [`check_entry`], for a command that may change the value: the
/// string becomes `raw` (OBJECT ENCODING), as Redis's dbUnshareStringValue.
pub fn check_for_write(e: EntryRef<'_>) -> Result<u8, HllError> {
    let enc = check_entry(e)?;
    unshare(e);
    Ok(enc)
}

/// PFADD: adds the elements, creating the key (an empty sparse value)
/// if needed; Ok(changes) as Redis counts them: 1 for a created key plus 1
/// per element that raised a register (0: nothing changed). A corrupt
/// value fails at the first element that finds it out, and keeps the
/// changes the elements before it made, as in Redis.
pub fn pfadd<'e>(
    t: &mut Table,
    at: At<'_>,
    elements: impl IntoIterator<Item = &'e [u8]>,
) -> Result<u64, HllError> {
    let max = sparse_max();
    let Some(e) = t.lookup(at.h, at.key, at.now) else {
        let mut v = format::empty();
        let mut n = 1;
        for ele in elements {
            n += add(&mut v, ele, max)? as u64;
        }
        format::invalidate(&mut v);
        t.insert(at.h, EntryPtr::new_string(at.key, &v, None, F_RAW, at.lru));
        return Ok(n);
    };
    let enc = check_for_write(e)?;
    e.set_lru(at.lru);
    if enc == format::DENSE {
        // In place: no copy of the 12 KB.
        return Ok(e.with_str_mut(F_RAW, |v| {
            let mut changed = 0;
            for ele in elements {
                let (i, c) = hash::pat_len(ele);
                changed += dense::raise(&mut v[HDR..], i, c) as u64;
            }
            if changed > 0 {
                format::invalidate(v);
            }
            changed
        }));
    }
    let mut v = e.str_value().to_vec();
    let mut changed = 0;
    let mut failed = None;
    for ele in elements {
        match add(&mut v, ele, max) {
            Ok(c) => changed += c as u64,
            Err(c) => {
                failed = Some(c);
                break;
            }
        }
    }
    if changed > 0 {
        format::invalidate(&mut v);
        write_string(t, at, &v, Expire::Keep, F_RAW);
    }
    match failed {
        Some(c) => Err(c.into()),
        None => Ok(changed),
    }
}

/// PFCOUNT of one key (found by the caller's read lookup): the cached
/// estimate, or a fresh one that is stored in the header; Ok((estimate,
/// whether the value changed)).
pub fn pfcount_entry(e: EntryRef<'_>) -> Result<(u64, bool), HllError> {
    check_for_write(e)?;
    if let Some(c) = format::cached(e.str_value()) {
        return Ok((c, false));
    }
    let card = count(e.str_value())?;
    e.with_str_mut(F_RAW, |v| format::set_cached(v, card));
    Ok((card, true))
}

/// Merges one source (found by the caller's read lookup) into `max`;
/// Ok(whether it is dense).
pub fn merge_entry(max: &mut [u8; REGISTERS], e: EntryRef<'_>) -> Result<bool, HllError> {
    let enc = check_entry(e)?;
    merge(max, e.str_value())?;
    Ok(enc == format::DENSE)
}

/// PFMERGE's write: raises the registers of the key (created empty if
/// missing, turned dense first if `dense`) to `max`, register by register
/// as Redis does (so a sparse result has Redis's bytes), and marks the
/// cache stale. The key, if it exists, was checked as a source already.
pub fn pfmerge_store(
    t: &mut Table,
    at: At<'_>,
    max: &[u8; REGISTERS],
    dense: bool,
) -> Result<(), HllError> {
    let mut v = match t.lookup(at.h, at.key, at.now) {
        None => format::empty(),
        Some(e) => {
            let enc = check_for_write(e)?;
            e.set_lru(at.lru);
            if enc == format::DENSE {
                e.with_str_mut(F_RAW, |v| {
                    raise_all(&mut v[HDR..], max);
                    format::invalidate(v);
                });
                return Ok(());
            }
            e.str_value().to_vec()
        }
    };
    if dense && v[4] == format::SPARSE {
        v = sparse::to_dense(&v).ok_or(HllError::Corrupt)?;
    }
    if v[4] == format::DENSE {
        raise_all(&mut v[HDR..], max);
    } else {
        let limit = sparse_max();
        for (j, &m) in max.iter().enumerate() {
            if m == 0 {
                continue;
            }
            // The value was checked: a set cannot fail.
            let _ = match v[4] {
                format::DENSE => Ok(dense::raise(&mut v[HDR..], j, m)),
                _ => sparse::set(&mut v, j, m, limit),
            };
        }
    }
    format::invalidate(&mut v);
    write_string(t, at, &v, Expire::Keep, F_RAW);
    Ok(())
}

fn raise_all(regs: &mut [u8], max: &[u8; REGISTERS]) {
    for (j, &m) in max.iter().enumerate() {
        if m != 0 {
            dense::raise(regs, j, m);
        }
    }
}

/// PFDEBUG GETREG / TODENSE: turns the (checked) value at the key dense;
/// Ok(whether it was sparse).
pub fn to_dense_at(t: &mut Table, at: At<'_>) -> Result<bool, HllError> {
    let Some(e) = t.lookup(at.h, at.key, at.now) else {
        return Ok(false);
    };
    if check_entry(e)? == format::DENSE {
        return Ok(false);
    }
    let d = sparse::to_dense(e.str_value()).ok_or(HllError::Corrupt)?;
    write_string(t, at, &d, Expire::Keep, F_RAW);
    Ok(true)
}

/// Every register of a dense value, one per byte.
pub fn registers(v: &[u8]) -> Box<[u8; REGISTERS]> {
    let mut out = Box::new([0u8; REGISTERS]);
    dense::unpack(&v[HDR..], &mut out);
    out
}

#[cfg(test)]
mod tests;
