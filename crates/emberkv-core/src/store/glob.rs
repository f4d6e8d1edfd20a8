//! Redis-style glob matching (KEYS, SCAN MATCH, and later PSUBSCRIBE):
//! `*`, `?`, `[abc]`, `[^a-z]`, and `\` escapes.
//!
//! Iterative with one backtrack point per `*`, so a hostile pattern such as
//! `a*a*a*a*...b` costs O(pattern × string), never exponential time.

/// Does `pat` match all of `s`?
pub fn glob_match(pat: &[u8], s: &[u8], nocase: bool) -> bool {
    let eq = |a: u8, b: u8| {
        if nocase {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    let (mut p, mut i) = (0usize, 0usize);
    // Where to resume after the last '*': (pattern index after it, string index).
    let mut star: Option<(usize, usize)> = None;
    loop {
        if p < pat.len() {
            match pat[p] {
                b'*' => {
                    while p < pat.len() && pat[p] == b'*' {
                        p += 1;
                    }
                    if p == pat.len() {
                        return true;
                    }
                    star = Some((p, i));
                    continue;
                }
                b'?' if i < s.len() => {
                    p += 1;
                    i += 1;
                    continue;
                }
                b'[' if i < s.len() => {
                    if let Some((matched, next)) = class(pat, p, s[i], nocase) {
                        if matched {
                            p = next;
                            i += 1;
                            continue;
                        }
                    }
                }
                b'\\' if p + 1 < pat.len() && i < s.len() && eq(pat[p + 1], s[i]) => {
                    p += 2;
                    i += 1;
                    continue;
                }
                c if i < s.len() && c != b'?' && c != b'[' && c != b'\\' && eq(c, s[i]) => {
                    p += 1;
                    i += 1;
                    continue;
                }
                _ => {}
            }
        } else if i == s.len() {
            return true;
        }
        // Mismatch: let the last '*' swallow one more byte, if there is one.
        match star {
            Some((sp, si)) if si < s.len() => {
                star = Some((sp, si + 1));
                p = sp;
                i = si + 1;
            }
            _ => return false,
        }
    }
}

/// Matches byte `c` against the class starting at `pat[p] == '['`.
/// Returns (matched, index after the class). An unterminated class extends
/// to the end of the pattern, as in Redis.
fn class(pat: &[u8], p: usize, c: u8, nocase: bool) -> Option<(bool, usize)> {
    let mut j = p + 1;
    let not = j < pat.len() && pat[j] == b'^';
    if not {
        j += 1;
    }
    let fold = |x: u8| if nocase { x.to_ascii_lowercase() } else { x };
    let c = fold(c);
    let mut matched = false;
    loop {
        if j >= pat.len() {
            break;
        }
        if pat[j] == b']' {
            j += 1;
            break;
        }
        if pat[j] == b'\\' && j + 1 < pat.len() {
            j += 1;
            if fold(pat[j]) == c {
                matched = true;
            }
            j += 1;
        } else if j + 2 < pat.len() && pat[j + 1] == b'-' {
            let (mut lo, mut hi) = (fold(pat[j]), fold(pat[j + 2]));
            if lo > hi {
                std::mem::swap(&mut lo, &mut hi);
            }
            if c >= lo && c <= hi {
                matched = true;
            }
            j += 3;
        } else {
            if fold(pat[j]) == c {
                matched = true;
            }
            j += 1;
        }
    }
    Some((matched != not, j))
}

#[cfg(test)]
mod tests {
    use super::glob_match as m;

    #[test]
    fn basics() {
        assert!(m(b"*", b"anything", false));
        assert!(m(b"h?llo", b"hello", false));
        assert!(m(b"h*llo", b"heeeello", false));
        assert!(m(b"h[ae]llo", b"hallo", false));
        assert!(!m(b"h[^e]llo", b"hello", false));
        assert!(m(b"h[a-b]llo", b"hbllo", false));
        assert!(m(b"h\\*llo", b"h*llo", false));
        assert!(!m(b"h\\*llo", b"hello", false));
        assert!(m(b"key:*", b"key:", false));
        assert!(!m(b"a*b", b"aXc", false));
        assert!(m(b"*a*b*c", b"xxaxxbxxc", false));
        assert!(m(b"HELLO", b"hello", true));
    }

    #[test]
    fn hostile_pattern_is_fast() {
        let pat = b"a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b";
        let s = vec![b'a'; 10_000];
        assert!(!m(pat, &s, false));
    }
}
