//! max_memory_restart: a leaking app is restarted gracefully under load, one
//! instance at a time, and the journal says why.

mod helper_support;

use helper_support::{assert_no_failures, node_app, sleep_ms, stop_wrk, wrk, App};
use testhost::TestHost;

const LEAKY: &str = "\
const http = require('http');
const leak = [];
http.createServer((req, res) => {
  leak.push(Buffer.alloc(8192, 1));
  res.end('leaky\\n');
}).listen(8095);
";

const DRAINING: &str = "restarting it gracefully (exit status 75)";

/// The times (seconds) this instance started a memory restart and was ready
/// again, from `journalctl -o short-unix`: (drain, ready) pairs.
fn memory_restarts(journal: &str) -> Vec<(f64, f64)> {
    let mut restarts = Vec::new();
    let mut draining = None;
    for line in journal.lines() {
        let Some(time) = line
            .split_whitespace()
            .next()
            .and_then(|t| t.parse::<f64>().ok())
        else {
            continue;
        };
        if line.contains(DRAINING) {
            draining = Some(time);
        } else if line.ends_with(": ready") {
            if let Some(drained) = draining.take() {
                restarts.push((drained, time));
            }
        }
    }
    restarts
}

#[test]
fn a_leaking_app_restarts_for_memory_without_dropping_requests() {
    let host = TestHost::boot("helper-memory");
    host.write("/srv/leaky/app.js", LEAKY);
    let app = App {
        kill_timeout_s: 10,
        ..node_app(
            "leaky",
            &["127.0.0.1:8095"],
            "--node --max-memory 150000000",
            "/usr/bin/node app.js",
        )
    };
    app.start(&host, 2);
    let load = wrk(&host, "http://127.0.0.1:8095/", 32);
    sleep_ms(15_000);
    let (report, output) = stop_wrk(&host, load);
    assert_no_failures(
        &report,
        &output,
        "a leaking app restarted for memory under load",
    );

    let journals: Vec<String> = (0..2)
        .map(|i| {
            host.ok(&format!(
                "journalctl --sync && journalctl -u leaky@{i}.service -o short-unix --no-pager"
            ))
        })
        .collect();
    let restarts: Vec<Vec<(f64, f64)>> = journals.iter().map(|j| memory_restarts(j)).collect();
    let all = journals.join("\n");
    assert!(
        restarts.iter().all(|r| !r.is_empty()),
        "each instance restarts for memory:\n{all}"
    );
    assert!(
        all.contains("over max_memory_restart 143.1 MB (150000000 bytes)"),
        "{all}"
    );
    assert!(
        all.contains("status=75"),
        "systemd sees the documented exit status:\n{all}"
    );
    for &(drained, ready) in &restarts[0] {
        for &(other_drained, other_ready) in &restarts[1] {
            assert!(
                ready <= other_drained || other_ready <= drained,
                "instances 0 ({drained}..{ready}) and 1 ({other_drained}..{other_ready}) restarted for memory at once:\n{all}"
            );
        }
    }
    println!("{report:?}, memory restarts: {restarts:?}");
}

#[test]
fn journal_times_pair_drains_with_readiness() {
    let journal = format!(
        "10.5 box leaky[7]: ready\n11.0 box leaky[7]: resident memory … {DRAINING}\n11.2 box systemd[1]: x\n12.0 box leaky[9]: ready\n"
    );
    assert_eq!(memory_restarts(&journal), vec![(11.0, 12.0)]);
}
