//! One module per measurement. Each runs on one supervisor at a time and
//! adds its samples to the results under the same measure names for all.

pub mod crash;
pub mod fleet;
pub mod logs;
pub mod memory;
pub mod memory_limit;
pub mod reload;
pub mod share;
pub mod startup;
pub mod supervisor_killed;
pub mod throughput;
pub mod watch;

use crate::load::Load;
use crate::report::Who;
use crate::supervisor::Supervisor;

/// How long and how much: the full run or the CI smoke.
#[derive(Debug, Clone)]
pub struct Plan {
    pub runs: u32,
    pub reloads: u32,
    pub connections: u32,
    pub throughput_seconds: u32,
    pub steady_seconds: u32,
    pub memory_limit_seconds: u32,
    pub share_seconds: u32,
    /// The smoke measures failed requests during reloads, and one case of
    /// the share of requests.
    pub smoke: bool,
    /// `--only-measure NAME`: one of [`MEASURES`], for a reduced run.
    pub only_measure: Option<&'static str>,
}

/// The measures a run can be limited to.
pub const MEASURES: [&str; 11] = [
    "crash",
    "fleet",
    "logs",
    "memory",
    "throughput",
    "share",
    "startup",
    "supervisor-killed",
    "memory-limit",
    "reload",
    "watch",
];

impl Plan {
    pub fn full() -> Plan {
        Plan {
            runs: 3,
            reloads: 10,
            connections: 32,
            throughput_seconds: 4,
            steady_seconds: 4,
            memory_limit_seconds: 12,
            share_seconds: 3,
            smoke: false,
            only_measure: None,
        }
    }

    pub fn smoke() -> Plan {
        Plan {
            runs: 1,
            reloads: 1,
            connections: 32,
            throughput_seconds: 2,
            steady_seconds: 2,
            memory_limit_seconds: 0,
            share_seconds: 2,
            smoke: true,
            only_measure: None,
        }
    }

    /// What the results call this run.
    pub fn mode(&self) -> &'static str {
        match (self.smoke, self.only_measure) {
            (true, _) => "smoke",
            (false, Some(_)) => "reduced",
            (false, None) => "full",
        }
    }

    /// Whether this run takes the measure (one of [`MEASURES`]).
    pub fn wants(&self, measure: &str) -> bool {
        debug_assert!(MEASURES.contains(&measure), "{measure}");
        if self.smoke {
            return matches!(measure, "share" | "reload");
        }
        self.only_measure.is_none_or(|only| only == measure)
    }

    /// Keep-alive load with the plan's connections; `seconds` is an upper
    /// bound when the load is stopped early.
    pub fn load(&self, port: u16, keep_alive: bool, seconds: u32) -> Load {
        Load {
            connections: self.connections,
            threads: 2,
            keep_alive,
            seconds,
            port,
            script: None,
        }
    }
}

/// How a load uses connections, as the measures' names say it.
pub fn connections(keep_alive: bool) -> &'static str {
    if keep_alive {
        "keep-alive"
    } else {
        "connection per request"
    }
}

pub fn who(supervisor: &dyn Supervisor) -> Who {
    match supervisor.name() {
        "PM2" => Who::Pm2,
        "Oxmgr" => Who::Oxmgr,
        _ => Who::Nodeunits,
    }
}

/// Starts the plan's keep-alive load on the app, from a directory
/// `work_dir/NAME`, for at most `seconds`, and returns after its first
/// second: something is about to happen under it.
pub fn load_a_second_in(
    supervisor: &dyn Supervisor,
    app: &crate::apps::App,
    plan: &Plan,
    name: &str,
    seconds: u32,
) -> anyhow::Result<(std::path::PathBuf, crate::load::Running)> {
    let dir = supervisor.work_dir().join(name);
    let running = crate::load::start(supervisor.host(), &plan.load(app.port, true, seconds), &dir)?;
    std::thread::sleep(std::time::Duration::from_secs(1));
    Ok((dir, running))
}
