//! Conversions between RESP replies and Lua values, Redis's way.
//!
//! `redis.call` replies reach Lua as RESP2 unless the script said
//! `redis.setresp(3)`; a script's result is written in the *client's*
//! protocol, so `{map=...}` is a map for a RESP3 client and a flat array
//! for a RESP2 one (Redis 7.0's rules, checked against redis-server by
//! `scripts_match_redis`).

use crate::errors;
use emberkv_protocol::ReplyWriter;
use mlua::{Lua, LuaString, Table, Value};

/// Deepest table nesting converted to a reply (self-referencing tables).
const MAX_DEPTH: usize = 64;

/// The field names a result table may carry, interned once per Lua state:
/// a lookup with them does not hash a new string for every table returned.
pub(super) struct Fields {
    err: LuaString,
    ok: LuaString,
    double: LuaString,
    big_number: LuaString,
    map: LuaString,
    set: LuaString,
    verbatim_string: LuaString,
    format: LuaString,
    string: LuaString,
}

impl Fields {
    pub(super) fn new(lua: &Lua) -> mlua::Result<Fields> {
        Ok(Fields {
            err: lua.create_string("err")?,
            ok: lua.create_string("ok")?,
            double: lua.create_string("double")?,
            big_number: lua.create_string("big_number")?,
            map: lua.create_string("map")?,
            set: lua.create_string("set")?,
            verbatim_string: lua.create_string("verbatim_string")?,
            format: lua.create_string("format")?,
            string: lua.create_string("string")?,
        })
    }
}

fn tagged(lua: &Lua, tag: &str, v: impl mlua::IntoLua) -> mlua::Result<Value> {
    let t = lua.create_table()?;
    t.raw_set(tag, v)?;
    Ok(Value::Table(t))
}

/// One reply (as dispatch writes it) to a Lua value. RESP2: integer ->
/// number, bulk -> string, nil -> false, array -> table, status ->
/// {ok=...}, error -> {err=...}. RESP3 adds: null -> nil, map ->
/// {map={k=v}}, set -> {set={m=true}}, double -> {double=n}, boolean ->
/// boolean, big number -> {big_number=s}, verbatim ->
/// {verbatim_string={format=f, string=s}}.
pub(super) fn resp_to_lua(lua: &Lua, b: &[u8], pos: &mut usize) -> mlua::Result<Value> {
    let end = memchr::memmem::find(&b[*pos..], b"\r\n").map_or(b.len(), |i| *pos + i);
    let line = &b[*pos + 1..end];
    let kind = b[*pos];
    *pos = end + 2;
    let num = || crate::util::parse_i64(line).unwrap_or(0);
    Ok(match kind {
        b':' => Value::Integer(num()),
        b'+' => tagged(lua, "ok", lua.create_string(line)?)?,
        b'-' => tagged(lua, "err", lua.create_string(line)?)?,
        b'$' => {
            let n = num();
            if n < 0 {
                Value::Boolean(false)
            } else {
                let s = lua.create_string(&b[*pos..*pos + n as usize])?;
                *pos += n as usize + 2;
                Value::String(s)
            }
        }
        b'*' => {
            let n = num();
            if n < 0 {
                Value::Boolean(false)
            } else {
                let t = lua.create_table_with_capacity(n as usize, 0)?;
                for i in 1..=n {
                    // A RESP3 null inside leaves a hole, as in Redis.
                    t.raw_set(i, resp_to_lua(lua, b, pos)?)?;
                }
                Value::Table(t)
            }
        }
        b'_' => Value::Nil,
        b'#' => Value::Boolean(line == b"t"),
        b',' => {
            let d = std::str::from_utf8(line)
                .ok()
                .and_then(|s| s.parse::<f64>().ok())
                .unwrap_or(0.0);
            tagged(lua, "double", d)?
        }
        b'(' => tagged(lua, "big_number", lua.create_string(line)?)?,
        b'=' => {
            let n = num().max(0) as usize;
            let body = &b[*pos..*pos + n];
            *pos += n + 2;
            let (fmt, text) = if n >= 4 {
                (&body[..3], &body[4..])
            } else {
                (&b""[..], body)
            };
            let v = lua.create_table()?;
            v.raw_set("format", lua.create_string(fmt)?)?;
            v.raw_set("string", lua.create_string(text)?)?;
            tagged(lua, "verbatim_string", v)?
        }
        b'%' => {
            let t = lua.create_table()?;
            for _ in 0..num() {
                let k = resp_to_lua(lua, b, pos)?;
                let v = resp_to_lua(lua, b, pos)?;
                if k != Value::Nil {
                    t.raw_set(k, v)?;
                }
            }
            tagged(lua, "map", t)?
        }
        b'~' => {
            let t = lua.create_table()?;
            for _ in 0..num() {
                let k = resp_to_lua(lua, b, pos)?;
                if k != Value::Nil {
                    t.raw_set(k, true)?;
                }
            }
            tagged(lua, "set", t)?
        }
        _ => Value::Nil,
    })
}

/// A script's result to the client's reply, Redis's way: number ->
/// integer (truncated), string -> bulk, true -> 1, false/nil -> null,
/// {err=...} -> error, {ok=...} -> status, {double=n}, {big_number=s},
/// {map=t}, {set=t}, {verbatim_string={format, string}} -> their RESP3
/// types (RESP2 forms for a RESP2 client), other tables -> arrays (up to
/// the first nil).
pub(super) fn lua_to_reply(out: &mut ReplyWriter<'_>, f: &Fields, v: &Value, depth: usize) {
    match v {
        Value::String(s) => out.bulk(&s.as_bytes()),
        Value::Integer(i) => out.int(*i),
        // C's double-to-integer conversion, as Redis: out of range -> MIN.
        Value::Number(n) if n.is_finite() && n.abs() < 9.2e18 => out.int(*n as i64),
        Value::Number(_) => out.int(i64::MIN),
        Value::Boolean(true) => out.int(1),
        Value::Table(t) if depth < MAX_DEPTH => table_to_reply(out, f, t, depth),
        Value::Table(_) => out.error(errors::LUA_STACK_LIMIT),
        _ => out.null(),
    }
}

fn table_to_reply(out: &mut ReplyWriter<'_>, f: &Fields, t: &Table, depth: usize) {
    let field = |k: &LuaString| t.raw_get::<Value>(k).unwrap_or(Value::Nil);
    if let Value::String(e) = field(&f.err) {
        return out.error(&super::engine::single_line(&e.to_string_lossy()));
    }
    if let Value::String(s) = field(&f.ok) {
        return out.simple(&super::engine::single_line(&s.to_string_lossy()));
    }
    match field(&f.double) {
        Value::Number(d) => return out.double(d),
        Value::Integer(i) => return out.double(i as f64),
        _ => {}
    }
    if let Value::String(s) = field(&f.big_number) {
        return out.big_number(&s.as_bytes());
    }
    if let Value::Table(m) = field(&f.map) {
        let pairs = entries(&m);
        out.map(pairs.len());
        for (k, v) in &pairs {
            lua_to_reply(out, f, k, depth + 1);
            lua_to_reply(out, f, v, depth + 1);
        }
        return;
    }
    if let Value::Table(s) = field(&f.set) {
        let pairs = entries(&s);
        out.set(pairs.len());
        for (k, _) in &pairs {
            lua_to_reply(out, f, k, depth + 1);
        }
        return;
    }
    if let Value::Table(v) = field(&f.verbatim_string) {
        if let (Value::String(fmt), Value::String(s)) =
            (field_of(&v, &f.format), field_of(&v, &f.string))
        {
            return out.verbatim_as(&fmt.as_bytes(), &s.as_bytes());
        }
    }
    let mut items = Vec::new();
    for i in 1.. {
        match t.raw_get::<Value>(i) {
            Ok(Value::Nil) | Err(_) => break,
            Ok(v) => items.push(v),
        }
    }
    out.array(items.len());
    for v in &items {
        lua_to_reply(out, f, v, depth + 1);
    }
}

fn field_of(t: &Table, k: &LuaString) -> Value {
    t.raw_get::<Value>(k).unwrap_or(Value::Nil)
}

/// A table's pairs in Lua's own iteration order (lua_next), as Redis walks
/// them.
fn entries(t: &Table) -> Vec<(Value, Value)> {
    let mut v = Vec::new();
    let _ = t.for_each(|k: Value, val: Value| {
        v.push((k, val));
        Ok(())
    });
    v
}
