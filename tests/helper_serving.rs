//! Apps serve through the socket systemd holds, with no change: express,
//! fastify and koa (real packages from npm), https, an ESM entry point, an app that
//! also listens on a port of its own, and a non-Node server taking fd 3
//! (and sending READY=1 itself with wait_ready).

mod helper_support;

use helper_support::{node_app, node_modules_in, synced_journal, App};
use testhost::TestHost;

const EXPRESS: &str = "\
const express = require('express');
const app = express();
app.get('/', (req, res) => res.send(`express ${process.env.NODE_APP_INSTANCE}\\n`));
app.listen(process.env.PORT);
";

const FASTIFY: &str = "\
const fastify = require('fastify')();
fastify.get('/', async () => 'fastify\\n');
fastify.listen({ port: 8102, host: '127.0.0.1' });
";

const KOA: &str = "\
const Koa = require('koa');
const app = new Koa();
app.use((ctx) => { ctx.body = 'koa\\n'; });
app.listen(8103);
";

/// An ES module, with a second server on a port the socket unit does not hold.
const ESM: &str = "\
import http from 'node:http';
http.createServer((req, res) => res.end('esm\\n')).listen(8104);
http.createServer((req, res) => res.end('admin\\n')).listen(9104, '127.0.0.1');
";

const HTTPS: &str = "\
const fs = require('fs');
const options = { key: fs.readFileSync('key.pem'), cert: fs.readFileSync('cert.pem') };
require('https').createServer(options, (req, res) => res.end('https\\n')).listen(8107);
";

/// One port on two addresses, and a unix socket.
const MULTI: &str = "\
const http = require('http');
http.createServer((req, res) => res.end('port\\n')).listen(8106);
http.createServer((req, res) => res.end('path\\n')).listen('/run/multi.sock');
";

const PYTHON: &str = "\
import http.server, os, socket, time

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        mine = os.environ.get('LISTEN_PID') == str(os.getpid())
        body = f\"python LISTEN_PID is mine: {mine}, LISTEN_FDS={os.environ['LISTEN_FDS']}, LISTEN_FDNAMES={os.environ['LISTEN_FDNAMES']}\\n\"
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

server = http.server.HTTPServer(('127.0.0.1', 0), Handler, bind_and_activate=False)
server.socket = socket.socket(fileno=3)
if os.environ.get('SEND_READY'):
    time.sleep(1.5)
    address = os.environ['NOTIFY_SOCKET'].replace('@', '\\0', 1)
    socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b'READY=1', address)
server.serve_forever()
";

#[test]
fn apps_serve_through_the_inherited_socket() {
    let host = TestHost::boot("helper-serving");
    let modules = node_modules_in(&host, "/srv/frameworks");
    let node_path = format!("Environment=\"NODE_PATH={modules}\" \"PORT=8101\"\n");
    let apps = [
        ("express", "app.js", EXPRESS, 8101, "express 0\n"),
        ("fastify", "app.js", FASTIFY, 8102, "fastify\n"),
        ("koa", "app.js", KOA, 8103, "koa\n"),
        ("esm", "app.mjs", ESM, 8104, "esm\n"),
    ];
    for (name, file, source, port, answer) in apps {
        host.write(&format!("/srv/{name}/{file}"), source);
        let listen = [format!("127.0.0.1:{port}")];
        let listen: Vec<&str> = listen.iter().map(String::as_str).collect();
        let command = format!("/usr/bin/node {file}");
        let app = App {
            service: &node_path,
            ..node_app(name, &listen, "--node", &command)
        };
        app.start(&host, 1);
        let served = host.ok(&format!("curl -sS http://127.0.0.1:{port}/"));
        assert_eq!(
            served,
            answer,
            "{name} through its socket:\n{}",
            synced_journal(&host, &format!("{name}@0"))
        );
        // Served through systemd's socket: it accepts even while the app is stopped.
        host.ok(&format!("systemctl stop {name}@0.service"));
        let queued = host.spawn(&format!("curl -sS --max-time 20 http://127.0.0.1:{port}/"));
        host.ok(&format!("sleep 0.5; systemctl start {name}@0.service"));
        let output = queued.wait_with_output().unwrap();
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            answer,
            "{name}: a request made while stopped is served once started"
        );
    }
    assert_eq!(
        host.ok("curl -sS http://127.0.0.1:9104/"),
        "admin\n",
        "the ESM app's own second port still works"
    );

    host.ok(
        "mkdir -p /srv/tls && cd /srv/tls && openssl req -x509 -newkey rsa:2048 -nodes -days 1 \
         -subj /CN=localhost -keyout key.pem -out cert.pem 2>/dev/null",
    );
    host.write("/srv/tls/app.js", HTTPS);
    node_app("tls", &["127.0.0.1:8107"], "--node", "/usr/bin/node app.js").start(&host, 1);
    assert_eq!(host.ok("curl -sSk https://127.0.0.1:8107/"), "https\n");

    host.write("/srv/multi/app.js", MULTI);
    let listen = ["127.0.0.1:8106", "127.0.0.2:8106", "/run/multi.sock"];
    node_app("multi", &listen, "--node", "/usr/bin/node app.js").start(&host, 1);
    for url in ["http://127.0.0.1:8106/", "http://127.0.0.2:8106/"] {
        assert_eq!(host.ok(&format!("curl -sS {url}")), "port\n", "{url}");
    }
    assert_eq!(
        host.ok("curl -sS --unix-socket /run/multi.sock http://x/"),
        "path\n"
    );

    host.write("/srv/python/server.py", PYTHON);
    let python = node_app(
        "python",
        &["127.0.0.1:8105"],
        "",
        "/usr/bin/python3 -u server.py",
    );
    python.start(&host, 1);
    assert_eq!(
        host.ok("curl -sS http://127.0.0.1:8105/"),
        "python LISTEN_PID is mine: True, LISTEN_FDS=1, LISTEN_FDNAMES=python\n"
    );

    // A non-Node app with wait_ready sends READY=1 itself.
    host.write("/srv/pyready/server.py", PYTHON);
    let pyready = App {
        service: "Environment=SEND_READY=1\n",
        ..node_app(
            "pyready",
            &["127.0.0.1:8108"],
            "--wait-ready",
            "/usr/bin/python3 -u server.py",
        )
    };
    pyready.install(&host);
    let start = std::time::Instant::now();
    host.ok("systemctl start pyready@0.service");
    assert!(
        start.elapsed() >= std::time::Duration::from_millis(1500),
        "ready before the app said so"
    );
    assert_eq!(
        host.ok("curl -sS http://127.0.0.1:8108/"),
        "python LISTEN_PID is mine: True, LISTEN_FDS=1, LISTEN_FDNAMES=pyready\n"
    );
}
