//! `nodeunits secret set APP NAME`: a value read from standard input (or
//! asked for, unseen, on a terminal), encrypted by `systemd-creds` with this
//! machine's key into `/etc/nodeunits/credentials/APP/NAME.cred`, the file
//! an app's `credentials` names. The value is never printed nor written
//! anywhere else; only root on this machine can decrypt it.

use std::ffi::OsString;
use std::io::{IsTerminal, Read, Write};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::{bail, Context};

use super::args::ManagerArgs;
use crate::model::{AppName, Scope};

/// Where `secret set` writes, one directory (mode 0700) per app.
pub const CREDENTIALS_DIR: &str = "/etc/nodeunits/credentials";

/// The file of the credential `name` of `app`.
pub fn credential_file(app: &AppName, name: &str) -> PathBuf {
    Path::new(CREDENTIALS_DIR)
        .join(app.as_str())
        .join(format!("{name}.cred"))
}

pub fn set(app: &AppName, name: &str, manager: ManagerArgs) -> anyhow::Result<ExitCode> {
    if manager.mode() == Scope::User {
        bail!(
            "an encrypted credential is for an app of the system manager: systemd-creds encrypts \
             with this machine's key, which a user's service manager cannot read; for an app of \
             your own, keep the value in `env` (nodeunits writes it to a file of mode 0600 that \
             only you read) or in a file of mode 0600 that `credentials` names"
        );
    }
    if !nix::unistd::geteuid().is_root() {
        bail!(
            "encrypting a credential takes root: systemd-creds uses this machine's key, which \
             only root reads; run `sudo nodeunits secret set {app} {name}`"
        );
    }
    let value = read_value(app, name)?;
    let encrypted = encrypt(name, &value)?;
    let file = credential_file(app, name);
    let dir = file
        .parent()
        .expect("a credential file is in its app's directory");
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))?;
    crate::durable::write_private(&file, &encrypted)
        .with_context(|| format!("writing {}", file.display()))?;
    let shown = file.display();
    println!(
        "wrote {shown}: `{name}`, encrypted with this machine's key (only root here can decrypt it)\n\
         the app gets it as the variable {name} once its ecosystem file names it:\n  \
         credentials = {{ {name} = \"{shown}\" }}   (TOML; `credentials: {{ {name}: \"{shown}\" }}` in JavaScript, JSON or YAML)\n\
         running workers read it when they start: `nodeunits reload {app}` after `apply`"
    );
    Ok(ExitCode::SUCCESS)
}

/// The value: standard input, less one final newline (`echo` adds one), or
/// on a terminal asked for with `systemd-ask-password`, which does not
/// echo it.
fn read_value(app: &AppName, name: &str) -> anyhow::Result<Vec<u8>> {
    let mut value = if std::io::stdin().is_terminal() {
        let output = Command::new("systemd-ask-password")
            .arg("--timeout=0")
            .arg(format!("Value of {name} for {app}:"))
            .stderr(Stdio::inherit())
            .output()
            .context(
                "running systemd-ask-password to ask for the value (or give it on standard input)",
            )?;
        if !output.status.success() {
            bail!("no value: systemd-ask-password {}", output.status);
        }
        output.stdout
    } else {
        let mut value = Vec::new();
        std::io::stdin()
            .read_to_end(&mut value)
            .context("reading the value from standard input")?;
        value
    };
    if value.last() == Some(&b'\n') {
        value.pop();
    }
    if value.is_empty() {
        bail!("no value for `{name}`: standard input was empty; give it there, such as `nodeunits secret set {app} {name} < file`");
    }
    Ok(value)
}

/// `systemd-creds encrypt --name=NAME - -`: the credential's name is sealed
/// in, so systemd loads it only under that name.
fn encrypt(name: &str, value: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut child = Command::new("systemd-creds")
        .arg("encrypt")
        .arg(OsString::from(format!("--name={name}")))
        .args(["-", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("running systemd-creds (systemd 250 or later) to encrypt the value")?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let written = stdin.write_all(value);
    drop(stdin);
    let output = child
        .wait_with_output()
        .context("waiting for systemd-creds")?;
    written.context("passing the value to systemd-creds")?;
    if !output.status.success() {
        bail!(
            "systemd-creds encrypt {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(output.stdout)
}
