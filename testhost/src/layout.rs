//! What a box is made of besides the overlay: what the machine must have,
//! the units masked inside, the directories shared with the machine.

use std::fs;
use std::path::{Path, PathBuf};

pub(crate) const SYSTEMD: &str = "/usr/lib/systemd/systemd";

/// PATH for the box's boot script and for commands inside: the machine's
/// usual one, not the test's.
pub const SEARCH_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Units that touch hardware, the network, the kernel or the consoles.
pub(crate) const MASKED_UNITS: &[&str] = &[
    "systemd-networkd.service",
    "systemd-networkd.socket",
    "systemd-networkd-wait-online.service",
    "systemd-network-generator.service",
    "systemd-resolved.service",
    "systemd-timesyncd.service",
    "systemd-udevd.service",
    "systemd-udevd-control.socket",
    "systemd-udevd-kernel.socket",
    "systemd-udev-trigger.service",
    "systemd-udev-settle.service",
    "systemd-modules-load.service",
    "proc-sys-fs-binfmt_misc.automount",
    "systemd-binfmt.service",
    "getty@.service",
    "serial-getty@.service",
    "console-getty.service",
    "container-getty@.service",
    "getty-static.service",
    "dev-hugepages.mount",
    "sys-kernel-debug.mount",
    "sys-kernel-tracing.mount",
    "sys-kernel-config.mount",
    "sys-fs-fuse-connections.mount",
];

/// Panics saying what this machine lacks to boot a box.
pub(crate) fn preflight() {
    if !nix::unistd::geteuid().is_root() {
        panic!("testhost: booting a systemd test host needs root (run the tests with sudo)");
    }
    for tool in ["unshare", "nsenter", "pivot_root", "mount"] {
        let found = std::env::split_paths(SEARCH_PATH).any(|dir| dir.join(tool).exists());
        if !found {
            panic!("testhost: `{tool}` is missing (install util-linux)");
        }
    }
    let filesystems = fs::read_to_string("/proc/filesystems").unwrap_or_default();
    if !filesystems.lines().any(|l| l.ends_with("\toverlay")) {
        panic!("testhost: the kernel has no overlayfs (try `modprobe overlay`)");
    }
    if !Path::new("/proc/self/ns/cgroup").exists() {
        panic!("testhost: the kernel has no cgroup namespaces (Linux 4.6 or later needed)");
    }
    if !Path::new(SYSTEMD).exists() {
        panic!("testhost: {SYSTEMD} is missing (install systemd)");
    }
}

/// The box's host name: `name` with anything but letters, digits and '-' made '-'.
pub(crate) fn host_name(name: &str) -> String {
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(40)
        .collect();
    if name.is_empty() {
        "box".to_string()
    } else {
        name
    }
}

/// The checkout and the cargo target directory, shown inside at the same
/// paths, for root: what other users run is put at paths of the box's own
/// (nodeunits' programs: `crate::programs`).
pub(crate) fn shared_directories() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    let cwd = std::env::current_dir().unwrap_or_default();
    if let Some(checkout) = cwd.ancestors().find(|d| d.join("Cargo.lock").exists()) {
        dirs.push(checkout.to_path_buf());
    }
    let exe = std::env::current_exe().unwrap_or_default();
    if let Some(target) = exe.ancestors().find(|d| d.join("CACHEDIR.TAG").exists()) {
        if !dirs.iter().any(|d| target.starts_with(d)) {
            dirs.push(target.to_path_buf());
        }
    }
    // Bound over the box's own, / or a system directory would hide the box's
    // files (its /etc, its /run) behind the machine's.
    dirs.retain(|dir| !is_system_directory(dir));
    dirs
}

fn is_system_directory(dir: &Path) -> bool {
    const SYSTEM: &[&str] = &[
        "/", "/bin", "/boot", "/dev", "/etc", "/lib", "/lib64", "/proc", "/root", "/run", "/sbin",
        "/srv", "/sys", "/tmp", "/usr", "/var",
    ];
    SYSTEM.iter().any(|system| dir == Path::new(system))
}
