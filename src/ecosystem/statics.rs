//! PM2's top-level `static` (`pm2 serve` in a file): each entry is an app
//! that runs PM2's static file server, as `pm2 start` makes it
//! (lib/API.js): named `static-page-server-PORT` unless it has a `name`,
//! `script = "serve"`, and its settings as the server's `PM2_SERVE_*`
//! variables, which nodeunits' server reads as PM2's does.

use super::document::{Key, Node, Table, Value};

/// Each entry's setting and the variable it becomes.
const VARIABLES: [(&str, &str); 7] = [
    ("port", "PM2_SERVE_PORT"),
    ("host", "PM2_SERVE_HOST"),
    ("path", "PM2_SERVE_PATH"),
    ("spa", "PM2_SERVE_SPA"),
    ("ftp", "PM2_SERVE_FTP"),
    ("directory", "PM2_SERVE_DIRECTORY"),
    ("monitor", "PM2_SERVE_MONITOR"),
];

/// The apps of the `static` entries of `top`, each at its entry's place
/// in the file; an entry that is not a table is no app.
pub fn apps(top: &Table) -> Vec<Node> {
    let Some(Value::Array(entries)) = top.get("static").map(Node::get_ref) else {
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|entry| Some(app(entry, entry.get_ref().as_table()?)))
        .collect()
}

fn app(entry: &Node, settings: &Table) -> Node {
    let span = entry.span();
    let node = |value: Value| Node::new(span.clone(), value);
    let key = |name: &str| Key {
        name: name.to_owned(),
        span: span.clone(),
    };
    let mut env = Vec::new();
    for (setting, variable) in VARIABLES {
        if let Some((setting_key, value)) = settings.get_key_value(setting) {
            env.push((
                Key {
                    name: variable.to_owned(),
                    span: setting_key.span.clone(),
                },
                value.clone(),
            ));
        }
    }
    if let Some(auth) = settings.get("basic_auth") {
        env.push((key("PM2_SERVE_BASIC_AUTH"), node(Value::Boolean(true))));
        let auth = auth.get_ref().as_table();
        for (field, variable) in [
            ("username", "PM2_SERVE_BASIC_AUTH_USERNAME"),
            ("password", "PM2_SERVE_BASIC_AUTH_PASSWORD"),
        ] {
            if let Some(value) = auth.and_then(|auth| auth.get(field)) {
                env.push((key(variable), value.clone()));
            }
        }
    }
    let name = match settings.get("name") {
        Some(name) => name.clone(),
        None => {
            let port = match settings.get("port").map(Node::get_ref) {
                Some(Value::Integer(port)) => port.to_string(),
                Some(Value::String(port)) => port.clone(),
                _ => "8080".to_owned(),
            };
            node(Value::String(format!("static-page-server-{port}")))
        }
    };
    node(Value::Table(Table {
        entries: vec![
            (key("name"), name),
            (key("script"), node(Value::String("serve".to_owned()))),
            (key("env"), node(Value::Table(Table { entries: env }))),
        ],
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(node: &Node) -> String {
        match node.get_ref() {
            Value::String(s) => s.clone(),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn an_entry_is_an_app_of_pm2_s_server_with_its_variables() {
        let top = crate::ecosystem::formats::read(
            crate::ecosystem::Format::Json,
            r#"{"static": [{"path": ".", "spa": true, "basic_auth": {"username": "user", "password": "pass"}, "port": 8081}, 3]}"#,
            &mut crate::ecosystem::Diagnostics::default(),
        )
        .unwrap();
        let apps = apps(top.get_ref().as_table().unwrap());
        assert_eq!(apps.len(), 1);
        let app = apps[0].get_ref().as_table().unwrap();
        assert_eq!(text(app.get("name").unwrap()), "static-page-server-8081");
        assert_eq!(text(app.get("script").unwrap()), "serve");
        let env = app.get("env").unwrap().get_ref().as_table().unwrap();
        let names: Vec<&str> = env.entries.iter().map(|(k, _)| k.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "PM2_SERVE_PORT",
                "PM2_SERVE_PATH",
                "PM2_SERVE_SPA",
                "PM2_SERVE_BASIC_AUTH",
                "PM2_SERVE_BASIC_AUTH_USERNAME",
                "PM2_SERVE_BASIC_AUTH_PASSWORD"
            ]
        );
    }
}
