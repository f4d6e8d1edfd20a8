//! The string family's data operations: functions over one locked table
//! that return typed results and know nothing of the protocol. Handlers in
//! `mod.rs` parse arguments, call these, and write the reply.

use super::{At, OpError};
use crate::store::entry::{EntryPtr, F_RAW, T_STRING};
use crate::store::Table;
use crate::util::longdouble::LongDouble;
use crate::util::parse_i64;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Expire {
    /// Remove any TTL.
    None,
    /// Keep the current TTL (KEEPTTL, APPEND, INCR...).
    Keep,
    /// Absolute time in ms.
    At(i64),
}

/// Writes `val` under the key; in place (no allocation) when an existing
/// string has the same length and the same TTL presence.
pub fn write_string(t: &mut Table, at: At<'_>, val: &[u8], expire: Expire, flags: u8) {
    match t.find_mut(at.h, at.key) {
        Some(f) => {
            let e = f.entry();
            let exp = match expire {
                Expire::Keep => e.expire_at(),
                Expire::At(t) => Some(t),
                Expire::None => None,
            };
            if e.kind() == T_STRING
                && e.str_value().len() == val.len()
                && e.expire_at().is_some() == exp.is_some()
            {
                e.overwrite_str_same_len(val, flags);
                if let Some(t) = exp {
                    e.set_expire_in_place(t);
                }
                e.set_lru(at.lru);
            } else {
                f.replace(EntryPtr::new_string(at.key, val, exp, flags, at.lru))
                    .free();
            }
        }
        None => {
            let exp = match expire {
                Expire::At(t) => Some(t),
                _ => None,
            };
            t.insert(at.h, EntryPtr::new_string(at.key, val, exp, flags, at.lru));
        }
    }
}

/// The current string value: Ok(None) if the key does not exist.
fn current<'t>(t: &'t mut Table, at: At<'_>) -> Result<Option<&'t [u8]>, OpError> {
    match t.lookup(at.h, at.key, at.now) {
        None => Ok(None),
        Some(e) if e.kind() != T_STRING => Err(OpError::WrongType),
        Some(e) => Ok(Some(e.str_value())),
    }
}

/// INCRBY and friends: the new value.
pub fn incr_by(t: &mut Table, at: At<'_>, delta: i64) -> Result<i64, OpError> {
    let cur = match current(t, at)? {
        None => 0,
        Some(v) => parse_i64(v).ok_or(OpError::NotInt)?,
    };
    let new = cur.checked_add(delta).ok_or(OpError::Overflow)?;
    let mut buf = itoa::Buffer::new();
    write_string(t, at, buf.format(new).as_bytes(), Expire::Keep, 0);
    Ok(new)
}

/// INCRBYFLOAT: the new value as Redis prints it. The type, then the
/// current value, then the increment are checked, in Redis's order.
pub fn incr_by_float(t: &mut Table, at: At<'_>, incr: &[u8]) -> Result<String, OpError> {
    let cur = match current(t, at)? {
        None => LongDouble::Finite {
            neg: false,
            m: 0,
            e: 0,
        },
        Some(v) => LongDouble::parse(v).ok_or(OpError::NotFloat)?,
    };
    let incr = &LongDouble::parse(incr).ok_or(OpError::NotFloat)?;
    let sum = cur.add(incr);
    if !cur.is_finite() || !incr.is_finite() || !sum.is_finite() {
        return Err(OpError::NanOrInf);
    }
    let s = sum.to_human();
    write_string(t, at, s.as_bytes(), Expire::Keep, 0);
    Ok(s)
}

/// APPEND: the new length. Grows the entry in place when it can.
pub fn append(t: &mut Table, at: At<'_>, add: &[u8], max: usize) -> Result<usize, OpError> {
    let Some(f) = t.lookup_mut(at.h, at.key, at.now) else {
        t.insert(at.h, EntryPtr::new_string(at.key, add, None, 0, at.lru));
        return Ok(add.len());
    };
    let e = f.entry();
    if e.kind() != T_STRING {
        return Err(OpError::WrongType);
    }
    let new_len = e.str_value().len() + add.len();
    if new_len > max {
        return Err(OpError::TooBig);
    }
    f.replace_with(|old| {
        let e = old.append_str(add, F_RAW);
        e.as_ref().set_lru(at.lru);
        e
    });
    Ok(new_len)
}

/// SETRANGE: the new length. The part of the patch inside the current value
/// is written in place; what lies past the end (zero padding, then the rest
/// of the patch) is appended, which grows the allocation in place most of
/// the time.
pub fn setrange(
    t: &mut Table,
    at: At<'_>,
    off: usize,
    patch: &[u8],
    max: u64,
) -> Result<usize, OpError> {
    let old_len = current(t, at)?.map(<[u8]>::len);
    if patch.is_empty() {
        return Ok(old_len.unwrap_or(0));
    }
    if off as u64 + patch.len() as u64 > max {
        return Err(OpError::TooBig);
    }
    let end = off + patch.len();
    let Some(old_len) = old_len else {
        let mut v = vec![0u8; end];
        v[off..].copy_from_slice(patch);
        t.insert(at.h, EntryPtr::new_string(at.key, &v, None, F_RAW, at.lru));
        return Ok(end);
    };
    let f = t.find_mut(at.h, at.key).expect("looked up above");
    let inside = old_len.saturating_sub(off).min(patch.len());
    f.entry()
        .write_str_at(off.min(old_len), &patch[..inside], F_RAW);
    f.entry().set_lru(at.lru);
    if end > old_len {
        let mut tail = vec![0u8; off.saturating_sub(old_len)];
        tail.extend_from_slice(&patch[inside..]);
        f.replace_with(|old| old.append_str(&tail, F_RAW));
    }
    Ok(end.max(old_len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::KeyHasher;

    fn at(hs: &KeyHasher, key: &'static [u8]) -> At<'static> {
        At {
            h: hs.hash(key),
            key,
            now: 1000,
            lru: 1,
        }
    }

    fn get(t: &mut Table, a: At<'_>) -> Option<Vec<u8>> {
        current(t, a).unwrap().map(<[u8]>::to_vec)
    }

    #[test]
    fn counters() {
        let hs = KeyHasher::new(1);
        let mut t = Table::new(hs);
        let k = at(&hs, b"n");
        assert_eq!(incr_by(&mut t, k, 5), Ok(5));
        assert_eq!(incr_by(&mut t, k, -7), Ok(-2));
        write_string(&mut t, k, b"9223372036854775807", Expire::None, 0);
        assert_eq!(incr_by(&mut t, k, 1), Err(OpError::Overflow));
        write_string(&mut t, k, b"x", Expire::None, 0);
        assert_eq!(incr_by(&mut t, k, 1), Err(OpError::NotInt));
        let g = at(&hs, b"f");
        assert_eq!(incr_by_float(&mut t, g, b"0.1").as_deref(), Ok("0.1"));
        assert_eq!(incr_by_float(&mut t, g, b"0.1").as_deref(), Ok("0.2"));
    }

    #[test]
    fn ttl_is_kept_by_read_modify_write() {
        let hs = KeyHasher::new(2);
        let mut t = Table::new(hs);
        let k = at(&hs, b"k");
        write_string(&mut t, k, b"1", Expire::At(5000), 0);
        incr_by(&mut t, k, 1).unwrap();
        append(&mut t, k, b"0", 100).unwrap();
        setrange(&mut t, k, 0, b"3", 100).unwrap();
        let e = t.lookup(k.h, k.key, k.now).unwrap();
        assert_eq!(e.str_value(), b"30");
        assert_eq!(e.expire_at(), Some(5000));
        write_string(&mut t, k, b"zz", Expire::None, 0);
        assert_eq!(t.lookup(k.h, k.key, k.now).unwrap().expire_at(), None);
    }

    #[test]
    fn setrange_inside_overlapping_and_past_the_end() {
        let hs = KeyHasher::new(3);
        let mut t = Table::new(hs);
        let k = at(&hs, b"s");
        assert_eq!(setrange(&mut t, k, 2, b"ab", 100), Ok(4));
        assert_eq!(get(&mut t, k).unwrap(), b"\0\0ab");
        assert_eq!(setrange(&mut t, k, 1, b"XY", 100), Ok(4));
        assert_eq!(get(&mut t, k).unwrap(), b"\0XYb");
        assert_eq!(setrange(&mut t, k, 3, b"123", 100), Ok(6));
        assert_eq!(get(&mut t, k).unwrap(), b"\0XY123");
        assert_eq!(setrange(&mut t, k, 8, b"!", 100), Ok(9));
        assert_eq!(get(&mut t, k).unwrap(), b"\0XY123\0\0!");
        assert_eq!(setrange(&mut t, k, 99, b"xx", 100), Err(OpError::TooBig));
        assert_eq!(append(&mut t, k, &[0; 92], 100), Err(OpError::TooBig));
    }
}
