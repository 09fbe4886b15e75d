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
//! Anything else binds its ports itself, as under PM2's fork mode.

use std::collections::BTreeMap;

use super::findings::Finding;
use crate::ecosystem::settings::{App, ExecMode, Listen};
use crate::ecosystem::Diagnostics;
use crate::model::sockets::{parse_port, tcp_port};

const PORT: &str = "PORT";

/// The socket unit's `ListenStream=` values, in order (none: no socket
/// unit); sets `PORT` in `env` when `listen` decides it.
pub fn shared_sockets(
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
    let cluster = matches!(app.exec_mode, ExecMode::Cluster | ExecMode::ClusterIfNode);
    if !(is_node && cluster) || app.increment_var.as_deref() == Some(PORT) {
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
