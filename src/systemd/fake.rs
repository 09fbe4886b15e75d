//! A [`ServiceManager`] that records calls, for unit tests of the plan logic.

use std::cell::RefCell;

use super::manager::{ServiceManager, SystemdError};

#[derive(Default)]
pub struct FakeSystemd {
    calls: RefCell<Vec<String>>,
    /// The call that fails, e.g. `restart api@1.service`.
    failing: Option<String>,
}

impl FakeSystemd {
    pub fn failing(call: &str) -> Self {
        FakeSystemd {
            failing: Some(call.to_owned()),
            ..FakeSystemd::default()
        }
    }

    pub fn calls(&self) -> Vec<String> {
        self.calls.borrow().clone()
    }

    fn call(&self, verb: &str, units: &[String]) -> Result<(), SystemdError> {
        let call = format!("{verb} {}", units.join(" ")).trim_end().to_owned();
        self.calls.borrow_mut().push(call.clone());
        if self.failing.as_ref() == Some(&call) {
            let unit = units.first().map_or("systemd", String::as_str);
            return Err(SystemdError::unit(unit, "did not start", "boom".into()));
        }
        Ok(())
    }
}

impl ServiceManager for FakeSystemd {
    fn daemon_reload(&self) -> Result<(), SystemdError> {
        self.call("daemon-reload", &[])
    }
    fn check_loaded(&self, _units: &[String]) -> Result<(), SystemdError> {
        Ok(())
    }
    fn enable(&self, units: &[String]) -> Result<(), SystemdError> {
        self.call("enable", units)
    }
    fn disable(&self, units: &[String]) -> Result<(), SystemdError> {
        self.call("disable", units)
    }
    fn start(&self, units: &[String]) -> Result<(), SystemdError> {
        self.call("start", units)
    }
    fn stop(&self, units: &[String]) -> Result<(), SystemdError> {
        self.call("stop", units)
    }
    fn restart(&self, unit: &str) -> Result<(), SystemdError> {
        self.call("restart", &[unit.to_owned()])
    }
    fn journal_tail(&self, _unit: &str) -> String {
        String::new()
    }
}
