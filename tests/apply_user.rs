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
