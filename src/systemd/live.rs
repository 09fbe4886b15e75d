//! One installed app as systemd runs it now, for `nodeunits describe`:
//! systemd's properties (units, instances, sockets), the journal (how each
//! instance's last run ended) and the reload record. The wording is the
//! command's.

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

/// One instance: its status, how its last run ended and the journal's
/// account of that end.
#[derive(Debug, Clone)]
pub struct InstanceState {
    pub status: InstanceStatus,
    /// `ExecMainCode`: how the last main process ended (waitid(2)'s
    /// `CLD_*`), 0 while it runs.
    pub exec_main_code: i32,
    pub exec_main_status: i32,
    /// Why its last run ended, when the journal says.
    pub last_end: Option<LastEnd>,
}

/// Everything `describe` shows but the options, which come from `units`.
#[derive(Debug, Clone)]
pub struct LiveState {
    pub units: Vec<UnitState>,
    pub socket: Option<SocketState>,
    pub instances: Vec<InstanceState>,
    pub reload: Option<ReloadRecord>,
    /// Why the journal could not be read, when it could not.
    pub journal_note: Option<String>,
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
            UnitKind::Logs => units.logs.is_none(),
            UnitKind::Watch => units.watch.is_none(),
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
        Err(why) => (History::default(), Some(why.to_string())),
    };
    let reload = ReloadRecord::load(&lock_dir(systemd.scope()), &units.name);
    let mut instances = Vec::new();
    for status in statuses {
        let service = systemd.service(&status.unit)?;
        instances.push(InstanceState {
            exec_main_code: service.exec_main_code()?,
            exec_main_status: service.exec_main_status()?,
            last_end: history.last_end(&status.unit),
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
