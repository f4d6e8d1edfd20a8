//! The command table and what a handler sees.
//!
//! Each family module ends with a `COMMANDS` table: name, arity (negative =
//! at least), flags, key positions, docs and handler. [`Registry`] gathers
//! them; dispatch and `COMMAND` read nothing else, so the table is the single
//! source of truth. Handlers parse their arguments, call a data operation on
//! the locked table and write one reply.

pub mod bitmaps;
pub mod client;
pub mod coll;
pub mod config;
pub mod connection;
pub mod debug;
pub mod expire;
pub mod functions;
pub mod geo;
pub mod hashes;
pub mod hll;
pub mod info;
pub mod introspect;
pub mod keys;
pub mod keyspace;
pub mod lists;
pub mod memory;
pub mod multi;
pub mod num;
pub mod persist;
pub mod pubsub;
pub mod scripting;
pub mod server;
pub mod sets;
pub mod sort;
pub mod streams;
pub mod strings;
pub mod zsets;

use crate::client::Client;
use crate::errors;
use crate::server::{Server, WorkerStats};
pub use emberkv_core::ops::OpError;
use emberkv_protocol::{ReplyWriter, RequestParser};
use std::collections::HashMap;

pub mod flags {
    pub const WRITE: u32 = 1 << 0;
    pub const READONLY: u32 = 1 << 1;
    pub const DENYOOM: u32 = 1 << 2;
    pub const ADMIN: u32 = 1 << 3;
    pub const PUBSUB: u32 = 1 << 4;
    pub const NOSCRIPT: u32 = 1 << 5;
    pub const BLOCKING: u32 = 1 << 6;
    pub const LOADING: u32 = 1 << 7;
    pub const STALE: u32 = 1 << 8;
    pub const SKIP_MONITOR: u32 = 1 << 9;
    pub const SKIP_SLOWLOG: u32 = 1 << 10;
    pub const FAST: u32 = 1 << 11;
    pub const NO_AUTH: u32 = 1 << 12;
    pub const MAY_REPLICATE: u32 = 1 << 13;
    pub const NO_MULTI: u32 = 1 << 14;
    pub const ALLOW_BUSY: u32 = 1 << 15;
    pub const MOVABLE_KEYS: u32 = 1 << 16;
    /// Keys may be absent (numkeys 0: EVAL, FCALL).
    pub const NO_MANDATORY_KEYS: u32 = 1 << 17;
    /// Refused while a replica loads its master's data in the background.
    pub const NO_ASYNC_LOADING: u32 = 1 << 18;
    /// Internal (not shown by COMMAND): runs holding the transaction gate
    /// exclusively (EXEC, EVAL*), see gate.rs.
    pub const EXCLUSIVE: u32 = 1 << 24;
    /// Internal: allowed to a RESP2 client in subscriber mode.
    pub const SUBSCRIBER_OK: u32 = 1 << 25;
    /// Internal: acts on the transaction itself, so it runs inside MULTI
    /// instead of being queued (MULTI, EXEC, DISCARD, WATCH, QUIT, RESET).
    pub const TX_CONTROL: u32 = 1 << 26;
    /// Internal: runs the queued transaction (EXEC): a refusal discards it
    /// with EXECABORT.
    pub const RUNS_QUEUE: u32 = 1 << 27;
    /// Internal: the argument after STORE is a key too (SORT; GEORADIUS
    /// with STORE / STOREDIST), for
    /// COMMAND GETKEYS.
    pub const STORE_KEY: u32 = 1 << 28;
    /// Internal (Redis's CMD_PROTECTED, which COMMAND does not show either):
    /// refused unless `enable-debug-command` allows the client (dispatch).
    pub const PROTECTED: u32 = 1 << 29;

    /// Names as `COMMAND INFO` prints them.
    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (MAY_REPLICATE, "may_replicate"),
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
        (NO_ASYNC_LOADING, "no_async_loading"),
        (NO_MULTI, "no_multi"),
        (ALLOW_BUSY, "allow_busy"),
        (MOVABLE_KEYS, "movablekeys"),
    ];
}

/// Extra ACL categories beyond those derived from flags and group.
pub mod acl {
    pub const DANGEROUS: u32 = 1 << 0;
    pub const KEYSPACE: u32 = 1 << 1;
    /// Data-type categories of commands outside that type's group (SORT).
    pub const SET: u32 = 1 << 2;
    pub const SORTEDSET: u32 = 1 << 3;
    pub const LIST: u32 = 1 << 4;
    /// @connection outside the connection group (COMMAND).
    pub const CONNECTION: u32 = 1 << 5;
    /// @admin without the `admin` flag (LASTSAVE).
    pub const ADMIN: u32 = 1 << 6;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    String,
    Bitmap,
    Generic,
    Connection,
    Server,
    List,
    Hash,
    Set,
    SortedSet,
    Transactions,
    PubSub,
    Scripting,
    HyperLogLog,
    Geo,
    Stream,
}

impl Group {
    pub fn name(self) -> &'static str {
        match self {
            Group::String => "string",
            Group::Bitmap => "bitmap",
            Group::Generic => "generic",
            Group::Connection => "connection",
            Group::Server => "server",
            Group::List => "list",
            Group::Hash => "hash",
            Group::Set => "set",
            Group::SortedSet => "sorted-set",
            Group::Transactions => "transactions",
            Group::PubSub => "pubsub",
            Group::Scripting => "scripting",
            Group::HyperLogLog => "hyperloglog",
            Group::Geo => "geo",
            Group::Stream => "stream",
        }
    }
}

pub type Handler = fn(&mut Ctx<'_>, &Args<'_>);

pub struct Command {
    pub name: &'static str,
    pub arity: i32,
    pub flags: u32,
    /// (first key, last key, step): 0 = no keys; last -1 = up to the end.
    pub keys: (i32, i32, i32),
    /// Movable keys counted by an argument: the index of `numkeys`, whose
    /// keys follow it (LMPOP, ZUNION, ZUNIONSTORE's sources...). 0: none.
    pub keynum: u8,
    /// Keys after a keyword (XREAD's `STREAMS`), as a Redis key spec:
    /// the keyword searched from an index on, then the first `1/limit` of
    /// the remaining arguments.
    pub keyword: Option<KeywordSpec>,
    pub acl: u32,
    pub group: Group,
    pub since: &'static str,
    pub summary: &'static str,
    pub complexity: &'static str,
    pub handler: Handler,
    pub subcommands: &'static [Command],
    /// COMMAND INFO's tips (nondeterministic_output, request_policy:...),
    /// as Redis 7.0 lists them: cluster clients route by them.
    pub tips: &'static [&'static str],
}

/// A key spec of Redis's `keyword` search with a `range` of keys.
#[derive(Clone, Copy)]
pub struct KeywordSpec {
    pub keyword: &'static str,
    pub startfrom: usize,
    pub limit: usize,
    /// The spec's flags as COMMAND INFO shows them.
    pub flags: [&'static str; 2],
}

impl KeywordSpec {
    /// The key indexes of `line` (command name first), as Redis finds
    /// them: the keyword is searched forward from `startfrom` (never as
    /// the last argument); the keys are the first `1/limit` of what
    /// follows it.
    pub fn keys(&self, line: &[&[u8]]) -> std::ops::Range<usize> {
        let kw = self.keyword.as_bytes();
        let end = line.len().saturating_sub(1);
        match (self.startfrom..end).find(|&i| line[i].eq_ignore_ascii_case(kw)) {
            Some(i) => {
                let first = i + 1;
                first..first + (line.len() - first) / self.limit
            }
            None => 0..0,
        }
    }
}

fn no_handler(_: &mut Ctx<'_>, _: &Args<'_>) {}

impl Command {
    /// A command row; docs and extras are added with the builder methods.
    pub const fn new(name: &'static str, arity: i32, flags: u32, handler: Handler) -> Self {
        Command {
            name,
            arity,
            flags,
            keys: (0, 0, 0),
            keynum: 0,
            keyword: None,
            acl: 0,
            group: Group::Generic,
            since: "1.0.0",
            summary: "",
            complexity: "O(1)",
            handler,
            subcommands: &[],
            tips: &[],
        }
    }
    /// A container (CLIENT, CONFIG, OBJECT, COMMAND) dispatching on its
    /// first argument.
    pub const fn container(name: &'static str, subs: &'static [Command]) -> Self {
        let mut c = Command::new(name, -2, 0, no_handler);
        c.subcommands = subs;
        c
    }
    pub const fn keys(mut self, first: i32, last: i32, step: i32) -> Self {
        self.keys = (first, last, step);
        self
    }
    pub const fn keynum(mut self, at: u8) -> Self {
        self.keynum = at;
        self
    }
    pub const fn keyword(mut self, spec: KeywordSpec) -> Self {
        self.keyword = Some(spec);
        self
    }
    /// Whether the command has keys at all (COMMAND GETKEYS).
    pub fn has_keys(&self) -> bool {
        self.keys.0 > 0 || self.keynum > 0 || self.keyword.is_some()
    }
    pub const fn acl(mut self, acl: u32) -> Self {
        self.acl = acl;
        self
    }
    pub const fn tips(mut self, tips: &'static [&'static str]) -> Self {
        self.tips = tips;
        self
    }
    pub const fn doc(
        mut self,
        group: Group,
        since: &'static str,
        complexity: &'static str,
        summary: &'static str,
    ) -> Self {
        self.group = group;
        self.since = since;
        self.complexity = complexity;
        self.summary = summary;
        self
    }
    pub fn has(&self, f: u32) -> bool {
        self.flags & f != 0
    }
    pub fn is_container(&self) -> bool {
        !self.subcommands.is_empty()
    }
}

/// A command with its registry id (index into per-command statistics).
pub struct Entry {
    pub cmd: &'static Command,
    /// `get`, or `client|list` for subcommands.
    pub full_name: String,
    /// For containers: (lowercase subcommand name, entry id).
    pub subs: Vec<(&'static str, usize)>,
}

pub struct Registry {
    pub entries: Vec<Entry>,
    /// Top-level ids in table order.
    pub top: Vec<usize>,
    by_name: HashMap<&'static [u8], usize, foldhash::fast::RandomState>,
}

/// Longest command name we look up; longer names are unknown anyway.
const MAX_NAME: usize = 32;

impl Registry {
    pub fn new() -> Self {
        let families: &[&'static [Command]] = &[
            strings::COMMANDS,
            bitmaps::COMMANDS,
            hashes::COMMANDS,
            sets::COMMANDS,
            lists::COMMANDS,
            zsets::COMMANDS,
            geo::COMMANDS,
            streams::COMMANDS,
            multi::COMMANDS,
            pubsub::COMMANDS,
            scripting::COMMANDS,
            functions::COMMANDS,
            sort::COMMANDS,
            hll::COMMANDS,
            keys::COMMANDS,
            expire::COMMANDS,
            keyspace::COMMANDS,
            connection::COMMANDS,
            client::COMMANDS,
            server::COMMANDS,
            config::COMMANDS,
            info::COMMANDS,
            memory::COMMANDS,
            introspect::COMMANDS,
            debug::COMMANDS,
            persist::COMMANDS,
        ];
        let mut r = Registry {
            entries: Vec::new(),
            top: Vec::new(),
            by_name: HashMap::default(),
        };
        for fam in families {
            for cmd in fam.iter() {
                let id = r.entries.len();
                assert!(cmd.name.len() <= MAX_NAME);
                r.entries.push(Entry {
                    cmd,
                    full_name: cmd.name.to_string(),
                    subs: Vec::new(),
                });
                r.top.push(id);
                let dup = r.by_name.insert(cmd.name.as_bytes(), id);
                assert!(dup.is_none(), "duplicate command {}", cmd.name);
                for sub in cmd.subcommands {
                    let sid = r.entries.len();
                    r.entries.push(Entry {
                        cmd: sub,
                        full_name: format!("{}|{}", cmd.name, sub.name),
                        subs: Vec::new(),
                    });
                    r.entries[id].subs.push((sub.name, sid));
                }
            }
        }
        r
    }

    /// Case-insensitive lookup of a top-level command, without allocating.
    #[inline]
    pub fn lookup(&self, name: &[u8]) -> Option<usize> {
        if name.len() > MAX_NAME {
            return None;
        }
        let mut buf = [0u8; MAX_NAME];
        for (d, s) in buf.iter_mut().zip(name) {
            *d = s.to_ascii_lowercase();
        }
        self.by_name.get(&buf[..name.len()]).copied()
    }

    pub fn lookup_sub(&self, parent: usize, name: &[u8]) -> Option<usize> {
        self.entries[parent]
            .subs
            .iter()
            .find(|(n, _)| n.as_bytes().eq_ignore_ascii_case(name))
            .map(|&(_, id)| id)
    }

    /// Like [`Registry::resolve`], for the arguments of a request.
    pub fn resolve_args(&self, args: &Args<'_>) -> Option<usize> {
        let id = self.lookup(args.get(0))?;
        if self.entries[id].cmd.is_container() && args.len() >= 2 {
            return self.lookup_sub(id, args.get(1));
        }
        Some(id)
    }

    /// Resolves `args` (name first) to an entry id, descending into
    /// containers; None if unknown.
    pub fn resolve(&self, args: &[&[u8]]) -> Option<usize> {
        let id = self.lookup(args.first()?)?;
        if self.entries[id].cmd.is_container() {
            return self.lookup_sub(id, args.get(1)?);
        }
        Some(id)
    }
}

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
}

/// The arguments of one request (name included): ranges into a byte
/// buffer, which is the connection's query buffer for a request from the
/// network, or the owned copy of a queued (MULTI) or scripted command.
#[derive(Clone, Copy)]
pub struct Args<'a> {
    ranges: &'a [(usize, usize)],
    buf: &'a [u8],
}

impl<'a> Args<'a> {
    #[inline]
    pub fn new(parser: &'a RequestParser, buf: &'a [u8]) -> Self {
        Args {
            ranges: parser.ranges(),
            buf: parser.source(buf),
        }
    }
    #[inline]
    pub fn from_parts(ranges: &'a [(usize, usize)], buf: &'a [u8]) -> Self {
        Args { ranges, buf }
    }
    #[inline]
    pub fn len(&self) -> usize {
        self.ranges.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    #[inline]
    pub fn get(&self, i: usize) -> &'a [u8] {
        let (s, e) = self.ranges[i];
        &self.buf[s..e]
    }
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        (0..self.len()).map(move |i| self.get(i))
    }
    /// Argument `i` equals `s`, ignoring ASCII case.
    #[inline]
    pub fn is(&self, i: usize, s: &str) -> bool {
        self.get(i).eq_ignore_ascii_case(s.as_bytes())
    }
}

/// Hashes of a multi-key command's keys, inline for up to 16 keys so the
/// common MGET/MSET/DEL sizes allocate nothing.
pub type Hashes = smallvec::SmallVec<[u64; 16]>;

/// Hashes of the keys at `args[from]`, `args[from + step]`, ...
pub fn key_hashes(
    store: &crate::store::Store,
    args: &Args<'_>,
    from: usize,
    step: usize,
) -> Hashes {
    (from..args.len())
        .step_by(step)
        .map(|i| store.hash(args.get(i)))
        .collect()
}

/// Everything a handler may touch for one command.
pub struct Ctx<'a> {
    pub srv: &'a Server,
    pub client: &'a mut Client,
    pub out: ReplyWriter<'a>,
    /// Time of this event-loop iteration (ms since the epoch): every key
    /// checked by one command sees the same "now", as in Redis.
    pub now_ms: i64,
    pub stats: &'a WorkerStats,
    /// The entry being run (for its name in error texts).
    pub cmd: &'a Entry,
}

impl Ctx<'_> {
    #[inline]
    pub fn err(&mut self, msg: &str) {
        self.out.error(msg);
    }
    #[inline]
    pub fn op_err(&mut self, e: OpError) {
        self.out.error(errors::of_op(e));
    }
    #[inline]
    pub fn wrongtype(&mut self) {
        self.out.error(errors::WRONGTYPE);
    }
    #[inline]
    pub fn syntax(&mut self) {
        self.out.error(errors::SYNTAX);
    }
    /// The LRU clock stamped on keys this command touches (seconds, 24 bits).
    #[inline]
    pub fn lru_clock(&self) -> u32 {
        ((self.now_ms / 1000) as u32) & 0xff_ffff
    }
    /// `key` (of the client's db) was modified: records the change, with
    /// its keyspace event, in the write funnel (effects/), which marks its
    /// watchers, wakes clients blocked on it, publishes the notification
    /// and propagates the command. Every data change goes through here, as
    /// in Redis, where signalModifiedKey and the notification go together:
    /// a write that changes nothing (SETNX on an existing key, SREM of an
    /// absent member) records nothing.
    #[inline]
    pub fn notify(&self, class: u32, event: &'static str, key: &[u8]) {
        self.notify_db(class, event, key, self.client.db);
    }
    /// A second event of the change just notified for `key` (`expire`
    /// after `set`): published, not counted again.
    #[inline]
    pub fn notify_also(&self, class: u32, event: &'static str, key: &[u8]) {
        self.notify_db(class | crate::notify::SECOND, event, key, self.client.db);
    }
    /// A change of `n` elements of `key`: one notification, `n` changes
    /// for the dirty counter (0 too), as Redis counts SADD, HSET, LPUSH,
    /// LPOP with a count, LTRIM...
    #[inline]
    pub fn notify_n(&self, class: u32, event: &'static str, key: &[u8], n: u64) {
        if n == 0 {
            return self.notify(class | crate::notify::UNCOUNTED, event, key);
        }
        self.notify(class, event, key);
        if n > 1 {
            crate::effects::dirty(n - 1);
        }
    }
    /// Like [`Ctx::notify`], for a key of another database (MOVE, COPY).
    #[inline]
    pub fn notify_db(&self, class: u32, event: &'static str, key: &[u8], db: usize) {
        // A miss is only a notification: not recorded unless wanted.
        if class == crate::notify::KEY_MISS
            && self
                .srv
                .notify_flags
                .load(std::sync::atomic::Ordering::Relaxed)
                & class
                == 0
        {
            return;
        }
        crate::notify::notify(class, event, key, db);
    }
    /// Parses an integer argument or replies with Redis's error.
    pub fn int_arg(&mut self, a: &[u8]) -> Option<i64> {
        let v = crate::util::parse_i64(a);
        if v.is_none() {
            self.err(errors::NOT_INT);
        }
        v
    }
}
