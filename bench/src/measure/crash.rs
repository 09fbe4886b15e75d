//! A worker killed with SIGKILL under load: the requests that fail, and
//! the time until a new worker serves. hello-world ×2 under keep-alive load;
//! one worker is killed 1 s in; a probe inside the box, one new connection
//! every 5 ms, times from the kill to the first answer of a process that was
//! not serving before (each answer names its process, `x-worker`); a
//! connection not answered within 1 s is given up and asked again.

use std::time::Duration;

use anyhow::{bail, Context, Result};

use super::{load_a_second_in, who, Plan};
use crate::apps::App;
use crate::report::{Better, Results};
use crate::supervisor::Supervisor;

/// The load's upper bound; it is stopped once the new worker serves.
const LOAD_LIMIT_SECONDS: u32 = 60;

/// Kills `VICTIM`, then asks `PORT` on new connections until a process not
/// in `OLD` answers; prints the milliseconds that took.
const PROBE: &str = r#"const http = require("http");
const [port, victim, ...old] = process.argv.slice(2).map(Number);
const started = process.hrtime.bigint();
process.kill(victim, "SIGKILL");
const until = Date.now() + 30000;
const ask = () => {
  const req = http.get({ port, host: "127.0.0.1", agent: false }, (res) => {
    res.resume();
    const worker = Number(res.headers["x-worker"]);
    if (!old.includes(worker)) {
      console.log(Number(process.hrtime.bigint() - started) / 1e6);
      process.exit(0);
    }
    again();
  });
  // A connection handed to the killed worker is never answered.
  req.setTimeout(1000, () => req.destroy());
  req.on("error", again);
};
function again() {
  if (Date.now() > until) { console.error("no new worker answered within 30 s"); process.exit(1); }
  setTimeout(ask, 5);
}
ask();
"#;

pub fn measure(supervisor: &mut dyn Supervisor, plan: &Plan, results: &mut Results) -> Result<()> {
    let app = App::hello();
    let who = who(supervisor);
    supervisor.start(&app)?;
    let (dir, running) = load_a_second_in(supervisor, &app, plan, "crash", LOAD_LIMIT_SECONDS)?;
    let old = supervisor.worker_pids(&app)?;
    let Some(&victim) = old.first() else {
        bail!("{}: no worker of {} to kill", supervisor.name(), app.name);
    };
    let probe = dir.join("crash-probe.js");
    supervisor.host().write(&probe, PROBE)?;
    let old: Vec<String> = old.iter().map(u32::to_string).collect();
    let ms = supervisor
        .host()
        .ok(&format!(
            "node {} {} {victim} {}",
            probe.display(),
            app.port,
            old.join(" ")
        ))
        .with_context(|| format!("{}: a worker killed, serving again", supervisor.name()))?;
    let ms: f64 = ms
        .trim()
        .parse()
        .with_context(|| format!("the probe printed {ms:?}"))?;
    // The load goes on a second with the new worker.
    std::thread::sleep(Duration::from_secs(1));
    let report = running.stop(supervisor.host())?;
    results.add(
        "Failed requests, a worker killed with SIGKILL under keep-alive load, hello-world ×2",
        "requests",
        Better::Lower,
        who,
        report.failed() as f64,
    );
    results.add(
        "Time from a worker's SIGKILL until a new worker serves, hello-world ×2",
        "ms",
        Better::Lower,
        who,
        ms,
    );
    supervisor.stop(&app)
}
