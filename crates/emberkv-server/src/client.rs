//! Per-connection state: the part only the owning worker touches
//! ([`Client`]) and the part other threads read for CLIENT LIST / KILL
//! ([`ClientShared`]), updated with relaxed stores.

use emberkv_protocol::Resp;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, AtomicU8};
use std::sync::Arc;

pub struct ClientShared {
    pub id: u64,
    pub addr: String,
    pub laddr: String,
    pub fd: i32,
    /// Connected through the unix socket (CLIENT LIST flag `U`).
    pub unix: bool,
    pub worker: usize,
    pub created_ms: i64,
    pub last_ms: AtomicI64,
    pub db: AtomicU32,
    pub resp: AtomicU8,
    /// Registry id of the last command, +1 (0: none yet).
    pub last_cmd: AtomicU32,
    pub qbuf: AtomicU64,
    pub qbuf_cap: AtomicU64,
    pub obuf: AtomicU64,
    pub name: Mutex<Option<Vec<u8>>>,
    pub no_evict: AtomicBool,
    pub no_touch: AtomicBool,
    pub killed: AtomicBool,
}

impl ClientShared {
    /// A client's shared state as it connects (`fd` -1 and empty addresses
    /// for an internal client such as the AOF loader's).
    pub fn new(
        id: u64,
        addr: String,
        laddr: String,
        fd: i32,
        unix: bool,
        worker: usize,
        now_ms: i64,
    ) -> Self {
        ClientShared {
            id,
            addr,
            laddr,
            fd,
            unix,
            worker,
            created_ms: now_ms,
            last_ms: now_ms.into(),
            db: 0.into(),
            resp: 2.into(),
            last_cmd: 0.into(),
            qbuf: 0.into(),
            qbuf_cap: 0.into(),
            obuf: 0.into(),
            name: Default::default(),
            no_evict: false.into(),
            no_touch: false.into(),
            killed: false.into(),
        }
    }

    /// On the unix socket or from 127.0.0.1 or ::1 exactly (Redis's
    /// islocalClient compares the peer's address with those two strings,
    /// so 127.0.0.2 is not local).
    pub fn is_local(&self) -> bool {
        self.unix || self.addr.starts_with("127.0.0.1:") || self.addr.starts_with("[::1]:")
    }
}

pub struct Client {
    pub id: u64,
    pub db: usize,
    pub resp: Resp,
    pub authenticated: bool,
    /// Reply, then close (QUIT, protocol errors, CLIENT KILL of self).
    pub close_after_reply: bool,
    pub no_touch: bool,
    /// The connection's token in its worker (for replies from elsewhere).
    pub token: usize,
    /// Blocked on a list/zset pop until this deadline (ms; 0 = forever).
    pub blocked: Option<i64>,
    /// Inside MULTI: the queued commands.
    pub multi: Option<Box<crate::cmd::multi::Queue>>,
    /// WATCHed keys, and the flag writers set when one changes.
    pub watched: Vec<crate::watch::Watched>,
    pub watch_dirty: Arc<AtomicBool>,
    /// Running inside EXEC or a script: blocking commands do not block,
    /// and blocked clients are served once at the end (`deferred`).
    pub nested: bool,
    pub deferred: Vec<(usize, Box<[u8]>)>,
    /// Channels and patterns subscribed to (None: never subscribed).
    pub subs: Option<Box<crate::pubsub::Subs>>,
    /// CLIENT REPLY: which command replies are sent.
    pub reply: ReplyMode,
    /// After SYNC: its subscription to the propagation stream.
    pub replica_sub: Option<u64>,
    pub shared: Arc<ClientShared>,
}

/// CLIENT REPLY ON|OFF|SKIP. Push messages (pub/sub) are sent whatever
/// the mode, as Redis sends them.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum ReplyMode {
    #[default]
    On,
    Off,
    /// SKIP was just run: the next command's reply is dropped, then
    /// replies are on again.
    SkipNext,
    /// The command being skipped runs (CLIENT REPLY ON in it turns replies
    /// on before its +OK, as in Redis).
    Skipping,
}

impl Client {
    pub fn new(shared: Arc<ClientShared>, authenticated: bool) -> Self {
        Client {
            id: shared.id,
            db: 0,
            resp: Resp::V2,
            authenticated,
            close_after_reply: false,
            no_touch: false,
            token: 0,
            blocked: None,
            multi: None,
            watched: Vec::new(),
            watch_dirty: Default::default(),
            nested: false,
            deferred: Vec::new(),
            subs: None,
            reply: ReplyMode::On,
            replica_sub: None,
            shared,
        }
    }

    /// Subscribed to any channel or pattern (RESP2 then only allows the
    /// subscription commands, PING, QUIT and RESET).
    #[inline]
    pub fn subscribed(&self) -> bool {
        self.subs.as_ref().is_some_and(|s| s.count() > 0)
    }
}
