//! The dense encoding: 16384 registers of 6 bits, packed from each byte's
//! least significant bit up (register 0 is byte 0's low 6 bits, register 1
//! byte 0's top 2 bits and byte 1's low 4, ...).

use super::{BITS, REGISTERS};

const MAX: u8 = (1 << BITS) - 1;

/// Register `i` of `regs` (the 12288 bytes after the header). A byte past
/// the end reads as 0, as the terminator Redis's strings carry.
#[inline]
pub fn get(regs: &[u8], i: usize) -> u8 {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let b0 = regs[byte] as u16;
    let b1 = regs.get(byte + 1).copied().unwrap_or(0) as u16;
    (((b0 >> fb) | (b1 << (8 - fb))) & MAX as u16) as u8
}

/// Sets register `i` to `v` (at most 63).
#[inline]
pub fn set(regs: &mut [u8], i: usize, v: u8) {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let v = v as u16;
    regs[byte] = (regs[byte] & !((MAX as u16) << fb) as u8) | (v << fb) as u8;
    // The last register ends on a byte boundary: nothing spills past it.
    if let Some(b) = regs.get_mut(byte + 1) {
        *b = (*b & !((MAX as u16) >> (8 - fb)) as u8) | (v >> (8 - fb)) as u8;
    }
}

/// Raises register `i` to `count` if it is lower: whether it changed.
#[inline]
pub fn raise(regs: &mut [u8], i: usize, count: u8) -> bool {
    if count > get(regs, i) {
        set(regs, i, count);
        true
    } else {
        false
    }
}

/// Adds the histogram of the register values to `hist`: four registers in
/// each 3 bytes, taken 24 bits at a time.
pub fn histogram(regs: &[u8], hist: &mut [u32; 64]) {
    debug_assert_eq!(regs.len() * 8, REGISTERS * BITS);
    for c in regs.chunks_exact(3) {
        let w = c[0] as u32 | (c[1] as u32) << 8 | (c[2] as u32) << 16;
        hist[(w & 63) as usize] += 1;
        hist[((w >> 6) & 63) as usize] += 1;
        hist[((w >> 12) & 63) as usize] += 1;
        hist[((w >> 18) & 63) as usize] += 1;
    }
}

/// max[i] = MAX(max[i], register i), for every register.
pub fn merge_into(max: &mut [u8; REGISTERS], regs: &[u8]) {
    for (quad, c) in max.chunks_exact_mut(4).zip(regs.chunks_exact(3)) {
        let w = c[0] as u32 | (c[1] as u32) << 8 | (c[2] as u32) << 16;
        for (k, m) in quad.iter_mut().enumerate() {
            let r = ((w >> (6 * k)) & 63) as u8;
            if r > *m {
                *m = r;
            }
        }
    }
}

/// Every register, one byte each.
pub fn unpack(regs: &[u8], out: &mut [u8; REGISTERS]) {
    for (quad, c) in out.chunks_exact_mut(4).zip(regs.chunks_exact(3)) {
        let w = c[0] as u32 | (c[1] as u32) << 8 | (c[2] as u32) << 16;
        for (k, m) in quad.iter_mut().enumerate() {
            *m = ((w >> (6 * k)) & 63) as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registers_do_not_disturb_their_neighbours() {
        let mut regs = vec![0u8; REGISTERS * BITS / 8];
        let mut model = vec![0u8; REGISTERS];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..3 {
            for (i, m) in model.iter_mut().enumerate() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *m = (x & 63) as u8;
                set(&mut regs, i, *m);
            }
            for (i, m) in model.iter().enumerate() {
                assert_eq!(get(&regs, i), *m, "register {i}");
            }
            let mut all = [0u8; REGISTERS];
            unpack(&regs, &mut all);
            assert_eq!(&all[..], &model[..]);
            let mut hist = [0u32; 64];
            histogram(&regs, &mut hist);
            for v in 0..64u8 {
                let n = model.iter().filter(|&&m| m == v).count() as u32;
                assert_eq!(hist[v as usize], n);
            }
        }
    }

    #[test]
    fn raise_only_goes_up() {
        let mut regs = vec![0u8; REGISTERS * BITS / 8];
        assert!(raise(&mut regs, 16383, 7));
        assert!(!raise(&mut regs, 16383, 7));
        assert!(!raise(&mut regs, 16383, 3));
        assert_eq!(get(&regs, 16383), 7);
        assert_eq!(get(&regs, 16382), 0);
        let mut max = [0u8; REGISTERS];
        max[16383] = 9;
        merge_into(&mut max, &regs);
        assert_eq!(max[16383], 9);
        max[16383] = 1;
        merge_into(&mut max, &regs);
        assert_eq!(max[16383], 7);
    }
}
