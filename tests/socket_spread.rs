//! How the workers share the load on real systemd: every worker accepts
//! from the one socket systemd holds, left non-blocking for all of them
//! (`NonBlocking=yes`), so none sits blocked in accept() while another
//! takes its connections. Under keep-alive and connection-per-request load
//! each of 2 workers serves a fair part. The bound is generous: the tight
//! figures, against PM2, are the benchmark's (BENCHMARKS.md).

mod apply_support;
mod helper_support;

use apply_support::{give_to_deploy, nodeunits_ok};
use helper_support::{assert_fair_share, served_by_worker, WORKER_APP};
use testhost::TestHost;

#[test]
fn two_workers_each_serve_a_fair_part() {
    let host = TestHost::boot("socket-spread");
    host.write("/srv/spread/server.js", WORKER_APP);
    host.write(
        "/srv/spread/ecosystem.toml",
        "[[apps]]\nname = \"spread\"\nscript = \"server.js\"\ninstances = 2\nport = 3600\n",
    );
    give_to_deploy(&host, "/srv/spread");
    nodeunits_ok(&host, "apply /srv/spread/ecosystem.toml");
    for keep_alive in [true, false] {
        let counts = served_by_worker(&host, "http://127.0.0.1:3600/", keep_alive);
        assert_fair_share(&counts, 2, &format!("keep-alive {keep_alive}"));
    }
}
