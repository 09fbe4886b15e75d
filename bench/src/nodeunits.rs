//! nodeunits on real systemd, in a test host box, driven as a user drives it:
//! `nodeunits apply`, `nodeunits reload`, `nodeunits delete`; every worker
//! runs under nodeunits-helper.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::apps::{bench_dir, App, Rotation};
use crate::host::Host;
use crate::supervisor::{
    pss_kb, rss_kb, wait_all_serving, wait_serving, Footprint, Supervisor, STOP_SCOPES,
};
use crate::units;

pub struct Nodeunits {
    host: Box<dyn Host>,
    work_dir: PathBuf,
    bin_dir: PathBuf,
}

impl Nodeunits {
    /// `bin_dir` holds `nodeunits` and `nodeunits-helper` (the same path
    /// inside the box).
    pub fn new(host: Box<dyn Host>, work_dir: PathBuf, bin_dir: PathBuf) -> Result<Nodeunits> {
        let nodeunits = bin_dir.join("nodeunits");
        let helper = bin_dir.join("nodeunits-helper");
        for binary in [&nodeunits, &helper] {
            host.ok(&format!("test -x {}", binary.display()))
                .with_context(|| {
                    format!(
                        "{} is not built: run `cargo build --bins` first",
                        binary.display()
                    )
                })?;
        }
        Ok(Nodeunits {
            host,
            work_dir,
            bin_dir,
        })
    }

    /// How this run drives nodeunits, for the results.
    pub fn driver(&self) -> &'static str {
        "nodeunits apply / nodeunits reload, workers under nodeunits-helper"
    }

    /// `nodeunits --version`, and the checkout's commit when git knows it
    /// ("-dirty" with uncommitted changes): the results name what ran.
    pub fn version(&self) -> String {
        let version = self
            .host
            .ok(&format!(
                "{} --version",
                self.bin_dir.join("nodeunits").display()
            ))
            .map(|text| text.trim().to_owned())
            .unwrap_or_else(|error| format!("unknown ({error})"));
        let git = |args: &[&str]| {
            std::process::Command::new("git")
                .arg("-C")
                .arg(bench_dir())
                .args(args)
                .output()
                .ok()
                .filter(|output| output.status.success())
                .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        };
        match git(&["rev-parse", "--short", "HEAD"]) {
            Some(commit) => {
                let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
                    .is_some_and(|changes| !changes.is_empty());
                format!(
                    "{version}, commit {commit}{}",
                    if dirty { "-dirty" } else { "" }
                )
            }
            None => version,
        }
    }

    fn nodeunits(&self, args: &str) -> Result<String> {
        self.host.ok(&format!(
            "{} {args}",
            self.bin_dir.join("nodeunits").display()
        ))
    }

    fn ecosystem_file(&self, app: &App) -> Result<PathBuf> {
        let file = self.work_dir.join(format!("{}.toml", app.name));
        self.host.write(&file, &units::ecosystem(app))?;
        Ok(file)
    }

    fn instances(app: &App) -> Vec<String> {
        (0..app.instances)
            .map(|i| format!("{}@{i}.service", app.name))
            .collect()
    }

    fn main_pids_of(&self, app: &App) -> Result<Vec<u32>> {
        Self::instances(app)
            .iter()
            .map(|unit| {
                let pid = self.host.ok(&format!("systemctl show -P MainPID {unit}"))?;
                pid.trim()
                    .parse()
                    .with_context(|| format!("MainPID of {unit}: {pid:?}"))
            })
            .collect()
    }
}

impl Nodeunits {
    /// The main PIDs of these units (their helpers), in one call.
    fn main_pids(&self, units: &[String]) -> Result<Vec<u32>> {
        let text = self
            .host
            .ok(&format!("systemctl show -P MainPID {}", units.join(" ")))?;
        // One value per unit, with an empty line between units.
        text.lines()
            .filter(|line| !line.trim().is_empty())
            .map(|pid| {
                pid.trim()
                    .parse()
                    .with_context(|| format!("a MainPID of {} units: {pid:?}", units.len()))
            })
            .collect()
    }
}

impl Supervisor for Nodeunits {
    fn name(&self) -> &'static str {
        "nodeunits"
    }

    fn host(&self) -> &dyn Host {
        self.host.as_ref()
    }

    fn work_dir(&self) -> &Path {
        &self.work_dir
    }

    fn start(&mut self, app: &App) -> Result<()> {
        let file = self.ecosystem_file(app)?;
        self.nodeunits(&format!("apply --system {}", file.display()))?;
        let all = Self::instances(app).join(" ");
        self.host.ok(&format!(
            "for i in $(seq 200); do systemctl is-active -q {all} && exit 0; sleep 0.05; done; \
             systemctl status --no-pager {all}; exit 1"
        ))?;
        wait_serving(self.host(), app, Duration::from_secs(30))
    }

    fn reload(&mut self, app: &App) -> Result<()> {
        self.nodeunits(&format!("reload --system {}", app.name))
            .map(drop)
    }

    fn stop(&mut self, app: &App) -> Result<()> {
        // As `pm2 delete`: the next measure applies the app afresh.
        self.nodeunits(&format!("delete --system {}", app.name))?;
        // This also resets the start rate limit: the next measure starts the
        // same app afresh.
        self.host.ok("systemctl reset-failed").map(drop)
    }

    fn footprint(&self, app: &App) -> Result<Footprint> {
        let mut footprint = Footprint::default();
        for pid in self.main_pids_of(app)? {
            footprint.supervisor_kb += rss_kb(self.host(), pid)?;
        }
        for pid in self.worker_pids(app)? {
            footprint.workers_kb.push(rss_kb(self.host(), pid)?);
        }
        Ok(footprint)
    }

    /// The apps' processes, the helpers' children: a reload replaces them
    /// and keeps the helpers (the units are reloaded, not restarted).
    fn worker_pids(&self, app: &App) -> Result<Vec<u32>> {
        let mut pids = Vec::new();
        for pid in self.main_pids_of(app)? {
            let children = self
                .host
                .ok(&format!("cat /proc/{pid}/task/{pid}/children"))?;
            for child in children.split_whitespace() {
                pids.push(child.parse()?);
            }
        }
        Ok(pids)
    }

    fn start_all(&mut self, apps: &[App]) -> Result<()> {
        let file = self.work_dir.join("fleet.toml");
        let ecosystem: String = apps.iter().map(units::ecosystem).collect();
        self.host.write(&file, &ecosystem)?;
        self.nodeunits(&format!("apply --system {}", file.display()))?;
        let all = apps
            .iter()
            .flat_map(Self::instances)
            .collect::<Vec<_>>()
            .join(" ");
        self.host.ok(&format!(
            "for i in $(seq 1200); do systemctl is-active -q {all} && exit 0; sleep 0.05; done; exit 1"
        ))?;
        wait_all_serving(self.host(), apps, Duration::from_secs(60))
    }

    fn stop_all(&mut self, _: &[App]) -> Result<()> {
        let file = self.work_dir.join("fleet.toml");
        self.nodeunits(&format!("delete --system {}", file.display()))?;
        self.host.ok("systemctl reset-failed").map(drop)
    }

    fn list_command(&self) -> String {
        format!(
            "{} status --system",
            self.bin_dir.join("nodeunits").display()
        )
    }

    fn list_servers(&self) -> Result<Vec<u32>> {
        let bus = self.host.ok("systemctl show -P MainPID dbus.service")?;
        let bus = bus
            .trim()
            .parse()
            .with_context(|| format!("MainPID of dbus.service: {bus:?}"))?;
        Ok(vec![1, bus])
    }

    fn supervisor_kb(&self, apps: &[App]) -> Result<u64> {
        let units: Vec<String> = apps.iter().flat_map(Self::instances).collect();
        let mut total = 0;
        for pid in self.main_pids(&units)? {
            total += pss_kb(self.host(), pid)?;
        }
        Ok(total)
    }

    fn restarts(&self, app: &App) -> Result<u64> {
        let mut total = 0;
        for unit in Self::instances(app) {
            let count = self
                .host
                .ok(&format!("systemctl show -P NRestarts {unit}"))?;
            total += count.trim().parse::<u64>().unwrap_or(0);
        }
        Ok(total)
    }

    fn rotate_logs(&mut self, _: Option<Rotation>) -> Result<()> {
        Ok(())
    }

    /// `APP-watch.service`'s process, when the app watches.
    fn watcher_pid(&self, app: &App) -> Result<Option<u32>> {
        if app.watch.is_none() {
            return Ok(None);
        }
        let unit = format!("{}-watch.service", app.name);
        let pid = self.host.ok(&format!("systemctl show -P MainPID {unit}"))?;
        let pid: u32 = pid
            .trim()
            .parse()
            .with_context(|| format!("MainPID of {unit}: {pid:?}"))?;
        Ok((pid != 0).then_some(pid))
    }

    /// The units `apply` writes are what a server runs.
    fn start_in_production(&mut self, app: &App) -> Result<()> {
        self.start(app)
    }

    fn supervisor_pid(&self, app: &App) -> Result<u32> {
        let units = Self::instances(app);
        let first = units.first().context("an app with no instance")?;
        self.main_pids(std::slice::from_ref(first))?
            .first()
            .copied()
            .with_context(|| format!("no MainPID for {first}"))
    }

    fn stop_in_production(&mut self, app: &App) -> Result<()> {
        self.stop(app)
    }

    /// Every installed app, and whatever else a measure left in a scope.
    fn clear(&mut self) -> Result<()> {
        self.nodeunits("delete --system all")?;
        self.host.ok(STOP_SCOPES).map(drop)
    }

    fn default_log(&self, app: &App) -> String {
        format!(
            "journalctl -q --no-pager -o cat SYSLOG_IDENTIFIER={}",
            app.name
        )
    }
}
