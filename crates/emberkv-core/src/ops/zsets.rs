//! Sorted-set data operations shared by the commands and by blocked
//! clients served (blocking.rs).

use super::OpError;
use crate::store::entry::T_ZSET;
use crate::store::Table;

/// Popped (member, score) pairs.
pub type Pairs = Vec<(Vec<u8>, f64)>;

/// Pops up to `count` lowest (`min`) or highest pairs. Ok(None): no key.
pub fn pop_from(
    t: &mut Table,
    h: u64,
    key: &[u8],
    min: bool,
    count: usize,
    now: i64,
    lru: u32,
) -> Result<Option<Pairs>, OpError> {
    let (v, empty) = {
        let Some(mut g) = super::write_in(t, h, key, T_ZSET, now, lru, None)? else {
            return Ok(None);
        };
        let z = g.zset();
        let n = z.len();
        let k = count.min(n);
        let v = if k == 0 {
            Vec::new()
        } else if min {
            z.collect(0, k - 1, false)
        } else {
            z.collect(n - k, n - 1, true)
        };
        for (m, _) in &v {
            z.remove(m);
        }
        (v, z.is_empty())
    };
    if empty {
        t.delete(h, key);
    }
    Ok(Some(v))
}
