//! `nodeunits render`.
use std::path::Path;
use std::process::ExitCode;

use super::args::{CompileArgs, ManagerArgs};

pub fn run(
    file: &Path,
    _compile: &CompileArgs,
    _manager: ManagerArgs,
    _out: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    anyhow::bail!("render {}: not implemented yet", file.display())
}
