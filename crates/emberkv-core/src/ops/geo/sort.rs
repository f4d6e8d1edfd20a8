//! Ordering search results as Redis does. A full sort is glibc's qsort,
//! a stable merge sort; COUNT sorts only the first ranks with Redis's
//! pqsort (NetBSD's quicksort, recursing only into the parts that overlap
//! the wanted ranks). pqsort is not stable, so points at equal distances
//! come out in its order: this is the same algorithm, with the same
//! comparisons and swaps, so they come out as on Redis.

use super::Found;
use std::cmp::Ordering;

/// geo.c's comparator: 1, 0 or -1 (-1 also for NaN), negated for DESC.
fn compare(a: &Found<'_>, b: &Found<'_>, desc: bool) -> i32 {
    let c = if a.dist > b.dist {
        1
    } else if a.dist == b.dist {
        0
    } else {
        -1
    };
    if desc {
        -c
    } else {
        c
    }
}

/// Sorts all of `found` by distance (nearest first unless `desc`),
/// keeping equal distances in the order found, as glibc's merge sort.
pub fn sort_all(found: &mut [Found<'_>], desc: bool) {
    found.sort_by(|a, b| match compare(a, b, desc) {
        1 => Ordering::Greater,
        0 => Ordering::Equal,
        // NaN (never from valid points) compares "less" both ways in C;
        // here it only has to stay a total order for the sort.
        _ if a.dist.is_nan() || b.dist.is_nan() => {
            let o = a.dist.total_cmp(&b.dist);
            if desc {
                o.reverse()
            } else {
                o
            }
        }
        _ => Ordering::Less,
    });
}

/// Puts the `k` nearest (farthest with `desc`) first, in order, as
/// Redis's `pqsort(array, n, ..., 0, k - 1)`.
pub fn sort_first(found: &mut [Found<'_>], desc: bool, k: usize) {
    if k == 0 {
        return;
    }
    let cmp = |a: &Found<'_>, b: &Found<'_>| compare(a, b, desc);
    pqsort(found, 0, &cmp, 0, k - 1);
}

fn med3<T>(v: &[T], a: usize, b: usize, c: usize, cmp: &impl Fn(&T, &T) -> i32) -> usize {
    if cmp(&v[a], &v[b]) < 0 {
        if cmp(&v[b], &v[c]) < 0 {
            b
        } else if cmp(&v[a], &v[c]) < 0 {
            c
        } else {
            a
        }
    } else if cmp(&v[b], &v[c]) > 0 {
        b
    } else if cmp(&v[a], &v[c]) < 0 {
        a
    } else {
        c
    }
}

fn vecswap<T>(v: &mut [T], a: usize, b: usize, n: usize) {
    for i in 0..n {
        v.swap(a + i, b + i);
    }
}

/// Whether the part `[s, s + len)` (absolute ranks) holds a wanted rank.
fn wanted(s: usize, len: usize, lo: usize, hi: usize) -> bool {
    !((lo < s && hi < s) || (lo >= s + len && hi >= s + len))
}

/// `v` is the part of the array starting at rank `base`; ranks `lo..=hi`
/// are wanted in order.
fn pqsort<T>(mut v: &mut [T], mut base: usize, cmp: &impl Fn(&T, &T) -> i32, lo: usize, hi: usize) {
    loop {
        let n = v.len();
        if n < 7 {
            for pm in 1..n {
                let mut pl = pm;
                while pl > 0 && cmp(&v[pl - 1], &v[pl]) > 0 {
                    v.swap(pl, pl - 1);
                    pl -= 1;
                }
            }
            return;
        }
        let mut pm = n / 2;
        if n > 7 {
            let (mut pl, mut pn) = (0, n - 1);
            if n > 40 {
                let d = n / 8;
                pl = med3(v, pl, pl + d, pl + 2 * d, cmp);
                pm = med3(v, pm - d, pm, pm + d, cmp);
                pn = med3(v, pn - 2 * d, pn - d, pn, cmp);
            }
            pm = med3(v, pl, pm, pn, cmp);
        }
        v.swap(0, pm);
        // [0, pa): equal to the pivot; [pa, pb): less; (pc, pd]: greater;
        // (pd, n): equal.
        let (mut pa, mut pb) = (1, 1);
        let (mut pc, mut pd) = (n - 1, n - 1);
        loop {
            while pb <= pc {
                let c = cmp(&v[pb], &v[0]);
                if c > 0 {
                    break;
                }
                if c == 0 {
                    v.swap(pa, pb);
                    pa += 1;
                }
                pb += 1;
            }
            while pb <= pc {
                let c = cmp(&v[pc], &v[0]);
                if c < 0 {
                    break;
                }
                if c == 0 {
                    v.swap(pc, pd);
                    pd -= 1;
                }
                pc -= 1;
            }
            if pb > pc {
                break;
            }
            v.swap(pb, pc);
            pb += 1;
            pc -= 1;
        }
        let r = pa.min(pb - pa);
        vecswap(v, 0, pb - r, r);
        let r = (pd - pc).min(n - pd - 1);
        vecswap(v, pb, n - r, r);
        let r = pb - pa;
        if r > 1 && wanted(base, r, lo, hi) {
            pqsort(&mut v[..r], base, cmp, lo, hi);
        }
        let r = pd - pc;
        if r <= 1 {
            return;
        }
        let start = n - r;
        v = &mut std::mem::take(&mut v)[start..];
        base += start;
        if !wanted(base, r, lo, hi) {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(d: f64, i: usize) -> Found<'static> {
        Found {
            member: b"",
            score: i as f64,
            lon: 0.0,
            lat: 0.0,
            dist: d,
        }
    }

    #[test]
    fn partial_sort_orders_the_wanted_ranks() {
        let mut seed = 7u64;
        for n in [1, 5, 7, 8, 30, 41, 200, 1000] {
            for k in [1, 2, 5, n] {
                let k = k.min(n);
                let mut v: Vec<Found<'_>> = (0..n)
                    .map(|i| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        found((seed % 50) as f64, i)
                    })
                    .collect();
                let mut want: Vec<f64> = v.iter().map(|f| f.dist).collect();
                want.sort_by(|a, b| a.total_cmp(b));
                sort_first(&mut v, false, k);
                let got: Vec<f64> = v[..k].iter().map(|f| f.dist).collect();
                assert_eq!(got, want[..k], "n {n} k {k}");
                let mut ids: Vec<u64> = v.iter().map(|f| f.score as u64).collect();
                ids.sort();
                assert_eq!(ids, (0..n as u64).collect::<Vec<_>>(), "a permutation");
            }
        }
    }

    #[test]
    fn full_sort_is_stable_both_ways() {
        let mut v = vec![found(2.0, 0), found(1.0, 1), found(2.0, 2), found(1.0, 3)];
        sort_all(&mut v, true);
        let ids: Vec<f64> = v.iter().map(|f| f.score).collect();
        assert_eq!(ids, [0.0, 2.0, 1.0, 3.0]);
    }
}
