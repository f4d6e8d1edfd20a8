//! Redis 7's append-only file: a directory of a base file (an RDB, or
//! commands) and incremental command files, listed by a manifest.
//! `manifest.rs` reads and writes the list, `commands.rs` reads the
//! command files.

pub mod commands;
pub mod load;
pub mod manifest;
