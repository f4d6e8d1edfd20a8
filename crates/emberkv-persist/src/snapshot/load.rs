//! Loading an RDB file record by record, from a window of the file that
//! grows only as far as one record needs: a record that runs past the
//! window is parsed again once more of the file is read, so a file is
//! never held in memory whole. The CRC64 is kept over the bytes consumed
//! and checked against the trailer. What is read goes to a [`Sink`].

use crate::rdb::read::header;
use crate::rdb::read::StrAt;
use crate::rdb::{op, ty, Crc64, Error, Reader};
use crate::value::{read_value, Value};
use std::io::Read;

/// Where a loaded file's contents go.
pub trait Sink {
    /// An AUX field.
    fn aux(&mut self, key: &[u8], val: &[u8]);
    /// A function library's code (FUNCTION2); Err(text) refuses the file.
    fn function(&mut self, code: &[u8]) -> Result<(), String>;
    /// RESIZEDB for the current database.
    fn resize(&mut self, db: usize, keys: u64, expires: u64);
    /// One key; Err(text) refuses the file (a duplicated key...).
    fn entry(
        &mut self,
        db: usize,
        key: Vec<u8>,
        val: Value,
        expire: Option<i64>,
        lru: Lru,
    ) -> Result<(), String>;
    /// A string key (the common record), its key and value borrowed from
    /// the file's buffer: a loader builds its entry without copies.
    fn string_entry(
        &mut self,
        db: usize,
        key: &[u8],
        val: &[u8],
        expire: Option<i64>,
        lru: Lru,
    ) -> Result<(), String> {
        self.entry(db, key.to_vec(), Value::Str(val.to_vec()), expire, lru)
    }
    /// Called every `progress_every` bytes read, with the offset.
    fn progress(&mut self, _offset: u64) {}
}

/// The eviction metadata a key came with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Lru {
    #[default]
    None,
    /// OBJECT IDLETIME seconds.
    Idle(u64),
    /// The LFU counter.
    Freq(u8),
}

pub struct Options {
    /// Verify the CRC64 trailer (`rdbchecksum`; DEBUG SET-SKIP-CHECKSUM-VALIDATION).
    pub checksum: bool,
    /// How many databases exist (SELECTDB past it is refused).
    pub databases: usize,
    pub progress_every: u64,
}

pub struct Loaded {
    pub version: u32,
    pub bytes: u64,
    pub keys: u64,
}

struct Window<R: Read> {
    src: R,
    buf: Vec<u8>,
    /// Bytes of `buf` already parsed.
    start: usize,
    /// File offset of `buf[0]`.
    base: u64,
    eof: bool,
    crc: Crc64,
    /// Bytes of `buf` already checksummed (the checksum runs over a whole
    /// window at a time, not per record).
    summed: usize,
}

const CHUNK: usize = 1 << 20;

impl<R: Read> Window<R> {
    /// Checksums the parsed bytes not yet summed.
    fn sum(&mut self) {
        self.crc.update(&self.buf[self.summed..self.start]);
        self.summed = self.start;
    }

    /// Reads at least `more` bytes more (unless the file ends), keeping
    /// the unparsed part.
    fn fill(&mut self, more: usize) -> std::io::Result<()> {
        if self.start > 0 {
            self.sum();
            self.summed = 0;
            self.buf.drain(..self.start);
            self.base += self.start as u64;
            self.start = 0;
        }
        let want = self.buf.len() + more.max(CHUNK);
        while self.buf.len() < want && !self.eof {
            let old = self.buf.len();
            self.buf.resize(want, 0);
            let n = self.src.read(&mut self.buf[old..])?;
            self.buf.truncate(old + n);
            if n == 0 {
                self.eof = true;
            }
        }
        Ok(())
    }

    /// Parses one record with `f`, reading more of the file while the
    /// record runs past what is buffered.
    fn record<T>(
        &mut self,
        mut f: impl FnMut(&mut Reader<'_>) -> Result<T, Error>,
    ) -> Result<T, LoadError> {
        loop {
            let avail = self.buf.len() - self.start;
            let mut r = Reader::new(&self.buf[self.start..], self.base + self.start as u64);
            match f(&mut r) {
                Ok(v) => {
                    self.start += r.pos();
                    return Ok(v);
                }
                Err(_) if r.ran_out() && !self.eof => self.fill(avail.max(CHUNK))?,
                Err(e) => return Err(LoadError::Format(e)),
            }
        }
    }
}

#[derive(Debug)]
pub enum LoadError {
    Io(std::io::Error),
    Format(Error),
}

impl From<std::io::Error> for LoadError {
    fn from(e: std::io::Error) -> Self {
        LoadError::Io(e)
    }
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Io(e) => write!(f, "{e}"),
            LoadError::Format(e) => write!(f, "{e}"),
        }
    }
}

enum Rec {
    Aux(Vec<u8>, Vec<u8>),
    Function(Vec<u8>),
    Select(u64),
    Resize(u64, u64),
    Key(Vec<u8>, Value, Option<i64>, Lru),
    StrKey(StrAt, StrAt, Option<i64>, Lru),
    ModuleAux,
    Eof,
}

/// Reads the file from `src` into `sink`.
pub fn load<R: Read>(src: R, opts: &Options, sink: &mut dyn Sink) -> Result<Loaded, LoadError> {
    let mut w = Window {
        src,
        buf: Vec::new(),
        start: 0,
        base: 0,
        eof: false,
        crc: Crc64::default(),
        summed: 0,
    };
    w.fill(CHUNK)?;
    let version = w.record(header)?;
    let mut db = 0usize;
    let mut keys = 0u64;
    let mut next_progress = opts.progress_every;
    loop {
        let rec = w.record(record)?;
        let at = w.base + w.start as u64;
        if opts.progress_every > 0 && at >= next_progress {
            sink.progress(at);
            next_progress = at + opts.progress_every;
        }
        let fail = |what: String| LoadError::Format(Error { offset: at, what });
        match rec {
            Rec::Aux(k, v) => sink.aux(&k, &v),
            Rec::Function(code) => sink.function(&code).map_err(fail)?,
            Rec::Select(n) => {
                if n >= opts.databases as u64 {
                    return Err(fail(format!(
                        "FATAL: Data file was created with a Redis server configured to handle more than {} databases. Exiting",
                        opts.databases
                    )));
                }
                db = n as usize;
            }
            Rec::Resize(k, e) => sink.resize(db, k, e),
            Rec::StrKey(k, v, exp, lru) => {
                // Offsets into the window: no fill happened since the parse.
                let (buf, base) = (&w.buf[..], w.base);
                let key = slice(buf, base, &k);
                let val = slice(buf, base, &v);
                sink.string_entry(db, key, val, exp, lru).map_err(fail)?;
                keys += 1;
            }
            Rec::Key(k, v, exp, lru) => {
                sink.entry(db, k, v, exp, lru).map_err(fail)?;
                keys += 1;
            }
            Rec::ModuleAux => {
                return Err(fail(
                    "The RDB file contains AUX module data I can't load: no matching module".into(),
                ))
            }
            Rec::Eof => break,
        }
    }
    // The trailer (RDB 5+): the CRC64 of every byte before it.
    let mut bytes = w.base + w.start as u64;
    if version >= 5 {
        w.sum();
        let got = w.crc.value();
        let want = w.record(|r| Ok(u64::from_le_bytes(r.bytes(8)?.try_into().expect("8"))))?;
        bytes += 8;
        if opts.checksum && want != 0 && want != got {
            return Err(LoadError::Format(Error {
                offset: bytes - 8,
                what: format!("Wrong RDB checksum expected: ({want:x}) got: ({got:x})"),
            }));
        }
    }
    Ok(Loaded {
        version,
        bytes,
        keys,
    })
}

/// The bytes of a string the parse left in the window (`base`: the file
/// offset of `buf[0]`) or decoded.
fn slice<'a>(buf: &'a [u8], base: u64, s: &'a StrAt) -> &'a [u8] {
    match s {
        StrAt::At(off, n) => {
            let i = (*off - base) as usize;
            &buf[i..i + n]
        }
        StrAt::Owned(v) => v,
    }
}

/// One record: an opcode and what follows it, or a key with its
/// optional expiry and eviction metadata before it.
fn record(r: &mut Reader<'_>) -> Result<Rec, Error> {
    let mut expire = None;
    let mut lru = Lru::None;
    loop {
        let t = r.u8()?;
        match t {
            op::EXPIRETIME_MS => expire = Some(r.ms()?),
            op::EXPIRETIME => expire = Some(r.secs()? as i64 * 1000),
            op::IDLE => lru = Lru::Idle(r.length()?),
            op::FREQ => lru = Lru::Freq(r.u8()?),
            op::AUX => return Ok(Rec::Aux(r.string()?, r.string()?)),
            op::SELECTDB => return Ok(Rec::Select(r.length()?)),
            op::RESIZEDB => return Ok(Rec::Resize(r.length()?, r.length()?)),
            op::FUNCTION2 => return Ok(Rec::Function(r.string()?)),
            op::FUNCTION_PRE_GA => return r.fail("Pre-release function format not supported."),
            op::MODULE_AUX => return Ok(Rec::ModuleAux),
            op::EOF => return Ok(Rec::Eof),
            ty::STRING => {
                let key = r.string_at()?;
                let val = r.string_at()?;
                return Ok(Rec::StrKey(key, val, expire, lru));
            }
            _ => {
                let key = r.string()?;
                let v = read_value(r, t)?;
                return Ok(Rec::Key(key, v, expire, lru));
            }
        }
    }
}
