//! `nodeunits reload`.
use std::process::ExitCode;

use super::args::ManagerArgs;

pub fn run(app: &str, _manager: ManagerArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("reload {app}: not implemented yet")
}
