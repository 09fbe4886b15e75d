//! The Node preload, shipped inside the helper and written at start to the
//! app's runtime directory, where `node --require` finds it; beside it the
//! module that shares a socket's connections evenly among the workers
//! (`balance.cjs`, which needs the runtime directory the instances share)
//! the one that asks the helper for the sockets of ports in the app's code
//! (`shared_ports.cjs`), the one that drains HTTP servers (`drain.cjs`),
//! the one that measures the process from inside (`stats.cjs`), and
//! nodeunits' static file server of `script = "serve"` (`serve.cjs`).

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use crate::durable;

const PRELOAD: &str = include_str!("preload.cjs");
const BALANCE: &str = include_str!("balance.cjs");
const SHARED_PORTS: &str = include_str!("shared_ports.cjs");
const DRAIN: &str = include_str!("drain.cjs");
const SERVE: &str = include_str!("serve.cjs");
const STATS: &str = include_str!("stats.cjs");

/// The file in the runtime directory where the workers count their connections.
pub const BALANCE_FILE: &str = "connections";

/// Writes the preload and returns its path. In the runtime directory the
/// files are replaced atomically, as the instances of the app share them;
/// the modules first, so that a new preload finds its own. Without one (a
/// container's entrypoint), they go to a directory of this process's own
/// under the temporary directory ([`private_dir`]).
pub fn install(runtime_dir: Option<&Path>, serve: bool) -> io::Result<PathBuf> {
    // The static file server only for an app that runs it.
    let serve = serve.then_some(("serve.cjs", SERVE));
    let Some(dir) = runtime_dir else {
        let dir = private_dir();
        fs::DirBuilder::new().mode(0o700).create(&dir)?;
        let modules = [
            ("balance.cjs", BALANCE),
            ("shared_ports.cjs", SHARED_PORTS),
            ("drain.cjs", DRAIN),
            ("stats.cjs", STATS),
        ];
        for (name, content) in modules
            .into_iter()
            .chain(serve)
            .chain([("preload.cjs", PRELOAD)])
        {
            OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(dir.join(name))?
                .write_all(content.as_bytes())?;
        }
        return Ok(dir.join("preload.cjs"));
    };
    replace(dir, "balance.cjs", BALANCE)?;
    replace(dir, "shared_ports.cjs", SHARED_PORTS)?;
    replace(dir, "drain.cjs", DRAIN)?;
    replace(dir, "stats.cjs", STATS)?;
    if let Some((name, content)) = serve {
        replace(dir, name, content)?;
    }
    replace(dir, "preload.cjs", PRELOAD)
}

/// nodeunits' static file server, beside the preload [`install`] wrote.
pub fn serve_path(preload: &Path) -> PathBuf {
    preload.with_file_name("serve.cjs")
}

/// The preload's directory of a helper without a runtime directory.
pub fn private_dir() -> PathBuf {
    std::env::temp_dir().join(format!("nodeunits-preload.{}", std::process::id()))
}

fn replace(dir: &Path, name: &str, content: &str) -> io::Result<PathBuf> {
    let path = dir.join(name);
    if fs::read(&path).is_ok_and(|current| current == content.as_bytes()) {
        return Ok(path);
    }
    durable::write(&path, content.as_bytes())?;
    Ok(path)
}
