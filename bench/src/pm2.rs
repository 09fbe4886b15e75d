//! PM2, installed from the npm registry at the version pinned in
//! bench/package.json, run in a box of its own (PM2_HOME inside it).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use crate::apps::{bench_dir, App};
use crate::host::{in_scope, Host};
use crate::supervisor::{rss_kb, wait_serving, Footprint, Supervisor};

/// Installs the pinned PM2 into bench/node_modules (`npm ci`) unless that
/// exact version is there already. Returns the version.
pub fn install() -> Result<String> {
    let dir = bench_dir();
    let wanted = pinned_version(&dir)?;
    if installed_version(&dir).as_deref() != Some(wanted.as_str()) {
        eprintln!("installing PM2 {wanted} from the npm registry (npm ci in bench/)");
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .status()
            .context("could not run npm (is Node.js installed?)")?;
        if !status.success() {
            bail!("`npm ci` in {} failed ({status})", dir.display());
        }
    }
    match installed_version(&dir) {
        Some(version) if version == wanted => Ok(version),
        other => bail!("PM2 {wanted} is pinned in bench/package.json, but {other:?} is installed"),
    }
}

fn pinned_version(dir: &Path) -> Result<String> {
    let text = std::fs::read_to_string(dir.join("package.json"))?;
    let manifest: Value = serde_json::from_str(&text).context("bench/package.json")?;
    manifest["dependencies"]["pm2"]
        .as_str()
        .map(str::to_owned)
        .context("bench/package.json pins no pm2 version under dependencies")
}

fn installed_version(dir: &Path) -> Option<String> {
    let path = dir.join("node_modules/pm2/package.json");
    let manifest: Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    manifest["version"].as_str().map(str::to_owned)
}

pub struct Pm2 {
    host: Box<dyn Host>,
    work_dir: PathBuf,
}

impl Pm2 {
    pub fn new(host: Box<dyn Host>, work_dir: PathBuf) -> Pm2 {
        Pm2 { host, work_dir }
    }

    fn pm2(&self, args: &str) -> Result<String> {
        // PM2 checks max_memory_restart every 30 s by default; once a second
        // gives it the same chance as nodeunits-helper, which checks as often.
        // The command that starts PM2's daemon leaves it in its scope.
        let pm2 = format!(
            "{} {args}",
            bench_dir().join("node_modules/.bin/pm2").display()
        );
        self.host.ok(&format!(
            "PM2_HOME={} PM2_WORKER_INTERVAL=1000 {}",
            self.work_dir.join("pm2-home").display(),
            in_scope("system.slice", &pm2)
        ))
    }

    /// PM2's view of the app's workers.
    fn processes(&self, app: &App) -> Result<Vec<Value>> {
        let list: Value = serde_json::from_str(&self.pm2("jlist")?).context("pm2 jlist")?;
        let all = list.as_array().context("pm2 jlist is not a list")?;
        Ok(all
            .iter()
            .filter(|p| p["name"] == app.name)
            .cloned()
            .collect())
    }

    fn all_online(&self, app: &App) -> Result<bool> {
        let processes = self.processes(app)?;
        Ok(processes.len() == app.instances as usize
            && processes.iter().all(|p| p["pm2_env"]["status"] == "online"))
    }

    fn ecosystem(&self, app: &App) -> Value {
        let env: serde_json::Map<String, Value> = app
            .env()
            .into_iter()
            .map(|(key, value)| (key.to_owned(), json!(value)))
            .collect();
        let mut entry = json!({
            "name": app.name,
            "script": app.script_path(),
            "instances": app.instances,
            "exec_mode": "cluster",
            "wait_ready": app.wait_ready,
            "kill_timeout": app.kill_timeout_ms,
            "listen_timeout": app.listen_timeout_ms,
            "env": env,
        });
        if let Some(mb) = app.max_memory_mb {
            entry["max_memory_restart"] = json!(format!("{mb}M"));
        }
        json!({ "apps": [entry] })
    }
}

impl Supervisor for Pm2 {
    fn name(&self) -> &'static str {
        "PM2"
    }

    fn host(&self) -> &dyn Host {
        self.host.as_ref()
    }

    fn work_dir(&self) -> &Path {
        &self.work_dir
    }

    fn start(&mut self, app: &App) -> Result<()> {
        let file = self.work_dir.join(format!("{}.config.json", app.name));
        self.host
            .write(&file, &serde_json::to_string_pretty(&self.ecosystem(app))?)?;
        self.pm2(&format!("start {}", file.display()))?;
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while !self.all_online(app)? {
            if std::time::Instant::now() > deadline {
                bail!("PM2 did not bring {} online within 30 s", app.name);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        wait_serving(self.host(), app, Duration::from_secs(30))
    }

    fn reload(&mut self, app: &App) -> Result<()> {
        self.pm2(&format!("reload {}", app.name)).map(drop)
    }

    fn stop(&mut self, app: &App) -> Result<()> {
        self.pm2(&format!("delete {}", app.name))?;
        // A worker that PM2 was restarting (memory limit) can outlive
        // `delete` and keep serving the port through the daemon; a fresh
        // daemon per measure leaves nothing behind. `ping` starts it now, so
        // that `pm2 start` is timed against a running daemon.
        self.pm2("kill")?;
        self.pm2("ping").map(drop)
    }

    fn footprint(&self, app: &App) -> Result<Footprint> {
        let pid_file = self.work_dir.join("pm2-home/pm2.pid");
        let daemon: u32 = self.host.read(&pid_file)?.trim().parse()?;
        let mut workers_kb = Vec::new();
        for process in self.processes(app)? {
            let pid = process["pid"]
                .as_u64()
                .context("a PM2 worker without pid")?;
            workers_kb.push(rss_kb(self.host(), pid as u32)?);
        }
        Ok(Footprint {
            supervisor_kb: rss_kb(self.host(), daemon)?,
            workers_kb,
        })
    }

    fn worker_pids(&self, app: &App) -> Result<Vec<u32>> {
        self.processes(app)?
            .iter()
            .map(|process| {
                let pid = process["pid"]
                    .as_u64()
                    .context("a PM2 worker without pid")?;
                Ok(pid as u32)
            })
            .collect()
    }

    fn restarts(&self, app: &App) -> Result<u64> {
        Ok(self
            .processes(app)?
            .iter()
            .filter_map(|p| p["pm2_env"]["restart_time"].as_u64())
            .sum())
    }
}

impl Drop for Pm2 {
    fn drop(&mut self) {
        let _ = self.pm2("kill");
    }
}
