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

type Table = [u32; 1 << HLOG];

thread_local! {
    static TABLE: RefCell<Box<Table>> = RefCell::new(Box::new([0u32; 1 << HLOG]));
}

/// The three bytes at `i` (one 4-byte load where there is room for it).
#[inline(always)]
fn load3(d: &[u8], i: usize) -> u32 {
    match d.get(i..i + 4) {
        Some(b) => u32::from_le_bytes(b.try_into().expect("4")) & 0xFF_FFFF,
        None => u32::from_le_bytes([d[i], d[i + 1], d[i + 2], 0]),
    }
}

/// A table slot for `v`, below 2^`bits` (`bits` ≤ HLOG, so indexing the
/// table needs no bounds check).
#[inline(always)]
fn hash(v: u32, bits: u32) -> usize {
    (v.wrapping_mul(2654435761) >> (32 - bits)) as usize & ((1 << HLOG) - 1)
}

/// Table bits for an input of `n` bytes: about two slots a position up
/// to the whole table. A listpack of a few KiB then uses a 16 KiB corner
/// of the table, which stays in the L1 cache (the whole 64 KiB did not,
/// and every position's lookup waited on L2).
#[inline]
fn table_bits(n: usize) -> u32 {
    (usize::BITS - n.leading_zeros() + 1).clamp(8, HLOG)
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

/// Literal runs of `data[from..to]` at `out[*op..]`, 32 bytes at most
/// each. A run is moved as a fixed 32 bytes where `data` has them (runs
/// are mostly a few bytes: a memcpy call each cost more than the move);
/// what lands past the run is overwritten next or cut off at the end.
#[inline(always)]
fn literals(
    data: &[u8],
    from: usize,
    to: usize,
    out: &mut [u8],
    op: &mut usize,
    max_out: usize,
) -> bool {
    let mut at = from;
    while at < to {
        let n = (to - at).min(MAX_LIT);
        out[*op] = (n - 1) as u8;
        match data.get(at..at + MAX_LIT) {
            Some(run) => out[*op + 1..*op + 1 + MAX_LIT].copy_from_slice(run),
            None => out[*op + 1..*op + 1 + n].copy_from_slice(&data[at..at + n]),
        }
        *op += 1 + n;
        at += n;
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
    let op = TABLE.with(|t| compress_into(data, &mut out[..], max_out, &mut t.borrow_mut()));
    match op {
        Some(op) if op < max_out => {
            out.truncate(op);
            true
        }
        _ => false,
    }
}

/// The compressor proper, over a table it owns for the call (so the
/// table's address stays in a register) and an output with `SLACK` room
/// past `max_out`.
fn compress_into(data: &[u8], buf: &mut [u8], max_out: usize, t: &mut Table) -> Option<usize> {
    let n = data.len();
    let bits = table_bits(n);
    let mut op = 0usize;
    let mut lit = 0usize; // start of the literals not yet written
    let mut ip = 0usize;
    while ip + 2 < n {
        let v = load3(data, ip);
        let h = hash(v, bits);
        let r = t[h] as usize;
        t[h] = ip as u32;
        if r < ip && ip - r - 1 < MAX_OFF && load3(data, r) == v {
            if !literals(data, lit, ip, buf, &mut op, max_out) {
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
            if ip + 2 < n {
                let p = ip - 1;
                t[hash(load3(data, p), bits)] = p as u32;
            }
        } else {
            ip += 1;
        }
    }
    if !literals(data, lit, n, buf, &mut op, max_out) {
        return None;
    }
    Some(op)
}

/// Expands LZF `src` into exactly `len` bytes; None on any inconsistency
/// (a reference before the start, a run past either end, a different
/// length). Copies go in fixed-size pieces into a buffer with room past
/// `len` (a literal run as one 32-byte move, a reference 8 bytes at a time
/// when it starts 8 or more back), so a short run costs no memcpy call:
/// byte-sized and exact copies were a fifth of a collection load. What a
/// piece writes past its run is overwritten by the next before anything
/// reads it, since a reference reads only what is already final.
pub fn decompress(src: &[u8], len: usize) -> Option<Vec<u8>> {
    const ROOM: usize = MAX_LIT;
    let mut out = vec![0u8; len + ROOM];
    let mut op = 0;
    let mut ip = 0;
    while ip < src.len() {
        let ctrl = src[ip] as usize;
        ip += 1;
        if ctrl < MAX_LIT {
            let n = ctrl + 1;
            if ip + n > src.len() || op + n > len {
                return None;
            }
            if ip + ROOM <= src.len() {
                out[op..op + ROOM].copy_from_slice(&src[ip..ip + ROOM]);
            } else {
                out[op..op + n].copy_from_slice(&src[ip..ip + n]);
            }
            op += n;
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
            if back > op || op + n > len {
                return None;
            }
            let mut from = op - back;
            let end = op + n;
            if back >= 8 {
                // Ends at most 7 bytes past `end`, within the room.
                while op < end {
                    let v: [u8; 8] = out[from..from + 8].try_into().expect("8");
                    out[op..op + 8].copy_from_slice(&v);
                    from += 8;
                    op += 8;
                }
                op = end;
            } else {
                // Overlapping: the run repeats what it is writing.
                while op < end {
                    out[op] = out[from];
                    from += 1;
                    op += 1;
                }
            }
        }
    }
    if op != len {
        return None;
    }
    out.truncate(len);
    Some(out)
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
            // The crate's compressor (liblzf's ultra mode) picks other
            // references: ours reads them back too.
            if let Ok(c) = lzf::compress(&data) {
                assert_eq!(decompress(&c, data.len()).unwrap(), data, "case {case}");
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
