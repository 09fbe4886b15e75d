//! `nodeunits logs`: `journalctl` with the app's units as matches.
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};

use super::apply::target;
use super::args::ManagerArgs;
use crate::model::AppName;
use crate::systemd::journal::{logs_args, LogsRequest};

pub fn run(
    app: &AppName,
    manager: ManagerArgs,
    follow: bool,
    lines: Option<u32>,
    instance: Option<u32>,
) -> anyhow::Result<ExitCode> {
    let (scope, _) = target(manager)?;
    let request = LogsRequest {
        follow,
        lines,
        instance,
    };
    let err = Command::new("journalctl")
        .args(logs_args(scope, app, &request))
        .exec();
    anyhow::bail!("running journalctl: {err}")
}
