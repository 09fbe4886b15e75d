//! `nodeunits logs`.
use std::process::ExitCode;

use super::args::ManagerArgs;

pub fn run(
    app: &str,
    _manager: ManagerArgs,
    _follow: bool,
    _lines: Option<u32>,
    _instance: Option<u32>,
) -> anyhow::Result<ExitCode> {
    anyhow::bail!("logs {app}: not implemented yet")
}
