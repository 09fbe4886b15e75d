//! PM2's own ecosystem files applied as they are, on a real systemd: a
//! `ecosystem.config.js` that computes its values, evaluated with the
//! environment `nodeunits` runs in, a YAML file, and a `.json` file that
//! PM2 evaluates as JavaScript, with an app name PM2 takes and units cannot.

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

/// As real files have it: a name with a space, in a `.json` file that is a
/// JavaScript expression, with `watch: false` (PM2's default).
const NAMED_JSON: &str = r#"{
  apps: [{
    name: 'CodeChat ' + 'Api',
    script: 'app.js',
    instances: 2,
    exec_mode: 'cluster',
    port: 3100,
    watch: false,
    env: { APP_NAME: 'codechat', APP_VERSION: `named-${1 + 1}` },
  }],
}
"#;

#[test]
fn an_app_named_as_pm2_allows_applies_serves_and_answers_to_its_name() {
    let host = TestHost::boot("apply-names");
    host.write(&format!("{DIR}/app.js"), APP_JS);
    host.write(&format!("{DIR}/ecosystem.json"), NAMED_JSON);
    give_to_deploy(&host, DIR);

    let out = nodeunits_ok(&host, &format!("apply {DIR}/ecosystem.json 2>&1"));
    assert!(
        out.contains("evaluated as a JavaScript expression"),
        "{out}"
    );
    assert!(
        out.contains("the app `CodeChat Api` gets units named `CodeChat-Api`"),
        "{out}"
    );
    assert!(
        !out.contains("`watch`"),
        "watch: false is PM2's default: {out}"
    );
    assert!(out.contains("CodeChat-Api: created (2 instances"), "{out}");
    let app = App::new("CodeChat-Api", 2, 3100);
    assert!(active_states(&host, &app.units())
        .iter()
        .all(|s| s == "active"));
    wait_serving(&host, 3100, "named-2");

    let status = nodeunits_ok(&host, "status");
    assert!(
        status
            .lines()
            .nth(1)
            .is_some_and(|row| row.starts_with("CodeChat Api  0 ")),
        "{status}"
    );
    assert!(
        status.contains("note: the units of `CodeChat Api` are named `CodeChat-Api`"),
        "{status}"
    );
    let json = nodeunits_ok(&host, "status --json");
    assert!(json.contains(r#""pm2_name": "CodeChat Api""#), "{json}");
    let described = nodeunits_ok(&host, "describe 'CodeChat Api'");
    assert!(
        described.starts_with("CodeChat Api (its units: CodeChat-Api)\n"),
        "{described}"
    );
    assert!(
        described.contains(&format!("\n  {:<26} CodeChat Api\n", "name")),
        "the option as the installed units have it: {described}"
    );

    // Every command takes PM2's name as well as the units'.
    let mark = cursor(&host);
    nodeunits_ok(&host, "reload 'CodeChat Api'");
    let expected = replaced_one_at_a_time(2);
    assert_eq!(
        replacements_seen(&host, &mark, "CodeChat-Api", &expected),
        expected
    );
    wait_serving(&host, 3100, "named-2");
    nodeunits_ok(&host, "stop 'CodeChat Api'");
    assert!(get(&host, 3100).is_none(), "stopped");
    nodeunits_ok(&host, "start CodeChat-Api");
    wait_serving(&host, 3100, "named-2");
    let logs = nodeunits_ok(&host, "logs 'CodeChat Api' -n 50");
    assert!(logs.contains("serving named-2"), "{logs}");
}
