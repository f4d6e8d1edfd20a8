//! Longest common subsequence, as LCS reports it.

/// One matching run: positions in the first and second string (inclusive).
pub struct Match {
    pub a: (usize, usize),
    pub b: (usize, usize),
    pub len: usize,
}

pub struct Lcs {
    pub seq: Vec<u8>,
    /// Runs from the end of the strings backwards, as Redis lists them.
    pub matches: Vec<Match>,
}

/// Bytes of the O(n*m) table for `a` and `b` (the caller bounds this).
pub fn table_bytes(a: &[u8], b: &[u8]) -> u64 {
    (a.len() as u64 + 1)
        .saturating_mul(b.len() as u64 + 1)
        .saturating_mul(4)
}

/// Runs of at least `minlen` (0 = all) are reported in `matches`.
pub fn lcs(a: &[u8], b: &[u8], minlen: usize) -> Lcs {
    let w = b.len() + 1;
    let mut m = vec![0u32; (a.len() + 1) * w];
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            m[i * w + j] = if a[i - 1] == b[j - 1] {
                m[(i - 1) * w + j - 1] + 1
            } else {
                m[(i - 1) * w + j].max(m[i * w + j - 1])
            };
        }
    }
    let total = m[a.len() * w + b.len()] as usize;
    let mut seq = vec![0u8; total];
    let mut matches = Vec::new();
    let (mut i, mut k, mut pos) = (a.len(), b.len(), total);
    // The run being collected, walking backwards: (a_start, a_end, b_start, b_end).
    let mut cur: Option<[usize; 4]> = None;
    while i > 0 && k > 0 {
        let mut emit = false;
        if a[i - 1] == b[k - 1] {
            pos -= 1;
            seq[pos] = a[i - 1];
            match cur.as_mut() {
                None => cur = Some([i - 1, i - 1, k - 1, k - 1]),
                // A match right before the run extends it.
                Some(r) if r[0] == i && r[2] == k => {
                    r[0] -= 1;
                    r[2] -= 1;
                }
                Some(_) => emit = true,
            }
            if let Some(r) = cur {
                if r[0] == 0 || r[2] == 0 {
                    emit = true;
                }
            }
            i -= 1;
            k -= 1;
        } else {
            if m[(i - 1) * w + k] > m[i * w + k - 1] {
                i -= 1;
            } else {
                k -= 1;
            }
            emit = cur.is_some();
        }
        if emit {
            if let Some(r) = cur.take() {
                let len = r[1] - r[0] + 1;
                if minlen == 0 || len >= minlen {
                    matches.push(Match {
                        a: (r[0], r[1]),
                        b: (r[2], r[3]),
                        len,
                    });
                }
            }
        }
    }
    Lcs { seq, matches }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redis_documentation_example() {
        let r = super::lcs(b"ohmytext", b"mynewtext", 0);
        assert_eq!(r.seq, b"mytext");
        let runs: Vec<_> = r.matches.iter().map(|m| (m.a, m.b, m.len)).collect();
        assert_eq!(runs, vec![((4, 7), (5, 8), 4), ((2, 3), (0, 1), 2)]);
    }
}
