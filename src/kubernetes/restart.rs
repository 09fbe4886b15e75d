//! `cron_restart`: a CronJob that runs `kubectl rollout restart` on the
//! app's Deployment or StatefulSet (a rolling restart, as the timer's reload
//! is), with the ServiceAccount, Role and RoleBinding that allow exactly
//! that.

use serde_json::{json, Value};

use super::workload::Kind;
use super::{container_security, tmp_volume, Object};

/// The image of the CronJob's kubectl.
pub const KUBECTL_IMAGE: &str = "registry.k8s.io/kubectl:v1.34.1";

/// The CronJob and its RBAC, from the timer's `OnCalendar=`.
pub(super) fn objects(
    on_calendar: &str,
    object: &Object,
    kind: Kind,
    warn: &mut impl FnMut(String),
) -> Vec<Value> {
    let name = format!("{}-restart", object.name);
    let metadata = object.metadata(&name);
    let Some((schedule, seconds)) = to_cron(on_calendar) else {
        warn(format!(
            "cron_restart: `{on_calendar}` has no CronJob schedule; no CronJob is exported"
        ));
        return Vec::new();
    };
    if seconds != "00" {
        warn(format!(
            "cron_restart: a CronJob runs on whole minutes; the seconds `{seconds}` are dropped: `{schedule}`"
        ));
    }
    warn("cron_restart: the CronJob runs in the time zone of the cluster's controller manager (often UTC), the timer in this machine's; set `spec.timeZone` if they differ".into());
    let workload = format!("{}/{}", kind.resource(), object.name);
    let (mounts, volumes) = tmp_volume();
    vec![
        json!({
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": metadata,
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": metadata,
            "rules": [{
                "apiGroups": ["apps"],
                "resources": [format!("{}s", kind.resource())],
                "resourceNames": [object.name],
                "verbs": ["get", "patch"],
            }],
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": metadata,
            "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name },
            "subjects": [{ "kind": "ServiceAccount", "name": name }],
        }),
        json!({
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": metadata,
            "spec": {
                "schedule": schedule,
                "concurrencyPolicy": "Forbid",
                "jobTemplate": { "spec": { "backoffLimit": 2, "template": { "spec": {
                    "serviceAccountName": name,
                    "restartPolicy": "Never",
                    "securityContext": {
                        "runAsNonRoot": true,
                        "runAsUser": 65534,
                        "seccompProfile": { "type": "RuntimeDefault" },
                    },
                    "containers": [{
                        "name": "restart",
                        "image": KUBECTL_IMAGE,
                        "command": ["kubectl", "rollout", "restart", workload],
                        // kubectl keeps its discovery cache under HOME.
                        "env": [{ "name": "HOME", "value": "/tmp" }],
                        "volumeMounts": mounts,
                        "securityContext": container_security(true),
                    }],
                    "volumes": volumes,
                } } } },
            },
        }),
    ]
}

/// The `OnCalendar=` that `ecosystem::cron` writes (`[DAYS ]*-MONTH-DAY
/// HOUR:MINUTE:SECOND`) back as a 5-field cron schedule, with its seconds.
fn to_cron(on_calendar: &str) -> Option<(String, String)> {
    let (weekdays, rest) = match on_calendar.split_once(' ') {
        Some((first, rest)) if rest.contains(' ') => (first, rest),
        _ => ("*", on_calendar),
    };
    let (date, time) = rest.split_once(' ')?;
    let ["*", month, day] = date.split('-').collect::<Vec<_>>()[..] else {
        return None;
    };
    let [hour, minute, second] = time.split(':').collect::<Vec<_>>()[..] else {
        return None;
    };
    let fields = [minute, hour, day, month, weekdays].map(cron_field);
    Some((fields.join(" "), second.to_owned()))
}

/// `*`, `05/15`, `01..05,07`, `Mon..Fri` in cron's syntax.
fn cron_field(field: &str) -> String {
    field
        .split(',')
        .map(|part| {
            let part = part.replace("..", "-").to_ascii_lowercase();
            let number = |text: &str| match text.trim_start_matches('0') {
                "" if !text.is_empty() => "0".to_owned(),
                trimmed => trimmed.to_owned(),
            };
            part.split('-')
                .map(|piece| match piece.split_once('/') {
                    Some((start, step)) => format!("{}/{step}", number(start)),
                    None => number(piece),
                })
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecosystem::cron::to_on_calendar;

    fn round_trip(cron: &str) -> (String, String) {
        to_cron(&to_on_calendar(cron).unwrap()).unwrap()
    }

    #[test]
    fn calendar_events_back_to_cron() {
        let minute = |cron: &str| round_trip(cron).0;
        assert_eq!(minute("0 3 * * *"), "0 3 * * *");
        assert_eq!(minute("30 4 * * mon-fri"), "30 4 * * mon-fri");
        assert_eq!(minute("0 0 1 jan,jul *"), "0 0 1 1,7 *");
        assert_eq!(minute("*/15 * * * *"), "0/15 * * * *");
        assert_eq!(minute("@weekly"), "0 0 * * sun");
        assert_eq!(minute("@hourly"), "0 * * * *");
        assert_eq!(round_trip("*/30 * * * * *").1, "00,30");
    }
}
