//! `nodeunits status`.
use std::process::ExitCode;

use super::apply::{connect, target};
use super::args::ManagerArgs;
use super::reload::{installed_apps, loaded};
use crate::model::AppName;
use crate::systemd::status::{app_status, table};
use crate::systemd::unfinished::Journal;

pub fn run(app: Option<&AppName>, manager: ManagerArgs, json: bool) -> anyhow::Result<ExitCode> {
    let (scope, units) = target(manager)?;
    let apps: Vec<AppName> = match app {
        Some(app) => vec![app.clone()],
        None => installed_apps(&units)?,
    };
    let systemd = connect(scope)?;
    let mut rows = Vec::new();
    for app in &apps {
        if loaded(&systemd, app)? {
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
    let journal = Journal::of(scope).and_then(|journal| journal.read().ok());
    for (app, entry) in journal.unwrap_or_default() {
        if apps.contains(&app) {
            eprintln!(
                "note: an apply of `{app}` is under way, or was killed: `nodeunits apply {}` finishes it",
                entry.source.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
