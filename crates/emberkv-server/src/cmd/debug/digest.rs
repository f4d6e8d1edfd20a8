//! DEBUG DIGEST and DIGEST-VALUE: a SHA1-based fingerprint of the dataset
//! (or of single values) that comes out identical to Redis 7.0's for the
//! same data, so a test can tell two servers (or one server before and
//! after an operation) hold the same thing without reading every key.
//!
//! Two ways of folding data into a 20-byte digest are combined:
//! - *xor in*: `d ^= SHA1(data)`, order-free, for members of sets, fields
//!   of hashes, pairs of sorted sets and keys of a database;
//! - *mix in*: xor in, then `d = SHA1(d)`, order-sensitive, for list
//!   elements and for the parts of one element (a field, then its value).
//!
//! Every element is folded in as the string a client would read back
//! (integers in decimal, scores printed with `%.17g`), so the result does
//! not depend on the encoding a value happens to have, here or in Redis.

use crate::store::entry::{T_HASH, T_LIST, T_SET, T_STREAM, T_STRING, T_ZSET};
use crate::store::{EntryRef, Store};
use crate::types::stream::Id;
use crate::types::{Obj, ObjGuard};
use emberkv_protocol::format_double;

pub type Digest = [u8; 20];

fn sha1(data: &[u8]) -> Digest {
    sha1_smol::Sha1::from(data).digest().bytes()
}

/// `d ^= SHA1(data)`.
fn xor_in(d: &mut Digest, data: &[u8]) {
    for (x, y) in d.iter_mut().zip(sha1(data)) {
        *x ^= y;
    }
}

/// `d = SHA1(d ^ SHA1(data))`.
fn mix_in(d: &mut Digest, data: &[u8]) {
    xor_in(d, data);
    *d = sha1(d);
}

/// Redis's object type numbers (OBJ_STRING .. OBJ_HASH), which are part
/// of the digest; emberkv numbers its kinds differently.
fn redis_type(kind: u8) -> u32 {
    match kind {
        T_STRING => 0,
        T_LIST => 1,
        T_SET => 2,
        T_ZSET => 3,
        T_HASH => 4,
        T_STREAM => 6,
        _ => unreachable!("unknown entry kind {kind}"),
    }
}

/// Folds the value of `e` (type, contents, whether it has a TTL) into `d`.
/// The key itself is not included: DIGEST-VALUE leaves it out.
pub fn value(d: &mut Digest, e: EntryRef<'_>) {
    mix_in(d, &redis_type(e.kind()).to_be_bytes());
    if e.kind() == T_STRING {
        mix_in(d, e.str_value());
    } else {
        let g = ObjGuard::new(e);
        match &*g {
            Obj::List(l) => l.iter().for_each(|x| mix_in(d, x)),
            Obj::Set(s) => s.for_each(|m| m.with(|b| xor_in(d, b))),
            Obj::ZSet(z) => z.for_each(|m, score| {
                let mut el = [0u8; 20];
                mix_in(&mut el, m);
                mix_in(&mut el, format_double(score).as_bytes());
                xor_in(d, &el);
            }),
            Obj::Hash(h) => h.for_each(|f, v| {
                let mut el = [0u8; 20];
                mix_in(&mut el, f);
                mix_in(&mut el, v);
                xor_in(d, &el);
            }),
            // Redis mixes in each live entry's ID as `ms.seq`, then its
            // fields and values; groups are left out.
            Obj::Stream(st) => st.range(Id::MIN, Id::MAX, false, |e| {
                mix_in(d, format!("{}.{}", e.id.ms, e.id.seq).as_bytes());
                for (f, v) in e.pairs() {
                    mix_in(d, f);
                    mix_in(d, v);
                }
                true
            }),
        }
    }
    // Redis folds in whether there is a TTL, not its time.
    if e.expire_at().is_some() {
        xor_in(d, b"!!expire!!");
    }
}

/// The digest of one key's value, as DEBUG DIGEST-VALUE reports it: all
/// zeros for a missing key. Logically expired keys still present count,
/// as in Redis (a debugging command looks at what is stored).
pub fn of_key(store: &Store, db: usize, key: &[u8]) -> Digest {
    let h = store.hash(key);
    let shard = store.lock(h);
    let mut d = [0u8; 20];
    if let Some(e) = shard.dbs[db].find(h, key) {
        value(&mut d, e);
    }
    d
}

/// The digest of every database: for each non-empty one, in order, its
/// number is mixed in, then the digest of each (key, value) pair is xored
/// in. An empty dataset is all zeros. Keys past their TTL but not yet
/// removed count, as in Redis, which walks its tables the same way.
pub fn dataset(store: &Store) -> Digest {
    let mut locked = store.lock_all();
    let shards: Vec<_> = locked.shards().collect();
    let mut fin = [0u8; 20];
    for db in 0..store.ndbs {
        if shards.iter().all(|s| s.dbs[db].is_empty()) {
            continue;
        }
        mix_in(&mut fin, &(db as u32).to_be_bytes());
        for s in &shards {
            s.dbs[db].for_each(|e| {
                let mut d = [0u8; 20];
                mix_in(&mut d, e.key());
                value(&mut d, e);
                xor_in(&mut fin, &d);
            });
        }
    }
    fin
}

/// Lowercase hex, as Redis prints a digest.
pub fn hex(d: &Digest) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::EntryPtr;

    /// Reference values read from a Redis 7.0.15 (DEBUG DIGEST-VALUE).
    #[test]
    fn string_value_matches_redis() {
        let e = EntryPtr::new_string(b"s", b"hello", None, 0, 0);
        let mut d = [0u8; 20];
        value(&mut d, e.as_ref());
        assert_eq!(hex(&d), "36b23a1456b2dce2c3ed252c456761301dba8060");
        e.free();
    }

    #[test]
    fn zset_pair_uses_17_digit_scores() {
        // ZADD z 1.1 a: the score is folded in as "1.1000000000000001".
        let mut d = [0u8; 20];
        mix_in(&mut d, &redis_type(T_ZSET).to_be_bytes());
        let mut el = [0u8; 20];
        mix_in(&mut el, b"a");
        mix_in(&mut el, format_double(1.1).as_bytes());
        xor_in(&mut d, &el);
        assert_eq!(hex(&d), "0afd0507a38ea3c3ca917a82c82ccea86228cfc8");
    }

    #[test]
    fn empty_store_is_zeros() {
        let s = Store::new(16, 16);
        assert_eq!(dataset(&s), [0u8; 20]);
        assert_eq!(of_key(&s, 0, b"nope"), [0u8; 20]);
    }
}
