//! `nodeunits export kubernetes` on the golden cases: every case's
//! manifests pass the official Kubernetes OpenAPI schemas in strict mode
//! (`kubernetes-validate` from PyPI, in the virtual environment that
//! `tools/install-deps test` creates), read back the same with a YAML 1.1
//! reader, and carry the mapping docs/helper.md's "Outgrowing one machine"
//! states.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use nodeunits::kubernetes::{self, Export, ExportOptions};
use nodeunits::model::{AppName, AppUnits};
use serde_json::{json, Value};

use super::{compiled_cases, normalize};

/// The Kubernetes release whose schemas the manifests must pass.
const KUBERNETES: &str = "1.37.0";

fn options() -> ExportOptions {
    ExportOptions {
        image: Some("registry.example/app:1".into()),
        namespace: Some("apps".into()),
        show_secrets: true,
    }
}

/// The virtual environment with kubernetes-validate:
/// `$NODEUNITS_KUBERNETES_VENV`, else `target/ci-venv`.
fn venv_program(program: &str) -> PathBuf {
    let venv = std::env::var_os("NODEUNITS_KUBERNETES_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/ci-venv"));
    let path = venv.join("bin").join(program);
    let found = Command::new(venv.join("bin/python3"))
        .args(["-c", "import kubernetes_validate, yaml"])
        .output();
    assert!(
        found.is_ok_and(|o| o.status.success()),
        "{} with kubernetes-validate is needed to check the manifests: run `tools/install-deps test` \
         (or .ci/run), or `python3 -m venv target/ci-venv && target/ci-venv/bin/pip install kubernetes-validate`, \
         or set NODEUNITS_KUBERNETES_VENV to a virtual environment that has it",
        venv.display()
    );
    path
}

fn run_with_input(program: PathBuf, args: &[&str], input: &str) -> std::process::Output {
    let mut child = Command::new(&program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", program.display()));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

/// Every compiled golden case's export, by case name.
fn exports() -> Vec<(String, Vec<AppUnits>, Export)> {
    compiled_cases()
        .into_iter()
        .map(|(name, _, rendered)| {
            let apps: Vec<AppUnits> = rendered.apps.into_iter().map(|app| app.units).collect();
            let export = kubernetes::export(&apps, &options())
                .unwrap_or_else(|err| panic!("case {name}: {err}"));
            (name, apps, export)
        })
        .collect()
}

#[test]
fn every_cases_manifests_pass_the_kubernetes_schemas_in_strict_mode() {
    let validate = venv_program("kubernetes-validate");
    let dir = std::env::temp_dir().join(format!("nodeunits-k8s-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    let mut files = Vec::new();
    let mut documents = 0;
    for (name, _, export) in exports() {
        assert!(!export.documents.is_empty(), "case {name}: no manifests");
        documents += export.documents.len();
        let file = dir.join(format!("{name}.yaml"));
        std::fs::write(&file, kubernetes::yaml(&export.documents)).expect("write manifests");
        files.push(file);
    }
    let output = Command::new(&validate)
        .args(["--strict", "--kubernetes-version", KUBERNETES])
        .args(&files)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", validate.display()));
    let report = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    std::fs::remove_dir_all(&dir).ok();
    assert!(output.status.success(), "kubernetes-validate:\n{report}");
    // Every document was checked against a schema, none skipped.
    assert_eq!(
        report.matches(" passed for resource ").count(),
        documents,
        "{report}"
    );
}

#[test]
fn the_yaml_reads_back_as_the_manifests_with_a_yaml_1_1_reader() {
    let python = venv_program("python3");
    let read = "import json, sys, yaml\nprint(json.dumps(list(yaml.safe_load_all(sys.stdin))))";
    for (name, _, export) in exports() {
        let text = kubernetes::yaml(&export.documents);
        let output = run_with_input(python.clone(), &["-c", read], &text);
        assert!(output.status.success(), "case {name}: {output:?}");
        let read: Vec<Value> = serde_json::from_slice(&output.stdout).expect("JSON");
        assert_eq!(read, export.documents, "case {name}:\n{text}");
    }
}

/// The documents of `export` of `kind`.
fn of_kind<'a>(export: &'a Export, kind: &str) -> Vec<&'a Value> {
    export
        .documents
        .iter()
        .filter(|document| document["kind"] == kind)
        .collect()
}

fn case(name: &str) -> (Vec<AppUnits>, Export) {
    let (_, apps, export) = exports()
        .into_iter()
        .find(|(case, _, _)| case == name)
        .unwrap_or_else(|| panic!("no golden case {name}"));
    (apps, export)
}

/// An app of 3 instances is a StatefulSet, whose pods are numbered as the
/// workers are.
#[test]
fn every_option_maps_onto_the_statefulset() {
    let (_, export) = case("every-option");
    assert!(of_kind(&export, "Deployment").is_empty());
    let [workload] = of_kind(&export, "StatefulSet")[..] else {
        panic!("one StatefulSet: {:?}", export.documents)
    };
    assert_eq!(workload["metadata"]["namespace"], "apps");
    let spec = &workload["spec"];
    assert_eq!(spec["replicas"], 3);
    assert_eq!(spec["serviceName"], "shop");
    assert_eq!(spec["podManagementPolicy"], "Parallel");
    assert_eq!(spec["updateStrategy"], json!({ "type": "RollingUpdate" }));
    let pod = &spec["template"]["spec"];
    let container = &pod["containers"][0];
    assert_eq!(container["image"], "registry.example/app:1");
    assert_eq!(container["command"], json!(["nodeunits-helper"]));
    let args: Vec<&str> = container["args"]
        .as_array()
        .expect("args")
        .iter()
        .map(|arg| arg.as_str().expect("a string"))
        .collect();
    // The worker's options, but for the instance and the socket's addresses.
    let helper_options = "--app shop --instance 0 --node --wait-ready --share-ports --kill-timeout 10000 --listen-timeout 60000 --min-uptime 5000 \
        --max-memory 1073741824 --shutdown-with-message --increment-var WORKER_PORT --credential API_TOKEN --credential DB_PASSWORD --exp-backoff 250 -- ";
    let command = normalize(&args.join(" "));
    assert!(command.starts_with(helper_options), "{command}");
    assert!(
        command.ends_with(
            "/golden/every-option/input/release/current/app/index.js --color --title Shop front"
        ),
        "{command}"
    );
    // The probe is the helper's, and the startup is bounded by listen_timeout (1 min) and the backoff.
    let probe = json!({ "command": ["nodeunits-helper", "probe", "--app", "shop"] });
    assert_eq!(container["readinessProbe"]["exec"], probe);
    assert_eq!(container["startupProbe"]["exec"], probe);
    assert_eq!(container["startupProbe"]["periodSeconds"], 1);
    assert_eq!(container["startupProbe"]["failureThreshold"], 75);
    // kill_timeout 10s, after a 5s pause for the endpoints to go, and 2s to kill.
    assert_eq!(container["lifecycle"]["preStop"]["sleep"]["seconds"], 5);
    assert_eq!(pod["terminationGracePeriodSeconds"], 17);
    // The helper restarts at 1 GiB, below the 1.5 GiB backstop, as MemoryMax= is.
    assert_eq!(container["resources"]["limits"]["memory"], "1610612736");
    // The instance variable is the pod's ordinal. No value of the
    // environment in the StatefulSet: Secret `shop-env` has them, and
    // `shop-env-file` (env_file) comes after it, to win.
    let ordinal = "metadata.labels['apps.kubernetes.io/pod-index']";
    assert_eq!(
        container["env"],
        json!([
            { "name": "INSTANCE_ID", "valueFrom": { "fieldRef": { "fieldPath": ordinal } } },
            { "name": "CREDENTIALS_DIRECTORY", "value": "/run/credentials/nodeunits" },
        ])
    );
    assert_eq!(
        container["envFrom"],
        json!([{ "secretRef": { "name": "shop-env" } }, { "secretRef": { "name": "shop-env-file" } }])
    );
    let [secret] = of_kind(&export, "Secret")[..] else {
        panic!("one Secret: {:?}", export.documents)
    };
    assert_eq!(secret["metadata"]["name"], "shop-env");
    assert_eq!(secret["stringData"]["NODE_ENV"], "production");
    assert_eq!(secret["stringData"]["PORT"], "3000");
    // The credentials are files of a Secret the helper reads.
    assert_eq!(
        container["volumeMounts"][0],
        json!({ "name": "credentials", "mountPath": "/run/credentials/nodeunits", "readOnly": true })
    );
    assert_eq!(
        pod["volumes"][0],
        json!({ "name": "credentials", "secret": { "secretName": "shop-credentials" } })
    );
    assert_eq!(
        container["ports"],
        json!([{ "containerPort": 3000, "protocol": "TCP" }])
    );
    let security = &container["securityContext"];
    assert_eq!(security["allowPrivilegeEscalation"], false);
    assert_eq!(security["readOnlyRootFilesystem"], true);
    assert_eq!(security["capabilities"]["drop"], json!(["ALL"]));
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    assert_eq!(pod["volumes"][1], json!({ "name": "tmp", "emptyDir": {} }));

    let warnings = export.warnings.concat();
    for said in [
        "warning: shop: instances = 3: a StatefulSet, so that INSTANCE_ID is each pod's ordinal 0…2 (the `apps.kubernetes.io/pod-index` label, Kubernetes 1.28 or later); a rollout replaces one pod at a time, with 2 serving",
        "warning: shop: env_file: the pods read Secret `shop-env-file`, which is not exported",
        "warning: shop: credentials: the pods read them as files of Secret `shop-credentials` at /run/credentials/nodeunits, which is not exported: create it with `kubectl create secret generic shop-credentials --from-file=API_TOKEN=FILE (FILE from `systemd-creds decrypt --name=API_TOKEN /etc/nodeunits/credentials/shop/API_TOKEN.cred FILE` on the machine that encrypted it) --from-file=DB_PASSWORD=",
        "warning: shop: user `www-data` is not numeric",
        "warning: shop: out_file: the output goes to the container's log",
        "warning: shop: stop_exit_codes: Kubernetes restarts a pod whatever its exit status",
    ] {
        assert!(warnings.contains(said), "{said}:\n{warnings}");
    }
}

/// Without --show-secrets, no value of the environment is printed: the
/// pods name the Secret, and stderr says which variables it holds.
#[test]
fn no_value_is_printed_unless_asked() {
    let (apps, _) = case("every-option");
    let hidden = ExportOptions {
        show_secrets: false,
        ..options()
    };
    let export = kubernetes::export(&apps, &hidden).expect("the export");
    assert!(of_kind(&export, "Secret").is_empty());
    let text = kubernetes::yaml(&export.documents);
    for value in ["production", "Europe/Paris", "C.UTF-8"] {
        assert!(!text.contains(value), "{value}:\n{text}");
    }
    let workload = of_kind(&export, "StatefulSet")[0];
    let container = &workload["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["envFrom"][0]["secretRef"]["name"], "shop-env");
    let warnings = export.warnings.concat();
    assert!(warnings.contains("warning: shop: env: the pods read LANG, NODE_ENV, PORT, TZ, WORKER_PORT from Secret `shop-env`, which holds their values and is printed only with --show-secrets"), "{warnings}");
}

#[test]
fn ports_become_a_service_and_cron_restart_a_cronjob_with_its_rbac() {
    let (_, export) = case("every-option");
    let [service] = of_kind(&export, "Service")[..] else {
        panic!("one Service")
    };
    assert_eq!(
        service["spec"]["selector"],
        json!({ "app.kubernetes.io/name": "shop" })
    );
    assert_eq!(service["spec"]["ports"][0]["port"], 3000);
    assert_eq!(service["spec"]["ports"][0]["targetPort"], 3000);

    let [cronjob] = of_kind(&export, "CronJob")[..] else {
        panic!("one CronJob")
    };
    assert_eq!(cronjob["spec"]["schedule"], "0 0 1 1,7 *");
    let job = &cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    assert_eq!(
        job["containers"][0]["command"],
        json!(["kubectl", "rollout", "restart", "statefulset/shop"])
    );
    let account = job["serviceAccountName"]
        .as_str()
        .expect("a service account");
    let [sa] = of_kind(&export, "ServiceAccount")[..] else {
        panic!("one ServiceAccount")
    };
    let [role] = of_kind(&export, "Role")[..] else {
        panic!("one Role")
    };
    let [binding] = of_kind(&export, "RoleBinding")[..] else {
        panic!("one RoleBinding")
    };
    assert_eq!(sa["metadata"]["name"], account);
    assert_eq!(
        role["rules"],
        json!([{
            "apiGroups": ["apps"],
            "resources": ["statefulsets"],
            "resourceNames": ["shop"],
            "verbs": ["get", "patch"],
        }])
    );
    assert_eq!(binding["roleRef"]["name"], role["metadata"]["name"]);
    assert_eq!(binding["roleRef"]["kind"], "Role");
    assert_eq!(
        binding["subjects"],
        json!([{ "kind": "ServiceAccount", "name": account }])
    );
}

#[test]
fn a_worker_without_a_port_has_no_service_and_seconds_are_warned_about() {
    let (_, export) = case("queue-worker");
    assert!(of_kind(&export, "Service").is_empty());
    let schedules: Vec<&Value> = of_kind(&export, "CronJob")
        .into_iter()
        .map(|cronjob| &cronjob["spec"]["schedule"])
        .collect();
    assert_eq!(schedules, [&json!("30 4 * * mon-fri"), &json!("* * * * *")]);
    let warnings = export.warnings.concat();
    assert!(warnings.contains("warning: reports: cron_restart: a CronJob runs on whole minutes; the seconds `00,30` are dropped"), "{warnings}");
    assert!(
        warnings.contains(
            "warning: jobs: autorestart = false: Kubernetes restarts every pod that exits"
        ),
        "{warnings}"
    );
}

#[test]
fn profiles_select_the_environment_and_a_numeric_user_runs_the_pod() {
    let (mut apps, export) = case("profiles");
    let [web, _] = &of_kind(&export, "Deployment")[..] else {
        panic!("two Deployments")
    };
    // One instance: a Deployment, rolled with a surge pod, as instance 0.
    assert_eq!(
        web["spec"]["strategy"],
        json!({ "type": "RollingUpdate", "rollingUpdate": { "maxUnavailable": 0, "maxSurge": 1 } })
    );
    let container = &web["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        container["env"][0],
        json!({ "name": "NODE_APP_INSTANCE", "value": "0" })
    );
    let from = &container["envFrom"];
    assert_eq!(from, &json!([{ "secretRef": { "name": "web-env" } }]));
    let secret = of_kind(&export, "Secret")
        .into_iter()
        .find(|secret| secret["metadata"]["name"] == "web-env")
        .expect("Secret web-env");
    assert_eq!(secret["stringData"]["NODE_ENV"], "production");
    assert_eq!(secret["stringData"]["LOG_LEVEL"], "info");

    let mut twin = apps[0].clone();
    twin.name = AppName::new("WEB").expect("a name");
    let err = kubernetes::export(&[apps[0].clone(), twin], &options())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("apps `web` and `WEB` would both be named `web`"),
        "{err}"
    );

    apps[0].worker.user = Some("1000".into());
    apps[0].worker.group = Some("1000".into());
    let export = kubernetes::export(&apps[..1], &options()).expect("one app");
    let deployment = of_kind(&export, "Deployment")[0];
    let security = &deployment["spec"]["template"]["spec"]["securityContext"];
    assert_eq!(security["runAsUser"], 1000);
    assert_eq!(security["runAsGroup"], 1000);
    assert_eq!(security["runAsNonRoot"], true);
}

#[test]
fn a_file_that_does_not_exist_is_said_not_a_crash() {
    let output = Command::new(env!("CARGO_BIN_EXE_nodeunits"))
        .args(["export", "kubernetes", "/nonexistent/ecosystem.toml"])
        .output()
        .expect("run nodeunits");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(output.stdout.is_empty());
    assert!(stderr.contains("/nonexistent/ecosystem.toml"), "{stderr}");
}

#[test]
fn an_app_without_autostart_is_warned_about() {
    let (_, export) = case("autostart");
    let warnings = export.warnings.concat();
    assert!(
        warnings.contains("warning: reports: autostart = false: the pods start once applied"),
        "{warnings}"
    );
}

/// Files the log writer writes are the container's log in a pod, as
/// systemd's are: the export says so for both.
#[test]
fn log_files_of_the_writer_are_said_to_be_the_containers_log() {
    let (_, export) = case("log-files");
    let warnings = export.warnings.concat();
    for said in [
        "warning: web: out_file: the output goes to the container's log (`kubectl logs`), not to /var/log/web/out-%i.log",
        "warning: web: error_file: the output goes to the container's log",
        "warning: web: log_rotate: the container runtime rotates a container's log",
    ] {
        assert!(warnings.contains(said), "{said}:\n{warnings}");
    }
}
