//! `nodeunits check`: validate an ecosystem file, print its warnings.
use std::path::Path;
use std::process::ExitCode;

use super::args::{CompileArgs, ManagerArgs};
use crate::units;

pub fn run(file: &Path, compile: &CompileArgs) -> anyhow::Result<ExitCode> {
    match units::compile(file, &compile.options(ManagerArgs::default())) {
        Ok(rendered) => {
            super::render::print_warnings(&rendered);
            let apps = rendered.apps.len();
            eprintln!(
                "{}: {apps} app{} ok",
                file.display(),
                if apps == 1 { "" } else { "s" }
            );
            eprint!("{}", super::shared::ports_of(&rendered, &[]));
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            eprint!("{err}");
            Ok(ExitCode::from(1))
        }
    }
}
