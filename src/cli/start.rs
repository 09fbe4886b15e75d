//! `nodeunits start` as `pm2 start` takes it: an installed app, `all`, the
//! apps of an ecosystem file, or a script with PM2's options, written into
//! an ecosystem file of the app's own and applied, so that an app started
//! from the command line is defined in a file like any other. `nodeunits
//! dump` prints those files' apps as one, as `pm2 save` keeps them.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};

use super::args::{CompileArgs, ManagerArgs, ScriptArgs};
use super::control;
use super::shared::target::{resolve, Target};
use super::shared::{connect, installed_apps, target};
use crate::ecosystem::fields::is_variable_name;
use crate::ecosystem::Format;
use crate::model::AppName;
use crate::systemd::{started_apps_dir, Scope, UnitDir};
use crate::units::env_file::MASK;

/// `nodeunits start TARGET`, with the compile flags of a file
/// (`--bin-dir`, `--target-systemd`).
pub fn run(
    arg: &OsStr,
    script: &ScriptArgs,
    manager: ManagerArgs,
    compile: (Option<PathBuf>, Option<u32>),
) -> anyhow::Result<ExitCode> {
    let (scope, units) = target(manager)?;
    let systemd = connect(scope)?;
    let (bin_dir, target_systemd) = compile;
    let compile = |env: Option<String>| CompileArgs {
        env,
        bin_dir: bin_dir.clone(),
        target_systemd,
    };
    match resolve(arg, "starting", &systemd, &units)? {
        Target::All => {
            only_for_a_script(script, "`all`", true)?;
            for app in installed_apps(&units)? {
                control::start(&app, manager)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Target::App(app) => {
            only_for_a_script(script, &format!("the installed app `{app}`"), true)?;
            control::start(&app, manager)
        }
        Target::File(file) if is_ecosystem_file(&file) => {
            only_for_a_script(
                script,
                &format!("the ecosystem file {}", file.display()),
                false,
            )?;
            let profile = profile(&script.env)?;
            start_file(&file, &compile(profile), manager, &units)
        }
        Target::File(file) => {
            let written = Written::for_script(&file, script, scope, &units)?;
            written.start(&compile(None), manager, &units)
        }
    }
}

/// PM2's test for an ecosystem file (`Common.isConfigFile`), with the
/// formats nodeunits reads besides: any other file is a script.
fn is_ecosystem_file(path: &Path) -> bool {
    let name = path.to_string_lossy().to_lowercase();
    match Format::of(path) {
        Some(Format::JavaScript) => [".config.js", ".config.cjs", ".config.mjs"]
            .iter()
            .any(|end| name.ends_with(end)),
        Some(_) => true,
        None => false,
    }
}

/// Refuses a script's options for another target; `--env` too unless a
/// file, for which it names a profile.
fn only_for_a_script(script: &ScriptArgs, what: &str, env_too: bool) -> anyhow::Result<()> {
    let mut given = script.given();
    if env_too && !script.env.is_empty() {
        given.insert(0, "--env");
    }
    if given.is_empty() {
        return Ok(());
    }
    bail!(
        "{} only appl{} to a script, and this is {what}: to change an app, edit its ecosystem file (`nodeunits describe APP` names it) and `nodeunits apply` it",
        given.join(", "),
        if given.len() == 1 { "ies" } else { "y" },
    )
}

/// `--env NAME` for a file: one profile, not a variable.
fn profile(env: &[String]) -> anyhow::Result<Option<String>> {
    match env {
        [] => Ok(None),
        [name] if !name.contains('=') => Ok(Some(name.clone())),
        _ => bail!(
            "--env {}: for an ecosystem file, --env NAME selects its `env_NAME` (once); KEY=VALUE variables are for a script",
            env.join(" --env ")
        ),
    }
}

/// Applies the file as `apply` does, then starts each of its apps.
fn start_file(
    file: &Path,
    compile: &CompileArgs,
    manager: ManagerArgs,
    units: &UnitDir,
) -> anyhow::Result<ExitCode> {
    let code = super::apply::run(file, compile, manager, (false, false), &[])?;
    if code != ExitCode::SUCCESS {
        return Ok(code);
    }
    start_apps_of(file, manager, units)
}

/// Starts every app installed from `file`, once it is applied.
fn start_apps_of(file: &Path, manager: ManagerArgs, units: &UnitDir) -> anyhow::Result<ExitCode> {
    for app in control::installed_from(file, units)? {
        control::start(&app, manager)?;
        println!("{app}: started");
    }
    Ok(ExitCode::SUCCESS)
}

/// The ecosystem file of an app started from a script, written (mode
/// 0600: it may hold the environment's values) and not yet applied.
struct Written {
    file: PathBuf,
    /// What the file held before, to put back if the apply fails.
    before: Option<Vec<u8>>,
}

impl Written {
    fn for_script(
        script: &Path,
        args: &ScriptArgs,
        scope: Scope,
        units: &UnitDir,
    ) -> anyhow::Result<Written> {
        let here = std::env::current_dir().context("reading the current directory")?;
        let cwd = args.cwd.as_ref().map_or(here.clone(), |dir| here.join(dir));
        // The script was found from here, as its argument names it.
        let script = crate::ecosystem::absolute(script);
        let name = args
            .name
            .clone()
            .unwrap_or_else(|| crate::ecosystem::name_from(&script.to_string_lossy()));
        let app = AppName::from_pm2(&name)
            .map_err(|why| anyhow::anyhow!("--name {name:?} names no app: allowed: {why}"))?;
        let dir = started_apps_dir(scope).context(
            "neither $XDG_CONFIG_HOME nor $HOME is set, so there is no place for the app's file; set HOME, or use --system",
        )?;
        let file = dir.join(format!("{app}.toml"));
        installed_elsewhere(&app, &file, units)?;
        let user = match (&args.uid, scope) {
            (Some(user), _) => Some(user.clone()),
            (None, Scope::System) => Some(owner_of(&script)?),
            (None, Scope::User) => None,
        };
        let text = ecosystem(&Options {
            name: &name,
            script: &script,
            cwd: &crate::ecosystem::absolute(&cwd),
            here: &here,
            user: user.as_deref(),
            args,
        })?;
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let before = std::fs::read(&file).ok();
        crate::durable::write_private(&file, text.as_bytes())
            .with_context(|| format!("writing {}", file.display()))?;
        println!(
            "{app}: {} {}",
            if before.is_some() { "rewrote" } else { "wrote" },
            file.display()
        );
        Ok(Written { file, before })
    }

    /// Applies and starts the app; puts the file back as it was when the
    /// apply fails, so that it keeps describing the installed units.
    fn start(
        self,
        compile: &CompileArgs,
        manager: ManagerArgs,
        units: &UnitDir,
    ) -> anyhow::Result<ExitCode> {
        let applied = super::apply::run(&self.file, compile, manager, (false, false), &[]);
        if !matches!(applied, Ok(ref code) if *code == ExitCode::SUCCESS) {
            let restored = match &self.before {
                Some(before) => crate::durable::write_private(&self.file, before),
                None => std::fs::remove_file(&self.file),
            };
            match restored {
                Ok(()) => eprintln!(
                    "{}: {}: the options given were not kept",
                    self.file.display(),
                    if self.before.is_some() {
                        "put back as it was"
                    } else {
                        "removed"
                    }
                ),
                Err(err) => eprintln!("{}: could not be put back: {err}", self.file.display()),
            }
            return applied;
        }
        start_apps_of(&self.file, manager, units)
    }
}

/// Whom an app of the system's manager runs as without `--uid`: the
/// script's owner, as an ecosystem file's app runs as the file's owner; a
/// script of root's runs as root only when `--uid root` says so.
fn owner_of(script: &Path) -> anyhow::Result<String> {
    use std::os::unix::fs::MetadataExt;
    let meta =
        std::fs::metadata(script).with_context(|| format!("reading {}", script.display()))?;
    let uid = nix::unistd::Uid::from_raw(meta.uid());
    if uid.is_root() {
        bail!(
            "{} belongs to root, so its app would run as root: give --uid USER (the account to run it as; PM2's --user), or --uid root to run it as root on purpose",
            script.display()
        );
    }
    let user = nix::unistd::User::from_uid(uid)
        .ok()
        .flatten()
        .with_context(|| {
            format!(
                "{} belongs to uid {uid}, which has no account: give --uid USER",
                script.display()
            )
        })?;
    eprintln!(
        "note: the app runs as {}, the owner of {} (--uid USER says otherwise)",
        user.name,
        script.display()
    );
    Ok(user.name)
}

/// Refuses to write over an app of the same name installed from another
/// file: `start` only rewrites the files it wrote.
fn installed_elsewhere(app: &AppName, file: &Path, units: &UnitDir) -> anyhow::Result<()> {
    let installed = units
        .read()
        .with_context(|| format!("reading the unit directory {}", units.path().display()))?;
    for (name, from) in installed.apps() {
        if name == app && from != Some(file) {
            let from = from.map_or("no ecosystem file".to_owned(), |f| f.display().to_string());
            bail!(
                "an app `{app}` is installed already, from {from}: give this one another --name, or add the script to that file and apply it"
            );
        }
    }
    Ok(())
}

/// What the file of a started script is made from.
struct Options<'a> {
    name: &'a str,
    script: &'a Path,
    cwd: &'a Path,
    /// The current directory, which relative log paths are found from.
    here: &'a Path,
    /// Whom it runs as (`--uid`, or the script's owner).
    user: Option<&'a str>,
    args: &'a ScriptArgs,
}

/// The ecosystem file of one app, in TOML: each option given is the key of
/// the same name; `-i` without `-x` is PM2's cluster mode.
fn ecosystem(options: &Options) -> anyhow::Result<String> {
    use toml::Value;
    let Options { args, here, .. } = options;
    let mut app = toml::Table::new();
    let text = |value: &str| Value::String(value.to_owned());
    let path = |value: &Path| Value::String(here.join(value).to_string_lossy().into_owned());
    app.insert("name".into(), text(options.name));
    app.insert("script".into(), path(options.script));
    app.insert("cwd".into(), path(options.cwd));
    if let Some(instances) = &args.instances {
        app.insert("instances".into(), instances_value(instances)?);
    }
    if args.fork {
        app.insert("exec_mode".into(), text("fork"));
    } else if args.instances.is_some() {
        app.insert("exec_mode".into(), text("cluster"));
    }
    let texts = [
        ("interpreter", &args.interpreter),
        ("node_args", &args.node_args),
        ("max_memory_restart", &args.max_memory_restart),
        ("cron_restart", &args.cron_restart),
    ];
    for (key, value) in texts {
        if let Some(value) = value {
            app.insert(key.into(), text(value));
        }
    }
    if let Some(user) = options.user {
        app.insert("user".into(), text(user));
    }
    for (key, value) in [
        ("listen_timeout", args.listen_timeout),
        ("kill_timeout", args.kill_timeout),
    ] {
        if let Some(ms) = value {
            let ms = i64::try_from(ms).with_context(|| format!("--{key} {ms}: too large"))?;
            app.insert(key.into(), Value::Integer(ms));
        }
    }
    for (key, value) in [
        ("log_file", &args.log_file),
        ("out_file", &args.out_file),
        ("error_file", &args.error_file),
    ] {
        if let Some(value) = value {
            app.insert(key.into(), path(value));
        }
    }
    for (key, on) in [("wait_ready", args.wait_ready), ("time", args.time)] {
        if on {
            app.insert(key.into(), Value::Boolean(true));
        }
    }
    if args.no_autorestart {
        app.insert("autorestart".into(), Value::Boolean(false));
    }
    if !args.port.is_empty() {
        let listen = args.port.iter().map(|port| match port.parse::<u16>() {
            Ok(number) => Value::Integer(number.into()),
            Err(_) => text(port),
        });
        app.insert("listen".into(), Value::Array(listen.collect()));
    }
    if !args.args.is_empty() {
        let list = args.args.iter().map(|arg| text(arg)).collect();
        app.insert("args".into(), Value::Array(list));
    }
    let env = variables(&args.env)?;
    if !env.is_empty() {
        app.insert("env".into(), Value::Table(env));
    }
    let mut document = toml::Table::new();
    document.insert("apps".into(), Value::Array(vec![Value::Table(app)]));
    let body = toml::to_string(&document).context("writing the app's file")?;
    Ok(format!(
        "# The app `{}`, started with `nodeunits start {}`.\n\
         # `nodeunits start` rewrites this file when the script is started again\n\
         # with other options. Edit it and `nodeunits apply` it to change the app;\n\
         # `nodeunits dump` prints every app started from a script.\n\n{body}",
        options.name,
        options.script.display()
    ))
}

/// `-i`: a number, `max`, or `-1`, as PM2 takes them.
fn instances_value(given: &str) -> anyhow::Result<toml::Value> {
    match given.parse::<i64>() {
        Ok(number) => Ok(toml::Value::Integer(number)),
        Err(_) if given == "max" => Ok(toml::Value::String(given.to_owned())),
        Err(_) => bail!(
            "--instances {given:?}: allowed: a number of workers, `max` (one per CPU), or -1 (one fewer than the CPUs)"
        ),
    }
}

/// `--env KEY=VALUE`, each a variable of the app.
fn variables(env: &[String]) -> anyhow::Result<toml::Table> {
    let mut table = toml::Table::new();
    for given in env {
        match given.split_once('=') {
            Some((key, value)) if is_variable_name(key) => {
                table.insert(key.to_owned(), toml::Value::String(value.to_owned()));
            }
            _ => bail!(
                "--env {:?}: for a script, give a variable as KEY=VALUE (KEY: letters, digits and `_`, not starting with a digit); `--env NAME` selects a profile of an ecosystem file",
                given.split_once('=').map_or(given.as_str(), |(key, _)| key)
            ),
        }
    }
    Ok(table)
}

/// `nodeunits dump`: every app of the files `start SCRIPT` wrote, as one
/// ecosystem file on stdout; the environment's values masked unless
/// `show_env`.
pub fn dump(manager: ManagerArgs, show_env: bool) -> anyhow::Result<ExitCode> {
    let scope = manager.mode();
    let dir = started_apps_dir(scope).context(
        "neither $XDG_CONFIG_HOME nor $HOME is set, so the apps' files are unknown; set HOME, or use --system",
    )?;
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
            .collect(),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(err) => return Err(err).with_context(|| format!("reading {}", dir.display())),
    };
    files.sort();
    let mut apps = Vec::new();
    for file in &files {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        let document: toml::Table =
            toml::from_str(&text).with_context(|| format!("{} is not TOML", file.display()))?;
        for mut app in document
            .get("apps")
            .and_then(toml::Value::as_array)
            .cloned()
            .unwrap_or_default()
        {
            if !show_env {
                mask_env(&mut app);
            }
            apps.push(app);
        }
    }
    let mut document = toml::Table::new();
    document.insert("apps".into(), toml::Value::Array(apps.clone()));
    println!(
        "# Every app started with `nodeunits start SCRIPT` in the {} service manager ({}),\n\
         # {} app{}.{}\n",
        match scope {
            Scope::System => "system",
            Scope::User => "user's",
        },
        dir.display(),
        apps.len(),
        if apps.len() == 1 { "" } else { "s" },
        if show_env {
            ""
        } else {
            " The environment's values are masked: --show-env prints them."
        }
    );
    print!(
        "{}",
        toml::to_string(&document).context("writing the apps")?
    );
    Ok(ExitCode::SUCCESS)
}

/// Every value of the app's `env` and `env_*` tables, masked.
fn mask_env(app: &mut toml::Value) {
    let Some(app) = app.as_table_mut() else {
        return;
    };
    for (key, value) in app.iter_mut() {
        if key == "env" || key.starts_with("env_") {
            if let Some(table) = value.as_table_mut() {
                for (_, value) in table.iter_mut() {
                    *value = toml::Value::String(MASK.to_owned());
                }
            }
        }
    }
}
