//! Geospatial data operations over sorted sets, as Redis's geo.c does
//! them: a point is a member whose score is its 52-bit interleaved geohash
//! ([`hash`]), and a search walks the score ranges of the 3x3 cells that
//! cover its shape ([`area::cover`]), keeping the points inside the shape.
//! The server's geo commands (cmd/geo/) parse, call these and reply.

pub mod area;
pub mod hash;
pub mod sort;
#[cfg(test)]
mod tests;

pub use area::{distance, Kind, Shape};

use crate::types::ZSet;
use hash::Hash;

/// A point a search found, borrowing its member from the locked set.
#[derive(Clone, Copy, Debug)]
pub struct Found<'a> {
    pub member: &'a [u8],
    pub score: f64,
    pub lon: f64,
    pub lat: f64,
    /// Meters from the search's centre.
    pub dist: f64,
}

/// Appends the members of `z` inside `s` to `out`: the centre cell, then
/// N, S, E, W, NE, NW, SE, SW (a cell equal to the one searched just before
/// is skipped: with huge radii the neighbours repeat), each in score
/// order. `limit` > 0 stops at that many points (COUNT ... ANY).
pub fn search<'a>(z: &'a ZSet, s: &Shape, limit: usize, out: &mut Vec<Found<'a>>) {
    let c = area::cover(s);
    let n = c.neighbors;
    let cells = [
        c.hash,
        n.north,
        n.south,
        n.east,
        n.west,
        n.north_east,
        n.north_west,
        n.south_east,
        n.south_west,
    ];
    // Redis compares with the last cell searched, where index 0 also
    // means "none yet" (so a neighbour equal to the centre is searched
    // again when nothing came in between).
    let mut last = 0;
    for (i, &cell) in cells.iter().enumerate() {
        if cell.is_zero() || (last != 0 && cell == cells[last]) {
            continue;
        }
        if limit > 0 && out.len() >= limit {
            break;
        }
        in_cell(z, cell, s, limit, out);
        last = i;
    }
}

/// The points of one cell: scores in [cell's first 52-bit value, next
/// cell's first value).
fn in_cell<'a>(z: &'a ZSet, cell: Hash, s: &Shape, limit: usize, out: &mut Vec<Found<'a>>) {
    let min = hash::align52(cell) as f64;
    let next = Hash {
        bits: cell.bits.wrapping_add(1),
        step: cell.step,
    };
    let max = hash::align52(next) as f64;
    let lo = z.count_before(|sc, _| sc < min);
    z.walk_up(lo, |member, score| {
        if score >= max {
            return false;
        }
        let (lon, lat) = hash::decode_score(score);
        if let Some(dist) = area::within(s, lon, lat) {
            out.push(Found {
                member,
                score,
                lon,
                lat,
                dist,
            });
        }
        !(limit > 0 && out.len() >= limit)
    });
}

/// Redis's GEODIST / WITHDIST text: `%.4f` by rounding `d * 10^4` to the
/// nearest integer (ties to even, llrint), which differs from printf's
/// exact decimal rounding in rare cases.
pub fn format_distance(d: f64, out: &mut [u8; 32]) -> usize {
    let v = (d * 10_000.0).round_ties_even();
    // llrint of a value past i64 (not reachable with earth distances) is
    // i64::MIN on x86-64.
    let v = hash::cvtt(v);
    let neg = v < 0;
    let mag = v.unsigned_abs();
    let (int, frac) = (mag / 10_000, mag % 10_000);
    let mut w = std::io::Cursor::new(&mut out[..]);
    use std::io::Write;
    let _ = write!(w, "{}{}.{:04}", if neg { "-" } else { "" }, int, frac);
    w.position() as usize
}

/// Redis's coordinates text (ld2string in human mode): `%.17Lf` of the
/// double, trailing zeros and a trailing dot removed, "-0" as "0".
pub fn format_coord(d: f64, out: &mut [u8; 48]) -> usize {
    let mut w = std::io::Cursor::new(&mut out[..]);
    use std::io::Write;
    let _ = write!(w, "{d:.17}");
    let mut n = w.position() as usize;
    if out[..n].contains(&b'.') {
        while out[n - 1] == b'0' {
            n -= 1;
        }
        if out[n - 1] == b'.' {
            n -= 1;
        }
    }
    if &out[..n] == b"-0" {
        out[0] = b'0';
        n = 1;
    }
    n
}
