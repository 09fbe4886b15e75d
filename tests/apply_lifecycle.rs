//! `nodeunits apply` on a real systemd: serving, idempotence, rolling one
//! app of two under load, instance counts, removal, status.

mod apply_support;

use std::time::Duration;

use apply_support::*;
use testhost::TestHost;

const DIR: &str = "/srv/shop";

#[test]
fn apply_serves_and_applying_again_restarts_nothing() {
    let host = TestHost::boot("apply-idempotent");
    let api = App::new("api", 3, 3000);
    let web = App::new("web", 2, 4000);
    let file = write_ecosystem(&host, DIR, &[api.clone(), web.clone()]);
    let out = nodeunits_ok(&host, &format!("apply {file}"));
    assert!(out.contains("api: created (3 instances)"), "{out}");
    assert!(out.contains("web: created (2 instances)"), "{out}");
    let units: Vec<String> = api.units().into_iter().chain(web.units()).collect();
    assert!(active_states(&host, &units).iter().all(|s| s == "active"));
    assert!(get(&host, 3000).unwrap().starts_with("api "));
    assert!(get(&host, 4000).unwrap().starts_with("web "));
    let ids = invocation_ids(&host, &units);

    let again = nodeunits_ok(&host, &format!("apply {file}"));
    assert_eq!(again, "api: unchanged\nweb: unchanged\n");
    assert_eq!(invocation_ids(&host, &units), ids, "nothing restarted");

    // status --json reports systemd's own PIDs and states.
    let status: serde_json::Value =
        serde_json::from_str(&nodeunits_ok(&host, "status api --json")).unwrap();
    let rows = status.as_array().unwrap();
    assert_eq!(rows.len(), 3);
    for (row, unit) in rows.iter().zip(api.units()) {
        let pid = row["pid"].as_u64().unwrap();
        assert_eq!(
            pid.to_string(),
            property(&host, "MainPID", std::slice::from_ref(&unit))[0]
        );
        host.ok(&format!("test -d /proc/{pid}"));
        assert_eq!(row["state"], "active");
        assert_eq!(row["unit"], unit.as_str());
        assert_eq!(row["listen"][0], "127.0.0.1:3000");
        assert!(row["memory_bytes"].as_u64().unwrap() > 0);
    }
    let table = nodeunits_ok(&host, "status");
    assert_eq!(table.lines().count(), 1 + 5, "{table}");

    // An app that is not installed: said, with where it was looked for.
    let said = nodeunits_fails(&host, "status nosuch");
    assert!(
        said.contains("no app `nosuch` is installed in /etc/systemd/system"),
        "{said}"
    );
}

#[test]
fn editing_one_app_of_two_rolls_only_it_one_instance_at_a_time_under_load() {
    let api = App::new("api", 3, 3000);
    let web = App::new("web", 2, 4000);
    let (host, file) = boot_applied("apply-roll", &[api.clone(), web.clone()]);
    let web_ids = invocation_ids(&host, &web.units());
    let api_ids = invocation_ids(&host, &api.units());

    host.write(&file, ecosystem(&[api.clone().version("v2"), web.clone()]));
    let cursor = cursor(&host);
    let load = host.spawn("wrk -t2 -c16 -d8s http://127.0.0.1:3000/");
    std::thread::sleep(Duration::from_secs(1));
    let out = nodeunits_ok(&host, &format!("apply {file}"));
    let load = load.wait_with_output().unwrap();
    let wrk = String::from_utf8_lossy(&load.stdout);

    assert!(
        out.starts_with("api: changed (api.env); rolling reload\nweb: unchanged\n"),
        "{out}"
    );
    let lines: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("restarted and ready in"))
        .collect();
    assert_eq!(lines.len(), 3, "{out}");
    for (line, unit) in lines.iter().zip(api.units()) {
        assert!(
            line.starts_with(&format!("api: {unit} restarted and ready in ")),
            "{out}"
        );
    }
    let expected = one_at_a_time(3);
    assert_eq!(restarts_seen(&host, &cursor, "api", &expected), expected);
    assert!(restarts_since(&host, &cursor, "web").is_empty());
    assert_eq!(
        invocation_ids(&host, &web.units()),
        web_ids,
        "web untouched"
    );
    let new_ids = invocation_ids(&host, &api.units());
    assert!(new_ids.iter().zip(&api_ids).all(|(new, old)| new != old));
    assert!(get(&host, 3000).unwrap().contains(" v2 "));
    let report = testhost::wrk::parse(&wrk).unwrap_or_else(|error| panic!("{error:#}"));
    assert!(report.requests > 0, "wrk served nothing:\n{wrk}");
    assert_eq!(
        report.failed(),
        0,
        "failed requests during the rollout:\n{wrk}"
    );
}

#[test]
fn changing_the_instance_count_starts_or_stops_only_the_difference() {
    let api = App::new("api", 2, 3000);
    let (host, file) = boot_applied("apply-count", std::slice::from_ref(&api));
    let first_two = invocation_ids(&host, &api.units());

    host.write(&file, ecosystem(&[api.clone().instances(4)]));
    let out = nodeunits_ok(&host, &format!("apply {file}"));
    assert!(out.contains("instances 2 → 4"), "{out}");
    let four = api.clone().instances(4).units();
    assert_eq!(active_states(&host, &four), ["active"; 4]);
    assert_eq!(
        invocation_ids(&host, &four)[..2],
        first_two[..],
        "0 and 1 kept running"
    );

    host.write(&file, ecosystem(&[api.clone().instances(1)]));
    let out = nodeunits_ok(&host, &format!("apply {file}"));
    assert!(out.contains("instances 4 → 1"), "{out}");
    assert_eq!(
        active_states(&host, &four),
        ["active", "inactive", "inactive", "inactive"]
    );
    assert_eq!(invocation_ids(&host, &four[..1])[0], first_two[0]);
}

#[test]
fn removing_an_app_from_the_file_deletes_its_units_and_closes_its_port() {
    let api = App::new("api", 2, 3000);
    let web = App::new("web", 2, 4000);
    let (host, file) = boot_applied("apply-remove", &[api.clone(), web.clone()]);
    // A unit of someone else's, named like the app: never touched.
    host.write(
        &format!("{UNIT_DIR}/web-backup.service"),
        "[Service]\nExecStart=/bin/true\n",
    );
    let api_ids = invocation_ids(&host, &api.units());

    host.write(&file, ecosystem(std::slice::from_ref(&api)));
    let out = nodeunits_ok(&host, &format!("apply {file}"));
    assert!(
        out.contains("web: removed (web.env, web.service, web.socket, web@.service)"),
        "{out}"
    );
    assert_eq!(unit_files(&host, "web"), Vec::<String>::new());
    host.ok(&format!("test -f {UNIT_DIR}/web-backup.service"));
    assert_eq!(
        host.ok("systemctl list-unit-files --no-legend 'web.*' 'web@*' || true"),
        ""
    );
    assert_eq!(active_states(&host, &web.units()), ["inactive", "inactive"]);
    assert_eq!(get(&host, 4000), None, "port 4000 closed");
    assert!(get(&host, 3000).is_some());
    assert_eq!(invocation_ids(&host, &api.units()), api_ids);
}

#[test]
fn new_listen_addresses_move_the_app_to_them() {
    let api = App::new("api", 2, 3000);
    let (host, file) = boot_applied("apply-listen", std::slice::from_ref(&api));
    let moved = App::new("api", 2, 3100);
    host.write(&file, ecosystem(std::slice::from_ref(&moved)));
    let out = nodeunits_ok(&host, &format!("apply {file}"));
    assert!(out.contains("listen addresses changed"), "{out}");
    assert!(get(&host, 3100).unwrap().starts_with("api "));
    assert_eq!(get(&host, 3000), None, "the old port closed");
    assert_eq!(active_states(&host, &api.units()), ["active"; 2]);
    let listen = host.ok("systemctl show -p Listen --value api.socket");
    assert_eq!(listen.trim(), "127.0.0.1:3100 (Stream)");
}

#[test]
fn an_app_without_autostart_is_installed_and_runs_only_once_started() {
    let host = TestHost::boot("apply-autostart");
    let api = App::new("api", 2, 3000);
    let file = write_ecosystem(&host, DIR, std::slice::from_ref(&api));
    let text = ecosystem(std::slice::from_ref(&api));
    let text = text.replace(
        "exec_mode = \"cluster\"\n",
        "exec_mode = \"cluster\"\nautostart = false\n",
    );
    host.write(&file, text);
    give_to_deploy(&host, DIR);

    let out = nodeunits_ok(&host, &format!("apply {file}"));
    assert!(
        out.contains(
            "api: installed, not started (autostart = false): `nodeunits start api` starts it"
        ),
        "{out}"
    );
    let units: Vec<String> = api
        .units()
        .into_iter()
        .chain(["api.socket".to_owned()])
        .collect();
    assert!(
        active_states(&host, &units).iter().all(|s| s == "inactive"),
        "{units:?}"
    );
    let enabled = host.sh("systemctl is-enabled api.service api.socket");
    assert_eq!(
        String::from_utf8_lossy(&enabled.stdout),
        "disabled\ndisabled\n"
    );
    assert_eq!(get(&host, 3000), None, "nothing listens on the port");
    let described = nodeunits_ok(&host, "describe api");
    assert!(described.contains("autostart"), "{described}");

    nodeunits_ok(&host, "start api");
    assert!(get(&host, 3000).unwrap().starts_with("api "));
    assert_eq!(
        nodeunits_ok(&host, &format!("apply {file}")),
        "api: unchanged\n"
    );
}
