//! The cardinality estimate from the register histogram: Otmar Ertl's
//! improved raw estimator ("New cardinality estimation algorithms for
//! HyperLogLog sketches", arXiv:1702.01284), as Redis 7 computes it: the
//! same double operations in the same order, so the result is the same
//! integer bit for bit.

use super::{Q, REGISTERS};

/// 0.5 / ln(2)
#[allow(clippy::excessive_precision)]
const ALPHA_INF: f64 = 0.721347520444481703680;

/// Bound on the series' iterations: they converge (stop changing) within
/// ~60 steps for every input a histogram can give; the bound only keeps a
/// NaN from looping.
const MAX_STEPS: usize = 10_000;

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    for _ in 0..MAX_STEPS {
        x *= x;
        let z_prime = z;
        z += x * y;
        y += y;
        if z_prime == z {
            break;
        }
    }
    z
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    for _ in 0..MAX_STEPS {
        x = x.sqrt();
        let z_prime = z;
        y *= 0.5;
        // Redis writes pow(1 - x, 2), which the C compiler folds into this
        // exact product.
        let d = 1.0 - x;
        z -= d * d * y;
        if z_prime == z {
            break;
        }
    }
    z / 3.0
}

/// The estimate for a histogram of register values (hist[v] = how many
/// registers hold v; only 0..=51 can occur from hashing, a crafted dense
/// value may hold up to 63, which the estimate ignores, as Redis's does).
pub fn estimate(hist: &[u32; 64]) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - hist[Q + 1] as i32 as f64) / m);
    for j in (1..=Q).rev() {
        z += hist[j] as i32 as f64;
        z *= 0.5;
    }
    z += m * sigma(hist[0] as i32 as f64 / m);
    llround_to_u64(ALPHA_INF * m * m / z)
}

/// `(uint64_t)(double)llroundl(x)` on x86-64: half away from zero; out of
/// range (or not finite) gives LLONG_MIN, which converts to 2^63.
fn llround_to_u64(x: f64) -> u64 {
    const TWO63: f64 = 9_223_372_036_854_775_808.0;
    let r = x.round();
    let ll = if r.is_finite() && (-TWO63..TWO63).contains(&r) {
        r as i64
    } else {
        i64::MIN
    };
    let e = ll as f64;
    if e >= TWO63 {
        ((e - TWO63) as i64 as u64) ^ (1 << 63)
    } else {
        e as i64 as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_extremes() {
        let mut h = [0u32; 64];
        h[0] = REGISTERS as u32;
        assert_eq!(estimate(&h), 0);
        let mut h = [0u32; 64];
        h[51] = REGISTERS as u32;
        assert_eq!(estimate(&h), 1 << 63, "inf rounds to LLONG_MIN");
        let mut h = [0u32; 64];
        h[0] = REGISTERS as u32 - 1;
        h[1] = 1;
        assert_eq!(estimate(&h), 1);
    }

    #[test]
    fn llround_rounds_half_away_from_zero() {
        assert_eq!(llround_to_u64(2.5), 3);
        assert_eq!(llround_to_u64(2.4999), 2);
        assert_eq!(llround_to_u64(f64::NAN), 1 << 63);
        assert_eq!(llround_to_u64(1e300), 1 << 63);
    }
}
