//! Whole RDB files: writing their parts in Redis's order, and loading one
//! record by record into a [`load::Sink`].

pub mod bg;
pub mod load;
pub mod save;
