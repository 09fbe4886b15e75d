//! Apps' instances from systemd's unit properties, for `status`,
//! `describe`, `metrics` and `monit`.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use nix::sys::signal::Signal;
use serde::{Deserialize, Serialize};

use super::bus::{in_parallel, typed, Systemd};
use super::manager::SystemdError;
use super::runtime_stats::{self, RuntimeStats};
use crate::model::AppName;

/// One worker, as `pm2 ls` shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InstanceStatus {
    /// The name of the app's units.
    pub app: String,
    /// PM2's name of the app, when it is not the units' (its app unit's
    /// `X-Nodeunits-Name=`); `status` fills it in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pm2_name: Option<String>,
    pub instance: String,
    pub unit: String,
    /// 0 when not running.
    pub pid: u32,
    pub state: String,
    pub sub_state: String,
    /// Seconds since it became active; `None` when not active.
    pub uptime_secs: Option<u64>,
    pub restarts: u32,
    /// systemd's `Result`: `success`, `exit-code`, `signal`,
    /// `start-limit-hit` (a crash loop stopped at `max_restarts`), …
    pub result: String,
    /// The exit status of the app's last run, when it exited.
    pub exit_status: Option<i32>,
    /// The signal that ended its last run, when one did (`SIGKILL`).
    pub exit_signal: Option<String>,
    pub cpu_nsec: Option<u64>,
    pub memory_bytes: Option<u64>,
    pub listen: Vec<String>,
    /// What its Node process measures from inside (`pmx`), while it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<RuntimeStats>,
}

/// How a process ended, in `ExecMainCode` (waitid(2)).
const CLD_EXITED: i32 = 1;
const CLD_KILLED: i32 = 2;
const CLD_DUMPED: i32 = 3;

/// systemd's "not available" for counters is `u64::MAX`.
fn known(value: u64) -> Option<u64> {
    (value != u64::MAX).then_some(value)
}

/// The status of every instance the app unit wants.
pub fn app_status(systemd: &Systemd, app: &AppName) -> Result<Vec<InstanceStatus>, SystemdError> {
    Ok(apps_status(systemd, std::slice::from_ref(app))?
        .pop()
        .unwrap_or_default())
}

const UNIT: &str = "org.freedesktop.systemd1.Unit";
const SERVICE: &str = "org.freedesktop.systemd1.Service";
const SOCKET: &str = "org.freedesktop.systemd1.Socket";

/// The status of every instance of each app, in the apps' order. The
/// states of all instances come in one call; each other property is one
/// call, with many in flight at once, and no `LoadUnit` before them (the
/// object path names the unit). Each instance is asked only what its state
/// leaves open: 5 properties for a running one, 4 for a stopped one.
pub fn apps_status(
    systemd: &Systemd,
    apps: &[AppName],
) -> Result<Vec<Vec<InstanceStatus>>, SystemdError> {
    // Each app: the instances its unit wants, its socket's addresses.
    let heads = in_parallel(apps, |app| -> Result<_, SystemdError> {
        let names = app.units();
        let wants: Vec<String> = typed(systemd.property(&names.app(), UNIT, "Wants")?)?;
        // (type, address) pairs; none for an app without a socket unit.
        let listen: Vec<(String, String)> = systemd
            .property(&names.socket(), SOCKET, "Listen")
            .and_then(typed)
            .unwrap_or_default();
        let listen: Vec<String> = listen.into_iter().map(|(_, address)| address).collect();
        let instances = names.instances_among(wants.iter().map(String::as_str));
        Ok((instances, listen))
    })
    .into_iter()
    .collect::<Result<Vec<_>, _>>()?;
    // Every instance's state in one call; one not loaded is inactive.
    let patterns: Vec<String> = apps.iter().map(|app| app.units().instance_glob()).collect();
    let patterns: Vec<&str> = patterns.iter().map(String::as_str).collect();
    let states: HashMap<String, (String, String)> = systemd
        .manager()
        .list_units_by_patterns(&[], &patterns)?
        .into_iter()
        .map(|unit| (unit.0, (unit.3, unit.4)))
        .collect();
    // Each instance: its service's properties, and since when it is
    // active.
    let instances: Vec<(usize, u32)> = heads
        .iter()
        .enumerate()
        .flat_map(|(i, (numbers, _))| numbers.iter().map(move |&number| (i, number)))
        .collect();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64);
    let rows = in_parallel(&instances, |&(i, number)| {
        let (app, listen) = (&apps[i], &heads[i].1);
        let unit = app.units().instance(number);
        let (state, sub_state) = states
            .get(&unit)
            .cloned()
            .unwrap_or_else(|| ("inactive".into(), "dead".into()));
        let take = |name: &str| systemd.property(&unit, SERVICE, name);
        // Only what the state can tell: a running instance has no exit yet
        // (systemd clears both at each start) and its result is success; a
        // stopped one has no process, CPU or memory.
        let running = !matches!(state.as_str(), "inactive" | "failed");
        let (code, status, result) = if state == "active" {
            (0, 0, "success".to_owned())
        } else {
            (
                typed::<i32>(take("ExecMainCode")?)?,
                typed::<i32>(take("ExecMainStatus")?)?,
                typed(take("Result")?)?,
            )
        };
        let (entered, pid, cpu_nsec, memory_bytes) = if running {
            (
                typed::<u64>(systemd.property(&unit, UNIT, "ActiveEnterTimestamp")?)?,
                typed(take("MainPID")?)?,
                known(typed(take("CPUUsageNSec")?)?),
                known(typed(take("MemoryCurrent")?)?),
            )
        } else {
            (0, 0, None, None)
        };
        let runtime = (state == "active")
            .then(|| runtime_stats::read(systemd.scope(), app, number))
            .flatten();
        Ok::<_, SystemdError>((
            i,
            InstanceStatus {
                app: app.to_string(),
                pm2_name: None,
                instance: number.to_string(),
                pid,
                sub_state,
                uptime_secs: (state == "active" && entered > 0)
                    .then(|| now.saturating_sub(entered) / 1_000_000),
                state,
                restarts: typed(take("NRestarts")?)?,
                result,
                exit_status: (code == CLD_EXITED).then_some(status),
                exit_signal: (code == CLD_KILLED || code == CLD_DUMPED).then(|| {
                    Signal::try_from(status).map_or(status.to_string(), |s| s.as_str().into())
                }),
                cpu_nsec,
                memory_bytes,
                listen: listen.clone(),
                runtime,
                unit,
            },
        ))
    });
    let mut statuses: Vec<Vec<InstanceStatus>> = vec![Vec::new(); apps.len()];
    for row in rows {
        let (i, row) = row?;
        statuses[i].push(row);
    }
    Ok(statuses)
}
