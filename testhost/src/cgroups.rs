//! The box's own cgroup in every hierarchy of the machine. The box unshares
//! its cgroup namespace from inside it, so the systemd in one box sees this
//! cgroup as its root and boxes never share `/system.slice/...`.

use std::fs;
use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::{Duration, Instant};

const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// A cgroup filesystem mounted under /sys/fs/cgroup on the machine.
#[derive(Debug, Clone)]
pub(crate) struct Hierarchy {
    /// Directory under /sys/fs/cgroup, or "." when the unified hierarchy is
    /// mounted on /sys/fs/cgroup itself.
    pub(crate) dir: String,
    pub(crate) fstype: String,
    pub(crate) options: String,
    /// This process's cgroup in the hierarchy, as in /proc/self/cgroup.
    own_path: String,
}

impl Hierarchy {
    pub(crate) fn mountpoint(&self) -> PathBuf {
        Path::new(CGROUP_ROOT).join(&self.dir)
    }
}

/// Reads the machine's cgroup layout (hybrid, legacy or unified).
pub(crate) fn hierarchies() -> Result<Vec<Hierarchy>, String> {
    let mountinfo = fs::read_to_string("/proc/self/mountinfo")
        .map_err(|e| format!("cannot read /proc/self/mountinfo: {e}"))?;
    let own = fs::read_to_string("/proc/self/cgroup")
        .map_err(|e| format!("cannot read /proc/self/cgroup: {e}"))?;
    let mut found = Vec::new();
    for line in mountinfo.lines() {
        let Some((mount, filesystem)) = line.split_once(" - ") else {
            continue;
        };
        let mountpoint = mount.split(' ').nth(4).unwrap_or_default();
        let mut filesystem = filesystem.split(' ');
        let (Some(fstype), Some(_source), Some(options)) =
            (filesystem.next(), filesystem.next(), filesystem.next())
        else {
            continue;
        };
        if fstype != "cgroup" && fstype != "cgroup2" {
            continue;
        }
        let dir = match mountpoint.strip_prefix(CGROUP_ROOT) {
            Some("") => ".".to_string(),
            Some(rest) if rest.starts_with('/') && !rest[1..].contains('/') => {
                rest[1..].to_string()
            }
            _ => continue,
        };
        let Some(own_path) = own_path(&own, fstype, options) else {
            continue;
        };
        found.push(Hierarchy {
            dir,
            fstype: fstype.to_string(),
            options: options.to_string(),
            own_path,
        });
    }
    if found.is_empty() {
        return Err(format!(
            "no cgroup filesystem is mounted under {CGROUP_ROOT}"
        ));
    }
    Ok(found)
}

/// This process's path in the hierarchy mounted with `fstype` and `options`.
fn own_path(proc_self_cgroup: &str, fstype: &str, options: &str) -> Option<String> {
    let mount_options: Vec<&str> = options.split(',').collect();
    proc_self_cgroup.lines().find_map(|line| {
        let mut fields = line.splitn(3, ':');
        let (_id, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
        let matches = if fstype == "cgroup2" {
            controllers.is_empty()
        } else {
            !controllers.is_empty() && controllers.split(',').all(|c| mount_options.contains(&c))
        };
        matches.then(|| path.to_string())
    })
}

/// The box's cgroup directories, one per hierarchy.
#[derive(Debug)]
pub(crate) struct BoxCgroups {
    pub(crate) dirs: Vec<PathBuf>,
}

impl BoxCgroups {
    /// Creates `<own cgroup>/<leaf>` in every hierarchy.
    pub(crate) fn create(hierarchies: &[Hierarchy], leaf: &str) -> Result<BoxCgroups, String> {
        let mut cgroups = BoxCgroups { dirs: Vec::new() };
        for hierarchy in hierarchies {
            let parent = hierarchy
                .mountpoint()
                .join(hierarchy.own_path.trim_start_matches('/'));
            let dir = parent.join(leaf);
            fs::create_dir(&dir)
                .map_err(|e| format!("cannot create cgroup {}: {e}", dir.display()))?;
            cgroups.dirs.push(dir.clone());
            // A v1 cpuset cgroup takes no process until it has CPUs and memory nodes.
            for file in ["cpuset.cpus", "cpuset.mems"] {
                if let Ok(value) = fs::read_to_string(parent.join(file)) {
                    fs::write(dir.join(file), value.trim())
                        .map_err(|e| format!("cannot set {file} of {}: {e}", dir.display()))?;
                }
            }
        }
        Ok(cgroups)
    }

    /// Removes the box's cgroups and every cgroup systemd made below them.
    /// They must hold no process any more; retries while the kernel lets go.
    pub(crate) fn remove(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while let Some(dir) = self.dirs.last() {
            match remove_tree(dir) {
                Ok(()) => {
                    self.dirs.pop();
                }
                Err(e) if Instant::now() > deadline => {
                    return Err(format!("cannot remove cgroup {}: {e}", dir.display()))
                }
                Err(_) => sleep(Duration::from_millis(20)),
            }
        }
        Ok(())
    }
}

fn remove_tree(dir: &Path) -> std::io::Result<()> {
    match fs::read_dir(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
        Ok(entries) => {
            for entry in entries {
                let entry = entry?;
                if entry.file_type()?.is_dir() {
                    remove_tree(&entry.path())?;
                }
            }
        }
    }
    match fs::remove_dir(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::own_path;

    const HYBRID: &str = "9:name=systemd:/\n4:memory:/jobs/a\n2:cpu,cpuacct:/\n0::/top\n";

    #[test]
    fn own_path_matches_the_hierarchy_by_its_controllers() {
        let cases = [
            ("cgroup", "rw,memory", Some("/jobs/a")),
            ("cgroup", "rw,name=systemd", Some("/")),
            ("cgroup", "rw,cpu,cpuacct", Some("/")),
            ("cgroup2", "rw,nsdelegate", Some("/top")),
            ("cgroup", "rw,pids", None),
        ];
        for (fstype, options, expected) in cases {
            let found = own_path(HYBRID, fstype, options);
            assert_eq!(found.as_deref(), expected, "{fstype} {options}");
        }
    }
}
