//! What the plan and apply tests share: typed apps, and a temporary unit
//! directory with its apply journal, applied against a fake systemd.

use std::path::PathBuf;
use std::time::Duration;

use super::apply::{apply, ApplyError, Context};
use super::apply_journal::ApplyJournal;
use super::fake::FakeSystemd;
use super::interrupt::Interrupt;
use super::manager::ServiceManager;
use super::plan::{plan, Plan};
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
        pm2_name: None,
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
            environment: [("V".to_owned(), Some(version.to_owned()))].into(),
            environment_file: None,
            credentials: Default::default(),
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
            plain: std::collections::BTreeMap::new(),
        },
        cron: None,
        logs: None,
        watch: None,
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
        ports: vec![],
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
