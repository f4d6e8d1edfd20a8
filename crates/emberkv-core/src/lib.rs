//! emberkv's core: the sharded keyspace (`store`), the value types and
//! their encodings (`types`), the write funnel that records every change
//! (`effects`), and the background freeing of big values (`lazyfree`).
//! It knows nothing of the protocol or the network: the server crate
//! parses requests, dispatches commands, and consumes what this records.

pub mod effects;
pub mod lazyfree;
pub mod ops;
pub mod store;
pub mod types;
pub mod util;
