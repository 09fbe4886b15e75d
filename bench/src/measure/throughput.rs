//! Throughput of hello-world, 2 instances: one connection per request and
//! keep-alive; bare node on a shared socket is the ceiling, measured in
//! nodeunits' box just before nodeunits (see [`measure`]). nodeunits is
//! measured in its sandbox, again without (`hardening = "off"`): the
//! sandbox's cost, and again without its runtime metrics (`pmx = false`):
//! what the preload's measuring from inside each process costs.

use anyhow::Result;

use super::{connections, who, Plan};
use crate::apps::App;
use crate::bare::Bare;
use crate::host::Host;
use crate::load;
use crate::report::{Better, Results, Who};
use crate::supervisor::Supervisor;

fn measure_name(app: &App, keep_alive: bool) -> String {
    let connections = connections(keep_alive);
    let variant = match (app.sandbox, app.runtime_metrics) {
        (true, true) => "",
        (false, _) => ", nodeunits without its sandbox",
        (true, false) => ", nodeunits without runtime metrics",
    };
    format!("Throughput, hello-world ×2, {connections}{variant}")
}

/// The supervisor's rows. Before nodeunits', bare node's, in the same box:
/// the machine's throughput drifts by several percent between minutes, and
/// the ratio to the ceiling is what these rows are for.
pub fn measure(supervisor: &mut dyn Supervisor, plan: &Plan, results: &mut Results) -> Result<()> {
    let mut apps = vec![App::hello()];
    if who(supervisor) == Who::Nodeunits {
        ceiling(supervisor.host(), supervisor.work_dir(), plan, results)?;
        apps.push(App::hello().without_sandbox());
        apps.push(App::hello().without_runtime_metrics());
    }
    for app in apps {
        supervisor.start(&app)?;
        let dir = supervisor.work_dir().join("throughput");
        run_loads(
            supervisor.host(),
            &app,
            &dir,
            plan,
            who(supervisor),
            results,
        )?;
        supervisor.stop(&app)?;
    }
    Ok(())
}

/// Bare node's rows, in `host`: in nodeunits' box, or in a box of its own
/// when nodeunits is not measured.
pub fn ceiling(
    host: &dyn Host,
    dir: &std::path::Path,
    plan: &Plan,
    results: &mut Results,
) -> Result<()> {
    let app = App::hello();
    let bare = Bare::start(host, &app, dir)?;
    run_loads(
        host,
        &app,
        &dir.join("throughput"),
        plan,
        Who::Bare,
        results,
    )?;
    bare.stop(host)
}

fn run_loads(
    host: &dyn Host,
    app: &App,
    dir: &std::path::Path,
    plan: &Plan,
    who: Who,
    results: &mut Results,
) -> Result<()> {
    for keep_alive in [false, true] {
        // Warm up the JIT and the connection pools before measuring.
        load::run(host, &plan.load(app.port, keep_alive, 1), dir)?;
        let report = load::run(
            host,
            &plan.load(app.port, keep_alive, plan.throughput_seconds),
            dir,
        )?;
        results.add(
            &measure_name(app, keep_alive),
            "req/s",
            Better::Higher,
            who,
            report.requests_per_second,
        );
    }
    Ok(())
}
