//! PFSELFTEST: Redis's self-test of the implementation, with the same
//! steps and bounds: random register values read back unchanged, then 10M
//! distinct elements added to a dense and a sparse value at once, checking
//! at each power of ten that small sets stay sparse, that both encodings
//! agree and that the error is within six standard errors.

use super::{add, count, dense, format, hash, DENSE_SIZE, HDR, REGISTERS};

/// What failed (errors.rs words it as Redis's TESTFAILED replies).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    Register { index: usize, want: u8, got: u8 },
    SparseNotUsed,
    Disagree,
    TooBigError { card: u64, abserr: u64 },
}

const CYCLES: usize = 1000;

pub fn run(sparse_max_bytes: usize) -> Result<(), Failure> {
    let mut d = vec![0u8; DENSE_SIZE];
    let mut bytes = [0u8; REGISTERS];
    for _ in 0..CYCLES {
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = fastrand::u8(..) & 63;
            dense::set(&mut d[HDR..], i, *b);
        }
        for (i, &b) in bytes.iter().enumerate() {
            let got = dense::get(&d[HDR..], i);
            if got != b {
                return Err(Failure::Register {
                    index: i,
                    want: b,
                    got,
                });
            }
        }
    }
    d[HDR..].fill(0);
    d[..4].copy_from_slice(b"HYLL");
    d[4] = format::DENSE;
    let mut s = format::empty();
    let relerr = 1.04 / (REGISTERS as f64).sqrt();
    let mut checkpoint: u64 = 1;
    let seed = fastrand::u64(..);
    for j in 1..=10_000_000u64 {
        let ele = (j ^ seed).to_le_bytes();
        let (i, c) = hash::pat_len(&ele);
        dense::raise(&mut d[HDR..], i, c);
        add(&mut s, &ele, sparse_max_bytes).map_err(|_| Failure::Disagree)?;
        if j != checkpoint {
            continue;
        }
        if j < (sparse_max_bytes / 2) as u64 && s[4] != format::SPARSE {
            return Err(Failure::SparseNotUsed);
        }
        let card = count(&d).map_err(|_| Failure::Disagree)?;
        if Ok(card) != count(&s) {
            return Err(Failure::Disagree);
        }
        let abserr = checkpoint.abs_diff(card);
        let maxerr = if j == 10 {
            // Collisions make cardinality 10 much worse now and then.
            1
        } else {
            (relerr * 6.0 * checkpoint as f64).ceil() as u64
        };
        if abserr > maxerr {
            return Err(Failure::TooBigError {
                card: checkpoint,
                abserr,
            });
        }
        checkpoint *= 10;
    }
    Ok(())
}
