//! PM2's static file server on a real systemd, from PM2's own fixtures,
//! unchanged (tests/corpus/pm2/test/fixtures/serve/): `script: "serve"`
//! with `PM2_SERVE_PORT` and `PM2_SERVE_PATH` in `env`, and the top-level
//! `static` section with `spa` and `basic_auth`. Files are served with their
//! type, a directory with its index.html, nothing outside the directory.

mod apply_support;

use std::time::Duration;

use apply_support::{give_to_deploy, nodeunits_ok};
use testhost::TestHost;

const DIR: &str = "/srv/serve";
const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/corpus/pm2/test/fixtures/serve"
);

/// `curl` of a path on 8081: the status, the content type and the body.
fn get(host: &TestHost, args: &str, path: &str) -> (String, String, String) {
    let out = host.ok(&format!(
        "curl -sS --path-as-is {args} -w '\\n%{{http_code}} %{{content_type}}' http://127.0.0.1:8081{path}"
    ));
    let (body, last) = out.rsplit_once('\n').expect("curl's last line");
    let (status, kind) = last.split_once(' ').unwrap_or((last, ""));
    (status.to_owned(), kind.to_owned(), body.to_owned())
}

fn serving(host: &TestHost, args: &str) {
    host.wait_until(
        &format!("curl -fsS {args} http://127.0.0.1:8081/ | grep -q 'the home page'"),
        Duration::from_secs(30),
    );
}

#[test]
fn pm2_s_serve_fixtures_serve_their_directory() {
    let host = TestHost::boot("serve");
    for fixture in ["ecosystem.json", "ecosystem-serve.json"] {
        let text = std::fs::read_to_string(format!("{FIXTURES}/{fixture}")).expect("the fixture");
        host.write(&format!("{DIR}/{fixture}"), text);
    }
    host.write(&format!("{DIR}/index.html"), "<p>the home page</p>\n");
    host.write(&format!("{DIR}/css/site.css"), "p { color: red }\n");
    host.write(&format!("{DIR}/docs/index.html"), "<p>the docs</p>\n");
    host.write("/srv/secret.txt", "not for the web\n");
    give_to_deploy(&host, DIR);

    // `script: "serve"`, PM2_SERVE_PORT 8081, PM2_SERVE_PATH ".".
    nodeunits_ok(&host, &format!("apply {DIR}/ecosystem.json"));
    serving(&host, "");
    assert_eq!(
        get(&host, "", "/css/site.css"),
        (
            "200".into(),
            "text/css; charset=utf-8".into(),
            "p { color: red }\n".into()
        )
    );
    assert_eq!(get(&host, "", "/docs/").2, "<p>the docs</p>\n");
    assert_eq!(get(&host, "", "/nothing.html").0, "404");
    for outside in [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/css/..%2f..%2fsecret.txt",
    ] {
        let (status, _, body) = get(&host, "", outside);
        assert!(
            !body.contains("not for the web"),
            "{outside}: {status} {body}"
        );
    }
    let head = host.ok("curl -sSI http://127.0.0.1:8081/index.html");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("Content-Length: 21"), "{head}");
    nodeunits_ok(&host, "delete frontend");

    // `static`: an app `static-page-server-8081`, a single-page app behind
    // basic auth.
    nodeunits_ok(&host, &format!("apply {DIR}/ecosystem-serve.json"));
    serving(&host, "-u user:pass");
    assert_eq!(get(&host, "", "/").0, "401");
    assert_eq!(get(&host, "-u user:wrong", "/").0, "401");
    let (status, kind, body) = get(&host, "-u user:pass", "/a/route/of/the/app");
    assert_eq!(
        (status.as_str(), kind.as_str(), body.as_str()),
        ("200", "text/html; charset=utf-8", "<p>the home page</p>\n")
    );
    let status = nodeunits_ok(&host, "status");
    assert!(status.contains("static-page-server-8081"), "{status}");
}
