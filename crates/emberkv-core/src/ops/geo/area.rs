//! Search areas and distances (Redis's geohash_helper.c semantics): the
//! step whose 3x3 cells cover a search shape, the cells that can be
//! skipped, and the haversine distance on Redis's sphere.

use super::hash::{self, Area, Hash, Neighbors, WGS84};

/// Redis's earth radius (the quadratic mean radius of WGS-84), in meters.
pub const EARTH_RADIUS_M: f64 = 6372797.560856;
const MERCATOR_MAX: f64 = 20037726.37;
const D_R: f64 = std::f64::consts::PI / 180.0;

#[inline]
fn deg_rad(a: f64) -> f64 {
    a * D_R
}
#[inline]
fn rad_deg(a: f64) -> f64 {
    a / D_R
}

/// What a search covers around its centre. Sizes are in the query's unit;
/// `to_m` converts them to meters.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    Radius(f64),
    Box { width: f64, height: f64 },
}

#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub lon: f64,
    pub lat: f64,
    pub kind: Kind,
    pub to_m: f64,
}

/// The centre cell and the neighbours to search (zeroed ones skipped).
#[derive(Clone, Copy, Debug)]
pub struct Cover {
    pub hash: Hash,
    pub neighbors: Neighbors,
}

/// The step of the 9 cells of a search of `range_m` meters at `lat`.
pub fn estimate_steps(mut range_m: f64, lat: f64) -> u8 {
    if range_m == 0.0 {
        return 26;
    }
    let mut step: i32 = 1;
    // Bounded: doubling the smallest positive double reaches the limit in
    // about 1100 rounds.
    while range_m < MERCATOR_MAX {
        range_m *= 2.0;
        step += 1;
    }
    step -= 2;
    // Meridians converge towards the poles: wider cells there.
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

/// (min lon, min lat, max lon, max lat) around the shape: a box that bends
/// with the meridians, wider on its side towards the pole.
pub fn bounding_box(s: &Shape) -> [f64; 4] {
    let (h, w) = match s.kind {
        Kind::Radius(r) => (s.to_m * r, s.to_m * r),
        Kind::Box { width, height } => (s.to_m * (height / 2.0), s.to_m * (width / 2.0)),
    };
    let lat_delta = rad_deg(h / EARTH_RADIUS_M);
    let lon_delta_top = rad_deg(w / EARTH_RADIUS_M / deg_rad(s.lat + lat_delta).cos());
    let lon_delta_bottom = rad_deg(w / EARTH_RADIUS_M / deg_rad(s.lat - lat_delta).cos());
    let d = if s.lat < 0.0 {
        lon_delta_bottom
    } else {
        lon_delta_top
    };
    [s.lon - d, s.lat - lat_delta, s.lon + d, s.lat + lat_delta]
}

fn decode(h: Hash) -> Area {
    hash::decode(WGS84.0, WGS84.1, h).unwrap_or_default()
}

/// The cells to search for `s`: the step from its size, one step coarser
/// when a side neighbour does not reach the bounding box, and without the
/// neighbours the bounding box does not reach.
pub fn cover(s: &Shape) -> Cover {
    let [min_lon, min_lat, max_lon, max_lat] = bounding_box(s);
    let radius_m = match s.kind {
        Kind::Radius(r) => r,
        Kind::Box { width, height } => {
            ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
        }
    } * s.to_m;
    let mut steps = estimate_steps(radius_m, s.lat);
    // The centre is range-checked (or a decoded point), so it encodes.
    let at = |steps| {
        let h = hash::encode_wgs84(s.lon, s.lat, steps).unwrap_or_default();
        (h, hash::neighbors(&h))
    };
    let (mut h, mut n) = at(steps);
    let (north, south, east, west) = (
        decode(n.north),
        decode(n.south),
        decode(n.east),
        decode(n.west),
    );
    let decrease = north.lat.max < max_lat
        || south.lat.min > min_lat
        || east.lon.max < max_lon
        || west.lon.min > min_lon;
    if steps > 1 && decrease {
        steps -= 1;
        (h, n) = at(steps);
    }
    let area = decode(h);
    if steps >= 2 {
        let z = Hash::default();
        if area.lat.min < min_lat {
            (n.south, n.south_west, n.south_east) = (z, z, z);
        }
        if area.lat.max > max_lat {
            (n.north, n.north_east, n.north_west) = (z, z, z);
        }
        if area.lon.min < min_lon {
            (n.west, n.south_west, n.north_west) = (z, z, z);
        }
        if area.lon.max > max_lon {
            (n.east, n.south_east, n.north_east) = (z, z, z);
        }
    }
    Cover {
        hash: h,
        neighbors: n,
    }
}

/// Meters between two latitudes on one meridian.
#[inline]
pub fn lat_distance(lat1: f64, lat2: f64) -> f64 {
    EARTH_RADIUS_M * (deg_rad(lat2) - deg_rad(lat1)).abs()
}

/// Haversine distance in meters, with Redis's shortcut on one meridian.
pub fn distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let (lon1r, lon2r) = (deg_rad(lon1), deg_rad(lon2));
    let v = ((lon2r - lon1r) / 2.0).sin();
    if v == 0.0 {
        return lat_distance(lat1, lat2);
    }
    let (lat1r, lat2r) = (deg_rad(lat1), deg_rad(lat2));
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS_M * a.sqrt().asin()
}

/// The distance from the shape's centre to (lon, lat) if the point is
/// inside the shape. A box holds the points within half its height of the
/// centre's latitude and half its width along the point's own parallel.
pub fn within(s: &Shape, lon: f64, lat: f64) -> Option<f64> {
    match s.kind {
        Kind::Radius(r) => {
            // `>` as in Redis: a NaN distance (rounding past 1 under the
            // arcsine, antipodes) counts as inside.
            let d = distance(s.lon, s.lat, lon, lat);
            (d.is_nan() || d <= r * s.to_m).then_some(d)
        }
        Kind::Box { width, height } => {
            let (w, h) = (width * s.to_m, height * s.to_m);
            // `>` lets NaN through, as Redis's tests do.
            if lat_distance(lat, s.lat) > h / 2.0 {
                return None;
            }
            if distance(lon, lat, s.lon, lat) > w / 2.0 {
                return None;
            }
            Some(distance(s.lon, s.lat, lon, lat))
        }
    }
}
