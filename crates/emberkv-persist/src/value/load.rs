//! Reading one value of any RDB type Redis 1.0 to 7.2 writes, into
//! emberkv's own encodings, chosen by size as Redis converts on load
//! (a ziplist hash becomes a compact hash, a 10k-member intset a hash
//! table...). Nothing in the file is trusted: duplicates, NaN scores,
//! broken blobs and impossible counts are refused with the offset.

use super::stream::read_stream;
use crate::listpack::{self, Elem};
use crate::rdb::{ty, Error, Reader};
use crate::{intset, ziplist, zipmap};
use emberkv_core::types::{limit, Dict, Hash, IntSet, List, Lp, LpBuilder, Obj, Set, ZSet, LIMITS};
use foldhash::HashSet;

/// A loaded value.
pub enum Value {
    Str(Vec<u8>),
    Obj(Obj),
}

/// The value of RDB type `t` (the type byte is already read).
pub fn read_value(r: &mut Reader<'_>, t: u8) -> Result<Value, Error> {
    Ok(Value::Obj(match t {
        ty::STRING => return Ok(Value::Str(r.string()?)),
        ty::LIST => {
            let n = r.count(1)?;
            let mut l = List::default();
            for _ in 0..n {
                l.push(false, &r.string()?);
            }
            nonempty(r, Obj::List(l))?
        }
        ty::SET => {
            let n = r.count(1)?;
            let items = (0..n)
                .map(|_| r.string_cow())
                .collect::<Result<Vec<_>, _>>()?;
            Obj::Set(build_set(r, items.iter().map(|v| &v[..]), n)?)
        }
        ty::ZSET | ty::ZSET_2 => {
            let n = r.count(2)?;
            let mut pairs = Vec::with_capacity(n);
            for _ in 0..n {
                let m = r.string_cow()?;
                let s = if t == ty::ZSET_2 {
                    r.double()?
                } else {
                    r.text_double()?
                };
                pairs.push((m, s));
            }
            let pairs: Vec<_> = pairs.iter().map(|(m, s)| (&m[..], *s)).collect();
            Obj::ZSet(build_zset(r, &pairs)?)
        }
        ty::HASH => {
            let n = r.count(2)?;
            let mut owned = Vec::with_capacity(n);
            for _ in 0..n {
                owned.push((r.string_cow()?, r.string_cow()?));
            }
            let pairs: Vec<_> = owned.iter().map(|(f, v)| (&f[..], &v[..])).collect();
            Obj::Hash(build_hash(r, &pairs)?)
        }
        ty::HASH_ZIPMAP => {
            let at = r.offset();
            let blob = r.string()?;
            let pairs = zipmap::decode(&blob).map_err(|_| blob_error(at, "Zipmap"))?;
            Obj::Hash(build_hash(r, &pairs)?)
        }
        ty::LIST_ZIPLIST | ty::LIST_QUICKLIST | ty::LIST_QUICKLIST_2 => Obj::List(read_list(r, t)?),
        ty::SET_INTSET => {
            let at = r.offset();
            let blob = r.string()?;
            let v = intset::decode(&blob).ok_or_else(|| blob_error(at, "Intset"))?;
            let texts: Vec<Vec<u8>> = v.iter().map(|i| i.to_string().into_bytes()).collect();
            Obj::Set(build_set(r, texts.iter().map(|v| &v[..]), v.len())?)
        }
        ty::SET_LISTPACK => {
            let at = r.offset();
            let blob = r.string()?;
            let elems = listpack::decode(&blob).map_err(|_| blob_error(at, "Set listpack"))?;
            let texts: Vec<Vec<u8>> = elems.iter().map(Elem::to_vec).collect();
            Obj::Set(build_set(r, texts.iter().map(|v| &v[..]), texts.len())?)
        }
        ty::ZSET_ZIPLIST | ty::ZSET_LISTPACK | ty::HASH_ZIPLIST | ty::HASH_LISTPACK => {
            let at = r.offset();
            let blob = r.string_cow()?;
            // A listpack that stays one here goes straight into it; the
            // others (ziplists, big, out of order) by pairs below.
            if t == ty::HASH_LISTPACK {
                if let Some(h) = compact_hash(r, &blob, at)? {
                    return Ok(Value::Obj(Obj::Hash(h)));
                }
            } else if t == ty::ZSET_LISTPACK {
                if let Some(z) = compact_zset(r, &blob, at)? {
                    return Ok(Value::Obj(Obj::ZSet(z)));
                }
            }
            let zip = matches!(t, ty::ZSET_ZIPLIST | ty::HASH_ZIPLIST);
            let elems = if zip {
                ziplist::decode(&blob).map_err(|_| blob_error(at, "Ziplist"))?
            } else {
                listpack::decode(&blob).map_err(|_| blob_error(at, "Listpack"))?
            };
            if elems.len() % 2 != 0 {
                return Err(blob_error(at, "Odd element count in a pair"));
            }
            // Elements borrowed from the blob (integers as text in one
            // arena): no allocation per element.
            let mut arena = Vec::new();
            let texts = as_bytes(&elems, &mut arena);
            if matches!(t, ty::ZSET_ZIPLIST | ty::ZSET_LISTPACK) {
                let mut pairs = Vec::with_capacity(elems.len() / 2);
                for (m, c) in texts.chunks(2).zip(elems.chunks(2)) {
                    let s = match c[1] {
                        Elem::Int(v) => v as f64,
                        Elem::Str(s) => {
                            parse_score(s).ok_or_else(|| blob_error(at, "Zset score"))?
                        }
                    };
                    pairs.push((m[0], s));
                }
                Obj::ZSet(build_zset(r, &pairs)?)
            } else {
                let pairs: Vec<_> = texts.chunks(2).map(|c| (c[0], c[1])).collect();
                Obj::Hash(build_hash(r, &pairs)?)
            }
        }
        ty::STREAM_LISTPACKS | ty::STREAM_LISTPACKS_2 | ty::STREAM_LISTPACKS_3 => {
            Obj::Stream(Box::new(read_stream(r, t)?))
        }
        ty::MODULE_PRE_GA | ty::MODULE_2 => {
            let id = r.length()?;
            return r.fail(format!(
                "The RDB file contains module data I can't load: no matching module type '{}'",
                module_name(id)
            ));
        }
        _ => return r.fail(format!("Unknown RDB encoding type {t}")),
    }))
}

fn blob_error(offset: u64, what: &str) -> Error {
    Error {
        offset,
        what: format!("{what} integrity check failed."),
    }
}

/// Refuses an empty collection (Redis never writes one).
fn nonempty(r: &Reader<'_>, o: Obj) -> Result<Obj, Error> {
    if o.is_empty() {
        return r.fail("Empty keys skipped");
    }
    Ok(o)
}

/// A module type ID's 9-character name (6 bits a character, as Redis's
/// moduleTypeNameByID spells it).
fn module_name(id: u64) -> String {
    const SET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut id = id >> 10;
    let mut name = [0u8; 9];
    for c in name.iter_mut().rev() {
        *c = SET[(id & 63) as usize];
        id >>= 6;
    }
    String::from_utf8_lossy(&name).into_owned()
}

fn parse_score(s: &[u8]) -> Option<f64> {
    let v: f64 = std::str::from_utf8(s).ok()?.parse().ok()?;
    (!v.is_nan()).then_some(v)
}

/// Listpack or ziplist elements as bytes: strings borrowed from the blob,
/// integers' text written into `arena`.
fn as_bytes<'a>(elems: &[Elem<'a>], arena: &'a mut Vec<u8>) -> Vec<&'a [u8]> {
    let mut buf = itoa::Buffer::new();
    let spans: Vec<Result<&'a [u8], (usize, usize)>> = elems
        .iter()
        .map(|e| match *e {
            Elem::Str(s) => Ok(s),
            Elem::Int(v) => {
                let at = arena.len();
                arena.extend_from_slice(buf.format(v).as_bytes());
                Err((at, arena.len()))
            }
        })
        .collect();
    let arena: &'a Vec<u8> = arena;
    spans
        .into_iter()
        .map(|x| x.unwrap_or_else(|(a, b)| &arena[a..b]))
        .collect()
}

/// A HASH_LISTPACK blob as a compact hash, decoded once into it; None
/// when it is too big to stay compact here (then built by pairs).
fn compact_hash(r: &Reader<'_>, blob: &[u8], at: u64) -> Result<Option<Hash>, Error> {
    let maxv = limit(&LIMITS.hash_max_listpack_value);
    let mut b = LpBuilder::with_capacity(blob.len());
    let mut fits = true;
    let n = listpack::walk(blob, |e| {
        let len = match e {
            Elem::Str(s) => {
                b.push(s);
                s.len()
            }
            Elem::Int(v) => b.push_int(v),
        };
        fits &= len <= maxv;
    })
    .map_err(|_| blob_error(at, "Listpack"))?;
    if n % 2 != 0 {
        return Err(blob_error(at, "Odd element count in a pair"));
    }
    if n == 0 {
        return r.fail("Empty keys skipped");
    }
    if !fits || n / 2 > limit(&LIMITS.hash_max_listpack_entries) {
        return Ok(None);
    }
    let lp = b.finish();
    if !unique(lp.iter().step_by(2)) {
        return r.fail("Duplicate hash fields detected");
    }
    Ok(Some(Hash::Lp(lp)))
}

/// A ZSET_LISTPACK blob as a compact sorted set, decoded once into it
/// (member, then the score's 8 bytes); None when it is too big to stay
/// compact or not in order (then built by pairs, which sorts).
fn compact_zset(r: &Reader<'_>, blob: &[u8], at: u64) -> Result<Option<ZSet>, Error> {
    let maxv = limit(&LIMITS.zset_max_listpack_value);
    let mut b = LpBuilder::with_capacity(blob.len() + blob.len() / 2);
    let (mut fits, mut sorted, mut bad) = (true, true, false);
    let mut member: Option<Elem<'_>> = None;
    let mut prev: Option<(f64, Elem<'_>)> = None;
    let n = listpack::walk(blob, |e| {
        let Some(m) = member.take() else {
            member = Some(e);
            return;
        };
        let s = match e {
            Elem::Int(v) => v as f64,
            Elem::Str(s) => match parse_score(s) {
                Some(v) => v,
                None => {
                    bad = true;
                    return;
                }
            },
        };
        // As ZSet::set: an integral score in a listpack reads back -0 as 0.
        let s = if s == 0.0 { 0.0 } else { s };
        if let Some((ps, pm)) = prev {
            sorted &= ps < s || (ps == s && elem_lt(pm, m));
        }
        prev = Some((s, m));
        let len = match m {
            Elem::Str(t) => {
                b.push(t);
                t.len()
            }
            Elem::Int(v) => b.push_int(v),
        };
        fits &= len <= maxv;
        b.push(&s.to_le_bytes());
    })
    .map_err(|_| blob_error(at, "Listpack"))?;
    if bad {
        return Err(blob_error(at, "Zset score"));
    }
    if n % 2 != 0 {
        return Err(blob_error(at, "Odd element count in a pair"));
    }
    if n == 0 {
        return r.fail("Empty keys skipped");
    }
    if !fits || !sorted || n / 2 > limit(&LIMITS.zset_max_listpack_entries) {
        return Ok(None);
    }
    let lp = b.finish();
    if !unique(lp.iter().step_by(2)) {
        return r.fail("Duplicate zset fields detected");
    }
    Ok(Some(ZSet::Lp(lp)))
}

/// Byte order of two elements' texts (members compare as bytes).
fn elem_lt(a: Elem<'_>, b: Elem<'_>) -> bool {
    let (mut x, mut y) = (itoa::Buffer::new(), itoa::Buffer::new());
    let p: &[u8] = match a {
        Elem::Str(s) => s,
        Elem::Int(v) => x.format(v).as_bytes(),
    };
    let q: &[u8] = match b {
        Elem::Str(s) => s,
        Elem::Int(v) => y.format(v).as_bytes(),
    };
    p < q
}

fn read_list(r: &mut Reader<'_>, t: u8) -> Result<List, Error> {
    const PLAIN: u64 = 1;
    const PACKED: u64 = 2;
    let mut l = List::default();
    let nodes = if t == ty::LIST_ZIPLIST {
        1
    } else {
        r.count(1)?
    };
    for _ in 0..nodes {
        let container = if t == ty::LIST_QUICKLIST_2 {
            r.length()?
        } else {
            PACKED
        };
        let at = r.offset();
        let blob = r.string_cow()?;
        match container {
            PLAIN => l.push(false, &blob),
            PACKED if t == ty::LIST_QUICKLIST_2 => {
                let mut b = LpBuilder::with_capacity(blob.len());
                listpack::walk(&blob, |e| match e {
                    Elem::Str(s) => b.push(s),
                    Elem::Int(v) => {
                        b.push_int(v);
                    }
                })
                .map_err(|_| blob_error(at, "Listpack"))?;
                // An empty node is skipped, as Redis does.
                if !b.is_empty() {
                    l.append_lp(b.finish());
                }
            }
            PACKED => {
                let elems = ziplist::decode(&blob).map_err(|_| blob_error(at, "Ziplist"))?;
                let mut arena = Vec::new();
                l.push_many(&as_bytes(&elems, &mut arena));
            }
            c => return r.fail(format!("Quicklist integrity check failed: container {c}")),
        }
    }
    if l.is_empty() {
        return r.fail("Empty keys skipped");
    }
    Ok(l)
}

/// Fails on a repeated item. Up to 255 items (every small collection
/// at Redis's thresholds), an open-addressing table of item indexes on
/// the stack: a hash set allocated per key was an eighth of a load.
fn unique<'a>(items: impl Iterator<Item = &'a [u8]>) -> bool {
    use std::hash::BuildHasher;
    let v: Vec<&[u8]> = items.collect();
    if v.len() <= 8 {
        return (0..v.len()).all(|i| !v[i + 1..].contains(&v[i]));
    }
    let hasher = foldhash::fast::FixedState::with_seed(0x6d62_6572);
    if v.len() < 256 {
        let mask = (2 * v.len()).next_power_of_two() - 1;
        let mut slots = [0u8; 512];
        for (i, m) in v.iter().enumerate() {
            let mut h = hasher.hash_one(m) as usize & mask;
            loop {
                match slots[h] {
                    0 => {
                        slots[h] = (i + 1) as u8;
                        break;
                    }
                    s if v[s as usize - 1] == *m => return false,
                    _ => h = (h + 1) & mask,
                }
            }
        }
        return true;
    }
    let mut seen = HashSet::with_capacity_and_hasher(v.len(), Default::default());
    v.into_iter().all(|m| seen.insert(m))
}

fn build_set<'a>(
    r: &Reader<'_>,
    items: impl Iterator<Item = &'a [u8]> + Clone,
    n: usize,
) -> Result<Set, Error> {
    if n == 0 {
        return r.fail("Empty keys skipped");
    }
    let ints: Option<Vec<i64>> = items.clone().map(emberkv_core::types::int_member).collect();
    let maxlen = items.clone().map(|m| m.len()).max().unwrap_or(0);
    let set = match ints {
        Some(mut v) if n <= limit(&LIMITS.set_max_intset_entries) => {
            v.sort_unstable();
            if v.windows(2).any(|w| w[0] == w[1]) {
                return r.fail("Duplicate set members detected");
            }
            let mut s = IntSet::new();
            for x in v {
                s.insert(x);
            }
            Set::Int(s)
        }
        _ if n <= limit(&LIMITS.set_max_listpack_entries)
            && maxlen <= limit(&LIMITS.set_max_listpack_value) =>
        {
            if !unique(items.clone()) {
                return r.fail("Duplicate set members detected");
            }
            Set::Lp(Lp::from_elems(items))
        }
        _ => {
            let mut d = Dict::new();
            for m in items {
                if !d.add_key(m) {
                    return r.fail("Duplicate set members detected");
                }
            }
            Set::Dict(Box::new(d))
        }
    };
    Ok(set)
}

fn build_hash(r: &Reader<'_>, pairs: &[(&[u8], &[u8])]) -> Result<Hash, Error> {
    let n = pairs.len();
    if n == 0 {
        return r.fail("Empty keys skipped");
    }
    let maxv = limit(&LIMITS.hash_max_listpack_value);
    let small = n <= limit(&LIMITS.hash_max_listpack_entries)
        && pairs
            .iter()
            .all(|(f, v)| f.len() <= maxv && v.len() <= maxv);
    if small {
        if !unique(pairs.iter().map(|p| p.0)) {
            return r.fail("Duplicate hash fields detected");
        }
        let elems = pairs.iter().flat_map(|&(f, v)| [f, v]);
        return Ok(Hash::Lp(Lp::from_elems(elems)));
    }
    let mut d = Dict::new();
    for (f, v) in pairs {
        if !d.set(f, v) {
            return r.fail("Duplicate hash fields detected");
        }
    }
    Ok(Hash::Dict(Box::new(d)))
}

fn build_zset(r: &Reader<'_>, pairs: &[(&[u8], f64)]) -> Result<ZSet, Error> {
    if pairs.is_empty() {
        return r.fail("Empty keys skipped");
    }
    if pairs.iter().any(|p| p.1.is_nan()) {
        return r.fail("Zset with NAN score detected");
    }
    let maxlen = pairs.iter().map(|p| p.0.len()).max().unwrap_or(0);
    if pairs.len() <= limit(&LIMITS.zset_max_listpack_entries)
        && maxlen <= limit(&LIMITS.zset_max_listpack_value)
    {
        // Small: duplicates by a hash set, then one sort into the listpack.
        if !unique(pairs.iter().map(|p| p.0)) {
            return r.fail("Duplicate zset fields detected");
        }
        return Ok(ZSet::from_distinct_pairs(pairs));
    }
    let mut z = ZSet::with_capacity(pairs.len(), maxlen);
    for (m, s) in pairs {
        if z.set(m, *s).is_some() {
            return r.fail("Duplicate zset fields detected");
        }
    }
    Ok(z)
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
