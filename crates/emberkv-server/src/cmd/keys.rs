//! Generic key commands: DEL, UNLINK, EXISTS, TYPE, TOUCH, RENAME, COPY,
//! MOVE, OBJECT.

use super::{acl, flags::*, Args, Command, Ctx, Group};
use crate::errors;
use crate::store::entry::{EntryPtr, EntryRef, F_RAW, T_HASH, T_LIST, T_SET, T_STRING, T_ZSET};
use crate::store::Table;
use crate::types::{Obj, ObjGuard};
use crate::util::is_canonical_int;

/// Reads a key as a read command does: lazy expiry, hit/miss statistics,
/// and the LRU clock unless the client asked for CLIENT NO-TOUCH.
pub(crate) fn read_entry<'t>(
    ctx: &Ctx<'_>,
    t: &'t mut Table,
    h: u64,
    key: &[u8],
) -> Option<EntryRef<'t>> {
    match t.lookup(h, key, ctx.now_ms) {
        Some(e) => {
            ctx.stats.hits.add(1);
            if !ctx.client.no_touch {
                e.set_lru(ctx.lru_clock());
            }
            Some(e)
        }
        None => {
            count_lookup(ctx, false, key, true);
            None
        }
    }
}

/// A read lookup's statistics, as Redis's lookupKeyRead keeps them:
/// keyspace_hits or keyspace_misses, and a miss is a `keymiss` event
/// unless the command looks without notifying (OBJECT).
pub(crate) fn count_lookup(ctx: &Ctx<'_>, found: bool, key: &[u8], notify: bool) {
    if found {
        ctx.stats.hits.add(1);
    } else {
        ctx.stats.misses.add(1);
        if notify {
            ctx.notify(crate::notify::KEY_MISS, "keymiss", key);
        }
    }
}

pub(crate) fn type_name(kind: u8) -> &'static str {
    match kind {
        T_STRING => "string",
        T_LIST => "list",
        T_HASH => "hash",
        T_SET => "set",
        T_ZSET => "zset",
        crate::store::entry::T_STREAM => "stream",
        _ => "none",
    }
}

/// DEL key [key ...] / UNLINK: a string is one `free` whatever its size;
/// a large collection is handed to the lazyfree thread when its entry is
/// dropped (see `crate::lazyfree`), so neither blocks on a big value.
fn del(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let store = &ctx.srv.store;
    let hashes = super::key_hashes(store, args, 1, 1);
    let mut locked = store.lock_many(hashes.iter().copied());
    let mut n = 0;
    for (i, &h) in hashes.iter().enumerate() {
        let t = locked.table(h, ctx.client.db);
        if let Some(f) = t.lookup_mut(h, args.get(i + 1), ctx.now_ms) {
            f.remove().free();
            n += 1;
            ctx.notify(crate::notify::GENERIC, "del", args.get(i + 1));
        }
    }
    ctx.out.int(n);
}

/// EXISTS key [key ...] (a key named twice counts twice)
fn exists(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let store = &ctx.srv.store;
    let hashes = super::key_hashes(store, args, 1, 1);
    let mut locked = store.lock_many(hashes.iter().copied());
    let mut n = 0;
    for (i, &h) in hashes.iter().enumerate() {
        let t = locked.table(h, ctx.client.db);
        let found = t.lookup(h, args.get(i + 1), ctx.now_ms).is_some();
        n += found as i64;
        count_lookup(ctx, found, args.get(i + 1), true);
    }
    ctx.out.int(n);
}

/// TOUCH key [key ...]
fn touch(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let store = &ctx.srv.store;
    let hashes = super::key_hashes(store, args, 1, 1);
    let mut locked = store.lock_many(hashes.iter().copied());
    let lru = ctx.lru_clock();
    let mut n = 0;
    for (i, &h) in hashes.iter().enumerate() {
        if let Some(e) = locked
            .table(h, ctx.client.db)
            .lookup(h, args.get(i + 1), ctx.now_ms)
        {
            e.set_lru(lru);
            n += 1;
            count_lookup(ctx, true, args.get(i + 1), true);
        } else {
            count_lookup(ctx, false, args.get(i + 1), true);
        }
    }
    ctx.out.int(n);
}

/// TYPE key
fn type_cmd(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let key = args.get(1);
    let h = ctx.srv.store.hash(key);
    let mut shard = ctx.srv.store.lock(h);
    let t = &mut shard.dbs[ctx.client.db];
    let name = t
        .lookup(h, key, ctx.now_ms)
        .map_or("none", |e| type_name(e.kind()));
    drop(shard);
    count_lookup(ctx, name != "none", key, true);
    ctx.out.simple(name);
}

/// RENAME key newkey / RENAMENX
fn rename_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, nx: bool) {
    let (src, dst) = (args.get(1), args.get(2));
    let store = &ctx.srv.store;
    let (hs, hd) = (store.hash(src), store.hash(dst));
    let mut locked = store.lock_many([hs, hd]);
    let db = ctx.client.db;
    if locked.table(hs, db).lookup(hs, src, ctx.now_ms).is_none() {
        return ctx.err(errors::NO_SUCH_KEY);
    }
    if src == dst {
        return if nx { ctx.out.int(0) } else { ctx.out.ok() };
    }
    if locked.table(hd, db).lookup(hd, dst, ctx.now_ms).is_some() {
        if nx {
            return ctx.out.int(0);
        }
        locked.table(hd, db).delete(hd, dst);
    }
    let e = locked
        .table(hs, db)
        .remove(hs, src)
        .expect("looked up above");
    let exp = e.as_ref().expire_at();
    locked.table(hd, db).insert(hd, e.rebuild(Some(dst), exp));
    drop(locked);
    ctx.notify(crate::notify::GENERIC, "rename_from", src);
    ctx.notify(crate::notify::GENERIC, "rename_to", dst);
    if nx {
        ctx.out.int(1)
    } else {
        ctx.out.ok()
    }
}

fn rename(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    rename_generic(ctx, args, false)
}

fn renamenx(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    rename_generic(ctx, args, true)
}

/// Parses a database index argument, replying on error.
pub(crate) fn db_arg(ctx: &mut Ctx<'_>, a: &[u8]) -> Option<usize> {
    let v = ctx.int_arg(a)?;
    if v < i32::MIN as i64 || v > i32::MAX as i64 {
        ctx.err(errors::NOT_INT);
        return None;
    }
    if v < 0 || v as usize >= ctx.srv.store.ndbs {
        ctx.err(errors::DB_RANGE);
        return None;
    }
    Some(v as usize)
}

/// A deep copy of an entry under a new key.
fn copy_entry(e: EntryRef<'_>, key: &[u8]) -> EntryPtr {
    if e.kind() == T_STRING {
        return EntryPtr::new_string(key, e.str_value(), e.expire_at(), e.flags(), e.lru());
    }
    let copy = ObjGuard::new(e).deep_clone();
    let (kind, enc, p) = copy.into_raw();
    EntryPtr::new_obj(key, kind, enc, p, e.expire_at(), e.lru())
}

/// COPY source destination [DB destination-db] [REPLACE]
fn copy(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let (src, dst) = (args.get(1), args.get(2));
    let mut dst_db = ctx.client.db;
    let mut replace = false;
    let mut j = 3;
    while j < args.len() {
        if args.is(j, "replace") {
            replace = true;
        } else if args.is(j, "db") && j + 1 < args.len() {
            let Some(d) = db_arg(ctx, args.get(j + 1)) else {
                return;
            };
            dst_db = d;
            j += 1;
        } else {
            return ctx.syntax();
        }
        j += 1;
    }
    let db = ctx.client.db;
    if src == dst && db == dst_db {
        return ctx.err(errors::SAME_OBJECT);
    }
    let store = &ctx.srv.store;
    let (hs, hd) = (store.hash(src), store.hash(dst));
    let mut locked = store.lock_many([hs, hd]);
    let (ts, td) = locked.table_pair((hs, db), (hd, dst_db));
    let Some(e) = ts.lookup(hs, src, ctx.now_ms) else {
        return ctx.out.int(0);
    };
    let new = copy_entry(e, dst);
    // Same shard and database: source and destination share one table.
    let td = match td {
        Some(t) => t,
        None => ts,
    };
    if td.lookup(hd, dst, ctx.now_ms).is_some() {
        if !replace {
            new.free();
            return ctx.out.int(0);
        }
        td.delete(hd, dst);
    }
    td.insert(hd, new);
    drop(locked);
    ctx.notify_db(crate::notify::GENERIC, "copy_to", dst, dst_db);
    ctx.out.int(1);
}

/// MOVE key db
fn move_cmd(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Some(to) = db_arg(ctx, args.get(2)) else {
        return;
    };
    let from = ctx.client.db;
    if to == from {
        return ctx.err(errors::SAME_OBJECT);
    }
    let key = args.get(1);
    let h = ctx.srv.store.hash(key);
    let mut shard = ctx.srv.store.lock(h);
    if shard.dbs[from].lookup(h, key, ctx.now_ms).is_none()
        || shard.dbs[to].lookup(h, key, ctx.now_ms).is_some()
    {
        return ctx.out.int(0);
    }
    let e = shard.dbs[from].remove(h, key).expect("looked up above");
    shard.dbs[to].insert(h, e);
    drop(shard);
    // The key's "new" event belongs to the destination database.
    ctx.notify_db(crate::notify::GENERIC, "move_from", key, from);
    ctx.notify_db(crate::notify::GENERIC, "move_to", key, to);
    ctx.out.int(1);
}

/// Runs `f` on the entry named by OBJECT's key argument, or replies null.
fn with_object_key(ctx: &mut Ctx<'_>, args: &Args<'_>, f: impl FnOnce(&mut Ctx<'_>, EntryRef<'_>)) {
    let key = args.get(2);
    let h = ctx.srv.store.hash(key);
    let mut shard = ctx.srv.store.lock(h);
    match shard.dbs[ctx.client.db].lookup(h, key, ctx.now_ms) {
        Some(e) => {
            count_lookup(ctx, true, key, false);
            f(ctx, e)
        }
        None => {
            count_lookup(ctx, false, key, false);
            ctx.out.null()
        }
    }
}

/// OBJECT ENCODING key
fn object_encoding(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    with_object_key(ctx, args, |ctx, e| {
        ctx.out.bulk(encoding_name(e).as_bytes())
    });
}

/// Redis's names for how a value is stored, so tools that check them work.
pub(crate) fn encoding_name(e: EntryRef<'_>) -> &'static str {
    if e.kind() != T_STRING {
        return Obj::encoding_name(e.kind(), e.enc());
    }
    let v = e.str_value();
    if e.flags() & F_RAW != 0 {
        "raw"
    } else if is_canonical_int(v).is_some() {
        "int"
    } else if v.len() <= 44 {
        "embstr"
    } else {
        "raw"
    }
}

/// OBJECT FREQ key
fn object_freq(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    with_object_key(ctx, args, |ctx, _| {
        ctx.err(errors::NO_LFU);
    });
}

/// OBJECT IDLETIME key
fn object_idletime(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    with_object_key(ctx, args, |ctx, e| {
        let idle = ctx.lru_clock().wrapping_sub(e.lru()) & 0xff_ffff;
        ctx.out.int(idle as i64);
    });
}

/// OBJECT REFCOUNT key: Redis shares small integers (0..9999) between keys
/// and reports them as INT_MAX; we report what Redis would.
fn object_refcount(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    with_object_key(ctx, args, |ctx, e| {
        let shared = e.flags() & F_RAW == 0
            && matches!(is_canonical_int(e.str_value()), Some(v) if (0..10000).contains(&v));
        ctx.out.int(if shared { i32::MAX as i64 } else { 1 });
    });
}

pub(crate) fn help(ctx: &mut Ctx<'_>, lines: &[&str]) {
    ctx.out.array(lines.len());
    for l in lines {
        ctx.out.simple(l);
    }
}

fn object_help(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    help(
        ctx,
        &[
            "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "ENCODING <key>",
            "    Return the kind of internal representation used in order to store the value",
            "    associated with a <key>.",
            "FREQ <key>",
            "    Return the access frequency index of the <key>. The returned integer is",
            "    proportional to the logarithm of the recent access frequency of the key.",
            "IDLETIME <key>",
            "    Return the idle time of the <key>, that is the approximated number of",
            "    seconds elapsed since the last access to the key.",
            "REFCOUNT <key>",
            "    Return the number of references of the value associated with the specified",
            "    <key>.",
            "HELP",
            "    Print this help.",
        ],
    );
}

const G: Group = Group::Generic;

static OBJECT_SUBS: &[Command] = &[
    Command::new("encoding", 3, READONLY, object_encoding)
        .tips(&["nondeterministic_output"])
        .acl(acl::KEYSPACE)
        .keys(2, 2, 1)
        .doc(
            G,
            "2.2.3",
            "O(1)",
            "Returns the internal encoding of a value.",
        ),
    Command::new("freq", 3, READONLY, object_freq)
        .tips(&["nondeterministic_output"])
        .acl(acl::KEYSPACE)
        .keys(2, 2, 1)
        .doc(
            G,
            "4.0.0",
            "O(1)",
            "Returns the logarithmic access frequency counter of a value.",
        ),
    Command::new("idletime", 3, READONLY, object_idletime)
        .tips(&["nondeterministic_output"])
        .acl(acl::KEYSPACE)
        .keys(2, 2, 1)
        .doc(
            G,
            "2.2.3",
            "O(1)",
            "Returns the seconds since the last access to a value.",
        ),
    Command::new("refcount", 3, READONLY, object_refcount)
        .tips(&["nondeterministic_output"])
        .acl(acl::KEYSPACE)
        .keys(2, 2, 1)
        .doc(
            G,
            "2.2.3",
            "O(1)",
            "Returns the reference count of a value.",
        ),
    Command::new("help", 2, LOADING | STALE, object_help)
        .acl(acl::KEYSPACE)
        .doc(
            G,
            "6.2.0",
            "O(1)",
            "Returns helpful text about the different subcommands.",
        ),
];

pub static COMMANDS: &[Command] = &[
    Command::new("del", -2, WRITE, del)
        .tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
        .keys(1, -1, 1)
        .acl(acl::KEYSPACE)
        .doc(G, "1.0.0", "O(N)", "Deletes one or more keys."),
    Command::new("unlink", -2, WRITE | FAST, del)
        .tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
        .keys(1, -1, 1)
        .acl(acl::KEYSPACE)
        .doc(
            G,
            "4.0.0",
            "O(1) per key",
            "Deletes keys, freeing large values in the background.",
        ),
    Command::new("exists", -2, READONLY | FAST, exists)
        .tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
        .keys(1, -1, 1)
        .acl(acl::KEYSPACE)
        .doc(
            G,
            "1.0.0",
            "O(N)",
            "Counts how many of the given keys exist.",
        ),
    Command::new("touch", -2, READONLY | FAST, touch)
        .tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
        .keys(1, -1, 1)
        .acl(acl::KEYSPACE)
        .doc(
            G,
            "3.2.1",
            "O(N)",
            "Updates the last access time of keys, returning how many exist.",
        ),
    Command::new("type", 2, READONLY | FAST, type_cmd)
        .keys(1, 1, 1)
        .acl(acl::KEYSPACE)
        .doc(
            G,
            "1.0.0",
            "O(1)",
            "Returns the type of the value stored at a key.",
        ),
    Command::new("rename", 3, WRITE, rename)
        .keys(1, 2, 1)
        .acl(acl::KEYSPACE)
        .doc(
            G,
            "1.0.0",
            "O(1)",
            "Renames a key, overwriting the destination.",
        ),
    Command::new("renamenx", 3, WRITE | FAST, renamenx)
        .keys(1, 2, 1)
        .acl(acl::KEYSPACE)
        .doc(
            G,
            "1.0.0",
            "O(1)",
            "Renames a key only if the new name does not exist.",
        ),
    Command::new("copy", -3, WRITE | DENYOOM, copy)
        .keys(1, 2, 1)
        .acl(acl::KEYSPACE)
        .doc(
            G,
            "6.2.0",
            "O(N)",
            "Copies the value of a key to a new key.",
        ),
    Command::new("move", 3, WRITE | FAST, move_cmd)
        .keys(1, 1, 1)
        .acl(acl::KEYSPACE)
        .doc(G, "1.0.0", "O(1)", "Moves a key to another database."),
    Command::container("object", OBJECT_SUBS).doc(
        G,
        "2.2.3",
        "Depends on subcommand.",
        "A container for object introspection commands.",
    ),
];
