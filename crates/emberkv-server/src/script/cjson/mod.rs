//! `cjson`, lua-cjson 2.1.0 as Redis bundles it: encode and decode with
//! its output format, its parser's error texts ("Expected value but found
//! T_END at character 4"), its leniencies (NaN, Infinity and hex numbers
//! decode by default), and its configuration functions.
//!
//! Configuration lives where Redis's does: the global `cjson` has one
//! setting for the whole server (Redis has a single Lua state for EVAL),
//! reset by SCRIPT FLUSH; each `cjson.new()` instance has its own.

use mlua::{LightUserData, Lua, MultiValue, Table, Value};
use parking_lot::Mutex;
use std::cell::RefCell;
use std::rc::Rc;

mod decode;
use decode::Parser;

/// Deepest nesting encode and decode follow whatever the settings say:
/// they recurse on the worker's stack (lua-cjson stops near here too,
/// when Lua's C stack check fails).
const HARD_DEPTH: i64 = 1000;

#[derive(Clone, Copy)]
struct Config {
    sparse_convert: bool,
    sparse_ratio: i64,
    sparse_safe: i64,
    encode_max_depth: i64,
    decode_max_depth: i64,
    /// 0 off (error), 1 on (inf/nan), 2 "null".
    encode_invalid: u8,
    decode_invalid: bool,
    keep_buffer: bool,
    precision: i64,
}

const DEFAULT: Config = Config {
    sparse_convert: false,
    sparse_ratio: 2,
    sparse_safe: 10,
    encode_max_depth: 1000,
    decode_max_depth: 1000,
    encode_invalid: 0,
    decode_invalid: true,
    keep_buffer: true,
    precision: 14,
};

/// The global `cjson`'s settings, shared by every worker's Lua state.
static GLOBAL: Mutex<Config> = Mutex::new(DEFAULT);

/// SCRIPT FLUSH: Redis starts a fresh Lua state, so cjson's settings too.
pub fn reset_global() {
    *GLOBAL.lock() = DEFAULT;
}

#[derive(Clone)]
enum Cfg {
    Global,
    Local(Rc<RefCell<Config>>),
}

impl Cfg {
    fn get(&self) -> Config {
        match self {
            Cfg::Global => *GLOBAL.lock(),
            Cfg::Local(c) => *c.borrow(),
        }
    }
    fn update(&self, f: impl FnOnce(&mut Config)) {
        match self {
            Cfg::Global => f(&mut GLOBAL.lock()),
            Cfg::Local(c) => f(&mut c.borrow_mut()),
        }
    }
}

fn err(lua: &Lua, msg: &str) -> mlua::Error {
    super::engine::script_error(lua, msg)
}

fn arg_err(lua: &Lua, n: usize, func: &str, msg: &str) -> mlua::Error {
    err(lua, &format!("bad argument #{n} to '{func}' ({msg})"))
}

/// The global `cjson` table.
pub fn table(lua: &Lua) -> mlua::Result<Table> {
    instance(lua, Cfg::Global)
}

fn instance(lua: &Lua, cfg: Cfg) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "null",
        Value::LightUserData(LightUserData(std::ptr::null_mut())),
    )?;
    t.set("_NAME", "cjson")?;
    t.set("_VERSION", "2.1.0")?;
    let c = cfg.clone();
    t.set(
        "encode",
        lua.create_function(move |lua, args: MultiValue| {
            if args.len() != 1 {
                return Err(arg_err(lua, 1, "encode", "expected 1 argument"));
            }
            let cfg = c.get();
            let mut out = Vec::new();
            encode(&cfg, &args[0], &mut out, 0).map_err(|m| err(lua, &m))?;
            lua.create_string(out)
        })?,
    )?;
    let c = cfg.clone();
    t.set(
        "decode",
        lua.create_function(move |lua, args: MultiValue| {
            if args.len() != 1 {
                return Err(arg_err(lua, 1, "decode", "expected 1 argument"));
            }
            let s = super::engine::string_arg(lua, args.front(), 1, "decode", "no value")?;
            let data = s.as_bytes();
            if data.len() >= 2 && (data[0] == 0 || data[1] == 0) {
                return Err(err(lua, "JSON parser does not support UTF-16 or UTF-32"));
            }
            let mut p = Parser {
                lua,
                b: &data,
                pos: 0,
                depth: 0,
                cfg: c.get(),
            };
            p.decode().map_err(|m| err(lua, &m))
        })?,
    )?;
    let c = cfg.clone();
    t.set(
        "new",
        lua.create_function(move |lua, ()| {
            let _ = &c;
            instance(lua, Cfg::Local(Rc::new(RefCell::new(DEFAULT))))
        })?,
    )?;
    config_functions(lua, &t, &cfg)?;
    Ok(t)
}

/// lua-cjson's json_arg_init: at most `n` arguments.
fn at_most(lua: &Lua, args: &MultiValue, n: usize, func: &str) -> mlua::Result<()> {
    if args.len() > n {
        return Err(arg_err(lua, n + 1, func, "found too many arguments"));
    }
    Ok(())
}

/// An on/off option (a boolean or "off"/"on", or `extra` names after
/// them): the new value's index, or None when the argument is nil.
fn enum_arg(
    lua: &Lua,
    args: &MultiValue,
    i: usize,
    func: &str,
    names: &[&str],
) -> mlua::Result<Option<u8>> {
    match args.get(i) {
        None | Some(Value::Nil) => Ok(None),
        Some(Value::Boolean(b)) => Ok(Some(*b as u8)),
        Some(v) => {
            let s = lua.coerce_string(v.clone())?.map(|s| s.to_string_lossy());
            match s
                .as_deref()
                .and_then(|s| names.iter().position(|n| *n == s))
            {
                Some(k) => Ok(Some(k as u8)),
                None => {
                    let msg = match s {
                        Some(s) => format!("invalid option '{s}'"),
                        None => format!("string expected, got {}", v.type_name()),
                    };
                    Err(arg_err(lua, i + 1, func, &msg))
                }
            }
        }
    }
}

/// An integer option in `min..=max`, or None when the argument is nil.
fn int_option(
    lua: &Lua,
    args: &MultiValue,
    i: usize,
    func: &str,
    min: i64,
    max: i64,
) -> mlua::Result<Option<i64>> {
    match args.get(i) {
        None | Some(Value::Nil) => Ok(None),
        Some(v) => {
            let Some(n) = lua.coerce_number(v.clone())?.map(|n| n as i64) else {
                let msg = format!("number expected, got {}", v.type_name());
                return Err(arg_err(lua, i + 1, func, &msg));
            };
            if n < min || n > max {
                let msg = format!("expected integer between {min} and {max}");
                return Err(arg_err(lua, 1, func, &msg));
            }
            Ok(Some(n))
        }
    }
}

const ON_OFF: &[&str] = &["off", "on"];
const INT_MAX: i64 = i32::MAX as i64;

fn config_functions(lua: &Lua, t: &Table, cfg: &Cfg) -> mlua::Result<()> {
    let c = cfg.clone();
    t.set(
        "encode_sparse_array",
        lua.create_function(move |lua, a: MultiValue| {
            let f = "encode_sparse_array";
            at_most(lua, &a, 3, f)?;
            let convert = enum_arg(lua, &a, 0, f, ON_OFF)?;
            let ratio = int_option(lua, &a, 1, f, 0, INT_MAX)?;
            let safe = int_option(lua, &a, 2, f, 0, INT_MAX)?;
            c.update(|x| {
                if let Some(v) = convert {
                    x.sparse_convert = v == 1;
                }
                if let Some(v) = ratio {
                    x.sparse_ratio = v;
                }
                if let Some(v) = safe {
                    x.sparse_safe = v;
                }
            });
            let x = c.get();
            Ok((x.sparse_convert, x.sparse_ratio, x.sparse_safe))
        })?,
    )?;
    type Get = fn(&Config) -> i64;
    type Set = fn(&mut Config, i64);
    let ints: [(&'static str, i64, i64, Get, Set); 3] = [
        (
            "encode_max_depth",
            1,
            INT_MAX,
            |x| x.encode_max_depth,
            |x, v| x.encode_max_depth = v,
        ),
        (
            "decode_max_depth",
            1,
            INT_MAX,
            |x| x.decode_max_depth,
            |x, v| x.decode_max_depth = v,
        ),
        (
            "encode_number_precision",
            1,
            14,
            |x| x.precision,
            |x, v| x.precision = v,
        ),
    ];
    for (name, min, max, get, set) in ints {
        let c = cfg.clone();
        t.set(
            name,
            lua.create_function(move |lua, a: MultiValue| {
                at_most(lua, &a, 1, name)?;
                if let Some(v) = int_option(lua, &a, 0, name, min, max)? {
                    c.update(|x| set(x, v));
                }
                Ok(get(&c.get()))
            })?,
        )?;
    }
    type GetB = fn(&Config) -> bool;
    type SetB = fn(&mut Config, bool);
    let bools: [(&'static str, GetB, SetB); 2] = [
        (
            "encode_keep_buffer",
            |x| x.keep_buffer,
            |x, v| x.keep_buffer = v,
        ),
        (
            "decode_invalid_numbers",
            |x| x.decode_invalid,
            |x, v| x.decode_invalid = v,
        ),
    ];
    for (name, get, set) in bools {
        let c = cfg.clone();
        t.set(
            name,
            lua.create_function(move |lua, a: MultiValue| {
                at_most(lua, &a, 1, name)?;
                if let Some(v) = enum_arg(lua, &a, 0, name, ON_OFF)? {
                    c.update(|x| set(x, v == 1));
                }
                Ok(get(&c.get()))
            })?,
        )?;
    }
    let c = cfg.clone();
    t.set(
        "encode_invalid_numbers",
        lua.create_function(move |lua, a: MultiValue| {
            let f = "encode_invalid_numbers";
            at_most(lua, &a, 1, f)?;
            if let Some(v) = enum_arg(lua, &a, 0, f, &["off", "on", "null"])? {
                c.update(|x| x.encode_invalid = v);
            }
            Ok(match c.get().encode_invalid {
                0 => Value::Boolean(false),
                1 => Value::Boolean(true),
                _ => Value::String(lua.create_string("null")?),
            })
        })?,
    )?;
    Ok(())
}

fn encode(cfg: &Config, v: &Value, out: &mut Vec<u8>, depth: i64) -> Result<(), String> {
    match v {
        Value::Nil => out.extend_from_slice(b"null"),
        Value::LightUserData(p) if p.0.is_null() => out.extend_from_slice(b"null"),
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Integer(i) => number(cfg, *i as f64, out)?,
        Value::Number(n) => number(cfg, *n, out)?,
        Value::String(s) => encode_str(&s.as_bytes(), out),
        Value::Table(t) => {
            if depth + 1 > cfg.encode_max_depth.min(HARD_DEPTH) {
                return Err(format!(
                    "Cannot serialise, excessive nesting ({})",
                    depth + 1
                ));
            }
            encode_table(cfg, t, out, depth + 1)?;
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

fn number(cfg: &Config, n: f64, out: &mut Vec<u8>) -> Result<(), String> {
    if !n.is_finite() {
        match cfg.encode_invalid {
            0 => return Err("Cannot serialise number: must not be NaN or Inf".into()),
            1 if n.is_nan() => {
                out.extend_from_slice(b"nan");
                return Ok(());
            }
            1 => {}
            _ => {
                out.extend_from_slice(b"null");
                return Ok(());
            }
        }
    }
    out.extend_from_slice(fmt_g(n, cfg.precision).as_bytes());
    Ok(())
}

/// `%.<precision>g`, as lua-cjson formats numbers.
fn fmt_g(n: f64, precision: i64) -> String {
    if precision == 14 {
        return super::libs::fmt_g14(n);
    }
    let mut buf = [0u8; 64];
    let fmt = format!("%.{}g\0", precision.clamp(1, 14));
    // SAFETY: snprintf writes at most buf.len() bytes, NUL included; the
    // format is NUL-terminated and takes one double.
    let len = unsafe {
        libc::snprintf(
            buf.as_mut_ptr() as *mut libc::c_char,
            buf.len(),
            fmt.as_ptr() as *const libc::c_char,
            n,
        )
    };
    String::from_utf8_lossy(&buf[..(len.max(0) as usize).min(buf.len() - 1)]).into_owned()
}

/// lua-cjson's escaping: quotes, backslash, slash, control characters.
fn encode_str(s: &[u8], out: &mut Vec<u8>) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    for &c in s {
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            8 => out.extend_from_slice(b"\\b"),
            12 => out.extend_from_slice(b"\\f"),
            c if c < 0x20 || c == 0x7f => out.extend_from_slice(format!("\\u{c:04x}").as_bytes()),
            // Other bytes (UTF-8 or not) pass through, as in lua-cjson.
            c => out.push(c),
        }
    }
    out.push(b'"');
}

/// lua_array_length: Some(n) for an array of n slots, None for an object.
fn array_length(cfg: &Config, t: &Table) -> Result<Option<usize>, String> {
    let (mut max, mut items) = (0f64, 0f64);
    let mut array = true;
    t.for_each(|k: Value, _: Value| {
        let n = match k {
            Value::Integer(i) => i as f64,
            Value::Number(n) => n,
            _ => f64::NAN,
        };
        if n >= 1.0 && n.floor() == n {
            max = f64::max(max, n);
            items += 1.0;
        } else {
            array = false;
        }
        Ok(())
    })
    .map_err(|e| e.to_string())?;
    if !array {
        return Ok(None);
    }
    let ratio = cfg.sparse_ratio as f64;
    if cfg.sparse_ratio > 0 && max > items * ratio && max > cfg.sparse_safe as f64 {
        if !cfg.sparse_convert {
            return Err("Cannot serialise table: excessively sparse array".into());
        }
        return Ok(None);
    }
    Ok(Some(max as usize))
}

fn encode_table(cfg: &Config, t: &Table, out: &mut Vec<u8>, depth: i64) -> Result<(), String> {
    match array_length(cfg, t)? {
        Some(len) if len > 0 => {
            out.push(b'[');
            for i in 1..=len {
                if i > 1 {
                    out.push(b',');
                }
                let v = t.raw_get::<Value>(i).map_err(|e| e.to_string())?;
                encode(cfg, &v, out, depth)?;
            }
            out.push(b']');
        }
        _ => {
            out.push(b'{');
            let mut first = true;
            let mut failure = None;
            t.for_each(|k: Value, v: Value| {
                if failure.is_some() {
                    return Ok(());
                }
                if !first {
                    out.push(b',');
                }
                first = false;
                let r = match &k {
                    Value::String(s) => {
                        encode_str(&s.as_bytes(), out);
                        Ok(())
                    }
                    Value::Integer(_) | Value::Number(_) => {
                        let n = match k {
                            Value::Integer(i) => i as f64,
                            Value::Number(n) => n,
                            _ => unreachable!(),
                        };
                        out.push(b'"');
                        let r = number(cfg, n, out);
                        out.push(b'"');
                        r
                    }
                    _ => Err("Cannot serialise table: table key must be a number or string".into()),
                };
                let r = r.and_then(|()| {
                    out.push(b':');
                    encode(cfg, &v, out, depth)
                });
                if let Err(e) = r {
                    failure = Some(e);
                }
                Ok(())
            })
            .map_err(|e| e.to_string())?;
            if let Some(e) = failure {
                return Err(e);
            }
            out.push(b'}');
        }
    }
    Ok(())
}
