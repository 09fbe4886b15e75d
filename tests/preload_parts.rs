//! Parts of the preload alone under Node, each by a script of its own that
//! is given the part's file.
//!
//! - The gate (src/helper/balance.cjs), with fake listening handles and
//!   connections: a process two connections over the least loaded live one
//!   stops accepting and resumes once the other catches up; a record not
//!   refreshed for 500 ms holds no one up, nor does a dead process's; a
//!   closed server gives its record up; a gate that cannot use its file
//!   never stops accepting. On real systemd: tests/socket_spread.rs.
//! - The drain (src/helper/drain.cjs), on a real HTTP server with raw
//!   client connections: once the server closes, a request in flight and one
//!   sent on an idle keep-alive connection within the grace are answered
//!   with `Connection: close`; Node's own close, which cuts idle connections
//!   at once, is not what runs; a connection left idle is closed after the
//!   grace. Under systemd, with load: tests/helper_drain.rs.

use std::path::Path;
use std::process::Command;

/// Runs `node SCRIPT PART` from the repository; the script's exit says.
fn run(script: &str, part: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new("node")
        .arg(root.join(script))
        .arg(root.join(part))
        .output()
        .expect("node runs (the integration tests need it too)");
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_gate_stops_accepting_only_ahead_of_a_live_process_and_fails_open() {
    run("tests/balance/gate.cjs", "src/helper/balance.cjs");
}

#[test]
fn a_closing_server_answers_then_closes_its_connections_after_the_grace() {
    run("tests/drain/drain.cjs", "src/helper/drain.cjs");
}
