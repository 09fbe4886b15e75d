//! Boxes of test processes that died without dropping them (killed, or a
//! TestHost kept in a static): found by their state directory, whose name
//! ends in the PID of the process that booted them, and taken down.

use std::fs;
use std::path::{Path, PathBuf};

use nix::mount::{umount2, MntFlags};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::cgroups::{BoxCgroups, Hierarchy};

/// The cgroup directory name of the box whose state directory is `state_name`.
pub(crate) fn cgroup_name(state_name: &str) -> String {
    format!("nodeunits-testhost-{state_name}")
}

/// The file in a box's state directory naming the PID namespace of the
/// process that booted it: PIDs are compared only within one namespace.
pub(crate) const OWNER_NAMESPACE_FILE: &str = "owner-pid-namespace";

pub(crate) fn own_pid_namespace() -> String {
    fs::read_link("/proc/self/ns/pid")
        .map(|ns| ns.display().to_string())
        .unwrap_or_default()
}

/// Takes down every box under `state_root` whose booting process is gone.
pub(crate) fn remove_orphaned_boxes(state_root: &Path, hierarchies: &[Hierarchy]) {
    let Ok(entries) = fs::read_dir(state_root) else {
        return;
    };
    for entry in entries.flatten() {
        let state_name = entry.file_name().to_string_lossy().into_owned();
        let Some(owner) = owner_pid(&state_name) else {
            continue;
        };
        let namespace = fs::read_to_string(entry.path().join(OWNER_NAMESPACE_FILE));
        if Path::new(&format!("/proc/{owner}")).exists()
            || namespace.map_or(true, |ns| ns != own_pid_namespace())
        {
            continue;
        }
        eprintln!("testhost: taking down {state_name}, left by process {owner} that is gone");
        let mut cgroups = BoxCgroups {
            dirs: hierarchies
                .iter()
                .filter_map(|h| find_dir(&h.mountpoint(), &cgroup_name(&state_name), 4))
                .collect(),
        };
        for dir in &cgroups.dirs {
            kill_all_in(dir);
        }
        let state = entry.path();
        let _ = umount2(&state, MntFlags::MNT_DETACH);
        let _ = fs::remove_dir(&state);
        if let Err(e) = cgroups.remove() {
            eprintln!("testhost: {e}");
        }
    }
}

/// The PID in a state directory's name, `<name>-<pid>-<sequence>`.
fn owner_pid(state_name: &str) -> Option<u32> {
    state_name.rsplit('-').nth(1)?.parse().ok()
}

fn find_dir(under: &Path, name: &str, depth: usize) -> Option<PathBuf> {
    let candidate = under.join(name);
    if candidate.is_dir() {
        return Some(candidate);
    }
    if depth == 0 {
        return None;
    }
    fs::read_dir(under)
        .ok()?
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .find_map(|e| find_dir(&e.path(), name, depth - 1))
}

fn kill_all_in(cgroup: &Path) {
    let procs = fs::read_to_string(cgroup.join("cgroup.procs")).unwrap_or_default();
    for pid in procs.lines().filter_map(|pid| pid.parse().ok()) {
        let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
    }
    for entry in fs::read_dir(cgroup).into_iter().flatten().flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            kill_all_in(&entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::owner_pid;

    #[test]
    fn owner_pid_is_the_second_last_field() {
        assert_eq!(owner_pid("reload-test-4242-7"), Some(4242));
        assert_eq!(owner_pid("box-1-0"), Some(1));
        assert_eq!(owner_pid("nodash"), None);
    }
}
