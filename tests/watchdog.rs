//! The event-loop watchdog on a real systemd: of 2 workers under wrk load,
//! one whose loop is stuck in a `while (true)` is killed and restarted
//! within `unresponsive_timeout` and a few seconds, the other serves
//! throughout, the journal and `describe` say why, and every request after
//! the restart succeeds, from both workers (docs/ecosystem.md, "The
//! watchdog").

mod apply_support;
mod helper_support;

use std::collections::BTreeSet;
use std::time::Duration;

use apply_support::{app_pids, give_to_deploy, nodeunits_ok};
use helper_support::{one_load_at_a_time, stop_wrk, wrk};
use testhost::TestHost;

const DIR: &str = "/srv/stuck";
const PORT: u16 = 3800;

/// `/block` sends the loop of the worker that gets it into a `while (true)`,
/// after it says when (its stdout is a socket: written at once).
const APP_JS: &str = r#"require('http').createServer((req, res) => {
  if (req.url === '/block') {
    console.log(`stuck at ${Date.now()}`);
    while (true) {}
  }
  res.end(`ok ${process.pid}\n`);
}).listen(process.env.PORT);
"#;

const ECOSYSTEM: &str = r#"[[apps]]
name = "stuck"
script = "app.js"
instances = 2
exec_mode = "cluster"
listen = ["127.0.0.1:3800"]
unresponsive_timeout = "3s"
"#;

#[test]
fn a_worker_whose_event_loop_is_stuck_is_replaced_and_the_other_serves() {
    let host = TestHost::boot("watchdog");
    host.write(&format!("{DIR}/app.js"), APP_JS);
    host.write(&format!("{DIR}/ecosystem.toml"), ECOSYSTEM);
    give_to_deploy(&host, DIR);
    nodeunits_ok(&host, &format!("apply {DIR}/ecosystem.toml"));
    host.wait_until(
        &format!("curl -fsS http://127.0.0.1:{PORT}/ | grep -q ok"),
        Duration::from_secs(30),
    );
    // Beats have begun.
    std::thread::sleep(Duration::from_secs(2));
    let before = app_pids(&host, "stuck", 2);

    let _one = one_load_at_a_time();
    let load = wrk(&host, &format!("http://127.0.0.1:{PORT}/"), 16);
    // One worker takes /block and never answers; its loop is stuck.
    let mut blocked = host.spawn(&format!(
        "curl -sS --max-time 30 http://127.0.0.1:{PORT}/block"
    ));
    // Both lines: the app's comes through a stream journald reads in its
    // own time.
    host.wait_until(
        "journalctl -q -u 'stuck@*.service' | grep -q 'over unresponsive_timeout' \
         && journalctl -q -u 'stuck@*.service' | grep -q 'stuck at '",
        Duration::from_secs(20),
    );
    // From the moment the loop stuck, as the app said, to the helper's line
    // that it kills it, as journald stamped it: the test's own commands,
    // slow on a loaded machine, are not counted.
    let killed_after = killed_after_stuck(&host);
    // Its request ends with it: the connection closes, unanswered.
    let _ = blocked.wait();
    // The stuck worker is back: both serve.
    host.wait_until(
        "systemctl is-active -q stuck@0.service stuck@1.service",
        Duration::from_secs(20),
    );
    std::thread::sleep(Duration::from_secs(2));
    let (report, output) = stop_wrk(&host, load);
    assert!(
        killed_after > Duration::from_secs(2) && killed_after < Duration::from_secs(3 + 5),
        "killed {killed_after:?} after the loop stuck, with unresponsive_timeout 3s"
    );
    // The other worker served throughout: wrk saw many answers.
    assert!(
        report.requests > 1000,
        "the other worker kept serving:\n{output}"
    );

    let after = app_pids(&host, "stuck", 2);
    let replaced: Vec<_> = before.iter().filter(|pid| !after.contains(pid)).collect();
    assert_eq!(
        replaced.len(),
        1,
        "one worker replaced: {before:?} → {after:?}"
    );

    // Every request after the restart succeeds, from both workers.
    let mut answered = BTreeSet::new();
    for _ in 0..200 {
        let body = host.ok(&format!(
            "curl -fsS --max-time 5 -H 'Connection: close' http://127.0.0.1:{PORT}/"
        ));
        answered.insert(body.trim().to_owned());
    }
    assert_eq!(answered.len(), 2, "both workers answer: {answered:?}");

    let line =
        host.ok("journalctl -q -o cat -u 'stuck@*.service' | grep 'over unresponsive_timeout'");
    assert!(
        line.contains("unresponsive_timeout (3000 ms): killing it, as it cannot drain, to restart it (exit status 76)"),
        "{line}"
    );
    let metrics = nodeunits_ok(&host, "metrics");
    let counted: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("nodeunits_instance_unresponsive_restarts_total{app=\"stuck\""))
        .collect();
    assert_eq!(counted.len(), 2, "{metrics}");
    assert_eq!(
        counted.iter().filter(|l| l.ends_with(" 1")).count(),
        1,
        "{counted:?}"
    );
    let described = nodeunits_ok(&host, "describe stuck");
    assert!(
        described.contains("last restart: unresponsive: "),
        "{described}"
    );
    assert!(described.contains("unresponsive_timeout"), "{described}");
}

/// The time between the app's `stuck at MS` and the helper's line that it
/// kills the app, from the journal's timestamps in microseconds.
fn killed_after_stuck(host: &TestHost) -> Duration {
    let journal = host.ok("journalctl -q -o short-unix -u 'stuck@*.service'");
    let stuck_ms: u64 = journal
        .lines()
        .find_map(|line| line.split("stuck at ").nth(1))
        .and_then(|ms| ms.trim().parse().ok())
        .unwrap_or_else(|| panic!("the app said when it stuck:\n{journal}"));
    let killed_s: f64 = journal
        .lines()
        .find(|line| line.contains("over unresponsive_timeout"))
        .and_then(|line| line.split_whitespace().next())
        .and_then(|stamp| stamp.parse().ok())
        .unwrap_or_else(|| panic!("a stamped kill line:\n{journal}"));
    let stuck = Duration::from_millis(stuck_ms);
    Duration::from_secs_f64(killed_s)
        .checked_sub(stuck)
        .unwrap_or_else(|| panic!("killed before it stuck:\n{journal}"))
}
