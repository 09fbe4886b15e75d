//! The socket layer in user mode, on real systemd: apps applied and reloaded
//! by an unprivileged user with linger (`systemctl --user`) get the same
//! guarantees as system apps. Both workers of a 2-instance app serve a fair
//! part of keep-alive and connection-per-request load; a rolling reload run
//! as the user (`nodeunits reload FILE`) under keep-alive load fails no
//! request and replaces each instance successor first, the units keeping
//! their invocation; with `sticky = true` the workers, without any
//! capability, steer each of 8 loopback source addresses to one instance,
//! spread over both, under load and through a reload.

mod apply_support;
mod helper_support;

use std::collections::BTreeSet;

use apply_support::{
    as_deploy_ok, cursor, give_to_deploy, invocation_ids_in, linger_deploy, property_in,
    replaced_one_at_a_time, replacements_seen, DEPLOY_SYSTEMCTL,
};
use helper_support::{
    assert_fair_share, assert_no_failures, instances_by_source, one_load_at_a_time,
    served_by_worker, stop_wrk, wrk, WORKER_APP,
};
use testhost::TestHost;

/// Boots a box where `deploy` lingers, with `WORKER_APP` and an ecosystem
/// file of one 2-instance app in their home, applied as them; returns the
/// box and the file's path.
fn boot_as_deploy(name: &str, app: &str, port: u16, extra: &str) -> (TestHost, String) {
    let host = TestHost::boot(name);
    let dir = format!("/home/deploy/{app}");
    let file = format!("{dir}/ecosystem.toml");
    host.write(&format!("{dir}/server.js"), WORKER_APP);
    host.write(
        &file,
        format!(
            "[[apps]]\nname = \"{app}\"\nscript = \"server.js\"\ninstances = 2\nport = {port}\n\
             kill_timeout = 3000\nlisten_timeout = 8000\n{extra}"
        ),
    );
    give_to_deploy(&host, "/home/deploy");
    linger_deploy(&host);
    let out = as_deploy_ok(&host, &format!("apply {file}"));
    assert!(
        out.contains(&format!("{app}: created (2 instances)")),
        "{out}"
    );
    (host, file)
}

fn units(app: &str) -> Vec<String> {
    (0..2).map(|i| format!("{app}@{i}.service")).collect()
}

/// Asserts each worker runs as `deploy` in the user's manager, without any
/// effective capability.
fn assert_unprivileged_workers(host: &TestHost, app: &str) {
    for pid in property_in(host, DEPLOY_SYSTEMCTL, "MainPID", &units(app)) {
        assert_eq!(host.ok(&format!("ps -o user= -p {pid}")).trim(), "deploy");
        assert_eq!(
            host.ok(&format!("sed -n 's/^CapEff:\\s*//p' /proc/{pid}/status"))
                .trim(),
            "0000000000000000",
            "{app}'s helper {pid}"
        );
    }
}

#[test]
fn the_users_workers_share_the_load_and_reload_successor_first_under_load() {
    let _alone = one_load_at_a_time();
    let (host, file) = boot_as_deploy("socket-user", "shop", 3700, "");
    assert_unprivileged_workers(&host, "shop");
    for keep_alive in [true, false] {
        let counts = served_by_worker(&host, "http://127.0.0.1:3700/", keep_alive);
        assert_fair_share(&counts, 2, &format!("user mode, keep-alive {keep_alive}"));
    }

    let ids = invocation_ids_in(&host, DEPLOY_SYSTEMCTL, &units("shop"));
    let cursor = cursor(&host);
    let load = wrk(&host, "http://127.0.0.1:3700/", 16);
    for _ in 0..2 {
        let out = as_deploy_ok(&host, &format!("reload {file}"));
        assert!(out.contains("shop: reloaded (2 instances in "), "{out}");
    }
    let (report, output) = stop_wrk(&host, load);
    assert_no_failures(&report, &output, "user mode, 2 instances reloaded twice");

    let mut expected = replaced_one_at_a_time(2);
    expected.extend(replaced_one_at_a_time(2));
    assert_eq!(
        replacements_seen(&host, &cursor, "shop", &expected),
        expected
    );
    assert_eq!(
        invocation_ids_in(&host, DEPLOY_SYSTEMCTL, &units("shop")),
        ids
    );
}

#[test]
fn sticky_clients_of_the_users_app_each_keep_one_worker() {
    let _alone = one_load_at_a_time();
    let (host, _) = boot_as_deploy("socket-user-sticky", "chat", 3800, "sticky = true\n");
    let listening = host.ok("ss -Hltn 'sport = :3800'");
    assert_eq!(
        listening.lines().count(),
        2,
        "a socket per instance:\n{listening}"
    );
    assert_unprivileged_workers(&host, "chat");

    let load = wrk(&host, "http://127.0.0.1:3800/", 16);
    let before = instances_by_source(&host, 3800);
    let (report, output) = stop_wrk(&host, load);
    assert_no_failures(&report, &output, "user mode, sticky");
    let used: BTreeSet<&String> = before.values().collect();
    assert_eq!(
        used.len(),
        2,
        "the addresses spread over both instances: {before:?}"
    );

    let out = as_deploy_ok(&host, "reload chat");
    assert_eq!(out.lines().count(), 2, "{out}");
    assert_eq!(instances_by_source(&host, 3800), before);
    let warnings =
        host.ok("journalctl --sync; journalctl -o cat --no-pager | grep -c 'cannot steer' || true");
    assert_eq!(warnings.trim(), "0", "the program attached as the user");
}
