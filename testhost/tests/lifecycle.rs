//! The test host itself: it boots, runs things, reboots keeping its files,
//! and leaves nothing behind.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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
fn memory_limits_land_in_the_box_memory_cgroup() {
    let host = TestHost::boot("memory");
    host.ok("systemd-run --unit=hog -p MemoryMax=32M -p MemoryAccounting=yes /bin/sleep infinity");
    let limit = host.read("/sys/fs/cgroup/memory/system.slice/hog.service/memory.limit_in_bytes");
    assert_eq!(limit.trim(), "33554432");
    let current = host.ok("systemctl show -P MemoryCurrent hog.service");
    assert!(
        current.trim().parse::<u64>().is_ok(),
        "MemoryCurrent={current}"
    );
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
fn a_degraded_boot_panics_naming_the_failed_units() {
    let mut host = TestHost::boot("degraded");
    host.write(
        "/etc/systemd/system/broken.service",
        "[Service]\nType=oneshot\nExecStart=/bin/sh -c 'echo broken on purpose; exit 3'\n\
         [Install]\nWantedBy=multi-user.target\n",
    );
    host.ok("systemctl daemon-reload && systemctl enable broken.service");

    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| host.reboot()))
        .expect_err("booted running with a failed unit");
    let message = panic
        .downcast_ref::<String>()
        .expect("a formatted panic message");
    assert!(message.contains("booted degraded"), "{message}");
    assert!(message.contains("== broken.service"), "{message}");
    assert!(message.contains("broken on purpose"), "{message}");
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

/// Set in a child process of this test binary that runs `boots_in_a_child`:
/// "wait" to wait there to be killed, anything else to return.
const CHILD: &str = "TESTHOST_CHILD";

/// Not a test of its own: in a child process (CHILD set), boots a host and
/// prints what it got.
#[test]
fn boots_in_a_child() {
    let Some(mode) = std::env::var_os(CHILD) else {
        return;
    };
    let host = TestHost::boot("orphan");
    match host.pid1() {
        Some(pid1) => println!("pid1={pid1}"),
        None => println!("the local systemd"),
    }
    if mode == "wait" {
        std::thread::sleep(Duration::from_secs(120));
    }
}

fn child(mode: &str) -> Command {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            "boots_in_a_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, mode);
    command
}

#[test]
fn ci_boots_a_box_even_when_asked_for_the_local_systemd() {
    let output = child("return")
        .env(testhost::HOST_VARIABLE, "local")
        .env("CI", "true")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("pid1="),
        "{output:?}"
    );
}

#[test]
fn the_local_systemd_is_used_only_when_it_is_pid_1() {
    let output = child("return")
        .env(testhost::HOST_VARIABLE, "local")
        .env_remove("CI")
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let pid1 = std::fs::read_to_string("/proc/1/comm").unwrap();
    if pid1.trim() == "systemd" {
        assert!(said.contains("the local systemd"), "{said}");
    } else {
        assert!(!output.status.success(), "{said}");
        assert!(
            said.contains("NODEUNITS_TEST_HOST=local but PID 1 is"),
            "{said}"
        );
    }
}

#[test]
fn a_box_left_by_a_killed_process_is_taken_down() {
    let mut helper = child("wait").stdout(Stdio::piped()).spawn().unwrap();
    let stdout = BufReader::new(helper.stdout.take().unwrap());
    let pid1: u32 = stdout
        .lines()
        .find_map(|line| line.ok()?.split("pid1=").nth(1)?.trim().parse().ok())
        .expect("the helper booted a box");
    let state = format!("/run/nodeunits-testhost/orphan-{}-0", helper.id());
    helper.kill().unwrap();
    helper.wait().unwrap();
    assert!(
        Path::new(&format!("/proc/{pid1}")).exists(),
        "the box died with its process"
    );

    testhost::take_down_orphaned_boxes();

    let deadline = Instant::now() + Duration::from_secs(10);
    while is_running(pid1) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!is_running(pid1), "the orphaned box is still running");
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mountinfo.contains(&state),
        "the orphan's {state} is still mounted"
    );
    assert!(!Path::new(&state).exists(), "{state} is left");
    let cgroup = format!("nodeunits-testhost-orphan-{}-0", helper.id());
    let find = Command::new("find")
        .args(["/sys/fs/cgroup", "-maxdepth", "4", "-name", &cgroup])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&find.stdout),
        "",
        "the orphan's cgroups are left"
    );
}

/// Alive and not a zombie waiting for the machine's init to reap it.
fn is_running(pid: u32) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    !status.is_empty() && !status.contains("State:\tZ")
}
