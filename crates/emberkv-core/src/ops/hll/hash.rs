//! The hash HyperLogLog values are built with: MurmurHash64A (Austin
//! Appleby's 64-bit MurmurHash2), read little-endian whatever the host, with
//! Redis's seed, so a register chosen here is the one redis-server chooses.

/// Redis's seed for HyperLogLog elements.
pub const SEED: u64 = 0xadc8_3b19;

const M: u64 = 0xc6a4_a793_5bd1_e995;
const R: u32 = 47;

/// MurmurHash64A of `data`.
pub fn murmur64a(data: &[u8], seed: u64) -> u64 {
    let mut h = seed ^ (data.len() as u64).wrapping_mul(M);
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let mut k = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= (b as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element goes to and the length of its `0..01` pattern
/// (1..=51): the low 14 bits pick the register, and the run is counted in
/// the 50 bits above them with a sentinel bit past them.
#[inline]
pub fn pat_len(ele: &[u8]) -> (usize, u8) {
    let h = murmur64a(ele, SEED);
    let index = (h & (super::REGISTERS as u64 - 1)) as usize;
    let rest = (h >> super::P) | (1u64 << super::Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        // Computed with an independent C build of the published algorithm.
        for (input, seed, want) in KNOWN {
            assert_eq!(murmur64a(input, *seed), *want, "{input:?} seed {seed:#x}");
        }
    }

    #[test]
    fn registers_match_redis() {
        // (register, run) that redis-server 7.0.15 reports for these
        // elements (PFADD then PFDEBUG DECODE).
        for (ele, reg, run) in REDIS_REGISTERS {
            assert_eq!(pat_len(ele), (*reg, *run), "{ele:?}");
        }
    }

    #[test]
    fn the_run_is_bounded() {
        // The sentinel bit ends the run at 51 at most whatever the hash.
        for i in 0u32..100_000 {
            let (r, n) = pat_len(&i.to_le_bytes());
            assert!(r < super::super::REGISTERS && (1..=51).contains(&n));
        }
    }

    const KNOWN: &[(&[u8], u64, u64)] = &[
        (b"", 0, 0),
        (b"a", 0, 0x071717d2d36b6b11),
        (b"ab", 0, 0x62be85b2fe53d1f8),
        (b"abc", 0, 0x9cc9c33498a95efb),
        (b"hello", 0, 0x1e68d17c457bf117),
        (b"1234567", 0, 0xae9ebd2095279402),
        (b"12345678", 0, 0x758f67d162b2d202),
        (b"123456789", 0, 0x4977490251674330),
        (
            b"The quick brown fox jumps over the lazy dog",
            0,
            0x5589ca33042a861b,
        ),
        (b"", SEED, 0xd8dfea6585bc9732),
        (b"a", SEED, 0x53d2470a9b43b1a7),
        (b"ab", SEED, 0x0eaed676437142cf),
        (b"abc", SEED, 0x77ec90aeb374e502),
        (b"hello", SEED, 0x0f656f01eecfe400),
        (b"1234567", SEED, 0x85563db163632857),
        (b"12345678", SEED, 0x95ebb86389132953),
        (b"123456789", SEED, 0x217532cb09f2a44d),
        (
            b"The quick brown fox jumps over the lazy dog",
            SEED,
            0x51606c5c5b561ace,
        ),
    ];
    const REDIS_REGISTERS: &[(&[u8], usize, u8)] = &[
        (b"", 5938, 2),
        (b"a", 12711, 2),
        (b"ab", 719, 1),
        (b"abc", 9474, 1),
        (b"hello", 9216, 1),
        (b"1234567", 10327, 3),
        (b"12345678", 10579, 3),
        (b"123456789", 9293, 2),
        (b"element-42", 11407, 1),
    ];
}
