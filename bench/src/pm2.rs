//! PM2, installed from the npm registry at the version pinned in
//! bench/package.json, run in a box of its own (PM2_HOME inside it).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use crate::apps::{bench_dir, App, Logging, Rotation};
use crate::host::{in_scope, Host};
use crate::supervisor::{
    pss_kb, rss_kb, wait_all_serving, wait_serving, Footprint, Supervisor, STOP_SCOPES,
};

/// The packages the benchmark installs from the npm registry, pinned in
/// bench/package.json.
const PACKAGES: [&str; 2] = ["pm2", "pm2-logrotate"];

/// The unit `pm2 startup systemd -u root` writes.
const STARTUP_UNIT: &str = "pm2-root.service";

/// Installs the pinned PM2 and pm2-logrotate into bench/node_modules
/// (`npm ci`) unless those exact versions are there already. Returns PM2's
/// version.
pub fn install() -> Result<String> {
    let dir = bench_dir();
    let manifest = read_json(&dir.join("package.json")).context("bench/package.json")?;
    let mut versions = Vec::new();
    for package in PACKAGES {
        let wanted = manifest["dependencies"][package]
            .as_str()
            .with_context(|| format!("bench/package.json pins no {package} version"))?;
        versions.push((package, wanted.to_owned()));
    }
    let all_there = |versions: &[(&str, String)]| {
        versions
            .iter()
            .all(|(package, wanted)| installed_version(&dir, package).as_ref() == Some(wanted))
    };
    if !all_there(&versions) {
        eprintln!("installing PM2 and pm2-logrotate from the npm registry (npm ci in bench/)");
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .status()
            .context("could not run npm (is Node.js installed?)")?;
        if !status.success() {
            bail!("`npm ci` in {} failed ({status})", dir.display());
        }
    }
    for (package, wanted) in &versions {
        let installed = installed_version(&dir, package);
        if installed.as_ref() != Some(wanted) {
            bail!("{package} {wanted} is pinned in bench/package.json, but {installed:?} is installed");
        }
    }
    Ok(versions[0].1.clone())
}

fn read_json(path: &Path) -> Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

fn installed_version(dir: &Path, package: &str) -> Option<String> {
    let path = dir.join("node_modules").join(package).join("package.json");
    read_json(&path).ok()?["version"]
        .as_str()
        .map(str::to_owned)
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

    fn home(&self) -> PathBuf {
        self.work_dir.join("pm2-home")
    }

    /// Adds pm2-logrotate to PM2's list of installed modules, or takes it
    /// off, as `pm2 install` and `pm2 uninstall` do (`module-db-v2` in
    /// `module_conf.json`); the daemon launches the listed modules when it
    /// starts.
    fn register_logrotate(&self, installed: bool) -> Result<()> {
        let script = "const fs = require('fs'); const [file, on] = process.argv.slice(1); \
             const conf = JSON.parse(fs.readFileSync(file)); \
             const db = (conf['module-db-v2'] = conf['module-db-v2'] || {}); \
             if (on === '1') db['pm2-logrotate'] = {}; else delete db['pm2-logrotate']; \
             fs.writeFileSync(file, JSON.stringify(conf, null, 4));";
        self.host
            .ok(&format!(
                "node -e \"{script}\" {} {}",
                self.home().join("module_conf.json").display(),
                u8::from(installed)
            ))
            .map(drop)
    }

    /// Whether PM2 lists a process of this name, online.
    fn online(&self, name: &str) -> Result<bool> {
        let list: Value = serde_json::from_str(&self.pm2("jlist")?).context("pm2 jlist")?;
        Ok(list.as_array().is_some_and(|all| {
            all.iter()
                .any(|p| p["name"] == name && p["pm2_env"]["status"] == "online")
        }))
    }

    fn all_online(&self, app: &App) -> Result<bool> {
        let processes = self.processes(app)?;
        Ok(processes.len() == app.instances as usize
            && processes.iter().all(|p| p["pm2_env"]["status"] == "online"))
    }

    /// The app's entry of an ecosystem file.
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
        if let Some(cwd) = &app.cwd {
            entry["cwd"] = json!(cwd);
        }
        if let Some(default_ignore) = app.watch {
            entry["watch"] = json!(true);
            if !default_ignore {
                entry["ignore_watch"] = json!([]);
            }
        }
        if let Logging::RotatedFile { path, .. } = &app.logging {
            // Rotated by pm2-logrotate: see `rotate_logs`.
            entry["out_file"] = json!(path);
            entry["merge_logs"] = json!(true);
        }
        entry
    }

    fn wait_online(&self, app: &App) -> Result<()> {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while !self.all_online(app)? {
            if std::time::Instant::now() > deadline {
                bail!("PM2 did not bring {} online within 30 s", app.name);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    /// The daemon, as its PID file names it.
    fn daemon_pid(&self) -> Result<u32> {
        let file = self.home().join("pm2.pid");
        let text = self.host.read(&file)?;
        text.trim()
            .parse()
            .with_context(|| format!("{} holds {text:?}", file.display()))
    }

    /// Every PM2 process, online or not.
    fn jlist(&self) -> Result<Vec<Value>> {
        let list: Value = serde_json::from_str(&self.pm2("jlist")?).context("pm2 jlist")?;
        match list {
            Value::Array(all) => Ok(all),
            _ => bail!("pm2 jlist is not a list"),
        }
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
        let ecosystem = json!({ "apps": [self.ecosystem(app)] });
        self.host
            .write(&file, &serde_json::to_string_pretty(&ecosystem)?)?;
        self.pm2(&format!("start {}", file.display()))?;
        self.wait_online(app)?;
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
        let daemon = self.daemon_pid()?;
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

    /// pm2-logrotate 3.0.0, installed from the npm registry with PM2 (both
    /// pinned in bench/package.json), configured with `pm2 set` as its
    /// README says. `pm2 install pm2-logrotate` would run npm, which cannot
    /// reach the registry from the box: the installed package is linked
    /// where `pm2 install` puts it and registered as it registers it.
    /// pm2-logrotate looks at the files' sizes every `workerInterval`
    /// seconds (30 by default); it is given 1, its smallest, so that it
    /// rotates during a burst as often as it can.
    fn rotate_logs(&mut self, rotation: Option<Rotation>) -> Result<()> {
        let installed = self.home().join("modules/pm2-logrotate");
        match rotation {
            Some(rotation) => {
                self.host.ok(&format!(
                    "mkdir -p {0}/node_modules && ln -sfn {1} {0}/node_modules/pm2-logrotate",
                    installed.display(),
                    bench_dir().join("node_modules/pm2-logrotate").display()
                ))?;
                for (key, value) in [
                    ("max_size", rotation.max_size.to_owned()),
                    ("retain", rotation.retain.to_string()),
                    ("compress", rotation.compress.to_string()),
                    ("workerInterval", "1".to_owned()),
                ] {
                    self.pm2(&format!("set pm2-logrotate:{key} {value}"))?;
                }
                self.register_logrotate(true)?;
            }
            None => {
                self.register_logrotate(false)?;
                // The link only: its target is bench/node_modules.
                self.host.ok(&format!("rm -rf {}", installed.display()))?;
            }
        }
        self.pm2("kill")?;
        self.pm2("ping")?;
        if rotation.is_some() {
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            while !self.online("pm2-logrotate")? {
                if std::time::Instant::now() > deadline {
                    bail!("PM2 did not launch pm2-logrotate within 30 s");
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        Ok(())
    }

    /// PM2's daemon watches every app's files (lib/Watcher.js, chokidar).
    fn watcher_pid(&self, _: &App) -> Result<Option<u32>> {
        let pid_file = self.home().join("pm2.pid");
        // The daemon of a run's first measure starts now.
        self.pm2("ping")?;
        Ok(Some(self.host.read(&pid_file)?.trim().parse()?))
    }

    fn start_all(&mut self, apps: &[App]) -> Result<()> {
        let file = self.work_dir.join("fleet.config.json");
        let entries: Vec<Value> = apps.iter().map(|app| self.ecosystem(app)).collect();
        let ecosystem = json!({ "apps": entries });
        self.host
            .write(&file, &serde_json::to_string_pretty(&ecosystem)?)?;
        self.pm2(&format!("start {}", file.display()))?;
        let instances: usize = apps.iter().map(|app| app.instances as usize).sum();
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        loop {
            let list = self.jlist()?;
            let online = list
                .iter()
                .filter(|p| p["pm2_env"]["status"] == "online")
                .count();
            if online == instances {
                break;
            }
            if std::time::Instant::now() > deadline {
                bail!("PM2 brought {online} of {instances} processes online within 120 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        wait_all_serving(self.host(), apps, Duration::from_secs(60))
    }

    fn stop_all(&mut self, _: &[App]) -> Result<()> {
        self.pm2("delete all")?;
        self.pm2("kill")?;
        self.pm2("ping").map(drop)
    }

    fn list_command(&self) -> String {
        format!(
            "PM2_HOME={} {} ls",
            self.home().display(),
            bench_dir().join("node_modules/.bin/pm2").display()
        )
    }

    fn list_servers(&self) -> Result<Vec<u32>> {
        Ok(vec![self.daemon_pid()?])
    }

    fn supervisor_kb(&self, _: &[App]) -> Result<u64> {
        pss_kb(self.host(), self.daemon_pid()?)
    }

    /// `pm2 save`, then the unit `pm2 startup systemd` writes and enables
    /// (`pm2-root.service`, `Restart=on-failure`, its `ExecStart` `pm2
    /// resurrect`), started in place of the daemon the bench started.
    fn start_in_production(&mut self, app: &App) -> Result<()> {
        self.start(app)?;
        self.pm2("save")?;
        self.pm2("kill")?;
        // Run as root with PM2_HOME set, it writes that home into the unit.
        self.pm2("startup systemd -u root")?;
        self.host.ok(&format!("systemctl start {STARTUP_UNIT}"))?;
        self.wait_online(app)?;
        wait_serving(self.host(), app, Duration::from_secs(30))
    }

    fn supervisor_pid(&self, _: &App) -> Result<u32> {
        self.daemon_pid()
    }

    /// Stops the unit (`pm2 kill`), takes it and the saved list away, and
    /// starts a fresh daemon, as `stop` leaves one.
    fn stop_in_production(&mut self, _: &App) -> Result<()> {
        self.host.ok(&format!(
            "systemctl disable --now {STARTUP_UNIT} && rm /etc/systemd/system/{STARTUP_UNIT} \
             && systemctl daemon-reload && systemctl reset-failed && rm -f {0}/dump.pm2 {0}/dump.pm2.bak",
            self.home().display()
        ))?;
        self.pm2("ping").map(drop)
    }

    /// The startup unit and saved list if a measure left them, then every
    /// app, pm2-logrotate and the daemon; a fresh daemon, as `stop` leaves.
    fn clear(&mut self) -> Result<()> {
        self.host.ok(&format!(
            "systemctl disable --now {STARTUP_UNIT} 2>/dev/null; \
             rm -f /etc/systemd/system/{STARTUP_UNIT} {0}/dump.pm2 {0}/dump.pm2.bak; \
             systemctl daemon-reload",
            self.home().display()
        ))?;
        // Best effort: the daemon may be what failed.
        let _ = self.pm2("delete all");
        let _ = self.rotate_logs(None);
        let _ = self.pm2("kill");
        self.host.ok(STOP_SCOPES)?;
        self.pm2("ping").map(drop)
    }

    fn default_log(&self, app: &App) -> String {
        // `name-out.log`, or `name-out-ID.log` per worker in cluster mode.
        format!("cat {}/logs/{}-out*.log", self.home().display(), app.name)
    }
}

impl Drop for Pm2 {
    fn drop(&mut self) {
        let _ = self.pm2("kill");
    }
}
