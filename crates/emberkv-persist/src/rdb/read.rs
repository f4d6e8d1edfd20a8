//! Reading RDB values from a byte slice, with the offset of every fault:
//! a corrupt or truncated file stops the load with a message naming where.

use super::enc;
use std::borrow::Cow;
use std::fmt;

/// The most bytes LZF can produce per compressed byte (rounded up).
const LZF_MAX_EXPANSION: usize = 90;

/// A fault in a file, at a byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub offset: u64,
    pub what: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at offset {}", self.what, self.offset)
    }
}

impl std::error::Error for Error {}

/// A length, or a special string encoding (`11xxxxxx`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Len {
    Plain(u64),
    Encoded(u8),
}

/// A reader over the bytes of a file (or of a DUMP payload), from `base`
/// (the offset of `buf[0]` in the file, for messages).
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    base: u64,
    /// A read went past the end of `buf` (a file loader then reads more
    /// of the file and parses the record again).
    ran_out: bool,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8], base: u64) -> Self {
        Reader {
            buf,
            pos: 0,
            base,
            ran_out: false,
        }
    }

    /// Bytes of `buf` consumed.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Whether a fault came from reaching the end of the buffer.
    pub fn ran_out(&self) -> bool {
        self.ran_out
    }

    /// The file offset of the next byte.
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    pub fn at_end(&self) -> bool {
        self.pos == self.buf.len()
    }

    pub fn fail<T>(&self, what: impl Into<String>) -> Result<T, Error> {
        Err(Error {
            offset: self.offset(),
            what: what.into(),
        })
    }

    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], Error> {
        if self.buf.len() - self.pos < n {
            self.ran_out = true;
            return self.fail(format!("unexpected end of file reading {n} bytes"));
        }
        let b = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(b)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        Ok(self.bytes(N)?.try_into().expect("N bytes"))
    }

    pub fn u8(&mut self) -> Result<u8, Error> {
        Ok(self.bytes(1)?[0])
    }

    /// A length or a string encoding marker.
    pub fn len_or_enc(&mut self) -> Result<Len, Error> {
        let b = self.u8()?;
        Ok(match b >> 6 {
            0 => Len::Plain((b & 0x3f) as u64),
            1 => Len::Plain((((b & 0x3f) as u64) << 8) | self.u8()? as u64),
            2 => match b {
                0x80 => Len::Plain(u32::from_be_bytes(self.array()?) as u64),
                0x81 => Len::Plain(u64::from_be_bytes(self.array()?)),
                _ => return self.fail(format!("unknown length encoding {b:#04x}")),
            },
            _ => Len::Encoded(b & 0x3f),
        })
    }

    /// A plain length (an encoding marker here is a fault).
    pub fn length(&mut self) -> Result<u64, Error> {
        match self.len_or_enc()? {
            Len::Plain(n) => Ok(n),
            Len::Encoded(e) => {
                self.fail(format!("string encoding {e} where a length was expected"))
            }
        }
    }

    /// A length that must fit what is left of the input (each counted
    /// item takes at least `min_item` bytes), so a corrupt length cannot
    /// make the loader reserve memory the file does not back.
    pub fn count(&mut self, min_item: usize) -> Result<usize, Error> {
        let at = self.offset();
        let n = self.length()?;
        let left = (self.buf.len() - self.pos) as u64;
        if n.saturating_mul(min_item.max(1) as u64) > left {
            self.ran_out = true;
            return Err(Error {
                offset: at,
                what: format!("length {n} past the end of the file"),
            });
        }
        Ok(n as usize)
    }

    /// A string in any of its encodings, as bytes.
    pub fn string(&mut self) -> Result<Vec<u8>, Error> {
        self.string_cow().map(Cow::into_owned)
    }

    /// A string borrowed from the input when it is stored plain (a
    /// collection's members: no allocation each), owned when encoded.
    pub fn string_cow(&mut self) -> Result<Cow<'a, [u8]>, Error> {
        match self.len_or_enc()? {
            Len::Plain(n) => {
                let n = usize::try_from(n).or_else(|_| self.fail("string length overflow"))?;
                Ok(Cow::Borrowed(self.bytes(n)?))
            }
            Len::Encoded(e) => match self.encoded(e)? {
                Str::Int(v) => Ok(Cow::Owned(v.to_string().into_bytes())),
                Str::Bytes(b) => Ok(Cow::Owned(b)),
            },
        }
    }

    /// A string where it lies in the input (a plain one: its file offset
    /// and length, nothing copied) or decoded (an integer or LZF one).
    pub fn string_at(&mut self) -> Result<StrAt, Error> {
        match self.len_or_enc()? {
            Len::Plain(n) => {
                let n = usize::try_from(n).or_else(|_| self.fail("string length overflow"))?;
                let at = self.offset();
                self.bytes(n)?;
                Ok(StrAt::At(at, n))
            }
            Len::Encoded(e) => match self.encoded(e)? {
                Str::Int(v) => Ok(StrAt::Owned(v.to_string().into_bytes())),
                Str::Bytes(b) => Ok(StrAt::Owned(b)),
            },
        }
    }

    /// A string, with integer encodings kept as integers (a loader stores
    /// them in the integer encoding directly).
    pub fn string_or_int(&mut self) -> Result<Str, Error> {
        match self.len_or_enc()? {
            Len::Plain(n) => {
                let n = usize::try_from(n).or_else(|_| self.fail("string length overflow"))?;
                Ok(Str::Bytes(self.bytes(n)?.to_vec()))
            }
            Len::Encoded(e) => self.encoded(e),
        }
    }

    fn encoded(&mut self, e: u8) -> Result<Str, Error> {
        Ok(match e {
            enc::INT8 => Str::Int(self.u8()? as i8 as i64),
            enc::INT16 => Str::Int(i16::from_le_bytes(self.array()?) as i64),
            enc::INT32 => Str::Int(i32::from_le_bytes(self.array()?) as i64),
            enc::LZF => {
                let at = self.offset();
                let clen = self.length()? as usize;
                let len = self.length()? as usize;
                let c = self.bytes(clen)?;
                // LZF expands at most ~88 times (a 3-byte back-reference
                // gives 264 bytes): a larger claimed length is corrupt, and
                // must not size an allocation.
                if len > clen.saturating_mul(LZF_MAX_EXPANSION) {
                    return Err(Error {
                        offset: at,
                        what: "invalid LZF compressed string".into(),
                    });
                }
                match super::lzf::decompress(c, len) {
                    Some(v) => Str::Bytes(v),
                    _ => {
                        return Err(Error {
                            offset: at,
                            what: "invalid LZF compressed string".into(),
                        })
                    }
                }
            }
            _ => return self.fail(format!("unknown string encoding {e}")),
        })
    }

    /// A binary double (ZSET_2 scores).
    pub fn double(&mut self) -> Result<f64, Error> {
        Ok(f64::from_le_bytes(self.array()?))
    }

    /// A double in the old text form (ZSET, version < 8): a length byte,
    /// 253 = NaN, 254 = +inf, 255 = -inf.
    pub fn text_double(&mut self) -> Result<f64, Error> {
        match self.u8()? {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            n => {
                let b = self.bytes(n as usize)?;
                match std::str::from_utf8(b).ok().and_then(|t| t.parse().ok()) {
                    Some(v) => Ok(v),
                    None => self.fail("invalid double"),
                }
            }
        }
    }

    /// A little-endian millisecond time.
    pub fn ms(&mut self) -> Result<i64, Error> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    /// A little-endian second time (EXPIRETIME).
    pub fn secs(&mut self) -> Result<i32, Error> {
        Ok(i32::from_le_bytes(self.array()?))
    }
}

/// A decoded string: integer encodings stay integers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Str {
    Int(i64),
    Bytes(Vec<u8>),
}

/// See [`Reader::string_at`].
pub enum StrAt {
    /// (file offset, length) of bytes in the input.
    At(u64, usize),
    Owned(Vec<u8>),
}

/// The version of a file's `REDIS0010` header.
pub fn header(r: &mut Reader<'_>) -> Result<u32, Error> {
    let magic = r.bytes(9)?;
    if &magic[..5] != b"REDIS" {
        return Err(Error {
            offset: 0,
            what: "wrong signature trying to load DB from file".into(),
        });
    }
    match std::str::from_utf8(&magic[5..])
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
    {
        Some(v) if (1..=super::MAX_READ_VERSION).contains(&v) => Ok(v),
        _ => Err(Error {
            offset: 5,
            what: format!(
                "can't handle RDB format version {}",
                String::from_utf8_lossy(&magic[5..])
            ),
        }),
    }
}

/// Checks a file's trailer: the CRC64 of every byte before the last 8
/// (0 in the trailer: written without a checksum, not checked).
pub fn check_crc(file: &[u8]) -> Result<(), Error> {
    if file.len() < 8 {
        return Err(Error {
            offset: file.len() as u64,
            what: "file too short for its checksum".into(),
        });
    }
    let (body, tail) = file.split_at(file.len() - 8);
    let want = u64::from_le_bytes(tail.try_into().expect("8 bytes"));
    if want == 0 {
        return Ok(());
    }
    let got = super::Crc64::of(body);
    if got != want {
        return Err(Error {
            offset: body.len() as u64,
            what: format!("wrong RDB checksum expected: ({want:x}) got: ({got:x})"),
        });
    }
    Ok(())
}
