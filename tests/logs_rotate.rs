//! Log files that lose nothing, on a real systemd: two workers print 60,000
//! numbered lines each as fast as they can (about 10 MB each) into PM2's
//! per-worker files (`out-0.log`, `out-1.log`, a cluster app's default),
//! each line prefixed with its `log_date_format` time, rotated past 2 MB
//! and gzipped by the log writer, which is killed in the middle of the
//! burst: every line is in the current and rotated files, several
//! rotations happened, and no more rotated files remain than `retain`
//! keeps, also for an app with a small `retain`.

mod apply_support;

use std::time::{Duration, Instant};

use apply_support::*;
use testhost::TestHost;

const DIR: &str = "/srv/rotate";
const LOGS: &str = "/var/log/rotate";
const LINES: u32 = 60_000;

/// Prints LINES numbered lines of about 150 bytes, waiting only when the
/// stream is full, then stays up.
const BURST_JS: &str = r#"const instance = process.env.NODE_APP_INSTANCE;
const pad = 'x'.repeat(120);
let i = 0;
function write() {
  while (i < 60000) {
    const more = process.stdout.write(`burst ${instance} line ${i} ${pad}\n`);
    i++;
    if (!more) return process.stdout.once('drain', write);
  }
}
write();
setInterval(() => {}, 1 << 30);
"#;

const ECOSYSTEM: &str = r#"[[apps]]
name = "burst"
script = "burst.js"
instances = 2
exec_mode = "cluster"
out_file = "/var/log/rotate/out.log"
log_date_format = "YYYY-MM-DD HH:mm:ss.SSS"
log_rotate = { max_size = "2M", retain = 10, compress = true }

[[apps]]
name = "small"
script = "burst.js"
out_file = "/var/log/rotate/small.log"
log_rotate = { max_size = "200K", retain = 2 }
"#;

/// The distinct numbered lines of worker `instance` in its current and
/// rotated files, decompressed.
fn lines_kept(host: &TestHost, instance: u32) -> u32 {
    let count = host.ok(&format!(
        "cd {LOGS} && zcat -f out-{instance}__* out-{instance}.log 2>/dev/null \
         | grep -o 'burst {instance} line [0-9]*' | sort -u | wc -l"
    ));
    count.trim().parse().unwrap()
}

fn rotated(host: &TestHost, prefix: &str) -> Vec<String> {
    let list = host.ok(&format!("cd {LOGS} && ls -1 | grep '^{prefix}__' || true"));
    list.lines().map(str::to_owned).collect()
}

#[test]
fn a_burst_is_rotated_gzipped_and_kept_whole_through_a_killed_writer() {
    let host = TestHost::boot("logs-rotate");
    host.write(&format!("{DIR}/burst.js"), BURST_JS);
    host.write(&format!("{DIR}/ecosystem.toml"), ECOSYSTEM);
    give_to_deploy(&host, DIR);
    nodeunits_ok(&host, &format!("apply {DIR}/ecosystem.toml"));
    host.ok(&format!("test -e {UNIT_DIR}/burst-logs.service"));
    assert_eq!(
        host.ok("systemctl is-active burst-logs.service").trim(),
        "active"
    );
    // In its sandbox: it writes the logs' directory only.
    assert_eq!(
        host.ok("systemctl show -P ReadWritePaths burst-logs.service")
            .trim(),
        LOGS
    );

    // Once the first file of worker 0 is rotated, the writer is killed.
    host.wait_until(
        &format!("ls {LOGS} | grep -q '^out-0__'"),
        Duration::from_secs(60),
    );
    let before = host.ok("systemctl show -p MainPID --value burst-logs.service");
    host.ok("systemctl kill -s SIGKILL burst-logs.service");
    let started = Instant::now();
    let mut kept = [0, 0];
    while started.elapsed() < Duration::from_secs(90) && kept != [LINES, LINES] {
        std::thread::sleep(Duration::from_secs(1));
        kept = [lines_kept(&host, 0), lines_kept(&host, 1)];
    }
    let seen = host.ok(
        "for i in 0 1; do journalctl -u burst@$i.service -o cat --no-pager | grep -o \"burst $i line [0-9]*\" | sort -u | wc -l; done; \
         journalctl -u burst-logs.service --no-pager | grep -v systemd; for i in 0 1; do echo worker $i; cd /var/log/rotate && for f in out-$i__* out-$i.log; do echo $f $(zcat -f $f | grep -o \"burst $i line [0-9]*\" | head -1) $(zcat -f $f | grep -o \"burst $i line [0-9]*\" | tail -1); done; done; ls -la /var/log/rotate; \
         systemctl show -p NRestarts -p Result -p ActiveState burst-logs.service",
    );
    assert_eq!(
        kept,
        [LINES, LINES],
        "every line of both workers, in their files; the journal and the writer:\n{seen}"
    );
    let after = host.ok("systemctl show -p MainPID --value burst-logs.service");
    assert_ne!(
        before.trim(),
        after.trim(),
        "the writer was killed and came back"
    );
    assert_eq!(
        host.ok("systemctl show -p NRestarts --value burst-logs.service")
            .trim(),
        "1"
    );

    for instance in 0..2 {
        let files = rotated(&host, &format!("out-{instance}"));
        assert!(
            (3..=10).contains(&files.len()),
            "several rotations, at most retain: {files:?}"
        );
        assert!(files.iter().all(|f| f.ends_with(".log.gz")), "{files:?}");
        // The names are pm2-logrotate's: out-0__2026-12-04_00-00-00.log.gz.
        host.ok(&format!(
            "cd {LOGS} && ls out-{instance}__* | grep -Eq '^out-{instance}__[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}_[0-9]{{2}}-[0-9]{{2}}-[0-9]{{2}}(~[0-9]+)?\\.log\\.gz$'"
        ));
    }
    // Each line starts with its time, as log_date_format has it.
    host.ok(&format!(
        "grep -Eq '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}} [0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}}\\.[0-9]{{3}}: burst 1 line ' {LOGS}/out-1.log"
    ));

    // A small retain keeps no more rotated files than it says.
    host.wait_until(
        &format!("grep -q 'burst 0 line 59999 ' {LOGS}/small.log"),
        Duration::from_secs(60),
    );
    let small = rotated(&host, "small");
    assert!(
        !small.is_empty() && small.len() <= 2,
        "retain = 2: {small:?}"
    );
    assert!(
        small.iter().all(|f| f.ends_with(".log")),
        "not compressed: {small:?}"
    );

    // Applied again, nothing changes; deleted, the writer goes with the app,
    // and its cursor: an app installed again under the name writes from
    // then on.
    host.ok("test -s /var/lib/nodeunits/logs/burst/cursor");
    let again = nodeunits_ok(&host, &format!("apply {DIR}/ecosystem.toml"));
    assert_eq!(again, "burst: unchanged\nsmall: unchanged\n");
    nodeunits_ok(&host, "delete burst");
    host.ok(&format!("test ! -e {UNIT_DIR}/burst-logs.service"));
    let state = host.sh("systemctl is-active burst-logs.service");
    assert_eq!(String::from_utf8_lossy(&state.stdout).trim(), "inactive");
    host.ok("test ! -e /var/lib/nodeunits/logs/burst");
    host.ok("test -e /var/lib/nodeunits/logs/small");
}
