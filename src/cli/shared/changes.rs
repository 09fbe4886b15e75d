//! What the commands that change units share (`apply`, `reload`, `scale`,
//! `delete`): the unit directory with the apply journal beside it, the
//! apps' locks, and signals that stop a change between two steps rather
//! than in the middle of one.
use std::collections::BTreeSet;

use anyhow::Context as _;
use nix::sys::signal::Signal;

use super::target;
use crate::cli::args::ManagerArgs;
use crate::model::AppName;
use crate::systemd::apply::{apply, Context};
use crate::systemd::apply_journal::ApplyJournal;
use crate::systemd::interrupt::{self, Interrupt};
use crate::systemd::lock::{lock_dir, AppLock, LockError};
use crate::systemd::plan::{plan, Change, Plan};
use crate::systemd::unit_dir::Installed;
use crate::systemd::{Scope, ServiceManager, UnitDir};
use crate::units::Rendered;

pub(in crate::cli) struct Changes {
    pub scope: Scope,
    pub units: UnitDir,
    pub journal: ApplyJournal,
    pub interrupt: Interrupt,
    signal_at_step: Option<(usize, Signal)>,
}

impl Changes {
    /// For the manager the flags select. From now on SIGINT, SIGTERM and
    /// SIGHUP are noted instead of ending the process.
    pub fn new(manager: ManagerArgs) -> anyhow::Result<Changes> {
        let (scope, units) = target(manager)?;
        let journal = ApplyJournal::of(scope).context(
            "neither $XDG_STATE_HOME nor $HOME is set, so the apply journal has no place; set HOME, or use --system",
        )?;
        let signal_at_step = interrupt::test_hook()?;
        let interrupt = Interrupt::on_signals().context("handling SIGINT, SIGTERM and SIGHUP")?;
        Ok(Changes {
            scope,
            units,
            journal,
            interrupt,
            signal_at_step,
        })
    }

    /// The unit files, and the applies of them that did not finish.
    pub fn installed(&self) -> anyhow::Result<Installed> {
        let mut installed = self.units.read().with_context(|| {
            format!("reading the unit directory {}", self.units.path().display())
        })?;
        installed.unfinished = self.journal.read()?;
        Ok(installed)
    }

    /// The plan of `rendered` against the unit files as they are now.
    pub fn plan(&self, rendered: &Rendered, only: &[String]) -> anyhow::Result<Plan> {
        Ok(plan(rendered, &self.installed()?, only, self.units.path())?)
    }

    /// Holds the lock of each app, waiting for other rollouts of them.
    pub fn lock<'a>(
        &self,
        apps: impl IntoIterator<Item = &'a AppName>,
    ) -> anyhow::Result<Vec<AppLock>> {
        lock_apps(self.scope, apps, &self.interrupt)
    }

    /// Applies `plan`, printing its progress, once the apps' locks are held.
    pub fn apply(&self, plan: &Plan, systemd: &dyn ServiceManager) -> anyhow::Result<()> {
        let context = Context {
            units: &self.units,
            systemd,
            journal: &self.journal,
            interrupt: &self.interrupt,
            signal_at_step: self.signal_at_step,
        };
        apply(plan, &context, &mut |line| println!("{line}"))?;
        Ok(())
    }

    /// Applies `first`, the plan printed of every app of the file, once the
    /// apps' locks are held: the plan is made again, as another rollout may
    /// have changed the files meanwhile. Returns the plan carried out.
    pub fn apply_again(
        &self,
        first: &Plan,
        rendered: &Rendered,
        systemd: &dyn ServiceManager,
    ) -> anyhow::Result<Plan> {
        let plan = self.plan(rendered, &[])?;
        self.apply_made_again(first, plan, systemd)
    }

    /// Applies `first` holding the locks of the apps it changes: when
    /// another rollout changed more of them meanwhile, their locks too.
    pub fn apply_changing(
        &self,
        first: &Plan,
        rendered: &Rendered,
        only: &[String],
        systemd: &dyn ServiceManager,
    ) -> anyhow::Result<Plan> {
        let mut locked = changing(first);
        loop {
            let _locks = self.lock(&locked)?;
            let plan = self.plan(rendered, only)?;
            let more = changing(&plan);
            if more.is_subset(&locked) {
                return self.apply_made_again(first, plan, systemd);
            }
            locked.extend(more);
        }
    }

    /// Applies `plan`, made again under the locks, saying how it differs
    /// from `first`, the plan printed.
    fn apply_made_again(
        &self,
        first: &Plan,
        plan: Plan,
        systemd: &dyn ServiceManager,
    ) -> anyhow::Result<Plan> {
        if plan != *first {
            print!("the unit files changed meanwhile; the plan now:\n{plan}");
        }
        self.apply(&plan, systemd)?;
        Ok(plan)
    }
}

/// The apps a plan changes, or finishes an unfinished apply of.
fn changing(plan: &Plan) -> BTreeSet<AppName> {
    plan.apps
        .iter()
        .filter(|app| app.change != Change::Unchanged || app.unfinished.is_some())
        .map(|app| app.app.clone())
        .collect()
}

/// Holds the rollout lock of each app, waiting for other rollouts of them;
/// a signal noted by `interrupt` ends the wait.
fn lock_apps<'a>(
    scope: Scope,
    apps: impl IntoIterator<Item = &'a AppName>,
    interrupt: &Interrupt,
) -> anyhow::Result<Vec<AppLock>> {
    let dir = lock_dir(scope);
    let mut apps: Vec<&AppName> = apps.into_iter().collect();
    // One order for everyone, so two commands never wait for each other.
    apps.sort_unstable();
    apps.dedup();
    apps.into_iter()
        .map(|app| {
            let waiting = || eprintln!("{app}: waiting for another rollout of it to finish");
            AppLock::acquire(&dir, app, waiting, interrupt).map_err(|err| match err {
                LockError::Interrupted(signal) => anyhow::Error::new(signal).context(format!(
                    "stopped waiting for another rollout of `{app}`; nothing was changed"
                )),
                LockError::Io(err) => anyhow::Error::new(err).context(format!(
                    "locking {}",
                    dir.join(app.units().lock_file()).display()
                )),
            })
        })
        .collect()
}
