//! PM2's own ecosystem files applied as they are, on a real systemd: a
//! `ecosystem.config.js` that computes its values, evaluated with the
//! environment `nodeunits` runs in, and a YAML file.

mod apply_support;

use apply_support::*;
use testhost::TestHost;

const DIR: &str = "/srv/pm2";

/// As `pm2 init` writes it, with values computed as PM2 users compute them.
const CONFIG_JS: &str = r#"const path = require('path');
module.exports = {
  apps: [{
    name: 'api',
    script: path.join(__dirname, 'app.js'),
    instances: process.env.WORKERS || 1,
    exec_mode: 'cluster',
    listen: ['127.0.0.1:3000'],
    env: { PORT: 3000, APP_NAME: 'api', APP_VERSION: `js-${process.env.RELEASE}` },
    watch: true,
  }],
  deploy: { production: { user: 'node', host: 'example.com' } },
};
"#;

const YAML: &str = r#"apps:
  - name: web
    script: app.js
    instances: 2
    listen: ["127.0.0.1:4000"]
    env:
      PORT: 4000
      APP_NAME: web
      APP_VERSION: yaml
"#;

#[test]
fn a_config_js_and_a_yaml_file_apply_and_serve() {
    let host = TestHost::boot("apply-formats");
    host.write(&format!("{DIR}/app.js"), APP_JS);
    host.write(&format!("{DIR}/ecosystem.config.js"), CONFIG_JS);
    host.write(&format!("{DIR}/ecosystem.yaml"), YAML);
    give_to_deploy(&host, DIR);

    let out = nodeunits_ok(
        &host,
        &format!("apply {DIR}/ecosystem.config.js 2>&1 && env WORKERS=3 RELEASE=7 {NODEUNITS} apply {DIR}/ecosystem.config.js"),
    );
    assert!(out.contains("api: created (1 instance"), "{out}");
    assert!(out.contains("api: changed"), "WORKERS=3 is read: {out}");
    let api = App::new("api", 3, 3000);
    assert!(active_states(&host, &api.units())
        .iter()
        .all(|s| s == "active"));
    wait_serving(&host, 3000, "js-7");
    let served = get(&host, 3000).expect("api serves");
    assert!(
        served.starts_with("api ") && served.contains(" js-7 "),
        "{served}"
    );

    let out = nodeunits_ok(&host, &format!("apply {DIR}/ecosystem.yaml"));
    assert!(out.contains("web: created (2 instances)"), "{out}");
    let web = App::new("web", 2, 4000);
    assert!(active_states(&host, &web.units())
        .iter()
        .all(|s| s == "active"));
    assert!(get(&host, 4000).expect("web serves").starts_with("web "));
}
