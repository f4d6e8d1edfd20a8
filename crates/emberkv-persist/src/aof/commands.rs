//! The command part of an AOF file: RESP multi-bulk commands, one after
//! the other, with `#...` annotation lines between them (Redis 7's
//! `#TS:<unix time>` timestamps). Read as Redis's loader reads it: a
//! header line (`*<argc>`, `$<len>`, at most 1023 bytes, through its
//! newline), then `len` bytes of argument and two bytes that end it. A file
//! that stops inside a command is *truncated* (the loader may cut it back
//! to the last whole command); anything else out of place is a *format*
//! error, reported with the offset of the line where it was met.
//!
//! The reader keeps one window of the file, grown only as far as the
//! command being read needs, so a file is never held in memory whole and
//! a command is handed out borrowed from the window.

use std::io::{self, Read};

/// Longest header line Redis's loader reads (its line buffer is 1024
/// bytes with the terminating zero).
const LINE_MAX: usize = 1023;
/// Bytes read from the file at a time.
const CHUNK: usize = 64 * 1024;

/// Why reading stopped before the end of the commands.
#[derive(Debug)]
pub enum Fault {
    /// The file ends inside a command; `valid` is the offset just past the
    /// last whole one.
    Truncated {
        valid: u64,
    },
    /// Not a command where one must start, or a broken header: at the
    /// offset of the offending line.
    Format {
        at: u64,
    },
    Io(io::Error),
}

/// One item of the file.
pub enum Item<'a> {
    /// A command's arguments, and the file offsets of its first byte and
    /// of the byte after it.
    Command {
        args: Vec<&'a [u8]>,
        start: u64,
        end: u64,
    },
    /// An annotation line, without its `#` and line end.
    Annotation { text: &'a [u8], start: u64 },
}

pub struct CommandReader<R: Read> {
    src: R,
    buf: Vec<u8>,
    /// Bytes of `buf` consumed by items already returned.
    start: usize,
    /// File offset of `buf[0]`.
    base: u64,
    eof: bool,
}

/// What parsing from the window found.
enum Parse {
    /// An item ending at this window position.
    Command(Vec<(usize, usize)>, usize),
    Annotation((usize, usize), usize),
    /// More bytes are needed.
    More,
    Format(usize),
}

impl<R: Read> CommandReader<R> {
    /// Commands from `src`, whose first byte is at file offset `base` (an
    /// AOF with an RDB preamble: the offset just past the RDB part).
    pub fn new(src: R, base: u64) -> Self {
        CommandReader {
            src,
            buf: Vec::new(),
            start: 0,
            base,
            eof: false,
        }
    }

    /// The file offset just past everything returned so far.
    pub fn offset(&self) -> u64 {
        self.base + self.start as u64
    }

    /// The next item, None at a clean end of file.
    pub fn next_item(&mut self) -> Result<Option<Item<'_>>, Fault> {
        loop {
            match parse(&self.buf[self.start..]) {
                Parse::Command(spans, len) => {
                    let at = self.start;
                    self.start += len;
                    let start = self.base + at as u64;
                    let b = &self.buf[at..];
                    return Ok(Some(Item::Command {
                        args: spans.iter().map(|&(s, e)| &b[s..e]).collect(),
                        start,
                        end: start + len as u64,
                    }));
                }
                Parse::Annotation((s, e), len) => {
                    let at = self.start;
                    self.start += len;
                    return Ok(Some(Item::Annotation {
                        text: &self.buf[at + s..at + e],
                        start: self.base + at as u64,
                    }));
                }
                Parse::Format(at) => {
                    return Err(Fault::Format {
                        at: self.offset() + at as u64,
                    })
                }
                Parse::More if self.eof => {
                    if self.start == self.buf.len() {
                        return Ok(None);
                    }
                    return Err(Fault::Truncated {
                        valid: self.offset(),
                    });
                }
                Parse::More => self.fill().map_err(Fault::Io)?,
            }
        }
    }

    /// Reads the next chunk, first dropping what was consumed.
    fn fill(&mut self) -> io::Result<()> {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.base += self.start as u64;
            self.start = 0;
        }
        let have = self.buf.len();
        self.buf.resize(have + CHUNK, 0);
        let n = loop {
            match self.src.read(&mut self.buf[have..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.buf.truncate(have);
                    return Err(e);
                }
            }
        };
        self.buf.truncate(have + n);
        if n == 0 {
            self.eof = true;
        }
        Ok(())
    }
}

/// A header line at `b[at..]`: the bytes before its `\n` (and `\r`), and
/// the position after the `\n`. None when the window ends first; Err when
/// the line is longer than Redis's loader reads.
fn line(b: &[u8], at: usize) -> Result<Option<(&[u8], usize)>, usize> {
    let end = (at + LINE_MAX).min(b.len());
    match b[at..end].iter().position(|&c| c == b'\n') {
        Some(i) => {
            let mut text = &b[at..at + i];
            if let [rest @ .., b'\r'] = text {
                text = rest;
            }
            Ok(Some((text, at + i + 1)))
        }
        None if end - at >= LINE_MAX => Err(at),
        None => Ok(None),
    }
}

/// The decimal number a header line carries after its marker byte, as
/// Redis's `atoi`/`strtol` read it (digits up to the first other byte);
/// None when there are none.
fn number(text: &[u8]) -> Option<i64> {
    let digits = text.iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 || digits > 18 {
        return None;
    }
    std::str::from_utf8(&text[..digits]).ok()?.parse().ok()
}

fn parse(b: &[u8]) -> Parse {
    let (head, mut at) = match line(b, 0) {
        Ok(Some(x)) => x,
        Ok(None) => return Parse::More,
        Err(at) => return Parse::Format(at),
    };
    if let Some(text) = head.strip_prefix(b"#") {
        return Parse::Annotation((1, 1 + text.len()), at);
    }
    let argc = match head.split_first() {
        Some((b'*', rest)) => match number(rest) {
            Some(n) if n >= 1 => n as usize,
            _ => return Parse::Format(0),
        },
        _ => return Parse::Format(0),
    };
    // Each argument takes at least four bytes ("$0\r\n"): a count beyond
    // what the window could hold is only believed as far as it is read.
    let mut spans = Vec::with_capacity(argc.min(b.len() / 4 + 1));
    for _ in 0..argc {
        let line_at = at;
        let (head, next) = match line(b, at) {
            Ok(Some(x)) => x,
            Ok(None) => return Parse::More,
            Err(at) => return Parse::Format(at),
        };
        let len = match head.split_first() {
            Some((b'$', rest)) => match number(rest) {
                Some(n) => n as usize,
                None => return Parse::Format(line_at),
            },
            _ => return Parse::Format(line_at),
        };
        // The argument and the two bytes after it (Redis reads them
        // without looking at them).
        if b.len() - next < len + 2 {
            return Parse::More;
        }
        spans.push((next, next + len));
        at = next + len + 2;
    }
    Parse::Command(spans, at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(bytes: &[u8]) -> (Vec<String>, Option<Fault>) {
        // A tiny read size exercises commands split across reads.
        struct Slow<'a>(&'a [u8]);
        impl Read for Slow<'_> {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(out.len()).min(3);
                out[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut r = CommandReader::new(Slow(bytes), 100);
        let mut out = Vec::new();
        loop {
            match r.next_item() {
                Ok(Some(Item::Command { args, start, end })) => out.push(format!(
                    "{start}-{end}:{}",
                    args.iter()
                        .map(|a| String::from_utf8_lossy(a).into_owned())
                        .collect::<Vec<_>>()
                        .join(" ")
                )),
                Ok(Some(Item::Annotation { text, start })) => {
                    out.push(format!("{start}#{}", String::from_utf8_lossy(text)))
                }
                Ok(None) => return (out, None),
                Err(f) => return (out, Some(f)),
            }
        }
    }

    #[test]
    fn commands_annotations_and_faults() {
        let f = b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n#TS:1700000000\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n";
        let (v, fault) = items(f);
        assert!(fault.is_none());
        assert_eq!(
            v,
            ["100-123:SELECT 0", "123#TS:1700000000", "139-165:SET k "]
        );
        // Cut anywhere inside the last command: truncated after the first.
        for cut in 140..f.len() {
            let (v, fault) = items(&f[..cut]);
            assert_eq!(v.len(), 2, "cut {cut}");
            assert!(
                matches!(fault, Some(Fault::Truncated { valid: 139 })),
                "cut {cut}"
            );
        }
        // Not a command, a bad count, a bad length: format errors there.
        let (_, fault) = items(b"*1\r\n$4\r\nPING\r\nGARBAGE\r\n");
        assert!(matches!(fault, Some(Fault::Format { at: 114 })));
        let (_, fault) = items(b"*0\r\n");
        assert!(matches!(fault, Some(Fault::Format { at: 100 })));
        let (_, fault) = items(b"*1\r\n$x\r\n");
        assert!(matches!(fault, Some(Fault::Format { at: 104 })));
        let (_, fault) = items(b"*1\r\n:4\r\nPING\r\n");
        assert!(matches!(fault, Some(Fault::Format { at: 104 })));
        let long = [b"*1".as_slice(), &[b'0'; 1100]].concat();
        let (_, fault) = items(&long);
        assert!(matches!(fault, Some(Fault::Format { at: 100 })));
        // A huge claimed count or length in a short file is truncation,
        // not an allocation.
        let (_, fault) = items(b"*999999999\r\n$3\r\nSET\r\n");
        assert!(matches!(fault, Some(Fault::Truncated { valid: 100 })));
        let (_, fault) = items(b"*1\r\n$999999999999\r\nab");
        assert!(matches!(fault, Some(Fault::Truncated { valid: 100 })));
        let (v, fault) = items(b"");
        assert!(v.is_empty() && fault.is_none());
    }
}
