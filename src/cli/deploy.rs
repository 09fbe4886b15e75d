//! `nodeunits reload FILE`: the deploy in one command. The file is applied
//! as `nodeunits apply` does, then every app of it still running the code it
//! ran before is rolled, so that after `git pull` all of them run the new
//! code, whether their units changed or not.
use std::path::Path;
use std::process::ExitCode;

use super::apply::reachable;
use super::args::{CompileArgs, ManagerArgs};
use super::shared::changes::Changes;
use super::shared::rollout::{rollout, Step};
use super::shared::{compile_file, linger_note};
use crate::systemd::bus::Systemd;
use crate::systemd::deploy::{after_apply, AfterApply};

/// What happens, after the apply, to the apps it did not just start or roll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Then {
    /// `reload FILE`: rolled, one instance at a time.
    Roll,
    /// `restart FILE`: every instance at once.
    Restart,
}

pub fn run(
    file: &Path,
    compile: &CompileArgs,
    manager: ManagerArgs,
    changes: &Changes,
    systemd: &Systemd,
    then: Then,
) -> anyhow::Result<ExitCode> {
    let Some(rendered) = compile_file(file, compile, manager) else {
        return Ok(ExitCode::from(1));
    };
    reachable(&rendered, &[])?;
    let first = changes.plan(&rendered, &[])?;
    print!("{first}");
    // Every app of the file, changed or not, for the apply and the rollout
    // after it: no other rollout of them comes in between.
    let _locks = changes.lock(first.apps.iter().map(|app| &app.app))?;
    let plan = changes.apply_again(&first, &rendered, systemd)?;
    let steps: Vec<_> = plan
        .apps
        .iter()
        .filter_map(|app| {
            let step = match after_apply(app) {
                AfterApply::Removed => return None,
                AfterApply::DoneByApply(what) => Step::Say(what),
                AfterApply::Roll(instances) => Step::Roll(instances),
            };
            Some((app.app.clone(), step))
        })
        .collect();
    match then {
        Then::Roll => rollout(systemd, &steps, &changes.interrupt)?,
        Then::Restart => {
            for (app, step) in &steps {
                match step {
                    Step::Say(what) => println!("{app}: {what}"),
                    Step::Roll(_) => super::control::restart_one(systemd, app)?,
                }
            }
        }
    }
    linger_note(systemd.scope());
    Ok(ExitCode::SUCCESS)
}
