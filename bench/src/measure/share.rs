//! The busiest worker's share of requests: how evenly the workers of
//! hello-world (×2 and ×4) share a load, keep-alive and one connection per
//! request. nodeunits is measured again with `UV_TCP_SINGLE_ACCEPT=1` in the
//! app's env; bare node on a shared socket shows what the kernel alone does.
//!
//! The client counts: hello-world names its worker in each response
//! (`x-worker: PID`) and wrk's Lua script (bench/wrk/worker-counts.lua)
//! counts responses per name. Nothing has to be read out of the workers
//! (the sandbox gives them files of their own, PM2 wraps them), a response
//! counts only when the client got it, and all three setups are counted
//! the same way. wrk parses every response for the script, which costs it
//! some speed: throughput is measured without it.

use std::path::Path;

use anyhow::{bail, Context, Result};

use super::{connections, who, Plan};
use crate::apps::{bench_dir, App};
use crate::bare::Bare;
use crate::host::Host;
use crate::load;
use crate::report::{Better, Results, Who};
use crate::supervisor::Supervisor;

/// The apps to load and, for each, keep-alive or not: the smoke's one cheap
/// case, or all.
fn cases(plan: &Plan) -> Vec<(App, Vec<bool>)> {
    if plan.smoke {
        return vec![(App::hello(), vec![true])];
    }
    [2, 4]
        .into_iter()
        .map(|instances| (App::hello().with_instances(instances), vec![false, true]))
        .collect()
}

fn measure_name(app: &App, keep_alive: bool) -> String {
    let connections = connections(keep_alive);
    let variant = if app.single_accept {
        ", nodeunits with UV_TCP_SINGLE_ACCEPT=1 (ratio to PM2's row above)"
    } else {
        ""
    };
    format!(
        "Busiest worker's share, hello-world ×{}, {connections}{variant}",
        app.instances
    )
}

/// Even sharing is 1/N of the requests; the unit says so.
fn unit(app: &App) -> &'static str {
    match app.instances {
        2 => "% of requests, 50 is even",
        4 => "% of requests, 25 is even",
        _ => "% of requests",
    }
}

pub fn measure(supervisor: &mut dyn Supervisor, plan: &Plan, results: &mut Results) -> Result<()> {
    let who = who(supervisor);
    let mut cases = cases(plan);
    if who == Who::Nodeunits && !plan.smoke {
        let single_accept: Vec<_> = cases
            .iter()
            .map(|(app, loads)| (app.clone().with_single_accept(), loads.clone()))
            .collect();
        cases.extend(single_accept);
    }
    let dir = supervisor.work_dir().join("share");
    for (app, loads) in cases {
        supervisor.start(&app)?;
        for keep_alive in loads {
            let share = busiest_share(supervisor.host(), &app, &dir, plan, keep_alive)?;
            add(results, &app, keep_alive, who, share);
        }
        supervisor.stop(&app)?;
    }
    Ok(())
}

/// Bare node: the same loads on plain workers sharing one socket.
pub fn bare(host: &dyn Host, dir: &Path, plan: &Plan, results: &mut Results) -> Result<()> {
    for (app, loads) in cases(plan) {
        let bare = Bare::start(host, &app, dir)?;
        for keep_alive in loads {
            let share = busiest_share(host, &app, &dir.join("share"), plan, keep_alive)?;
            add(results, &app, keep_alive, Who::Bare, share);
        }
        bare.stop(host)?;
    }
    Ok(())
}

fn add(results: &mut Results, app: &App, keep_alive: bool, who: Who, share: f64) {
    let measure = measure_name(app, keep_alive);
    results.add(&measure, unit(app), Better::Lower, who, share);
    if app.single_accept {
        let plain = App {
            single_accept: false,
            ..app.clone()
        };
        results.compare_with_pm2_of(&measure, &measure_name(&plain, keep_alive));
    }
}

/// One load with a warm-up before it; the busiest worker's share, in %.
fn busiest_share(
    host: &dyn Host,
    app: &App,
    dir: &Path,
    plan: &Plan,
    keep_alive: bool,
) -> Result<f64> {
    // Warm up the JIT, as for throughput; the counted load opens its own
    // connections.
    load::run(host, &plan.load(app.port, keep_alive, 1), dir)?;
    let mut counted = plan.load(app.port, keep_alive, plan.share_seconds);
    counted.script = Some(bench_dir().join("wrk/worker-counts.lua"));
    let output = load::run_text(host, &counted, dir)?;
    let report = testhost::wrk::parse(&output)?;
    let counts = worker_counts(&output)?;
    if counts.len() > app.instances as usize {
        bail!(
            "{} workers of {} ×{} answered, more than it has: one was restarted during the load ({counts:?})",
            counts.len(),
            app.name,
            app.instances
        );
    }
    if app.single_accept {
        for (worker, _) in &counts {
            host.ok(&format!(
                "tr '\\0' '\\n' < /proc/{worker}/environ | grep -qx UV_TCP_SINGLE_ACCEPT=1"
            ))
            .with_context(|| format!("worker {worker} runs without UV_TCP_SINGLE_ACCEPT=1"))?;
        }
    }
    let share = busiest(&counts);
    eprintln!(
        "    share, {} ×{}{}{}: busiest {share:.1} % of {:?} ({} failed)",
        app.name,
        app.instances,
        if keep_alive {
            ", keep-alive"
        } else {
            ", close"
        },
        if app.single_accept {
            ", UV_TCP_SINGLE_ACCEPT=1"
        } else {
            ""
        },
        counts.iter().map(|(_, count)| count).collect::<Vec<_>>(),
        report.failed()
    );
    Ok(share)
}

/// The lines the Lua script prints, `worker PID COUNT`, busiest first.
fn worker_counts(output: &str) -> Result<Vec<(u32, u64)>> {
    let mut counts = Vec::new();
    for line in output.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let ["worker", worker, count] = words.as_slice() else {
            continue;
        };
        let worker: u32 = worker.parse().with_context(|| {
            format!("a response named no worker (x-worker: PID) in {line:?} of:\n{output}")
        })?;
        let count: u64 = count
            .parse()
            .with_context(|| format!("wrk's script printed {line:?}: expected worker PID COUNT"))?;
        counts.push((worker, count));
    }
    if counts.iter().all(|&(_, count)| count == 0) {
        bail!("wrk counted no response per worker (no line `worker PID COUNT`):\n{output}");
    }
    counts.sort_by_key(|&(_, count)| std::cmp::Reverse(count));
    Ok(counts)
}

/// The busiest worker's requests over all requests, in %.
fn busiest(counts: &[(u32, u64)]) -> f64 {
    let total: u64 = counts.iter().map(|(_, count)| count).sum();
    let most = counts.iter().map(|&(_, count)| count).max().unwrap_or(0);
    if total == 0 {
        return 0.0;
    }
    100.0 * most as f64 / total as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_counts_the_script_prints_among_wrk_s_report() {
        let output = "Running 3s test @ http://127.0.0.1:3000/\n  2 threads and 32 connections\n\
                      Requests/sec:  1000.00\nworker 41 300\nworker 42 900\n";
        let counts = worker_counts(output).unwrap();
        assert_eq!(counts, vec![(42, 900), (41, 300)]);
        assert_eq!(busiest(&counts), 75.0);
    }

    #[test]
    fn a_response_without_a_worker_is_an_error() {
        let error = worker_counts("worker none 12\nworker 41 3\n").unwrap_err();
        assert!(format!("{error:#}").contains("x-worker"), "{error:#}");
        assert!(worker_counts("Requests/sec: 5\n").is_err());
    }

    #[test]
    fn names_the_variant_and_the_even_share() {
        let app = App::hello().with_instances(4).with_single_accept();
        assert_eq!(
            measure_name(&app, true),
            "Busiest worker's share, hello-world ×4, keep-alive, nodeunits with UV_TCP_SINGLE_ACCEPT=1 (ratio to PM2's row above)"
        );
        assert_eq!(unit(&App::hello()), "% of requests, 50 is even");
    }
}
