//! A Node app behind a socket unit shared by two template instances, on
//! real systemd (the test host): requests are served through the socket and
//! the app's output is in the journal.

use std::time::Duration;

use testhost::TestHost;

const APP: &str = r#"
const http = require("http");
const instance = process.env.INSTANCE;
const server = http.createServer((req, res) => res.end(`hello from ${instance}\n`));
server.listen({ fd: 3 }, () => console.log(`hello@${instance} listening on fd 3`));
"#;

const SOCKET: &str = "[Socket]\nListenStream=127.0.0.1:8080\n";

/// A socket with Accept=no needs a service of its own name to trigger: the
/// app as one unit, as nodeunits renders it.
const APP_UNIT: &str = "[Unit]\nWants=hello@0.service hello@1.service\n\
                        [Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n";

const WORKER: &str = "[Unit]\nRequires=hello.socket\nAfter=hello.socket\n\
                       [Service]\nType=simple\nSockets=hello.socket\nEnvironment=INSTANCE=%i\n\
                       ExecStart=/usr/bin/node /srv/hello/app.js\n";

/// Installs and starts the app: its socket, the app unit and two workers.
fn start_hello(host: &TestHost) {
    host.write("/srv/hello/app.js", APP);
    host.write("/etc/systemd/system/hello.socket", SOCKET);
    host.write("/etc/systemd/system/hello.service", APP_UNIT);
    host.write("/etc/systemd/system/hello@.service", WORKER);
    host.ok("systemctl daemon-reload && systemctl start hello.socket hello.service");
}

#[test]
fn node_app_serves_through_a_shared_socket_and_logs_to_the_journal() {
    let host = TestHost::boot("smoke");
    start_hello(&host);

    for instance in ["0", "1"] {
        host.wait_until(
            &format!("journalctl -u hello@{instance}.service -o cat | grep -qx 'hello@{instance} listening on fd 3'"),
            Duration::from_secs(20),
        );
    }
    let bodies = host.ok(
        "for i in $(seq 20); do curl -s -o /dev/stdout -w '%{http_code} ' http://127.0.0.1:8080/; done",
    );
    assert_eq!(bodies.matches("200 ").count(), 20, "{bodies}");
    assert!(bodies.contains("hello from "), "{bodies}");
    assert_eq!(
        host.ok("systemctl is-active hello@0 hello@1 hello.socket hello"),
        "active\n".repeat(4)
    );
    assert!(host
        .journal("hello@1.service")
        .contains("hello@1 listening on fd 3"));
}

#[test]
fn built_binaries_run_inside_and_wrk_loads_the_box() {
    let host = TestHost::boot("binaries");
    let bin = testhost::BIN_DIR;
    let help = host.ok(&format!("{bin}/nodeunits --help"));
    assert!(help.contains("Usage"), "{help}");
    // At a system path of the box's, which any user reaches wherever the
    // checkout lies.
    let version = host.ok(&format!(
        "runuser -u nobody -- {bin}/nodeunits-helper --version"
    ));
    assert!(version.starts_with("nodeunits-helper"), "{version}");
    let modes = host.ok(&format!("stat -c '%a %U' {bin} {bin}/.."));
    assert_eq!(modes, "755 root\n755 root\n");

    start_hello(&host);
    let wrk = host.spawn("wrk -t1 -c4 -d1s http://127.0.0.1:8080/");
    let output = wrk.wait_with_output().unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{report}");
    assert!(report.contains("Requests/sec"), "{report}");
    assert!(!report.contains("Non-2xx"), "{report}");
}
