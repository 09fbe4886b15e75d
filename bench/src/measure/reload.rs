//! Failed requests during K rolling reloads under keep-alive load, for the
//! naive and the cooperative app; latency during reloads against steady,
//! back to back and at one pace for all.

use std::time::{Duration, Instant};

use anyhow::{bail, Result};

use super::{who, Plan};
use crate::apps::App;
use crate::load;
use crate::report::{Better, Results};
use crate::supervisor::Supervisor;

/// wrk's upper bound; the load is stopped when the reloads are done.
const LOAD_LIMIT_SECONDS: u32 = 600;

pub fn failed_measure(app: &App, reloads: u32) -> String {
    format!(
        "Failed requests during {reloads} reloads, {} ×{}",
        app.name, app.instances
    )
}

pub fn measure(supervisor: &mut dyn Supervisor, plan: &Plan, results: &mut Results) -> Result<()> {
    let who = who(supervisor);
    for app in [App::naive(), App::cooperative(2)] {
        let dir = supervisor.work_dir().join("reload");
        supervisor.start(&app)?;
        let load_plan = plan.load(app.port, true, LOAD_LIMIT_SECONDS);
        let cooperative = app.wait_ready;

        if cooperative && !plan.smoke {
            let steady_plan = plan.load(app.port, true, plan.steady_seconds);
            let steady = load::run(supervisor.host(), &steady_plan, &dir)?;
            results.add(
                "p50 latency steady, cooperative ×2",
                "ms",
                Better::Lower,
                who,
                steady.p50_ms,
            );
            results.add(
                "p99 latency steady, cooperative ×2",
                "ms",
                Better::Lower,
                who,
                steady.p99_ms,
            );
        }

        let running = load::start(supervisor.host(), &load_plan, &dir)?;
        let reloading = std::time::Instant::now();
        for _ in 0..plan.reloads {
            let before = supervisor.worker_pids(&app)?;
            supervisor.reload(&app)?;
            let after = supervisor.worker_pids(&app)?;
            if let Some(pid) = before.iter().find(|pid| after.contains(pid)) {
                bail!(
                    "{}: a reload of {} left worker {pid} running (before {before:?}, after {after:?})",
                    supervisor.name(),
                    app.name
                );
            }
        }
        let reload_seconds = reloading.elapsed().as_secs_f64();
        // Let requests queued during the last reload complete.
        std::thread::sleep(std::time::Duration::from_millis(500));
        let report = running.stop(supervisor.host())?;
        eprintln!(
            "    {} reloads of {}: {} requests ({:.0}/s), {} failed (connect {}, read {}, write {}, timeout {}, non-2xx {})",
            plan.reloads,
            app.name,
            report.requests,
            report.requests_per_second,
            report.failed(),
            report.connect_errors,
            report.read_errors,
            report.write_errors,
            report.timeouts,
            report.non_2xx_3xx
        );
        results.add(
            &failed_measure(&app, plan.reloads),
            "requests",
            Better::Lower,
            who,
            report.failed() as f64,
        );
        results.add(
            &format!(
                "Reload wall time, {} reloads of {} ×{} under load",
                plan.reloads, app.name, app.instances
            ),
            "s",
            Better::Lower,
            who,
            reload_seconds,
        );
        if cooperative && !plan.smoke {
            results.add(
                "p50 latency during reloads, cooperative ×2",
                "ms",
                Better::Lower,
                who,
                report.p50_ms,
            );
            results.add(
                "p99 latency during reloads, cooperative ×2",
                "ms",
                Better::Lower,
                who,
                report.p99_ms,
            );
        }
        if cooperative && !plan.smoke {
            paced(supervisor, &app, plan, results)?;
        }
        supervisor.stop(&app)?;
    }
    Ok(())
}

/// Reloads at the same pace for every supervisor.
const PACE: Duration = Duration::from_secs(6);
const PACED_RELOADS: u32 = 4;

/// Latency under load with one reload every [`PACE`], the same share of
/// the time spent reloading for every supervisor: the rows above reload
/// back to back, and the faster a supervisor reloads, the more of their
/// window is reloading.
fn paced(
    supervisor: &mut dyn Supervisor,
    app: &App,
    plan: &Plan,
    results: &mut Results,
) -> Result<()> {
    let who = who(supervisor);
    let dir = supervisor.work_dir().join("reload");
    let seconds = PACE.as_secs() as u32 * PACED_RELOADS;
    let running = load::start(
        supervisor.host(),
        &plan.load(app.port, true, seconds + 30),
        &dir,
    )?;
    let started = Instant::now();
    for slot in 1..=PACED_RELOADS {
        // Each reload in the middle of its slot.
        let at = PACE * slot - PACE / 2;
        if let Some(wait) = at.checked_sub(started.elapsed()) {
            std::thread::sleep(wait);
        }
        supervisor.reload(app)?;
    }
    if let Some(wait) = (PACE * PACED_RELOADS).checked_sub(started.elapsed()) {
        std::thread::sleep(wait);
    }
    let report = running.stop(supervisor.host())?;
    let name = |quantile: &str| {
        format!(
            "{quantile} latency, one reload every {} s, {} ×{}",
            PACE.as_secs(),
            app.name,
            app.instances
        )
    };
    results.add(&name("p50"), "ms", Better::Lower, who, report.p50_ms);
    results.add(&name("p99"), "ms", Better::Lower, who, report.p99_ms);
    results.add(
        &format!(
            "Failed requests, one reload every {} s, {} ×{}",
            PACE.as_secs(),
            app.name,
            app.instances
        ),
        "requests",
        Better::Lower,
        who,
        report.failed() as f64,
    );
    Ok(())
}
