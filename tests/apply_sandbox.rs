//! Who runs an app, and the sandbox it runs in, on a real systemd: an app
//! runs as the owner of its ecosystem file, a file of root's is refused
//! unless it says `user = "root"`, and a sandboxed worker writes into its
//! own directory, `/tmp` and its `read_write_paths`, nowhere else.

mod apply_support;

use std::collections::BTreeMap;

use apply_support::*;
use serde_json::Value;
use testhost::TestHost;

/// Serves what happened when it wrote each of `TARGETS` (a JSON array of
/// paths): "ok" or the error code, with its uid, CPU count and interfaces.
const WRITER_JS: &str = r#"const fs = require('fs');
const os = require('os');
const targets = JSON.parse(process.env.TARGETS || '[]');
require('http').createServer((req, res) => {
  const writes = {};
  for (const path of targets) {
    try { fs.writeFileSync(path, 'written\n'); writes[path] = 'ok'; } catch (e) { writes[path] = e.code; }
  }
  let interfaces;
  try { interfaces = Object.keys(os.networkInterfaces()).length; } catch (e) { interfaces = e.message; }
  const report = { writes, uid: process.getuid(), cpus: os.cpus().length, interfaces };
  res.end(JSON.stringify(report) + '\n');
}).listen(process.env.PORT);
"#;

/// An app of WRITER_JS on `port` that writes `targets`, with more options.
fn writer(name: &str, port: u16, targets: &[&str], options: &str) -> String {
    let targets = serde_json::to_string(targets).expect("paths");
    format!(
        "[[apps]]\nname = \"{name}\"\nscript = \"app.js\"\nport = {port}\n{options}\n\
         [apps.env]\nTARGETS = '{targets}'\n\n"
    )
}

/// The report of the app on `port`, once it serves.
fn report(host: &TestHost, port: u16) -> Value {
    wait_serving(host, port, "writes");
    serde_json::from_str(&get(host, port).expect("the app serves")).expect("JSON")
}

fn writes(report: &Value) -> BTreeMap<String, String> {
    serde_json::from_value(report["writes"].clone()).expect("writes")
}

fn uid(host: &TestHost, user: &str) -> u64 {
    host.ok(&format!("id -u {user}"))
        .trim()
        .parse()
        .expect("a uid")
}

#[test]
fn an_app_runs_as_the_owner_of_its_file_and_as_root_only_when_it_says_so() {
    let host = TestHost::boot("sandbox-owner");
    let api = App::new("api", 1, 3000);
    host.write("/srv/shop/app.js", APP_JS);
    host.write(
        "/srv/shop/ecosystem.toml",
        ecosystem(std::slice::from_ref(&api)),
    );

    let refused = nodeunits(&host, "apply /srv/shop/ecosystem.toml");
    assert_eq!(refused.status.code(), Some(1), "{}", describe(&refused));
    assert_eq!(
        String::from_utf8_lossy(&refused.stderr),
        "error: this app would run as root: it sets no `user`, and its ecosystem file belongs to root\n \
         --> /srv/shop/ecosystem.toml:2:8\n  |\n2 | name = \"api\"\n  |        ^^^^^\n  \
         = an app without `user` runs as the owner of its file, as PM2 runs apps as the user who \
         starts PM2; allowed: `user = \"deploy\"` (the account to run it as), the file given to \
         that account (`chown deploy /srv/shop/ecosystem.toml`), or `user = \"root\"` to run it \
         as root on purpose\n1 error in /srv/shop/ecosystem.toml; no units were generated\n"
    );
    assert!(unit_files(&host, "api").is_empty(), "nothing installed");

    give_to_deploy(&host, "/srv/shop");
    nodeunits_ok(&host, "apply /srv/shop/ecosystem.toml");
    wait_serving(&host, 3000, "api 0");
    let helper = property(&host, "MainPID", &api.units()).remove(0);
    let uids = host.ok(&format!("ps -o uid= -p {helper} --ppid {helper}"));
    let deploy = uid(&host, DEPLOY);
    assert_eq!(
        uids.split_whitespace().collect::<Vec<_>>(),
        [deploy.to_string(), deploy.to_string()],
        "the helper and the app run as deploy"
    );

    // A file of root's that says so: root, in the sandbox still.
    host.write("/srv/ops/app.js", WRITER_JS);
    host.write(
        "/srv/ops/ecosystem.toml",
        writer(
            "ops",
            3001,
            &["/srv/ops/own.txt", "/etc/ops.txt"],
            "user = \"root\"",
        ),
    );
    nodeunits_ok(&host, "apply /srv/ops/ecosystem.toml");
    let ops = report(&host, 3001);
    assert_eq!(ops["uid"], 0);
    assert_eq!(
        writes(&ops),
        BTreeMap::from([
            ("/srv/ops/own.txt".into(), "ok".into()),
            ("/etc/ops.txt".into(), "EROFS".into()),
        ])
    );
}

#[test]
fn a_sandboxed_worker_writes_only_its_directory_tmp_and_its_read_write_paths() {
    let host = TestHost::boot("sandbox-writes");
    add_deploy(&host);
    host.ok("install -d -o deploy /var/lib/files /srv/other");
    let everywhere = [
        "/srv/files/own.txt",
        "/tmp/tmp.txt",
        "/var/lib/files/data.txt",
        "/srv/other/x.txt",
        "/home/deploy/x.txt",
    ];
    let ecosystem = [
        writer(
            "files",
            3100,
            &everywhere,
            "read_write_paths = [\"/var/lib/files\"]",
        ),
        writer("legacy", 3101, &everywhere, "hardening = \"off\""),
        writer(
            "site",
            3102,
            &["/home/deploy/site/own.txt", "/home/deploy/other.txt"],
            "cwd = \"/home/deploy/site\"",
        ),
    ]
    .concat();
    host.write("/srv/files/app.js", WRITER_JS);
    host.write("/home/deploy/site/app.js", WRITER_JS);
    host.write("/srv/files/ecosystem.toml", ecosystem);
    give_to_deploy(&host, "/srv/files");
    give_to_deploy(&host, "/home/deploy");
    nodeunits_ok(&host, "apply /srv/files/ecosystem.toml");

    let files = report(&host, 3100);
    println!("files: {files}");
    assert_eq!(files["uid"], uid(&host, DEPLOY));
    assert!(files["cpus"].as_u64() > Some(0), "{files}");
    assert!(files["interfaces"].as_u64() >= Some(1), "{files}");
    assert_eq!(
        writes(&files),
        BTreeMap::from([
            ("/srv/files/own.txt".into(), "ok".into()),
            ("/tmp/tmp.txt".into(), "ok".into()),
            ("/var/lib/files/data.txt".into(), "ok".into()),
            ("/srv/other/x.txt".into(), "EROFS".into()),
            // Home directories are hidden.
            ("/home/deploy/x.txt".into(), "EACCES".into()),
        ])
    );
    host.ok("test ! -e /tmp/tmp.txt && test ! -e /home/deploy/x.txt");

    let legacy = report(&host, 3101);
    assert!(
        writes(&legacy).values().all(|result| result == "ok"),
        "without the sandbox, deploy writes where it may: {legacy}"
    );
    host.ok("test -f /tmp/tmp.txt && test -f /home/deploy/x.txt && test -f /srv/other/x.txt");

    let site = report(&host, 3102);
    assert_eq!(
        writes(&site),
        BTreeMap::from([
            ("/home/deploy/site/own.txt".into(), "ok".into()),
            ("/home/deploy/other.txt".into(), "EROFS".into()),
        ]),
        "an app in a home directory sees it read-only, its own directory writable"
    );
    let protect_home = property(
        &host,
        "ProtectHome",
        &["files@0.service".into(), "site@0.service".into()],
    );
    assert_eq!(protect_home, ["yes", "read-only"]);
}
