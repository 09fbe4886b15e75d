//! What the apply tests share: the nodeunits binary, a test app, ecosystem
//! files, and questions asked of systemd inside a test host.

#![allow(dead_code)]

use std::process::Output;
use std::time::Duration;

use testhost::TestHost;

/// The binary under test, where the box has it: units it writes point at
/// the helper beside it, which every user of the box reaches.
pub const NODEUNITS: &str = concat!(testhost::bin_dir!(), "/nodeunits");

/// A plain Node HTTP app, as written for PM2. `APP_VERSION=broken` cannot
/// start; `broken-from-N` cannot start as instance N or above.
pub const APP_JS: &str = r#"const http = require('http');
const version = process.env.APP_VERSION || 'v1';
const brokenFrom = /^broken-from-(\d+)$/.exec(version);
if (version === 'broken' || (brokenFrom && Number(process.env.NODE_APP_INSTANCE) >= Number(brokenFrom[1]))) {
  console.error(`version ${version} cannot start`);
  process.exit(1);
}
http.createServer((req, res) => {
  res.end(`${process.env.APP_NAME} ${process.env.NODE_APP_INSTANCE} ${version} ${process.pid}\n`);
}).listen(process.env.PORT || 3000, () => {
  console.log(`instance ${process.env.NODE_APP_INSTANCE} serving ${version}`);
});
"#;

/// One `[[apps]]` entry.
#[derive(Clone)]
pub struct App {
    pub name: &'static str,
    pub instances: u32,
    pub port: u16,
    pub version: &'static str,
}

impl App {
    pub fn new(name: &'static str, instances: u32, port: u16) -> App {
        App {
            name,
            instances,
            port,
            version: "v1",
        }
    }

    pub fn version(mut self, version: &'static str) -> App {
        self.version = version;
        self
    }

    pub fn instances(mut self, instances: u32) -> App {
        self.instances = instances;
        self
    }

    /// Its instance units, `NAME@0.service` ….
    pub fn units(&self) -> Vec<String> {
        (0..self.instances)
            .map(|i| format!("{}@{i}.service", self.name))
            .collect()
    }
}

pub fn ecosystem(apps: &[App]) -> String {
    apps.iter()
        .map(|app| {
            format!(
                "[[apps]]\nname = \"{}\"\nscript = \"app.js\"\ninstances = {}\nexec_mode = \"cluster\"\n\
                 port = {}\nlisten = [\"127.0.0.1:{}\"]\nkill_timeout = 3000\nlisten_timeout = 8000\n\
                 [apps.env]\nAPP_NAME = \"{}\"\nAPP_VERSION = \"{}\"\n\n",
                app.name, app.instances, app.port, app.port, app.name, app.version
            )
        })
        .collect()
}

/// The unprivileged account the tests' apps belong to, as a deploy user's
/// do: an app without `user` runs as the owner of its ecosystem file, and
/// one in a file of root's is refused.
pub const DEPLOY: &str = "deploy";

/// Makes the account [`DEPLOY`] inside the box, home `/home/deploy`, the
/// same whatever the machine has: created when missing; one the machine
/// has (the box's accounts are the machine's) gets that home.
pub fn add_deploy(host: &TestHost) {
    host.ok(&format!(
        "id -u {DEPLOY} >/dev/null 2>&1 || useradd --create-home {DEPLOY}; \
         [ \"$(getent passwd {DEPLOY} | cut -d: -f6)\" = /home/{DEPLOY} ] || usermod --home /home/{DEPLOY} {DEPLOY}; \
         [ -d /home/{DEPLOY} ] || install -d -m 0700 -o {DEPLOY} -g \"$(id -g {DEPLOY})\" /home/{DEPLOY}"
    ));
}

/// Makes the account [`DEPLOY`] ([`add_deploy`]) and gives it `dir`.
/// Files written over later keep their owner.
pub fn give_to_deploy(host: &TestHost, dir: &str) {
    add_deploy(host);
    host.ok(&format!("chown -R {DEPLOY}: '{dir}'"));
}

/// Writes the app and `DIR/ecosystem.toml` inside, owned by [`DEPLOY`];
/// returns the file's path.
pub fn write_ecosystem(host: &TestHost, dir: &str, apps: &[App]) -> String {
    host.write(&format!("{dir}/app.js"), APP_JS);
    let file = format!("{dir}/ecosystem.toml");
    host.write(&file, ecosystem(apps));
    give_to_deploy(host, dir);
    file
}

/// `nodeunits ARGS` inside, as root.
pub fn nodeunits(host: &TestHost, args: &str) -> Output {
    host.sh(&format!("{NODEUNITS} {args}"))
}

/// Like [`nodeunits`], panicking with its output unless it succeeds; returns stdout.
pub fn nodeunits_ok(host: &TestHost, args: &str) -> String {
    succeeded(nodeunits(host, args), args)
}

/// `nodeunits ARGS` inside, as root, which must fail with exit code 1;
/// returns what it said on stderr.
pub fn nodeunits_fails(host: &TestHost, args: &str) -> String {
    let output = nodeunits(host, args);
    assert_eq!(
        output.status.code(),
        Some(1),
        "nodeunits {args}:\n{}",
        describe(&output)
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `nodeunits ARGS` as [`DEPLOY`], in their session's environment: user
/// mode, the default when not root.
pub fn as_deploy(host: &TestHost, args: &str) -> Output {
    host.sh(&format!(
        "uid=$(id -u {DEPLOY}); runuser -u {DEPLOY} -- env HOME=/home/{DEPLOY} USER={DEPLOY} \
         XDG_RUNTIME_DIR=/run/user/$uid {NODEUNITS} {args}"
    ))
}

/// Like [`as_deploy`], panicking with its output unless it succeeds; returns stdout.
pub fn as_deploy_ok(host: &TestHost, args: &str) -> String {
    succeeded(as_deploy(host, args), args)
}

/// stdout of `nodeunits ARGS`, or a panic with all it said.
fn succeeded(output: Output, args: &str) -> String {
    assert!(
        output.status.success(),
        "nodeunits {args} failed:\n{}",
        describe(&output)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `systemctl` of [`DEPLOY`]'s service manager, run as root.
pub const DEPLOY_SYSTEMCTL: &str = "systemctl --user -M deploy@";

/// Lets [`DEPLOY`] linger and waits for their service manager to run, as
/// user mode needs (without linger there is no manager to talk to).
pub fn linger_deploy(host: &TestHost) {
    host.ok(&format!("loginctl enable-linger {DEPLOY}"));
    host.wait_until(
        &format!("{DEPLOY_SYSTEMCTL} is-system-running"),
        Duration::from_secs(20),
    );
}

pub fn describe(output: &Output) -> String {
    format!(
        "{}\n--- stdout\n{}--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `systemctl show -p PROPERTY --value` of each unit.
pub fn property(host: &TestHost, property: &str, units: &[String]) -> Vec<String> {
    property_in(host, "systemctl", property, units)
}

/// [`property`] asked of the manager `systemctl` talks to (as [`DEPLOY_SYSTEMCTL`]).
pub fn property_in(
    host: &TestHost,
    systemctl: &str,
    property: &str,
    units: &[String],
) -> Vec<String> {
    units
        .iter()
        .map(|unit| {
            host.ok(&format!("{systemctl} show -p {property} --value {unit}"))
                .trim()
                .to_owned()
        })
        .collect()
}

pub fn invocation_ids(host: &TestHost, units: &[String]) -> Vec<String> {
    invocation_ids_in(host, "systemctl", units)
}

/// [`invocation_ids`] asked of the manager `systemctl` talks to.
pub fn invocation_ids_in(host: &TestHost, systemctl: &str, units: &[String]) -> Vec<String> {
    let ids = property_in(host, systemctl, "InvocationID", units);
    assert!(
        ids.iter().all(|id| id.len() == 32),
        "every unit has run: {units:?} {ids:?}"
    );
    ids
}

/// The app's process of each of the app's first `instances` workers: the
/// helper's child, which a reload or a restart replaces.
pub fn app_pids(host: &TestHost, app: &str, instances: u32) -> Vec<String> {
    let units: Vec<String> = (0..instances)
        .map(|i| format!("{app}@{i}.service"))
        .collect();
    property(host, "MainPID", &units)
        .iter()
        .map(|pid| {
            host.ok(&format!("cat /proc/{pid}/task/{pid}/children"))
                .trim()
                .to_owned()
        })
        .collect()
}

pub fn active_states(host: &TestHost, units: &[String]) -> Vec<String> {
    property(host, "ActiveState", units)
}

/// The body of `GET http://127.0.0.1:PORT/`, or None if nothing serves.
pub fn get(host: &TestHost, port: u16) -> Option<String> {
    let output = host.sh(&format!("curl -fsS --max-time 5 http://127.0.0.1:{port}/"));
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Waits until PORT serves a body containing `text`.
pub fn wait_serving(host: &TestHost, port: u16, text: &str) {
    host.wait_until(
        &format!("curl -fsS --max-time 2 http://127.0.0.1:{port}/ | grep -q '{text}'"),
        Duration::from_secs(30),
    );
}

/// The journal cursor now, to read only what happens after it.
pub fn cursor(host: &TestHost) -> String {
    let out = host.ok("journalctl -n 0 --show-cursor --no-pager");
    out.lines()
        .find_map(|l| l.strip_prefix("-- cursor: "))
        .expect("journalctl shows a cursor")
        .to_owned()
}

/// systemd's `Stopping`/`Started` lines for the app's instances since `cursor`,
/// as ("Stopping" | "Started", instance).
pub fn restarts_since(host: &TestHost, cursor: &str, app: &str) -> Vec<(String, u32)> {
    // No unit match: with one, --after-cursor skips the first matching entry
    // when the cursor's own entry does not match.
    let journal = host.ok(&format!(
        "journalctl --after-cursor='{cursor}' -o cat --no-pager"
    ));
    journal
        .lines()
        .filter_map(|line| {
            let (verb, rest) = line.split_once(' ')?;
            if verb != "Stopping" && verb != "Started" {
                return None;
            }
            Some((verb.to_owned(), instance_in(rest, app)?))
        })
        .collect()
}

/// [`restarts_since`], once the journal holds at least `expected` lines
/// (journald stores systemd's messages a moment after they happen).
pub fn restarts_seen(
    host: &TestHost,
    cursor: &str,
    app: &str,
    expected: &[(String, u32)],
) -> Vec<(String, u32)> {
    seen_within(expected.len(), || restarts_since(host, cursor, app))
}

/// [`replacements_since`], once the journal holds at least `expected` of them.
pub fn replacements_seen(
    host: &TestHost,
    cursor: &str,
    app: &str,
    expected: &[(String, u32)],
) -> Vec<(String, u32)> {
    seen_within(expected.len(), || replacements_since(host, cursor, app))
}

/// What `seen` returns once it has `count` entries, or after 10 s.
fn seen_within(count: usize, seen: impl Fn() -> Vec<(String, u32)>) -> Vec<(String, u32)> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let entries = seen();
        if entries.len() >= count || std::time::Instant::now() > deadline {
            return entries;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The helpers' replacements (a reload, successor first) of the app's
/// instances since `cursor`, as ("replacing" | "replaced", instance); in the
/// system's service manager or a user's.
pub fn replacements_since(host: &TestHost, cursor: &str, app: &str) -> Vec<(String, u32)> {
    let journal = host.ok(&format!(
        "journalctl --after-cursor='{cursor}' -o json \
         --output-fields=_SYSTEMD_UNIT,_SYSTEMD_USER_UNIT,MESSAGE --no-pager"
    ));
    journal
        .lines()
        .filter_map(|line| {
            let entry: serde_json::Value = serde_json::from_str(line).ok()?;
            let message = entry["MESSAGE"].as_str()?;
            let event = if message.starts_with("replacing the app: ") {
                "replacing"
            } else if message.starts_with("replaced: ") {
                "replaced"
            } else {
                return None;
            };
            // A user's unit runs inside user@UID.service, which is its _SYSTEMD_UNIT.
            let unit = entry["_SYSTEMD_USER_UNIT"]
                .as_str()
                .or(entry["_SYSTEMD_UNIT"].as_str())?;
            Some((event.to_owned(), instance_in(unit, app)?))
        })
        .collect()
}

/// N of the unit name `APP@N.service` that `text` starts with.
fn instance_in(text: &str, app: &str) -> Option<u32> {
    let rest = text.strip_prefix(&format!("{app}@"))?;
    rest.split_once(".service")?.0.parse().ok()
}

/// Replacing 0, replaced 0, replacing 1, replaced 1, …: one at a time.
pub fn replaced_one_at_a_time(instances: u32) -> Vec<(String, u32)> {
    (0..instances)
        .flat_map(|i| [("replacing".to_owned(), i), ("replaced".to_owned(), i)])
        .collect()
}

/// Stopping 0, Started 0, Stopping 1, Started 1, …: one at a time.
pub fn one_at_a_time(instances: u32) -> Vec<(String, u32)> {
    (0..instances)
        .flat_map(|i| [("Stopping".to_owned(), i), ("Started".to_owned(), i)])
        .collect()
}

pub const UNIT_DIR: &str = "/etc/systemd/system";

/// The app's unit files in the system unit directory.
pub fn unit_files(host: &TestHost, app: &str) -> Vec<String> {
    host.ok(&format!(
        "cd {UNIT_DIR} && ls -1 | grep -E '^{app}(@|\\.)' || true"
    ))
    .lines()
    .map(str::to_owned)
    .collect()
}

/// Boots a box, writes the apps into `/srv/shop` and applies them as root;
/// returns the box and the ecosystem file's path.
pub fn boot_applied(name: &str, apps: &[App]) -> (TestHost, String) {
    let host = TestHost::boot(name);
    let file = write_ecosystem(&host, "/srv/shop", apps);
    nodeunits_ok(&host, &format!("apply {file}"));
    (host, file)
}
