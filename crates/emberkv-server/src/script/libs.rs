//! The extra libraries Redis gives scripts: `bit` (LuaBitOp) here, with
//! its semantics; `cjson` is in cjson.rs, `cmsgpack` in msgpack.rs,
//! `struct` in structlib.rs.

use mlua::{Lua, MultiValue, Table, Value};

pub fn install(lua: &Lua) -> mlua::Result<()> {
    let g = lua.globals();
    g.raw_set("bit", bit(lua)?)?;
    g.raw_set("cjson", super::cjson::table(lua)?)?;
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
