//! A [`ServiceManager`] that records calls, for unit tests of the plan logic.

use std::cell::RefCell;
use std::collections::BTreeMap;

use nix::sys::signal::Signal;

use super::interrupt::Interrupt;
use super::manager::{ServiceManager, SystemdError};

#[derive(Default)]
pub struct FakeSystemd {
    calls: RefCell<Vec<String>>,
    /// The call that fails, e.g. `restart api@1.service`.
    failing: Option<String>,
    /// The call at which the process dies (a panic, which skips any rollback).
    dying: Option<String>,
    /// The call during which SIGTERM arrives.
    interrupting: Option<(String, Interrupt)>,
    /// Units not `active`, with their state.
    states: BTreeMap<String, String>,
    /// Units whose main program's file was replaced (a package upgrade).
    upgraded: Vec<String>,
}

impl FakeSystemd {
    pub fn failing(call: &str) -> Self {
        FakeSystemd {
            failing: Some(call.to_owned()),
            ..FakeSystemd::default()
        }
    }

    /// The process dies (SIGKILL, say) just as it asks for `call`.
    pub fn dying(call: &str) -> Self {
        FakeSystemd {
            dying: Some(call.to_owned()),
            ..FakeSystemd::default()
        }
    }

    /// SIGTERM arrives while systemd carries out `call`.
    pub fn interrupting(self, call: &str, interrupt: &Interrupt) -> Self {
        FakeSystemd {
            interrupting: Some((call.to_owned(), interrupt.clone())),
            ..self
        }
    }

    /// `unit` is in `state`, not active.
    pub fn with_state(mut self, unit: &str, state: &str) -> Self {
        self.states.insert(unit.to_owned(), state.to_owned());
        self
    }

    /// `unit` runs a helper whose file a package upgrade replaced.
    pub fn upgraded(mut self, unit: &str) -> Self {
        self.upgraded.push(unit.to_owned());
        self
    }

    pub fn calls(&self) -> Vec<String> {
        self.calls.borrow().clone()
    }

    fn call(&self, verb: &str, units: &[String]) -> Result<(), SystemdError> {
        let call = format!("{verb} {}", units.join(" ")).trim_end().to_owned();
        if self.dying.as_ref() == Some(&call) {
            panic!("killed at {call}");
        }
        self.calls.borrow_mut().push(call.clone());
        if let Some((_, interrupt)) = self.interrupting.as_ref().filter(|(c, _)| *c == call) {
            interrupt.note(Signal::SIGTERM);
        }
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
    fn replace(&self, unit: &str) -> Result<(), SystemdError> {
        self.call("replace", &[unit.to_owned()])
    }
    fn program_replaced(&self, unit: &str) -> bool {
        self.upgraded.iter().any(|u| u == unit)
    }
    fn active_state(&self, unit: &str) -> Result<String, SystemdError> {
        Ok(self
            .states
            .get(unit)
            .map_or("active", String::as_str)
            .to_owned())
    }
    fn journal_tail(&self, _unit: &str) -> String {
        String::new()
    }
}
