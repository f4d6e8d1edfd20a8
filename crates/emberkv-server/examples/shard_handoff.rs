//! Measures what the keyspace design choice costs per operation:
//! (a) sharded locks: the connection's thread locks the key's shard itself;
//! (b) thread-per-core shards: the connection's thread sends the operation to
//!     the shard's owner thread and waits for the answer (message passing),
//!     one operation per message and 16 per message (a pipelined batch).
//!
//! Run: cargo run --release --example shard_handoff
//! Figures are in docs/ARCHITECTURE.md.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::mpsc;
use std::time::Instant;

fn pin(cpu: usize) {
    // SAFETY: plain sched_setaffinity on the calling thread with a local set.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

fn table() -> HashMap<u64, u64> {
    (0..10_000u64).map(|i| (i, i)).collect()
}

fn locks(n: u64) -> f64 {
    let shards: Vec<Mutex<HashMap<u64, u64>>> = (0..16).map(|_| Mutex::new(table())).collect();
    let t = Instant::now();
    let mut sum = 0u64;
    for i in 0..n {
        let g = shards[(i % 16) as usize].lock();
        sum = sum.wrapping_add(*g.get(&(i % 10_000)).unwrap_or(&0));
    }
    std::hint::black_box(sum);
    t.elapsed().as_nanos() as f64 / n as f64
}

fn messages(n: u64, batch: u64, owner_cpu: usize, caller_cpu: usize) -> f64 {
    let (to_owner, rx) = mpsc::channel::<Vec<u64>>();
    let (to_caller, back) = mpsc::channel::<u64>();
    let owner = std::thread::spawn(move || {
        pin(owner_cpu);
        let t = table();
        while let Ok(keys) = rx.recv() {
            let mut sum = 0u64;
            for k in keys {
                sum = sum.wrapping_add(*t.get(&(k % 10_000)).unwrap_or(&0));
            }
            if to_caller.send(sum).is_err() {
                break;
            }
        }
    });
    pin(caller_cpu);
    let t = Instant::now();
    let mut i = 0;
    while i < n {
        to_owner.send((i..i + batch).collect()).unwrap();
        std::hint::black_box(back.recv().unwrap());
        i += batch;
    }
    let ns = t.elapsed().as_nanos() as f64 / n as f64;
    drop(to_owner);
    owner.join().unwrap();
    ns
}

fn main() {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    pin(0);
    println!(
        "sharded locks, uncontended lock + lookup: {:.0} ns/op",
        locks(5_000_000)
    );
    let other = if cpus > 1 { 1 } else { 0 };
    for batch in [1, 16] {
        println!(
            "message passing, owner on another core, {batch:>2} op(s)/message: {:.0} ns/op",
            messages(200_000, batch, other, 0)
        );
        println!(
            "message passing, owner on the same core, {batch:>2} op(s)/message: {:.0} ns/op",
            messages(200_000, batch, 0, 0)
        );
    }
}
