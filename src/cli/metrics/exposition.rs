//! Every installed app and instance in the Prometheus text exposition
//! format (version 0.0.4): nodeunits' series, each worker under the label
//! `worker` (`instance` is the label Prometheus gives the scrape target,
//! which would rename an exported one `exported_instance`), and with
//! `--pm2-names` pm2-prometheus-exporter's series too, as its dashboards
//! read them (docs/commands.md, "metrics").

use std::fmt::Write;

use crate::systemd::reload_record::ReloadRecord;
use crate::systemd::runtime_stats::{RuntimeStats, BUCKETS};
use crate::systemd::samples::{AppSample, Restarts};
use crate::systemd::status::InstanceStatus;

/// The media type of the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// systemd's active states, one series each in `nodeunits_instance_state`.
const STATES: [&str; 6] = [
    "active",
    "reloading",
    "inactive",
    "failed",
    "activating",
    "deactivating",
];

/// One metric family being written.
struct Family<'a> {
    out: &'a mut String,
    name: &'static str,
}

impl Family<'_> {
    fn sample(&mut self, labels: &[(&str, &str)], value: impl std::fmt::Display) {
        let labels: Vec<String> = labels
            .iter()
            .map(|(name, value)| format!("{name}=\"{}\"", label_value(value)))
            .collect();
        let _ = writeln!(self.out, "{}{{{}}} {value}", self.name, labels.join(","));
    }
}

fn family<'a>(out: &'a mut String, name: &'static str, kind: &str, help: &str) -> Family<'a> {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    Family { out, name }
}

/// `\`, `"` and newlines escaped, as the format wants in label values.
fn label_value(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The samples in the text format, one family after the other.
pub fn exposition(samples: &[AppSample]) -> String {
    let mut out = String::new();
    instance_families(&mut out, samples);
    runtime_families(&mut out, samples);
    app_families(&mut out, samples);
    out
}

/// Every instance of every app, with its app's name and the helper's restarts.
fn instances(samples: &[AppSample]) -> impl Iterator<Item = (&str, &InstanceStatus, Restarts)> {
    samples.iter().flat_map(|s| {
        s.instances
            .iter()
            .map(move |(status, memory)| (s.app.as_str(), status, *memory))
    })
}

/// The families of instances: a series per instance, and one per instance
/// and state for `nodeunits_instance_state`.
fn instance_families(out: &mut String, samples: &[AppSample]) {
    // (name, type, help, value of an instance)
    type Value = fn(&InstanceStatus, Restarts) -> Option<f64>;
    let per_instance: [(&'static str, &str, &str, Value); 7] = [
        ("nodeunits_instance_up", "gauge", "1 when the instance's unit is active, else 0.", |s, _| {
            Some(f64::from(u8::from(s.state == "active")))
        }),
        ("nodeunits_instance_restarts_total", "counter", "Automatic restarts by systemd since the instance was last started on request (NRestarts).", |s, _| {
            Some(f64::from(s.restarts))
        }),
        ("nodeunits_instance_memory_restarts_total", "counter", "Restarts for max_memory_restart (the helper's exit status 75) since boot, from the journal.", |_, restarts| {
            Some(restarts.memory as f64)
        }),
        ("nodeunits_instance_unresponsive_restarts_total", "counter", "Restarts for unresponsive_timeout, the app's event loop stuck (the helper's exit status 76), since boot, from the journal.", |_, restarts| {
            Some(restarts.unresponsive as f64)
        }),
        ("nodeunits_instance_memory_bytes", "gauge", "Memory of the instance's cgroup (MemoryCurrent).", |s, _| {
            s.memory_bytes.map(|b| b as f64)
        }),
        ("nodeunits_instance_cpu_seconds_total", "counter", "CPU time of the instance's cgroup (CPUUsageNSec).", |s, _| {
            s.cpu_nsec.map(|ns| ns as f64 / 1e9)
        }),
        ("nodeunits_instance_uptime_seconds", "gauge", "Seconds since the instance became active.", |s, _| {
            s.uptime_secs.map(|u| u as f64)
        }),
    ];
    for (name, kind, help, value) in per_instance {
        let mut f = family(out, name, kind, help);
        for (app, status, memory) in instances(samples) {
            if let Some(v) = value(status, memory) {
                f.sample(&[("app", app), ("worker", &status.instance)], v);
            }
        }
    }
    let mut f = family(
        out,
        "nodeunits_instance_state",
        "gauge",
        "The instance's ActiveState: 1 for the series of its state, 0 for the others.",
    );
    for (app, status, _) in instances(samples) {
        for state in STATES {
            let labels = [("app", app), ("worker", &status.instance), ("state", state)];
            f.sample(&labels, u8::from(status.state == state));
        }
    }
}

/// What each worker's Node process measures from inside and publishes
/// every 2 s (`pmx`, on by default): its heap, its event loop, its HTTP
/// requests. Only workers whose process published appear.
fn runtime_families(out: &mut String, samples: &[AppSample]) {
    let published = || {
        instances(samples)
            .filter_map(|(app, status, _)| Some((app, status, status.runtime.as_ref()?)))
    };
    type Value = fn(&RuntimeStats) -> Option<f64>;
    let gauges: [(&'static str, &str, Value); 8] = [
        ("nodeunits_nodejs_heap_used_bytes", "V8's heap in use in the worker's Node process (used_heap_size).", |r| Some(r.heap.used as f64)),
        ("nodeunits_nodejs_heap_total_bytes", "V8's heap allocated in the worker's Node process (total_heap_size).", |r| Some(r.heap.total as f64)),
        ("nodeunits_nodejs_heap_limit_bytes", "The most V8 lets the heap grow to (heap_size_limit).", |r| Some(r.heap.limit as f64)),
        ("nodeunits_nodejs_active_handles", "What keeps the event loop alive other than timers: sockets, servers, pipes, file requests (process.getActiveResourcesInfo()).", |r| r.handles.map(|n| n as f64)),
        ("nodeunits_nodejs_eventloop_delay_p50_seconds", "The event loop's median delay over the last 2 s (perf_hooks.monitorEventLoopDelay, sampled every 20 ms).", |r| r.loop_delay.map(|l| l.p50 / 1e3)),
        ("nodeunits_nodejs_eventloop_delay_p99_seconds", "The event loop's 99th percentile delay over the last 2 s.", |r| r.loop_delay.map(|l| l.p99 / 1e3)),
        ("nodeunits_nodejs_eventloop_delay_max_seconds", "The event loop's longest delay over the last 2 s.", |r| r.loop_delay.and_then(|l| l.max).map(|ms| ms / 1e3)),
        ("nodeunits_nodejs_report_age_seconds", "Seconds since the worker's process last published its figures, which it does every 2 s while its event loop turns.", |r| Some(r.age_seconds())),
    ];
    for (name, help, value) in gauges {
        let mut f = family(out, name, "gauge", help);
        for (app, status, runtime) in published() {
            if let Some(v) = value(runtime) {
                f.sample(&[("app", app), ("worker", &status.instance)], v);
            }
        }
    }
    let mut f = family(
        out,
        "nodeunits_http_requests_total",
        "counter",
        "HTTP requests the worker's process answered since it started, by status class (code 1xx to 5xx), when the app ended each response; one whose connection closed first is not counted.",
    );
    for (app, status, runtime) in published() {
        for (code, n) in &runtime.http.requests {
            f.sample(
                &[("app", app), ("worker", &status.instance), ("code", code)],
                n,
            );
        }
    }
    let name = "nodeunits_http_request_duration_seconds";
    let _ = writeln!(
        out,
        "# HELP {name} Time from an HTTP request's arrival to the end of its response, in the worker's process since it started.\n# TYPE {name} histogram"
    );
    for (app, status, runtime) in published() {
        let worker = [("app", app), ("worker", status.instance.as_str())];
        let http = &runtime.http;
        let mut f = Family {
            out: &mut *out,
            name: "nodeunits_http_request_duration_seconds_bucket",
        };
        for (bound, count) in BUCKETS.iter().zip(&http.buckets) {
            f.sample(&[worker[0], worker[1], ("le", &bound.to_string())], count);
        }
        f.sample(&[worker[0], worker[1], ("le", "+Inf")], http.total());
        Family {
            out: &mut *out,
            name: "nodeunits_http_request_duration_seconds_sum",
        }
        .sample(&worker, http.seconds);
        Family {
            out: &mut *out,
            name: "nodeunits_http_request_duration_seconds_count",
        }
        .sample(&worker, http.total());
    }
}

/// Each worker unit's CPU time in nanoseconds, by unit.
pub type CpuTimes = std::collections::BTreeMap<String, u64>;

/// pm2-prometheus-exporter's series (`pm2_up`, `pm2_cpu`, `pm2_memory`,
/// `pm2_uptime`, `pm2_instances`, `pm2_restarts`) with its labels: `id`
/// (the worker's place among all, as PM2's `pm_id`), `name` (PM2's name of
/// the app) and `instance` (`NODE_APP_INSTANCE`), so that the dashboards
/// built on it show nodeunits' apps. `pm2_cpu` is PM2's percent of one
/// core, from the CPU times `before` and `after`, read `window` seconds
/// apart.
pub fn pm2_exposition(
    samples: &[AppSample],
    before: &CpuTimes,
    after: &CpuTimes,
    window: f64,
) -> String {
    let mut out = String::new();
    // (name, help, value of an instance with its app's instance count)
    type Value<'a> = Box<dyn Fn(&InstanceStatus, usize) -> Option<f64> + 'a>;
    let mut families: Vec<(&'static str, &str, Value)> = vec![
        (
            "pm2_up",
            "Is the process running",
            Box::new(|s, _| Some(f64::from(u8::from(s.state == "active")))),
        ),
        (
            "pm2_cpu",
            "Process cpu usage",
            Box::new(|s, _| {
                let spent = after.get(&s.unit)?.checked_sub(*before.get(&s.unit)?)? as f64 / 1e9;
                (window > 0.0).then(|| (spent / window * 100.0 * 10.0).round() / 10.0)
            }),
        ),
        (
            "pm2_memory",
            "Process memory usage",
            Box::new(|s, _| s.memory_bytes.map(|b| b as f64)),
        ),
        (
            "pm2_uptime",
            "Process uptime",
            Box::new(|s, _| s.uptime_secs.map(|u| u as f64)),
        ),
        (
            "pm2_instances",
            "Process instances",
            Box::new(|_, count| Some(count as f64)),
        ),
        (
            "pm2_restarts",
            "Process restarts",
            Box::new(|s, _| Some(f64::from(s.restarts))),
        ),
    ];
    // The exporter's series of @pm2/io's metrics (`axm_monitor`): its name
    // of each (the help) in snake case, in @pm2/io's units.
    type Runtime = fn(&RuntimeStats) -> Option<f64>;
    let runtime: [(&'static str, &'static str, Runtime); 9] = [
        ("pm2_used_heap_size", "Used Heap Size", |r| {
            Some(mib(r.heap.used))
        }),
        ("pm2_heap_size", "Heap Size", |r| Some(mib(r.heap.total))),
        ("pm2_heap_usage", "Heap Usage", |r| {
            (r.heap.total > 0).then(|| hundredths(r.heap.used as f64 / r.heap.total as f64 * 100.0))
        }),
        ("pm2_event_loop_latency", "Event Loop Latency", |r| {
            r.loop_delay.map(|l| hundredths(l.p50))
        }),
        (
            "pm2_event_loop_latency_p95",
            "Event Loop Latency p95",
            |r| r.loop_delay.map(|l| hundredths(l.p95)),
        ),
        ("pm2_active_handles", "Active handles", |r| {
            r.handles.map(|n| n as f64)
        }),
        ("pm2_http", "HTTP", |r| {
            Some(hundredths(r.requests_per_second() * 60.0))
        }),
        ("pm2_http_mean_latency", "HTTP Mean Latency", |r| {
            r.http.window.p50.map(hundredths)
        }),
        ("pm2_http_p95_latency", "HTTP P95 Latency", |r| {
            r.http.window.p95.map(hundredths)
        }),
    ];
    for (name, help, value) in runtime {
        families.push((name, help, Box::new(move |s, _| value(s.runtime.as_ref()?))));
    }
    for (name, help, value) in families {
        let mut f = family(&mut out, name, "gauge", help);
        let mut id = 0usize;
        for sample in samples {
            let count = sample.instances.len();
            for (status, _) in &sample.instances {
                let pm2_name = status.pm2_name.as_deref().unwrap_or(sample.app.as_str());
                let labels = [
                    ("id", id.to_string()),
                    ("name", pm2_name.to_owned()),
                    ("instance", status.instance.clone()),
                ];
                let labels: Vec<(&str, &str)> =
                    labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
                if let Some(v) = value(status, count) {
                    f.sample(&labels, v);
                }
                id += 1;
            }
        }
    }
    out
}

/// The families of apps: their instances, their socket's counters, their
/// last rolling reload.
fn app_families(out: &mut String, samples: &[AppSample]) {
    let mut f = family(
        out,
        "nodeunits_app_instances",
        "gauge",
        "Instances the app unit wants.",
    );
    for s in samples {
        f.sample(&[("app", s.app.as_str())], s.instances.len());
    }
    type SocketValue = fn((u32, u32, Option<u32>)) -> Option<u32>;
    let per_socket: [(&'static str, &str, &str, SocketValue); 3] = [
        ("nodeunits_socket_accepted_connections_total", "counter", "Connections accepted by systemd on the app's socket (NAccepted; only with Accept=yes: the workers accept on the apps' sockets).", |s| Some(s.0)),
        ("nodeunits_socket_connections", "gauge", "Connections open on the app's socket now (NConnections; only with Accept=yes).", |s| Some(s.1)),
        ("nodeunits_socket_refused_connections_total", "counter", "Connections systemd refused on the app's socket (NRefused).", |s| s.2),
    ];
    for (name, kind, help, value) in per_socket {
        let mut f = family(out, name, kind, help);
        for s in samples {
            if let Some(v) = s.socket.and_then(value) {
                f.sample(&[("app", s.app.as_str())], v);
            }
        }
    }
    type ReloadValue = fn(&ReloadRecord) -> f64;
    let per_reload: [(&'static str, &str, ReloadValue); 3] = [
        (
            "nodeunits_app_last_reload_duration_seconds",
            "How long the app's last rolling reload took, since boot.",
            |r| r.duration_seconds,
        ),
        (
            "nodeunits_app_last_reload_timestamp_seconds",
            "When the app's last rolling reload began, in seconds since the epoch.",
            |r| r.started_at,
        ),
        (
            "nodeunits_app_last_reload_success",
            "1 when every instance of the last rolling reload came back, else 0.",
            |r| f64::from(u8::from(r.succeeded)),
        ),
    ];
    for (name, help, value) in per_reload {
        let mut f = family(out, name, "gauge", help);
        for s in samples {
            if let Some(record) = &s.reload {
                f.sample(&[("app", s.app.as_str())], value(record));
            }
        }
    }
}

/// Bytes in MiB with two decimals, as @pm2/io shows the heap.
fn mib(bytes: u64) -> f64 {
    hundredths(bytes as f64 / 1024.0 / 1024.0)
}

fn hundredths(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AppName;

    fn instance(number: &str, state: &str) -> InstanceStatus {
        InstanceStatus {
            app: "api".into(),
            pm2_name: None,
            instance: number.into(),
            unit: format!("api@{number}.service"),
            pid: 42,
            state: state.into(),
            sub_state: "running".into(),
            uptime_secs: (state == "active").then_some(61),
            restarts: 2,
            result: "success".into(),
            exit_status: None,
            exit_signal: None,
            cpu_nsec: Some(1_500_000_000),
            memory_bytes: Some(4096),
            listen: vec!["127.0.0.1:3000".into()],
            runtime: None,
        }
    }

    #[test]
    fn every_instance_in_every_family_with_help_and_type() {
        let sample = AppSample {
            app: AppName::new("api").unwrap(),
            instances: vec![
                (
                    instance("0", "active"),
                    Restarts {
                        memory: 1,
                        unresponsive: 2,
                    },
                ),
                (instance("1", "failed"), Restarts::default()),
            ],
            socket: Some((0, 0, Some(3))),
            reload: Some(ReloadRecord {
                started_at: 1700000000.5,
                duration_seconds: 2.25,
                instances: 2,
                succeeded: true,
            }),
        };
        let text = exposition(&[sample]);
        for line in [
            "# TYPE nodeunits_instance_up gauge",
            "nodeunits_instance_up{app=\"api\",worker=\"0\"} 1",
            "nodeunits_instance_up{app=\"api\",worker=\"1\"} 0",
            "# TYPE nodeunits_instance_restarts_total counter",
            "nodeunits_instance_memory_restarts_total{app=\"api\",worker=\"0\"} 1",
            "nodeunits_instance_unresponsive_restarts_total{app=\"api\",worker=\"0\"} 2",
            "nodeunits_instance_cpu_seconds_total{app=\"api\",worker=\"1\"} 1.5",
            "nodeunits_instance_uptime_seconds{app=\"api\",worker=\"0\"} 61",
            "nodeunits_instance_state{app=\"api\",worker=\"1\",state=\"failed\"} 1",
            "nodeunits_instance_state{app=\"api\",worker=\"1\",state=\"active\"} 0",
            "nodeunits_socket_refused_connections_total{app=\"api\"} 3",
            "nodeunits_app_last_reload_duration_seconds{app=\"api\"} 2.25",
            "nodeunits_app_instances{app=\"api\"} 2",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in:\n{text}");
        }
        assert!(!text.contains("nodeunits_instance_uptime_seconds{app=\"api\",worker=\"1\"}"));
        // No series keeps the label Prometheus gives the scrape target.
        assert!(!text.contains("instance="), "{text}");
        assert_eq!(label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    fn published() -> RuntimeStats {
        serde_json::from_str(
            r#"{"pid":7,"at":0,"window_ms":2000,"heap":{"used":6291456,"total":8388608,"limit":4345298944},
            "handles":3,"loop":{"p50":0.25,"p95":1.5,"p99":4.0,"max":40.0},
            "http":{"requests":{"2xx":30,"5xx":2},"seconds":0.5,"buckets":[20,25,30,30,31,32,32,32,32,32,32],
            "window":{"requests":10,"p50":0.5,"p95":12.345,"p99":40.0}}}"#,
        )
        .unwrap()
    }

    #[test]
    fn what_the_workers_process_publishes() {
        let sample = AppSample {
            app: AppName::new("api").unwrap(),
            instances: vec![
                (
                    InstanceStatus {
                        runtime: Some(published()),
                        ..instance("0", "active")
                    },
                    Restarts::default(),
                ),
                (instance("1", "active"), Restarts::default()),
            ],
            socket: None,
            reload: None,
        };
        let text = exposition(std::slice::from_ref(&sample));
        for line in [
            "nodeunits_nodejs_heap_used_bytes{app=\"api\",worker=\"0\"} 6291456",
            "nodeunits_nodejs_heap_limit_bytes{app=\"api\",worker=\"0\"} 4345298944",
            "nodeunits_nodejs_active_handles{app=\"api\",worker=\"0\"} 3",
            "nodeunits_nodejs_eventloop_delay_p99_seconds{app=\"api\",worker=\"0\"} 0.004",
            "nodeunits_nodejs_eventloop_delay_max_seconds{app=\"api\",worker=\"0\"} 0.04",
            "nodeunits_http_requests_total{app=\"api\",worker=\"0\",code=\"5xx\"} 2",
            "# TYPE nodeunits_http_request_duration_seconds histogram",
            "nodeunits_http_request_duration_seconds_bucket{app=\"api\",worker=\"0\",le=\"0.005\"} 20",
            "nodeunits_http_request_duration_seconds_bucket{app=\"api\",worker=\"0\",le=\"1\"} 32",
            "nodeunits_http_request_duration_seconds_bucket{app=\"api\",worker=\"0\",le=\"+Inf\"} 32",
            "nodeunits_http_request_duration_seconds_sum{app=\"api\",worker=\"0\"} 0.5",
            "nodeunits_http_request_duration_seconds_count{app=\"api\",worker=\"0\"} 32",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in:\n{text}");
        }
        // A worker whose process published nothing has no such series.
        assert!(!text.contains("nodeunits_nodejs_heap_used_bytes{app=\"api\",worker=\"1\"}"));
        let pm2 = pm2_exposition(&[sample], &CpuTimes::new(), &CpuTimes::new(), 1.0);
        for line in [
            "# HELP pm2_used_heap_size Used Heap Size",
            "pm2_used_heap_size{id=\"0\",name=\"api\",instance=\"0\"} 6",
            "pm2_heap_size{id=\"0\",name=\"api\",instance=\"0\"} 8",
            "pm2_heap_usage{id=\"0\",name=\"api\",instance=\"0\"} 75",
            "pm2_event_loop_latency{id=\"0\",name=\"api\",instance=\"0\"} 0.25",
            "pm2_event_loop_latency_p95{id=\"0\",name=\"api\",instance=\"0\"} 1.5",
            "pm2_active_handles{id=\"0\",name=\"api\",instance=\"0\"} 3",
            "pm2_http{id=\"0\",name=\"api\",instance=\"0\"} 300",
            "pm2_http_mean_latency{id=\"0\",name=\"api\",instance=\"0\"} 0.5",
            "pm2_http_p95_latency{id=\"0\",name=\"api\",instance=\"0\"} 12.35",
        ] {
            assert!(pm2.lines().any(|l| l == line), "{line} in:\n{pm2}");
        }
        assert!(!pm2.contains("pm2_heap_size{id=\"1\""));
    }

    #[test]
    fn pm2_s_exporter_series_with_its_labels() {
        let sample = AppSample {
            app: AppName::new("CodeChat-Api").unwrap(),
            instances: vec![
                (
                    InstanceStatus {
                        pm2_name: Some("CodeChat Api".into()),
                        unit: "CodeChat-Api@0.service".into(),
                        ..instance("0", "active")
                    },
                    Restarts::default(),
                ),
                (instance("1", "failed"), Restarts::default()),
            ],
            socket: None,
            reload: None,
        };
        let unit = "CodeChat-Api@0.service".to_owned();
        let before = CpuTimes::from([(unit.clone(), 1_000_000_000)]);
        let after = CpuTimes::from([(unit, 1_500_000_000)]);
        let text = pm2_exposition(&[sample], &before, &after, 2.0);
        for line in [
            "# TYPE pm2_up gauge",
            "pm2_up{id=\"0\",name=\"CodeChat Api\",instance=\"0\"} 1",
            "pm2_up{id=\"1\",name=\"CodeChat-Api\",instance=\"1\"} 0",
            "pm2_cpu{id=\"0\",name=\"CodeChat Api\",instance=\"0\"} 25",
            "pm2_memory{id=\"0\",name=\"CodeChat Api\",instance=\"0\"} 4096",
            "pm2_uptime{id=\"0\",name=\"CodeChat Api\",instance=\"0\"} 61",
            "pm2_instances{id=\"1\",name=\"CodeChat-Api\",instance=\"1\"} 2",
            "pm2_restarts{id=\"1\",name=\"CodeChat-Api\",instance=\"1\"} 2",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in:\n{text}");
        }
    }
}
