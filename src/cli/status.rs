//! `nodeunits status`.
use std::process::ExitCode;

use anyhow::Context;

use super::apply::{connect, target};
use super::args::ManagerArgs;
use crate::systemd::status::{app_status, table};

pub fn run(app: Option<&str>, manager: ManagerArgs, json: bool) -> anyhow::Result<ExitCode> {
    let (scope, units) = target(manager)?;
    let apps: Vec<String> = match app {
        Some(app) => vec![app.to_owned()],
        None => units
            .read()
            .with_context(|| format!("reading the unit directory {}", units.path().display()))?
            .apps()
            .into_keys()
            .map(str::to_owned)
            .collect(),
    };
    let systemd = connect(scope)?;
    let mut rows = Vec::new();
    for app in &apps {
        if app_status_known(&systemd, app)? {
            rows.extend(app_status(&systemd, app)?);
        } else {
            anyhow::bail!("no app `{app}` is installed in {}", units.path().display());
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        print!("{}", table(&rows));
    }
    Ok(ExitCode::SUCCESS)
}

fn app_status_known(systemd: &crate::systemd::bus::Systemd, app: &str) -> anyhow::Result<bool> {
    Ok(systemd.unit(&format!("{app}.service"))?.load_state()? == "loaded")
}
