//! The `redis.*` helpers besides call/pcall (engine.rs): sha1hex,
//! error_reply, status_reply, setresp, set_repl, acl_check_cmd and log,
//! with Redis 7's argument checks and error texts.

use super::engine::{user_line, PENDING, RUN};
use crate::cmd::Args;
use crate::errors;
use mlua::{Lua, MultiValue, Table, Value};

/// An error raised by a `redis.*` helper: "ERR <msg>" at the user's line,
/// without Lua's "runtime error" and traceback.
pub(super) fn api_error(lua: &Lua, msg: &str) -> mlua::Error {
    let line = user_line(lua);
    PENDING.with(|p| *p.borrow_mut() = Some((msg.to_string(), line, true)));
    mlua::Error::RuntimeError(msg.to_string())
}

/// A number argument as Lua's tonumber sees it ("1" and 1.5 are numbers),
/// cast to an integer as C does.
pub(super) fn int_arg(lua: &Lua, v: &Value) -> Option<i64> {
    match lua.coerce_number(v.clone()) {
        Ok(Some(n)) if n.is_finite() => Some(n as i64),
        _ => None,
    }
}

pub(super) fn sha1hex(lua: &Lua, args: MultiValue) -> mlua::Result<mlua::LuaString> {
    let s = match (args.len(), args.front()) {
        (1, Some(v)) => lua.coerce_string(v.clone())?,
        _ => None,
    };
    match s {
        Some(s) => lua.create_string(super::sha1_hex(&s.as_bytes())),
        None => Err(api_error(lua, "wrong number of arguments")),
    }
}

/// `redis.error_reply(s)` / `redis.status_reply(s)`: exactly one string,
/// else the error table Redis returns (not raises). An error's text gets
/// Redis's shape: a leading '-' is dropped, and a text without an error
/// code (no space) gets "ERR ".
pub(super) fn reply_table(lua: &Lua, args: MultiValue, field: &str) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    let s = match (args.len(), args.front()) {
        (1, Some(Value::String(s))) => s.as_bytes().to_vec(),
        _ => {
            t.raw_set("err", errors::LUA_REPLY_ARGS)?;
            return Ok(t);
        }
    };
    if field == "ok" {
        t.raw_set("ok", lua.create_string(&s)?)?;
        return Ok(t);
    }
    let body = s.strip_prefix(b"-").unwrap_or(&s);
    let text = if body.contains(&b' ') {
        body.to_vec()
    } else {
        [&b"ERR "[..], body].concat()
    };
    t.raw_set("err", lua.create_string(&text)?)?;
    Ok(t)
}

/// `redis.set_repl(flags)`: where the script's writes propagate. Checked
/// as Redis checks it; there is no AOF or replica to propagate to yet, so
/// every choice has the same (local) effect.
pub(super) fn set_repl(lua: &Lua, args: MultiValue) -> mlua::Result<()> {
    if args.len() != 1 {
        return Err(api_error(lua, "redis.set_repl() requires one argument."));
    }
    match int_arg(lua, &args[0]) {
        Some(0..=3) => Ok(()),
        _ => Err(api_error(
            lua,
            "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
        )),
    }
}

/// `redis.acl_check_cmd(command, args...)`: whether the script's user may
/// run the command. Without ACL users every client has every permission,
/// so this is whether the command exists.
pub(super) fn acl_check_cmd(lua: &Lua, args: MultiValue) -> mlua::Result<bool> {
    if args.is_empty() {
        return Err(api_error(
            lua,
            "Please specify at least one argument for this redis lib call",
        ));
    }
    let p = RUN.with(|r| r.get());
    if p.is_null() {
        return Err(api_error(lua, "redis.acl_check_cmd() outside of a script"));
    }
    let mut buf = Vec::new();
    let mut ranges = Vec::new();
    for v in args.iter() {
        let s = match v {
            Value::String(_) | Value::Integer(_) | Value::Number(_) => {
                lua.coerce_string(v.clone())?
            }
            _ => None,
        };
        let Some(s) = s else {
            return Err(api_error(
                lua,
                "Lua redis lib command arguments must be strings or integers",
            ));
        };
        let start = buf.len();
        buf.extend_from_slice(&s.as_bytes());
        ranges.push((start, buf.len()));
    }
    // SAFETY: see `hook`; the RunState outlives the script's run.
    let srv = unsafe { &*(*p).srv };
    match srv.commands.resolve_args(&Args::from_parts(&ranges, &buf)) {
        Some(_) => Ok(true),
        None => Err(api_error(
            lua,
            "Invalid command passed to redis.acl_check_cmd()",
        )),
    }
}

/// `redis.setresp(2|3)`: the protocol of the replies redis.call returns
/// for the rest of this script run.
pub(super) fn setresp(lua: &Lua, args: MultiValue) -> mlua::Result<()> {
    if args.len() != 1 {
        return Err(api_error(lua, "redis.setresp() requires one argument."));
    }
    let resp3 = match int_arg(lua, &args[0]) {
        Some(2) => false,
        Some(3) => true,
        _ => return Err(api_error(lua, "RESP version must be 2 or 3.")),
    };
    let p = RUN.with(|r| r.get());
    if !p.is_null() {
        // SAFETY: see `hook`; nothing else touches the RunState meanwhile.
        unsafe { (*p).resp3 = resp3 };
    }
    Ok(())
}

/// `redis.log(level, message...)`, to the server log.
pub(super) fn log(lua: &Lua, args: MultiValue) -> mlua::Result<()> {
    if args.len() < 2 {
        return Err(api_error(
            lua,
            "redis.log() requires two arguments or more.",
        ));
    }
    let Some(level) = int_arg(lua, &args[0]) else {
        return Err(api_error(
            lua,
            "First argument must be a number (log level).",
        ));
    };
    if !(0..=3).contains(&level) {
        return Err(api_error(lua, "Invalid debug level."));
    }
    let mut msg = String::new();
    for v in args.iter().skip(1) {
        if let Ok(Some(s)) = lua.coerce_string(v.clone()) {
            if !msg.is_empty() {
                msg.push(' ');
            }
            msg.push_str(&s.to_string_lossy());
        }
    }
    match level {
        0 | 1 => tracing::debug!(script = %msg),
        2 => tracing::info!(script = %msg),
        _ => tracing::warn!(script = %msg),
    }
    Ok(())
}
