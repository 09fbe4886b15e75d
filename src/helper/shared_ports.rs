//! Ports only the app's code knows, in cluster mode (`--share-ports`).
//!
//! PM2's cluster primary shares every port its workers listen on. Here each
//! worker's helper plays that part for its own app process: when the app
//! listens on a TCP port no socket unit holds, the preload asks the helper,
//! which binds the port once, with `SO_REUSEPORT`, and hands the listening
//! socket over Node's IPC channel, as a cluster primary hands a handle to
//! its workers (`NODE_HANDLE`, type `net.Native`). Every worker's helper
//! binds its own socket of the port, so the kernel spreads new connections
//! over the workers; the helper keeps its socket while a successor replaces
//! the app, so a reload refuses no connection, and gives systemd a copy to
//! keep in the worker's file descriptor store (`FileDescriptorStoreMax=`),
//! which passes it back when the worker restarts: connections wait in the
//! socket for the restarted worker instead of being reset. A socket only an
//! old process asked for is closed, and removed from the store, once a
//! successor took over: the app now listens elsewhere (docs/contract.md,
//! "Ports in the app's code").

use std::io::IoSlice;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;

use nix::errno::Errno;
use nix::sys::socket::{
    bind, listen, sendmsg, setsockopt, socket, sockopt, AddressFamily, Backlog, ControlMessage,
    MsgFlags, SockFlag, SockType, SockaddrStorage,
};
use sd_notify::NotifyState;
use serde_json::json;

/// The preload's request: a socket for `listen(port, host)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindRequest {
    /// The preload's number for the request, given back with the answer.
    pub id: u64,
    pub port: u16,
    /// An address the preload resolved; `None`: every address, as Node's
    /// `listen(port)` (IPv6 and IPv4, or IPv4 alone without IPv6).
    pub host: Option<IpAddr>,
    pub ipv6_only: bool,
}

/// The `cmd` of the helper's answer: internal to Node's IPC (`NODE_`), so
/// the app's own `process.on('message')` never sees it.
const ANSWER: &str = "NODE_NODEUNITS_SOCKET";

/// The start of the names of the sockets in systemd's file descriptor
/// store: `nodeunits-port.PORT.V6ONLY.HOST`, HOST `any` or the address with
/// `:` as `-` (systemd refuses `:` in a name).
const STORED: &str = "nodeunits-port.";

/// Node's default backlog, as `listen()` without one.
const BACKLOG: i32 = 511;

/// Which process of the worker asked for a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asker {
    /// The app process that serves now.
    Current,
    /// Its successor, starting during a reload.
    Successor,
}

struct Held {
    port: u16,
    host: Option<IpAddr>,
    ipv6_only: bool,
    socket: OwnedFd,
    current: bool,
    successor: bool,
}

impl Held {
    fn stored_name(&self) -> String {
        let host = self
            .host
            .map_or_else(|| "any".to_owned(), |ip| ip.to_string().replace(':', "-"));
        format!("{STORED}{}.{}.{host}", self.port, u8::from(self.ipv6_only))
    }
}

/// Whether a name of `LISTEN_FDNAMES` is one of these sockets.
pub fn is_stored(name: &str) -> bool {
    name.starts_with(STORED)
}

/// The request a stored socket answers, from its name.
fn from_stored(name: &str) -> Option<(u16, bool, Option<IpAddr>)> {
    let mut parts = name.strip_prefix(STORED)?.splitn(3, '.');
    let port = parts.next()?.parse().ok()?;
    let ipv6_only = match parts.next()? {
        "0" => false,
        "1" => true,
        _ => return None,
    };
    let host = match parts.next()? {
        "any" => None,
        host => Some(host.replace('-', ":").parse().ok()?),
    };
    Some((port, ipv6_only, host))
}

/// The sockets this worker's helper holds for ports in the app's code.
#[derive(Default)]
pub struct SharedPorts {
    held: Vec<Held>,
}

impl SharedPorts {
    /// The sockets systemd passed back from the worker's store after a
    /// restart: `stored` are their fds with their names. The app gets them
    /// when it asks; those it has not asked for once ready are closed
    /// ([`SharedPorts::ready`]).
    pub fn adopt(stored: Vec<(OwnedFd, String)>) -> SharedPorts {
        let mut held = Vec::new();
        for (socket, name) in stored {
            let Some((port, ipv6_only, host)) = from_stored(&name) else {
                tracing::warn!("systemd passed a socket named {name:?}, which nodeunits did not store: closing it");
                continue;
            };
            tracing::info!("port {port}: the socket kept by systemd while the worker restarted");
            held.push(Held {
                port,
                host,
                ipv6_only,
                socket,
                current: false,
                successor: false,
            });
        }
        SharedPorts { held }
    }

    /// Answers `request` on `channel`: the socket, bound now or held
    /// already, or the error binding it failed with (the app sees it as its
    /// own `listen()` would have failed).
    pub fn answer(&mut self, request: &BindRequest, channel: Option<&mut UnixStream>, by: Asker) {
        let Some(channel) = channel else {
            return;
        };
        let socket = self.socket(request, by);
        let sent = match socket {
            Ok(fd) => {
                let message = json!({
                    "cmd": "NODE_HANDLE",
                    "type": "net.Native",
                    "msg": { "cmd": ANSWER, "id": request.id },
                });
                send(channel, &message, Some(fd))
            }
            Err(errno) => {
                tracing::warn!(
                    "cannot bind port {} for the app: {}",
                    request.port,
                    errno.desc()
                );
                let message = json!({ "cmd": ANSWER, "id": request.id, "errno": errno as i32 });
                send(channel, &message, None)
            }
        };
        if let Err(error) = sent {
            tracing::debug!(
                "answering the app's request for port {}: {error}",
                request.port
            );
        }
    }

    fn socket(&mut self, request: &BindRequest, by: Asker) -> Result<BorrowedFd<'_>, Errno> {
        let same = |held: &Held| {
            (held.port, held.host, held.ipv6_only)
                == (request.port, request.host, request.ipv6_only)
        };
        let at = match self.held.iter().position(same) {
            Some(at) => at,
            None => {
                let socket = bind_shared(request)?;
                tracing::info!(
                    "the app listens on port {}: bound for it, shared with the other workers",
                    request.port
                );
                let held = Held {
                    port: request.port,
                    host: request.host,
                    ipv6_only: request.ipv6_only,
                    socket,
                    current: false,
                    successor: false,
                };
                store(&held);
                self.held.push(held);
                self.held.len() - 1
            }
        };
        let held = &mut self.held[at];
        match by {
            Asker::Current => held.current = true,
            Asker::Successor => held.successor = true,
        }
        Ok(self.held[at].socket.as_fd())
    }

    /// The app is ready: a socket kept by systemd that it did not ask for
    /// is a port it no longer listens on.
    pub fn ready(&mut self) {
        self.held.retain(|held| held.current || unstore(held));
    }

    /// The successor took over: the sockets it asked for are the app's now;
    /// those only the old process used are closed.
    pub fn promoted(&mut self) {
        self.held.retain(|held| held.successor || unstore(held));
        for held in &mut self.held {
            held.current = true;
            held.successor = false;
        }
    }

    /// No successor is starting (it failed, or none was asked for): the
    /// sockets only it asked for are closed.
    pub fn without_successor(&mut self) {
        if self.held.iter().any(|held| held.successor) {
            self.held.retain(|held| held.current || unstore(held));
            for held in &mut self.held {
                held.successor = false;
            }
        }
    }

    /// The ports held.
    #[cfg(test)]
    pub fn ports(&self) -> Vec<u16> {
        self.held.iter().map(|held| held.port).collect()
    }
}

/// Gives systemd a copy of `held`'s socket to keep while the worker
/// restarts (nothing outside systemd, as in a container).
fn store(held: &Held) {
    let name = held.stored_name();
    let states = [NotifyState::FdStore, NotifyState::FdName(&name)];
    if let Err(error) = sd_notify::notify_with_fds(&states, &[held.socket.as_fd()]) {
        tracing::debug!("storing the socket of port {}: {error}", held.port);
    }
}

/// Takes `held`'s socket out of systemd's store; false, for `retain`.
fn unstore(held: &Held) -> bool {
    let name = held.stored_name();
    tracing::info!(
        "port {}: the app no longer listens on it; closing it",
        held.port
    );
    if let Err(error) = sd_notify::notify(&[NotifyState::FdStoreRemove, NotifyState::FdName(&name)])
    {
        tracing::debug!(
            "removing the socket of port {} from the store: {error}",
            held.port
        );
    }
    false
}

/// A listening socket of the request's address with `SO_REUSEPORT`, which
/// the other workers' sockets of the port join (the kernel lets only
/// sockets of the same user do so).
fn bind_shared(request: &BindRequest) -> Result<OwnedFd, Errno> {
    match request.host {
        Some(ip) => bind_at(SocketAddr::new(ip, request.port), request.ipv6_only),
        // Node's listen(port): `::` (both families unless ipv6Only), else 0.0.0.0.
        None => {
            let any6 = SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), request.port);
            match bind_at(any6, request.ipv6_only) {
                Err(Errno::EAFNOSUPPORT | Errno::EADDRNOTAVAIL) => {
                    let any4 = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), request.port);
                    bind_at(any4, false)
                }
                other => other,
            }
        }
    }
}

fn bind_at(address: SocketAddr, ipv6_only: bool) -> Result<OwnedFd, Errno> {
    let family = match address {
        SocketAddr::V4(_) => AddressFamily::Inet,
        SocketAddr::V6(_) => AddressFamily::Inet6,
    };
    let socket = socket(family, SockType::Stream, SockFlag::SOCK_CLOEXEC, None)?;
    setsockopt(&socket, sockopt::ReuseAddr, &true)?;
    setsockopt(&socket, sockopt::ReusePort, &true)?;
    if family == AddressFamily::Inet6 {
        setsockopt(&socket, sockopt::Ipv6V6Only, &ipv6_only)?;
    }
    bind(socket.as_raw_fd(), &SockaddrStorage::from(address))?;
    listen(&socket, Backlog::new(BACKLOG).unwrap_or(Backlog::MAXCONN))?;
    Ok(socket)
}

/// One JSON line on Node's IPC channel, with `fd` passed along.
fn send(
    channel: &UnixStream,
    message: &serde_json::Value,
    fd: Option<BorrowedFd>,
) -> nix::Result<()> {
    let mut line = message.to_string().into_bytes();
    line.push(b'\n');
    let fds = fd.map(|fd| [fd.as_raw_fd()]);
    let control: Vec<ControlMessage> = fds
        .iter()
        .map(|fds| ControlMessage::ScmRights(fds))
        .collect();
    let mut sent = sendmsg::<()>(
        channel.as_raw_fd(),
        &[IoSlice::new(&line)],
        &control,
        MsgFlags::MSG_NOSIGNAL,
        None,
    )?;
    // The rest of a line cut short goes without the fd, which came with its start.
    while sent < line.len() {
        sent += sendmsg::<()>(
            channel.as_raw_fd(),
            &[IoSlice::new(&line[sent..])],
            &[],
            MsgFlags::MSG_NOSIGNAL,
            None,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
