//! What `nodeunits metrics` exposes, read from systemd's properties, the
//! journal (memory restarts) and the reload records.

use super::bus::Systemd;
use super::history::History;
use super::lock::lock_dir;
use super::manager::SystemdError;
use super::reload_record::ReloadRecord;
use super::status::{apps_status, InstanceStatus};
use crate::model::AppName;

/// An instance's restarts by its helper this boot, from the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Restarts {
    /// For `max_memory_restart`.
    pub memory: u64,
    /// For `unresponsive_timeout`: its event loop stopped turning.
    pub unresponsive: u64,
}

/// What one app's series are made of.
#[derive(Debug, Clone, PartialEq)]
pub struct AppSample {
    pub app: AppName,
    /// One per instance the app unit wants, with its restarts by the helper.
    pub instances: Vec<(InstanceStatus, Restarts)>,
    /// `NAccepted`, `NConnections`, `NRefused` of its socket unit.
    pub socket: Option<(u32, u32, Option<u32>)>,
    pub reload: Option<ReloadRecord>,
}

/// Reads every app's sample: the properties over D-Bus, the journal once.
pub fn gather(systemd: &Systemd, apps: &[AppName]) -> Result<Vec<AppSample>, SystemdError> {
    let statuses = apps_status(systemd, apps)?;
    let units: Vec<String> = statuses.iter().flatten().map(|s| s.unit.clone()).collect();
    // Without the journal (not readable by this user) memory restarts read 0;
    // the other series still hold.
    let history = History::read(systemd.scope(), &units).unwrap_or_default();
    let dir = lock_dir(systemd.scope());
    let mut samples = Vec::new();
    for (app, status) in apps.iter().zip(statuses) {
        let socket_unit = app.units().socket();
        let socket = if systemd.unit(&socket_unit)?.load_state()? == "loaded" {
            let socket = systemd.socket(&socket_unit)?;
            Some((
                socket.n_accepted()?,
                socket.n_connections()?,
                socket.n_refused().ok(),
            ))
        } else {
            None
        };
        samples.push(AppSample {
            app: app.clone(),
            instances: status
                .into_iter()
                .map(|s| {
                    let restarts = Restarts {
                        memory: history.memory_restarts(&s.unit),
                        unresponsive: history.unresponsive_restarts(&s.unit),
                    };
                    (s, restarts)
                })
                .collect(),
            socket,
            reload: ReloadRecord::load(&dir, app),
        });
    }
    Ok(samples)
}
