//! What the argument of `reload`, `restart`, `stop` and `delete` names:
//! `all`, an installed app (by its units' name or PM2's), or an ecosystem
//! file, as PM2's commands take them.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use super::{installed_apps, loaded, not_loaded};
use crate::cli::args::TargetArgs;
use crate::model::AppName;
use crate::systemd::bus::Systemd;
use crate::systemd::{Scope, UnitDir};

/// `--update-env` said once, and the compile flags refused unless the
/// target is a file: what `reload` and `restart` share. `acting`: what the
/// command does ("reloading").
pub(in crate::cli) fn read(
    args: &TargetArgs,
    acting: &str,
    systemd: &Systemd,
    units: &UnitDir,
) -> anyhow::Result<Target> {
    if args.update_env {
        eprintln!(
            "note: --update-env changes nothing here: nodeunits takes no variable from this shell; an app's \
             environment is its ecosystem file's (`env`, `env_<profile>`, `inherit_env`), which `reload FILE` \
             and `restart FILE` apply; `reload APP` and `restart APP` keep what was last applied"
        );
    }
    let target = resolve(&args.target, acting, systemd, units)?;
    let flags = args.compile.given();
    if matches!(target, Target::File(_)) || flags.is_empty() {
        return Ok(target);
    }
    anyhow::bail!(
        "{} only appl{} to an ecosystem file, and `{}` is {}; to deploy a file, name it",
        flags.join(", "),
        if flags.len() == 1 { "ies" } else { "y" },
        Path::new(&args.target).display(),
        if target == Target::All {
            "every installed app"
        } else {
            "an installed app"
        },
    )
}

/// Reads `arg` against the loaded apps and the files here: prints the note
/// when an app shadows a file, or fails saying what is allowed. `acting`:
/// what the command does to an app ("reloading").
pub(in crate::cli) fn resolve(
    arg: &OsStr,
    acting: &str,
    systemd: &Systemd,
    units: &UnitDir,
) -> anyhow::Result<Target> {
    let is_file = |path: &Path| std::fs::metadata(path).map(|meta| meta.is_file());
    match read_target(arg, acting, |app| loaded(systemd, app), is_file)? {
        Ok((target, note)) => {
            if let Some(note) = note {
                eprintln!("{note}");
            }
            Ok(target)
        }
        Err(neither) => {
            let installed = installed_apps(units).unwrap_or_default();
            anyhow::bail!(neither.message(arg, systemd.scope(), &installed));
        }
    }
}

/// What the argument of `reload`, `restart`, `stop` or `delete` names.
#[derive(Debug, PartialEq, Eq)]
pub(in crate::cli) enum Target {
    All,
    App(AppName),
    File(PathBuf),
}

/// Reads the argument: `all`; else an app the service manager has loaded
/// (`loaded`), so that `systemctl reload APP` works whatever its working
/// directory holds; else a file (`is_file`). Returns a note for the user
/// when an app shadows a file, or says why the argument is neither.
fn read_target(
    arg: &OsStr,
    acting: &str,
    loaded: impl FnOnce(&AppName) -> anyhow::Result<bool>,
    is_file: impl FnOnce(&Path) -> std::io::Result<bool>,
) -> anyhow::Result<Result<(Target, Option<String>), Neither>> {
    if arg == "all" {
        return Ok(Ok((Target::All, None)));
    }
    let path = Path::new(arg);
    let file = is_file(path);
    // PM2's name of an app names it too, unless it has a `/`: a path.
    let app = arg.to_str().and_then(|name| match AppName::new(name) {
        Err(_) if !name.contains('/') => AppName::from_pm2(name).ok(),
        valid => valid.ok(),
    });
    if let Some(app) = &app {
        if loaded(app)? {
            let note = matches!(file, Ok(true)).then(|| {
                format!("note: `{app}` is an installed app and also a file here: {acting} the app; write ./{app} for the file")
            });
            return Ok(Ok((Target::App(app.clone()), note)));
        }
    }
    Ok(match file {
        Ok(true) => Ok((Target::File(path.to_owned()), None)),
        _ => Err(Neither { app, file }),
    })
}

/// An argument that names no loaded app and no file.
#[derive(Debug)]
struct Neither {
    /// The app it would be, when it is a valid app name.
    app: Option<AppName>,
    /// Whether it is a file (it is not), or why it cannot be read.
    file: std::io::Result<bool>,
}

impl Neither {
    fn message(&self, arg: &OsStr, scope: Scope, installed: &[AppName]) -> String {
        let shown = Path::new(arg).display();
        let file = match &self.file {
            Ok(_) => format!("{shown} is not a regular file"),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                let cwd = std::env::current_dir().unwrap_or_default();
                format!("there is no file {shown} (in {})", cwd.display())
            }
            Err(err) => format!("{shown} cannot be read: {err}"),
        };
        let why = match &self.app {
            Some(app) => format!(
                "`{shown}` is neither an installed app nor an ecosystem file: {}, and {file}",
                not_loaded(app, scope)
            ),
            None => format!("`{shown}` is not an ecosystem file: {file}"),
        };
        let apps = if installed.is_empty() {
            "none is installed".to_owned()
        } else {
            installed
                .iter()
                .map(AppName::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!("{why}; allowed: an installed app's name ({apps}), the path of an ecosystem file, or `all`")
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Error, ErrorKind};

    use super::*;

    fn app(name: &str) -> AppName {
        AppName::new(name).unwrap()
    }

    /// The argument read with these apps loaded and `file` as what the file
    /// system says of it.
    fn read(
        arg: &str,
        apps: &[&str],
        file: std::io::Result<bool>,
    ) -> Result<(Target, Option<String>), Neither> {
        read_target(
            OsStr::new(arg),
            "reloading",
            |app| Ok(apps.contains(&app.as_str())),
            |_| file,
        )
        .unwrap()
    }

    fn missing() -> std::io::Result<bool> {
        Err(Error::from(ErrorKind::NotFound))
    }

    #[test]
    fn pm2_s_name_of_an_app_names_it_unless_it_is_a_path() {
        assert_eq!(
            read("CodeChat Api", &["CodeChat-Api"], missing())
                .unwrap()
                .0,
            Target::App(app("CodeChat-Api"))
        );
        assert_eq!(
            read("deploy/eco.json", &["deploy-eco.json"], Ok(true))
                .unwrap()
                .0,
            Target::File("deploy/eco.json".into())
        );
    }

    #[test]
    fn all_then_a_loaded_app_then_a_file() {
        assert_eq!(read("all", &["all"], Ok(true)).unwrap().0, Target::All);
        assert_eq!(
            read("api", &["api"], missing()).unwrap(),
            (Target::App(app("api")), None)
        );
        let file = Target::File("ecosystem.toml".into());
        assert_eq!(read("ecosystem.toml", &["api"], Ok(true)).unwrap().0, file);
        let path = Target::File("/srv/shop/ecosystem.toml".into());
        let read_path = read("/srv/shop/ecosystem.toml", &[], Ok(true));
        assert_eq!(read_path.unwrap().0, path);
    }

    #[test]
    fn a_loaded_app_named_like_a_file_wins_with_a_note() {
        let (target, note) = read("api", &["api"], Ok(true)).unwrap();
        assert_eq!(target, Target::App(app("api")));
        assert_eq!(
            note.unwrap(),
            "note: `api` is an installed app and also a file here: reloading the app; write ./api for the file"
        );
        assert_eq!(
            read("./api", &["api"], Ok(true)).unwrap().0,
            Target::File("./api".into())
        );
    }

    #[test]
    fn neither_says_what_was_given_and_what_is_allowed() {
        let installed = [app("api"), app("web")];
        let message = |arg: &str, file| {
            let neither = read(arg, &[], file).unwrap_err();
            neither.message(OsStr::new(arg), Scope::System, &installed)
        };
        let allowed = "; allowed: an installed app's name (api, web), the path of an ecosystem file, or `all`";
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(
            message("nosuch", missing()),
            format!(
                "`nosuch` is neither an installed app nor an ecosystem file: no app `nosuch` in the \
                 system service manager: nosuch.service is not loaded (installed with --user? see \
                 `nodeunits status --user`), and there is no file nosuch (in {}){allowed}",
                cwd.display()
            )
        );
        assert_eq!(
            message("conf/", Ok(false)),
            format!("`conf/` is not an ecosystem file: conf/ is not a regular file{allowed}")
        );
        let denied = Error::from(ErrorKind::PermissionDenied);
        let unreadable = message("/root/x.toml", Err(denied));
        assert!(
            unreadable.starts_with(
                "`/root/x.toml` is not an ecosystem file: /root/x.toml cannot be read: "
            ),
            "{unreadable}"
        );
        let none = read("x", &[], missing()).unwrap_err();
        let none = none.message(OsStr::new("x"), Scope::User, &[]);
        assert!(none.contains("in the user service manager"), "{none}");
        assert!(none.contains("see `nodeunits status --system`"), "{none}");
        assert!(none.contains("(none is installed)"), "{none}");
    }
}
