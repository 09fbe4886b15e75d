//! What a Node app gets besides its command line: the preload and an IPC
//! channel to the helper.

use std::ffi::OsString;
use std::os::fd::{OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::Path;

use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};

use super::environment::{self, Vars};
use super::preload;
use crate::model::HelperOptions;

/// Node's IPC channel: the helper's end, and the app's with the fd it gets.
pub struct Channel {
    pub ours: UnixStream,
    pub theirs: OwnedFd,
    pub target: RawFd,
}

/// Writes the preload, adds `--require` to `argv` and the channel and
/// socket map to `vars`.
pub fn prepare(
    options: &HelperOptions,
    runtime_dir: Option<&Path>,
    listen_fds: usize,
    argv: &mut Vec<OsString>,
    vars: &mut Vars,
) -> Result<Channel, String> {
    let preload = preload::install(runtime_dir).map_err(|e| {
        let dir = runtime_dir.map_or_else(std::env::temp_dir, Path::to_path_buf);
        format!("cannot write the Node preload into {}: {e}", dir.display())
    })?;
    argv.splice(
        1..1,
        [OsString::from("--require"), preload.into_os_string()],
    );
    let (ours, theirs) = socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(|e| format!("cannot create the IPC channel: {e}"))?;
    // The first fd after the sockets systemd passed.
    let target = 3 + listen_fds as RawFd;
    environment::set(vars, "NODE_CHANNEL_FD", target.to_string());
    environment::set(vars, "NODE_CHANNEL_SERIALIZATION_MODE", "json");
    environment::set(
        vars,
        "NODEUNITS_LISTEN",
        listen_map(&options.listen, listen_fds),
    );
    let drain = super::worker::drain_time(options.kill_timeout);
    environment::set(vars, "NODEUNITS_DRAIN_MS", drain.as_millis().to_string());
    Ok(Channel {
        ours: UnixStream::from(ours),
        theirs,
        target,
    })
}

/// The preload's map from the socket unit's addresses to the inherited fds.
pub fn listen_map(addresses: &[String], listen_fds: usize) -> String {
    let entries: Vec<_> = addresses
        .iter()
        .take(listen_fds)
        .enumerate()
        .map(|(index, address)| serde_json::json!({ "address": address, "fd": 3 + index }))
        .collect();
    serde_json::Value::Array(entries).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nth_address_is_fd_3_plus_n() {
        let addresses = ["127.0.0.1:3000".to_owned(), "/run/api.sock".to_owned()];
        assert_eq!(
            listen_map(&addresses, 2),
            r#"[{"address":"127.0.0.1:3000","fd":3},{"address":"/run/api.sock","fd":4}]"#
        );
        assert_eq!(
            listen_map(&addresses, 0),
            "[]",
            "no sockets passed: the app binds itself"
        );
    }
}
