//! What an app's units do that its pods cannot, each said once with what
//! happens instead.

use std::time::Duration;

use super::ExportOptions;
use crate::model::{AppUnits, LogTarget};

pub(super) fn warn(app: &AppUnits, options: &ExportOptions, warn: &mut impl FnMut(String)) {
    let worker = &app.worker;
    let var = &worker.instance_var;
    warn(format!(
        "{var} is 0 in every pod: a Deployment's pods are not numbered 0…N-1, so work an app does only on instance 0 runs in every pod; run it in a CronJob or a Deployment of 1"
    ));
    if let Some(name) = &worker.options.increment_var {
        warn(format!(
            "increment_var: {name} keeps its value in every pod (instance 0); pods have addresses of their own"
        ));
    }
    if let Some(namespace) = &app.namespace {
        let target = match &options.namespace {
            Some(ns) => format!("namespace `{ns}` (--namespace)"),
            None => "kubectl's current namespace (or --namespace)".to_owned(),
        };
        warn(format!(
            "namespace `{namespace}` groups apps for nodeunits only; the manifests go to {target}"
        ));
    }
    let logs = [
        ("out_file", &worker.standard_output),
        ("error_file", &worker.standard_error),
    ];
    for (key, target) in logs {
        if let Some(LogTarget::Append(path)) = target {
            warn(format!(
                "{key}: the output goes to the container's log (`kubectl logs`), not to {}",
                path.display()
            ));
        }
    }
    if !worker.restart {
        warn("autorestart = false: a Deployment restarts every pod that exits".into());
    }
    if !worker.stop_exit_codes.is_empty() {
        warn("stop_exit_codes: a Deployment restarts a pod whatever its exit status".into());
    }
    if worker.restart_delay > Duration::ZERO || worker.restart_steps.is_some() {
        warn("restart_delay, max_restarts, min_uptime: the kubelet spaces restarts itself (10s, doubling up to 5 minutes)".into());
    }
    match &worker.sandbox {
        Some(sandbox) => {
            let paths: Vec<String> = sandbox
                .read_write_paths
                .iter()
                .map(|path| path.display().to_string())
                .collect();
            warn(format!(
                "the root filesystem is read-only and /tmp an emptyDir, as the sandbox has it: mount a volume where the app writes ({})",
                paths.join(", ")
            ));
        }
        None => warn("hardening = \"off\": the root filesystem stays writable".into()),
    }
    let program = worker.options.command.first();
    warn(format!(
        "the pods run {} in {}, the paths of this machine: the image must have them",
        program.map_or("the program".into(), |p| p.to_string_lossy().into_owned()),
        worker.working_directory.display()
    ));
}
