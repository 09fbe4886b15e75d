//! An apply that does not finish, on a real systemd: killed (SIGKILL) at
//! defined steps, then applied again; stopped by SIGINT, SIGTERM or SIGHUP,
//! which roll back; two applies at once.

mod apply_support;

use std::os::unix::process::ExitStatusExt;
use std::process::Output;

use apply_support::*;
use testhost::TestHost;

const DIR: &str = "/srv/shop";
const JOURNAL: &str = "/var/lib/nodeunits/apply-journal";

/// `APP_JS`, but listening `START_DELAY_MS` after its start.
const SLOW_APP_JS: &str = r#"const http = require('http');
const version = process.env.APP_VERSION || 'v1';
const server = http.createServer((req, res) => {
  res.end(`${process.env.APP_NAME} ${process.env.NODE_APP_INSTANCE} ${version} ${process.pid}\n`);
});
setTimeout(() => server.listen(process.env.PORT), Number(process.env.START_DELAY_MS || 0));
"#;

fn shop() -> [App; 3] {
    [
        App::new("api", 2, 3000),
        App::new("web", 2, 4000),
        App::new("jobs", 1, 5000),
    ]
}

fn journal_entries(host: &TestHost) -> Vec<String> {
    host.ok(&format!("ls -1 {JOURNAL} 2>/dev/null || true"))
        .lines()
        .map(str::to_owned)
        .collect()
}

fn killed(output: &Output) -> bool {
    output.status.signal() == Some(9) || output.status.code() == Some(137)
}

/// Steps of applying `shop()` anew: 12 files (1–12: each app's socket,
/// template, environment file and app unit), daemon-reload (13), then the
/// three apps together: check (14), enable (15), start the sockets (16), the
/// instances (17), the app units (18).
fn killed_at_step_then_applied_again(step: u32) {
    let host = TestHost::boot(&format!("interrupted-{step}"));
    host.write(&format!("{DIR}/app.js"), APP_JS);
    let file = format!("{DIR}/ecosystem.toml");
    host.write(&file, ecosystem(&shop()));
    give_to_deploy(&host, DIR);
    let output = host.sh(&format!(
        "NODEUNITS_TEST_SIGNAL_AT_STEP={step} {NODEUNITS} apply {file}"
    ));
    assert!(
        killed(&output),
        "killed at step {step}: {}",
        describe(&output)
    );
    assert_eq!(
        journal_entries(&host),
        ["api.json", "jobs.json", "web.json"],
        "killed mid-apply: every entry is there"
    );
    let again = nodeunits_ok(&host, &format!("apply {file}"));
    for app in shop() {
        let plural = if app.instances == 1 { "" } else { "s" };
        assert!(
            again.contains(&format!(
                "{}: created ({} instance{plural}); finishing an earlier apply of it that did not end",
                app.name, app.instances
            )),
            "{again}"
        );
        assert!(
            active_states(&host, &app.units())
                .iter()
                .all(|s| s == "active"),
            "{again}"
        );
        let body = get(&host, app.port).unwrap_or_default();
        assert!(
            body.starts_with(&format!("{} ", app.name)),
            "{}: {body}",
            app.name
        );
    }
    assert_eq!(journal_entries(&host), Vec::<String>::new());
    assert_eq!(
        nodeunits_ok(&host, &format!("apply {file}")),
        "api: unchanged\nweb: unchanged\njobs: unchanged\n"
    );
}

#[test]
fn killed_before_writing_any_file() {
    killed_at_step_then_applied_again(1);
}

#[test]
fn killed_halfway_through_the_files() {
    killed_at_step_then_applied_again(6);
}

#[test]
fn killed_before_systemd_reloads_the_files() {
    killed_at_step_then_applied_again(13);
}

#[test]
fn killed_once_the_apps_are_enabled() {
    killed_at_step_then_applied_again(16);
}

#[test]
fn killed_while_the_apps_start() {
    killed_at_step_then_applied_again(17);
}

#[test]
fn killed_once_the_instances_run() {
    killed_at_step_then_applied_again(18);
}

#[test]
fn a_rollout_killed_halfway_is_finished_by_the_next_apply() {
    let api = App::new("api", 3, 3000);
    let (host, file) = boot_applied("interrupted-roll", std::slice::from_ref(&api));
    host.write(&file, ecosystem(&[api.clone().version("v2")]));
    // 1 the environment file, 2 daemon-reload, 3 check, 4 api@0, 5 api@1.
    let output = host.sh(&format!(
        "NODEUNITS_TEST_SIGNAL_AT_STEP=5 {NODEUNITS} apply {file}"
    ));
    assert!(killed(&output), "{}", describe(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("api: api@0.service restarted and ready in"),
        "{stdout}"
    );
    assert!(!stdout.contains("api@1.service restarted"), "{stdout}");
    let ids = invocation_ids(&host, &api.units());
    let status = nodeunits(&host, "status api");
    assert!(
        String::from_utf8_lossy(&status.stderr).contains(&format!(
            "note: an apply of `api` is under way, or was killed: `nodeunits apply {file}` finishes it"
        )),
        "{}",
        describe(&status)
    );

    let again = nodeunits_ok(&host, &format!("apply {file}"));
    assert!(
        again.starts_with("api: changed (api.env); rolling reload; finishing an earlier apply of it that did not end\n"),
        "{again}"
    );
    let after = invocation_ids(&host, &api.units());
    assert!(
        ids.iter().zip(&after).all(|(a, b)| a != b),
        "every instance restarted"
    );
    for _ in 0..6 {
        assert!(get(&host, 3000).unwrap().contains(" v2 "));
    }
    assert_eq!(
        nodeunits_ok(&host, &format!("apply {file}")),
        "api: unchanged\n"
    );
}

/// Runs `apply FILE` in the background, sends it `signal` once the apply
/// has begun and `wait` seconds more have passed; returns its output.
fn apply_and_signal(host: &TestHost, file: &str, signal: &str, wait: &str) -> Output {
    host.sh(&format!(
        "{NODEUNITS} apply {file} >/tmp/out 2>/tmp/err & pid=$!
         until ls {JOURNAL}/*.json >/dev/null 2>&1; do sleep 0.01; done
         sleep {wait}; kill -{signal} $pid; wait $pid; status=$?
         cat /tmp/out; cat /tmp/err >&2; exit $status"
    ))
}

#[test]
fn sigint_while_a_new_app_starts_removes_it_and_exits_130() {
    let web = App::new("web", 1, 4000);
    let (host, file) = boot_applied("interrupted-sigint", std::slice::from_ref(&web));
    let before = host.ok(&format!("cd {UNIT_DIR} && cat web*"));
    host.write(&format!("{DIR}/slow.js"), SLOW_APP_JS);
    host.write(
        &file,
        format!(
            "{}[[apps]]\nname = \"api\"\nscript = \"slow.js\"\ninstances = 2\nlisten = [\"127.0.0.1:3000\"]\n\
             [apps.env]\nAPP_NAME = \"api\"\nSTART_DELAY_MS = \"2000\"\n",
            ecosystem(std::slice::from_ref(&web))
        ),
    );
    let output = apply_and_signal(&host, &file, "INT", "1");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{}", describe(&output));
    assert!(
        stderr.contains("app `api`: interrupted by SIGINT\nthe previous unit files are back"),
        "{stderr}"
    );
    assert_eq!(
        unit_files(&host, "api"),
        Vec::<String>::new(),
        "no file of api left"
    );
    assert_eq!(
        active_states(&host, &["api@0.service".into(), "api@1.service".into()]),
        ["inactive"; 2]
    );
    assert_eq!(get(&host, 3000), None, "api's port closed");
    assert_eq!(host.ok(&format!("cd {UNIT_DIR} && cat web*")), before);
    assert!(get(&host, 4000).is_some());
    assert_eq!(journal_entries(&host), Vec::<String>::new());
}

#[test]
fn sigterm_during_a_rollout_puts_the_previous_version_back_and_exits_143() {
    let api = App::new("api", 2, 3000);
    let host = TestHost::boot("interrupted-sigterm");
    host.write(&format!("{DIR}/app.js"), SLOW_APP_JS);
    let file = format!("{DIR}/ecosystem.toml");
    host.write(&file, ecosystem(std::slice::from_ref(&api)));
    give_to_deploy(&host, DIR);
    nodeunits_ok(&host, &format!("apply {file}"));
    let template = host.read(&format!("{UNIT_DIR}/api@.service"));
    let ids = invocation_ids(&host, &api.units());
    host.write(
        &file,
        ecosystem(&[api.clone().version("v2")]) + "START_DELAY_MS = \"2000\"\n",
    );
    let output = apply_and_signal(&host, &file, "TERM", "0.5");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(143), "{}", describe(&output));
    assert!(stderr.contains("interrupted by SIGTERM"), "{stderr}");
    // The step under way when the signal came, api@0's restart, finished.
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("api: api@0.service restarted and ready in"),
        "{stdout}"
    );
    assert_eq!(host.read(&format!("{UNIT_DIR}/api@.service")), template);
    let after = invocation_ids(&host, &api.units());
    assert_eq!(after[1], ids[1], "api@1 never restarted");
    assert_eq!(active_states(&host, &api.units()), ["active"; 2]);
    for _ in 0..4 {
        assert!(get(&host, 3000).unwrap().contains(" v1 "), "back on v1");
    }
    assert_eq!(journal_entries(&host), Vec::<String>::new());
}

#[test]
fn sighup_rolls_back_and_exits_129() {
    let (host, file) = boot_applied("interrupted-sighup", &[App::new("web", 1, 4000)]);
    host.write(
        &file,
        ecosystem(&[App::new("web", 1, 4000), App::new("api", 1, 3000)]),
    );
    // 1–4 api's files, 5 daemon-reload, 6 check, 7 enable, 8 the socket.
    let output = host.sh(&format!(
        "NODEUNITS_TEST_SIGNAL_AT_STEP=8:HUP {NODEUNITS} apply {file}"
    ));
    assert_eq!(output.status.code(), Some(129), "{}", describe(&output));
    assert!(String::from_utf8_lossy(&output.stderr).contains("app `api`: interrupted by SIGHUP"));
    assert_eq!(unit_files(&host, "api"), Vec::<String>::new());
    assert_eq!(journal_entries(&host), Vec::<String>::new());
    nodeunits_ok(&host, &format!("apply {file}"));
    assert!(get(&host, 3000).unwrap().starts_with("api "));
}

#[test]
fn two_applies_at_once_take_turns() {
    let host = TestHost::boot("interrupted-together");
    let file = write_ecosystem(&host, DIR, &shop());
    let both = host.sh(&format!(
        "{NODEUNITS} apply {file} >/tmp/one 2>&1 & one=$!
         {NODEUNITS} apply {file} >/tmp/two 2>&1; two=$?
         wait $one; echo \"$? $two\"; cat /tmp/one /tmp/two"
    ));
    let out = String::from_utf8_lossy(&both.stdout);
    assert!(out.starts_with("0 0\n"), "{out}");
    assert!(
        out.contains("waiting for another rollout of it to finish"),
        "{out}"
    );
    for app in shop() {
        assert!(get(&host, app.port).unwrap().starts_with(app.name));
    }
    assert_eq!(journal_entries(&host), Vec::<String>::new());
}
