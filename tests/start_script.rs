//! `nodeunits start SCRIPT` with PM2's options, on a real systemd, as the
//! reference articles type it (`pm2 start app.js -i max --name my-app`):
//! the app's ecosystem file is written, applied and started; the app
//! serves, survives a reboot, reloads, scales and is described like any
//! other; starting it again with other options changes it; `dump` prints
//! it; `start FILE` applies and starts a file's apps; bad options change
//! nothing. Then the seeds' whole command line, as typed.

mod apply_support;
mod helper_support;

use apply_support::*;
use helper_support::{assert_no_failures, one_load_at_a_time, served_by_worker, stop_wrk, wrk};
use testhost::TestHost;

const DIR: &str = "/srv/cli";
const PORT: u16 = 3600;
const FILE: &str = "/etc/nodeunits/apps/my-app.toml";

const APP_JS: &str = "require('http').createServer((q, s) => s.end(`cli ${process.env.GREETING} ${process.argv.slice(2).join(',')} ${process.env.NODE_APP_INSTANCE}\\n`)).listen(process.env.PORT);\n";

/// `nodeunits ARGS` run from the app's directory, as a user types it there.
fn here(host: &TestHost, args: &str) -> std::process::Output {
    in_dir(host, DIR, args)
}

fn in_dir(host: &TestHost, dir: &str, args: &str) -> std::process::Output {
    host.sh(&format!("cd {dir} && {NODEUNITS} {args}"))
}

fn here_ok(host: &TestHost, args: &str) -> String {
    in_dir_ok(host, DIR, args)
}

fn in_dir_ok(host: &TestHost, dir: &str, args: &str) -> String {
    let output = in_dir(host, dir, args);
    assert!(output.status.success(), "{args}: {}", describe(&output));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Fails, saying `message` on stderr, and leaves the app's file as it was.
fn refused(host: &TestHost, args: &str, message: &str) {
    let before = host.read(FILE);
    let output = here(host, args);
    assert!(!output.status.success(), "{args}: {}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(message), "{args}: {stderr}");
    assert_eq!(host.read(FILE), before, "{args} changed {FILE}");
}

fn instances_active(host: &TestHost) -> usize {
    active_count(host, "my-app@*.service")
}

#[test]
fn a_script_started_with_pm2_s_options_is_an_app_like_any_other() {
    let mut host = TestHost::boot("start-script");
    host.write(&format!("{DIR}/app.js"), APP_JS);
    add_deploy(&host);
    give_to_deploy(&host, DIR);
    let cpus: usize = host.ok("nproc").trim().parse().expect("nproc");

    // `pm2 start app.js -i max --name my-app`, with a socket, a variable
    // and the script's arguments.
    let started = here_ok(
        &host,
        &format!("start app.js -i max --name my-app --port {PORT} --env GREETING=hi --max-memory-restart 200M -- --a b"),
    );
    assert!(
        started.contains(&format!("my-app: wrote {FILE}")),
        "{started}"
    );
    // As an ecosystem file's app runs as the file's owner.
    assert_eq!(
        host.ok("ps -o user= -p $(systemctl show -P MainPID my-app@0.service)")
            .trim(),
        "deploy"
    );
    assert_eq!(
        host.read(FILE),
        format!(
            "# The app `my-app`, started with `nodeunits start {DIR}/app.js`.\n\
             # `nodeunits start` rewrites this file when the script is started again\n\
             # with other options. Edit it and `nodeunits apply` it to change the app;\n\
             # `nodeunits dump` prints every app started from a script.\n\n\
             [[apps]]\n\
             args = [\"--a\", \"b\"]\n\
             cwd = \"{DIR}\"\n\
             exec_mode = \"cluster\"\n\
             instances = \"max\"\n\
             listen = [{PORT}]\n\
             max_memory_restart = \"200M\"\n\
             name = \"my-app\"\n\
             script = \"{DIR}/app.js\"\n\
             user = \"deploy\"\n\n\
             [apps.env]\n\
             GREETING = \"hi\"\n"
        )
    );
    // It may hold the environment's values: its owner's only.
    assert_eq!(host.ok(&format!("stat -c %a {FILE}")).trim(), "600");
    wait_serving(&host, PORT, "cli hi --a,b");
    assert_eq!(instances_active(&host), cpus);
    let described = nodeunits_ok(&host, "describe my-app");
    assert!(described.contains(FILE), "{described}");

    // The units of any app: a zero-downtime reload, scale, a reboot.
    nodeunits_ok(&host, "reload my-app");
    nodeunits_ok(&host, "scale my-app 1");
    assert_eq!(instances_active(&host), 1);
    host.reboot();
    wait_serving(&host, PORT, "cli hi --a,b");

    // Started again with other options: the file changes, and the app.
    let restarted = here_ok(
        &host,
        &format!("start app.js --name my-app -i 2 --port {PORT} --env GREETING=bye"),
    );
    assert!(
        restarted.contains(&format!("my-app: rewrote {FILE}")),
        "{restarted}"
    );
    wait_serving(&host, PORT, "cli bye");
    assert_eq!(instances_active(&host), 2);

    // `pm2 save`'s counterpart: every app started this way, values masked
    // unless asked for.
    let dump = nodeunits_ok(&host, "dump");
    assert!(dump.contains("GREETING = \"********\""), "{dump}");
    assert!(!dump.contains("bye"), "{dump}");
    let shown = nodeunits_ok(&host, "dump --show-env");
    assert!(shown.contains("GREETING = \"bye\""), "{shown}");
    assert!(shown.contains("name = \"my-app\""), "{shown}");

    // Bad input says what is allowed, and the file and the app stay.
    refused(
        &host,
        "start app.js --name my-app -i lots",
        "--instances \"lots\": allowed: a number of workers, `max` (one per CPU), or -1",
    );
    refused(
        &host,
        "start app.js --name my-app --env 1X=2",
        "--env \"1X\": for a script, give a variable as KEY=VALUE",
    );
    refused(
        &host,
        "start app.js --name my-app --max-memory-restart lots",
        "put back as it was: the options given were not kept",
    );
    host.write("/srv/root-app.js", APP_JS);
    refused(
        &host,
        "start /srv/root-app.js",
        "/srv/root-app.js belongs to root, so its app would run as root: give --uid USER",
    );
    refused(
        &host,
        "start my-app -i 3",
        "--instances only applies to a script, and this is the installed app `my-app`",
    );
    wait_serving(&host, PORT, "cli bye");

    // `pm2 start ecosystem.config.js`: applied, and its apps started.
    host.write(
        &format!("{DIR}/other.toml"),
        "[[apps]]\nname = \"other\"\nscript = \"app.js\"\nlisten = [3601]\n\n[apps.env]\nGREETING = \"other\"\n",
    );
    give_to_deploy(&host, DIR);
    let started = here_ok(&host, "start other.toml");
    assert!(started.contains("other: started"), "{started}");
    wait_serving(&host, 3601, "cli other");
    // An app of that name from another file is not written over.
    let output = here(&host, "start app.js --name other");
    assert!(!output.status.success(), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "an app `other` is installed already, from {DIR}/other.toml"
        )),
        "{stderr}"
    );
    assert!(!host
        .sh("test -e /etc/nodeunits/apps/other.toml")
        .status
        .success());
}

/// The seed's app: its port in its code (`PORT || 3000`), naming its worker.
const SEED_APP_JS: &str = "const http = require('http');\nconst port = process.env.PORT || 3000;\nhttp.createServer((req, res) => {\n  res.writeHead(200, { 'x-worker': String(process.pid) });\n  res.end('seed\\n');\n}).listen(port);\n";
const SEED_WORKER_JS: &str = "setInterval(() => {}, 1000);\n";
const SEED: &str = "/srv/seed";

fn active_count(host: &TestHost, pattern: &str) -> usize {
    host.ok(&format!(
        "systemctl list-units --no-legend --state=active '{pattern}' | wc -l"
    ))
    .trim()
    .parse()
    .expect("a count")
}

/// The done-when of the command line, as the seeds type it: `start app.js
/// -i max --name my-app` and a worker without a port, `list`, reloads
/// under load, `scale`, `restart --update-env`, a daemon-reexec, then
/// `stop` and `delete` leaving nothing.
#[test]
fn the_seeds_commands_run_as_typed() {
    let host = TestHost::boot("start-seed");
    host.write(&format!("{SEED}/app.js"), SEED_APP_JS);
    host.write(&format!("{SEED}/worker.js"), SEED_WORKER_JS);
    give_to_deploy(&host, SEED);
    let cpus: usize = host.ok("nproc").trim().parse().expect("nproc");
    let seed = |args: &str| in_dir_ok(&host, SEED, args);

    seed("start app.js -i max --name my-app");
    seed("start worker.js --name jobs");
    let list = seed("list");
    for app in ["my-app ", "jobs "] {
        assert!(list.lines().any(|row| row.starts_with(app)), "{list}");
    }
    assert_eq!(active_count(&host, "jobs@*.service"), 1);
    {
        let _one = one_load_at_a_time();
        let counts = served_by_worker(&host, "http://127.0.0.1:3000/", false);
        assert_eq!(counts.len(), cpus, "every worker serves: {counts:?}");

        let load = wrk(&host, "http://127.0.0.1:3000/", 32);
        seed("reload my-app");
        seed("reload my-app --update-env");
        let (report, output) = stop_wrk(&host, load);
        assert_no_failures(&report, &output, "reload my-app, twice, under load");
    }
    seed("scale my-app 3");
    assert_eq!(active_count(&host, "my-app@*.service"), 3);
    seed("restart jobs --update-env");
    assert_eq!(active_count(&host, "jobs@*.service"), 1);

    host.ok("systemctl daemon-reexec");
    host.wait_until(
        "curl -fsS --max-time 2 http://127.0.0.1:3000/ | grep -q seed",
        std::time::Duration::from_secs(30),
    );
    assert_eq!(active_count(&host, "my-app@*.service"), 3);
    assert_eq!(active_count(&host, "jobs@*.service"), 1);

    seed("stop my-app");
    seed("stop jobs");
    assert_eq!(active_count(&host, "my-app*"), 0);
    assert_eq!(active_count(&host, "jobs*"), 0);
    let deleted = seed("delete my-app");
    assert!(
        deleted.contains("my-app: removed /etc/nodeunits/apps/my-app.toml"),
        "{deleted}"
    );
    seed("delete jobs");
    assert_eq!(
        host.ok("ls /etc/systemd/system /etc/nodeunits/apps | grep -c -e my-app -e jobs || true")
            .trim(),
        "0"
    );
    assert_eq!(
        host.ok("systemctl list-units --all --no-legend 'my-app*' 'jobs*' | wc -l")
            .trim(),
        "0"
    );
    assert_eq!(host.ok("pgrep -u deploy -c node || true").trim(), "0");
    assert!(seed("dump").contains("apps = []"));
}
