//! Process hygiene: exit statuses pass through, signals are forwarded, the
//! app's leftover processes are reaped and stopped, shutdown_with_message,
//! kill_timeout, and exp_backoff_restart_delay emulated on systemd 252.

mod helper_support;

use std::time::{Duration, Instant};

use helper_support::{node_app, synced_journal, App};
use testhost::TestHost;

fn show(host: &TestHost, unit: &str, property: &str) -> String {
    host.ok(&format!("systemctl show -P {property} {unit}"))
        .trim()
        .to_owned()
}

#[test]
fn the_helper_keeps_the_process_tree_clean() {
    let host = TestHost::boot("helper-hygiene");
    let once = "Restart=no\n";

    // Exit status and death by signal pass through; ending before the app
    // is ready (an app that listens on nothing is after a second) fails the start.
    host.write(
        "/srv/exits/app.js",
        "setTimeout(() => process.exit(3), 300);\n",
    );
    App {
        service: once,
        ..node_app("exits", &[], "--node", "/usr/bin/node app.js")
    }
    .install(&host);
    assert!(!host.sh("systemctl start exits@0.service").status.success());
    host.wait_until(
        "systemctl is-failed exits@0.service",
        Duration::from_secs(10),
    );
    assert_eq!(show(&host, "exits@0.service", "ExecMainStatus"), "3");
    host.write(
        "/srv/killed/app.js",
        "setTimeout(() => process.kill(process.pid, 'SIGKILL'), 300);\n",
    );
    App {
        service: once,
        ..node_app("killed", &[], "--node", "/usr/bin/node app.js")
    }
    .install(&host);
    assert!(!host.sh("systemctl start killed@0.service").status.success());
    host.wait_until(
        "systemctl is-failed killed@0.service",
        Duration::from_secs(10),
    );
    assert_eq!(
        show(&host, "killed@0.service", "ExecMainCode"),
        "2",
        "killed, not exited"
    );
    assert_eq!(show(&host, "killed@0.service", "ExecMainStatus"), "9");

    // An app whose work is done exits by itself: the IPC channel and the
    // preload's signal handlers keep nothing alive.
    host.write("/srv/done/app.js", "setTimeout(() => {}, 1500);\n");
    App {
        service: once,
        ..node_app("done", &[], "--node", "/usr/bin/node app.js")
    }
    .start(&host, 1);
    host.wait_until(
        "systemctl show -P SubState done@0.service | grep -qx dead",
        Duration::from_secs(10),
    );
    assert_eq!(show(&host, "done@0.service", "ExecMainStatus"), "0");
    assert_eq!(show(&host, "done@0.service", "Result"), "success");

    // SIGHUP is forwarded; orphans are reaped; leftovers are stopped.
    host.write(
        "/srv/tree/app.js",
        "const { spawn } = require('child_process');\n\
         spawn('sh', ['-c', 'sleep 1000 & exit 0'], { stdio: 'ignore' });\n\
         spawn('sleep', ['1001'], { stdio: 'ignore', detached: true });\n\
         process.on('SIGHUP', () => require('fs').writeFileSync('/srv/tree/hup', 'hup'));\n\
         setInterval(() => {}, 1000);\n",
    );
    node_app("tree", &[], "--node", "/usr/bin/node app.js").start(&host, 1);
    let helper = show(&host, "tree@0.service", "MainPID");
    host.wait_until(
        &format!("ps -o args= --ppid {helper} | grep -qx 'sleep 1000'"),
        Duration::from_secs(10),
    );
    let states = host.ok("ps -e -o stat=");
    assert!(
        !states.lines().any(|s| s.starts_with('Z')),
        "zombies:\n{}",
        host.ok("ps -e -o pid,ppid,stat,args")
    );
    host.ok("systemctl kill --kill-whom=main -s HUP tree@0.service");
    host.wait_until("test -f /srv/tree/hup", Duration::from_secs(10));
    host.ok("systemctl stop tree@0.service");
    assert!(
        synced_journal(&host, "tree@0").contains("stopping the processes the app left behind"),
        "{}",
        synced_journal(&host, "tree@0")
    );
    assert_eq!(
        host.sh("pgrep -x sleep").stdout,
        b"",
        "sleep processes outlived the app"
    );

    // shutdown_with_message: the app gets 'shutdown' over IPC, not SIGINT.
    host.write(
        "/srv/polite/app.js",
        "process.on('message', (m) => { if (m === 'shutdown') { require('fs').writeFileSync('/srv/polite/got', m); process.exit(0); } });\n\
         process.on('SIGINT', () => require('fs').writeFileSync('/srv/polite/sigint', 'yes'));\n",
    );
    node_app(
        "polite",
        &[],
        "--node --shutdown-with-message",
        "/usr/bin/node app.js",
    )
    .start(&host, 1);
    let start = Instant::now();
    host.ok("systemctl stop polite@0.service");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "the stop took {:?}",
        start.elapsed()
    );
    assert_eq!(host.read("/srv/polite/got"), "shutdown");
    assert!(
        !host.sh("test -e /srv/polite/sigint").status.success(),
        "the app got SIGINT too"
    );
    assert_eq!(show(&host, "polite@0.service", "ActiveState"), "inactive");

    // SIGTERM is forwarded too: the naive app drains and dies of it, and so
    // does the helper.
    host.write(
        "/srv/termed/app.js",
        "require('http').createServer((req, res) => res.end('termed\\n')).listen(8111);\n",
    );
    App {
        service: once,
        ..node_app(
            "termed",
            &["127.0.0.1:8111"],
            "--node",
            "/usr/bin/node app.js",
        )
    }
    .start(&host, 1);
    assert_eq!(host.ok("curl -sS http://127.0.0.1:8111/"), "termed\n");
    host.ok("systemctl kill --kill-whom=main -s TERM termed@0.service");
    let ended =
        "journalctl -u termed@0 -o cat | grep -qx 'termed@0.service: Deactivated successfully.'";
    host.wait_until(ended, Duration::from_secs(10));
    let journal = synced_journal(&host, "termed@0");
    assert!(
        journal.contains("the app ended: killed by SIGTERM"),
        "{journal}"
    );

    // A SIGINT handler that only watches (as signal-exit's) leaves the
    // server open: the preload drains it halfway to kill_timeout.
    host.write(
        "/srv/watched/app.js",
        "process.on('SIGINT', () => console.log('SIGINT seen'));\n\
         require('http').createServer((req, res) => res.end('watched\\n')).listen(8110);\n",
    );
    App {
        kill_timeout_s: 4,
        ..node_app(
            "watched",
            &["127.0.0.1:8110"],
            "--node",
            "/usr/bin/node app.js",
        )
    }
    .start(&host, 1);
    assert_eq!(host.ok("curl -sS http://127.0.0.1:8110/"), "watched\n");
    let start = Instant::now();
    host.ok("systemctl stop watched@0.service");
    let took = start.elapsed();
    let journal = synced_journal(&host, "watched@0");
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_millis(3500),
        "stopped after {took:?}\n{journal}"
    );
    assert!(
        journal.contains("SIGINT seen") && !journal.contains("did not finish"),
        "{journal}"
    );
    assert_eq!(show(&host, "watched@0.service", "Result"), "success");

    // An app that ignores SIGINT is killed just before kill_timeout; still a clean stop.
    host.write(
        "/srv/stubborn/app.js",
        "process.on('SIGINT', () => {});\n\
         require('fs').writeFileSync('/srv/stubborn/up', 'up');\n\
         setInterval(() => {}, 1000);\n",
    );
    App {
        kill_timeout_s: 2,
        ..node_app("stubborn", &[], "--node", "/usr/bin/node app.js")
    }
    .start(&host, 1);
    host.wait_until("test -f /srv/stubborn/up", Duration::from_secs(10));
    let start = Instant::now();
    host.ok("systemctl stop stubborn@0.service");
    assert!(
        start.elapsed() >= Duration::from_millis(1500),
        "stopped after {:?}",
        start.elapsed()
    );
    assert_eq!(show(&host, "stubborn@0.service", "ActiveState"), "inactive");
    assert!(synced_journal(&host, "stubborn@0")
        .contains("did not finish within kill_timeout (2000 ms, less 500 ms"));
}

#[test]
fn exp_backoff_delays_each_quick_restart_more() {
    let host = TestHost::boot("helper-backoff");
    host.write("/srv/flaky/app.js", "process.exit(1);\n");
    node_app(
        "flaky",
        &[],
        "--node --exp-backoff 400",
        "/usr/bin/node app.js",
    )
    .install(&host);
    assert!(!host.sh("systemctl start flaky@0.service").status.success());
    // Four starts, three restarts after it; the helper of the fourth
    // restart waiting, for the stop below to come then.
    host.wait_until(
        "test $(journalctl -u flaky@0 -o cat | grep -c '^started /usr/bin/node') -ge 4 \
         && journalctl -u flaky@0 -o cat | grep -q 'before restart 4: quick restarts back off'",
        Duration::from_secs(20),
    );
    host.ok("journalctl --sync");
    let journal = host.ok("journalctl -q -u flaky@0 -o short-unix");
    // The time from each end of the app to its next start grows: 400, 600,
    // 900 ms at least. The helper waits what is left of each delay when it
    // starts, so on a loaded machine, where systemd's restart itself took
    // that long, it may say nothing and wait no more.
    let stamps = |what: &str| -> Vec<f64> {
        journal
            .lines()
            .filter(|line| line.contains(what))
            .filter_map(|line| line.split_whitespace().next()?.parse().ok())
            .collect()
    };
    let (ends, starts) = (stamps("the app ended"), stamps("started /usr/bin/node"));
    for (restart, delay) in [(1, 0.4), (2, 0.6), (3, 0.9)] {
        let gap = starts[restart] - ends[restart - 1];
        assert!(
            gap >= delay - 0.1,
            "restart {restart} came {gap:.3} s after the end, not {delay} s:\n{journal}"
        );
    }
    assert!(
        journal.contains("before restart 3: quick restarts back off"),
        "{journal}"
    );
    host.ok("systemctl stop flaky@0.service");
    assert!(
        !host
            .sh("test -e /run/nodeunits/flaky/restarts.0")
            .status
            .success(),
        "a stop resets the count"
    );
}
