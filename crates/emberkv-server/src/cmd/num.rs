//! Numbers read the way Redis 7.0 reads them.
//!
//! Redis does not have one number syntax: doubles go through C's `strtod`
//! (so hex floats and `inf` are numbers, and leading blanks pass where
//! the caller does not check for them), timeouts through `strtold`, SCAN
//! cursors through `strtoul`, and each caller adds its own checks on top.
//! Which checks a command applies decides what it accepts, so each rule
//! lives here once and every command that shares it calls the same
//! function. Integers in the `string2ll` sense are `util::parse_i64`.

use crate::errors;
use crate::util::longdouble::LongDouble;

/// C's `isspace` in the "C" locale.
fn c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// `s` read as a C string: up to its first NUL byte, as the C parsers
/// Redis calls see an argument.
fn c_str(s: &[u8]) -> &[u8] {
    &s[..memchr::memchr(0, s).unwrap_or(s.len())]
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn errno_location() -> *mut libc::c_int {
    // SAFETY: returns the calling thread's errno slot; always valid.
    unsafe { libc::__errno_location() }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn errno_location() -> *mut libc::c_int {
    // SAFETY: as above (BSD / macOS spelling).
    unsafe { libc::__error() }
}

/// What `strtod` makes of `s` (as a C string).
struct Strtod {
    v: f64,
    /// Bytes consumed (0: no conversion).
    used: usize,
    /// Length of the C string: `used == len` means `*endptr == '\0'`.
    len: usize,
    /// errno was ERANGE (overflow, or underflow to zero or a subnormal).
    erange: bool,
}

/// C's `strtod` itself, so hex floats, `inf`/`nan` spellings, rounding and
/// ERANGE are exactly the C library's, as in Redis.
fn strtod(s: &[u8]) -> Strtod {
    let s = c_str(s);
    // NUL-terminated copy; arguments that are numbers are short.
    let mut buf: smallvec::SmallVec<[u8; 64]> = smallvec::SmallVec::with_capacity(s.len() + 1);
    buf.extend_from_slice(s);
    buf.push(0);
    let start = buf.as_ptr() as *const libc::c_char;
    let mut end = start as *mut libc::c_char;
    let errno = errno_location();
    // SAFETY: `buf` is NUL-terminated and outlives the call; strtod stores
    // in `end` a pointer into it. errno is this thread's.
    let (v, erange) = unsafe {
        *errno = 0;
        let v = libc::strtod(start, &mut end);
        (v, *errno == libc::ERANGE)
    };
    Strtod {
        v,
        used: end as usize - start as usize,
        len: s.len(),
        erange,
    }
}

/// Redis's `string2d` (getDoubleFromObject): ZADD/ZINCRBY scores and
/// WEIGHTS. The whole argument, no leading blank, no NaN, and no
/// overflow to ±inf or underflow to 0 (1e400 and 1e-400 are errors,
/// `inf` and 1e-310 are not).
pub fn parse_double(s: &[u8]) -> Option<f64> {
    if s.first().is_none_or(|&b| c_space(b)) {
        return None;
    }
    let r = strtod(s);
    if r.used != s.len() || r.v.is_nan() {
        return None;
    }
    if r.erange && (r.v.is_infinite() || r.v == 0.0) {
        return None;
    }
    Some(r.v)
}

/// One score-range bound after its optional `(` (zslParseRange): strtod
/// up to the end of the C string and not NaN. Leading blanks pass, an
/// empty bound is 0 and out-of-range values saturate, as in Redis.
pub fn parse_range_bound(s: &[u8]) -> Option<f64> {
    let r = strtod(s);
    (r.used == r.len && !r.v.is_nan()).then_some(r.v)
}

/// SORT's reading of a value as a number: strtod up to the end of the C
/// string, no ERANGE at all (so 1e-310 fails here while ZADD takes it),
/// not NaN. Leading blanks pass; the empty string is 0.
pub fn parse_sort_score(s: &[u8]) -> Option<f64> {
    let r = strtod(s);
    (r.used == r.len && !r.erange && !r.v.is_nan()).then_some(r.v)
}

/// A SCAN-family cursor (parseScanCursorOrReply): `strtoul` in base 10
/// over the C string, refused only for a leading blank, trailing bytes or
/// ERANGE. So "" and "-0" are 0 and "-1" is 2^64-1, as in Redis.
pub fn parse_cursor(s: &[u8]) -> Option<u64> {
    let s = c_str(s);
    if s.first().is_some_and(|&b| c_space(b)) {
        return None;
    }
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        // No conversion: strtoul leaves the end at the start, which is
        // the terminating NUL only for the empty string.
        return s.is_empty().then_some(0);
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    // strtoul negates in unsigned arithmetic.
    Some(if neg { v.wrapping_neg() } else { v })
}

/// C's `atoi` (strtol, then truncated to int): how Redis's getkeys
/// procedures read a numkeys argument ("1x" is 1, "x" is 0).
pub fn atoi(s: &[u8]) -> i32 {
    let s = c_str(s);
    let mut i = s.iter().take_while(|&&b| c_space(b)).count();
    let neg = s.get(i) == Some(&b'-');
    if matches!(s.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let mut v: i64 = 0;
    for &c in s[i..].iter().take_while(|b| b.is_ascii_digit()) {
        let d = (c - b'0') as i64;
        // strtol clamps at LONG_MIN/LONG_MAX.
        v = match v.checked_mul(10).and_then(|x| {
            if neg {
                x.checked_sub(d)
            } else {
                x.checked_add(d)
            }
        }) {
            Some(x) => x,
            None if neg => i64::MIN,
            None => i64::MAX,
        };
        if v == i64::MIN || v == i64::MAX {
            break;
        }
    }
    v as i32
}

/// A blocking timeout in seconds (getTimeoutFromObjectOrReply) as
/// milliseconds, 0 meaning forever. Redis reads it with strtold (hex
/// floats too), computes `(long long) ceill(t * 1000.0)` in long double,
/// and calls the result negative if it is: a value too big for a long
/// long (inf, 1e100, 9999999999999999) converts to LLONG_MIN, so huge
/// timeouts are "negative" too, and -0.0001 rounds up to 0 (forever).
pub fn timeout_ms(s: &[u8]) -> Result<i64, &'static str> {
    let t = LongDouble::parse(s).ok_or(errors::TIMEOUT_NOT_FLOAT)?;
    let ms = match t {
        LongDouble::Inf { .. } => i64::MIN,
        LongDouble::Finite { neg, m, e } => ceil_times_1000(neg, m, e),
    };
    if ms < 0 {
        return Err(errors::TIMEOUT_NEGATIVE);
    }
    Ok(ms)
}

/// `(long long) ceill(±m·2^e * 1000)` with the product rounded to a
/// 64-bit mantissa (x87 long double, ties to even) and an out-of-range
/// conversion giving LLONG_MIN, as on x86-64.
fn ceil_times_1000(neg: bool, m: u64, e: i64) -> i64 {
    if m == 0 {
        return 0;
    }
    let p = m as u128 * 1000;
    let bits = 128 - p.leading_zeros() as i64;
    let (mut q, mut e) = (p, e);
    if bits > 64 {
        let shift = (bits - 64) as u32;
        q = p >> shift;
        let rem = p & ((1u128 << shift) - 1);
        let half = 1u128 << (shift - 1);
        if rem > half || (rem == half && q & 1 == 1) {
            q += 1;
        }
        e += shift as i64;
    }
    // Magnitude after ceil toward +inf: round up a positive fraction,
    // drop a negative one.
    let mag: u128 = if e >= 0 {
        if e >= 64 {
            return i64::MIN;
        }
        q << e
    } else if -e >= 128 {
        u128::from(!neg)
    } else {
        let int = q >> -e;
        let frac = q & ((1u128 << -e) - 1) != 0;
        int + u128::from(frac && !neg)
    };
    if neg {
        // -2^63 itself is LLONG_MIN as well.
        if mag > i64::MAX as u128 + 1 {
            i64::MIN
        } else {
            (mag as i64).wrapping_neg()
        }
    } else if mag > i64::MAX as u128 {
        i64::MIN
    } else {
        mag as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_as_string2d() {
        assert_eq!(parse_double(b"1.5"), Some(1.5));
        assert_eq!(parse_double(b"0x10"), Some(16.0));
        assert_eq!(parse_double(b"0x1p3"), Some(8.0));
        assert_eq!(parse_double(b"-inf"), Some(f64::NEG_INFINITY));
        assert!(parse_double(b"1e-310").is_some_and(|v| v > 0.0));
        for bad in [
            &b""[..],
            b" 1",
            b"1 ",
            b"nan",
            b"1e400",
            b"-1e400",
            b"1e-400",
            b"1\0",
            b"1e",
        ] {
            assert_eq!(
                parse_double(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn range_bounds_as_zslparserange() {
        assert_eq!(parse_range_bound(b""), Some(0.0));
        assert_eq!(parse_range_bound(b" 1"), Some(1.0));
        assert_eq!(parse_range_bound(b"\t0x10"), Some(16.0));
        assert_eq!(parse_range_bound(b"1e400"), Some(f64::INFINITY));
        assert_eq!(parse_range_bound(b"2\0junk"), Some(2.0));
        assert_eq!(parse_range_bound(b"1 "), None);
        assert_eq!(parse_range_bound(b"nan"), None);
    }

    #[test]
    fn sort_scores() {
        assert_eq!(parse_sort_score(b""), Some(0.0));
        assert_eq!(parse_sort_score(b" 1"), Some(1.0));
        assert_eq!(parse_sort_score(b"1 "), None);
        assert_eq!(parse_sort_score(b"1e-310"), None);
        assert_eq!(parse_sort_score(b"1e400"), None);
    }

    #[test]
    fn cursors_as_strtoul() {
        assert_eq!(parse_cursor(b""), Some(0));
        assert_eq!(parse_cursor(b"-0"), Some(0));
        assert_eq!(parse_cursor(b"+7"), Some(7));
        assert_eq!(parse_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(
            parse_cursor(b"-9223372036854775809"),
            Some(9223372036854775807)
        );
        assert_eq!(parse_cursor(b"18446744073709551615"), Some(u64::MAX));
        for bad in [
            &b"18446744073709551616"[..],
            b" 1",
            b"1 ",
            b"-",
            b"+",
            b"x",
            b"0x1",
        ] {
            assert_eq!(parse_cursor(bad), None);
        }
    }

    #[test]
    fn atoi_as_c() {
        assert_eq!(atoi(b"1x"), 1);
        assert_eq!(atoi(b" +2"), 2);
        assert_eq!(atoi(b"x"), 0);
        assert_eq!(atoi(b"-3"), -3);
        assert_eq!(atoi(b"4294967297"), 1);
        assert_eq!(atoi(b"99999999999999999999"), -1);
    }

    #[test]
    fn timeouts_as_redis() {
        assert_eq!(timeout_ms(b"0"), Ok(0));
        assert_eq!(timeout_ms(b"1.5"), Ok(1500));
        assert_eq!(timeout_ms(b"0x10"), Ok(16000));
        assert_eq!(timeout_ms(b"0.0005"), Ok(1));
        assert_eq!(timeout_ms(b"-0.0001"), Ok(0));
        // strtold's 0.001 is just below it, so -0.001 s rounds up to 0.
        assert_eq!(timeout_ms(b"-0.001"), Ok(0));
        // Redis pops at once with the first, calls the second negative.
        assert!(timeout_ms(b"9223372036854775.807").is_ok());
        for neg in [
            &b"9223372036854775.808"[..],
            b"-1",
            b"-0.0011",
            b"inf",
            b"-inf",
            b"1e400",
            b"1e100",
            b"9223372036854775808",
        ] {
            assert_eq!(timeout_ms(neg), Err(crate::errors::TIMEOUT_NEGATIVE));
        }
        for bad in [&b""[..], b" 1", b"nan", b"1e5000", b"x"] {
            assert_eq!(timeout_ms(bad), Err(crate::errors::TIMEOUT_NOT_FLOAT));
        }
    }
}
