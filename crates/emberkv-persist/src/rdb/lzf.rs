//! LZF compression (liblzf's format, which Redis reads and writes).
//!
//! Both directions are here (the `lzf` crate is the tests' independent
//! decoder). Its compressor allocates and zeroes
//! a 512 KiB hash table on every call, which made it two thirds of the
//! time of saving small collections (each listpack is one LZF string).
//! This one keeps a 64 KiB table per thread and never clears it, writes
//! literal runs whole and compares matches eight bytes at a time: a stale
//! entry is only a candidate, taken only when the bytes at it match, so the
//! output is valid whatever the table holds.

use std::cell::RefCell;

const HLOG: u32 = 14;
const MAX_OFF: usize = 1 << 13;
const MAX_REF: usize = (1 << 8) + (1 << 3);
const MAX_LIT: usize = 1 << 5;
/// Room past `max_out` for one literal run or one back-reference, so the
/// output bound is checked once per run, not once per byte.
const SLACK: usize = MAX_LIT + 8;

thread_local! {
    static TABLE: RefCell<Box<[u32]>> = RefCell::new(vec![0u32; 1 << HLOG].into_boxed_slice());
}

#[inline(always)]
fn read3(d: &[u8], i: usize) -> u32 {
    (d[i] as u32) << 16 | (d[i + 1] as u32) << 8 | d[i + 2] as u32
}

#[inline(always)]
fn hash(v: u32) -> usize {
    (v.wrapping_mul(2654435761) >> (32 - HLOG)) as usize
}

/// How many leading bytes of `a` and `b` agree, up to `max` (at most
/// `b.len()`, and `a` is at least as long), eight at a time.
#[inline(always)]
fn common(a: &[u8], b: &[u8], max: usize) -> usize {
    let mut i = 0;
    while i + 8 <= max {
        let x = u64::from_le_bytes(a[i..i + 8].try_into().expect("8"))
            ^ u64::from_le_bytes(b[i..i + 8].try_into().expect("8"));
        if x != 0 {
            return i + (x.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < max && a[i] == b[i] {
        i += 1;
    }
    i
}

/// Literal runs of `lits` at `out[*op..]`, 32 bytes at most each.
#[inline(always)]
fn literals(lits: &[u8], out: &mut [u8], op: &mut usize, max_out: usize) -> bool {
    for run in lits.chunks(MAX_LIT) {
        out[*op] = (run.len() - 1) as u8;
        out[*op + 1..*op + 1 + run.len()].copy_from_slice(run);
        *op += 1 + run.len();
        if *op >= max_out {
            return false;
        }
    }
    true
}

/// Writes the LZF form of `data` into `out` (replacing what it held) if
/// it is shorter than `max_out` bytes; false otherwise.
pub fn compress(data: &[u8], max_out: usize, out: &mut Vec<u8>) -> bool {
    let n = data.len();
    if n < 3 || n > u32::MAX as usize || max_out == 0 {
        return false;
    }
    out.clear();
    out.resize(max_out + SLACK, 0);
    let buf = &mut out[..];
    let op = TABLE.with(|t| {
        let t = &mut *t.borrow_mut();
        let mut op = 0usize;
        let mut lit = 0usize; // start of the literals not yet written
        let mut ip = 0usize;
        while ip + 2 < n {
            let v = read3(data, ip);
            let h = hash(v);
            let r = t[h] as usize;
            t[h] = ip as u32;
            if r < ip && ip - r - 1 < MAX_OFF && read3(data, r) == v {
                if !literals(&data[lit..ip], buf, &mut op, max_out) {
                    return None;
                }
                let off = ip - r - 1;
                let max = (n - ip).min(MAX_REF);
                let len = 3 + common(&data[r + 3..], &data[ip + 3..], max - 3);
                let l = len - 2;
                if l < 7 {
                    buf[op] = ((l << 5) | (off >> 8)) as u8;
                    op += 1;
                } else {
                    buf[op] = ((7 << 5) | (off >> 8)) as u8;
                    buf[op + 1] = (l - 7) as u8;
                    op += 2;
                }
                buf[op] = off as u8;
                op += 1;
                if op >= max_out {
                    return None;
                }
                ip += len;
                lit = ip;
                // The last two positions of the match feed the table, as
                // liblzf's default mode (every position, its ultra mode,
                // cost more than it gained on listpacks).
                for p in ip.saturating_sub(2)..ip {
                    if p + 2 < n {
                        t[hash(read3(data, p))] = p as u32;
                    }
                }
            } else {
                ip += 1;
            }
        }
        if !literals(&data[lit..], buf, &mut op, max_out) {
            return None;
        }
        Some(op)
    });
    match op {
        Some(op) if op < max_out => {
            out.truncate(op);
            true
        }
        _ => false,
    }
}

/// Expands LZF `src` into exactly `len` bytes; None on any inconsistency
/// (a reference before the start, a run past either end, a different
/// length). Literal runs and non-overlapping references are block
/// copies (the crate's decoder went byte by byte: a fifth of a
/// collection load).
pub fn decompress(src: &[u8], len: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(len);
    let mut ip = 0;
    while ip < src.len() {
        let ctrl = src[ip] as usize;
        ip += 1;
        if ctrl < MAX_LIT {
            let n = ctrl + 1;
            let lit = src.get(ip..ip + n)?;
            if out.len() + n > len {
                return None;
            }
            out.extend_from_slice(lit);
            ip += n;
        } else {
            let mut n = ctrl >> 5;
            if n == 7 {
                n += *src.get(ip)? as usize;
                ip += 1;
            }
            n += 2;
            let back = ((ctrl & 0x1f) << 8) + *src.get(ip)? as usize + 1;
            ip += 1;
            if back > out.len() || out.len() + n > len {
                return None;
            }
            let start = out.len() - back;
            if back >= n {
                out.extend_from_within(start..start + n);
            } else {
                // Overlapping: the run repeats what it is writing.
                for i in start..start + n {
                    let b = out[i];
                    out.push(b);
                }
            }
        }
    }
    (out.len() == len).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_the_crate_decompressor() {
        let mut seed = 1u64;
        let mut rnd = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for case in 0..400 {
            let len = (rnd() % 5000) as usize + 3;
            let alphabet = [2u64, 4, 16, 256][case % 4];
            let data: Vec<u8> = (0..len)
                .map(|i| {
                    if case % 5 == 0 {
                        (i % 7) as u8
                    } else {
                        (rnd() % alphabet) as u8
                    }
                })
                .collect();
            let mut c = Vec::new();
            if compress(&data, data.len() + 64, &mut c) {
                assert_eq!(
                    lzf::decompress(&c, data.len()).unwrap(),
                    data,
                    "case {case}"
                );
                assert_eq!(decompress(&c, data.len()).unwrap(), data, "case {case}");
                assert_eq!(decompress(&c, data.len() - 1), None);
                assert_eq!(decompress(&c, data.len() + 1), None);
                assert_eq!(decompress(&c[..c.len() - 1], data.len()), None);
            }
        }
        let text = b"the quick brown fox jumps over the lazy dog ".repeat(100);
        let mut c = Vec::new();
        assert!(compress(&text, text.len(), &mut c));
        assert!(c.len() < text.len() / 10);
        assert_eq!(lzf::decompress(&c, text.len()).unwrap(), text);
        assert!(!compress(b"abcdefghijklmnopqrstuvwxyz", 20, &mut c));
        // A reference before the start, a literal run past the end.
        assert_eq!(decompress(&[0x20, 0x05], 3), None);
        assert_eq!(decompress(&[0x04, b'a'], 5), None);
        assert_eq!(
            decompress(&[0x00, b'a', 0xE0, 0x01, 0x00], 11),
            Some(b"a".repeat(11))
        );
    }
}
