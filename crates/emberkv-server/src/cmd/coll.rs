//! Access to collection values shared by the list, hash, set and sorted-set
//! families: look a key up expecting a type (WRONGTYPE otherwise), create it
//! on first write, and delete it when a write leaves it empty, as Redis
//! never keeps empty collections.

use super::keys::read_entry;
use super::{Ctx, OpError};
use crate::errors;
use crate::store::{EntryPtr, Table};
use crate::types::{Obj, ObjGuard};

/// Runs `f` on the collection of `kind` at `key` for reading. Replies
/// WRONGTYPE for another type and calls `missing` if there is no key.
pub fn read(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    kind: u8,
    missing: impl FnOnce(&mut Ctx<'_>),
    f: impl FnOnce(&mut Ctx<'_>, &Obj),
) {
    let srv = ctx.srv;
    let h = srv.store.hash(key);
    let mut shard = srv.store.lock(h);
    let t = &mut shard.dbs[ctx.client.db];
    match read_entry(ctx, t, h, key) {
        None => missing(ctx),
        Some(e) if e.kind() != kind => ctx.wrongtype(),
        Some(e) => {
            let g = ObjGuard::new(e);
            f(ctx, &g);
        }
    }
}

/// Runs `f` on the collection of `kind` at `key` for writing, creating it
/// with `create` if missing (or calling `missing` when `create` is None).
/// Deletes the key if `f` leaves the collection empty.
pub fn write(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    kind: u8,
    create: Option<&dyn Fn() -> Obj>,
    missing: impl FnOnce(&mut Ctx<'_>),
    f: impl FnOnce(&mut Ctx<'_>, &mut Obj),
) {
    let srv = ctx.srv;
    let h = srv.store.hash(key);
    let mut shard = srv.store.lock(h);
    let t = &mut shard.dbs[ctx.client.db];
    let lru = ctx.lru_clock();
    let empty = match emberkv_core::ops::write_in(t, h, key, kind, ctx.now_ms, lru, create) {
        Err(_) => None,
        Ok(None) => Some(None),
        Ok(Some(mut g)) => {
            f(ctx, &mut g);
            Some(Some(g.is_empty()))
        }
    };
    let empty = match empty {
        None => return ctx.wrongtype(),
        Some(None) => return missing(ctx),
        Some(Some(e)) => e,
    };
    if empty {
        t.delete(h, key);
        drop(shard);
        // The change that emptied it was counted: a second event.
        ctx.notify_also(crate::notify::GENERIC, "del", key);
    }
}

/// The guard for a read on one table; Err(WrongType) for another type.
pub fn read_in<'t>(
    ctx: &Ctx<'_>,
    t: &'t mut Table,
    h: u64,
    key: &[u8],
    kind: u8,
) -> Result<Option<ObjGuard<'t>>, OpError> {
    match read_entry(ctx, t, h, key) {
        None => Ok(None),
        Some(e) if e.kind() != kind => Err(OpError::WrongType),
        Some(e) => Ok(Some(ObjGuard::new(e))),
    }
}

/// Read guards for several keys at once under one multi-shard lock
/// (SINTER, ZUNION, SORT...). Err(WrongType) if any key has a type not in
/// `kinds`; a
/// missing key gives None. The guards must be dropped before `locked` is
/// used for writing.
pub fn read_many<'l>(
    ctx: &Ctx<'_>,
    locked: &'l mut crate::store::Locked<'_>,
    keys: &[(&[u8], u64)],
    kinds: &[u8],
) -> Result<Vec<Option<ObjGuard<'l>>>, OpError> {
    let db = ctx.client.db;
    let mut raws = Vec::with_capacity(keys.len());
    for &(k, h) in keys {
        let t = locked.table(h, db);
        match read_entry(ctx, t, h, k) {
            None => raws.push(None),
            Some(e) if !kinds.contains(&e.kind()) => return Err(OpError::WrongType),
            Some(e) => raws.push(Some(e.raw())),
        }
    }
    // SAFETY: every entry is owned by a table behind `locked`, borrowed for
    // 'l, and nothing below mutates the tables while the guards live.
    Ok(raws
        .into_iter()
        .map(|r| r.map(|p| ObjGuard::new(unsafe { crate::store::EntryRef::from_raw(p) })))
        .collect())
}

/// Replaces whatever is at `key` with `obj` (STORE forms), or deletes the
/// key when `obj` is empty. Returns the stored length.
/// Notifies `event` (class `class`) when the result is non-empty, or
/// "del" when an empty result removed an existing key, as Redis does.
pub fn store_obj(
    ctx: &Ctx<'_>,
    t: &mut Table,
    h: u64,
    key: &[u8],
    obj: Obj,
    class: u32,
    event: &'static str,
) -> usize {
    let n = obj.len();
    let existed = t.delete(h, key);
    if n > 0 {
        let (k, enc, p) = obj.into_raw();
        t.insert(h, EntryPtr::new_obj(key, k, enc, p, None, ctx.lru_clock()));
        if existed {
            crate::effects::uncreated(key);
        }
        ctx.notify(class, event, key);
    } else if existed {
        ctx.notify(crate::notify::GENERIC, "del", key);
    }
    n
}

/// Arguments of SCAN/HSCAN/SSCAN/ZSCAN: cursor, MATCH pattern, COUNT
/// (and TYPE for SCAN).
pub struct ScanArgs<'a> {
    pub cursor: u64,
    pub pattern: Option<&'a [u8]>,
    pub count: usize,
    pub typ: Option<&'a [u8]>,
}

/// The cursor at `args[at]`, or None after replying "invalid cursor".
/// Redis checks it before anything else, even before the key lookup of
/// HSCAN/SSCAN/ZSCAN.
pub fn scan_cursor(ctx: &mut Ctx<'_>, args: &super::Args<'_>, at: usize) -> Option<u64> {
    let c = super::num::parse_cursor(args.get(at));
    if c.is_none() {
        ctx.err(errors::INVALID_CURSOR);
    }
    c
}

/// The options after the cursor (scanGenericCommand). For HSCAN, SSCAN
/// and ZSCAN they are read only once the key exists with the right type
/// (a missing key is an empty scan whatever follows), hence an error
/// value instead of a reply. `with_type`: SCAN's TYPE is allowed.
pub fn scan_opts<'a>(
    args: &super::Args<'a>,
    from: usize,
    cursor: u64,
    with_type: bool,
) -> Result<ScanArgs<'a>, &'static str> {
    let mut s = ScanArgs {
        cursor,
        pattern: None,
        count: 10,
        typ: None,
    };
    let mut j = from;
    while j < args.len() {
        if j + 1 >= args.len() {
            return Err(errors::SYNTAX);
        }
        if args.is(j, "count") {
            match crate::util::parse_i64(args.get(j + 1)) {
                None => return Err(errors::NOT_INT),
                Some(n) if n < 1 => return Err(errors::SYNTAX),
                Some(n) => s.count = n as usize,
            }
        } else if args.is(j, "match") {
            let p = args.get(j + 1);
            s.pattern = if p == b"*" { None } else { Some(p) };
        } else if with_type && args.is(j, "type") {
            s.typ = Some(args.get(j + 1));
        } else {
            return Err(errors::SYNTAX);
        }
        j += 2;
    }
    Ok(s)
}

/// HSCAN/SSCAN/ZSCAN key cursor [MATCH pattern] [COUNT count], in Redis's
/// order: cursor, key (missing: empty scan; other type: WRONGTYPE), then
/// the options. `step` runs one scan step over the collection.
pub fn scan_collection(
    ctx: &mut Ctx<'_>,
    args: &super::Args<'_>,
    kind: u8,
    step: impl FnOnce(&mut Ctx<'_>, &Obj, &ScanArgs<'_>),
) {
    let Some(cursor) = scan_cursor(ctx, args, 2) else {
        return;
    };
    read(
        ctx,
        args.get(1),
        kind,
        |c| scan_reply(c, 0, &[]),
        |ctx, o| match scan_opts(args, 3, cursor, false) {
            Ok(s) => step(ctx, o, &s),
            Err(e) => ctx.err(e),
        },
    );
}

impl ScanArgs<'_> {
    pub fn matches(&self, k: &[u8]) -> bool {
        self.pattern
            .is_none_or(|p| crate::store::glob::glob_match(p, k, false))
    }
}

/// Parses SINTERCARD/ZINTERCARD's optional `LIMIT n` from argument `at`
/// (0 means no limit). An error value: ZINTERCARD reports it only after
/// the key types were checked.
pub fn card_limit(args: &super::Args<'_>, mut at: usize) -> Result<usize, &'static str> {
    let mut limit = usize::MAX;
    while at < args.len() {
        if !(args.is(at, "limit") && at + 1 < args.len()) {
            return Err(errors::SYNTAX);
        }
        match crate::util::parse_i64(args.get(at + 1)) {
            Some(l) if l >= 0 => limit = if l == 0 { usize::MAX } else { l as usize },
            _ => return Err(errors::LIMIT_NEGATIVE),
        }
        at += 2;
    }
    Ok(limit)
}

/// Replies the SCAN-shaped `[cursor, [items...]]`.
pub fn scan_reply(ctx: &mut Ctx<'_>, next: u64, items: &[Vec<u8>]) {
    ctx.out.array(2);
    ctx.out.bulk(itoa::Buffer::new().format(next).as_bytes());
    ctx.out.array(items.len());
    for i in items {
        ctx.out.bulk(i);
    }
}
