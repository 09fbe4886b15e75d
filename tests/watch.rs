//! PM2's `watch` on a real systemd: a changed file reloads the app, one
//! worker at a time, with no failed request under load; a directory made
//! after the start is watched too; writes under `node_modules`, in hidden
//! directories and to the app's own log file (which it writes on every
//! request) reload nothing; `ignore_watch` replaces PM2's default; delete
//! takes the watcher with the app (docs/ecosystem.md, "Watch").

mod apply_support;
mod helper_support;

use std::time::Duration;

use apply_support::{app_pids, give_to_deploy, nodeunits_ok};
use helper_support::{assert_no_failures, one_load_at_a_time, stop_wrk, wrk};
use testhost::TestHost;

const DIR: &str = "/srv/watched";
const PORT: u16 = 3700;

/// Serves the version its file held when it started; logs every request.
const APP_JS: &str = r#"const fs = require('fs');
const version = fs.readFileSync(__dirname + '/version.txt', 'utf8').trim();
require('http').createServer((req, res) => {
  console.log(`served ${version}`);
  res.end(`${version} ${process.pid}\n`);
}).listen(process.env.PORT);
"#;

const ECOSYSTEM: &str = r#"[[apps]]
name = "watched"
script = "app.js"
instances = 2
exec_mode = "cluster"
listen = ["127.0.0.1:3700"]
out_file = "out.log"
merge_logs = true
watch = true
watch_delay = 300
"#;

fn pids(host: &TestHost) -> Vec<String> {
    app_pids(host, "watched", 2)
}

/// Waits until every worker serves `version`: 20 requests in a row, each
/// on a connection of its own, answer with it.
fn wait_version(host: &TestHost, version: &str) {
    host.wait_until(
        &format!(
            "for i in $(seq 20); do curl -fsS -H 'Connection: close' http://127.0.0.1:{PORT}/ \
             | grep -q '^{version} ' || exit 1; done"
        ),
        Duration::from_secs(30),
    );
}

/// Waits until no reload is under way: the workers' processes stay the
/// same for 2 s.
fn settle(host: &TestHost) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut before = pids(host);
    while std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_secs(2));
        let now = pids(host);
        if now == before {
            return;
        }
        before = now;
    }
    panic!("the app kept reloading: {before:?}");
}

/// Nothing reloads within 2 s: the workers' processes stay.
fn no_reload(host: &TestHost, what: &str) {
    let before = pids(host);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(pids(host), before, "{what} reloaded the app");
}

#[test]
fn a_changed_file_reloads_the_app_one_worker_at_a_time() {
    let host = TestHost::boot("watch");
    host.write(&format!("{DIR}/app.js"), APP_JS);
    host.write(&format!("{DIR}/version.txt"), "v1\n");
    host.write(&format!("{DIR}/node_modules/dep/index.js"), "1\n");
    host.write(&format!("{DIR}/.git/HEAD"), "ref\n");
    host.write(&format!("{DIR}/ecosystem.toml"), ECOSYSTEM);
    give_to_deploy(&host, DIR);
    nodeunits_ok(&host, &format!("apply {DIR}/ecosystem.toml"));
    wait_version(&host, "v1");
    assert_eq!(
        host.ok("systemctl is-active watched-watch.service").trim(),
        "active"
    );
    let journal = host.journal("watched-watch.service");
    assert!(
        journal.contains("watching 1 directory of watched"),
        "{journal}"
    );

    // Under load, the file the app reads changes: every worker is replaced,
    // one at a time, and no request fails. The app writes out.log on every
    // request, which is no change.
    {
        let _one = one_load_at_a_time();
        let before = pids(&host);
        let load = wrk(&host, &format!("http://127.0.0.1:{PORT}/"), 16);
        no_reload(&host, "the app's own log file");
        host.write(&format!("{DIR}/version.txt"), "v2\n");
        wait_version(&host, "v2");
        // The next worker is replaced once the first one's successor has
        // been up min_uptime.
        let replaced = |after: &[String]| before.iter().all(|pid| !after.contains(pid));
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let mut after = pids(&host);
        while !replaced(&after) && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(200));
            after = pids(&host);
        }
        let (report, output) = stop_wrk(&host, load);
        assert_no_failures(&report, &output, "a watched change under load");
        assert!(
            replaced(&after),
            "every worker replaced: {before:?} → {after:?}"
        );
    }
    let journal = host.journal("watched-watch.service");
    assert!(
        journal.contains(&format!(
            "{DIR}/version.txt changed: reloading watched.service"
        )),
        "{journal}"
    );

    // PM2's default ignores node_modules and hidden names.
    settle(&host);
    host.ok(&format!("echo 2 > {DIR}/node_modules/dep/index.js"));
    host.ok(&format!("echo x > {DIR}/.git/HEAD"));
    no_reload(&host, "node_modules or .git");

    // A directory made after the start is watched: a file in it reloads.
    host.ok(&format!(
        "mkdir -p {DIR}/lib/deep && chown -R deploy: {DIR}/lib"
    ));
    std::thread::sleep(Duration::from_millis(500));
    host.ok(&format!("echo v3 > {DIR}/version.txt.new"));
    host.ok(&format!(
        "echo 'module.exports = 3' > {DIR}/lib/deep/three.js"
    ));
    host.ok(&format!("mv {DIR}/version.txt.new {DIR}/version.txt"));
    wait_version(&host, "v3");

    // ignore_watch: what it matches, and everything under it, is no change.
    let ignoring = ECOSYSTEM.replace(
        "watch_delay = 300\n",
        "watch_delay = 300\nignore_watch = [\"lib\", \"*.log\"]\n",
    );
    host.write(&format!("{DIR}/ecosystem.toml"), &ignoring);
    give_to_deploy(&host, DIR);
    nodeunits_ok(&host, &format!("apply {DIR}/ecosystem.toml"));
    host.wait_until(
        "systemctl is-active -q watched-watch.service",
        Duration::from_secs(10),
    );
    // The file just written was a change too: its reload ends first.
    settle(&host);
    host.ok(&format!("echo 4 > {DIR}/lib/deep/three.js"));
    no_reload(&host, "an ignored directory");
    host.ok(&format!("echo v4 > {DIR}/version.txt"));
    wait_version(&host, "v4");

    // The watcher goes with the app.
    nodeunits_ok(&host, "delete watched");
    let state = host.sh("systemctl is-active watched-watch.service");
    assert_eq!(String::from_utf8_lossy(&state.stdout).trim(), "inactive");
    assert!(!host
        .sh("test -e /etc/systemd/system/watched-watch.service")
        .status
        .success());
}
