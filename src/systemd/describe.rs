//! `nodeunits describe APP`: what one app is and how it runs, gathered
//! from its installed units (the effective options), systemd's properties
//! (units, instances, sockets), the journal (why each instance last
//! restarted) and the reload record.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::bus::Systemd;
use super::history::{History, LastEnd};
use super::lock::lock_dir;
use super::manager::SystemdError;
use super::reload_record::ReloadRecord;
use super::status::{app_status, InstanceStatus};
use crate::model::name::UnitKind;
use crate::model::AppUnits;

/// One of the app's units, as systemd has it now.
#[derive(Debug, Clone, Serialize)]
pub struct UnitState {
    pub unit: String,
    pub state: String,
    pub sub_state: String,
    /// `enabled`, `disabled`, `static`, …
    pub file_state: String,
}

/// The app's socket unit and its counters.
#[derive(Debug, Clone, Serialize)]
pub struct SocketState {
    pub listen: Vec<String>,
    /// `NAccepted`, `NConnections`: systemd counts only with `Accept=yes`,
    /// so for an app's socket (the workers accept) they stay 0.
    pub accepted: u32,
    pub connections: u32,
    pub refused: Option<u32>,
}

/// Why an instance last restarted, or its last run ended.
#[derive(Debug, Clone, Serialize)]
pub struct LastRestart {
    /// `memory`, `crash`, `exited` (not restarted), `reload` or `requested`.
    pub reason: &'static str,
    /// In words: "memory: 90.1 MB (…), over max_memory_restart 80.0 MB (…), exit status 75".
    pub summary: String,
    /// Microseconds since the epoch.
    pub at_usec: u64,
}

/// One instance: its status, how its last run ended and why it restarted.
#[derive(Debug, Clone, Serialize)]
pub struct InstanceDescription {
    #[serde(flatten)]
    pub status: InstanceStatus,
    /// `ExecMainCode` in words (`exited`, `killed`, `dumped`); `null` while
    /// the process runs.
    pub exec_main_code: Option<&'static str>,
    pub exec_main_status: i32,
    pub last_restart: Option<LastRestart>,
}

/// Everything `describe` shows but the options, which come from `units`.
#[derive(Debug, Clone)]
pub struct LiveState {
    pub units: Vec<UnitState>,
    pub socket: Option<SocketState>,
    pub instances: Vec<InstanceDescription>,
    pub reload: Option<ReloadRecord>,
    /// Why the journal could not be read, when it could not.
    pub journal_note: Option<String>,
}

fn exec_main_code(code: i32) -> Option<&'static str> {
    match code {
        1 => Some("exited"),
        2 => Some("killed"),
        3 => Some("dumped"),
        _ => None,
    }
}

/// The installed app `units` as systemd runs it now.
pub fn live_state(systemd: &Systemd, units: &AppUnits) -> Result<LiveState, SystemdError> {
    let names = units.name.units();
    let mut unit_states = Vec::new();
    for kind in UnitKind::ALL {
        let skip = match kind {
            UnitKind::Template => true,
            UnitKind::Socket => units.listen.is_empty(),
            UnitKind::CronTimer | UnitKind::CronService => units.cron.is_none(),
            UnitKind::App => false,
        };
        if skip {
            continue;
        }
        let unit = names.of(kind);
        let proxy = systemd.unit(&unit)?;
        unit_states.push(UnitState {
            state: proxy.active_state()?,
            sub_state: proxy.sub_state()?,
            file_state: proxy.unit_file_state().unwrap_or_default(),
            unit,
        });
    }
    let socket = if units.listen.is_empty() {
        None
    } else {
        let proxy = systemd.socket(&names.socket())?;
        Some(SocketState {
            listen: units.listen.clone(),
            accepted: proxy.n_accepted()?,
            connections: proxy.n_connections()?,
            refused: proxy.n_refused().ok(),
        })
    };
    let statuses = app_status(systemd, &units.name)?;
    let unit_names: Vec<String> = statuses.iter().map(|s| s.unit.clone()).collect();
    let (history, journal_note) = match History::read(systemd.scope(), &unit_names) {
        Ok(history) => (history, None),
        Err(why) => (History::default(), Some(why)),
    };
    let reload = ReloadRecord::load(&lock_dir(systemd.scope()), &units.name);
    let mut instances = Vec::new();
    for status in statuses {
        let service = systemd.service(&status.unit)?;
        let last_restart = history
            .last_end(&status.unit)
            .map(|end| last_restart(end, reload.as_ref()));
        instances.push(InstanceDescription {
            exec_main_code: exec_main_code(service.exec_main_code()?),
            exec_main_status: service.exec_main_status()?,
            last_restart,
            status,
        });
    }
    Ok(LiveState {
        units: unit_states,
        socket,
        instances,
        reload,
        journal_note,
    })
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
pub fn ago(at_usec: u64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64);
    let seconds = now.saturating_sub(at_usec) / 1_000_000;
    format!("{} ago", super::status::uptime(seconds))
}
