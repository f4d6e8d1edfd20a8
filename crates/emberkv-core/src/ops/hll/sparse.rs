//! The sparse encoding: a run-length list of opcodes after the header.
//!
//! - ZERO `00xxxxxx`: 1..=64 registers at 0;
//! - XZERO `01xxxxxx yyyyyyyy`: 1..=16384 registers at 0 (14 bits);
//! - VAL `1vvvvvxx`: 1..=4 registers at the value 1..=32.
//!
//! Values come from clients (SET of any bytes), so every walk is bounded
//! by the value's length and every register index is checked; an XZERO
//! whose second byte is missing reads it as 0, as Redis reads the string's
//! terminator there.

use super::{dense, format, Corrupt, DENSE_SIZE, HDR, REGISTERS};

const XZERO_BIT: u8 = 0x40;
const VAL_BIT: u8 = 0x80;
pub const VAL_MAX_VALUE: u8 = 32;
const VAL_MAX_LEN: usize = 4;
const ZERO_MAX_LEN: usize = 64;

/// One opcode: what it covers and how many bytes it takes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Op {
    Zero(usize),
    XZero(usize),
    /// (value, run)
    Val(u8, usize),
}

impl Op {
    #[inline]
    fn span(self) -> usize {
        match self {
            Op::Zero(n) | Op::XZero(n) | Op::Val(_, n) => n,
        }
    }
    #[inline]
    fn bytes(self) -> usize {
        if let Op::XZero(_) = self {
            2
        } else {
            1
        }
    }
}

/// The opcode at `p` (which must be inside `v`).
#[inline]
pub fn op_at(v: &[u8], p: usize) -> Op {
    let b = v[p];
    if b & 0xc0 == 0 {
        Op::Zero((b & 0x3f) as usize + 1)
    } else if b & VAL_BIT != 0 {
        Op::Val(((b >> 2) & 0x1f) + 1, (b & 3) as usize + 1)
    } else {
        let lo = v.get(p + 1).copied().unwrap_or(0) as usize;
        Op::XZero((((b & 0x3f) as usize) << 8 | lo) + 1)
    }
}

#[inline]
fn val(value: u8, run: usize) -> u8 {
    ((value - 1) << 2 | (run as u8 - 1)) | VAL_BIT
}

#[inline]
fn zero(run: usize) -> u8 {
    (run - 1) as u8
}

#[inline]
pub fn xzero(run: usize) -> [u8; 2] {
    let l = run - 1;
    [(l >> 8) as u8 | XZERO_BIT, (l & 0xff) as u8]
}

/// The opcodes of a sparse value's body, in order.
fn ops(v: &[u8]) -> impl Iterator<Item = Op> + '_ {
    let mut p = HDR;
    std::iter::from_fn(move || {
        if p >= v.len() {
            return None;
        }
        let op = op_at(v, p);
        p += op.bytes();
        Some(op)
    })
}

/// The dense value with the same registers (and header: the cached
/// cardinality is kept), or None if the opcodes do not cover exactly the
/// 16384 registers.
pub fn to_dense(v: &[u8]) -> Option<Vec<u8>> {
    let mut d = vec![0u8; DENSE_SIZE];
    d[..HDR].copy_from_slice(&v[..HDR]);
    d[4] = format::DENSE;
    let regs = &mut d[HDR..];
    let mut idx = 0usize;
    for op in ops(v) {
        match op {
            Op::Zero(n) | Op::XZero(n) => idx += n,
            Op::Val(value, n) => {
                if idx + n > REGISTERS {
                    return None;
                }
                for i in idx..idx + n {
                    dense::set(regs, i, value);
                }
                idx += n;
            }
        }
    }
    (idx == REGISTERS).then_some(d)
}

/// Adds the histogram of the registers to `hist`; false if the opcodes do
/// not cover exactly the 16384 registers.
pub fn histogram(v: &[u8], hist: &mut [u32; 64]) -> bool {
    let mut idx = 0usize;
    for op in ops(v) {
        let (value, n) = match op {
            Op::Zero(n) | Op::XZero(n) => (0, n),
            Op::Val(value, n) => (value, n),
        };
        idx += n;
        let h = &mut hist[value as usize];
        *h = h.wrapping_add(n as u32);
    }
    idx == REGISTERS
}

/// max[i] = MAX(max[i], register i); false if the value is corrupt.
pub fn merge_into(max: &mut [u8; REGISTERS], v: &[u8]) -> bool {
    let mut i = 0usize;
    for op in ops(v) {
        match op {
            Op::Zero(n) | Op::XZero(n) => i += n,
            Op::Val(value, n) => {
                if i + n > REGISTERS {
                    return false;
                }
                for m in &mut max[i..i + n] {
                    *m = (*m).max(value);
                }
                i += n;
            }
        }
    }
    i == REGISTERS
}

/// PFDEBUG DECODE's text: `z:N` (ZERO), `Z:N` (XZERO), `v:value,run`.
pub fn decode(v: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    for op in ops(v) {
        let _ = match op {
            Op::Zero(n) => write!(s, "z:{n} "),
            Op::XZero(n) => write!(s, "Z:{n} "),
            Op::Val(value, n) => write!(s, "v:{value},{n} "),
        };
    }
    s.trim_matches(' ').to_string()
}

/// Raises register `index` to `count` if it is lower, in Redis's steps, so
/// the bytes come out as redis-server's: find the opcode covering it,
/// rewrite it in place or split it (ZERO/XZERO -> [ZERO|XZERO] VAL
/// [ZERO|XZERO], VAL -> [VAL] VAL [VAL]), then merge equal adjacent VALs
/// over the next five opcodes. A value too big for VAL, or a split that
/// would grow the value past `max_bytes`, turns the value dense first.
/// Ok(changed); Err if the opcodes end before the register.
pub fn set(v: &mut Vec<u8>, index: usize, count: u8, max_bytes: usize) -> Result<bool, Corrupt> {
    if count > VAL_MAX_VALUE {
        return promote(v, index, count);
    }
    let end = v.len();
    let (mut p, mut first, mut prev) = (HDR, 0usize, None);
    let mut found = None;
    while p < end {
        let op = op_at(v, p);
        if index < first + op.span() {
            found = Some(op);
            break;
        }
        prev = Some(p);
        p += op.bytes();
        first += op.span();
    }
    let Some(op) = found else {
        return Err(Corrupt);
    };
    let next = (p + op.bytes() < end).then_some(p + op.bytes());
    let span = op.span();
    match op {
        Op::Val(old, _) if old >= count => return Ok(false),
        Op::Val(_, 1) | Op::Zero(1) => {
            v[p] = val(count, 1);
            finish(v, prev);
            return Ok(true);
        }
        _ => {}
    }
    let last = first + span - 1;
    let mut seq = Seq::default();
    match op {
        Op::Zero(_) | Op::XZero(_) => {
            if index != first {
                seq.zeros(index - first);
            }
            seq.push(val(count, 1));
            if index != last {
                seq.zeros(last - index);
            }
        }
        Op::Val(cur, _) => {
            if index != first {
                seq.push(val(cur, index - first));
            }
            seq.push(val(count, 1));
            if index != last {
                seq.push(val(cur, last - index));
            }
        }
    }
    let seqlen = seq.n;
    let delta = seqlen as isize - op.bytes() as isize;
    if delta > 0 && v.len() + delta as usize > max_bytes {
        return promote(v, index, count);
    }
    // Splice the sequence in for the opcode; the length moves by exactly
    // `delta` (an XZERO cut short at the end loses its last new byte, as
    // in Redis, whose string length moves by delta too).
    let new_len = (end as isize + delta) as usize;
    v.splice(p..next.unwrap_or(end), seq.b[..seqlen].iter().copied());
    v.truncate(new_len);
    finish(v, prev);
    Ok(true)
}

/// The opcodes replacing a split one: XZERO VAL XZERO at most.
#[derive(Default)]
struct Seq {
    b: [u8; 5],
    n: usize,
}

impl Seq {
    fn push(&mut self, b: u8) {
        self.b[self.n] = b;
        self.n += 1;
    }
    fn zeros(&mut self, len: usize) {
        if len > ZERO_MAX_LEN {
            let x = xzero(len);
            self.push(x[0]);
            self.push(x[1]);
        } else {
            self.push(zero(len));
        }
    }
}

/// Merges equal adjacent VAL opcodes (runs up to 4) over at most five
/// opcodes from `prev` (the opcode before the one just changed), and marks
/// the cached cardinality stale.
fn finish(v: &mut Vec<u8>, prev: Option<usize>) {
    let mut p = prev.unwrap_or(HDR);
    let mut scan = 5;
    while p < v.len() && scan > 0 {
        scan -= 1;
        match op_at(v, p) {
            Op::XZero(_) => p += 2,
            Op::Zero(_) => p += 1,
            Op::Val(v1, l1) => {
                if p + 1 < v.len() {
                    if let Op::Val(v2, l2) = op_at(v, p + 1) {
                        if v1 == v2 && l1 + l2 <= VAL_MAX_LEN {
                            v[p + 1] = val(v1, l1 + l2);
                            v.remove(p);
                            // Try the merged opcode with the next one.
                            continue;
                        }
                    }
                }
                p += 1;
            }
        }
    }
    format::invalidate(v);
}

/// Converts to dense, then raises the register there.
fn promote(v: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, Corrupt> {
    let mut d = to_dense(v).ok_or(Corrupt)?;
    let changed = dense::raise(&mut d[HDR..], index, count);
    debug_assert!(changed, "a promotion always raises its register");
    *v = d;
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(v: &[u8]) -> String {
        decode(v)
    }

    #[test]
    fn splits_and_merges_like_redis() {
        let mut v = format::empty();
        assert_eq!(decoded(&v), "Z:16384");
        assert_eq!(set(&mut v, 1000, 2, 3000), Ok(true));
        assert_eq!(decoded(&v), "Z:1000 v:2,1 Z:15383");
        assert_eq!(set(&mut v, 1001, 2, 3000), Ok(true));
        assert_eq!(decoded(&v), "Z:1000 v:2,2 Z:15382");
        assert_eq!(set(&mut v, 1001, 1, 3000), Ok(false));
        assert_eq!(set(&mut v, 0, 32, 3000), Ok(true));
        assert_eq!(decoded(&v), "v:32,1 Z:999 v:2,2 Z:15382");
        assert_eq!(set(&mut v, 16383, 3, 3000), Ok(true));
        assert_eq!(decoded(&v), "v:32,1 Z:999 v:2,2 Z:15381 v:3,1");
        assert_eq!(set(&mut v, 1003, 1, 3000), Ok(true));
        assert_eq!(decoded(&v), "v:32,1 Z:999 v:2,2 z:1 v:1,1 Z:15379 v:3,1");
        assert_eq!(set(&mut v, 1002, 2, 3000), Ok(true));
        assert_eq!(decoded(&v), "v:32,1 Z:999 v:2,3 v:1,1 Z:15379 v:3,1");
        let mut hist = [0u32; 64];
        assert!(histogram(&v, &mut hist));
        assert_eq!(
            (hist[0], hist[1], hist[2], hist[3], hist[32]),
            (16378, 1, 3, 1, 1)
        );
        let d = to_dense(&v).unwrap();
        assert_eq!(dense::get(&d[HDR..], 1002), 2);
        assert_eq!(dense::get(&d[HDR..], 16383), 3);
    }

    #[test]
    fn big_values_and_size_promote() {
        let mut v = format::empty();
        assert_eq!(set(&mut v, 5, 33, 3000), Ok(true));
        assert_eq!(v[4], format::DENSE);
        assert_eq!(v.len(), DENSE_SIZE);
        let mut v = format::empty();
        assert_eq!(set(&mut v, 5000, 3, 20), Ok(true));
        assert_eq!(v[4], format::DENSE, "18 + 3 bytes > 20");
    }

    #[test]
    fn corrupt_values_are_refused_not_read_past() {
        let mut short = format::empty();
        short.truncate(HDR + 1); // an XZERO without its second byte
        assert_eq!(op_at(&short, HDR), Op::XZero(0x3f00 + 1));
        assert!(to_dense(&short).is_none());
        assert!(!histogram(&short, &mut [0; 64]));
        assert!(!merge_into(&mut [0; REGISTERS], &short));
        let mut v = format::empty();
        v.truncate(HDR);
        assert_eq!(set(&mut v, 3, 1, 3000), Err(Corrupt));
        let mut v = format::empty();
        v.push(0x00); // one register too many
        assert!(to_dense(&v).is_none());
        assert!(!merge_into(&mut [0; REGISTERS], &v));
        let mut v = format::empty();
        v.push(0x80);
        assert!(to_dense(&v).is_none());
        assert!(!merge_into(&mut [0; REGISTERS], &v));
        assert!(!histogram(&v, &mut [0; 64]));
    }
}
