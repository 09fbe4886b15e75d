//! The supervisor itself killed with SIGKILL under load: PM2's daemon,
//! Oxmgr's daemon, or, as nodeunits has none, the helper of one worker. Each
//! runs the app as a server does, under its own systemd integration (see
//! [`Supervisor::start_in_production`]), so that what comes back by itself
//! is what would on a server. hello-world ×2 under keep-alive load; the kill
//! comes 1 s in; a probe inside the box opens a new connection every 5 ms
//! for 15 s and notes when each is answered. The rows: the load's failed
//! requests, the longest time no new connection was answered, the
//! connections refused or not answered within 1 s, and the workers running
//! at the end, as the supervisor lists them.

use anyhow::{Context, Result};
use serde::Deserialize;

use super::{load_a_second_in, who, Plan};
use crate::apps::App;
use crate::report::{Better, Results};
use crate::supervisor::Supervisor;

/// The load's upper bound; it is stopped once the probe is done.
const LOAD_LIMIT_SECONDS: u32 = 60;
/// How long the probe watches after the kill.
const WINDOW_MS: u64 = 15_000;

/// Kills `VICTIM`, then opens a connection to `PORT` every 5 ms for
/// `WINDOW` ms; prints the longest stretch without an answer and the
/// connections that failed.
const PROBE: &str = r#"const http = require("http");
const [port, victim, window] = process.argv.slice(2).map(Number);
const started = Date.now();
process.kill(victim, "SIGKILL");
const answers = [];
let failed = 0;
const ask = () => {
  const req = http.get({ port, host: "127.0.0.1", agent: false }, (res) => {
    res.resume();
    answers.push(Date.now() - started);
  });
  // A connection handed to a killed worker is never answered.
  req.setTimeout(1000, () => req.destroy());
  req.on("error", () => failed++);
};
const timer = setInterval(ask, 5);
setTimeout(() => {
  clearInterval(timer);
  // The last connections are answered, or given up, within 1 s.
  setTimeout(() => {
    const times = answers.filter((t) => t <= window).sort((a, b) => a - b);
    let gap = 0;
    let last = 0;
    for (const t of times) { gap = Math.max(gap, t - last); last = t; }
    gap = Math.max(gap, window - last);
    console.log(JSON.stringify({ gap_ms: gap, failed }));
    process.exit(0);
  }, 1100);
}, window);
"#;

#[derive(Deserialize)]
struct Probe {
    gap_ms: f64,
    failed: u64,
}

pub fn measure(supervisor: &mut dyn Supervisor, plan: &Plan, results: &mut Results) -> Result<()> {
    let app = App::hello();
    let who = who(supervisor);
    supervisor.start_in_production(&app)?;
    let (dir, running) = load_a_second_in(
        supervisor,
        &app,
        plan,
        "supervisor-killed",
        LOAD_LIMIT_SECONDS,
    )?;
    let victim = supervisor.supervisor_pid(&app)?;
    let probe = dir.join("supervisor-killed-probe.js");
    supervisor.host().write(&probe, PROBE)?;
    let printed = supervisor
        .host()
        .ok(&format!(
            "node {} {} {victim} {WINDOW_MS}",
            probe.display(),
            app.port
        ))
        .with_context(|| format!("{}: its supervisor killed", supervisor.name()))?;
    let probe: Probe = serde_json::from_str(printed.trim())
        .with_context(|| format!("the probe printed {printed:?}"))?;
    let report = running.stop(supervisor.host())?;
    let name = |what: &str| {
        format!("{what}, the supervisor killed with SIGKILL under keep-alive load, hello-world ×2")
    };
    results.add(
        &name("Failed requests"),
        "requests",
        Better::Lower,
        who,
        report.failed() as f64,
    );
    results.add(
        &name("Longest time no new connection was answered"),
        "ms",
        Better::Lower,
        who,
        probe.gap_ms,
    );
    // New connections go to the workers with the fewest open ones (the
    // gate), so a worker holding the load's may answer none of the probe's:
    // the workers are counted as the supervisor lists them.
    let workers = supervisor.worker_pids(&app).map_or(0, |pids| pids.len());
    results.add(
        &name("Workers running 16 s after the kill"),
        "workers",
        Better::Higher,
        who,
        workers as f64,
    );
    results.add(
        &name("New connections refused or not answered within 1 s"),
        "connections",
        Better::Lower,
        who,
        probe.failed as f64,
    );
    supervisor.stop_in_production(&app)
}
