//! The transaction gate: how EXEC and scripts run atomically across all
//! shards without a lock on every key.
//!
//! Every worker holds the gate *shared* while it runs a batch of requests
//! (one read-lock per batch, not per command: pipelined requests share
//! it). EXEC, EVAL and EVALSHA take it *exclusive* for their whole run, so
//! no other client's command can interleave with a transaction or a
//! script, whatever shards they touch. Inside, commands still lock their
//! shards as usual (uncontended, since nobody else runs).
//!
//! A script that runs past `busy-reply-threshold` sets the busy flag: the
//! other workers stop waiting for the gate and answer `-BUSY` to everything
//! but the few commands Redis allows then (SCRIPT KILL, ...).

use crate::server::Server;
use parking_lot::{RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

pub enum Gate<'a> {
    /// A script holds the gate past its busy threshold: only ALLOW_BUSY
    /// commands may run.
    Busy,
    Shared(#[allow(dead_code)] RwLockReadGuard<'a, ()>),
    Exclusive(#[allow(dead_code)] RwLockWriteGuard<'a, ()>),
    /// A command run by EXEC or a script: the caller already holds the
    /// gate exclusively.
    Inside,
}

/// How long a worker waits for the gate before re-checking the busy flag.
const POLL: Duration = Duration::from_millis(1);

impl<'a> Gate<'a> {
    /// The gate for a batch of requests.
    pub fn enter(srv: &'a Server) -> Gate<'a> {
        if let Some(g) = srv.gate.try_read() {
            return Gate::Shared(g);
        }
        loop {
            if srv.scripts.is_busy() {
                return Gate::Busy;
            }
            if let Some(g) = srv.gate.try_read_for(POLL) {
                return Gate::Shared(g);
            }
        }
    }

    pub fn is_busy(&self) -> bool {
        matches!(self, Gate::Busy)
    }

    /// Upgrades to exclusive for EXEC/EVAL. False if a busy script holds
    /// the gate (the caller replies -BUSY).
    pub fn exclusive(&mut self, srv: &'a Server) -> bool {
        match self {
            Gate::Exclusive(_) | Gate::Inside => return true,
            Gate::Busy => return false,
            Gate::Shared(_) => *self = Gate::Busy, // release before waiting
        }
        loop {
            if let Some(g) = srv.gate.try_write_for(POLL) {
                *self = Gate::Exclusive(g);
                return true;
            }
            if srv.scripts.is_busy() {
                return false;
            }
        }
    }

    /// Back to shared after an exclusive command.
    pub fn release(&mut self, srv: &'a Server) {
        if matches!(self, Gate::Exclusive(_)) {
            *self = Gate::Busy;
            *self = Gate::enter(srv);
        }
    }
}
