//! Starting an app as `nodeunits start` does: its socket, its instances,
//! then its app unit. systemd starts a socket only while the service it
//! activates, the app unit, is inactive: when the socket is down, the app
//! unit stops first.

use super::manager::{ServiceManager, SystemdError};
use crate::model::AppName;

/// One request to systemd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Stop(Vec<String>),
    Start(Vec<String>),
}

impl Step {
    pub fn run(&self, systemd: &dyn ServiceManager) -> Result<(), SystemdError> {
        match self {
            Step::Stop(units) => systemd.stop(units),
            Step::Start(units) => systemd.start(units),
        }
    }
}

/// The steps that start `app` and these instances of it; `listens`: it has
/// a socket unit.
pub fn steps(
    systemd: &dyn ServiceManager,
    app: &AppName,
    listens: bool,
    instances: Vec<String>,
) -> Result<Vec<Step>, SystemdError> {
    let names = app.units();
    let mut steps = Vec::new();
    if listens {
        if systemd.active_state(&names.socket())? != "active" {
            steps.push(Step::Stop(vec![names.app()]));
        }
        steps.push(Step::Start(vec![names.socket()]));
    }
    if !instances.is_empty() {
        steps.push(Step::Start(instances));
    }
    steps.push(Step::Start(vec![names.app()]));
    Ok(steps)
}

/// Starts `app` and these instances, in [`steps`].
pub fn start(
    systemd: &dyn ServiceManager,
    app: &AppName,
    listens: bool,
    instances: Vec<String>,
) -> Result<(), SystemdError> {
    steps(systemd, app, listens, instances)?
        .iter()
        .try_for_each(|step| step.run(systemd))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::systemd::fake::FakeSystemd;

    #[test]
    fn a_socket_that_is_down_starts_once_the_app_unit_is_stopped() {
        let api = AppName::new("api").unwrap();
        let instances = vec!["api@0.service".to_owned()];
        let up = FakeSystemd::default();
        start(&up, &api, true, instances.clone()).unwrap();
        assert_eq!(
            up.calls(),
            [
                "start api.socket",
                "start api@0.service",
                "start api.service"
            ]
        );
        let down = FakeSystemd::default().with_state("api.socket", "inactive");
        start(&down, &api, true, instances).unwrap();
        assert_eq!(down.calls()[..2], ["stop api.service", "start api.socket"]);
        let quiet = FakeSystemd::default();
        start(&quiet, &api, false, Vec::new()).unwrap();
        assert_eq!(quiet.calls(), ["start api.service"]);
    }
}
