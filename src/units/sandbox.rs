//! The worker's sandbox: systemd's hardening directives (systemd.exec(5)),
//! which every worker gets unless its app says `hardening = "off"`. What
//! varies from app to app is in the model ([`Sandbox`]); the directives
//! that never vary are listed here, each with the systemd release that
//! introduced it, and a directive newer than the target systemd is left out.
//! `systemd-analyze security` rates a worker 2.0 as root and 1.6 with
//! `User=` (tests/golden/systemd.rs rates every golden case).

use std::path::{Path, PathBuf};

use super::facts::CompileOptions;
use super::findings::Finding;
use crate::ecosystem::settings::{App, LogTarget};
use crate::ecosystem::Diagnostics;
use crate::model::{ProtectHome, Sandbox};

/// The release with `ProtectSystem=strict`, on which the sandbox stands:
/// for an older target systemd, workers get no sandbox.
pub const OLDEST: u32 = 232;

/// The directives every sandbox holds besides `ProtectSystem=strict`,
/// `ReadWritePaths=`, `ProtectHome=` and `PrivateTmp=`, in the order
/// written, with the release that introduced each. `MemoryDenyWriteExecute=` is not one: V8
/// compiles JavaScript into memory it writes and then executes.
/// `RestrictAddressFamilies=` keeps `AF_NETLINK`, which Node's
/// `os.networkInterfaces()` needs; `SystemCallFilter=` keeps `@resources`,
/// whose `setrlimit` Node calls at start to raise its open file limit;
/// `SystemCallErrorNumber=` fails a filtered call instead of killing the app.
/// Not `ProcSubset=pid` (`os.cpus()` would be empty) nor `RemoveIPC=` (it
/// removes the IPC objects of every process of the user).
pub const FIXED: &[(&str, u32)] = &[
    ("NoNewPrivileges=yes", 187),
    ("PrivateDevices=yes", 209),
    ("DevicePolicy=closed", 208),
    ("PrivateMounts=yes", 239),
    ("ProtectKernelTunables=yes", 232),
    ("ProtectKernelModules=yes", 232),
    ("ProtectKernelLogs=yes", 244),
    ("ProtectControlGroups=yes", 232),
    ("ProtectClock=yes", 245),
    ("ProtectHostname=yes", 242),
    ("ProtectProc=invisible", 247),
    ("RestrictNamespaces=yes", 233),
    ("RestrictRealtime=yes", 231),
    ("RestrictSUIDSGID=yes", 242),
    ("LockPersonality=yes", 235),
    ("KeyringMode=private", 235),
    (
        "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK",
        211,
    ),
    ("SystemCallArchitectures=native", 209),
    ("SystemCallFilter=@system-service", 231),
    ("SystemCallFilter=~@privileged", 231),
    ("SystemCallErrorNumber=EPERM", 209),
    ("CapabilityBoundingSet=", 187),
    ("UMask=0027", 187),
];

/// The fixed directives for a sandbox written for systemd `level`.
pub fn fixed(level: u32) -> impl Iterator<Item = &'static str> {
    FIXED
        .iter()
        .filter(move |(_, since)| *since <= level)
        .map(|(directive, _)| *directive)
}

/// The level of a sandbox for the target systemd: the newest release that
/// added one of its directives and is not newer than the target.
pub fn level(target: u32) -> u32 {
    FIXED
        .iter()
        .map(|(_, since)| *since)
        .filter(|since| *since <= target)
        .fold(OLDEST, u32::max)
}

/// The level of the fixed directives found in a unit.
pub fn level_of<'a>(directives: impl Iterator<Item = &'a str>) -> u32 {
    directives
        .filter_map(|found| FIXED.iter().find(|(directive, _)| *directive == found))
        .map(|(_, since)| *since)
        .fold(OLDEST, u32::max)
}

/// The sandbox of an app's workers; `None` with `hardening = "off"`, or
/// (with a warning) for a systemd older than [`OLDEST`].
pub fn plan(
    app: &App,
    program: &[String],
    logs: [&Option<LogTarget>; 2],
    helper: &Path,
    options: &CompileOptions,
    diagnostics: &mut Diagnostics,
) -> Option<Sandbox> {
    if !app.hardening {
        return None;
    }
    let systemd = options.systemd_version;
    if systemd < OLDEST {
        Finding::NoSandbox { systemd }.report(diagnostics, Some(app.name.span()));
        return None;
    }
    let log_dirs = logs
        .into_iter()
        .filter_map(|target| target.as_ref()?.file()?.parent());
    let mut writable: Vec<PathBuf> = Vec::new();
    for path in std::iter::once(app.cwd.as_path())
        .chain(log_dirs)
        .chain(app.read_write_paths.iter().map(PathBuf::as_path))
    {
        if !writable.iter().any(|known| known == path) {
            writable.push(path.to_path_buf());
        }
    }
    // A path inside another one is writable already.
    let outer = writable.clone();
    writable.retain(|path| !outer.iter().any(|o| o != path && path.starts_with(o)));
    let used: Vec<&Path> = writable
        .iter()
        .map(PathBuf::as_path)
        .chain(std::iter::once(helper))
        .chain(program.iter().map(Path::new))
        .collect();
    let inside = |dirs: &[PathBuf]| {
        used.iter()
            .any(|path| dirs.iter().any(|dir| path.starts_with(dir)))
    };
    let in_home = inside(&options.facts.homes);
    // systemd cannot make a path in the machine's /tmp writable in a /tmp
    // of the worker's own: the start would fail (226/NAMESPACE).
    let private_tmp = !inside(&options.facts.temporary);
    Some(Sandbox {
        read_write_paths: writable,
        protect_home: if in_home {
            ProtectHome::ReadOnly
        } else {
            ProtectHome::Hidden
        },
        private_tmp,
        systemd: level(systemd),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_newer_than_the_target_are_left_out() {
        assert_eq!(level(252), 247);
        assert_eq!(level(246), 245);
        assert_eq!(level(232), OLDEST);
        assert!(fixed(level(252)).any(|d| d == "ProtectProc=invisible"));
        let older: Vec<&str> = fixed(level(243)).collect();
        assert!(older.contains(&"ProtectHostname=yes"));
        assert!(!older.contains(&"ProtectKernelLogs=yes"));
        assert!(!older.contains(&"ProtectClock=yes"));
        for target in [232, 240, 243, 247, 252, 257] {
            assert_eq!(level_of(fixed(level(target))), level(target), "{target}");
        }
    }
}
