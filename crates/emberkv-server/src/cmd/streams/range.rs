//! XRANGE and XREVRANGE.

use super::{range_end, range_start, reply_entry};
use crate::cmd::{Args, Ctx};
use crate::types::stream::Entry;

/// XRANGE key start end [COUNT count] / XREVRANGE key end start [COUNT count]
fn range_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, rev: bool) {
    let (sa, ea) = if rev { (3, 2) } else { (2, 3) };
    let Some(start) = range_start(ctx, args.get(sa)) else {
        return;
    };
    let Some(end) = range_end(ctx, args.get(ea)) else {
        return;
    };
    let mut count: i64 = -1;
    let mut j = 4;
    while j < args.len() {
        if args.is(j, "count") && j + 1 < args.len() {
            let Some(c) = ctx.int_arg(args.get(j + 1)) else {
                return;
            };
            count = c.max(0);
            j += 2;
        } else {
            return ctx.syntax();
        }
    }
    super::read(
        ctx,
        args.get(1),
        |c| c.out.array(0),
        |ctx, s| {
            if count == 0 {
                return ctx.out.null_array();
            }
            let limit = if count < 0 {
                usize::MAX
            } else {
                count as usize
            };
            let mut v: Vec<Entry<'_>> = Vec::new();
            s.range(start, end, rev, |e| {
                v.push(e);
                v.len() < limit
            });
            ctx.out.array(v.len());
            for e in &v {
                reply_entry(&mut ctx.out, e);
            }
        },
    );
}

pub fn xrange(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    range_generic(ctx, args, false)
}

pub fn xrevrange(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    range_generic(ctx, args, true)
}
