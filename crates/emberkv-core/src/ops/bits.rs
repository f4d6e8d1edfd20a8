//! The bitmap family's data operations (SETBIT, GETBIT, BITCOUNT, BITPOS,
//! BITOP, BITFIELD) over string values, with Redis 7.0's index rules.
//! Bit 0 is the most significant bit of the first byte. Counting,
//! searching and combining go eight bytes at a time (u64 popcount and
//! leading-zero counts); only the edges of a range are handled by byte.

use super::{At, OpError};
use crate::store::entry::{EntryPtr, F_RAW, T_STRING};
use crate::store::{EntryRef, Table};

/// The unit of a BITCOUNT / BITPOS range.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Unit {
    Byte,
    Bit,
}

#[inline]
fn word(b: &[u8]) -> u64 {
    u64::from_be_bytes(b.try_into().expect("8 bytes"))
}

/// The number of set bits in `b`.
pub fn popcount(b: &[u8]) -> u64 {
    // The baseline x86-64 target has no POPCNT instruction (count_ones is
    // then a dozen shifts and masks per word): use it when the CPU has it,
    // as Redis does.
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("popcnt") {
        // SAFETY: the CPU supports POPCNT (checked just above).
        return unsafe { popcount_popcnt(b) };
    }
    popcount_words(b)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt")]
unsafe fn popcount_popcnt(b: &[u8]) -> u64 {
    popcount_words(b)
}

#[inline(always)]
fn popcount_words(b: &[u8]) -> u64 {
    // Four independent sums, so the popcounts do not wait on each other.
    let mut blocks = b.chunks_exact(32);
    let mut c = [0u64; 4];
    for blk in &mut blocks {
        for (i, s) in c.iter_mut().enumerate() {
            *s += word(&blk[i * 8..i * 8 + 8]).count_ones() as u64;
        }
    }
    let mut n: u64 = c.iter().sum();
    let mut words = blocks.remainder().chunks_exact(8);
    for w in &mut words {
        n += word(w).count_ones() as u64;
    }
    n + words
        .remainder()
        .iter()
        .map(|x| x.count_ones() as u64)
        .sum::<u64>()
}

/// Resolves a BITCOUNT / BITPOS range over a value of `len` bytes, Redis's
/// way (negative indexes count from the end, then both are clamped), to
/// an inclusive range of bit positions; None when it is empty.
fn bit_range(len: usize, start: i64, end: i64, unit: Unit) -> Option<(u64, u64)> {
    let mut total = len as i64;
    if unit == Unit::Bit {
        total <<= 3;
    }
    // `total` is at most 2^61, so neither sum overflows.
    let s = (if start < 0 { total + start } else { start }).max(0);
    let e = (if end < 0 { total + end } else { end }).max(0);
    let e = e.min(total - 1);
    if s > e {
        return None;
    }
    let (s, e) = (s as u64, e as u64);
    Some(match unit {
        Unit::Byte => (s * 8, e * 8 + 7),
        Unit::Bit => (s, e),
    })
}

/// Mask of the bits of a byte at and after bit `i` (0 = most significant).
#[inline]
fn from_bit(i: u64) -> u8 {
    0xff >> (i & 7)
}

/// Mask of the bits of a byte up to and including bit `i`.
#[inline]
fn to_bit(i: u64) -> u8 {
    0xff << (7 - (i & 7))
}

/// BITCOUNT: the set bits of `v`, or of `range` (start, end, unit) in it.
pub fn bitcount(v: &[u8], range: Option<(i64, i64, Unit)>) -> u64 {
    let Some((start, end, unit)) = range else {
        return popcount(v);
    };
    // Redis answers 0 here before clamping (BITPOS has no such rule).
    if start < 0 && end < 0 && start > end {
        return 0;
    }
    let Some((f, l)) = bit_range(v.len(), start, end, unit) else {
        return 0;
    };
    let (fb, lb) = ((f >> 3) as usize, (l >> 3) as usize);
    let outside = (v[fb] & !from_bit(f)).count_ones() + (v[lb] & !to_bit(l)).count_ones();
    popcount(&v[fb..=lb]) - outside as u64
}

/// The position of the first set bit in `b` (after XOR with `flip` in every
/// byte, so the same scan finds clear bits), bit 0 being the first.
fn first_one(b: &[u8], flip: u8) -> Option<u64> {
    let flipw = u64::from_ne_bytes([flip; 8]);
    let mut words = b.chunks_exact(8);
    for (i, w) in (&mut words).enumerate() {
        let x = word(w) ^ flipw;
        if x != 0 {
            return Some(i as u64 * 64 + x.leading_zeros() as u64);
        }
    }
    let base = (b.len() / 8) as u64 * 64;
    words
        .remainder()
        .iter()
        .position(|&x| x != flip)
        .map(|i| base + i as u64 * 8 + (words.remainder()[i] ^ flip).leading_zeros() as u64)
}

/// The first bit equal to `bit` among bit positions `f..=l` of `v`.
fn find_bit(v: &[u8], f: u64, l: u64, bit: bool) -> Option<u64> {
    let flip = if bit { 0 } else { 0xff };
    let (fb, lb) = ((f >> 3) as usize, (l >> 3) as usize);
    let at = |i: usize, mask: u8| {
        let x = (v[i] ^ flip) & mask;
        (x != 0).then(|| i as u64 * 8 + x.leading_zeros() as u64)
    };
    if fb == lb {
        return at(fb, from_bit(f) & to_bit(l));
    }
    at(fb, from_bit(f))
        .or_else(|| first_one(&v[fb + 1..lb], flip).map(|p| (fb as u64 + 1) * 8 + p))
        .or_else(|| at(lb, to_bit(l)))
}

/// BITPOS on an existing value. Without an end, the value counts as
/// followed by zeros, so a search for 0 that finds none answers the first
/// bit past the range; with one it answers -1, as does a search for 1.
pub fn bitpos(v: &[u8], bit: bool, start: Option<i64>, end: Option<i64>, unit: Unit) -> i64 {
    let Some((f, l)) = bit_range(v.len(), start.unwrap_or(0), end.unwrap_or(-1), unit) else {
        return -1;
    };
    match find_bit(v, f, l, bit) {
        Some(p) => p as i64,
        None if bit || end.is_some() => -1,
        None => l as i64 + 1,
    }
}

/// GETBIT: the bit at `off` (0 past the end).
pub fn getbit(v: &[u8], off: u64) -> bool {
    let byte = off >> 3;
    byte < v.len() as u64 && v[byte as usize] & (0x80 >> (off & 7)) != 0
}

/// The operator of BITOP.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

/// `acc op= src` over their common length, a word at a time.
fn combine(acc: &mut [u8], src: &[u8], f: impl Fn(u64, u64) -> u64) {
    let n = acc.len().min(src.len());
    let (acc, src) = (&mut acc[..n], &src[..n]);
    let mut dst = acc.chunks_exact_mut(8);
    let mut from = src.chunks_exact(8);
    for (x, y) in (&mut dst).zip(&mut from) {
        let l = u64::from_ne_bytes((&*x).try_into().expect("8 bytes"));
        let r = u64::from_ne_bytes(y.try_into().expect("8 bytes"));
        x.copy_from_slice(&f(l, r).to_ne_bytes());
    }
    for (x, &y) in dst.into_remainder().iter_mut().zip(from.remainder()) {
        *x = f(*x as u64, y as u64) as u8;
    }
}

/// A BITOP in progress: sources are folded in one at a time, each read
/// once, so the caller can take them from the keyspace one by one. Missing
/// keys fold in as empty strings; shorter sources count as zero-padded.
pub struct BitOpAcc {
    op: BitOp,
    res: Vec<u8>,
    first: bool,
}

impl BitOpAcc {
    pub fn new(op: BitOp) -> Self {
        BitOpAcc {
            op,
            res: Vec::new(),
            first: true,
        }
    }

    pub fn add(&mut self, src: &[u8]) {
        let r = &mut self.res;
        if std::mem::take(&mut self.first) {
            r.extend_from_slice(src);
            if self.op == BitOp::Not {
                combine(r, src, |_, y| !y);
            }
            return;
        }
        let common = r.len().min(src.len());
        match self.op {
            BitOp::And => {
                combine(r, src, |x, y| x & y);
                // Past the end of the shorter one the other is ANDed with 0.
                r[common..].fill(0);
                r.resize(r.len().max(src.len()), 0);
            }
            BitOp::Or | BitOp::Xor => {
                let f: fn(u64, u64) -> u64 = if self.op == BitOp::Or {
                    |x, y| x | y
                } else {
                    |x, y| x ^ y
                };
                combine(r, src, f);
                r.extend_from_slice(&src[common..]);
            }
            // NOT has exactly one source (the command checks).
            BitOp::Not => {}
        }
    }

    /// The result: empty when every source was.
    pub fn finish(self) -> Vec<u8> {
        self.res
    }
}

/// A BITFIELD integer type: i1..i64 or u1..u63.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Field {
    pub signed: bool,
    pub bits: u32,
}

/// BITFIELD's OVERFLOW behaviours.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Overflow {
    Wrap,
    Sat,
    Fail,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FieldOp {
    Get,
    Set(i64),
    IncrBy(i64),
}

/// One BITFIELD operation, with the OVERFLOW in force where it stood.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct BitfieldOp {
    pub op: FieldOp,
    pub field: Field,
    pub offset: u64,
    pub overflow: Overflow,
}

/// The `bits`-bit unsigned field at bit `off` of `v`, zero-padded past
/// the end. A field spans at most 9 bytes, read as one 128-bit word.
pub fn get_field(v: &[u8], off: u64, bits: u32) -> u64 {
    let byte = off >> 3;
    let mut w = [0u8; 16];
    if byte < v.len() as u64 {
        let b = byte as usize;
        let n = (v.len() - b).min(9);
        w[..n].copy_from_slice(&v[b..b + n]);
    }
    ((u128::from_be_bytes(w) << (off & 7)) >> (128 - bits)) as u64
}

/// Writes the low `bits` bits of `val` at bit `off` of `v`, which covers
/// them.
pub fn set_field(v: &mut [u8], off: u64, bits: u32, val: u64) {
    let (first, last) = ((off >> 3) as usize, ((off + bits as u64 - 1) >> 3) as usize);
    let n = last - first + 1;
    let mut w = [0u8; 16];
    w[..n].copy_from_slice(&v[first..=last]);
    let at = 128 - bits - (off & 7) as u32;
    let ones = (1u128 << bits) - 1;
    let x = (u128::from_be_bytes(w) & !(ones << at)) | ((val as u128 & ones) << at);
    v[first..=last].copy_from_slice(&x.to_be_bytes()[..n]);
}

/// Sign-extends the low `bits` bits of `u`.
#[inline]
fn sign_extend(u: u64, bits: u32) -> i64 {
    let sh = 64 - bits;
    ((u << sh) as i64) >> sh
}

/// Stores `n` in the field under `ow`: the value to store (as the field's
/// bits, sign-extended when signed), or None for an overflow under FAIL.
fn fit(f: Field, n: i128, ow: Overflow) -> Option<i64> {
    let (min, max) = if f.signed {
        (-(1i128 << (f.bits - 1)), (1i128 << (f.bits - 1)) - 1)
    } else {
        (0, (1i128 << f.bits) - 1)
    };
    if (min..=max).contains(&n) {
        return Some(n as i64);
    }
    match ow {
        Overflow::Fail => None,
        Overflow::Sat => Some((if n > max { max } else { min }) as i64),
        Overflow::Wrap if f.signed => Some(sign_extend(n as u64, f.bits)),
        Overflow::Wrap => Some((n as u64 & max as u64) as i64),
    }
}

/// What one BITFIELD operation does to a value: its reply (None for a
/// FAIL overflow), and the field value to write back, if any.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Applied {
    pub reply: Option<i64>,
    pub write: Option<u64>,
    pub changed: bool,
}

/// Evaluates `op` against the value `v` (zero-padded).
pub fn eval_field(v: &[u8], op: &BitfieldOp) -> Applied {
    let f = op.field;
    let raw = get_field(v, op.offset, f.bits);
    let old = if f.signed {
        sign_extend(raw, f.bits)
    } else {
        raw as i64
    };
    let new = match op.op {
        FieldOp::Get => {
            return Applied {
                reply: Some(old),
                write: None,
                changed: false,
            }
        }
        // An unsigned SET value is taken as its 64-bit pattern, as Redis
        // does: -1 overflows a u8 (to 255 under WRAP and SAT alike).
        FieldOp::Set(x) if !f.signed => fit(f, x as u64 as i128, op.overflow),
        FieldOp::Set(x) => fit(f, x as i128, op.overflow),
        FieldOp::IncrBy(d) => fit(f, old as i128 + d as i128, op.overflow),
    };
    let Some(new) = new else {
        return Applied {
            reply: None,
            write: None,
            changed: false,
        };
    };
    Applied {
        reply: Some(if matches!(op.op, FieldOp::Set(_)) {
            old
        } else {
            new
        }),
        write: Some(new as u64),
        changed: new != old,
    }
}

/// The string at `at.key` for a bit write: created, or zero-padded, to
/// hold `bytes` bytes, and marked raw (Redis unshares it whatever
/// follows). Returns the entry and whether it was created or grown.
pub fn write_target<'t>(
    t: &'t mut Table,
    at: At<'_>,
    bytes: usize,
) -> Result<(EntryRef<'t>, bool), OpError> {
    let len = match t.lookup(at.h, at.key, at.now) {
        Some(e) if e.kind() != T_STRING => return Err(OpError::WrongType),
        Some(e) => Some(e.str_value().len()),
        None => None,
    };
    let grew = match len {
        None => {
            let zeros = vec![0u8; bytes];
            t.insert(
                at.h,
                EntryPtr::new_string(at.key, &zeros, None, F_RAW, at.lru),
            );
            true
        }
        Some(len) if len < bytes => {
            let f = t.find_mut(at.h, at.key).expect("looked up above");
            f.replace_with(|old| old.append_str(&vec![0u8; bytes - len], F_RAW));
            true
        }
        Some(_) => false,
    };
    let e = t.find(at.h, at.key).expect("present");
    // SAFETY: the entry is owned by `t`, borrowed for 't.
    let e = unsafe { EntryRef::from_raw(e.raw()) };
    e.set_lru(at.lru);
    e.write_str_at(0, &[], F_RAW);
    Ok((e, grew))
}

/// Writes a field into the entry's value in place (through a 9-byte
/// window: the value is never copied whole).
fn write_field(e: EntryRef<'_>, off: u64, bits: u32, val: u64) {
    let first = (off >> 3) as usize;
    let last = ((off + bits as u64 - 1) >> 3) as usize;
    let mut w = [0u8; 9];
    let n = last - first + 1;
    w[..n].copy_from_slice(&e.str_value()[first..=last]);
    set_field(&mut w[..n], off & 7, bits, val);
    e.write_str_at(first, &w[..n], F_RAW);
}

/// SETBIT: the previous bit, and whether the value changed (it grew, or
/// the bit differed): Redis notifies and counts only then.
pub fn setbit(t: &mut Table, at: At<'_>, off: u64, on: bool) -> Result<(bool, bool), OpError> {
    let (e, grew) = write_target(t, at, (off >> 3) as usize + 1)?;
    let old = getbit(e.str_value(), off);
    if old != on {
        write_field(e, off, 1, on as u64);
    }
    Ok((old, grew || old != on))
}

/// Runs one BITFIELD operation on an entry from [`write_target`] (which
/// made room for every write of the command): its reply, and whether it
/// counts as a change (Redis counts every write once the value grew).
pub fn apply_field(e: EntryRef<'_>, op: &BitfieldOp, grew: bool) -> (Option<i64>, bool) {
    let a = eval_field(e.str_value(), op);
    match a.write {
        Some(v) => {
            write_field(e, op.offset, op.field.bits, v);
            (a.reply, grew || a.changed)
        }
        None => (a.reply, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::KeyHasher;

    /// Bit by bit, the definitions the word-at-a-time code must agree with.
    fn bit(v: &[u8], i: u64) -> bool {
        v[(i / 8) as usize] & (0x80 >> (i % 8)) != 0
    }

    fn sample(seed: u64, len: usize) -> Vec<u8> {
        let mut x = seed | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Runs of 0x00 and 0xff too, so the word skips are taken.
                match x % 5 {
                    0 => 0,
                    1 => 0xff,
                    _ => (x >> 8) as u8,
                }
            })
            .collect()
    }

    #[test]
    fn popcount_matches_bit_by_bit() {
        for len in [0, 1, 7, 8, 9, 31, 32, 33, 100, 257] {
            let v = sample(len as u64 + 3, len);
            let want = (0..len as u64 * 8).filter(|&i| bit(&v, i)).count() as u64;
            assert_eq!(popcount(&v), want, "len {len}");
        }
    }

    #[test]
    fn bitcount_ranges() {
        let v = b"foobar";
        assert_eq!(bitcount(v, None), 26);
        assert_eq!(bitcount(v, Some((0, 0, Unit::Byte))), 4);
        assert_eq!(bitcount(v, Some((1, 1, Unit::Byte))), 6);
        assert_eq!(bitcount(v, Some((5, 30, Unit::Bit))), 17);
        assert_eq!(bitcount(v, Some((-1, -2, Unit::Byte))), 0);
        assert_eq!(bitcount(v, Some((-100, -200, Unit::Byte))), 0);
        assert_eq!(bitcount(v, Some((-100, 100, Unit::Byte))), 26);
        assert_eq!(bitcount(b"", Some((0, -1, Unit::Bit))), 0);
        let v = sample(9, 70);
        for (s, e) in [(0, 559), (3, 200), (9, 9), (63, 64), (-10, -1), (100, 5)] {
            let (lo, hi) = (s.max(0) as u64, (e as u64).min(559));
            let want = if s < 0 {
                (560 - 10..560).filter(|&i| bit(&v, i)).count()
            } else {
                (lo..=hi).filter(|&i| bit(&v, i)).count()
            };
            assert_eq!(
                bitcount(&v, Some((s, e, Unit::Bit))),
                want as u64,
                "{s} {e}"
            );
        }
    }

    #[test]
    fn bitpos_matches_a_linear_scan() {
        let all_ones = [0xffu8; 3];
        assert_eq!(bitpos(&all_ones, false, None, None, Unit::Byte), 24);
        assert_eq!(bitpos(&all_ones, false, Some(1), None, Unit::Byte), 24);
        assert_eq!(bitpos(&all_ones, false, Some(1), Some(-1), Unit::Byte), -1);
        assert_eq!(bitpos(&all_ones, false, Some(10), None, Unit::Byte), -1);
        assert_eq!(bitpos(&all_ones, true, Some(3), Some(20), Unit::Bit), 3);
        assert_eq!(bitpos(&[0u8; 5], true, None, None, Unit::Byte), -1);
        assert_eq!(bitpos(b"", false, None, None, Unit::Byte), -1);
        assert_eq!(
            bitpos(b"\x40\x01", true, Some(-100), Some(-200), Unit::Byte),
            1
        );
        assert_eq!(
            bitpos(b"\x00\x01", true, Some(-100), Some(-200), Unit::Byte),
            -1
        );
        for len in [1usize, 8, 17, 40] {
            let v = sample(len as u64, len);
            let n = len as u64 * 8;
            for b in [false, true] {
                for (s, e) in [(0, n - 1), (1, n / 2), (5, 5), (7, n - 2), (n / 3, n - 1)] {
                    let want = (s..=e).find(|&i| bit(&v, i) == b).map_or(-1, |p| p as i64);
                    let got = bitpos(&v, b, Some(s as i64), Some(e as i64), Unit::Bit);
                    assert_eq!(got, want, "len {len} bit {b} {s}..={e}");
                }
            }
        }
    }

    #[test]
    fn bitop_folds_padded_sources() {
        let run = |op, srcs: &[&[u8]]| {
            let mut a = BitOpAcc::new(op);
            for s in srcs {
                a.add(s);
            }
            a.finish()
        };
        let long = sample(5, 21);
        let short = sample(6, 10);
        for op in [BitOp::And, BitOp::Or, BitOp::Xor] {
            let got = run(op, &[&short, &long, b""]);
            let want: Vec<u8> = (0..21)
                .map(|i| {
                    let (a, b, c) = (*short.get(i).unwrap_or(&0), long[i], 0u8);
                    match op {
                        BitOp::And => a & b & c,
                        BitOp::Or => a | b | c,
                        _ => a ^ b ^ c,
                    }
                })
                .collect();
            assert_eq!(got, want, "{op:?}");
        }
        let not = run(BitOp::Not, &[&long]);
        assert_eq!(not, long.iter().map(|b| !b).collect::<Vec<_>>());
        assert!(run(BitOp::And, &[b"", b""]).is_empty());
    }

    #[test]
    fn fields_read_and_write_at_any_alignment() {
        let mut v = vec![0u8; 12];
        for (off, bits, val) in [
            (0u64, 8u32, 0xabu64),
            (3, 5, 23),
            (7, 64, u64::MAX - 5),
            (13, 1, 1),
        ] {
            set_field(&mut v, off, bits, val);
            let mask = if bits == 64 {
                u64::MAX
            } else {
                (1 << bits) - 1
            };
            assert_eq!(get_field(&v, off, bits), val & mask, "{off} {bits}");
        }
        // Redis's own example: u5 23 at offset 7 of zeros.
        let mut v = vec![0u8; 2];
        set_field(&mut v, 7, 5, 23);
        assert_eq!(v, [0b0000_0001, 0b0111_0000]);
        assert_eq!(get_field(b"\xff", 4, 8), 0xf0, "zero-padded past the end");
        assert_eq!(get_field(b"\xff", 1000, 8), 0);
    }

    #[test]
    fn overflow_behaviours() {
        let u8f = Field {
            signed: false,
            bits: 8,
        };
        let i8f = Field {
            signed: true,
            bits: 8,
        };
        let i64f = Field {
            signed: true,
            bits: 64,
        };
        assert_eq!(fit(u8f, 256, Overflow::Wrap), Some(0));
        assert_eq!(fit(u8f, -1, Overflow::Wrap), Some(255));
        assert_eq!(fit(u8f, 300, Overflow::Sat), Some(255));
        assert_eq!(fit(u8f, -5, Overflow::Sat), Some(0));
        assert_eq!(fit(u8f, 256, Overflow::Fail), None);
        assert_eq!(fit(i8f, 128, Overflow::Wrap), Some(-128));
        assert_eq!(fit(i8f, -129, Overflow::Wrap), Some(127));
        assert_eq!(fit(i8f, 1000, Overflow::Sat), Some(127));
        assert_eq!(fit(i8f, -1000, Overflow::Sat), Some(-128));
        let big = i64::MAX as i128 + 1;
        assert_eq!(fit(i64f, big, Overflow::Wrap), Some(i64::MIN));
        assert_eq!(fit(i64f, big, Overflow::Sat), Some(i64::MAX));
        let set = |x| BitfieldOp {
            op: FieldOp::Set(x),
            field: u8f,
            offset: 0,
            overflow: Overflow::Sat,
        };
        // An unsigned SET of -1 is 2^64 - 1: saturated to 255.
        assert_eq!(eval_field(b"\x05", &set(-1)).write, Some(255));
        assert_eq!(eval_field(b"\x05", &set(-1)).reply, Some(5));
    }

    #[test]
    fn setbit_grows_and_reports_changes() {
        let hs = KeyHasher::new(4);
        let mut t = Table::new(hs);
        let at = At {
            h: hs.hash(b"b"),
            key: b"b",
            now: 0,
            lru: 0,
        };
        assert_eq!(setbit(&mut t, at, 10, false), Ok((false, true)), "created");
        assert_eq!(setbit(&mut t, at, 10, false), Ok((false, false)));
        assert_eq!(setbit(&mut t, at, 10, true), Ok((false, true)));
        assert_eq!(setbit(&mut t, at, 23, false), Ok((false, true)), "grown");
        let e = t.find(at.h, at.key).unwrap();
        assert_eq!(e.str_value(), b"\x00\x20\x00");
        assert_eq!(e.flags() & F_RAW, F_RAW);
        let ops = [
            BitfieldOp {
                op: FieldOp::IncrBy(300),
                field: Field {
                    signed: false,
                    bits: 8,
                },
                offset: 8,
                overflow: Overflow::Fail,
            },
            BitfieldOp {
                op: FieldOp::Set(-1),
                field: Field {
                    signed: true,
                    bits: 4,
                },
                offset: 28,
                overflow: Overflow::Wrap,
            },
        ];
        let (e, grew) = write_target(&mut t, at, 4).unwrap();
        assert!(grew);
        assert_eq!(apply_field(e, &ops[0], grew), (None, false));
        assert_eq!(apply_field(e, &ops[1], grew), (Some(0), true));
        let e = t.find(at.h, at.key).unwrap();
        assert_eq!(e.str_value(), b"\x00\x20\x00\x0f");
    }
}
