//! Geo commands: points are sorted-set members whose score is their 52-bit
//! geohash (emberkv-core's ops/geo), so a geo key is a zset to every other
//! command, as in Redis. This file holds GEOADD, GEOPOS, GEOHASH, GEODIST,
//! the argument helpers and the COMMANDS table; `search.rs` holds the
//! GEORADIUS / GEOSEARCH family.

mod search;

use super::coll;
use super::{flags::*, Args, Command, Ctx, Group};
use crate::errors;
use crate::notify;
use crate::store::entry::T_ZSET;
use crate::types::{Obj, ZSet};
use emberkv_core::ops::geo::{self, hash};
use emberkv_protocol::Resp;
use search::{
    georadius, georadius_ro, georadiusbymember, georadiusbymember_ro, geosearch, geosearchstore,
};

pub use search::store_key_index;

/// (lon, lat) at `args[i]`, `args[i + 1]`, both parsed before the range
/// check; None after replying the error.
fn lonlat(ctx: &mut Ctx<'_>, args: &Args<'_>, i: usize) -> Option<(f64, f64)> {
    lonlat_of(args, i).map_err(|e| ctx.err(&e)).ok()
}

fn lonlat_of(args: &Args<'_>, i: usize) -> Result<(f64, f64), String> {
    let mut v = [0.0; 2];
    for (k, x) in v.iter_mut().enumerate() {
        *x = super::num::parse_double(args.get(i + k)).ok_or(errors::NOT_FLOAT)?;
    }
    let [lon, lat] = v;
    if !(hash::LON_MIN..=hash::LON_MAX).contains(&lon)
        || !(hash::LAT_MIN..=hash::LAT_MAX).contains(&lat)
    {
        return Err(errors::geo_lonlat(lon, lat));
    }
    Ok((lon, lat))
}

/// Meters per unit (m, km, ft, mi, any case; the name ends at a NUL as
/// Redis's C string does).
fn unit(a: &[u8]) -> Result<f64, &'static str> {
    let a = &a[..memchr::memchr(0, a).unwrap_or(a.len())];
    let is = |s: &str| a.eq_ignore_ascii_case(s.as_bytes());
    if is("m") {
        Ok(1.0)
    } else if is("km") {
        Ok(1000.0)
    } else if is("ft") {
        Ok(0.3048)
    } else if is("mi") {
        Ok(1609.34)
    } else {
        Err(errors::GEO_UNIT)
    }
}

/// Writes a distance (in the reply's unit) as Redis does: a bulk string
/// with 4 decimals in both protocols.
fn reply_distance(ctx: &mut Ctx<'_>, d: f64) {
    let mut b = [0u8; 32];
    let n = geo::format_distance(d, &mut b);
    ctx.out.bulk(&b[..n]);
}

/// Writes one coordinate (addReplyHumanLongDouble): a bulk string in
/// RESP2, a double in RESP3, with the same text.
fn reply_coord(ctx: &mut Ctx<'_>, d: f64) {
    let mut b = [0u8; 48];
    let n = geo::format_coord(d, &mut b);
    match ctx.client.resp {
        Resp::V2 => ctx.out.bulk(&b[..n]),
        Resp::V3 => ctx.out.double_text(&b[..n]),
    }
}

/// GEOADD key [NX|XX] [CH] longitude latitude member [...]: ZADD of the
/// points' scores, propagated as that ZADD (as Redis rewrites it).
fn geoadd(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let (mut nx, mut xx, mut ch) = (false, false, false);
    let mut j = 2;
    while j < args.len() {
        if args.is(j, "nx") {
            nx = true;
        } else if args.is(j, "xx") {
            xx = true;
        } else if args.is(j, "ch") {
            ch = true;
        } else {
            break;
        }
        j += 1;
    }
    let rest = args.len() - j;
    // No point at all fails in ZADD, with the same reply.
    if !rest.is_multiple_of(3) || (nx && xx) || rest == 0 {
        return ctx.syntax();
    }
    let mut points: Vec<(u64, &[u8])> = Vec::with_capacity(rest / 3);
    for i in (j..args.len()).step_by(3) {
        let Some((lon, lat)) = lonlat(ctx, args, i) else {
            return;
        };
        let score = hash::score_of(lon, lat).expect("coordinates in range");
        points.push((score, args.get(i + 2)));
    }
    let maxlen = points.iter().map(|p| p.1.len()).max().unwrap_or(0);
    let n = points.len();
    // Sized for the whole request, as ZADD's zsetTypeCreate does.
    let make = move || Obj::ZSet(ZSet::with_capacity(n, maxlen));
    let create: Option<&dyn Fn() -> Obj> = if xx { None } else { Some(&make) };
    let key = args.get(1);
    coll::write(
        ctx,
        key,
        T_ZSET,
        create,
        |c| c.out.int(0),
        |ctx, o| {
            let z = o.zset();
            let (mut added, mut changed) = (0i64, 0i64);
            for &(score, m) in &points {
                let score = score as f64;
                match z.score(m) {
                    None if xx => {}
                    None => {
                        z.set(m, score);
                        added += 1;
                    }
                    Some(_) if nx => {}
                    Some(old) if old == score => {}
                    Some(_) => {
                        z.set(m, score);
                        changed += 1;
                    }
                }
            }
            if added + changed > 0 {
                ctx.notify(notify::ZSET, "zadd", key);
                // Redis counts every point added or moved.
                crate::effects::dirty((added + changed - 1) as u64);
                propagate_as_zadd(ctx, args, j, &points);
            }
            ctx.out.int(added + if ch { changed } else { 0 });
        },
    );
}

/// `ZADD key <GEOADD's options> score member ...`, the command Redis
/// propagates for a GEOADD.
fn propagate_as_zadd(ctx: &Ctx<'_>, args: &Args<'_>, first: usize, points: &[(u64, &[u8])]) {
    if !crate::effects::propagating() {
        return;
    }
    let scores: Vec<String> = points.iter().map(|p| p.0.to_string()).collect();
    let mut v: Vec<&[u8]> = Vec::with_capacity(first + 2 * points.len());
    v.push(b"zadd");
    v.extend((1..first).map(|i| args.get(i)));
    for (s, p) in scores.iter().zip(points) {
        v.push(s.as_bytes());
        v.push(p.1);
    }
    crate::effects::propagate(ctx.client.db, &v);
}

/// GEOPOS key member [member ...]
fn geopos(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    super::zsets::member_scores(
        ctx,
        args,
        |c| c.out.null_array(),
        |c, s| {
            let (lon, lat) = hash::decode_score(s);
            c.out.array(2);
            reply_coord(c, lon);
            reply_coord(c, lat);
        },
    );
}

/// GEOHASH key member [member ...]
fn geohash(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    super::zsets::member_scores(
        ctx,
        args,
        |c| c.out.null(),
        |c, s| c.out.bulk(&hash::geohash_string(s)),
    );
}

/// GEODIST key member1 member2 [M|KM|FT|MI]: the unit is checked before
/// the key, as in Redis.
fn geodist(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let to_m = match args.len() {
        4 => 1.0,
        5 => match unit(args.get(4)) {
            Ok(u) => u,
            Err(e) => return ctx.err(e),
        },
        _ => return ctx.syntax(),
    };
    coll::read(
        ctx,
        args.get(1),
        T_ZSET,
        |c| c.out.null(),
        |ctx, o| {
            let z = o.as_zset();
            let (Some(a), Some(b)) = (z.score(args.get(2)), z.score(args.get(3))) else {
                return ctx.out.null();
            };
            let (a, b) = (hash::decode_score(a), hash::decode_score(b));
            reply_distance(ctx, geo::distance(a.0, a.1, b.0, b.1) / to_m);
        },
    );
}

const fn g(name: &'static str, arity: i32, flags: u32, h: super::Handler) -> Command {
    Command::new(name, arity, flags, h).keys(1, 1, 1)
}

const G: Group = Group::Geo;

pub static COMMANDS: &[Command] = &[
    g("geoadd", -5, WRITE | DENYOOM, geoadd).doc(G, "3.2.0", "O(log(N)) for each item added, where N is the number of elements in the sorted set.", "Add one or more geospatial items in the geospatial index represented using a sorted set"),
    g("geodist", -4, READONLY, geodist).doc(G, "3.2.0", "O(log(N))", "Returns the distance between two members of a geospatial index"),
    g("geohash", -2, READONLY, geohash).doc(G, "3.2.0", "O(log(N)) for each member requested, where N is the number of elements in the sorted set.", "Returns members of a geospatial index as standard geohash strings"),
    g("geopos", -2, READONLY, geopos).doc(G, "3.2.0", "O(N) where N is the number of members requested.", "Returns longitude and latitude of members of a geospatial index"),
    g("georadius", -6, WRITE | DENYOOM | MOVABLE_KEYS | STORE_KEY, georadius).doc(G, "3.2.0", "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.", "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a point"),
    g("georadiusbymember", -5, WRITE | DENYOOM | MOVABLE_KEYS | STORE_KEY, georadiusbymember).doc(G, "3.2.0", "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.", "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a member"),
    g("georadius_ro", -6, READONLY, georadius_ro).doc(G, "3.2.10", "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.", "A read-only variant for GEORADIUS"),
    g("georadiusbymember_ro", -5, READONLY, georadiusbymember_ro).doc(G, "3.2.10", "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.", "A read-only variant for GEORADIUSBYMEMBER"),
    g("geosearch", -7, READONLY, geosearch).doc(G, "6.2.0", "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape", "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle."),
    Command::new("geosearchstore", -8, WRITE | DENYOOM, geosearchstore).keys(1, 2, 1).doc(G, "6.2.0", "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape", "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle, and store the result in another key."),
];
