//! What a compilation depends on besides the ecosystem file. Everything read
//! from the machine is gathered here, so tests can fix it and render the
//! same units anywhere.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::model::Scope;

/// How to compile.
#[derive(Debug, Clone)]
pub struct CompileOptions {
    /// `--env NAME`: use `env_NAME` over `env`.
    pub profile: Option<String>,
    /// Where `nodeunits` and `nodeunits-helper` are, as written into the units.
    pub bin_dir: PathBuf,
    /// The systemd version the units are for: newer directives only when it has them.
    pub systemd_version: u32,
    /// Which manager the units are for.
    pub mode: Scope,
    /// For `export kubernetes`: the pods run as the image's user (or a
    /// numeric `user`), so the rule that keeps a root-owned file's apps
    /// from running as root by accident does not apply.
    pub for_pods: bool,
    pub facts: Facts,
}

/// The facts of the machine the units are rendered on.
#[derive(Debug, Clone)]
pub struct Facts {
    /// For `instances = "max"` and negative instances.
    pub cpus: NonZeroU32,
    /// The directories of `PATH`, to resolve the interpreter and commands.
    pub path: Vec<PathBuf>,
    /// The environment, for `inherit_env`.
    pub environment: BTreeMap<String, String>,
    /// The owner of the ecosystem file: in system mode, an app without
    /// `user` runs as this account. `None`: read from the file when it is
    /// compiled; one that cannot be read refuses such an app.
    pub owner: Option<Account>,
    /// The directories `ProtectHome=` hides: an app using a path in one
    /// gets them read-only instead ([`HOME_DIRECTORIES`]).
    pub homes: Vec<PathBuf>,
    /// The directories `PrivateTmp=` replaces: an app using a path in one
    /// keeps the machine's ([`TEMPORARY_DIRECTORIES`]).
    pub temporary: Vec<PathBuf>,
    /// The home directories of accounts, by name, where `~` in a log path
    /// and nvm's `~/.nvm` lead. `None`: read from the account database.
    pub user_homes: Option<BTreeMap<String, PathBuf>>,
}

/// Where systemd's `ProtectHome=` acts (systemd.exec(5)).
pub const HOME_DIRECTORIES: &[&str] = &["/home", "/root", "/run/user"];
/// Where systemd's `PrivateTmp=` acts.
pub const TEMPORARY_DIRECTORIES: &[&str] = &["/tmp", "/var/tmp"];

/// A user account, by id and, when it has one, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub uid: u32,
    pub name: Option<String>,
}

impl Account {
    /// The owner of `file`, `None` when it cannot be read.
    pub fn owner_of(file: &Path) -> Option<Account> {
        let uid = file.metadata().ok()?.uid();
        let name = nix::unistd::User::from_uid(uid.into())
            .ok()
            .flatten()
            .map(|user| user.name);
        Some(Account { uid, name })
    }

    pub fn is_root(&self) -> bool {
        self.uid == 0
    }

    /// As `User=` takes it: the name, else the number.
    pub fn user(&self) -> String {
        self.name.clone().unwrap_or_else(|| self.uid.to_string())
    }
}

/// The oldest systemd supported (Debian 12, RHEL 9 ship 252).
pub const FALLBACK_SYSTEMD_VERSION: u32 = 252;

impl CompileOptions {
    /// Options from this machine: `bin_dir` defaults to the directory of the
    /// running executable, the systemd version to the installed one.
    pub fn detect(
        profile: Option<String>,
        bin_dir: Option<PathBuf>,
        systemd_version: Option<u32>,
        mode: Scope,
    ) -> Self {
        let bin_dir = bin_dir
            .or_else(|| {
                std::env::current_exe()
                    .ok()?
                    .parent()
                    .map(Path::to_path_buf)
            })
            .unwrap_or_else(|| PathBuf::from("/usr/bin"));
        CompileOptions {
            profile,
            bin_dir: crate::ecosystem::absolute(&bin_dir),
            systemd_version: systemd_version.unwrap_or_else(installed_systemd_version),
            mode,
            for_pods: false,
            facts: Facts::of_this_process(),
        }
    }
}

/// The version `systemctl --version` reports, or the oldest supported.
pub fn installed_systemd_version() -> u32 {
    std::process::Command::new("systemctl")
        .arg("--version")
        .output()
        .ok()
        .and_then(|out| {
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            text.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(FALLBACK_SYSTEMD_VERSION)
}

impl Facts {
    pub fn of_this_process() -> Self {
        Facts {
            cpus: std::thread::available_parallelism()
                .ok()
                .and_then(|n| NonZeroU32::new(u32::try_from(n.get()).unwrap_or(u32::MAX)))
                .unwrap_or(NonZeroU32::MIN),
            path: std::env::var_os("PATH")
                .map(|p| std::env::split_paths(&p).collect())
                .unwrap_or_default(),
            // A variable that is not UTF-8 cannot be written into a unit: left out.
            environment: std::env::vars_os()
                .filter_map(|(name, value)| {
                    Some((name.into_string().ok()?, value.into_string().ok()?))
                })
                .collect(),
            owner: None,
            homes: HOME_DIRECTORIES.iter().map(PathBuf::from).collect(),
            temporary: TEMPORARY_DIRECTORIES.iter().map(PathBuf::from).collect(),
            user_homes: None,
        }
    }

    /// The home directory of the account `user` (a name or a uid), `None`
    /// when it has none here.
    pub fn home_of(&self, user: &str) -> Option<PathBuf> {
        if let Some(homes) = &self.user_homes {
            return homes.get(user).cloned();
        }
        let account = match user.parse::<u32>() {
            Ok(uid) => nix::unistd::User::from_uid(uid.into()),
            Err(_) => nix::unistd::User::from_name(user),
        };
        account.ok().flatten().map(|account| account.dir)
    }

    /// The first executable file called `command` in `PATH`.
    pub fn which(&self, command: &str) -> Option<PathBuf> {
        self.path
            .iter()
            .filter(|dir| dir.is_absolute())
            .map(|dir| dir.join(command))
            .find(|candidate| is_executable(candidate))
    }
}

pub fn is_executable(path: &Path) -> bool {
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
