//! A reload replaces each instance's app successor first, on real systemd:
//! the new process serves before the old one stops taking connections, so
//! even a single instance never stops serving; the unit stays active, with
//! its instance number; a successor that cannot start leaves the running
//! process serving and fails the reload. The next worker's turn comes once
//! the successor has been up min_uptime; one that ends sooner stops the
//! reload there.

mod apply_support;
mod helper_support;

use std::time::{Duration, Instant};

use apply_support::{
    active_states, app_pids, give_to_deploy, invocation_ids, nodeunits, nodeunits_ok,
};
use helper_support::{assert_no_failures, stop_wrk, synced_journal, wrk};
use testhost::TestHost;

/// Answers with its instance, version and pid; `?delay=MS` answers late.
/// Version `broken` throws at its start; version `flaky` exits 400 ms after
/// it listens, the first time it runs.
const SERVER: &str = r#"const http = require('http');
const fs = require('fs');
const version = fs.readFileSync(__dirname + '/VERSION', 'utf8').trim();
if (version === 'broken') throw new Error('version broken cannot start');
http.createServer((req, res) => {
  const delay = Number(new URL(req.url, 'http://x').searchParams.get('delay')) || 0;
  setTimeout(() => res.end(`${process.env.NODE_APP_INSTANCE} ${version} ${process.pid}\n`), delay);
}).listen(3400, () => {
  if (version === 'flaky' && !fs.existsSync(__dirname + '/flaked')) {
    fs.writeFileSync(__dirname + '/flaked', '');
    setTimeout(() => { console.error('version flaky gives up'); process.exit(3); }, 400);
  }
});
"#;

const ECOSYSTEM: &str = "[[apps]]\nname = \"one\"\nscript = \"server.js\"\ninstances = 1\n\
    port = 3400\nkill_timeout = 8000\nlisten_timeout = 6000\n";

/// Two workers, and a successor counts as started after 2 s.
const TWO: &str = "[[apps]]\nname = \"one\"\nscript = \"server.js\"\ninstances = 2\n\
    port = 3400\nmin_uptime = 2000\n";

fn boot(name: &str) -> TestHost {
    boot_with(name, ECOSYSTEM)
}

fn boot_with(name: &str, ecosystem: &str) -> TestHost {
    let host = TestHost::boot(name);
    host.write("/srv/one/server.js", SERVER);
    host.write("/srv/one/VERSION", "v1\n");
    host.write("/srv/one/ecosystem.toml", ecosystem);
    give_to_deploy(&host, "/srv/one");
    nodeunits_ok(&host, "apply /srv/one/ecosystem.toml");
    host
}

/// (instance, version, pid) of one answer.
fn answer(host: &TestHost, path: &str) -> (String, String, String) {
    let body = host.ok(&format!(
        "curl -fsS --max-time 10 http://127.0.0.1:3400{path}"
    ));
    let words: Vec<&str> = body.split_whitespace().collect();
    assert_eq!(words.len(), 3, "{body}");
    (words[0].into(), words[1].into(), words[2].into())
}

#[test]
fn one_instance_serves_the_new_version_before_the_old_one_finishes() {
    let host = boot("reload-successor");
    let unit = ["one@0.service".to_owned()];
    let id = invocation_ids(&host, &unit);
    let (_, _, old_pid) = answer(&host, "/");

    // A slow request on the old process, then the deploy.
    let slow =
        host.spawn("curl -fsS --max-time 20 'http://127.0.0.1:3400/?delay=4000' > /run/slow.out");
    std::thread::sleep(Duration::from_millis(500));
    host.write("/srv/one/VERSION", "v2\n");
    let reload = host.spawn(&format!(
        "{} reload one > /run/reload.out 2>&1; echo $? > /run/reload.status",
        apply_support::NODEUNITS
    ));
    // Before the slow request is answered, the new version answers.
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut states = Vec::new();
    let new_pid = loop {
        states.extend(active_states(&host, &unit));
        let (instance, version, pid) = answer(&host, "/");
        assert_eq!(instance, "0", "NODE_APP_INSTANCE stays the instance's");
        if version == "v2" {
            break pid;
        }
        assert!(Instant::now() < deadline, "v2 did not answer within 3 s");
    };
    assert!(
        host.ok("cat /run/slow.out 2>/dev/null || true").is_empty(),
        "the slow request was answered before v2 served: not successor first"
    );
    assert_ne!(new_pid, old_pid);
    slow.wait_with_output().expect("curl");
    let slow = host.ok("cat /run/slow.out");
    assert_eq!(
        slow.split_whitespace().collect::<Vec<_>>(),
        ["0", "v1", &old_pid]
    );

    host.wait_until("test -s /run/reload.status", Duration::from_secs(20));
    reload.wait_with_output().expect("reload");
    assert_eq!(
        host.ok("cat /run/reload.status").trim(),
        "0",
        "{}",
        host.ok("cat /run/reload.out")
    );
    assert!(host
        .ok("cat /run/reload.out")
        .starts_with("one@0.service restarted and ready in "));
    // The same unit, never stopped; the old process is gone.
    assert_eq!(invocation_ids(&host, &unit), id);
    assert!(
        states
            .iter()
            .all(|state| state == "active" || state == "reloading"),
        "{states:?}"
    );
    assert!(host.sh(&format!("kill -0 {old_pid}")).status.code() != Some(0));
    let journal = synced_journal(&host, "one@0.service");
    assert!(
        journal.contains("replaced: the new process serves, the old one is gone"),
        "{journal}"
    );
}

#[test]
fn a_single_instance_reloaded_under_load_fails_no_request() {
    let host = boot("reload-successor-load");
    let load = wrk(&host, "http://127.0.0.1:3400/", 16);
    for version in ["v2", "v3", "v4"] {
        host.write("/srv/one/VERSION", format!("{version}\n"));
        nodeunits_ok(&host, "reload one");
    }
    let (report, output) = stop_wrk(&host, load);
    assert_no_failures(&report, &output, "1 instance, reloaded 3 times");
    assert_eq!(answer(&host, "/").1, "v4");
}

#[test]
fn a_successor_that_cannot_start_leaves_the_running_process_serving() {
    let host = boot("reload-successor-broken");
    let unit = ["one@0.service".to_owned()];
    let id = invocation_ids(&host, &unit);
    let (_, _, pid) = answer(&host, "/");
    host.write("/srv/one/VERSION", "broken\n");
    let output = nodeunits(&host, "reload one");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("reload of `one` stopped at one@0.service"),
        "{stderr}"
    );
    assert!(stderr.contains("ended before it was ready"), "{stderr}");
    assert!(stderr.contains("version broken cannot start"), "{stderr}");
    assert_eq!(answer(&host, "/"), ("0".into(), "v1".into(), pid));
    assert_eq!(invocation_ids(&host, &unit), id);
    assert_eq!(active_states(&host, &unit), ["active"]);
}

/// When a process started, in clock ticks since boot (proc(5), field 22).
fn started_at(host: &TestHost, pid: &str) -> u64 {
    let stat = host.ok(&format!("cat /proc/{pid}/stat"));
    let after_name = &stat[stat.rfind(')').expect("(comm)") + 2..];
    let field: Vec<&str> = after_name.split_whitespace().collect();
    field[19].parse().expect("starttime")
}

#[test]
fn the_next_worker_is_replaced_once_the_successor_has_been_up_min_uptime() {
    let host = boot_with("reload-min-uptime", TWO);
    let old = app_pids(&host, "one", 2);
    host.write("/srv/one/VERSION", "v2\n");
    let report = nodeunits_ok(&host, "reload one");
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!(lines.len(), 2, "{report}");
    assert!(lines[0].starts_with("one@0.service restarted and ready in "));
    assert!(lines[1].starts_with("one@1.service restarted and ready in "));
    let new = app_pids(&host, "one", 2);
    assert!(old.iter().all(|pid| !new.contains(pid)), "{old:?} {new:?}");
    let ticks: u64 = host.ok("getconf CLK_TCK").trim().parse().expect("CLK_TCK");
    let apart = started_at(&host, &new[1]) - started_at(&host, &new[0]);
    assert!(
        apart * 1000 >= 2000 * ticks - 1000,
        "one@1's successor started {apart} ticks (of {ticks}/s) after one@0's: before min_uptime"
    );
}

#[test]
fn a_successor_that_ends_within_min_uptime_stops_the_reload() {
    let host = boot_with("reload-min-uptime-flaky", TWO);
    let units = ["one@0.service".to_owned(), "one@1.service".to_owned()];
    let ids = invocation_ids(&host, &units);
    let old = app_pids(&host, "one", 2);
    host.write("/srv/one/VERSION", "flaky\n");
    let stderr = apply_support::nodeunits_fails(&host, "reload one");
    assert!(
        stderr.contains("reload of `one` stopped at one@0.service; left alone: one@1.service"),
        "{stderr}"
    );
    assert!(stderr.contains("took over, then ended"), "{stderr}");
    assert!(stderr.contains("within min_uptime (2000 ms)"), "{stderr}");
    // The worker left alone runs the old process, in the same unit.
    assert_eq!(app_pids(&host, "one", 2)[1], old[1]);
    assert_eq!(invocation_ids(&host, &units)[1], ids[1]);
    let journal = synced_journal(&host, "one@0.service");
    assert!(journal.contains("version flaky gives up"), "{journal}");
    // systemd restarts the worker that failed; it serves the new version.
    host.wait_until("systemctl is-active one@0.service", Duration::from_secs(20));
    let answers: Vec<(String, String, String)> = (0..20).map(|_| answer(&host, "/")).collect();
    assert!(
        answers.iter().any(|a| a.0 == "0" && a.1 == "flaky"),
        "{answers:?}"
    );
    assert!(
        answers
            .iter()
            .filter(|a| a.0 == "1")
            .all(|a| a.1 == "v1" && a.2 == old[1]),
        "{answers:?}"
    );
}
