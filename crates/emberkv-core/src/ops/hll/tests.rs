//! Unit tests of the HyperLogLog values and of the table operations.

use super::*;
use crate::store::KeyHasher;

fn at(hs: &KeyHasher, key: &'static [u8]) -> At<'static> {
    At {
        h: hs.hash(key),
        key,
        now: 1000,
        lru: 1,
    }
}

fn value(t: &mut Table, a: At<'_>) -> Vec<u8> {
    t.lookup(a.h, a.key, a.now).unwrap().str_value().to_vec()
}

#[test]
fn a_new_key_is_an_empty_sparse_value_with_a_stale_cache() {
    let hs = KeyHasher::new(1);
    let mut t = Table::new(hs);
    let k = at(&hs, b"h");
    assert_eq!(pfadd(&mut t, k, []), Ok(1), "a created key is one change");
    let v = value(&mut t, k);
    assert_eq!(&v[..5], b"HYLL\x01");
    assert_eq!(&v[5..16], &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80]);
    assert_eq!(&v[16..], &[0x7f, 0xff]);
    assert_eq!(pfadd(&mut t, k, []), Ok(0));
}

#[test]
fn counts_are_cached_and_invalidated() {
    let hs = KeyHasher::new(2);
    let mut t = Table::new(hs);
    let k = at(&hs, b"h");
    let els: Vec<Vec<u8>> = (0..100u32).map(|i| format!("e{i}").into_bytes()).collect();
    let n = pfadd(&mut t, k, els.iter().map(|e| &e[..])).unwrap();
    assert!(
        (2..=101).contains(&n),
        "the key and each raised register: {n}"
    );
    let e = t.lookup(k.h, k.key, k.now).unwrap();
    let (n, changed) = pfcount_entry(e).unwrap();
    assert!(changed && (95..=105).contains(&n), "{n}");
    let e = t.lookup(k.h, k.key, k.now).unwrap();
    assert_eq!(pfcount_entry(e), Ok((n, false)));
    assert_eq!(format::cached(&value(&mut t, k)), Some(n));
    assert_eq!(pfadd(&mut t, k, [&b"e1"[..]]), Ok(0));
    assert_eq!(format::cached(&value(&mut t, k)), Some(n));
    assert_eq!(pfadd(&mut t, k, [&b"new one"[..]]), Ok(1));
    assert_eq!(format::cached(&value(&mut t, k)), None);
}

#[test]
fn sparse_turns_dense_past_the_limit_and_both_count_alike() {
    let hs = KeyHasher::new(3);
    let mut t = Table::new(hs);
    let (s, d) = (at(&hs, b"s"), at(&hs, b"d"));
    let mut dense_value = format::empty();
    dense_value = sparse::to_dense(&dense_value).unwrap();
    let mut n = 0u32;
    while value_or_empty(&mut t, s)[4] == format::SPARSE {
        let ele = n.to_le_bytes();
        pfadd(&mut t, s, [&ele[..]]).unwrap();
        add(&mut dense_value, &ele, 3000).unwrap();
        let v = value(&mut t, s);
        assert!(v.len() <= 3000 || v[4] == format::DENSE);
        assert_eq!(count(&v), count(&dense_value), "after {n}");
        n += 1;
    }
    assert!(n > 500, "turned dense after {n}");
    let v = value(&mut t, s);
    assert_eq!(v.len(), DENSE_SIZE);
    assert_eq!(&v[HDR..], &dense_value[HDR..]);
    // Merging the dense into a missing key gives the same registers.
    let mut max = [0u8; REGISTERS];
    let e = t.lookup(s.h, s.key, s.now).unwrap();
    assert_eq!(merge_entry(&mut max, e), Ok(true));
    pfmerge_store(&mut t, d, &max, true).unwrap();
    assert_eq!(&value(&mut t, d)[HDR..], &dense_value[HDR..]);
    assert_eq!(count_raw(&max), count(&dense_value).unwrap());
}

fn value_or_empty(t: &mut Table, a: At<'_>) -> Vec<u8> {
    t.lookup(a.h, a.key, a.now)
        .map(|e| e.str_value().to_vec())
        .unwrap_or_else(format::empty)
}

#[test]
fn other_strings_and_types_are_refused() {
    let hs = KeyHasher::new(4);
    let mut t = Table::new(hs);
    let k = at(&hs, b"k");
    write_string(&mut t, k, b"HYLL\x00 not dense size", Expire::None, 0);
    assert_eq!(pfadd(&mut t, k, []), Err(HllError::NotHll));
    write_string(&mut t, k, b"HYLL\x02...........", Expire::None, 0);
    assert_eq!(pfadd(&mut t, k, []), Err(HllError::NotHll));
    // A sparse value covering one register too few.
    let mut v = format::empty();
    v[HDR + 1] = 0xfe;
    format::invalidate(&mut v);
    write_string(&mut t, k, &v, Expire::None, 0);
    let e = t.lookup(k.h, k.key, k.now).unwrap();
    assert_eq!(pfcount_entry(e), Err(HllError::Corrupt));
    let mut max = [0u8; REGISTERS];
    let e = t.lookup(k.h, k.key, k.now).unwrap();
    assert_eq!(merge_entry(&mut max, e), Err(HllError::Corrupt));
    assert_eq!(to_dense_at(&mut t, k), Err(HllError::Corrupt));
}

#[test]
fn the_self_test_passes() {
    assert_eq!(selftest::run(3000), Ok(()));
}
