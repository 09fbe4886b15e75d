//! `sticky = true` on real systemd: a socket per instance in one socket
//! unit, and each client address steered to one worker. Clients from 8
//! loopback addresses each always reach the same instance and spread over
//! both; a reload keeps every client on its instance; a Socket.IO client on
//! the long-polling transport keeps its session through load; a scale is
//! refused with the way to change the count.

mod apply_support;
mod helper_support;

use std::collections::BTreeSet;

use apply_support::{give_to_deploy, nodeunits, nodeunits_ok};
use helper_support::{assert_no_failures, instances_by_source, node_modules_in, stop_wrk, wrk};
use testhost::TestHost;

/// An HTTP server answering with its instance and pid, with Socket.IO on it:
/// each event 'work' is acknowledged with the instance that handled it.
const SERVER: &str = r#"const http = require('http');
const { Server } = require('socket.io');
const server = http.createServer((req, res) => {
  res.end(`${process.env.NODE_APP_INSTANCE} ${process.pid}\n`);
});
const io = new Server(server);
io.on('connection', (socket) => {
  socket.on('work', (n, ack) => ack(`${process.env.NODE_APP_INSTANCE} ${n}`));
});
server.listen(process.env.PORT);
"#;

/// A Socket.IO client on long-polling only: 60 acknowledged events, then a
/// summary as JSON. Every poll is a new HTTP request: without stickiness a
/// poll reaching the other worker finds no session there.
const CLIENT: &str = r#"const { io } = require('socket.io-client');
const socket = io('http://127.0.0.1:3500', { transports: ['polling'], reconnection: false });
const summary = { connects: 0, disconnects: 0, errors: 0, acks: 0, instances: [] };
socket.on('connect', () => { summary.connects += 1; });
socket.on('disconnect', () => { summary.disconnects += 1; });
socket.on('connect_error', () => { summary.errors += 1; });
let n = 0;
const timer = setInterval(() => {
  if (n === 60) {
    clearInterval(timer);
    setTimeout(() => { console.log(JSON.stringify(summary)); socket.close(); process.exit(0); }, 500);
    return;
  }
  socket.timeout(3000).emit('work', n++, (err, answer) => {
    if (err) { summary.errors += 1; return; }
    summary.acks += 1;
    const instance = answer.split(' ')[0];
    if (!summary.instances.includes(instance)) summary.instances.push(instance);
  });
}, 50);
"#;

const ECOSYSTEM: &str = "[[apps]]\nname = \"chat\"\nscript = \"server.js\"\ninstances = 2\n\
    port = 3500\nsticky = true\n";

fn boot(name: &str) -> TestHost {
    let host = TestHost::boot(name);
    host.write("/srv/chat/server.js", SERVER);
    host.write("/srv/chat/client.js", CLIENT);
    host.write("/srv/chat/ecosystem.toml", ECOSYSTEM);
    node_modules_in(&host, "/srv/chat");
    give_to_deploy(&host, "/srv/chat");
    nodeunits_ok(&host, "apply /srv/chat/ecosystem.toml");
    host
}

#[test]
fn each_client_address_keeps_its_worker_through_load_and_reloads() {
    let host = boot("sticky");
    let listening = host.ok("ss -Hltn 'sport = :3500'");
    assert_eq!(
        listening.lines().count(),
        2,
        "a socket per instance:\n{listening}"
    );
    let before = instances_by_source(&host, 3500);
    let used: BTreeSet<&String> = before.values().collect();
    assert_eq!(
        used.len(),
        2,
        "the addresses spread over both instances: {before:?}"
    );

    // A long-polling Socket.IO client through keep-alive load on both workers.
    let load = wrk(&host, "http://127.0.0.1:3500/", 16);
    let summary = host.ok("cd /srv/chat && timeout 60 node client.js");
    let (report, output) = stop_wrk(&host, load);
    assert_no_failures(&report, &output, "load beside the Socket.IO client");
    let summary: serde_json::Value = serde_json::from_str(summary.trim()).expect(&summary);
    assert_eq!(summary["connects"], 1, "{summary}");
    assert_eq!(summary["errors"], 0, "{summary}");
    assert_eq!(summary["disconnects"], 0, "{summary}");
    assert_eq!(summary["acks"], 60, "{summary}");
    assert_eq!(
        summary["instances"].as_array().map(Vec::len),
        Some(1),
        "{summary}"
    );

    // A reload replaces each worker's app on the same sockets: no client moves.
    nodeunits_ok(&host, "reload chat");
    assert_eq!(instances_by_source(&host, 3500), before);

    let output = nodeunits(&host, "scale chat 3");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("has `sticky = true`"), "{stderr}");
    assert!(
        stderr.contains("set `instances` there and run `nodeunits apply`"),
        "{stderr}"
    );

    // A new count applies with the file: the app restarts on 3 sockets.
    host.write(
        "/srv/chat/ecosystem.toml",
        ECOSYSTEM.replace("instances = 2", "instances = 3"),
    );
    let out = nodeunits_ok(&host, "apply /srv/chat/ecosystem.toml");
    assert!(out.contains("chat: changed"), "{out}");
    let listening = host.ok("ss -Hltn 'sport = :3500'");
    assert_eq!(listening.lines().count(), 3, "{out}\n{listening}");
    let after = instances_by_source(&host, 3500);
    let used: BTreeSet<&String> = after.values().collect();
    assert!(used.len() >= 2, "{after:?}");
    assert!(
        used.iter().all(|i| ["0", "1", "2"].contains(&i.as_str())),
        "{after:?}"
    );
}
