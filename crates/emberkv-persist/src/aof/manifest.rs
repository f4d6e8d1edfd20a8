//! The AOF manifest (`<appendfilename>.manifest` in `appenddirname`): one
//! line per file, `file <name> seq <n> type <b|h|i>`, the base first, then
//! the history files (kept until they are deleted), then the incremental
//! files in sequence order. Read as Redis 7.0 reads it: lines split as
//! redis-cli splits arguments (quotes allowed), `#` lines skipped, keys in
//! any order and unknown keys ignored (for later versions' additions), and
//! its refusals worded as Redis words them.

/// What a file of the set is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Base,
    History,
    Incr,
}

impl Kind {
    fn code(self) -> char {
        match self {
            Kind::Base => 'b',
            Kind::History => 'h',
            Kind::Incr => 'i',
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    pub name: String,
    pub seq: u64,
    pub kind: Kind,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    pub base: Option<FileInfo>,
    pub history: Vec<FileInfo>,
    pub incrs: Vec<FileInfo>,
}

/// Longest manifest line Redis reads (AOF_MANIFEST_MAX_LINE).
const MAX_LINE: usize = 1024;

impl Manifest {
    /// Parses a manifest's text; the error is Redis's message.
    pub fn parse(text: &[u8]) -> Result<Manifest, &'static str> {
        let mut m = Manifest::default();
        let mut max_seq = 0;
        let mut lines = 0;
        let mut rest = text;
        while !rest.is_empty() {
            let (line, next) = match rest.iter().position(|&c| c == b'\n') {
                Some(i) if i < MAX_LINE => (&rest[..i], &rest[i + 1..]),
                // fgets stops at its buffer's end or the file's: a line
                // without its newline is one too long (or cut).
                _ => return Err("The AOF manifest file contains too long line"),
            };
            rest = next;
            lines += 1;
            if line.first() == Some(&b'#') {
                continue;
            }
            let line = trim(line);
            if line.is_empty() {
                return Err("Invalid AOF manifest file format");
            }
            let argv =
                emberkv_protocol::split_args(line).ok_or("Invalid AOF manifest file format")?;
            if argv.len() < 6 || argv.len() % 2 != 0 {
                return Err("Invalid AOF manifest file format");
            }
            let (mut name, mut seq, mut kind) = (None, 0u64, None);
            for kv in argv.chunks(2) {
                let key = String::from_utf8_lossy(&kv[0]).to_ascii_lowercase();
                match key.as_str() {
                    "file" => {
                        let n = String::from_utf8_lossy(&kv[1]).into_owned();
                        if n.contains('/') || n.contains('\\') {
                            return Err("File can't be a path, just a filename");
                        }
                        name = Some(n);
                    }
                    "seq" => seq = atoll(&kv[1]),
                    "type" => kind = kv[1].first().copied(),
                    _ => {}
                }
            }
            let (Some(name), Some(kind)) = (name, kind) else {
                return Err("Invalid AOF manifest file format");
            };
            if seq == 0 {
                return Err("Invalid AOF manifest file format");
            }
            let kind = match kind {
                b'b' => Kind::Base,
                b'h' => Kind::History,
                b'i' => Kind::Incr,
                _ => return Err("Unknown AOF file type"),
            };
            let info = FileInfo { name, seq, kind };
            match kind {
                Kind::Base => {
                    if m.base.is_some() {
                        return Err("Found duplicate base file information");
                    }
                    m.base = Some(info);
                }
                Kind::History => m.history.push(info),
                Kind::Incr => {
                    if seq <= max_seq {
                        return Err("Found a non-monotonic sequence number");
                    }
                    max_seq = seq;
                    m.incrs.push(info);
                }
            }
        }
        if lines == 0 {
            return Err("Found an empty AOF manifest");
        }
        Ok(m)
    }

    /// The manifest's text, as Redis writes it.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let files = self.base.iter().chain(&self.history).chain(&self.incrs);
        for f in files {
            out.push_str("file ");
            out.push_str(&quote(&f.name));
            out.push_str(&format!(" seq {} type {}\n", f.seq, f.kind.code()));
        }
        out
    }

    /// The files to load, in order: the base, then the incremental files.
    pub fn load_order(&self) -> impl Iterator<Item = &FileInfo> {
        self.base.iter().chain(&self.incrs)
    }
}

fn trim(b: &[u8]) -> &[u8] {
    let is = |c: &u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
    let s = b.iter().position(|c| !is(c)).unwrap_or(b.len());
    let e = b.iter().rposition(|c| !is(c)).map_or(s, |i| i + 1);
    &b[s..e]
}

/// `atoll`: an optional sign and the digits that follow, 0 without any.
fn atoll(b: &[u8]) -> u64 {
    let b = trim(b);
    let (neg, digits) = match b.split_first() {
        Some((b'-', r)) => (true, r),
        Some((b'+', r)) => (false, r),
        _ => (false, b),
    };
    let n = digits
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .fold(0u64, |n, &c| {
            n.saturating_mul(10).saturating_add((c - b'0') as u64)
        });
    if neg {
        0
    } else {
        n
    }
}

/// A file name as Redis writes it in the manifest: bare unless it holds a
/// blank, a quote `"`, a backslash or an unprintable byte (`sdsneedsrepr`;
/// a `'` stays bare, as there), else in double quotes with C escapes
/// (`sdscatrepr`).
fn quote(name: &str) -> String {
    let plain = !name.is_empty()
        && name
            .bytes()
            .all(|c| c.is_ascii_graphic() && !matches!(c, b'"' | b'\\'));
    if plain {
        return name.to_string();
    }
    let mut s = String::from("\"");
    for c in name.bytes() {
        match c {
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            7 => s.push_str("\\a"),
            8 => s.push_str("\\b"),
            c if c.is_ascii_graphic() || c == b' ' => s.push(c as char),
            c => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push('"');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_parses_redis_manifests() {
        let text = b"file appendonly.aof.1.base.rdb seq 1 type b\n\
                     file appendonly.aof.1.incr.aof seq 1 type h\n\
                     file appendonly.aof.2.incr.aof seq 2 type i\n\
                     file appendonly.aof.3.incr.aof seq 3 type i\n";
        let m = Manifest::parse(text).unwrap();
        assert_eq!(m.base.as_ref().unwrap().name, "appendonly.aof.1.base.rdb");
        assert_eq!(m.history.len(), 1);
        assert_eq!(
            m.load_order().map(|f| f.seq).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        assert_eq!(m.render().as_bytes(), &text[..]);
        // Keys in any order, unknown keys, quotes, comments, CRLF.
        let m = Manifest::parse(
            b"# a comment\nseq 4 type i file \"my file.aof\" extra x\r\nfile b.rdb type b seq 4\n",
        )
        .unwrap();
        assert_eq!(m.incrs[0].name, "my file.aof");
        assert_eq!(m.base.as_ref().unwrap().seq, 4);
        assert!(m.render().contains("file \"my file.aof\" seq 4 type i\n"));
        assert_eq!(Manifest::parse(&m.render().into_bytes()).unwrap(), m);
    }

    #[test]
    fn refuses_what_redis_refuses() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "Found an empty AOF manifest"),
            (b"file a seq 1\n", "Invalid AOF manifest file format"),
            (
                b"file a seq 1 type b x\n",
                "Invalid AOF manifest file format",
            ),
            (b"\n", "Invalid AOF manifest file format"),
            (b"file a seq 0 type i\n", "Invalid AOF manifest file format"),
            (
                b"file \"a seq 1 type i\n",
                "Invalid AOF manifest file format",
            ),
            (
                b"file d/a seq 1 type i\n",
                "File can't be a path, just a filename",
            ),
            (
                b"file d\\a seq 1 type i\n",
                "File can't be a path, just a filename",
            ),
            (b"file a seq 1 type x\n", "Unknown AOF file type"),
            (
                b"file a seq 1 type b\nfile b seq 2 type b\n",
                "Found duplicate base file information",
            ),
            (
                b"file a seq 2 type i\nfile b seq 2 type i\n",
                "Found a non-monotonic sequence number",
            ),
            (
                b"file a seq 1 type i",
                "The AOF manifest file contains too long line",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(
                Manifest::parse(text).err(),
                Some(*want),
                "{}",
                String::from_utf8_lossy(text)
            );
        }
        let long = format!("file {} seq 1 type i\n", "a".repeat(1100));
        assert_eq!(
            Manifest::parse(long.as_bytes()).err(),
            Some("The AOF manifest file contains too long line")
        );
    }
}
