//! PM2's habits around its command line, on a real systemd: `list`, `ls`
//! and `jlist`; `--update-env`, which the seed's deploy script passes;
//! `restart`, `stop` and `delete` of an ecosystem file act on every app of
//! it, and of `all`, as PM2's do.

mod apply_support;

use apply_support::*;
use testhost::TestHost;

const DIR: &str = "/srv/habits";
const PORT: u16 = 3500;

const WEB_JS: &str = "require('http').createServer((q, s) => s.end(`web ${process.env.VERSION}\\n`)).listen(process.env.PORT);\n";
const JOBS_JS: &str = "setInterval(() => {}, 1000);\n";

/// Two apps, the web app's VERSION in its `env`.
fn ecosystem(version: &str) -> String {
    format!(
        "[[apps]]\nname = \"web\"\nscript = \"web.js\"\ninstances = 2\nexec_mode = \"cluster\"\n\
         port = {PORT}\n\n[apps.env]\nVERSION = \"{version}\"\n\n\
         [[apps]]\nname = \"jobs\"\nscript = \"jobs.js\"\n"
    )
}

fn write(host: &TestHost, version: &str) -> String {
    let file = format!("{DIR}/ecosystem.toml");
    host.write(&file, ecosystem(version));
    give_to_deploy(host, DIR);
    file
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn list_jlist_update_env_and_commands_on_a_file() {
    let host = TestHost::boot("pm2-habits");
    host.write(&format!("{DIR}/web.js"), WEB_JS);
    host.write(&format!("{DIR}/jobs.js"), JOBS_JS);
    let file = write(&host, "v1");
    nodeunits_ok(&host, &format!("apply {file}"));
    wait_serving(&host, PORT, "web v1");

    // `pm2 list`, `pm2 ls`, `pm2 jlist`.
    for list in ["list", "ls", "status"] {
        let shown = nodeunits_ok(&host, list);
        let rows: Vec<&str> = shown.lines().skip(1).collect();
        assert!(
            rows.iter().any(|row| row.starts_with("jobs "))
                && rows.iter().any(|row| row.starts_with("web ")),
            "{list}:\n{shown}"
        );
    }
    let json: serde_json::Value =
        serde_json::from_str(&nodeunits_ok(&host, "jlist")).expect("jlist prints JSON");
    let status: serde_json::Value =
        serde_json::from_str(&nodeunits_ok(&host, "status --json")).expect("JSON");
    // A row per instance, as `status --json` has them.
    let names = |value: &serde_json::Value| -> Vec<String> {
        let rows = value.as_array().expect("rows");
        let mut apps: Vec<String> = rows
            .iter()
            .map(|row| row["app"].as_str().expect("an app").to_owned())
            .collect();
        apps.dedup();
        apps
    };
    assert_eq!(names(&json), ["jobs", "web"], "{json}");
    assert_eq!(names(&json), names(&status));

    // The seed's deploy: `pm2 reload ecosystem.config.js --env production
    // --update-env`. The file's environment is applied; a note says once
    // that the shell's is not.
    let file = write(&host, "v2");
    let reload = nodeunits(&host, &format!("reload {file} --update-env"));
    assert!(reload.status.success(), "{}", describe(&reload));
    assert_eq!(
        stderr(&reload).matches("--update-env").count(),
        1,
        "{}",
        describe(&reload)
    );
    wait_serving(&host, PORT, "web v2");
    let reload = nodeunits(&host, "reload web --update-env");
    assert!(reload.status.success(), "{}", describe(&reload));

    // `pm2 restart FILE --update-env`: applied, then every app restarted.
    let file = write(&host, "v3");
    let restart = nodeunits(&host, &format!("restart {file} --update-env"));
    assert!(restart.status.success(), "{}", describe(&restart));
    let said = String::from_utf8_lossy(&restart.stdout);
    assert!(said.contains("jobs: restarted (1 instances)"), "{said}");
    wait_serving(&host, PORT, "web v3");
    let jobs_pid = host.ok("systemctl show -p MainPID --value jobs@0.service");
    let all = nodeunits_ok(&host, "restart all");
    assert!(
        all.contains("jobs: restarted") && all.contains("web: restarted (2 instances)"),
        "{all}"
    );
    let restarted = host.ok("systemctl show -p MainPID --value jobs@0.service");
    assert_ne!(jobs_pid, restarted, "restart all restarted jobs");
    wait_serving(&host, PORT, "web v3");

    // `pm2 stop FILE`, then `pm2 delete FILE`: every app of it.
    let stopped = nodeunits_ok(&host, &format!("stop {file}"));
    assert!(
        stopped.contains("jobs: stopped") && stopped.contains("web: stopped"),
        "{stopped}"
    );
    let units = [
        "web.service",
        "web.socket",
        "web@0.service",
        "jobs.service",
        "jobs@0.service",
    ]
    .map(String::from);
    assert_eq!(active_states(&host, &units), ["inactive"; 5]);
    assert_eq!(get(&host, PORT), None, "the port is closed");
    // The apps of a file are those installed from it, as their units say:
    // with a script gone, which no longer compiles, they still go.
    host.ok(&format!("rm {DIR}/jobs.js"));
    nodeunits_ok(&host, &format!("delete {file}"));
    assert!(unit_files(&host, "web").is_empty() && unit_files(&host, "jobs").is_empty());
    let gone = nodeunits(&host, &format!("stop {file}"));
    assert_eq!(gone.status.code(), Some(1), "{}", describe(&gone));
    assert!(stderr(&gone).contains("no app of"), "{}", describe(&gone));
}
