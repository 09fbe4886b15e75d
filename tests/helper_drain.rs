//! Restarting workers one at a time under keep-alive load drops no request,
//! whether the app handles SIGINT itself or not.

mod helper_support;

use helper_support::{assert_no_failures, node_app, rolling_restarts, stop_wrk, wrk};
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

#[test]
fn rolling_restarts_under_load_drop_nothing() {
    let host = TestHost::boot("helper-drain");
    for (name, port, source, options) in [
        ("naive", 8090, NAIVE, "--node"),
        ("cooperative", 8091, COOPERATIVE, "--node --wait-ready"),
    ] {
        host.write(&format!("/srv/{name}/app.js"), source);
        let listen = [format!("127.0.0.1:{port}")];
        let listen: Vec<&str> = listen.iter().map(String::as_str).collect();
        node_app(name, &listen, options, "/usr/bin/node app.js").start(&host, 2);
        let load = wrk(&host, port, 32);
        rolling_restarts(&host, name, 2, 5);
        let (counts, output) = stop_wrk(&host, load);
        assert_no_failures(
            &counts,
            &output,
            &format!("the {name} app, 2 instances, 5 rounds of restarts"),
        );
        let journal = host.journal(&format!("{name}@0.service"));
        assert!(
            journal.contains("SIGINT received: draining the app"),
            "{journal}"
        );
        println!("{name}: {counts:?}");
    }
}
