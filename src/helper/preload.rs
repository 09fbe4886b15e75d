//! The Node preload, shipped inside the helper and written at start to the
//! app's runtime directory, where `node --require` finds it; beside it the
//! module that shares a socket's connections evenly among the workers
//! (`balance.cjs`, which needs the runtime directory the instances share).

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::durable;

const PRELOAD: &str = include_str!("preload.cjs");
const BALANCE: &str = include_str!("balance.cjs");

/// The file in the runtime directory where the workers count their connections.
pub const BALANCE_FILE: &str = "connections";

/// Writes the preload and returns its path. In the runtime directory the
/// files are replaced atomically, as the instances of the app share them;
/// the balance module first, so that a new preload finds its own.
pub fn install(runtime_dir: Option<&Path>) -> io::Result<PathBuf> {
    let pid = std::process::id();
    let Some(dir) = runtime_dir else {
        let path = std::env::temp_dir().join(format!("nodeunits-preload.{pid}.cjs"));
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)?
            .write_all(PRELOAD.as_bytes())?;
        return Ok(path);
    };
    replace(dir, "balance.cjs", BALANCE)?;
    replace(dir, "preload.cjs", PRELOAD)
}

fn replace(dir: &Path, name: &str, content: &str) -> io::Result<PathBuf> {
    let path = dir.join(name);
    if fs::read(&path).is_ok_and(|current| current == content.as_bytes()) {
        return Ok(path);
    }
    durable::write(&path, content.as_bytes())?;
    Ok(path)
}
