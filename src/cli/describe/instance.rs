//! An instance as `describe` words it: how its last run ended and why it
//! last restarted.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::systemd::history::LastEnd;
use crate::systemd::live::InstanceState;
use crate::systemd::reload_record::ReloadRecord;
use crate::systemd::status::InstanceStatus;

/// Why an instance last restarted, or its last run ended.
#[derive(Debug, Clone, Serialize)]
pub(super) struct LastRestart {
    /// `memory`, `crash`, `exited` (not restarted), `reload` or `requested`.
    pub reason: &'static str,
    /// In words: "memory: 90.1 MB (…), over max_memory_restart 80.0 MB (…), exit status 75".
    pub summary: String,
    /// Microseconds since the epoch.
    pub at_usec: u64,
}

/// One instance: its status, how its last run ended and why it restarted.
#[derive(Debug, Clone, Serialize)]
pub(super) struct InstanceDescription {
    #[serde(flatten)]
    pub status: InstanceStatus,
    /// `ExecMainCode` in words (`exited`, `killed`, `dumped`); `null` while
    /// the process runs.
    pub exec_main_code: Option<&'static str>,
    pub exec_main_status: i32,
    pub last_restart: Option<LastRestart>,
}

impl InstanceDescription {
    /// `instance` in words; a stop on request during `reload` is that reload.
    pub(super) fn new(instance: InstanceState, reload: Option<&ReloadRecord>) -> Self {
        InstanceDescription {
            exec_main_code: exec_main_code(instance.exec_main_code),
            exec_main_status: instance.exec_main_status,
            last_restart: instance.last_end.map(|end| last_restart(end, reload)),
            status: instance.status,
        }
    }
}

fn exec_main_code(code: i32) -> Option<&'static str> {
    match code {
        1 => Some("exited"),
        2 => Some("killed"),
        3 => Some("dumped"),
        _ => None,
    }
}

/// The journal's account of a run's end in words; a stop on request during
/// the last rolling reload is that reload.
fn last_restart(end: LastEnd, reload: Option<&ReloadRecord>) -> LastRestart {
    match end {
        LastEnd::Memory { figures, exit } => LastRestart {
            reason: "memory",
            summary: format!(
                "memory: {}, {}",
                figures.as_deref().unwrap_or("over max_memory_restart"),
                exit.describe()
            ),
            at_usec: exit.at_usec,
        },
        LastEnd::Unresponsive { exit } => LastRestart {
            reason: "unresponsive",
            summary: format!(
                "unresponsive: its event loop did not turn for unresponsive_timeout, killed ({}), restarted",
                exit.describe()
            ),
            at_usec: exit.at_usec,
        },
        LastEnd::Crash { exit } => LastRestart {
            reason: "crash",
            summary: format!("crash: {}, restarted by systemd", exit.describe()),
            at_usec: exit.at_usec,
        },
        LastEnd::Exited { exit } => LastRestart {
            reason: "exited",
            summary: format!("exited: {}, not restarted", exit.describe()),
            at_usec: exit.at_usec,
        },
        LastEnd::Requested { at_usec } => {
            let during_reload = reload.is_some_and(|r| r.covers(at_usec as f64 / 1e6));
            LastRestart {
                reason: if during_reload { "reload" } else { "requested" },
                summary: if during_reload {
                    "reload: restarted by a rolling reload (nodeunits reload, systemctl reload or cron_restart)".into()
                } else {
                    "requested: stopped on request (systemctl stop or restart, nodeunits restart or apply)".into()
                },
                at_usec,
            }
        }
    }
}

/// "3m ago", from microseconds since the epoch.
pub(super) fn ago(at_usec: u64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64);
    let seconds = now.saturating_sub(at_usec) / 1_000_000;
    format!("{} ago", super::super::status::uptime(seconds))
}
