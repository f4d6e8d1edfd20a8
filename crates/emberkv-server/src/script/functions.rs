//! Redis 7 functions: libraries of Lua functions loaded with FUNCTION LOAD
//! (`#!lua name=<lib>` then `redis.register_function` calls) and run with
//! FCALL. This is the process-wide registry; each worker's Lua state loads
//! the libraries itself (engine.rs) when the registry's epoch changes.

use crate::errors;
use parking_lot::RwLock;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct FuncMeta {
    pub name: String,
    pub description: Option<String>,
    pub flags: Vec<String>,
}

impl FuncMeta {
    pub fn no_writes(&self) -> bool {
        self.flags.iter().any(|f| f == "no-writes")
    }
}

pub struct Library {
    pub name: String,
    /// As sent (FUNCTION LIST WITHCODE).
    pub code: Arc<[u8]>,
    /// As loaded: the shebang line blanked.
    pub body: Arc<[u8]>,
    pub funcs: Vec<FuncMeta>,
}

#[derive(Default)]
pub struct Functions {
    libs: RwLock<BTreeMap<String, Arc<Library>>>,
    /// Bumped by every change; workers reload their functions when it moves.
    pub epoch: AtomicU64,
}

/// Names of libraries and functions: letters, digits, underscores.
pub fn valid_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// Parses the `#!lua name=<lib>` first line. Returns the library name and
/// the code with that line blanked (so Lua's line numbers stay those of
/// the text the user sent).
pub fn parse_shebang(code: &[u8]) -> Result<(String, Vec<u8>), String> {
    if !code.starts_with(b"#!") {
        return Err(errors::MISSING_LIBRARY_METADATA.into());
    }
    let end = memchr::memchr(b'\n', code).unwrap_or(code.len());
    let line = String::from_utf8_lossy(&code[2..end]).into_owned();
    let mut parts = line.split_whitespace();
    let engine = parts.next().unwrap_or("");
    if !engine.eq_ignore_ascii_case("lua") {
        return Err(errors::engine_not_found(engine));
    }
    let mut name = None;
    for p in parts {
        match p.split_once('=') {
            Some(("name", v)) => name = Some(v.to_string()),
            _ => return Err(errors::invalid_metadata(p)),
        }
    }
    let name = name.ok_or_else(|| errors::LIBRARY_NAME_NOT_GIVEN.to_string())?;
    if !valid_name(&name) {
        return Err(errors::BAD_LIBRARY_NAME.into());
    }
    let mut body = code.to_vec();
    for b in &mut body[..end] {
        *b = b' ';
    }
    Ok((name, body))
}

impl Functions {
    /// Adds (or with `replace`, replaces) a library whose functions were
    /// registered by a trial load.
    pub fn add(&self, lib: Library, replace: bool) -> Result<(), String> {
        let mut libs = self.libs.write();
        if libs.contains_key(&lib.name) && !replace {
            return Err(errors::library_exists(&lib.name));
        }
        for f in &lib.funcs {
            let clash = libs.values().any(|l| {
                l.name != lib.name && l.funcs.iter().any(|g| g.name.eq_ignore_ascii_case(&f.name))
            });
            if clash {
                return Err(errors::function_exists(&f.name));
            }
        }
        libs.insert(lib.name.clone(), Arc::new(lib));
        self.epoch.fetch_add(1, Relaxed);
        Ok(())
    }

    /// FUNCTION RESTORE: all of `new` or nothing. `flush` replaces every
    /// library; otherwise a library of the same name is an error unless
    /// `replace`, and a function name may not clash with one kept.
    pub fn restore(&self, new: Vec<Library>, flush: bool, replace: bool) -> Result<(), String> {
        let mut libs = self.libs.write();
        if !flush {
            for lib in &new {
                if libs.contains_key(&lib.name) && !replace {
                    return Err(format!("ERR Library {} already exists", lib.name));
                }
            }
            let kept = libs
                .values()
                .filter(|l| !new.iter().any(|n| n.name == l.name));
            for l in kept {
                for f in &l.funcs {
                    let clash =
                        |n: &Library| n.funcs.iter().any(|g| g.name.eq_ignore_ascii_case(&f.name));
                    if new.iter().any(clash) {
                        return Err(format!("ERR Function {} already exists", f.name));
                    }
                }
            }
        } else {
            libs.clear();
        }
        for lib in new {
            libs.insert(lib.name.clone(), Arc::new(lib));
        }
        self.epoch.fetch_add(1, Relaxed);
        Ok(())
    }

    pub fn delete(&self, name: &str) -> bool {
        let found = self.libs.write().remove(name).is_some();
        if found {
            self.epoch.fetch_add(1, Relaxed);
        }
        found
    }

    pub fn flush(&self) {
        self.libs.write().clear();
        self.epoch.fetch_add(1, Relaxed);
    }

    pub fn libraries(&self) -> Vec<Arc<Library>> {
        self.libs.read().values().cloned().collect()
    }

    /// The metadata of function `name`, matched regardless of case as
    /// Redis's function dictionary matches it.
    pub fn find(&self, name: &str) -> Option<FuncMeta> {
        self.libs.read().values().find_map(|l| {
            l.funcs
                .iter()
                .find(|f| f.name.eq_ignore_ascii_case(name))
                .cloned()
        })
    }

    pub fn counts(&self) -> (usize, usize) {
        let libs = self.libs.read();
        (libs.len(), libs.values().map(|l| l.funcs.len()).sum())
    }
}
