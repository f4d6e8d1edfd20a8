//! RESP2/RESP3 wire format for emberkv.
//!
//! This crate knows nothing of the server: it turns bytes into argument
//! vectors ([`RequestParser`]) and replies into bytes ([`ReplyWriter`]).
//! Both work in place on caller-owned buffers so the server's hot path does
//! no allocation per request.

mod parse;
mod reply;
mod split;

pub use parse::{parse_i64_strict, Limits, ProtoError, RequestParser};
pub use reply::{format_double, ReplyWriter, Resp};
pub use split::split_args;
