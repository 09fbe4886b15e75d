//! User mode as an unprivileged user with linger, and apps coming back after
//! a reboot of the box.

mod apply_support;

use apply_support::*;
use testhost::TestHost;

#[test]
fn user_mode_with_linger_and_a_reboot_brings_every_app_back() {
    let mut host = TestHost::boot("apply-user");
    add_deploy(&host);
    let file = write_ecosystem(&host, "/home/deploy/notes", &[App::new("notes", 2, 5000)]);
    host.ok("chown -R deploy: /home/deploy/notes");

    // Without linger there is no user manager to talk to yet.
    linger_deploy(&host);
    let output = as_deploy(&host, &format!("apply {file}"));
    assert!(output.status.success(), "{}", describe(&output));
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(out.contains("notes: created (2 instances)"), "{out}");
    assert!(!out.contains("enable-linger"), "lingering already: {out}");
    host.ok("test -f /home/deploy/.config/systemd/user/notes@.service");
    // The environment's values are the user's only, as root's are in system mode.
    assert_eq!(
        host.ok("stat -c '%a %U' /home/deploy/.config/systemd/user/notes.env")
            .trim(),
        "600 deploy"
    );
    host.ok("test -L /home/deploy/.config/systemd/user/default.target.wants/notes.service");
    assert!(get(&host, 5000).unwrap().starts_with("notes "));
    host.ok("ps -o user= -p $(systemctl --user -M deploy@ show -p MainPID --value notes@0) | grep -qx deploy");

    // The user manager's `systemctl reload` runs the rolling reload too:
    // the app's process (the helper's child) is replaced.
    let pid = "ps -o pid= --ppid $(systemctl --user -M deploy@ show -p MainPID --value notes@1)";
    let before = host.ok(pid);
    assert!(!before.trim().is_empty());
    host.ok("systemctl --user -M deploy@ reload notes.service");
    assert_ne!(host.ok(pid), before, "notes@1's app replaced");
    assert!(get(&host, 5000).unwrap().starts_with("notes "));

    let status = as_deploy(&host, "status --json");
    let rows: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 2, "{}", describe(&status));

    // A system app alongside, then the reboot.
    let api = App::new("api", 2, 3000);
    let system_file = write_ecosystem(&host, "/srv/shop", std::slice::from_ref(&api));
    nodeunits_ok(&host, &format!("apply {system_file}"));
    host.reboot();
    wait_serving(&host, 3000, "api ");
    wait_serving(&host, 5000, "notes ");
    assert_eq!(active_states(&host, &api.units()), ["active"; 2]);
}

#[test]
fn user_mode_without_linger_says_how_to_start_at_boot() {
    let host = TestHost::boot("apply-no-linger");
    add_deploy(&host);
    let file = write_ecosystem(&host, "/home/deploy/notes", &[App::new("notes", 1, 5000)]);
    host.ok("chown -R deploy: /home/deploy/notes");
    // A user manager without linger: started for this test, as a login would.
    host.ok("systemctl start user@$(id -u deploy).service");
    let output = as_deploy(&host, &format!("apply {file}"));
    assert!(output.status.success(), "{}", describe(&output));
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(out.contains("loginctl enable-linger deploy"), "{out}");
}

#[test]
fn an_app_whose_user_cannot_reach_the_helper_or_script_is_refused_before_anything_starts() {
    let host = TestHost::boot("apply-unreachable");
    // The helper under a directory only root may enter, as in a checkout
    // in /root or a home directory of mode 0700.
    host.ok(&format!(
        "install -d -m 0700 /opt/private && install -d -m 0755 /opt/private/bin && \
         touch /opt/private/bin/nodeunits-helper && \
         mount --bind {}/nodeunits-helper /opt/private/bin/nodeunits-helper",
        testhost::BIN_DIR
    ));
    let api = App::new("api", 2, 3000);
    let file = write_ecosystem(&host, "/srv/shop", std::slice::from_ref(&api));
    let apply = format!("apply --bin-dir /opt/private/bin {file}");
    let refused = nodeunits(&host, &apply);
    assert_eq!(refused.status.code(), Some(1), "{}", describe(&refused));
    assert_eq!(
        String::from_utf8_lossy(&refused.stderr),
        "nodeunits: app `api` cannot start: its user `deploy` cannot reach the helper \
         /opt/private/bin/nodeunits-helper: the directory /opt/private (mode 0700, owner root) \
         does not let `deploy` through: every directory on the way needs `x` for the user\n  \
         = allowed: `chmod o+x /opt/private`, or install nodeunits where every user reaches it \
         (its package, or `make install`), or render the units with `--bin-dir DIR`, a \
         directory `deploy` reaches\nnothing was started\n"
    );
    assert_eq!(String::from_utf8_lossy(&refused.stdout), "", "no plan");
    assert_nothing_of(&host, "api");

    // The fix it names.
    host.ok("chmod o+x /opt/private");
    nodeunits_ok(&host, &apply);
    wait_serving(&host, 3000, "api ");

    // A script in a directory the app's user may not enter.
    host.ok("install -d -m 0750 /srv/team");
    let notes = App::new("notes", 1, 3100);
    let file = write_ecosystem(&host, "/srv/team/notes", std::slice::from_ref(&notes));
    let refused = nodeunits(&host, &format!("apply {file}"));
    assert_eq!(refused.status.code(), Some(1), "{}", describe(&refused));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.starts_with(
            "nodeunits: app `notes` cannot start: its user `deploy` cannot reach the script \
             /srv/team/notes/app.js: the directory /srv/team (mode 0750, owner root)"
        ) && stderr.contains("`chmod o+x /srv/team`, or move the app where `deploy` reaches it"),
        "{stderr}"
    );
    assert_nothing_of(&host, "notes");
}

/// No unit file of `app`, no unit loaded, nothing started.
fn assert_nothing_of(host: &TestHost, app: &str) {
    assert!(unit_files(host, app).is_empty(), "no unit file of {app}");
    let units = host.ok(&format!(
        "systemctl list-units --all --plain --no-legend '{app}*'"
    ));
    assert_eq!(units, "", "no unit of {app} loaded");
}
