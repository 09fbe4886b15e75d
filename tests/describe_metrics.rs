//! `nodeunits describe` after a memory restart, `nodeunits metrics` read by
//! a real Prometheus parser (prometheus_client, from PyPI), the figures
//! each worker's Node process publishes moving under load, and the
//! socket-activated endpoint scraped with curl, on real systemd.

mod apply_support;
mod helper_support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use apply_support::{boot_applied, give_to_deploy, nodeunits, nodeunits_ok, App};
use helper_support::{one_load_at_a_time, stop_wrk, wrk};
use serde_json::Value;
use testhost::TestHost;

/// Instance 0 leaks once, fast, until the helper restarts it for memory;
/// its replacement (and instance 1) does not.
const LEAKY: &str = r#"const fs = require('fs');
const http = require('http');
const leak = [];
if (process.env.NODE_APP_INSTANCE === '0' && !fs.existsSync('/srv/leaky/leaked')) {
  fs.writeFileSync('/srv/leaky/leaked', '');
  setInterval(() => leak.push(Buffer.alloc(512 * 1024, 1)), 20);
}
http.createServer((req, res) => res.end('ok\n')).listen(process.env.PORT);
"#;

const LEAKY_ECOSYSTEM: &str = r#"[[apps]]
name = "leaky"
script = "app.js"
instances = 2
listen = ["127.0.0.1:8300"]
max_memory_restart = "80M"
kill_timeout = 2000

[apps.env]
SECRET = "development-secret"

[apps.env_production]
SECRET = "production-secret"
"#;

/// The python that has prometheus_client: `$NODEUNITS_PROMETHEUS_PYTHON`,
/// else the virtual environment `.ci/run` creates in `target/ci-venv`.
fn prometheus_python() -> PathBuf {
    let python = std::env::var_os("NODEUNITS_PROMETHEUS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/ci-venv/bin/python3")
        });
    let found = Command::new(&python)
        .args(["-c", "import prometheus_client"])
        .output();
    assert!(
        found.is_ok_and(|o| o.status.success()),
        "{} with prometheus_client is needed to parse the metrics: run .ci/run, or \
         `python3 -m venv target/ci-venv && target/ci-venv/bin/pip install prometheus_client`, \
         or set NODEUNITS_PROMETHEUS_PYTHON to a python that has it",
        python.display()
    );
    python
}

const PARSE: &str = "
import json, sys
from prometheus_client.parser import text_string_to_metric_families
print(json.dumps({f.name: {'type': f.type, 'samples': [[s.name, s.labels, s.value] for s in f.samples]}
                  for f in text_string_to_metric_families(sys.stdin.read())}))
";

/// The families prometheus_client reads in `text`: name → (type, samples).
fn parse_metrics(text: &str) -> BTreeMap<String, Value> {
    let mut child = Command::new(prometheus_python())
        .args(["-c", PARSE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running python");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "prometheus_client rejects the metrics: {}\n{text}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The value of the family's sample with these labels.
fn value(families: &BTreeMap<String, Value>, family: &str, labels: &[(&str, &str)]) -> f64 {
    named(families, family, family, labels)
}

/// The value of the family's sample named `name` (a histogram's
/// `_bucket`, `_count`…) with these labels.
fn named(
    families: &BTreeMap<String, Value>,
    family: &str,
    name: &str,
    labels: &[(&str, &str)],
) -> f64 {
    let parsed = families
        .get(family)
        .unwrap_or_else(|| panic!("no family {family} among {:?}", families.keys()));
    parsed["samples"]
        .as_array()
        .unwrap()
        .iter()
        .find(|sample| {
            (family == name || sample[0] == name) && labels.iter().all(|(k, v)| sample[1][k] == *v)
        })
        .unwrap_or_else(|| panic!("{name} {labels:?} in {parsed:#?}"))[2]
        .as_f64()
        .unwrap()
}

#[test]
fn describe_and_metrics_after_a_memory_restart() {
    let host = TestHost::boot("describe-memory");
    host.write("/srv/leaky/app.js", LEAKY);
    host.write("/srv/leaky/ecosystem.toml", LEAKY_ECOSYSTEM);
    give_to_deploy(&host, "/srv/leaky");
    nodeunits_ok(&host, "apply /srv/leaky/ecosystem.toml --env production");
    host.wait_until(
        "test \"$(systemctl show -p NRestarts --value leaky@0.service)\" -ge 1 \
         && systemctl is-active -q leaky@0.service",
        Duration::from_secs(60),
    );
    host.ok("journalctl --sync");

    let text = nodeunits_ok(&host, "describe leaky");
    for expected in [
        "/srv/leaky/ecosystem.toml",
        "production",
        "leaky@0.service  active (running)",
        "last restart: memory: ",
        "over max_memory_restart 80.0 MB (83886080 bytes), exit status 75",
        "127.0.0.1:8300",
        "SECRET=****",
        "journalctl --unit='leaky@*.service'",
    ] {
        assert!(text.contains(expected), "{expected:?} in:\n{text}");
    }
    assert!(!text.contains("production-secret"), "{text}");
    let shown = nodeunits_ok(&host, "describe leaky --show-env");
    assert!(shown.contains("SECRET=production-secret"), "{shown}");

    let json: Value = serde_json::from_str(&nodeunits_ok(&host, "describe leaky --json")).unwrap();
    assert_eq!(json["profile"], "production");
    assert_eq!(json["source"], "/srv/leaky/ecosystem.toml");
    assert_eq!(json["environment"]["SECRET"], Value::Null);
    let instances = json["instances"].as_array().unwrap();
    assert_eq!(instances.len(), 2, "{json:#}");
    let last = &instances[0]["last_restart"];
    assert_eq!(last["reason"], "memory", "{json:#}");
    assert!(
        last["summary"]
            .as_str()
            .unwrap()
            .contains("over max_memory_restart 80.0 MB (83886080 bytes)"),
        "{json:#}"
    );
    assert_eq!(instances[1]["last_restart"], Value::Null, "{json:#}");

    let metrics = parse_metrics(&nodeunits_ok(&host, "metrics"));
    for instance in ["0", "1"] {
        let labels = [("app", "leaky"), ("worker", instance)];
        for family in [
            "nodeunits_instance_up",
            "nodeunits_instance_restarts",
            "nodeunits_instance_memory_restarts",
            "nodeunits_instance_memory_bytes",
            "nodeunits_instance_uptime_seconds",
        ] {
            value(&metrics, family, &labels);
        }
        // Only where the cpu controller is enabled (not in every box).
        if metrics["nodeunits_instance_cpu_seconds"]["samples"] != Value::Array(Vec::new()) {
            value(&metrics, "nodeunits_instance_cpu_seconds", &labels);
        }
        assert_eq!(value(&metrics, "nodeunits_instance_up", &labels), 1.0);
    }
    let zero = [("app", "leaky"), ("worker", "0")];
    assert!(value(&metrics, "nodeunits_instance_memory_restarts", &zero) >= 1.0);
    assert!(value(&metrics, "nodeunits_instance_restarts", &zero) >= 1.0);
    assert_eq!(metrics["nodeunits_instance_restarts"]["type"], "counter");
    assert_eq!(
        value(&metrics, "nodeunits_app_instances", &[("app", "leaky")]),
        2.0
    );
    // No series has a label named `instance`, which a scrape renames
    // `exported_instance`: the worker's label arrives as it is.
    for (family, parsed) in &metrics {
        for sample in parsed["samples"].as_array().unwrap() {
            assert!(sample[1].get("instance").is_none(), "{family}: {sample}");
        }
    }

    // pm2-prometheus-exporter's names and labels, for its dashboards.
    let pm2 = parse_metrics(&nodeunits_ok(&host, "metrics --pm2-names"));
    assert!(pm2.contains_key("nodeunits_instance_up"));
    for (id, instance) in [("0", "0"), ("1", "1")] {
        let labels = [("id", id), ("name", "leaky"), ("instance", instance)];
        assert_eq!(value(&pm2, "pm2_up", &labels), 1.0);
        assert_eq!(value(&pm2, "pm2_instances", &labels), 2.0);
        assert!(value(&pm2, "pm2_memory", &labels) > 1e6);
        assert!(value(&pm2, "pm2_uptime", &labels) >= 0.0);
        value(&pm2, "pm2_restarts", &labels);
        assert_eq!(pm2["pm2_up"]["type"], "gauge");
    }
    let zero = [("id", "0"), ("name", "leaky"), ("instance", "0")];
    assert!(value(&pm2, "pm2_restarts", &zero) >= 1.0);
}

/// `/slow` holds the event loop 60 ms; `/gone` answers 404.
const BUSY: &str = r#"const http = require('http');
http.createServer((req, res) => {
  if (req.url === '/slow') {
    const end = Date.now() + 60;
    while (Date.now() < end) {}
  }
  res.statusCode = req.url === '/gone' ? 404 : 200;
  res.end('ok\n');
}).listen(process.env.PORT);
"#;

const BUSY_ECOSYSTEM: &str = r#"[[apps]]
name = "busy"
script = "app.js"
instances = 2
exec_mode = "cluster"
listen = ["127.0.0.1:8320"]
"#;

/// Each worker's series of what its process measures, by worker.
fn inside(families: &BTreeMap<String, Value>, family: &str, worker: &str) -> f64 {
    value(families, family, &[("app", "busy"), ("worker", worker)])
}

#[test]
fn heap_event_loop_and_requests_of_each_worker_move_under_load() {
    let host = TestHost::boot("runtime-metrics");
    host.write("/srv/busy/app.js", BUSY);
    host.write("/srv/busy/ecosystem.toml", BUSY_ECOSYSTEM);
    give_to_deploy(&host, "/srv/busy");
    nodeunits_ok(&host, "apply /srv/busy/ecosystem.toml");
    // Each process publishes every 2 s.
    host.wait_until(
        "test -s /run/nodeunits/busy/stats.0 && test -s /run/nodeunits/busy/stats.1",
        Duration::from_secs(20),
    );
    let mode = host.ok("stat -c '%a %U' /run/nodeunits/busy/stats.0");
    assert_eq!(mode.trim(), "644 deploy", "readable by the endpoint's user");
    let idle = parse_metrics(&nodeunits_ok(&host, "metrics"));
    for worker in ["0", "1"] {
        assert!(inside(&idle, "nodeunits_nodejs_heap_used_bytes", worker) > 1e6);
        let total = inside(&idle, "nodeunits_nodejs_heap_total_bytes", worker);
        assert!(total >= inside(&idle, "nodeunits_nodejs_heap_used_bytes", worker));
        assert!(inside(&idle, "nodeunits_nodejs_active_handles", worker) >= 1.0);
        assert!(inside(&idle, "nodeunits_nodejs_report_age_seconds", worker) < 5.0);
    }
    assert_eq!(
        idle["nodeunits_http_request_duration_seconds"]["type"],
        "histogram"
    );

    let _one = one_load_at_a_time();
    let load = wrk(&host, "http://127.0.0.1:8320/", 8);
    // Requests that hold the loop, one after the other, on both workers.
    let mut slow = host.spawn(
        "for i in $(seq 80); do curl -sS -o /dev/null -H 'Connection: close' http://127.0.0.1:8320/slow; done; \
         for i in $(seq 10); do curl -sS -o /dev/null http://127.0.0.1:8320/gone; done",
    );
    // Each publication covers the 2 s before it, and on a busy machine the
    // slow requests may start late and run long: read until one worker's
    // window shows the loop held, for as long as they run.
    let longest = |m: &BTreeMap<String, Value>| {
        ["0", "1"]
            .map(|w| inside(m, "nodeunits_nodejs_eventloop_delay_max_seconds", w))
            .into_iter()
            .fold(0.0f64, f64::max)
    };
    let started = std::time::Instant::now();
    let mut busy = parse_metrics(&nodeunits_ok(&host, "metrics"));
    let mut longest_delay = longest(&busy);
    // As long as the slow requests run, and 20 s at least.
    let mut running = || matches!(slow.try_wait(), Ok(None));
    while longest_delay < 0.03 && (running() || started.elapsed() < Duration::from_secs(20)) {
        std::thread::sleep(Duration::from_millis(500));
        busy = parse_metrics(&nodeunits_ok(&host, "metrics"));
        longest_delay = longest_delay.max(longest(&busy));
    }
    let pm2 = parse_metrics(&nodeunits_ok(&host, "metrics --pm2-names"));
    let described = nodeunits_ok(&host, "describe busy");
    let _ = slow.wait();
    let (report, output) = stop_wrk(&host, load);
    assert!(report.requests > 1000, "{output}");
    std::thread::sleep(Duration::from_millis(2500));
    let after = parse_metrics(&nodeunits_ok(&host, "metrics"));

    // Each connection goes to the worker with the fewest open, so the slow
    // requests may all go to one worker.
    let mut slow_requests = 0.0;
    for worker in ["0", "1"] {
        let labels = [("app", "busy"), ("worker", worker), ("code", "2xx")];
        let served = value(&after, "nodeunits_http_requests", &labels);
        assert!(served > 200.0, "worker {worker} served {served}");
        // The histogram counts every request, and the slow ones past 50 ms.
        let histogram = "nodeunits_http_request_duration_seconds";
        let labels = [("app", "busy"), ("worker", worker)];
        let count = named(&after, histogram, &format!("{histogram}_count"), &labels);
        let requests: f64 = after["nodeunits_http_requests"]["samples"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s[1]["worker"] == worker)
            .map(|s| s[2].as_f64().unwrap())
            .sum();
        assert_eq!(count, requests);
        let labels = [("app", "busy"), ("worker", worker), ("le", "0.05")];
        let fast = named(&after, histogram, &format!("{histogram}_bucket"), &labels);
        slow_requests += count - fast;
        // Every worker publishes its loop's delay.
        inside(
            &busy,
            "nodeunits_nodejs_eventloop_delay_p99_seconds",
            worker,
        );
        let heap =
            |m: &BTreeMap<String, Value>| inside(m, "nodeunits_nodejs_heap_used_bytes", worker);
        assert_ne!(heap(&idle), heap(&after), "worker {worker}'s heap moved");
        // @pm2/io's names, as pm2-prometheus-exporter serves them.
        let labels = [("name", "busy"), ("instance", worker)];
        assert!(value(&pm2, "pm2_used_heap_size", &labels) > 1.0);
        assert!(value(&pm2, "pm2_http", &labels) > 0.0);
        value(&pm2, "pm2_event_loop_latency_p95", &labels);
        value(&pm2, "pm2_http_p95_latency", &labels);
    }
    assert!(slow_requests >= 80.0, "{slow_requests} requests over 50 ms");
    assert!(
        longest_delay >= 0.03,
        "longest event-loop delay {longest_delay}"
    );
    let not_found: f64 = after["nodeunits_http_requests"]["samples"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s[1]["code"] == "4xx")
        .map(|s| s[2].as_f64().unwrap())
        .sum();
    assert_eq!(not_found, 10.0);
    assert_eq!(
        described.matches("    inside: heap ").count(),
        2,
        "{described}"
    );
    assert!(described.contains("HTTP requests ("), "{described}");
}

#[test]
fn a_scrape_of_the_endpoint_starts_one_process_and_leaves_none() {
    let app = App::new("shop", 2, 8310);
    let (host, _) = boot_applied("metrics-endpoint", std::slice::from_ref(&app));
    nodeunits_ok(&host, "reload shop");
    let installed = nodeunits_ok(&host, "metrics --install --pm2-names");
    assert!(installed.contains("127.0.0.1:9209"), "{installed}");
    host.ok("systemctl is-active -q nodeunits-metrics.socket && systemctl is-enabled -q nodeunits-metrics.socket");
    assert!(
        !host.sh("pgrep -f 'metrics [-]-http'").status.success(),
        "nothing runs before a scrape"
    );

    // The workers' processes have published what they measure.
    host.wait_until(
        "test -s /run/nodeunits/shop/stats.0 && test -s /run/nodeunits/shop/stats.1",
        Duration::from_secs(20),
    );
    let status = host.ok(
        "curl -sS --max-time 10 -o /tmp/scrape -w '%{http_code}' http://127.0.0.1:9209/metrics",
    );
    let body = host.read("/tmp/scrape");
    assert_eq!(status, "200", "{body}");
    let scraped = parse_metrics(&body);
    let printed = parse_metrics(&nodeunits_ok(&host, "metrics --pm2-names"));
    let names =
        |families: &BTreeMap<String, Value>| families.keys().cloned().collect::<BTreeSet<_>>();
    assert_eq!(names(&scraped), names(&printed));
    for instance in ["0", "1"] {
        let labels = [("app", "shop"), ("worker", instance)];
        assert_eq!(value(&scraped, "nodeunits_instance_up", &labels), 1.0);
        // Read by the endpoint's own user.
        assert!(value(&scraped, "nodeunits_nodejs_heap_used_bytes", &labels) > 1e6);
        let labels = [("name", "shop"), ("instance", instance)];
        assert_eq!(value(&scraped, "pm2_up", &labels), 1.0);
    }
    let took = value(
        &scraped,
        "nodeunits_app_last_reload_duration_seconds",
        &[("app", "shop")],
    );
    assert!(took > 0.0, "the reload was recorded: {took}");
    assert_eq!(
        value(
            &scraped,
            "nodeunits_app_last_reload_success",
            &[("app", "shop")]
        ),
        1.0
    );

    // Each scrape's instance is gone once it answered, and did not fail.
    host.wait_until(
        "! systemctl list-units --all --plain --no-legend 'nodeunits-metrics@*' | grep -q .",
        Duration::from_secs(10),
    );
    assert!(!host.sh("pgrep -f 'metrics [-]-http'").status.success());
    let accepted = host.ok("systemctl show -p NAccepted --value nodeunits-metrics.socket");
    assert_eq!(accepted.trim(), "1");

    let removed = nodeunits_ok(&host, "metrics --uninstall");
    assert!(
        removed.contains("removed nodeunits-metrics.socket"),
        "{removed}"
    );
    host.ok("test ! -e /etc/systemd/system/nodeunits-metrics.socket && test ! -e /etc/systemd/system/nodeunits-metrics@.service");
    assert!(!host
        .sh("curl -fsS --max-time 2 http://127.0.0.1:9209/metrics")
        .status
        .success());
    let bad = nodeunits(&host, "metrics --install localhost:9209");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("allowed: an address and port"));
}
