//! The DEBUG subcommands around snapshots: POPULATE (bulk keys for tests),
//! RELOAD (save, empty, load again), OBJECT (a value's internals and its
//! serialized length) and SET-SKIP-CHECKSUM-VALIDATION.

use crate::cmd::{Args, Ctx};
use crate::errors;
use crate::store::entry::{EntryPtr, T_LIST};
use crate::types::{List, ObjGuard};
use std::sync::atomic::Ordering::Relaxed;

/// A non-negative integer argument; Redis's getPositiveLongFromObjectOrReply
/// gives the same text for a non-number and a negative one.
fn positive(ctx: &mut Ctx<'_>, a: &[u8]) -> Option<u64> {
    match crate::util::parse_i64(a) {
        Some(v) if v >= 0 => Some(v as u64),
        _ => {
            ctx.err("ERR value is out of range, must be positive");
            None
        }
    }
}

/// DEBUG POPULATE count [prefix] [size]: keys `prefix:N` holding `value:N`
/// (cut or zero-padded to `size`), skipping keys that exist. As in Redis,
/// no notifications and no dirty count.
pub fn populate(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let n = args.len();
    if !(3..=5).contains(&n) {
        return ctx
            .out
            .error_bytes(&errors::subcommand_syntax(args.get(1), "debug"));
    }
    let Some(count) = positive(ctx, args.get(2)) else {
        return;
    };
    let prefix = if n >= 4 { args.get(3) } else { b"key" };
    let size = if n == 5 {
        match positive(ctx, args.get(4)) {
            Some(s) => Some(s as usize),
            None => return,
        }
    } else {
        None
    };
    if size.is_some_and(|s| s as u64 > ctx.srv.max_bulk_len.load(Relaxed)) {
        return ctx.err("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
    }
    let db = ctx.client.db;
    let lru = ctx.lru_clock();
    let mut key = Vec::with_capacity(prefix.len() + 21);
    let mut val = Vec::new();
    // Batches of keys per lock hold, so other clients are served.
    let mut j = 0u64;
    while j < count {
        let mut locked = ctx.srv.store.lock_all();
        let end = (j + 1024).min(count);
        while j < end {
            key.clear();
            key.extend_from_slice(prefix);
            key.push(b':');
            key.extend_from_slice(itoa::Buffer::new().format(j).as_bytes());
            val.clear();
            val.extend_from_slice(b"value:");
            val.extend_from_slice(itoa::Buffer::new().format(j).as_bytes());
            if let Some(s) = size {
                val.resize(s, 0);
            }
            let h = ctx.srv.store.hash(&key);
            let t = locked.table(h, db);
            if t.lookup(h, &key, ctx.now_ms).is_none() {
                t.insert_loaded(h, EntryPtr::new_string(&key, &val, None, 0, lru));
            }
            j += 1;
        }
    }
    ctx.out.ok();
}

/// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]
pub fn reload(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let (mut merge, mut flush, mut save) = (false, true, true);
    for i in 2..args.len() {
        if args.is(i, "merge") {
            merge = true;
        } else if args.is(i, "noflush") {
            flush = false;
        } else if args.is(i, "nosave") {
            save = false;
        } else {
            return ctx
                .err("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.");
        }
    }
    if save && crate::persist::save_now(ctx.srv).is_err() {
        return ctx.err("ERR");
    }
    if flush {
        crate::persist::save::cancel_bgsave(ctx.srv);
        let store = &ctx.srv.store;
        let mut old = Vec::new();
        let mut locked = store.lock_all();
        for shard in locked.shards() {
            for (db, t) in shard.dbs.iter_mut().enumerate() {
                let fresh = crate::store::Table::new_keyspace(store.hasher, db);
                old.push(std::mem::replace(t, fresh));
            }
        }
        drop(locked);
        drop(old);
        ctx.srv.scripts.functions.flush();
    }
    let path = std::path::PathBuf::from(ctx.srv.config.read().get("dbfilename"));
    match crate::persist::load::load_file(ctx.srv, &path, merge) {
        Ok(_) => {
            tracing::warn!("DB reloaded by DEBUG RELOAD");
            ctx.out.ok()
        }
        Err(e) => {
            if let crate::persist::load::Failed::Format(m) | crate::persist::load::Failed::Io(m) =
                &e
            {
                tracing::warn!("{m}");
            }
            ctx.err("ERR Error trying to load the RDB dump, check server logs.")
        }
    }
}

/// DEBUG OBJECT key
pub fn object(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let key = args.get(2);
    let h = ctx.srv.store.hash(key);
    let lru_now = ctx.lru_clock();
    let mut shard = ctx.srv.store.lock(h);
    let Some(e) = shard.dbs[ctx.client.db].lookup(h, key, ctx.now_ms) else {
        drop(shard);
        return ctx.err("ERR no such key");
    };
    let enc = crate::cmd::keys::encoding_name(e);
    // The value's RDB encoding without its type byte, as rdbSavedObjectLen.
    let serialized = emberkv_persist::value::dump(e, false).len() - 11;
    let lru = e.lru();
    let idle = lru_now.wrapping_sub(lru) & 0xff_ffff;
    let mut extra = String::new();
    if e.kind() == T_LIST {
        if let List::Quick(q) = ObjGuard::new(e).as_list() {
            let nodes = q.nodes().count();
            let bytes: usize = q.nodes().map(|n| n.bytes()).sum();
            extra = format!(
                " ql_nodes:{nodes} ql_avg_node:{:.2} ql_listpack_max:-2 ql_compressed:0 ql_uncompressed_size:{bytes}",
                q.len() as f64 / nodes.max(1) as f64
            );
        }
    }
    let text = format!(
        "Value at:{:p} refcount:1 encoding:{enc} serializedlength:{serialized} lru:{lru} lru_seconds_idle:{idle}{extra}",
        e.raw()
    );
    drop(shard);
    ctx.out.simple(&text);
}

/// DEBUG SET-SKIP-CHECKSUM-VALIDATION 0|1
pub fn skip_checksum(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let on = super::c_atoi(args.get(2)) != 0;
    ctx.srv.persist.skip_checksum.store(on, Relaxed);
    ctx.out.ok();
}
