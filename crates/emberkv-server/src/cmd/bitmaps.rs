//! Bitmap commands over string values: SETBIT, GETBIT, BITCOUNT, BITPOS,
//! BITOP, BITFIELD, BITFIELD_RO. Arguments are parsed here, in Redis 7.0's
//! order (which decides which error wins); the bit operations are the
//! core's `ops::bits`.

use super::keys::read_entry;
use super::{flags::*, Args, Command, Ctx, Group};
use crate::errors;
use crate::notify;
use crate::store::entry::{F_RAW, T_STRING};
use crate::util::parse_i64;
use emberkv_core::ops::bits::{self as ops, BitOp, BitfieldOp, Field, FieldOp, Overflow, Unit};
use emberkv_core::ops::strings::{write_string, Expire};
use emberkv_core::ops::At;
use std::sync::atomic::Ordering::Relaxed;

/// Redis compares these words with strcasecmp, which stops at a NUL byte.
fn word_is(a: &[u8], w: &str) -> bool {
    a[..memchr::memchr(0, a).unwrap_or(a.len())].eq_ignore_ascii_case(w.as_bytes())
}

/// A bit offset (getBitOffsetFromArgument): at least 0 and inside
/// proto-max-bulk-len bytes. With `fields` (BITFIELD), `#n` means n times
/// the field width; the product wraps as Redis's does. None once the
/// error is replied.
fn bit_offset(ctx: &mut Ctx<'_>, a: &[u8], fields: Option<u32>) -> Option<u64> {
    let (digits, mul) = match (a.first(), fields) {
        (Some(b'#'), Some(w)) => (&a[1..], w as i64),
        _ => (a, 1),
    };
    let max = ctx.srv.max_bulk_len.load(Relaxed);
    match parse_i64(digits).map(|v| v.wrapping_mul(mul)) {
        Some(off) if off >= 0 && ((off >> 3) as u64) < max => Some(off as u64),
        _ => {
            ctx.err(errors::BIT_OFFSET);
            None
        }
    }
}

/// The At of `key` for a write.
fn at<'k>(ctx: &Ctx<'_>, h: u64, key: &'k [u8]) -> At<'k> {
    At {
        h,
        key,
        now: ctx.now_ms,
        lru: ctx.lru_clock(),
    }
}

/// SETBIT key offset value
fn setbit(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Some(off) = bit_offset(ctx, args.get(2), None) else {
        return;
    };
    let on = match parse_i64(args.get(3)) {
        Some(0) => false,
        Some(1) => true,
        _ => return ctx.err(errors::BIT_VALUE),
    };
    let key = args.get(1);
    let h = ctx.srv.store.hash(key);
    let mut shard = ctx.srv.store.lock(h);
    let r = ops::setbit(&mut shard.dbs[ctx.client.db], at(ctx, h, key), off, on);
    drop(shard);
    match r {
        Ok((old, changed)) => {
            ctx.out.int(old as i64);
            if changed {
                ctx.notify(notify::STRING, "setbit", key);
            }
        }
        Err(e) => ctx.op_err(e),
    }
}

/// GETBIT key offset
fn getbit(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Some(off) = bit_offset(ctx, args.get(2), None) else {
        return;
    };
    let key = args.get(1);
    let h = ctx.srv.store.hash(key);
    let mut shard = ctx.srv.store.lock(h);
    match read_entry(ctx, &mut shard.dbs[ctx.client.db], h, key) {
        None => ctx.out.int(0),
        Some(e) if e.kind() != T_STRING => ctx.wrongtype(),
        Some(e) => ctx.out.int(ops::getbit(e.str_value(), off) as i64),
    }
}

/// BYTE or BIT.
fn unit(a: &[u8]) -> Result<Unit, &'static str> {
    if word_is(a, "bit") {
        Ok(Unit::Bit)
    } else if word_is(a, "byte") {
        Ok(Unit::Byte)
    } else {
        Err(errors::SYNTAX)
    }
}

fn int(a: &[u8]) -> Result<i64, &'static str> {
    parse_i64(a).ok_or(errors::NOT_INT)
}

/// Runs `f` on the string at `args[1]` (Redis 7.0 looks the key up before
/// it reads the range: a missing key answers `missing` whatever follows,
/// and WRONGTYPE wins over a bad range).
fn with_str(ctx: &mut Ctx<'_>, args: &Args<'_>, missing: i64, f: impl FnOnce(&mut Ctx<'_>, &[u8])) {
    let key = args.get(1);
    let h = ctx.srv.store.hash(key);
    let mut shard = ctx.srv.store.lock(h);
    match read_entry(ctx, &mut shard.dbs[ctx.client.db], h, key) {
        None => ctx.out.int(missing),
        Some(e) if e.kind() != T_STRING => ctx.wrongtype(),
        Some(e) => f(ctx, e.str_value()),
    }
}

/// BITCOUNT key [start end [BYTE|BIT]]
fn bitcount(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let range = || -> Result<Option<(i64, i64, Unit)>, &'static str> {
        match args.len() {
            2 => Ok(None),
            4 | 5 => {
                let (s, e) = (int(args.get(2))?, int(args.get(3))?);
                let u = if args.len() == 5 {
                    unit(args.get(4))?
                } else {
                    Unit::Byte
                };
                Ok(Some((s, e, u)))
            }
            _ => Err(errors::SYNTAX),
        }
    };
    with_str(ctx, args, 0, |ctx, v| match range() {
        Ok(r) => ctx.out.int(ops::bitcount(v, r) as i64),
        Err(e) => ctx.err(e),
    });
}

/// BITPOS key bit [start [end [BYTE|BIT]]]
fn bitpos(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Some(bit) = ctx.int_arg(args.get(2)) else {
        return;
    };
    if bit != 0 && bit != 1 {
        return ctx.err(errors::BITPOS_BIT);
    }
    // Start, then the unit, then the end: Redis's order.
    let range = || -> Result<(Option<i64>, Option<i64>, Unit), &'static str> {
        let n = args.len();
        if n == 3 {
            return Ok((None, None, Unit::Byte));
        }
        if n > 6 {
            return Err(errors::SYNTAX);
        }
        let start = int(args.get(3))?;
        let u = if n == 6 {
            unit(args.get(5))?
        } else {
            Unit::Byte
        };
        let end = if n >= 5 {
            Some(int(args.get(4))?)
        } else {
            None
        };
        Ok((Some(start), end, u))
    };
    with_str(
        ctx,
        args,
        if bit == 1 { -1 } else { 0 },
        |ctx, v| match range() {
            Ok((s, e, u)) => ctx.out.int(ops::bitpos(v, bit == 1, s, e, u)),
            Err(e) => ctx.err(e),
        },
    );
}

/// BITOP AND|OR|XOR|NOT destkey key [key ...]
fn bitop(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let name = args.get(1);
    let op = if word_is(name, "and") {
        BitOp::And
    } else if word_is(name, "or") {
        BitOp::Or
    } else if word_is(name, "xor") {
        BitOp::Xor
    } else if word_is(name, "not") {
        BitOp::Not
    } else {
        return ctx.syntax();
    };
    if op == BitOp::Not && args.len() != 4 {
        return ctx.err(errors::BITOP_NOT_ONE_KEY);
    }
    let store = &ctx.srv.store;
    let db = ctx.client.db;
    // The destination first, then the sources.
    let hashes = super::key_hashes(store, args, 2, 1);
    let mut locked = store.lock_many(hashes.iter().copied());
    let mut acc = ops::BitOpAcc::new(op);
    for (i, &h) in hashes.iter().enumerate().skip(1) {
        match read_entry(ctx, locked.table(h, db), h, args.get(2 + i)) {
            None => acc.add(b""),
            Some(e) if e.kind() != T_STRING => return ctx.wrongtype(),
            Some(e) => acc.add(e.str_value()),
        }
    }
    let res = acc.finish();
    let (hd, dest) = (hashes[0], args.get(2));
    let t = locked.table(hd, db);
    if !res.is_empty() {
        // setKey's lookup: an expired destination expires first.
        t.lookup(hd, dest, ctx.now_ms);
        write_string(t, at(ctx, hd, dest), &res, Expire::None, F_RAW);
        drop(locked);
        ctx.notify(notify::STRING, "set", dest);
    } else if t.delete(hd, dest) {
        drop(locked);
        ctx.notify(notify::GENERIC, "del", dest);
    }
    ctx.out.int(res.len() as i64);
}

/// A BITFIELD type: i1..i64 or u1..u63 (Redis reads the width as a C
/// string, so it stops at a NUL byte).
fn field_type(a: &[u8]) -> Option<Field> {
    let a = &a[..memchr::memchr(0, a).unwrap_or(a.len())];
    let signed = match a.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return None,
    };
    let bits = parse_i64(&a[1..])?;
    let max = if signed { 64 } else { 63 };
    (1..=max).contains(&bits).then_some(Field {
        signed,
        bits: bits as u32,
    })
}

/// Parsed BITFIELD operations; a few inline, as most calls have.
type FieldOps = smallvec::SmallVec<[BitfieldOp; 4]>;

/// Parses the operations from `args[2]` on, replying the first error (in
/// argument order). Returns the operations and the highest bit a write
/// touches (None when they are all GETs).
fn parse_fields(ctx: &mut Ctx<'_>, args: &Args<'_>) -> Option<(FieldOps, Option<u64>)> {
    let mut fields = FieldOps::new();
    let mut overflow = Overflow::Wrap;
    let mut highest: Option<u64> = None;
    let mut j = 2;
    while j < args.len() {
        let rem = args.len() - j - 1;
        let sub = args.get(j);
        let kind = if word_is(sub, "get") && rem >= 2 {
            FieldOp::Get
        } else if word_is(sub, "set") && rem >= 3 {
            FieldOp::Set(0)
        } else if word_is(sub, "incrby") && rem >= 3 {
            FieldOp::IncrBy(0)
        } else if word_is(sub, "overflow") && rem >= 1 {
            let w = args.get(j + 1);
            overflow = if word_is(w, "wrap") {
                Overflow::Wrap
            } else if word_is(w, "sat") {
                Overflow::Sat
            } else if word_is(w, "fail") {
                Overflow::Fail
            } else {
                ctx.err(errors::BITFIELD_OVERFLOW);
                return None;
            };
            j += 2;
            continue;
        } else {
            ctx.syntax();
            return None;
        };
        let Some(field) = field_type(args.get(j + 1)) else {
            ctx.err(errors::BITFIELD_TYPE);
            return None;
        };
        let offset = bit_offset(ctx, args.get(j + 2), Some(field.bits))?;
        let op = match kind {
            FieldOp::Get => FieldOp::Get,
            _ => {
                let last = offset + field.bits as u64 - 1;
                highest = Some(highest.map_or(last, |h| h.max(last)));
                let v = ctx.int_arg(args.get(j + 3))?;
                match kind {
                    FieldOp::Set(_) => FieldOp::Set(v),
                    _ => FieldOp::IncrBy(v),
                }
            }
        };
        fields.push(BitfieldOp {
            op,
            field,
            offset,
            overflow,
        });
        j += if op == FieldOp::Get { 3 } else { 4 };
    }
    Some((fields, highest))
}

fn reply_field(ctx: &mut Ctx<'_>, r: Option<i64>) {
    match r {
        Some(v) => ctx.out.int(v),
        None => ctx.out.null(),
    }
}

/// BITFIELD key [GET type offset | SET type offset value |
/// INCRBY type offset increment | OVERFLOW WRAP|SAT|FAIL] ...
/// (`ro`: BITFIELD_RO, GET only).
fn bitfield_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, ro: bool) {
    let Some((fields, highest)) = parse_fields(ctx, args) else {
        return;
    };
    let key = args.get(1);
    let h = ctx.srv.store.hash(key);
    let mut shard = ctx.srv.store.lock(h);
    let t = &mut shard.dbs[ctx.client.db];
    let Some(highest) = highest else {
        let v = match read_entry(ctx, t, h, key) {
            None => &b""[..],
            Some(e) if e.kind() != T_STRING => return ctx.wrongtype(),
            Some(e) => e.str_value(),
        };
        ctx.out.array(fields.len());
        for op in &fields {
            let r = ops::eval_field(v, op).reply;
            reply_field(ctx, r);
        }
        return;
    };
    if ro {
        return ctx.err(errors::BITFIELD_RO_GET_ONLY);
    }
    let (e, grew) = match ops::write_target(t, at(ctx, h, key), (highest >> 3) as usize + 1) {
        Ok(x) => x,
        Err(e) => return ctx.op_err(e),
    };
    ctx.out.array(fields.len());
    let mut changes = 0;
    for op in &fields {
        let (r, changed) = ops::apply_field(e, op, grew);
        changes += changed as u64;
        reply_field(ctx, r);
    }
    drop(shard);
    if changes > 0 {
        // One notification; the dirty counter counts every change.
        ctx.notify(notify::STRING, "setbit", key);
        crate::effects::dirty(changes - 1);
    } else if grew {
        // Every write failed (OVERFLOW FAIL) but the key was created or
        // padded: Redis counts no change and so propagates nothing, and a
        // replica would miss the key. Propagated here, without a count.
        crate::effects::force();
    }
}

fn bitfield(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    bitfield_generic(ctx, args, false)
}

fn bitfield_ro(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    bitfield_generic(ctx, args, true)
}

const B: Group = Group::Bitmap;

pub static COMMANDS: &[Command] = &[
    Command::new("setbit", 4, WRITE | DENYOOM, setbit)
        .keys(1, 1, 1)
        .doc(
            B,
            "2.2.0",
            "O(1)",
            "Sets or clears the bit at offset in the string value stored at key",
        ),
    Command::new("getbit", 3, READONLY | FAST, getbit)
        .keys(1, 1, 1)
        .doc(
            B,
            "2.2.0",
            "O(1)",
            "Returns the bit value at offset in the string value stored at key",
        ),
    Command::new("bitcount", -2, READONLY, bitcount)
        .keys(1, 1, 1)
        .doc(B, "2.6.0", "O(N)", "Count set bits in a string"),
    Command::new("bitpos", -3, READONLY, bitpos)
        .keys(1, 1, 1)
        .doc(B, "2.8.7", "O(N)", "Find first bit set or clear in a string"),
    Command::new("bitop", -4, WRITE | DENYOOM, bitop)
        .keys(2, -1, 1)
        .doc(B, "2.6.0", "O(N)", "Perform bitwise operations between strings"),
    Command::new("bitfield", -2, WRITE | DENYOOM, bitfield)
        .keys(1, 1, 1)
        .doc(
            B,
            "3.2.0",
            "O(1) for each subcommand specified",
            "Perform arbitrary bitfield integer operations on strings",
        ),
    Command::new("bitfield_ro", -2, READONLY | FAST, bitfield_ro)
        .keys(1, 1, 1)
        .doc(
            B,
            "6.0.0",
            "O(1) for each subcommand specified",
            "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD",
        ),
];
