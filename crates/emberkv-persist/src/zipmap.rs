//! Redis's zipmap, the blob of HASH_ZIPMAP values (files of Redis before
//! 2.6): read only. A count byte (254: count unknown), then per pair the
//! key's length and bytes, the value's length, a "free" byte and the
//! value followed by that many unused bytes; 0xFF ends it. A length is one
//! byte under 254, or 254 and 4 bytes little-endian.

use crate::listpack::Invalid;

const END: u8 = 0xFF;
const BIG: u8 = 254;

/// A (field, value) pair.
pub type Pair<'a> = (&'a [u8], &'a [u8]);

/// Checks and decodes the pairs of `zm`.
pub fn decode(zm: &[u8]) -> Result<Vec<Pair<'_>>, Invalid> {
    let mut p = 1;
    let len = |p: &mut usize| -> Result<Option<usize>, Invalid> {
        match zm.get(*p) {
            None => Err(Invalid(*p)),
            Some(&END) => Ok(None),
            Some(&BIG) => {
                let b = zm.get(*p + 1..*p + 5).ok_or(Invalid(*p))?;
                *p += 5;
                Ok(Some(u32::from_le_bytes(b.try_into().expect("4")) as usize))
            }
            Some(&n) => {
                *p += 1;
                Ok(Some(n as usize))
            }
        }
    };
    let count = *zm.first().ok_or(Invalid(0))?;
    let mut out = Vec::new();
    while let Some(klen) = len(&mut p)? {
        let key = zm.get(p..p.saturating_add(klen)).ok_or(Invalid(p))?;
        p += klen;
        let vlen = len(&mut p)?.ok_or(Invalid(p))?;
        let free = *zm.get(p).ok_or(Invalid(p))? as usize;
        p += 1;
        let val = zm.get(p..p.saturating_add(vlen)).ok_or(Invalid(p))?;
        p = p.saturating_add(vlen).saturating_add(free);
        out.push((key, val));
    }
    if p + 1 != zm.len() || (count < BIG && out.len() != count as usize) {
        return Err(Invalid(p));
    }
    Ok(out)
}

/// Builds a zipmap (tests hand Redis one to load, as from an old file).
pub fn encode(pairs: &[Pair<'_>]) -> Vec<u8> {
    let mut b = vec![pairs.len().min(BIG as usize) as u8];
    let len = |b: &mut Vec<u8>, n: usize| {
        if n < BIG as usize {
            b.push(n as u8);
        } else {
            b.push(BIG);
            b.extend_from_slice(&(n as u32).to_le_bytes());
        }
    };
    for (k, v) in pairs {
        len(&mut b, k.len());
        b.extend_from_slice(k);
        len(&mut b, v.len());
        b.push(0);
        b.extend_from_slice(v);
    }
    b.push(END);
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_damage() {
        let long = vec![b'v'; 600];
        let pairs: Vec<Pair<'_>> = vec![(b"a", b"1"), (b"", b""), (b"key", &long)];
        let zm = encode(&pairs);
        assert_eq!(decode(&zm).unwrap(), pairs);
        // Unused bytes after a value are skipped.
        let with_free = [1, 1, b'k', 1, 2, b'v', 0, 0, END];
        assert_eq!(decode(&with_free).unwrap(), vec![(&b"k"[..], &b"v"[..])]);
        for cut in 0..zm.len() {
            assert!(decode(&zm[..cut]).is_err(), "cut at {cut}");
        }
        for i in 0..zm.len() {
            let mut w = zm.clone();
            w[i] ^= 0x40;
            let _ = decode(&w);
        }
    }
}
