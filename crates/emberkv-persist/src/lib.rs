//! emberkv's file formats, byte-compatible with Redis 7.0's: the AOF's
//! manifest and command files, the RDB
//! encoding (lengths, strings with their integer and LZF forms, binary
//! doubles, the CRC64 trailer), the blobs inside it (listpack, intset and
//! the legacy ziplist and zipmap), and the value codec between emberkv's
//! keyspace types and those bytes. It knows the keyspace (emberkv-core)
//! but nothing of the server or the network.

pub mod aof;
pub mod intset;
pub mod listpack;
pub mod rdb;
pub mod snapshot;
pub mod value;
pub mod ziplist;
pub mod zipmap;
