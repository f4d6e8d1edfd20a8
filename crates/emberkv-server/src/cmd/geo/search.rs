//! GEORADIUS, GEORADIUSBYMEMBER (and their _RO forms), GEOSEARCH and
//! GEOSEARCHSTORE: one argument parser and one search, as Redis's
//! georadiusGeneric, with its order of checks and of errors.
//!
//! The STORE forms write a second key, so both keys' shards are locked
//! before the source is read. GEORADIUS's destination is only known once
//! its options are parsed, and parsing reads the source (FROMMEMBER) and
//! replies errors in Redis's order; so the options are first walked
//! without the source just to find the destination, then parsed for real
//! under the locks. The walk takes the same arguments as the real parse,
//! and fails wherever that one would, so a command that gets through
//! stores to the key the walk found.

use super::{lonlat_of, reply_coord, reply_distance, unit};
use crate::cmd::{coll, Args, Ctx};
use crate::errors;
use crate::notify;
use crate::store::entry::T_ZSET;
use crate::types::{Obj, ZSet};
use emberkv_core::ops::geo::{self, hash, Kind, Shape};
use std::borrow::Cow;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Variant {
    Radius,
    RadiusRo,
    ByMember,
    ByMemberRo,
    Search,
    SearchStore,
}

impl Variant {
    fn is_search(self) -> bool {
        matches!(self, Variant::Search | Variant::SearchStore)
    }
    /// STORE / STOREDIST key are options of this form.
    fn store_option(self) -> bool {
        matches!(self, Variant::Radius | Variant::ByMember)
    }
    /// Where the options start.
    fn base(self) -> usize {
        match self {
            Variant::Radius | Variant::RadiusRo => 6,
            Variant::ByMember | Variant::ByMemberRo => 5,
            Variant::Search => 2,
            Variant::SearchStore => 3,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// Everything the arguments ask for.
struct Query<'a> {
    center: (f64, f64),
    kind: Kind,
    to_m: f64,
    withdist: bool,
    withhash: bool,
    withcoord: bool,
    from_member: bool,
    from_lonlat: bool,
    by_radius: bool,
    by_box: bool,
    sort: Sort,
    any: bool,
    /// 0: no COUNT.
    count: i64,
    store: Option<&'a [u8]>,
    storedist: bool,
}

impl Query<'_> {
    fn new() -> Self {
        Query {
            center: (0.0, 0.0),
            kind: Kind::Radius(0.0),
            to_m: 1.0,
            withdist: false,
            withhash: false,
            withcoord: false,
            from_member: false,
            from_lonlat: false,
            by_radius: false,
            by_box: false,
            sort: Sort::None,
            any: false,
            count: 0,
            store: None,
            storedist: false,
        }
    }
}

type Fail = Cow<'static, str>;

/// A member's (lon, lat), None when it is not in the set.
type MemberPos<'f> = dyn FnMut(&[u8]) -> Option<(f64, f64)> + 'f;

/// `radius unit` at `args[i]`: (radius, meters per unit).
fn radius_of(args: &Args<'_>, i: usize) -> Result<(f64, f64), Fail> {
    let r = crate::cmd::num::parse_double(args.get(i)).ok_or(errors::GEO_NEED_RADIUS)?;
    if r < 0.0 {
        return Err(errors::GEO_NEGATIVE_RADIUS.into());
    }
    Ok((r, unit(args.get(i + 1))?))
}

/// `width height unit` at `args[i]`.
fn box_of(args: &Args<'_>, i: usize) -> Result<(f64, f64, f64), Fail> {
    let num = crate::cmd::num::parse_double;
    let w = num(args.get(i)).ok_or(errors::GEO_NEED_WIDTH)?;
    let h = num(args.get(i + 1)).ok_or(errors::GEO_NEED_HEIGHT)?;
    if h < 0.0 || w < 0.0 {
        return Err(errors::GEO_NEGATIVE_BOX.into());
    }
    Ok((w, h, unit(args.get(i + 2))?))
}

/// The options after the fixed arguments. `member` gives a member's
/// position for FROMMEMBER (None: not in the set); `have_key` is false
/// when the source is missing, where FROMMEMBER is taken unread.
fn parse_options<'a>(
    args: &Args<'a>,
    v: Variant,
    have_key: bool,
    member: &mut MemberPos<'_>,
    q: &mut Query<'a>,
) -> Result<(), Fail> {
    let base = v.base();
    let n = args.len().saturating_sub(base);
    let mut i = 0;
    while i < n {
        let at = base + i;
        let is = |s: &str| args.is(at, s);
        let left = n - i - 1;
        if is("withdist") {
            q.withdist = true;
        } else if is("withhash") {
            q.withhash = true;
        } else if is("withcoord") {
            q.withcoord = true;
        } else if is("any") {
            q.any = true;
        } else if is("asc") {
            q.sort = Sort::Asc;
        } else if is("desc") {
            q.sort = Sort::Desc;
        } else if is("count") && left >= 1 {
            let c = crate::util::parse_i64(args.get(at + 1)).ok_or(errors::NOT_INT)?;
            if c <= 0 {
                return Err(errors::GEO_COUNT.into());
            }
            q.count = c;
            i += 1;
        } else if (is("store") || is("storedist")) && left >= 1 && v.store_option() {
            q.store = Some(args.get(at + 1));
            q.storedist = is("storedist");
            i += 1;
        } else if is("storedist") && v == Variant::SearchStore {
            q.storedist = true;
        } else if is("frommember") && left >= 1 && v.is_search() && !q.from_lonlat {
            if have_key {
                q.center = member(args.get(at + 1)).ok_or(errors::GEO_NO_MEMBER)?;
            }
            q.from_member = true;
            i += 1;
        } else if is("fromlonlat") && left >= 2 && v.is_search() && !q.from_member {
            q.center = lonlat_of(args, at + 1)?;
            q.from_lonlat = true;
            i += 2;
        } else if is("byradius") && left >= 2 && v.is_search() && !q.by_box {
            let (r, to_m) = radius_of(args, at + 1)?;
            (q.kind, q.to_m, q.by_radius) = (Kind::Radius(r), to_m, true);
            i += 2;
        } else if is("bybox") && left >= 3 && v.is_search() && !q.by_radius {
            let (width, height, to_m) = box_of(args, at + 1)?;
            (q.kind, q.to_m, q.by_box) = (Kind::Box { width, height }, to_m, true);
            i += 3;
        } else {
            return Err(errors::SYNTAX.into());
        }
        i += 1;
    }
    Ok(())
}

/// COMMAND GETKEYS's destination positions of GEORADIUS (options from 6)
/// and GEORADIUSBYMEMBER (from 5): the first STORE key and the first
/// STOREDIST key, in that order, as Redis's key specs find them.
pub fn store_key_index(name: &str, argc: usize, is: impl Fn(usize, &str) -> bool) -> Vec<usize> {
    let from = if name == "georadius" { 6 } else { 5 };
    ["store", "storedist"]
        .iter()
        .filter_map(|w| (from..argc.saturating_sub(1)).find(|&i| is(i, w)))
        .map(|i| i + 1)
        .collect()
}

fn run(ctx: &mut Ctx<'_>, args: &Args<'_>, v: Variant) {
    let (src, dest) = match v {
        Variant::SearchStore => (args.get(2), Some(args.get(1))),
        Variant::Radius | Variant::ByMember => {
            // The walk for the destination (see the module comment).
            let mut q = Query::new();
            let ok = parse_options(args, v, true, &mut |_| Some((0.0, 0.0)), &mut q).is_ok();
            (args.get(1), q.store.filter(|_| ok))
        }
        _ => (args.get(1), None),
    };
    let srv = ctx.srv;
    let store = &srv.store;
    let db = ctx.client.db;
    let hs = store.hash(src);
    let hd = dest.map(|d| store.hash(d));
    let mut locked = store.lock_many(std::iter::once(hs).chain(hd));
    let stored = {
        let t = locked.table(hs, db);
        let g = match coll::read_in(ctx, t, hs, src, T_ZSET) {
            Err(_) => return ctx.wrongtype(),
            Ok(g) => g,
        };
        match query(ctx, args, v, g.as_ref().map(|g| g.as_zset())) {
            Ok(r) => r,
            Err(e) => return ctx.err(&e),
        }
    };
    let Some((dest, result)) = stored else {
        return;
    };
    let hd = hd.expect("a destination is locked");
    let t = locked.table(hd, db);
    let n = match result {
        None => {
            // No source: the destination is deleted.
            if t.delete(hd, dest) {
                ctx.notify(notify::GENERIC, "del", dest);
            }
            0
        }
        Some(z) => {
            let event = if v.is_search() {
                "geosearchstore"
            } else {
                "georadiusstore"
            };
            let n = coll::store_obj(ctx, t, hd, dest, Obj::ZSet(z), notify::ZSET, event);
            if n > 1 {
                // Redis counts every member stored.
                crate::effects::dirty(n as u64 - 1);
            }
            n
        }
    };
    drop(locked);
    ctx.out.int(n as i64);
}

/// What is left to store: the destination and the set (None: no source).
type ToStore<'a> = Option<(&'a [u8], Option<ZSet>)>;

/// Parses, searches and replies (or returns what to store).
fn query<'a>(
    ctx: &mut Ctx<'_>,
    args: &Args<'a>,
    v: Variant,
    z: Option<&ZSet>,
) -> Result<ToStore<'a>, Fail> {
    let mut q = Query::new();
    if v == Variant::SearchStore {
        q.store = Some(args.get(1));
    }
    match v {
        Variant::Radius | Variant::RadiusRo => {
            q.center = lonlat_of(args, 2)?;
            let (r, to_m) = radius_of(args, 4)?;
            (q.kind, q.to_m) = (Kind::Radius(r), to_m);
        }
        Variant::ByMember | Variant::ByMemberRo => {
            // Without the key nothing is read before the options.
            if let Some(z) = z {
                let s = z.score(args.get(2)).ok_or(errors::GEO_NO_MEMBER)?;
                q.center = hash::decode_score(s);
                let (r, to_m) = radius_of(args, 3)?;
                (q.kind, q.to_m) = (Kind::Radius(r), to_m);
            }
        }
        Variant::Search | Variant::SearchStore => {}
    }
    let mut member = |m: &[u8]| z.and_then(|z| z.score(m)).map(hash::decode_score);
    parse_options(args, v, z.is_some(), &mut member, &mut q)?;
    if q.store.is_some() && (q.withdist || q.withhash || q.withcoord) {
        return Err(if v == Variant::SearchStore {
            errors::GEO_SEARCHSTORE_WITH
        } else {
            errors::GEO_STORE_WITH
        }
        .into());
    }
    if v.is_search() && !(q.from_member || q.from_lonlat) {
        return Err(errors::geo_from(args.get(0)).into());
    }
    if v.is_search() && !(q.by_radius || q.by_box) {
        return Err(errors::geo_by(args.get(0)).into());
    }
    if q.any && q.count == 0 {
        return Err(errors::GEO_ANY_WITHOUT_COUNT.into());
    }
    let Some(z) = z else {
        if let Some(d) = q.store {
            return Ok(Some((d, None)));
        }
        ctx.out.array(0);
        return Ok(None);
    };
    // COUNT without an order means the nearest ones (not with ANY).
    if q.count != 0 && q.sort == Sort::None && !q.any {
        q.sort = Sort::Asc;
    }
    let shape = Shape {
        lon: q.center.0,
        lat: q.center.1,
        kind: q.kind,
        to_m: q.to_m,
    };
    let limit = if q.any { q.count as usize } else { 0 };
    let mut found = Vec::new();
    geo::search(z, &shape, limit, &mut found);
    let n = if q.count == 0 {
        found.len()
    } else {
        found.len().min(q.count as usize)
    };
    if q.sort != Sort::None {
        let desc = q.sort == Sort::Desc;
        if n == found.len() {
            geo::sort::sort_all(&mut found, desc);
        } else {
            geo::sort::sort_first(&mut found, desc, n);
        }
    }
    let found = &found[..n];
    if let Some(d) = q.store {
        let score = |f: &geo::Found<'_>| {
            if q.storedist {
                f.dist / q.to_m
            } else {
                f.score
            }
        };
        let pairs = found.iter().map(|f| (f.member, score(f)));
        return Ok(Some((d, Some(ZSet::from_pairs(pairs)))));
    }
    let extras = q.withdist as usize + q.withhash as usize + q.withcoord as usize;
    ctx.out.array(n);
    for f in found {
        if extras > 0 {
            ctx.out.array(extras + 1);
        }
        ctx.out.bulk(f.member);
        if q.withdist {
            reply_distance(ctx, f.dist / q.to_m);
        }
        if q.withhash {
            ctx.out.int(hash::cvtt(f.score));
        }
        if q.withcoord {
            ctx.out.array(2);
            reply_coord(ctx, f.lon);
            reply_coord(ctx, f.lat);
        }
    }
    Ok(None)
}

/// GEORADIUS key longitude latitude radius unit [options] [STORE key]
/// [STOREDIST key]
pub(super) fn georadius(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    run(ctx, args, Variant::Radius)
}
pub(super) fn georadius_ro(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    run(ctx, args, Variant::RadiusRo)
}
/// GEORADIUSBYMEMBER key member radius unit [options] [STORE key] ...
pub(super) fn georadiusbymember(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    run(ctx, args, Variant::ByMember)
}
pub(super) fn georadiusbymember_ro(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    run(ctx, args, Variant::ByMemberRo)
}
/// GEOSEARCH key FROMMEMBER member|FROMLONLAT lon lat BYRADIUS r unit|
/// BYBOX w h unit [ASC|DESC] [COUNT n [ANY]] [WITHCOORD] [WITHDIST]
/// [WITHHASH]
pub(super) fn geosearch(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    run(ctx, args, Variant::Search)
}
/// GEOSEARCHSTORE dest src ... [STOREDIST]
pub(super) fn geosearchstore(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    run(ctx, args, Variant::SearchStore)
}
