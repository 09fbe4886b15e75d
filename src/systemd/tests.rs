//! Plan and apply against a temporary unit directory and a fake systemd.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::apply::{apply, ApplyError, Context};
use super::apply_journal::ApplyJournal;
use super::deploy::{after_apply, restart, AfterApply, Restart};
use super::fake::FakeSystemd;
use super::interrupt::Interrupt;
use super::manager::ServiceManager;
use super::plan::{plan, Change, Plan, PlanError};
use super::unit_dir::Installed;
use super::unit_dir::UnitDir;
use crate::model::helper_options::Instance;
use crate::model::{AppName, AppUnits, HelperOptions, Scope, Worker};
use crate::units::{Rendered, RenderedApp};

pub const SOURCE: &str = "/srv/ecosystem.toml";

/// The typed units of a plain app whose environment holds `V=version`.
pub fn model(source: &str, app: &str, instances: u32, listen: &[&str], version: &str) -> AppUnits {
    let command = ["/usr/bin/node", "/srv/app.js"].map(Into::into).to_vec();
    AppUnits {
        name: AppName::new(app).unwrap(),
        source: PathBuf::from(source),
        namespace: None,
        profile: None,
        scope: Scope::System,
        listen: listen.iter().map(|l| l.to_string()).collect(),
        instances,
        scaled: false,
        nodeunits: PathBuf::from("/usr/bin/nodeunits"),
        autostart: true,
        worker: Worker {
            helper: PathBuf::from("/usr/bin/nodeunits-helper"),
            options: HelperOptions::new(app.to_owned(), Instance::Specifier, command),
            working_directory: PathBuf::from("/srv"),
            instance_var: "NODE_APP_INSTANCE".into(),
            environment: [("V".to_owned(), version.to_owned())].into(),
            environment_file: None,
            user: None,
            group: None,
            start_limit_interval: Duration::from_secs(17),
            start_limit_burst: 16,
            stop_timeout: Duration::from_millis(1600),
            start_timeout: Duration::from_secs(30),
            restart: true,
            stop_exit_codes: Vec::new(),
            force_restart_status: None,
            restart_delay: Duration::from_millis(100),
            restart_steps: None,
            memory_max: None,
            standard_output: None,
            standard_error: None,
            sandbox: None,
        },
        cron: None,
    }
}

pub fn app_from(
    source: &str,
    app: &str,
    instances: u32,
    listen: &[&str],
    version: &str,
) -> RenderedApp {
    RenderedApp::new(model(source, app, instances, listen, version)).unwrap()
}

pub fn app(name: &str, instances: u32, listen: &[&str], version: &str) -> RenderedApp {
    app_from(SOURCE, name, instances, listen, version)
}

pub fn rendered(apps: Vec<RenderedApp>) -> Rendered {
    Rendered {
        source: PathBuf::from(SOURCE),
        apps,
        warnings: vec![],
    }
}

/// A unit directory, with the apply journal beside it.
pub struct Dir(pub UnitDir, pub ApplyJournal);

impl Dir {
    pub fn new(name: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("nodeunits-systemd-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        Dir(
            UnitDir::new(path.join("units")),
            ApplyJournal::new(path.join("journal")),
        )
    }

    pub fn installed(&self) -> Installed {
        let mut installed = self.0.read().unwrap();
        installed.unfinished = self.1.read().unwrap();
        installed
    }

    pub fn plan(&self, rendered: &Rendered) -> Plan {
        plan(rendered, &self.installed(), &[], self.0.path()).unwrap()
    }

    /// Applies `plan` with `systemd`; a signal noted by `interrupt` stops it.
    pub fn apply_with(
        &self,
        plan: &Plan,
        systemd: &dyn ServiceManager,
        interrupt: &Interrupt,
    ) -> Result<(), ApplyError> {
        let context = Context {
            units: &self.0,
            systemd,
            journal: &self.1,
            interrupt,
            signal_at_step: None,
        };
        apply(plan, &context, &mut |_| {})
    }

    /// Applies with a fake systemd; returns its calls.
    pub fn apply(&self, rendered: &Rendered) -> Vec<String> {
        let systemd = FakeSystemd::default();
        self.apply_with(&self.plan(rendered), &systemd, &Interrupt::default())
            .unwrap();
        systemd.calls()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(self.0.path().parent().unwrap());
    }
}

#[test]
fn a_new_app_is_written_enabled_and_started_and_a_second_apply_does_nothing() {
    let dir = Dir::new("new-app");
    let file = rendered(vec![app("api", 2, &["127.0.0.1:3000"], "v1")]);
    assert_eq!(
        dir.apply(&file),
        [
            "daemon-reload",
            "enable api.socket api.service",
            "start api.socket",
            "start api@0.service api@1.service",
            "start api.service",
        ]
    );
    assert_eq!(dir.plan(&file).apps[0].change, Change::Unchanged);
    assert_eq!(dir.apply(&file), Vec::<String>::new());
}

#[test]
fn a_changed_app_rolls_one_instance_at_a_time_and_the_other_app_is_untouched() {
    let dir = Dir::new("roll");
    dir.apply(&rendered(vec![
        app("api", 3, &["127.0.0.1:3000"], "v1"),
        app("web", 2, &[], "v1"),
    ]));
    let calls = dir.apply(&rendered(vec![
        app("api", 3, &["127.0.0.1:3000"], "v2"),
        app("web", 2, &[], "v1"),
    ]));
    assert_eq!(
        calls,
        [
            "daemon-reload",
            "restart api@0.service",
            "restart api@1.service",
            "restart api@2.service",
        ]
    );
}

#[test]
fn only_the_difference_of_instances_starts_or_stops() {
    let dir = Dir::new("scale");
    dir.apply(&rendered(vec![app("api", 2, &[], "v1")]));
    assert_eq!(
        dir.apply(&rendered(vec![app("api", 4, &[], "v1")])),
        ["daemon-reload", "start api@2.service api@3.service"]
    );
    assert_eq!(
        dir.apply(&rendered(vec![app("api", 1, &[], "v1")])),
        [
            "stop api@1.service api@2.service api@3.service",
            "daemon-reload"
        ]
    );
}

#[test]
fn new_listen_addresses_restart_the_whole_app_socket_first() {
    let dir = Dir::new("listen");
    dir.apply(&rendered(vec![app("api", 2, &["127.0.0.1:3000"], "v1")]));
    assert_eq!(
        dir.apply(&rendered(vec![app("api", 2, &["127.0.0.1:4000"], "v2")])),
        [
            "daemon-reload",
            "stop api.service api.socket",
            "start api.socket",
            "start api@0.service api@1.service",
            "start api.service",
        ]
    );
}

#[test]
fn an_app_gone_from_the_file_is_stopped_disabled_and_deleted() {
    let dir = Dir::new("remove");
    dir.apply(&rendered(vec![
        app("api", 1, &["127.0.0.1:3000"], "v1"),
        app("web", 1, &[], "v1"),
    ]));
    let plan = dir.plan(&rendered(vec![app("web", 1, &[], "v1")]));
    assert_eq!(
        plan.to_string(),
        "web: unchanged\napi: removed (api.service, api.socket, api@.service)\n"
    );
    assert_eq!(
        dir.apply(&rendered(vec![app("web", 1, &[], "v1")])),
        [
            "stop api@0.service api.socket api.service",
            "disable api.service api.socket",
            "daemon-reload",
        ]
    );
    let left: Vec<String> = dir.0.read().unwrap().generated.into_keys().collect();
    assert_eq!(left, ["web.service", "web@.service"]);
}

#[test]
fn apps_of_another_ecosystem_file_and_foreign_files_are_never_touched() {
    let dir = Dir::new("foreign");
    let other = Rendered {
        source: PathBuf::from("/other/ecosystem.toml"),
        apps: vec![app_from("/other/ecosystem.toml", "db", 1, &[], "v1")],
        warnings: vec![],
    };
    dir.apply(&other);
    // "db" is not in this file, but it is not this file's to prune.
    assert_eq!(
        dir.apply(&rendered(vec![app("api", 1, &[], "v1")]))[1..],
        [
            "enable api.service",
            "start api@0.service",
            "start api.service"
        ][..]
    );
    let installed = dir.0.read().unwrap();
    let err = plan(
        &rendered(vec![app("db", 1, &[], "v1")]),
        &installed,
        &[],
        dir.0.path(),
    )
    .unwrap_err();
    assert!(matches!(err, PlanError::OtherSource { .. }), "{err}");
    dir.0
        .write("web.service", "[Unit]\nDescription=mine\n")
        .unwrap();
    let err = plan(
        &rendered(vec![app("web", 1, &[], "v1")]),
        &dir.0.read().unwrap(),
        &[],
        dir.0.path(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "app `web`: {} exists and was not generated by nodeunits, which never overwrites such a file; rename the app or move the file away",
            dir.0.path().join("web.service").display()
        )
    );
}

#[test]
fn a_failed_rollout_puts_back_the_previous_files_and_restarts_what_it_rolled() {
    let dir = Dir::new("rollback");
    let v1 = rendered(vec![app("api", 3, &[], "v1")]);
    dir.apply(&v1);
    let before = dir.0.read().unwrap();
    let systemd = FakeSystemd::failing("restart api@1.service");
    let err = dir
        .apply_with(
            &dir.plan(&rendered(vec![app("api", 3, &[], "v2")])),
            &systemd,
            &Interrupt::default(),
        )
        .unwrap_err();
    assert_eq!(err.app, "api");
    assert!(
        err.to_string()
            .starts_with("app `api`: api@1.service did not start"),
        "{err}"
    );
    assert_eq!(dir.0.read().unwrap(), before, "the previous files are back");
    assert_eq!(
        systemd.calls(),
        [
            "daemon-reload",
            "restart api@0.service",
            "restart api@1.service",
            "daemon-reload",
            "restart api@1.service",
            "restart api@0.service",
        ]
    );
}

#[test]
fn a_new_app_that_fails_to_start_is_stopped_disabled_and_its_files_removed() {
    let dir = Dir::new("failed-start");
    let systemd = FakeSystemd::failing("start api@0.service");
    let plan = dir.plan(&rendered(vec![app("api", 1, &[], "v1")]));
    dir.apply_with(&plan, &systemd, &Interrupt::default())
        .unwrap_err();
    assert!(dir.0.read().unwrap().generated.is_empty());
    assert_eq!(
        systemd.calls(),
        [
            "daemon-reload",
            "enable api.service",
            "start api@0.service",
            "disable api.service",
            "stop api@0.service api.service",
            "daemon-reload",
        ]
    );
}

#[test]
fn dry_run_diff_shows_changed_lines() {
    let dir = Dir::new("diff");
    dir.apply(&rendered(vec![app("api", 1, &[], "v1")]));
    let diff = dir
        .plan(&rendered(vec![app("api", 1, &[], "v2")]))
        .diff(Path::new("/etc/systemd/system"));
    assert!(
        diff.contains(
            "--- /etc/systemd/system/api@.service\n+++ /etc/systemd/system/api@.service\n"
        ),
        "{diff}"
    );
    assert!(
        diff.contains("\n-Environment=\"V=v1\"\n+Environment=\"V=v2\"\n"),
        "{diff}"
    );
}

#[test]
fn only_rejects_names_that_are_no_app() {
    let dir = Dir::new("only");
    let err = plan(
        &rendered(vec![app("api", 1, &[], "v1")]),
        &dir.0.read().unwrap(),
        &["apx".into()],
        dir.0.path(),
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "--only apx: there is no app `apx` in /srv/ecosystem.toml nor installed from it; allowed: api");
}

#[test]
fn a_deploy_rolls_what_apply_left_running_the_previous_code() {
    let dir = Dir::new("deploy");
    dir.apply(&rendered(vec![
        app("api", 2, &["127.0.0.1:3000"], "v1"),
        app("web", 2, &[], "v1"),
        app("jobs", 2, &[], "v1"),
        app("old", 1, &[], "v1"),
    ]));
    let plan = dir.plan(&rendered(vec![
        app("api", 2, &["127.0.0.1:3000"], "v1"),
        app("web", 2, &[], "v2"),
        app("jobs", 3, &[], "v1"),
        app("new", 1, &[], "v1"),
    ]));
    let after: Vec<(&str, AfterApply)> = plan
        .apps
        .iter()
        .map(|app| (app.app.as_str(), after_apply(app)))
        .collect();
    let roll = |units: &[&str]| AfterApply::Roll(units.iter().map(|u| u.to_string()).collect());
    assert_eq!(
        after,
        [
            ("api", roll(&["api@0.service", "api@1.service"])),
            ("web", AfterApply::DoneByApply("reloaded by apply")),
            // The added instance starts with the new code; the kept ones roll.
            ("jobs", roll(&["jobs@0.service", "jobs@1.service"])),
            ("new", AfterApply::DoneByApply("started by apply")),
            ("old", AfterApply::Removed),
        ]
    );
    let moved = dir.plan(&rendered(vec![app("api", 2, &["127.0.0.1:4000"], "v1")]));
    assert_eq!(restart(&moved.apps[0]), Restart::WholeApp);
    assert_eq!(
        after_apply(&moved.apps[0]),
        AfterApply::DoneByApply("restarted by apply on its new listen addresses")
    );
    // No socket any more: the template changes and apply rolls the instances.
    let unlistened = dir.plan(&rendered(vec![app("api", 2, &[], "v1")]));
    assert_eq!(restart(&unlistened.apps[0]), Restart::Rolling);
}
