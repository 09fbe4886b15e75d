//! The Node preload, shipped inside the helper and written at start to the
//! app's runtime directory, where `node --require` finds it.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

const PRELOAD: &str = include_str!("preload.cjs");

/// Writes the preload and returns its path. In the runtime directory it is
/// replaced atomically, as the instances of the app share it.
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
    let path = dir.join("preload.cjs");
    if fs::read(&path).is_ok_and(|current| current == PRELOAD.as_bytes()) {
        return Ok(path);
    }
    let partial = dir.join(format!(".preload.cjs.{pid}"));
    fs::write(&partial, PRELOAD)?;
    fs::rename(&partial, &path)?;
    Ok(path)
}
