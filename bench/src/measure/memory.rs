//! Memory that is not the app: the supervisor's own processes, plus what
//! each worker carries over a bare `node` running the same app.

use std::path::Path;
use std::thread::sleep;
use std::time::Duration;

use anyhow::Result;

use super::who;
use crate::apps::App;
use crate::bare::Bare;
use crate::host::Host;
use crate::report::{median, Better, Results, Who};
use crate::supervisor::Supervisor;

const SUPERVISOR: &str = "Memory, supervisor processes (PM2 daemon / helpers), ×2";
const PER_WORKER: &str = "Memory, per worker over bare node";
const NOT_THE_APP: &str = "Memory that is not the app, ×2";
const WORKER: &str = "Memory, one idle hello-world worker";
const SETTLE: Duration = Duration::from_secs(1);

fn mb(kb: f64) -> f64 {
    kb / 1024.0
}

/// The bare worker's resident set: the baseline of this run.
pub fn baseline(host: &dyn Host, dir: &Path, results: &mut Results) -> Result<()> {
    let app = App::hello();
    let bare = Bare::start(host, &app, dir)?;
    sleep(SETTLE);
    let workers = bare.workers_kb(host)?;
    bare.stop(host)?;
    let workers: Vec<f64> = workers.into_iter().map(|kb| kb as f64).collect();
    results.add(
        WORKER,
        "MB",
        Better::Lower,
        Who::Bare,
        mb(median(&workers).unwrap_or(0.0)),
    );
    Ok(())
}

pub fn measure(supervisor: &mut dyn Supervisor, results: &mut Results) -> Result<()> {
    let app = App::hello();
    supervisor.start(&app)?;
    sleep(SETTLE);
    let footprint = supervisor.footprint(&app)?;
    supervisor.stop(&app)?;

    let bare_kb = results
        .row(WORKER)
        .and_then(|row| row.bare_node.last().copied())
        .map(|mb| mb * 1024.0)
        .expect("the bare baseline is measured before the supervisors");
    let workers: Vec<f64> = footprint.workers_kb.iter().map(|&kb| kb as f64).collect();
    let per_worker = median(&workers).unwrap_or(0.0) - bare_kb;
    let who = who(supervisor);
    let supervisor_kb = footprint.supervisor_kb as f64;
    results.add(
        WORKER,
        "MB",
        Better::Lower,
        who,
        mb(median(&workers).unwrap_or(0.0)),
    );
    results.add(SUPERVISOR, "MB", Better::Lower, who, mb(supervisor_kb));
    results.add(PER_WORKER, "MB", Better::Lower, who, mb(per_worker));
    results.add(
        NOT_THE_APP,
        "MB",
        Better::Lower,
        who,
        mb(supervisor_kb + per_worker * app.instances as f64),
    );
    Ok(())
}
