//! Redis's ziplist, the blob of RDB values written before 7.0 (lists,
//! hashes and sorted sets in their small encodings, quicklist 1 nodes):
//! read only, since Redis 7 writes listpacks. Header: total bytes, offset
//! of the last entry (u32 LE each), count (u16 LE, 65535: unknown); each
//! entry: the previous entry's length (1 byte, or 0xFE and 4 bytes LE), an
//! encoding, the data; 0xFF ends it. Nothing in a blob from a file is
//! trusted: every length, offset and count is checked.

use crate::listpack::{Elem, Invalid};

const END: u8 = 0xFF;
const HEADER: usize = 10;

/// Checks and decodes every entry of `zl`.
pub fn decode(zl: &[u8]) -> Result<Vec<Elem<'_>>, Invalid> {
    if zl.len() < HEADER + 1 {
        return Err(Invalid(0));
    }
    let u32_at = |p: usize| u32::from_le_bytes(zl[p..p + 4].try_into().expect("4")) as usize;
    let (total, tail) = (u32_at(0), u32_at(4));
    let count = u16::from_le_bytes([zl[8], zl[9]]);
    if total != zl.len() || zl[total - 1] != END {
        return Err(Invalid(0));
    }
    let body = &zl[..total - 1];
    let mut out = Vec::new();
    let (mut p, mut prev, mut last) = (HEADER, 0usize, HEADER);
    while p < body.len() {
        let start = p;
        let need = |n: usize| -> Result<(), Invalid> {
            if start.checked_add(n).is_some_and(|e| e <= body.len()) {
                Ok(())
            } else {
                Err(Invalid(start))
            }
        };
        // The previous entry's length.
        need(1)?;
        let (plen, psize) = if body[p] < 0xFE {
            (body[p] as usize, 1)
        } else if body[p] == 0xFE {
            need(5)?;
            (
                u32::from_le_bytes(body[p + 1..p + 5].try_into().expect("4")) as usize,
                5,
            )
        } else {
            return Err(Invalid(p));
        };
        if plen != prev {
            return Err(Invalid(p));
        }
        p += psize;
        need(psize + 1)?;
        let e = body[p];
        let here = p - start;
        let int = |n: usize| -> Result<i64, Invalid> {
            need(here + 1 + n)?;
            let mut v = [0u8; 8];
            v[..n].copy_from_slice(&body[p + 1..p + 1 + n]);
            let shift = 64 - 8 * n as u32;
            Ok((i64::from_le_bytes(v) << shift) >> shift)
        };
        let (elem, size) = match e >> 6 {
            0 => {
                let n = (e & 0x3f) as usize;
                need(here + 1 + n)?;
                (Elem::Str(&body[p + 1..p + 1 + n]), 1 + n)
            }
            1 => {
                need(here + 2)?;
                let n = (((e & 0x3f) as usize) << 8) | body[p + 1] as usize;
                need(here + 2 + n)?;
                (Elem::Str(&body[p + 2..p + 2 + n]), 2 + n)
            }
            2 => {
                need(here + 5)?;
                let n = u32::from_be_bytes(body[p + 1..p + 5].try_into().expect("4")) as usize;
                need((here + 5).saturating_add(n))?;
                (Elem::Str(&body[p + 5..p + 5 + n]), 5 + n)
            }
            _ => match e {
                0xC0 => (Elem::Int(int(2)?), 3),
                0xD0 => (Elem::Int(int(4)?), 5),
                0xE0 => (Elem::Int(int(8)?), 9),
                0xF0 => (Elem::Int(int(3)?), 4),
                0xFE => (Elem::Int(int(1)?), 2),
                0xF1..=0xFD => (Elem::Int((e & 0x0f) as i64 - 1), 1),
                _ => return Err(Invalid(p)),
            },
        };
        p += size;
        prev = p - start;
        last = start;
        out.push(elem);
    }
    let empty = out.is_empty();
    if (empty && tail != HEADER) || (!empty && tail != last) {
        return Err(Invalid(4));
    }
    if count != u16::MAX && out.len() != count as usize {
        return Err(Invalid(8));
    }
    Ok(out)
}

/// Builds a ziplist, storing integers as integers as Redis 6 did. Not
/// used to write files (Redis 7 writes listpacks): tests hand Redis one to
/// load, and check the decoder against it.
pub fn encode(elems: &[&[u8]]) -> Vec<u8> {
    let mut b = vec![0u8; HEADER];
    let (mut prev, mut last) = (0usize, HEADER);
    for s in elems {
        let start = b.len();
        if prev < 254 {
            b.push(prev as u8);
        } else {
            b.push(0xFE);
            b.extend_from_slice(&(prev as u32).to_le_bytes());
        }
        match crate::rdb::canonical_int(s) {
            Some(v @ 0..=12) => b.push(0xF1 + v as u8),
            Some(v) if i8::try_from(v).is_ok() => b.extend_from_slice(&[0xFE, v as u8]),
            Some(v) if i16::try_from(v).is_ok() => {
                b.push(0xC0);
                b.extend_from_slice(&(v as i16).to_le_bytes());
            }
            Some(v) if (-(1 << 23)..(1 << 23)).contains(&v) => {
                b.push(0xF0);
                b.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
            }
            Some(v) if i32::try_from(v).is_ok() => {
                b.push(0xD0);
                b.extend_from_slice(&(v as i32).to_le_bytes());
            }
            Some(v) => {
                b.push(0xE0);
                b.extend_from_slice(&v.to_le_bytes());
            }
            None if s.len() < 64 => {
                b.push(s.len() as u8);
                b.extend_from_slice(s);
            }
            None if s.len() < 16384 => {
                b.extend_from_slice(&[0x40 | (s.len() >> 8) as u8, s.len() as u8]);
                b.extend_from_slice(s);
            }
            None => {
                b.push(0x80);
                b.extend_from_slice(&(s.len() as u32).to_be_bytes());
                b.extend_from_slice(s);
            }
        }
        prev = b.len() - start;
        last = start;
    }
    b.push(END);
    let total = b.len() as u32;
    b[..4].copy_from_slice(&total.to_le_bytes());
    b[4..8].copy_from_slice(&(last as u32).to_le_bytes());
    let n = elems.len().min(u16::MAX as usize) as u16;
    b[8..10].copy_from_slice(&n.to_le_bytes());
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_encoding_round_trips() {
        let big = vec![b'y'; 300];
        let huge = vec![b'z'; 20000];
        let elems: Vec<&[u8]> = vec![
            b"",
            b"a",
            b"0",
            b"12",
            b"13",
            b"-1",
            b"127",
            b"-128",
            b"300",
            b"-32768",
            b"40000",
            b"-8388608",
            b"8388608",
            b"2147483647",
            b"-2147483649",
            b"9223372036854775807",
            b"007",
            &big,
            &huge,
            b"end",
        ];
        let zl = encode(&elems);
        let got: Vec<Vec<u8>> = decode(&zl).unwrap().iter().map(|e| e.to_vec()).collect();
        let want: Vec<Vec<u8>> = elems.iter().map(|e| e.to_vec()).collect();
        assert_eq!(got, want);
        assert_eq!(decode(&encode(&[])).unwrap(), vec![]);
    }

    #[test]
    fn damaged_blobs_are_refused_not_trusted() {
        let zl = encode(&[b"hello", b"12345", b"x"]);
        for cut in 0..zl.len() {
            assert!(decode(&zl[..cut]).is_err(), "cut at {cut}");
        }
        for i in 0..zl.len() {
            for bit in 0..8 {
                let mut w = zl.clone();
                w[i] ^= 1 << bit;
                let _ = decode(&w);
            }
        }
    }
}
