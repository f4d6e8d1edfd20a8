//! Small helpers shared by the layers: numbers, time, CPU lists.

pub mod cpu;
pub mod longdouble;

pub use emberkv_protocol::parse_i64_strict as parse_i64;

/// Asks the CPU to start loading the cache line at `p` (a hint for a
/// loop that will read it a little later).
#[inline(always)]
pub fn prefetch(p: *const u8) {
    // SAFETY: a prefetch is a hint; it never faults, whatever the address.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        std::arch::x86_64::_mm_prefetch(p as *const i8, std::arch::x86_64::_MM_HINT_T0)
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Appends `s` to `buf`, without a memcpy call when it is 8 to 32 bytes
/// (most members, fields and list elements are; the calls were a sixth
/// of a collection save, and a tenth of its load): the buffer grows by a fixed 16 or 32 bytes,
/// two overlapping fixed-size moves fill it from `s`, and it is cut back
/// to `s`'s length. (Through a stack copy instead, the wide load of two
/// narrow stores stalled the store buffer.)
#[inline(always)]
pub fn append(buf: &mut Vec<u8>, s: &[u8]) {
    let n = s.len();
    let len = buf.len();
    if (8..=16).contains(&n) {
        buf.extend_from_slice(&[0; 16]);
        let d = &mut buf[len..len + 16];
        d[..8].copy_from_slice(&s[..8]);
        d[n - 8..n].copy_from_slice(&s[n - 8..]);
        buf.truncate(len + n);
    } else if (17..=32).contains(&n) {
        buf.extend_from_slice(&[0; 32]);
        let d = &mut buf[len..len + 32];
        d[..16].copy_from_slice(&s[..16]);
        d[n - 16..n].copy_from_slice(&s[n - 16..]);
        buf.truncate(len + n);
    } else {
        buf.extend_from_slice(s);
    }
}

/// Wall-clock milliseconds since the Unix epoch.
pub fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Does `s` print back exactly as the integer it parses to (Redis stores
/// such strings with the `int` encoding)?
pub fn is_canonical_int(s: &[u8]) -> Option<i64> {
    if s.len() > 20 {
        return None;
    }
    parse_i64(s)
}
