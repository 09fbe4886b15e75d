//! The hostile golden case, applied on a real systemd: the app must receive
//! every argument and variable exactly as the ecosystem file wrote it, so no
//! quote, newline, `%` specifier, `$` or backslash was lost or turned into
//! anything else on the way through the unit files; the app writes its
//! report into the hostile path of its `read_write_paths`.

mod apply_support;

use std::time::Duration;

use serde_json::{json, Value};
use testhost::TestHost;

const NODEUNITS: &str = apply_support::NODEUNITS;
const DIR: &str = "/srv/hostile";

/// Writes what the app received, then stays up like a worker.
const REPORTER: &str = r#"
const fs = require('fs');
const names = ['NEWLINE', 'QUOTES', 'SPECIFIERS', 'DOLLARS', 'BACKSLASH', 'TAB', 'EMPTY', 'FROM_FILE', 'NODE_APP_INSTANCE'];
const env = Object.fromEntries(names.map((name) => [name, process.env[name] ?? null]));
const report = { argv: process.argv.slice(2), env, cwd: process.cwd(), title: process.title };
fs.writeFileSync('/srv/hostile/reports/%i "q" \\x/report.json', JSON.stringify(report));
setInterval(() => {}, 60000);
"#;

#[test]
fn hostile_values_reach_the_app_exactly_as_written() {
    let host = TestHost::boot("hostile");
    let ecosystem = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/hostile/input/ecosystem.toml"
    ))
    .expect("the hostile golden case");
    host.write(&format!("{DIR}/ecosystem.toml"), ecosystem);
    host.write(
        &format!("{DIR}/dir with spaces/%h/bin dir/100% real$HOME.js"),
        REPORTER,
    );
    host.write(&format!("{DIR}/env files/%u.env"), "FROM_FILE=yes\n");
    host.ok(&format!(
        "mkdir -p '{DIR}/logs' '{DIR}/reports/%i \"q\" \\x'"
    ));
    apply_support::give_to_deploy(&host, DIR);

    host.ok(&format!("{NODEUNITS} apply --system {DIR}/ecosystem.toml"));
    let report = host.wait_until(
        &format!("cat {DIR}/reports/*/report.json"),
        Duration::from_secs(20),
    );
    let report: Value = serde_json::from_str(&report).expect("the app's report is JSON");

    assert_eq!(
        report["argv"],
        json!([
            "a b",
            ";",
            "$PATH",
            "${HOME}",
            "%i",
            "back\\slash",
            "quote\"d",
            "it's",
            "new\nline",
            "",
            "\u{1b}[31m"
        ])
    );
    assert_eq!(
        report["env"],
        json!({
            "NEWLINE": "line1\nExecStartPre=/bin/rm -rf /\n[Service]",
            "QUOTES": "say \"hi\" and 'bye'",
            "SPECIFIERS": "%i %n %% %",
            "DOLLARS": "$HOME ${PATH} $$",
            "BACKSLASH": "C:\\dir\\",
            "TAB": "a\tb",
            "EMPTY": "",
            "FROM_FILE": "yes",
            "NODE_APP_INSTANCE": "0",
        })
    );
    assert_eq!(report["cwd"], json!(format!("{DIR}/dir with spaces/%h")));
    assert_eq!(report["title"], json!("%n"));

    // No directive smuggled in: the unit systemd loaded has no ExecStartPre=.
    let pre = host.ok("systemctl show -P ExecStartPre evil.app-1_x@0.service");
    assert_eq!(pre.trim(), "", "an ExecStartPre= appeared: {pre}");
}
