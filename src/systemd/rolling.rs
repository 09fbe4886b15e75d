//! The rolling reload: one instance at a time, the next only once the
//! previous is active again (for `Type=notify`: after its READY=1).

use std::time::{Duration, Instant};

use super::manager::{ServiceManager, SystemdError};

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
}
