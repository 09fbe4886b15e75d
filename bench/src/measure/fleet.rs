//! A fleet: 50 hello-world apps of 2 instances, 100 workers, started from
//! one file (`pm2 start FILE`, `oxmgr apply FILE`, `nodeunits apply FILE`)
//! until every worker is ready and every port answers; the command that
//! lists them (`pm2 ls`, `oxmgr list`, `nodeunits status`), median of 5;
//! and the memory of the supervisor's own processes meanwhile, as their
//! proportional set sizes (100 helpers share their program's pages, as 50
//! node primaries share node's).

use std::time::Instant;

use anyhow::{Context, Result};

use super::who;
use crate::apps::App;
use crate::report::{Better, Results};
use crate::supervisor::Supervisor;

/// Apps in the fleet, of 2 instances each.
pub const APPS: u16 = 50;

/// Times the list command is run; the median is kept.
const LISTINGS: usize = 5;

pub fn measure(supervisor: &mut dyn Supervisor, results: &mut Results) -> Result<()> {
    let apps = App::fleet(APPS);
    let who = who(supervisor);
    let workers = APPS * 2;

    let started = Instant::now();
    supervisor.start_all(&apps)?;
    results.add(
        &format!("Time to all ready, {APPS} apps ×2 from one file"),
        "s",
        Better::Lower,
        who,
        started.elapsed().as_secs_f64(),
    );

    // Timed inside the box, as a user runs it.
    let command = supervisor.list_command();
    let script = format!(
        "for i in $(seq {LISTINGS}); do s=$(date +%s%N); {command} >/dev/null 2>&1 || exit 1; \
         e=$(date +%s%N); echo $(( (e - s) / 1000 )); done"
    );
    let output = supervisor
        .host()
        .ok(&script)
        .with_context(|| format!("listing {workers} workers with `{command}`"))?;
    let mut micros: Vec<f64> = output
        .split_whitespace()
        .map(|us| us.parse::<f64>())
        .collect::<Result<_, _>>()
        .with_context(|| format!("timings of `{command}`: {output:?}"))?;
    micros.sort_by(f64::total_cmp);
    results.add(
        &format!("Listing {workers} workers (pm2 ls, oxmgr list, nodeunits status)"),
        "ms",
        Better::Lower,
        who,
        micros[micros.len() / 2] / 1000.0,
    );

    results.add(
        &format!("Memory (Pss), supervisor processes, {APPS} apps ×2"),
        "MB",
        Better::Lower,
        who,
        supervisor.supervisor_kb(&apps)? as f64 / 1024.0,
    );

    supervisor.stop_all(&apps)
}
