//! Which apps of a file PM2 runs in cluster mode, and whether nodeunits
//! holds a socket for them: a cluster app with no socket is one whose port
//! only its code knows, whose workers PM2 lets share it.
//!
//! Cluster mode as PM2's `Common.sink.determineExecMode` picks it, from what
//! `import` prints: `exec_mode` `cluster` or `cluster_mode`; or, with no
//! `exec_mode`, `instances` set and the app run by node (an `interpreter`
//! named `node` or `bun`, or none and a script that is a `.js`, `.cjs` or
//! `.mjs` file or has no extension). An approximation: PM2 also resolves
//! commands (`npm`) to their files first.

use std::path::Path;

/// A cluster app of a file, and the addresses of its socket unit.
#[derive(Debug)]
pub struct ClusterApp {
    /// Its name as the units have it (`X-Nodeunits-App=`).
    pub name: String,
    /// Its socket unit's `ListenStream=` values; none without a socket.
    pub listens: Vec<String>,
}

/// The cluster apps of a file: `imported` is what `import` printed,
/// `rendered` what `render` printed. `None` when the apps of the two
/// cannot be matched one to one.
pub fn cluster_apps(imported: &str, rendered: &str) -> Option<Vec<ClusterApp>> {
    let table = imported.parse::<toml::Table>().ok()?;
    let apps: Vec<&toml::Table> = table
        .get("apps")?
        .as_array()?
        .iter()
        .filter_map(toml::Value::as_table)
        .collect();
    let units = rendered_apps(rendered);
    if units.len() != apps.len() {
        return None;
    }
    Some(
        apps.into_iter()
            .zip(units)
            .filter(|(app, _)| is_cluster(app))
            .map(|(_, (name, listens))| ClusterApp { name, listens })
            .collect(),
    )
}

fn text<'a>(app: &'a toml::Table, keys: &[&str]) -> Option<&'a str> {
    keys.iter().find_map(|key| app.get(*key)?.as_str())
}

fn is_cluster(app: &toml::Table) -> bool {
    if let Some(mode) = text(app, &["exec_mode", "execMode"]) {
        return mode == "cluster" || mode == "cluster_mode";
    }
    if !app.contains_key("instances") {
        return false;
    }
    match text(app, &["interpreter", "exec_interpreter", "execInterpreter"]) {
        Some(interpreter) => {
            let base = interpreter.rsplit('/').next().unwrap_or(interpreter);
            base.ends_with("node") || base.ends_with("bun")
        }
        None => text(app, &["script", "cmd", "command", "exec"]).is_some_and(|script| {
            !script.contains(char::is_whitespace)
                && match Path::new(script).extension() {
                    None => true,
                    Some(ext) => ["js", "cjs", "mjs"].iter().any(|js| ext == *js),
                }
        }),
    }
}

/// The apps `render` printed, in their order, each with the
/// `ListenStream=` values of its socket unit.
fn rendered_apps(rendered: &str) -> Vec<(String, Vec<String>)> {
    let mut apps: Vec<(String, Vec<String>)> = Vec::new();
    let mut in_socket = false;
    for line in rendered.lines() {
        if let Some(unit) = line.strip_prefix("# --- ") {
            in_socket = unit.ends_with(".socket ---");
        } else if let Some(app) = line.strip_prefix("X-Nodeunits-App=") {
            if apps.last().is_none_or(|(name, _)| name != app) {
                apps.push((app.to_owned(), Vec::new()));
            }
        } else if let Some(address) = line.strip_prefix("ListenStream=") {
            if let (true, Some((_, listens))) = (in_socket, apps.last_mut()) {
                listens.push(address.to_owned());
            }
        }
    }
    apps
}

#[test]
fn cluster_apps_are_those_pm2_clusters() {
    let imported = r#"
[[apps]]
name = "web"
script = "server.js"
instances = 2

[[apps]]
name = "worker"
script = "worker.js"

[[apps]]
name = "py"
script = "app.py"
instances = 2

[[apps]]
name = "api"
script = "npm"
exec_mode = "cluster_mode"
"#;
    let rendered = "# --- web.socket ---\nX-Nodeunits-App=web\nListenStream=3000\n\
                    # --- web@.service ---\nX-Nodeunits-App=web\n\
                    # --- worker@.service ---\nX-Nodeunits-App=worker\n\
                    # --- py@.service ---\nX-Nodeunits-App=py\n\
                    # --- api@.service ---\nX-Nodeunits-App=api\n";
    let apps = cluster_apps(imported, rendered).expect("matched");
    let described: Vec<(&str, &[String])> = apps
        .iter()
        .map(|a| (a.name.as_str(), a.listens.as_slice()))
        .collect();
    assert_eq!(
        described,
        [("web", &["3000".to_owned()][..]), ("api", &[][..])]
    );
    assert!(cluster_apps(imported, "X-Nodeunits-App=web\n").is_none());
}
