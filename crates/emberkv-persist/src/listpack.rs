//! Redis's listpack, the blob inside RDB values of the listpack and
//! quicklist types: a 6-byte header (total bytes, element count, both
//! little-endian), elements, and 0xFF. An element is its encoding (small
//! integers and short strings in the first byte), its data, and its
//! "backlen" (the length of the two, 7 bits a byte, read right to left).
//! Integers are stored as integers when a string is an integer's
//! canonical text, as Redis does, so the bytes match Redis's.

use crate::rdb::canonical_int;

/// The element count of a listpack with 65535 or more elements.
const COUNT_UNKNOWN: u16 = u16::MAX;
const END: u8 = 0xFF;

/// A listpack being built.
pub struct Builder {
    buf: Vec<u8>,
    count: usize,
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

impl Builder {
    pub fn new() -> Self {
        Self::with_capacity(64)
    }

    /// A builder whose buffer holds `bytes` without growing (a snapshot
    /// builds one per collection: growth by doubling was a tenth of it).
    pub fn with_capacity(bytes: usize) -> Self {
        let mut buf = Vec::with_capacity(bytes.max(7));
        buf.extend_from_slice(&[0; 6]);
        Builder { buf, count: 0 }
    }

    /// Appends an element given as bytes (stored as an integer when it is
    /// one).
    #[inline]
    pub fn push(&mut self, s: &[u8]) {
        // Only a digit or a minus sign can start an integer's text.
        if let Some(&c) = s.first() {
            if (c.is_ascii_digit() || c == b'-') && s.len() <= 20 {
                if let Some(v) = canonical_int(s) {
                    return self.push_int(v);
                }
            }
        }
        self.push_str(s)
    }

    pub fn push_int(&mut self, v: i64) {
        let start = self.buf.len();
        let b = &mut self.buf;
        if (0..=127).contains(&v) {
            b.push(v as u8);
        } else if (-4096..=4095).contains(&v) {
            let u = (v as u64 & 0x1fff) as u16;
            b.extend_from_slice(&[0xC0 | (u >> 8) as u8, u as u8]);
        } else if i16::try_from(v).is_ok() {
            b.push(0xF1);
            b.extend_from_slice(&(v as i16).to_le_bytes());
        } else if (-(1 << 23)..(1 << 23)).contains(&v) {
            b.push(0xF2);
            b.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
        } else if i32::try_from(v).is_ok() {
            b.push(0xF3);
            b.extend_from_slice(&(v as i32).to_le_bytes());
        } else {
            b.push(0xF4);
            b.extend_from_slice(&v.to_le_bytes());
        }
        self.backlen(start);
    }

    #[inline]
    pub fn push_str(&mut self, s: &[u8]) {
        let n = s.len();
        if n < 64 {
            // The common element: encoding byte, data, and a one-byte
            // backlen (1 + n < 128), with one capacity check.
            self.buf.reserve(34);
            self.buf.push(0x80 | n as u8);
            crate::rdb::append(&mut self.buf, s);
            self.buf.push(n as u8 + 1);
            self.count += 1;
            return;
        }
        self.push_long_str(s)
    }

    fn push_long_str(&mut self, s: &[u8]) {
        let start = self.buf.len();
        let b = &mut self.buf;
        let n = s.len();
        if n < 4096 {
            b.extend_from_slice(&[0xE0 | (n >> 8) as u8, n as u8]);
        } else {
            b.push(0xF0);
            b.extend_from_slice(&(n as u32).to_le_bytes());
        }
        b.extend_from_slice(s);
        self.backlen(start);
    }

    /// Appends the backlen of the element that started at `start`.
    #[inline]
    fn backlen(&mut self, start: usize) {
        let l = (self.buf.len() - start) as u64;
        if l < 128 {
            self.buf.push(l as u8);
            self.count += 1;
            return;
        }
        self.long_backlen(l)
    }

    fn long_backlen(&mut self, l: u64) {
        let b = &mut self.buf;
        match l {
            0..=127 => b.push(l as u8),
            128..=16383 => b.extend_from_slice(&[(l >> 7) as u8, (l & 127) as u8 | 128]),
            16384..=2097151 => b.extend_from_slice(&[
                (l >> 14) as u8,
                ((l >> 7) & 127) as u8 | 128,
                (l & 127) as u8 | 128,
            ]),
            2097152..=268435455 => b.extend_from_slice(&[
                (l >> 21) as u8,
                ((l >> 14) & 127) as u8 | 128,
                ((l >> 7) & 127) as u8 | 128,
                (l & 127) as u8 | 128,
            ]),
            _ => b.extend_from_slice(&[
                (l >> 28) as u8,
                ((l >> 21) & 127) as u8 | 128,
                ((l >> 14) & 127) as u8 | 128,
                ((l >> 7) & 127) as u8 | 128,
                (l & 127) as u8 | 128,
            ]),
        }
        self.count += 1;
    }

    /// The finished bytes.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(END);
        let total = self.buf.len() as u32;
        self.buf[..4].copy_from_slice(&total.to_le_bytes());
        let count = if self.count < COUNT_UNKNOWN as usize {
            self.count as u16
        } else {
            COUNT_UNKNOWN
        };
        self.buf[4..6].copy_from_slice(&count.to_le_bytes());
        self.buf
    }
}

/// An element read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Elem<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl Elem<'_> {
    /// The element as bytes (integers as their text).
    pub fn to_vec(&self) -> Vec<u8> {
        match self {
            Elem::Int(v) => v.to_string().into_bytes(),
            Elem::Str(s) => s.to_vec(),
        }
    }
}

/// Why a blob is not a valid listpack (the offset is within the blob).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub usize);

/// Checks and decodes every element of `lp` (a blob read from a file,
/// so nothing in it is trusted: sizes, backlens, the count, the end).
pub fn decode(lp: &[u8]) -> Result<Vec<Elem<'_>>, Invalid> {
    let mut out = Vec::with_capacity(lp.get(4..6).map_or(0, |c| {
        let c = u16::from_le_bytes([c[0], c[1]]);
        if c == COUNT_UNKNOWN {
            0
        } else {
            c as usize
        }
    }));
    walk(lp, |e| out.push(e))?;
    Ok(out)
}

/// Checks `lp` as `decode` does, handing each element to `f` in order
/// (a loader builds its value from them with no list in between; on an
/// error it drops what it built); the element count.
pub fn walk<'a>(lp: &'a [u8], mut f: impl FnMut(Elem<'a>)) -> Result<usize, Invalid> {
    if lp.len() < 7 {
        return Err(Invalid(0));
    }
    let total = u32::from_le_bytes(lp[..4].try_into().expect("4")) as usize;
    let count = u16::from_le_bytes(lp[4..6].try_into().expect("2"));
    if total != lp.len() || lp[total - 1] != END {
        return Err(Invalid(0));
    }
    let body = &lp[..total - 1];
    let mut seen = 0usize;
    let mut p = 6;
    while p < body.len() {
        let start = p;
        let need = |n: usize| -> Result<(), Invalid> {
            if start + n > body.len() {
                Err(Invalid(start))
            } else {
                Ok(())
            }
        };
        let b = body[p];
        let (elem, len) = if b & 0x80 == 0 {
            (Elem::Int(b as i64), 1)
        } else if b & 0xC0 == 0x80 {
            let n = (b & 0x3f) as usize;
            need(1 + n)?;
            (Elem::Str(&body[p + 1..p + 1 + n]), 1 + n)
        } else if b & 0xE0 == 0xC0 {
            need(2)?;
            let u = (((b & 0x1f) as u16) << 8) | body[p + 1] as u16;
            // Sign-extend 13 bits.
            (Elem::Int(((u << 3) as i16 >> 3) as i64), 2)
        } else if b & 0xF0 == 0xE0 {
            need(2)?;
            let n = (((b & 0x0f) as usize) << 8) | body[p + 1] as usize;
            need(2 + n)?;
            (Elem::Str(&body[p + 2..p + 2 + n]), 2 + n)
        } else {
            let int = |n: usize| -> Result<i64, Invalid> {
                need(1 + n)?;
                let mut v = [0u8; 8];
                v[..n].copy_from_slice(&body[p + 1..p + 1 + n]);
                // Sign-extend from n bytes.
                let shift = 64 - 8 * n as u32;
                Ok((i64::from_le_bytes(v) << shift) >> shift)
            };
            match b {
                0xF1 => (Elem::Int(int(2)?), 3),
                0xF2 => (Elem::Int(int(3)?), 4),
                0xF3 => (Elem::Int(int(4)?), 5),
                0xF4 => (Elem::Int(int(8)?), 9),
                0xF0 => {
                    need(5)?;
                    let n = u32::from_le_bytes(body[p + 1..p + 5].try_into().expect("4")) as usize;
                    need(5usize.saturating_add(n))?;
                    (Elem::Str(&body[p + 5..p + 5 + n]), 5 + n)
                }
                _ => return Err(Invalid(p)),
            }
        };
        p += len;
        // The backlen must say `len` (one byte, itself, below 128).
        if len < 128 {
            need(len + 1)?;
            if body[p] as usize != len {
                return Err(Invalid(p));
            }
            p += 1;
        } else {
            let bl = backlen_size(len as u64);
            need(len + bl)?;
            if read_backlen(&body[p..p + bl]) != Some(len as u64) {
                return Err(Invalid(p));
            }
            p += bl;
        }
        f(elem);
        seen += 1;
    }
    if count != COUNT_UNKNOWN && seen != count as usize {
        return Err(Invalid(4));
    }
    Ok(seen)
}

fn backlen_size(l: u64) -> usize {
    match l {
        0..=127 => 1,
        128..=16383 => 2,
        16384..=2097151 => 3,
        2097152..=268435455 => 4,
        _ => 5,
    }
}

/// Reads a backlen stored left to right in `b` (its first byte has no
/// continuation bit; the others have it).
fn read_backlen(b: &[u8]) -> Option<u64> {
    let mut v = 0u64;
    for (i, &x) in b.iter().enumerate() {
        let cont = x & 128 != 0;
        if cont != (i > 0) {
            return None;
        }
        v = (v << 7) | (x & 127) as u64;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_listpacks_have_redis_bytes() {
        // As Redis 7.0.15's DEBUG LISTPACK / DUMP show them: RPUSH l a 1
        // -5000 300000 "" with a 70-byte string.
        let mut b = Builder::new();
        b.push(b"a");
        b.push(b"1");
        b.push(b"-5000");
        b.push(b"300000");
        b.push(b"");
        let v = b.finish();
        assert_eq!(
            v,
            [
                &[23u8, 0, 0, 0, 5, 0][..],
                &[0x81, b'a', 2],
                &[0x01, 1],
                &[0xF1, 0x78, 0xEC, 3],
                &[0xF2, 0xE0, 0x93, 0x04, 4],
                &[0x80, 1],
                &[0xFF],
            ]
            .concat()
        );
        assert_eq!(
            decode(&v).unwrap(),
            [
                Elem::Str(b"a"),
                Elem::Int(1),
                Elem::Int(-5000),
                Elem::Int(300000),
                Elem::Str(b"")
            ]
        );
    }

    #[test]
    fn every_width_round_trips() {
        let ints = [
            0i64,
            127,
            128,
            -1,
            -4096,
            4095,
            4096,
            -4097,
            32767,
            -32768,
            32768,
            8388607,
            -8388608,
            8388608,
            i32::MAX as i64,
            i32::MIN as i64,
            i64::MAX,
            i64::MIN,
        ];
        let strs: Vec<Vec<u8>> = [0usize, 1, 63, 64, 4095, 4096, 70000]
            .iter()
            .map(|&n| vec![b'x'; n])
            .collect();
        let mut b = Builder::new();
        for &i in &ints {
            b.push_int(i);
        }
        for s in &strs {
            b.push_str(s);
        }
        let v = b.finish();
        let e = decode(&v).unwrap();
        assert_eq!(e.len(), ints.len() + strs.len());
        for (i, &want) in ints.iter().enumerate() {
            assert_eq!(e[i], Elem::Int(want));
        }
        for (j, s) in strs.iter().enumerate() {
            assert_eq!(e[ints.len() + j], Elem::Str(s));
        }
    }

    #[test]
    fn damaged_blobs_are_refused_not_trusted() {
        let mut b = Builder::new();
        b.push(b"hello");
        b.push(b"12345");
        let v = b.finish();
        for cut in 0..v.len() {
            assert!(decode(&v[..cut]).is_err(), "cut at {cut}");
        }
        for i in 0..v.len() {
            for bit in 0..8 {
                let mut w = v.clone();
                w[i] ^= 1 << bit;
                // Never a panic; a flip is either refused or a different
                // valid listpack.
                let _ = decode(&w);
            }
        }
    }
}
