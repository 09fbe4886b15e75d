//! PM2's cluster mode on a real systemd: the workers share the port of the
//! selected environment's PORT, an app that listens on nothing is ready,
//! in fork mode a port two workers both bind fails the apply with the fix
//! (cluster mode shares it: tests/code_ports.rs), `listen` sets PORT, and
//! missing log directories are created.

mod apply_support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use apply_support::*;
use testhost::TestHost;

const DIR: &str = "/srv/cluster";

/// The app of PM2's canonical file: listens on PORT, says 'ready', drains on SIGINT.
const SERVER_JS: &str = r#"const http = require('http');
const server = http.createServer((req, res) => res.end(`${process.pid}\n`));
server.listen(process.env.PORT, () => {
  if (process.send) process.send('ready');
  console.log(`Worker ${process.pid} listening on port ${process.env.PORT}`);
});
process.on('SIGINT', () => {
  console.log(`Worker ${process.pid} shutting down...`);
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(1), 4000);
});
"#;

/// The canonical file's app in TOML, three workers, logs under /var/log/pm2.
const CANONICAL: &str = r#"[[apps]]
name = "api"
script = "server.js"
instances = 3
exec_mode = "cluster"
max_memory_restart = "512M"
min_uptime = "10s"
max_restarts = 10
exp_backoff_restart_delay = 100
error_file = "/var/log/pm2/api-error.log"
out_file = "/var/log/pm2/api-out.log"
merge_logs = true
kill_timeout = 5000
listen_timeout = 8000
wait_ready = true

[apps.env]
NODE_ENV = "development"
PORT = 3000

[apps.env_production]
NODE_ENV = "production"
PORT = 3000
"#;

fn write_app(host: &TestHost, script: &str, code: &str, ecosystem: &str) -> String {
    host.write(&format!("{DIR}/{script}"), code);
    let file = format!("{DIR}/ecosystem.toml");
    host.write(&file, ecosystem);
    give_to_deploy(host, DIR);
    file
}

/// The PIDs that answer on `port`, from bursts of parallel connections.
fn pids_serving(host: &TestHost, port: u16, wanted: usize) -> BTreeSet<String> {
    let mut pids = BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while pids.len() < wanted && Instant::now() < deadline {
        let burst = host.ok(&format!(
            "for i in $(seq 30); do curl -fsS --max-time 5 http://127.0.0.1:{port}/ & done; wait"
        ));
        pids.extend(burst.lines().map(str::to_owned));
    }
    pids
}

#[test]
fn the_canonical_cluster_app_shares_port_3000_across_its_workers() {
    let host = TestHost::boot("cluster-canonical");
    host.ok("! test -e /var/log/pm2");
    let file = write_app(&host, "server.js", SERVER_JS, CANONICAL);
    let out = nodeunits_ok(&host, &format!("apply {file} --env production"));
    assert!(
        out.contains("api: created /var/log/pm2 for its log files (mode 0755, owner deploy)"),
        "{out}"
    );
    let units: Vec<String> = (0..3).map(|i| format!("api@{i}.service")).collect();
    assert_eq!(active_states(&host, &units), ["active"; 3]);
    assert_eq!(
        host.ok("systemctl show -P Listen api.socket").trim(),
        "[::]:3000 (Stream)"
    );

    let pids = pids_serving(&host, 3000, 3);
    let main_pids: BTreeSet<String> = property(&host, "MainPID", &units).into_iter().collect();
    assert_eq!(pids.len(), 3, "responses from every worker: {pids:?}");
    // The helper is the main process; the app serving is its child.
    for pid in &pids {
        let parent = host.ok(&format!("ps -o ppid= -p {pid}")).trim().to_owned();
        assert!(main_pids.contains(&parent), "{pid} is a worker's app");
    }

    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(property(&host, "NRestarts", &units), ["0"; 3]);
    assert_eq!(active_states(&host, &units), ["active"; 3]);
    assert_eq!(
        host.ok("stat -c '%a %U' /var/log/pm2").trim(),
        "755 deploy",
        "owned by the owner of the file, who runs the app"
    );
    let log = host.read("/var/log/pm2/api-out.log");
    assert_eq!(
        log.matches("listening on port 3000").count(),
        3,
        "the out_file holds the app's output:\n{log}"
    );
}

#[test]
fn an_app_that_listens_on_nothing_is_ready_after_a_moment_and_runs() {
    let host = TestHost::boot("cluster-queue");
    let file = write_app(
        &host,
        "queue.js",
        "let jobs = 0;\nsetInterval(() => { jobs += 1; }, 100);\n\
         console.log(`queue worker ${process.env.NODE_APP_INSTANCE} polling`);\n",
        "[[apps]]\nname = \"jobs\"\nscript = \"queue.js\"\ninstances = 2\nexec_mode = \"cluster\"\n\
         user = \"nobody\"\nout_file = \"/var/log/jobs/out.log\"\n",
    );
    let started = Instant::now();
    let out = nodeunits_ok(&host, &format!("apply {file}"));
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "ready after the settle time"
    );
    assert!(out.contains("jobs: created (2 instances)"), "{out}");
    assert!(
        out.contains("jobs: created /var/log/jobs for its log files (mode 0755, owner nobody)"),
        "{out}"
    );
    // The user's primary group, as systemd runs the workers.
    assert_eq!(
        host.ok("stat -c '%a %U:%G' /var/log/jobs").trim(),
        "755 nobody:nogroup"
    );
    // A cluster app's workers write a file each, as PM2's do unless
    // merge_logs: out-0.log, out-1.log.
    for instance in 0..2 {
        host.wait_until(
            &format!("grep -qx 'queue worker {instance} polling' /var/log/jobs/out-{instance}.log"),
            Duration::from_secs(10),
        );
    }
    host.ok("test ! -e /var/log/jobs/out.log");
    assert_eq!(unit_files(&host, "jobs"), ["jobs.service", "jobs@.service"]);
    let units = ["jobs@0.service".to_owned(), "jobs@1.service".to_owned()];
    assert_eq!(active_states(&host, &units), ["active"; 2]);
    host.ok("journalctl --sync");
    let journal = host.journal("jobs@0.service");
    assert!(
        journal.contains("has not listened on any port 1000 ms after its start"),
        "{journal}"
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(active_states(&host, &units), ["active"; 2]);
    assert_eq!(property(&host, "NRestarts", &units), ["0"; 2]);
}

#[test]
fn in_fork_mode_a_port_only_the_code_knows_fails_the_apply_with_the_fix_and_leaves_nothing() {
    let host = TestHost::boot("cluster-unknown-port");
    let file = write_app(
        &host,
        "fixed.js",
        "require('http').createServer((req, res) => res.end('fixed\\n')).listen(3300);\n",
        "[[apps]]\nname = \"fixed\"\nscript = \"fixed.js\"\ninstances = 2\nexec_mode = \"fork\"\n",
    );
    let output = nodeunits(&host, &format!("apply {file}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    // Both start at once: either may be the one that finds the port taken.
    let sentence = |loser: u32, holder: u32| {
        format!(
            "app `fixed`: fixed@{loser}.service did not start: its job failed; the unit is \
             activating (auto-restart), its last run ended with exit-code (status 78): \
             the app listens on port 3300 itself, which fixed@{holder}.service holds; \
             declare it with `port = 3300` or `listen = [3300]` so the workers share one socket\n"
        )
    };
    assert!(
        stderr.starts_with(&format!("nodeunits: {}", sentence(1, 0)))
            || stderr.starts_with(&format!("nodeunits: {}", sentence(0, 1))),
        "{stderr}"
    );
    assert!(
        stderr.contains("the previous unit files are back"),
        "{stderr}"
    );
    assert_eq!(unit_files(&host, "fixed"), Vec::<String>::new());
    std::thread::sleep(Duration::from_secs(1));
    let running = host.ok("systemctl list-units --no-legend --state=active,activating 'fixed*'");
    assert_eq!(running.trim(), "", "nothing of the app runs");
    assert_eq!(get(&host, 3300), None);
}

#[test]
fn listen_alone_sets_port_for_an_app_that_falls_back_to_3000() {
    let host = TestHost::boot("cluster-listen-port");
    let file = write_app(
        &host,
        "app.js",
        APP_JS,
        "[[apps]]\nname = \"web\"\nscript = \"app.js\"\ninstances = 2\n\
         listen = [\"127.0.0.1:3100\"]\n[apps.env]\nAPP_NAME = \"web\"\n",
    );
    nodeunits_ok(&host, &format!("apply {file}"));
    let body = get(&host, 3100).expect("web serves on 3100");
    assert!(body.starts_with("web "), "{body}");
    assert_eq!(get(&host, 3000), None, "nothing binds the fallback port");
    assert_eq!(pids_serving(&host, 3100, 2).len(), 2);
}
