//! List data operations shared by the list commands and by blocked
//! clients served (blocking.rs).

use super::OpError;
use crate::store::entry::T_LIST;
use crate::store::Table;
use crate::types::{List, Obj};

/// Pops up to `count` elements from the list at `key`. Ok(None): no key.
pub fn pop_from(
    t: &mut Table,
    h: u64,
    key: &[u8],
    front: bool,
    count: usize,
    now: i64,
    lru: u32,
) -> Result<Option<Vec<Vec<u8>>>, OpError> {
    let mut v = Vec::new();
    let empty = {
        let Some(mut g) = super::write_in(t, h, key, T_LIST, now, lru, None)? else {
            return Ok(None);
        };
        let l = g.list();
        for _ in 0..count {
            match l.pop(front) {
                Some(e) => v.push(e),
                None => break,
            }
        }
        l.is_empty()
    };
    if empty {
        t.delete(h, key);
    }
    Ok(Some(v))
}

/// Pushes `elems` onto the list at `key` (creating it); the new length.
pub fn push_to<'a>(
    t: &mut Table,
    h: u64,
    key: &[u8],
    front: bool,
    elems: impl IntoIterator<Item = &'a [u8]>,
    now: i64,
    lru: u32,
) -> Result<usize, OpError> {
    let mut g = super::write_in(
        t,
        h,
        key,
        T_LIST,
        now,
        lru,
        Some(&|| Obj::List(List::default())),
    )?
    .expect("created");
    let l = g.list();
    for e in elems {
        l.push(front, e);
    }
    Ok(l.len())
}
