//! XINFO STREAM [FULL [COUNT n]], XINFO GROUPS, XINFO CONSUMERS, in
//! Redis 7.0's shapes (7.2 added consumers' `inactive`/`active-time`).

use super::{bulk_id, reply_entry};
use crate::cmd::{Args, Ctx};
use crate::errors;
use crate::types::stream::{CGroup, Entry, Id, Stream};
use emberkv_protocol::ReplyWriter;

fn no_key(ctx: &mut Ctx<'_>) {
    ctx.err(errors::NO_SUCH_KEY);
}

fn sub_syntax(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    ctx.out
        .error_bytes(&errors::subcommand_syntax(args.get(1), "xinfo"));
}

/// Redis's radix tree reports its internal node count; this is what a
/// rax of 16-byte keys would hold at least (a leaf and an edge per key,
/// plus the root): an estimate, not Redis's exact number.
fn tree_nodes(s: &Stream) -> usize {
    if s.node_count() == 0 {
        1
    } else {
        2 * s.node_count()
    }
}

fn lag(out: &mut ReplyWriter<'_>, s: &Stream, g: &CGroup) {
    match s.lag(g) {
        Some(l) => out.int(l as i64),
        None => out.null(),
    }
}

fn entries_read(out: &mut ReplyWriter<'_>, g: &CGroup) {
    if g.entries_read >= 0 {
        out.int(g.entries_read);
    } else {
        out.null();
    }
}

fn edge_entry(out: &mut ReplyWriter<'_>, s: &Stream, last: bool) {
    let mut found: Option<Entry<'_>> = None;
    s.range(Id::MIN, Id::MAX, last, |e| {
        found = Some(e);
        false
    });
    match found {
        Some(e) => reply_entry(out, &e),
        None => out.null(),
    }
}

/// XINFO STREAM key [FULL [COUNT count]]
pub fn stream(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    super::read(ctx, args.get(2), no_key, |ctx, s| {
        let optc = args.len() - 3;
        let mut count: i64 = 10;
        let full = optc > 0;
        if full {
            if (optc != 1 && optc != 3) || !args.is(3, "full") {
                return sub_syntax(ctx, args);
            }
            if optc == 3 {
                if !args.is(4, "count") {
                    return sub_syntax(ctx, args);
                }
                let Some(c) = ctx.int_arg(args.get(5)) else {
                    return;
                };
                count = if c < 0 { 10 } else { c };
            }
        }
        let limit = if count == 0 {
            usize::MAX
        } else {
            count as usize
        };
        let out = &mut ctx.out;
        out.map(if full { 9 } else { 10 });
        out.bulk(b"length");
        out.int(s.length as i64);
        out.bulk(b"radix-tree-keys");
        out.int(s.node_count() as i64);
        out.bulk(b"radix-tree-nodes");
        out.int(tree_nodes(s) as i64);
        out.bulk(b"last-generated-id");
        bulk_id(out, s.last_id);
        out.bulk(b"max-deleted-entry-id");
        bulk_id(out, s.max_deleted);
        out.bulk(b"entries-added");
        out.int(s.entries_added as i64);
        out.bulk(b"recorded-first-entry-id");
        bulk_id(out, s.first_id);
        if !full {
            out.bulk(b"groups");
            out.int(s.group_count() as i64);
            out.bulk(b"first-entry");
            edge_entry(out, s, false);
            out.bulk(b"last-entry");
            edge_entry(out, s, true);
            return;
        }
        out.bulk(b"entries");
        let mut v = Vec::new();
        s.range(Id::MIN, Id::MAX, false, |e| {
            v.push(e);
            v.len() < limit
        });
        out.array(v.len());
        for e in &v {
            reply_entry(out, e);
        }
        out.bulk(b"groups");
        let Some(groups) = &s.groups else {
            return out.array(0);
        };
        out.array(groups.len());
        for (name, g) in groups.iter() {
            out.map(7);
            out.bulk(b"name");
            out.bulk(name);
            out.bulk(b"last-delivered-id");
            bulk_id(out, g.last_id);
            out.bulk(b"entries-read");
            entries_read(out, g);
            out.bulk(b"lag");
            lag(out, s, g);
            out.bulk(b"pel-count");
            out.int(g.pel.len() as i64);
            out.bulk(b"pending");
            let n = g.pel.len().min(limit);
            out.array(n);
            for (id, nk) in g.pel.iter().take(n) {
                out.array(4);
                bulk_id(out, *id);
                out.bulk(&nk.consumer);
                out.int(nk.delivery_time);
                out.int(nk.delivery_count as i64);
            }
            out.bulk(b"consumers");
            out.array(g.consumers.len());
            for (cname, c) in &g.consumers {
                out.map(4);
                out.bulk(b"name");
                out.bulk(cname);
                out.bulk(b"seen-time");
                out.int(c.seen_time);
                out.bulk(b"pel-count");
                out.int(c.pel.len() as i64);
                out.bulk(b"pending");
                let n = c.pel.len().min(limit);
                out.array(n);
                for id in c.pel.iter().take(n) {
                    let nk = &g.pel[id];
                    out.array(3);
                    bulk_id(out, *id);
                    out.int(nk.delivery_time);
                    out.int(nk.delivery_count as i64);
                }
            }
        }
    });
}

/// XINFO GROUPS key
pub fn groups(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    super::read(ctx, args.get(2), no_key, |ctx, s| {
        let out = &mut ctx.out;
        let Some(groups) = &s.groups else {
            return out.array(0);
        };
        out.array(groups.len());
        for (name, g) in groups.iter() {
            out.map(6);
            out.bulk(b"name");
            out.bulk(name);
            out.bulk(b"consumers");
            out.int(g.consumers.len() as i64);
            out.bulk(b"pending");
            out.int(g.pel.len() as i64);
            out.bulk(b"last-delivered-id");
            bulk_id(out, g.last_id);
            out.bulk(b"entries-read");
            entries_read(out, g);
            out.bulk(b"lag");
            lag(out, s, g);
        }
    });
}

/// XINFO CONSUMERS key group
pub fn consumers(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let now = ctx.now_ms;
    super::read(ctx, args.get(2), no_key, |ctx, s| {
        let Some(g) = s.group(args.get(3)) else {
            return ctx
                .out
                .error_bytes(&errors::nogroup_on(args.get(3), args.get(2)));
        };
        let out = &mut ctx.out;
        out.array(g.consumers.len());
        for (name, c) in &g.consumers {
            out.map(3);
            out.bulk(b"name");
            out.bulk(name);
            out.bulk(b"pending");
            out.int(c.pel.len() as i64);
            out.bulk(b"idle");
            out.int((now - c.seen_time).max(0));
        }
    });
}

pub fn help(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    crate::cmd::keys::help(
        ctx,
        &[
            "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "CONSUMERS <key> <groupname>",
            "    Show consumers of <groupname>.",
            "GROUPS <key>",
            "    Show the stream consumer groups.",
            "STREAM <key> [FULL [COUNT <count>]",
            "    Show information about the stream.",
            "HELP",
            "    Prints this help.",
        ],
    );
}
