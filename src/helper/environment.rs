//! The environment the app starts with.

use std::ffi::{OsStr, OsString};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

use nix::fcntl::{fcntl, FcntlArg, FdFlag};

/// Variables as (name, value) pairs, in order.
pub type Vars = Vec<(OsString, OsString)>;

/// The sockets systemd passed to the helper: how many, from fd 3.
pub fn inherited_listen_fds(vars: &Vars, own_pid: u32) -> usize {
    let ours =
        get(vars, "LISTEN_PID").and_then(|pid| pid.to_str()?.parse::<u32>().ok()) == Some(own_pid);
    let count = get(vars, "LISTEN_FDS").and_then(|n| n.to_str()?.parse().ok());
    if ours {
        count.unwrap_or(0)
    } else {
        0
    }
}

/// The sockets systemd passed back from the worker's file descriptor
/// store (named as [`super::shared_ports::is_stored`] says), after the
/// socket unit's: taken out of the `count` inherited, each with its name and
/// close-on-exec, and out of `LISTEN_FDS`/`LISTEN_FDNAMES` for the app.
/// Returns how many sockets are the socket unit's.
pub fn take_stored(vars: &mut Vars, count: usize) -> (usize, Vec<(OwnedFd, String)>) {
    let names: Vec<String> = get(vars, "LISTEN_FDNAMES")
        .and_then(OsStr::to_str)
        .map(|names| names.split(':').map(str::to_owned).collect())
        .unwrap_or_default();
    if names.len() != count {
        return (count, Vec::new());
    }
    let sockets = names
        .iter()
        .rposition(|name| !super::shared_ports::is_stored(name))
        .map_or(0, |last| last + 1);
    let mut stored = Vec::new();
    for (at, name) in names.iter().enumerate().skip(sockets) {
        let fd = 3 + at as RawFd;
        // SAFETY: systemd passed fds 3 to 3+LISTEN_FDS-1 to this process,
        // and nothing else owns this one.
        let socket = unsafe { OwnedFd::from_raw_fd(fd) };
        let _ = fcntl(&socket, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC));
        stored.push((socket, name.clone()));
    }
    if !stored.is_empty() {
        set(vars, "LISTEN_FDS", sockets.to_string());
        set(vars, "LISTEN_FDNAMES", names[..sockets].join(":"));
    }
    (sockets, stored)
}

pub fn get<'a>(vars: &'a Vars, name: &str) -> Option<&'a OsStr> {
    vars.iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_os_str())
}

pub fn set(vars: &mut Vars, name: &str, value: impl Into<OsString>) {
    remove(vars, name);
    vars.push((name.into(), value.into()));
}

pub fn remove(vars: &mut Vars, name: &str) {
    vars.retain(|(key, _)| key != name);
}

/// Why `increment_var` cannot apply.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum IncrementError {
    #[error(
        "--increment-var {0}: {0} is not set in the app's environment; set it to a number in `env`"
    )]
    Unset(String),
    #[error("--increment-var {name}: {name}={value:?} is not a whole number; increment_var needs one, such as 3000")]
    NotANumber { name: String, value: OsString },
}

/// PM2's `increment_var`: NAME becomes its value plus the instance number.
pub fn increment(vars: &mut Vars, name: &str, instance: u32) -> Result<(), IncrementError> {
    let value = get(vars, name).ok_or_else(|| IncrementError::Unset(name.to_owned()))?;
    let base: u64 = value
        .to_str()
        .and_then(|text| text.trim().parse().ok())
        .ok_or_else(|| IncrementError::NotANumber {
            name: name.to_owned(),
            value: value.to_owned(),
        })?;
    set(vars, name, (base + u64::from(instance)).to_string());
    Ok(())
}

/// Why a credential cannot become a variable.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error("--credential {0}: $CREDENTIALS_DIRECTORY is not set: the unit loads no credential (LoadCredential= needs systemd 247 or newer, LoadCredentialEncrypted= 250)")]
    NoDirectory(String),
    #[error("--credential {name}: reading {path}: {why}")]
    Unreadable {
        name: String,
        path: String,
        why: String,
    },
}

/// `credentials`: the variable NAME set to the credential NAME that systemd
/// put in `$CREDENTIALS_DIRECTORY` (decrypted, if it was encrypted); the
/// file's bytes as they are, as an environment variable holds them.
pub fn from_credential(vars: &mut Vars, name: &str) -> Result<(), CredentialError> {
    let dir = get(vars, "CREDENTIALS_DIRECTORY")
        .ok_or_else(|| CredentialError::NoDirectory(name.to_owned()))?;
    let path = std::path::Path::new(dir).join(name);
    let bytes = std::fs::read(&path).map_err(|err| CredentialError::Unreadable {
        name: name.to_owned(),
        path: path.display().to_string(),
        why: err.to_string(),
    })?;
    let value: OsString = std::os::unix::ffi::OsStringExt::from_vec(bytes);
    set(vars, name, value);
    Ok(())
}

/// The socket-activation variables for the app: the count and names pass
/// through; LISTEN_PID is set to the app's own pid between fork and exec.
pub fn pass_listen_fds(vars: &mut Vars, count: usize) {
    remove(vars, "LISTEN_PID");
    if count == 0 {
        remove(vars, "LISTEN_FDS");
        remove(vars, "LISTEN_FDNAMES");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vars {
        pairs
            .iter()
            .map(|(k, v)| (OsString::from(k), OsString::from(v)))
            .collect()
    }

    #[test]
    fn sockets_stored_by_the_helper_are_told_from_the_socket_units() {
        let mut env = vars(&[("LISTEN_FDS", "1"), ("LISTEN_FDNAMES", "api.socket")]);
        assert_eq!(take_stored(&mut env, 1).0, 1);
        assert_eq!(take_stored(&mut vars(&[]), 0).0, 0);
        // Names that do not match the count are not systemd's: nothing taken.
        let mut env = vars(&[
            ("LISTEN_FDS", "2"),
            ("LISTEN_FDNAMES", "nodeunits-port.80.0.any"),
        ]);
        assert_eq!(take_stored(&mut env, 2).0, 2);
    }

    #[test]
    fn listen_fds_count_only_when_meant_for_us() {
        let env = vars(&[("LISTEN_PID", "42"), ("LISTEN_FDS", "2")]);
        assert_eq!(inherited_listen_fds(&env, 42), 2);
        assert_eq!(inherited_listen_fds(&env, 43), 0);
        assert_eq!(inherited_listen_fds(&vars(&[("LISTEN_FDS", "2")]), 42), 0);
    }

    #[test]
    fn increment_adds_the_instance() {
        let mut env = vars(&[("PORT", "3000"), ("A", "b")]);
        increment(&mut env, "PORT", 2).unwrap();
        assert_eq!(get(&env, "PORT"), Some(OsStr::new("3002")));
        assert_eq!(get(&env, "A"), Some(OsStr::new("b")));
    }

    #[test]
    fn increment_says_what_is_wrong() {
        let mut env = vars(&[("PORT", "http")]);
        let error = increment(&mut env, "PORT", 1).unwrap_err().to_string();
        assert!(
            error.contains("PORT=\"http\" is not a whole number"),
            "{error}"
        );
        let error = increment(&mut env, "WORKER", 1).unwrap_err().to_string();
        assert!(error.contains("WORKER is not set"), "{error}");
    }

    #[test]
    fn listen_variables_pass_through_only_with_sockets() {
        let mut env = vars(&[
            ("LISTEN_PID", "1"),
            ("LISTEN_FDS", "1"),
            ("LISTEN_FDNAMES", "api"),
        ]);
        pass_listen_fds(&mut env, 1);
        assert_eq!(env, vars(&[("LISTEN_FDS", "1"), ("LISTEN_FDNAMES", "api")]));
        pass_listen_fds(&mut env, 0);
        assert!(env.is_empty());
    }

    #[test]
    fn a_credential_becomes_a_variable_byte_for_byte() {
        let dir = std::env::temp_dir().join(format!("nodeunits-cred-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("TOKEN"), "s3cr3t\n").unwrap();
        let mut env = vars(&[("CREDENTIALS_DIRECTORY", dir.to_str().unwrap())]);
        from_credential(&mut env, "TOKEN").unwrap();
        assert_eq!(get(&env, "TOKEN"), Some(OsStr::new("s3cr3t\n")));
        let error = from_credential(&mut env, "MISSING")
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("--credential MISSING: reading "),
            "{error}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
        let error = from_credential(&mut vars(&[]), "TOKEN").unwrap_err();
        assert_eq!(error, CredentialError::NoDirectory("TOKEN".into()));
    }
}
