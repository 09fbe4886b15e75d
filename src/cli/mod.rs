//! The `nodeunits` command line: parses arguments and dispatches to one
//! module per command. Exit status: 0 ok, 1 invalid input or failure, 2 usage,
//! 128 + N when signal N stopped a change (129 SIGHUP, 130 SIGINT, 143 SIGTERM).

mod apply;
pub mod args;
mod check;
mod control;
mod deploy;
mod describe;
mod export;
/// Several hosts: `deploy` over ssh, `status --host`.
mod hosts;
mod import;
mod init;
mod logs;
mod metrics;
mod monit;
mod reload;
mod render;
/// `secret set`: an encrypted systemd credential.
mod secret;
/// What several commands share.
mod shared;
mod start;
mod status;

use std::process::ExitCode;

use clap::Parser;

pub use args::Cli;
use args::{Command, SecretAction};

use crate::systemd::apply::ApplyError;
use crate::systemd::interrupt::Interrupted;
use crate::systemd::journalctl::LogsRequest;
use crate::systemd::rolling::RolloutError;

/// Entry point of the `nodeunits` binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("nodeunits: {err:#}");
            ExitCode::from(exit_status(&err))
        }
    }
}

/// 1, or after SIGINT, SIGTERM or SIGHUP stopped a change, 128 + the
/// signal's number, as a shell reports it.
fn exit_status(err: &anyhow::Error) -> u8 {
    err.chain()
        .find_map(|cause| {
            cause
                .downcast_ref::<Interrupted>()
                .copied()
                .or_else(|| cause.downcast_ref::<ApplyError>()?.interrupted())
                .or_else(|| cause.downcast_ref::<RolloutError>()?.interrupted())
        })
        .map_or(1, Interrupted::exit_status)
}

fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Render {
            file,
            compile,
            manager,
            out,
            show_env,
        } => render::run(&file, &compile, manager, out.as_deref(), show_env),
        Command::Check { file, compile } => check::run(&file, &compile),
        Command::Import { file, env } => import::run(&file, env),
        Command::Export { target } => export::run(target),
        Command::Apply {
            file,
            compile,
            manager,
            dry_run,
            show_env,
            only,
        } => apply::run(
            &file,
            &compile,
            manager,
            (dry_run, show_env),
            &apply::only_units(only),
        ),
        Command::Reload { hosts, .. } if !hosts.is_empty() => {
            hosts::on_hosts(&hosts, hosts::Merge::Rollout)
        }
        Command::Describe { hosts, .. } if !hosts.is_empty() => {
            hosts::on_hosts(&hosts, hosts::Merge::Sections)
        }
        Command::Logs { hosts, .. } if !hosts.is_empty() => {
            hosts::on_hosts(&hosts, hosts::Merge::Lines)
        }
        Command::Metrics {
            hosts,
            install,
            uninstall,
            http,
            ..
        } if !hosts.is_empty() => {
            anyhow::ensure!(
                install.is_none() && !uninstall && !http,
                "--host prints the hosts' metrics; --install, --uninstall and --http act on this machine only: run them on each host"
            );
            hosts::on_hosts(&hosts, hosts::Merge::Metrics)
        }
        Command::Reload { target, .. } => reload::run(&target),
        Command::Status { json, hosts, .. } if !hosts.is_empty() => hosts::status(json, &hosts),
        Command::Status {
            app, manager, json, ..
        } => status::run(app.as_ref(), manager, json),
        Command::Deploy { words } => hosts::deploy(&words),
        Command::Describe {
            app,
            manager,
            json,
            show_env,
            ..
        } => describe::run(&app, manager, json, show_env),
        Command::Metrics {
            manager,
            install,
            uninstall,
            http,
            pm2_names,
            ..
        } => {
            let request = metrics::Request {
                install: install.as_deref(),
                uninstall,
                http,
                pm2_names,
            };
            metrics::run(manager, request)
        }
        Command::Logs {
            app,
            manager,
            follow,
            lines,
            instance,
            err,
            json,
            ..
        } => {
            let request = LogsRequest {
                follow,
                lines: Some(lines),
                instance,
                stderr_only: err,
            };
            logs::run(app.as_ref(), manager, request, json)
        }
        Command::Monit { manager } => monit::run(manager),
        Command::Init { script } => init::run(script.as_deref()),
        Command::Start {
            target,
            script,
            manager,
            bin_dir,
            target_systemd,
        } => start::run(&target, &script, manager, (bin_dir, target_systemd)),
        Command::Dump { manager, show_env } => start::dump(manager, show_env),
        Command::Jlist { manager } => status::run(None, manager, true),
        Command::Stop { target, manager } => control::stop(&target, manager),
        Command::Restart { target } => control::restart(&target),
        Command::Delete { target, manager } => control::delete(&target, manager),
        Command::Scale {
            app,
            instances,
            manager,
        } => control::scale(&app, instances, manager),
        Command::Secret {
            action: SecretAction::Set { app, name, manager },
        } => secret::set(&app, &name, manager),
    }
}
