//! The helper tells systemd the worker is ready when it is: on
//! `process.send('ready')` with wait_ready, when the app listens without
//! it, a second after the start for an app that listens on nothing; never
//! ready → the start fails at listen_timeout; a port another process holds
//! → the start fails, naming it when the sandbox lets the helper see it.
//! And the PM2 environment conventions.

mod helper_support;

use std::time::{Duration, Instant};

use helper_support::{active_state, node_app, synced_journal, App};
use testhost::TestHost;

fn timed(host: &TestHost, script: &str) -> (std::process::Output, Duration) {
    let start = Instant::now();
    let output = host.sh(script);
    (output, start.elapsed())
}

#[test]
fn readiness_follows_the_app() {
    let host = TestHost::boot("helper-readiness");

    // wait_ready: ready only once the app says so, a second after it listens.
    host.write(
        "/srv/ready/app.js",
        "const http = require('http');\n\
         const server = http.createServer((req, res) => res.end('ready app\\n'));\n\
         server.listen(8081, () => setTimeout(() => process.send('ready'), 1500));\n",
    );
    node_app(
        "ready",
        &["127.0.0.1:8081"],
        "--node --wait-ready",
        "/usr/bin/node app.js",
    )
    .install(&host);
    let (output, took) = timed(&host, "systemctl start ready@0.service");
    assert!(
        output.status.success(),
        "start ready@0: {output:?}\n{}",
        synced_journal(&host, "ready@0")
    );
    assert!(
        took >= Duration::from_millis(1500),
        "active after {took:?}, before the app sent 'ready'"
    );
    assert_eq!(active_state(&host, "ready@0.service"), "active");
    assert_eq!(host.ok("curl -sS http://127.0.0.1:8081/"), "ready app\n");

    // wait_ready, never ready: the start fails at listen_timeout.
    host.write(
        "/srv/never/app.js",
        "require('http').createServer((req, res) => res.end('x')).listen(8082);\n",
    );
    let never = App {
        listen_timeout_s: 3,
        ..node_app(
            "never",
            &["127.0.0.1:8082"],
            "--node --wait-ready",
            "/usr/bin/node app.js",
        )
    };
    never.install(&host);
    let (output, took) = timed(&host, "systemctl start never@0.service");
    assert!(
        !output.status.success(),
        "never@0 started although the app never sent 'ready'"
    );
    assert!(
        took >= Duration::from_secs(3),
        "the start failed after {took:?}, before listen_timeout"
    );
    assert!(
        synced_journal(&host, "never@0").contains("timed out"),
        "{}",
        synced_journal(&host, "never@0")
    );
    host.ok("systemctl stop never@0.service");

    // No wait_ready: ready when the app listens on the inherited socket.
    host.write(
        "/srv/listens/app.js",
        "const http = require('http');\n\
         setTimeout(() => http.createServer((req, res) => res.end('listening app\\n')).listen({ port: 8083 }), 1500);\n",
    );
    node_app(
        "listens",
        &["127.0.0.1:8083"],
        "--node",
        "/usr/bin/node app.js",
    )
    .install(&host);
    let (output, took) = timed(&host, "systemctl start listens@0.service");
    assert!(
        output.status.success(),
        "start listens@0: {output:?}\n{}",
        synced_journal(&host, "listens@0")
    );
    assert!(
        took >= Duration::from_millis(1500),
        "active after {took:?}, before the app listened"
    );
    assert_eq!(
        host.ok("curl -sS http://127.0.0.1:8083/"),
        "listening app\n"
    );

    // Listening on a port the socket unit does not hold: never ready, and the journal says why.
    host.write(
        "/srv/misport/app.js",
        "require('http').createServer((req, res) => res.end('x')).listen(8085);\n",
    );
    let misport = App {
        listen_timeout_s: 2,
        ..node_app(
            "misport",
            &["127.0.0.1:8084"],
            "--node",
            "/usr/bin/node app.js",
        )
    };
    misport.install(&host);
    assert!(!host
        .sh("systemctl start misport@0.service")
        .status
        .success());
    let journal = synced_journal(&host, "misport@0");
    assert!(
        journal.contains("the app listens on [::]:8085 by itself"),
        "{journal}"
    );
    host.ok("systemctl stop misport@0.service");

    // Listening on nothing: ready a second after the start.
    host.write("/srv/quiet/app.js", "setInterval(() => {}, 1000);\n");
    node_app("quiet", &[], "--node", "/usr/bin/node app.js").install(&host);
    let (output, took) = timed(&host, "systemctl start quiet@0.service");
    assert!(
        output.status.success(),
        "start quiet@0: {output:?}\n{}",
        synced_journal(&host, "quiet@0")
    );
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(3),
        "an app listening on nothing took {took:?} to be ready"
    );
    assert_eq!(active_state(&host, "quiet@0.service"), "active");
    assert!(synced_journal(&host, "quiet@0")
        .contains("has not listened on any port 1000 ms after its start"));

    // No socket unit, a port of its own: ready when it listens there.
    host.write(
        "/srv/own/app.js",
        "setTimeout(() => require('http').createServer((req, res) => res.end('own\\n')).listen(8086), 200);\n",
    );
    node_app("own", &[], "--node", "/usr/bin/node app.js").install(&host);
    host.ok("systemctl start own@0.service");
    assert_eq!(host.ok("curl -sS http://127.0.0.1:8086/"), "own\n");
    let journal = synced_journal(&host, "own@0");
    assert!(journal.contains("ready"), "{journal}");
    assert!(!journal.contains("has not listened"), "{journal}");

    // A port another program of the same user holds: the start fails,
    // naming it.
    let taken = |port: u16, user: &str, holder: &str| -> String {
        host.ok(&format!(
            "systemd-run --unit={holder} -p User={user} /usr/bin/node -e \"require('net').createServer().listen({port})\""
        ));
        host.wait_until(
            &format!("ss -Htln 'sport = {port}' | grep -q ."),
            Duration::from_secs(10),
        );
        let name = format!("taken{port}");
        host.write(
            &format!("/srv/{name}/app.js"),
            format!("require('http').createServer((req, res) => res.end('x')).listen({port});\n"),
        );
        let service = format!("User={user}\n");
        App {
            service: &service,
            ..node_app(&name, &[], "--node", "/usr/bin/node app.js")
        }
        .install(&host);
        assert!(!host
            .sh(&format!("systemctl start {name}@0.service"))
            .status
            .success());
        // The status of the last run that ended: a restart may be under way.
        host.wait_until(
            &format!("systemctl show -P ExecMainStatus {name}@0.service | grep -qx 78"),
            Duration::from_secs(10),
        );
        synced_journal(&host, &format!("{name}@0"))
    };
    let journal = taken(8087, "nobody", "holder");
    let holder = host.ok("systemctl show -P MainPID holder.service");
    let sentence = format!(
        "taken8087@0.service: the app listens on port 8087 itself, which holder.service (node, pid {}) \
         holds; stop that, or have the app listen on a port that is free",
        holder.trim()
    );
    assert!(journal.contains(&sentence), "{journal}");
    // A service of root's keeps its capabilities, and the kernel lets no
    // process without them, as in the sandbox, read its file descriptors.
    let journal = taken(8088, "root", "rooted");
    assert!(
        journal.contains(
            "taken8088@0.service: the app listens on port 8088 itself, which another process holds; \
             if that is another worker of taken8088, declare it with `port = 8088` or `listen = [8088]` \
             so the workers share one socket"
        ),
        "{journal}"
    );
}

#[test]
fn the_app_sees_pm2s_environment() {
    let host = TestHost::boot("helper-environment");
    host.write(
        "/srv/env/app.js",
        "require('fs').writeFileSync(`/srv/env/seen.${process.env.NODE_APP_INSTANCE}`,\n\
         `${process.env.NODE_APP_INSTANCE} ${process.env.PORT} ${process.env.WORKER_ID}\\n`);\n\
         setInterval(() => {}, 1000);\n",
    );
    let app = App {
        service: "Environment=\"PORT=4000\" \"WORKER_ID=10\"\n",
        ..node_app(
            "env",
            &[],
            "--node --increment-var WORKER_ID",
            "/usr/bin/node app.js",
        )
    };
    app.start(&host, 2);
    host.wait_until(
        "test -s /srv/env/seen.0 && test -s /srv/env/seen.1",
        Duration::from_secs(10),
    );
    assert_eq!(host.read("/srv/env/seen.0"), "0 4000 10\n");
    assert_eq!(host.read("/srv/env/seen.1"), "1 4000 11\n");
}
