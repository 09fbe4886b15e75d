//! How the workers share the load on real systemd: every worker accepts
//! from the one socket systemd holds, left non-blocking for all of them
//! (`NonBlocking=yes`), so none sits blocked in accept() while another
//! takes its connections. Under keep-alive and connection-per-request load
//! each of 2 workers serves a fair part. The bound is generous: the tight
//! figures, against PM2, are the benchmark's (BENCHMARKS.md).

mod apply_support;

use std::collections::BTreeMap;

use apply_support::{give_to_deploy, nodeunits_ok};
use testhost::TestHost;

/// Names its worker in a header, as the benchmark's hello-world does.
const SERVER: &str = r#"require('http').createServer((req, res) => {
  res.writeHead(200, { 'x-worker': String(process.pid) });
  res.end('hello\n');
}).listen(process.env.PORT);
"#;

/// The benchmark's wrk script: responses counted per `x-worker`.
const COUNTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/wrk/worker-counts.lua");

/// Requests served by each worker under 32 connections for 3 s.
fn served(host: &TestHost, keep_alive: bool) -> BTreeMap<String, u64> {
    let close = if keep_alive {
        ""
    } else {
        " -H 'Connection: close'"
    };
    let output = host.ok(&format!(
        "wrk -t2 -c32 -d3s{close} -s {COUNTS} http://127.0.0.1:3600/"
    ));
    output
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            (words.next() == Some("worker")).then_some(())?;
            let (worker, count) = (words.next()?, words.next()?.parse().ok()?);
            Some((worker.to_owned(), count))
        })
        .collect()
}

#[test]
fn two_workers_each_serve_a_fair_part() {
    let host = TestHost::boot("socket-spread");
    host.write("/srv/spread/server.js", SERVER);
    host.write(
        "/srv/spread/ecosystem.toml",
        "[[apps]]\nname = \"spread\"\nscript = \"server.js\"\ninstances = 2\nport = 3600\n",
    );
    give_to_deploy(&host, "/srv/spread");
    nodeunits_ok(&host, "apply /srv/spread/ecosystem.toml");
    for keep_alive in [true, false] {
        let counts = served(&host, keep_alive);
        assert_eq!(counts.len(), 2, "both workers answer: {counts:?}");
        assert!(!counts.contains_key("none"), "{counts:?}");
        let total: u64 = counts.values().sum();
        let busiest = counts.values().max().copied().unwrap_or(0);
        assert!(
            busiest * 100 <= total * 75,
            "keep-alive {keep_alive}: the busiest worker served {busiest} of {total} requests: {counts:?}"
        );
    }
}
