//! Writing one keyspace value as Redis 7.0 does (`rdbSaveObject`): the
//! type byte, then the value in the RDB encoding Redis would pick for it.
//! emberkv's own compact forms are re-packed into Redis's blobs (listpack,
//! intset); a compact set of strings, which 7.0 cannot hold, is written as
//! a plain set.

use super::stream::write_stream;
use crate::listpack::Builder;
use crate::rdb::{ty, Writer};
use emberkv_core::store::entry::T_STRING;
use emberkv_core::store::EntryRef;
use emberkv_core::types::set::Member;
use emberkv_core::types::{Hash, List, Lp, Obj, ObjGuard, Set, ZSet};
use std::io::{self, Write};

/// Writes the type byte, `key` (in a file; a DUMP payload has none) and
/// the value of `e`.
pub fn write_value<W: Write>(
    w: &mut Writer<W>,
    e: EntryRef<'_>,
    key: Option<&[u8]>,
) -> io::Result<()> {
    if e.kind() == T_STRING {
        head(w, ty::STRING, key)?;
        return w.string(e.str_value());
    }
    // Only read through the guard: it writes nothing back (the pointer and
    // encoding do not change), so a snapshot's read leaves the entry as is.
    let g = ObjGuard::new(e);
    match &*g {
        Obj::List(l) => write_list(w, l, key),
        Obj::Hash(h) => write_hash(w, h, key),
        Obj::Set(s) => write_set(w, s, key),
        Obj::ZSet(z) => write_zset(w, z, key),
        Obj::Stream(s) => {
            head(w, ty::STREAM_LISTPACKS_2, key)?;
            write_stream(w, s)
        }
    }
}

/// The type byte, then the key when there is one (Redis's order).
fn head<W: Write>(w: &mut Writer<W>, t: u8, key: Option<&[u8]>) -> io::Result<()> {
    w.u8(t)?;
    match key {
        Some(k) => w.string(k),
        None => Ok(()),
    }
}

/// Redis's listpack of the elements of `l`, as its `lpAppend` packs them.
fn listpack(l: &Lp) -> Vec<u8> {
    let mut b = Builder::with_capacity(lp_capacity(l));
    for e in l.iter() {
        b.push(e);
    }
    b.finish()
}

/// Bytes that hold Redis's listpack of `l` in all but rare cases: an
/// element's encoding and backlen take one byte each more than our
/// length prefix for short strings, a few more for long ones.
fn lp_capacity(l: &Lp) -> usize {
    l.bytes() + 2 * l.len() + 16
}

/// QUICKLIST_2: one packed node per node here.
fn write_list<W: Write>(w: &mut Writer<W>, l: &List, key: Option<&[u8]>) -> io::Result<()> {
    const PACKED: u64 = 2;
    head(w, ty::LIST_QUICKLIST_2, key)?;
    let node = |w: &mut Writer<W>, n: &Lp| -> io::Result<()> {
        w.length(PACKED)?;
        w.string(&listpack(n))
    };
    match l {
        List::Lp(n) => {
            w.length(1)?;
            node(w, n)
        }
        List::Quick(q) => {
            let nodes: Vec<&Lp> = q.nodes().filter(|n| !n.is_empty()).collect();
            w.length(nodes.len() as u64)?;
            nodes.into_iter().try_for_each(|n| node(w, n))
        }
    }
}

fn write_hash<W: Write>(w: &mut Writer<W>, h: &Hash, key: Option<&[u8]>) -> io::Result<()> {
    match h {
        Hash::Lp(l) => {
            head(w, ty::HASH_LISTPACK, key)?;
            w.string(&listpack(l))
        }
        Hash::Dict(d) => {
            head(w, ty::HASH, key)?;
            w.length(d.len() as u64)?;
            d.iter().try_for_each(|(f, v)| {
                w.string(f)?;
                w.string(v)
            })
        }
    }
}

fn write_set<W: Write>(w: &mut Writer<W>, s: &Set, key: Option<&[u8]>) -> io::Result<()> {
    match s {
        Set::Int(i) => {
            head(w, ty::SET_INTSET, key)?;
            let v: Vec<i64> = i.iter().collect();
            w.string(&crate::intset::encode(&v))
        }
        _ => {
            head(w, ty::SET, key)?;
            w.length(s.len() as u64)?;
            let mut res = Ok(());
            s.for_each(|m| {
                if res.is_ok() {
                    res = match m {
                        Member::Int(v) => w.int_string(v),
                        Member::Bytes(b) => w.string(b),
                    };
                }
            });
            res
        }
    }
}

fn write_zset<W: Write>(w: &mut Writer<W>, z: &ZSet, key: Option<&[u8]>) -> io::Result<()> {
    match z {
        ZSet::Lp(l) => {
            head(w, ty::ZSET_LISTPACK, key)?;
            let mut b = Builder::with_capacity(lp_capacity(l));
            z.walk_up(0, |m, s| {
                b.push(m);
                // An integral score is the integer d2string would print
                // (and the builder would parse back): no text on the way.
                if s == 0.0 {
                    b.push(d2string(s).as_bytes()); // "0" or "-0", as Redis
                } else if is_listpack_int(s) {
                    b.push_int(s as i64);
                } else {
                    // d2string's %.17g, byte for byte (a DUMP payload is
                    // Redis's), without the slow exact formatter when the
                    // score is a short decimal.
                    // Through `push`: beyond 2^52 an integral score's
                    // %.17g is an integer's text, which a listpack keeps
                    // as an integer.
                    let mut t = ScoreText::default();
                    b.push(t.format(s));
                }
                true
            });
            w.string(&b.finish())
        }
        ZSet::Tree(_) => {
            // Highest score first, as Redis (its loader then inserts each
            // element at the head of the skiplist).
            head(w, ty::ZSET_2, key)?;
            w.length(z.len() as u64)?;
            let mut res = Ok(());
            z.walk(0, z.len().saturating_sub(1), true, |m, s| {
                res = w.string(m).and_then(|_| w.double(s));
                res.is_ok()
            });
            res
        }
    }
}

/// The text of a non-integral score in a listpack, exactly as d2string's
/// `%.17g`. A score that is exactly `m / 10^k` for k <= 4 (1.5, 0.25:
/// the product by 10^k is exact, which the fused multiply-add shows by a
/// zero remainder) has that decimal as its full expansion: %.17g prints
/// it as is, fixed-point, with no trailing zeros (k is the smallest that
/// works). Others go through the exact formatter (a sixth of a
/// collection save when every score did).
#[derive(Default)]
struct ScoreText {
    buf: [u8; 32],
    slow: String,
}

impl ScoreText {
    fn format(&mut self, s: f64) -> &[u8] {
        const POW: [f64; 5] = [1.0, 10.0, 100.0, 1000.0, 10000.0];
        for (k, &p) in POW.iter().enumerate().skip(1) {
            let m = (s * p).round();
            if m != 0.0 && m.abs() < 9.0e15 && s.mul_add(p, -m) == 0.0 {
                return self.decimal(m as i64, k);
            }
        }
        self.slow = d2string(s);
        self.slow.as_bytes()
    }

    /// `m / 10^k` as text, with at least one digit before the point.
    fn decimal(&mut self, m: i64, k: usize) -> &[u8] {
        let mut digits = itoa::Buffer::new();
        let d = digits.format(m.unsigned_abs()).as_bytes();
        let mut n = 0;
        if m < 0 {
            self.buf[0] = b'-';
            n = 1;
        }
        let int_len = d.len().saturating_sub(k);
        if int_len == 0 {
            self.buf[n] = b'0';
            n += 1;
        } else {
            self.buf[n..n + int_len].copy_from_slice(&d[..int_len]);
            n += int_len;
        }
        self.buf[n] = b'.';
        n += 1;
        for _ in d.len()..k {
            self.buf[n] = b'0';
            n += 1;
        }
        let frac = &d[int_len..];
        self.buf[n..n + frac.len()].copy_from_slice(frac);
        n += frac.len();
        &self.buf[..n]
    }
}

/// Integral and within 2^52: d2string's integer case.
fn is_listpack_int(v: f64) -> bool {
    v > -4_503_599_627_370_495.0 && v < 4_503_599_627_370_496.0 && v == (v as i64) as f64
}

/// A score as Redis 7.0's `d2string` writes it into a listpack: integral
/// values within 2^52 as integers, others as `%.17g`.
pub fn d2string(v: f64) -> String {
    if v == 0.0 {
        return emberkv_protocol::format_double(v); // "0" or "-0"
    }
    if is_listpack_int(v) {
        return (v as i64).to_string();
    }
    emberkv_protocol::format_double(v)
}

#[cfg(test)]
mod tests {
    use super::{d2string, ScoreText};

    #[test]
    fn score_text_is_d2string() {
        let mut seed = 7u64;
        let mut cases = vec![
            1.5,
            -1.5,
            0.25,
            -0.0625,
            0.1,
            0.3,
            12.34,
            -0.001,
            1e-5,
            1e300,
            -2.5e-300,
            0.5e-4,
            1.0e-4,
            123456789.125,
            4503599627370495.5,
        ];
        for _ in 0..20000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let k = (seed % 5) as i32;
            cases.push((seed >> 20) as f64 / 10f64.powi(k) - 1e6);
            cases.push((seed >> 40) as f64 / [2.0, 4.0, 8.0, 16.0, 32.0][k as usize]);
            cases.push(f64::from_bits(seed >> 2));
        }
        for s in cases {
            if !s.is_finite() || s == s.trunc() {
                continue;
            }
            let mut t = ScoreText::default();
            assert_eq!(t.format(s), d2string(s).as_bytes(), "{s:e}");
        }
        let mut t = ScoreText::default();
        assert_eq!(t.format(1.5), b"1.5");
        assert_eq!(t.format(-0.0625), b"-0.0625");
        assert_eq!(t.format(0.1), b"0.10000000000000001");
    }
}
