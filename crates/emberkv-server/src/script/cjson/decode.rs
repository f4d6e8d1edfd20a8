//! lua-cjson's decoder: its tokenizer (token kinds and error texts as its
//! messages print them, "Expected value but found T_END at character 4"),
//! its number leniencies, and the recursive descent with its depth limit.

use super::*;

/// lua-cjson's token kinds, by the names its errors print.
#[derive(Clone, Copy, PartialEq)]
enum Tok {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    Str,
    Num,
    Bool,
    Null,
    Colon,
    Comma,
    End,
    Error,
}

impl Tok {
    fn name(self) -> &'static str {
        match self {
            Tok::ObjBegin => "T_OBJ_BEGIN",
            Tok::ObjEnd => "T_OBJ_END",
            Tok::ArrBegin => "T_ARR_BEGIN",
            Tok::ArrEnd => "T_ARR_END",
            Tok::Str => "T_STRING",
            Tok::Num => "T_NUMBER",
            Tok::Bool => "T_BOOLEAN",
            Tok::Null => "T_NULL",
            Tok::Colon => "T_COLON",
            Tok::Comma => "T_COMMA",
            Tok::End => "T_END",
            Tok::Error => "T_ERROR",
        }
    }
}

struct Token {
    kind: Tok,
    /// Byte offset where the token starts.
    index: usize,
    num: f64,
    boolean: bool,
    text: Vec<u8>,
    /// For T_ERROR: what was wrong.
    error: &'static str,
}

pub(super) struct Parser<'a> {
    pub(super) lua: &'a Lua,
    pub(super) b: &'a [u8],
    pub(super) pos: usize,
    pub(super) depth: i64,
    pub(super) cfg: Config,
}

impl Parser<'_> {
    pub(super) fn decode(&mut self) -> Result<Value, String> {
        let t = self.next();
        let v = self.value(t)?;
        let t = self.next();
        if t.kind != Tok::End {
            return Err(Self::expected("the end", &t));
        }
        Ok(v)
    }

    fn expected(what: &str, t: &Token) -> String {
        let found = if t.kind == Tok::Error {
            t.error
        } else {
            t.kind.name()
        };
        format!(
            "Expected {what} but found {found} at character {}",
            t.index + 1
        )
    }

    /// The byte at `i`, 0 past the end (lua-cjson reads a C string, so an
    /// embedded NUL ends the input as well).
    fn at(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(0)
    }

    fn token(&self, kind: Tok, index: usize) -> Token {
        Token {
            kind,
            index,
            num: 0.0,
            boolean: false,
            text: Vec::new(),
            error: "",
        }
    }

    fn error(&self, error: &'static str) -> Token {
        let mut t = self.token(Tok::Error, self.pos);
        t.error = error;
        t
    }

    fn next(&mut self) -> Token {
        while matches!(self.at(self.pos), b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
        let start = self.pos;
        let single = |k| Some(k);
        let kind = match self.at(start) {
            b'{' => single(Tok::ObjBegin),
            b'}' => single(Tok::ObjEnd),
            b'[' => single(Tok::ArrBegin),
            b']' => single(Tok::ArrEnd),
            b':' => single(Tok::Colon),
            b',' => single(Tok::Comma),
            0 => return self.token(Tok::End, start),
            _ => None,
        };
        if let Some(k) = kind {
            self.pos += 1;
            return self.token(k, start);
        }
        let rest = &self.b[start..];
        let c = rest[0];
        if c == b'"' {
            return self.string();
        }
        if c == b'-' || c.is_ascii_digit() {
            if !self.cfg.decode_invalid && self.invalid_number() {
                return self.error("invalid number");
            }
            return self.number();
        }
        for (word, kind, val) in [
            (&b"true"[..], Tok::Bool, true),
            (b"false", Tok::Bool, false),
            (b"null", Tok::Null, false),
        ] {
            if rest.starts_with(word) {
                self.pos += word.len();
                let mut t = self.token(kind, start);
                t.boolean = val;
                return t;
            }
        }
        if self.cfg.decode_invalid && self.invalid_number() {
            return self.number();
        }
        self.error("invalid token")
    }

    /// json_is_invalid_number: numbers JSON forbids but strtod reads (a
    /// leading '+', hex, leading zeros, inf, nan).
    fn invalid_number(&self) -> bool {
        let mut p = self.pos;
        match self.at(p) {
            b'+' => return true,
            b'-' => p += 1,
            _ => {}
        }
        if self.at(p) == b'0' {
            let c2 = self.at(p + 1);
            return c2 | 0x20 == b'x' || c2.is_ascii_digit();
        }
        if self.at(p) <= b'9' {
            return false;
        }
        let rest = &self.b[p.min(self.b.len())..];
        let starts = |w: &[u8]| rest.len() >= 3 && rest[..3].eq_ignore_ascii_case(w);
        starts(b"inf") || starts(b"nan")
    }

    /// strtod from the current position.
    fn number(&mut self) -> Token {
        let start = self.pos;
        // strtod reads at most this far: the number's own characters.
        let end = self.b[start..]
            .iter()
            .position(|&c| {
                !(c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.' | b'(' | b')' | b'_'))
            })
            .map_or(self.b.len(), |i| start + i);
        let mut buf = self.b[start..end].to_vec();
        buf.push(0);
        let mut endp: *mut libc::c_char = std::ptr::null_mut();
        // SAFETY: `buf` is NUL-terminated; strtod stores in `endp` a pointer
        // into it.
        let n = unsafe { libc::strtod(buf.as_ptr() as *const libc::c_char, &mut endp) };
        let used = (endp as usize).saturating_sub(buf.as_ptr() as usize);
        if used == 0 {
            return self.error("invalid number");
        }
        self.pos = start + used;
        let mut t = self.token(Tok::Num, start);
        t.num = n;
        t
    }

    fn string(&mut self) -> Token {
        let start = self.pos;
        self.pos += 1; // the opening quote
        let mut text = Vec::new();
        loop {
            let c = self.at(self.pos);
            match c {
                b'"' => break,
                0 => return self.error("unexpected end of string"),
                b'\\' => {
                    let e = self.at(self.pos + 1);
                    let ch = match e {
                        b'"' | b'\\' | b'/' => e,
                        b'b' => 8,
                        b'f' => 12,
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'u' => {
                            match self.unicode_escape() {
                                Some((cp, len)) => {
                                    let mut tmp = [0u8; 4];
                                    text.extend_from_slice(cp.encode_utf8(&mut tmp).as_bytes());
                                    self.pos += len;
                                }
                                None => return self.error("invalid unicode escape code"),
                            }
                            continue;
                        }
                        _ => return self.error("invalid escape code"),
                    };
                    text.push(ch);
                    self.pos += 2;
                }
                c => {
                    text.push(c);
                    self.pos += 1;
                }
            }
        }
        self.pos += 1; // the closing quote
        let mut t = self.token(Tok::Str, start);
        t.text = text;
        t
    }

    /// A `\uXXXX` escape (or a surrogate pair of two) at the current
    /// position: the character and how many bytes it took.
    fn unicode_escape(&self) -> Option<(char, usize)> {
        let hex = |at: usize| -> Option<u32> {
            let s = self.b.get(at..at + 4)?;
            let s = std::str::from_utf8(s).ok()?;
            if !s.bytes().all(|c| c.is_ascii_hexdigit()) {
                return None;
            }
            u32::from_str_radix(s, 16).ok()
        };
        let first = hex(self.pos + 2)?;
        match first {
            0xD800..=0xDBFF => {
                if self.at(self.pos + 6) != b'\\' || self.at(self.pos + 7) != b'u' {
                    return None;
                }
                let low = hex(self.pos + 8)?;
                if !(0xDC00..=0xDFFF).contains(&low) {
                    return None;
                }
                let cp = 0x10000 + ((first - 0xD800) << 10) + (low - 0xDC00);
                Some((char::from_u32(cp)?, 12))
            }
            0xDC00..=0xDFFF => None,
            cp => Some((char::from_u32(cp)?, 6)),
        }
    }

    fn descend(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > self.cfg.decode_max_depth.min(HARD_DEPTH) {
            return Err(format!(
                "Found too many nested data structures ({}) at character {}",
                self.depth, self.pos
            ));
        }
        Ok(())
    }

    fn value(&mut self, t: Token) -> Result<Value, String> {
        let lua_err = |e: mlua::Error| e.to_string();
        Ok(match t.kind {
            Tok::Str => Value::String(self.lua.create_string(&t.text).map_err(lua_err)?),
            Tok::Num => Value::Number(t.num),
            Tok::Bool => Value::Boolean(t.boolean),
            Tok::Null => Value::LightUserData(LightUserData(std::ptr::null_mut())),
            Tok::ObjBegin => {
                self.descend()?;
                let table = self.lua.create_table().map_err(lua_err)?;
                let mut t = self.next();
                if t.kind != Tok::ObjEnd {
                    loop {
                        if t.kind != Tok::Str {
                            return Err(Self::expected("object key string", &t));
                        }
                        let key = self.lua.create_string(&t.text).map_err(lua_err)?;
                        let colon = self.next();
                        if colon.kind != Tok::Colon {
                            return Err(Self::expected("colon", &colon));
                        }
                        let vt = self.next();
                        let v = self.value(vt)?;
                        table.raw_set(key, v).map_err(lua_err)?;
                        t = self.next();
                        if t.kind == Tok::ObjEnd {
                            break;
                        }
                        if t.kind != Tok::Comma {
                            return Err(Self::expected("comma or object end", &t));
                        }
                        t = self.next();
                    }
                }
                self.depth -= 1;
                Value::Table(table)
            }
            Tok::ArrBegin => {
                self.descend()?;
                let table = self.lua.create_table().map_err(lua_err)?;
                let mut t = self.next();
                if t.kind != Tok::ArrEnd {
                    let mut i = 1;
                    loop {
                        let v = self.value(t)?;
                        table.raw_set(i, v).map_err(lua_err)?;
                        i += 1;
                        t = self.next();
                        if t.kind == Tok::ArrEnd {
                            break;
                        }
                        if t.kind != Tok::Comma {
                            return Err(Self::expected("comma or array end", &t));
                        }
                        t = self.next();
                    }
                }
                self.depth -= 1;
                Value::Table(table)
            }
            _ => return Err(Self::expected("value", &t)),
        })
    }
}
