//! An app's workload, one pod per instance, each running `nodeunits-helper`
//! as the worker unit does; and its Service. An app of one instance is a
//! Deployment, rolled with a surge pod; an app of more is a StatefulSet, so
//! that each pod's `NODE_APP_INSTANCE` is its ordinal, 0…N-1, as each
//! worker's is.

use std::time::Duration;

use serde_json::{json, Value};

use super::secrets::Secrets;
use super::{container_security, tmp_volume, Object, PRE_STOP_PAUSE_SECONDS, STOP_SLACK_SECONDS};
use crate::model::helper_options::Instance;
use crate::model::sockets::tcp_port;
use crate::model::AppUnits;

/// The helper, found on the image's `PATH`.
const HELPER: &str = "nodeunits-helper";

/// How often the readiness probe asks; one failure takes the pod out of
/// the Service, so that a draining app gets no new request.
const READINESS_PERIOD_SECONDS: u64 = 2;

/// The label a StatefulSet's controller gives each pod, its ordinal
/// (Kubernetes 1.28 and later).
pub const POD_INDEX_LABEL: &str = "apps.kubernetes.io/pod-index";

/// The kind of an app's workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// One instance: a surge pod replaces it with none missing.
    Deployment,
    /// More instances: numbered pods, replaced one at a time.
    StatefulSet,
}

impl Kind {
    pub(super) fn of(app: &AppUnits) -> Kind {
        if app.instances > 1 {
            Kind::StatefulSet
        } else {
            Kind::Deployment
        }
    }

    /// As `kubectl` names it: `deployment`, `statefulset`.
    pub(super) fn resource(self) -> &'static str {
        match self {
            Kind::Deployment => "deployment",
            Kind::StatefulSet => "statefulset",
        }
    }
}

pub(super) fn workload(
    app: &AppUnits,
    object: &Object,
    image: &str,
    secrets: Secrets,
    warn: &mut impl FnMut(String),
) -> Value {
    let worker = &app.worker;
    let mut options = worker.options.clone();
    // Each pod holds one worker, and its app binds its port itself: no
    // socket unit passes one in.
    options.instance = Instance::Number(0);
    options.listen.clear();
    let probe = json!({ "command": [HELPER, "probe", "--app", app.name.as_str()] });
    let start_seconds = whole_seconds(worker.start_timeout).max(1);
    let grace = whole_seconds(worker.stop_timeout) + PRE_STOP_PAUSE_SECONDS + STOP_SLACK_SECONDS;
    let mut container = json!({
        "name": object.name,
        "image": image,
        "command": [HELPER],
        "args": options.words(),
        "workingDir": worker.working_directory.to_string_lossy(),
        "env": environment(app, Kind::of(app), secrets.env),
        "readinessProbe": {
            "exec": probe,
            "periodSeconds": READINESS_PERIOD_SECONDS,
            "failureThreshold": 1,
        },
        "startupProbe": { "exec": probe, "periodSeconds": 1, "failureThreshold": start_seconds },
        "lifecycle": { "preStop": { "sleep": { "seconds": PRE_STOP_PAUSE_SECONDS } } },
        "securityContext": container_security(worker.sandbox.is_some()),
    });
    let ports = tcp_ports(app, warn);
    if !ports.is_empty() {
        container["ports"] = ports
            .iter()
            .map(|port| json!({ "containerPort": port, "protocol": "TCP" }))
            .collect();
    }
    if let Some(limit) = worker.memory_max {
        container["resources"] = json!({ "limits": { "memory": limit.0.to_string() } });
    }
    if !secrets.env_from.is_empty() {
        container["envFrom"] = secrets.env_from.into();
    }
    let mut pod = json!({
        "terminationGracePeriodSeconds": grace,
        "automountServiceAccountToken": false,
        "securityContext": pod_security(app, warn),
        "containers": [container],
    });
    let (mut mounts, mut volumes) = (secrets.mounts, secrets.volumes);
    if worker.sandbox.is_some() {
        let (tmp_mounts, tmp_volumes) = tmp_volume();
        mounts.extend(tmp_mounts.as_array().into_iter().flatten().cloned());
        volumes.extend(tmp_volumes.as_array().into_iter().flatten().cloned());
    }
    if !mounts.is_empty() {
        pod["containers"][0]["volumeMounts"] = mounts.into();
        pod["volumes"] = volumes.into();
    }
    let template = json!({ "metadata": { "labels": object.labels() }, "spec": pod });
    match Kind::of(app) {
        Kind::Deployment => json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": object.metadata(object.name),
            "spec": {
                "replicas": app.instances,
                "selector": { "matchLabels": object.selector() },
                "strategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": { "maxUnavailable": 0, "maxSurge": 1 },
                },
                "template": template,
            },
        }),
        Kind::StatefulSet => {
            warn(format!(
                "instances = {0}: a StatefulSet, so that {1} is each pod's ordinal 0…{2} (the `{POD_INDEX_LABEL}` label, Kubernetes 1.28 or later); a rollout replaces one pod at a time, with {2} serving",
                app.instances,
                app.worker.instance_var,
                app.instances - 1,
            ));
            json!({
                "apiVersion": "apps/v1",
                "kind": "StatefulSet",
                "metadata": object.metadata(object.name),
                "spec": {
                    "replicas": app.instances,
                    "selector": { "matchLabels": object.selector() },
                    // The Service that names the pods: the app's own.
                    "serviceName": object.name,
                    // All pods start at once, as the workers do; the
                    // ordering is for stateful apps, which these are not.
                    "podManagementPolicy": "Parallel",
                    "updateStrategy": { "type": "RollingUpdate" },
                    "template": template,
                },
            })
        }
    }
}

/// The Service in front of the app's TCP ports, if it has any.
pub(super) fn service(
    app: &AppUnits,
    object: &Object,
    warn: &mut impl FnMut(String),
) -> Option<Value> {
    let ports = tcp_ports(app, &mut |_| ());
    if ports.is_empty() {
        return None;
    }
    if app.listen.iter().any(|address| is_loopback(address)) {
        warn(
            "listen: a loopback address becomes the port of the Service, reachable in the cluster"
                .into(),
        );
    }
    let mut service = json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": object.metadata(object.name),
        "spec": {
            "selector": object.selector(),
            "ports": ports.iter().map(|port| json!({
                "name": format!("tcp-{port}"),
                "port": port,
                "targetPort": port,
                "protocol": "TCP",
            })).collect::<Vec<_>>(),
        },
    });
    // sticky = true: a client address keeps reaching one pod, as one worker.
    if app.worker.options.sticky {
        service["spec"]["sessionAffinity"] = json!("ClientIP");
    }
    Some(service)
}

/// The instance variable, 0 in a Deployment's one pod and a StatefulSet's
/// pod's ordinal, and what the Secrets need; the declared environment is in
/// Secret `APP-env`.
fn environment(app: &AppUnits, kind: Kind, more: Vec<Value>) -> Vec<Value> {
    let name = &app.worker.instance_var;
    let mut env = vec![match kind {
        Kind::Deployment => json!({ "name": name, "value": "0" }),
        Kind::StatefulSet => json!({
            "name": name,
            "valueFrom": { "fieldRef": { "fieldPath": format!("metadata.labels['{POD_INDEX_LABEL}']") } },
        }),
    }];
    env.extend(more);
    env
}

/// The TCP ports of the app's listen addresses (else of `PORT`), each once;
/// any other address is warned about.
fn tcp_ports(app: &AppUnits, warn: &mut impl FnMut(String)) -> Vec<u16> {
    let mut ports = Vec::new();
    for address in &app.listen {
        match tcp_port(address) {
            Some(port) if !ports.contains(&port) => ports.push(port),
            Some(_) => {}
            None => warn(format!(
                "listen: `{address}` is not a TCP port; it has no Kubernetes equivalent and is left out"
            )),
        }
    }
    if app.listen.is_empty() {
        let port = app.worker.environment.get("PORT").and_then(Option::as_ref);
        ports.extend(port.and_then(|port| port.parse::<u16>().ok()));
    }
    ports
}

fn is_loopback(address: &str) -> bool {
    address.starts_with("127.") || address.starts_with("[::1]") || address.starts_with("localhost")
}

/// The pod's user and group where numeric, non-root, and seccomp's default.
fn pod_security(app: &AppUnits, warn: &mut impl FnMut(String)) -> Value {
    let worker = &app.worker;
    let mut security = json!({
        "runAsNonRoot": true,
        "seccompProfile": { "type": "RuntimeDefault" },
    });
    match worker.user.as_deref().map(|user| (user, user.parse::<u64>())) {
        Some(("root", _)) | Some((_, Ok(0))) => {
            security["runAsNonRoot"] = false.into();
            security["runAsUser"] = 0.into();
            warn("user: root: the pods run as root; prefer a numeric non-root user".into());
        }
        Some((_, Ok(uid))) => security["runAsUser"] = uid.into(),
        Some((user, Err(_))) => warn(format!(
            "user `{user}` is not numeric: the pods run as the image's user, which must not be root; set `user` to a uid to choose it"
        )),
        None => {}
    }
    match worker.group.as_deref().map(|group| (group, group.parse::<u64>())) {
        Some((_, Ok(gid))) => security["runAsGroup"] = gid.into(),
        Some((group, Err(_))) => warn(format!(
            "group `{group}` is not numeric: the pods run with the image's group; set `group` to a gid to choose it"
        )),
        None => {}
    }
    security
}

fn whole_seconds(duration: Duration) -> u64 {
    duration.as_millis().div_ceil(1000) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_of_addresses() {
        assert_eq!(whole_seconds(Duration::from_millis(1600)), 2);
    }
}
