//! How the workers share the load on real systemd: every worker accepts
//! from the one socket systemd holds, left non-blocking for all of them
//! (`NonBlocking=yes`), so none sits blocked in accept() while another
//! takes its connections. Under keep-alive and connection-per-request load
//! each of 2 workers serves a fair part. With 4 workers a keep-alive pool
//! of 32 connections is held 8 or so by each (the preload's gate,
//! src/helper/balance.cjs), and a worker frozen with its share does not
//! hold up the others. The bounds are generous: the tight figures,
//! against PM2, are the benchmark's (BENCHMARKS.md). With 4 workers the
//! test counts connections, not requests: the requests each serves follow
//! the CPU time it gets, which tests running beside it on the same cores
//! skew.

mod apply_support;
mod helper_support;

use std::collections::BTreeMap;

use apply_support::{give_to_deploy, nodeunits_ok};
use helper_support::{
    assert_fair_share, one_load_at_a_time, served_by_worker, stop_wrk, wrk, WORKER_APP,
};
use testhost::TestHost;

/// Boots a host and applies the app NAME, answering with its worker, in
/// /srv/NAME.
fn boot_with(name: &str, instances: u32, port: u16) -> TestHost {
    let host = TestHost::boot(&format!("socket-{name}"));
    host.write(&format!("/srv/{name}/server.js"), WORKER_APP);
    host.write(
        &format!("/srv/{name}/ecosystem.toml"),
        format!(
            "[[apps]]\nname = \"{name}\"\nscript = \"server.js\"\ninstances = {instances}\n\
             port = {port}\n"
        ),
    );
    give_to_deploy(&host, &format!("/srv/{name}"));
    nodeunits_ok(&host, &format!("apply /srv/{name}/ecosystem.toml"));
    host
}

#[test]
fn two_workers_each_serve_a_fair_part() {
    let _alone = one_load_at_a_time();
    let host = boot_with("spread", 2, 3600);
    for keep_alive in [true, false] {
        let counts = served_by_worker(&host, "http://127.0.0.1:3600/", keep_alive);
        assert_fair_share(&counts, 2, &format!("keep-alive {keep_alive}"));
    }
}

/// Established connections to PORT per process holding them, by `ss`.
fn connections_by_pid(host: &TestHost, port: u16) -> BTreeMap<u32, u32> {
    let output = host.ok(&format!("ss -Htnp state established '( sport = :{port} )'"));
    let mut counts = BTreeMap::new();
    for line in output.lines() {
        let pid = line
            .split("pid=")
            .nth(1)
            .and_then(|rest| rest.split(',').next())
            .and_then(|pid| pid.parse().ok());
        if let Some(pid) = pid {
            *counts.entry(pid).or_insert(0) += 1;
        }
    }
    counts
}

#[test]
fn four_workers_hold_even_shares_of_a_keep_alive_pool() {
    let _alone = one_load_at_a_time();
    let host = boot_with("pool", 4, 3610);

    // A pool of 32 keep-alive connections, opened at once as wrk does.
    let load = wrk(&host, "http://127.0.0.1:3610/", 32);
    let held = connections_by_pid(&host, 3610);
    let (report, output) = stop_wrk(&host, load);
    helper_support::assert_no_failures(&report, &output, "a keep-alive pool over 4 workers");
    assert_eq!(held.len(), 4, "every worker holds connections: {held:?}");
    assert_eq!(held.values().sum::<u32>(), 32, "{held:?}");
    let (least, most) = (held.values().min(), held.values().max());
    assert!(
        most.zip(least)
            .is_some_and(|(most, least)| most - least <= 3),
        "32 connections over 4 workers, 8 each is even: {held:?}"
    );
    // A worker whose event loop stops (here: the process is frozen) keeps
    // its share, and the others take every new connection regardless.
    let frozen = host.ok("ps -o pid= --ppid $(systemctl show -p MainPID --value pool@3)");
    let frozen = frozen.trim();
    let pool = wrk(&host, "http://127.0.0.1:3610/", 24);
    host.ok(&format!("kill -STOP {frozen}"));
    let output = host.ok("wrk -t2 -c16 -d3s --timeout 2s http://127.0.0.1:3610/");
    host.ok(&format!("kill -CONT {frozen}"));
    let report = testhost::wrk::parse(&output).unwrap_or_else(|error| panic!("{error:#}"));
    helper_support::assert_no_failures(
        &report,
        &output,
        "new connections while a worker is frozen",
    );
    let (report, output) = stop_wrk(&host, pool);
    assert!(report.requests > 1000, "{output}");
}
