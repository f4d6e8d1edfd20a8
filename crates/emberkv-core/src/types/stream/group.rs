//! Consumer groups: the last delivered ID, the read counter, the pending
//! entries list (PEL: ID -> owner, delivery time and count) and the
//! consumers, each with its own PEL of IDs. Groups and consumers are kept
//! in name order, as Redis's radix trees list them.

use super::Id;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The read counter is unknown (SCG_INVALID_ENTRIES_READ).
pub const ENTRIES_READ_UNKNOWN: i64 = -1;

#[derive(Clone, Debug)]
pub struct Nack {
    pub delivery_time: i64,
    pub delivery_count: u64,
    /// The owner (shared with its consumer's key).
    pub consumer: Arc<[u8]>,
}

#[derive(Clone, Debug, Default)]
pub struct Consumer {
    pub seen_time: i64,
    pub pel: BTreeSet<Id>,
}

#[derive(Clone, Debug)]
pub struct CGroup {
    pub last_id: Id,
    pub entries_read: i64,
    pub pel: BTreeMap<Id, Nack>,
    pub consumers: BTreeMap<Arc<[u8]>, Consumer>,
}

impl CGroup {
    pub fn new(last_id: Id, entries_read: i64) -> CGroup {
        CGroup {
            last_id,
            entries_read,
            pel: BTreeMap::new(),
            consumers: BTreeMap::new(),
        }
    }

    /// The consumer's shared name, creating it (seen now) if missing;
    /// true if it was created.
    pub fn consumer(&mut self, name: &[u8], now: i64) -> (Arc<[u8]>, bool) {
        if let Some((k, _)) = self.consumers.get_key_value(name) {
            return (k.clone(), false);
        }
        let k: Arc<[u8]> = Arc::from(name);
        self.consumers.insert(
            k.clone(),
            Consumer {
                seen_time: now,
                pel: BTreeSet::new(),
            },
        );
        (k, true)
    }

    /// Deletes a consumer and its pending entries; None if missing, else
    /// how many entries it had pending.
    pub fn del_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let c = self.consumers.remove(name)?;
        for id in &c.pel {
            self.pel.remove(id);
        }
        Some(c.pel.len())
    }

    /// Acknowledges `id`: removes it from both PELs.
    pub fn ack(&mut self, id: Id) -> bool {
        let Some(n) = self.pel.remove(&id) else {
            return false;
        };
        if let Some(c) = self.consumers.get_mut(&n.consumer[..]) {
            c.pel.remove(&id);
        }
        true
    }

    /// Gives pending `id` to `owner` (which must exist), or creates its
    /// NACK; `fresh` resets the delivery count to 1 (a new delivery).
    /// Returns the NACK.
    pub fn assign(&mut self, id: Id, owner: &Arc<[u8]>, now: i64) -> &Nack {
        match self.pel.get_mut(&id) {
            Some(n) => {
                if n.consumer != *owner {
                    if let Some(c) = self.consumers.get_mut(&n.consumer[..]) {
                        c.pel.remove(&id);
                    }
                    n.consumer = owner.clone();
                }
                n.delivery_time = now;
                n.delivery_count = 1;
            }
            None => {
                self.pel.insert(
                    id,
                    Nack {
                        delivery_time: now,
                        delivery_count: 1,
                        consumer: owner.clone(),
                    },
                );
            }
        }
        if let Some(c) = self.consumers.get_mut(&owner[..]) {
            c.pel.insert(id);
        }
        &self.pel[&id]
    }

    /// Moves the pending `id` to `owner` (claims).
    pub fn transfer(&mut self, id: Id, owner: &Arc<[u8]>) {
        let Some(n) = self.pel.get_mut(&id) else {
            return;
        };
        if n.consumer != *owner {
            let old = std::mem::replace(&mut n.consumer, owner.clone());
            if let Some(c) = self.consumers.get_mut(&old[..]) {
                c.pel.remove(&id);
            }
            if let Some(c) = self.consumers.get_mut(&owner[..]) {
                c.pel.insert(id);
            }
        }
    }
}
