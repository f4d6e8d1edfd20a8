//! Request parsing: RESP multibulk frames and inline commands.
//!
//! The parser is incremental: when a frame is incomplete it remembers how far
//! it got (relative to the frame start), so a large pipeline or a big bulk that
//! arrives over many reads is scanned once, not once per read. Arguments are
//! returned as ranges into the caller's buffer (no copy); only inline commands,
//! which may contain escapes, are unescaped into a scratch buffer owned here.

use memchr::memchr;

/// Sizes a client controls, with Redis's defaults.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// `proto-max-bulk-len`.
    pub max_bulk_len: usize,
    /// Longest inline request or length line (Redis: 64 KiB).
    pub inline_max: usize,
    /// Unauthenticated clients get 10 arguments of 16 KiB at most
    /// (CVE-2021-32675), so they cannot make the server allocate much.
    pub authenticated: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bulk_len: 512 * 1024 * 1024,
            inline_max: 64 * 1024,
            authenticated: true,
        }
    }
}

/// Malformed input. The server replies with [`ProtoError::message`] and closes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProtoError {
    TooBigInline,
    UnbalancedQuotes,
    TooBigMbulkCount,
    InvalidMultibulkLength,
    UnauthenticatedMultibulkLength,
    TooBigBulkCount,
    ExpectedDollar(u8),
    InvalidBulkLength,
    UnauthenticatedBulkLength,
}

impl ProtoError {
    /// The error text Redis sends, without the leading `-` and trailing CRLF.
    pub fn message(&self) -> String {
        let what = match self {
            ProtoError::TooBigInline => "too big inline request".to_string(),
            ProtoError::UnbalancedQuotes => "unbalanced quotes in request".to_string(),
            ProtoError::TooBigMbulkCount => "too big mbulk count string".to_string(),
            ProtoError::InvalidMultibulkLength => "invalid multibulk length".to_string(),
            ProtoError::UnauthenticatedMultibulkLength => {
                "unauthenticated multibulk length".to_string()
            }
            ProtoError::TooBigBulkCount => "too big bulk count string".to_string(),
            ProtoError::ExpectedDollar(c) => format!("expected '$', got '{}'", *c as char),
            ProtoError::InvalidBulkLength => "invalid bulk length".to_string(),
            ProtoError::UnauthenticatedBulkLength => "unauthenticated bulk length".to_string(),
        };
        format!("ERR Protocol error: {what}")
    }
}

const UNAUTH_MAX_ARGS: i64 = 10;
const UNAUTH_MAX_BULK: i64 = 16 * 1024;
/// Bulks at least this big make the parser ask the caller to reserve the whole
/// frame at once, instead of letting the buffer double its way there.
pub const BIG_ARG: usize = 32 * 1024;

/// Per-connection parser state.
#[derive(Default, Debug)]
pub struct RequestParser {
    /// Arguments still expected in the current multibulk (0: header not read).
    remaining: i64,
    /// Bytes of the current frame consumed so far.
    pos: usize,
    /// Length of the bulk whose header has been read but whose data has not.
    bulk_len: Option<usize>,
    args: Vec<(usize, usize)>,
    inline: Vec<u8>,
    inline_frame: bool,
    done: bool,
}

impl RequestParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Gives back the argument index of a huge frame once it is done (a
    /// 100k-argument SADD leaves 1.6 MB of ranges behind otherwise, for as
    /// long as the connection lives). Call between frames.
    pub fn release_big_buffers(&mut self) {
        const KEEP: usize = 1024;
        if self.args.capacity() > KEEP && (self.done || self.args.is_empty()) {
            self.args = Vec::new();
        }
        if self.inline.capacity() > KEEP * 16 && (self.done || self.inline.is_empty()) {
            self.inline = Vec::new();
        }
    }

    /// Parses one frame from the start of `buf`.
    ///
    /// `Ok(Some(n))`: a frame of `n` bytes is complete; its arguments are read
    /// with [`RequestParser::arg`] against the same `buf` (argc may be 0 for
    /// an empty line or `*0`, which Redis ignores). `Ok(None)`: more bytes
    /// are needed; call again with the same frame start and more data.
    pub fn parse(&mut self, buf: &[u8], limits: &Limits) -> Result<Option<usize>, ProtoError> {
        if self.done {
            self.reset();
        }
        if buf.is_empty() {
            return Ok(None);
        }
        if self.pos == 0 && self.remaining == 0 && buf[0] != b'*' {
            return self.parse_inline(buf, limits);
        }
        self.parse_multibulk(buf, limits)
    }

    fn reset(&mut self) {
        self.remaining = 0;
        self.pos = 0;
        self.bulk_len = None;
        self.args.clear();
        self.inline_frame = false;
        self.done = false;
    }

    /// Number of arguments of the last complete frame.
    #[inline]
    pub fn argc(&self) -> usize {
        self.args.len()
    }

    /// Argument `i` of the last complete frame; `buf` must be the slice that
    /// was passed to [`RequestParser::parse`].
    #[inline]
    pub fn arg<'a>(&'a self, buf: &'a [u8], i: usize) -> &'a [u8] {
        let (s, e) = self.args[i];
        if self.inline_frame {
            &self.inline[s..e]
        } else {
            &buf[s..e]
        }
    }

    /// The argument ranges of the last complete frame, into [`RequestParser::source`].
    #[inline]
    pub fn ranges(&self) -> &[(usize, usize)] {
        &self.args
    }

    /// The bytes the ranges index: `buf` itself, or the parser's own copy
    /// for an inline command.
    #[inline]
    pub fn source<'a>(&'a self, buf: &'a [u8]) -> &'a [u8] {
        if self.inline_frame {
            &self.inline
        } else {
            buf
        }
    }

    /// When a big bulk is being received: the total frame size needed to hold
    /// it, so the caller can grow its buffer once to exactly that size.
    pub fn pending_frame_len(&self) -> Option<usize> {
        match self.bulk_len {
            Some(n) if n >= BIG_ARG => Some(self.pos + n + 2),
            _ => None,
        }
    }

    fn parse_inline(&mut self, buf: &[u8], limits: &Limits) -> Result<Option<usize>, ProtoError> {
        let Some(nl) = memchr(b'\n', buf) else {
            if buf.len() > limits.inline_max {
                return Err(ProtoError::TooBigInline);
            }
            return Ok(None);
        };
        let mut line = &buf[..nl];
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        self.inline.clear();
        self.args.clear();
        split_args(line, &mut self.inline, &mut self.args)?;
        self.inline_frame = true;
        self.done = true;
        Ok(Some(nl + 1))
    }

    fn parse_multibulk(
        &mut self,
        buf: &[u8],
        limits: &Limits,
    ) -> Result<Option<usize>, ProtoError> {
        if self.remaining == 0 {
            let Some((n, next)) = read_len_line(buf, 0, limits, ProtoError::TooBigMbulkCount)?
            else {
                return Ok(None);
            };
            let n = n.ok_or(ProtoError::InvalidMultibulkLength)?;
            if n > i32::MAX as i64 {
                return Err(ProtoError::InvalidMultibulkLength);
            }
            if !limits.authenticated && n > UNAUTH_MAX_ARGS {
                return Err(ProtoError::UnauthenticatedMultibulkLength);
            }
            if n <= 0 {
                self.done = true;
                return Ok(Some(next));
            }
            self.remaining = n;
            self.pos = next;
            // Reserve for what is plausibly buffered, not what the client claims.
            self.args.reserve((n as usize).min(1024));
        }
        while self.remaining > 0 {
            let len = match self.bulk_len {
                Some(len) => len,
                None => {
                    if self.pos >= buf.len() {
                        return Ok(None);
                    }
                    if buf[self.pos] != b'$' {
                        return Err(ProtoError::ExpectedDollar(buf[self.pos]));
                    }
                    let Some((n, next)) =
                        read_len_line(buf, self.pos, limits, ProtoError::TooBigBulkCount)?
                    else {
                        return Ok(None);
                    };
                    let n = n.ok_or(ProtoError::InvalidBulkLength)?;
                    if n < 0 {
                        return Err(ProtoError::InvalidBulkLength);
                    }
                    if !limits.authenticated && n > UNAUTH_MAX_BULK {
                        return Err(ProtoError::UnauthenticatedBulkLength);
                    }
                    if n as u64 > limits.max_bulk_len as u64 {
                        return Err(ProtoError::InvalidBulkLength);
                    }
                    self.pos = next;
                    self.bulk_len = Some(n as usize);
                    n as usize
                }
            };
            // Like Redis, the two bytes after the data are skipped unchecked.
            if buf.len() - self.pos < len + 2 {
                return Ok(None);
            }
            self.args.push((self.pos, self.pos + len));
            self.pos += len + 2;
            self.bulk_len = None;
            self.remaining -= 1;
        }
        self.done = true;
        Ok(Some(self.pos))
    }
}

/// Reads `<prefix><int>\r\n` at `at`. Returns the number (None if it is not a
/// strict integer) and the offset after the line, or None if incomplete.
#[allow(clippy::type_complexity)]
fn read_len_line(
    buf: &[u8],
    at: usize,
    limits: &Limits,
    too_big: ProtoError,
) -> Result<Option<(Option<i64>, usize)>, ProtoError> {
    let rest = &buf[at..];
    let Some(cr) = memchr(b'\r', rest) else {
        if rest.len() > limits.inline_max {
            return Err(too_big);
        }
        return Ok(None);
    };
    if cr + 1 >= rest.len() {
        return Ok(None); // the '\n' has not arrived yet
    }
    Ok(Some((parse_i64_strict(&rest[1..cr]), at + cr + 2)))
}

/// Redis's `string2ll`: optional '-', no leading zeros, no '+', no spaces.
pub fn parse_i64_strict(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !(b'1'..=b'9').contains(&digits[0]) {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            return None;
        }
        Some((v as i64).wrapping_neg())
    } else {
        i64::try_from(v).ok()
    }
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn hex_val(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Splits an inline request into arguments with Redis's quoting rules
/// (`sdssplitargs`): double quotes with C escapes and `\xHH`, single quotes
/// with `\'`, and a closing quote must be followed by a space or the end.
fn split_args(
    line: &[u8],
    out: &mut Vec<u8>,
    args: &mut Vec<(usize, usize)>,
) -> Result<(), ProtoError> {
    // The line is a C string to Redis: nothing after a NUL byte counts.
    let line = &line[..memchr(0, line).unwrap_or(line.len())];
    let mut i = 0;
    let n = line.len();
    loop {
        while i < n && is_space(line[i]) {
            i += 1;
        }
        if i >= n {
            return Ok(());
        }
        let start = out.len();
        let (mut inq, mut insq) = (false, false);
        loop {
            if inq {
                if i >= n {
                    return Err(ProtoError::UnbalancedQuotes);
                }
                let c = line[i];
                if c == b'\\'
                    && i + 3 < n
                    && line[i + 1] == b'x'
                    && hex_val(line[i + 2]).is_some()
                    && hex_val(line[i + 3]).is_some()
                {
                    out.push(hex_val(line[i + 2]).unwrap() * 16 + hex_val(line[i + 3]).unwrap());
                    i += 3;
                } else if c == b'\\' && i + 1 < n {
                    i += 1;
                    out.push(match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                } else if c == b'"' {
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return Err(ProtoError::UnbalancedQuotes);
                    }
                    i += 1;
                    break;
                } else {
                    out.push(c);
                }
            } else if insq {
                if i >= n {
                    return Err(ProtoError::UnbalancedQuotes);
                }
                let c = line[i];
                if c == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
                    i += 1;
                    out.push(b'\'');
                } else if c == b'\'' {
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return Err(ProtoError::UnbalancedQuotes);
                    }
                    i += 1;
                    break;
                } else {
                    out.push(c);
                }
            } else {
                if i >= n {
                    break;
                }
                // Blanks before a word are isspace() (vertical tab and
                // form feed too), but only these four end a word.
                match line[i] {
                    b' ' | b'\n' | b'\r' | b'\t' => break,
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    c => out.push(c),
                }
            }
            i += 1;
        }
        args.push((start, out.len()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(input: &[u8]) -> Result<Vec<Vec<Vec<u8>>>, ProtoError> {
        let mut p = RequestParser::new();
        let lim = Limits::default();
        let mut at = 0;
        let mut out = vec![];
        while at < input.len() {
            match p.parse(&input[at..], &lim)? {
                Some(n) => {
                    let args = (0..p.argc())
                        .map(|i| p.arg(&input[at..], i).to_vec())
                        .collect::<Vec<_>>();
                    if !args.is_empty() {
                        out.push(args);
                    }
                    at += n;
                }
                None => break,
            }
        }
        Ok(out)
    }

    #[test]
    fn multibulk_and_inline() {
        let v = parse_all(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\nset a \"b c\"\r\n\r\n").unwrap();
        assert_eq!(v.len(), 3);
        assert_eq!(v[0], vec![b"GET".to_vec(), b"k".to_vec()]);
        assert_eq!(v[1], vec![b"PING".to_vec()]);
        assert_eq!(v[2][2], b"b c".to_vec());
    }

    #[test]
    fn incremental_frames_resume() {
        let frame = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n";
        let mut p = RequestParser::new();
        let lim = Limits::default();
        for cut in 1..frame.len() {
            assert_eq!(p.parse(&frame[..cut], &lim).unwrap(), None, "cut {cut}");
        }
        assert_eq!(p.parse(frame, &lim).unwrap(), Some(frame.len()));
        assert_eq!(p.arg(frame, 2), b"hello");
    }

    #[test]
    fn errors() {
        assert_eq!(
            parse_all(b"*1\r\nx\r\n"),
            Err(ProtoError::ExpectedDollar(b'x'))
        );
        assert_eq!(
            parse_all(b"*1\r\n$-1\r\n"),
            Err(ProtoError::InvalidBulkLength)
        );
        assert_eq!(
            parse_all(b"*01\r\n"),
            Err(ProtoError::InvalidMultibulkLength)
        );
        assert_eq!(
            parse_all(b"set \"a b\r\n"),
            Err(ProtoError::UnbalancedQuotes)
        );
        assert_eq!(
            parse_all(b"set \"a\"b\r\n"),
            Err(ProtoError::UnbalancedQuotes)
        );
        let big = vec![b'a'; 70 * 1024];
        assert_eq!(parse_all(&big), Err(ProtoError::TooBigInline));
        assert!(parse_all(b"*-5\r\n*0\r\n").unwrap().is_empty());
    }

    #[test]
    fn inline_blanks_and_nul_as_redis() {
        // Leading \v and \f are skipped, but inside a word they are bytes.
        let v = parse_all(b"\x0bSET a\x0bb c\r\n").unwrap();
        assert_eq!(
            v[0],
            vec![b"SET".to_vec(), b"a\x0bb".to_vec(), b"c".to_vec()]
        );
        // A NUL ends the line as far as the arguments go.
        let v = parse_all(b"SET a\0b c\r\nPING\r\n").unwrap();
        assert_eq!(v[0], vec![b"SET".to_vec(), b"a".to_vec()]);
        assert_eq!(v[1], vec![b"PING".to_vec()]);
    }

    #[test]
    fn inline_escapes() {
        let v = parse_all(b"set k \"\\x41\\n\" 'it\\'s'\n").unwrap();
        assert_eq!(v[0][2], b"A\n".to_vec());
        assert_eq!(v[0][3], b"it's".to_vec());
    }

    /// Random and mutated input never panics, and every argument returned
    /// lies inside the buffer.
    #[test]
    fn garbage_never_panics() {
        let mut x: u64 = 0x2545f4914f6cdd1d;
        let mut rnd = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let seeds: [&[u8]; 4] = [
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n",
            b"SET \"a\\x41\" 'b'\r\n",
            b"*1\r\n$4\r\nPING\r\n",
            b"*-1\r\n*0\r\n\r\n",
        ];
        let lim = Limits {
            inline_max: 256,
            ..Limits::default()
        };
        for round in 0..20_000 {
            let mut buf = seeds[round % seeds.len()].to_vec();
            for _ in 0..(rnd() % 6) {
                let i = (rnd() as usize) % (buf.len() + 1);
                match rnd() % 3 {
                    0 if i < buf.len() => buf[i] = rnd() as u8,
                    1 => buf.insert(i, b"*$\r\n-0123456789\"'\\ x"[(rnd() % 18) as usize]),
                    _ => buf.truncate(i),
                }
            }
            let mut p = RequestParser::new();
            let mut at = 0;
            while at < buf.len() {
                match p.parse(&buf[at..], &lim) {
                    Ok(Some(n)) => {
                        assert!(n > 0 && at + n <= buf.len());
                        for i in 0..p.argc() {
                            let _ = p.arg(&buf[at..], i);
                        }
                        at += n;
                    }
                    Ok(None) | Err(_) => break,
                }
            }
        }
    }

    #[test]
    fn strict_integers() {
        assert_eq!(parse_i64_strict(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64_strict(b"9223372036854775808"), None);
        assert_eq!(parse_i64_strict(b"+1"), None);
        assert_eq!(parse_i64_strict(b"-0"), None);
    }
}
