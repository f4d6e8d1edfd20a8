//! The extra libraries Redis gives scripts: `bit` (LuaBitOp) and `cjson`
//! (lua-cjson), with their semantics and output formats; `cmsgpack` is in
//! msgpack.rs, `struct` in structlib.rs.

use mlua::{LightUserData, Lua, MultiValue, Table, Value};

pub fn install(lua: &Lua) -> mlua::Result<()> {
    let g = lua.globals();
    g.raw_set("bit", bit(lua)?)?;
    g.raw_set("cjson", cjson(lua)?)?;
    g.raw_set("cmsgpack", super::msgpack::table(lua)?)?;
    g.raw_set("struct", super::structlib::table(lua)?)?;
    Ok(())
}

/// LuaBitOp's normalisation: the number rounded, then wrapped to int32.
fn tobit(x: f64) -> i32 {
    if !x.is_finite() {
        return 0;
    }
    let r = x.round_ties_even();
    (r.rem_euclid(4294967296.0) as u64 as u32) as i32
}

fn arg(v: &Value) -> mlua::Result<i32> {
    match v {
        Value::Integer(i) => Ok(tobit(*i as f64)),
        Value::Number(n) => Ok(tobit(*n)),
        Value::String(s) => s
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse::<f64>().ok())
            .map(tobit)
            .ok_or_else(|| mlua::Error::RuntimeError("bad argument (number expected)".into())),
        _ => Err(mlua::Error::RuntimeError(
            "bad argument (number expected)".into(),
        )),
    }
}

fn bit(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("tobit", lua.create_function(|_, x: Value| arg(&x))?)?;
    t.set("bnot", lua.create_function(|_, x: Value| Ok(!arg(&x)?))?)?;
    type Fold = fn(i32, i32) -> i32;
    for (name, f) in [
        ("band", (|a, b| a & b) as Fold),
        ("bor", |a, b| a | b),
        ("bxor", |a, b| a ^ b),
    ] {
        t.set(
            name,
            lua.create_function(move |_, args: MultiValue| {
                let mut it = args.iter();
                let first = it.next().ok_or_else(|| {
                    mlua::Error::RuntimeError(
                        "bad argument #1 (number expected, got no value)".into(),
                    )
                })?;
                let mut acc = arg(first)?;
                for v in it {
                    acc = f(acc, arg(v)?);
                }
                Ok(acc)
            })?,
        )?;
    }
    type Shift = fn(i32, u32) -> i32;
    for (name, f) in [
        (
            "lshift",
            (|a: i32, n: u32| ((a as u32) << n) as i32) as Shift,
        ),
        ("rshift", |a, n| ((a as u32) >> n) as i32),
        ("arshift", |a, n| a >> n),
        ("rol", |a, n| (a as u32).rotate_left(n) as i32),
        ("ror", |a, n| (a as u32).rotate_right(n) as i32),
    ] {
        t.set(
            name,
            lua.create_function(move |_, (x, n): (Value, Value)| {
                Ok(f(arg(&x)?, (arg(&n)? & 31) as u32))
            })?,
        )?;
    }
    t.set(
        "bswap",
        lua.create_function(|_, x: Value| Ok(arg(&x)?.swap_bytes()))?,
    )?;
    t.set(
        "tohex",
        lua.create_function(|_, (x, n): (Value, Option<Value>)| {
            let v = arg(&x)? as u32;
            let n = match n {
                Some(n) => arg(&n)?,
                None => 8,
            };
            let (upper, len) = (n < 0, n.unsigned_abs() as usize);
            let len = len.min(8);
            let s = if upper {
                format!("{v:08X}")
            } else {
                format!("{v:08x}")
            };
            Ok(s[8 - len..].to_string())
        })?,
    )?;
    Ok(t)
}

/// `%.14g`, Lua 5.1's and cjson's number format.
pub fn fmt_g14(n: f64) -> String {
    let mut buf = [0u8; 64];
    // SAFETY: snprintf writes at most buf.len() bytes, NUL included.
    let len = unsafe {
        libc::snprintf(
            buf.as_mut_ptr() as *mut libc::c_char,
            buf.len(),
            c"%.14g".as_ptr(),
            n,
        )
    };
    String::from_utf8_lossy(&buf[..(len.max(0) as usize).min(buf.len() - 1)]).into_owned()
}

const MAX_DEPTH: usize = 1000;

fn cjson(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    // cjson.null: a light userdata NULL, as lua-cjson.
    let null = Value::LightUserData(LightUserData(std::ptr::null_mut()));
    t.set("null", null.clone())?;
    t.set(
        "encode",
        lua.create_function(|lua, v: Value| {
            let mut out = Vec::new();
            encode(&v, &mut out, 0).map_err(|m| super::engine::script_error(lua, &m))?;
            lua.create_string(out)
        })?,
    )?;
    t.set(
        "decode",
        lua.create_function(|lua, s: mlua::LuaString| {
            let j: serde_json::Value = serde_json::from_slice(&s.as_bytes()).map_err(|e| {
                super::engine::script_error(
                    lua,
                    &format!("Expected value but found invalid token: {e}"),
                )
            })?;
            decode(lua, &j, 0).map_err(|m| super::engine::script_error(lua, &m))
        })?,
    )?;
    Ok(t)
}

fn encode(v: &Value, out: &mut Vec<u8>, depth: usize) -> Result<(), String> {
    match v {
        Value::Nil => out.extend_from_slice(b"null"),
        Value::LightUserData(p) if p.0.is_null() => out.extend_from_slice(b"null"),
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Integer(i) => out.extend_from_slice(fmt_g14(*i as f64).as_bytes()),
        Value::Number(n) => {
            if !n.is_finite() {
                return Err("Cannot serialise number: must not be NaN or Inf".into());
            }
            out.extend_from_slice(fmt_g14(*n).as_bytes());
        }
        Value::String(s) => encode_str(&s.as_bytes(), out),
        Value::Table(t) => {
            if depth >= MAX_DEPTH {
                return Err(format!(
                    "Cannot serialise, excessive nesting ({})",
                    depth + 1
                ));
            }
            encode_table(t, out, depth + 1)?;
        }
        other => {
            return Err(format!(
                "Cannot serialise {}: type not supported",
                other.type_name()
            ));
        }
    }
    Ok(())
}

/// lua-cjson's escaping: quotes, backslash, slash, control characters.
fn encode_str(s: &[u8], out: &mut Vec<u8>) {
    let mut buf: Vec<u8> = Vec::with_capacity(s.len() + 2);
    buf.push(b'"');
    for &c in s {
        match c {
            b'"' => buf.extend_from_slice(b"\\\""),
            b'\\' => buf.extend_from_slice(b"\\\\"),
            b'/' => buf.extend_from_slice(b"\\/"),
            b'\n' => buf.extend_from_slice(b"\\n"),
            b'\r' => buf.extend_from_slice(b"\\r"),
            b'\t' => buf.extend_from_slice(b"\\t"),
            8 => buf.extend_from_slice(b"\\b"),
            12 => buf.extend_from_slice(b"\\f"),
            c if c < 0x20 || c == 0x7f => buf.extend_from_slice(format!("\\u{c:04x}").as_bytes()),
            c => buf.push(c),
        }
    }
    buf.push(b'"');
    // Other bytes (UTF-8 or not) pass through unchanged, as in lua-cjson.
    out.extend_from_slice(&buf);
}

fn encode_table(t: &Table, out: &mut Vec<u8>, depth: usize) -> Result<(), String> {
    // Array if every key is a positive integer and it is not too sparse.
    let (mut max, mut items, mut array) = (0usize, 0usize, true);
    for pair in t.pairs::<Value, Value>() {
        let (k, _) = pair.map_err(|e| e.to_string())?;
        items += 1;
        match k {
            Value::Integer(i) if i >= 1 => max = max.max(i as usize),
            Value::Number(n) if n >= 1.0 && n.fract() == 0.0 => max = max.max(n as usize),
            _ => {
                array = false;
            }
        }
    }
    if array && items > 0 {
        if max > items * 2 && max > 10 {
            return Err("Cannot serialise table: excessively sparse array".into());
        }
        out.push(b'[');
        for i in 1..=max {
            if i > 1 {
                out.push(b',');
            }
            encode(
                &t.raw_get::<Value>(i).map_err(|e| e.to_string())?,
                out,
                depth,
            )?;
        }
        out.push(b']');
        return Ok(());
    }
    out.push(b'{');
    let mut first = true;
    for pair in t.pairs::<Value, Value>() {
        let (k, v) = pair.map_err(|e| e.to_string())?;
        if !first {
            out.push(b',');
        }
        first = false;
        match &k {
            Value::String(s) => encode_str(&s.as_bytes(), out),
            Value::Integer(i) => encode_str(fmt_g14(*i as f64).as_bytes(), out),
            Value::Number(n) => encode_str(fmt_g14(*n).as_bytes(), out),
            _ => return Err("Cannot serialise table: table key must be a number or string".into()),
        }
        out.push(b':');
        encode(&v, out, depth)?;
    }
    out.push(b'}');
    Ok(())
}

fn decode(lua: &Lua, j: &serde_json::Value, depth: usize) -> Result<Value, String> {
    use serde_json::Value as J;
    if depth > MAX_DEPTH {
        return Err("Found too many nested data structures".into());
    }
    let e = |e: mlua::Error| e.to_string();
    Ok(match j {
        J::Null => Value::LightUserData(LightUserData(std::ptr::null_mut())),
        J::Bool(b) => Value::Boolean(*b),
        J::Number(n) => Value::Number(n.as_f64().unwrap_or(0.0)),
        J::String(s) => Value::String(lua.create_string(s).map_err(e)?),
        J::Array(a) => {
            let t = lua.create_table_with_capacity(a.len(), 0).map_err(e)?;
            for (i, v) in a.iter().enumerate() {
                t.raw_set(i + 1, decode(lua, v, depth + 1)?).map_err(e)?;
            }
            Value::Table(t)
        }
        J::Object(m) => {
            let t = lua.create_table_with_capacity(0, m.len()).map_err(e)?;
            for (k, v) in m {
                let key = lua.create_string(k).map_err(e)?;
                t.raw_set(key, decode(lua, v, depth + 1)?).map_err(e)?;
            }
            Value::Table(t)
        }
    })
}
