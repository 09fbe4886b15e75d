//! `nodeunits export kubernetes`: the compiled apps as Kubernetes manifests.
//! Each app's typed units ([`AppUnits`]) become a Deployment (one instance)
//! or a StatefulSet (more) whose pods run
//! `nodeunits-helper` with the worker's options, a Service for its TCP
//! ports, and for `cron_restart` a CronJob with the RBAC it needs. What has
//! no Kubernetes meaning is said in warnings. The manifests are JSON values,
//! written as YAML by saphyr's emitter, the YAML library nodeunits already
//! links.

/// `cron_restart`: a CronJob that restarts the workload, and its RBAC.
mod restart;
/// The environment and credentials as Secrets.
mod secrets;
/// The settings that have no Kubernetes meaning, and what happens instead.
mod unmapped;
/// The workload (Deployment or StatefulSet) and the Service of an app.
mod workload;

use serde_json::Value;

use crate::model::AppUnits;

/// What `nodeunits export kubernetes` is asked for besides the file.
#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    /// The container image; `None`: `NAME:latest`, with a warning.
    pub image: Option<String>,
    /// `metadata.namespace` of every manifest; `None`: kubectl's current one.
    pub namespace: Option<String>,
    /// Print Secret `APP-env` with the environment's values.
    pub show_secrets: bool,
}

/// The manifests of some apps, and what could not be carried over.
#[derive(Debug, Default)]
pub struct Export {
    pub documents: Vec<Value>,
    /// One line each, `warning: APP: ...`.
    pub warnings: Vec<String>,
}

/// How long the pod waits, once it is terminating, before the helper drains
/// the app: the time for the endpoints controller and kube-proxy to take the
/// pod out of the Service, so that no new request reaches a draining app.
pub const PRE_STOP_PAUSE_SECONDS: u64 = 5;

/// What the helper needs after `kill_timeout` to kill the app and exit.
pub const STOP_SLACK_SECONDS: u64 = 2;

/// The longest name an app keeps: a CronJob's name has at most 52
/// characters, and the restart objects add `-restart`.
const MAX_NAME: usize = 44;

/// Two apps whose objects would have one name in Kubernetes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("apps `{first}` and `{second}` would both be named `{object}` in Kubernetes, where names are lowercase letters, digits and `-`: rename one of them")]
pub struct NameCollision {
    pub first: String,
    pub second: String,
    pub object: String,
}

/// A `--namespace` that is no Kubernetes namespace name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a namespace has 1 to 63 lowercase letters, digits and `-`, and starts and ends with a letter or digit")]
pub struct InvalidNamespace;

/// The manifests of every app; an error when two apps would have the same
/// name in Kubernetes.
pub fn export(apps: &[AppUnits], options: &ExportOptions) -> Result<Export, NameCollision> {
    let mut export = Export::default();
    let mut names = std::collections::BTreeMap::new();
    for app in apps {
        if let Some(other) = names.insert(object_name(app.name.as_str()), &app.name) {
            return Err(NameCollision {
                first: other.to_string(),
                second: app.name.to_string(),
                object: object_name(app.name.as_str()),
            });
        }
        let mut warn = |text: String| {
            export
                .warnings
                .push(format!("warning: {}: {text}\n", app.name))
        };
        let name = object_name(app.name.as_str());
        if name != app.name.as_str() {
            warn(format!(
                "named `{name}` in Kubernetes: object names are lowercase letters, digits and `-`, start with a letter and have at most {MAX_NAME} characters here"
            ));
        }
        let image = options.image.clone().unwrap_or_else(|| {
            warn(format!(
                "no --image: the pods run `{name}:latest`, which must hold the app at {}, its interpreter and nodeunits-helper",
                app.worker.working_directory.display()
            ));
            format!("{name}:latest")
        });
        let object = Object {
            name: &name,
            namespace: options.namespace.as_deref(),
        };
        unmapped::warn(app, options, &mut warn);
        let mut secrets = secrets::secrets(app, &object, options.show_secrets, &mut warn);
        export.documents.append(&mut secrets.documents);
        export
            .documents
            .push(workload::workload(app, &object, &image, secrets, &mut warn));
        if let Some(service) = workload::service(app, &object, &mut warn) {
            export.documents.push(service);
        }
        if let Some(cron) = &app.cron {
            let kind = workload::Kind::of(app);
            export.documents.extend(restart::objects(
                &cron.on_calendar,
                &object,
                kind,
                &mut warn,
            ));
        }
    }
    Ok(export)
}

/// `--namespace`: a Kubernetes namespace name, an RFC 1123 label.
pub fn namespace(text: &str) -> Result<String, InvalidNamespace> {
    let valid = !text.is_empty()
        && text.len() <= 63
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !text.starts_with('-')
        && !text.ends_with('-');
    if valid {
        Ok(text.to_owned())
    } else {
        Err(InvalidNamespace)
    }
}

/// The documents as one YAML stream, each starting with `---`.
pub fn yaml(documents: &[Value]) -> String {
    let mut text = String::new();
    for document in documents {
        let mut emitter = saphyr::YamlEmitter::new(&mut text);
        // Quoted, a string stays a string for every YAML reader, YAML 1.1's
        // `y` and `no` included.
        emitter.quoted_value(true);
        emitter
            .dump(&to_yaml(document))
            .expect("writing into a String cannot fail");
        text.push('\n');
    }
    text
}

fn to_yaml(value: &Value) -> saphyr::Yaml<'static> {
    use saphyr::{Scalar, Yaml};
    match value {
        Value::Null => Yaml::Value(Scalar::Null),
        Value::Bool(b) => Yaml::Value(Scalar::Boolean(*b)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Yaml::Value(Scalar::Integer(i)),
            None => Yaml::Value(Scalar::FloatingPoint(n.as_f64().unwrap_or(0.0).into())),
        },
        Value::String(s) => Yaml::Value(Scalar::String(s.clone().into())),
        Value::Array(items) => Yaml::Sequence(items.iter().map(to_yaml).collect()),
        Value::Object(map) => Yaml::Mapping(
            map.iter()
                .map(|(key, value)| {
                    (
                        Yaml::Value(Scalar::String(key.clone().into())),
                        to_yaml(value),
                    )
                })
                .collect(),
        ),
    }
}

/// The name and namespace every object of one app shares.
struct Object<'a> {
    name: &'a str,
    namespace: Option<&'a str>,
}

impl Object<'_> {
    /// `metadata` of an object named `name` (the app's, or derived from it).
    fn metadata(&self, name: &str) -> Value {
        let mut metadata = serde_json::json!({ "name": name, "labels": self.labels() });
        if let Some(namespace) = self.namespace {
            metadata["namespace"] = namespace.into();
        }
        metadata
    }

    /// The labels that select the app's pods.
    fn labels(&self) -> Value {
        serde_json::json!({
            "app.kubernetes.io/name": self.name,
            "app.kubernetes.io/managed-by": "nodeunits",
        })
    }

    fn selector(&self) -> Value {
        serde_json::json!({ "app.kubernetes.io/name": self.name })
    }
}

/// A container's `securityContext`, as the worker's sandbox has it: no
/// privilege, no capability, and a read-only root filesystem when `read_only`.
fn container_security(read_only: bool) -> Value {
    serde_json::json!({
        "allowPrivilegeEscalation": false,
        "privileged": false,
        "capabilities": { "drop": ["ALL"] },
        "readOnlyRootFilesystem": read_only,
    })
}

/// An emptyDir on `/tmp`: a writable `/tmp` under a read-only root, as
/// `PrivateTmp=` gives the worker. The container's `volumeMounts` and the
/// pod's `volumes`.
fn tmp_volume() -> (Value, Value) {
    (
        serde_json::json!([{ "name": "tmp", "mountPath": "/tmp" }]),
        serde_json::json!([{ "name": "tmp", "emptyDir": {} }]),
    )
}

/// An app name as a Kubernetes object name (an RFC 1035 label, as a
/// Service's must be): lowercase, `-` for any other character, starting
/// with a letter, ending with a letter or digit.
fn object_name(app: &str) -> String {
    let mut name: String = app
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9') => c,
            _ => '-',
        })
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        name.insert_str(0, "app-");
    }
    name.truncate(MAX_NAME);
    let name = name.trim_end_matches('-');
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_kubernetes_rules() {
        assert_eq!(object_name("api"), "api");
        assert_eq!(object_name("evil.app-1_x"), "evil-app-1-x");
        assert_eq!(object_name("2fa"), "app-2fa");
        assert_eq!(object_name("_Api_"), "app--api");
        assert_eq!(object_name(&"a".repeat(60)).len(), MAX_NAME);
    }

    #[test]
    fn namespaces_follow_kubernetes_rules() {
        assert_eq!(namespace("shop-1").as_deref(), Ok("shop-1"));
        for bad in ["", "Shop", "-shop", "shop_1", &"a".repeat(64)] {
            assert!(namespace(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn strings_stay_strings() {
        let document = serde_json::json!({ "a": "y", "b": "3000", "c": 3, "d": [true] });
        assert_eq!(
            yaml(&[document]),
            "---\na: \"y\"\nb: \"3000\"\nc: 3\nd:\n  - true\n"
        );
    }
}
