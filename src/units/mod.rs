//! From a validated ecosystem to unit files: plan, then render.
//! The files and their directives are specified in docs/contract.md.

use std::path::PathBuf;

/// One generated unit file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitFile {
    /// The unit's file name, e.g. `api@.service`.
    pub name: String,
    /// The complete file, header included.
    pub contents: String,
}

/// Everything generated for one app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppUnits {
    /// The app's name, which prefixes every unit name.
    pub app: String,
    /// How many worker instances (`app@0` … `app@N-1`).
    pub instances: u32,
    /// The `ListenStream=` values, in order; empty when the app listens on nothing.
    pub listen: Vec<String>,
    /// The files, in a stable order.
    pub files: Vec<UnitFile>,
}

/// The result of compiling one ecosystem file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The ecosystem file, absolute.
    pub source: PathBuf,
    pub apps: Vec<AppUnits>,
    /// Warnings for the user (ignored PM2 options, fragile interpreter paths).
    pub warnings: Vec<String>,
}
