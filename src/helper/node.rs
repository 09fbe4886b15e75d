//! What a Node app gets besides its command line: the preload and an IPC
//! channel to the helper. Node itself (`--node`) gets them as Node's own:
//! `--require` and `NODE_CHANNEL_FD`. Under a launcher (`--launcher`: npm,
//! npx, yarn…) Node's own would go to the launcher, the first Node process,
//! which consumes `NODE_CHANNEL_FD`; so every Node process of the tree loads
//! the preload through `NODE_OPTIONS`, and the channel is a plain inherited
//! fd named by `NODEUNITS_CHANNEL`, which the preload hands on through the
//! launcher and opens in the process that serves.

use std::ffi::{OsStr, OsString};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};

use super::environment::{self, Vars};
use super::preload;
use crate::model::helper_options::{Instance, Runtime};
use crate::model::name::UnitNames;
use crate::model::HelperOptions;

/// Node's IPC channel: the helper's end, and the app's with the fd it gets.
/// Why the app cannot be started as a Node app.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error("cannot write the Node preload into {}: {err}", dir.display())]
    Preload { dir: PathBuf, err: std::io::Error },
    #[error("cannot create the IPC channel: {0}")]
    Channel(nix::Error),
    #[error("cannot inspect the IPC channel: {0}")]
    InspectChannel(nix::Error),
    #[error("cannot inspect socket fd {fd}: {err}")]
    InspectSocket { fd: RawFd, err: nix::Error },
}

pub struct Channel {
    pub ours: UnixStream,
    pub theirs: OwnedFd,
    pub target: RawFd,
}

/// Writes the preload, adds `--require` to `argv` (Node) or `NODE_OPTIONS`
/// (a launcher), and the channel and socket map to `vars`.
pub fn prepare(
    options: &HelperOptions,
    runtime_dir: Option<&Path>,
    listen: &[(String, RawFd)],
    listen_fds: usize,
    argv: &mut Vec<OsString>,
    vars: &mut Vars,
) -> Result<Channel, PrepareError> {
    let preload =
        preload::install(runtime_dir, options.serve).map_err(|err| PrepareError::Preload {
            dir: runtime_dir.map_or_else(std::env::temp_dir, Path::to_path_buf),
            err,
        })?;
    if options.serve {
        // `script = "serve"`: the argument `serve` becomes the server's path.
        if let Some(word) = argv.iter_mut().skip(1).find(|word| *word == "serve") {
            *word = preload::serve_path(&preload).into_os_string();
        }
    }
    let (ours, theirs) = socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(PrepareError::Channel)?;
    // The first fd after the sockets systemd passed.
    let target = 3 + listen_fds as RawFd;
    if options.runtime == Runtime::Launcher {
        let node_options = with_preload(environment::get(vars, "NODE_OPTIONS"), &preload);
        environment::set(vars, "NODE_OPTIONS", node_options);
        let inode = inode(theirs.as_fd()).map_err(PrepareError::InspectChannel)?;
        let channel = serde_json::json!({ "fd": target, "inode": inode });
        environment::set(vars, "NODEUNITS_CHANNEL", channel.to_string());
    } else {
        argv.splice(
            1..1,
            [OsString::from("--require"), preload.into_os_string()],
        );
        environment::set(vars, "NODE_CHANNEL_FD", target.to_string());
        environment::set(vars, "NODE_CHANNEL_SERIALIZATION_MODE", "json");
        if options.share_ports {
            // Node's IPC channel can carry a socket: the preload asks for one.
            environment::set(vars, "NODEUNITS_SHARE_PORTS", "1");
        }
    }
    let entries = listen
        .iter()
        .map(|(address, fd)| {
            // SAFETY: systemd passed the fds from 3 on; they stay open while the helper runs.
            let borrowed = unsafe { BorrowedFd::borrow_raw(*fd) };
            let inode =
                inode(borrowed).map_err(|err| PrepareError::InspectSocket { fd: *fd, err })?;
            Ok((address.as_str(), *fd, inode))
        })
        .collect::<Result<Vec<_>, PrepareError>>()?;
    environment::set(vars, "NODEUNITS_LISTEN", listen_map(&entries));
    if let Some(timeout) = options.unresponsive_timeout {
        environment::set(
            vars,
            "NODEUNITS_HEARTBEAT_MS",
            heartbeat(timeout).to_string(),
        );
    }
    if let Some(file) = stats_file(options, runtime_dir) {
        environment::set(vars, "NODEUNITS_STATS", file);
    }
    let drain = super::worker::drain_time(options.kill_timeout);
    environment::set(vars, "NODEUNITS_DRAIN_MS", drain.as_millis().to_string());
    Ok(Channel {
        ours: UnixStream::from(ours),
        theirs,
        target,
    })
}

/// Where the app's process publishes its figures (the preload's stats.cjs):
/// `stats.N` in the runtime directory, unless `pmx = false`. Without a
/// runtime directory (a container) no one would read them.
pub fn stats_file(options: &HelperOptions, runtime_dir: Option<&Path>) -> Option<PathBuf> {
    let Instance::Number(instance) = options.instance else {
        return None;
    };
    let dir = runtime_dir.filter(|_| options.runtime_metrics)?;
    Some(dir.join(UnitNames::stats_file(instance)))
}

/// How often the preload beats, in milliseconds: a quarter of the
/// timeout, between 100 ms and a second, so that a beat late by the
/// machine's load is never taken for a stuck loop.
pub fn heartbeat(timeout: Duration) -> u128 {
    (timeout.as_millis() / 4).clamp(100, 1000)
}

/// The app's `NODE_OPTIONS`, if any, then `--require "PRELOAD"`, quoted as
/// Node reads the variable.
pub fn with_preload(node_options: Option<&OsStr>, preload: &Path) -> OsString {
    let mut quoted = Vec::from(&b"--require \""[..]);
    for &byte in preload.as_os_str().as_bytes() {
        if byte == b'"' || byte == b'\\' {
            quoted.push(b'\\');
        }
        quoted.push(byte);
    }
    quoted.push(b'"');
    let mut value = node_options
        .map(|own| own.as_bytes().trim_ascii_end().to_vec())
        .filter(|own| !own.is_empty())
        .map_or_else(Vec::new, |mut own| {
            own.push(b' ');
            own
        });
    value.extend(quoted);
    OsString::from_vec(value)
}

/// The inode of an fd: the preload checks that the fd it is told of is
/// the one the helper meant, not another file a launcher left at that number.
fn inode(fd: BorrowedFd) -> nix::Result<u64> {
    nix::sys::stat::fstat(fd).map(|stat| stat.st_ino)
}

/// The preload's map from the socket unit's addresses to the worker's
/// inherited fds, with their inodes.
pub fn listen_map(entries: &[(&str, RawFd, u64)]) -> String {
    let entries: Vec<_> = entries
        .iter()
        .map(|(address, fd, inode)| {
            serde_json::json!({ "address": address, "fd": fd, "inode": inode })
        })
        .collect();
    serde_json::Value::Array(entries).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_heartbeat_is_a_quarter_of_the_timeout_within_bounds() {
        let beat = |ms| heartbeat(Duration::from_millis(ms));
        assert_eq!([beat(200), beat(3000), beat(30000)], [100, 750, 1000]);
    }

    #[test]
    fn each_instance_publishes_its_own_figures_unless_pmx_is_off() {
        let dir = Path::new("/run/nodeunits/api");
        let mut options = HelperOptions::new("api".into(), Instance::Number(2), Vec::new());
        assert_eq!(stats_file(&options, Some(dir)), Some(dir.join("stats.2")));
        assert_eq!(stats_file(&options, None), None, "no runtime directory");
        options.runtime_metrics = false;
        assert_eq!(stats_file(&options, Some(dir)), None);
    }

    #[test]
    fn each_address_maps_to_the_workers_fd() {
        let entries = [("127.0.0.1:3000", 4, 71), ("/run/api.sock", 6, 72)];
        assert_eq!(
            listen_map(&entries),
            r#"[{"address":"127.0.0.1:3000","fd":4,"inode":71},{"address":"/run/api.sock","fd":6,"inode":72}]"#
        );
        assert_eq!(
            listen_map(&[]),
            "[]",
            "no sockets passed: the app binds itself"
        );
    }

    #[test]
    fn the_preload_is_added_to_the_apps_node_options() {
        let preload = Path::new("/run/nodeunits/api/preload.cjs");
        let own = OsStr::new("--max-old-space-size=512 ");
        assert_eq!(
            with_preload(Some(own), preload),
            "--max-old-space-size=512 --require \"/run/nodeunits/api/preload.cjs\""
        );
        assert_eq!(
            with_preload(None, preload),
            "--require \"/run/nodeunits/api/preload.cjs\""
        );
        assert_eq!(
            with_preload(Some(OsStr::new("")), Path::new("/tmp/a \"b\\c.cjs")),
            r#"--require "/tmp/a \"b\\c.cjs""#
        );
    }
}
