//! PM2's `watch`: what watching an app's files costs while nothing
//! changes, on a tree shaped like an app's node_modules (1,000 packages,
//! 3,000 directories, 14,000 files: bench/apps/make-tree.js). With PM2's
//! default ignores (node_modules and hidden names) and with everything
//! watched (`ignore_watch = []`, as PM2's watch-CPU issues have it): the CPU
//! time the watcher uses to start (until a second of it costs under 20 ms)
//! and then over an idle window, and its
//! memory. PM2 watches in its daemon, so its cost is the daemon's with the
//! watch less the daemon's without, in the same run; Oxmgr's too (its daemon
//! scans the watched files every 2 s, PM2's default ignores given to it as
//! `ignore_watch` regexes); nodeunits' is its watcher process
//! (`APP-watch.service`).

use std::thread::sleep;
use std::time::Duration;

use anyhow::{Context, Result};

use super::who;
use crate::apps::{bench_dir, App};
use crate::report::{Better, Results, Who};
use crate::supervisor::{cpu_ms, rss_kb, Supervisor};

const PACKAGES: u32 = 1000;
/// The watcher is set up once a second of it costs less than this, or
/// after [`SETUP_LIMIT`].
const SET_UP_BELOW_MS: f64 = 20.0;
const SETUP_LIMIT: Duration = Duration::from_secs(60);
const IDLE: Duration = Duration::from_secs(20);

/// What the watcher used, over bare PM2 where that is the daemon.
#[derive(Debug, Clone, Copy, Default)]
struct Cost {
    start_ms: f64,
    idle_ms: f64,
    rss_kb: f64,
}

pub fn measure(supervisor: &mut dyn Supervisor, results: &mut Results) -> Result<()> {
    let tree = supervisor.work_dir().join("watch-tree");
    let host = supervisor.host();
    host.ok(&format!(
        "rm -rf {0} && mkdir -p {0} && node {1} {0} {PACKAGES}",
        tree.display(),
        bench_dir().join("apps/make-tree.js").display()
    ))?;
    let dirs = host
        .ok(&format!("find {} -type d | wc -l", tree.display()))?
        .trim()
        .parse::<u64>()
        .context("counting the tree's directories")?;
    let who = who(supervisor);
    // PM2's or Oxmgr's daemon without a watch: what its own work costs.
    let baseline = match who {
        Who::Pm2 | Who::Oxmgr => cost(supervisor, &App::hello().watching(&tree, None))?,
        _ => Cost::default(),
    };
    for (default_ignore, case) in [
        (true, "node_modules ignored (PM2's default)"),
        (false, "everything watched (ignore_watch = [])"),
    ] {
        let app = App::hello().watching(&tree, Some(default_ignore));
        let watched = cost(supervisor, &app)?;
        let name = |what: &str| format!("Watch, {what}, a tree of {dirs} directories, {case}");
        results.add(
            &name("CPU to start watching"),
            "ms",
            Better::Lower,
            who,
            (watched.start_ms - baseline.start_ms).max(0.0),
        );
        results.add(
            &name(&format!("CPU while idle for {} s", IDLE.as_secs())),
            "ms",
            Better::Lower,
            who,
            (watched.idle_ms - baseline.idle_ms).max(0.0),
        );
        results.add(
            &name("memory"),
            "MB",
            Better::Lower,
            who,
            ((watched.rss_kb - baseline.rss_kb) / 1024.0).max(0.0),
        );
    }
    Ok(())
}

/// Starts the app, and measures its watcher once set up and after an idle
/// window; stops it.
fn cost(supervisor: &mut dyn Supervisor, app: &App) -> Result<Cost> {
    let before = match supervisor.watcher_pid(app)? {
        Some(pid) => cpu_ms(supervisor.host(), pid)?,
        None => 0.0,
    };
    supervisor.start(app)?;
    sleep(Duration::from_secs(1));
    let pid = supervisor
        .watcher_pid(app)?
        .with_context(|| format!("{} has no watcher under {}", app.name, supervisor.name()))?;
    let host = supervisor.host();
    let started = std::time::Instant::now();
    let mut set_up = cpu_ms(host, pid)?;
    loop {
        sleep(Duration::from_secs(1));
        let now = cpu_ms(host, pid)?;
        let settled = now - set_up < SET_UP_BELOW_MS || started.elapsed() > SETUP_LIMIT;
        set_up = now;
        if settled {
            break;
        }
    }
    sleep(IDLE);
    let idle = cpu_ms(host, pid)?;
    let rss = rss_kb(host, pid)? as f64;
    supervisor.stop(app)?;
    Ok(Cost {
        start_ms: set_up - before,
        idle_ms: idle - set_up,
        rss_kb: rss,
    })
}
