//! Lua function libraries in this worker's state (FUNCTION LOAD's trial
//! load, FCALL/FCALL_RO): a library registers its functions through
//! `redis.register_function` while it loads, and each worker reloads all
//! libraries into its own state when the registry's epoch moves.

use super::engine::*;
use crate::cmd::Ctx;
use crate::server::Server;
use mlua::{Function, Lua, MultiValue, Table, Value};
use std::cell::RefCell;
use std::sync::atomic::Ordering::Relaxed;

thread_local! {
    /// Functions registered by the library being loaded.
    static REGISTERED: RefCell<Vec<(super::functions::FuncMeta, Function)>> = const { RefCell::new(Vec::new()) };
}

/// An error from register_function: no position, "ERR " in front.
fn reg_error(msg: &str) -> mlua::Error {
    PENDING.with(|p| *p.borrow_mut() = Some((msg.to_string(), None, true)));
    mlua::Error::RuntimeError(msg.to_string())
}

/// `redis.register_function(name, callback)` or
/// `redis.register_function{function_name=, callback=, flags=, description=}`.
pub(super) fn register_function(_: &Lua, args: MultiValue) -> mlua::Result<()> {
    const FLAGS: &[&str] = &[
        "no-writes",
        "allow-oom",
        "allow-stale",
        "no-cluster",
        "allow-cross-slot-keys",
    ];
    // Only while a library loads (a reference kept and called later is
    // refused, as Redis refuses it).
    if LOAD_DEADLINE.with(|d| d.get()).is_none() {
        return Err(reg_error(
            "redis.register_function can only be called on FUNCTION LOAD command",
        ));
    }
    // A string argument as Redis's luaGetStringSds takes it (a number too).
    let text = |v: &Value| -> Option<String> {
        match v {
            Value::String(s) => Some(s.to_string_lossy()),
            Value::Integer(i) => Some(i.to_string()),
            // Lua's %.14g: integral values print without a fraction (a
            // fractional name fails the name check whatever its text).
            Value::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => Some((*n as i64).to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    let args: Vec<Value> = args.into_iter().collect();
    let (name, cb, flags, desc) = match args.as_slice() {
        [n, f] => {
            let Some(name) = text(n) else {
                return Err(reg_error(
                    "first argument to redis.register_function must be a string",
                ));
            };
            let Value::Function(f) = f else {
                return Err(reg_error(
                    "second argument to redis.register_function must be a function",
                ));
            };
            (name, f.clone(), Vec::new(), None)
        }
        [t] => {
            let Value::Table(t) = t else {
                return Err(reg_error("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments)."));
            };
            let (mut name, mut cb, mut flags, mut desc) = (None, None, Vec::new(), None);
            for pair in t.clone().pairs::<Value, Value>() {
                let (k, v) = pair?;
                let Value::String(k) = k else {
                    return Err(reg_error(
                        "named argument key given to redis.register_function is not a string",
                    ));
                };
                let k = k.to_string_lossy().to_ascii_lowercase();
                match k.as_str() {
                    "function_name" => match text(&v) {
                        Some(n) => name = Some(n),
                        None => return Err(reg_error(
                            "function_name argument given to redis.register_function must be a string",
                        )),
                    },
                    "description" => match text(&v) {
                        Some(d) => desc = Some(d),
                        None => return Err(reg_error(
                            "description argument given to redis.register_function must be a string",
                        )),
                    },
                    "callback" => match v {
                        Value::Function(f) => cb = Some(f),
                        _ => return Err(reg_error(
                            "callback argument given to redis.register_function must be a function",
                        )),
                    },
                    "flags" => {
                        let Value::Table(ft) = v else {
                            return Err(reg_error("flags argument to redis.register_function must be a table representing function flags"));
                        };
                        for f in ft.sequence_values::<Value>() {
                            match f? {
                                Value::String(f) if FLAGS.contains(&&*f.to_string_lossy()) => {
                                    flags.push(f.to_string_lossy())
                                }
                                _ => return Err(reg_error("unknown flag given")),
                            }
                        }
                    }
                    _ => {
                        return Err(reg_error(
                            "unknown argument given to redis.register_function",
                        ))
                    }
                }
            }
            let Some(name) = name else {
                return Err(reg_error(
                    "redis.register_function must get a function name argument",
                ));
            };
            let Some(cb) = cb else {
                return Err(reg_error(
                    "redis.register_function must get a callback argument",
                ));
            };
            (name, cb, flags, desc)
        }
        _ => {
            return Err(reg_error(
                "wrong number of arguments to redis.register_function",
            ))
        }
    };
    if !super::functions::valid_name(&name) {
        return Err(reg_error("Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"));
    }
    REGISTERED.with(|r| {
        let mut r = r.borrow_mut();
        if r.iter().any(|(m, _)| m.name == name) {
            return Err(reg_error("Function already exists in the library"));
        }
        r.push((
            super::functions::FuncMeta {
                name,
                description: desc,
                flags,
            },
            cb,
        ));
        Ok(())
    })
}

type Registered = Vec<(super::functions::FuncMeta, Function)>;

/// Loads a library's code into this Lua state and returns what it
/// registered, or the error reply.
fn load_into(eng: &Engine, body: &[u8]) -> Result<Registered, String> {
    let f = match eng
        .lua
        .load(body)
        .set_name("@user_function")
        .into_function()
    {
        Ok(f) => f,
        Err(mlua::Error::SyntaxError { message, .. }) => {
            return Err(single_line(&crate::errors::compile_function(&message)));
        }
        Err(e) => {
            return Err(single_line(&crate::errors::compile_function(
                &e.to_string(),
            )))
        }
    };
    REGISTERED.with(|r| r.borrow_mut().clear());
    let _ = eng.lua.set_memory_limit(LUA_MEMORY_LIMIT);
    let deadline = std::time::Instant::now() + super::engine::LOAD_TIMEOUT;
    super::engine::LOAD_DEADLINE.with(|d| d.set(Some(deadline)));
    let res = eng.load_library.call::<(bool, Value)>((f, &eng.register));
    super::engine::LOAD_DEADLINE.with(|d| d.set(None));
    let _ = eng.lua.set_memory_limit(0);
    let registered = REGISTERED.with(|r| std::mem::take(&mut *r.borrow_mut()));
    match res {
        Err(e) => Err(single_line(&crate::errors::register_functions(
            &e.to_string(),
        ))),
        Ok((false, v)) => {
            let (msg, prefix) = match &v {
                Value::Table(t) => (
                    t.raw_get::<String>(1).unwrap_or_default(),
                    t.raw_get::<bool>(3).unwrap_or(true),
                ),
                Value::String(s) => (s.to_string_lossy(), true),
                _ => ("unknown error".to_string(), true),
            };
            let msg = if prefix { format!("ERR {msg}") } else { msg };
            Err(single_line(&crate::errors::register_functions(&msg)))
        }
        Ok((true, _)) if registered.is_empty() => {
            Err(crate::errors::NO_FUNCTIONS_REGISTERED.into())
        }
        Ok((true, _)) => Ok(registered),
    }
}

/// FUNCTION LOAD's trial load in this worker's state: the functions'
/// metadata, or the error reply.
/// A library from its source (FUNCTION LOAD, FUNCTION RESTORE, an RDB's
/// FUNCTION2 record): the shebang parsed, the code run once to collect
/// its functions.
pub fn build(srv: &Server, code: &[u8]) -> Result<super::functions::Library, String> {
    let (name, body) = super::functions::parse_shebang(code)?;
    let funcs = check_library(srv, &body)?;
    Ok(super::functions::Library {
        name,
        code: code.into(),
        body: body.into(),
        funcs,
    })
}

pub fn check_library(srv: &Server, body: &[u8]) -> Result<Vec<super::functions::FuncMeta>, String> {
    with_engine(srv, |eng| {
        Ok(load_into(eng, body)?.into_iter().map(|(m, _)| m).collect())
    })
}

fn with_engine<R>(
    srv: &Server,
    f: impl FnOnce(&mut Engine) -> Result<R, String>,
) -> Result<R, String> {
    let epoch = srv.scripts.epoch.load(Relaxed);
    ENGINE.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.as_ref().is_none_or(|e| e.epoch != epoch) {
            *slot = Some(Engine::new(epoch).map_err(|e| crate::errors::lua_start(&e))?);
        }
        f(slot.as_mut().expect("engine"))
    })
}

/// FCALL / FCALL_RO: runs function `name` with `keys` and `args` (passed
/// as its two arguments).
/// Runs function `name` (its registered spelling); `cmd` is the calling
/// command as sent, shown by FUNCTION STATS while it runs.
pub fn run_function(
    ctx: &mut Ctx<'_>,
    name: &str,
    cmd: Vec<Vec<u8>>,
    (keys, args): (&[&[u8]], &[&[u8]]),
    readonly: bool,
) {
    let srv = ctx.srv;
    let r = with_engine(srv, |eng| {
        let fe = srv.scripts.functions.epoch.load(Relaxed);
        if eng.fn_epoch != fe {
            eng.funcs.clear();
            for lib in srv.scripts.functions.libraries() {
                for (m, f) in load_into(eng, &lib.body)? {
                    // Function names are matched regardless of case.
                    eng.funcs.insert(m.name.to_ascii_lowercase(), f);
                }
            }
            eng.fn_epoch = fe;
        }
        let f = eng
            .funcs
            .get(&name.to_ascii_lowercase())
            .cloned()
            .ok_or_else(|| crate::errors::FUNCTION_NOT_FOUND.to_string())?;
        let mk = |items: &[&[u8]]| -> mlua::Result<Table> {
            let t = eng.lua.create_table_with_capacity(items.len(), 0)?;
            for (i, it) in items.iter().enumerate() {
                t.raw_set(i + 1, eng.lua.create_string(it)?)?;
            }
            Ok(t)
        };
        let (kt, at) = match (mk(keys), mk(args)) {
            (Ok(k), Ok(a)) => (k, a),
            (Err(e), _) | (_, Err(e)) => return Err(format!("ERR {e}")),
        };
        call(ctx, eng, readonly, name, "user_function", cmd, |eng| {
            eng.run_fn.call::<(bool, Value)>((&f, kt, at))
        })
        .map_err(|e| single_line(&format!("ERR {e}")))
    });
    if let Err(e) = r {
        ctx.err(&e);
    }
}
