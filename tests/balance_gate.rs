//! The preload's gate (src/helper/balance.cjs) decides alone, with fake
//! listening handles and connections under Node: a process two connections
//! over the least loaded live one stops accepting and resumes once the
//! other catches up; a record not refreshed for 500 ms holds no one up; a
//! closed server gives its record up; a gate that cannot use its file never
//! stops accepting. On real systemd: tests/socket_spread.rs.

use std::path::Path;
use std::process::Command;

#[test]
fn the_gate_stops_accepting_only_ahead_of_a_live_process_and_fails_open() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new("node")
        .arg(root.join("tests/balance/gate.cjs"))
        .arg(root.join("src/helper/balance.cjs"))
        .output()
        .expect("node runs (the integration tests need it too)");
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
