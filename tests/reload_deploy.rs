//! `nodeunits reload FILE` (the deploy in one command: apply, then roll
//! every app still running its previous code) and `nodeunits reload all`.

mod apply_support;
mod helper_support;

use apply_support::*;
use helper_support::{assert_no_failures, stop_wrk, wrk};
use testhost::TestHost;

const DIR: &str = "/srv/shop";

/// The ecosystem file of these apps, each with an `env_production`.
fn production(apps: &[App]) -> String {
    apps.iter()
        .map(|app| {
            ecosystem(std::slice::from_ref(app))
                + "[apps.env_production]\nNODE_ENV = \"production\"\n\n"
        })
        .collect()
}

/// The app's code as released later: every response says `version`,
/// whatever `APP_VERSION` says.
fn release(version: &str) -> String {
    let from_env = "process.env.APP_VERSION || 'v1'";
    assert!(APP_JS.contains(from_env));
    APP_JS.replace(from_env, &format!("'{version}'"))
}

/// Boots a box and applies the apps from `DIR` with `--env production`.
fn boot_deployed(name: &str, apps: &[App]) -> (TestHost, String) {
    let host = TestHost::boot(name);
    let file = write_ecosystem(&host, DIR, apps);
    host.write(&file, production(apps));
    nodeunits_ok(&host, &format!("apply {file} --env production"));
    (host, file)
}

/// The output with every duration (`in 0.4s`) written `in Ts`.
fn without_times(out: &str) -> String {
    out.lines()
        .map(|line| match line.rfind(" in ") {
            Some(at) => {
                let rest = &line[at + 4..];
                let number = rest
                    .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                    .unwrap_or(rest.len());
                format!("{} in T{}\n", &line[..at], &rest[number..])
            }
            None => format!("{line}\n"),
        })
        .collect()
}

/// `count` responses from PORT, each from a new connection.
fn responses(host: &TestHost, port: u16, count: u32) -> Vec<String> {
    (0..count)
        .map(|_| get(host, port).expect("the app serves"))
        .collect()
}

#[test]
fn reloading_the_file_after_a_pull_rolls_every_app_with_no_failed_request() {
    let api = App::new("api", 3, 3000);
    let web = App::new("web", 2, 4000);
    let (host, file) = boot_deployed("deploy-pull", &[api.clone(), web.clone()]);
    let units: Vec<String> = api.units().into_iter().chain(web.units()).collect();
    let ids = invocation_ids(&host, &units);

    // `git pull`: new code on disk, the same ecosystem file.
    host.write(&format!("{DIR}/app.js"), release("v2"));
    let cursor = cursor(&host);
    let load = wrk(&host, "http://127.0.0.1:3000/", 32);
    let out = nodeunits_ok(&host, &format!("reload {file} --env production"));
    let (report, wrk_output) = stop_wrk(&host, load);

    assert_eq!(
        without_times(&out),
        "api: unchanged\n\
         web: unchanged\n\
         api: api@0.service restarted and ready in Ts\n\
         api: api@1.service restarted and ready in Ts\n\
         api: api@2.service restarted and ready in Ts\n\
         api: reloaded (3 instances in Ts)\n\
         web: web@0.service restarted and ready in Ts\n\
         web: web@1.service restarted and ready in Ts\n\
         web: reloaded (2 instances in Ts)\n"
    );
    assert_no_failures(&report, &wrk_output, "reload FILE under keep-alive load");
    // The units are as they were: each instance's app is replaced in place.
    for (app, count) in [("api", 3), ("web", 2)] {
        let expected = replaced_one_at_a_time(count);
        assert_eq!(replacements_seen(&host, &cursor, app, &expected), expected);
    }
    assert_eq!(invocation_ids(&host, &units), ids);
    for (port, app) in [(3000, "api"), (4000, "web")] {
        for body in responses(&host, port, 20) {
            assert!(body.starts_with(&format!("{app} ")), "{body}");
            assert!(body.contains(" v2 "), "served by the old code: {body}");
        }
    }
    // The profile's values are in the environment file, not the unit.
    let environment = host.read(&format!("{UNIT_DIR}/api.env"));
    assert!(
        environment.contains("\nNODE_ENV='production'\n"),
        "{environment}"
    );
}

#[test]
fn a_deploy_does_not_roll_again_what_apply_started_or_rolled() {
    let api = App::new("api", 2, 3000);
    let web = App::new("web", 2, 4000);
    let (host, file) = boot_deployed("deploy-once", &[api.clone(), web.clone()]);
    let admin = App::new("admin", 1, 5000);
    let apps = [api.clone(), web.clone().version("v2"), admin.clone()];
    host.write(&file, production(&apps));
    let cursor = cursor(&host);

    let out = nodeunits_ok(&host, &format!("reload {file} --env production"));
    assert_eq!(
        without_times(&out),
        "api: unchanged\n\
         web: changed (web.env); rolling reload\n\
         admin: created (1 instance)\n\
         web: web@0.service restarted and ready in Ts\n\
         web: web@1.service restarted and ready in Ts\n\
         admin: starting 1 instances\n\
         api: api@0.service restarted and ready in Ts\n\
         api: api@1.service restarted and ready in Ts\n\
         api: reloaded (2 instances in Ts)\n\
         web: reloaded by apply\n\
         admin: started by apply\n"
    );
    // web's unit changed: it restarts; api's did not: it is replaced in place.
    let expected = one_at_a_time(2);
    assert_eq!(restarts_seen(&host, &cursor, "web", &expected), expected);
    let expected = replaced_one_at_a_time(2);
    assert_eq!(
        replacements_seen(&host, &cursor, "api", &expected),
        expected
    );
    assert!(restarts_since(&host, &cursor, "api").is_empty());
    let started = [("Started".to_owned(), 0)];
    assert_eq!(restarts_seen(&host, &cursor, "admin", &started), started);
    // journald has everything by now: still once each.
    std::thread::sleep(std::time::Duration::from_secs(1));
    assert_eq!(restarts_since(&host, &cursor, "web"), one_at_a_time(2));
    assert_eq!(restarts_since(&host, &cursor, "admin"), started);
    assert!(get(&host, 4000).unwrap().contains(" v2 "));
    assert!(get(&host, 5000).unwrap().starts_with("admin 0 v1 "));
}

#[test]
fn reload_all_rolls_every_running_app_of_every_file() {
    let api = App::new("api", 2, 3000);
    let (host, _) = boot_applied("reload-all", std::slice::from_ref(&api));
    let admin = App::new("admin", 1, 5000);
    let idle = App::new("idle", 1, 6000);
    let other = write_ecosystem(&host, "/srv/admin", &[admin.clone(), idle.clone()]);
    nodeunits_ok(&host, &format!("apply {other}"));
    nodeunits_ok(&host, "stop idle");
    let running: Vec<String> = admin.units().into_iter().chain(api.units()).collect();
    let ids = invocation_ids(&host, &running);
    let cursor = cursor(&host);

    let out = nodeunits_ok(&host, "reload all");
    assert_eq!(
        without_times(&out),
        "admin: admin@0.service restarted and ready in Ts\n\
         admin: reloaded (1 instance in Ts)\n\
         api: api@0.service restarted and ready in Ts\n\
         api: api@1.service restarted and ready in Ts\n\
         api: reloaded (2 instances in Ts)\n\
         idle: inactive, so not reloaded; `nodeunits start idle` starts it\n"
    );
    let expected = replaced_one_at_a_time(2);
    assert_eq!(
        replacements_seen(&host, &cursor, "api", &expected),
        expected
    );
    let expected = replaced_one_at_a_time(1);
    assert_eq!(
        replacements_seen(&host, &cursor, "admin", &expected),
        expected
    );
    assert_eq!(invocation_ids(&host, &running), ids);
    assert_eq!(active_states(&host, &idle.units()), ["inactive"]);
    assert_eq!(get(&host, 6000), None, "idle stays stopped");
}

#[test]
fn an_argument_that_is_neither_an_app_nor_a_file_is_refused() {
    let api = App::new("api", 1, 3000);
    let (host, _) = boot_applied("reload-arguments", std::slice::from_ref(&api));
    let refused = |args: &str| {
        let output = host.sh(&format!("cd /srv && {NODEUNITS} reload {args}"));
        assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
        assert!(output.stdout.is_empty(), "{}", describe(&output));
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let allowed = "allowed: an installed app's name (api), the path of an ecosystem file, or `all`";
    assert_eq!(
        refused("nosuch"),
        format!(
            "nodeunits: `nosuch` is neither an installed app nor an ecosystem file: no app \
             `nosuch` in the system service manager: nosuch.service is not loaded (installed \
             with --user? see `nodeunits status --user`), and there is no file nosuch (in \
             /srv); {allowed}\n"
        )
    );
    assert_eq!(
        refused("shop"),
        format!(
            "nodeunits: `shop` is neither an installed app nor an ecosystem file: no app \
             `shop` in the system service manager: shop.service is not loaded (installed \
             with --user? see `nodeunits status --user`), and shop is not a regular file; {allowed}\n"
        )
    );
    assert_eq!(
        refused("./shop/ecosystem.json"),
        format!(
            "nodeunits: `./shop/ecosystem.json` is not an ecosystem file: there is no file \
             ./shop/ecosystem.json (in /srv); {allowed}\n"
        )
    );
    assert_eq!(
        refused("api --env production"),
        "nodeunits: --env only applies to an ecosystem file, and `api` is an installed app; \
         to deploy a file, name it\n"
    );
    host.write(
        "/srv/bad.toml",
        "[[apps]]\nname = \"api\"\ninstances = \"many\"\n",
    );
    let invalid = refused("bad.toml");
    assert!(invalid.contains("bad.toml:3:"), "{invalid}");

    // A file named like the app: the app, with a note.
    host.write(&format!("{DIR}/api"), "");
    let output = host.sh(&format!("cd {DIR} && {NODEUNITS} reload api"));
    assert!(output.status.success(), "{}", describe(&output));
    assert_eq!(
        without_times(&String::from_utf8_lossy(&output.stdout)),
        "api@0.service restarted and ready in Ts\n"
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "note: `api` is an installed app and also a file here: reloading the app; write ./api for the file\n"
    );
}

#[test]
fn a_deploy_stops_at_the_instance_the_new_code_cannot_start() {
    let api = App::new("api", 3, 3000);
    let web = App::new("web", 1, 4000);
    let (host, file) = boot_deployed("deploy-broken", &[api.clone(), web.clone()]);
    let ids = invocation_ids(&host, &api.units());
    let web_ids = invocation_ids(&host, &web.units());
    host.write(&format!("{DIR}/app.js"), release("broken-from-1"));

    let output = nodeunits(&host, &format!("reload {file} --env production"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert_eq!(
        without_times(&stdout),
        "api: unchanged\nweb: unchanged\napi: api@0.service restarted and ready in Ts\n"
    );
    assert!(
        stderr.starts_with(
            "nodeunits: reload of `api` stopped at api@1.service; left alone: api@2.service; \
             not reloaded: web: api@1.service did not reload"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("version broken-from-1 cannot start"),
        "{stderr}"
    );
    assert!(stderr.contains("ended before it was ready"), "{stderr}");
    // No instance stopped: api@1 serves on with the code it ran.
    assert_eq!(invocation_ids(&host, &api.units()), ids);
    assert_eq!(active_states(&host, &api.units()), ["active"; 3]);
    assert_eq!(invocation_ids(&host, &web.units()), web_ids);
    assert!(get(&host, 4000).unwrap().contains(" v1 "), "web untouched");
    wait_serving(&host, 3000, " broken-from-1 ");
}
