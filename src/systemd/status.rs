//! `nodeunits status`: apps and instances from systemd's unit properties.

use std::time::{SystemTime, UNIX_EPOCH};

use nix::sys::signal::Signal;
use serde::Serialize;

use super::bus::Systemd;
use super::manager::SystemdError;
use crate::model::AppName;

/// One worker, as `pm2 ls` shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct InstanceStatus {
    pub app: String,
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
        rows.push(InstanceStatus {
            app: app.to_string(),
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
            unit,
        });
    }
    Ok(rows)
}

pub fn uptime(seconds: u64) -> String {
    match seconds {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

pub fn memory(bytes: u64) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    format!("{:.1}M", bytes as f64 / MIB)
}

/// `active (running)`; a failed instance says why: `failed (start-limit-hit)`.
fn state(row: &InstanceStatus) -> String {
    let detail = if row.state == "failed" {
        &row.result
    } else {
        &row.sub_state
    };
    format!("{} ({detail})", row.state)
}

/// How the app's last run ended: `status 3`, `SIGKILL`, or `-`.
fn last_exit(row: &InstanceStatus) -> String {
    match (&row.exit_status, &row.exit_signal) {
        (Some(status), _) => format!("status {status}"),
        (None, Some(signal)) => signal.clone(),
        (None, None) => "-".into(),
    }
}

/// A `pm2 ls`-like table.
pub fn table(rows: &[InstanceStatus]) -> String {
    let header = [
        "app",
        "id",
        "pid",
        "state",
        "uptime",
        "restarts",
        "last exit",
        "cpu",
        "memory",
        "listen",
    ];
    let cells: Vec<[String; 10]> = rows
        .iter()
        .map(|r| {
            [
                r.app.clone(),
                r.instance.clone(),
                if r.pid == 0 {
                    "-".into()
                } else {
                    r.pid.to_string()
                },
                state(r),
                r.uptime_secs.map_or("-".into(), uptime),
                r.restarts.to_string(),
                last_exit(r),
                r.cpu_nsec
                    .map_or("-".into(), |ns| format!("{:.1}s", ns as f64 / 1e9)),
                r.memory_bytes.map_or("-".into(), memory),
                r.listen.join(" "),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |row: &[String]| {
        let padded: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:width$}"))
            .collect();
        padded.join("  ").trim_end().to_owned() + "\n"
    };
    let mut out = line(&header.map(String::from));
    for row in &cells {
        out += &line(row);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_columns_and_marks_the_unknown() {
        let row = InstanceStatus {
            app: "api".into(),
            instance: "0".into(),
            unit: "api@0.service".into(),
            pid: 4242,
            state: "active".into(),
            sub_state: "running".into(),
            uptime_secs: Some(125),
            restarts: 1,
            result: "success".into(),
            exit_status: None,
            exit_signal: None,
            cpu_nsec: Some(1_500_000_000),
            memory_bytes: None,
            listen: vec!["127.0.0.1:3000".into()],
        };
        let failed = InstanceStatus {
            instance: "1".into(),
            pid: 0,
            state: "failed".into(),
            sub_state: "failed".into(),
            uptime_secs: None,
            restarts: 16,
            result: "start-limit-hit".into(),
            exit_status: Some(3),
            ..row.clone()
        };
        assert_eq!(
            table(&[row, failed]),
            "app  id  pid   state                     uptime  restarts  last exit  cpu   memory  listen\n\
             api  0   4242  active (running)          2m      1         -          1.5s  -       127.0.0.1:3000\n\
             api  1   -     failed (start-limit-hit)  -       16        status 3   1.5s  -       127.0.0.1:3000\n"
        );
    }
}
