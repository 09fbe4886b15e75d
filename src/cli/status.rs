//! `nodeunits status`.
use std::process::ExitCode;

use super::args::ManagerArgs;

pub fn run(app: Option<&str>, _manager: ManagerArgs, _json: bool) -> anyhow::Result<ExitCode> {
    anyhow::bail!("status {app:?}: not implemented yet")
}
