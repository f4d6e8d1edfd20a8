//! Stream commands. The type is `types/stream/` in the core; this module
//! parses arguments as t_stream.c does (which error wins included), calls
//! the stream's operations and replies.
//!
//! Files: `add.rs` (XADD, XTRIM, XDEL, XSETID, XLEN), `range.rs` (XRANGE,
//! XREVRANGE), `read.rs` (XREAD, XREADGROUP and their blocked form),
//! `groups.rs` (XGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM), `info.rs`
//! (XINFO); this file has ID parsing, access helpers, the shared replies
//! and the COMMANDS table.

mod add;
mod groups;
mod info;
mod range;
pub(crate) mod read;

use super::{flags::*, Command, Ctx, Group};
use crate::errors;
use crate::store::entry::T_STREAM;
use crate::types::stream::{Entry, Id, Stream};
use crate::types::Obj;
use emberkv_protocol::ReplyWriter;

/// `strtoull`'s reading of a number (string2ull): a canonical integer,
/// or else leading spaces, a sign, digits and nothing after (a '-' wraps,
/// as in C).
fn string2ull(s: &[u8]) -> Option<u64> {
    if let Some(v) = crate::util::is_canonical_int(s) {
        return u64::try_from(v).ok();
    }
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let digits = &s[i..];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for &d in digits {
        v = v.checked_mul(10)?.checked_add((d - b'0') as u64)?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// streamGenericParseIDOrReply: `-`, `+` (unless strict), `ms[-seq]`, and
/// with `star` the `ms-*` form (then the bool is false: no sequence).
fn parse_id_generic(a: &[u8], missing_seq: u64, strict: bool, star: bool) -> Option<(Id, bool)> {
    if a.len() > 127 {
        return None;
    }
    // Redis reads the argument as a C string.
    let a = &a[..memchr::memchr(0, a).unwrap_or(a.len())];
    if a == b"-" || a == b"+" {
        if strict {
            return None;
        }
        return Some((if a == b"-" { Id::MIN } else { Id::MAX }, true));
    }
    let (ms, seq) = match memchr::memchr(b'-', a) {
        Some(p) => (&a[..p], Some(&a[p + 1..])),
        None => (a, None),
    };
    let ms = string2ull(ms)?;
    match seq {
        Some(b"*") if star => Some((Id::new(ms, 0), false)),
        Some(s) => Some((Id::new(ms, string2ull(s)?), true)),
        None => Some((Id::new(ms, missing_seq), true)),
    }
}

/// A strict ID (no `-`/`+`) or None after replying the error.
pub(crate) fn strict_id(ctx: &mut Ctx<'_>, a: &[u8]) -> Option<Id> {
    let r = parse_id_generic(a, 0, true, false).map(|x| x.0);
    if r.is_none() {
        ctx.err(errors::STREAM_BAD_ID);
    }
    r
}

/// A range bound: `(` makes it exclusive (then strict), else `-`/`+` too.
pub(crate) fn interval_id(ctx: &mut Ctx<'_>, a: &[u8], missing_seq: u64) -> Option<(Id, bool)> {
    let excl = a.len() > 1 && a[0] == b'(';
    let r = if excl {
        parse_id_generic(&a[1..], missing_seq, true, false)
    } else {
        parse_id_generic(a, missing_seq, false, false)
    };
    match r {
        Some((id, _)) => Some((id, excl)),
        None => {
            ctx.err(errors::STREAM_BAD_ID);
            None
        }
    }
}

/// The start of a range: an exclusive bound moves up by one.
pub(crate) fn range_start(ctx: &mut Ctx<'_>, a: &[u8]) -> Option<Id> {
    let (id, excl) = interval_id(ctx, a, 0)?;
    if !excl {
        return Some(id);
    }
    let r = id.incr();
    if r.is_none() {
        ctx.err(errors::BAD_START_ID);
    }
    r
}

pub(crate) fn range_end(ctx: &mut Ctx<'_>, a: &[u8]) -> Option<Id> {
    let (id, excl) = interval_id(ctx, a, u64::MAX)?;
    if !excl {
        return Some(id);
    }
    let r = id.decr();
    if r.is_none() {
        ctx.err(errors::BAD_END_ID);
    }
    r
}

pub(crate) fn bulk_id(out: &mut ReplyWriter<'_>, id: Id) {
    let mut b = [0u8; 41];
    out.bulk(id.fmt(&mut b));
}

/// `[id, [field, value, ...]]`.
pub(crate) fn reply_entry(out: &mut ReplyWriter<'_>, e: &Entry<'_>) {
    out.array(2);
    bulk_id(out, e.id);
    out.array(e.nfields() * 2);
    for (f, v) in e.pairs() {
        out.bulk(f);
        out.bulk(v);
    }
}

/// The IDs as propagated arguments.
pub(crate) fn id_arg(id: Id) -> Vec<u8> {
    id.to_vec()
}

fn new_stream() -> Obj {
    Obj::Stream(Box::default())
}

/// Runs `f` on the stream at `key` for writing (created first when
/// `create`). Err(false): no key (nothing replied), Err(true): WRONGTYPE
/// replied.
pub(crate) fn write<R>(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    create: bool,
    f: impl FnOnce(&mut Ctx<'_>, &mut Stream) -> R,
) -> Result<R, bool> {
    let srv = ctx.srv;
    let h = srv.store.hash(key);
    let mut shard = srv.store.lock(h);
    let t = &mut shard.dbs[ctx.client.db];
    let lru = ctx.lru_clock();
    let mk: Option<&dyn Fn() -> Obj> = if create { Some(&new_stream) } else { None };
    let r = match emberkv_core::ops::write_in(t, h, key, T_STREAM, ctx.now_ms, lru, mk) {
        Err(_) => Err(true),
        Ok(None) => Err(false),
        Ok(Some(mut g)) => Ok(f(ctx, g.stream())),
    };
    drop(shard);
    if r.is_err() && r.as_ref().err() == Some(&true) {
        ctx.wrongtype();
    }
    r
}

/// Runs `f` on the stream at `key` for reading; `missing` if none;
/// WRONGTYPE replied for another type.
pub(crate) fn read(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    missing: impl FnOnce(&mut Ctx<'_>),
    f: impl FnOnce(&mut Ctx<'_>, &Stream),
) {
    super::coll::read(ctx, key, T_STREAM, missing, |ctx, o| f(ctx, o.as_stream()));
}

const G: Group = Group::Stream;

/// XREAD/XREADGROUP's keys: half of what follows STREAMS (the IDs are
/// the other half); a read spec in Redis for both.
const fn streams_keys(startfrom: usize) -> super::KeywordSpec {
    super::KeywordSpec {
        keyword: "STREAMS",
        startfrom,
        limit: 2,
        flags: ["RO", "access"],
    }
}

const fn k(name: &'static str, arity: i32, flags: u32, h: super::Handler) -> Command {
    Command::new(name, arity, flags, h).keys(1, 1, 1)
}

const fn k2(name: &'static str, arity: i32, flags: u32, h: super::Handler) -> Command {
    Command::new(name, arity, flags, h).keys(2, 2, 1)
}

const ND: &[&str] = &["nondeterministic_output"];

#[rustfmt::skip]
static XGROUP_SUBS: &[Command] = &[
    k2("create", -5, WRITE | DENYOOM, groups::create).doc(G, "5.0.0", "O(1)", "Create a consumer group."),
    k2("setid", -5, WRITE, groups::setid).doc(G, "5.0.0", "O(1)", "Set a consumer group to an arbitrary last delivered ID value."),
    k2("destroy", 4, WRITE, groups::destroy).doc(G, "5.0.0", "O(N) where N is the number of entries in the group's pending entries list (PEL).", "Destroy a consumer group."),
    k2("createconsumer", 5, WRITE | DENYOOM, groups::createconsumer).doc(G, "6.2.0", "O(1)", "Create a consumer in a consumer group."),
    k2("delconsumer", 5, WRITE, groups::delconsumer).doc(G, "5.0.0", "O(1)", "Delete a consumer from a consumer group."),
    Command::new("help", 2, LOADING | STALE, groups::help).doc(G, "5.0.0", "O(1)", "Show helpful text about the different subcommands"),
];

#[rustfmt::skip]
static XINFO_SUBS: &[Command] = &[
    k2("stream", -3, READONLY, info::stream).doc(G, "5.0.0", "O(1)", "Get information about a stream"),
    k2("groups", 3, READONLY, info::groups).doc(G, "5.0.0", "O(1)", "List the consumer groups of a stream"),
    k2("consumers", 4, READONLY, info::consumers).tips(ND).doc(G, "5.0.0", "O(1)", "List the consumers in a consumer group"),
    Command::new("help", 2, LOADING | STALE, info::help).doc(G, "5.0.0", "O(1)", "Show helpful text about the different subcommands"),
];

#[rustfmt::skip]
pub static COMMANDS: &[Command] = &[
    k("xadd", -5, WRITE | DENYOOM | FAST, add::xadd).tips(ND).doc(G, "5.0.0", "O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted.", "Appends a new entry to a stream"),
    k("xrange", -4, READONLY, range::xrange).doc(G, "5.0.0", "O(N) with N being the number of elements being returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).", "Return a range of elements in a stream, with IDs matching the specified IDs interval"),
    k("xrevrange", -4, READONLY, range::xrevrange).doc(G, "5.0.0", "O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).", "Return a range of elements in a stream, with IDs matching the specified IDs interval, in reverse order (from greater to smaller IDs) compared to XRANGE"),
    k("xlen", 2, READONLY | FAST, add::xlen).doc(G, "5.0.0", "O(1)", "Return the number of entries in a stream"),
    k("xdel", -3, WRITE | FAST, add::xdel).doc(G, "5.0.0", "O(1) for each single item to delete in the stream, regardless of the stream size.", "Removes the specified entries from the stream. Returns the number of items actually deleted, that may be different from the number of IDs passed in case certain IDs do not exist."),
    k("xtrim", -4, WRITE, add::xtrim).tips(ND).doc(G, "5.0.0", "O(N), with N being the number of evicted entries. Constant times are very small however, since entries are organized in macro nodes containing multiple entries that can be released with a single deallocation.", "Trims the stream to (approximately if '~' is passed) a certain size"),
    k("xsetid", -3, WRITE | DENYOOM | FAST, add::xsetid).doc(G, "5.0.0", "O(1)", "An internal command for replicating stream values"),
    Command::new("xread", -4, READONLY | BLOCKING | MOVABLE_KEYS, read::xread).keyword(streams_keys(1)).doc(G, "5.0.0", "For each stream mentioned: O(N) with N being the number of elements being returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that when the BLOCK option is used, XADD will pay O(M) time in order to serve the M clients blocked on the stream getting new data.", "Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream. Can block."),
    Command::new("xreadgroup", -7, WRITE | BLOCKING | MOVABLE_KEYS, read::xreadgroup).keyword(streams_keys(4)).doc(G, "5.0.0", "For each stream mentioned: O(M) with M being the number of elements returned. If M is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream getting new data.", "Return new entries from a stream using a consumer group, or access the history of the pending entries for a given consumer. Can block."),
    Command::container("xgroup", XGROUP_SUBS).doc(G, "5.0.0", "Depends on subcommand.", "A container for consumer groups commands"),
    k("xack", -4, WRITE | FAST, groups::xack).doc(G, "5.0.0", "O(1) for each message ID processed.", "Marks a pending message as correctly processed, effectively removing it from the pending entries list of the consumer group. Return value of the command is the number of messages successfully acknowledged, that is, the IDs we were actually able to resolve in the PEL."),
    k("xpending", -3, READONLY, groups::xpending).tips(ND).doc(G, "5.0.0", "O(N) with N being the number of elements returned, so asking for a small fixed number of entries per call is O(1). O(M), where M is the total number of entries scanned when used with the IDLE filter. When the command returns just the summary and the list of consumers is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every consumer.", "Return information and entries from a stream consumer group pending entries list, that are messages fetched but never acknowledged."),
    k("xclaim", -6, WRITE | FAST, groups::xclaim).tips(ND).doc(G, "5.0.0", "O(log N) with N being the number of messages in the PEL of the consumer group.", "Changes (or acquires) ownership of a message in a consumer group, as if the message was delivered to the specified consumer."),
    k("xautoclaim", -6, WRITE | FAST, groups::xautoclaim).tips(ND).doc(G, "6.2.0", "O(1) if COUNT is small.", "Changes (or acquires) ownership of messages in a consumer group, as if the messages were delivered to the specified consumer."),
    Command::container("xinfo", XINFO_SUBS).doc(G, "5.0.0", "Depends on subcommand.", "A container for stream introspection commands"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_as_redis_reads_them() {
        let p = |s: &str| parse_id_generic(s.as_bytes(), 0, true, true);
        assert_eq!(p("1-2"), Some((Id::new(1, 2), true)));
        assert_eq!(p("5"), Some((Id::new(5, 0), true)));
        assert_eq!(p("5-*"), Some((Id::new(5, 0), false)));
        assert_eq!(p("-"), None);
        assert_eq!(p("+5"), Some((Id::new(5, 0), true)));
        assert_eq!(p(" 7-01"), Some((Id::new(7, 1), true)));
        assert_eq!(p("1--1"), None);
        assert_eq!(p("1--01"), Some((Id::new(1, u64::MAX), true)));
        assert_eq!(p("x"), None);
        assert_eq!(p(""), None);
        assert_eq!(p("18446744073709551616"), None);
        assert_eq!(
            parse_id_generic(b"+", 0, false, false),
            Some((Id::MAX, true))
        );
    }
}
