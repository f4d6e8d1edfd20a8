//! Small helpers shared by the layers: numbers, time, CPU lists.

pub mod cpu;
pub mod longdouble;

pub use emberkv_protocol::parse_i64_strict as parse_i64;

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
