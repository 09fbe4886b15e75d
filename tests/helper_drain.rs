//! Restarting workers one at a time under keep-alive load drops no request,
//! whether the app handles SIGINT itself or not, over http or https.

mod helper_support;

use helper_support::{
    assert_no_failures, node_app, rolling_restarts, stop_wrk, synced_journal, wrk,
};
use testhost::TestHost;

const NAIVE: &str = "\
const http = require('http');
http.createServer((req, res) => res.end(`naive ${process.env.NODE_APP_INSTANCE}\\n`)).listen(8090);
";

/// Written as PM2's documentation asks: 'ready', and a SIGINT handler.
const COOPERATIVE: &str = "\
const http = require('http');
const server = http.createServer((req, res) => res.end(`cooperative ${process.env.NODE_APP_INSTANCE}\\n`));
server.listen(8091, () => process.send('ready'));
process.on('SIGINT', () => server.close(() => process.exit(0)));
";

/// The naive app, over https.
const NAIVE_TLS: &str = "\
const fs = require('fs');
const options = { key: fs.readFileSync('key.pem'), cert: fs.readFileSync('cert.pem') };
require('https').createServer(options, (req, res) => res.end('naive tls\\n')).listen(8092);
";

fn kilobytes(status: &str, field: &str) -> u64 {
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_else(|| panic!("no {field} in\n{status}"));
    line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn rolling_restarts_under_load_drop_nothing() {
    let host = TestHost::boot("helper-drain");
    host.ok(
        "mkdir -p /srv/tls && cd /srv/tls && openssl req -x509 -newkey rsa:2048 -nodes -days 1 \
         -subj /CN=localhost -keyout key.pem -out cert.pem 2>/dev/null",
    );
    for (name, port, source, options, scheme) in [
        ("naive", 8090, NAIVE, "--node", "http"),
        (
            "cooperative",
            8091,
            COOPERATIVE,
            "--node --wait-ready",
            "http",
        ),
        ("tls", 8092, NAIVE_TLS, "--node", "https"),
    ] {
        host.write(&format!("/srv/{name}/app.js"), source);
        let listen = [format!("127.0.0.1:{port}")];
        let listen: Vec<&str> = listen.iter().map(String::as_str).collect();
        node_app(name, &listen, options, "/usr/bin/node app.js").start(&host, 2);
        let load = wrk(&host, &format!("{scheme}://127.0.0.1:{port}/"), 32);
        rolling_restarts(&host, name, 2, 5);
        let helper = host.ok(&format!("systemctl show -P MainPID {name}@0.service"));
        let status = host.read(&format!("/proc/{}/status", helper.trim()));
        let (report, output) = stop_wrk(&host, load);
        let private_kb = kilobytes(&status, "RssAnon:");
        assert!(
            private_kb < 1024,
            "the helper's private resident memory under load: {private_kb} kB\n{status}"
        );
        println!(
            "{name}: helper VmRSS {} kB, of which private {private_kb} kB",
            kilobytes(&status, "VmRSS:")
        );
        assert_no_failures(
            &report,
            &output,
            &format!("the {name} app, 2 instances, 5 rounds of restarts"),
        );
        let journal = synced_journal(&host, &format!("{name}@0.service"));
        assert!(
            journal.contains("SIGINT received: draining the app"),
            "{journal}"
        );
        println!("{name}: {report:?}");
    }
}
