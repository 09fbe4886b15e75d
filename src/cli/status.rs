//! `nodeunits status`: a `pm2 ls`-like table of every instance, or JSON.
use std::process::ExitCode;

use super::args::ManagerArgs;
use super::shared::{all_loaded, installed_apps};
use super::shared::{connect_to_read, target};
use crate::model::AppName;
use crate::systemd::apply_journal::ApplyJournal;
use crate::systemd::status::{apps_status, InstanceStatus};

pub fn run(app: Option<&AppName>, manager: ManagerArgs, json: bool) -> anyhow::Result<ExitCode> {
    let (scope, units) = target(manager)?;
    let apps: Vec<AppName> = match app {
        Some(app) => vec![app.clone()],
        None => installed_apps(&units)?,
    };
    let systemd = connect_to_read(scope)?;
    let installed = units.read().ok();
    for (app, loaded) in apps.iter().zip(all_loaded(&systemd, &apps)?) {
        if !loaded {
            anyhow::bail!("no app `{app}` is installed in {}", units.path().display());
        }
    }
    let mut rows = Vec::new();
    let mut mapped = Vec::new();
    for (app, statuses) in apps.iter().zip(apps_status(&systemd, &apps)?) {
        let pm2_name = installed
            .as_ref()
            .and_then(|installed| installed.app(app).ok().flatten()?.pm2_name);
        if let Some(pm2_name) = &pm2_name {
            mapped.push(format!("note: the units of `{pm2_name}` are named `{app}`"));
        }
        rows.extend(statuses.into_iter().map(|row| InstanceStatus {
            pm2_name: pm2_name.clone(),
            ..row
        }));
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        print!("{}", table(&rows, &[]));
        for note in mapped {
            println!("{note}");
        }
    }
    let journal = ApplyJournal::of(scope).and_then(|journal| journal.read().ok());
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

/// `2m`, `3h`: the largest whole unit.
pub(super) fn uptime(seconds: u64) -> String {
    match seconds {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

/// Mebibytes, one decimal: `12.5M`.
pub(super) fn memory(bytes: u64) -> String {
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

/// A `pm2 ls`-like table; with `hosts` (one per row), a first column naming
/// each row's host.
pub(super) fn table(rows: &[InstanceStatus], hosts: &[String]) -> String {
    let mut header: Vec<String> = [
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
    ]
    .map(String::from)
    .to_vec();
    if !hosts.is_empty() {
        header.insert(0, "host".into());
    }
    let cells: Vec<Vec<String>> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut cells: Vec<String> = hosts.get(i).cloned().into_iter().collect();
            cells.extend([
                r.pm2_name.clone().unwrap_or_else(|| r.app.clone()),
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
            ]);
            cells
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(String::len).collect();
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |row: &[String]| {
        let padded: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:width$}"))
            .collect();
        padded.join("  ").trim_end().to_owned() + "\n"
    };
    let mut out = line(&header);
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
            pm2_name: None,
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
            runtime: None,
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
        let named = InstanceStatus {
            app: "CodeChat-Api".into(),
            pm2_name: Some("CodeChat Api".into()),
            ..row.clone()
        };
        assert!(table(&[named], &[])
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("CodeChat Api  0 "));
        assert_eq!(
            table(&[row, failed], &[]),
            "app  id  pid   state                     uptime  restarts  last exit  cpu   memory  listen\n\
             api  0   4242  active (running)          2m      1         -          1.5s  -       127.0.0.1:3000\n\
             api  1   -     failed (start-limit-hit)  -       16        status 3   1.5s  -       127.0.0.1:3000\n"
        );
    }
}
