//! The groups of flags several commands share: which service manager
//! (`--user`, `--system`) and how a file is compiled (`--env`, `--bin-dir`,
//! `--target-systemd`).

use std::ffi::OsString;
use std::path::PathBuf;

use clap::Args;

use crate::model::Scope;

/// Which systemd manager to talk to.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct ManagerArgs {
    /// Talk to the user's service manager (the default when not root).
    #[arg(long, conflicts_with = "system")]
    pub user: bool,
    /// Talk to the system service manager (the default as root).
    #[arg(long)]
    pub system: bool,
}

/// Options shared by the commands that compile an ecosystem file.
#[derive(Debug, Clone, Args)]
pub struct CompileArgs {
    /// Select `env_NAME` over `env` for every app that defines it.
    #[arg(long = "env", value_name = "NAME")]
    pub env: Option<String>,
    /// Directory holding `nodeunits` and `nodeunits-helper`, as written into
    /// the units [default: the directory of this executable].
    #[arg(long, value_name = "DIR")]
    pub bin_dir: Option<PathBuf>,
    /// The systemd version the units are for [default: the installed one].
    #[arg(long, value_name = "VERSION")]
    pub target_systemd: Option<u32>,
}

impl ManagerArgs {
    /// `--user`, `--system`, else the user manager unless running as root.
    pub fn mode(self) -> Scope {
        if self.user {
            Scope::User
        } else if self.system || nix::unistd::geteuid().is_root() {
            Scope::System
        } else {
            Scope::User
        }
    }
}

impl CompileArgs {
    /// The options given, as written on the command line.
    pub fn given(&self) -> Vec<&'static str> {
        [
            (self.env.is_some(), "--env"),
            (self.bin_dir.is_some(), "--bin-dir"),
            (self.target_systemd.is_some(), "--target-systemd"),
        ]
        .into_iter()
        .filter_map(|(given, flag)| given.then_some(flag))
        .collect()
    }

    /// The compile options these arguments ask for, the rest from this machine.
    pub fn options(&self, manager: ManagerArgs) -> crate::units::CompileOptions {
        crate::units::CompileOptions::detect(
            self.env.clone(),
            self.bin_dir.clone(),
            self.target_systemd,
            manager.mode(),
        )
    }
}

/// What `reload` and `restart` act on: an installed app, `all`, or an
/// ecosystem file, which the compile flags apply to.
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// An installed app, the path of an ecosystem file, or `all`.
    #[arg(value_name = "APP|FILE|all", value_hint = clap::ValueHint::AnyPath)]
    pub target: OsString,
    #[command(flatten)]
    pub compile: CompileArgs,
    #[command(flatten)]
    pub manager: ManagerArgs,
    /// Accepted for PM2's habit (`pm2 reload FILE --update-env`): nodeunits
    /// takes no variable from the shell; the environment is the ecosystem
    /// file's, which `reload FILE` and `restart FILE` apply.
    #[arg(long)]
    pub update_env: bool,
}

/// The hosts a command shows instead of this machine.
#[derive(Debug, Clone, Default, Args)]
pub struct HostArgs {
    /// Run it on HOST over ssh (`deploy@web1`, or a name of your ssh
    /// config), where nodeunits runs it; repeatable: status makes one
    /// table, metrics one exposition with a `host` label, logs prefixes
    /// each line with its host, describe shows one host after the other,
    /// reload rolls one host after the other and stops at one that fails.
    #[arg(long = "host", value_name = "HOST")]
    pub hosts: Vec<String>,
    /// The hosts of this environment of the `deploy` section of the
    /// ecosystem file in the current directory, with its ssh settings.
    #[arg(long = "deploy", value_name = "ENV", conflicts_with = "hosts")]
    pub deploy: Option<String>,
}
