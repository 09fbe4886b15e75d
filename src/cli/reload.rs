//! `nodeunits reload`: the rolling reload, also run by `systemctl reload APP`.
use std::process::ExitCode;

use anyhow::Context;

use super::apply::{connect, lock_apps, target};
use super::args::ManagerArgs;
use crate::model::AppName;
use crate::systemd::bus::Systemd;
use crate::systemd::rolling::roll;
use crate::systemd::Scope;

/// The app's instance units, from its app unit's `Wants=`.
pub(super) fn instances_of(systemd: &Systemd, app: &AppName) -> anyhow::Result<Vec<String>> {
    let app_unit = app.units().app();
    let unit = systemd.unit(&app_unit)?;
    if unit.load_state()? != "loaded" {
        let other = match systemd.scope() {
            Scope::System => "--user",
            Scope::User => "--system",
        };
        anyhow::bail!(
            "no app `{app}` in the {} service manager: {app_unit} is not loaded (installed with {other}? see `nodeunits status {other}`)",
            if systemd.scope() == Scope::System { "system" } else { "user" },
        );
    }
    let wants = unit.wants()?;
    let numbers = app
        .units()
        .instances_among(wants.iter().map(String::as_str));
    Ok(app.units().instances(numbers))
}

pub fn run(app: &AppName, manager: ManagerArgs) -> anyhow::Result<ExitCode> {
    let (scope, _) = target(manager)?;
    let systemd = connect(scope)?;
    let instances = instances_of(&systemd, app)?;
    let _lock = lock_apps(scope, [app])?;
    let mut done = 0;
    roll(
        &systemd,
        &instances,
        |_| {},
        |line| {
            done += 1;
            println!("{line}");
        },
    )
    .with_context(|| {
        let untouched = &instances[(done + 1).min(instances.len())..];
        let left = if untouched.is_empty() {
            String::new()
        } else {
            format!("; left alone: {}", untouched.join(" "))
        };
        let failed = instances.get(done).map_or("", String::as_str);
        format!("reload of `{app}` stopped at {failed}{left}")
    })?;
    Ok(ExitCode::SUCCESS)
}
