//! Apps' instances from systemd's unit properties, for `status`,
//! `describe`, `metrics` and `monit`.

use std::time::{SystemTime, UNIX_EPOCH};

use nix::sys::signal::Signal;
use serde::{Deserialize, Serialize};

use super::bus::Systemd;
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
    let names = app.units();
    let wants = systemd.unit(&names.app())?.wants()?;
    let listen: Vec<String> = match systemd.socket(&names.socket()) {
        Ok(socket) => socket
            .listen()
            .unwrap_or_default()
            .into_iter()
            .map(|(_, a)| a)
            .collect(),
        Err(_) => Vec::new(),
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64);
    let mut rows = Vec::new();
    for number in names.instances_among(wants.iter().map(String::as_str)) {
        let unit = names.instance(number);
        let properties = systemd.unit(&unit)?;
        let service = systemd.service(&unit)?;
        let state = properties.active_state()?;
        let entered = properties.active_enter_timestamp()?;
        let (code, status) = (service.exec_main_code()?, service.exec_main_status()?);
        let runtime = (state == "active")
            .then(|| runtime_stats::read(systemd.scope(), app, number))
            .flatten();
        rows.push(InstanceStatus {
            app: app.to_string(),
            pm2_name: None,
            instance: number.to_string(),
            pid: service.main_pid()?,
            sub_state: properties.sub_state()?,
            uptime_secs: (state == "active" && entered > 0)
                .then(|| now.saturating_sub(entered) / 1_000_000),
            state,
            restarts: service.n_restarts()?,
            result: service.result()?,
            exit_status: (code == CLD_EXITED).then_some(status),
            exit_signal: (code == CLD_KILLED || code == CLD_DUMPED).then(|| {
                Signal::try_from(status).map_or(status.to_string(), |s| s.as_str().into())
            }),
            cpu_nsec: known(service.cpu_usage_nsec()?),
            memory_bytes: known(service.memory_current()?),
            listen: listen.clone(),
            runtime,
            unit,
        });
    }
    Ok(rows)
}
