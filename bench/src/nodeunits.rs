//! nodeunits on real systemd, in a test host box. Driven by `nodeunits apply`
//! and `nodeunits reload` when they are built; until then the units come from
//! `nodeunits render` (or, without nodeunits-helper, from the benchmark's
//! stand-in) and the workers are restarted one at a time with systemctl, as
//! the rolling reload does.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::apps::App;
use crate::host::Host;
use crate::supervisor::{rss_kb, wait_serving, Footprint, Supervisor};
use crate::units;

const UNIT_DIR: &str = "/etc/systemd/system";

/// How the benchmark drives nodeunits: the most of it that is built, found
/// by asking the binaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    /// `nodeunits apply`, `nodeunits reload`, nodeunits-helper.
    Apply,
    /// `nodeunits render` into the unit directory, nodeunits-helper,
    /// `systemctl restart APP@i` one at a time.
    Render,
    /// Units written by the benchmark, node with its preload,
    /// `systemctl restart APP@i` one at a time.
    StandIn,
}

pub struct Nodeunits {
    host: Box<dyn Host>,
    work_dir: PathBuf,
    bin_dir: PathBuf,
    node: String,
    driver: Driver,
}

impl Nodeunits {
    /// `bin_dir` holds `nodeunits` and `nodeunits-helper` (the same path
    /// inside the box).
    pub fn new(host: Box<dyn Host>, work_dir: PathBuf, bin_dir: PathBuf) -> Result<Nodeunits> {
        let node = host.ok("command -v node")?.trim().to_owned();
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
        let reload_probe = host.sh(&format!(
            "{} reload --system bench-probe",
            nodeunits.display()
        ))?;
        let not_implemented =
            String::from_utf8_lossy(&reload_probe.stderr).contains("not implemented");
        let helper_built = host
            .sh(&format!("{} --version", helper.display()))?
            .status
            .success();
        let driver = match (helper_built, not_implemented) {
            (true, false) => Driver::Apply,
            (true, true) => Driver::Render,
            (false, _) => Driver::StandIn,
        };
        Ok(Nodeunits {
            host,
            work_dir,
            bin_dir,
            node,
            driver,
        })
    }

    /// How this run drives nodeunits, for the results.
    pub fn driver(&self) -> &'static str {
        match self.driver {
            Driver::Apply => "nodeunits apply / nodeunits reload, workers under nodeunits-helper",
            Driver::Render => {
                "units from `nodeunits render`, workers under nodeunits-helper; \
                 reload stand-in: `systemctl restart APP@i` one at a time"
            }
            Driver::StandIn => {
                "stand-in: units written per docs/contract.md, workers as node with the \
                 benchmark's preload (no helper, no memory limit), \
                 `systemctl restart APP@i` one at a time"
            }
        }
    }

    pub fn version(&self) -> String {
        self.host
            .ok(&format!(
                "{} --version",
                self.bin_dir.join("nodeunits").display()
            ))
            .map(|text| text.trim().to_owned())
            .unwrap_or_else(|error| format!("unknown ({error})"))
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

    fn install_units(&self, app: &App) -> Result<()> {
        if self.driver == Driver::Render {
            let file = self.ecosystem_file(app)?;
            self.nodeunits(&format!(
                "render --system --out {UNIT_DIR} {}",
                file.display()
            ))?;
        } else {
            for (file, contents) in units::stand_in(app, &self.node) {
                self.host
                    .write(&Path::new(UNIT_DIR).join(file), &contents)?;
            }
        }
        self.host.ok("systemctl daemon-reload").map(drop)
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

    fn supports_memory_limit(&self) -> bool {
        self.driver != Driver::StandIn
    }

    fn start(&mut self, app: &App) -> Result<()> {
        if self.driver == Driver::Apply {
            let file = self.ecosystem_file(app)?;
            self.nodeunits(&format!("apply --system {}", file.display()))?;
            let all = Self::instances(app).join(" ");
            self.host.ok(&format!(
                "for i in $(seq 200); do systemctl is-active -q {all} && exit 0; sleep 0.05; done; \
                 systemctl status --no-pager {all}; exit 1"
            ))?;
        } else {
            self.install_units(app)?;
            self.host.ok(&format!(
                "systemctl start {0}.socket && systemctl start {0}.service {1} \
                 || {{ journalctl --no-pager -n 40 -u '{0}*'; exit 1; }}",
                app.name,
                Self::instances(app).join(" ")
            ))?;
        }
        wait_serving(self.host(), app, Duration::from_secs(30))
    }

    fn reload(&mut self, app: &App) -> Result<()> {
        if self.driver == Driver::Apply {
            return self
                .nodeunits(&format!("reload --system {}", app.name))
                .map(drop);
        }
        for unit in Self::instances(app) {
            self.host.ok(&format!(
                "systemctl restart {unit} || {{ journalctl --no-pager -n 30 -u {unit}; exit 1; }}"
            ))?;
        }
        Ok(())
    }

    fn stop(&mut self, app: &App) -> Result<()> {
        if self.driver == Driver::Apply {
            // As `pm2 delete`: the next measure applies the app afresh.
            self.nodeunits(&format!("delete --system {}", app.name))?;
        } else {
            self.host.ok(&format!(
                "systemctl stop {0}.service {0}.socket '{0}@*.service'",
                app.name
            ))?;
        }
        // This also resets the start rate limit: the next measure starts the
        // same app afresh.
        self.host.ok("systemctl reset-failed").map(drop)
    }

    fn footprint(&self, app: &App) -> Result<Footprint> {
        let mut footprint = Footprint::default();
        for pid in self.main_pids_of(app)? {
            if self.driver != Driver::StandIn {
                footprint.supervisor_kb += rss_kb(self.host(), pid)?;
                let children = self
                    .host
                    .ok(&format!("cat /proc/{pid}/task/{pid}/children"))?;
                for child in children.split_whitespace() {
                    footprint
                        .workers_kb
                        .push(rss_kb(self.host(), child.parse()?)?);
                }
            } else {
                footprint.workers_kb.push(rss_kb(self.host(), pid)?);
            }
        }
        Ok(footprint)
    }

    fn worker_pids(&self, app: &App) -> Result<Vec<u32>> {
        self.main_pids_of(app)
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
}
