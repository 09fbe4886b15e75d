//! The figures a worker's Node process publishes from inside: the preload's
//! `stats.cjs` replaces `stats.N` in the app's runtime directory every
//! [`PUBLISH_EVERY`] with its heap, its event loop's delay, its active
//! handles and its HTTP requests (docs/commands.md, "Runtime metrics").

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::lock::runtime_base;
use super::Scope;
use crate::model::name::UnitNames;
use crate::model::AppName;

/// How often the process publishes (stats.cjs's `PUBLISH_MS`).
pub const PUBLISH_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// The upper bounds, in seconds, of the HTTP latency buckets (stats.cjs's
/// `BUCKETS`); the last bucket, `+Inf`, is the count.
pub const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// One process's figures, as it last published them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuntimeStats {
    /// The process that published them: the app's Node process.
    pub pid: u32,
    /// When, in milliseconds since the epoch.
    pub at: u64,
    /// The window the delays and the window's requests cover, in milliseconds.
    pub window_ms: u64,
    pub heap: Heap,
    /// What keeps the event loop alive other than timers; `None` on a Node
    /// without `process.getActiveResourcesInfo`.
    pub handles: Option<u64>,
    /// The event loop's delay over the window; `None` before it was sampled.
    #[serde(rename = "loop")]
    pub loop_delay: Option<Percentiles>,
    pub http: Http,
}

/// V8's heap, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Heap {
    pub used: u64,
    pub total: u64,
    pub limit: u64,
}

/// Milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    #[serde(default)]
    pub max: Option<f64>,
}

/// The HTTP requests the process's servers answered since it started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Http {
    /// By status class (`2xx`…; `other` for a status outside 100–599).
    pub requests: BTreeMap<String, u64>,
    /// Their latencies' sum.
    pub seconds: f64,
    /// Cumulative counts at or under each of [`BUCKETS`].
    pub buckets: Vec<u64>,
    pub window: HttpWindow,
}

/// The requests of the last window, with their latency's percentiles in
/// milliseconds (`None` without requests).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HttpWindow {
    pub requests: u64,
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
}

impl Http {
    pub fn total(&self) -> u64 {
        self.requests.values().sum()
    }
}

impl RuntimeStats {
    /// Seconds since the process last published: over a few
    /// [`PUBLISH_EVERY`], its event loop is stuck.
    pub fn age_seconds(&self) -> f64 {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        now.saturating_sub(self.at) as f64 / 1000.0
    }

    /// Requests per second over the last window.
    pub fn requests_per_second(&self) -> f64 {
        match self.window_ms {
            0 => 0.0,
            ms => self.http.window.requests as f64 * 1000.0 / ms as f64,
        }
    }
}

/// The figures of instance `instance` of `app`, if its process published
/// any and is still alive: the helper removes the file when it ends, and a
/// process that is gone published nothing current.
pub fn read(scope: Scope, app: &AppName, instance: u32) -> Option<RuntimeStats> {
    // The workers' RuntimeDirectory=, as the worker template names it.
    let file = runtime_base(scope)
        .join(app.units().runtime_directory())
        .join(UnitNames::stats_file(instance));
    let stats = parse(&std::fs::read(file).ok()?)?;
    Path::new(&format!("/proc/{}", stats.pid))
        .exists()
        .then_some(stats)
}

/// The file's figures; `None` when it is not what stats.cjs writes.
fn parse(bytes: &[u8]) -> Option<RuntimeStats> {
    let stats: RuntimeStats = serde_json::from_slice(bytes).ok()?;
    (stats.http.buckets.len() == BUCKETS.len()).then_some(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUBLISHED: &str = r#"{"pid":183,"at":1796448638435,"window_ms":2001,"heap":{"used":6360136,"total":9936896,"limit":4345298944},"handles":2,"loop":{"p50":0.152,"p95":0.791,"p99":4.936,"max":40.359},"http":{"requests":{"2xx":33,"5xx":1},"seconds":0.0694,"buckets":[32,32,32,32,33,33,33,33,34,34,34],"window":{"requests":34,"p50":0.182,"p95":0.822,"p99":60.287}}}"#;

    #[test]
    fn what_stats_cjs_publishes() {
        let stats = parse(PUBLISHED.as_bytes()).unwrap();
        assert_eq!(stats.pid, 183);
        assert_eq!(stats.heap.used, 6360136);
        assert_eq!(stats.loop_delay.unwrap().p99, 4.936);
        assert_eq!(stats.http.total(), 34);
        assert!((stats.requests_per_second() - 34.0 / 2.001).abs() < 1e-9);
        assert_eq!(parse(b"{}"), None);
        assert_eq!(parse(b"not json"), None);
    }

    #[test]
    fn the_buckets_are_those_of_stats_cjs() {
        let module = include_str!("../helper/stats.cjs");
        let list = BUCKETS.map(|b| b.to_string()).join(", ");
        assert!(
            module.contains(&format!("const BUCKETS = [{list}];")),
            "stats.cjs's BUCKETS differ from [{list}]"
        );
        let ms = PUBLISH_EVERY.as_millis();
        assert!(module.contains(&format!("const PUBLISH_MS = {ms};")));
    }
}
