//! `cmsgpack`, the MessagePack library Redis gives scripts (lua-cmsgpack):
//! pack, unpack, unpack_one and unpack_limit, byte for byte as Redis's.
//! Queue libraries (BullMQ, ...) keep their job data in it.
//!
//! lua-cmsgpack's own choices are kept: the smallest integer encoding, a
//! float32 when the number survives the round trip, str8 for 32..255 byte
//! strings, a table is an array only when its keys are exactly 1..n, and
//! tables nested deeper than 16 levels are packed as nil. Unpacking knows
//! no bin or ext types (an error, as in Redis).

use mlua::{Lua, MultiValue, Table, Value};

/// Tables nested deeper than this are packed as nil (lua-cmsgpack's
/// LUACMSGPACK_MAX_NESTING).
const MAX_NESTING: usize = 16;
/// Deepest nesting `unpack` follows. lua-cmsgpack recurses on the C stack
/// without a bound; here a hostile input gets an error instead.
const MAX_DECODE_DEPTH: usize = 1000;

pub fn table(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("pack", lua.create_function(pack)?)?;
    t.set(
        "unpack",
        lua.create_function(|lua, a: MultiValue| unpack_full(lua, a, "unpack", 0, 0))?,
    )?;
    t.set(
        "unpack_one",
        lua.create_function(|lua, a: MultiValue| {
            let offset = opt_int(lua, a.get(1), 0)?;
            unpack_full(lua, a, "unpack_one", 1, offset)
        })?,
    )?;
    t.set(
        "unpack_limit",
        lua.create_function(|lua, a: MultiValue| {
            let Some(limit) = a.get(1).and_then(|v| num(lua, v)) else {
                let got = a.get(1).map_or("no value", |v| v.type_name());
                return Err(err(
                    lua,
                    &format!("bad argument #2 to 'unpack_limit' (number expected, got {got})"),
                ));
            };
            let offset = opt_int(lua, a.get(2), 0)?;
            unpack_full(lua, a, "unpack_limit", limit, offset)
        })?,
    )?;
    Ok(t)
}

fn err(lua: &Lua, msg: &str) -> mlua::Error {
    super::engine::script_error(lua, msg)
}

fn num(lua: &Lua, v: &Value) -> Option<i64> {
    match lua.coerce_number(v.clone()) {
        Ok(Some(n)) if n.is_finite() => Some(n as i64),
        _ => None,
    }
}

fn opt_int(lua: &Lua, v: Option<&Value>, default: i64) -> mlua::Result<i64> {
    match v {
        None | Some(Value::Nil) => Ok(default),
        Some(v) => num(lua, v).ok_or_else(|| err(lua, "bad argument (number expected)")),
    }
}

fn pack(lua: &Lua, args: MultiValue) -> mlua::Result<mlua::LuaString> {
    if args.is_empty() {
        return Err(err(
            lua,
            "bad argument #0 to 'pack' (MessagePack pack needs input.)",
        ));
    }
    let mut out = Vec::new();
    for v in args.iter() {
        encode(v, &mut out, 0)?;
    }
    lua.create_string(&out)
}

fn encode(v: &Value, out: &mut Vec<u8>, level: usize) -> mlua::Result<()> {
    match v {
        Value::Boolean(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Integer(i) => encode_int(*i, out),
        Value::Number(n) => encode_number(*n, out),
        Value::String(s) => {
            let b = s.as_bytes();
            let n = b.len();
            if n < 32 {
                out.push(0xa0 | n as u8);
            } else if n <= 0xff {
                out.extend_from_slice(&[0xd9, n as u8]);
            } else if n <= 0xffff {
                out.push(0xda);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            } else {
                out.push(0xdb);
                out.extend_from_slice(&(n as u32).to_be_bytes());
            }
            out.extend_from_slice(&b);
        }
        Value::Table(t) if level < MAX_NESTING => encode_table(t, out, level)?,
        _ => out.push(0xc0),
    }
    Ok(())
}

/// 2^63: whole numbers in [-2^63, 2^63) fit an int64.
const TWO_63: f64 = 9_223_372_036_854_775_808.0;

/// Whole numbers that fit an int64 are integers; others are float32 when
/// that loses nothing, else float64.
fn encode_number(n: f64, out: &mut Vec<u8>) {
    if n.is_finite() && n.trunc() == n && (-TWO_63..TWO_63).contains(&n) {
        return encode_int(n as i64, out);
    }
    let f = n as f32;
    if f as f64 == n {
        out.push(0xca);
        out.extend_from_slice(&f.to_be_bytes());
    } else {
        out.push(0xcb);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn encode_int(n: i64, out: &mut Vec<u8>) {
    if n >= 0 {
        if n <= 127 {
            out.push(n as u8);
        } else if n <= 0xff {
            out.extend_from_slice(&[0xcc, n as u8]);
        } else if n <= 0xffff {
            out.push(0xcd);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            out.push(0xce);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            out.push(0xcf);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    } else if n >= -32 {
        out.push(n as i8 as u8);
    } else if n >= -128 {
        out.extend_from_slice(&[0xd0, n as i8 as u8]);
    } else if n >= -32768 {
        out.push(0xd1);
        out.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -2147483648 {
        out.push(0xd2);
        out.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn header(out: &mut Vec<u8>, n: usize, fix: u8, m16: u8, m32: u8) {
    if n <= 15 {
        out.push(fix | n as u8);
    } else if n <= 0xffff {
        out.push(m16);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(m32);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

fn encode_table(t: &Table, out: &mut Vec<u8>, level: usize) -> mlua::Result<()> {
    // An array only if every key is a positive whole number and they are
    // exactly 1..n (lua-cmsgpack's table_is_an_array). Two passes over the
    // table, each value dropped as soon as it is seen: a value held from
    // Rust takes a slot of Lua's C stack (8000 in Lua 5.1), so collecting a
    // big table's pairs first ran out of stack.
    let (mut count, mut max, mut numeric) = (0usize, 0f64, true);
    t.for_each(|k: Value, _: Value| {
        count += 1;
        let n = match k {
            Value::Integer(i) => i as f64,
            Value::Number(n) => n,
            _ => {
                numeric = false;
                return Ok(());
            }
        };
        if n > 0.0 && n.trunc() == n {
            max = max.max(n);
        } else {
            numeric = false;
        }
        Ok(())
    })?;
    if numeric && max == count as f64 {
        let n = t.raw_len();
        header(out, n, 0x90, 0xdc, 0xdd);
        for i in 1..=n {
            encode(&t.raw_get::<Value>(i)?, out, level + 1)?;
        }
    } else {
        header(out, count, 0x80, 0xde, 0xdf);
        t.for_each(|k: Value, v: Value| {
            encode(&k, out, level + 1)?;
            encode(&v, out, level + 1)
        })?;
    }
    Ok(())
}

enum Bad {
    Eof,
    Format,
    Deep,
}

/// lua-cmsgpack's mp_unpack_full: up to `limit` values from `offset`
/// (limit 0 and offset 0: all of them, without the offset in front).
fn unpack_full(
    lua: &Lua,
    args: MultiValue,
    name: &str,
    limit: i64,
    offset: i64,
) -> mlua::Result<MultiValue> {
    let s = super::engine::string_arg(lua, args.front(), 1, name, "no value")?;
    let b = s.as_bytes();
    let len = b.len() as i64;
    let all = limit == 0 && offset == 0;
    if offset < 0 || limit < 0 {
        // Redis's message prints the input length as the limit.
        return Err(err(
            lua,
            &format!("Invalid request to unpack with offset of {offset} and limit of {len}."),
        ));
    }
    if offset > len {
        return Err(err(
            lua,
            &format!("Start offset {offset} greater than input length {len}."),
        ));
    }
    let limit = if all { i64::MAX } else { limit };
    let mut pos = offset as usize;
    let mut vals = Vec::new();
    while pos < b.len() && (vals.len() as i64) < limit {
        match decode(lua, &b, &mut pos, 0) {
            Ok(v) => vals.push(v),
            Err(Bad::Eof) => return Err(err(lua, "Missing bytes in input.")),
            Err(Bad::Format) => return Err(err(lua, "Bad data format in input.")),
            Err(Bad::Deep) => return Err(err(lua, "Nesting too deep in input.")),
        }
    }
    if !all {
        let next = if pos == b.len() { -1 } else { pos as i64 };
        vals.insert(0, Value::Integer(next));
    }
    Ok(MultiValue::from_iter(vals))
}

fn take<'a>(b: &'a [u8], pos: &mut usize, n: usize) -> Result<&'a [u8], Bad> {
    let end = pos
        .checked_add(n)
        .filter(|&e| e <= b.len())
        .ok_or(Bad::Eof)?;
    let s = &b[*pos..end];
    *pos = end;
    Ok(s)
}

fn be(b: &[u8]) -> u64 {
    b.iter().fold(0, |acc, &x| (acc << 8) | x as u64)
}

fn decode(lua: &Lua, b: &[u8], pos: &mut usize, depth: usize) -> Result<Value, Bad> {
    if depth > MAX_DECODE_DEPTH {
        return Err(Bad::Deep);
    }
    let lua_err = |_| Bad::Format;
    let tag = take(b, pos, 1)?[0];
    let number = |n: f64| Ok(Value::Number(n));
    match tag {
        0x00..=0x7f => number(tag as f64),
        0xe0..=0xff => number(tag as i8 as f64),
        0xc0 => Ok(Value::Nil),
        0xc2 => Ok(Value::Boolean(false)),
        0xc3 => Ok(Value::Boolean(true)),
        0xcc => number(be(take(b, pos, 1)?) as f64),
        0xcd => number(be(take(b, pos, 2)?) as f64),
        0xce => number(be(take(b, pos, 4)?) as f64),
        0xcf => number(be(take(b, pos, 8)?) as f64),
        0xd0 => number(be(take(b, pos, 1)?) as u8 as i8 as f64),
        0xd1 => number(be(take(b, pos, 2)?) as u16 as i16 as f64),
        0xd2 => number(be(take(b, pos, 4)?) as u32 as i32 as f64),
        0xd3 => number(be(take(b, pos, 8)?) as i64 as f64),
        0xca => number(f32::from_bits(be(take(b, pos, 4)?) as u32) as f64),
        0xcb => number(f64::from_bits(be(take(b, pos, 8)?))),
        0xa0..=0xbf | 0xd9 | 0xda | 0xdb => {
            let n = match tag {
                0xd9 => be(take(b, pos, 1)?) as usize,
                0xda => be(take(b, pos, 2)?) as usize,
                0xdb => be(take(b, pos, 4)?) as usize,
                _ => (tag & 0x1f) as usize,
            };
            let s = take(b, pos, n)?;
            lua.create_string(s).map(Value::String).map_err(lua_err)
        }
        0x90..=0x9f | 0xdc | 0xdd => {
            let n = match tag {
                0xdc => be(take(b, pos, 2)?) as usize,
                0xdd => be(take(b, pos, 4)?) as usize,
                _ => (tag & 0x0f) as usize,
            };
            // No capacity from the input's word: it may claim 4 billion.
            let t = lua.create_table().map_err(lua_err)?;
            for i in 1..=n {
                let v = decode(lua, b, pos, depth + 1)?;
                t.raw_set(i, v).map_err(lua_err)?;
            }
            Ok(Value::Table(t))
        }
        0x80..=0x8f | 0xde | 0xdf => {
            let n = match tag {
                0xde => be(take(b, pos, 2)?) as usize,
                0xdf => be(take(b, pos, 4)?) as usize,
                _ => (tag & 0x0f) as usize,
            };
            let t = lua.create_table().map_err(lua_err)?;
            for _ in 0..n {
                let k = decode(lua, b, pos, depth + 1)?;
                let v = decode(lua, b, pos, depth + 1)?;
                if matches!(k, Value::Nil) || matches!(k, Value::Number(f) if f.is_nan()) {
                    return Err(Bad::Format);
                }
                t.raw_set(k, v).map_err(lua_err)?;
            }
            Ok(Value::Table(t))
        }
        _ => Err(Bad::Format),
    }
}
