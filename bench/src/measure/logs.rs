//! Logging. Lines lost over a burst (2 workers printing 60,000 numbered
//! lines each over 5 s, about 11 MB): with each supervisor's default logging,
//! and into one `out_file` rotated at 2 MB (pm2-logrotate under PM2, the
//! app's `log_rotate` under nodeunits), with the rotations that happened.
//! Then the cost of logging: hello-world that logs a line per request under
//! keep-alive load, its throughput and the lines it lost, the same two ways.
//! Oxmgr is measured with its default logging only: see [`OXMGR_ROTATION`].

use std::path::Path;
use std::thread::sleep;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};

use super::{who, Plan};
use crate::apps::{App, Logging, Rotation};
use crate::load;
use crate::report::{Better, Results, Who};
use crate::supervisor::{logged_lines, Supervisor};

/// Lines each worker prints in the burst, and over how long: with two
/// workers, about 11 MB, so that 2 MB files rotate several times while the
/// lines are written (pm2-logrotate looks once a second).
const BURST_LINES: u64 = 60_000;
const BURST_SECONDS: u32 = 5;

/// Lines a PID must have printed to count as a worker's: fewer than the 500
/// of one write of the burst.
const WHOLE_WRITE: u64 = 100;

/// After the lines are all written, time for a rotator to finish the
/// rotation under way: a line it loses is lost only once it is done.
const ROTATION_GRACE: Duration = Duration::from_secs(3);

/// How long the lines may take to reach their files once the burst or the
/// load is over; a count that has not moved for [`SETTLED`] is final.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(60);
const SETTLED: Duration = Duration::from_secs(5);

const DEFAULT: &str = "default logging (PM2: its files; nodeunits: the journal)";

/// Why Oxmgr has no rows of a rotated file.
pub const OXMGR_ROTATION: &str = "Oxmgr is absent from the rows of an out_file rotated at 2M: it rotates a log file only when it starts a process (`OXMGR_LOG_MAX_SIZE_MB`), never while the process writes it, so it has no counterpart of pm2-logrotate or `log_rotate`. Its rows of default logging are its own files (`OXMGR_HOME/logs/APP.out.log`).";

pub fn measure(supervisor: &mut dyn Supervisor, plan: &Plan, results: &mut Results) -> Result<()> {
    let logs = supervisor.work_dir().join("logs");
    let tag = tag();
    burst(
        supervisor,
        App::burst(BURST_LINES, BURST_SECONDS, &format!("{tag}a")),
        DEFAULT,
        results,
    )?;
    chatty(
        supervisor,
        plan,
        App::chatty(&format!("{tag}b")),
        DEFAULT,
        results,
    )?;

    if who(supervisor) == Who::Oxmgr {
        results.note(OXMGR_ROTATION);
        return Ok(());
    }
    let rotation = Rotation::small();
    supervisor.rotate_logs(Some(rotation))?;
    let rotated =
        App::burst(BURST_LINES, BURST_SECONDS, &format!("{tag}c")).logging_to(&logs, rotation);
    burst(supervisor, rotated, &rotated_into(rotation), results)?;
    let rotated = App::chatty(&format!("{tag}d")).logging_to(&logs, rotation);
    chatty(supervisor, plan, rotated, &rotated_into(rotation), results)?;
    supervisor.rotate_logs(None)
}

/// Tells this run's lines from those of earlier runs, which the journal and
/// PM2's default files keep.
fn tag() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos())
        .unwrap_or_default();
    format!("t{nanos}")
}

fn rotated_into(rotation: Rotation) -> String {
    format!(
        "one out_file rotated at {} (PM2: pm2-logrotate; nodeunits: log_rotate)",
        rotation.max_size
    )
}

fn burst(
    supervisor: &mut dyn Supervisor,
    app: App,
    what: &str,
    results: &mut Results,
) -> Result<()> {
    let tag = start_fresh(supervisor, &app)?;
    let expected = u64::from(app.instances) * BURST_LINES;
    let logged = logged_lines(supervisor, &app);
    // Whole lines only, to their padding: a line torn by another write is
    // lost.
    let unique_lines =
        format!("{logged} | grep -oE 'burst {tag} [0-9]+ [0-9]+ x{{56}}' | sort -u | wc -l");
    settle(supervisor, expected, &unique_lines)?;
    sleep(ROTATION_GRACE);
    let found = count(supervisor, &unique_lines)?;
    // A worker's PID, as its lines give it: at least [`WHOLE_WRITE`] of
    // them. Under Oxmgr the workers share one pipe, and a line torn by the
    // other worker's write can read as a PID of its own, once or twice; a
    // restarted worker prints at least one write of 500 lines.
    let workers = count(
        supervisor,
        &format!(
            "{logged} | grep -oE 'burst {tag} [0-9]+ ' | sort | uniq -c | awk '$1 >= {WHOLE_WRITE}' | wc -l"
        ),
    )?;
    if workers > u64::from(app.instances) {
        bail!(
            "{workers} workers of {} printed the burst under {}: one was restarted",
            app.name,
            supervisor.name()
        );
    }
    let rotated = rotated_files(supervisor, &app)?;
    supervisor.stop(&app)?;
    let who = who(supervisor);
    results.add(
        &format!(
            "Lines lost, burst of {} × {BURST_LINES} lines, {what}",
            app.instances
        ),
        "lines",
        Better::Lower,
        who,
        expected.saturating_sub(found) as f64,
    );
    add_rotated(results, who, rotated, &format!("after that burst, {what}"));
    Ok(())
}

/// How many rotated files the app's log directory holds, if it has one.
fn rotated_files(supervisor: &dyn Supervisor, app: &App) -> Result<Option<u64>> {
    match &app.logging {
        Logging::RotatedFile { path, .. } => Ok(Some(count(
            supervisor,
            &format!("find {} -name '*__*' | wc -l", parent(path).display()),
        )?)),
        Logging::Default => Ok(None),
    }
}

fn add_rotated(results: &mut Results, who: Who, rotated: Option<u64>, when: &str) {
    if let Some(rotated) = rotated {
        results.add(
            &format!("Rotated files {when}"),
            "files",
            Better::Neither,
            who,
            rotated as f64,
        );
    }
}

fn chatty(
    supervisor: &mut dyn Supervisor,
    plan: &Plan,
    app: App,
    what: &str,
    results: &mut Results,
) -> Result<()> {
    let tag = start_fresh(supervisor, &app)?;
    let dir = supervisor.work_dir().join("logs-load");
    let host = supervisor.host();
    let warm_up = load::run(host, &plan.load(app.port, true, 1), &dir)?;
    let report = load::run(
        host,
        &plan.load(app.port, true, plan.throughput_seconds),
        &dir,
    )?;
    // Every request wrk saw answered was logged before it was answered.
    let answered = warm_up.requests + report.requests;
    let logged = logged_lines(supervisor, &app);
    let lines = format!("{logged} | grep -c 'request {tag} ' || true");
    settle(supervisor, answered, &lines)?;
    sleep(ROTATION_GRACE);
    let found = count(supervisor, &lines)?;
    let rotated = rotated_files(supervisor, &app)?;
    supervisor.stop(&app)?;
    let who = who(supervisor);
    results.add(
        &format!("Throughput, hello-world ×2 logging a line per request, keep-alive, {what}"),
        "req/s",
        Better::Higher,
        who,
        report.requests_per_second,
    );
    results.add(
        &format!("Lines lost logging a line per request under that load, {what}"),
        "lines",
        Better::Lower,
        who,
        answered.saturating_sub(found) as f64,
    );
    add_rotated(results, who, rotated, &format!("after that load, {what}"));
    Ok(())
}

/// Starts the app with an empty directory for its log files (no line of an
/// earlier run is counted, and PM2 finds the directory it writes to);
/// returns the tag of its lines.
fn start_fresh(supervisor: &mut dyn Supervisor, app: &App) -> Result<String> {
    let tag = app
        .env()
        .into_iter()
        .find(|(key, _)| *key == "RUN_TAG")
        .map(|(_, tag)| tag)
        .with_context(|| format!("{} has no RUN_TAG", app.name))?;
    if let Logging::RotatedFile { path, .. } = &app.logging {
        let dir = parent(path).display();
        supervisor
            .host()
            .ok(&format!("rm -rf {dir} && mkdir -p {dir}"))?;
    }
    supervisor.start(app)?;
    Ok(tag)
}

fn parent(path: &Path) -> &Path {
    path.parent().unwrap_or(path)
}

/// Waits until the count `command` prints reaches `expected` or stops
/// moving.
fn settle(supervisor: &dyn Supervisor, expected: u64, command: &str) -> Result<()> {
    let deadline = Instant::now() + SETTLE_TIMEOUT;
    let mut last = (u64::MAX, Instant::now());
    loop {
        let found = count(supervisor, command)?;
        if found >= expected || Instant::now() > deadline {
            return Ok(());
        }
        if found != last.0 {
            last = (found, Instant::now());
        } else if last.1.elapsed() >= SETTLED {
            return Ok(());
        }
        sleep(Duration::from_millis(500));
    }
}

fn count(supervisor: &dyn Supervisor, command: &str) -> Result<u64> {
    let text = supervisor.host().ok(command)?;
    text.trim()
        .parse()
        .with_context(|| format!("`{command}` printed {text:?}, not a count"))
}
