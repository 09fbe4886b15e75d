//! The app's environment and credentials as Secrets, never as literals of
//! the Deployment: its values become Secret `APP-env` (`envFrom`), printed
//! only with `--show-secrets`; `env_file` is Secret `APP-env-file`, after it
//! (its variables win, as under systemd); credentials are the files of
//! Secret `APP-credentials`, mounted where `$CREDENTIALS_DIRECTORY` says, so
//! the helper sets them as variables as it does under systemd. Neither of
//! the last two is printed: nodeunits does not read their files.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::Object;
use crate::model::AppUnits;

/// Where a pod's credentials are, as `$CREDENTIALS_DIRECTORY`.
pub const CREDENTIALS_MOUNT: &str = "/run/credentials/nodeunits";

/// What the container gets from the Secrets, and the documents to print.
#[derive(Debug, Default)]
pub(super) struct Secrets {
    /// The Secret of values, when asked for (`--show-secrets`).
    pub documents: Vec<Value>,
    pub env_from: Vec<Value>,
    pub env: Vec<Value>,
    pub mounts: Vec<Value>,
    pub volumes: Vec<Value>,
}

pub(super) fn secrets(
    app: &AppUnits,
    object: &Object,
    show: bool,
    warn: &mut impl FnMut(String),
) -> Secrets {
    let worker = &app.worker;
    let mut secrets = Secrets::default();
    if !worker.environment.is_empty() {
        let name = format!("{}-env", object.name);
        secrets.env_from.push(secret_ref(&name));
        let names: Vec<&str> = worker.environment.keys().map(String::as_str).collect();
        match show {
            true => secrets.documents.push(values(app, object, &name)),
            false => warn(format!(
                "env: the pods read {} from Secret `{name}`, which holds their values and is printed only with --show-secrets",
                names.join(", ")
            )),
        }
    }
    if let Some(file) = &worker.environment_file {
        let name = format!("{}-env-file", object.name);
        secrets.env_from.push(secret_ref(&name));
        warn(format!(
            "env_file: the pods read Secret `{name}`, which is not exported: create it with `kubectl create secret generic {name} --from-env-file={}`",
            file.display()
        ));
    }
    if !worker.credentials.is_empty() {
        let name = format!("{}-credentials", object.name);
        secrets
            .env
            .push(json!({ "name": "CREDENTIALS_DIRECTORY", "value": CREDENTIALS_MOUNT }));
        secrets.mounts.push(
            json!({ "name": "credentials", "mountPath": CREDENTIALS_MOUNT, "readOnly": true }),
        );
        secrets
            .volumes
            .push(json!({ "name": "credentials", "secret": { "secretName": name } }));
        let from: Vec<String> = worker
            .credentials
            .iter()
            .map(|(credential, file)| match file.extension().is_some_and(|e| e == "cred") {
                true => format!("--from-file={credential}=FILE (FILE from `systemd-creds decrypt --name={credential} {} FILE` on the machine that encrypted it)", file.display()),
                false => format!("--from-file={credential}={}", file.display()),
            })
            .collect();
        warn(format!(
            "credentials: the pods read them as files of Secret `{name}` at {CREDENTIALS_MOUNT}, which is not exported: create it with `kubectl create secret generic {name} {}`",
            from.join(" ")
        ));
    }
    secrets
}

fn secret_ref(name: &str) -> Value {
    json!({ "secretRef": { "name": name } })
}

/// Secret `name` with the app's environment; a value unknown (read back
/// without it) is left out.
fn values(app: &AppUnits, object: &Object, name: &str) -> Value {
    let data: BTreeMap<&str, &str> = app
        .worker
        .environment
        .iter()
        .filter_map(|(variable, value)| Some((variable.as_str(), value.as_deref()?)))
        .collect();
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": object.metadata(name),
        "type": "Opaque",
        "stringData": data,
    })
}
