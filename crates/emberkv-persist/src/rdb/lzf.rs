//! LZF compression (liblzf's format, which Redis reads and writes).
//!
//! Decompression is the `lzf` crate's. Its compressor allocates and zeroes
//! a 512 KiB hash table on every call, which made it two thirds of the
//! time of saving small collections (each listpack is one LZF string).
//! This one keeps a 64 KiB table per thread and never clears it: a stale
//! entry is only a candidate, taken only when the bytes at it match, so the
//! output is valid whatever the table holds.

use std::cell::RefCell;

const HLOG: u32 = 14;
const MAX_OFF: usize = 1 << 13;
const MAX_REF: usize = (1 << 8) + (1 << 3);
const MAX_LIT: usize = 1 << 5;

thread_local! {
    static TABLE: RefCell<Box<[u32]>> = RefCell::new(vec![0u32; 1 << HLOG].into_boxed_slice());
}

#[inline]
fn hash(p: &[u8]) -> usize {
    let v = (p[0] as u32) << 16 | (p[1] as u32) << 8 | p[2] as u32;
    (v.wrapping_mul(2654435761) >> (32 - HLOG)) as usize
}

/// The LZF form of `data` if it is shorter than `max_out` bytes.
pub fn compress(data: &[u8], max_out: usize) -> Option<Vec<u8>> {
    let n = data.len();
    if n < 3 || n > u32::MAX as usize || max_out == 0 {
        return None;
    }
    TABLE.with(|t| {
        let mut t = t.borrow_mut();
        let mut out = Vec::with_capacity(max_out);
        // The control byte of the literal run being written.
        let mut lit_at = 0usize;
        let mut lit = 0usize;
        out.push(0);
        let mut ip = 0usize;
        while ip + 2 < n {
            let h = hash(&data[ip..]);
            let r = t[h] as usize;
            t[h] = ip as u32;
            if r < ip && ip - r - 1 < MAX_OFF && data[r..r + 3] == data[ip..ip + 3] {
                let off = ip - r - 1;
                let max = (n - ip).min(MAX_REF);
                let mut len = 3;
                while len < max && data[r + len] == data[ip + len] {
                    len += 1;
                }
                if lit > 0 {
                    out[lit_at] = (lit - 1) as u8;
                } else {
                    out.pop();
                }
                let l = len - 2;
                if l < 7 {
                    out.push(((l << 5) | (off >> 8)) as u8);
                } else {
                    out.push(((7 << 5) | (off >> 8)) as u8);
                    out.push((l - 7) as u8);
                }
                out.push(off as u8);
                // Positions inside the match feed the table too (better
                // ratios on repetitive data, as liblzf's ultra mode).
                let end = ip + len;
                let mut p = ip + 1;
                while p + 2 < n && p < end {
                    t[hash(&data[p..])] = p as u32;
                    p += 1;
                }
                ip = end;
                lit_at = out.len();
                out.push(0);
                lit = 0;
            } else {
                out.push(data[ip]);
                lit += 1;
                ip += 1;
                if lit == MAX_LIT {
                    out[lit_at] = (MAX_LIT - 1) as u8;
                    lit_at = out.len();
                    out.push(0);
                    lit = 0;
                }
            }
            if out.len() >= max_out {
                return None;
            }
        }
        while ip < n {
            out.push(data[ip]);
            lit += 1;
            ip += 1;
            if lit == MAX_LIT {
                out[lit_at] = (MAX_LIT - 1) as u8;
                lit_at = out.len();
                out.push(0);
                lit = 0;
            }
        }
        if lit > 0 {
            out[lit_at] = (lit - 1) as u8;
        } else {
            out.pop();
        }
        (out.len() < max_out).then_some(out)
    })
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
            if let Some(c) = compress(&data, data.len() + 64) {
                assert_eq!(
                    lzf::decompress(&c, data.len()).unwrap(),
                    data,
                    "case {case}"
                );
            }
        }
        let text = b"the quick brown fox jumps over the lazy dog ".repeat(100);
        let c = compress(&text, text.len()).unwrap();
        assert!(c.len() < text.len() / 10);
        assert_eq!(lzf::decompress(&c, text.len()).unwrap(), text);
        assert_eq!(compress(b"abcdefghijklmnopqrstuvwxyz", 20), None);
    }
}
