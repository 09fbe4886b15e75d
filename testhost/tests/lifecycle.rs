//! The test host itself: it boots, runs things, reboots keeping its files,
//! and leaves nothing behind.

use std::path::Path;
use std::time::Duration;

use testhost::TestHost;

const SLEEPER: &str = "[Unit]\nDescription=sleeps\n[Service]\nExecStart=/bin/sleep infinity\n\
                       [Install]\nWantedBy=multi-user.target\n";

#[test]
fn boots_with_bus_journal_logind_and_loopback() {
    let host = TestHost::boot("services");
    assert_eq!(host.ok("systemctl is-system-running").trim(), "running");
    assert!(host
        .ok("busctl --no-pager list")
        .contains("org.freedesktop.login1"));
    assert_eq!(
        host.ok("systemctl is-active systemd-journald dbus systemd-logind"),
        "active\nactive\nactive\n"
    );
    assert!(host.ok("ip -4 addr show lo").contains("inet 127.0.0.1/8"));
    assert!(host
        .ok("cat /proc/self/cgroup")
        .lines()
        .all(|l| l.ends_with(":/")));
    assert!(host.ok("node --version").starts_with('v'));
    host.ok("command -v wrk");
}

#[test]
fn lingering_user_gets_a_user_manager() {
    let host = TestHost::boot("linger");
    host.ok("loginctl enable-linger nobody");
    let state = host.wait_until(
        "systemctl --user -M nobody@ is-system-running",
        Duration::from_secs(20),
    );
    assert_eq!(state.trim(), "running");
}

#[test]
fn writes_and_reads_files() {
    let host = TestHost::boot("files");
    let contents = "line one\n$HOME `x` 'quoted' \"double\"\n\u{e9}\n";
    host.write("/srv/deep/dir/file with space.txt", contents);
    assert_eq!(host.read("/srv/deep/dir/file with space.txt"), contents);
    assert!(
        !Path::new("/srv/deep/dir").exists(),
        "a write inside reached the machine"
    );
}

#[test]
fn starts_a_unit_and_keeps_its_journal() {
    let host = TestHost::boot("unit");
    host.write(
        "/etc/systemd/system/greeter.service",
        "[Service]\nType=oneshot\nExecStart=/bin/echo hello from greeter\n",
    );
    host.ok("systemctl daemon-reload && systemctl start greeter.service");
    host.wait_until(
        "journalctl -u greeter --no-pager -o cat | grep -q 'hello from greeter'",
        Duration::from_secs(10),
    );
    assert!(host
        .journal("greeter.service")
        .contains("hello from greeter"));
}

#[test]
fn reboot_keeps_etc_var_and_enabled_units() {
    let mut host = TestHost::boot("reboot");
    host.write("/etc/systemd/system/sleeper.service", SLEEPER);
    host.write("/var/lib/marker", "kept\n");
    host.write("/run/marker", "gone\n");
    host.ok("systemctl daemon-reload && systemctl enable --now sleeper.service");
    let first_pid1 = host.pid1();

    host.reboot();

    assert_ne!(host.pid1(), first_pid1);
    assert_eq!(host.read("/var/lib/marker"), "kept\n");
    assert_eq!(host.read("/etc/systemd/system/sleeper.service"), SLEEPER);
    assert!(
        !host.sh("test -e /run/marker").status.success(),
        "/run survived a reboot"
    );
    assert_eq!(
        host.ok("systemctl is-active sleeper.service").trim(),
        "active"
    );
    assert_eq!(host.ok("systemctl is-system-running").trim(), "running");
}

#[test]
fn boxes_run_side_by_side_without_sharing_cgroups() {
    let hosts = [TestHost::boot("left"), TestHost::boot("right")];
    for host in &hosts {
        host.write("/etc/systemd/system/sleeper.service", SLEEPER);
        host.ok("systemctl daemon-reload && systemctl start sleeper.service");
    }
    let pids: Vec<String> = hosts
        .iter()
        .map(|h| h.ok("systemctl show -P MainPID sleeper"))
        .collect();
    for (host, pid) in hosts.iter().zip(&pids) {
        assert_eq!(
            host.ok("cat /sys/fs/cgroup/systemd/system.slice/sleeper.service/cgroup.procs"),
            *pid
        );
    }
    hosts[0].ok("systemctl stop sleeper.service");
    assert_eq!(
        hosts[1].ok("systemctl is-active sleeper.service").trim(),
        "active"
    );
}

#[test]
fn drop_leaves_no_process_mount_or_cgroup() {
    let host = TestHost::boot("leaks");
    host.write("/etc/systemd/system/sleeper.service", SLEEPER);
    host.ok("systemctl daemon-reload && systemctl start sleeper.service");
    let mut spawned = host.spawn("sleep 1000");
    let pid1 = host.pid1().expect("a box");
    let state = host.state_dir().expect("a box").to_path_buf();
    let cgroups = host.cgroup_dirs();
    assert!(!cgroups.is_empty());
    assert!(cgroups.iter().all(|dir| dir.is_dir()));

    drop(host);

    let status = std::fs::read_to_string(format!("/proc/{pid1}/status")).unwrap_or_default();
    assert!(
        status.is_empty(),
        "PID 1 of the box is still running:\n{status}"
    );
    spawned
        .wait()
        .expect("the spawned command ended with the box");
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let state = state.to_str().unwrap();
    assert!(
        !mountinfo.contains(state),
        "a mount of the box is left:\n{mountinfo}"
    );
    assert!(!Path::new(state).exists(), "{state} is left");
    for dir in cgroups {
        assert!(!dir.exists(), "cgroup {} is left", dir.display());
    }
}
