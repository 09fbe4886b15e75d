//! PM2's port rules: the addresses of the socket the workers share, and
//! the `PORT` the app sees. In order:
//!
//! - `listen`: those sockets. When its TCP entries all have one port, `PORT`
//!   is set to it unless the environment sets it, so that an app doing
//!   `listen(process.env.PORT || 3000)` binds the socket's port.
//! - `port`: a socket on that port, all addresses (`port` sets `PORT`).
//! - Neither, a Node app in cluster mode: under PM2 the cluster primary
//!   shares every port a worker listens on. The one port known before the
//!   app runs is the selected environment's `PORT` (`env` under
//!   `env_<profile>`), so it becomes the socket, whatever the instance count
//!   (`"max"` varies by machine, and `nodeunits scale` adds workers). Not
//!   with `increment_var = "PORT"`: then each worker has a port of its own.
//!
//! Any other port a Node app in cluster mode listens on (one only its code
//! knows, `listen(config.port)`, `listen(8080)`) is shared too: each
//! worker's helper binds it when the app listens and hands it the socket
//! (`--share-ports`, src/helper/shared_ports.rs). Anything else binds its
//! ports itself, as under PM2's fork mode.

use std::collections::BTreeMap;

use super::findings::Finding;
use crate::ecosystem::settings::{App, ExecMode, Listen};
use crate::ecosystem::Diagnostics;
use crate::model::helper_options::Runtime;
use crate::model::sockets::{parse_port, tcp_port};

const PORT: &str = "PORT";

/// The socket unit's addresses, and the option they come from.
pub struct Sockets {
    /// `ListenStream=` values, in order (none: no socket unit).
    pub listen: Vec<String>,
    /// In words: `listen`, `port`, `env.PORT`, `env_production.PORT`.
    pub from: Option<String>,
}

/// The socket unit's addresses and where they come from; sets `PORT` in
/// `env` when `listen` decides it.
pub fn shared_sockets(
    app: &App,
    is_node: bool,
    profile: Option<&str>,
    env: &mut BTreeMap<String, String>,
    diagnostics: &mut Diagnostics,
) -> Sockets {
    let listen = listen(app, is_node, env, diagnostics);
    let from = if listen.is_empty() {
        None
    } else if !app.listen.is_empty() {
        Some("`listen`".to_owned())
    } else if app.port.is_some() {
        Some("`port`".to_owned())
    } else {
        let in_profile =
            profile.filter(|p| app.profiles.get(*p).is_some_and(|e| e.contains_key(PORT)));
        Some(match in_profile {
            Some(profile) => format!("`env_{profile}.PORT`"),
            None if app.env.contains_key(PORT) => "`env.PORT`".to_owned(),
            None => "`PORT` of `inherit_env`".to_owned(),
        })
    };
    Sockets { listen, from }
}

/// What `check` and `apply` say of the ports `units` serve.
pub fn summary(units: &crate::model::AppUnits, from: Option<&str>) -> String {
    let workers = match units.instances {
        1 => "its worker".to_owned(),
        n => format!("its {n} workers"),
    };
    let socket = (!units.listen.is_empty()).then(|| {
        let from = from
            .map(|from| format!(", from {from}"))
            .unwrap_or_default();
        format!("{} (socket unit{from})", units.listen.join(", "))
    });
    match (socket, units.worker.options.share_ports) {
        (Some(socket), true) => format!(
            "serves {socket} and any other port its code listens on, each shared by {workers}"
        ),
        (Some(socket), false) => format!("serves {socket}, shared by {workers}"),
        (None, true) => format!(
            "serves the ports its code listens on, each shared by {workers} (cluster mode)"
        ),
        (None, false) if units.instances > 1 => format!(
            "each of {workers} binds its own ports (fork mode): a port its code listens on serves one of them; \
             declare it with `port` or `listen`, or use exec_mode = \"cluster\""
        ),
        (None, false) => "binds the ports its code listens on itself".to_owned(),
    }
}

fn listen(
    app: &App,
    is_node: bool,
    env: &mut BTreeMap<String, String>,
    diagnostics: &mut Diagnostics,
) -> Vec<String> {
    if !app.listen.is_empty() {
        let listen: Vec<String> = app
            .listen
            .iter()
            .map(|entry| match entry {
                Listen::Tcp(addr) => addr.clone(),
                Listen::Unix(path) => path.to_string_lossy().into_owned(),
            })
            .collect();
        port_from_listen(app, env, diagnostics);
        return listen;
    }
    if let Some(port) = &app.port {
        return vec![port.get_ref().to_string()];
    }
    if !(is_node && cluster(app)) || app.increment_var.as_deref() == Some(PORT) {
        return Vec::new();
    }
    let Some(value) = env.get(PORT) else {
        return Vec::new();
    };
    match parse_port(value) {
        Some(port) => vec![port.to_string()],
        None => {
            let value = value.clone();
            Finding::ClusterPortNotANumber { value }.report(diagnostics, Some(app.name.span()));
            Vec::new()
        }
    }
}

/// Whether the workers share the ports only the app's code knows: a Node
/// app run by node itself in cluster mode, as PM2's cluster mode runs only
/// Node scripts.
pub fn shares_code_ports(app: &App, runtime: Runtime) -> bool {
    runtime == Runtime::Node && cluster(app)
}

fn cluster(app: &App) -> bool {
    matches!(app.exec_mode, ExecMode::Cluster | ExecMode::ClusterIfNode)
}

/// `PORT` = the one TCP port of `listen`, unless the environment sets it.
fn port_from_listen(app: &App, env: &mut BTreeMap<String, String>, diagnostics: &mut Diagnostics) {
    let mut ports = app.listen.iter().filter_map(|entry| match entry {
        Listen::Tcp(addr) => tcp_port(addr),
        Listen::Unix(_) => None,
    });
    let Some(port) = ports.next() else {
        return;
    };
    if ports.any(|other| other != port) || app.instance_var == PORT {
        return;
    }
    match env.get(PORT) {
        None => {
            env.insert(PORT.to_owned(), port.to_string());
        }
        Some(declared) if parse_port(declared) != Some(port) => Finding::ListenPortDisagrees {
            port: port.to_string(),
            declared: declared.clone(),
        }
        .report(diagnostics, Some(app.name.span())),
        Some(_) => {}
    }
}
