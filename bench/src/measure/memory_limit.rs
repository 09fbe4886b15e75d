//! A memory-limit restart under load: the leaking app crosses its limit
//! while wrk keeps it busy; failed requests, and how many restarts happened.

use std::thread::sleep;
use std::time::Duration;

use anyhow::Result;

use super::{who, Plan};
use crate::apps::App;
use crate::load;
use crate::report::{Better, Results};
use crate::supervisor::Supervisor;

pub fn measure(supervisor: &mut dyn Supervisor, plan: &Plan, results: &mut Results) -> Result<()> {
    let app = App::leaking();
    let who = who(supervisor);
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
