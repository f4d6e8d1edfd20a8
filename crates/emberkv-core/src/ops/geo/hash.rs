//! The interleaved geohash Redis stores as a sorted-set score: longitude
//! and latitude each cut into `2^step` cells (26 steps: 52 bits), the
//! latitude bits in the even positions and the longitude bits in the odd
//! ones. Latitudes are limited to the Web Mercator range (±85.05112878).
//! Every operation is the same floating-point sequence as Redis's, so the
//! scores and the decoded coordinates are the same bits.

pub const LAT_MIN: f64 = -85.05112878;
pub const LAT_MAX: f64 = 85.05112878;
pub const LON_MIN: f64 = -180.0;
pub const LON_MAX: f64 = 180.0;
/// The precision of stored points: 26 steps, 52 bits.
pub const STEP_MAX: u8 = 26;

/// A cell: `step` bits per coordinate, interleaved in `bits`. A zeroed cell
/// (bits and step 0) is a neighbour excluded from a search.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Hash {
    pub bits: u64,
    pub step: u8,
}

impl Hash {
    pub fn is_zero(&self) -> bool {
        self.bits == 0 && self.step == 0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

/// The rectangle a cell covers.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Area {
    pub lon: Range,
    pub lat: Range,
}

/// The 8 cells around one, in the order Redis searches them after the
/// centre: N, S, E, W, NE, NW, SE, SW.
#[derive(Clone, Copy, Debug, Default)]
pub struct Neighbors {
    pub north: Hash,
    pub south: Hash,
    pub east: Hash,
    pub west: Hash,
    pub north_east: Hash,
    pub north_west: Hash,
    pub south_east: Hash,
    pub south_west: Hash,
}

/// The ranges of stored points.
pub const WGS84: (Range, Range) = (
    Range {
        min: LON_MIN,
        max: LON_MAX,
    },
    Range {
        min: LAT_MIN,
        max: LAT_MAX,
    },
);

/// Spreads the low 32 bits of `x` to the even bit positions and those of
/// `y` to the odd ones.
#[inline]
fn interleave(x: u32, y: u32) -> u64 {
    fn spread(v: u32) -> u64 {
        let mut v = v as u64;
        v = (v | (v << 16)) & 0x0000_FFFF_0000_FFFF;
        v = (v | (v << 8)) & 0x00FF_00FF_00FF_00FF;
        v = (v | (v << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
        v = (v | (v << 2)) & 0x3333_3333_3333_3333;
        (v | (v << 1)) & 0x5555_5555_5555_5555
    }
    spread(x) | (spread(y) << 1)
}

/// The inverse of [`interleave`]: even bits in the low half, odd bits in
/// the high half.
#[inline]
fn deinterleave(v: u64) -> u64 {
    fn squash(mut v: u64) -> u64 {
        v &= 0x5555_5555_5555_5555;
        v = (v | (v >> 1)) & 0x3333_3333_3333_3333;
        v = (v | (v >> 2)) & 0x0F0F_0F0F_0F0F_0F0F;
        v = (v | (v >> 4)) & 0x00FF_00FF_00FF_00FF;
        v = (v | (v >> 8)) & 0x0000_FFFF_0000_FFFF;
        (v | (v >> 16)) & 0x0000_0000_FFFF_FFFF
    }
    squash(v) | (squash(v >> 1) << 32)
}

/// The cell of `step` bits holding (lon, lat) in the given ranges; None
/// outside the WGS84 limits or the ranges.
pub fn encode(lon_r: Range, lat_r: Range, lon: f64, lat: f64, step: u8) -> Option<Hash> {
    if step > 32 || step == 0 {
        return None;
    }
    if !(LON_MIN..=LON_MAX).contains(&lon) || !(LAT_MIN..=LAT_MAX).contains(&lat) {
        return None;
    }
    if lat < lat_r.min || lat > lat_r.max || lon < lon_r.min || lon > lon_r.max {
        return None;
    }
    let cells = (1u64 << step) as f64;
    let lat_off = (lat - lat_r.min) / (lat_r.max - lat_r.min) * cells;
    let lon_off = (lon - lon_r.min) / (lon_r.max - lon_r.min) * cells;
    // Truncation as C's double -> uint32_t (the offsets are in 0..=2^step).
    Some(Hash {
        bits: interleave(lat_off as u32, lon_off as u32),
        step,
    })
}

/// [`encode`] in the stored-point ranges.
pub fn encode_wgs84(lon: f64, lat: f64, step: u8) -> Option<Hash> {
    encode(WGS84.0, WGS84.1, lon, lat, step)
}

/// The rectangle of a cell; None for a zeroed cell.
pub fn decode(lon_r: Range, lat_r: Range, h: Hash) -> Option<Area> {
    if h.is_zero() {
        return None;
    }
    let sep = deinterleave(h.bits);
    let lat_scale = lat_r.max - lat_r.min;
    let lon_scale = lon_r.max - lon_r.min;
    let ilat = sep as u32;
    let ilon = (sep >> 32) as u32;
    let cells = (1u64 << h.step) as f64;
    // `+ 1` wraps in 32 bits, as in Redis (only a score that is no geohash
    // reaches the top cell index).
    let at = |i: u32, min: f64, scale: f64| min + (i as f64 * 1.0 / cells) * scale;
    Some(Area {
        lat: Range {
            min: at(ilat, lat_r.min, lat_scale),
            max: at(ilat.wrapping_add(1), lat_r.min, lat_scale),
        },
        lon: Range {
            min: at(ilon, lon_r.min, lon_scale),
            max: at(ilon.wrapping_add(1), lon_r.min, lon_scale),
        },
    })
}

/// The centre of a cell, clamped to the WGS84 limits.
pub fn area_center(a: &Area) -> (f64, f64) {
    let lon = ((a.lon.min + a.lon.max) / 2.0).clamp(LON_MIN, LON_MAX);
    let lat = ((a.lat.min + a.lat.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    (lon, lat)
}

/// A score as Redis's `(uint64_t)score` on x86-64: values below 2^63 go
/// through the signed conversion (negative ones wrap, out-of-range and NaN
/// give 2^63), larger ones are offset by 2^63 first. Scores written by
/// GEOADD are exact integers below 2^53; anything else a client ZADDed
/// decodes to the same point as on Redis.
pub fn score_bits(score: f64) -> u64 {
    const TWO63: f64 = 9_223_372_036_854_775_808.0;
    if score >= TWO63 {
        (cvtt(score - TWO63) as u64) ^ (1 << 63)
    } else {
        cvtt(score) as u64
    }
}

/// C's `(long long)d` on x86-64 (cvttsd2si): truncation, and i64::MIN for
/// NaN or out of range.
pub fn cvtt(d: f64) -> i64 {
    const TWO63: f64 = 9_223_372_036_854_775_808.0;
    if !(-TWO63..TWO63).contains(&d) {
        i64::MIN
    } else {
        d as i64
    }
}

/// The (lon, lat) a sorted-set score stands for: the centre of its 26-step
/// cell.
pub fn decode_score(score: f64) -> (f64, f64) {
    let h = Hash {
        bits: score_bits(score),
        step: STEP_MAX,
    };
    let area = decode(WGS84.0, WGS84.1, h).expect("step is not 0");
    area_center(&area)
}

/// The score GEOADD stores for (lon, lat) (already range-checked).
pub fn score_of(lon: f64, lat: f64) -> Option<u64> {
    encode_wgs84(lon, lat, STEP_MAX).map(align52)
}

/// A cell's bits shifted to the 52-bit score scale.
#[inline]
pub fn align52(h: Hash) -> u64 {
    h.bits << (52 - h.step as u32 * 2)
}

fn move_x(h: &mut Hash, d: i8) {
    if d == 0 {
        return;
    }
    let shift = 64 - h.step as u32 * 2;
    let mut x = h.bits & 0xaaaa_aaaa_aaaa_aaaa;
    let y = h.bits & 0x5555_5555_5555_5555;
    let zz = 0x5555_5555_5555_5555u64 >> shift;
    if d > 0 {
        x = x.wrapping_add(zz + 1);
    } else {
        x |= zz;
        x = x.wrapping_sub(zz + 1);
    }
    x &= 0xaaaa_aaaa_aaaa_aaaau64 >> shift;
    h.bits = x | y;
}

fn move_y(h: &mut Hash, d: i8) {
    if d == 0 {
        return;
    }
    let shift = 64 - h.step as u32 * 2;
    let x = h.bits & 0xaaaa_aaaa_aaaa_aaaa;
    let mut y = h.bits & 0x5555_5555_5555_5555;
    let zz = 0xaaaa_aaaa_aaaa_aaaau64 >> shift;
    if d > 0 {
        y = y.wrapping_add(zz + 1);
    } else {
        y |= zz;
        y = y.wrapping_sub(zz + 1);
    }
    y &= 0x5555_5555_5555_5555u64 >> shift;
    h.bits = x | y;
}

/// The 8 cells around `h` at its step; they wrap around at the edges of the
/// ranges (east of the antimeridian is the far west), as in Redis.
pub fn neighbors(h: &Hash) -> Neighbors {
    let at = |dx: i8, dy: i8| {
        let mut n = *h;
        move_x(&mut n, dx);
        move_y(&mut n, dy);
        n
    };
    Neighbors {
        east: at(1, 0),
        west: at(-1, 0),
        south: at(0, -1),
        north: at(0, 1),
        north_west: at(-1, 1),
        north_east: at(1, 1),
        south_east: at(1, -1),
        south_west: at(-1, -1),
    }
}

/// GEOHASH's 11-character string for a score: the point re-encoded in the
/// standard ranges (latitude ±90), 5 bits a character, and a last
/// character of 0 bits as Redis gives (52 bits fill only 10.4 characters).
pub fn geohash_string(score: f64) -> [u8; 11] {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let (lon, lat) = decode_score(score);
    let std_lon = Range {
        min: -180.0,
        max: 180.0,
    };
    let std_lat = Range {
        min: -90.0,
        max: 90.0,
    };
    // The decoded point is always inside both ranges.
    let bits = encode(std_lon, std_lat, lon, lat, 26).map_or(0, |h| h.bits);
    let mut out = [b'0'; 11];
    for (i, c) in out.iter_mut().enumerate().take(10) {
        *c = ALPHABET[((bits >> (52 - (i + 1) * 5)) & 0x1f) as usize];
    }
    out
}
