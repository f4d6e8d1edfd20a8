//! Redis's RDB format, version 10 as Redis 7.0 writes it (readers accept
//! versions 1 to 11). Constants are the format's own numbers.

pub mod lzf;
pub mod read;
pub mod write;

pub use read::{Error, Reader};
pub use write::Writer;

/// The version emberkv writes (Redis 7.0's).
pub const VERSION: u32 = 10;
/// The newest version read (Redis 7.2's).
pub const MAX_READ_VERSION: u32 = 11;

/// Opcodes (the byte before a key's type, or a section).
pub mod op {
    pub const FUNCTION2: u8 = 245;
    pub const FUNCTION_PRE_GA: u8 = 246;
    pub const MODULE_AUX: u8 = 247;
    pub const IDLE: u8 = 248;
    pub const FREQ: u8 = 249;
    pub const AUX: u8 = 250;
    pub const RESIZEDB: u8 = 251;
    pub const EXPIRETIME_MS: u8 = 252;
    pub const EXPIRETIME: u8 = 253;
    pub const SELECTDB: u8 = 254;
    pub const EOF: u8 = 255;
}

/// Value types.
pub mod ty {
    pub const STRING: u8 = 0;
    pub const LIST: u8 = 1;
    pub const SET: u8 = 2;
    pub const ZSET: u8 = 3;
    pub const HASH: u8 = 4;
    pub const ZSET_2: u8 = 5;
    pub const MODULE_PRE_GA: u8 = 6;
    pub const MODULE_2: u8 = 7;
    pub const HASH_ZIPMAP: u8 = 9;
    pub const LIST_ZIPLIST: u8 = 10;
    pub const SET_INTSET: u8 = 11;
    pub const ZSET_ZIPLIST: u8 = 12;
    pub const HASH_ZIPLIST: u8 = 13;
    pub const LIST_QUICKLIST: u8 = 14;
    pub const STREAM_LISTPACKS: u8 = 15;
    pub const HASH_LISTPACK: u8 = 16;
    pub const ZSET_LISTPACK: u8 = 17;
    pub const LIST_QUICKLIST_2: u8 = 18;
    pub const STREAM_LISTPACKS_2: u8 = 19;
    pub const SET_LISTPACK: u8 = 20;
    pub const STREAM_LISTPACKS_3: u8 = 21;
}

/// The special string encodings (a length byte `11xxxxxx`).
pub(crate) mod enc {
    pub const INT8: u8 = 0;
    pub const INT16: u8 = 1;
    pub const INT32: u8 = 2;
    pub const LZF: u8 = 3;
}

/// Redis's CRC64 (Jones polynomial, reflected), over every byte before
/// the trailer. The checksum runs over every byte of a save or load, so it
/// is the SIMD (carry-less multiply) implementation, fed whole buffers.
#[derive(Clone, Copy)]
pub struct Crc64(crc_fast::Digest);

impl Default for Crc64 {
    fn default() -> Self {
        Crc64(crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc64Redis))
    }
}

impl Crc64 {
    #[inline]
    pub fn update(&mut self, b: &[u8]) {
        self.0.update(b)
    }
    /// The checksum of everything so far.
    pub fn value(&self) -> u64 {
        self.0.finalize()
    }
    /// The checksum of `b` alone.
    pub fn of(b: &[u8]) -> u64 {
        crc_fast::checksum(crc_fast::CrcAlgorithm::Crc64Redis, b)
    }
}

/// Whether `s` is an integer Redis stores in its integer string encoding:
/// the canonical text of an i64 (no sign on zero, no leading zeros, no
/// '+'), as string2ll accepts and ll2string gives back.
pub(crate) use emberkv_core::util::append;

pub fn canonical_int(s: &[u8]) -> Option<i64> {
    // Called per element while a snapshot is written: bytes only, no
    // UTF-8 check, no formatting back.
    let (neg, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some(_) => (false, s),
        None => return None,
    };
    match digits {
        [] => return None,
        [b'0'] => return (!neg).then_some(0),
        [b'0', ..] => return None,
        _ if digits.len() > 19 => return None,
        _ => {}
    }
    // 19 digits fit in a u64; the range check is on the magnitude.
    let mut m: u64 = 0;
    for &c in digits {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        m = m * 10 + d as u64;
    }
    if neg {
        (m <= 1 << 63).then(|| (m as i64).wrapping_neg())
    } else {
        i64::try_from(m).ok()
    }
}

#[cfg(test)]
mod tests;
