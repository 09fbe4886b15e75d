//! Throughput of hello-world, 2 instances: one connection per request and
//! keep-alive; bare node on a shared socket is the ceiling.

use anyhow::Result;

use super::{who, Plan};
use crate::apps::App;
use crate::bare::Bare;
use crate::host::Host;
use crate::load;
use crate::report::{Better, Results, Who};
use crate::supervisor::Supervisor;

fn measure_name(keep_alive: bool) -> &'static str {
    if keep_alive {
        "Throughput, hello-world ×2, keep-alive"
    } else {
        "Throughput, hello-world ×2, connection per request"
    }
}

pub fn measure(supervisor: &mut dyn Supervisor, plan: &Plan, results: &mut Results) -> Result<()> {
    let app = App::hello();
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
    supervisor.stop(&app)
}

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
            measure_name(keep_alive),
            "req/s",
            Better::Higher,
            who,
            report.requests_per_second,
        );
    }
    Ok(())
}
