//! Keyspace values <-> their RDB encoding (Redis's `rdbSaveObject` /
//! `rdbLoadObject`), shared by the snapshot file, DUMP/RESTORE and, later,
//! the AOF's RDB preamble and full resynchronization.

mod dump;
mod load;
mod save;
mod stream;

pub use dump::{dump, into_entry, undump, Refused};
pub use load::{read_value, Value};
pub use save::{d2string, write_value};
