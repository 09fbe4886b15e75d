//! A memory-limit restart under load: the leaking app crosses its limit
//! while wrk keeps it busy; failed requests, and how many restarts happened.
//! Not Oxmgr: see [`OXMGR`].

use std::thread::sleep;
use std::time::Duration;

use anyhow::Result;

use super::{who, Plan};
use crate::apps::App;
use crate::load;
use crate::report::{Better, Results, Who};
use crate::supervisor::Supervisor;

/// Why Oxmgr is not measured: its limit never restarts a worker.
pub const OXMGR: &str = "Oxmgr is absent from the memory-limit rows: its `max_memory_mb` is compared with the resident memory of the process it manages, in cluster mode the `node:cluster` primary, never with its workers', so a leaking worker is never restarted for it.";

pub fn measure(supervisor: &mut dyn Supervisor, plan: &Plan, results: &mut Results) -> Result<()> {
    let app = App::leaking();
    let who = who(supervisor);
    if who == Who::Oxmgr {
        results.note(OXMGR);
        return Ok(());
    }
    let dir = supervisor.work_dir().join("memory-limit");
    supervisor.start(&app)?;
    let before = supervisor.restarts(&app)?;
    let running = load::start(supervisor.host(), &plan.load(app.port, true, 600), &dir)?;
    sleep(Duration::from_secs(plan.memory_limit_seconds as u64));
    let report = running.stop(supervisor.host())?;
    let restarts = supervisor.restarts(&app)? - before;
    supervisor.stop(&app)?;
    let limit = app.max_memory_mb.unwrap_or_default();
    results.add(
        &format!(
            "Failed requests, memory-limit restarts ({limit} MB) under load, {}s",
            plan.memory_limit_seconds
        ),
        "requests",
        Better::Lower,
        who,
        report.failed() as f64,
    );
    results.add(
        &format!(
            "Memory-limit restarts in those {}s",
            plan.memory_limit_seconds
        ),
        "restarts",
        Better::Neither,
        who,
        restarts as f64,
    );
    Ok(())
}
