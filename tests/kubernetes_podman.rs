//! The manifests of `nodeunits export kubernetes` on a real container
//! engine: podman's `kube play`, in a box, with an image made of the box's
//! Node, nodeunits-helper and the app, as a user's image holds them.
//!
//! podman 4.3 (Debian 12) plays Pods and Deployments. It has no
//! StatefulSet controller, no Service, no readiness or startup probe and no
//! API server, so the test plays those parts as Kubernetes does them:
//! - a Secret is stored as the API server stores it (`stringData` becomes
//!   `data`, base64) where `envFrom` finds it, a podman secret;
//! - a StatefulSet's pods are the controller's: `NAME-i`, labelled with
//!   their ordinal `apps.kubernetes.io/pod-index`, played as Pods;
//! - the probes' commands run in the containers as the kubelet runs them;
//! - the Service is the client's list of ready pods, which a pod leaves
//!   before it is stopped, as its endpoint leaves the Service;
//! - a rolling update replaces the pods from the highest ordinal down, each
//!   stopped with the manifest's grace period (its container, then its
//!   sandbox, as the kubelet stops a pod) and replaced by a pod of the new
//!   template, ready before the next one goes.

use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};
use testhost::TestHost;

/// The app: its version from a file of the image; `/slow` takes 2 s; it
/// says its instance, its user and where it can write.
const APP_JS: &str = r#"const fs = require('fs');
const http = require('http');
const version = fs.readFileSync(__dirname + '/VERSION', 'utf8').trim();
const writable = (dir) => { try { fs.writeFileSync(dir + '/probe', 'x'); return 'rw'; } catch { return 'ro'; } };
http.createServer((req, res) => {
  const body = `${version} ${process.env.GREETING} instance=${process.env.NODE_APP_INSTANCE} uid=${process.getuid()} app=${writable(__dirname)} tmp=${writable('/tmp')}\n`;
  setTimeout(() => res.end(body), req.url === '/slow' ? 2000 : 5);
}).listen(3000, () => process.send && process.send('ready'));
"#;

/// The PM2 file: a cluster app of 2 (a StatefulSet) and one of 1 (a
/// Deployment), each keeping its port in its code. The drain may take 5 s.
const ECOSYSTEM: &str = r#"module.exports = {
  apps: [
    { name: 'shop', script: 'app.js', instances: 2, exec_mode: 'cluster', wait_ready: true,
      kill_timeout: 5000, env: { GREETING: 'hello' } },
    { name: 'solo', script: 'app.js', wait_ready: true, env: { GREETING: 'alone' } },
  ],
};
"#;

/// Makes image `localhost/shop:$1` with the app at version `$1`: the box's
/// Node and nodeunits-helper with their libraries, at the paths the export
/// names, and the app at its own; user 1000.
const IMAGE_SH: &str = r#"set -eu
echo "$1" > /srv/shop/VERSION
root=/var/tmp/image-$1; rm -rf "$root"; mkdir -p "$root/tmp" "$root/etc" "$root/srv"
for bin in "$(command -v node)" "$(command -v nodeunits-helper)"; do
  # Without its debugging symbols: the box's files are in memory.
  mkdir -p "$root$(dirname "$bin")" && { strip -o "$root$bin" "$bin" 2>/dev/null || cp -L "$bin" "$root$bin"; }
  for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
    mkdir -p "$root$(dirname "$lib")" && cp -L "$lib" "$root$lib"
  done
done
cp -a /srv/shop "$root/srv/"
chmod 1777 "$root/tmp"
printf 'root:x:0:0::/:/bin/false\napp:x:1000:1000::/srv:/bin/false\n' > "$root/etc/passwd"
printf 'root:x:0:\napp:x:1000:\n' > "$root/etc/group"
path="$(dirname "$(command -v nodeunits-helper)"):$(dirname "$(command -v node)"):/usr/bin:/bin"
tar -C "$root" -c . | podman import --change "ENV PATH=$path" --change 'USER 1000' - "localhost/shop:$1" >/dev/null
rm -rf "$root"
"#;

/// podman in the box: images in its own overlay (vfs: an overlayfs cannot
/// be the upper layer of another), and the network sysctls of the box's
/// own network namespace writable for netavark.
const PODMAN_SETUP: &str = r#"set -eu
mkdir -p /etc/containers
printf '[storage]\ndriver = "vfs"\nrunroot = "/run/containers/storage"\ngraphroot = "/var/lib/containers/storage"\n' > /etc/containers/storage.conf
mount --bind /proc/sys/net /proc/sys/net
mount -o remount,bind,rw /proc/sys/net
podman info --format '{{.Host.OCIRuntime.Name}}'
"#;

/// The client: 4 requests at a time, each on a connection of its own, to
/// the ready pods listed in /run/endpoints, until /run/stop exists; prints
/// the versions served and every failure.
const CLIENT_JS: &str = r#"const fs = require('fs');
const http = require('http');
let endpoints = [];
const load = () => { try { endpoints = fs.readFileSync('/run/endpoints', 'utf8').split('\n').filter(Boolean); } catch {} };
load(); setInterval(load, 20);
const served = {}; const failures = []; let next = 0; let running = 4;
function one() {
  if (fs.existsSync('/run/stop')) {
    if (--running === 0) { console.log(JSON.stringify({ served, failures })); process.exit(0); }
    return;
  }
  if (endpoints.length === 0) return setTimeout(one, 20);
  const endpoint = endpoints[next++ % endpoints.length];
  const again = () => setTimeout(one, 2);
  const at = new Date().toISOString();
  const req = http.get(`http://${endpoint}/`, { agent: false }, (res) => {
    let body = '';
    res.on('data', (chunk) => body += chunk);
    res.on('end', () => {
      if (res.statusCode === 200) { const v = body.split(' ')[0]; served[v] = (served[v] || 0) + 1; }
      else failures.push(`${at} ${endpoint}: ${res.statusCode}`);
      again();
    });
  });
  req.setTimeout(5000, () => req.destroy(new Error('no answer in 5 s')));
  req.on('error', (e) => { failures.push(`${at} ${endpoint}: ${e.message}`); again(); });
}
for (let i = 0; i < 4; i++) one();
"#;

#[test]
fn exported_pods_start_serve_pass_their_probes_and_roll_without_a_failed_request() {
    let host = TestHost::boot("podman");
    let podman = host.sh("command -v podman");
    assert!(
        podman.status.success(),
        "podman is needed to run the exported manifests: run `tools/install-deps test` (or .ci/run), or apt-get install podman"
    );
    host.ok(PODMAN_SETUP);
    host.write("/srv/shop/app.js", APP_JS);
    host.write("/srv/shop/ecosystem.config.js", ECOSYSTEM);
    host.write("/srv/client.js", CLIENT_JS);
    host.write("/var/tmp/image.sh", IMAGE_SH);
    image(&host, 1);

    let v1 = export(&host, "localhost/shop:1");
    for secret in of_kind(&v1, "Secret") {
        create_secret(&host, secret);
    }
    // The one-instance app: its Deployment, as podman plays it.
    let [deployment] = of_kind(&v1, "Deployment")[..] else {
        panic!("one Deployment: {v1:?}")
    };
    play(&host, "solo", deployment);
    pin_bridge_address(&host);
    let solo = Pod {
        name: "solo-pod-0".into(),
        container: "solo-pod-0-solo".into(),
    };
    // The two-instance app: its StatefulSet's pods, as its controller makes them.
    let [statefulset] = of_kind(&v1, "StatefulSet")[..] else {
        panic!("one StatefulSet: {v1:?}")
    };
    assert_eq!(statefulset["spec"]["replicas"], 2);
    let shop: Vec<Pod> = (0..2)
        .map(|i| start_ordinal(&host, statefulset, i))
        .collect();

    // Started: each passes the manifest's startup probe, then serves as the
    // securityContext says: user 1000, a read-only root but /tmp.
    let mut endpoints = Vec::new();
    for (pod, workload, instance, greeting) in [
        (&solo, deployment, 0, "alone"),
        (&shop[0], statefulset, 0, "hello"),
        (&shop[1], statefulset, 1, "hello"),
    ] {
        pod.wait_ready(&host, workload);
        let address = pod.address(&host);
        let body = host.ok(&format!("curl -sS --max-time 5 http://{address}/"));
        assert_eq!(
            body,
            format!("1 {greeting} instance={instance} uid=1000 app=ro tmp=rw\n"),
            "{}",
            pod.name
        );
        if greeting == "hello" {
            endpoints.push(address);
        }
    }
    publish(&host, &endpoints);

    // A new version, rolled pod by pod under load.
    image(&host, 2);
    let v2 = export(&host, "localhost/shop:2");
    let [statefulset2] = of_kind(&v2, "StatefulSet")[..] else {
        panic!("one StatefulSet: {v2:?}")
    };
    let client = host.spawn("node /srv/client.js");
    std::thread::sleep(Duration::from_secs(1));
    for i in (0..2).rev() {
        replace(&host, &shop[i], statefulset2, i, &mut endpoints);
    }
    host.write("/run/stop", "");
    let output = client.wait_with_output().unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "the client's report ({e}): {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    println!("the client: {report}");
    assert_eq!(report["failures"], json!([]), "{report}");
    assert!(report["served"]["1"].as_u64() > Some(20), "{report}");
    assert!(report["served"]["2"].as_u64() > Some(20), "{report}");
    for (i, address) in endpoints.iter().enumerate() {
        let body = host.ok(&format!("curl -sS --max-time 5 http://{address}/"));
        assert!(body.starts_with("2 hello instance="), "pod {i}: {body}");
    }
}

/// Replaces pod `old`, ordinal `i`, by one of the StatefulSet's new
/// template, as its controller does: out of the Service first, then stopped
/// with a request in flight, which the drain must answer within the grace
/// period; the new pod joins the Service once ready.
fn replace(host: &TestHost, old: &Pod, statefulset: &Value, i: usize, endpoints: &mut Vec<String>) {
    let grace = statefulset["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        .as_u64()
        .expect("a grace period");
    let address = old.address(host);
    endpoints.retain(|endpoint| *endpoint != address);
    publish(host, endpoints);
    std::thread::sleep(Duration::from_millis(300));
    let slow = host.spawn(&format!("curl -sS --max-time 10 http://{address}/slow"));
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    // As the kubelet: the app's container, then the pod's sandbox.
    host.ok(&format!(
        "podman stop -t {grace} {} >/dev/null",
        old.container
    ));
    let stopped = started.elapsed();
    let log = host.ok(&format!("podman logs {} 2>&1", old.container));
    step(host, &format!("{} stopped", old.name));
    host.ok(&format!("podman pod rm -f {} >/dev/null", old.name));
    let slow = slow.wait_with_output().unwrap();
    let answer = String::from_utf8_lossy(&slow.stdout);
    assert!(
        answer.starts_with("1 hello instance="),
        "the request in flight when pod {} stopped: {answer}{}\nits log:\n{log}",
        old.name,
        String::from_utf8_lossy(&slow.stderr)
    );
    assert!(
        stopped < Duration::from_secs(grace),
        "pod {} took {stopped:?} to stop, its grace period being {grace} s",
        old.name
    );
    let new = start_ordinal(host, statefulset, i);
    new.wait_ready(host, statefulset);
    step(host, &format!("{} ready", new.name));
    endpoints.push(new.address(host));
    publish(host, endpoints);
    std::thread::sleep(Duration::from_secs(1));
}

/// The Service's ready pods, for the client; replaced whole.
fn publish(host: &TestHost, endpoints: &[String]) {
    host.write("/run/endpoints.new", endpoints.join("\n"));
    host.ok("mv /run/endpoints.new /run/endpoints");
    step(host, &format!("the Service: {endpoints:?}"));
}

/// Says what the test did when, for the client's failures to be placed.
fn step(host: &TestHost, what: &str) {
    println!("{} {what}", host.ok("date -u +%T.%3N").trim());
}

/// Image `localhost/shop:VERSION` (`IMAGE_SH`).
fn image(host: &TestHost, version: u32) {
    let bin = testhost::BIN_DIR;
    host.ok(&format!("PATH={bin}:$PATH sh /var/tmp/image.sh {version}"));
}

/// `nodeunits export kubernetes` of the PM2 file, with the image `image`.
fn export(host: &TestHost, image: &str) -> Vec<Value> {
    let bin = testhost::BIN_DIR;
    let yaml = host.ok(&format!(
        "cd /srv/shop && {bin}/nodeunits export kubernetes ecosystem.config.js --image {image} --show-secrets"
    ));
    use saphyr::LoadableYamlNode;
    saphyr::Yaml::load_from_str(&yaml)
        .unwrap_or_else(|e| panic!("the export is YAML ({e}):\n{yaml}"))
        .iter()
        .map(to_json)
        .collect()
}

fn to_json(yaml: &saphyr::Yaml) -> Value {
    use saphyr::{Scalar, Yaml};
    match yaml {
        Yaml::Value(Scalar::Null) => Value::Null,
        Yaml::Value(Scalar::Boolean(b)) => json!(b),
        Yaml::Value(Scalar::Integer(i)) => json!(i),
        Yaml::Value(Scalar::FloatingPoint(f)) => json!(f.into_inner()),
        Yaml::Value(Scalar::String(s)) => json!(s),
        Yaml::Sequence(items) => items.iter().map(to_json).collect(),
        Yaml::Mapping(map) => {
            let mut object = Map::new();
            for (key, value) in map {
                let key = match to_json(key) {
                    Value::String(key) => key,
                    other => other.to_string(),
                };
                object.insert(key, to_json(value));
            }
            Value::Object(object)
        }
        other => panic!("unexpected YAML in the export: {other:?}"),
    }
}

fn of_kind<'a>(documents: &'a [Value], kind: &str) -> Vec<&'a Value> {
    documents.iter().filter(|d| d["kind"] == kind).collect()
}

/// The Secret as the API server keeps it (`data`, base64), as a podman
/// secret of its name, where `envFrom` finds it.
fn create_secret(host: &TestHost, secret: &Value) {
    let name = secret["metadata"]["name"].as_str().expect("a name");
    let file = format!("/var/tmp/secret-{name}.json");
    host.write(&file, secret.to_string());
    host.ok(&format!(
        "node -e 'const s = JSON.parse(require(\"fs\").readFileSync(0)); const d = {{ ...s.data }}; \
         for (const [k, v] of Object.entries(s.stringData || {{}})) d[k] = Buffer.from(v).toString(\"base64\"); \
         process.stdout.write(JSON.stringify(d))' < {file} | podman secret create {name} - >/dev/null && rm {file}"
    ));
}

/// A Linux bridge takes the lowest address of its ports unless it was given
/// one: a pod that leaves would change it, and every other pod would send
/// to the old one until its ARP entry is renewed, seconds later. The box
/// gives podman's bridge its own address, as a host's network does.
fn pin_bridge_address(host: &TestHost) {
    host.ok(
        "bridge=$(podman network inspect podman-default-kube-network --format '{{.NetworkInterface}}') && \
         ip link set \"$bridge\" address \"$(cat /sys/class/net/\"$bridge\"/address)\"",
    );
}

/// `podman kube play` of one document.
fn play(host: &TestHost, name: &str, document: &Value) {
    let file = format!("/var/tmp/{name}.yaml");
    host.write(
        &file,
        nodeunits::kubernetes::yaml(std::slice::from_ref(document)),
    );
    host.ok(&format!("podman kube play {file} >/dev/null"));
}

/// Pod `NAME-i` of a StatefulSet, as its controller makes it: the
/// template, named and labelled with its ordinal.
fn start_ordinal(host: &TestHost, statefulset: &Value, ordinal: usize) -> Pod {
    let app = statefulset["metadata"]["name"].as_str().expect("a name");
    let template = &statefulset["spec"]["template"];
    let mut labels = template["metadata"]["labels"].clone();
    labels["apps.kubernetes.io/pod-index"] = json!(ordinal.to_string());
    let name = format!("{app}-{ordinal}");
    let pod = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": { "name": name, "labels": labels },
        "spec": template["spec"],
    });
    play(host, &name, &pod);
    let container = template["spec"]["containers"][0]["name"]
        .as_str()
        .expect("a container name");
    Pod {
        container: format!("{name}-{container}"),
        name,
    }
}

/// A pod podman runs, and its one container.
struct Pod {
    name: String,
    container: String,
}

impl Pod {
    /// Runs the workload's startup probe as the kubelet does, every period,
    /// until it passes; fails past its threshold; then the readiness probe
    /// must pass.
    fn wait_ready(&self, host: &TestHost, workload: &Value) {
        let container = &workload["spec"]["template"]["spec"]["containers"][0];
        let probe = |which: &str| -> String {
            let argv: Vec<&str> = container[which]["exec"]["command"]
                .as_array()
                .unwrap_or_else(|| panic!("{which} runs a command: {container}"))
                .iter()
                .map(|word| word.as_str().expect("a word"))
                .collect();
            format!("podman exec {} {}", self.container, argv.join(" "))
        };
        let startup = &container["startupProbe"];
        let limit = startup["periodSeconds"].as_u64().unwrap()
            * startup["failureThreshold"].as_u64().unwrap();
        host.wait_until(&probe("startupProbe"), Duration::from_secs(limit));
        host.ok(&probe("readinessProbe"));
    }

    /// The pod's address and the app's port, on podman's network.
    fn address(&self, host: &TestHost) -> String {
        let ip = host.ok(&format!(
            "podman inspect \"$(podman pod inspect {} --format '{{{{.InfraContainerID}}}}')\" \
             --format '{{{{range .NetworkSettings.Networks}}}}{{{{.IPAddress}}}}{{{{end}}}}'",
            self.name
        ));
        format!("{}:3000", ip.trim())
    }
}
