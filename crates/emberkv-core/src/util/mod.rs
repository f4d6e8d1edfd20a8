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
