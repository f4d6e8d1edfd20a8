//! `struct`, the binary packing library Redis gives scripts (Roberto
//! Ierusalimschy's lua-struct, as bundled with Redis): pack, unpack and
//! size over a format of `<` `>` `=` `!n` endianness/alignment controls and
//! `b B h H l L T i[n] I[n] f d s c[n] x` items, with lua-struct's sizes
//! on x86-64 (short 2, int 4, long and size_t 8) and its error texts.

use mlua::{Lua, MultiValue, Table, Value};

/// Largest integer item (`i32` is fine, `i33` is not).
const MAX_INT_SIZE: usize = 32;
/// Default and largest alignment (`!` alone): a double's.
const MAX_ALIGN: usize = 8;

pub fn table(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("pack", lua.create_function(pack)?)?;
    t.set("unpack", lua.create_function(unpack)?)?;
    t.set("size", lua.create_function(size)?)?;
    Ok(t)
}

fn err(lua: &Lua, msg: &str) -> mlua::Error {
    super::engine::script_error(lua, msg)
}

fn arg_err(lua: &Lua, n: usize, func: &str, msg: &str) -> mlua::Error {
    err(lua, &format!("bad argument #{n} to '{func}' ({msg})"))
}

struct Header {
    little: bool,
    align: usize,
}

/// A format being read: the position and the current options.
struct Fmt<'a> {
    f: &'a [u8],
    i: usize,
    h: Header,
}

impl Fmt<'_> {
    fn new(f: &[u8]) -> Fmt<'_> {
        Fmt {
            f,
            i: 0,
            h: Header {
                little: true,
                align: 1,
            },
        }
    }

    fn next(&mut self) -> Option<u8> {
        let c = *self.f.get(self.i)?;
        self.i += 1;
        Some(c)
    }

    /// The digits after an option, or `default`.
    fn num(&mut self, lua: &Lua, default: usize) -> mlua::Result<usize> {
        if !self.f.get(self.i).is_some_and(u8::is_ascii_digit) {
            return Ok(default);
        }
        let mut a: usize = 0;
        while let Some(&d) = self.f.get(self.i).filter(|d| d.is_ascii_digit()) {
            a = a
                .checked_mul(10)
                .and_then(|a| a.checked_add((d - b'0') as usize))
                .filter(|&a| a <= i32::MAX as usize)
                .ok_or_else(|| err(lua, "integral size overflow"))?;
            self.i += 1;
        }
        Ok(a)
    }

    /// The size of item `opt` (0 for controls, `s` and `c0`).
    fn size(&mut self, lua: &Lua, opt: u8) -> mlua::Result<usize> {
        Ok(match opt {
            b'b' | b'B' | b'x' => 1,
            b'h' | b'H' => 2,
            b'l' | b'L' | b'T' | b'd' => 8,
            b'f' => 4,
            b'c' => self.num(lua, 1)?,
            b'i' | b'I' => {
                let n = self.num(lua, 4)?;
                if n > MAX_INT_SIZE {
                    return Err(err(
                        lua,
                        &format!("integral size {n} is larger than limit of {MAX_INT_SIZE}"),
                    ));
                }
                n
            }
            _ => 0,
        })
    }

    /// Padding before an item of `size` at offset `len`.
    fn to_align(&self, len: usize, opt: u8, size: usize) -> usize {
        if size == 0 || opt == b'c' {
            return 0;
        }
        let size = size.min(self.h.align);
        (size - (len & (size - 1))) & (size - 1)
    }

    /// Endianness and alignment options; anything else is an error.
    fn control(&mut self, lua: &Lua, opt: u8, func: &str) -> mlua::Result<()> {
        match opt {
            b' ' => {}
            b'>' => self.h.little = false,
            b'<' | b'=' => self.h.little = true,
            b'!' => {
                let a = self.num(lua, MAX_ALIGN)?;
                if !a.is_power_of_two() {
                    return Err(err(lua, &format!("alignment {a} is not a power of 2")));
                }
                self.h.align = a;
            }
            _ => {
                let msg = format!("invalid format option '{}'", opt as char);
                return Err(arg_err(lua, 1, func, &msg));
            }
        }
        Ok(())
    }
}

fn fmt_arg(lua: &Lua, args: &MultiValue, func: &str) -> mlua::Result<mlua::LuaString> {
    super::engine::string_arg(lua, args.front(), 1, func, "no value")
}

fn num_arg(lua: &Lua, args: &MultiValue, n: usize) -> mlua::Result<f64> {
    match args.get(n - 1).map(|v| lua.coerce_number(v.clone())) {
        Some(Ok(Some(x))) => Ok(x),
        other => {
            // lua-struct pushes a nil marker after its arguments, so a
            // missing one reads as nil, not as "no value".
            let got = match (other, args.get(n - 1)) {
                (_, None) => "nil",
                (_, Some(v)) => v.type_name(),
            };
            Err(arg_err(
                lua,
                n,
                "pack",
                &format!("number expected, got {got}"),
            ))
        }
    }
}

fn pack(lua: &Lua, args: MultiValue) -> mlua::Result<mlua::LuaString> {
    let f = fmt_arg(lua, &args, "pack")?;
    let f = f.as_bytes();
    let mut fmt = Fmt::new(&f);
    let mut out = Vec::new();
    let mut arg = 2;
    while let Some(opt) = fmt.next() {
        let mut size = fmt.size(lua, opt)?;
        let pad = fmt.to_align(out.len(), opt, size);
        out.resize(out.len() + pad, 0);
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let n = num_arg(lua, &args, arg)?;
                arg += 1;
                // C's conversions: negatives through int64, as lua-struct.
                let mut v = if n < 0.0 { n as i64 as u64 } else { n as u64 };
                let mut buf = vec![0u8; size];
                for k in 0..size {
                    let at = if fmt.h.little { k } else { size - 1 - k };
                    buf[at] = v as u8;
                    v = v.checked_shr(8).unwrap_or(0);
                }
                out.extend_from_slice(&buf);
            }
            b'x' => out.push(0),
            b'f' => {
                let x = num_arg(lua, &args, arg)? as f32;
                arg += 1;
                let b = if fmt.h.little {
                    x.to_le_bytes()
                } else {
                    x.to_be_bytes()
                };
                out.extend_from_slice(&b);
            }
            b'd' => {
                let x = num_arg(lua, &args, arg)?;
                arg += 1;
                let b = if fmt.h.little {
                    x.to_le_bytes()
                } else {
                    x.to_be_bytes()
                };
                out.extend_from_slice(&b);
            }
            b'c' | b's' => {
                // lua-struct pads its arguments with a nil: "got nil".
                let s = super::engine::string_arg(lua, args.get(arg - 1), arg, "pack", "nil")?;
                let s = s.as_bytes();
                arg += 1;
                if size == 0 {
                    size = s.len();
                }
                if s.len() < size {
                    return Err(arg_err(lua, arg, "pack", "string too short"));
                }
                out.extend_from_slice(&s[..size]);
                if opt == b's' {
                    out.push(0);
                }
            }
            _ => fmt.control(lua, opt, "pack")?,
        }
    }
    lua.create_string(&out)
}

fn unpack(lua: &Lua, args: MultiValue) -> mlua::Result<MultiValue> {
    let f = fmt_arg(lua, &args, "unpack")?;
    let data = super::engine::string_arg(lua, args.get(1), 2, "unpack", "no value")?;
    let data = data.as_bytes();
    let start = match args.get(2) {
        None | Some(Value::Nil) => 1,
        Some(v) => match lua.coerce_number(v.clone()) {
            Ok(Some(n)) => n as i64,
            _ => {
                let got = v.type_name();
                return Err(arg_err(
                    lua,
                    3,
                    "unpack",
                    &format!("number expected, got {got}"),
                ));
            }
        },
    };
    if start <= 0 {
        return Err(arg_err(lua, 3, "unpack", "offset must be 1 or greater"));
    }
    let ld = data.len();
    let mut pos = (start - 1) as usize;
    let f = f.as_bytes();
    let mut fmt = Fmt::new(&f);
    let mut out: Vec<Value> = Vec::new();
    while let Some(opt) = fmt.next() {
        let mut size = fmt.size(lua, opt)?;
        pos += fmt.to_align(pos, opt, size);
        if size > ld || pos > ld - size {
            return Err(arg_err(lua, 2, "unpack", "data string too short"));
        }
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let bytes = &data[pos..pos + size];
                let mut l: u64 = 0;
                for k in 0..size {
                    let b = if fmt.h.little {
                        bytes[size - 1 - k]
                    } else {
                        bytes[k]
                    };
                    l = l.wrapping_shl(8) | b as u64;
                }
                let v = if opt.is_ascii_lowercase() {
                    // Sign extension as lua-struct: the top bit of the item.
                    let mask = u64::MAX.wrapping_shl((size * 8 - 1) as u32);
                    if l & mask != 0 {
                        l |= mask;
                    }
                    l as i64 as f64
                } else {
                    l as f64
                };
                out.push(Value::Number(v));
            }
            b'x' => {}
            b'f' => {
                let b: [u8; 4] = data[pos..pos + 4].try_into().expect("4 bytes");
                let x = if fmt.h.little {
                    f32::from_le_bytes(b)
                } else {
                    f32::from_be_bytes(b)
                };
                out.push(Value::Number(x as f64));
            }
            b'd' => {
                let b: [u8; 8] = data[pos..pos + 8].try_into().expect("8 bytes");
                let x = if fmt.h.little {
                    f64::from_le_bytes(b)
                } else {
                    f64::from_be_bytes(b)
                };
                out.push(Value::Number(x));
            }
            b'c' => {
                if size == 0 {
                    let prev = match out.last() {
                        Some(Value::Number(n)) => Some(*n),
                        Some(Value::Integer(n)) => Some(*n as f64),
                        _ => None,
                    };
                    let Some(n) = prev else {
                        return Err(err(lua, "format 'c0' needs a previous size"));
                    };
                    out.pop();
                    size = if n > 0.0 { n as usize } else { 0 };
                    if size > ld || pos > ld - size {
                        return Err(arg_err(lua, 2, "unpack", "data string too short"));
                    }
                }
                out.push(Value::String(lua.create_string(&data[pos..pos + size])?));
            }
            b's' => {
                let Some(e) = memchr::memchr(0, &data[pos..]) else {
                    return Err(err(lua, "unfinished string in data"));
                };
                out.push(Value::String(lua.create_string(&data[pos..pos + e])?));
                size = e + 1;
            }
            _ => fmt.control(lua, opt, "unpack")?,
        }
        pos += size;
    }
    out.push(Value::Integer(pos as i64 + 1));
    Ok(MultiValue::from_iter(out))
}

fn size(lua: &Lua, args: MultiValue) -> mlua::Result<i64> {
    let f = fmt_arg(lua, &args, "size")?;
    let f = f.as_bytes();
    let mut fmt = Fmt::new(&f);
    let mut pos = 0usize;
    while let Some(opt) = fmt.next() {
        let size = fmt.size(lua, opt)?;
        pos += fmt.to_align(pos, opt, size);
        if opt == b's' {
            return Err(arg_err(lua, 1, "size", "option 's' has no fixed size"));
        }
        if opt == b'c' && size == 0 {
            return Err(arg_err(lua, 1, "size", "option 'c0' has no fixed size"));
        }
        if !opt.is_ascii_alphanumeric() {
            fmt.control(lua, opt, "size")?;
        }
        pos += size;
    }
    Ok(pos as i64)
}
