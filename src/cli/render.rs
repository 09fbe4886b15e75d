//! `nodeunits render`: print the units of an ecosystem file, or write them
//! into a directory.
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;

use super::args::{CompileArgs, ManagerArgs};
use crate::model::name::ENVIRONMENT_FILE_SUFFIX;
use crate::units::{self, env_file, Rendered};

pub fn run(
    file: &Path,
    compile: &CompileArgs,
    manager: ManagerArgs,
    out: Option<&Path>,
    show_env: bool,
) -> anyhow::Result<ExitCode> {
    let options = compile.options(manager);
    let rendered = match units::compile(file, &options) {
        Ok(rendered) => rendered,
        Err(err) => {
            eprint!("{err}");
            return Ok(ExitCode::from(1));
        }
    };
    print_warnings(&rendered);
    match out {
        Some(dir) => write_into(dir, &rendered)?,
        None => print!("{}", listing(&rendered, show_env)),
    }
    Ok(ExitCode::SUCCESS)
}

pub fn print_warnings(rendered: &Rendered) {
    for warning in &rendered.warnings {
        eprint!("{warning}");
    }
}

/// Every file, each preceded by `# --- <file name> ---`; the environment
/// files' values masked unless `show_env`.
pub fn listing(rendered: &Rendered, show_env: bool) -> String {
    let mut text = String::new();
    for (index, file) in rendered.apps.iter().flat_map(|app| &app.files).enumerate() {
        let separator = if index == 0 { "" } else { "\n" };
        let contents = match show_env || !file.name.ends_with(ENVIRONMENT_FILE_SUFFIX) {
            true => file.contents.clone(),
            false => env_file::masked(&file.contents, None),
        };
        text.push_str(&format!("{separator}# --- {} ---\n{contents}", file.name));
    }
    text
}

fn write_into(dir: &Path, rendered: &Rendered) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for file in rendered.apps.iter().flat_map(|app| &app.files) {
        let path = dir.join(&file.name);
        let written = match file.name.ends_with(ENVIRONMENT_FILE_SUFFIX) {
            true => crate::durable::write_private(&path, file.contents.as_bytes()),
            false => std::fs::write(&path, &file.contents),
        };
        written.with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}
