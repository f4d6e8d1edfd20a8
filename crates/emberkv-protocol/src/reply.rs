//! Reply encoding for RESP2 and RESP3 into a caller-owned buffer.
//!
//! One writer serves both protocol versions: the RESP3-only types (map, set,
//! double, null, boolean, push) degrade to their RESP2 forms exactly as Redis
//! degrades them.

/// Protocol version negotiated with `HELLO`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Resp {
    #[default]
    V2,
    V3,
}

/// Appends replies to `buf`. Borrowed per command; costs nothing to create.
pub struct ReplyWriter<'a> {
    pub buf: &'a mut Vec<u8>,
    pub resp: Resp,
}

impl<'a> ReplyWriter<'a> {
    #[inline]
    pub fn new(buf: &'a mut Vec<u8>, resp: Resp) -> Self {
        ReplyWriter { buf, resp }
    }

    #[inline]
    fn line(&mut self, prefix: u8, n: i64) {
        let mut b = itoa::Buffer::new();
        self.buf.push(prefix);
        self.buf.extend_from_slice(b.format(n).as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }

    #[inline]
    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }

    /// `+text`. The text must not contain CR or LF.
    #[inline]
    pub fn simple(&mut self, s: &str) {
        self.buf.push(b'+');
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }

    /// `-text`: `text` starts with the error code (`ERR ...`, `WRONGTYPE ...`).
    /// Newlines are replaced by spaces so a reply can never be split.
    pub fn error(&mut self, s: &str) {
        self.error_bytes(s.as_bytes());
    }

    /// An error whose text may hold any bytes (Redis echoes a client's
    /// bytes in some errors); CR and LF become spaces, as in Redis.
    pub fn error_bytes(&mut self, s: &[u8]) {
        self.buf.push(b'-');
        self.buf.extend(
            s.iter()
                .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c }),
        );
        self.buf.extend_from_slice(b"\r\n");
    }

    #[inline]
    pub fn int(&mut self, n: i64) {
        match n {
            0 => self.buf.extend_from_slice(b":0\r\n"),
            1 => self.buf.extend_from_slice(b":1\r\n"),
            _ => self.line(b':', n),
        }
    }

    #[inline]
    pub fn bulk(&mut self, s: &[u8]) {
        self.line(b'$', s.len() as i64);
        self.buf.extend_from_slice(s);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// A bulk string holding a decimal integer (e.g. GET of an int value).
    pub fn bulk_int(&mut self, n: i64) {
        let mut b = itoa::Buffer::new();
        self.bulk(b.format(n).as_bytes());
    }

    /// Null bulk string (RESP2 `$-1`, RESP3 `_`).
    #[inline]
    pub fn null(&mut self) {
        match self.resp {
            Resp::V2 => self.buf.extend_from_slice(b"$-1\r\n"),
            Resp::V3 => self.buf.extend_from_slice(b"_\r\n"),
        }
    }

    /// Null array (RESP2 `*-1`, RESP3 `_`).
    pub fn null_array(&mut self) {
        match self.resp {
            Resp::V2 => self.buf.extend_from_slice(b"*-1\r\n"),
            Resp::V3 => self.buf.extend_from_slice(b"_\r\n"),
        }
    }

    #[inline]
    pub fn array(&mut self, n: usize) {
        self.line(b'*', n as i64);
    }

    /// A map of `n` pairs; a flat array of `2n` elements in RESP2.
    pub fn map(&mut self, n: usize) {
        match self.resp {
            Resp::V2 => self.line(b'*', 2 * n as i64),
            Resp::V3 => self.line(b'%', n as i64),
        }
    }

    /// A set; an array in RESP2.
    pub fn set(&mut self, n: usize) {
        match self.resp {
            Resp::V2 => self.line(b'*', n as i64),
            Resp::V3 => self.line(b'~', n as i64),
        }
    }

    /// An out-of-band push; an array in RESP2.
    pub fn push(&mut self, n: usize) {
        match self.resp {
            Resp::V2 => self.line(b'*', n as i64),
            Resp::V3 => self.line(b'>', n as i64),
        }
    }

    /// An attribute map of `n` pairs before a reply (RESP3 `|`); the
    /// caller writes none in RESP2, where attributes do not exist.
    pub fn attribute(&mut self, n: usize) {
        debug_assert!(self.resp == Resp::V3);
        self.line(b'|', n as i64);
    }

    /// A boolean; the integer 1 or 0 in RESP2.
    pub fn boolean(&mut self, b: bool) {
        match self.resp {
            Resp::V2 => self.int(b as i64),
            Resp::V3 => self
                .buf
                .extend_from_slice(if b { b"#t\r\n" } else { b"#f\r\n" }),
        }
    }

    /// A double formatted as Redis 7.0 does (`%.17g`); a bulk string in RESP2.
    pub fn double(&mut self, d: f64) {
        let s = format_double(d);
        match self.resp {
            Resp::V2 => self.bulk(s.as_bytes()),
            Resp::V3 => {
                self.buf.push(b',');
                self.buf.extend_from_slice(s.as_bytes());
                self.buf.extend_from_slice(b"\r\n");
            }
        }
    }

    /// A double whose text the caller formatted (Redis's human long double
    /// of GEOPOS); `,text` in RESP3, a bulk string in RESP2.
    pub fn double_text(&mut self, s: &[u8]) {
        match self.resp {
            Resp::V2 => self.bulk(s),
            Resp::V3 => {
                self.buf.push(b',');
                self.buf.extend_from_slice(s);
                self.buf.extend_from_slice(b"\r\n");
            }
        }
    }

    /// Verbatim text (RESP3 `=` with the `txt` format); a bulk string in RESP2.
    pub fn verbatim(&mut self, s: &[u8]) {
        self.verbatim_as(b"txt", s);
    }

    /// Verbatim text of format `fmt` (three bytes: `txt`, `mkd`); a bulk
    /// string in RESP2.
    pub fn verbatim_as(&mut self, fmt: &[u8], s: &[u8]) {
        match self.resp {
            Resp::V2 => self.bulk(s),
            Resp::V3 => {
                self.line(b'=', (fmt.len() + 1 + s.len()) as i64);
                self.buf.extend_from_slice(fmt);
                self.buf.push(b':');
                self.buf.extend_from_slice(s);
                self.buf.extend_from_slice(b"\r\n");
            }
        }
    }

    /// A big number (RESP3 `(`), given as its decimal digits; a bulk string
    /// in RESP2.
    pub fn big_number(&mut self, digits: &[u8]) {
        match self.resp {
            Resp::V2 => self.bulk(digits),
            Resp::V3 => {
                self.buf.push(b'(');
                self.buf.extend_from_slice(digits);
                self.buf.extend_from_slice(b"\r\n");
            }
        }
    }
}

/// Formats like C's `printf("%.17g")`, which Redis 7.0 uses for doubles;
/// infinities are `inf` / `-inf`, NaN is `nan` or (sign bit set, as Lua's
/// 0/0 on x86) `-nan`, as glibc prints them.
pub fn format_double(d: f64) -> String {
    if d.is_nan() {
        return if d.is_sign_negative() { "-nan" } else { "nan" }.into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if d == 0.0 {
        return if d.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // 17 significant digits, correctly rounded, in scientific form.
    let sci = format!("{:.16e}", d);
    let (mant, exp) = sci.split_once('e').unwrap();
    let exp: i32 = exp.parse().unwrap();
    let neg = mant.starts_with('-');
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let mut out = String::with_capacity(32);
    if neg {
        out.push('-');
    }
    if (-4..17).contains(&exp) {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            out.push_str(&digits[..int_len]);
            let frac = digits[int_len..].trim_end_matches('0');
            if !frac.is_empty() {
                out.push('.');
                out.push_str(frac);
            }
        } else {
            out.push_str("0.");
            for _ in 0..(-exp - 1) {
                out.push('0');
            }
            out.push_str(digits.trim_end_matches('0'));
        }
    } else {
        out.push_str(&digits[..1]);
        let frac = digits[1..].trim_end_matches('0');
        if !frac.is_empty() {
            out.push('.');
            out.push_str(frac);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let a = exp.unsigned_abs();
        if a < 10 {
            out.push('0');
        }
        out.push_str(&a.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g17() {
        assert_eq!(format_double(1.1), "1.1000000000000001");
        assert_eq!(format_double(1.5), "1.5");
        assert_eq!(format_double(1e20), "1e+20");
        assert_eq!(format_double(1e-5), "1.0000000000000001e-05");
        assert_eq!(format_double(0.0001), "0.0001");
        assert_eq!(format_double(-3.0), "-3");
        assert_eq!(
            format_double(123456789012345678.0),
            "1.2345678901234568e+17"
        );
        assert_eq!(format_double(f64::INFINITY), "inf");
    }

    #[test]
    fn resp2_resp3_degrade() {
        let mut b = Vec::new();
        let mut w = ReplyWriter::new(&mut b, Resp::V2);
        w.map(1);
        w.null();
        w.boolean(true);
        assert_eq!(b, b"*2\r\n$-1\r\n:1\r\n");
        let mut b = Vec::new();
        let mut w = ReplyWriter::new(&mut b, Resp::V3);
        w.map(1);
        w.null();
        w.double(2.5);
        assert_eq!(b, b"%1\r\n_\r\n,2.5\r\n");
    }
}
