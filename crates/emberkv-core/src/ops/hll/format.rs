//! The value's header, byte for byte Redis's: `HYLL`, the encoding byte,
//! three unused bytes, and the cached cardinality (8 bytes, little endian),
//! whose top bit says the cache is stale.

use super::{DENSE_SIZE, HDR};

pub const DENSE: u8 = 0;
pub const SPARSE: u8 = 1;
const MAX_ENCODING: u8 = 1;
/// Byte 15, the cardinality's most significant byte, holds the stale bit.
const CARD_MSB: usize = 15;
const STALE: u8 = 0x80;

/// The encoding of a value Redis accepts as a HyperLogLog, or None (Redis's
/// isHLLObjectOrReply: length, magic, known encoding, and the exact length
/// of a dense value; a sparse body is only checked when it is walked).
pub fn check(v: &[u8]) -> Option<u8> {
    if v.len() < HDR || &v[..4] != b"HYLL" || v[4] > MAX_ENCODING {
        return None;
    }
    if v[4] == DENSE && v.len() != DENSE_SIZE {
        return None;
    }
    Some(v[4])
}

/// The cached cardinality, if it is still valid.
#[inline]
pub fn cached(v: &[u8]) -> Option<u64> {
    let card = u64::from_le_bytes(v[8..16].try_into().expect("header"));
    (v[CARD_MSB] & STALE == 0).then_some(card)
}

/// Stores a computed cardinality (a value with the top bit set, which only
/// a crafted dense value can give, reads back as stale: Redis's too).
#[inline]
pub fn set_cached(v: &mut [u8], card: u64) {
    v[8..16].copy_from_slice(&card.to_le_bytes());
}

#[inline]
pub fn invalidate(v: &mut [u8]) {
    v[CARD_MSB] |= STALE;
}

/// An empty HyperLogLog as PFADD creates it: sparse, one XZERO opcode
/// covering all 16384 registers, cached cardinality 0 (valid).
pub fn empty() -> Vec<u8> {
    let mut v = Vec::with_capacity(HDR + 64);
    v.extend_from_slice(b"HYLL");
    v.push(SPARSE);
    v.extend_from_slice(&[0; 11]);
    v.extend_from_slice(&super::sparse::xzero(super::REGISTERS));
    v
}
