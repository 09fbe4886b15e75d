//! Apps run by a launcher, as PM2 users write them: `script = "npm"`,
//! `args = "start"`, or `npx` and a package's command. The Node process
//! the launcher starts (npm → sh → node server.js) serves through the socket
//! systemd holds, from every instance; it is ready when it listens, or when
//! it sends 'ready' with wait_ready; a reload under keep-alive load fails no
//! request; a stop lets the request in flight finish and leaves no process.
//! A port no rule knows fails the apply with the fix, as for a Node app.

mod apply_support;
mod helper_support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use apply_support::{
    active_states, describe, get, give_to_deploy, nodeunits, nodeunits_ok, property, unit_files,
    wait_serving,
};
use helper_support::{assert_no_failures, stop_wrk, synced_journal, wrk};
use testhost::TestHost;

/// A plain server, reporting its app, instance and pid; `?delay=MS` answers late; with `READY_AFTER_MS` it sends
/// 'ready' that long after it listens; with `COOPERATIVE` it closes its
/// server on SIGINT and exits once it has closed, as PM2's documentation
/// asks, and gives up at once on a second SIGINT, as many servers do; on
/// the message 'shutdown' it closes its server and exits.
const SERVER: &str = r#"const http = require('http');
const server = http.createServer((req, res) => {
  const delay = Number(new URL(req.url, 'http://x').searchParams.get('delay')) || 0;
  setTimeout(() => res.end(`${process.env.APP} ${process.env.NODE_APP_INSTANCE} ${process.pid}\n`), delay);
});
server.listen(process.env.PORT, () => {
  const after = Number(process.env.READY_AFTER_MS);
  if (after) setTimeout(() => process.send('ready'), after);
});
process.on('message', (message) => {
  if (message !== 'shutdown') return;
  console.log('shutdown message');
  server.close(() => process.exit(0));
});
let stopping = false;
if (process.env.COOPERATIVE) process.on('SIGINT', () => {
  if (stopping) process.exit(1);
  stopping = true;
  server.close(() => process.exit(0));
});
"#;

const PACKAGE: &str = r#"{"name": "shop", "version": "1.0.0", "private": true, "scripts": {"start": "node server.js"}}"#;

/// A package with a command, as `npx` runs one from node_modules/.bin.
fn install_command(host: &TestHost, dir: &str) {
    host.write(
        &format!("{dir}/node_modules/shop-server/package.json"),
        r#"{"name": "shop-server", "version": "1.0.0", "bin": {"shop-server": "cli.js"}}"#,
    );
    host.write(
        &format!("{dir}/node_modules/shop-server/cli.js"),
        "#!/usr/bin/env node\nrequire('../../server.js');\n",
    );
    host.ok(&format!(
        "chmod +x {dir}/node_modules/shop-server/cli.js && mkdir -p {dir}/node_modules/.bin && \
         ln -s ../shop-server/cli.js {dir}/node_modules/.bin/shop-server"
    ));
}

fn app(name: &str, script: &str, args: &str, port: u16, extra: &str) -> String {
    format!(
        "[[apps]]\nname = \"{name}\"\nscript = \"{script}\"\nargs = \"{args}\"\ninstances = 2\n\
         port = {port}\nkill_timeout = 6000\nlisten_timeout = 20000\n{extra}\
         [apps.env]\nAPP = \"{name}\"\n\n"
    )
}

fn boot_with(name: &str, ecosystem: &str) -> TestHost {
    let host = TestHost::boot(name);
    host.write("/srv/shop/server.js", SERVER);
    host.write("/srv/shop/package.json", PACKAGE);
    install_command(&host, "/srv/shop");
    host.write("/srv/shop/ecosystem.toml", ecosystem);
    give_to_deploy(&host, "/srv/shop");
    host
}

/// The instances that answered on `port`, asking until both have.
fn instances_serving(host: &TestHost, port: u16, app: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for _ in 0..200 {
        let body = host.ok(&format!("curl -fsS --max-time 5 http://127.0.0.1:{port}/"));
        let mut words = body.split_whitespace();
        assert_eq!(words.next(), Some(app), "{body}");
        seen.insert(words.next().expect("an instance").to_owned());
        if seen.len() == 2 {
            break;
        }
    }
    seen
}

/// The command lines of a unit's processes.
fn processes_of(host: &TestHost, unit: &str) -> String {
    host.ok(&format!(
        "for pid in $(ps -e -o pid=); do \
           grep -qs '/{unit}$' /proc/$pid/cgroup && ps -o args= -p $pid; \
         done; true"
    ))
}

/// The command lines that start like `pattern` (an extended regex).
fn left_running(host: &TestHost, pattern: &str) -> String {
    host.ok(&format!("ps -e -o args= | grep -E '^({pattern})' || true"))
}

/// Stops `app` (its socket and its app unit) while `requests` slow requests
/// are in flight on `port`, with `processes` processes of `tree` running
/// (an extended regex of command lines); asserts that each request is
/// answered, that the instances end well and that no process is left.
/// Returns how long the stop took.
fn stop_while_serving(
    host: &TestHost,
    app: &str,
    port: u16,
    requests: usize,
    tree: &str,
    processes: usize,
) -> Duration {
    let slow: Vec<_> = (0..requests)
        .map(|_| {
            host.spawn(&format!(
                "curl -fsS --max-time 20 'http://127.0.0.1:{port}/?delay=2500'"
            ))
        })
        .collect();
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(
        left_running(host, tree).lines().count(),
        processes,
        "{app}: the trees run"
    );
    let stopping = Instant::now();
    host.ok(&format!("systemctl stop {app}.socket {app}.service"));
    let took = stopping.elapsed();
    for request in slow {
        let answer = request.wait_with_output().expect("curl");
        assert!(
            answer.status.success() && answer.stdout.starts_with(format!("{app} ").as_bytes()),
            "{app}: a request in flight when the stop began was cut: {answer:?}"
        );
    }
    let units = [format!("{app}@0.service"), format!("{app}@1.service")];
    assert_eq!(property(host, "ActiveState", &units), ["inactive"; 2]);
    assert_eq!(property(host, "Result", &units), ["success"; 2]);
    assert_eq!(
        left_running(host, tree),
        "",
        "{app}: processes left after the stop"
    );
    took
}

#[test]
fn npm_start_serves_from_every_instance_reloads_under_load_and_drains_on_stop() {
    let host = boot_with("launcher-npm", &app("web", "npm", "start", 8300, ""));
    let rendered = nodeunits_ok(&host, "render /srv/shop/ecosystem.toml");
    assert!(
        rendered.contains(" --launcher ") && rendered.contains(" -- /usr/bin/npm start"),
        "npm is run as a launcher:\n{rendered}"
    );
    nodeunits_ok(&host, "apply /srv/shop/ecosystem.toml");
    let units = ["web@0.service".to_owned(), "web@1.service".to_owned()];
    assert_eq!(active_states(&host, &units), ["active"; 2]);
    assert_eq!(
        instances_serving(&host, 8300, "web"),
        BTreeSet::from(["0".to_owned(), "1".to_owned()])
    );
    let tree = processes_of(&host, "web@1.service");
    for process in [
        "nodeunits-helper",
        "npm start",
        "sh -c node server.js",
        "node server.js",
    ] {
        assert!(tree.contains(process), "{process} in web@1:\n{tree}");
    }
    let journal = synced_journal(&host, "web@0.service");
    assert!(journal.contains("serves the app"), "{journal}");

    let load = wrk(&host, "http://127.0.0.1:8300/", 32);
    for _ in 0..2 {
        nodeunits_ok(&host, "reload web");
    }
    let (report, output) = stop_wrk(&host, load);
    assert_no_failures(&report, &output, "npm start, 2 instances, reloaded twice");

    // Both workers take connections: the slow requests land on both.
    let took = stop_while_serving(
        &host,
        "web",
        8300,
        4,
        "npm start|sh -c node|node server.js",
        6,
    );
    assert!(
        took >= Duration::from_millis(1200) && took < Duration::from_secs(6),
        "the stop took {took:?}: it should wait for the requests in flight, not for kill_timeout"
    );
}

#[test]
fn with_wait_ready_the_served_app_says_ready_and_npx_runs_a_command() {
    let ecosystem = app(
        "ready",
        "npm",
        "start",
        8310,
        "wait_ready = true\nshutdown_with_message = true\n",
    )
    .replace("[apps.env]\n", "[apps.env]\nREADY_AFTER_MS = \"2000\"\n")
        + &app("tool", "npx", "shop-server", 8311, "").replace(
            "[apps.env]\n",
            "[apps.env]\nCOOPERATIVE = \"1\"\nnpm_config_script_shell = \"/bin/bash\"\n",
        );
    let host = boot_with("launcher-ready", &ecosystem);
    let applying = Instant::now();
    nodeunits_ok(&host, "apply /srv/shop/ecosystem.toml");
    assert!(
        applying.elapsed() >= Duration::from_secs(2),
        "apply returned after {:?}, before the app sent 'ready'",
        applying.elapsed()
    );
    let units = ["ready@0.service".to_owned(), "ready@1.service".to_owned()];
    assert_eq!(active_states(&host, &units), ["active"; 2]);
    assert_socket_non_blocking(&host, "ready");
    wait_serving(&host, 8310, "ready ");
    let reload = nodeunits_ok(&host, "reload ready");
    for line in reload.lines() {
        let seconds: f64 = line
            .rsplit_once(" in ")
            .and_then(|(_, took)| took.trim_end_matches('s').parse().ok())
            .unwrap_or_else(|| panic!("{reload}"));
        assert!(seconds >= 2.0, "ready before the app said so: {reload}");
    }
    // The reload stopped each instance with the message, not a signal.
    let journal = synced_journal(&host, "ready@0.service");
    assert!(journal.contains("shutdown message"), "{journal}");
    assert_eq!(property(&host, "Result", &units), ["success"; 2]);

    let tool = ["tool@0.service".to_owned(), "tool@1.service".to_owned()];
    assert_eq!(active_states(&host, &tool), ["active"; 2]);
    assert_eq!(
        instances_serving(&host, 8311, "tool"),
        BTreeSet::from(["0".to_owned(), "1".to_owned()])
    );
    // bash, as npm's script shell, execs the command: the server is npm's
    // own child, and npm forwards the helper's SIGINT to it. The app sees one.
    stop_while_serving(&host, "tool", 8311, 1, "npm exec|node .*shop-server", 4);
}

/// `script = "npm start"`, a command line as PM2 users write it, is npm
/// with `start`: run as a launcher, serving from both instances through the
/// socket, reloaded under load with no failed request.
#[test]
fn a_script_written_as_a_command_line_runs_as_its_program() {
    let ecosystem = app("line", "npm start", "", 8320, "").replace("args = \"\"\n", "");
    let host = boot_with("launcher-line", &ecosystem);
    let rendered = nodeunits_ok(&host, "render /srv/shop/ecosystem.toml");
    assert!(
        rendered.contains(" --launcher ") && rendered.contains(" -- /usr/bin/npm start\n"),
        "{rendered}"
    );
    nodeunits_ok(&host, "apply /srv/shop/ecosystem.toml");
    assert_eq!(
        instances_serving(&host, 8320, "line"),
        BTreeSet::from(["0".to_owned(), "1".to_owned()])
    );
    let load = wrk(&host, "http://127.0.0.1:8320/", 16);
    nodeunits_ok(&host, "reload line");
    let (report, output) = stop_wrk(&host, load);
    assert_no_failures(&report, &output, "script = \"npm start\", reloaded");
}

/// Every process of `app` holds the listening socket (fd 3) non-blocking. All
/// of them share its open file description: a start that cleared O_NONBLOCK
/// (systemd does, for a unit without `NonBlocking=yes`) would leave a worker
/// woken for a connection another took blocked in accept(), deaf to its
/// 'shutdown' message and its other connections.
fn assert_socket_non_blocking(host: &TestHost, app: &str) {
    let flags = host.ok(&format!(
        "for pid in $(ps -e -o pid=); do \
           grep -qs '/{app}\\(@[0-9]*\\)\\?\\.service$' /proc/$pid/cgroup && \
             echo \"$(ps -o args= -p $pid) $(awk '/^flags/ {{print $2}}' /proc/$pid/fdinfo/3)\"; \
         done; true"
    ));
    assert!(flags.lines().count() >= 6, "{flags}");
    for line in flags.lines() {
        let octal = line.rsplit(' ').next().unwrap_or_default();
        let flags = u32::from_str_radix(octal, 8).unwrap_or_else(|_| panic!("{flags}"));
        assert_ne!(flags & 0o4000, 0, "fd 3 without O_NONBLOCK: {line}");
    }
}

/// Without `port` or `listen`, no rule knows the port a server binds itself:
/// the second worker finds it taken and the apply fails with the fix, as
/// for a Node app. A worker that listens on nothing is ready after a moment.
#[test]
fn under_npm_a_port_no_rule_knows_fails_the_apply_and_a_worker_is_ready() {
    let host = TestHost::boot("launcher-ports");
    host.write(
        "/srv/jobs/package.json",
        r#"{"name": "jobs", "version": "1.0.0", "private": true,
            "scripts": {"fixed": "node fixed.js", "worker": "node worker.js"}}"#,
    );
    host.write(
        "/srv/jobs/fixed.js",
        "require('http').createServer((req, res) => res.end('fixed\\n')).listen(3300);\n",
    );
    host.write(
        "/srv/jobs/worker.js",
        "setInterval(() => console.log('working'), 500);\n",
    );
    host.write(
        "/srv/jobs/worker.toml",
        "[[apps]]\nname = \"jobs\"\nscript = \"npm\"\nargs = \"run worker\"\ninstances = 2\n",
    );
    give_to_deploy(&host, "/srv/jobs");
    nodeunits_ok(&host, "apply /srv/jobs/worker.toml");
    let units = ["jobs@0.service".to_owned(), "jobs@1.service".to_owned()];
    assert_eq!(active_states(&host, &units), ["active"; 2]);
    let journal = synced_journal(&host, "jobs@1.service");
    assert!(
        journal.contains("has not listened on any port"),
        "{journal}"
    );

    host.write(
        "/srv/jobs/fixed.toml",
        "[[apps]]\nname = \"fixed\"\nscript = \"npm\"\nargs = \"run fixed\"\ninstances = 2\n",
    );
    give_to_deploy(&host, "/srv/jobs");
    let output = nodeunits(&host, "apply /srv/jobs/fixed.toml");
    // Both start at once: either may be the one that finds the port taken.
    let sentence = |loser: u32, holder: u32| {
        format!(
            "fixed@{loser}.service: the app listens on port 3300 itself, which \
             fixed@{holder}.service holds; declare it with `port = 3300` or \
             `listen = [3300]` so the workers share one socket"
        )
    };
    let said = |text: &str| text.contains(&sentence(1, 0)) || text.contains(&sentence(0, 1));
    if output.status.success() {
        // A machine so loaded that npm's server found its port taken more
        // than a second after it started: the worker counted as ready, and
        // fails after the apply (docs/helper.md, "A port taken").
        let journals = "journalctl -o cat -u fixed@0.service -u fixed@1.service";
        host.wait_until(
            &format!("{journals} | grep -q 'listens on port 3300 itself'"),
            Duration::from_secs(20),
        );
        let journal = host.ok(journals);
        assert!(said(&journal), "{journal}");
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
        assert!(said(&stderr), "{stderr}");
        assert_eq!(unit_files(&host, "fixed"), Vec::<String>::new());
        assert_eq!(get(&host, 3300), None);
    }
    assert_eq!(
        active_states(&host, &units),
        ["active"; 2],
        "the worker app runs on"
    );
}
