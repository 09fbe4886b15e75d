//! The helper as a container's entrypoint: PID 1 of fresh PID, network and
//! mount namespaces (`unshare`), with no systemd, no NOTIFY_SOCKET and no
//! LISTEN_FDS. The app binds its port itself; `probe` tells starting from
//! ready from draining; SIGTERM, a container's stop, drains the app under
//! load; orphans are reaped.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

const HELPER: &str = env!("CARGO_BIN_EXE_nodeunits-helper");
const KILL_TIMEOUT: Duration = Duration::from_secs(5);

/// Listens at once, says 'ready' 3 s later; `/slow` takes 2 s. No handler
/// of its own for any signal: the preload drains it. At its start it leaves
/// an orphan (the `sleep` of a shell that has exited) for PID 1 to reap.
const APP: &str = "\
const http = require('http');
require('child_process').spawn('sh', ['-c', 'sleep 0.2 & exit 0'], { stdio: 'ignore' });
const server = http.createServer((req, res) => {
  const [ms, body] = req.url === '/slow' ? [2000, 'slow\\n'] : [20, 'served\\n'];
  setTimeout(() => res.end(body), ms);
});
server.listen(8080, '127.0.0.1', () => setTimeout(() => process.send('ready'), 3000));
";

/// The helper in its namespaces, killed (with everything in them) if the
/// test ends before it does.
struct Container {
    unshare: Child,
    /// The helper's pid as this test sees it; PID 1 inside.
    helper: i32,
    dir: PathBuf,
}

impl Container {
    fn start(dir: &Path) -> Container {
        fs::write(dir.join("app.js"), APP).unwrap();
        let log = File::create(dir.join("helper.log")).unwrap();
        let mut unshare = Command::new("unshare");
        unshare
            .args(["--pid", "--fork", "--net", "--mount-proc", "--"])
            .args(["sh", "-c", "ip link set lo up && exec \"$0\" \"$@\""])
            .args([HELPER, "--app", "api", "--instance", "0", "--node"])
            .args(["--wait-ready", "--listen", "127.0.0.1:8080"])
            .args(["--kill-timeout", &KILL_TIMEOUT.as_millis().to_string()])
            .args(["--", "node", "app.js"])
            .current_dir(dir)
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        for var in [
            "NOTIFY_SOCKET",
            "LISTEN_FDS",
            "LISTEN_PID",
            "RUNTIME_DIRECTORY",
            "JOURNAL_STREAM",
        ] {
            unshare.env_remove(var);
        }
        unshare.env("NODEUNITS_RUNTIME_DIR", dir.join("run"));
        let unshare = unshare.spawn().unwrap_or_else(|e| {
            panic!("cannot run unshare (util-linux), which this test needs to make the namespaces: {e}")
        });
        let children = format!("/proc/{0}/task/{0}/children", unshare.id());
        let helper = wait_for("unshare's child", Duration::from_secs(5), || {
            fs::read_to_string(&children)
                .ok()?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        });
        Container {
            unshare,
            helper,
            dir: dir.to_owned(),
        }
    }

    /// Runs `argv` in the container's network namespace, with the
    /// container's environment; its pid and mount namespaces too with
    /// `whole` (then through a forked nsenter, which forwards no signal).
    fn enter(&self, whole: bool, argv: &[&str]) -> Command {
        let mut command = Command::new("nsenter");
        command.args(["--target", &self.helper.to_string(), "--net"]);
        if whole {
            command.args(["--pid", "--mount"]);
        }
        command
            .arg("--")
            .args(argv)
            .env("NODEUNITS_RUNTIME_DIR", self.dir.join("run"));
        command
    }

    fn run(&self, argv: &[&str]) -> Output {
        self.enter(true, argv).output().expect("nsenter runs")
    }

    /// The probe's exit status and what it said.
    fn probe(&self) -> (bool, String) {
        let output = self.run(&[HELPER, "probe", "--app", "api"]);
        let said = String::from_utf8_lossy(&output.stderr).into_owned();
        (output.status.success(), said)
    }

    fn log(&self) -> String {
        fs::read_to_string(self.dir.join("helper.log")).unwrap_or_default()
    }

    /// Waits for the helper to exit; false if it has not within `limit`.
    fn exited_within(&mut self, limit: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            if self.unshare.try_wait().unwrap().is_some() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        if self.unshare.try_wait().ok().flatten().is_none() {
            // PID 1 of the namespace: its end ends every process in it.
            let _ = kill(Pid::from_raw(self.helper), Signal::SIGKILL);
            let _ = self.unshare.wait();
        }
    }
}

fn wait_for<T>(what: &str, limit: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(found) = check() {
            return found;
        }
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn pid_1_of_a_container_probes_serves_and_drains_under_sigterm() {
    let dir = std::env::temp_dir().join(format!("nodeunits-container.{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    let mut container = Container::start(&dir);
    let curl = |path: &str| {
        container.run(&[
            "curl",
            "-sS",
            "--max-time",
            "5",
            &format!("http://127.0.0.1:8080{path}"),
        ])
    };

    // Listening, but not ready until it says so.
    wait_for("the app serving", Duration::from_secs(10), || {
        curl("/").status.success().then_some(())
    });
    let (ready, said) = container.probe();
    assert!(!ready, "ready before the app said so: {said}");
    assert!(said.contains("instance 0 of api is starting"), "{said}");
    assert_eq!(text(&curl("/")), "served\n");
    wait_for("the probe to pass", Duration::from_secs(10), || {
        container.probe().0.then_some(())
    });
    let one = container.run(&[HELPER, "probe", "--app", "api", "--instance", "0"]);
    assert!(one.status.success(), "{one:?}");
    assert_eq!(container.probe(), (true, String::new()));

    // The orphan left at the start has exited and been reaped by PID 1.
    let stats = text(&container.run(&["sh", "-c", "cat /proc/[0-9]*/stat"]));
    let zombies: Vec<&str> = stats.lines().filter(|l| l.contains(") Z ")).collect();
    assert!(
        zombies.is_empty(),
        "unreaped: {zombies:?}\n{}",
        container.log()
    );
    assert!(
        stats.lines().any(|l| l.starts_with("1 (nodeunits-helpe")),
        "{stats}"
    );

    // SIGTERM under keep-alive load, with a slow request in flight.
    let wrk = container
        .enter(
            false,
            &[
                "wrk",
                "-t2",
                "-c20",
                "-d60s",
                "--timeout",
                "5s",
                "http://127.0.0.1:8080/",
            ],
        )
        .stdout(Stdio::piped())
        .spawn()
        .expect("wrk runs");
    std::thread::sleep(Duration::from_secs(2));
    let slow = container
        .enter(
            false,
            &[
                "curl",
                "-sS",
                "--max-time",
                "10",
                "http://127.0.0.1:8080/slow",
            ],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    kill(Pid::from_raw(container.helper), Signal::SIGTERM).unwrap();
    let termed = Instant::now();
    std::thread::sleep(Duration::from_millis(300));
    let (ready, said) = container.probe();
    assert!(
        !ready && said.contains("instance 0 of api is draining"),
        "{said}"
    );
    let exited = container.exited_within(KILL_TIMEOUT.saturating_sub(termed.elapsed()));
    let _ = kill(Pid::from_raw(wrk.id() as i32), Signal::SIGINT);
    let wrk = wrk.wait_with_output().unwrap();
    let slow = slow.wait_with_output().unwrap();
    let log = container.log();
    assert!(exited, "the helper outlived kill_timeout:\n{log}");
    assert!(log.contains("SIGTERM received: draining the app"), "{log}");
    assert_eq!(
        text(&slow),
        "slow\n",
        "the request in flight was cut: {slow:?}"
    );

    let output = text(&wrk);
    let report = testhost::wrk::parse(&output).expect("wrk's report");
    assert!(
        report.requests > 500,
        "too few requests to mean anything:\n{output}"
    );
    // Once the app has closed its port, wrk's reconnections are refused, and
    // wrk counts those as write errors: keeping new connections away is the
    // container platform's part (preStop). A request cut on its connection
    // is a read error, a timeout or a bad status.
    assert_eq!(
        (report.read_errors, report.timeouts, report.non_2xx_3xx),
        (0, 0, 0),
        "requests cut by the drain:\n{output}\n{log}"
    );
    drop(container);
    let _ = fs::remove_dir_all(&dir);
}
