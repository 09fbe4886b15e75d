//! The rolling reload: one instance at a time, the next only once the
//! previous is active again (for `Type=notify`: after its READY=1).

use std::time::{Duration, Instant};

use super::manager::{ServiceManager, SystemdError};
use crate::model::AppName;

/// Restarts `instances` in order, each after the previous one is ready.
/// `before` hears of each unit before it restarts; `report` gets a line per
/// instance with how long it took. Stops at the first failure, leaving the
/// instances after it alone.
pub fn roll(
    systemd: &dyn ServiceManager,
    instances: &[String],
    mut before: impl FnMut(&str),
    mut report: impl FnMut(&str),
) -> Result<(), SystemdError> {
    for unit in instances {
        before(unit);
        let started = Instant::now();
        systemd.restart(unit)?;
        report(&format!(
            "{unit} restarted and ready in {}",
            seconds(started.elapsed())
        ));
    }
    Ok(())
}

/// A rolling reload that stopped at an instance that did not come back.
#[derive(Debug, thiserror::Error)]
#[error("reload of `{app}` stopped at {failed}{}{}: {cause}", listed("left alone", .left_alone), listed("not reloaded", .not_reached))]
pub struct RolloutError {
    pub app: AppName,
    pub failed: String,
    /// The app's instances after it, still running as they were.
    pub left_alone: Vec<String>,
    /// Apps a rollout of several did not get to.
    pub not_reached: Vec<AppName>,
    pub cause: SystemdError,
}

fn listed(what: &str, items: &[impl std::fmt::Display]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let items: Vec<String> = items.iter().map(ToString::to_string).collect();
    format!("; {what}: {}", items.join(" "))
}

/// [`roll`] of one app's instances, saying where it stopped if it did.
pub fn roll_app(
    systemd: &dyn ServiceManager,
    app: &AppName,
    instances: &[String],
    report: impl FnMut(&str),
) -> Result<(), RolloutError> {
    let mut begun = 0;
    roll(systemd, instances, |_| begun += 1, report).map_err(|cause| RolloutError {
        app: app.clone(),
        failed: instances[begun - 1].clone(),
        left_alone: instances[begun..].to_vec(),
        not_reached: Vec::new(),
        cause,
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
        let err = roll(&systemd, &units, |_| {}, |l| lines.push(l.to_owned())).unwrap_err();
        assert_eq!(err.failed_unit(), Some("api@1.service"));
        assert_eq!(
            systemd.calls(),
            ["restart api@0.service", "restart api@1.service"]
        );
        assert_eq!(lines.len(), 1);
        assert!(lines[0].starts_with("api@0.service restarted and ready in "));
    }

    #[test]
    fn a_rollout_that_stops_names_the_instance_and_what_it_left_alone() {
        let systemd = FakeSystemd::failing("restart api@1.service");
        let api = AppName::new("api").unwrap();
        let units = ["api@0.service", "api@1.service", "api@2.service"].map(String::from);
        let err = roll_app(&systemd, &api, &units, |_| {}).unwrap_err();
        assert_eq!(
            err.to_string(),
            "reload of `api` stopped at api@1.service; left alone: api@2.service: \
             api@1.service did not start\nits last journal lines:\nboom"
        );
        let last = FakeSystemd::failing("restart api@2.service");
        let mut err = roll_app(&last, &api, &units, |_| {}).unwrap_err();
        assert!(err.left_alone.is_empty());
        err.not_reached = vec![AppName::new("web").unwrap()];
        assert!(err
            .to_string()
            .starts_with("reload of `api` stopped at api@2.service; not reloaded: web: api@2.service did not start"));
    }
}
