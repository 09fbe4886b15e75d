//! When a start or a reload fails: the rollout stops where it failed, the
//! error names the unit with its journal, the previous files come back.

mod apply_support;

use apply_support::*;

#[test]
fn a_version_that_cannot_start_stops_the_rollout_at_the_first_instance() {
    let api = App::new("api", 3, 3000);
    let (host, file) = boot_applied("apply-broken", std::slice::from_ref(&api));
    let template = host.read(&format!("{UNIT_DIR}/api@.service"));
    let ids = invocation_ids(&host, &api.units());

    host.write(&file, ecosystem(&[api.clone().version("broken")]));
    let output = nodeunits(&host, &format!("apply {file}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert!(
        stderr.contains("app `api`: api@0.service did not restart"),
        "{stderr}"
    );
    assert!(
        stderr.contains("version broken cannot start"),
        "journal lines shown: {stderr}"
    );
    assert!(
        stderr.contains("the previous unit files are back"),
        "{stderr}"
    );
    assert_eq!(host.read(&format!("{UNIT_DIR}/api@.service")), template);
    let after = invocation_ids(&host, &api.units());
    assert_eq!(after[1..], ids[1..], "api@1 and api@2 untouched");
    assert_eq!(
        active_states(&host, &api.units()),
        ["active"; 3],
        "api@0 back on v1"
    );
    wait_serving(&host, 3000, " v1 ");
    // The file is still broken: applying again fails the same way, no harm done.
    assert_eq!(
        nodeunits(&host, &format!("apply {file}")).status.code(),
        Some(1)
    );
    assert_eq!(host.read(&format!("{UNIT_DIR}/api@.service")), template);
}

#[test]
fn an_apply_whose_start_fails_puts_the_previous_files_back() {
    let web = App::new("web", 1, 4000);
    let (host, file) = boot_applied("apply-start-fails", std::slice::from_ref(&web));
    let before = host.ok(&format!("cd {UNIT_DIR} && cat web*"));

    let broken = App::new("api", 2, 3000).version("broken");
    host.write(&file, ecosystem(&[web.clone(), broken]));
    let output = nodeunits(&host, &format!("apply {file}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert!(stderr.contains("app `api`: api@"), "{stderr}");
    assert!(stderr.contains("did not start"), "{stderr}");
    assert_eq!(
        unit_files(&host, "api"),
        Vec::<String>::new(),
        "no file of api left"
    );
    assert_eq!(host.ok(&format!("cd {UNIT_DIR} && cat web*")), before);
    assert_eq!(get(&host, 3000), None, "api's port closed again");
    assert!(get(&host, 4000).is_some());
    host.ok(&format!("! ls {UNIT_DIR}/.*nodeunits-tmp 2>/dev/null"));
}
