//! What the helper's integration tests share: units written by hand as
//! docs/contract.md specifies them, in the sandbox the compiler writes, apps,
//! and wrk under load.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use nodeunits::model::{ProtectHome, Sandbox, Scope};
use nodeunits::units::{installed_systemd_version, render};
use testhost::wrk::{self, Report};
use testhost::TestHost;

/// The helper, where the box has it (every user reaches it there).
pub const HELPER: &str = concat!(testhost::bin_dir!(), "/nodeunits-helper");

/// One app as the compiler would emit it: `NAME.socket` when it listens,
/// the template `NAME@.service` running the helper.
pub struct App<'a> {
    pub name: &'a str,
    pub listen: &'a [&'a str],
    /// Options of the helper besides --app, --instance and --listen.
    pub helper_options: &'a str,
    /// The program and its arguments, after `--`.
    pub command: &'a str,
    /// Extra `[Service]` lines, last, so they override (Environment=, Restart=...).
    pub service: &'a str,
    pub listen_timeout_s: u32,
    pub kill_timeout_s: u32,
    /// The compiler's sandbox, writable `/srv/NAME`; on unless a test
    /// is about something the sandbox forbids.
    pub sandbox: bool,
}

/// The sandbox directives of a worker in `/srv/NAME`, as the compiler
/// writes them for the installed systemd.
fn sandbox(name: &str) -> String {
    let sandbox = Sandbox {
        read_write_paths: vec![PathBuf::from(format!("/srv/{name}"))],
        protect_home: ProtectHome::Hidden,
        private_tmp: true,
        systemd: nodeunits::units::sandbox::level(installed_systemd_version()),
    };
    render::sandbox_directives(&sandbox, Scope::System).expect("a plain path")
}

impl App<'_> {
    pub fn socket_unit(&self) -> String {
        let streams: String = self
            .listen
            .iter()
            .map(|a| format!("ListenStream={a}\n"))
            .collect();
        format!(
            "[Unit]\nDescription={name}: listening sockets (nodeunits)\n\
             [Socket]\n{streams}FileDescriptorName={name}\n",
            name = self.name
        )
    }

    pub fn worker_unit(&self) -> String {
        let name = self.name;
        let sockets = if self.listen.is_empty() {
            String::new()
        } else {
            format!("Requires={name}.socket\n")
        };
        let sockets_service = if self.listen.is_empty() {
            String::new()
        } else {
            format!("Sockets={name}.socket\n")
        };
        let listen: String = self
            .listen
            .iter()
            .map(|a| format!(" --listen {a}"))
            .collect();
        format!(
            "[Unit]\nDescription={name} worker %i (nodeunits)\n{sockets}After={name}.socket network.target\nStartLimitIntervalSec=0\n\
             [Service]\nType=notify\nNotifyAccess=all\n{sockets_service}\
             ExecStart={HELPER} --app {name} --instance %i{listen} --kill-timeout {kill_ms} {options} -- {command}\n\
             WorkingDirectory=/srv/{name}\nEnvironment=\"NODE_APP_INSTANCE=%i\"\n\
             KillMode=mixed\nKillSignal=SIGINT\nTimeoutStopSec={kill}\nTimeoutStartSec={listen_timeout}\n\
             Restart=always\nRestartForceExitStatus=75\nRestartSec=100ms\nSyslogIdentifier={name}\n\
             RuntimeDirectory=nodeunits/{name}\nRuntimeDirectoryPreserve=yes\n{sandbox}{service}",
            kill_ms = self.kill_timeout_s * 1000,
            kill = self.kill_timeout_s,
            listen_timeout = self.listen_timeout_s,
            options = self.helper_options,
            command = self.command,
            sandbox = if self.sandbox { sandbox(name) } else { String::new() },
            service = self.service,
        )
    }

    /// The app as one thing; the socket's trigger (`Accept=no`).
    pub fn app_unit(&self) -> String {
        format!(
            "[Unit]\nDescription={name} (nodeunits app)\n[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n",
            name = self.name
        )
    }

    /// Writes the units and reloads systemd; starts nothing.
    pub fn install(&self, host: &TestHost) {
        host.write(
            &format!("/etc/systemd/system/{}.service", self.name),
            self.app_unit(),
        );
        if !self.listen.is_empty() {
            host.write(
                &format!("/etc/systemd/system/{}.socket", self.name),
                self.socket_unit(),
            );
        }
        host.write(
            &format!("/etc/systemd/system/{}@.service", self.name),
            self.worker_unit(),
        );
        host.ok("systemctl daemon-reload");
    }

    /// Installs the units and starts instances 0..n, each waited for.
    pub fn start(&self, host: &TestHost, instances: u32) {
        self.install(host);
        for i in 0..instances {
            host.ok(&format!("systemctl start {}@{i}.service", self.name));
        }
    }
}

/// The default shape: Node, listening on one port.
pub fn node_app<'a>(
    name: &'a str,
    listen: &'a [&'a str],
    helper_options: &'a str,
    command: &'a str,
) -> App<'a> {
    App {
        name,
        listen,
        helper_options,
        command,
        service: "",
        listen_timeout_s: 10,
        kill_timeout_s: 10,
        sandbox: true,
    }
}

/// The unit's journal, once journald has stored every line sent so far
/// (the helper's lines travel asynchronously).
pub fn synced_journal(host: &TestHost, unit: &str) -> String {
    host.ok("journalctl --sync");
    host.journal(unit)
}

pub fn active_state(host: &TestHost, unit: &str) -> String {
    host.sh(&format!("systemctl show -P ActiveState {unit}"))
        .stdout
        .iter()
        .map(|&b| b as char)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// wrk with keep-alive connections against 127.0.0.1 inside the box, until
/// `stop_wrk` (wrk prints its summary on SIGINT).
pub fn wrk(host: &TestHost, url: &str, connections: u32) -> Child {
    let child = host.spawn(&format!(
        "wrk -t2 -c{connections} -d600s --timeout 5s {url} & echo $! >/run/wrk.pid; wait"
    ));
    host.wait_until("test -s /run/wrk.pid", Duration::from_secs(10));
    sleep_ms(1000);
    child
}

/// Stops wrk and returns its report and output.
pub fn stop_wrk(host: &TestHost, load: Child) -> (Report, String) {
    host.ok("kill -INT $(cat /run/wrk.pid) && rm /run/wrk.pid");
    finish_wrk(load)
}

/// Asserts wrk saw requests served and none failed.
pub fn assert_no_failures(report: &Report, output: &str, what: &str) {
    assert!(
        report.requests > 1000,
        "{what}: too few requests to mean anything:\n{output}"
    );
    assert_eq!(
        (report.socket_errors, report.non_2xx_3xx),
        (0, 0),
        "{what}: failed requests (socket errors, non-2xx/3xx responses):\n{output}"
    );
}

/// Waits for wrk and returns its report, with its output for messages.
pub fn finish_wrk(load: Child) -> (Report, String) {
    let output = load.wait_with_output().expect("wait for wrk");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let report = wrk::parse(&text).unwrap_or_else(|error| panic!("{error:#}"));
    (report, text)
}

/// Answers `INSTANCE PID` and names its worker in an `x-worker` header, as
/// the benchmark's hello-world does.
pub const WORKER_APP: &str = r#"require('http').createServer((req, res) => {
  res.writeHead(200, { 'x-worker': String(process.pid) });
  res.end(`${process.env.NODE_APP_INSTANCE} ${process.pid}\n`);
}).listen(process.env.PORT);
"#;

/// The benchmark's wrk script: responses counted per `x-worker` header.
const WORKER_COUNTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/wrk/worker-counts.lua");

/// Requests served by each worker (its `x-worker` header) under 32
/// connections for 3 s, keep-alive or one connection per request.
pub fn served_by_worker(host: &TestHost, url: &str, keep_alive: bool) -> BTreeMap<String, u64> {
    let close = if keep_alive {
        ""
    } else {
        " -H 'Connection: close'"
    };
    let output = host.ok(&format!(
        "wrk -t2 -c32 -d3s{close} -s {WORKER_COUNTS} {url}"
    ));
    output
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            (words.next() == Some("worker")).then_some(())?;
            let (worker, count) = (words.next()?, words.next()?.parse().ok()?);
            Some((worker.to_owned(), count))
        })
        .collect()
}

/// Asserts `workers` workers each served a fair part: the busiest at most
/// 75 % with 2 (a generous bound; the tight figures are the benchmark's).
pub fn assert_fair_share(counts: &BTreeMap<String, u64>, workers: usize, what: &str) {
    assert_eq!(
        counts.len(),
        workers,
        "{what}: every worker answers: {counts:?}"
    );
    assert!(!counts.contains_key("none"), "{what}: {counts:?}");
    let total: u64 = counts.values().sum();
    let busiest = counts.values().max().copied().unwrap_or(0);
    assert!(
        busiest * 100 <= total * 75,
        "{what}: the busiest worker served {busiest} of {total} requests: {counts:?}"
    );
}

/// The instance each of 8 loopback source addresses (127.0.0.2–9) reached
/// on PORT, asking 10 times from each; the answer's first word is the
/// instance. Fails if one address reached two instances.
pub fn instances_by_source(host: &TestHost, port: u16) -> BTreeMap<u8, String> {
    let mut by_source = BTreeMap::new();
    for last in 2..=9u8 {
        let answers: BTreeSet<String> = (0..10)
            .map(|_| {
                let body = host.ok(&format!(
                    "curl -fsS --max-time 5 --interface 127.0.0.{last} http://127.0.0.1:{port}/"
                ));
                body.split_whitespace()
                    .next()
                    .expect("an instance")
                    .to_owned()
            })
            .collect();
        assert_eq!(answers.len(), 1, "127.0.0.{last} reached {answers:?}");
        by_source.insert(last, answers.into_iter().next().expect("one"));
    }
    by_source
}

/// Restarts every instance one at a time, `rounds` times, each restart
/// waited for (`systemctl restart` returns once the worker is ready again).
pub fn rolling_restarts(host: &TestHost, app: &str, instances: u32, rounds: u32) {
    for _ in 0..rounds {
        for i in 0..instances {
            host.ok(&format!("systemctl restart {app}@{i}.service"));
            assert_eq!(active_state(host, &format!("{app}@{i}.service")), "active");
        }
    }
}

/// Held by a test whose load measures how workers share it: the tests of
/// one file run at once, and two loads share the 2 cores, where a worker
/// starved of CPU by the other test's load serves too small a part.
pub fn one_load_at_a_time() -> MutexGuard<'static, ()> {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub fn sleep_ms(ms: u64) {
    std::thread::sleep(Duration::from_millis(ms));
}

/// The frameworks ([`node_modules`]) copied into the box as `DIR/node_modules`,
/// readable by every user: the target directory, where npm put them, may
/// lie where an app's user or its sandbox cannot reach (a home directory,
/// `/tmp`). Returns the copy's path.
pub fn node_modules_in(host: &TestHost, dir: &str) -> String {
    let copy = format!("{dir}/node_modules");
    host.ok(&format!(
        "mkdir -p '{dir}' && cp -R '{}' '{copy}' && chmod -R a+rX '{copy}'",
        node_modules().display()
    ));
    copy
}

/// Installs the frameworks from npm on the machine, once, into the target
/// directory, which the box sees at the same path.
pub fn node_modules() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("helper-serving");
    let modules = dir.join("node_modules");
    if ["express", "fastify", "koa", "socket.io", "socket.io-client"]
        .iter()
        .all(|m| modules.join(m).join("package.json").exists())
    {
        return modules;
    }
    std::fs::create_dir_all(&dir).unwrap();
    let output = Command::new("npm")
        .args([
            "install",
            "--no-audit",
            "--no-fund",
            "--no-save",
            "--prefix",
        ])
        .arg(&dir)
        .args([
            "express@4",
            "fastify@5",
            "koa@2",
            "socket.io@4",
            "socket.io-client@4",
        ])
        .output()
        .expect("npm is needed to install express, fastify, koa and socket.io for this test");
    assert!(
        output.status.success(),
        "npm install failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    modules
}
