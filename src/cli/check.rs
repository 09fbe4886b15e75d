//! `nodeunits check`.
use std::path::Path;
use std::process::ExitCode;

use super::args::CompileArgs;

pub fn run(file: &Path, _compile: &CompileArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("check {}: not implemented yet", file.display())
}
