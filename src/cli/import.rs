//! `nodeunits import`: print an ecosystem file as an equivalent, commented
//! `ecosystem.toml`.
use std::path::Path;
use std::process::ExitCode;

use super::args::ManagerArgs;
use crate::ecosystem::{import, Severity};
use crate::units::{self, CompileOptions};

pub fn run(file: &Path, env: Option<String>) -> anyhow::Result<ExitCode> {
    let options = CompileOptions::detect(env, None, None, ManagerArgs::default().mode());
    let compiled = units::compile_file(file, &options);
    let Some(document) = &compiled.document else {
        // Nothing to convert: the file could not be read.
        for error in compiled
            .diagnostics
            .render(Severity::Error, &compiled.source)
        {
            eprint!("{error}");
        }
        eprintln!("{} was not converted", file.display());
        return Ok(ExitCode::from(1));
    };
    print!(
        "{}",
        import::to_toml(&compiled.source, document, &compiled.diagnostics)
    );
    let errors = compiled.diagnostics.count(Severity::Error);
    if errors > 0 {
        let plural = if errors == 1 { "" } else { "s" };
        eprintln!(
            "{}: converted, with {errors} error{plural}, each in a comment `# error: ...`",
            file.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
