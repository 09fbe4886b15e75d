//! Failed requests during K rolling reloads under keep-alive load, for the
//! naive and the cooperative app; latency during reloads against steady,
//! back to back and at one pace for all.
//!
//! Then, in a window of its own (a steady load and K more reloads back to
//! back under the same load), the probe ([`crate::probe`]) opens a new
//! connection every 5 ms beside the keep-alive load of the cooperative app: how fast a worker answers a new connection in its
//! first moments (a cold successor), against the steady workers and the old
//! ones while they are replaced. The cooperative app names its worker in
//! each answer; a successor is a worker first heard from once the reloads
//! had begun, its age the time since its first answer to the probe.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};

use super::{who, Plan};
use crate::apps::App;
use crate::load;
use crate::probe::{self, now_ms, Answer};
use crate::report::{percentile, Better, Results, Who};
use crate::supervisor::Supervisor;
use testhost::wrk::Report;

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
        // The cooperative app's latency, beyond the smoke.
        let detailed = app.wait_ready && !plan.smoke;

        if detailed {
            let (steady, _) = steady_load(supervisor, plan, &app, &dir)?;
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
        let (report, reloads) = reloads_under_load(supervisor, plan, &app, &dir)?;
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
            reloads.seconds(),
        );
        if detailed {
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
            paced(supervisor, &app, plan, results)?;
            probed(supervisor, plan, &app, &dir, results)?;
        }
        supervisor.stop(&app)?;
    }
    Ok(())
}

/// K reloads back to back under keep-alive load: wrk's report, and when
/// the reloads ran.
fn reloads_under_load(
    supervisor: &mut dyn Supervisor,
    plan: &Plan,
    app: &App,
    dir: &Path,
) -> Result<(Report, Window)> {
    let running = load::start(
        supervisor.host(),
        &plan.load(app.port, true, LOAD_LIMIT_SECONDS),
        dir,
    )?;
    let from_ms = now_ms();
    for _ in 0..plan.reloads {
        let before = supervisor.worker_pids(app)?;
        supervisor.reload(app)?;
        let after = supervisor.worker_pids(app)?;
        if let Some(pid) = before.iter().find(|pid| after.contains(pid)) {
            bail!(
                "{}: a reload of {} left worker {pid} running (before {before:?}, after {after:?})",
                supervisor.name(),
                app.name
            );
        }
    }
    let reloads = Window {
        from_ms,
        to_ms: now_ms(),
    };
    // Let requests queued during the last reload complete.
    std::thread::sleep(Duration::from_millis(500));
    Ok((running.stop(supervisor.host())?, reloads))
}

/// The probe, in a window of its own: from before a steady load to after
/// another K reloads back to back under the same load as above. Its process
/// and its CPU would raise the rows above (p99 during reloads by 1 to 3 ms
/// in interleaved runs), so wrk's report of this window is not kept.
fn probed(
    supervisor: &mut dyn Supervisor,
    plan: &Plan,
    app: &App,
    dir: &Path,
    results: &mut Results,
) -> Result<()> {
    let probe = probe::start(supervisor.host(), app.port, LOAD_LIMIT_SECONDS, dir)?;
    // The probe's own first requests are slow (node warming up).
    std::thread::sleep(PROBE_WARM_UP);
    let (_, steady) = steady_load(supervisor, plan, app, dir)?;
    let (_, reloads) = reloads_under_load(supervisor, plan, app, dir)?;
    let answers = probe.stop(supervisor.host())?;
    add_probe_rows(
        results,
        who(supervisor),
        plan.reloads,
        &answers,
        steady,
        reloads,
    );
    Ok(())
}

/// The steady load, before the reloads: wrk's report, and when it ran.
fn steady_load(
    supervisor: &dyn Supervisor,
    plan: &Plan,
    app: &App,
    dir: &Path,
) -> Result<(Report, Window)> {
    let from_ms = now_ms();
    let report = load::run(
        supervisor.host(),
        &plan.load(app.port, true, plan.steady_seconds),
        dir,
    )?;
    let window = Window {
        from_ms,
        to_ms: now_ms(),
    };
    Ok((report, window))
}

/// How long the probe runs before the steady load.
const PROBE_WARM_UP: Duration = Duration::from_millis(500);

/// A span of the wall clock, ends included.
#[derive(Debug, Clone, Copy)]
struct Window {
    from_ms: f64,
    to_ms: f64,
}

impl Window {
    fn seconds(&self) -> f64 {
        (self.to_ms - self.from_ms) / 1000.0
    }

    fn contains(&self, ms: f64) -> bool {
        (self.from_ms..=self.to_ms).contains(&ms)
    }
}

/// The probe's answers a row is made of, by the answering worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Class {
    /// Sent during the steady load.
    Steady,
    /// Sent during the reloads to a successor less than 50 ms old.
    SuccessorFirst50,
    /// To a successor 50 to 500 ms old.
    Successor50To500,
    /// To a successor older than that: no row.
    SuccessorLater,
    /// Sent during the reloads, answered by a worker heard from before.
    OldDuringReloads,
}

impl Class {
    /// The row's name, or `None`.
    fn measure(self) -> Option<&'static str> {
        match self {
            Class::Steady => Some("steady workers"),
            Class::SuccessorFirst50 => Some("a successor's first 50 ms"),
            Class::Successor50To500 => Some("a successor 50–500 ms in"),
            Class::SuccessorLater => None,
            Class::OldDuringReloads => Some("old workers during reloads"),
        }
    }

    fn of(answer_ms: f64, first_ms: f64, steady: Window, reloads: Window) -> Option<Class> {
        if steady.contains(answer_ms) {
            return Some(Class::Steady);
        }
        if !reloads.contains(answer_ms) {
            return None;
        }
        if first_ms < reloads.from_ms {
            return Some(Class::OldDuringReloads);
        }
        Some(match answer_ms - first_ms {
            age if age < 50.0 => Class::SuccessorFirst50,
            age if age < 500.0 => Class::Successor50To500,
            _ => Class::SuccessorLater,
        })
    }
}

/// The latencies of the probe's answers, by class; answers sent outside
/// both windows and failed requests are in none.
fn classify(answers: &[Answer], steady: Window, reloads: Window) -> BTreeMap<Class, Vec<f64>> {
    let mut first_ms: HashMap<u32, f64> = HashMap::new();
    for answer in answers {
        if let Ok(pid) = answer.worker {
            let first = first_ms.entry(pid).or_insert(answer.sent_ms);
            *first = first.min(answer.sent_ms);
        }
    }
    let mut classes: BTreeMap<Class, Vec<f64>> = BTreeMap::new();
    for answer in answers {
        let Ok(pid) = answer.worker else { continue };
        if let Some(class) = Class::of(answer.sent_ms, first_ms[&pid], steady, reloads) {
            classes.entry(class).or_default().push(answer.latency_ms);
        }
    }
    classes
}

/// The probe's rows: p99 latency by class, for the classes that have
/// answers (a supervisor may have none in one), and its failed requests.
fn add_probe_rows(
    results: &mut Results,
    who: Who,
    reloads: u32,
    answers: &[Answer],
    steady: Window,
    reload_window: Window,
) {
    let classes = classify(answers, steady, reload_window);
    let mut failures: BTreeMap<&str, u64> = BTreeMap::new();
    for answer in answers {
        if let Err(why) = &answer.worker {
            *failures.entry(why).or_default() += 1;
        }
    }
    let counts: Vec<String> = classes
        .iter()
        .map(|(class, latencies)| {
            let name = class.measure().unwrap_or("a successor later");
            format!("{name} {}", latencies.len())
        })
        .chain(
            failures
                .iter()
                .map(|(why, count)| format!("failed ({why}) {count}")),
        )
        .collect();
    eprintln!(
        "    probe: {} requests; {}",
        answers.len(),
        counts.join(", ")
    );
    for (class, latencies) in &classes {
        if let (Some(name), Some(p99)) = (class.measure(), percentile(latencies, 99.0)) {
            results.add(
                &format!("p99 latency of a new connection, {name}, cooperative ×2"),
                "ms",
                Better::Lower,
                who,
                p99,
            );
        }
    }
    results.add(
        &format!("Failed new connections of the probe during {reloads} reloads, cooperative ×2"),
        "requests",
        Better::Lower,
        who,
        failures.values().sum::<u64>() as f64,
    );
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

#[cfg(test)]
mod tests {
    use super::*;

    const STEADY: Window = Window {
        from_ms: 1000.0,
        to_ms: 2000.0,
    };
    const RELOADS: Window = Window {
        from_ms: 3000.0,
        to_ms: 4000.0,
    };

    /// Workers 11 and 12 before the reloads; successors 21 and 22.
    const SAMPLE: &str = "\
900 9.0 11
1000 1.0 11
1500 2.0 12
2500 7.0 12
3010 3.0 11
3020 30.0 21
3060 20.0 21
3070 10.0 21
3100 0.5 error:ECONNRESET
3200 6.0 22
3150 40.0 22
3600 5.0 21
4100 8.0 22
";

    #[test]
    fn classes_answers_by_the_age_of_the_worker() {
        let answers = probe::parse(SAMPLE).unwrap();
        let classes = classify(&answers, STEADY, RELOADS);
        let expected = BTreeMap::from([
            (Class::Steady, vec![1.0, 2.0]),
            // 21 first answered at 3020; 22 at 3150, a line after its later one.
            (Class::SuccessorFirst50, vec![30.0, 20.0, 40.0]),
            (Class::Successor50To500, vec![10.0, 6.0]),
            (Class::SuccessorLater, vec![5.0]),
            (Class::OldDuringReloads, vec![3.0]),
        ]);
        assert_eq!(classes, expected);
    }

    #[test]
    fn adds_a_row_for_each_class_with_answers_and_the_failures() {
        let mut results = Results::new("test", 1);
        let answers = probe::parse(SAMPLE).unwrap();
        add_probe_rows(&mut results, Who::Pm2, 10, &answers, STEADY, RELOADS);
        let row = |name: &str| {
            let measure = format!("p99 latency of a new connection, {name}, cooperative ×2");
            results.row(&measure).map(|row| row.pm2.clone())
        };
        assert_eq!(row("steady workers"), Some(vec![2.0]));
        assert_eq!(row("a successor's first 50 ms"), Some(vec![40.0]));
        assert_eq!(row("a successor 50–500 ms in"), Some(vec![10.0]));
        assert_eq!(row("old workers during reloads"), Some(vec![3.0]));
        let failed = results
            .row("Failed new connections of the probe during 10 reloads, cooperative ×2")
            .unwrap();
        assert_eq!(failed.pm2, vec![1.0]);

        // No successor answered: no row for them, rather than an empty one.
        let mut results = Results::new("test", 1);
        let before = &answers[..4];
        add_probe_rows(&mut results, Who::Oxmgr, 10, before, STEADY, RELOADS);
        assert_eq!(results.rows.len(), 2, "{:?}", results.rows);
        assert_eq!(
            results.rows[0].measure,
            "p99 latency of a new connection, steady workers, cooperative ×2"
        );
    }
}
