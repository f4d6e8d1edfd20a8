//! SORT and SORT_RO over lists, sets and sorted sets.
//!
//! BY and GET patterns name other keys, found only while sorting, so a SORT
//! with patterns locks every shard (like KEYS) to stay atomic; a plain SORT
//! locks only its source and destination.

use super::coll;
use super::{flags::*, Args, Command, Ctx, Group};
use crate::errors;
use crate::store::entry::{T_HASH, T_LIST, T_SET, T_STRING, T_ZSET};
use crate::store::Locked;
use crate::types::{List, Obj, ObjGuard};
use std::cmp::Ordering;

struct SortReq<'a> {
    by: Option<&'a [u8]>,
    limit: Option<(i64, i64)>,
    gets: Vec<&'a [u8]>,
    desc: bool,
    alpha: bool,
    store: Option<&'a [u8]>,
}

fn parse<'a>(ctx: &mut Ctx<'_>, args: &Args<'a>, ro: bool) -> Option<SortReq<'a>> {
    let mut r = SortReq {
        by: None,
        limit: None,
        gets: Vec::new(),
        desc: false,
        alpha: false,
        store: None,
    };
    let mut j = 2;
    while j < args.len() {
        let left = args.len() - j - 1;
        if args.is(j, "asc") {
            r.desc = false;
        } else if args.is(j, "desc") {
            r.desc = true;
        } else if args.is(j, "alpha") {
            r.alpha = true;
        } else if args.is(j, "limit") && left >= 2 {
            let o = ctx.int_arg(args.get(j + 1))?;
            let c = ctx.int_arg(args.get(j + 2))?;
            r.limit = Some((o, c));
            j += 2;
        } else if !ro && args.is(j, "store") && left >= 1 {
            r.store = Some(args.get(j + 1));
            j += 1;
        } else if args.is(j, "by") && left >= 1 {
            r.by = Some(args.get(j + 1));
            j += 1;
        } else if args.is(j, "get") && left >= 1 {
            r.gets.push(args.get(j + 1));
            j += 1;
        } else {
            ctx.syntax();
            return None;
        }
        j += 1;
    }
    Some(r)
}

/// Looks up a BY/GET pattern for element `e`: `*` is replaced by `e`; a
/// `->field` suffix reads a hash field. `#` alone is the element itself.
fn lookup(ctx: &Ctx<'_>, locked: &mut Locked<'_>, pat: &[u8], e: &[u8]) -> Option<Vec<u8>> {
    if pat == b"#" {
        return Some(e.to_vec());
    }
    let star = pat.iter().position(|&c| c == b'*')?;
    let arrow = pat
        .windows(2)
        .rposition(|w| w == b"->")
        .filter(|&p| p > star && p + 2 < pat.len());
    let key_end = arrow.unwrap_or(pat.len());
    let mut key = Vec::with_capacity(key_end + e.len());
    key.extend_from_slice(&pat[..star]);
    key.extend_from_slice(e);
    key.extend_from_slice(&pat[star + 1..key_end]);
    let h = ctx.srv.store.hash(&key);
    let t = locked.table(h, ctx.client.db);
    let ent = t.lookup(h, &key, ctx.now_ms)?;
    match arrow {
        None if ent.kind() == T_STRING => Some(ent.str_value().to_vec()),
        Some(a) if ent.kind() == T_HASH => {
            let g = ObjGuard::new(ent);
            let v = g.as_hash().get(&pat[a + 2..]).map(|v| v.to_vec());
            v
        }
        _ => None,
    }
}

fn sort_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, ro: bool) {
    let Some(req) = parse(ctx, args, ro) else {
        return;
    };
    let key = args.get(1);
    let srv = ctx.srv;
    let store = &srv.store;
    let h = store.hash(key);
    let hd = req.store.map(|d| store.hash(d));
    let patterns = req.by.is_some() || req.gets.iter().any(|g| *g != b"#");
    let mut locked = if patterns {
        store.lock_all()
    } else {
        store.lock_many([h].into_iter().chain(hd))
    };
    let db = ctx.client.db;
    // Elements, and whether the source is a sorted set (natural order).
    let (mut elems, is_zset, is_set): (Vec<Vec<u8>>, bool, bool) = {
        let t = locked.table(h, db);
        match super::keys::read_entry(ctx, t, h, key) {
            None => (Vec::new(), false, false),
            Some(e) => match e.kind() {
                T_LIST => (
                    ObjGuard::new(e)
                        .as_list()
                        .iter()
                        .map(|x| x.to_vec())
                        .collect(),
                    false,
                    false,
                ),
                T_SET => (ObjGuard::new(e).as_set().members(), false, true),
                T_ZSET => {
                    let mut v = Vec::new();
                    ObjGuard::new(e)
                        .as_zset()
                        .for_each(|m, _| v.push(m.to_vec()));
                    (v, true, false)
                }
                _ => return ctx.wrongtype(),
            },
        }
    };
    // BY without '*' means "do not sort" (sets still get sorted when stored,
    // so the result does not depend on hash order).
    let mut dontsort = req.by.is_some_and(|b| !b.contains(&b'*'));
    if dontsort && is_set && req.store.is_some() {
        dontsort = false;
    }
    let by = if dontsort { None } else { req.by };
    if !dontsort {
        let mut keyed: Vec<(Vec<u8>, Option<Vec<u8>>, f64)> = Vec::with_capacity(elems.len());
        for e in elems.drain(..) {
            let cmpv = match by {
                Some(p) => lookup(ctx, &mut locked, p, &e),
                None => Some(e.clone()),
            };
            let mut score = 0.0;
            if !req.alpha {
                if let Some(v) = &cmpv {
                    match super::num::parse_sort_score(v) {
                        Some(s) => score = s,
                        None => return ctx.err(errors::SORT_NOT_DOUBLE),
                    }
                }
            }
            keyed.push((e, cmpv, score));
        }
        let alpha = req.alpha;
        let has_by = by.is_some();
        keyed.sort_by(|a, b| {
            let c = if alpha {
                match (&a.1, &b.1) {
                    (None, None) => Ordering::Equal,
                    (None, Some(_)) => Ordering::Less,
                    (Some(_), None) => Ordering::Greater,
                    (Some(x), Some(y)) => x.cmp(y),
                }
            } else {
                a.2.partial_cmp(&b.2).unwrap_or(Ordering::Equal)
            };
            let c = if c == Ordering::Equal && (!alpha || has_by) {
                a.0.cmp(&b.0)
            } else {
                c
            };
            if req.desc {
                c.reverse()
            } else {
                c
            }
        });
        elems = keyed.into_iter().map(|k| k.0).collect();
    } else if is_zset && req.desc {
        elems.reverse();
    }
    // LIMIT
    let n = elems.len() as i64;
    let (start, count) = req.limit.unwrap_or((0, -1));
    let start = start.clamp(0, n);
    let end = if count < 0 {
        n
    } else {
        start.saturating_add(count).min(n)
    };
    let picked = &elems[start as usize..end.max(start) as usize];
    // GET
    let mut out: Vec<Option<Vec<u8>>> = Vec::new();
    if req.gets.is_empty() {
        out.extend(picked.iter().map(|e| Some(e.clone())));
    } else {
        for e in picked {
            for g in &req.gets {
                out.push(lookup(ctx, &mut locked, g, e));
            }
        }
    }
    match (req.store, hd) {
        (Some(dst), Some(hd)) => {
            let mut l = List::default();
            for v in &out {
                l.push(false, v.as_deref().unwrap_or(b""));
            }
            let t = locked.table(hd, db);
            let n = coll::store_obj(
                ctx,
                t,
                hd,
                dst,
                Obj::List(l),
                crate::notify::LIST,
                "sortstore",
            );
            drop(locked);
            ctx.out.int(n as i64);
        }
        _ => {
            ctx.out.array(out.len());
            for v in &out {
                match v {
                    Some(b) => ctx.out.bulk(b),
                    None => ctx.out.null(),
                }
            }
        }
    }
}

/// SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA] [STORE destination]
fn sort(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    sort_generic(ctx, args, false)
}

/// SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]
fn sort_ro(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    sort_generic(ctx, args, true)
}

/// SORT reads lists, sets and sorted sets, and can be slow on any of them.
const SORT_ACL: u32 =
    super::acl::SET | super::acl::SORTEDSET | super::acl::LIST | super::acl::DANGEROUS;

pub static COMMANDS: &[Command] = &[
    Command::new("sort", -2, WRITE | DENYOOM | MOVABLE_KEYS | STORE_KEY, sort)
        .keys(1, 1, 1)
        .acl(SORT_ACL)
        .doc(
            Group::Generic,
            "1.0.0",
            "O(N+M*log(M))",
            "Sort the elements in a list, set or sorted set",
        ),
    Command::new("sort_ro", -2, READONLY | MOVABLE_KEYS, sort_ro)
        .keys(1, 1, 1)
        .acl(SORT_ACL)
        .doc(
            Group::Generic,
            "7.0.0",
            "O(N+M*log(M))",
            "Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
        ),
];

/// SORT's destination key, as Redis's sortGetKeys finds it: LIMIT, GET and
/// BY skip their arguments, and the *last* STORE wins (as SORT itself
/// stores to the last one). `is(i, word)` compares argument `i`.
pub fn store_key_index(argc: usize, is: impl Fn(usize, &str) -> bool) -> Option<usize> {
    let mut found = None;
    let mut i = 2;
    while i < argc {
        if is(i, "limit") {
            i += 2;
        } else if is(i, "get") || is(i, "by") {
            i += 1;
        } else if is(i, "store") && i + 1 < argc {
            found = Some(i + 1);
        }
        i += 1;
    }
    found
}
