//! emberkv-server as a library: the server's layers, so that tests (and
//! tools) can run a server in process and reach its in-process APIs, such
//! as the propagation stream (`Server::stream`). The binary (main.rs) is
//! start-up, logging and signals around [`net::run`].

pub mod blocking;
pub mod client;
pub mod cmd;
pub mod config;
pub mod dispatch;
pub mod errors;
pub mod funnel;
pub mod gate;
pub mod logging;
pub mod net;
pub mod notify;
pub mod persist;
pub mod process;
pub mod pubsub;
pub mod script;
pub mod server;
pub mod watch;

// The core's layers, at the paths the server's modules name them by.
pub use emberkv_core::{effects, lazyfree, store, types, util};

use std::sync::Arc;

/// Starts a server in this process with `args` as on the command line
/// (`--port 7000 --save ''` ...), serving on its own threads. No logging,
/// no signal handlers, no pid file: for tests. The server runs until the
/// process exits (SHUTDOWN would end the process).
pub fn start_in_process(args: &[&str]) -> Result<Arc<server::Server>, String> {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let config = config::Config::from_args(&args).map_err(|e| e.to_string())?;
    let threads = match config.int("server-threads") {
        n if n > 0 => n as usize,
        _ => 2,
    };
    server::clock();
    let srv = Arc::new(server::Server::new(config, threads, Box::new(|_| {})));
    srv.config_changed();
    let s = srv.clone();
    std::thread::Builder::new()
        .name("emberkv-net".into())
        .spawn(move || {
            if let Err(e) = net::run(s) {
                eprintln!("emberkv: {e}");
            }
        })
        .map_err(|e| e.to_string())?;
    Ok(srv)
}
