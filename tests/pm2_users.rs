//! A PM2 user's own deployment, unchanged: the ecosystem.config.js of the
//! reference article ("Node.js PM2 in Production"), its server.js (sends
//! `ready`, handles SIGINT) and a queue worker beside it, applied with
//! `--env production`, then deployed with the article's
//! `nodeunits reload ecosystem.config.js --env production` under load. The
//! same deployment written as process.json and as ecosystem.yaml.

mod apply_support;
mod helper_support;

use std::collections::BTreeSet;
use std::time::Duration;

use apply_support::{describe, give_to_deploy, nodeunits, nodeunits_ok, property};
use helper_support::{assert_no_failures, stop_wrk, wrk};
use testhost::TestHost;

/// The article's file, word for word but for the comments.
const ECOSYSTEM_CONFIG_JS: &str = r#"module.exports = {
  apps: [
    {
      name: 'api-server',
      script: './dist/server.js',
      instances: 'max',
      exec_mode: 'cluster',
      env: {
        NODE_ENV: 'development',
        PORT: 3000,
      },
      env_production: {
        NODE_ENV: 'production',
        PORT: 3000,
      },
      max_memory_restart: '512M',
      min_uptime: '10s',
      max_restarts: 10,
      restart_delay: 1000,
      exp_backoff_restart_delay: 100,
      log_date_format: 'YYYY-MM-DD HH:mm:ss Z',
      error_file: '/var/log/pm2/api-error.log',
      out_file: '/var/log/pm2/api-out.log',
      merge_logs: true,
      watch: false,
      kill_timeout: 5000,
      listen_timeout: 8000,
      wait_ready: true,
    },
    {
      name: 'job-worker',
      script: './dist/worker.js',
      exec_mode: 'fork',
      instances: 2,
    }
  ]
};
"#;

/// The same two apps as process.json.
const PROCESS_JSON: &str = r#"{
  "apps": [
    {
      "name": "api-server",
      "script": "./dist/server.js",
      "instances": "max",
      "exec_mode": "cluster",
      "env": { "NODE_ENV": "development", "PORT": 3000 },
      "env_production": { "NODE_ENV": "production", "PORT": 3000 },
      "max_memory_restart": "512M",
      "min_uptime": "10s",
      "max_restarts": 10,
      "restart_delay": 1000,
      "exp_backoff_restart_delay": 100,
      "error_file": "/var/log/pm2/api-error.log",
      "out_file": "/var/log/pm2/api-out.log",
      "merge_logs": true,
      "kill_timeout": 5000,
      "listen_timeout": 8000,
      "wait_ready": true
    },
    { "name": "job-worker", "script": "./dist/worker.js", "exec_mode": "fork", "instances": 2 }
  ]
}
"#;

/// And as ecosystem.yaml.
const ECOSYSTEM_YAML: &str = "\
apps:
  - name: api-server
    script: ./dist/server.js
    instances: max
    exec_mode: cluster
    env:
      NODE_ENV: development
      PORT: 3000
    env_production:
      NODE_ENV: production
      PORT: 3000
    max_memory_restart: 512M
    min_uptime: 10s
    max_restarts: 10
    restart_delay: 1000
    exp_backoff_restart_delay: 100
    error_file: /var/log/pm2/api-error.log
    out_file: /var/log/pm2/api-out.log
    merge_logs: true
    kill_timeout: 5000
    listen_timeout: 8000
    wait_ready: true
  - name: job-worker
    script: ./dist/worker.js
    exec_mode: fork
    instances: 2
";

/// The article's server.js, with a handler that says which code answers.
fn server_js(version: &str) -> String {
    format!(
        r#"const http = require('http');

const app = (req, res) => res.end(`{version} ${{process.env.NODE_ENV}} ${{process.pid}}\n`);
const server = http.createServer(app);

server.listen(process.env.PORT, () => {{
  // Signal PM2 that we're ready to receive traffic
  if (process.send) {{
    process.send('ready');
  }}
  console.log(`Worker ${{process.pid}} listening on port ${{process.env.PORT}}`);
}});

// Graceful shutdown on SIGINT (PM2 reload signal)
process.on('SIGINT', () => {{
  console.log(`Worker ${{process.pid}} shutting down...`);

  server.close(() => {{
    console.log(`Worker ${{process.pid}} closed. Exiting.`);
    process.exit(0);
  }});

  // Force exit after kill_timeout if server.close() hangs
  setTimeout(() => {{
    console.error('Forced shutdown after timeout');
    process.exit(1);
  }}, 4000); // less than kill_timeout in ecosystem.config.js
}});
"#
    )
}

/// A queue worker: no port, works until told to stop.
const WORKER_JS: &str = "\
let jobs = 0;
const timer = setInterval(() => { jobs += 1; }, 100);
console.log(`worker ${process.env.NODE_APP_INSTANCE} polling the queue`);
process.on('SIGINT', () => { clearInterval(timer); console.log(`worker done after ${jobs} jobs`); });
";

const DIR: &str = "/srv/api";

fn deploy(name: &str, file: &str, text: &str) -> TestHost {
    let host = TestHost::boot(name);
    host.write(&format!("{DIR}/{file}"), text);
    host.write(&format!("{DIR}/dist/server.js"), server_js("v1"));
    host.write(&format!("{DIR}/dist/worker.js"), WORKER_JS);
    give_to_deploy(&host, DIR);
    host
}

/// The PIDs answering GET / on port 3000, one new connection per request.
fn serving_pids(host: &TestHost, requests: u32) -> BTreeSet<String> {
    let out = host.ok(&format!(
        "for i in $(seq {requests}); do curl -fsS --max-time 5 -H 'Connection: close' http://127.0.0.1:3000/; done"
    ));
    out.lines()
        .map(|line| line.rsplit(' ').next().unwrap_or_default().to_owned())
        .collect()
}

fn instances(host: &TestHost, app: &str) -> Vec<String> {
    let wants = host.ok(&format!("systemctl show -P Wants {app}.service"));
    let mut units: Vec<String> = wants.split_whitespace().map(str::to_owned).collect();
    units.sort();
    units
}

/// Applied with `--env production`: every worker of the cluster app serves,
/// none restarts, the queue workers run, the log files appear.
fn check_running(host: &TestHost, file: &str) {
    let output = nodeunits(host, &format!("apply {DIR}/{file} --env production"));
    assert!(output.status.success(), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("exp_backoff_restart_delay"),
        "both restart delays warn, they do not fail: {stderr}"
    );
    let workers = instances(host, "api-server");
    assert!(workers.len() >= 2, "instances = 'max': {workers:?}");
    let pids = serving_pids(host, 60);
    assert_eq!(
        pids.len(),
        workers.len(),
        "every worker serves through the shared port: {pids:?}"
    );
    std::thread::sleep(Duration::from_secs(5));
    let restarts = property(host, "NRestarts", &workers);
    assert!(
        restarts.iter().all(|n| n == "0"),
        "no worker restarted: {restarts:?}"
    );
    let queue = instances(host, "job-worker");
    assert_eq!(queue.len(), 2);
    assert_eq!(property(host, "ActiveState", &queue), ["active", "active"]);
    assert_eq!(property(host, "NRestarts", &queue), ["0", "0"]);
    // The log writer appends the app's lines as journald takes them in.
    host.wait_until(
        "grep -q 'listening on port 3000' /var/log/pm2/api-out.log",
        std::time::Duration::from_secs(10),
    );
    assert!(host
        .ok("test -f /var/log/pm2/api-error.log && echo yes")
        .contains("yes"));
    let body = host.ok("curl -fsS http://127.0.0.1:3000/");
    assert!(body.starts_with("v1 production "), "{body}");
}

#[test]
fn the_articles_ecosystem_config_js_runs_and_deploys_with_reload() {
    let host = deploy("pm2-users-js", "ecosystem.config.js", ECOSYSTEM_CONFIG_JS);
    check_running(&host, "ecosystem.config.js");

    // The article's deploy: new code on disk, then one command, under load.
    host.write(&format!("{DIR}/dist/server.js"), server_js("v2"));
    let load = wrk(&host, "http://127.0.0.1:3000/", 32);
    nodeunits_ok(
        &host,
        &format!("reload {DIR}/ecosystem.config.js --env production"),
    );
    let (report, output) = stop_wrk(&host, load);
    assert_no_failures(&report, &output, "reload ecosystem.config.js under load");
    for _ in 0..20 {
        let body = host.ok("curl -fsS -H 'Connection: close' http://127.0.0.1:3000/");
        assert!(
            body.starts_with("v2 production "),
            "new code answers: {body}"
        );
    }
}

#[test]
fn the_same_deployment_as_process_json_runs() {
    let host = deploy("pm2-users-json", "process.json", PROCESS_JSON);
    check_running(&host, "process.json");
}

#[test]
fn the_same_deployment_as_ecosystem_yaml_runs() {
    let host = deploy("pm2-users-yaml", "ecosystem.yaml", ECOSYSTEM_YAML);
    check_running(&host, "ecosystem.yaml");
}

/// A mistake in any format: an error at its place, exit 1, nothing installed.
#[test]
fn bad_files_in_every_format_install_nothing() {
    let host = TestHost::boot("pm2-users-bad");
    host.write(&format!("{DIR}/dist/server.js"), server_js("v1"));
    let cases = [
        (
            "ecosystem.yaml",
            "apps:\n  - name: api-server\n    script: ./dist/server.js\n    instances: lots\n",
            "ecosystem.yaml:4:16",
        ),
        (
            "process.json",
            "{ \"apps\": [ { \"name\": \"api-server\", \"script\": \"./dist/server.js\", \"kill_timeout\": \"soon\" } ] }",
            "process.json:1:",
        ),
        (
            "ecosystem.config.js",
            "module.exports = { apps: [ { name: 'api-server', script: './dist/server.js', port: 70000 } ] };",
            "ecosystem.config.js: apps[0].port",
        ),
        (
            "broken.config.js",
            "module.exports = { apps: [ { name: 'api-server',, } ] };",
            "broken.config.js",
        ),
    ];
    for (file, text, place) in cases {
        host.write(&format!("{DIR}/{file}"), text);
        give_to_deploy(&host, DIR);
        let output = nodeunits(&host, &format!("apply {DIR}/{file}"));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{file}: {}",
            describe(&output)
        );
        assert!(
            stderr.contains(place),
            "{file}: the error's place: {stderr}"
        );
        assert_eq!(
            host.ok("ls /etc/systemd/system | grep -c api-server || true")
                .trim(),
            "0",
            "{file}: nothing installed"
        );
    }
}
