//! The .deb, installed with dpkg inside a test host, runs the README example
//! with the installed binaries (/usr/bin, not target/); an upgrade restarts no
//! worker; removing the package leaves the app serving and says how to remove it.
//!
//! Needs root (the test host) and the tools of `make deb` (dpkg-dev); it builds
//! the .deb with the Makefile first.

use std::path::Path;
use std::process::Command;

use testhost::TestHost;

/// Builds the .deb with `make deb` and returns its path.
fn build_deb(checkout: &Path) -> String {
    let output = Command::new("make")
        .args(["-s", "deb"])
        .current_dir(checkout)
        .output()
        .expect("cannot run make: is it installed?");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "`make deb` failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let deb = stdout.lines().last().unwrap_or_default().trim().to_owned();
    assert!(
        deb.ends_with(".deb"),
        "`make deb` did not print the package's path last:\n{stdout}"
    );
    checkout.join(deb).display().to_string()
}

/// The main PIDs of the example's two workers, as systemd sees them.
fn worker_pids(host: &TestHost) -> String {
    host.ok("systemctl show -p MainPID --value hello@0.service hello@1.service")
}

#[test]
fn installed_deb_runs_the_example_survives_an_upgrade_and_its_removal_leaves_apps_alone() {
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR"));
    let deb = build_deb(checkout);
    let host = TestHost::boot("package-deb");

    host.ok(&format!("dpkg -i '{deb}'"));
    host.ok("test -x /usr/bin/nodeunits && test -x /usr/bin/nodeunits-helper");
    host.ok(
        "for page in man1/nodeunits.1 man1/nodeunits-apply.1 man5/ecosystem.toml.5 \
         man8/nodeunits-helper.8; do zcat /usr/share/man/$page.gz | grep -q '^\\.TH' || exit 1; done",
    );
    host.ok(
        "bash -c '. /usr/share/bash-completion/completions/nodeunits && complete -p nodeunits'",
    );

    let demo = checkout.join("examples/hello/demo.sh");
    let output = host.sh(&format!(
        "NODEUNITS=/usr/bin/nodeunits '{}' 2>&1",
        demo.display()
    ));
    let transcript = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the README example failed with the installed binaries ({}):\n{transcript}",
        output.status
    );
    let template = host.read("/etc/systemd/system/hello@.service");
    assert!(
        template.contains("ExecStart=/usr/bin/nodeunits-helper "),
        "the worker does not run the installed helper:\n{template}"
    );
    host.ok("curl -fsS http://127.0.0.1:3000/");

    // An upgrade (here: the same package again) replaces the binaries and
    // restarts no worker; a reload then moves them onto the new helper.
    let before = worker_pids(&host);
    host.ok(&format!("dpkg -i '{deb}'"));
    assert_eq!(
        worker_pids(&host),
        before,
        "installing over a running app restarted workers"
    );
    host.ok("systemctl reload hello.service");
    assert_ne!(
        worker_pids(&host),
        before,
        "the reload after the upgrade restarted no worker"
    );
    host.ok("curl -fsS http://127.0.0.1:3000/");

    // Removal touches no applied app, and says so.
    let before = worker_pids(&host);
    let removal = host.ok("dpkg -r nodeunits 2>&1");
    assert!(
        removal.contains("left as they are: hello") && removal.contains("nodeunits delete APP"),
        "the removal does not say how to remove the app:\n{removal}"
    );
    host.ok("test ! -e /usr/bin/nodeunits-helper");
    host.ok("systemctl is-active hello.socket hello.service hello@0.service hello@1.service");
    assert_eq!(
        worker_pids(&host),
        before,
        "removing the package restarted workers"
    );
    host.ok("curl -fsS http://127.0.0.1:3000/");
}
