//! PM2's day-2 commands on real systemd: `logs` (the last 15 lines, stderr
//! apart, merged, followed), `monit` in a terminal (tmux), and `init`.

mod apply_support;

use std::time::Duration;

use apply_support::*;
use testhost::TestHost;

/// An app that logs on request: `/out` 40 lines to stdout, `/err` 3 to
/// stderr; it answers with its instance number.
const LOGGER_JS: &str = r#"const http = require('http');
const instance = process.env.NODE_APP_INSTANCE;
http.createServer((req, res) => {
  if (req.url === '/out') for (let i = 1; i <= 40; i++) console.log(`out ${i}`);
  if (req.url === '/err') for (let i = 1; i <= 3; i++) console.error(`err ${i}`);
  res.end(instance);
}).listen(process.env.PORT);
"#;

fn logger_ecosystem(name: &str, port: u16) -> String {
    format!(
        "[[apps]]\nname = \"{name}\"\nscript = \"logger.js\"\ninstances = 2\nexec_mode = \"cluster\"\n\
         port = {port}\nkill_timeout = 3000\n\n"
    )
}

const WAIT: Duration = Duration::from_secs(20);

fn lines(text: &str) -> Vec<&str> {
    text.lines().collect()
}

#[test]
fn logs_show_the_last_15_lines_stderr_apart_merged_and_followed() {
    let host = TestHost::boot("logs15");
    host.write("/srv/logs/logger.js", LOGGER_JS);
    host.write(
        "/srv/logs/ecosystem.toml",
        logger_ecosystem("api", 3000) + &logger_ecosystem("web", 3001),
    );
    give_to_deploy(&host, "/srv/logs");
    nodeunits_ok(&host, "apply /srv/logs/ecosystem.toml");

    let instance = host.ok("curl -fsS http://127.0.0.1:3000/out");
    host.wait_until(
        &format!("journalctl -u api@{instance}.service | grep -q 'out 40'"),
        WAIT,
    );
    let instance_err = host.ok("curl -fsS http://127.0.0.1:3000/err");
    host.wait_until(
        &format!("journalctl -u api@{instance_err}.service | grep -q 'err 3'"),
        WAIT,
    );

    // PM2's default: the last 15 lines, each naming its instance.
    let out = nodeunits_ok(&host, "logs api");
    let expected: Vec<String> = (29..=40)
        .map(|i| format!("api@{instance} | out {i}"))
        .chain((1..=3).map(|i| format!("api@{instance_err} | err {i}")))
        .collect();
    assert_eq!(lines(&out), expected, "{out}");
    assert_eq!(lines(&nodeunits_ok(&host, "logs api -n 2")), expected[13..]);

    // stderr only: the app's stderr is logged at priority err, stdout at info.
    let err = nodeunits_ok(&host, "logs api --err");
    assert_eq!(lines(&err), expected[12..], "{err}");
    assert_eq!(
        host.ok(&format!(
            "journalctl -u api@{instance_err}.service -p err -o cat _TRANSPORT=stdout"
        )),
        "err 1\nerr 2\nerr 3\n"
    );
    let other = 1 - instance_err.parse::<u32>().unwrap();
    let none = nodeunits_ok(&host, &format!("logs api --instance {other} --err"));
    assert_eq!(none, "", "the other instance wrote nothing to stderr");

    // Every app, merged in time order; --json for scripts.
    host.ok("curl -fsS http://127.0.0.1:3001/out");
    host.wait_until(&format!("{NODEUNITS} logs web | grep -q 'out 40'"), WAIT);
    let json = nodeunits_ok(&host, "logs --json -n 60");
    let entries: Vec<serde_json::Value> = json
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(entries.len(), 60, "{json}");
    let times: Vec<u64> = entries
        .iter()
        .map(|e| e["timestamp_usec"].as_u64().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "in time order: {times:?}"
    );
    let said = |app: &str, message: &str| {
        entries
            .iter()
            .find(|e| e["app"] == app && e["message"] == message)
            .unwrap_or_else(|| panic!("no `{message}` of {app} in {json}"))
    };
    assert_eq!(said("api", "err 1")["priority"], 3);
    assert_eq!(said("api", "out 40")["priority"], 6);
    assert_eq!(said("web", "out 40")["transport"], "stdout");
    let last = nodeunits_ok(&host, "logs -n 1");
    let last = lines(&last);
    assert!(
        last[0].starts_with("web@") && last[0].ends_with(" | out 40"),
        "{last:?}"
    );

    // Follow: new lines appear as they are logged.
    host.ok(&format!(
        "nohup timeout 90 {NODEUNITS} logs api -f -n 0 > /tmp/follow 2>&1 &"
    ));
    host.wait_until("pgrep -f 'journalctl --unit=api@'", WAIT);
    // journalctl follows from where the journal ends once it has started,
    // which on a busy machine may be after every line of a request made at
    // once: requests are made until one shows that it follows; the next is
    // counted.
    host.wait_until(
        "curl -fsS http://127.0.0.1:3000/out >/dev/null && sleep 1 && grep -Eq '^api@[0-9]+ \\| out 40$' /tmp/follow",
        WAIT,
    );
    let count = || -> usize {
        let count = host.sh("grep -c ' | out ' /tmp/follow").stdout;
        String::from_utf8_lossy(&count).trim().parse().unwrap_or(0)
    };
    let before = count();
    host.ok("curl -fsS http://127.0.0.1:3000/out");
    host.wait_until(
        &format!("test $(grep -c ' | out ' /tmp/follow) -ge {}", before + 40),
        WAIT,
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(count(), before + 40, "{}", host.ok("cat /tmp/follow"));
}

fn tmux(host: &TestHost, args: &str) -> String {
    host.ok(&format!("tmux -L monit {args}"))
}

#[test]
fn monit_shows_the_apps_in_a_terminal_and_q_restores_it() {
    let host = TestHost::boot("monit");
    host.write("/srv/logs/logger.js", LOGGER_JS);
    host.write("/srv/logs/ecosystem.toml", logger_ecosystem("api", 3000));
    give_to_deploy(&host, "/srv/logs");
    nodeunits_ok(&host, "apply /srv/logs/ecosystem.toml");
    host.ok("curl -fsS http://127.0.0.1:3000/out");

    tmux(&host, "new-session -d -s m -x 120 -y 32 sh");
    tmux(
        &host,
        &format!(
            "send-keys -t m 'stty -g > /tmp/before; {NODEUNITS} monit; echo \"monit exited $?\"; stty -g > /tmp/after' Enter"
        ),
    );
    let screen = host.wait_until(
        "tmux -L monit capture-pane -p -t m | tee /tmp/screen | grep -q 'api@.* | out 40' && cat /tmp/screen",
        WAIT,
    );
    assert!(screen.contains("nodeunits monit"), "{screen}");
    assert!(screen.contains(" api logs "), "{screen}");
    let rows: Vec<&str> = screen
        .lines()
        .filter(|line| line.contains("api ") && line.contains("active (running)"))
        .collect();
    assert_eq!(rows.len(), 2, "one row per instance:\n{screen}");
    assert!(
        rows[0].contains("> "),
        "the first row is selected:\n{screen}"
    );
    assert_eq!(tmux(&host, "display -p -t m '#{alternate_on}'"), "1\n");

    tmux(&host, "send-keys -t m Down");
    host.wait_until(
        "tmux -L monit capture-pane -p -t m | grep 'active (running)' | tail -n 1 | grep -q '> '",
        WAIT,
    );
    tmux(&host, "send-keys -t m q");
    let after = host.wait_until(
        "tmux -L monit capture-pane -p -t m | tee /tmp/screen | grep -q 'monit exited 0' && test -s /tmp/after && cat /tmp/screen",
        WAIT,
    );
    // The shell's screen is back, as it was, with the terminal's modes.
    assert!(after.contains("stty -g > /tmp/before;"), "{after}");
    assert!(!after.contains("active (running)"), "{after}");
    assert_eq!(
        tmux(&host, "display -p -t m '#{alternate_on} #{cursor_flag}'"),
        "0 1\n"
    );
    assert_eq!(host.read("/tmp/after"), host.read("/tmp/before"));
    tmux(&host, "kill-server");
}

#[test]
fn init_writes_a_file_that_check_accepts_and_apply_runs_and_never_overwrites() {
    let host = TestHost::boot("init");
    host.write(
        "/srv/shop/package.json",
        r#"{"name": "@acme/shop", "main": "server.js", "scripts": {"start": "node server.js"}}"#,
    );
    host.write("/srv/shop/.env", "PORT=3400\n");
    host.write(
        "/srv/shop/server.js",
        "require('http').createServer((q, s) => s.end('shop ' + process.env.NODE_APP_INSTANCE)).listen(process.env.PORT);\n",
    );
    // The deploy user writes the file, as their apps run as its owner.
    give_to_deploy(&host, "/srv/shop");
    let output = host.sh(&format!(
        "cd /srv/shop && runuser -u {DEPLOY} -- {NODEUNITS} init"
    ));
    assert!(output.status.success(), "{}", describe(&output));
    let written = host.read("/srv/shop/ecosystem.toml");
    assert!(
        written.contains("name = \"shop\" # from package.json's name\n"),
        "{written}"
    );
    assert!(
        written.contains("script = \"server.js\" # from package.json's start script\n"),
        "{written}"
    );
    assert!(
        written.contains("port = 3400 # from .env's PORT; sets PORT\n"),
        "{written}"
    );

    let check = host.sh(&format!("cd /srv/shop && {NODEUNITS} check ecosystem.toml"));
    assert!(check.status.success(), "{}", describe(&check));
    assert_eq!(
        String::from_utf8_lossy(&check.stderr),
        "ecosystem.toml: 1 app ok\n  shop: serves 3400 (socket unit, from `port`) and any other port its code listens on, each shared by its 2 workers\n"
    );
    nodeunits_ok(&host, "apply /srv/shop/ecosystem.toml");
    assert!(get(&host, 3400).unwrap().starts_with("shop "));

    let again = host.sh(&format!("cd /srv/shop && {NODEUNITS} init other.js"));
    assert_eq!(again.status.code(), Some(1), "{}", describe(&again));
    assert!(
        String::from_utf8_lossy(&again.stderr)
            .contains("/srv/shop/ecosystem.toml exists already; init never overwrites it"),
        "{}",
        describe(&again)
    );
    assert_eq!(host.read("/srv/shop/ecosystem.toml"), written);
}

#[test]
fn logs_of_a_user_app_as_its_user() {
    let host = TestHost::boot("logs-user");
    add_deploy(&host);
    host.ok("loginctl enable-linger deploy");
    host.write("/home/deploy/logs/logger.js", LOGGER_JS);
    host.write(
        "/home/deploy/logs/ecosystem.toml",
        logger_ecosystem("notes", 5000),
    );
    host.ok("chown -R deploy: /home/deploy/logs");
    host.wait_until("systemctl --user -M deploy@ is-system-running", WAIT);
    let as_deploy = |args: &str| {
        host.sh(&format!(
            "uid=$(id -u deploy); runuser -u deploy -- env HOME=/home/deploy USER=deploy \
             XDG_RUNTIME_DIR=/run/user/$uid {NODEUNITS} {args}"
        ))
    };
    let output = as_deploy("apply /home/deploy/logs/ecosystem.toml");
    assert!(output.status.success(), "{}", describe(&output));
    let instance = host.ok("curl -fsS http://127.0.0.1:5000/err");
    host.wait_until(
        &format!("journalctl -p err _SYSTEMD_USER_UNIT=notes@{instance}.service | grep -q 'err 3'"),
        WAIT,
    );
    let err = as_deploy("logs --err");
    assert!(err.status.success(), "{}", describe(&err));
    let expected: String = (1..=3)
        .map(|i| format!("notes@{instance} | err {i}\n"))
        .collect();
    assert_eq!(
        String::from_utf8_lossy(&err.stdout),
        expected,
        "{}",
        describe(&err)
    );
}
