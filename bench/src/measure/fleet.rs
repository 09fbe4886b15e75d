//! A fleet: 50 hello-world apps of 2 instances, 100 workers, started from
//! one file (`pm2 start FILE`, `oxmgr apply FILE`, `nodeunits apply FILE`)
//! until every worker is ready and every port answers; the command that
//! lists them (`pm2 ls`, `oxmgr list`, `nodeunits status`), median of 10,
//! with the CPU time of the command and of what answers it;
//! and the memory of the supervisor's own processes meanwhile, as their
//! proportional set sizes (100 helpers share their program's pages, as 50
//! node primaries share node's). Bare node gives the start's floor: the same
//! 100 workers started at once with no supervisor; nodeunits' start is
//! measured again with `hardening = "off"`, the sandbox's share of it.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::who;
use crate::apps::App;
use crate::bare::Bare;
use crate::host::Host;
use crate::report::{Better, Results, Who};
use crate::supervisor::{cpu_ms, wait_all_serving, Supervisor};

fn start_measure() -> String {
    format!("Time to all ready, {APPS} apps ×2 from one file")
}

/// nodeunits' start again without its sandbox: what the sandbox's mount
/// namespace and system-call filter cost each worker's start.
fn start_without_sandbox_measure() -> String {
    format!("{}, nodeunits without its sandbox", start_measure())
}

/// Apps in the fleet, of 2 instances each.
pub const APPS: u16 = 50;

/// Times the list command is run; the median is kept.
const LISTINGS: usize = 10;

pub fn measure(supervisor: &mut dyn Supervisor, results: &mut Results) -> Result<()> {
    let apps = App::fleet(APPS);
    let who = who(supervisor);
    let workers = APPS * 2;

    timed_start(supervisor, &apps, &start_measure(), results)?;

    // Timed inside the box, as a user runs it; with the CPU time of the
    // processes that answer it, and of the command itself (its shell's
    // children's, in /proc/$$/stat), over all the listings.
    let command = supervisor.list_command();
    let servers = supervisor.list_servers()?;
    let server_cpu_before: f64 = servers
        .iter()
        .map(|&pid| cpu_ms(supervisor.host(), pid))
        .sum::<Result<f64>>()?;
    let script = format!(
        "for i in $(seq {LISTINGS}); do s=$(date +%s%N); {command} >/dev/null 2>&1 || exit 1; \
         e=$(date +%s%N); echo $(( (e - s) / 1000 )); done; \
         echo \"children $(cut -d' ' -f16,17 /proc/$$/stat) $(getconf CLK_TCK)\""
    );
    let output = supervisor
        .host()
        .ok(&script)
        .with_context(|| format!("listing {workers} workers with `{command}`"))?;
    let server_cpu: f64 = servers
        .iter()
        .map(|&pid| cpu_ms(supervisor.host(), pid))
        .sum::<Result<f64>>()?
        - server_cpu_before;
    let (timings, children) = output
        .split_once("children")
        .with_context(|| format!("no children's CPU after `{command}`: {output:?}"))?;
    let ticks: Vec<f64> = children
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()
        .with_context(|| format!("the children's CPU: {children:?}"))?;
    let [user, system, hz] = ticks[..] else {
        bail!("the children's CPU: {children:?}");
    };
    let listings = LISTINGS as f64;
    let cpu_name = |whose: &str| format!("CPU time of {whose}, per listing of {workers} workers");
    results.add(
        &cpu_name("the list command"),
        "ms",
        Better::Lower,
        who,
        (user + system) * 1000.0 / hz / listings,
    );
    results.add(
        &cpu_name("what answers it (PM2's or Oxmgr's daemon; systemd and the bus daemon)"),
        "ms",
        Better::Lower,
        who,
        server_cpu / listings,
    );
    let mut micros: Vec<f64> = timings
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

    supervisor.stop_all(&apps)?;

    if who == Who::Nodeunits {
        let apps: Vec<App> = apps.into_iter().map(App::without_sandbox).collect();
        timed_start(supervisor, &apps, &start_without_sandbox_measure(), results)?;
        supervisor.stop_all(&apps)?;
    }
    Ok(())
}

/// The seconds from the start command to every worker ready and every port
/// answering, as `measure`'s row.
fn timed_start(
    supervisor: &mut dyn Supervisor,
    apps: &[App],
    measure: &str,
    results: &mut Results,
) -> Result<()> {
    let started = Instant::now();
    supervisor.start_all(apps)?;
    let seconds = started.elapsed().as_secs_f64();
    results.add(measure, "s", Better::Lower, who(supervisor), seconds);
    Ok(())
}

/// The fleet's workers with no supervisor, each app's 2 on a socket that
/// systemd-socket-activate holds (as bare node's are for throughput), all
/// launched by one command in one scope, until every port answers: what
/// 100 Node starts cost the machine.
pub fn bare(host: &dyn Host, dir: &Path, results: &mut Results) -> Result<()> {
    let apps = App::fleet(APPS);
    let dir = dir.join("fleet");
    host.ok(&format!("mkdir -p {}", dir.display()))?;
    let launches: Vec<String> = apps
        .iter()
        .map(|app| {
            let pids = dir.join(format!("{}.pids", app.name));
            format!("{} 2>/dev/null &", Bare::command(app, &pids))
        })
        .collect();
    let script = dir.join("fleet.sh");
    host.write(&script, &format!("{}\nwait\n", launches.join("\n")))?;
    let started = Instant::now();
    // In a scope of its own under system.slice, as in_scope puts the others,
    // named so that it can be stopped whole.
    let mut launcher = host.spawn(&format!(
        "exec systemd-run --quiet --scope --collect --slice=system.slice --unit=bench-fleet -- sh {}",
        script.display()
    ))?;
    let served = wait_all_serving(host, &apps, Duration::from_secs(120));
    let elapsed = started.elapsed().as_secs_f64();
    host.ok("systemctl stop bench-fleet.scope")?;
    launcher.wait()?;
    served?;
    results.add(&start_measure(), "s", Better::Lower, Who::Bare, elapsed);
    Ok(())
}
