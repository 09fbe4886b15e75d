//! `nodeunits apply`.
use std::path::Path;
use std::process::ExitCode;

use super::args::{CompileArgs, ManagerArgs};

pub fn run(
    file: &Path,
    _compile: &CompileArgs,
    _manager: ManagerArgs,
    _dry_run: bool,
    _only: &[String],
) -> anyhow::Result<ExitCode> {
    anyhow::bail!("apply {}: not implemented yet", file.display())
}
