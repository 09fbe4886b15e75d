//! Several hosts: `nodeunits deploy` (pm2-deploy's section, over ssh) and
//! `status --host`, one table of every host's instances.
//!
//! A host is reached over the machine's own `ssh` and runs its own
//! `nodeunits`: it reads its systemd over its own bus and its own files
//! (the installed units, the runtime directory's figures), which a remote
//! bus alone (`systemctl -H`, systemd-stdio-bridge) would not show. Every
//! host of a deploy has nodeunits anyway.

pub mod deploy;
pub mod ssh;

use std::process::ExitCode;

use anyhow::Context;

use super::args::{HostArgs, ManagerArgs};
use crate::ecosystem::deploy::Environment;
use crate::ecosystem::{self, Diagnostics, Severity};
use crate::model::AppName;
use crate::systemd::status::InstanceStatus;
use ssh::{quote, Ssh};

impl HostArgs {
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty() && self.deploy.is_none()
    }
}

/// `nodeunits deploy [FILE] ENV [COMMAND]`.
pub fn deploy(words: &[String]) -> anyhow::Result<ExitCode> {
    let cwd = std::env::current_dir().context("finding the current directory")?;
    let request = deploy::parse(words, &cwd)?;
    let Some(environment) = environment_of(&request.file, &request.environment)? else {
        return Ok(ExitCode::FAILURE);
    };
    deploy::run(&request, &environment)
}

/// The environment `name` of `file`'s `deploy` section; `None` when the
/// file or the section is wrong, with the errors printed.
fn environment_of(file: &std::path::Path, name: &str) -> anyhow::Result<Option<Environment>> {
    let mut diagnostics = Diagnostics::default();
    let facts = crate::units::Facts::of_this_process();
    let evaluator = ecosystem::Evaluator {
        node: facts.which("node"),
        environment: &facts.environment,
    };
    let (source, document) = ecosystem::load(file, &evaluator, &mut diagnostics);
    let environment = document.as_ref().and_then(|document| {
        let top = document.get_ref().as_table()?;
        ecosystem::deploy::environment(top, name, &mut diagnostics)
    });
    let errors = diagnostics.render(Severity::Error, &source);
    if environment.is_none() || !errors.is_empty() {
        for error in &errors {
            eprint!("{error}");
        }
        eprintln!("nodeunits deploy: {} cannot be deployed", file.display());
        return Ok(None);
    }
    Ok(environment)
}

/// `status --host …`: `nodeunits status --json` on each host, one table.
pub fn status(
    app: Option<&AppName>,
    manager: ManagerArgs,
    json: bool,
    hosts: &HostArgs,
) -> anyhow::Result<ExitCode> {
    let (ssh, names) = match &hosts.deploy {
        Some(name) => {
            let cwd = std::env::current_dir().context("finding the current directory")?;
            let request = deploy::parse(std::slice::from_ref(name), &cwd)?;
            let Some(environment) = environment_of(&request.file, name)? else {
                return Ok(ExitCode::FAILURE);
            };
            (Ssh::of(&environment), environment.hosts)
        }
        None => (Ssh::default(), hosts.hosts.clone()),
    };
    let mut command = String::from("nodeunits status --json");
    if let Some(app) = app {
        command += &format!(" {}", quote(app.as_str()));
    }
    // Without either, each host's own default (its user's manager, or root's system one).
    if manager.system {
        command += " --system";
    } else if manager.user {
        command += " --user";
    }
    let script =
        format!("export XDG_RUNTIME_DIR=\"${{XDG_RUNTIME_DIR:-/run/user/$(id -u)}}\"\n{command}\n");
    let mut rows: Vec<(String, InstanceStatus)> = Vec::new();
    let mut failed = false;
    for host in &names {
        match ssh.run_stdout(host, &script) {
            Ok(output) => {
                let parsed: Vec<InstanceStatus> = serde_json::from_str(&output)
                    .with_context(|| format!("{host}: `{command}` printed no status: {output}"))?;
                rows.extend(parsed.into_iter().map(|row| (host.clone(), row)));
            }
            Err(failure) => {
                failed = true;
                eprintln!(
                    "nodeunits status: {host}: `{command}` failed ({failure}):\n{}",
                    failure.last_lines(10)
                );
            }
        }
    }
    if json {
        let objects: Vec<serde_json::Value> = rows
            .iter()
            .map(|(host, row)| {
                let mut value = serde_json::to_value(row).unwrap_or_default();
                if let Some(object) = value.as_object_mut() {
                    object.insert("host".into(), host.clone().into());
                }
                value
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&objects)?);
    } else {
        let (hosts, statuses): (Vec<String>, Vec<InstanceStatus>) = rows.into_iter().unzip();
        print!("{}", super::status::table(&statuses, &hosts));
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
