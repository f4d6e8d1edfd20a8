//! Redis's intset, the blob of SET_INTSET values: the element width (2, 4
//! or 8 bytes, the smallest that holds every element), the count (both
//! u32 little-endian), then the elements in ascending order, little-endian.

/// The blob of the set of `sorted` (ascending, no duplicates).
pub fn encode(sorted: &[i64]) -> Vec<u8> {
    let fits = |lo: i64, hi: i64| sorted.iter().all(|&v| (lo..=hi).contains(&v));
    let width: usize = if fits(i16::MIN as i64, i16::MAX as i64) {
        2
    } else if fits(i32::MIN as i64, i32::MAX as i64) {
        4
    } else {
        8
    };
    let mut b = Vec::with_capacity(8 + width * sorted.len());
    b.extend_from_slice(&(width as u32).to_le_bytes());
    b.extend_from_slice(&(sorted.len() as u32).to_le_bytes());
    for &v in sorted {
        b.extend_from_slice(&v.to_le_bytes()[..width]);
    }
    b
}

/// The elements of a blob read from a file, checked (width, size, strict
/// order) as Redis's intsetValidateIntegrity does; None if invalid.
pub fn decode(b: &[u8]) -> Option<Vec<i64>> {
    if b.len() < 8 {
        return None;
    }
    let width = u32::from_le_bytes(b[..4].try_into().ok()?) as usize;
    let n = u32::from_le_bytes(b[4..8].try_into().ok()?) as usize;
    if !matches!(width, 2 | 4 | 8) || n == 0 || b.len() != 8 + width.checked_mul(n)? {
        return None;
    }
    let mut out = Vec::with_capacity(n);
    for c in b[8..].chunks_exact(width) {
        let mut v = [0u8; 8];
        v[..width].copy_from_slice(c);
        let shift = 64 - 8 * width as u32;
        let x = (i64::from_le_bytes(v) << shift) >> shift;
        if out.last().is_some_and(|&p| p >= x) {
            return None;
        }
        out.push(x);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_bytes() {
        // DUMP of `SADD s 3 1 2` on redis-server 7.0.15 holds this blob.
        let b = encode(&[1, 2, 3]);
        assert_eq!(b, [2, 0, 0, 0, 3, 0, 0, 0, 1, 0, 2, 0, 3, 0]);
        assert_eq!(decode(&b), Some(vec![1, 2, 3]));
        let wide = [-70000, 5, i64::MAX];
        assert_eq!(decode(&encode(&wide)).as_deref(), Some(&wide[..]));
        assert_eq!(encode(&[-70000, 5])[0], 4);
    }

    #[test]
    fn damaged_blobs_are_refused() {
        assert_eq!(
            decode(&[2, 0, 0, 0, 2, 0, 0, 0, 2, 0, 1, 0]),
            None,
            "unordered"
        );
        assert_eq!(decode(&[3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0]), None, "width");
        assert_eq!(decode(&[2, 0, 0, 0, 9, 0, 0, 0, 1, 0]), None, "count");
        assert_eq!(decode(&[2, 0, 0, 0, 0, 0, 0, 0]), None, "empty");
    }
}
