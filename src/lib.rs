//! nodeunits: PM2's features compiled into plain systemd units.
//!
//! The pipeline, one module per stage:
//! `ecosystem` (read the ecosystem file in any of PM2's formats, validate it)
//! → `units` (plan and render unit files) → `systemd` (apply them over D-Bus,
//! rolling reloads); `helper` is the runtime of one worker, run by every
//! generated worker unit. `model` is what the stages share: app and unit
//! names, the helper's options, the typed form of an app's units.

/// The command line of `nodeunits`.
pub mod cli;
/// Files replaced whole, atomically and durably.
pub mod durable;
/// The ecosystem file, in TOML, YAML, JSON or JavaScript: reading,
/// validation, errors with locations, conversion to TOML.
pub mod ecosystem;
/// The runtime of one worker: `nodeunits-helper`.
pub mod helper;
/// The compiled apps as Kubernetes manifests.
pub mod kubernetes;
/// The typed model every stage shares.
pub mod model;
/// The option table: what each option of an app means, everywhere.
pub mod options;
/// Driving systemd over D-Bus: apply, rolling reload, status.
pub mod systemd;
/// From a validated ecosystem to unit files.
pub mod units;
