//! Oxmgr, a PM2-like process manager in Rust: built from the source archive
//! in bench/oxmgr/ (see its README) with its own Cargo.lock, and run in a box
//! of its own, its daemon and the apps it starts in a scope under
//! `system.slice` as PM2's are, its home (`OXMGR_HOME`) inside the box.
//!
//! Each app is given to it as an `oxfile.toml`, its native format, applied
//! with `oxmgr apply`: `node SCRIPT` in its cluster mode (a `node:cluster`
//! primary forking the workers, where PM2 uses its cluster mode), and for an
//! app that tells when it is ready, its readiness gate (`wait_ready` on a
//! `health_cmd`): see [`oxfile`].

use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::apps::{bench_dir, App, Logging, Rotation};
use crate::host::{in_scope, Host};
use crate::supervisor::{
    pss_kb, rss_kb, wait_all_serving, wait_serving, Footprint, Supervisor, STOP_SCOPES,
};

/// The commit of Oxmgr's repository the archive holds (Oxmgr 0.5.0).
pub const COMMIT: &str = "76bed9d";
/// The version that commit builds, which the built binary must report.
const VERSION: &str = "0.5.0";

/// Where the box has Oxmgr: a path of its own, on its search path.
const INSIDE: &str = "/usr/local/bin/oxmgr";

/// The unit `oxmgr service install` writes.
const SERVICE_UNIT: &str = "oxmgr.service";

/// The directory the archive extracts to, and its path in bench/.
fn source_name() -> String {
    format!("oxmgr-{COMMIT}")
}

fn archive() -> PathBuf {
    bench_dir()
        .join("oxmgr")
        .join(format!("{}.tar.gz", source_name()))
}

/// The cargo target directory: `$CARGO_TARGET_DIR`, or the one this binary
/// was built in, or the workspace's `target/`.
fn target_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR").filter(|dir| !dir.is_empty()) {
        let dir = PathBuf::from(dir);
        return Ok(if dir.is_absolute() {
            dir
        } else {
            std::env::current_dir()
                .context("finding the current directory")?
                .join(dir)
        });
    }
    let exe = std::env::current_exe().context("finding the benchmark's own binary")?;
    if let Some(dir) = exe
        .ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
    {
        return Ok(dir.to_path_buf());
    }
    Ok(bench_dir()
        .parent()
        .context("bench/ has no parent directory")?
        .join("target"))
}

/// Builds Oxmgr from bench/oxmgr/ unless it is built already: extracts the
/// archive into the cargo target directory (`oxmgr-76bed9d/`) and runs
/// `cargo build --release --locked` there (its crates from crates.io, at the
/// versions of its Cargo.lock). Returns the binary and Oxmgr's version.
pub fn install() -> Result<(PathBuf, String)> {
    let source = target_dir()?.join(source_name());
    let binary = source.join("target/release/oxmgr");
    if !binary.is_file() {
        extract(&source)?;
        build(&source)?;
    }
    let version = version(&binary)?;
    Ok((binary, version))
}

/// Extracts the archive next to `source`, where it makes `source`.
fn extract(source: &Path) -> Result<()> {
    let archive = archive();
    let into = source
        .parent()
        .context("the source directory has no parent")?;
    eprintln!(
        "extracting Oxmgr {COMMIT} from {} into {}",
        archive.display(),
        into.display()
    );
    std::fs::create_dir_all(into).with_context(|| format!("creating {}", into.display()))?;
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(&archive)
        .arg("-C")
        .arg(into)
        .status()
        .context("could not run tar")?;
    if !status.success() {
        bail!(
            "`tar -xzf {} -C {}` failed ({status})",
            archive.display(),
            into.display()
        );
    }
    // Under the checkout (target/ is in it), cargo would take the package
    // for a member of the checkout's workspace and refuse to build it; an
    // empty `[workspace]` table makes it a workspace of its own, as cargo's
    // message advises. Nothing else of the source is changed.
    let manifest = source.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest)
        .with_context(|| format!("reading {}", manifest.display()))?;
    if !text.lines().any(|line| line.trim() == "[workspace]") {
        std::fs::write(&manifest, text + "\n[workspace]\n")
            .with_context(|| format!("writing {}", manifest.display()))?;
    }
    Ok(())
}

/// `cargo build --release --locked` in `source`, into `source/target`.
fn build(source: &Path) -> Result<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!(
        "building Oxmgr {COMMIT} (cargo build --release --locked in {}; its crates from crates.io)",
        source.display()
    );
    let status = Command::new(&cargo)
        .args(["build", "--release", "--locked"])
        .current_dir(source)
        // Its own target directory: not the benchmark's, whose lock others
        // may hold.
        .env("CARGO_TARGET_DIR", source.join("target"))
        .status()
        .with_context(|| format!("could not run {cargo:?} (is Rust installed?)"))?;
    if !status.success() {
        bail!(
            "`cargo build --release --locked` of Oxmgr in {} failed ({status})",
            source.display()
        );
    }
    Ok(())
}

/// The version the binary reports, which must be the archive's.
fn version(binary: &Path) -> Result<String> {
    let output = Command::new(binary)
        .arg("--version")
        .output()
        .with_context(|| format!("could not run {} --version", binary.display()))?;
    let text = String::from_utf8_lossy(&output.stdout);
    match text.trim().strip_prefix("oxmgr ") {
        Some(version) if output.status.success() && version == VERSION => Ok(version.to_owned()),
        _ => bail!(
            "{} --version printed {:?} ({}): expected oxmgr {VERSION}, commit {COMMIT}; \
             remove {} to build it again",
            binary.display(),
            text.trim(),
            output.status,
            binary.display()
        ),
    }
}

/// A word of Oxmgr's command lines (which it splits as a shell would).
fn quoted(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// A TOML basic string: JSON's escapes are TOML's.
fn toml_string(text: &str) -> String {
    Value::from(text).to_string()
}

/// The readiness probe of an app that says when it is ready: Oxmgr's
/// readiness is a command that succeeds (`health_cmd`), not the app's
/// `process.send('ready')`, which goes to the cluster primary. It asks the
/// app's port, as Oxmgr's docs do (`curl -fsS http://127.0.0.1:3000/health`),
/// with node rather than curl, which the benchmark does not need otherwise.
fn health_cmd(app: &App) -> String {
    format!(
        "node -e \"require('http').get('http://127.0.0.1:{}/', (r) => process.exit(r.statusCode < 400 ? 0 : 1)).on('error', () => process.exit(1))\"",
        app.port
    )
}

/// The oxfile.toml Oxmgr is given for the app: what PM2 is given, in Oxmgr's
/// terms.
///
/// - `command = "node SCRIPT"`, `cluster_mode = true`, `cluster_instances`
///   = the app's instances: one managed process, a `node:cluster` primary
///   forking the workers (PM2: `exec_mode = "cluster"`, `instances`).
/// - `stop_signal = "SIGINT"`, PM2's kill signal, which the cooperative app
///   handles; `stop_timeout_secs = 2`: PM2's `kill_timeout` of 1600 ms in
///   Oxmgr's whole seconds, rounded up.
/// - An app that says when it is ready (`wait_ready`): `health_cmd` (see
///   [`health_cmd`]), `wait_ready = true`, and `ready_timeout_secs = 3`,
///   PM2's `listen_timeout`: Oxmgr starts a process, and on a reload its
///   replacement, then waits for the command to succeed before it goes on
///   (on a reload, before it stops the old one).
/// - `env`, `cwd`, `max_memory_mb`, a watch (PM2's default ignores written
///   as Oxmgr's `ignore_watch` regexes), an out file: as PM2's.
///
/// The rest is Oxmgr's defaults.
pub fn oxfile(app: &App) -> String {
    let mut lines = vec![
        "version = 1".to_owned(),
        String::new(),
        "[[apps]]".to_owned(),
        format!("name = {}", toml_string(app.name)),
        format!(
            "command = {}",
            toml_string(&format!(
                "node {}",
                quoted(&app.script_path().display().to_string())
            ))
        ),
        "cluster_mode = true".to_owned(),
        format!("cluster_instances = {}", app.instances),
        "stop_signal = \"SIGINT\"".to_owned(),
        format!(
            "stop_timeout_secs = {}",
            app.kill_timeout_ms.div_ceil(1000).max(1)
        ),
    ];
    if app.wait_ready {
        lines.push(format!("health_cmd = {}", toml_string(&health_cmd(app))));
        lines.push("wait_ready = true".to_owned());
        lines.push(format!(
            "ready_timeout_secs = {}",
            app.listen_timeout_ms.div_ceil(1000).max(1)
        ));
    }
    if let Some(mb) = app.max_memory_mb {
        lines.push(format!("max_memory_mb = {mb}"));
    }
    if let Some(cwd) = &app.cwd {
        lines.push(format!("cwd = {}", toml_string(&cwd.display().to_string())));
    }
    if let Some(default_ignore) = app.watch {
        lines.push("watch = true".to_owned());
        if default_ignore {
            // PM2's defaults: node_modules, and names that start with a dot.
            let ignored = [r"(^|/)node_modules(/|$)", r"(^|/)\."];
            let ignored: Vec<String> = ignored.iter().map(|re| toml_string(re)).collect();
            lines.push(format!("ignore_watch = [{}]", ignored.join(", ")));
        }
    }
    lines.push(String::new());
    lines.push("[apps.env]".to_owned());
    for (key, value) in app.env() {
        lines.push(format!("{key} = {}", toml_string(&value)));
    }
    if let Logging::RotatedFile { path, .. } = &app.logging {
        // Both workers' stdout into one file, as PM2's merged `out_file`;
        // Oxmgr does not rotate it while the app runs (`rotate_logs`).
        lines.push(String::new());
        lines.push("[apps.logs]".to_owned());
        lines.push(format!(
            "stdout = {}",
            toml_string(&path.display().to_string())
        ));
    }
    lines.join("\n") + "\n"
}

pub struct Oxmgr {
    host: Box<dyn Host>,
    work_dir: PathBuf,
}

impl Oxmgr {
    /// Puts the binary built by [`install`] in the box.
    pub fn new(host: Box<dyn Host>, work_dir: PathBuf, binary: &Path) -> Result<Oxmgr> {
        host.install(binary, Path::new(INSIDE))
            .with_context(|| format!("copying {} into Oxmgr's box", binary.display()))?;
        let oxmgr = Oxmgr { host, work_dir };
        oxmgr.oxmgr("--version")?;
        Ok(oxmgr)
    }

    /// Oxmgr's version and commit, for the results.
    pub fn description(version: &str) -> String {
        format!("{version}, commit {COMMIT}")
    }

    fn home(&self) -> PathBuf {
        self.work_dir.join("oxmgr-home")
    }

    /// Runs `oxmgr ARGS` in the box. The command that finds no daemon
    /// running starts one, which stays in its scope.
    fn oxmgr(&self, args: &str) -> Result<String> {
        self.host.ok(&format!(
            "OXMGR_HOME={} {}",
            self.home().display(),
            in_scope("system.slice", &format!("{INSIDE} {args}"))
        ))
    }

    /// Every process Oxmgr manages (`oxmgr list --json`).
    fn list(&self) -> Result<Vec<Value>> {
        let text = self.oxmgr("list --json")?;
        let list: Value = serde_json::from_str(&text)
            .with_context(|| format!("oxmgr list --json printed {text:?}"))?;
        match list {
            Value::Array(all) => Ok(all),
            _ => bail!("oxmgr list --json is not a list: {text:?}"),
        }
    }

    /// The app's managed process: its cluster primary.
    fn process(&self, app: &App) -> Result<Value> {
        self.list()?
            .into_iter()
            .find(|p| p["name"] == app.name)
            .with_context(|| format!("Oxmgr does not list {}", app.name))
    }

    /// The app's cluster primary, as long as it runs.
    fn primary_pid(&self, app: &App) -> Result<u32> {
        let process = self.process(app)?;
        match (process["status"].as_str(), process["pid"].as_u64()) {
            (Some("running"), Some(pid)) => Ok(pid as u32),
            (status, _) => bail!(
                "Oxmgr's {} is not running (status {status:?}, pid {})",
                app.name,
                process["pid"]
            ),
        }
    }

    /// The daemon (`oxmgr daemon run`, started by the CLI), running now.
    fn daemon_pid(&self) -> Result<u32> {
        self.oxmgr("list --json")?;
        let text = self
            .host
            .ok(&format!("pgrep -x -f '{INSIDE} daemon run'"))
            .context("finding Oxmgr's daemon in its box")?;
        match text.split_whitespace().collect::<Vec<_>>().as_slice() {
            [pid] => pid
                .parse()
                .with_context(|| format!("pgrep printed {text:?}")),
            pids => bail!("{} Oxmgr daemons run in the box: {pids:?}", pids.len()),
        }
    }

    /// The processes the primary forked: the workers.
    fn children(&self, pid: u32) -> Result<Vec<u32>> {
        let text = self
            .host
            .ok(&format!("cat /proc/{pid}/task/*/children"))
            .with_context(|| format!("the workers of Oxmgr's cluster primary {pid}"))?;
        text.split_whitespace()
            .map(|child| {
                child
                    .parse()
                    .with_context(|| format!("/proc/{pid}/task/*/children: {text:?}"))
            })
            .collect()
    }

    /// Waits until the app's primary runs with every worker forked, and the
    /// port answers.
    fn wait_running(&self, app: &App, what: &str) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let forked = match self.primary_pid(app) {
                Ok(pid) => self.children(pid)?.len(),
                Err(_) => 0,
            };
            if forked == app.instances as usize {
                break;
            }
            if Instant::now() > deadline {
                bail!(
                    "after {what}, Oxmgr's {} did not run its {} workers within 30 s ({forked} forked)",
                    app.name,
                    app.instances
                );
            }
            sleep(Duration::from_millis(50));
        }
        wait_serving(self.host(), app, Duration::from_secs(30))
    }

    /// Stops the daemon, and starts a fresh one.
    fn restart_daemon(&self) -> Result<()> {
        self.stop_daemon()?;
        self.daemon_pid().map(drop)
    }

    /// Stops the daemon, and waits until it is gone.
    fn stop_daemon(&self) -> Result<()> {
        let pid = self.daemon_pid()?;
        self.oxmgr("daemon stop")?;
        self.host
            .ok(&format!(
                "for i in $(seq 200); do test -d /proc/{pid} || exit 0; sleep 0.05; done; exit 1"
            ))
            .with_context(|| format!("Oxmgr's daemon ({pid}) did not stop within 10 s"))
            .map(drop)
    }
}

impl Supervisor for Oxmgr {
    fn name(&self) -> &'static str {
        "Oxmgr"
    }

    fn host(&self) -> &dyn Host {
        self.host.as_ref()
    }

    fn work_dir(&self) -> &Path {
        &self.work_dir
    }

    /// `oxmgr apply APP.oxfile.toml`, then every worker forked and the port
    /// answering.
    fn start(&mut self, app: &App) -> Result<()> {
        let file = self
            .work_dir
            .join(format!("oxmgr/{}.oxfile.toml", app.name));
        self.host.write(&file, &oxfile(app))?;
        self.oxmgr(&format!("apply {}", file.display()))?;
        self.wait_running(app, "oxmgr apply")
    }

    /// `oxmgr reload APP`: a new primary with its workers (ready first, for
    /// an app with `wait_ready`), then the old one stopped. Done when the
    /// command has returned and the new primary serves.
    fn reload(&mut self, app: &App) -> Result<()> {
        self.oxmgr(&format!("reload {}", app.name))?;
        self.wait_running(app, "oxmgr reload")
    }

    /// `oxmgr delete APP`, then a fresh daemon, as for PM2.
    fn stop(&mut self, app: &App) -> Result<()> {
        self.oxmgr(&format!("delete {}", app.name))?;
        self.restart_daemon()
    }

    /// The daemon and the app's cluster primary; the primary's children.
    fn footprint(&self, app: &App) -> Result<Footprint> {
        let daemon = self.daemon_pid()?;
        let primary = self.primary_pid(app)?;
        let mut workers_kb = Vec::new();
        for pid in self.children(primary)? {
            workers_kb.push(rss_kb(self.host(), pid)?);
        }
        Ok(Footprint {
            supervisor_kb: rss_kb(self.host(), daemon)? + rss_kb(self.host(), primary)?,
            workers_kb,
        })
    }

    /// The primary's children: a reload replaces the primary and its workers.
    fn worker_pids(&self, app: &App) -> Result<Vec<u32>> {
        self.children(self.primary_pid(app)?)
    }

    /// Oxmgr's `restart_count` of the app: restarts of its primary. Workers
    /// the primary forks again are not counted (Oxmgr does not see them).
    fn restarts(&self, app: &App) -> Result<u64> {
        self.process(app)?["restart_count"]
            .as_u64()
            .with_context(|| format!("Oxmgr lists {} without restart_count", app.name))
    }

    /// Oxmgr rotates a log file only when it starts a process
    /// (`OXMGR_LOG_MAX_SIZE_MB`, for every app of the daemon), not while the
    /// process writes: no counterpart of pm2-logrotate or `log_rotate`.
    fn rotate_logs(&mut self, rotation: Option<Rotation>) -> Result<()> {
        match rotation {
            None => Ok(()),
            Some(rotation) => bail!(
                "Oxmgr cannot rotate an app's log at {} while the app runs: it rotates logs only when it starts a process",
                rotation.max_size
            ),
        }
    }

    /// `OXMGR_HOME/logs/APP.out.log`, which the daemon writes every line of
    /// the primary's stdout to (the workers share it), and the files it
    /// rotated when it started the app again.
    /// One oxfile with every app, `oxmgr apply`, then every primary with
    /// its workers forked and every port answering.
    fn start_all(&mut self, apps: &[App]) -> Result<()> {
        let file = self.work_dir.join("oxmgr/fleet.oxfile.toml");
        let mut text = String::from("version = 1\n");
        for app in apps {
            let one = oxfile(app);
            text.push_str(one.strip_prefix("version = 1\n").unwrap_or(&one));
        }
        self.host.write(&file, &text)?;
        self.oxmgr(&format!("apply {}", file.display()))?;
        let instances: usize = apps.iter().map(|app| app.instances as usize).sum();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let primaries: Vec<String> = self
                .list()?
                .iter()
                .filter(|p| p["status"] == "running")
                .filter_map(|p| p["pid"].as_u64().map(|pid| pid.to_string()))
                .collect();
            let forked = if primaries.len() == apps.len() {
                self.host
                    .ok(&format!(
                        "for p in {}; do cat /proc/$p/task/*/children; done",
                        primaries.join(" ")
                    ))?
                    .split_whitespace()
                    .count()
            } else {
                0
            };
            if forked == instances {
                break;
            }
            if Instant::now() > deadline {
                bail!(
                    "Oxmgr ran {} of {} primaries, {forked} of {instances} workers, within 120 s",
                    primaries.len(),
                    apps.len()
                );
            }
            sleep(Duration::from_millis(50));
        }
        wait_all_serving(self.host(), apps, Duration::from_secs(60))
    }

    fn stop_all(&mut self, apps: &[App]) -> Result<()> {
        for app in apps {
            self.oxmgr(&format!("delete {}", app.name))?;
        }
        self.restart_daemon()
    }

    fn list_command(&self) -> String {
        format!("OXMGR_HOME={} {INSIDE} list", self.home().display())
    }

    fn list_servers(&self) -> Result<Vec<u32>> {
        Ok(vec![self.daemon_pid()?])
    }

    fn supervisor_kb(&self, apps: &[App]) -> Result<u64> {
        let mut total = pss_kb(self.host(), self.daemon_pid()?)?;
        for app in apps {
            total += pss_kb(self.host(), self.primary_pid(app)?)?;
        }
        Ok(total)
    }

    /// The unit `oxmgr service install` writes (`Restart=always`,
    /// `RestartSec=2`), as a system unit with the bench's `OXMGR_HOME`: it
    /// installs it for the user's own manager, which the box's root has not.
    /// Its daemon replaces the one the bench started, then applies the app.
    fn start_in_production(&mut self, app: &App) -> Result<()> {
        self.stop_daemon()?;
        self.host.write(
            &Path::new("/etc/systemd/system").join(SERVICE_UNIT),
            &format!(
                "[Unit]\nDescription=Oxmgr daemon\nAfter=network.target\n\n\
                 [Service]\nType=simple\nEnvironment=OXMGR_HOME={}\n\
                 ExecStart={INSIDE} daemon run\nRestart=always\nRestartSec=2\n\n\
                 [Install]\nWantedBy=default.target\n",
                self.home().display()
            ),
        )?;
        self.host.ok(&format!(
            "systemctl daemon-reload && systemctl enable --now {SERVICE_UNIT}"
        ))?;
        // The CLI starts a daemon of its own unless the unit's listens.
        self.host
            .ok(&format!(
                "for i in $(seq 200); do pid=$(systemctl show -P MainPID {SERVICE_UNIT}); \
                 ss -Htlnp | grep -q \"pid=$pid,\" && exit 0; sleep 0.05; done; exit 1"
            ))
            .context("Oxmgr's daemon did not listen within 10 s of its unit's start")?;
        self.start(app)
    }

    fn supervisor_pid(&self, _: &App) -> Result<u32> {
        self.daemon_pid()
    }

    /// `oxmgr delete APP`, the unit stopped and taken away, and a fresh
    /// daemon, as `stop` leaves one.
    fn stop_in_production(&mut self, app: &App) -> Result<()> {
        self.oxmgr(&format!("delete {}", app.name))?;
        self.host.ok(&format!(
            "systemctl disable --now {SERVICE_UNIT} && rm /etc/systemd/system/{SERVICE_UNIT} \
             && systemctl daemon-reload && systemctl reset-failed"
        ))?;
        self.daemon_pid().map(drop)
    }

    /// Deletes what the daemon lists, so that a new daemon restores
    /// nothing; then stops the service unit if a measure left it, the daemon
    /// and every process left in its scopes, and starts a fresh daemon.
    fn clear(&mut self) -> Result<()> {
        // Best effort: the daemon may be what failed.
        for process in self.list().unwrap_or_default() {
            if let Some(name) = process["name"].as_str() {
                let _ = self.oxmgr(&format!("delete {name}"));
            }
        }
        self.host.ok(&format!(
            "systemctl disable --now {SERVICE_UNIT} 2>/dev/null; \
             rm -f /etc/systemd/system/{SERVICE_UNIT}; systemctl daemon-reload; {STOP_SCOPES}"
        ))?;
        self.daemon_pid().map(drop)
    }

    fn default_log(&self, app: &App) -> String {
        format!("cat {}/logs/{}.out.log*", self.home().display(), app.name)
    }

    /// The daemon, which scans the watched files every 2 s.
    fn watcher_pid(&self, _: &App) -> Result<Option<u32>> {
        self.daemon_pid().map(Some)
    }
}

impl Drop for Oxmgr {
    fn drop(&mut self) {
        let _ = self.oxmgr("daemon stop");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gives_a_cooperative_app_cluster_mode_and_the_readiness_gate() {
        let app = App::cooperative(2);
        let file = oxfile(&app);
        for line in [
            "name = \"cooperative\"",
            "cluster_mode = true",
            "cluster_instances = 2",
            "stop_signal = \"SIGINT\"",
            "stop_timeout_secs = 2",
            "wait_ready = true",
            "ready_timeout_secs = 3",
            "[apps.env]",
            "PORT = \"3000\"",
        ] {
            assert!(file.lines().any(|l| l == line), "{line} in\n{file}");
        }
        assert!(file.contains("command = \"node '"), "{file}");
        assert!(
            file.contains("health_cmd = \"node -e \\\"require('http')"),
            "{file}"
        );
    }

    #[test]
    fn gives_a_naive_app_no_readiness_gate() {
        let file = oxfile(&App::naive());
        assert!(!file.contains("wait_ready"), "{file}");
        assert!(!file.contains("health_cmd"), "{file}");
    }

    #[test]
    fn writes_pm2_s_default_ignores_as_regexes() {
        let app = App::hello().watching(Path::new("/srv/tree"), Some(true));
        let file = oxfile(&app);
        assert!(file.contains("watch = true"), "{file}");
        assert!(
            file.contains(r#"ignore_watch = ["(^|/)node_modules(/|$)", "(^|/)\\."]"#),
            "{file}"
        );
    }

    #[test]
    fn quotes_a_word_for_oxmgr_s_command_line() {
        assert_eq!(quoted("/a b/it's.js"), r"'/a b/it'\''s.js'");
    }
}
