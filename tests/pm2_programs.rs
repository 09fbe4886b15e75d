//! Programs and logs as PM2 runs them, on a real systemd: express's
//! `bin/www` (a Node script without `.js` or execute bit) runs with node, a
//! `.py` script without execute bit or `#!` with python, `script = "node
//! server.js"` with `interpreter = "none"` as a command line; `log_file`
//! with `out_file` and `error_file` "NULL" (a PM2 fixture) receives both
//! streams, and `~` in `out_file` is the home of the app's user. A pyenv
//! shim of root's, found through root's `PATH`, is a warning for an app of
//! deploy's, and apply refuses it, naming the interpreter.

mod apply_support;

use std::time::Duration;

use apply_support::{get, give_to_deploy, nodeunits_ok, wait_serving};
use testhost::TestHost;

const DIR: &str = "/srv/progs";

/// As express's generator writes `bin/www` (shortened): `#!/usr/bin/env
/// node`, no extension, and here no execute bit.
const WWW: &str = r#"#!/usr/bin/env node
const http = require('http');
const server = http.createServer((req, res) => res.end('www\n'));
server.listen(process.env.PORT, () => console.log('www listening'));
"#;

/// A Python server with no `#!`, printing a line on each stream.
const SERVER_PY: &str = r#"import http.server, os, sys
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"python\n")
    def log_message(self, *args):
        pass
print("to stdout from python")
print("to stderr from python", file=sys.stderr)
http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
"#;

const SERVER_JS: &str = r#"require('http')
  .createServer((req, res) => res.end('line\n'))
  .listen(process.env.PORT);
"#;

const ECOSYSTEM: &str = r#"[[apps]]
name = "www"
script = "bin/www"
out_file = "~/www.log"
[apps.env]
PORT = 8401

[[apps]]
name = "py"
script = "server.py"
out_file = "NULL"
error_file = "NULL"
log_file = "logs/combined.log"
[apps.env]
PORT = 8402

[[apps]]
name = "line"
script = "node server.js"
interpreter = "none"
[apps.env]
PORT = 8403
"#;

#[test]
fn scripts_run_with_the_interpreter_pm2_picks_and_logs_go_where_pm2_writes_them() {
    let host = TestHost::boot("pm2-programs");
    host.write(&format!("{DIR}/bin/www"), WWW);
    host.write(&format!("{DIR}/server.py"), SERVER_PY);
    host.write(&format!("{DIR}/server.js"), SERVER_JS);
    host.write(&format!("{DIR}/ecosystem.toml"), ECOSYSTEM);
    give_to_deploy(&host, DIR);
    host.ok(&format!("chmod 0644 {DIR}/bin/www {DIR}/server.py"));

    let rendered = nodeunits_ok(&host, &format!("render --show-env {DIR}/ecosystem.toml"));
    for expected in [
        format!("/node {DIR}/bin/www"),
        format!(" {DIR}/server.py"),
        "PYTHONUNBUFFERED='1'".to_owned(),
        format!("StandardOutput=append:{DIR}/logs/combined.log"),
        format!("StandardError=append:{DIR}/logs/combined.log"),
        "StandardOutput=append:/home/deploy/www.log".to_owned(),
        "/node server.js".to_owned(),
    ] {
        assert!(rendered.contains(&expected), "{expected}:\n{rendered}");
    }
    nodeunits_ok(&host, &format!("apply {DIR}/ecosystem.toml"));
    wait_serving(&host, 8401, "www");
    wait_serving(&host, 8402, "python");
    assert_eq!(get(&host, 8403).as_deref(), Some("line\n"));

    // Both streams of the Python app in the combined file, at once.
    let combined = host.wait_until(
        &format!("grep -q stderr {DIR}/logs/combined.log && cat {DIR}/logs/combined.log"),
        Duration::from_secs(10),
    );
    assert!(
        combined.contains("to stdout from python") && combined.contains("to stderr from python"),
        "{combined}"
    );
    let www = host.wait_until("cat /home/deploy/www.log", Duration::from_secs(10));
    assert!(www.contains("www listening"), "{www}");
}

/// A `.py` app of deploy's, applied by root with a pyenv shim of root's
/// first in `PATH`.
const SHIM_ECOSYSTEM: &str = r#"[[apps]]
name = "shim"
script = "server.py"
[apps.env]
PORT = 8404
"#;

#[test]
fn an_interpreter_in_roots_home_is_a_warning_and_apply_refuses_what_deploy_cannot_run() {
    let host = TestHost::boot("pm2-programs-shim");
    host.write(&format!("{DIR}/server.py"), SERVER_PY);
    host.write(&format!("{DIR}/ecosystem.toml"), SHIM_ECOSYSTEM);
    give_to_deploy(&host, DIR);
    host.write(
        "/root/.pyenv/shims/python",
        "#!/bin/sh\nexec python3 \"$@\"\n",
    );
    host.ok("chmod 0755 /root/.pyenv/shims/python && chmod 0700 /root");
    let with_shim = |command: &str| {
        host.sh(&format!(
            "PATH=/root/.pyenv/shims:$PATH {} {command} {DIR}/ecosystem.toml",
            apply_support::NODEUNITS
        ))
    };
    let check = with_shim("check");
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert!(check.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "warning: the interpreter /root/.pyenv/shims/python lies in the home of another account than `deploy`, who runs this app"
        ),
        "{stderr}"
    );
    let apply = with_shim("apply");
    let stderr = String::from_utf8_lossy(&apply.stderr);
    assert!(!apply.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "app `shim` cannot start: its user `deploy` cannot reach the interpreter /root/.pyenv/shims/python: the directory /root (mode 0700"
        ),
        "{stderr}"
    );
    assert!(get(&host, 8404).is_none(), "nothing started");
}
