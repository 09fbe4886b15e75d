//! `nodeunits reload`, `systemctl reload APP` and `nodeunits scale`. A
//! reload replaces each instance's app successor first, in place: the
//! units keep their invocation (tests/reload_successor.rs shows the rest).

mod apply_support;

use apply_support::*;

#[test]
fn systemctl_reload_performs_the_rolling_reload() {
    let api = App::new("api", 3, 3000);
    let (host, _) = boot_applied("apply-reload", std::slice::from_ref(&api));
    let ids = invocation_ids(&host, &api.units());

    let cursor = cursor(&host);
    host.ok("systemctl reload api.service");
    let expected = replaced_one_at_a_time(3);
    assert_eq!(
        replacements_seen(&host, &cursor, "api", &expected),
        expected
    );
    assert!(restarts_since(&host, &cursor, "api").is_empty());
    assert_eq!(invocation_ids(&host, &api.units()), ids);
    // The reload's own lines, in the app unit's journal.
    host.wait_until(
        "journalctl -u api.service -o cat | grep -q 'api@2.service restarted and ready in'",
        std::time::Duration::from_secs(10),
    );

    let out = nodeunits_ok(&host, "reload api");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    for (line, unit) in lines.iter().zip(api.units()) {
        assert!(
            line.starts_with(&format!("{unit} restarted and ready in ")),
            "{out}"
        );
    }
    assert_eq!(active_states(&host, &api.units()), ["active"; 3]);

    let output = nodeunits(&host, "reload nosuchapp");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no app `nosuchapp`"));
}

#[test]
fn a_reload_stops_at_the_instance_that_does_not_come_back() {
    let api = App::new("api", 3, 3000);
    let (host, _) = boot_applied("reload-broken", std::slice::from_ref(&api));
    // A deploy of code that cannot start as instance 1 or above.
    let broken = APP_JS.replace(
        "const version = process.env.APP_VERSION || 'v1';",
        "const version = 'broken-from-1';",
    );
    host.write("/srv/shop/app.js", broken);
    let ids = invocation_ids(&host, &api.units());

    let output = nodeunits(&host, "reload api");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert!(
        stdout.starts_with("api@0.service restarted and ready in "),
        "{stdout}"
    );
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(
        stderr.contains("reload of `api` stopped at api@1.service; left alone: api@2.service"),
        "{stderr}"
    );
    assert!(stderr.contains("api@1.service did not reload"), "{stderr}");
    assert!(
        stderr.contains("version broken-from-1 cannot start"),
        "{stderr}"
    );
    assert!(stderr.contains("ended before it was ready"), "{stderr}");
    assert_eq!(invocation_ids(&host, &api.units()), ids, "none stopped");
    assert_eq!(active_states(&host, &api.units()), ["active"; 3]);
    // api@1 serves on with the code it ran; the others are as they were.
    let answers: std::collections::BTreeSet<String> = (0..40)
        .filter_map(|_| get(&host, 3000))
        .map(|body| {
            body.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    assert!(answers.contains("api 1 v1"), "{answers:?}");
    assert!(answers.contains("api 0 broken-from-1"), "{answers:?}");
}

/// Why docs/contract.md forbids `After=APP.service` in the worker template:
/// the instance's restart job would wait for the reload job that waits for it.
#[test]
fn instances_ordered_after_the_app_unit_would_deadlock_the_reload() {
    let api = App::new("api", 2, 3000);
    let (host, _) = boot_applied("reload-deadlock", std::slice::from_ref(&api));
    host.ok("systemctl reload api.service");
    host.write(
        "/etc/systemd/system/api@.service.d/after.conf",
        "[Unit]\nAfter=api.service\n",
    );
    host.ok("systemctl daemon-reload");
    let stuck = host.sh("timeout 5 systemctl reload api.service");
    assert_eq!(stuck.status.code(), Some(124), "the reload hangs");
    let jobs = host.ok("systemctl list-jobs --no-legend");
    assert!(
        jobs.contains("api.service") && jobs.contains("reload"),
        "{jobs}"
    );
    assert!(
        jobs.contains("api@0.service") && jobs.contains("waiting"),
        "{jobs}"
    );
    host.ok("systemctl cancel");
}

#[test]
fn two_reloads_at_once_take_turns() {
    let api = App::new("api", 2, 3000);
    let (host, _) = boot_applied("reload-twice", std::slice::from_ref(&api));
    let cursor = cursor(&host);
    let first = host.spawn(&format!("{NODEUNITS} reload api"));
    let second = host.spawn(&format!("{NODEUNITS} reload api"));
    for reload in [first, second] {
        let output = reload.wait_with_output().unwrap();
        assert!(output.status.success(), "{}", describe(&output));
    }
    let mut twice = replaced_one_at_a_time(2);
    twice.extend(replaced_one_at_a_time(2));
    assert_eq!(replacements_seen(&host, &cursor, "api", &twice), twice);
}

#[test]
fn scale_persists_until_the_next_apply_which_says_it_undoes_it() {
    let api = App::new("api", 2, 3000);
    let (mut host, file) = boot_applied("apply-scale", std::slice::from_ref(&api));
    let ids = invocation_ids(&host, &api.units());

    nodeunits_ok(&host, "scale api 4");
    let four = api.clone().instances(4).units();
    assert_eq!(active_states(&host, &four), ["active"; 4]);
    assert_eq!(invocation_ids(&host, &four)[..2], ids[..]);

    host.reboot();
    host.wait_until(
        "systemctl is-active api@3.service",
        std::time::Duration::from_secs(30),
    );
    assert_eq!(
        active_states(&host, &four),
        ["active"; 4],
        "the scale survived a reboot"
    );

    let out = nodeunits_ok(&host, &format!("apply {file}"));
    assert!(
        out.contains("instances 4 → 2 (undoes `nodeunits scale`)"),
        "{out}"
    );
    assert_eq!(
        active_states(&host, &four),
        ["active", "active", "inactive", "inactive"]
    );
}

#[test]
fn a_scale_whose_new_instance_cannot_start_puts_the_previous_unit_back() {
    let api = App::new("api", 2, 3000).version("broken-from-2");
    let (host, _) = boot_applied("apply-scale-fails", std::slice::from_ref(&api));
    let app_unit = host.read(&format!("{UNIT_DIR}/api.service"));
    let ids = invocation_ids(&host, &api.units());

    let stderr = nodeunits_fails(&host, "scale api 3");
    assert!(
        stderr.contains("app `api`: api@2.service did not start"),
        "{stderr}"
    );
    assert!(
        stderr.contains("cannot start"),
        "journal lines shown: {stderr}"
    );
    assert!(
        stderr.contains("the previous unit files are back"),
        "{stderr}"
    );
    assert_eq!(
        host.read(&format!("{UNIT_DIR}/api.service")),
        app_unit,
        "the app unit wants two instances again"
    );
    let mut wants: Vec<String> = host
        .ok("systemctl show -p Wants --value api.service")
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    wants.sort();
    assert_eq!(wants, api.units(), "systemd reloaded the previous unit");
    let three = api.clone().instances(3).units();
    let states = active_states(&host, &three);
    assert_eq!(states[..2], ["active", "active"]);
    assert_ne!(states[2], "active", "the instance that failed is stopped");
    assert_eq!(
        invocation_ids(&host, &api.units()),
        ids,
        "the running instances were not touched"
    );
    wait_serving(&host, 3000, " broken-from-2 ");
}
