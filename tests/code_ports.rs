//! Cluster apps whose port only their code knows, as most real PM2 cluster
//! apps are: the port in the app's own config file, or a literal in its
//! `listen(...)`. On a real systemd every worker serves that port with no
//! restart, connections spread over the workers, rolling reloads under load
//! fail no request, and a port changed in the code is served after
//! `reload FILE` while the old one closes (docs/contract.md, "Ports in the
//! app's code").

mod apply_support;
mod helper_support;

use std::time::Duration;

use apply_support::{active_states, give_to_deploy, nodeunits_ok, property, NODEUNITS};
use helper_support::{
    assert_fair_share, assert_no_failures, one_load_at_a_time, served_by_worker, stop_wrk, wrk,
};
use testhost::TestHost;

const DIR: &str = "/srv/code-ports";

/// Its port in its own config file, as `require('./config').server.port`.
const FROM_CONFIG: &str = r#"const http = require('http');
const config = require('./config.json');
http.createServer((req, res) => {
  res.setHeader('x-worker', String(process.pid));
  res.end(`config ${process.env.NODE_APP_INSTANCE} ${process.pid}\n`);
}).listen(config.server.port, () => console.log(`listening on ${config.server.port}`));
"#;

/// A literal port and host in its listen().
const LITERAL: &str = r#"const http = require('http');
const server = http.createServer((req, res) => {
  res.setHeader('x-worker', String(process.pid));
  res.end(`literal ${process.env.NODE_APP_INSTANCE} ${process.pid}\n`);
});
server.listen(8402, '127.0.0.1');
"#;

/// A declared port, and a second one only its code knows (its metrics).
const TWO_PORTS: &str = r#"const http = require('http');
const answer = (what) => (req, res) => {
  res.setHeader('x-worker', String(process.pid));
  res.end(`${what} ${process.env.NODE_APP_INSTANCE} ${process.pid}\n`);
};
http.createServer(answer('main')).listen(process.env.PORT);
http.createServer(answer('metrics')).listen(8404);
"#;

/// A PM2 file as such apps have it: cluster mode, no port anywhere.
const ECOSYSTEM: &str = r#"module.exports = {
  apps: [
    { name: 'config-port', script: './from-config.js', instances: 2, exec_mode: 'cluster', kill_timeout: 3000 },
    { name: 'literal-port', script: './literal.js', instances: 2, exec_mode: 'cluster', kill_timeout: 3000 },
  ],
};
"#;

fn boot() -> (TestHost, String) {
    let host = TestHost::boot("code-ports");
    host.write(&format!("{DIR}/from-config.js"), FROM_CONFIG);
    host.write(
        &format!("{DIR}/config.json"),
        r#"{ "server": { "port": 8401 } }"#,
    );
    host.write(&format!("{DIR}/literal.js"), LITERAL);
    host.write(&format!("{DIR}/two-ports.js"), TWO_PORTS);
    let file = format!("{DIR}/ecosystem.config.js");
    host.write(&file, ECOSYSTEM);
    give_to_deploy(&host, DIR);
    (host, file)
}

fn units(app: &str) -> Vec<String> {
    (0..2).map(|i| format!("{app}@{i}.service")).collect()
}

#[test]
fn ports_only_the_code_knows_are_served_by_every_worker_and_reloaded_without_a_failure() {
    let (host, file) = boot();
    let check = host.ok(&format!("{NODEUNITS} check {file} 2>&1"));
    assert!(
        check.contains("config-port: serves the ports its code listens on, each shared by its 2 workers (cluster mode)"),
        "{check}"
    );
    let out = nodeunits_ok(&host, &format!("apply {file}"));
    assert!(
        out.contains("literal-port: serves the ports its code listens on"),
        "{out}"
    );
    for (app, port) in [("config-port", 8401), ("literal-port", 8402)] {
        assert_eq!(active_states(&host, &units(app)), ["active"; 2], "{app}");
        let _one = one_load_at_a_time();
        let counts = served_by_worker(&host, &format!("http://127.0.0.1:{port}/"), false);
        assert_fair_share(&counts, 2, &format!("{app}, a connection per request"));
    }
    assert!(
        !host
            .ok("systemctl list-units --all --no-legend '*.socket'")
            .contains("config-port"),
        "no socket unit: the helpers hold the port"
    );
    std::thread::sleep(Duration::from_secs(2));
    for app in ["config-port", "literal-port"] {
        assert_eq!(property(&host, "NRestarts", &units(app)), ["0"; 2], "{app}");
    }

    for (app, port) in [("config-port", 8401), ("literal-port", 8402)] {
        let _one = one_load_at_a_time();
        let load = wrk(&host, &format!("http://127.0.0.1:{port}/"), 32);
        for _ in 0..3 {
            nodeunits_ok(&host, &format!("reload {app}"));
        }
        let (report, output) = stop_wrk(&host, load);
        assert_no_failures(
            &report,
            &output,
            &format!("{app}, reloaded 3 times under load"),
        );
        assert_eq!(property(&host, "NRestarts", &units(app)), ["0"; 2], "{app}");
    }
}

#[test]
fn a_port_changed_in_the_code_is_served_after_reload_and_the_old_one_closes() {
    let (host, file) = boot();
    nodeunits_ok(&host, &format!("apply {file}"));
    let body = host.ok("curl -fsS --max-time 5 http://127.0.0.1:8401/");
    assert!(body.starts_with("config "), "{body}");

    host.write(
        &format!("{DIR}/config.json"),
        r#"{ "server": { "port": 8411 } }"#,
    );
    give_to_deploy(&host, DIR);
    nodeunits_ok(&host, &format!("reload {file}"));
    let counts = served_by_worker(&host, "http://127.0.0.1:8411/", false);
    assert_eq!(
        counts.len(),
        2,
        "both workers serve the new port: {counts:?}"
    );
    let old = host.sh("curl -sS --max-time 5 http://127.0.0.1:8401/");
    assert!(
        !old.status.success(),
        "the old port is closed once every worker moved: {}",
        String::from_utf8_lossy(&old.stdout)
    );
    assert_eq!(
        property(&host, "NRestarts", &units("config-port")),
        ["0"; 2]
    );
}

#[test]
fn a_restarted_or_crashed_worker_gets_its_sockets_back_and_no_request_fails() {
    let (host, file) = boot();
    let two = format!("{DIR}/two.config.js");
    host.write(
        &two,
        "module.exports = { apps: [{ name: 'two-ports', script: './two-ports.js', instances: 2, \
         exec_mode: 'cluster', port: 8403, kill_timeout: 3000 }] };\n",
    );
    give_to_deploy(&host, DIR);
    nodeunits_ok(&host, &format!("apply {file}"));
    nodeunits_ok(&host, &format!("apply {two}"));
    let body = host.ok("curl -fsS --max-time 5 http://127.0.0.1:8404/");
    assert!(body.starts_with("metrics "), "{body}");
    for (app, port) in [
        ("literal-port", 8402),
        ("two-ports", 8404),
        ("two-ports", 8403),
    ] {
        let _one = one_load_at_a_time();
        let url = format!("http://127.0.0.1:{port}/");
        let load = wrk(&host, &url, 32);
        host.ok(&format!("systemctl restart {app}@0.service"));
        let (report, output) = stop_wrk(&host, load);
        let what = format!("{app} port {port}: a worker restarted");
        assert_no_failures(&report, &output, &what);

        // A crash: the app of worker 1 killed, systemd restarts the worker.
        // The connections it held break with it; none is refused meanwhile.
        let load = wrk(&host, &url, 32);
        let before = property(&host, "NRestarts", &units(app))[1].clone();
        let restarts: u32 = before.parse().expect("a count");
        let main_pid = format!("$(systemctl show -P MainPID {app}@1.service)");
        host.ok(&format!("kill -9 $(ps -o pid= --ppid {main_pid})"));
        let restarted = format!(
            "test \"$(systemctl show -P NRestarts {app}@1.service)\" = {} && systemctl is-active {app}@1.service",
            restarts + 1
        );
        host.wait_until(&restarted, Duration::from_secs(20));
        std::thread::sleep(Duration::from_secs(1));
        let (report, output) = stop_wrk(&host, load);
        assert_eq!(
            (report.connect_errors, report.timeouts, report.non_2xx_3xx),
            (0, 0, 0),
            "{app} port {port}: a worker crashed:\n{output}"
        );
    }
    let journal = host.ok("journalctl -b --no-pager -u two-ports@0.service");
    assert!(
        journal.contains("port 8404: the socket kept by systemd while the worker restarted"),
        "{journal}"
    );
}
