//! `nodeunits deploy` to two hosts, as `pm2 deploy` does, on real systemd:
//! two boxes, each with sshd and nodeunits, joined by a veth pair of their
//! own with IPv6 link-local addresses, and a git repository with the app
//! and its unchanged PM2 ecosystem file. The deploying user is root in box
//! a; each host deploys as the account `deploy`, whose apps run in its own
//! service manager.

mod apply_support;
mod helper_support;

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use apply_support::{add_deploy, linger_deploy, NODEUNITS};
use helper_support::{assert_no_failures, one_load_at_a_time, stop_wrk};
use testhost::TestHost;

/// The app: its version from a file of the repository.
const APP_JS: &str = r#"const fs = require('fs');
const version = fs.readFileSync(__dirname + '/VERSION', 'utf8').trim();
require('http').createServer((req, res) => res.end(`${version} ${process.env.NODE_ENV}\n`)).listen(process.env.PORT);
"#;

/// The PM2 file, unchanged for nodeunits: `pm2 reload` in post-deploy,
/// which fails where `/home/deploy/fail` exists.
const ECOSYSTEM: &str = r#"module.exports = {
  apps: [{
    name: 'api',
    script: 'app.js',
    instances: 2,
    exec_mode: 'cluster',
    port: 3000,
    env_production: { NODE_ENV: 'production' },
  }],
  deploy: {
    production: {
      user: 'deploy',
      host: ['a', 'b'],
      ref: 'origin/main',
      repo: 'deploy@gitserver:/srv/repo.git',
      path: '/home/deploy/api',
      'post-deploy': 'test ! -e /home/deploy/fail && pm2 reload ecosystem.config.js --env production',
    },
  },
};
"#;

/// ssh as the deploying user and as `deploy`: keys of their own, host keys
/// accepted on first use into a file of their own, whatever the machine's
/// ssh config says.
fn ssh_config(hosts: &[(&str, &str)]) -> String {
    hosts
        .iter()
        .map(|(name, address)| {
            // `%` starts a token in ssh_config: a scope's `%` is written `%%`.
            let address = address.replace('%', "%%");
            format!(
                "Host {name}\n  HostName {address}\n  IdentityFile ~/.ssh/id_ed25519\n  \
                 StrictHostKeyChecking accept-new\n  UserKnownHostsFile ~/.ssh/known_hosts\n"
            )
        })
        .collect()
}

struct Fleet {
    a: TestHost,
    b: TestHost,
}

/// Two boxes joined by a veth pair: a is `fe80::a` on `link`, b `fe80::b`
/// on its end of it; sshd runs in both, `deploy` lingers in both.
fn fleet(name: &str) -> Fleet {
    let a = TestHost::boot(&format!("{name}-a"));
    let b = TestHost::boot(&format!("{name}-b"));
    // A pair of this test's own: tests run side by side in one process.
    static PAIRS: AtomicU32 = AtomicU32::new(0);
    let pair = format!(
        "nu{}x{}",
        std::process::id(),
        PAIRS.fetch_add(1, Ordering::Relaxed)
    );
    let (link_a, link_b) = (format!("{pair}a"), format!("{pair}b"));
    let machine = |script: &str| {
        let out = std::process::Command::new("sh")
            .args(["-c", script])
            .output()
            .expect("running ip");
        assert!(
            out.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    machine(&format!(
        "ip link add {link_a} type veth peer name {link_b} && ip link set {link_a} netns {} && ip link set {link_b} netns {}",
        a.pid1().expect("a box"),
        b.pid1().expect("a box")
    ));
    for (host, link, address) in [(&a, &link_a, "fe80::a"), (&b, &link_b, "fe80::b")] {
        host.ok(&format!(
            "ip link set lo up && ip link set {link} up && ip -6 addr add {address}/64 dev {link} nodad"
        ));
        add_deploy(host);
        linger_deploy(host);
        host.ok(&format!(
            "ln -sf {NODEUNITS} /usr/local/bin/nodeunits && systemctl start ssh && \
             runuser -u deploy -- sh -c 'mkdir -p -m 700 ~/.ssh && ssh-keygen -q -t ed25519 -N \"\" -f ~/.ssh/id_ed25519'"
        ));
    }
    // The git server is a's `deploy`: `gitserver` on both hosts.
    a.write(
        "/home/deploy/.ssh/config",
        ssh_config(&[("gitserver", "::1")]),
    );
    b.write(
        "/home/deploy/.ssh/config",
        ssh_config(&[("gitserver", &format!("fe80::a%{link_b}"))]),
    );
    // The deploying user, root on a, reaches both hosts as `a` and `b`.
    a.ok("mkdir -p -m 700 /root/.ssh && ssh-keygen -q -t ed25519 -N '' -f /root/.ssh/id_ed25519");
    a.write(
        "/root/.ssh/config",
        ssh_config(&[
            ("a", "::1"),
            ("b", &format!("fe80::b%{link_a}")),
            ("gitserver", "::1"),
        ]),
    );
    let root_key = a.read("/root/.ssh/id_ed25519.pub");
    let deploy_a = a.read("/home/deploy/.ssh/id_ed25519.pub");
    let deploy_b = b.read("/home/deploy/.ssh/id_ed25519.pub");
    a.write(
        "/home/deploy/.ssh/authorized_keys",
        format!("{root_key}{deploy_a}{deploy_b}"),
    );
    b.write("/home/deploy/.ssh/authorized_keys", root_key);
    for host in [&a, &b] {
        host.ok("chown -R deploy: /home/deploy/.ssh && chmod 600 /home/deploy/.ssh/*");
    }
    Fleet { a, b }
}

/// Commits the app at `version` into the repository (on a) and pushes it.
fn commit(fleet: &Fleet, version: &str) {
    fleet.a.write("/root/work/VERSION", format!("{version}\n"));
    fleet.a.ok(&format!(
        "cd /root/work && git add -A && git -c user.name=dev -c user.email=dev@example.com commit -q -m {version} && git push -q origin main"
    ));
}

/// `nodeunits deploy ARGS` by root on a, in the checkout.
fn deploy(fleet: &Fleet, args: &str) -> std::process::Output {
    fleet
        .a
        .sh(&format!("cd /root/work && nodeunits deploy {args}"))
}

fn deploy_ok(fleet: &Fleet, args: &str) -> String {
    let out = deploy(fleet, args);
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "deploy {args} failed:\n{said}");
    said
}

/// What `nodeunits deploy ARGS` said on stderr, which it must fail with.
fn deploy_failing(fleet: &Fleet, args: &str) -> String {
    let out = deploy(fleet, args);
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "deploy {args}: {said}");
    said
}

/// wrk on a host against its app, held to a third of a core (its scope's
/// `CPUQuota=`): two hosts' loads on one 2-core machine would otherwise
/// take all of it from the apps and the deploys. Stopped by `stop_wrk`.
fn light_load(host: &TestHost) -> std::process::Child {
    let child = host.spawn(
        "systemd-run --scope --quiet -p CPUQuota=33% \
         wrk -t1 -c4 -d600s --timeout 5s http://127.0.0.1:3000/ & echo $! >/run/wrk.pid; wait",
    );
    host.wait_until("test -s /run/wrk.pid", Duration::from_secs(10));
    std::thread::sleep(Duration::from_secs(1));
    child
}

/// What each host's app answers.
fn serving(fleet: &Fleet) -> [String; 2] {
    [&fleet.a, &fleet.b].map(|host| {
        host.wait_until("curl -fsS http://127.0.0.1:3000/", Duration::from_secs(30))
            .trim()
            .to_owned()
    })
}

#[test]
fn deploy_to_two_hosts_one_after_the_other_and_revert() {
    let fleet = fleet("deploy");
    // The repository, bare, on a, served by its `deploy` over ssh; the
    // developer's checkout with the app.
    fleet.a.ok(
        "install -d -o deploy -g deploy /srv/repo.git && runuser -u deploy -- git init -q --bare -b main /srv/repo.git && \
         git init -q -b main /root/work && git -C /root/work remote add origin deploy@gitserver:/srv/repo.git",
    );
    fleet.a.write("/root/work/app.js", APP_JS);
    fleet.a.write("/root/work/ecosystem.config.js", ECOSYSTEM);
    commit(&fleet, "v1");

    let said = deploy_ok(&fleet, "production setup");
    assert!(
        said.contains("deploy@a | setup") && said.contains("deploy@b | setup"),
        "{said}"
    );
    fleet
        .b
        .ok("test -d /home/deploy/api/source && test -d /home/deploy/api/releases");
    let said = deploy_ok(&fleet, "production");
    assert!(
        said.contains("runs `nodeunits reload ecosystem.config.js --env production`"),
        "{said}"
    );
    assert_eq!(serving(&fleet), ["v1 production", "v1 production"]);
    let link = fleet.b.ok("readlink /home/deploy/api/current");
    assert_eq!(link.trim(), "releases/1");

    // A new commit under load on both hosts: no request fails.
    commit(&fleet, "v2");
    let _one = one_load_at_a_time();
    let loads = [&fleet.a, &fleet.b].map(light_load);
    deploy_ok(&fleet, "production update");
    for (host, load) in [&fleet.a, &fleet.b].into_iter().zip(loads) {
        let (report, output) = stop_wrk(host, load);
        assert_no_failures(&report, &output, "a deploy under load");
    }
    assert_eq!(serving(&fleet), ["v2 production", "v2 production"]);

    // The first host's post-deploy fails: the rollout stops there, both
    // hosts stay on v2.
    commit(&fleet, "v3");
    fleet.a.ok("runuser -u deploy -- touch /home/deploy/fail");
    let said = deploy_failing(&fleet, "production");
    assert!(
        said.contains("host deploy@a: step `post-deploy` failed (exit status 1)"),
        "{said}"
    );
    assert!(
        said.contains("command: test ! -e /home/deploy/fail && pm2 reload"),
        "{said}"
    );
    assert!(said.contains("not reached, unchanged: deploy@b"), "{said}");
    assert_eq!(serving(&fleet), ["v2 production", "v2 production"]);
    fleet.a.ok("test \"$(readlink /home/deploy/api/current)\" = releases/2 && test ! -e /home/deploy/api/releases/3");
    fleet.a.ok("rm /home/deploy/fail");

    // Back one deploy: v1 on both, without fetching or building.
    let said = deploy_ok(&fleet, "production revert 1");
    assert!(said.contains("release 1 ("), "{said}");
    assert_eq!(serving(&fleet), ["v1 production", "v1 production"]);
    let current = deploy_ok(&fleet, "production curr");
    assert!(current.contains("deploy@b |   1 "), "{current}");

    // The other commands on both hosts: each host's metrics labelled with
    // it, its lines prefixed with it, its description under it, and a
    // reload rolled one host after the other.
    let hosts = "--host deploy@a --host deploy@b";
    let metrics = fleet.a.ok(&format!("nodeunits metrics {hosts}"));
    for host in ["deploy@a", "deploy@b"] {
        for worker in ["0", "1"] {
            let up = format!(
                "nodeunits_instance_up{{host=\"{host}\",app=\"api\",worker=\"{worker}\"}} 1"
            );
            assert!(metrics.lines().any(|l| l == up), "{up} in:\n{metrics}");
        }
    }
    assert_eq!(
        metrics
            .matches("# TYPE nodeunits_instance_up gauge")
            .count(),
        1
    );
    let logs = fleet.a.ok(&format!("nodeunits logs api -n 5 {hosts}"));
    assert!(
        logs.lines().any(|l| l.starts_with("deploy@a | api@")),
        "{logs}"
    );
    assert!(
        logs.lines().any(|l| l.starts_with("deploy@b | api@")),
        "{logs}"
    );
    let described = fleet.a.ok(&format!("nodeunits describe api {hosts}"));
    assert!(described.contains("== deploy@a ==\napi"), "{described}");
    assert!(described.contains("== deploy@b ==\napi"), "{described}");
    let reloaded = fleet.a.ok(&format!("nodeunits reload api {hosts}"));
    assert!(reloaded.contains("== deploy@b =="), "{reloaded}");
    assert_eq!(
        reloaded
            .matches("api@1.service restarted and ready")
            .count(),
        2,
        "{reloaded}"
    );

    // One table of both hosts' instances.
    let status = fleet
        .a
        .ok("nodeunits status --host deploy@a --host deploy@b");
    let rows: Vec<&str> = status.lines().skip(1).collect();
    assert_eq!(rows.len(), 4, "{status}");
    for host in ["deploy@a", "deploy@b"] {
        assert_eq!(
            rows.iter()
                .filter(|row| row.starts_with(host) && row.contains("active (running)"))
                .count(),
            2,
            "{status}"
        );
    }
}

#[test]
fn a_host_without_nodeunits_is_named_at_setup() {
    let fleet = fleet("deploy-check");
    fleet.b.ok("rm /usr/local/bin/nodeunits");
    fleet.a.ok("mkdir -p /root/work");
    fleet.a.write("/root/work/ecosystem.config.js", ECOSYSTEM);
    let said = deploy_failing(&fleet, "production setup");
    assert!(
        said.contains("host deploy@b: step `check` failed"),
        "{said}"
    );
    assert!(
        said.contains("nodeunits is not installed on this host"),
        "{said}"
    );
    assert!(said.contains("no host was changed"), "{said}");
    fleet.a.ok("test ! -e /home/deploy/api/source");
    // An environment the file does not have: the ones it has.
    let said = deploy_failing(&fleet, "staging");
    assert!(
        said.contains("no environment `staging`") && said.contains("allowed: production"),
        "{said}"
    );
}
