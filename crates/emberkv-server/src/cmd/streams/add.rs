//! XADD, XTRIM (and their shared option parser), XDEL, XSETID, XLEN.

use super::{id_arg, parse_id_generic, strict_id, write};
use crate::cmd::{Args, Ctx};
use crate::effects;
use crate::errors;
use crate::notify;
use crate::types::stream::{AddError, Id, Stream, Trim, TrimArgs, NODE_MAX_ENTRIES};
use std::sync::atomic::Ordering::Relaxed;

/// XADD/XTRIM options (streamParseAddOrTrimArgsOrReply).
struct Opts {
    trim: TrimArgs,
    /// Index of the MAXLEN/MINID threshold (the `~` is just before it).
    trim_at: usize,
    nomkstream: bool,
    /// XADD: the ID given (None: `*`) and whether its sequence was.
    id: Option<(Id, bool)>,
    /// XADD: the ID's index.
    id_at: usize,
}

fn parse_opts(ctx: &mut Ctx<'_>, args: &Args<'_>, xadd: bool) -> Option<Opts> {
    let argc = args.len();
    let mut o = Opts {
        trim: TrimArgs {
            how: Trim::None,
            approx: false,
            limit: 0,
        },
        trim_at: 0,
        nomkstream: false,
        id: None,
        id_at: 0,
    };
    let mut limit: i64 = 0;
    let mut limit_given = false;
    let mut i = 2;
    while i < argc {
        let more = argc - 1 - i;
        let a = args.get(i);
        let is_max = args.is(i, "maxlen");
        if xadd && a == b"*" {
            break;
        } else if (is_max || args.is(i, "minid")) && more > 0 {
            if o.trim.how != Trim::None {
                ctx.err(errors::MAXLEN_AND_MINID);
                return None;
            }
            o.trim.approx = false;
            let next = args.get(i + 1);
            if more >= 2 && next == b"~" {
                o.trim.approx = true;
                i += 1;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            let v = args.get(i + 1);
            if is_max {
                let n = ctx.int_arg(v)?;
                if n < 0 {
                    ctx.err(errors::STREAM_MAXLEN_NEGATIVE);
                    return None;
                }
                o.trim.how = Trim::MaxLen(n as u64);
            } else {
                o.trim.how = Trim::MinId(strict_id(ctx, v)?);
            }
            i += 1;
            o.trim_at = i;
        } else if args.is(i, "limit") && more > 0 {
            limit = ctx.int_arg(args.get(i + 1))?;
            if limit < 0 {
                ctx.err(errors::STREAM_LIMIT_NEGATIVE);
                return None;
            }
            limit_given = true;
            i += 1;
        } else if xadd && args.is(i, "nomkstream") {
            o.nomkstream = true;
        } else if xadd {
            let Some(id) = parse_id_generic(a, 0, true, true) else {
                ctx.err(errors::STREAM_BAD_ID);
                return None;
            };
            o.id = Some(id);
            break;
        } else {
            ctx.syntax();
            return None;
        }
        i += 1;
    }
    o.id_at = i;
    if limit != 0 && o.trim.how == Trim::None {
        ctx.err(errors::LIMIT_WITHOUT_TRIM);
        return None;
    }
    if !xadd && o.trim.how == Trim::None {
        ctx.err(errors::XTRIM_NO_STRATEGY);
        return None;
    }
    if limit_given {
        if !o.trim.approx {
            ctx.err(errors::LIMIT_WITHOUT_APPROX);
            return None;
        }
        o.trim.limit = limit as u64;
    } else if o.trim.approx {
        // At most 100 nodes' worth of work per call.
        let l = 100i64.saturating_mul(NODE_MAX_ENTRIES.load(Relaxed));
        o.trim.limit = if l <= 0 {
            10_000
        } else {
            l.min(1_000_000) as u64
        };
    }
    Some(o)
}

/// The command as propagated after an approximate trim: `~` becomes `=`
/// and the threshold what the trim left (the length, or the first ID),
/// so a replay trims exactly the same. Also puts the ID XADD generated in
/// place of `*` / `ms-*`.
fn rewritten(args: &Args<'_>, o: &Opts, s: &Stream, id: Option<Id>) -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
    if o.trim.approx {
        v[o.trim_at - 1] = b"=".to_vec();
        v[o.trim_at] = match o.trim.how {
            Trim::MaxLen(_) => s.length.to_string().into_bytes(),
            _ => id_arg(s.first_raw_id()),
        };
    }
    if let Some(id) = id {
        v[o.id_at] = id_arg(id);
    }
    v
}

fn propagate_vec(ctx: &Ctx<'_>, v: &[Vec<u8>]) {
    let refs: Vec<&[u8]> = v.iter().map(|a| &a[..]).collect();
    effects::propagate(ctx.client.db, &refs);
}

/// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value ...]
pub fn xadd(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Some(o) = parse_opts(ctx, args, true) else {
        return;
    };
    let fields_at = o.id_at + 1;
    if args.len() < fields_at + 2 || !(args.len() - fields_at).is_multiple_of(2) {
        return ctx.err(&errors::wrong_args("xadd"));
    }
    if let Some((id, true)) = o.id {
        if id.is_zero() {
            return ctx.err(errors::XADD_ZERO_ID);
        }
    }
    let pairs: Vec<(&[u8], &[u8])> = (fields_at..args.len())
        .step_by(2)
        .map(|i| (args.get(i), args.get(i + 1)))
        .collect();
    let key = args.get(1);
    let r = write(ctx, key, !o.nomkstream, |ctx, s| {
        if s.last_id == Id::MAX {
            return ctx.err(errors::XADD_EXHAUSTED);
        }
        let now = ctx.now_ms.max(0) as u64;
        let id = match s.add(o.id.map(|x| x.0), o.id.is_none_or(|x| x.1), &pairs, now) {
            Ok(id) => id,
            Err(AddError::NotGreater) => return ctx.err(errors::XADD_NOT_GREATER),
            Err(AddError::TooLarge) => return ctx.err(errors::XADD_TOO_LARGE),
        };
        super::bulk_id(&mut ctx.out, id);
        ctx.notify(notify::STREAM, "xadd", key);
        if o.trim.how != Trim::None && s.trim(&o.trim) > 0 {
            // XADD counts one change, whatever its trim deleted (Redis).
            ctx.notify_also(notify::STREAM, "xtrim", key);
        }
        let generated = !matches!(o.id, Some((_, true)));
        if (generated || o.trim.approx) && effects::propagating() {
            let v = rewritten(args, &o, s, generated.then_some(id));
            propagate_vec(ctx, &v);
        }
    });
    if r == Err(false) {
        ctx.out.null();
    }
}

/// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]
pub fn xtrim(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Some(o) = parse_opts(ctx, args, false) else {
        return;
    };
    let key = args.get(1);
    let r = write(ctx, key, false, |ctx, s| {
        let n = s.trim(&o.trim);
        if n > 0 {
            ctx.notify(notify::STREAM, "xtrim", key);
            effects::dirty(n - 1);
            if o.trim.approx && effects::propagating() {
                let v = rewritten(args, &o, s, None);
                propagate_vec(ctx, &v);
            }
        }
        ctx.out.int(n as i64);
    });
    if r == Err(false) {
        ctx.out.int(0);
    }
}

/// XDEL key id [id ...]: the key is looked up before the IDs are parsed.
pub fn xdel(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let key = args.get(1);
    let r = write(ctx, key, false, |ctx, s| {
        let mut ids = Vec::with_capacity(args.len() - 2);
        for i in 2..args.len() {
            let Some(id) = strict_id(ctx, args.get(i)) else {
                return;
            };
            ids.push(id);
        }
        let n = s.delete(&ids);
        if n > 0 {
            ctx.notify(notify::STREAM, "xdel", key);
            effects::dirty(n - 1);
        }
        ctx.out.int(n as i64);
    });
    if r == Err(false) {
        ctx.out.int(0);
    }
}

/// XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]
pub fn xsetid(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let Some(id) = strict_id(ctx, args.get(2)) else {
        return;
    };
    let mut added: i64 = -1;
    let mut maxdel = Id::MIN;
    let mut i = 3;
    while i < args.len() {
        let more = args.len() - 1 - i;
        if args.is(i, "entriesadded") && more > 0 {
            added = match ctx.int_arg(args.get(i + 1)) {
                Some(n) if n < 0 => return ctx.err(errors::ENTRIES_ADDED_NEGATIVE),
                Some(n) => n,
                None => return,
            };
        } else if args.is(i, "maxdeletedid") && more > 0 {
            let Some(m) = strict_id(ctx, args.get(i + 1)) else {
                return;
            };
            if id < m {
                return ctx.err(errors::XSETID_BELOW_MAXDEL_ARG);
            }
            maxdel = m;
        } else {
            return ctx.syntax();
        }
        i += 2;
    }
    let key = args.get(1);
    let r = write(ctx, key, false, |ctx, s| {
        if s.length > 0 {
            if id < s.edge_id(true).unwrap_or_default() {
                return ctx.err(errors::XSETID_BELOW_TOP);
            }
            if added != -1 && s.length > added as u64 {
                return ctx.err(errors::XSETID_ENTRIES_ADDED);
            }
        }
        s.last_id = id;
        if added != -1 {
            s.entries_added = added as u64;
        }
        if !maxdel.is_zero() {
            s.max_deleted = maxdel;
        }
        ctx.out.ok();
        ctx.notify(notify::STREAM | notify::QUIET, "xsetid", key);
    });
    if r == Err(false) {
        ctx.err(errors::NO_SUCH_KEY);
    }
}

/// XLEN key
pub fn xlen(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    super::read(
        ctx,
        args.get(1),
        |c| c.out.int(0),
        |ctx, s| ctx.out.int(s.length as i64),
    );
}
