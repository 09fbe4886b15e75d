//! Several hosts: `nodeunits deploy` (pm2-deploy's section, over ssh) and
//! `status --host`, one table of every host's instances.
//!
//! A host is reached over the machine's own `ssh` and runs its own
//! `nodeunits`: it reads its systemd over its own bus and its own files
//! (the installed units, the runtime directory's figures), which a remote
//! bus alone (`systemctl -H`, systemd-stdio-bridge) would not show. Every
//! host of a deploy has nodeunits anyway.

pub mod deploy;
pub mod ssh;

use std::process::ExitCode;

use anyhow::Context;

use super::args::HostArgs;
use crate::ecosystem::deploy::Environment;
use crate::ecosystem::{self, Diagnostics, Severity};
use crate::systemd::status::InstanceStatus;
use ssh::{quote, Ssh};

impl HostArgs {
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty() && self.deploy.is_none()
    }
}

/// `nodeunits deploy [FILE] ENV [COMMAND]`.
pub fn deploy(words: &[String]) -> anyhow::Result<ExitCode> {
    let cwd = std::env::current_dir().context("finding the current directory")?;
    let request = deploy::parse(words, &cwd)?;
    let Some(environment) = environment_of(&request.file, &request.environment)? else {
        return Ok(ExitCode::FAILURE);
    };
    deploy::run(&request, &environment)
}

/// The environment `name` of `file`'s `deploy` section; `None` when the
/// file or the section is wrong, with the errors printed.
fn environment_of(file: &std::path::Path, name: &str) -> anyhow::Result<Option<Environment>> {
    let mut diagnostics = Diagnostics::default();
    let facts = crate::units::Facts::of_this_process();
    let evaluator = ecosystem::Evaluator {
        node: facts.which("node"),
        environment: &facts.environment,
    };
    let (source, document) = ecosystem::load(file, &evaluator, &mut diagnostics);
    let environment = document.as_ref().and_then(|document| {
        let top = document.get_ref().as_table()?;
        ecosystem::deploy::environment(top, name, &mut diagnostics)
    });
    let errors = diagnostics.render(Severity::Error, &source);
    if environment.is_none() || !errors.is_empty() {
        for error in &errors {
            eprint!("{error}");
        }
        eprintln!("nodeunits deploy: {} cannot be deployed", file.display());
        return Ok(None);
    }
    Ok(environment)
}

/// The hosts `--host` names, or those of `--deploy ENV` with its ssh
/// settings; `None` when the environment cannot be read (said on stderr).
fn resolve(hosts: &HostArgs) -> anyhow::Result<Option<(Ssh, Vec<String>)>> {
    Ok(match &hosts.deploy {
        Some(name) => {
            let cwd = std::env::current_dir().context("finding the current directory")?;
            environment_of(&deploy::default_file(&cwd)?, name)?
                .map(|environment| (Ssh::of(&environment), environment.hosts))
        }
        None => Some((Ssh::default(), hosts.hosts.clone())),
    })
}

/// A command run on the hosts, with the user manager's runtime directory
/// set as a login sets it (an ssh session without PAM leaves it unset).
fn remote_script(command: &str) -> String {
    format!("export XDG_RUNTIME_DIR=\"${{XDG_RUNTIME_DIR:-/run/user/$(id -u)}}\"\n{command}\n")
}

/// How the outputs of `describe`, `logs`, `reload` and `metrics` with
/// `--host` come together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Merge {
    /// One host after the other, each under a `== HOST ==` line (describe).
    Sections,
    /// The same, and the first host that fails stops the others (reload:
    /// a rollout across hosts).
    Rollout,
    /// Each line as `HOST | line`, every host at once (logs, also `-f`).
    Lines,
    /// One exposition, each sample with the label `host` (metrics).
    Metrics,
}

/// This command line as it runs on each host: `--host` and `--deploy`
/// taken out.
fn remote_command() -> String {
    let mut words = vec!["nodeunits".to_owned()];
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--host" || arg == "--deploy" {
            args.next();
        } else if !(arg.starts_with("--host=") || arg.starts_with("--deploy=")) {
            words.push(quote(&arg));
        }
    }
    words.join(" ")
}

/// `describe`, `logs`, `reload` or `metrics` with `--host`: the command run
/// on each host over ssh, its outputs merged as `merge` says.
pub fn on_hosts(hosts: &HostArgs, merge: Merge) -> anyhow::Result<ExitCode> {
    let Some((ssh, names)) = resolve(hosts)? else {
        return Ok(ExitCode::FAILURE);
    };
    let command = remote_command();
    let script = remote_script(&command);
    let failed = match merge {
        Merge::Sections | Merge::Rollout => {
            let mut failed = false;
            for (i, host) in names.iter().enumerate() {
                println!("== {host} ==");
                let status = ssh.command(host, &script).status().context("running ssh")?;
                if !status.success() {
                    failed = true;
                    eprintln!("nodeunits: {host}: `{command}` failed ({status})");
                    let left = &names[i + 1..];
                    if merge == Merge::Rollout {
                        if !left.is_empty() {
                            eprintln!("not reached, unchanged: {}", left.join(", "));
                        }
                        break;
                    }
                }
            }
            failed
        }
        Merge::Lines => lines_of_every_host(&ssh, &names, &script, &command)?,
        Merge::Metrics => {
            let mut outputs = Vec::new();
            for host in &names {
                match ssh.run_stdout(host, &script) {
                    Ok(text) => outputs.push((host.clone(), text)),
                    Err(failure) => {
                        eprintln!(
                            "nodeunits metrics: {host}: `{command}` failed ({failure}):\n{}",
                            failure.last_lines(10)
                        );
                        return Ok(ExitCode::FAILURE);
                    }
                }
            }
            print!("{}", merge_expositions(&outputs));
            false
        }
    };
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Every host's lines as they come, each prefixed with its host; whether
/// one of them failed.
fn lines_of_every_host(
    ssh: &Ssh,
    names: &[String],
    script: &str,
    command: &str,
) -> anyhow::Result<bool> {
    use std::io::BufRead;
    let mut readers = Vec::new();
    for host in names {
        let mut child = ssh
            .command(host, script)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .context("running ssh")?;
        let stdout = child.stdout.take().expect("piped");
        let host = host.clone();
        readers.push(std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                println!("{host} | {line}");
            }
            (host, child.wait())
        }));
    }
    let mut failed = false;
    for reader in readers {
        let (host, status) = reader.join().expect("a reader of ssh's output");
        if !status.is_ok_and(|s| s.success()) {
            failed = true;
            eprintln!("nodeunits: {host}: `{command}` failed");
        }
    }
    Ok(failed)
}

/// Several hosts' expositions as one: each family once, with its HELP and
/// TYPE, then every host's samples of it, each labelled `host`.
fn merge_expositions(outputs: &[(String, String)]) -> String {
    let mut order: Vec<String> = Vec::new();
    // Family → its HELP and TYPE lines, and its samples.
    let mut families: std::collections::HashMap<String, (Vec<String>, Vec<String>)> =
        std::collections::HashMap::new();
    for (host, text) in outputs {
        let mut family = String::new();
        for line in text.lines() {
            let head = line
                .strip_prefix("# HELP ")
                .or_else(|| line.strip_prefix("# TYPE "));
            if let Some(rest) = head {
                family = rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
            } else if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let entry = families.entry(family.clone()).or_insert_with(|| {
                order.push(family.clone());
                Default::default()
            });
            match head {
                Some(_) if entry.0.iter().any(|l| l == line) => {}
                Some(_) => entry.0.push(line.to_owned()),
                None => entry.1.push(with_host_label(line, host)),
            }
        }
    }
    let mut out = String::new();
    for name in order {
        let (head, samples) = &families[&name];
        for line in head.iter().chain(samples) {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// `name{a="b"} 1` → `name{host="H",a="b"} 1`; `name 1` → `name{host="H"} 1`.
fn with_host_label(sample: &str, host: &str) -> String {
    let host = host.replace('\\', "\\\\").replace('"', "\\\"");
    match sample.find(['{', ' ']) {
        Some(at) if sample[at..].starts_with('{') => {
            let rest = &sample[at + 1..];
            let comma = if rest.starts_with('}') { "" } else { "," };
            format!("{}{{host=\"{host}\"{comma}{rest}", &sample[..at])
        }
        Some(at) => format!("{}{{host=\"{host}\"}}{}", &sample[..at], &sample[at..]),
        None => sample.to_owned(),
    }
}

/// `status --host …`: `nodeunits status --json` on each host, one table.
pub fn status(json: bool, hosts: &HostArgs) -> anyhow::Result<ExitCode> {
    let Some((ssh, names)) = resolve(hosts)? else {
        return Ok(ExitCode::FAILURE);
    };
    // The hosts always answer in JSON, for one table.
    let mut command = remote_command();
    if !json {
        command += " --json";
    }
    let script = remote_script(&command);
    let mut rows: Vec<(String, InstanceStatus)> = Vec::new();
    let mut failed = false;
    for host in &names {
        match ssh.run_stdout(host, &script) {
            Ok(output) => {
                match serde_json::from_str::<Vec<InstanceStatus>>(&output) {
                    Ok(parsed) => rows.extend(parsed.into_iter().map(|row| (host.clone(), row))),
                    Err(err) => {
                        failed = true;
                        eprintln!("nodeunits status: {host}: `{command}` printed no status ({err}): {output}");
                    }
                }
            }
            Err(failure) => {
                failed = true;
                eprintln!(
                    "nodeunits status: {host}: `{command}` failed ({failure}):\n{}",
                    failure.last_lines(10)
                );
            }
        }
    }
    if json {
        let objects: Vec<serde_json::Value> = rows
            .iter()
            .map(|(host, row)| {
                let mut value = serde_json::to_value(row).unwrap_or_default();
                if let Some(object) = value.as_object_mut() {
                    object.insert("host".into(), host.clone().into());
                }
                value
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&objects)?);
    } else {
        let (hosts, statuses): (Vec<String>, Vec<InstanceStatus>) = rows.into_iter().unzip();
        print!("{}", super::status::table(&statuses, &hosts));
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sample_names_its_host_and_each_family_comes_once() {
        let a =
            "# HELP up Up.\n# TYPE up gauge\nup{app=\"api\"} 1\n# HELP n N.\n# TYPE n gauge\nn 3\n";
        let b =
            "# HELP up Up.\n# TYPE up gauge\nup{app=\"api\"} 0\n# HELP n N.\n# TYPE n gauge\nn 4\n";
        let merged = merge_expositions(&[("deploy@a".into(), a.into()), ("b".into(), b.into())]);
        assert_eq!(
            merged,
            "# HELP up Up.\n# TYPE up gauge\nup{host=\"deploy@a\",app=\"api\"} 1\nup{host=\"b\",app=\"api\"} 0\n\
             # HELP n N.\n# TYPE n gauge\nn{host=\"deploy@a\"} 3\nn{host=\"b\"} 4\n"
        );
        assert_eq!(with_host_label("x{} 1", "h"), "x{host=\"h\"} 1");
    }
}
