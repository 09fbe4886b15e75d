//! The units of `nodeunits metrics --install`: `nodeunits-metrics.socket`
//! (`Accept=yes`) and `nodeunits-metrics@.service`, of which systemd starts
//! one short-lived instance per connection, sandboxed, running
//! `nodeunits metrics --http` on it.

use std::path::Path;

use tera::Context;

use super::escape::{self, Unrepresentable};
use super::{UnitFile, GENERATED_MARKER};
use crate::model::name::metrics_endpoint;
use crate::model::Scope;

const TEMPLATES: &[(&str, &str)] = &[
    (
        "metrics-header",
        include_str!("../../templates/metrics-header.tera"),
    ),
    (
        "metrics.socket",
        include_str!("../../templates/metrics.socket.tera"),
    ),
    (
        "metrics.service",
        include_str!("../../templates/metrics.service.tera"),
    ),
];

/// The sysusers.d(5) line declaring the endpoint's system user.
pub fn sysusers_line() -> String {
    format!(
        "u {} - \"nodeunits metrics endpoint\" / /usr/sbin/nologin\n",
        metrics_endpoint::USER
    )
}

/// The endpoint's two unit files: socket first, then the template.
pub fn render(
    address: &str,
    nodeunits: &Path,
    scope: Scope,
    pm2_names: bool,
) -> Result<Vec<UnitFile>, Unrepresentable> {
    let tera = super::render::tera(TEMPLATES);
    let mut context = Context::new();
    context.insert("marker", GENERATED_MARKER);
    context.insert("address", &escape::specifiers(address)?);
    let exec_start = format!(
        "{} metrics --http {}{}",
        escape::exec_word(&nodeunits.to_string_lossy()),
        scope.flag(),
        if pm2_names { " --pm2-names" } else { "" }
    );
    context.insert("exec_start", &exec_start);
    context.insert("system", &(scope == Scope::System));
    context.insert("user", metrics_endpoint::USER);
    let file = |template: &str, name: &str| {
        let mut contents = tera
            .render(template, &context)
            .unwrap_or_else(|err| panic!("template {template}: {err:?}"));
        contents.push('\n');
        UnitFile {
            name: name.to_owned(),
            contents,
        }
    };
    Ok(vec![
        file("metrics.socket", metrics_endpoint::SOCKET),
        file("metrics.service", metrics_endpoint::TEMPLATE),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_socket_per_scrape_and_a_sandboxed_service() {
        let files = render(
            "127.0.0.1:9209",
            Path::new("/usr/bin/nodeunits"),
            Scope::System,
            false,
        )
        .unwrap();
        let (socket, service) = (&files[0], &files[1]);
        assert_eq!(socket.name, "nodeunits-metrics.socket");
        assert!(socket.contents.starts_with(GENERATED_MARKER));
        assert!(socket
            .contents
            .contains("\nListenStream=127.0.0.1:9209\nAccept=yes\n"));
        assert_eq!(service.name, "nodeunits-metrics@.service");
        for line in [
            "ExecStart=/usr/bin/nodeunits metrics --http --system",
            "StandardInput=socket",
            "User=nodeunits-metrics",
            "SupplementaryGroups=systemd-journal",
            "NoNewPrivileges=yes",
            "ProtectSystem=strict",
        ] {
            assert!(service.contents.lines().any(|l| l == line), "{line}");
        }
        let user = render("9209", Path::new("/opt/bin/nodeunits"), Scope::User, true).unwrap();
        assert!(user[1]
            .contents
            .contains("metrics --http --user --pm2-names\n"));
        assert!(!user[1].contents.contains("User="));
        assert!(render("a\nb", Path::new("/x"), Scope::User, false).is_err());
    }
}
