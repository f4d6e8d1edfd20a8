//! The script cache: bodies by SHA1, bounded.
//!
//! Redis 7.0 keeps every script EVAL ever saw until SCRIPT FLUSH, so a
//! client that builds a new script per call (arguments pasted into the
//! text, a common mistake) grows the server without limit. Here, as Redis
//! 7.4 does, scripts that came in through EVAL are capped at
//! `MAX_EVAL_SCRIPTS` and the least recently used one is evicted past it;
//! scripts from SCRIPT LOAD stay until SCRIPT FLUSH. An evicted script is
//! unknown to EVALSHA (NOSCRIPT), and clients then send it with EVAL again.
//!
//! Recency costs no lock on the hot path: a script records the cache's
//! *generation* (moved by every new EVAL script) when it runs, and only
//! writes it when the generation moved, so a steady set of scripts never
//! writes to shared memory.

use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

/// Most scripts kept from EVAL (Redis 7.4's limit).
pub const MAX_EVAL_SCRIPTS: usize = 500;

pub struct Script {
    pub body: Arc<[u8]>,
    /// Came in through SCRIPT LOAD: never evicted.
    loaded: AtomicBool,
    /// The cache generation when it last ran.
    used: AtomicU64,
    /// Evicted: workers drop their compiled copy when they next see it.
    evicted: AtomicBool,
}

impl Script {
    #[inline]
    pub fn is_evicted(&self) -> bool {
        self.evicted.load(Relaxed)
    }
}

#[derive(Default)]
struct Map {
    scripts: HashMap<[u8; 40], Arc<Script>>,
    /// How many of them are EVAL scripts (evictable).
    evals: usize,
}

#[derive(Default)]
pub struct Cache {
    map: RwLock<Map>,
    generation: AtomicU64,
    evicted: AtomicU64,
}

impl Cache {
    pub fn get(&self, sha: &[u8; 40]) -> Option<Arc<Script>> {
        self.map.read().scripts.get(sha).cloned()
    }

    pub fn contains(&self, sha: &[u8; 40]) -> bool {
        self.map.read().scripts.contains_key(sha)
    }

    pub fn len(&self) -> usize {
        self.map.read().scripts.len()
    }

    /// Scripts evicted so far (INFO stats `evicted_scripts`).
    pub fn evicted(&self) -> u64 {
        self.evicted.load(Relaxed)
    }

    /// Adds `body` (SHA1 `sha`) from EVAL (`loaded` false) or SCRIPT LOAD.
    /// A script SCRIPT LOAD names becomes permanent even if EVAL added it.
    pub fn insert(&self, sha: [u8; 40], body: &[u8], loaded: bool) -> Arc<Script> {
        if let Some(s) = self.get(&sha) {
            if loaded && !s.loaded.load(Relaxed) {
                let mut m = self.map.write();
                if !s.loaded.swap(true, Relaxed) {
                    m.evals -= 1;
                }
            }
            self.touch(&s);
            return s;
        }
        let mut m = self.map.write();
        if let Some(s) = m.scripts.get(&sha) {
            return s.clone(); // added meanwhile
        }
        let generation = if loaded {
            self.generation.load(Relaxed)
        } else {
            self.generation.fetch_add(1, Relaxed) + 1
        };
        let s = Arc::new(Script {
            body: body.into(),
            loaded: AtomicBool::new(loaded),
            used: AtomicU64::new(generation),
            evicted: AtomicBool::new(false),
        });
        m.scripts.insert(sha, s.clone());
        if !loaded {
            m.evals += 1;
            if m.evals > MAX_EVAL_SCRIPTS {
                self.evict_one(&mut m);
            }
        }
        s
    }

    /// The script ran: it becomes the most recently used.
    #[inline]
    pub fn touch(&self, s: &Script) {
        let g = self.generation.load(Relaxed);
        if s.used.load(Relaxed) != g {
            s.used.store(g, Relaxed);
        }
    }

    /// Drops the least recently used EVAL script. A scan of at most a few
    /// hundred entries, paid only by the arrival of a new script.
    fn evict_one(&self, m: &mut Map) {
        let victim = m
            .scripts
            .iter()
            .filter(|(_, s)| !s.loaded.load(Relaxed))
            .min_by_key(|(_, s)| s.used.load(Relaxed))
            .map(|(sha, _)| *sha);
        if let Some(sha) = victim {
            if let Some(s) = m.scripts.remove(&sha) {
                s.evicted.store(true, Relaxed);
                m.evals -= 1;
                self.evicted.fetch_add(1, Relaxed);
            }
        }
    }

    pub fn clear(&self) {
        let mut m = self.map.write();
        for s in m.scripts.values() {
            s.evicted.store(true, Relaxed);
        }
        m.scripts.clear();
        m.evals = 0;
    }
}
