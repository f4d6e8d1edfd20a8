//! Listening sockets and connections, TCP or unix, behind one type each so
//! the event loop does not care which a client came through.

use crate::config::Config;
use mio::event::Source;
use mio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use mio::{Interest, Registry, Token};
use socket2::{Domain, SockAddr, Socket, Type};
use std::io::{self, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;
use tracing::{info, warn};

pub enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    pub fn fd(&self) -> RawFd {
        match self {
            Stream::Tcp(s) => s.as_raw_fd(),
            Stream::Unix(s) => s.as_raw_fd(),
        }
    }
}

impl Write for Stream {
    #[inline]
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(b),
            Stream::Unix(s) => s.write(b),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Source for Stream {
    fn register(&mut self, r: &Registry, t: Token, i: Interest) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.register(r, t, i),
            Stream::Unix(s) => s.register(r, t, i),
        }
    }
    fn reregister(&mut self, r: &Registry, t: Token, i: Interest) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.reregister(r, t, i),
            Stream::Unix(s) => s.reregister(r, t, i),
        }
    }
    fn deregister(&mut self, r: &Registry) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.deregister(r),
            Stream::Unix(s) => s.deregister(r),
        }
    }
}

pub enum Listener {
    Tcp(TcpListener),
    /// With its path, shown as the peer's and our address (Redis shows
    /// `addr=/path:0`).
    Unix(UnixListener, String),
}

/// An accepted connection with the addresses CLIENT LIST shows.
pub struct Accepted {
    pub stream: Stream,
    pub addr: String,
    pub laddr: String,
    pub unix: bool,
}

impl Listener {
    /// A second handle on the same socket, for another worker's poll.
    pub fn try_clone(&self) -> io::Result<Listener> {
        let fd = match self {
            Listener::Tcp(l) => l.as_raw_fd(),
            Listener::Unix(l, _) => l.as_raw_fd(),
        };
        // SAFETY: dup returns a new fd that we own from here on.
        let dup = unsafe { libc::dup(fd) };
        if dup < 0 {
            return Err(io::Error::last_os_error());
        }
        use std::os::fd::FromRawFd;
        Ok(match self {
            // SAFETY: `dup` is a fresh fd of the same listening socket.
            Listener::Tcp(_) => Listener::Tcp(unsafe { TcpListener::from_raw_fd(dup) }),
            Listener::Unix(_, p) => {
                Listener::Unix(unsafe { UnixListener::from_raw_fd(dup) }, p.clone())
            }
        })
    }

    pub fn source(&mut self) -> &mut dyn Source {
        match self {
            Listener::Tcp(l) => l,
            Listener::Unix(l, _) => l,
        }
    }

    pub fn accept(&self, keepalive_secs: u64) -> io::Result<Accepted> {
        match self {
            Listener::Tcp(l) => {
                let (s, addr) = l.accept()?;
                let _ = s.set_nodelay(true);
                if keepalive_secs > 0 {
                    // As Redis's anetKeepAlive: probes after the idle time,
                    // a third of it apart, three of them.
                    let t = Duration::from_secs(keepalive_secs);
                    let ka = socket2::TcpKeepalive::new()
                        .with_time(t)
                        .with_interval((t / 3).max(Duration::from_secs(1)))
                        .with_retries(3);
                    let _ = socket2::SockRef::from(&s).set_tcp_keepalive(&ka);
                }
                let laddr = s.local_addr().map(|a| a.to_string()).unwrap_or_default();
                Ok(Accepted {
                    stream: Stream::Tcp(s),
                    addr: addr.to_string(),
                    laddr,
                    unix: false,
                })
            }
            Listener::Unix(l, path) => {
                let (s, _) = l.accept()?;
                Ok(Accepted {
                    stream: Stream::Unix(s),
                    addr: format!("{path}:0"),
                    laddr: format!("{path}:0"),
                    unix: true,
                })
            }
        }
    }
}

fn socket_error(what: &str, e: io::Error) -> io::Error {
    io::Error::new(
        e.kind(),
        format!("{what}: {}", crate::config::os_reason(&e)),
    )
}

fn tcp_listener(addr: SocketAddr, backlog: i32, mark: u32) -> io::Result<TcpListener> {
    let s = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    s.set_reuse_address(true)?;
    if addr.is_ipv6() {
        s.set_only_v6(true)?;
    }
    if mark != 0 {
        s.set_mark(mark)?;
    }
    s.bind(&SockAddr::from(addr))?;
    s.listen(backlog)?;
    s.set_nonblocking(true)?;
    Ok(TcpListener::from_std(s.into()))
}

/// Binds what the configuration asks for: every `bind` address on `port`
/// (an address written `-addr` may be missing), and `unixsocket` with
/// `unixsocketperm`, each with `tcp-backlog`.
pub fn bind_all(cfg: &Config) -> io::Result<Vec<Listener>> {
    let backlog = cfg.int("tcp-backlog").clamp(0, i32::MAX as i64) as i32;
    let mark = cfg.uint("socket-mark-id") as u32;
    let port = cfg.port();
    let mut out = Vec::new();
    if port != 0 {
        for b in cfg.bind() {
            let optional = b.starts_with('-');
            let host = b.trim_start_matches('-');
            let host = match host {
                "*" => "0.0.0.0",
                "::*" => "::",
                h => h,
            };
            let addrs: Vec<SocketAddr> = match (host, port).to_socket_addrs() {
                Ok(a) => a.collect(),
                Err(e) if optional => {
                    warn!(addr = host, error = %e, "optional bind address skipped");
                    continue;
                }
                Err(e) => return Err(socket_error(&format!("invalid bind address '{b}'"), e)),
            };
            for a in addrs {
                match tcp_listener(a, backlog, mark) {
                    Ok(l) => {
                        info!(addr = %a, "listening");
                        out.push(Listener::Tcp(l));
                    }
                    Err(e) if optional => {
                        warn!(addr = %a, error = %e, "optional bind address skipped")
                    }
                    Err(e) => {
                        return Err(socket_error(
                            &format!("Warning: Could not create server TCP listening socket {a}"),
                            e,
                        ))
                    }
                }
            }
        }
    }
    let path = cfg.get("unixsocket");
    if !path.is_empty() {
        let _ = std::fs::remove_file(path);
        let s = Socket::new(Domain::UNIX, Type::STREAM, None)?;
        s.bind(&SockAddr::unix(path)?)
            .map_err(|e| socket_error(&format!("Failed opening Unix socket {path}"), e))?;
        s.listen(backlog)?;
        s.set_nonblocking(true)?;
        // Kept as octal text, as CONFIG GET prints it.
        let perm = u32::from_str_radix(cfg.get("unixsocketperm"), 8).unwrap_or(0);
        if perm != 0 {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(perm))?;
        }
        let std_l: std::os::unix::net::UnixListener = s.into();
        info!("The server is now ready to accept connections at {path}");
        out.push(Listener::Unix(
            UnixListener::from_std(std_l),
            path.to_string(),
        ));
    }
    if out.is_empty() {
        return Err(io::Error::other(
            "Configured to not listen anywhere, exiting.",
        ));
    }
    Ok(out)
}
