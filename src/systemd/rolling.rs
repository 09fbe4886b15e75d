//! The rolling reload: one instance at a time, the next only once the
//! previous is active again (for `Type=notify`: after its READY=1).
//! Instances whose unit is unchanged are replaced successor first (the
//! worker's `ExecReload=`, docs/contract.md); a changed unit restarts.

use std::time::{Duration, Instant};

use super::interrupt::{Interrupt, Interrupted};
use super::manager::{ServiceManager, SystemdError};
use crate::model::AppName;

/// How an instance is rolled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    /// Stop, then start: the unit changed, its new settings take effect.
    Restart,
    /// The successor first, then the old process drains: the unit is as it
    /// was, only the code on disk is new. A unit without `ExecReload=`
    /// restarts, as does one whose helper a package upgrade replaced: only
    /// a restart runs the new helper.
    Replace,
}

/// Rolls `instances` in order, each after the previous one is ready.
/// `before` hears of each unit before it restarts, and may stop the
/// rollout there; `report` gets a line per instance with how long it took.
/// Stops at the first failure, leaving the instances after it alone.
pub fn roll<E: From<SystemdError>>(
    systemd: &dyn ServiceManager,
    instances: &[String],
    how: How,
    mut before: impl FnMut(&str) -> Result<(), E>,
    mut report: impl FnMut(&str),
) -> Result<(), E> {
    for unit in instances {
        before(unit)?;
        let started = Instant::now();
        match how {
            How::Replace if !systemd.program_replaced(unit) => systemd.replace(unit)?,
            How::Restart | How::Replace => systemd.restart(unit)?,
        }
        report(&format!(
            "{unit} restarted and ready in {}",
            seconds(started.elapsed())
        ));
    }
    Ok(())
}

/// Why a rollout stopped.
#[derive(Debug, thiserror::Error)]
pub enum Stopped {
    #[error("{0}")]
    Failed(#[from] SystemdError),
    #[error("{0}")]
    Interrupted(#[from] Interrupted),
}

/// A rolling reload that stopped at an instance that did not come back, or
/// before one, on SIGINT, SIGTERM or SIGHUP.
#[derive(Debug)]
pub struct RolloutError {
    pub app: AppName,
    /// The instance that did not come back, or the first not restarted.
    pub at: String,
    /// The app's instances not restarted, still running as they were.
    pub left_alone: Vec<String>,
    /// Apps a rollout of several did not get to.
    pub not_reached: Vec<AppName>,
    pub cause: Stopped,
}

impl std::error::Error for RolloutError {}

impl std::fmt::Display for RolloutError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (app, at) = (&self.app, &self.at);
        match &self.cause {
            Stopped::Failed(_) => write!(f, "reload of `{app}` stopped at {at}")?,
            Stopped::Interrupted(signal) => write!(f, "reload of `{app}` {signal}")?,
        }
        write!(
            f,
            "{}{}",
            listed("left alone", &self.left_alone),
            listed("not reloaded", &self.not_reached)
        )?;
        match &self.cause {
            Stopped::Failed(cause) => write!(f, ": {cause}"),
            Stopped::Interrupted(_) => Ok(()),
        }
    }
}

impl RolloutError {
    pub fn interrupted(&self) -> Option<Interrupted> {
        match self.cause {
            Stopped::Interrupted(signal) => Some(signal),
            Stopped::Failed(_) => None,
        }
    }
}

fn listed(what: &str, items: &[impl std::fmt::Display]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let items: Vec<String> = items.iter().map(ToString::to_string).collect();
    format!("; {what}: {}", items.join(" "))
}

/// [`roll`] of one app's instances, saying where it stopped if it did; a
/// signal noted by `interrupt` stops it before the next instance.
pub fn roll_app(
    systemd: &dyn ServiceManager,
    app: &AppName,
    instances: &[String],
    interrupt: &Interrupt,
    report: impl FnMut(&str),
) -> Result<(), RolloutError> {
    let mut begun = 0;
    let before = |_: &str| {
        interrupt.check()?;
        begun += 1;
        Ok::<(), Stopped>(())
    };
    roll(systemd, instances, How::Replace, before, report).map_err(|cause| {
        let (at, left_alone) = match cause {
            Stopped::Failed(_) => (begun - 1, begun),
            Stopped::Interrupted(_) => (begun, begun),
        };
        RolloutError {
            app: app.clone(),
            at: instances[at].clone(),
            left_alone: instances[left_alone..].to_vec(),
            not_reached: Vec::new(),
            cause,
        }
    })
}

pub fn seconds(duration: Duration) -> String {
    format!("{:.1}s", duration.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::systemd::fake::FakeSystemd;

    #[test]
    fn stops_at_the_first_instance_that_fails() {
        let systemd = FakeSystemd::failing("restart api@1.service");
        let units = ["api@0.service", "api@1.service", "api@2.service"].map(String::from);
        let mut lines = Vec::new();
        let no_stop = |_: &str| Ok::<(), SystemdError>(());
        let report = |l: &str| lines.push(l.to_owned());
        let err = roll(&systemd, &units, How::Restart, no_stop, report).unwrap_err();
        assert_eq!(err.failed_unit(), Some("api@1.service"));
        assert_eq!(
            systemd.calls(),
            ["restart api@0.service", "restart api@1.service"]
        );
        assert_eq!(lines.len(), 1);
        assert!(lines[0].starts_with("api@0.service restarted and ready in "));
    }

    #[test]
    fn a_worker_whose_helper_was_upgraded_restarts_the_others_are_replaced() {
        let systemd = FakeSystemd::default().upgraded("api@1.service");
        let units = ["api@0.service", "api@1.service"].map(String::from);
        let no_stop = |_: &str| Ok::<(), SystemdError>(());
        roll(&systemd, &units, How::Replace, no_stop, |_| {}).unwrap();
        assert_eq!(
            systemd.calls(),
            ["replace api@0.service", "restart api@1.service"]
        );
    }

    #[test]
    fn a_rollout_that_stops_names_the_instance_and_what_it_left_alone() {
        let systemd = FakeSystemd::failing("replace api@1.service");
        let api = AppName::new("api").unwrap();
        let units = ["api@0.service", "api@1.service", "api@2.service"].map(String::from);
        let interrupt = Interrupt::default();
        let err = roll_app(&systemd, &api, &units, &interrupt, |_| {}).unwrap_err();
        assert_eq!(
            err.to_string(),
            "reload of `api` stopped at api@1.service; left alone: api@2.service: \
             api@1.service did not start\nits last journal lines:\nboom"
        );
        let last = FakeSystemd::failing("replace api@2.service");
        let mut err = roll_app(&last, &api, &units, &interrupt, |_| {}).unwrap_err();
        assert!(err.left_alone.is_empty());
        err.not_reached = vec![AppName::new("web").unwrap()];
        assert!(err
            .to_string()
            .starts_with("reload of `api` stopped at api@2.service; not reloaded: web: api@2.service did not start"));
    }

    #[test]
    fn a_signal_stops_a_rollout_before_the_next_instance() {
        let interrupt = Interrupt::default();
        let systemd = FakeSystemd::default().interrupting("replace api@0.service", &interrupt);
        let api = AppName::new("api").unwrap();
        let units = ["api@0.service", "api@1.service", "api@2.service"].map(String::from);
        let err = roll_app(&systemd, &api, &units, &interrupt, |_| {}).unwrap_err();
        assert_eq!(systemd.calls(), ["replace api@0.service"]);
        assert_eq!(
            err.to_string(),
            "reload of `api` interrupted by SIGTERM; left alone: api@1.service api@2.service"
        );
        assert_eq!(err.interrupted().map(|i| i.exit_status()), Some(143));
    }
}
