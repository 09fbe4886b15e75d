//! Secrets stay secret, on a real systemd: an app's `env` password and an
//! encrypted credential (`nodeunits secret set`) reach the app as
//! variables, and another local user reads them nowhere: not through
//! `systemctl show` or the unit files, not in /etc/systemd, /run or
//! /var/lib/nodeunits, not in the app's /proc, not through `nodeunits`
//! itself; nor after a reload, a scale, an apply killed mid-way, a failed
//! apply (rolled back), or a delete. Only root, and the app's own user
//! through its running process, see it.

mod apply_support;

use std::process::Output;

use apply_support::*;
use testhost::TestHost;

const DIR: &str = "/srv/vault";
const PORT: u16 = 3300;
/// The password, found nowhere else in the box.
const SECRET: &str = "hunter2-7f3a9c-correct-horse";
/// The password of an apply that fails and is rolled back.
const SECRET_FAILED: &str = "hunter3-b41e07-battery-staple";
/// The credential's value, encrypted by `nodeunits secret set`.
const TOKEN: &str = "tok-5d21e8-tr0ub4dor-credential";
/// Where `nodeunits secret set vault API_TOKEN` writes it.
const TOKEN_FILE: &str = "/etc/nodeunits/credentials/vault/API_TOKEN.cred";
/// Another local account, unprivileged and unrelated to the app.
const OTHER: &str = "mallory";

/// Serves whether its `DB_PASSWORD` and `API_TOKEN` are the expected ones,
/// never the values. The expected values are written reversed, so that this
/// file does not hold the secrets either.
fn app_js() -> String {
    let reversed: String = SECRET.chars().rev().collect();
    let token: String = TOKEN.chars().rev().collect();
    format!(
        r#"const http = require('http');
const expected = '{reversed}'.split('').reverse().join('');
const token = '{token}'.split('').reverse().join('');
if (process.env.CRASH) process.exit(3);
const both = process.env.DB_PASSWORD === expected && process.env.API_TOKEN === token;
const verdict = both ? 'secret-ok' : 'secret-wrong';
http.createServer((req, res) => {{
  res.end(`vault ${{process.env.NODE_APP_INSTANCE}} ${{verdict}} ${{process.env.APP_VERSION}}\n`);
}}).listen(process.env.PORT);
"#
    )
}

fn ecosystem(password: &str, version: &str, crash: bool) -> String {
    let crash = if crash { "CRASH = \"1\"\n" } else { "" };
    format!(
        "[[apps]]\nname = \"vault\"\nscript = \"app.js\"\ninstances = 2\nexec_mode = \"cluster\"\n\
         listen = [\"127.0.0.1:{PORT}\"]\nkill_timeout = 3000\nlisten_timeout = 8000\n\
         credentials = {{ API_TOKEN = \"{TOKEN_FILE}\" }}\n\n\
         [apps.env]\nDB_PASSWORD = \"{password}\"\nAPP_VERSION = \"{version}\"\n{crash}"
    )
}

/// Writes the ecosystem file, the deploy user's and readable only by them,
/// as a file holding a secret must be.
fn write_file(host: &TestHost, contents: &str) -> String {
    let file = format!("{DIR}/ecosystem.toml");
    host.write(&file, contents);
    host.ok(&format!("chown {DEPLOY}: {file} && chmod 0600 {file}"));
    file
}

/// `script` run as [`OTHER`], whatever its status, stdout and stderr together.
fn as_other(host: &TestHost, script: &str) -> String {
    let quoted = script.replace('\'', r"'\''");
    let output = host.sh(&format!("runuser -u {OTHER} -- sh -c '{quoted}' 2>&1"));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn output_text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The app's units now, as systemd has them loaded.
fn units(instances: u32) -> Vec<String> {
    let mut units = vec!["vault.service".to_owned(), "vault.socket".to_owned()];
    units.extend((0..instances).map(|i| format!("vault@{i}.service")));
    units
}

/// Every way [`OTHER`] might read an app's value, tried: none finds any of
/// `secrets`. And every file that holds one is root's, mode 0600.
fn nobody_else_reads(host: &TestHost, secrets: &[&str], instances: u32, when: &str) {
    let units = units(instances).join(" ");
    let patterns: Vec<String> = secrets.iter().map(|s| format!("-e '{s}'")).collect();
    let patterns = patterns.join(" ");
    let pids = format!("$(pgrep -u {DEPLOY})");
    let attempts = [
        format!("systemctl show {units}"),
        format!("systemctl show -p Environment -p EnvironmentFiles {units}"),
        format!("systemctl cat {units}"),
        format!(
            "grep -r {patterns} /etc/systemd /etc/nodeunits /run /var/lib/nodeunits 2>/dev/null"
        ),
        format!("for pid in {pids}; do cat /proc/$pid/environ /proc/$pid/cmdline; done"),
        format!("{NODEUNITS} status --system; {NODEUNITS} status --system --json"),
        format!(
            "{NODEUNITS} describe vault --system; {NODEUNITS} describe vault --system --show-env"
        ),
        format!("{NODEUNITS} describe vault --system --json --show-env"),
        format!("{NODEUNITS} metrics --system"),
        format!("{NODEUNITS} logs vault --system -n 200"),
        "journalctl --no-pager -n 2000".to_owned(),
    ];
    for attempt in attempts {
        let seen = as_other(host, &attempt);
        for secret in secrets {
            assert!(
                !seen.contains(secret),
                "{when}: `{attempt}` as {OTHER} shows a secret:\n{seen}"
            );
        }
    }
    for secret in secrets {
        let holders = host.ok(&format!(
            "grep -rl -e '{secret}' /etc/systemd /etc/nodeunits /run /var/lib/nodeunits || true"
        ));
        for file in holders.lines() {
            let mode = host.ok(&format!("stat -c '%a %U' '{file}'"));
            // systemd's copy of a credential is the worker's, as its
            // process's environment is.
            let expected = match file.starts_with("/run/credentials/vault@") {
                true => format!("400 {DEPLOY}"),
                false => "600 root".to_owned(),
            };
            assert_eq!(mode.trim(), expected, "{when}: {file} holds a secret");
        }
        let journal = host.ok(&format!(
            "journalctl --no-pager | grep -c -e '{secret}' || true"
        ));
        assert_eq!(journal.trim(), "0", "{when}: the journal holds a secret");
    }
}

fn boot() -> TestHost {
    let host = TestHost::boot("secrets");
    let set = nodeunits(
        &host,
        &format!("secret set vault API_TOKEN <<'EOF'\n{TOKEN}\nEOF"),
    );
    assert!(set.status.success(), "{}", describe(&set));
    let said = output_text(&set);
    assert!(said.contains(TOKEN_FILE) && !said.contains(TOKEN), "{said}");
    assert_eq!(
        host.ok(&format!("stat -c '%a %U' {TOKEN_FILE}")).trim(),
        "600 root"
    );
    host.ok(&format!("! grep -q -e '{TOKEN}' {TOKEN_FILE}"));
    host.write(&format!("{DIR}/app.js"), app_js());
    give_to_deploy(&host, DIR);
    host.ok(&format!("id -u {OTHER} >/dev/null 2>&1 || useradd {OTHER}"));
    host
}

#[test]
fn an_env_password_reaches_the_app_and_no_other_user() {
    let host = boot();
    let file = write_file(&host, &ecosystem(SECRET, "v1", false));
    nodeunits_ok(&host, &format!("apply {file}"));
    wait_serving(&host, PORT, "secret-ok v1");
    // The worker has the value; the unit file and its properties do not.
    let env_file = format!("{UNIT_DIR}/vault.env");
    assert_eq!(
        host.ok(&format!("stat -c '%a %U' {env_file}")).trim(),
        "600 root"
    );
    let main_pid = host.ok("systemctl show -p MainPID --value vault@0.service");
    host.ok(&format!(
        "grep -q -e '{SECRET}' /proc/{}/environ",
        main_pid.trim()
    ));
    // The helper sets the credential's variable for the app, its child.
    host.ok(&format!(
        "grep -q -e '{TOKEN}' /proc/$(pgrep -P {})/environ",
        main_pid.trim()
    ));
    let template = host.read(&format!("{UNIT_DIR}/vault@.service"));
    assert!(template.contains("X-Nodeunits-Environment=APP_VERSION DB_PASSWORD PORT\n"));
    assert!(template.contains(&format!(
        "\nLoadCredentialEncrypted=API_TOKEN:{TOKEN_FILE}\n"
    )));
    nobody_else_reads(&host, &[SECRET, TOKEN], 2, "applied");

    // Root sees the values; the app's user too, from its running process;
    // anyone else only the names.
    let shown = nodeunits_ok(&host, "describe vault --show-env");
    assert!(shown.contains(&format!("DB_PASSWORD={SECRET}")), "{shown}");
    let output = host.sh(&format!(
        "runuser -u {DEPLOY} -- {NODEUNITS} describe vault --system --show-env"
    ));
    let by_deploy = output_text(&output);
    assert!(
        by_deploy.contains(&format!("DB_PASSWORD={SECRET}")),
        "{by_deploy}"
    );
    let by_other = as_other(
        &host,
        &format!("{NODEUNITS} describe vault --system --show-env"),
    );
    assert!(by_other.contains("DB_PASSWORD=****"), "{by_other}");
    assert!(by_other.contains("values unknown"), "{by_other}");
    let dry_run = nodeunits_ok(&host, &format!("apply --dry-run {file}"));
    assert!(!dry_run.contains(SECRET), "{dry_run}");
    let rendered = nodeunits_ok(&host, &format!("render {file}"));
    assert!(rendered.contains("\nDB_PASSWORD=********\n"), "{rendered}");
    assert!(!rendered.contains(SECRET), "{rendered}");

    nodeunits_ok(&host, "reload vault");
    wait_serving(&host, PORT, "secret-ok v1");
    nobody_else_reads(&host, &[SECRET, TOKEN], 2, "reloaded");

    // Killed once the apply journal holds the previous environment file
    // and the new one is written (1 the file, 2 daemon-reload).
    let file = write_file(&host, &ecosystem(SECRET, "v2", false));
    let output = host.sh(&format!(
        "NODEUNITS_TEST_SIGNAL_AT_STEP=2 {NODEUNITS} apply {file}"
    ));
    let killed = output.status.code() == Some(137)
        || std::os::unix::process::ExitStatusExt::signal(&output.status) == Some(9);
    assert!(killed, "{}", describe(&output));
    let journal = host.ok("ls /var/lib/nodeunits/apply-journal");
    assert_eq!(journal.trim(), "vault.json");
    nobody_else_reads(&host, &[SECRET, TOKEN], 2, "killed mid-apply");
    nodeunits_ok(&host, &format!("apply {file}"));
    wait_serving(&host, PORT, "secret-ok v2");
    nobody_else_reads(&host, &[SECRET, TOKEN], 2, "applied after the kill");

    nodeunits_ok(&host, "scale vault 3");
    wait_serving(&host, PORT, "secret-ok v2");
    let shown = nodeunits_ok(&host, "describe vault --show-env");
    assert!(shown.contains(&format!("DB_PASSWORD={SECRET}")), "{shown}");
    nobody_else_reads(&host, &[SECRET, TOKEN], 3, "scaled");

    // An apply whose new workers crash is rolled back: the old file is back.
    let file = write_file(&host, &ecosystem(SECRET_FAILED, "v3", true));
    let output = nodeunits(&host, &format!("apply {file}"));
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let env = host.read(&env_file);
    assert!(
        env.contains(SECRET) && !env.contains(SECRET_FAILED),
        "rolled back"
    );
    assert_eq!(
        host.ok(&format!("stat -c '%a %U' {env_file}")).trim(),
        "600 root"
    );
    wait_serving(&host, PORT, "secret-ok v2");
    nobody_else_reads(&host, &[SECRET, SECRET_FAILED, TOKEN], 3, "rolled back");

    nodeunits_ok(&host, "delete vault");
    host.ok(&format!("test ! -e {env_file}"));
    let left = host.ok(&format!(
        "grep -rl -e '{SECRET}' -e '{SECRET_FAILED}' /etc/systemd /run /var/lib/nodeunits || true"
    ));
    assert_eq!(left, "", "deleted: no file holds a value");
    nobody_else_reads(&host, &[SECRET, SECRET_FAILED, TOKEN], 0, "deleted");
}
