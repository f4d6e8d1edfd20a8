//! x87 80-bit `long double` arithmetic, as far as INCRBYFLOAT needs it.
//!
//! Redis parses INCRBYFLOAT operands with `strtold`, adds them as `long
//! double` (64-bit mantissa) and prints with `%.17Lf`, trailing zeros
//! trimmed. f64 gives different digits (`0.1 + 0.2` → `0.30000000000000004`
//! where Redis says `0.3`; `1000.1 + 0.3` → Redis `1000.39999999999999997`),
//! so this module reproduces the format exactly: correctly rounded parsing
//! into a 64-bit mantissa, exact addition rounded half-to-even, and exact
//! decimal printing. Big integers keep it exact; operands are at most a few
//! KB of text, so it is cheap.

use num_bigint::{BigInt, BigUint, Sign};
use num_traits::{One, Zero};

/// Largest binary exponent of a finite long double (value < 2^16384).
const MAX_EXP2: i64 = 16384;
/// Smallest (subnormal) long double is 2^-16445.
const MIN_EXP2: i64 = -16445;

#[derive(Clone, Debug, PartialEq)]
pub enum LongDouble {
    /// `m * 2^e`; `m == 0` is zero.
    Finite {
        neg: bool,
        m: u64,
        e: i64,
    },
    Inf {
        neg: bool,
    },
}

fn pow10(k: u32) -> BigUint {
    BigUint::from(10u32).pow(k)
}

/// Rounds `n * 2^e` (n > 0) to a 64-bit mantissa, half to even.
fn round_to_ld(neg: bool, n: &BigUint, mut e: i64) -> LongDouble {
    let bits = n.bits() as i64;
    let mut m: BigUint;
    if bits <= 64 {
        m = n << (64 - bits) as usize;
        e -= 64 - bits;
    } else {
        let s = (bits - 64) as usize;
        m = n >> s;
        let rem = n - (&m << s);
        let half = BigUint::one() << (s - 1);
        if rem > half || (rem == half && m.bit(0)) {
            m += 1u32;
            if m.bits() > 64 {
                m >>= 1;
                e += 1;
            }
        }
        e += s as i64;
    }
    if e + 64 > MAX_EXP2 {
        return LongDouble::Inf { neg };
    }
    if e < MIN_EXP2 {
        // Below the subnormal range: flush to zero (never reached for the
        // values strtold accepts, which are rejected on underflow).
        return LongDouble::Finite { neg, m: 0, e: 0 };
    }
    let m = m.iter_u64_digits().next().unwrap_or(0);
    LongDouble::Finite { neg, m, e }
}

/// Rounds the rational `num / den` (both > 0) to a 64-bit mantissa.
fn round_ratio(neg: bool, num: &BigUint, den: &BigUint) -> LongDouble {
    // Scale so that the quotient has 66+ bits, keeping the remainder as a
    // sticky bit, then round with `round_to_ld`.
    let shift = (66 + den.bits() as i64 - num.bits() as i64).max(0) as usize;
    let scaled = num << shift;
    let q = &scaled / den;
    let exact = (&q * den) == scaled;
    // Append a sticky bit so ties are only seen when the quotient is exact.
    let q2 = (q << 1usize)
        | if exact {
            BigUint::zero()
        } else {
            BigUint::one()
        };
    round_to_ld(neg, &q2, -(shift as i64) - 1)
}

impl LongDouble {
    /// Parses like Redis's `string2ld`: the whole string must be a number
    /// `strtold` accepts, no leading space, not NaN, no overflow/underflow.
    pub fn parse(s: &[u8]) -> Option<LongDouble> {
        let s = std::str::from_utf8(s).ok()?;
        if s.is_empty() || s.len() >= 5 * 1024 || s.starts_with(|c: char| c.is_whitespace()) {
            return None;
        }
        let (neg, body) = match s.as_bytes()[0] {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        let lower = body.to_ascii_lowercase();
        if lower == "inf" || lower == "infinity" {
            return Some(LongDouble::Inf { neg });
        }
        if let Some(hex) = lower.strip_prefix("0x") {
            return parse_hex(neg, hex);
        }
        parse_decimal(neg, body)
    }

    pub fn is_finite(&self) -> bool {
        matches!(self, LongDouble::Finite { .. })
    }

    /// Exact sum rounded to long double precision.
    pub fn add(&self, other: &LongDouble) -> LongDouble {
        use LongDouble::*;
        match (self, other) {
            (Inf { neg: a }, Inf { neg: b }) if a != b => Inf { neg: *a }, // NaN; caller rejects non-finite
            (Inf { neg }, _) | (_, Inf { neg }) => Inf { neg: *neg },
            (
                Finite {
                    neg: na,
                    m: ma,
                    e: ea,
                },
                Finite {
                    neg: nb,
                    m: mb,
                    e: eb,
                },
            ) => {
                if *ma == 0 {
                    return other.clone();
                }
                if *mb == 0 {
                    return self.clone();
                }
                let e = (*ea).min(*eb);
                let a = BigInt::from_biguint(
                    if *na { Sign::Minus } else { Sign::Plus },
                    BigUint::from(*ma) << (ea - e) as usize,
                );
                let b = BigInt::from_biguint(
                    if *nb { Sign::Minus } else { Sign::Plus },
                    BigUint::from(*mb) << (eb - e) as usize,
                );
                let sum = a + b;
                if sum.is_zero() {
                    return Finite {
                        neg: false,
                        m: 0,
                        e: 0,
                    };
                }
                let (sign, mag) = sum.into_parts();
                round_to_ld(sign == Sign::Minus, &mag, e)
            }
        }
    }

    /// `%.17Lf` with trailing zeros (and a trailing dot) removed.
    pub fn to_human(&self) -> String {
        let (neg, m, e) = match self {
            LongDouble::Inf { neg } => return if *neg { "-inf".into() } else { "inf".into() },
            LongDouble::Finite { neg, m, e } => (*neg, *m, *e),
        };
        // Round m * 2^e * 10^17 to an integer, half to even.
        let scaled = BigUint::from(m) * pow10(17);
        let q = if e >= 0 {
            scaled << e as usize
        } else {
            let s = (-e) as usize;
            let q = &scaled >> s;
            let rem = &scaled - (&q << s);
            let half = BigUint::one() << (s - 1);
            if rem > half || (rem == half && q.bit(0)) {
                q + 1u32
            } else {
                q
            }
        };
        let mut digits = q.to_string();
        if digits.len() < 18 {
            digits = format!("{}{}", "0".repeat(18 - digits.len()), digits);
        }
        let (int, frac) = digits.split_at(digits.len() - 17);
        let frac = frac.trim_end_matches('0');
        let mut out = String::with_capacity(digits.len() + 2);
        if neg {
            out.push('-');
        }
        out.push_str(int);
        if !frac.is_empty() {
            out.push('.');
            out.push_str(frac);
        }
        if out == "-0" {
            out = "0".into();
        }
        out
    }
}

fn parse_decimal(neg: bool, body: &str) -> Option<LongDouble> {
    let b = body.as_bytes();
    let mut i = 0;
    let mut digits = String::new();
    let mut frac_digits: i64 = 0;
    let mut seen_digit = false;
    while i < b.len() && b[i].is_ascii_digit() {
        digits.push(b[i] as char);
        seen_digit = true;
        i += 1;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            digits.push(b[i] as char);
            frac_digits += 1;
            seen_digit = true;
            i += 1;
        }
    }
    if !seen_digit {
        return None;
    }
    let mut exp: i64 = 0;
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        let eneg = j < b.len() && b[j] == b'-';
        if j < b.len() && (b[j] == b'-' || b[j] == b'+') {
            j += 1;
        }
        let start = j;
        while j < b.len() && b[j].is_ascii_digit() {
            // Saturate: anything this large over- or underflows anyway.
            exp = (exp * 10 + (b[j] - b'0') as i64).min(1_000_000);
            j += 1;
        }
        if j > start {
            if eneg {
                exp = -exp;
            }
            i = j;
        }
    }
    if i != b.len() {
        return None;
    }
    let d: BigUint = digits.parse().ok()?;
    if d.is_zero() {
        return Some(LongDouble::Finite { neg, m: 0, e: 0 });
    }
    let k = exp - frac_digits;
    // Decimal magnitude: d has `sig` significant digits; value ~ 10^(sig+k).
    let sig = d.to_string().len() as i64;
    if sig + k > 4933 {
        return None; // overflow (ERANGE)
    }
    if sig + k < -4950 {
        return None; // underflow to zero (ERANGE)
    }
    let r = if k >= 0 {
        round_to_ld(neg, &(d * pow10(k as u32)), 0)
    } else {
        round_ratio(neg, &d, &pow10((-k) as u32))
    };
    r.is_finite().then_some(r)
}

fn parse_hex(neg: bool, hex: &str) -> Option<LongDouble> {
    let b = hex.as_bytes();
    let mut i = 0;
    let mut n = BigUint::zero();
    let mut e: i64 = 0;
    let mut seen = false;
    while i < b.len() && b[i].is_ascii_hexdigit() {
        n = (n << 4usize) + BigUint::from((b[i] as char).to_digit(16)?);
        seen = true;
        i += 1;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && b[i].is_ascii_hexdigit() {
            n = (n << 4usize) + BigUint::from((b[i] as char).to_digit(16)?);
            e -= 4;
            seen = true;
            i += 1;
        }
    }
    if !seen {
        return None;
    }
    if i < b.len() && b[i] == b'p' {
        let rest = &hex[i + 1..];
        let p: i64 = rest.parse().ok()?;
        if p.abs() > 100_000 {
            return None;
        }
        e += p;
        i = b.len();
    }
    if i != b.len() {
        return None;
    }
    if n.is_zero() {
        return Some(LongDouble::Finite { neg, m: 0, e: 0 });
    }
    let r = round_to_ld(neg, &n, e);
    r.is_finite().then_some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incr(a: &str, b: &str) -> String {
        let x = LongDouble::parse(a.as_bytes()).unwrap();
        let y = LongDouble::parse(b.as_bytes()).unwrap();
        x.add(&y).to_human()
    }

    #[test]
    fn matches_redis_outputs() {
        // Figures read off redis-server 7.0.15.
        assert_eq!(incr("0.1", "0.2"), "0.3");
        assert_eq!(incr("0.3", "1000.1"), "1000.39999999999999997");
        assert_eq!(
            incr("1000.39999999999999997", "1e20"),
            "100000000000000001000"
        );
        assert_eq!(incr("10.50", "0.1"), "10.6");
        assert_eq!(incr("5.0e3", "2.0e2"), "5200");
        assert_eq!(incr("3.0e3", "-3.0e3"), "0");
        assert_eq!(incr("1", "0.0000000000000000001"), "1");
        assert_eq!(incr("0", "0x10"), "16");
    }

    #[test]
    fn rejects_what_strtold_rejects() {
        assert!(LongDouble::parse(b" 1").is_none());
        assert!(LongDouble::parse(b"1 ").is_none());
        assert!(LongDouble::parse(b"nan").is_none());
        assert!(LongDouble::parse(b"abc").is_none());
        assert!(LongDouble::parse(b"1e99999").is_none());
        assert!(!LongDouble::parse(b"inf").unwrap().is_finite());
    }
}
