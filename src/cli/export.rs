//! `nodeunits export kubernetes`: print an ecosystem file's apps as
//! Kubernetes manifests, the compiler's warnings and the export's on stderr.

use std::process::ExitCode;

use super::args::ExportTarget;
use super::render::print_warnings;
use crate::kubernetes::{self, ExportOptions};
use crate::model::Scope;
use crate::units::{self, CompileOptions};

pub fn run(target: ExportTarget) -> anyhow::Result<ExitCode> {
    let ExportTarget::Kubernetes {
        file,
        env,
        image,
        namespace,
        show_secrets,
    } = target;
    let options = CompileOptions {
        for_pods: true,
        ..CompileOptions::detect(env, None, None, Scope::System)
    };
    let rendered = match units::compile(&file, &options) {
        Ok(rendered) => rendered,
        Err(err) => {
            eprint!("{err}");
            return Ok(ExitCode::from(1));
        }
    };
    print_warnings(&rendered);
    let apps: Vec<_> = rendered.apps.into_iter().map(|app| app.units).collect();
    let export = match kubernetes::export(
        &apps,
        &ExportOptions {
            image,
            namespace,
            show_secrets,
        },
    ) {
        Ok(export) => export,
        Err(err) => {
            eprintln!("error: {err}; no manifests were generated");
            return Ok(ExitCode::from(1));
        }
    };
    for warning in &export.warnings {
        eprint!("{warning}");
    }
    print!("{}", kubernetes::yaml(&export.documents));
    Ok(ExitCode::SUCCESS)
}
