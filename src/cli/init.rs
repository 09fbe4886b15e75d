//! `nodeunits init`: a starter `ecosystem.toml` for the app in the current
//! directory, from what its package.json, .env and script say.
use std::fs::OpenOptions;
use std::io::{ErrorKind, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use serde_json::Value;

use crate::model::AppName;

const FILE: &str = "ecosystem.toml";
/// Tried in this order when neither SCRIPT nor package.json names one.
const USUAL_SCRIPTS: [&str; 3] = ["index.js", "server.js", "app.js"];

/// A value found, and where.
struct Found<T> {
    value: T,
    from: String,
}

/// What the starter file says about the app.
struct Starter {
    name: Found<String>,
    script: Found<String>,
    port: Option<Found<u16>>,
}

pub fn run(script: Option<&Path>) -> anyhow::Result<ExitCode> {
    let dir = std::env::current_dir().context("reading the current directory")?;
    let target = dir.join(FILE);
    if target.exists() {
        eprintln!(
            "nodeunits: {} exists already; init never overwrites it: edit it, or remove it and run init again",
            target.display()
        );
        return Ok(ExitCode::from(1));
    }
    let starter = detect(&dir, script)?;
    let text = render(&starter);
    let mut file = match OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&target)
    {
        Ok(file) => file,
        Err(err) if err.kind() == ErrorKind::AlreadyExists => {
            eprintln!(
                "nodeunits: {} exists already; init never overwrites it",
                target.display()
            );
            return Ok(ExitCode::from(1));
        }
        Err(err) => return Err(err).with_context(|| format!("creating {}", target.display())),
    };
    file.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", target.display()))?;
    eprintln!(
        "wrote {}: app `{}` running {}{}; check it with `nodeunits check {FILE}`, install it with `nodeunits apply`",
        target.display(),
        starter.name.value,
        starter.script.value,
        starter
            .port
            .as_ref()
            .map_or(String::new(), |port| format!(" on port {}", port.value)),
    );
    Ok(ExitCode::SUCCESS)
}

fn detect(dir: &Path, script: Option<&Path>) -> anyhow::Result<Starter> {
    let package = read_package(dir)?;
    let name = package_name(package.as_ref())
        .or_else(|| {
            let base = dir.file_name()?.to_str()?;
            Some(Found {
                value: app_name(base)?,
                from: "the directory's name".into(),
            })
        })
        .unwrap_or_else(|| Found {
            value: "app".into(),
            from: "a placeholder: name it".into(),
        });
    let script = match script {
        Some(script) => Found {
            value: script.to_string_lossy().into_owned(),
            from: "the command line".into(),
        },
        None => package_script(package.as_ref())
            .or_else(|| {
                let usual = USUAL_SCRIPTS.iter().find(|s| dir.join(s).is_file())?;
                Some(Found {
                    value: (*usual).to_owned(),
                    from: "the file found here".into(),
                })
            })
            .with_context(|| {
                format!(
                    "no script found in {}: package.json has no `main` and no `start` script running `node FILE`, and there is no {}; name it: `nodeunits init server.js`",
                    dir.display(),
                    USUAL_SCRIPTS.join(", ")
                )
            })?,
    };
    if !dir.join(&script.value).is_file() {
        eprintln!(
            "nodeunits: note: {} does not exist yet (build it before `nodeunits apply`)",
            script.value
        );
    }
    let port = port_in_env_file(dir)
        .or_else(|| {
            let port = package.as_ref()?.pointer("/config/port")?;
            let port = port.as_u64().or_else(|| port.as_str()?.parse().ok())?;
            Some(Found {
                value: u16::try_from(port).ok().filter(|p| *p > 0)?,
                from: "package.json's config.port".into(),
            })
        })
        .or_else(|| port_in_script(&dir.join(&script.value)));
    Ok(Starter { name, script, port })
}

fn read_package(dir: &Path) -> anyhow::Result<Option<Value>> {
    let path = dir.join("package.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err).with_context(|| format!("reading {}", path.display())),
    };
    let package = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not valid JSON; fix it, or name the script: `nodeunits init server.js`",
            path.display()
        )
    })?;
    Ok(Some(package))
}

/// A valid app name made of `text`: `@scope/my app` gives `my-app`.
fn app_name(text: &str) -> Option<String> {
    let base = text.rsplit('/').next()?;
    let name: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let name = name.trim_start_matches(['.', '-']).to_owned();
    AppName::new(&name).ok().map(|_| name)
}

fn package_name(package: Option<&Value>) -> Option<Found<String>> {
    Some(Found {
        value: app_name(package?.get("name")?.as_str()?)?,
        from: "package.json's name".into(),
    })
}

fn package_script(package: Option<&Value>) -> Option<Found<String>> {
    let package = package?;
    let start = package.pointer("/scripts/start").and_then(Value::as_str);
    let from_start = start.and_then(|start| {
        let mut words = start.split_whitespace();
        (words.next()? == "node").then_some(())?;
        let file = words.find(|word| !word.starts_with('-'))?;
        Some(Found {
            value: file.to_owned(),
            from: "package.json's start script".into(),
        })
    });
    from_start.or_else(|| {
        Some(Found {
            value: package.get("main")?.as_str()?.to_owned(),
            from: "package.json's main".into(),
        })
    })
}

fn port_in_env_file(dir: &Path) -> Option<Found<u16>> {
    let text = std::fs::read_to_string(dir.join(".env")).ok()?;
    text.lines().find_map(|line| {
        let line = line.trim().trim_start_matches("export ");
        let value = line.strip_prefix("PORT")?.trim_start().strip_prefix('=')?;
        Some(Found {
            value: value
                .trim()
                .trim_matches(['"', '\''])
                .parse()
                .ok()
                .filter(|p| *p > 0)?,
            from: ".env's PORT".into(),
        })
    })
}

/// The port of `listen(3000` or `PORT || 3000` in the script.
fn port_in_script(script: &Path) -> Option<Found<u16>> {
    let text = std::fs::read_to_string(script).ok()?;
    let after = |marker: &str| {
        text.match_indices(marker).find_map(|(at, _)| {
            let rest = text[at + marker.len()..].trim_start();
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<u16>().ok().filter(|p| *p > 0)
        })
    };
    let port = ["listen(", "PORT || ", "PORT ?? "]
        .into_iter()
        .find_map(after)?;
    Some(Found {
        value: port,
        from: script.file_name()?.to_string_lossy().into_owned(),
    })
}

fn quoted(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

fn render(starter: &Starter) -> String {
    let Starter { name, script, port } = starter;
    let mut out = format!(
        "# The ecosystem file of {name}, written by `nodeunits init`: PM2's options\n\
         # (`man 5 ecosystem.toml`). Check it with `nodeunits check ecosystem.toml`;\n\
         # install and start it with `nodeunits apply`.\n\n\
         [[apps]]\n\
         name = {} # from {}\n\
         script = {} # from {}\n",
        quoted(&name.value),
        name.from,
        quoted(&script.value),
        script.from,
        name = name.value,
    );
    match port {
        Some(port) => out.push_str(&format!(
            "# Workers of a cluster share the port, which systemd holds: a worker\n\
             # restarting refuses no connection. \"max\" runs one per CPU.\n\
             instances = 2\n\
             exec_mode = \"cluster\"\n\
             port = {} # from {}; sets PORT\n",
            port.value, port.from
        )),
        None => out.push_str(
            "instances = 1\n\
             # No port found: with a port, set `port = 3000` and more `instances`\n\
             # in cluster mode, and the workers share it.\n",
        ),
    }
    out.push_str(
        "# Restart a worker (drained first) whose memory grows past this.\n\
         # max_memory_restart = \"300M\"\n\
         # Milliseconds a stopping worker has to finish its requests.\n\
         kill_timeout = 5000\n\n\
         [apps.env]\n\
         NODE_ENV = \"development\"\n\n\
         # `nodeunits apply --env production` uses these instead.\n\
         [apps.env_production]\n\
         NODE_ENV = \"production\"\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(case: &str, files: &[(&str, &str)]) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("nodeunits-init-{}-{case}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in files {
            std::fs::write(dir.join(name), text).unwrap();
        }
        dir
    }

    #[test]
    fn names_script_and_port_come_from_package_json_and_env() {
        let dir = dir_with(
            "package",
            &[
                (
                    "package.json",
                    r#"{"name": "@acme/my api", "main": "lib/x.js", "scripts": {"start": "node --enable-source-maps dist/server.js"}}"#,
                ),
                (".env", "# settings\nexport PORT=\"8080\"\n"),
            ],
        );
        let starter = detect(&dir, None).unwrap();
        assert_eq!(starter.name.value, "my-api");
        assert_eq!(starter.script.value, "dist/server.js");
        assert_eq!(starter.port.map(|p| p.value), Some(8080));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_port_is_found_in_the_script_and_written() {
        let dir = dir_with(
            "listen",
            &[(
                "index.js",
                "require('http').createServer(f).listen(process.env.PORT || 4100);\n",
            )],
        );
        let starter = detect(&dir, None).unwrap();
        assert_eq!(starter.script.value, "index.js");
        let text = render(&starter);
        assert!(
            text.contains("\nport = 4100 # from index.js; sets PORT\n"),
            "{text}"
        );
        assert!(
            text.contains("\nscript = \"index.js\" # from the file found here\n"),
            "{text}"
        );
        toml::from_str::<toml::Value>(&text).unwrap();
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn without_a_script_it_says_what_it_looked_for() {
        let dir = dir_with(
            "none",
            &[("package.json", r#"{"scripts": {"start": "next start"}}"#)],
        );
        let err = detect(&dir, None).err().unwrap().to_string();
        assert!(err.contains("no script found in"), "{err}");
        assert!(err.contains("`nodeunits init server.js`"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
