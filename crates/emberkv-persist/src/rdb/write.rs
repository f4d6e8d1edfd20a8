//! Writing RDB values: lengths, strings (integer, LZF or raw, as Redis
//! picks), binary doubles, times; the CRC64 is kept over everything
//! written, for the trailer.

use super::{canonical_int, enc, op, Crc64};
use std::io::{self, Write};

/// Strings longer than this are tried with LZF when compression is on
/// (Redis's threshold).
const LZF_MIN: usize = 20;

/// Bytes gathered before they are checksummed and handed to the output:
/// records are a few bytes each, and the checksum and the `Write` call
/// cost per call, not per byte.
const FLUSH_AT: usize = 64 * 1024;

/// An RDB writer over any `Write` (a buffered file, a socket, a Vec),
/// with the running CRC64; or a piece of a file gathered in memory
/// (`piece`), which the file's writer later copies in and checksums.
pub struct Writer<W: Write> {
    out: W,
    buf: Vec<u8>,
    flush_at: usize,
    crc: Option<Crc64>,
    compress: bool,
    /// Bytes handed to `out` so far.
    flushed: u64,
}

thread_local! {
    /// LZF output, reused from string to string by every writer of the
    /// thread (a snapshot makes a writer per segment).
    static LZF_OUT: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

/// Gives the LZF scratch back to the thread unless a huge string grew it
/// (that memory is returned, not kept for the next small one).
fn keep_lzf(c: Vec<u8>) {
    if c.capacity() <= 1 << 20 {
        LZF_OUT.set(c);
    }
}

impl Writer<io::Sink> {
    /// A piece of a file, kept in memory whole (`into_bytes`): no running
    /// checksum, which only the whole file's writer can keep; or a DUMP
    /// payload (`finish_dump`).
    pub fn piece(compress: bool, capacity: usize) -> Self {
        Self::piece_in(compress, Vec::with_capacity(capacity))
    }

    /// A piece written into `buf` (emptied first; a reused buffer keeps
    /// its capacity).
    pub fn piece_in(compress: bool, mut buf: Vec<u8>) -> Self {
        buf.clear();
        Writer {
            out: io::sink(),
            buf,
            flush_at: usize::MAX,
            crc: None,
            compress,
            flushed: 0,
        }
    }

    /// The bytes of a piece.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// A piece as a DUMP payload (written after the value and the RDB
    /// version): the CRC64 of everything before it appended, no EOF
    /// opcode. The bytes stay in the one buffer they were written to.
    pub fn finish_dump(self) -> Vec<u8> {
        let mut b = self.buf;
        let crc = Crc64::of(&b);
        b.extend_from_slice(&crc.to_le_bytes());
        b
    }
}

impl<W: Write> Writer<W> {
    /// `compress`: `rdbcompression`.
    pub fn new(out: W, compress: bool) -> Self {
        Writer {
            out,
            buf: Vec::new(),
            flush_at: FLUSH_AT,
            crc: Some(Crc64::default()),
            compress,
            flushed: 0,
        }
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.flushed + self.buf.len() as u64
    }

    #[inline]
    pub fn raw(&mut self, b: &[u8]) -> io::Result<()> {
        if self.buf.len() + b.len() < self.flush_at {
            self.buf.extend_from_slice(b);
            return Ok(());
        }
        self.flush_buf()?;
        if b.len() >= self.flush_at {
            // A big piece goes straight through, not via the buffer.
            return self.emit(b);
        }
        self.buf.extend_from_slice(b);
        Ok(())
    }

    fn flush_buf(&mut self) -> io::Result<()> {
        let buf = std::mem::take(&mut self.buf);
        let r = self.emit(&buf);
        self.buf = buf;
        self.buf.clear();
        r
    }

    fn emit(&mut self, b: &[u8]) -> io::Result<()> {
        if let Some(c) = &mut self.crc {
            c.update(b);
        }
        self.flushed += b.len() as u64;
        self.out.write_all(b)
    }

    /// The `REDIS0010` magic.
    pub fn header(&mut self, version: u32) -> io::Result<()> {
        self.raw(format!("REDIS{version:04}").as_bytes())
    }

    pub fn u8(&mut self, v: u8) -> io::Result<()> {
        self.raw(&[v])
    }

    /// A length: 6, 14, 32 or 64 bits, big-endian past the first byte.
    pub fn length(&mut self, n: u64) -> io::Result<()> {
        if n < 1 << 6 {
            self.raw(&[n as u8])
        } else if n < 1 << 14 {
            self.raw(&[0x40 | (n >> 8) as u8, n as u8])
        } else if n <= u32::MAX as u64 {
            let mut b = [0x80, 0, 0, 0, 0];
            b[1..].copy_from_slice(&(n as u32).to_be_bytes());
            self.raw(&b)
        } else {
            let mut b = [0x81, 0, 0, 0, 0, 0, 0, 0, 0];
            b[1..].copy_from_slice(&n.to_be_bytes());
            self.raw(&b)
        }
    }

    /// A string as Redis stores it: an integer encoding for the text of
    /// an integer of up to 32 bits (11 characters at most), LZF when that
    /// saves at least 4 bytes of a string over 20 bytes, else raw.
    #[inline]
    pub fn string(&mut self, s: &[u8]) -> io::Result<()> {
        let n = s.len();
        if n <= 11 && matches!(s.first(), Some(b'0'..=b'9' | b'-')) {
            if let Some(v) = canonical_int(s) {
                return self.int_string(v);
            }
        }
        if n <= LZF_MIN && self.buf.len() + 1 + 32 < self.flush_at {
            // Short (most members and fields): a one-byte length, no LZF,
            // into the buffer with no other check.
            self.buf.push(n as u8);
            super::append(&mut self.buf, s);
            return Ok(());
        }
        self.long_string(s)
    }

    fn long_string(&mut self, s: &[u8]) -> io::Result<()> {
        if self.compress && s.len() > LZF_MIN {
            // Redis keeps the compressed form only if it fits in len - 4
            // bytes.
            let mut c = LZF_OUT.take();
            if super::lzf::compress(s, s.len() - 3, &mut c) {
                let r = self
                    .u8(0xC0 | enc::LZF)
                    .and_then(|_| self.length(c.len() as u64))
                    .and_then(|_| self.length(s.len() as u64))
                    .and_then(|_| self.raw(&c));
                keep_lzf(c);
                return r;
            }
            keep_lzf(c);
        }
        self.length(s.len() as u64)?;
        self.raw(s)
    }

    /// An integer as a string: the smallest integer encoding, or its
    /// text when it needs more than 32 bits.
    pub fn int_string(&mut self, v: i64) -> io::Result<()> {
        if let Ok(x) = i8::try_from(v) {
            self.raw(&[0xC0 | enc::INT8, x as u8])
        } else if let Ok(x) = i16::try_from(v) {
            let b = x.to_le_bytes();
            self.raw(&[0xC0 | enc::INT16, b[0], b[1]])
        } else if let Ok(x) = i32::try_from(v) {
            let b = x.to_le_bytes();
            self.raw(&[0xC0 | enc::INT32, b[0], b[1], b[2], b[3]])
        } else {
            let mut b = itoa::Buffer::new();
            let t = b.format(v);
            self.length(t.len() as u64)?;
            self.raw(t.as_bytes())
        }
    }

    /// A double in the binary form (8 bytes, little-endian IEEE 754) of
    /// ZSET_2 scores.
    pub fn double(&mut self, v: f64) -> io::Result<()> {
        self.raw(&v.to_le_bytes())
    }

    /// A millisecond time (EXPIRETIME_MS), little-endian.
    pub fn ms(&mut self, t: i64) -> io::Result<()> {
        self.raw(&t.to_le_bytes())
    }

    /// An AUX field.
    pub fn aux(&mut self, key: &[u8], val: &[u8]) -> io::Result<()> {
        self.u8(op::AUX)?;
        self.string(key)?;
        self.string(val)
    }

    /// The EOF opcode and the trailer: the CRC64 of everything before it
    /// (little-endian), or zeros when `rdbchecksum` is off. Returns the
    /// underlying writer (the caller flushes and fsyncs it).
    pub fn finish(mut self, checksum: bool) -> io::Result<W> {
        self.u8(op::EOF)?;
        self.flush_buf()?;
        let crc = match (&self.crc, checksum) {
            (Some(c), true) => c.value(),
            _ => 0,
        };
        self.out.write_all(&crc.to_le_bytes())?;
        Ok(self.out)
    }

    /// The bytes written, without a trailer.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.flush_buf()?;
        Ok(self.out)
    }
}
