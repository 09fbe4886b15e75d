//! Running a script on a host over the machine's own `ssh`, with its
//! config, agent and known hosts, as pm2-deploy does.

use std::fmt;
use std::process::{Command, Stdio};

use crate::ecosystem::deploy::Environment;

/// How to reach the hosts: ssh's options from a deploy environment, or
/// none (`--host`: the user's ssh config decides).
#[derive(Debug, Clone, Default)]
pub struct Ssh {
    pub port: Option<u16>,
    pub key: Option<String>,
    pub options: Vec<String>,
    pub forward_agent: bool,
}

impl Ssh {
    pub fn of(environment: &Environment) -> Ssh {
        Ssh {
            port: environment.port,
            key: environment.key.as_deref().map(expand_home),
            options: environment.ssh_options.clone(),
            forward_agent: environment.forward_agent,
        }
    }

    /// `ssh … HOST bash -c SCRIPT`: the script runs in bash whatever the
    /// account's login shell.
    pub fn command(&self, host: &str, script: &str) -> Command {
        let mut command = Command::new("ssh");
        // Never a prompt: a host that asks for a password or a new host key
        // fails with ssh's own message.
        command.args(["-o", "BatchMode=yes"]);
        for option in &self.options {
            command.args(["-o", option]);
        }
        if let Some(port) = self.port {
            command.args(["-p", &port.to_string()]);
        }
        if let Some(key) = &self.key {
            command.args(["-i", key]);
        }
        if self.forward_agent {
            command.arg("-A");
        }
        command
            .arg("--")
            .arg(host)
            .arg(format!("bash -c {}", quote(script)));
        command.stdin(Stdio::null());
        command
    }

    /// Runs `script` on `host`, its stderr merged into its stdout, returning
    /// its output, or why it failed.
    pub fn run(&self, host: &str, script: &str) -> Result<String, Failure> {
        self.run_stdout(host, &format!("exec 2>&1\n{script}"))
    }

    /// Runs `script` on `host`, returning its stdout (its stderr passes
    /// through), or why it failed.
    pub fn run_stdout(&self, host: &str, script: &str) -> Result<String, Failure> {
        let output = self.command(host, script).output().map_err(|err| Failure {
            status: None,
            output: format!("cannot run ssh: {err}"),
        })?;
        let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&output.stderr));
        if output.status.success() {
            Ok(text)
        } else {
            Err(Failure {
                status: output.status.code(),
                output: text,
            })
        }
    }
}

/// A remote command that failed: its exit status (255: ssh itself) and output.
#[derive(Debug)]
pub struct Failure {
    pub status: Option<i32>,
    pub output: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status {
            Some(255) => write!(f, "ssh could not run it (exit status 255)"),
            Some(code) => write!(f, "exit status {code}"),
            None => write!(f, "killed by a signal"),
        }
    }
}

impl Failure {
    /// Its last lines, indented, for a message.
    pub fn last_lines(&self, count: usize) -> String {
        let lines: Vec<&str> = self.output.lines().collect();
        let start = lines.len().saturating_sub(count);
        lines[start..]
            .iter()
            .map(|line| format!("    {line}\n"))
            .collect()
    }
}

/// `text` as one word of a POSIX shell.
pub fn quote(text: &str) -> String {
    shlex::try_quote(text).map_or_else(
        // Only a NUL byte cannot be quoted; no script holds one.
        |_| "''".to_owned(),
        |quoted| quoted.into_owned(),
    )
}

/// `~/x` with the local user's home, as pm2-deploy expands `key`.
fn expand_home(path: &str) -> String {
    match (path.strip_prefix("~/"), std::env::var("HOME")) {
        (Some(rest), Ok(home)) => format!("{home}/{rest}"),
        _ => path.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_reaches_bash_as_one_word() {
        let ssh = Ssh {
            port: Some(2222),
            key: Some("/k".into()),
            options: vec!["StrictHostKeyChecking=no".into()],
            forward_agent: false,
        };
        let command = ssh.command("deploy@fe80::2%nu0", "echo 'it''s' \"$HOME\"");
        let args: Vec<String> = command
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            args[..9],
            [
                "-o",
                "BatchMode=yes",
                "-o",
                "StrictHostKeyChecking=no",
                "-p",
                "2222",
                "-i",
                "/k",
                "--"
            ]
        );
        assert_eq!(args[9], "deploy@fe80::2%nu0");
        let words = shlex::split(&args[10]).unwrap();
        assert_eq!(words, ["bash", "-c", "echo 'it''s' \"$HOME\""]);
    }
}
