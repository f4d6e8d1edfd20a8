//! emberkv's file formats, byte-compatible with Redis 7.0's: the RDB
//! encoding (lengths, strings with their integer and LZF forms, binary
//! doubles, the CRC64 trailer). This crate knows nothing of the server or
//! the keyspace: the snapshot code walks the data and calls the writer;
//! the loader reads values with the reader and builds the data itself.

pub mod intset;
pub mod listpack;
pub mod rdb;
pub mod ziplist;
pub mod zipmap;
