//! The compact paths of the loader: listpack hashes, sorted sets and
//! quicklist nodes decoded straight into emberkv's compact forms, with
//! the checks the general path makes (duplicates, order, sizes).

use super::{read_value, Value};
use crate::listpack::Builder;
use crate::rdb::{ty, Reader, Writer};
use emberkv_core::types::{Hash, List, Obj, ZSet};

/// The RDB string holding a listpack of `elems`.
fn blob(elems: &[&[u8]]) -> Vec<u8> {
    let mut b = Builder::new();
    for e in elems {
        b.push(e);
    }
    let mut w = Writer::piece(false, 64);
    w.string(&b.finish()).unwrap();
    w.into_bytes()
}

fn load(t: u8, bytes: &[u8]) -> Result<Obj, String> {
    match read_value(&mut Reader::new(bytes, 0), t) {
        Ok(Value::Obj(o)) => Ok(o),
        Ok(Value::Str(_)) => Err("a string".into()),
        Err(e) => Err(e.what),
    }
}

#[test]
fn listpack_hash_is_compact_and_checked() {
    let o = load(ty::HASH_LISTPACK, &blob(&[b"f1", b"v", b"2", b"-7"])).unwrap();
    let Obj::Hash(h @ Hash::Lp(_)) = &o else {
        panic!("not a compact hash")
    };
    assert_eq!(h.get(b"f1"), Some(&b"v"[..]));
    assert_eq!(h.get(b"2"), Some(&b"-7"[..]));
    let dup = blob(&[b"f", b"1", b"g", b"2", b"f", b"3"]);
    let err = load(ty::HASH_LISTPACK, &dup).err().unwrap();
    assert_eq!(err, "Duplicate hash fields detected");
    let many: Vec<Vec<u8>> = (0..40)
        .map(|i| format!("x{}", i % 20).into_bytes())
        .collect();
    let refs: Vec<&[u8]> = many.iter().map(|v| &v[..]).collect();
    let err = load(ty::HASH_LISTPACK, &blob(&refs)).err().unwrap();
    assert_eq!(err, "Duplicate hash fields detected", "the table path");
    let odd = blob(&[b"f", b"v", b"g"]);
    assert!(load(ty::HASH_LISTPACK, &odd).err().unwrap().contains("Odd"));
    // A value over hash-max-listpack-value (64) makes a hash table.
    let long = vec![b'x'; 65];
    let o = load(ty::HASH_LISTPACK, &blob(&[b"f", &long])).unwrap();
    assert!(matches!(o, Obj::Hash(Hash::Dict(_))));
}

#[test]
fn listpack_zset_is_compact_sorted_and_checked() {
    let pairs = |z: &ZSet| {
        let mut v = Vec::new();
        z.walk_up(0, |m, s| {
            v.push((m.to_vec(), s));
            true
        });
        v
    };
    // In order (integer members compare as their text: "10" < "9").
    let o = load(
        ty::ZSET_LISTPACK,
        &blob(&[b"10", b"-0", b"9", b"0", b"a", b"1.5"]),
    )
    .unwrap();
    let Obj::ZSet(z @ ZSet::Lp(_)) = &o else {
        panic!("not a compact zset")
    };
    assert_eq!(
        pairs(z),
        vec![
            (b"10".to_vec(), 0.0),
            (b"9".to_vec(), 0.0),
            (b"a".to_vec(), 1.5)
        ]
    );
    assert!(pairs(z)[0].1.is_sign_positive(), "-0 reads back as 0");
    // Out of order: sorted on the way in.
    let o = load(
        ty::ZSET_LISTPACK,
        &blob(&[b"b", b"2", b"a", b"1", b"c", b"1"]),
    )
    .unwrap();
    let Obj::ZSet(z) = &o else { panic!() };
    let names: Vec<Vec<u8>> = pairs(z).into_iter().map(|p| p.0).collect();
    assert_eq!(names, vec![b"a".to_vec(), b"c".to_vec(), b"b".to_vec()]);
    let dup = blob(&[b"a", b"1", b"a", b"2"]);
    assert_eq!(
        load(ty::ZSET_LISTPACK, &dup).err().unwrap(),
        "Duplicate zset fields detected"
    );
    let nan = blob(&[b"a", b"nan"]);
    assert!(load(ty::ZSET_LISTPACK, &nan)
        .err()
        .unwrap()
        .contains("Zset score"));
}

#[test]
fn quicklist_nodes_become_one_compact_list() {
    let mut w = Writer::piece(false, 64);
    w.length(2).unwrap();
    let nodes: [[&[u8]; 2]; 2] = [[b"a", b"12"], [b"-3", b"b"]];
    for node in nodes {
        w.length(2).unwrap(); // PACKED
        let mut b = Builder::new();
        node.iter().for_each(|e| b.push(e));
        w.string(&b.finish()).unwrap();
    }
    let o = load(ty::LIST_QUICKLIST_2, &w.into_bytes()).unwrap();
    let Obj::List(l) = &o else { panic!() };
    assert!(matches!(l, List::Lp(_)));
    let v: Vec<&[u8]> = l.iter().collect();
    assert_eq!(v, vec![&b"a"[..], b"12", b"-3", b"b"]);
}
