//! The data operations: functions over one locked table (or the shards a
//! command locked) with typed results, knowing nothing of the protocol.
//! Command handlers parse arguments, call these and write the reply;
//! blocked clients served after a write call the same pops.

pub mod bits;
pub mod geo;
pub mod hll;
pub mod lists;
pub mod memory;
pub mod strings;
pub mod zsets;

use crate::store::entry::EntryPtr;
use crate::store::{EntryRef, Table};
use crate::types::{Obj, ObjGuard};

/// Why a data operation failed; the server words it as Redis does
/// (errors.rs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpError {
    WrongType,
    NotInt,
    NotFloat,
    Overflow,
    TooBig,
    NanOrInf,
}

/// The key an operation works on, with the command's time and LRU stamp.
#[derive(Clone, Copy)]
pub struct At<'a> {
    pub h: u64,
    pub key: &'a [u8],
    pub now: i64,
    pub lru: u32,
}

/// The guard for a write on one table (multi-key commands use this with
/// their own locking). Err(WrongType) for another type.
pub fn write_in<'t>(
    t: &'t mut Table,
    h: u64,
    key: &[u8],
    kind: u8,
    now: i64,
    lru: u32,
    create: Option<&dyn Fn() -> Obj>,
) -> Result<Option<ObjGuard<'t>>, OpError> {
    // One lookup on the common path (the key exists).
    let found = t.lookup(h, key, now).map(|e| (e.kind(), e.raw()));
    let raw = match found {
        Some((k, _)) if k != kind => return Err(OpError::WrongType),
        Some((_, p)) => p,
        None => {
            let Some(make) = create else {
                return Ok(None);
            };
            let (k, enc, p) = make().into_raw();
            let e = EntryPtr::new_obj(key, k, enc, p, None, lru);
            let raw = e.as_ref().raw();
            t.insert(h, e);
            raw
        }
    };
    // SAFETY: the entry is owned by `t`, borrowed for 't.
    let e = unsafe { EntryRef::from_raw(raw) };
    e.set_lru(lru);
    Ok(Some(ObjGuard::new(e)))
}

/// Sets (`Some`) or removes (`None`) the TTL of an existing key; in place
/// when the entry already has room for one.
pub fn set_expire(t: &mut Table, h: u64, key: &[u8], at: Option<i64>) -> bool {
    let Some(f) = t.find_mut(h, key) else {
        return false;
    };
    let e = f.entry();
    match (e.expire_at(), at) {
        (Some(_), Some(at)) => e.set_expire_in_place(at),
        (None, None) => {}
        _ => {
            // Take the entry out of its chain and put the rebuilt one back.
            let old = f.replace_with(|old: EntryPtr| old.rebuild(None, at));
            debug_assert!(old);
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::effects;
    use crate::store::{KeyHasher, Store};

    fn table(db: usize) -> (Table, KeyHasher) {
        let hs = KeyHasher::new(7);
        (Table::new_keyspace(hs, db), hs)
    }

    #[test]
    fn list_pops_and_pushes_delete_emptied_keys() {
        let (mut t, hs) = table(0);
        let h = hs.hash(b"l");
        assert_eq!(
            lists::push_to(&mut t, h, b"l", false, [&b"a"[..], b"b", b"c"], 0, 0),
            Ok(3)
        );
        let got = lists::pop_from(&mut t, h, b"l", true, 2, 0, 0)
            .unwrap()
            .unwrap();
        assert_eq!(got, vec![b"a".to_vec(), b"b".to_vec()]);
        let got = lists::pop_from(&mut t, h, b"l", false, 5, 0, 0)
            .unwrap()
            .unwrap();
        assert_eq!(got, vec![b"c".to_vec()]);
        assert!(t.find(h, b"l").is_none(), "an emptied list is deleted");
        assert_eq!(lists::pop_from(&mut t, h, b"l", true, 1, 0, 0), Ok(None));
    }

    #[test]
    fn wrong_type_is_a_typed_error() {
        let (mut t, hs) = table(0);
        let h = hs.hash(b"s");
        let at = At {
            h,
            key: b"s",
            now: 0,
            lru: 0,
        };
        strings::write_string(&mut t, at, b"v", strings::Expire::None, 0);
        assert_eq!(
            lists::push_to(&mut t, h, b"s", true, [&b"x"[..]], 0, 0),
            Err(OpError::WrongType)
        );
        assert_eq!(
            zsets::pop_from(&mut t, h, b"s", true, 1, 0, 0),
            Err(OpError::WrongType)
        );
        assert_eq!(strings::incr_by(&mut t, at, 1), Err(OpError::NotInt));
    }

    #[test]
    fn ttl_and_lazy_expiry_go_through_the_write_funnel() {
        let (mut t, hs) = table(3);
        let h = hs.hash(b"k");
        let at = At {
            h,
            key: b"k",
            now: 1000,
            lru: 0,
        };
        strings::write_string(&mut t, at, b"v", strings::Expire::None, 0);
        assert!(set_expire(&mut t, h, b"k", Some(1500)));
        assert_eq!(t.find(h, b"k").unwrap().expire_at(), Some(1500));
        effects::begin();
        assert!(t.lookup(h, b"k", 2000).is_none(), "past its TTL");
        let seen = effects::end(None, |d| {
            d.changes
                .iter()
                .map(|c| (c.db, c.event, d.key(c).to_vec()))
                .collect::<Vec<_>>()
        });
        assert_eq!(seen, vec![(3, "expired", b"k".to_vec())]);
    }

    #[test]
    fn zset_pops_take_the_lowest_or_highest() {
        let store = Store::new(1, 1);
        let h = store.hash(b"z");
        let mut shard = store.lock(h);
        let t = &mut shard.dbs[0];
        {
            let mut g = write_in(
                t,
                h,
                b"z",
                crate::store::entry::T_ZSET,
                0,
                0,
                Some(&|| Obj::ZSet(crate::types::ZSet::default())),
            )
            .unwrap()
            .unwrap();
            for (i, m) in [&b"a"[..], b"b", b"c"].into_iter().enumerate() {
                g.zset().set(m, i as f64);
            }
        }
        let max = zsets::pop_from(t, h, b"z", false, 1, 0, 0)
            .unwrap()
            .unwrap();
        assert_eq!(max, vec![(b"c".to_vec(), 2.0)]);
        let min = zsets::pop_from(t, h, b"z", true, 5, 0, 0).unwrap().unwrap();
        assert_eq!(min, vec![(b"a".to_vec(), 0.0), (b"b".to_vec(), 1.0)]);
        assert!(t.find(h, b"z").is_none());
    }
}
