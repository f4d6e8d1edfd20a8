//! Splitting a line into owned words as Redis's `sdssplitargs` does, for
//! the files that use it: redis.conf lines and the AOF manifest. (Inline
//! requests are split in place by the request parser, which allocates
//! nothing per request.)

/// Words, "double quotes" with C escapes and \xHH, 'single quotes' (only
/// \' escaped); a closing quote must be followed by a blank or the end.
/// None on unbalanced quotes.
pub fn split_args(b: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    let mut i = 0;
    let mut in_word = false;
    while i < b.len() {
        let c = b[i];
        match c {
            b'"' | b'\'' => {
                in_word = true;
                let q = c;
                i += 1;
                loop {
                    let &x = b.get(i)?;
                    if x == b'\\' && q == b'"' {
                        let hex = |k: usize| b.get(k).and_then(|&h| (h as char).to_digit(16));
                        if b.get(i + 1) == Some(&b'x')
                            && hex(i + 2).is_some()
                            && hex(i + 3).is_some()
                        {
                            cur.push((hex(i + 2).unwrap() * 16 + hex(i + 3).unwrap()) as u8);
                            i += 4;
                            continue;
                        }
                        let &e = b.get(i + 1)?;
                        cur.push(match e {
                            b'n' => b'\n',
                            b't' => b'\t',
                            b'r' => b'\r',
                            b'b' => 8,
                            b'a' => 7,
                            o => o,
                        });
                        i += 2;
                        continue;
                    }
                    if x == b'\\' && q == b'\'' && b.get(i + 1) == Some(&b'\'') {
                        cur.push(b'\'');
                        i += 2;
                        continue;
                    }
                    i += 1;
                    if x == q {
                        // A closing quote must be followed by a blank.
                        if b.get(i).is_some_and(|c| !c.is_ascii_whitespace()) {
                            return None;
                        }
                        break;
                    }
                    cur.push(x);
                }
            }
            c if c.is_ascii_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
                i += 1;
            }
            c => {
                in_word = true;
                cur.push(c);
                i += 1;
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::split_args;

    #[test]
    fn splits_as_sdssplitargs() {
        let w = |s: &[u8]| {
            split_args(s).map(|v| {
                v.into_iter()
                    .map(|x| String::from_utf8(x).unwrap())
                    .collect::<Vec<_>>()
            })
        };
        assert_eq!(
            w(b"  a  bc\t d "),
            Some(vec!["a".into(), "bc".into(), "d".into()])
        );
        assert_eq!(
            w(br#"x "a b\n\x41" 'it\'s'"#),
            Some(vec!["x".into(), "a b\nA".into(), "it's".into()])
        );
        assert_eq!(w(br#""ab"c"#), None);
        assert_eq!(w(br#""ab"#), None);
        assert_eq!(w(b""), Some(vec![]));
    }
}
