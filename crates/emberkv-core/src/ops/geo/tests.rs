//! Known values from Redis 7.0 (its documentation's Sicily examples and
//! replies of a real server).

use super::hash::{self, Hash};
use super::*;

const PALERMO: (f64, f64) = (13.361389, 38.115556);
const CATANIA: (f64, f64) = (15.087269, 37.502669);

fn set(points: &[(&str, f64, f64)]) -> ZSet {
    let mut z = ZSet::default();
    for &(m, lon, lat) in points {
        z.set(m.as_bytes(), hash::score_of(lon, lat).unwrap() as f64);
    }
    z
}

fn coord(d: f64) -> String {
    let mut b = [0u8; 48];
    let n = format_coord(d, &mut b);
    String::from_utf8(b[..n].to_vec()).unwrap()
}

fn dist(d: f64) -> String {
    let mut b = [0u8; 32];
    let n = format_distance(d, &mut b);
    String::from_utf8(b[..n].to_vec()).unwrap()
}

#[test]
fn scores_positions_and_hashes_are_redis_values() {
    assert_eq!(hash::score_of(PALERMO.0, PALERMO.1), Some(3479099956230698));
    assert_eq!(hash::score_of(CATANIA.0, CATANIA.1), Some(3479447370796909));
    let (lon, lat) = hash::decode_score(3479099956230698.0);
    assert_eq!(coord(lon), "13.36138933897018433");
    assert_eq!(coord(lat), "38.11555639549629859");
    assert_eq!(&hash::geohash_string(3479099956230698.0), b"sqc8b49rny0");
    assert_eq!(&hash::geohash_string(3479447370796909.0), b"sqdtr74hyu0");
}

#[test]
fn distances_use_redis_radius_and_format() {
    let a = hash::decode_score(3479099956230698.0);
    let b = hash::decode_score(3479447370796909.0);
    let d = distance(a.0, a.1, b.0, b.1);
    assert_eq!(dist(d), "166274.1516");
    assert_eq!(dist(d / 1000.0), "166.2742");
    assert_eq!(dist(d / 1609.34), "103.3182");
    assert_eq!(dist(0.0), "0.0000");
    assert_eq!(dist(6.06429515983917e-05), "0.0001");
    // Same meridian: the latitude shortcut.
    assert_eq!(distance(10.0, 0.0, 10.0, 1.0), area::lat_distance(0.0, 1.0));
}

#[test]
fn coordinates_trim_zeros() {
    assert_eq!(coord(180.0), "180");
    assert_eq!(coord(-0.0), "0");
    assert_eq!(coord(-1.5), "-1.5");
    assert_eq!(coord(0.1), "0.10000000000000001");
}

#[test]
fn neighbours_wrap_around_the_antimeridian() {
    let h = hash::encode_wgs84(179.9, 0.0, 4).unwrap();
    let n = hash::neighbors(&h);
    let east = hash::decode(hash::WGS84.0, hash::WGS84.1, n.east).unwrap();
    assert_eq!(east.lon.min, -180.0);
    let west = hash::decode(hash::WGS84.0, hash::WGS84.1, n.west).unwrap();
    assert!(west.lon.max <= 180.0 && west.lon.min > 100.0);
}

#[test]
fn radius_and_box_searches() {
    let z = set(&[
        ("Palermo", PALERMO.0, PALERMO.1),
        ("Catania", CATANIA.0, CATANIA.1),
        ("edge1", 12.758489, 38.788135),
        ("edge2", 17.241510, 38.788135),
    ]);
    let shape = |kind, to_m| Shape {
        lon: 15.0,
        lat: 37.0,
        kind,
        to_m,
    };
    let mut out = Vec::new();
    search(&z, &shape(Kind::Radius(200.0), 1000.0), 0, &mut out);
    sort::sort_all(&mut out, false);
    let names: Vec<&[u8]> = out.iter().map(|f| f.member).collect();
    assert_eq!(names, vec![&b"Catania"[..], b"Palermo"]);
    assert_eq!(dist(out[1].dist / 1000.0), "190.4424");
    out.clear();
    let b = Kind::Box {
        width: 400.0,
        height: 400.0,
    };
    search(&z, &shape(b, 1000.0), 0, &mut out);
    sort::sort_all(&mut out, true);
    let names: Vec<&[u8]> = out.iter().map(|f| f.member).collect();
    assert_eq!(names, vec![&b"edge1"[..], b"edge2", b"Palermo", b"Catania"]);
    out.clear();
    search(&z, &shape(b, 1000.0), 1, &mut out);
    assert_eq!(out.len(), 1, "ANY stops at the limit");
}

#[test]
fn foreign_scores_decode_as_on_x86() {
    assert_eq!(hash::score_bits(-1.0), u64::MAX);
    assert_eq!(hash::score_bits(f64::INFINITY), 0);
    assert_eq!(hash::score_bits(1e19), 10_000_000_000_000_000_000);
    assert_eq!(hash::cvtt(f64::NAN), i64::MIN);
    // Any score decodes inside the limits.
    for s in [-1.0, 1e30, 5e15, 0.0] {
        let (lon, lat) = hash::decode_score(s);
        assert!((-180.0..=180.0).contains(&lon) && (-85.06..=85.06).contains(&lat));
    }
    assert!(Hash::default().is_zero());
}

#[test]
fn steps_follow_the_radius_and_latitude() {
    assert_eq!(area::estimate_steps(0.0, 0.0), 26);
    assert_eq!(area::estimate_steps(1e-300, 0.0), 26);
    assert_eq!(area::estimate_steps(f64::INFINITY, 0.0), 1);
    let s = area::estimate_steps(1000.0, 0.0);
    assert_eq!(area::estimate_steps(1000.0, 70.0), s - 1);
    assert_eq!(area::estimate_steps(1000.0, -85.0), s - 2);
}
