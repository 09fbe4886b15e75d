//! `nodeunits logs`: the apps' journal, read with `journalctl --output=json`,
//! one line per entry naming the instance that wrote it.
use std::io::{BufReader, ErrorKind, Write};
use std::process::{Command, ExitCode, Stdio};

use anyhow::Context;

use super::args::ManagerArgs;
use super::shared::installed_apps;
use super::shared::target;
use crate::model::{AppName, Scope};
use crate::systemd::journalctl::{logs_args, LogsRequest};
use crate::systemd::log_entry::entries;

pub fn run(
    app: Option<&AppName>,
    manager: ManagerArgs,
    request: LogsRequest,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let (scope, units) = target(manager)?;
    let apps = match app {
        Some(app) => vec![app.clone()],
        None => installed_apps(&units)?,
    };
    anyhow::ensure!(
        !apps.is_empty(),
        "no app is installed in {}, so there are no logs to show; name an app, or see `nodeunits status` ({} for the {} service manager's apps)",
        units.path().display(),
        match scope {
            Scope::System => "--user",
            Scope::User => "--system",
        },
        match scope {
            Scope::System => "user",
            Scope::User => "system",
        },
    );
    let mut journalctl = Command::new("journalctl")
        .args(logs_args(scope, &apps, &request))
        .stdout(Stdio::piped())
        .spawn()
        .context("running journalctl")?;
    let output = BufReader::new(journalctl.stdout.take().expect("piped"));
    let mut out = std::io::stdout().lock();
    for entry in entries(output, scope, &apps) {
        let written = if json {
            serde_json::to_writer(&mut out, &entry)
                .map_err(std::io::Error::from)
                .and_then(|()| writeln!(out))
        } else {
            writeln!(out, "{}", entry.line())
        }
        .and_then(|()| out.flush());
        match written {
            Ok(()) => {}
            // `nodeunits logs | head`: the reader has seen enough.
            Err(err) if err.kind() == ErrorKind::BrokenPipe => {
                let _ = journalctl.kill();
                let _ = journalctl.wait();
                return Ok(ExitCode::SUCCESS);
            }
            Err(err) => return Err(err).context("writing the logs"),
        }
    }
    let status = journalctl.wait().context("waiting for journalctl")?;
    anyhow::ensure!(status.success(), "journalctl failed ({status})");
    Ok(ExitCode::SUCCESS)
}
