//! nodeunits against PM2 and Oxmgr, side by side in one run, on the same apps
//! and the same load: see BENCHMARKS.md.
//!
//! `nodeunits-bench [--bin-dir target/release]` runs the full benchmark and writes bench/results/latest.{md,json};
//! `nodeunits-bench --smoke` runs one reload under load per app and one case of
//! the share of requests on PM2 and nodeunits (not Oxmgr, which it does not
//! build), writes bench/results/tmp/smoke.{md,json} and fails unless nodeunits
//! failed no request; `--only-measure NAME` runs one measure and writes
//! bench/results/tmp/NAME.{md,json}.

mod apps;
mod bare;
mod host;
mod load;
mod machine;
mod measure;
mod nodeunits;
mod oxmgr;
mod pm2;
mod probe;
mod report;
mod supervisor;
mod units;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};

use apps::{bench_dir, App};
use measure::{
    crash, fleet, logs, memory, memory_limit, reload, share, startup, supervisor_killed,
    throughput, watch, Plan, MEASURES,
};
use report::Results;
use supervisor::Supervisor;
use testhost::TestHost;

struct Options {
    plan: Plan,
    out_dir: PathBuf,
    bin_dir: PathBuf,
    /// `--only NAME`: measure one supervisor (`pm2`, `oxmgr` or `nodeunits`).
    only: Option<String>,
}

fn options() -> Result<Options> {
    let mut plan = Plan::full();
    let mut out_dir = None;
    let mut bin_dir = None;
    let mut only = None;
    let mut only_measure = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--smoke" => {
                plan = Plan {
                    runs: plan.runs.min(1),
                    ..Plan::smoke()
                }
            }
            "--runs" => {
                let value = args.next().context("--runs needs a number")?;
                plan.runs =
                    value.parse().ok().filter(|&n| n > 0).with_context(|| {
                        format!("--runs {value:?}: expected a whole number ≥ 1")
                    })?;
            }
            "--reloads" => {
                let value = args.next().context("--reloads needs a number")?;
                plan.reloads = value
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .with_context(|| format!("--reloads {value:?}: expected a whole number ≥ 1"))?;
            }
            "--only-measure" => {
                let value = args.next().unwrap_or_default();
                only_measure = Some(
                    MEASURES
                        .into_iter()
                        .find(|&name| name == value)
                        .with_context(|| {
                            format!("--only-measure {value:?}: expected one of {}", MEASURES.join(", "))
                        })?,
                );
            }
            "--only" => match args.next().as_deref() {
                Some(name @ ("pm2" | "oxmgr" | "nodeunits")) => only = Some(name.to_owned()),
                other => bail!("--only {other:?}: expected pm2, oxmgr or nodeunits"),
            },
            "--out" => {
                out_dir = Some(PathBuf::from(
                    args.next().context("--out needs a directory")?,
                ))
            }
            "--bin-dir" => {
                bin_dir = Some(PathBuf::from(
                    args.next().context("--bin-dir needs a directory")?,
                ))
            }
            other => bail!(
                "unknown argument {other:?}; allowed: --smoke, --runs N, --reloads K, --only pm2|oxmgr|nodeunits, --only-measure NAME, --out DIR, --bin-dir DIR"
            ),
        }
    }
    if plan.smoke && only_measure.is_some() {
        bail!("--only-measure does not go with --smoke: the smoke's measures are fixed");
    }
    if plan.smoke && only.as_deref() == Some("oxmgr") {
        bail!("--only oxmgr does not go with --smoke: the smoke measures PM2 and nodeunits only");
    }
    plan.only_measure = only_measure;
    // A reduced run never overwrites the full run's results.
    let default_dir = if plan.smoke || plan.only_measure.is_some() {
        bench_dir().join("results/tmp")
    } else {
        bench_dir().join("results")
    };
    Ok(Options {
        out_dir: out_dir.unwrap_or(default_dir),
        // Absolute: commands run in the boxes from another directory.
        bin_dir: match bin_dir {
            Some(dir) => std::fs::canonicalize(&dir)
                .with_context(|| format!("--bin-dir {}", dir.display()))?,
            None => beside_this_binary()?,
        },
        plan,
        only,
    })
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("nodeunits-bench: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let Options {
        plan,
        out_dir,
        bin_dir,
        only,
    } = options()?;
    let started = std::time::Instant::now();
    let pm2_version = pm2::install()?;
    let measures = |name: &str| only.as_deref().is_none_or(|only| only == name);
    // Oxmgr is built from its source, which CI's smoke run does without.
    let oxmgr_build = if measures("oxmgr") && !plan.smoke {
        Some(oxmgr::install()?)
    } else {
        None
    };
    // Scratch space inside the boxes, where the checkout is read-only.
    let scratch = PathBuf::from("/var/tmp/nodeunits-bench");

    let mut results = Results::new(plan.mode(), plan.runs);
    // Apps live in /srv: the sandbox gives a worker a /tmp and /var/tmp of
    // its own, so one living there keeps the machine's instead.
    let nodeunits = nodeunits::Nodeunits::new(
        Box::new(TestHost::boot("bench-nodeunits")),
        PathBuf::from("/srv/nodeunits-bench"),
        bin_dir,
    )?;
    let driver = nodeunits.driver();
    let nodeunits_version = nodeunits.version();
    eprintln!("nodeunits: {driver}");
    let mut supervisors: Vec<Box<dyn Supervisor>> = Vec::new();
    if measures("pm2") {
        supervisors.push(Box::new(pm2::Pm2::new(
            Box::new(TestHost::boot("bench-pm2")),
            scratch.clone(),
        )));
    }
    if let Some((binary, _)) = &oxmgr_build {
        supervisors.push(Box::new(oxmgr::Oxmgr::new(
            Box::new(TestHost::boot("bench-oxmgr")),
            scratch.clone(),
            binary,
        )?));
    }
    if measures("nodeunits") {
        supervisors.push(Box::new(nodeunits));
    }
    // Bare node's throughput is measured in nodeunits' box when it is
    // measured (throughput::measure); in this box otherwise.
    let ceiling_here = plan.wants("throughput") && !measures("nodeunits");
    let bare_box = (!plan.smoke
        && (ceiling_here
            || ["memory", "share", "fleet"]
                .iter()
                .any(|measure| plan.wants(measure))))
    .then(|| TestHost::boot("bench-bare"));

    let name = match (plan.smoke, plan.only_measure) {
        (true, _) => "smoke",
        (false, Some(measure)) => measure,
        (false, None) => "latest",
    };
    let machine = machine::describe(
        &pm2_version,
        oxmgr_build
            .as_ref()
            .map(|(_, version)| oxmgr::Oxmgr::description(version)),
        &nodeunits_version,
        driver,
    );
    // What is measured so far, written after every run and before an
    // abort: a long run's measured runs are never lost.
    let save = |results: &Results, done: u32| -> Result<String> {
        let mut snapshot = results.clone();
        snapshot.summarize();
        snapshot.machine = Some(machine.clone());
        if done < plan.runs {
            snapshot.notes.push(format!(
                "Partial: {done} of {} runs measured in full.",
                plan.runs
            ));
        }
        snapshot.notes.push(format!(
            "Wall time of this run: {:.0} s.",
            started.elapsed().as_secs_f64()
        ));
        write(&out_dir, name, &snapshot)?;
        Ok(snapshot.markdown())
    };

    let mut failed = Vec::new();
    for run in 1..=plan.runs {
        eprintln!("run {run}/{}", plan.runs);
        let measured = one_run(
            run,
            &plan,
            bare_box.as_ref(),
            ceiling_here,
            &scratch,
            &mut supervisors,
            &mut results,
            &mut failed,
        );
        if let Err(error) = measured {
            save(&results, run - 1)?;
            return Err(error);
        }
        if run < plan.runs {
            save(&results, run)?;
        }
    }
    let markdown = save(&results, plan.runs)?;
    println!("{markdown}");
    results.summarize();
    if plan.smoke {
        check_smoke(&results, &plan)?;
    }
    // A peer's failure is the peer's, and said in the notes; nodeunits'
    // is this project's to mend.
    let ours: Vec<String> = failed
        .into_iter()
        .filter(|(who, _)| *who == "nodeunits")
        .map(|(_, failure)| failure)
        .collect();
    if !ours.is_empty() {
        bail!("measures of nodeunits failed: {}", ours.join("; "));
    }
    Ok(())
}

/// A measure of one supervisor, as [`MEASURES`] names it.
type Measure = fn(&mut dyn Supervisor, &Plan, &mut Results) -> Result<()>;

/// Every supervisor's measures, in the order they run.
const SUPERVISOR_MEASURES: [(&str, Measure); 11] = [
    ("memory", |s, _, r| memory::measure(s, r)),
    ("throughput", throughput::measure),
    ("share", share::measure),
    ("startup", |s, _, r| startup::measure(s, r)),
    ("memory-limit", memory_limit::measure),
    ("reload", reload::measure),
    ("logs", logs::measure),
    ("watch", |s, _, r| watch::measure(s, r)),
    ("fleet", |s, _, r| fleet::measure(s, r)),
    ("crash", crash::measure),
    ("supervisor-killed", supervisor_killed::measure),
];

/// One run of every measure the plan wants. A supervisor's failed measure
/// does not end the run: it is said in the notes and in `failed` (who, and
/// "measure: error"), its samples of this run are missing from
/// that point, and the supervisor is cleared for its next measure. Only a
/// failure to measure bare node or to clear a supervisor ends it.
#[allow(clippy::too_many_arguments)]
fn one_run(
    run: u32,
    plan: &Plan,
    bare_box: Option<&TestHost>,
    ceiling_here: bool,
    scratch: &Path,
    supervisors: &mut [Box<dyn Supervisor>],
    results: &mut Results,
    failed: &mut Vec<(&'static str, String)>,
) -> Result<()> {
    if let Some(bare_box) = bare_box {
        if plan.wants("memory") {
            memory::baseline(bare_box, scratch, results)?;
        }
        if ceiling_here {
            throughput::ceiling(bare_box, scratch, plan, results)?;
        }
        if plan.wants("share") {
            share::bare(bare_box, scratch, plan, results)?;
        }
        if plan.wants("fleet") {
            fleet::bare(bare_box, scratch, results)?;
        }
    }
    for supervisor in supervisors.iter_mut() {
        let supervisor = supervisor.as_mut();
        eprintln!("  {}", supervisor.name());
        take_measures(run, plan, supervisor, &SUPERVISOR_MEASURES, results, failed)?;
    }
    Ok(())
}

/// The `measures` the plan wants, of one supervisor, as [`one_run`] says:
/// a failed one is noted and the supervisor cleared before the next.
fn take_measures(
    run: u32,
    plan: &Plan,
    supervisor: &mut dyn Supervisor,
    measures: &[(&str, Measure)],
    results: &mut Results,
    failed: &mut Vec<(&'static str, String)>,
) -> Result<()> {
    for &(measure, take) in measures {
        if !plan.wants(measure) {
            continue;
        }
        let Err(error) = take(supervisor, plan, results) else {
            continue;
        };
        // One line in the table's notes, whatever the error printed.
        let error = format!("{error:#}")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let who = supervisor.name();
        eprintln!("  the {measure} measure of {who} failed: {error}");
        results.note(&format!(
            "Run {run}: the {measure} measure of {who} failed, and its samples of that \
             measure in this run are missing from that point: {}",
            shortened(&error, 600)
        ));
        failed.push((who, format!("{measure}: {error}")));
        supervisor
            .clear()
            .with_context(|| format!("clearing {who} after its failed {measure} measure"))?;
    }
    Ok(())
}

/// At most `limit` characters of `text`, with "…" where it was cut.
fn shortened(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// Where `nodeunits` and `nodeunits-helper` are unless `--bin-dir` says:
/// beside this binary, built with the same profile.
fn beside_this_binary() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("finding the benchmark's own binary")?;
    Ok(exe
        .parent()
        .context("the benchmark's binary has no directory")?
        .to_path_buf())
}

fn write(dir: &Path, name: &str, results: &Results) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let markdown = results.markdown();
    std::fs::write(dir.join(format!("{name}.md")), &markdown)?;
    std::fs::write(
        dir.join(format!("{name}.json")),
        serde_json::to_string_pretty(results)? + "\n",
    )?;
    eprintln!("wrote {}/{name}.md and .json", dir.display());
    Ok(())
}

/// The smoke's verdict: the table holds both apps' reload rows, and nodeunits
/// failed no request in them.
fn check_smoke(results: &Results, plan: &Plan) -> Result<()> {
    for app in [App::naive(), App::cooperative(2)] {
        let measure = reload::failed_measure(&app, plan.reloads);
        let row = results
            .row(&measure)
            .with_context(|| format!("the table has no row {measure:?}"))?;
        match row.nodeunits_median {
            Some(0.0) => {}
            Some(failed) => bail!("nodeunits failed {failed} requests: {measure}"),
            None => bail!("nodeunits was not measured: {measure}"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use measure::Plan;
    use report::{Better, Who};

    /// The smoke's table: `failed` requests under nodeunits for each app's
    /// reloads (none: that app's row is missing), 10 under PM2.
    fn smoke_results(plan: &Plan, failed: [Option<f64>; 2]) -> Results {
        let mut results = Results::new(plan.mode(), plan.runs);
        for (app, failed) in [App::naive(), App::cooperative(2)].iter().zip(failed) {
            let measure = reload::failed_measure(app, plan.reloads);
            results.add(&measure, "requests", Better::Lower, Who::Pm2, 10.0);
            if let Some(failed) = failed {
                results.add(&measure, "requests", Better::Lower, Who::Nodeunits, failed);
            }
        }
        results.summarize();
        results
    }

    #[test]
    fn every_measure_of_a_supervisor_is_taken() {
        let mut taken: Vec<&str> = SUPERVISOR_MEASURES.iter().map(|(name, _)| *name).collect();
        let mut named = MEASURES.to_vec();
        taken.sort_unstable();
        named.sort_unstable();
        assert_eq!(taken, named);
    }

    /// A supervisor that only counts how often it was cleared; nothing
    /// else of it is called by the measures of the test below.
    struct Cleared(u32);

    impl Supervisor for Cleared {
        fn name(&self) -> &'static str {
            "Fake"
        }
        fn host(&self) -> &dyn host::Host {
            unimplemented!()
        }
        fn work_dir(&self) -> &Path {
            unimplemented!()
        }
        fn start(&mut self, _: &App) -> Result<()> {
            unimplemented!()
        }
        fn reload(&mut self, _: &App) -> Result<()> {
            unimplemented!()
        }
        fn stop(&mut self, _: &App) -> Result<()> {
            unimplemented!()
        }
        fn footprint(&self, _: &App) -> Result<supervisor::Footprint> {
            unimplemented!()
        }
        fn worker_pids(&self, _: &App) -> Result<Vec<u32>> {
            unimplemented!()
        }
        fn restarts(&self, _: &App) -> Result<u64> {
            unimplemented!()
        }
        fn rotate_logs(&mut self, _: Option<apps::Rotation>) -> Result<()> {
            unimplemented!()
        }
        fn default_log(&self, _: &App) -> String {
            unimplemented!()
        }
        fn watcher_pid(&self, _: &App) -> Result<Option<u32>> {
            unimplemented!()
        }
        fn start_all(&mut self, _: &[App]) -> Result<()> {
            unimplemented!()
        }
        fn stop_all(&mut self, _: &[App]) -> Result<()> {
            unimplemented!()
        }
        fn list_command(&self) -> String {
            unimplemented!()
        }
        fn list_servers(&self) -> Result<Vec<u32>> {
            unimplemented!()
        }
        fn supervisor_kb(&self, _: &[App]) -> Result<u64> {
            unimplemented!()
        }
        fn start_in_production(&mut self, _: &App) -> Result<()> {
            unimplemented!()
        }
        fn supervisor_pid(&self, _: &App) -> Result<u32> {
            unimplemented!()
        }
        fn stop_in_production(&mut self, _: &App) -> Result<()> {
            unimplemented!()
        }
        fn clear(&mut self) -> Result<()> {
            self.0 += 1;
            Ok(())
        }
    }

    #[test]
    fn a_failed_measure_is_noted_the_supervisor_cleared_and_the_next_taken() {
        let measures: [(&str, Measure); 2] = [
            ("memory", |_, _, _| bail!("started 49 of 50\nprimaries")),
            ("throughput", |_, _, results| {
                results.add("Taken", "s", Better::Lower, Who::Oxmgr, 1.0);
                Ok(())
            }),
        ];
        let plan = Plan::full();
        let mut supervisor = Cleared(0);
        let mut results = Results::new(plan.mode(), plan.runs);
        let mut failed = Vec::new();
        take_measures(
            2,
            &plan,
            &mut supervisor,
            &measures,
            &mut results,
            &mut failed,
        )
        .unwrap();
        assert_eq!(supervisor.0, 1, "cleared once, after the failed measure");
        assert!(results.row("Taken").is_some(), "the next measure was taken");
        assert_eq!(
            results.notes,
            [
                "Run 2: the memory measure of Fake failed, and its samples of that measure in \
              this run are missing from that point: started 49 of 50 primaries"
            ]
        );
        assert_eq!(
            failed,
            [("Fake", "memory: started 49 of 50 primaries".to_owned())]
        );
    }

    #[test]
    fn a_shortened_error_says_where_it_was_cut() {
        assert_eq!(shortened("abcdef", 3), "abc…");
        assert_eq!(shortened("abc", 3), "abc");
        assert_eq!(shortened("ééé", 2), "éé…");
    }

    #[test]
    fn the_smoke_fails_on_any_failed_request_of_nodeunits() {
        let plan = Plan::smoke();
        assert!(check_smoke(&smoke_results(&plan, [Some(0.0), Some(0.0)]), &plan).is_ok());
        let one = check_smoke(&smoke_results(&plan, [Some(0.0), Some(1.0)]), &plan).unwrap_err();
        assert!(
            one.to_string().contains("nodeunits failed 1 requests"),
            "{one}"
        );
        let unmeasured = check_smoke(&smoke_results(&plan, [None, Some(0.0)]), &plan).unwrap_err();
        assert!(
            unmeasured
                .to_string()
                .contains("nodeunits was not measured"),
            "{unmeasured}"
        );
    }
}
