//! The thin commands: stop, start, restart, delete, logs, and apply --dry-run.

mod apply_support;

use apply_support::*;

#[test]
fn stop_start_restart_and_delete_do_what_their_systemctl_commands_do() {
    let api = App::new("api", 2, 3000);
    let (host, _) = boot_applied("control", std::slice::from_ref(&api));

    nodeunits_ok(&host, "stop api");
    assert_eq!(active_states(&host, &api.units()), ["inactive"; 2]);
    assert_eq!(
        host.ok("systemctl is-active api.socket api.service || true"),
        "inactive\ninactive\n"
    );
    assert_eq!(get(&host, 3000), None, "the port closes");

    nodeunits_ok(&host, "start api");
    assert_eq!(active_states(&host, &api.units()), ["active"; 2]);
    assert!(get(&host, 3000).unwrap().starts_with("api "));

    let ids = invocation_ids(&host, &api.units());
    nodeunits_ok(&host, "restart api");
    let after = invocation_ids(&host, &api.units());
    assert!(after.iter().zip(&ids).all(|(new, old)| new != old));
    assert_eq!(active_states(&host, &api.units()), ["active"; 2]);

    let out = nodeunits_ok(&host, "delete api");
    assert!(
        out.starts_with("api: removed (api.env, api.service, api.socket, api@.service)"),
        "{out}"
    );
    assert_eq!(unit_files(&host, "api"), Vec::<String>::new());
    assert_eq!(get(&host, 3000), None);
    let output = nodeunits(&host, "delete api");
    assert_eq!(output.status.code(), Some(1));
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("`api` is neither an installed app nor an ecosystem file: no app `api` in the system service manager"),
        "{said}"
    );
}

#[test]
fn logs_show_the_app_or_one_instance_and_dry_run_touches_nothing() {
    let api = App::new("api", 2, 3000);
    let (host, file) = boot_applied("logs", std::slice::from_ref(&api));
    host.wait_until(
        &format!("{NODEUNITS} logs api -n 200 | grep -q 'instance 1 serving v1'"),
        std::time::Duration::from_secs(10),
    );
    let all = nodeunits_ok(&host, "logs api -n 200");
    assert!(all.contains("instance 0 serving v1"), "{all}");
    let one = nodeunits_ok(&host, "logs api -n 200 --instance 1");
    assert!(one.contains("instance 1 serving v1"), "{one}");
    assert!(!one.contains("instance 0 serving"), "{one}");

    let template = host.read(&format!("{UNIT_DIR}/api@.service"));
    let ids = invocation_ids(&host, &api.units());
    host.write(&file, ecosystem(&[api.clone().version("v2")]));
    let out = nodeunits_ok(&host, &format!("apply --dry-run {file}"));
    assert!(
        out.starts_with("api: changed (api.env); rolling reload\n"),
        "{out}"
    );
    assert!(
        out.contains("--- /etc/systemd/system/api.env\n+++ /etc/systemd/system/api.env\n"),
        "{out}"
    );
    // The values are masked: --show-env shows them.
    assert!(
        out.contains("\n-APP_VERSION=********\n+APP_VERSION=******** (value changed)\n"),
        "{out}"
    );
    assert!(!out.contains("'v2'"), "{out}");
    let shown = nodeunits_ok(&host, &format!("apply --dry-run --show-env {file}"));
    assert!(
        shown.contains("\n-APP_VERSION='v1'\n+APP_VERSION='v2'\n"),
        "{shown}"
    );
    assert_eq!(host.read(&format!("{UNIT_DIR}/api@.service")), template);
    assert_eq!(invocation_ids(&host, &api.units()), ids);
}
