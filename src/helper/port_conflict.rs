//! The sentence for an app that died of binding a port another process
//! holds: which process, when this one may see it (`/proc`), and the fix.

use std::fs;

use super::readiness::PortTaken;
use crate::model::AppName;

/// Who holds a listening TCP port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub pid: u32,
    /// Its systemd unit, from its cgroup: `api@0.service`, `nginx.service`.
    pub unit: Option<String>,
    pub command: String,
}

/// What went wrong and how to fix it, for a worker of `app` whose socket
/// unit has the addresses `listen` (none: no socket unit).
pub fn explain(app: &str, listen: &[String], taken: &PortTaken) -> String {
    explain_with(app, listen, taken, holder(taken.port))
}

fn explain_with(app: &str, listen: &[String], taken: &PortTaken, holder: Option<Holder>) -> String {
    let name = AppName::new(app).ok();
    let units = name.as_ref().map(AppName::units);
    let port = taken.port;
    let specific = taken
        .address
        .as_deref()
        .filter(|address| !["::", "0.0.0.0", ""].contains(address));
    let entry = match specific {
        Some(address) if address.contains(':') => format!("\"[{address}]:{port}\""),
        Some(address) => format!("\"{address}:{port}\""),
        None => port.to_string(),
    };
    let share = if !listen.is_empty() {
        format!("add {entry} to `listen`")
    } else if specific.is_some() {
        format!("declare it with `listen = [{entry}]`")
    } else {
        format!("declare it with `port = {port}` or `listen = [{entry}]`")
    };
    let fix = format!("{share} so the workers share one socket");
    let start = format!("the app listens on port {port} itself");
    match holder {
        Some(Holder {
            unit: Some(held_by),
            ..
        }) if units.is_some_and(|u| u.instance_number(&held_by).is_some()) => {
            format!("{start}, which {held_by} holds; {fix}")
        }
        Some(Holder { pid, unit, command }) => {
            let who = unit.map_or_else(
                || format!("{command} (pid {pid})"),
                |unit| format!("{unit} ({command}, pid {pid})"),
            );
            format!("{start}, which {who} holds; stop that, or have the app listen on a port that is free")
        }
        None => format!(
            "{start}, which another process holds; if that is another worker of {app}, {fix}"
        ),
    }
}

/// The process listening on TCP `port` in this network namespace, if its
/// file descriptors are visible to this process (same user, or root).
pub fn holder(port: u16) -> Option<Holder> {
    let inodes: Vec<String> = ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|table| fs::read_to_string(table).ok())
        .flat_map(|table| listening_inodes(&table, port))
        .collect();
    if inodes.is_empty() {
        return None;
    }
    let wanted: Vec<String> = inodes.iter().map(|i| format!("socket:[{i}]")).collect();
    let own = std::process::id();
    for entry in fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(fds) = fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        let holds = fds.flatten().any(|fd| {
            fs::read_link(fd.path())
                .is_ok_and(|target| wanted.iter().any(|w| target.as_os_str() == w.as_str()))
        });
        if holds && pid != own {
            let read = |file: &str| fs::read_to_string(entry.path().join(file)).unwrap_or_default();
            return Some(Holder {
                pid,
                unit: unit_of_cgroup(&read("cgroup")),
                command: read("comm").trim().to_owned(),
            });
        }
    }
    None
}

/// The inodes of the sockets listening on `port` in a `/proc/net/tcp{,6}` table.
fn listening_inodes(table: &str, port: u16) -> Vec<String> {
    const LISTEN: &str = "0A";
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let local_port = fields.get(1)?.rsplit_once(':')?.1;
            let matches =
                u16::from_str_radix(local_port, 16).ok()? == port && *fields.get(3)? == LISTEN;
            matches.then(|| fields.get(9).map(|inode| (*inode).to_owned()))?
        })
        .collect()
}

/// The unit of a process from its `/proc/PID/cgroup`: the last
/// `.service` or `.scope` of its cgroup path.
fn unit_of_cgroup(cgroup: &str) -> Option<String> {
    let path = cgroup.lines().find_map(|line| line.strip_prefix("0::"))?;
    path.rsplit('/')
        .find(|part| part.ends_with(".service") || part.ends_with(".scope"))
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TCP6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:0BB8 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 41234 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000001000000:0BB8 00000000000000000000000001000000:9C40 01 00000000:00000000 00:00000000 00000000     0        0 41299 1 0000000000000000 100 0 0 10 0
";

    fn taken(address: &str) -> PortTaken {
        PortTaken {
            port: 3000,
            address: Some(address.into()),
        }
    }

    fn worker(unit: &str) -> Option<Holder> {
        Some(Holder {
            pid: 812,
            unit: Some(unit.into()),
            command: "node".into(),
        })
    }

    #[test]
    fn only_listening_sockets_on_the_port() {
        assert_eq!(listening_inodes(TCP6, 3000), ["41234"]);
        assert!(listening_inodes(TCP6, 3001).is_empty());
    }

    #[test]
    fn the_unit_comes_from_the_cgroup() {
        let cgroup = "0::/system.slice/system-api.slice/api@0.service\n";
        assert_eq!(unit_of_cgroup(cgroup).as_deref(), Some("api@0.service"));
        let session = "0::/user.slice/user-0.slice/session-3.scope\n";
        assert_eq!(unit_of_cgroup(session).as_deref(), Some("session-3.scope"));
        assert_eq!(unit_of_cgroup("0::/\n"), None);
    }

    #[test]
    fn another_worker_gets_the_fix() {
        assert_eq!(
            explain_with("api", &[], &taken("::"), worker("api@0.service")),
            "the app listens on port 3000 itself, which api@0.service holds; \
             declare it with `port = 3000` or `listen = [3000]` so the workers share one socket"
        );
        assert_eq!(
            explain_with("api", &[], &taken("127.0.0.1"), worker("api@0.service")),
            "the app listens on port 3000 itself, which api@0.service holds; \
             declare it with `listen = [\"127.0.0.1:3000\"]` so the workers share one socket"
        );
        let listen = ["127.0.0.1:8080".to_owned()];
        assert_eq!(
            explain_with("api", &listen, &taken("::1"), worker("api@0.service")),
            "the app listens on port 3000 itself, which api@0.service holds; \
             add \"[::1]:3000\" to `listen` so the workers share one socket"
        );
    }

    #[test]
    fn another_program_is_named() {
        assert_eq!(
            explain_with("api", &[], &taken("::"), worker("nginx.service")),
            "the app listens on port 3000 itself, which nginx.service (node, pid 812) holds; \
             stop that, or have the app listen on a port that is free"
        );
        assert_eq!(
            explain_with("api", &[], &taken("::"), None),
            "the app listens on port 3000 itself, which another process holds; \
             if that is another worker of api, declare it with `port = 3000` or `listen = [3000]` \
             so the workers share one socket"
        );
    }
}
