//! The per-worker Lua state: sandbox, `redis.*`, and running one script
//! (type conversions are in convert.rs).

use super::api;
use super::convert::{lua_to_reply, resp_to_lua, Fields};
use crate::client::Client;
use crate::cmd::{flags, Args, Ctx};
use crate::dispatch::dispatch;
use crate::gate::Gate;
use crate::server::{Server, WorkerStats};
use emberkv_protocol::Resp;
use mlua::{Function, HookTriggers, Lua, LuaOptions, MultiValue, StdLib, Table, Value, VmState};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

/// Lua instructions between checks of the time limit and SCRIPT KILL.
const HOOK_EVERY: u32 = 100_000;
/// Most memory one worker's Lua state may hold (all its scripts' data).
pub(super) const LUA_MEMORY_LIMIT: usize = 1 << 30;

const KILLED: &str = crate::errors::SCRIPT_KILLED;

/// What `redis.call` needs while a script runs: the caller's context,
/// reached through a thread-local pointer because Lua callbacks are 'static.
pub(super) struct RunState {
    pub(super) srv: *const Server,
    client: *mut Client,
    stats: *const WorkerStats,
    now_ms: i64,
    readonly: bool,
    /// `redis.setresp(3)` was called: redis.call replies come as RESP3.
    pub(super) resp3: bool,
    /// TSC timestamp of the start (quanta raw ticks).
    start: u64,
    /// Buffers reused across calls (kept in the Engine between scripts).
    bufs: Bufs,
}

/// Arguments of the command being called and its reply: one buffer each,
/// reused by every redis.call of every script on this worker.
#[derive(Default)]
struct Bufs {
    buf: Vec<u8>,
    ranges: Vec<(usize, usize)>,
    reply: Vec<u8>,
}

thread_local! {
    /// The error a Rust function raised: (message, line in the user's
    /// script, whether the reply needs "ERR " in front).
    pub(super) static PENDING: RefCell<Option<(String, Option<usize>, bool)>> = const { RefCell::new(None) };
    pub(super) static RUN: Cell<*mut RunState> = const { Cell::new(std::ptr::null_mut()) };
    pub(super) static ENGINE: RefCell<Option<Engine>> = const { RefCell::new(None) };
}

pub(super) struct Engine {
    pub(super) lua: Lua,
    /// `__run(f)`: xpcall with the error handler of the prelude.
    pub(super) run: Function,
    /// `__run_fn(f, keys, args)`: the same for a FUNCTION's callback.
    pub(super) run_fn: Function,
    /// `__load_library(chunk, register)` and `redis.register_function`.
    pub(super) load_library: Function,
    pub(super) register: Function,
    /// The functions of every library, loaded for this epoch.
    pub(super) fn_epoch: u64,
    pub(super) funcs: HashMap<String, Function, foldhash::fast::RandomState>,
    /// Compiled scripts by SHA1, with their shebang flags (`sflags`) and
    /// cache entry (dropped here once the cache evicts it).
    pub(super) fns: HashMap<[u8; 40], Compiled, foldhash::fast::RandomState>,
    /// `fns` is swept of evicted scripts when it grows past this.
    pub(super) sweep_at: usize,
    pub(super) epoch: u64,
    /// KEYS and ARGV: refilled for each script rather than reallocated.
    pub(super) keys: Table,
    pub(super) argv: Table,
    bufs: Bufs,
    pub(super) fields: Fields,
    /// Lua's memory after its last full collection, and scripts run since
    /// the last incremental step (see `collect_garbage`).
    pub(super) gc_base: usize,
    pub(super) gc_count: u32,
}

/// A full collection once garbage has grown by this much: a large script
/// leaves its tables behind, and Lua 5.1 has no emergency collection, so
/// left alone that garbage would count against the next script's limit.
const GC_GROWTH: usize = 32 << 20;
/// Redis's LUA_GC_CYCLE_PERIOD: a GC step every 50 scripts.
const GC_CYCLE: u32 = 50;

impl Engine {
    /// After each script (Redis runs a GC step every 50 scripts; we also
    /// collect fully after one that left a lot behind).
    fn collect_garbage(&mut self) {
        let used = self.lua.used_memory();
        if used > self.gc_base + GC_GROWTH {
            self.lua.gc_collect().ok();
            self.gc_base = self.lua.used_memory();
            self.gc_count = 0;
            if used - self.gc_base > GC_GROWTH {
                // Tens of MB just freed: give the pages back now.
                crate::lazyfree::purge_later();
            }
            return;
        }
        self.gc_count += 1;
        if self.gc_count >= GC_CYCLE {
            self.gc_count = 0;
            let _ = self.lua.gc_step();
            self.gc_base = self.gc_base.min(self.lua.used_memory());
        }
    }
}

type Compiled = (Function, u8, Arc<super::cache::Script>);

/// Sets up the sandbox: Redis's globals, `redis.call` / `redis.pcall` in
/// Lua over the Rust `__rcall`, an error handler that records the line, and
/// read-only globals (reading a missing global or writing one is an error).
const PRELUDE: &str = include_str!("prelude.lua");

impl Engine {
    pub(super) fn new(epoch: u64) -> mlua::Result<Engine> {
        let lua = Lua::new_with(
            StdLib::TABLE | StdLib::STRING | StdLib::MATH,
            LuaOptions::default(),
        )?;
        let g = lua.globals();
        let r = lua.create_table()?;
        r.set("sha1hex", lua.create_function(api::sha1hex)?)?;
        r.set(
            "error_reply",
            lua.create_function(|lua, a: MultiValue| api::reply_table(lua, a, "err"))?,
        )?;
        r.set(
            "status_reply",
            lua.create_function(|lua, a: MultiValue| api::reply_table(lua, a, "ok"))?,
        )?;
        r.set("log", lua.create_function(api::log)?)?;
        r.set("setresp", lua.create_function(api::setresp)?)?;
        r.set("set_repl", lua.create_function(api::set_repl)?)?;
        r.set("replicate_commands", lua.create_function(|_, ()| Ok(true))?)?;
        // No script debugger session (SCRIPT DEBUG) is ever active, so
        // these do what Redis's do outside one: nothing.
        r.set("breakpoint", lua.create_function(|_, ()| Ok(false))?)?;
        r.set("debug", lua.create_function(|_, _: MultiValue| Ok(()))?)?;
        r.set("acl_check_cmd", lua.create_function(api::acl_check_cmd)?)?;
        for (name, v) in [
            ("LOG_DEBUG", 0),
            ("LOG_VERBOSE", 1),
            ("LOG_NOTICE", 2),
            ("LOG_WARNING", 3),
        ] {
            r.set(name, v)?;
        }
        for (name, v) in [
            ("REPL_NONE", 0),
            ("REPL_AOF", 1),
            ("REPL_SLAVE", 2),
            ("REPL_REPLICA", 2),
            ("REPL_ALL", 3),
        ] {
            r.set(name, v)?;
        }
        r.set("REDIS_VERSION", "7.0.15")?;
        r.set("REDIS_VERSION_NUM", 0x07000f)?;
        r.set("call", lua.create_function(|lua, a| rcall(lua, a, true))?)?;
        r.set("pcall", lua.create_function(|lua, a| rcall(lua, a, false))?)?;
        g.raw_set("__redis", r)?;
        g.raw_set(
            "__killed",
            lua.create_function(|_, ()| Ok(kill_requested()))?,
        )?;
        g.raw_set(
            "__pending",
            lua.create_function(|_, ()| {
                Ok(PENDING
                    .with(|p| p.borrow_mut().take())
                    .map_or((None, None, true), |(m, l, e)| (Some(m), l, e)))
            })?,
        )?;
        g.raw_set(
            "__errline",
            lua.create_function(|lua, ()| Ok(user_line(lua)))?,
        )?;
        super::libs::install(&lua)?;
        // KEYS and ARGV before the prelude, which moves every global
        // behind the read-only _G.
        let keys = lua.create_table()?;
        let argv = lua.create_table()?;
        g.raw_set("KEYS", &keys)?;
        g.raw_set("ARGV", &argv)?;
        let (run, run_fn, load_library): (Function, Function, Function) =
            lua.load(PRELUDE).set_name("=prelude").eval()?;
        let register: Function = lua.create_function(super::library::register_function)?;
        // The global hook: coroutines a script creates inherit Lua's C hook,
        // and only the global callback answers for them (a per-thread hook
        // left a script looping inside coroutine.resume unseen: never busy,
        // never killable, the server wedged).
        lua.set_global_hook(HookTriggers::new().every_nth_instruction(HOOK_EVERY), hook)?;
        // Lua's memory is bounded while a script runs (see `call`).
        Ok(Engine {
            run,
            run_fn,
            load_library,
            register,
            fn_epoch: u64::MAX,
            funcs: HashMap::default(),
            fns: HashMap::default(),
            sweep_at: 2 * super::cache::MAX_EVAL_SCRIPTS,
            epoch,
            keys,
            argv,
            bufs: Bufs::default(),
            fields: Fields::new(&lua)?,
            gc_base: lua.used_memory(),
            gc_count: 0,
            lua,
        })
    }
}

/// An error raised by a library function (cjson, bit), worded as Lua
/// words errors: "user_script:<line>: <message>".
pub fn script_error(lua: &Lua, msg: &str) -> mlua::Error {
    let line = user_line(lua);
    // Like luaL_error: the position of the direct caller, if it is the
    // script itself (none when called through pcall).
    let caller = lua
        .inspect_stack(1, |d| {
            let src = d.source();
            let chunk = src
                .source
                .as_deref()
                .map(|s| s.trim_start_matches('@').to_string());
            is_user(src.source.as_deref()).then(|| (chunk, d.current_line()))
        })
        .flatten();
    let text = match caller {
        Some((Some(chunk), Some(l))) => format!("{chunk}:{l}: {msg}"),
        _ => msg.to_string(),
    };
    PENDING.with(|p| *p.borrow_mut() = Some((text.clone(), line, true)));
    mlua::Error::RuntimeError(text)
}

/// Argument `n` of library function `func` as luaL_checklstring reads it:
/// a string, or a number turned into one; otherwise Lua's "bad argument"
/// error, saying `missing` when the argument is absent ("no value", or
/// "nil" where the C function pads its arguments).
pub fn string_arg(
    lua: &Lua,
    v: Option<&Value>,
    n: usize,
    func: &str,
    missing: &str,
) -> mlua::Result<mlua::LuaString> {
    if let Some(v @ (Value::String(_) | Value::Integer(_) | Value::Number(_))) = v {
        if let Some(s) = lua.coerce_string(v.clone())? {
            return Ok(s);
        }
    }
    let got = v.map_or(missing, |v| v.type_name());
    Err(script_error(
        lua,
        &format!("bad argument #{n} to '{func}' (string expected, got {got})"),
    ))
}

/// A frame of the user's code (a script or a function library).
fn is_user(src: Option<&str>) -> bool {
    matches!(src, Some("@user_script" | "@user_function"))
}

/// The line of the innermost frame of the user's script.
pub(super) fn user_line(lua: &Lua) -> Option<usize> {
    (0..200).find_map(|level| {
        lua.inspect_stack(level, |d| {
            let src = d.source();
            is_user(src.source.as_deref()).then(|| d.current_line())
        })?
    })?
}

thread_local! {
    /// When the library being loaded on this thread must have finished.
    pub(super) static LOAD_DEADLINE: std::cell::Cell<Option<std::time::Instant>> =
        const { std::cell::Cell::new(None) };
}

/// How long a library's top-level code may run (Redis's FUNCTION LOAD
/// timeout).
pub(super) const LOAD_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(500);

/// True while a script or function runs on this thread (commands it
/// calls refuse what Redis refuses from scripts: XREAD's BLOCK).
pub fn in_script() -> bool {
    RUN.with(|r| !r.get().is_null())
}

/// Every HOOK_EVERY instructions: past the busy threshold, other clients
/// start getting -BUSY; after SCRIPT KILL, the script fails.
fn hook(_: &Lua, _: &mlua::debug::Debug) -> mlua::Result<VmState> {
    let p = RUN.with(|r| r.get());
    if p.is_null() {
        // A library's load (FUNCTION LOAD) runs with a time limit instead:
        // its code may not loop (it would wedge this worker for good).
        if LOAD_DEADLINE
            .with(|d| d.get())
            .is_some_and(|d| std::time::Instant::now() > d)
        {
            return Err(mlua::Error::RuntimeError("FUNCTION LOAD timeout".into()));
        }
        return Ok(VmState::Continue);
    }
    // SAFETY: RUN points at the RunState of the script running on this
    // thread, alive until `run` clears the pointer.
    let st = unsafe { &*p };
    let srv = unsafe { &*st.srv };
    let s = &srv.scripts;
    let clock = crate::server::clock();
    let ms = clock.delta_as_nanos(st.start, clock.raw()) / 1_000_000;
    if !s.is_busy() && ms >= s.threshold_ms() {
        tracing::warn!("script running for over busy-reply-threshold ms; other clients get -BUSY");
        s.set_busy(true);
    }
    if s.is_busy() {
        super::serve_while_busy();
        // SHUTDOWN NOSAVE or a signal while the script is busy (killable or
        // not): Redis exits from inside the script, and so do we.
        if srv.shutdown.load(Relaxed) {
            srv.exit_now();
        }
    }
    if s.kill.load(Relaxed) {
        return Err(mlua::Error::RuntimeError(KILLED.into()));
    }
    Ok(VmState::Continue)
}

/// SCRIPT KILL asked the running script to stop (the sandbox's pcall,
/// xpcall and coroutine.resume rethrow the kill error then).
fn kill_requested() -> bool {
    let p = RUN.with(|r| r.get());
    if p.is_null() {
        return false;
    }
    // SAFETY: as in `hook`.
    let srv = unsafe { &*(*p).srv };
    srv.scripts.kill.load(Relaxed)
}

fn err_table(lua: &Lua, msg: &str) -> mlua::Result<Value> {
    let t = lua.create_table()?;
    t.set("err", msg)?;
    Ok(Value::Table(t))
}

/// `redis.call` (`raise`) and `redis.pcall`: runs one command and returns
/// its reply as a Lua value. An error reply is raised by call and returned
/// as `{err=...}` by pcall; bad arguments raise in both.
fn rcall(lua: &Lua, args: MultiValue, raise: bool) -> mlua::Result<Value> {
    match rcall_inner(lua, args)? {
        Ok(v) => Ok(v),
        Err((msg, fatal)) => {
            if raise || fatal {
                // A C function keeps its caller's frame even in a tail
                // call, so the user's line is still on the stack here.
                let line = user_line(lua);
                PENDING.with(|p| *p.borrow_mut() = Some((msg.clone(), line, false)));
                return Err(mlua::Error::RuntimeError(msg));
            }
            err_table(lua, &msg)
        }
    }
}

type CallResult = Result<Value, (String, bool)>;

fn rcall_inner(lua: &Lua, args: MultiValue) -> mlua::Result<CallResult> {
    let p = RUN.with(|r| r.get());
    if p.is_null() {
        return Ok(Err((crate::errors::CALL_OUTSIDE_SCRIPT.into(), true)));
    }
    // SAFETY: see `hook`; nothing else touches the RunState meanwhile.
    let st = unsafe { &mut *p };
    if args.is_empty() {
        let e = crate::errors::CALL_NO_ARGS;
        return Ok(Err((e.into(), true)));
    }
    st.bufs.buf.clear();
    st.bufs.ranges.clear();
    for v in args.iter() {
        let s = st.bufs.buf.len();
        match v {
            Value::String(x) => st.bufs.buf.extend_from_slice(&x.as_bytes()),
            Value::Integer(i) => st
                .bufs
                .buf
                .extend_from_slice(itoa::Buffer::new().format(*i).as_bytes()),
            Value::Number(_) => match lua.coerce_string(v.clone())? {
                Some(x) => st.bufs.buf.extend_from_slice(&x.as_bytes()),
                None => unreachable!("numbers convert to strings"),
            },
            _ => {
                let e = crate::errors::CALL_BAD_ARG_TYPE;
                return Ok(Err((e.into(), true)));
            }
        }
        st.bufs.ranges.push((s, st.bufs.buf.len()));
    }
    // SAFETY: the pointers were taken from the EVAL handler's context,
    // which is suspended in `run` until the script returns.
    let srv = unsafe { &*st.srv };
    let client = unsafe { &mut *st.client };
    let stats = unsafe { &*st.stats };
    let cmd_args = Args::from_parts(&st.bufs.ranges, &st.bufs.buf);
    let Some(id) = srv.commands.resolve_args(&cmd_args) else {
        return Ok(Err((crate::errors::CALL_UNKNOWN_COMMAND.into(), false)));
    };
    let cmd = srv.commands.entries[id].cmd;
    let argc = cmd_args.len() as i32;
    if (cmd.arity > 0 && argc != cmd.arity) || argc < -cmd.arity {
        let e = crate::errors::CALL_WRONG_ARITY;
        return Ok(Err((e.into(), false)));
    }
    if cmd.has(flags::NOSCRIPT) {
        let e = crate::errors::CALL_NOT_ALLOWED;
        return Ok(Err((e.into(), false)));
    }
    if cmd.has(flags::WRITE) {
        if st.readonly {
            let e = crate::errors::CALL_WRITE_IN_RO;
            return Ok(Err((e.into(), false)));
        }
        srv.scripts.wrote.store(true, Relaxed);
    }
    // Scripts see RESP2 replies whatever the caller speaks, unless they
    // asked for RESP3 (redis.setresp).
    let proto = if st.resp3 { Resp::V3 } else { Resp::V2 };
    let resp = std::mem::replace(&mut client.resp, proto);
    st.bufs.reply.clear();
    dispatch(
        srv,
        client,
        &mut st.bufs.reply,
        &cmd_args,
        st.now_ms,
        stats,
        &mut Gate::Inside,
    );
    client.resp = resp;
    if st.bufs.reply.first() == Some(&b'-') {
        let end = st.bufs.reply.len().saturating_sub(2).max(1);
        let msg = String::from_utf8_lossy(&st.bufs.reply[1..end]).into_owned();
        return Ok(Err((msg, false)));
    }
    let mut pos = 0;
    Ok(Ok(resp_to_lua(lua, &st.bufs.reply, &mut pos)?))
}

/// Status and error replies are one line: Redis replaces CR/LF by spaces.
pub(super) fn single_line(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}

/// Runs the script `sha` (compiling `body` if this worker has not yet)
/// with KEYS and ARGV, and writes its reply. The caller holds the gate
/// exclusively.
pub fn run(
    ctx: &mut Ctx<'_>,
    sha: &[u8; 40],
    body: Option<&[u8]>,
    keys: &[&[u8]],
    argv: &[&[u8]],
    readonly: bool,
) {
    let srv = ctx.srv;
    let epoch = srv.scripts.epoch.load(Relaxed);
    ENGINE.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.as_ref().is_none_or(|e| e.epoch != epoch) {
            match Engine::new(epoch) {
                Ok(e) => *slot = Some(e),
                Err(e) => return ctx.err(&crate::errors::lua_start(&e)),
            }
        }
        let eng = slot.as_mut().expect("engine");
        // One lookup on the hot path; a script the cache evicted since is
        // compiled again (EVAL) or unknown (EVALSHA).
        let hit = match eng.fns.get(sha) {
            Some(c) if !c.2.is_evicted() => {
                srv.scripts.cache.touch(&c.2);
                Some((c.0.clone(), c.1))
            }
            _ => None,
        };
        let (f, sflags) = match hit {
            Some(x) => x,
            None => {
                eng.fns.remove(sha);
                let cached = match body {
                    Some(_) => None,
                    None => match srv.scripts.cache.get(sha) {
                        Some(s) => Some(s),
                        None => return ctx.err(crate::errors::NOSCRIPT),
                    },
                };
                let text: &[u8] = match (&cached, body) {
                    (Some(s), _) => &s.body,
                    (None, Some(b)) => b,
                    (None, None) => unreachable!("checked above"),
                };
                let (sflags, code) = match super::eval_shebang(text) {
                    Ok(x) => x,
                    Err(e) => return ctx.err(&e),
                };
                let f = match eng
                    .lua
                    .load(code.as_deref().unwrap_or(text))
                    .set_name("@user_script")
                    .into_function()
                {
                    Ok(f) => f,
                    Err(e) => {
                        let msg = match e {
                            mlua::Error::SyntaxError { message, .. } => message,
                            other => other.to_string(),
                        };
                        return ctx.err(&single_line(&crate::errors::compile_script(&msg)));
                    }
                };
                // Cached once it compiles, as Redis.
                let entry = match cached {
                    Some(s) => s,
                    None => srv.scripts.cache.insert(*sha, text, false),
                };
                if eng.fns.len() >= eng.sweep_at {
                    eng.fns.retain(|_, c| !c.2.is_evicted());
                    eng.sweep_at = (2 * eng.fns.len()).max(2 * super::cache::MAX_EVAL_SCRIPTS);
                }
                eng.fns.insert(*sha, (f.clone(), sflags, entry));
                (f, sflags)
            }
        };
        use super::sflags::{NO_WRITES, SHEBANG};
        if readonly && sflags & SHEBANG != 0 && sflags & NO_WRITES == 0 {
            return ctx.err(crate::errors::WRITE_SCRIPT_RO);
        }
        let readonly = readonly || sflags & NO_WRITES != 0;
        let label = std::str::from_utf8(sha).unwrap_or("");
        let res = fill(eng, keys, argv).and_then(|()| {
            call(
                ctx,
                eng,
                readonly,
                label,
                "user_script",
                Vec::new(),
                |eng| eng.run.call::<(bool, Value)>(&f),
            )
        });
        if let Err(e) = res {
            ctx.err(&single_line(&format!("ERR {e}")));
        }
    });
}

/// Refills the KEYS and ARGV globals.
fn fill(eng: &Engine, keys: &[&[u8]], argv: &[&[u8]]) -> mlua::Result<()> {
    let lua = &eng.lua;
    let fill = |t: &Table, items: &[&[u8]]| -> mlua::Result<()> {
        let old = t.raw_len();
        for (i, it) in items.iter().enumerate() {
            t.raw_set(i + 1, lua.create_string(it)?)?;
        }
        for i in items.len() + 1..=old {
            t.raw_set(i, Value::Nil)?;
        }
        Ok(())
    };
    fill(&eng.keys, keys)?;
    fill(&eng.argv, argv)
}

/// Runs `invoke` (a script or a function) as the running script: the
/// redis.call context, busy/kill state, SELECT isolation, the reply, and
/// errors worded "<msg> script: <label>, on @<chunk>:<line>.".
pub(super) fn call(
    ctx: &mut Ctx<'_>,
    eng: &mut Engine,
    readonly: bool,
    label: &str,
    chunk: &str,
    argv: Vec<Vec<u8>>,
    invoke: impl FnOnce(&Engine) -> mlua::Result<(bool, Value)>,
) -> mlua::Result<()> {
    let srv = ctx.srv;
    let mut st = RunState {
        srv,
        client: &mut *ctx.client,
        stats: ctx.stats,
        now_ms: ctx.now_ms,
        readonly,
        resp3: false,
        start: crate::server::clock().raw(),
        bufs: std::mem::take(&mut eng.bufs),
    };
    // SELECT inside a script does not change the caller's database.
    let db = ctx.client.db;
    let s = &srv.scripts;
    s.wrote.store(false, Relaxed);
    s.kill.store(false, Relaxed);
    s.set_running(Some(super::Running {
        name: label.to_string(),
        argv,
        eval: chunk == "user_script",
        start: std::time::Instant::now(),
    }));
    s.running.store(true, Relaxed);
    RUN.with(|r| r.set(&mut st));
    // The memory bound is on only while Lua code runs: mlua then runs its
    // own API calls in protected mode (slower), which our setup of KEYS
    // and ARGV before and the reply after do not need.
    let _ = eng.lua.set_memory_limit(LUA_MEMORY_LIMIT);
    let res = invoke(eng);
    let _ = eng.lua.set_memory_limit(0);
    eng.collect_garbage();
    RUN.with(|r| r.set(std::ptr::null_mut()));
    eng.bufs = std::mem::take(&mut st.bufs);
    if ctx.client.db != db {
        ctx.client.db = db;
        ctx.client.shared.db.store(db as u32, Relaxed);
    }
    s.running.store(false, Relaxed);
    s.set_running(None);
    let killed = s.kill.swap(false, Relaxed);
    s.set_busy(false);
    let (ok, v) = res?;
    if ok {
        lua_to_reply(&mut ctx.out, &eng.fields, &v, 0);
        return Ok(());
    }
    // The handler's {message, line, needs "ERR "}.
    let (msg, line, prefix) = match &v {
        Value::Table(t) => (
            t.raw_get::<String>(1).unwrap_or_default(),
            t.raw_get::<Option<i64>>(2).ok().flatten(),
            t.raw_get::<bool>(3).unwrap_or(true),
        ),
        // No handler ran (out of memory): the error value itself.
        Value::String(e) => (e.to_string_lossy(), None, true),
        _ => (String::from("unknown error"), None, true),
    };
    let msg = if killed {
        KILLED.to_string()
    } else if prefix {
        format!("ERR {msg}")
    } else {
        msg
    };
    let line = line.map_or_else(|| "?".to_string(), |l| l.to_string());
    ctx.err(&single_line(&format!(
        "{msg} script: {label}, on @{chunk}:{line}."
    )));
    Ok(())
}

/// Compiles `body` without running it (SCRIPT LOAD); Err is the reply.
pub fn check(body: &[u8]) -> Result<(), String> {
    let (_, code) = super::eval_shebang(body)?;
    let lua = Lua::new_with(StdLib::NONE, LuaOptions::default()).map_err(|e| format!("ERR {e}"))?;
    match lua
        .load(code.as_deref().unwrap_or(body))
        .set_name("@user_script")
        .into_function()
    {
        Ok(_) => Ok(()),
        Err(mlua::Error::SyntaxError { message, .. }) => {
            Err(single_line(&crate::errors::compile_script(&message)))
        }
        Err(e) => Err(single_line(&format!("ERR {e}"))),
    }
}
