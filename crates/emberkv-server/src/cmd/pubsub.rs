//! Pub/sub commands. The registry and delivery are in `pubsub.rs`.

use super::flags::*;
use super::keys::help;
use super::{Args, Command, Ctx, Group};
use crate::errors;
use crate::pubsub::{self, Kind};

fn subscribe_kind(ctx: &mut Ctx<'_>, args: &Args<'_>, k: Kind) {
    for name in args.iter().skip(1) {
        let n = pubsub::subscribe(ctx.srv, ctx.client, k, name);
        pubsub::confirm(&mut ctx.out, k, true, Some(name), n);
    }
}

/// UNSUBSCRIBE with no names leaves every subscription of the kind, and
/// with none at all still confirms once, with a null name.
fn unsubscribe_kind(ctx: &mut Ctx<'_>, args: &Args<'_>, k: Kind) {
    if args.len() > 1 {
        for name in args.iter().skip(1) {
            pubsub::unsubscribe(ctx.srv, ctx.client, k, name);
            let n = pubsub::reply_count(ctx.client, k);
            pubsub::confirm(&mut ctx.out, k, false, Some(name), n);
        }
        return;
    }
    let names = pubsub::names_of(ctx.client, k);
    if names.is_empty() {
        let n = pubsub::reply_count(ctx.client, k);
        return pubsub::confirm(&mut ctx.out, k, false, None, n);
    }
    for name in names {
        pubsub::unsubscribe(ctx.srv, ctx.client, k, &name);
        let n = pubsub::reply_count(ctx.client, k);
        pubsub::confirm(&mut ctx.out, k, false, Some(&name), n);
    }
}

fn subscribe(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    subscribe_kind(ctx, args, Kind::Channel)
}
fn psubscribe(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    subscribe_kind(ctx, args, Kind::Pattern)
}
/// Redis 7.0 refuses SSUBSCRIBE to a client that may not block, which
/// includes one running EXEC (SUBSCRIBE and PSUBSCRIBE are let through
/// there, for backward compatibility).
fn ssubscribe(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    if ctx.client.nested {
        return ctx.err(errors::SSUBSCRIBE_DENY_BLOCKING);
    }
    subscribe_kind(ctx, args, Kind::Shard)
}
fn unsubscribe(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    unsubscribe_kind(ctx, args, Kind::Channel)
}
fn punsubscribe(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    unsubscribe_kind(ctx, args, Kind::Pattern)
}
fn sunsubscribe(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    unsubscribe_kind(ctx, args, Kind::Shard)
}

/// PUBLISH channel message
fn publish(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let n = ctx
        .srv
        .pubsub
        .publish(ctx.srv, args.get(1), args.get(2), false, ctx.now_ms);
    ctx.out.int(n as i64);
}

/// SPUBLISH shardchannel message (one node: every shard channel is ours).
fn spublish(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    let n = ctx
        .srv
        .pubsub
        .publish(ctx.srv, args.get(1), args.get(2), true, ctx.now_ms);
    ctx.out.int(n as i64);
}

fn channels_of(ctx: &mut Ctx<'_>, args: &Args<'_>, k: Kind) {
    if args.len() > 3 {
        return ctx.err(&errors::pubsub_subcommand_syntax(args.get(1)));
    }
    let pat = (args.len() == 3).then(|| args.get(2));
    let names = ctx.srv.pubsub.names(k, pat);
    ctx.out.array(names.len());
    for n in &names {
        ctx.out.bulk(n);
    }
}

fn numsub_of(ctx: &mut Ctx<'_>, args: &Args<'_>, k: Kind) {
    ctx.out.array((args.len() - 2) * 2);
    for name in args.iter().skip(2) {
        ctx.out.bulk(name);
        let n = ctx.srv.pubsub.numsub(k, name);
        ctx.out.int(n as i64);
    }
}

fn channels(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    channels_of(ctx, args, Kind::Channel)
}
fn shardchannels(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    channels_of(ctx, args, Kind::Shard)
}
fn numsub(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    numsub_of(ctx, args, Kind::Channel)
}
fn shardnumsub(ctx: &mut Ctx<'_>, args: &Args<'_>) {
    numsub_of(ctx, args, Kind::Shard)
}
fn numpat(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    let n = ctx.srv.pubsub.numpat();
    ctx.out.int(n as i64);
}

fn pubsub_help(ctx: &mut Ctx<'_>, _args: &Args<'_>) {
    help(
        ctx,
        &[
            "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
            "SHARDCHANNELS [<pattern>]",
            "    Return the currently active shard level channels matching a <pattern> (default: '*').",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Return the number of subscribers for the specified shard level channel(s)",
            "HELP",
            "    Prints this help.",
        ],
    );
}

const P: Group = Group::PubSub;
const SUB: u32 = PUBSUB | NOSCRIPT | LOADING | STALE | SUBSCRIBER_OK;

static PUBSUB_SUBS: &[Command] = &[
    Command::new("channels", -2, PUBSUB | LOADING | STALE, channels).doc(
        P,
        "2.8.0",
        "O(N) where N is the number of active channels",
        "Returns the active channels.",
    ),
    Command::new("numsub", -2, PUBSUB | LOADING | STALE, numsub).doc(
        P,
        "2.8.0",
        "O(N) for the NUMSUB subcommand, where N is the number of requested channels",
        "Returns a count of subscribers to channels.",
    ),
    Command::new("numpat", 2, PUBSUB | LOADING | STALE, numpat).doc(
        P,
        "2.8.0",
        "O(1)",
        "Returns a count of unique pattern subscriptions.",
    ),
    Command::new("shardchannels", -2, PUBSUB | LOADING | STALE, shardchannels).doc(
        P,
        "7.0.0",
        "O(N) where N is the number of active shard channels",
        "Returns the active shard channels.",
    ),
    Command::new("shardnumsub", -2, PUBSUB | LOADING | STALE, shardnumsub).doc(
        P,
        "7.0.0",
        "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels",
        "Returns the count of subscribers of shard channels.",
    ),
    Command::new("help", 2, LOADING | STALE, pubsub_help).doc(
        P,
        "6.2.0",
        "O(1)",
        "Returns helpful text about the different subcommands.",
    ),
];

pub static COMMANDS: &[Command] = &[
    Command::new("subscribe", -2, SUB, subscribe).doc(
        P,
        "2.0.0",
        "O(N) where N is the number of channels to subscribe to.",
        "Listens for messages published to channels.",
    ),
    Command::new("unsubscribe", -1, SUB, unsubscribe).doc(
        P,
        "2.0.0",
        "O(N) where N is the number of channels to unsubscribe.",
        "Stops listening to messages posted to channels.",
    ),
    Command::new("psubscribe", -2, SUB, psubscribe).doc(
        P,
        "2.0.0",
        "O(N) where N is the number of patterns to subscribe to.",
        "Listens for messages published to channels that match one or more patterns.",
    ),
    Command::new("punsubscribe", -1, SUB, punsubscribe).doc(
        P,
        "2.0.0",
        "O(N) where N is the number of patterns to unsubscribe.",
        "Stops listening to messages published to channels that match one or more patterns.",
    ),
    Command::new("ssubscribe", -2, SUB, ssubscribe)
        .keys(1, -1, 1)
        .doc(
            P,
            "7.0.0",
            "O(N) where N is the number of shard channels to subscribe to.",
            "Listens for messages published to shard channels.",
        ),
    Command::new("sunsubscribe", -1, SUB, sunsubscribe)
        .keys(1, -1, 1)
        .doc(
            P,
            "7.0.0",
            "O(N) where N is the number of shard channels to unsubscribe.",
            "Stops listening to messages posted to shard channels.",
        ),
    Command::new("publish", 3, PUBSUB | LOADING | STALE | FAST, publish).doc(
        P,
        "2.0.0",
        "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).",
        "Posts a message to a channel.",
    ),
    Command::new("spublish", 3, PUBSUB | LOADING | STALE | FAST, spublish)
        .keys(1, 1, 1)
        .doc(
            P,
            "7.0.0",
            "O(N) where N is the number of clients subscribed to the receiving shard channel.",
            "Post a message to a shard channel",
        ),
    Command::container("pubsub", PUBSUB_SUBS).doc(
        P,
        "2.8.0",
        "Depends on subcommand.",
        "A container for Pub/Sub commands.",
    ),
];
